"""Reviews and accounts: organic reviewing, review rings, fake-account clusters.

Writes ``reviews`` (and a few ``merchant_events`` for promotions), adds accounts to the
world's ``accounts`` and plants, when ``world.violations``:

``integrity.fake_reviews`` (subject: the merchant that benefits)
    Rings of 10–80 fake accounts, registered in one or two bursts of minutes to hours
    before their first campaign, linked by shared ``device_hash`` / ``phone_hash`` /
    ``ip_prefix`` values (pools of varied size), post 4–5-star reviews on the offers of
    1–4 target merchants in 1–3 lockstep windows of 1–12 hours each (50–100 % of the ring
    each time), with recycled template texts and no ``order_id``. For camouflage ring
    accounts also review popular offers normally. Every ring is also an
    ``integrity.fake_accounts`` cluster. Look-alikes: a popular merchant whose promotion
    (``promo_join`` event) brings a burst of organic 4–5-star reviews from distinct
    accounts on their own devices, spread over days; households of 2–3 accounts sharing
    a device that review honestly, sometimes the same store.
``integrity.fake_accounts`` (subject: ``cluster:`` + the smallest member ``user_id``)
    Clusters of 8–60 accounts registered within minutes to hours, linked by shared
    identifiers as above (the sharing graph of a cluster is connected; the other
    identifiers are unique). The truth ``note`` lists every member. Look-alikes: a
    campus/office NAT (30–120 accounts on one ``ip_prefix``, distinct devices, registered
    over months) and the households.

Organic reviews: when the pricing module has written ``orders`` to the same lake, 20–35 %
of the paid orders are reviewed by their buyer, hours to days later, with the ``order_id``
(plus 4–10 % as many reviews without an order); otherwise (a lake without orders) reviews
are drawn by offer popularity, all without ``order_id``. Ratings scatter around the
offer's expected rating from :func:`fairwatch.synth.conduct.sku_signals`. Review-ring
reviews never carry an ``order_id``.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fairwatch.synth.conduct import (
    day_offsets,
    local_seconds,
    merchant_windows,
    sku_signals,
    utc_ts,
    weekday_weights,
    written_parts,
)
from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

PART_ROWS = 1_500_000
_ID_KINDS = ("device_hash", "phone_hash", "ip_prefix")

_POS_OPEN = [
    "",
    "收到了，",
    "第二次购买了，",
    "帮家里人买的，",
    "对比了好几家，",
    "用了一周再来评价，",
]
_POS_BODY = [
    "质量不错",
    "和描述一致",
    "做工挺好",
    "性价比高",
    "包装很用心",
    "味道很好",
    "效果明显",
    "尺码合适",
    "物流很快",
    "客服态度好",
]
_POS_END = ["", "，推荐。", "，会回购。", "，满意。", "，值得购买。", "！"]
_MID = [
    "一般般，凑合用",
    "还行，没有想象中好",
    "中规中矩",
    "物流有点慢，东西还可以",
    "价格偏贵，质量一般",
]
_NEG = [
    "质量很差，和图片不符",
    "用了两天就坏了",
    "发错货了，客服不理人",
    "有异味，不推荐",
    "退款很麻烦",
    "包装破损，东西有瑕疵",
    "严重缩水，差评",
]
_RING_TEMPLATES = [
    "好评！质量非常好，物流很快，推荐购买！",
    "非常满意，五星好评！",
    "宝贝收到了，和描述一致，很喜欢",
    "质量超好，性价比超高，下次还来",
    "东西很好，卖家服务态度也好，好评",
    "很满意的一次购物，强烈推荐",
    "正品，质量杠杠的，好评",
    "物美价廉，值得购买，五星！",
    "包装精美，质量上乘，好评如潮",
    "超出预期，非常棒，推荐给朋友了",
]


# -- identifiers ------------------------------------------------------------------------------


def _hex(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    raw = rng.integers(0, 16, size=(n, length))
    digits = np.array(list("0123456789abcdef"))
    return np.array(["".join(r) for r in digits[raw]], dtype=object) if n else np.array([], object)


class _Tokens:
    """New identifiers shaped like the world's existing ones (never colliding with them)."""

    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.rng = rng
        acc = world.frame("accounts")
        ids = (
            pd.concat(
                [
                    acc.get("user_id", pd.Series(dtype=object)),
                    world.users.get("user_id", pd.Series(dtype=object)),
                ]
            )
            .dropna()
            .astype(str)
        )
        self.taken: set[str] = set(ids)
        sample = ids.iloc[0] if len(ids) else "u0000000"
        m = re.fullmatch(r"(.*?)(\d+)", sample)
        if m and all(re.fullmatch(re.escape(m.group(1)) + r"\d+", s) for s in ids.iloc[:50]):
            self.user_prefix, self.user_width, self.user_hex = m.group(1), len(m.group(2)), False
        else:
            m2 = re.fullmatch(r"(.*?)([0-9a-f]+)", sample)
            self.user_prefix = m2.group(1) if m2 else "u_"
            self.user_width = len(m2.group(2)) if m2 else 12
            self.user_hex = True
        self.shapes = {k: self._shape(acc, k) for k in _ID_KINDS}

    @staticmethod
    def _shape(acc: pd.DataFrame, col: str) -> tuple[str, int, str]:
        vals = acc[col].dropna().astype(str) if col in acc else pd.Series(dtype=object)
        if col == "ip_prefix":
            s = vals.iloc[0] if len(vals) else "1.2.3.0/24"
            parts = s.split("/")[0].split(".")
            suffix = (".0" if len(parts) == 4 else "") + ("/" + s.split("/")[1] if "/" in s else "")
            return ("", 3, suffix)
        s = vals.iloc[0] if len(vals) else "0" * 16
        m = re.fullmatch(r"(.*?)([0-9a-f]+)", s)
        return (m.group(1), len(m.group(2)), "") if m else ("", 16, "")

    def users(self, n: int) -> np.ndarray:
        out: list[str] = []
        while len(out) < n:
            need = n - len(out)
            if self.user_hex:
                cand = [self.user_prefix + h for h in _hex(self.rng, need, self.user_width)]
            else:
                hi = 10 ** min(self.user_width, 18) - 1
                cand = [
                    f"{self.user_prefix}{x:0{self.user_width}d}"
                    for x in self.rng.integers(1, hi, size=need)
                ]
            for c in cand:
                if c not in self.taken:
                    self.taken.add(c)
                    out.append(c)
        return np.array(out[:n], dtype=object)

    def ident(self, kind: str, n: int) -> np.ndarray:
        prefix, width, suffix = self.shapes[kind]
        if kind == "ip_prefix":
            a = self.rng.integers(1, 224, size=(n, 3))
            return np.array([f"{x}.{y}.{z}{suffix}" for x, y, z in a], dtype=object)
        return np.array([prefix + h for h in _hex(self.rng, n, width)], dtype=object)


