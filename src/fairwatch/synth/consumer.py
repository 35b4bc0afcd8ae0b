"""Consumer complaints: a seasonal baseline, planted surges and spikes that are no surge.

Writes ``complaints``. Complaints per merchant and day are Poisson with a merchant rate
(rising with the store's sales, falling with the quality of its offers, log-normal
spread), a weekday profile and, for one merchant sector, a promotion-festival week that
lifts every store of the sector (×1.8–×3). Complainants are pseudonyms (``cp_`` + hex);
most file once, some a few times.

``consumer.complaint_surge`` (subject: ``merchant_id``), only when ``world.violations``:
    for 3–14 days a merchant's complaints rise ×3–×10 (at least one to two and a half
    extra complaints a day on a small store, and enough that the window's total under
    the store's base rate is rarer than any chance cluster of the market: a tail below
    1 % over all its store-windows), filed by as many
    distinct new complainants, mostly about one issue. Look-alikes: a serial
    complainant filing 24–80 complaints against many merchants, a burst of them against
    one; templated complaints (one identical text) from two to four ids within days;
    the busiest stores of the festival sector during the festival week.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

from fairwatch.synth.conduct import local_seconds, merchant_windows, sku_signals, utc_ts
from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

PART_ROWS = 1_500_000
#: A planted surge's window total is at most this likely to arise by chance anywhere in
#: the market: per store and window, this over the market's store-windows (stores × days
#: × the 12 surge lengths of 3–14 days). A fixed per-window tail (it was one in a
#: million) is met by chance ~1.5 times in a market of 1,500 stores over 90 days, where
#: no method could tell the planted surge from the chance ones.
SURGE_MARKET_TAIL = 0.01
SURGE_DAYS = (3, 14)
CATEGORIES = ("quality", "delivery", "refund", "price", "fraud")
_BASE_MIX = np.array([0.34, 0.24, 0.22, 0.1, 0.1])

_CONTEXT = [
    "",
    "",
    "多次联系客服无果，",
    "订单已确认收货，",
    "已保留聊天记录，",
    "购买后第三天发现，",
]
_ISSUE = {
    "quality": [
        "收到的商品有质量问题",
        "商品与描述严重不符",
        "用了几天就坏了",
        "疑似假冒商品",
        "食品有异味",
    ],
    "delivery": [
        "超过承诺时间未发货",
        "物流信息长期不更新",
        "快递丢件",
        "送达超时一个多小时",
        "商品被签收但未收到",
    ],
    "refund": ["申请退款被拒绝", "退款迟迟不到账", "商家拒绝七天无理由退货", "退货后商家不退款"],
    "price": ["下单后商家要求加价", "标价与结算价不一致", "先涨价后打折", "优惠券无法使用"],
    "fraud": ["付款后商家失联", "虚假宣传诱导下单", "收到空包裹", "被诱导私下转账"],
}
_DEMAND = ["要求退货退款", "要求赔偿损失", "商家拒绝处理", "希望平台介入", "请求监管部门处理"]
_TEMPLATES = [
    "该商家虚假宣传欺骗消费者，强烈要求平台严肃处理！！！",
    "黑心商家，坑人！要求退一赔三！！",
    "本人郑重投诉该店铺，商品质量极差，要求立即下架处理。",
]


def _complainants(rng: np.random.Generator, n: int, taken: set[str]) -> np.ndarray:
    """``n`` new pseudonyms ``cp_`` + 12 hex digits, distinct from ``taken`` (updated)."""
    out: list[str] = []
    while len(out) < n:
        values = rng.integers(0, 16**12, size=n - len(out))
        tokens = np.char.add("cp_", np.char.zfill(np.char.mod("%x", values), 12)).astype(object)
        fresh = [t for t in dict.fromkeys(tokens.tolist()) if t not in taken]
        taken.update(fresh)
        out += fresh
    return np.array(out[:n], dtype=object)


def _texts(rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
    out = np.empty(len(cats), dtype=object)
    for c in CATEGORIES:
        k = np.flatnonzero(cats == c)
        if len(k):
            out[k] = [
                a + b + "，" + d + "。"
                for a, b, d in zip(
                    rng.choice(_CONTEXT, len(k)),
                    rng.choice(_ISSUE[c], len(k)),
                    rng.choice(_DEMAND, len(k)),
                    strict=True,
                )
            ]
    return out


def _claims(rng: np.random.Generator, cats: np.ndarray, price: np.ndarray) -> np.ndarray:
    amount = np.round(price * rng.uniform(0.5, 3.0, len(cats)), 2)
    amount = np.where(cats == "delivery", np.round(amount * 0.3, 2), amount)
    return np.where(rng.random(len(cats)) < 0.3, np.nan, amount)


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``complaints`` and plant complaint surges (see the module docstring)."""
    rng = world.rng_for("consumer.complaints")
    days = world.days
    m = world.frame("merchants").reset_index(drop=True)
    win = merchant_windows(world).set_index("merchant_id").reindex(m["merchant_id"])
    d = np.arange(days)
    open_ = (d[None, :] >= win["open_day"].to_numpy()[:, None]) & (
        d[None, :] < win["close_day"].to_numpy()[:, None]
    )
    sig = sku_signals(world, out).merge(
        world.frame("products")[["sku_id", "merchant_id"]], on="sku_id"
    )
    per_m = sig.groupby("merchant_id").agg(pop=("popularity", "sum"), q=("quality", "mean"))
    per_m = per_m.reindex(m["merchant_id"]).fillna({"pop": 0.2, "q": 0.0})
    prices = world.sku_prices.merge(world.frame("products")[["sku_id", "merchant_id"]], on="sku_id")
    price = prices.groupby("merchant_id")["base_price"].mean().reindex(m["merchant_id"])
    price = price.fillna(price.median() if price.notna().any() else 100.0).to_numpy()

    lam = (per_m["pop"].to_numpy() ** 0.6) * np.exp(-0.5 * per_m["q"].to_numpy())
    lam = lam * rng.lognormal(0.0, 0.5, len(m))
    total = max(1_500, int(world.scale.quotes * 0.01))
    lam = lam * total / max(1e-9, float((lam[:, None] * open_).sum()))
    weekday = np.array([(world.start.toordinal() + int(x)) % 7 for x in d])  # 0 = Monday
    wd_profile = rng.uniform(0.85, 1.2, 7)
    wd_profile[0] *= rng.uniform(1.05, 1.25)  # complaints pile up after the weekend
    rate = lam[:, None] * wd_profile[weekday][None, :] * open_

    # a promotion-festival week lifting one sector everywhere
    sectors = m["category"].astype(str).value_counts()
    sectors = sectors[sectors >= 3]
    fest_sector = str(rng.choice(np.sort(sectors.index.to_numpy()))) if len(sectors) else None
    fest_start = int(rng.uniform(0.2, 0.75) * days)
    fest_len = int(rng.integers(5, 9))
    fest_days = np.arange(fest_start, min(days, fest_start + fest_len))
    in_fest_sector = (m["category"].astype(str) == fest_sector).to_numpy()
    if fest_sector is not None:
        rate[np.ix_(in_fest_sector, fest_days)] *= rng.uniform(1.8, 3.0)

    counts = rng.poisson(rate)
    mi, di = np.nonzero(counts)
    reps = counts[mi, di]
    mi, di = np.repeat(mi, reps), np.repeat(di, reps)
    cats = np.array(CATEGORIES, dtype=object)[rng.choice(len(CATEGORIES), len(mi), p=_BASE_MIX)]
    taken: set[str] = set()
    pool = _complainants(rng, max(50, 3 * len(mi)), taken)
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.4
    who = pool[rng.choice(len(pool), len(mi), p=weights / weights.sum())]
    parts = [
        pd.DataFrame(
            {"m": mi, "day": di, "category": cats, "complainant_id": who, "text": _texts(rng, cats)}
        )
    ]

    planted: set[int] = set()
    if world.violations:
        n_surges = max(2, world.scale.merchants // 100)
        lengths = SURGE_DAYS[1] - SURGE_DAYS[0] + 1
        tail = SURGE_MARKET_TAIL / (len(m) * days * lengths)
        eligible = np.flatnonzero(
            ~m["self_operated"].astype(bool).to_numpy() & ~in_fest_sector & open_.all(axis=1)
        )
        for k in rng.choice(eligible, size=min(n_surges, len(eligible)), replace=False):
            k = int(k)
            dur = int(rng.integers(SURGE_DAYS[0], SURGE_DAYS[1] + 1))
            s = int(rng.integers(3, max(4, days - dur)))
            span = np.arange(s, min(days, s + dur))
            mult = float(rng.uniform(3.0, 10.0))
            base = rate[k, span]
            extra = np.maximum(base * (mult - 1), rng.uniform(1.5, 3.0))
            n_day = rng.poisson(extra)
            short = int(np.ceil(rng.uniform(0.6, 0.9) * extra.sum())) - int(n_day.sum())
            # keep a small store's surge visible above Poisson noise: at least 60-90 % of
            # the extra, and enough that the window's total is rarer under the store's
            # base rate than any chance cluster of the market (else chance makes the
            # same cluster at other stores, and the truth could not be told from them)
            floor = int(stats.poisson.isf(tail, base.sum())) + 1 - base.sum()
            short = max(short, int(np.ceil(floor)) - int(n_day.sum()))
            if short > 0:
                n_day += np.bincount(rng.integers(0, len(span), short), minlength=len(span))
            n = int(n_day.sum())
            issue = int(rng.integers(0, len(CATEGORIES)))
            mix = np.full(len(CATEGORIES), 0.3 / (len(CATEGORIES) - 1))
            mix[issue] = 0.7
            c = np.array(CATEGORIES, dtype=object)[rng.choice(len(CATEGORIES), n, p=mix)]
            parts.append(
                pd.DataFrame(
                    {
                        "m": k,
                        "day": np.repeat(span, n_day),
                        "category": c,
                        "complainant_id": _complainants(rng, n, taken),
                        "text": _texts(rng, c),
                    }
                )
            )
            effective = float((base.sum() + extra.sum()) / max(base.sum(), 1e-9))
            truth.add(
                "consumer.complaint_surge",
                "merchant",
                str(m.loc[k, "merchant_id"]),
                platform_id=str(m.loc[k, "platform_id"]),
                strength=round(min(effective, 100.0), 2),
                note=(
                    f"surge {len(span)} days from day {s}: x{mult:.1f} "
                    f"({n} complaints by {n} complainants, mostly {CATEGORIES[issue]})"
                ),
            )
            planted.add(k)

    # look-alikes: a serial complainant, templated complaints, the festival's busiest stores
    lrng = world.rng_for("consumer.lookalikes")
    free = np.array(
        [
            k
            for k in np.flatnonzero(open_.sum(axis=1) >= days // 2)
            if k not in planted and not in_fest_sector[k]
        ]
    )
    lookalike_m: list[int] = []
    if len(free) >= 2:
        serial = _complainants(lrng, 1, taken)[0]
        n_serial = int(lrng.integers(24, 81))
        spike_m = int(lrng.choice(free))
        open_days = np.flatnonzero(open_[spike_m])
        spike_day = int(lrng.choice(open_days[:-1] if len(open_days) > 1 else open_days))
        n_spike = int(lrng.integers(6, 16))
        spike_days = spike_day + lrng.integers(0, 2, n_spike)
        others = lrng.choice(np.flatnonzero(open_.any(axis=1)), n_serial - n_spike)
        other_days = np.array([lrng.choice(np.flatnonzero(open_[o])) for o in others], dtype=int)
        ms = np.concatenate([np.full(n_spike, spike_m), others])
        ds = np.concatenate([np.minimum(spike_days, days - 1), other_days])
        c = np.array(CATEGORIES, dtype=object)[lrng.choice(len(CATEGORIES), len(ms), p=_BASE_MIX)]
        parts.append(
            pd.DataFrame(
                {
                    "m": ms,
                    "day": ds,
                    "category": c,
                    "complainant_id": serial,
                    "text": _texts(lrng, c),
                }
            )
        )
        truth.lookalike(
            "consumer.complaint_surge",
            "merchant",
            str(m.loc[spike_m, "merchant_id"]),
            platform_id=str(m.loc[spike_m, "platform_id"]),
            note=f"serial complainant {serial}: {n_spike} of {n_serial} complaints here",
        )
        lookalike_m.append(spike_m)
        rest = np.array([k for k in free if k != spike_m])
        tm = int(lrng.choice(rest))
        ids = _complainants(lrng, int(lrng.integers(2, 5)), taken)
        n_t = int(lrng.integers(10, 31))
        t_open = np.flatnonzero(open_[tm])
        t0 = int(lrng.choice(t_open[: max(1, len(t_open) - 3)]))
        ds = np.minimum(t0 + lrng.integers(0, 3, n_t), days - 1)
        parts.append(
            pd.DataFrame(
                {
                    "m": tm,
                    "day": ds,
                    "category": "fraud",
                    "complainant_id": lrng.choice(ids, n_t),
                    "text": str(lrng.choice(_TEMPLATES)),
                }
            )
        )
        truth.lookalike(
            "consumer.complaint_surge",
            "merchant",
            str(m.loc[tm, "merchant_id"]),
            platform_id=str(m.loc[tm, "platform_id"]),
            note=f"{n_t} templated complaints from {len(ids)} ids",
        )
        lookalike_m.append(tm)

    df = pd.concat(parts, ignore_index=True)
    if fest_sector is not None:
        fest = df[in_fest_sector[df["m"].to_numpy()] & df["day"].isin(fest_days)]
        for k in fest["m"].value_counts().head(3).index:
            if int(k) not in planted and int(k) not in lookalike_m:
                truth.lookalike(
                    "consumer.complaint_surge",
                    "merchant",
                    str(m.loc[k, "merchant_id"]),
                    platform_id=str(m.loc[k, "platform_id"]),
                    note=f"festival week of sector {fest_sector} from day {fest_start}",
                )
    k = df["m"].to_numpy()
    df["ts"] = utc_ts(world, df["day"].to_numpy(), local_seconds(rng, len(df)))
    df["platform_id"] = m["platform_id"].to_numpy()[k]
    df["merchant_id"] = m["merchant_id"].to_numpy()[k]
    df["target_id"] = m["entity_id"].to_numpy()[k]
    df["claimed_cny"] = _claims(rng, df["category"].to_numpy(), price[k])
    df = df.sort_values(["ts", "complainant_id"], kind="stable").reset_index(drop=True)
    width = max(8, len(str(len(df))))
    df["complaint_id"] = [f"cmp{i + 1:0{width}d}" for i in range(len(df))]
    df = df[
        [
            "complaint_id",
            "ts",
            "complainant_id",
            "platform_id",
            "merchant_id",
            "target_id",
            "category",
            "text",
            "claimed_cny",
        ]
    ]
    for i in range(0, len(df), PART_ROWS):
        out.write("complaints", df.iloc[i : i + PART_ROWS])
    log.info("consumer: %d complaints, %d surges planted", len(df), len(planted))