def cluster_identifiers(
    tok: _Tokens, n: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, float]:
    """Identifiers for ``n`` linked accounts: one or two shared identifier kinds whose
    pools cut the members at disjoint points (so the sharing graph is connected), unique
    values for the rest. Returns the frame and the largest share of members on one value.
    """
    kinds = list(rng.permutation(_ID_KINDS))
    primary = str(kinds[0])
    out = {k: tok.ident(k, n) for k in _ID_KINDS}
    pool1 = 1 if rng.random() < 0.3 else int(np.clip(round(n / rng.uniform(3, 12)), 2, n // 2))
    positions = np.arange(1, n)
    cuts1 = np.sort(rng.choice(positions, size=pool1 - 1, replace=False))
    out[primary] = tok.ident(primary, pool1)[np.searchsorted(cuts1, np.arange(n), side="right")]
    share = float(np.bincount(np.searchsorted(cuts1, np.arange(n), side="right")).max() / n)
    if pool1 > 1:
        secondary = str(kinds[1])
        free = np.setdiff1d(positions, cuts1)
        pool2 = int(np.clip(round(n / rng.uniform(4, 20)), 1, len(free) + 1))
        cuts2 = np.sort(rng.choice(free, size=pool2 - 1, replace=False))
        grp2 = np.searchsorted(cuts2, np.arange(n), side="right")
        out[secondary] = tok.ident(secondary, pool2)[grp2]
        share = max(share, float(np.bincount(grp2).max() / n))
    perm = rng.permutation(n)
    return pd.DataFrame({k: v[perm] for k, v in out.items()}), share


# -- reviews ----------------------------------------------------------------------------------


def _pos_text(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array(
        [
            a + b + c
            for a, b, c in zip(
                rng.choice(_POS_OPEN, n),
                rng.choice(_POS_BODY, n),
                rng.choice(_POS_END, n),
                strict=True,
            )
        ],
        dtype=object,
    )


def _texts(rng: np.random.Generator, rating: np.ndarray) -> np.ndarray:
    out = _pos_text(rng, len(rating))
    mid = rating == 3
    out[mid] = rng.choice(_MID, int(mid.sum()))
    neg = rating <= 2
    out[neg] = rng.choice(_NEG, int(neg.sum()))
    none = rng.random(len(rating)) < 0.25
    out[none] = None
    return out


def _stars(rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
    return np.clip(np.round(expected + rng.normal(0.0, 0.9, len(expected))), 1, 5).astype(int)


class _Reviews:
    def __init__(self, world: World) -> None:
        self.world = world
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        *,
        platform: str | np.ndarray,
        user: np.ndarray,
        merchant: np.ndarray,
        sku: np.ndarray,
        rating: np.ndarray,
        text: np.ndarray,
        ts: pd.DatetimeIndex,
        device: np.ndarray,
        ip: np.ndarray,
        source: str,
        order: np.ndarray | None = None,
    ) -> None:
        if not len(user):
            return
        self.parts.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "platform_id": platform,
                    "user_id": user,
                    "merchant_id": merchant,
                    "sku_id": sku,
                    "rating": rating.astype("int64"),
                    "text": text,
                    "order_id": order,
                    "device_hash": device,
                    "ip_prefix": ip,
                    "source": source,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        df = pd.concat(self.parts, ignore_index=True)
        df = df[df["ts"] < utc_ts(self.world, np.array([self.world.days]), np.array([0]))[0]]
        df = df.sort_values(["ts", "user_id"], kind="stable").reset_index(drop=True)
        width = max(8, len(str(len(df))))
        df.insert(0, "review_id", [f"rv{i + 1:0{width}d}" for i in range(len(df))])
        return df


def _offers(world: World, out: TableWriter) -> pd.DataFrame:
    sig = sku_signals(world, out)
    prod = world.frame("products")[["sku_id", "platform_id", "merchant_id", "self_operated"]]
    off = prod.merge(sig, on="sku_id", how="left")
    win = merchant_windows(world).set_index("merchant_id")
    off["lo"] = np.clip(win["open_day"].reindex(off["merchant_id"]).to_numpy(), 0, None)
    off["hi"] = np.clip(win["close_day"].reindex(off["merchant_id"]).to_numpy(), None, world.days)
    off["self_operated"] = off["self_operated"].astype(bool)
    return off[off["hi"] > off["lo"]].reset_index(drop=True)


def _accounts_by_platform(world: World) -> dict[str, pd.DataFrame]:
    acc = world.frame("accounts")
    users = set(world.users["user_id"].astype(str)) if len(world.users) else set()
    acc = acc[acc["user_id"].astype(str).isin(users)] if users else acc
    reg = pd.to_datetime(acc["registered_at"], utc=True)
    acc = acc.assign(reg=reg)
    return {str(p): g.reset_index(drop=True) for p, g in acc.groupby("platform_id")}


def _honest_reviews(
    world: World,
    rng: np.random.Generator,
    off: pd.DataFrame,
    plat: str,
    users: np.ndarray,
    reg: pd.DatetimeIndex | pd.Series,
    device: np.ndarray,
    ip: np.ndarray,
    counts: np.ndarray,
    rev: _Reviews,
    source: str,
    exclude: list[str] | None = None,
) -> None:
    """``counts[i]`` honest reviews by account ``i`` on popular offers of ``plat``."""
    po = off[(off["platform_id"] == plat) & ~off["merchant_id"].isin(exclude or [])]
    if not len(po) or counts.sum() == 0:
        return
    who = np.repeat(np.arange(len(users)), counts)
    pick = rng.choice(
        len(po), size=len(who), p=(po["popularity"] / po["popularity"].sum()).to_numpy()
    )
    lo, hi = po["lo"].to_numpy()[pick], po["hi"].to_numpy()[pick]
    reg_day = np.clip(np.ceil(day_offsets(world, pd.Series(pd.DatetimeIndex(reg)[who]))), 0, None)
    lo = np.maximum(lo, reg_day + 1)
    ok = hi > lo
    day = (lo + rng.random(len(who)) * (hi - lo)).astype(int)[ok]
    who, pick = who[ok], pick[ok]
    rating = _stars(rng, po["rating"].to_numpy()[pick])
    rev.add(
        platform=plat,
        user=users[who],
        merchant=po["merchant_id"].to_numpy()[pick],
        sku=po["sku_id"].to_numpy()[pick],
        rating=rating,
        text=_texts(rng, rating),
        ts=utc_ts(world, day, local_seconds(rng, len(day))),
        device=device[who],
        ip=ip[who],
        source=source,
    )


def _order_reviews(
    world: World, out: TableWriter, off: pd.DataFrame, rev: _Reviews, tok: _Tokens
) -> int:
    """Reviews of paid orders (the pricing module's ``orders``, when written): the buyer,
    the offer and the order, hours to days after the purchase. Returns how many."""
    parts = written_parts(out, "orders")
    if not parts:
        return 0
    rng = world.rng_for("integrity.order_reviews")
    share = rng.uniform(0.2, 0.35)
    cols = ["order_id", "ts", "platform_id", "merchant_id", "sku_id", "user_id", "status"]
    picked: list[pd.DataFrame] = []
    for part in parts:
        t = pq.read_table(part, columns=cols)
        keep = pc.and_(pc.equal(t["status"], "paid"), pa.array(rng.random(t.num_rows) < share))
        picked.append(t.filter(keep).to_pandas())
    orders = pd.concat(picked, ignore_index=True)
    if not len(orders):
        return 0
    acc = world.frame("accounts").drop_duplicates(["platform_id", "user_id"])
    acc = acc.set_index(["platform_id", "user_id"])
    key = pd.MultiIndex.from_frame(orders[["platform_id", "user_id"]])
    device = acc["device_hash"].reindex(key).to_numpy().copy()
    ip = acc["ip_prefix"].reindex(key).to_numpy().copy()
    n = len(orders)
    other_dev = rng.random(n) < 0.05
    device[other_dev] = tok.ident("device_hash", int(other_dev.sum()))
    other_ip = rng.random(n) < 0.15
    ip[other_ip] = tok.ident("ip_prefix", int(other_ip.sum()))
    expected = off.set_index("sku_id")["rating"].reindex(orders["sku_id"]).fillna(4.0).to_numpy()
    rating = _stars(rng, expected)
    wait = 3_600 + rng.exponential(rng.uniform(1.5, 4.0) * 86_400, n)
    delay = pd.to_timedelta(np.round(wait).astype(np.int64), unit="s")
    rev.add(
        platform=orders["platform_id"].to_numpy(),
        user=orders["user_id"].to_numpy(),
        merchant=orders["merchant_id"].to_numpy(),
        sku=orders["sku_id"].to_numpy(),
        rating=rating,
        text=_texts(rng, rating),
        ts=pd.DatetimeIndex(pd.to_datetime(orders["ts"], utc=True) + delay),
        device=device,
        ip=ip,
        source="organic",
        order=orders["order_id"].to_numpy(),
    )
    return n


def _organic(
    world: World,
    off: pd.DataFrame,
    acc: dict[str, pd.DataFrame],
    rev: _Reviews,
    tok: _Tokens,
    n: int,
) -> None:
    """``n`` reviews without an order, on offers drawn by popularity."""
    rng = world.rng_for("integrity.organic_reviews")
    pick = rng.choice(len(off), size=n, p=(off["popularity"] / off["popularity"].sum()).to_numpy())
    day_w = weekday_weights(world, rng, weekend=1.15)
    for plat in sorted(acc):
        a = acc[plat]
        sel = pick[off["platform_id"].to_numpy()[pick] == plat]
        if not len(sel) or not len(a):
            continue
        lo, hi = off["lo"].to_numpy()[sel], off["hi"].to_numpy()[sel]
        # a day in the store's open window, following the weekly rhythm
        cdf = np.concatenate([[0.0], np.cumsum(day_w)])
        u = cdf[lo.astype(int)] + rng.random(len(sel)) * (cdf[hi.astype(int)] - cdf[lo.astype(int)])
        day = np.clip(np.searchsorted(cdf, u, side="right") - 1, lo, hi - 1).astype(int)
        activity = rng.lognormal(0.0, 0.8, len(a))
        who = rng.choice(len(a), size=len(sel), p=activity / activity.sum())
        ts = utc_ts(world, day, local_seconds(rng, len(sel)))
        reg = pd.DatetimeIndex(pd.to_datetime(a["reg"].to_numpy()[who], utc=True))
        late = np.asarray(reg >= ts)
        if late.any():  # an account reviews only after registering (later ones are dropped)
            shift = pd.to_timedelta(rng.integers(3_600, 5 * 86_400, int(late.sum())), unit="s")
            arr = ts.tz_localize(None).to_numpy(copy=True)
            arr[late] = (reg[late] + shift).tz_localize(None).to_numpy()
            ts = pd.DatetimeIndex(arr).tz_localize("UTC")
        rating = _stars(rng, off["rating"].to_numpy()[sel])
        device = a["device_hash"].to_numpy().copy()[who]
        other_dev = rng.random(len(sel)) < 0.05
        device[other_dev] = tok.ident("device_hash", int(other_dev.sum()))
        ip = a["ip_prefix"].to_numpy().copy()[who]
        other_ip = rng.random(len(sel)) < 0.15
        ip[other_ip] = tok.ident("ip_prefix", int(other_ip.sum()))
        rev.add(
            platform=plat,
            user=a["user_id"].to_numpy()[who],
            merchant=off["merchant_id"].to_numpy()[sel],
            sku=off["sku_id"].to_numpy()[sel],
            rating=rating,
            text=_texts(rng, rating),
            ts=ts,
            device=device,
            ip=ip,
            source="organic",
        )


def _new_accounts(
    world: World,
    tok: _Tokens,
    plat: str,
    users: np.ndarray,
    reg: pd.DatetimeIndex,
    ids: pd.DataFrame,
    region: str | np.ndarray,
) -> None:
    world.add_rows(
        "accounts",
        pd.DataFrame(
            {
                "user_id": users,
                "platform_id": plat,
                "registered_at": reg,
                "device_hash": ids["device_hash"].to_numpy(),
                "phone_hash": ids["phone_hash"].to_numpy(),
                "ip_prefix": ids["ip_prefix"].to_numpy(),
                "region_code": region,
            }
        ),
    )


def _burst_registrations(
    world: World, rng: np.random.Generator, n: int, day: int
) -> tuple[pd.DatetimeIndex, float]:
    """``n`` registration times in one or two bursts of minutes to hours on ``day``."""
    n_bursts = 1 if rng.random() < 0.7 or n < 16 else 2
    starts = np.sort(rng.integers(8 * 3600, 20 * 3600, n_bursts))
    spans = np.exp(rng.uniform(np.log(300), np.log(4 * 3600), n_bursts))
    which = rng.integers(0, n_bursts, n)
    sec = starts[which] + rng.random(n) * spans[which]
    ts = utc_ts(world, np.full(n, day), sec)
    hours = float((ts.max() - ts.min()).total_seconds() / 3600)
    return ts, hours


def _platform_regions(world: World, plat: str, rng: np.random.Generator, n: int) -> np.ndarray:
    acc = world.frame("accounts")
    pool = acc.loc[acc["platform_id"] == plat, "region_code"].dropna().to_numpy()
    if not len(pool):
        pool = np.array([world.home_province[:2] + "0100"])
    return np.asarray(rng.choice(pool, size=n), dtype=object)


def _rings(
    world: World,
    off: pd.DataFrame,
    acc: dict[str, pd.DataFrame],
    rev: _Reviews,
    tok: _Tokens,
    truth: GroundTruth,
) -> list[str]:
    """Review rings; returns the target merchants."""
    rng = world.rng_for("integrity.fake_reviews")
    n_rings = max(2, round(world.scale.merchants / 120))
    third = off[~off["self_operated"]]
    by_m = third.groupby("merchant_id").agg(
        platform_id=("platform_id", "first"),
        quality=("quality", "mean"),
        lo=("lo", "min"),
        hi=("hi", "max"),
    )
    by_m = by_m[(by_m["lo"] <= world.days * 0.2) & (by_m["hi"] >= world.days)]
    platforms = sorted(set(by_m["platform_id"]) & set(acc))
    targets_all: list[str] = []
    for r in range(n_rings):
        if not platforms:
            break
        plat = str(rng.choice(platforms))
        cand = by_m[(by_m["platform_id"] == plat) & ~by_m.index.isin(targets_all)]
        if not len(cand):
            continue
        w = np.exp(-cand["quality"].to_numpy())  # weaker offers buy reviews more often
        k = min(len(cand), int(rng.integers(1, 5)))
        targets = sorted(rng.choice(cand.index.to_numpy(), size=k, replace=False, p=w / w.sum()))
        n = int(rng.integers(10, 81))
        first_window = int(rng.integers(max(2, int(world.days * 0.15)), max(3, world.days - 2)))
        reg_day = first_window - int(rng.integers(1, 31))
        reg, burst_h = _burst_registrations(world, rng, n, reg_day)
        ids, share = cluster_identifiers(tok, n, rng)
        users = tok.users(n)
        _new_accounts(world, tok, plat, users, reg, ids, _platform_regions(world, plat, rng, 1)[0])
        templates = rng.choice(_RING_TEMPLATES, size=int(rng.integers(3, 7)), replace=False)
        fake = 0
        for t in targets:
            skus = third.loc[third["merchant_id"] == t, "sku_id"].to_numpy()
            n_win = int(rng.integers(1, 4))
            days = np.unique(
                np.concatenate([[first_window], rng.integers(first_window, world.days, n_win - 1)])
            )
            for d in days:
                part = rng.random(n) < rng.uniform(0.5, 1.0)
                if not part.any():
                    part[rng.integers(0, n)] = True
                m = int(part.sum())
                start = rng.integers(9 * 3600, 21 * 3600)
                sec = start + rng.random(m) * rng.uniform(1, 12) * 3600
                rating = np.where(rng.random(m) < rng.uniform(0.85, 0.97), 5, 4)
                rev.add(
                    platform=plat,
                    user=users[part],
                    merchant=np.full(m, t, dtype=object),
                    sku=rng.choice(skus, m),
                    rating=rating,
                    text=rng.choice(templates, m).astype(object),
                    ts=utc_ts(world, np.full(m, d), sec),
                    device=ids["device_hash"].to_numpy()[part],
                    ip=ids["ip_prefix"].to_numpy()[part],
                    source=f"ring:{t}",
                )
                fake += m
        # camouflage: a few ordinary reviews of popular offers
        _honest_reviews(
            world,
            rng,
            off,
            plat,
            users,
            reg,
            ids["device_hash"].to_numpy(),
            ids["ip_prefix"].to_numpy(),
            rng.integers(0, 4, n),
            rev,
            "camouflage",
            exclude=targets,
        )
        members = ",".join(sorted(users))
        for t in targets:
            truth.add(
                "integrity.fake_reviews",
                "merchant",
                t,
                platform_id=plat,
                note=f"ring_size={n}; ring=ring{r + 1}; accounts={members}",
            )
        truth.add(
            "integrity.fake_accounts",
            "account_cluster",
            f"cluster:{min(users)}",
            platform_id=plat,
            strength=round(share, 3),
            note=members,
        )
        log.debug(
            "ring %d on %s: %d accounts, targets %s, %d fake reviews (burst %.1f h)",
            r + 1,
            plat,
            n,
            targets,
            fake,
            burst_h,
        )
        targets_all += targets
    return targets_all


def _fake_accounts(
    world: World, acc: dict[str, pd.DataFrame], tok: _Tokens, truth: GroundTruth
) -> None:
    rng = world.rng_for("integrity.fake_accounts")
    n_clusters = max(3, world.scale.merchants // 100)
    platforms = sorted(acc)
    sizes = np.array([len(acc[p]) for p in platforms], dtype=float)
    for _ in range(n_clusters):
        plat = str(rng.choice(platforms, p=sizes / sizes.sum()))
        n = int(rng.integers(8, 61))
        reg, burst_h = _burst_registrations(world, rng, n, int(rng.integers(-30, world.days - 1)))
        ids, share = cluster_identifiers(tok, n, rng)
        users = tok.users(n)
        _new_accounts(world, tok, plat, users, reg, ids, _platform_regions(world, plat, rng, 1)[0])
        truth.add(
            "integrity.fake_accounts",
            "account_cluster",
            f"cluster:{min(users)}",
            platform_id=plat,
            strength=round(share, 3),
            note=",".join(sorted(users)),
        )
        log.debug("fake-account cluster on %s: %d accounts in %.1f h", plat, n, burst_h)


def _lookalikes(
    world: World,
    off: pd.DataFrame,
    acc: dict[str, pd.DataFrame],
    rev: _Reviews,
    tok: _Tokens,
    truth: GroundTruth,
    exclude: list[str],
    out: TableWriter,
) -> None:
    rng = world.rng_for("integrity.lookalikes")
    # a promotion bringing a burst of real 5-star reviews
    third = off[
        ~off["self_operated"]
        & ~off["merchant_id"].isin(exclude)
        & off["platform_id"].isin(list(acc))
    ]
    by_m = third.groupby("merchant_id").agg(
        platform_id=("platform_id", "first"),
        pop=("popularity", "sum"),
        rating=("rating", "mean"),
        lo=("lo", "min"),
        hi=("hi", "max"),
    )
    by_m = by_m[(by_m["lo"] <= world.days * 0.2) & (by_m["hi"] >= world.days)]
    promo: list[str] = []
    n_promo = 1 + world.scale.merchants // 1000
    top = by_m.sort_values(["pop", "rating"], ascending=False).head(max(3, len(by_m) // 4))
    for mid in sorted(rng.choice(top.index.to_numpy(), size=min(n_promo, len(top)), replace=False)):
        plat = str(top.loc[mid, "platform_id"])
        d = int(rng.uniform(0.2, 0.7) * world.days)
        span = int(rng.integers(3, 9))
        a = acc[plat]
        ok = np.flatnonzero((a["reg"] < utc_ts(world, np.array([d]), np.array([0]))[0]).to_numpy())
        ordinary = sum(int((part["merchant_id"] == mid).sum()) for part in rev.parts)
        lift = ordinary / world.days * span * rng.uniform(2.0, 4.0)  # 3-5x the usual volume
        n = min(len(ok), max(int(rng.integers(25, 81)), round(lift)))
        who = rng.choice(ok, size=n, replace=False)
        skus = third.loc[third["merchant_id"] == mid, "sku_id"].to_numpy()
        day = d + 1 + np.floor(rng.random(n) ** 1.5 * span).astype(int)
        rating = np.clip(
            np.round(np.maximum(top.loc[mid, "rating"], 4.5) + rng.normal(0, 0.5, n)), 3, 5
        ).astype(int)
        rev.add(
            platform=plat,
            user=a["user_id"].to_numpy()[who],
            merchant=np.full(n, mid, object),
            sku=rng.choice(skus, n),
            rating=rating,
            text=_texts(rng, rating),
            ts=utc_ts(world, day, local_seconds(rng, n)),
            device=a["device_hash"].to_numpy()[who],
            ip=a["ip_prefix"].to_numpy()[who],
            source="promo",
        )
        ev_days = np.array([d, min(d + span, world.days - 1)])
        out.write(
            "merchant_events",
            pd.DataFrame(
                {
                    "merchant_id": mid,
                    "platform_id": plat,
                    "ts": utc_ts(world, ev_days, rng.integers(0, 6 * 3600, 2)),
                    "event": ["promo_join", "promo_leave"],
                    "reason": ["平台大促活动", None],
                }
            ),
        )
        truth.lookalike(
            "integrity.fake_reviews",
            "merchant",
            mid,
            platform_id=plat,
            note=f"promotion from {world.start}+{d}d: {n} organic reviews",
        )
        promo.append(mid)
    # households sharing a device, reviewing honestly (sometimes the same store)
    for _ in range(2 + world.scale.merchants // 300):
        plat = str(rng.choice(sorted(acc)))
        n = int(rng.integers(2, 4))
        users = tok.users(n)
        dev = tok.ident("device_hash", 1)[0]
        ip = tok.ident("ip_prefix", 1)[0]
        reg_days = np.sort(rng.integers(-900, -20, n))
        reg = utc_ts(world, reg_days, local_seconds(rng, n))
        ids = pd.DataFrame(
            {"device_hash": dev, "phone_hash": tok.ident("phone_hash", n), "ip_prefix": ip},
            index=range(n),
        )
        _new_accounts(world, tok, plat, users, reg, ids, _platform_regions(world, plat, rng, 1)[0])
        _honest_reviews(
            world,
            rng,
            off,
            plat,
            users,
            reg,
            np.full(n, dev, object),
            np.full(n, ip, object),
            rng.integers(2, 7, n),
            rev,
            "household",
        )
        shared = by_m[(by_m["platform_id"] == plat) & ~by_m.index.isin(promo)]
        if len(shared):
            mid = str(rng.choice(shared.index.to_numpy()))
            po = third[third["merchant_id"] == mid]
            lo = int(max(0, np.ceil(shared.loc[mid, "lo"])))
            days = rng.choice(np.arange(lo, world.days), size=n, replace=False)
            rating = _stars(rng, po["rating"].to_numpy()[:1].repeat(n))
            rev.add(
                platform=plat,
                user=users,
                merchant=np.full(n, mid, object),
                sku=rng.choice(po["sku_id"].to_numpy(), n),
                rating=rating,
                text=_texts(rng, rating),
                ts=utc_ts(world, days, local_seconds(rng, n)),
                device=np.full(n, dev, object),
                ip=np.full(n, ip, object),
                source="household",
            )
            truth.lookalike(
                "integrity.fake_reviews",
                "merchant",
                mid,
                platform_id=plat,
                note=f"household of {n} accounts sharing a device reviewed honestly",
            )
        truth.lookalike(
            "integrity.fake_accounts",
            "account_cluster",
            f"cluster:{min(users)}",
            platform_id=plat,
            note=",".join(sorted(users)),
        )
    # a campus / office NAT: one ip_prefix, registrations spread over months
    for _ in range(1 + world.scale.merchants // 1000):
        plat = str(rng.choice(sorted(acc)))
        n = int(rng.integers(30, 121))
        users = tok.users(n)
        ip = tok.ident("ip_prefix", 1)[0]
        months = rng.uniform(3, 15)
        reg_days = world.days - np.sort(rng.integers(1, int(months * 30), n))
        reg = utc_ts(world, reg_days, local_seconds(rng, n))
        ids = pd.DataFrame(
            {
                "device_hash": tok.ident("device_hash", n),
                "phone_hash": tok.ident("phone_hash", n),
                "ip_prefix": ip,
            }
        )
        _new_accounts(world, tok, plat, users, reg, ids, _platform_regions(world, plat, rng, 1)[0])
        _honest_reviews(
            world,
            rng,
            off,
            plat,
            users,
            reg,
            ids["device_hash"].to_numpy(),
            ids["ip_prefix"].to_numpy(),
            rng.poisson(1.2, n),
            rev,
            "nat",
        )
        truth.lookalike(
            "integrity.fake_accounts",
            "account_cluster",
            f"cluster:{min(users)}",
            platform_id=plat,
            note=",".join(sorted(users)),
        )


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``reviews``, add accounts, plant the integrity families (module docstring)."""
    off = _offers(world, out)
    acc = _accounts_by_platform(world)
    tok = _Tokens(world, world.rng_for("integrity.tokens"))
    rev = _Reviews(world)
    with_order = _order_reviews(world, out, off, rev, tok)
    if with_order:  # a few reviews come without an order (follow-ups, gifts, service visits)
        n_free = int(with_order * world.rng_for("integrity.free_share").uniform(0.04, 0.1))
    else:
        n_free = max(3_000, int(world.scale.quotes * 0.06))
    _organic(world, off, acc, rev, tok, n_free)
    targets: list[str] = []
    n_before = len(truth.violations)
    if world.violations:
        targets = _rings(world, off, acc, rev, tok, truth)
        _fake_accounts(world, acc, tok, truth)
    _lookalikes(world, off, acc, rev, tok, truth, targets, out)
    reviews = rev.frame()
    # strength of a planted review ring: the share of fake reviews among the target's reviews
    counts = reviews.groupby("merchant_id")["source"].agg(
        fake=lambda s: int(s.str.startswith("ring:").sum()), total="size"
    )
    for row in truth.violations[n_before:]:
        if row.family == "integrity.fake_reviews" and row.subject_id in counts.index:
            c = counts.loc[row.subject_id]
            row.strength = round(float(c["fake"]) / max(1, int(c["total"])), 3)
    reviews = reviews.drop(columns="source")
    for i in range(0, len(reviews), PART_ROWS):
        out.write("reviews", reviews.iloc[i : i + PART_ROWS])
    log.info("integrity: %d reviews, %d review targets", len(reviews), len(targets))
