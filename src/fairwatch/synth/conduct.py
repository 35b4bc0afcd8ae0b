"""Platform conduct towards merchants: search, store events, fees, rule changes.

Writes ``search_results``, ``merchant_events``, ``fee_schedules`` and ``rule_changes`` and
plants four families (each only when ``world.violations``), with lawful look-alikes always:

``conduct.exclusive_dealing`` (subject: the coercing platform)
    From a campaign day a platform makes multi-homing merchants (entities with a store on
    it and on a rival platform of the same category) choose: a share (20–70 %) closes its
    rival store(s) in a cluster of days after the start (``close`` on the rival, vague
    reason); those that keep multi-homing get ``demote``/``penalty`` events on the coercing
    platform and lose 15–60 % of their search exposure there from then on (left out of
    that share of the searches they would appear in, ranked lower in the rest). Look-alikes:
    a platform penalising counterfeiters (``reason`` says so) whoever they are, with the same
    exposure loss; rival stores closed by multi-homers spread evenly over the period
    (churn); closures clustered after a rival's own, lawful fee increase, with no campaign
    or demotion by the platform the merchants stay on.
``conduct.self_preferencing`` (subject: platform)
    Organic search ranks offers by a platform-specific mix of rating, sales and price (the
    per-SKU signals in :func:`sku_signals`, shared with the reviews module) plus Gumbel
    noise, i.e. a Plackett–Luce draw. On a planted platform self-operated offers get an
    extra exposure weight of ×1.5–×4 over third-party offers of the same signals; the
    planted platforms are those with the most self-operated offers competing in search
    (at least :data:`SELF_PREF_ENOUGH_OFFERS` where there are such platforms).
    Look-alikes: a platform whose self-operated offers really are better (higher quality,
    hence ratings and sales) and rank high without a boost; a platform whose self-operated
    stores buy many *labelled* sponsored slots (``sponsored`` true).
``conduct.unfair_fee_change`` (subject: ``fee_id``)
    An increase of 40–150 % in one step; an increase with 0–5 days between ``announced_on``
    and ``effective_from`` (E-Commerce Law art. 34 requires 7); a deposit that works as a
    fee (8–30× the category's ordinary deposit, or charged as a ``rate_pct`` of sales);
    a ``merchant_category`` of the form ``<category>/<subgroup>`` charging one subgroup
    of a category 20–100 % more than the category's own row on the same platform.
    Look-alikes: increases of 5–30 % announced ≥ 30 days ahead, reductions, categories
    charged differently from each other, ordinary deposits at the top of the normal range.
``conduct.rule_change_notice`` (subject: ``change_id``)
    Changes effective 0–6 days after announcement, and changes without public
    consultation (``consultation_from`` null). Look-alikes: exactly 7, 8 or 30 days of
    notice, with consultation.

Closures planted here also set ``merchants.closed_on`` in the world. The per-SKU signals
are stored in ``world.info["sku_quality"]`` (columns ``sku_id``, ``quality``, ``rating``,
``popularity``, ``price_rel``) for the other modules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

PART_ROWS = 1_500_000
SEARCH_POSITIONS = 10
NOTICE_DAYS = 7  # E-Commerce Law art. 34: rule changes published >= 7 days before effect

_HOUR_WEIGHTS = np.array(
    [
        1.0,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.5,
        3.2,
        3.5,
        3.4,
        3.6,
        3.3,
        3.1,
        3.0,
        3.0,
        3.2,
        3.6,
        4.3,
        4.9,
        5.0,
        4.2,
        2.4,
    ]
)
_FAR = 10**6  # "never" as a day offset

# -- shared helpers (also used by integrity and consumer) ------------------------------------


def local_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after local midnight with a daily activity profile."""
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return hour * 3600 + rng.integers(0, 3600, size=n)


def utc_ts(world: World, day: np.ndarray, seconds: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps for local (Asia/Shanghai) day offsets from ``world.start`` plus seconds."""
    base = np.datetime64(world.start.isoformat(), "s") - np.timedelta64(8, "h")
    d = np.asarray(day).astype("int64").astype("timedelta64[D]")
    s = np.asarray(np.round(seconds)).astype("int64").astype("timedelta64[s]")
    return pd.DatetimeIndex((base + d + s).astype("datetime64[ns]")).tz_localize("UTC")


def day_dates(world: World, day: np.ndarray | list[int]) -> list[date]:
    """Calendar dates for day offsets from ``world.start``."""
    return [world.start + timedelta(days=int(d)) for d in np.asarray(day)]


def day_offsets(world: World, values: pd.Series, missing: float = _FAR) -> np.ndarray:
    """Day offsets from ``world.start`` of a date column (``missing`` where null)."""
    s = pd.to_datetime(values, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    out = (s.dt.normalize() - pd.Timestamp(world.start)).dt.days.to_numpy(dtype=float)
    return np.where(np.isnan(out), missing, out)


def weekday_weights(world: World, rng: np.random.Generator, weekend: float) -> np.ndarray:
    """Per-day activity weights over the period with a weekend factor."""
    wd = np.array([(world.start + timedelta(days=d)).weekday() for d in range(world.days)])
    jitter = rng.uniform(0.9, 1.1, size=world.days)
    return np.where(wd >= 5, weekend, 1.0) * jitter


def merchant_windows(world: World) -> pd.DataFrame:
    """Stores' ``merchant_id``, ``platform_id``, ``open_day`` and ``close_day``.

    Day offsets from ``world.start``; the close day is exclusive.
    """
    m = world.frame("merchants")
    return pd.DataFrame(
        {
            "merchant_id": m["merchant_id"].to_numpy(),
            "platform_id": m["platform_id"].to_numpy(),
            "open_day": day_offsets(world, m["opened_on"], missing=-_FAR),
            "close_day": day_offsets(world, m["closed_on"]) if "closed_on" in m else _FAR,
        }
    )


def _platform_categories(world: World) -> dict[str, set[str]]:
    p = world.frame("platforms")
    out: dict[str, set[str]] = {}
    for pid, cats in zip(p["platform_id"], p["categories"], strict=True):
        out[str(pid)] = {str(c) for c in (cats if cats is not None else [])}
    return out


# -- roles and per-SKU signals --------------------------------------------------------------


@dataclass
class ConductRoles:
    """Which platforms play which part (drawn once per world, cached in ``world.info``)."""

    self_pref: dict[str, float] = field(default_factory=dict)  # platform -> exposure boost B
    quality_lookalike: list[str] = field(default_factory=list)
    ads_lookalike: list[str] = field(default_factory=list)
    coercers: list[str] = field(default_factory=list)
    penalty_lookalike: str | None = None
    churn_lookalike: str | None = None
    fee_hike: tuple[str, str] | None = None  # (platform raising its fee, platform stayed on)
    fee_hike_day: int = 0


def multihoming_pairs(world: World) -> pd.DataFrame:
    """Third-party stores with a store of the same entity on a rival platform.

    One row per (store, rival store): ``merchant_id``, ``platform_id``, ``entity_id``,
    ``rival_merchant_id``, ``rival_platform_id``. Rivals share a platform category.
    """
    m = world.frame("merchants")
    m = m.loc[
        ~m["self_operated"].astype(bool) & m["entity_id"].notna(),
        ["merchant_id", "platform_id", "entity_id"],
    ]
    pairs = m.merge(m, on="entity_id", suffixes=("", "_r"))
    pairs = pairs[pairs["platform_id"] != pairs["platform_id_r"]]
    cats = _platform_categories(world)
    rival = [
        bool(cats.get(a, set()) & cats.get(b, set())) or not cats.get(a)
        for a, b in zip(pairs["platform_id"], pairs["platform_id_r"], strict=True)
    ]
    pairs = pairs[np.array(rival, dtype=bool)] if len(pairs) else pairs
    return pairs.rename(
        columns={"merchant_id_r": "rival_merchant_id", "platform_id_r": "rival_platform_id"}
    ).reset_index(drop=True)


#: Comparable self-operated offers a platform needs to be preferred for the planted
#: self-preferencing (FW202's test clusters by query: a handful of own offers in a few
#: small categories gives it too little to work with).
SELF_PREF_ENOUGH_OFFERS = 12

_UNSEARCHED_SECTORS = {"mobility"}  # ride tiers are dispatched, not searched and ranked


def searchable_products(world: World) -> pd.DataFrame:
    """Products that appear in search (goods and bookable services, not ride tiers)."""
    p = world.frame("products")
    sector = world.info.get("category_sector", {})
    keep = ~p["category"].map(lambda c: sector.get(c) in _UNSEARCHED_SECTORS).astype(bool)
    return p[keep.to_numpy()]


def conduct_roles(world: World) -> ConductRoles:
    """The platforms' parts in this world (cached in ``world.info["conduct_roles"]``)."""
    cached = world.info.get("conduct_roles")
    if isinstance(cached, ConductRoles):
        return cached
    rng = world.rng_for("conduct.roles")
    roles = ConductRoles()
    products = searchable_products(world)
    platforms = sorted(world.frame("platforms")["platform_id"].astype(str))
    big = world.scale.platforms >= 10
    # self-preferencing: platforms with self-operated offers that compete in search with
    # third-party offers of the same category
    so = products["self_operated"].astype(bool)
    third_cats = set(
        zip(products.loc[~so, "platform_id"], products.loc[~so, "category"], strict=True)
    )
    rivalled = [
        (p, c) in third_cats
        for p, c in zip(products["platform_id"], products["category"], strict=True)
    ]
    so_counts = products[so & np.array(rivalled, dtype=bool)].groupby("platform_id").size()
    with_so = [p for p in platforms if so_counts.get(p, 0) >= 2]
    # platforms with more comparable self-operated offers take the parts first: up to
    # SELF_PREF_ENOUGH_OFFERS they count, beyond that ties are broken at random (with
    # fewer own offers competing in search, even the true ranking model cannot tell a
    # boost from chance at a 5 % false-discovery rate: the truth would not be supported)
    order = sorted(
        rng.permutation(with_so),
        key=lambda p: -min(int(so_counts[p]), SELF_PREF_ENOUGH_OFFERS),
    )
    n_planted = (2 if big else 1) if world.violations else 0
    for p in order[:n_planted]:
        roles.self_pref[str(p)] = float(rng.uniform(0.5, 3.0))
    rest = [p for p in order[n_planted:]]
    rest += sorted(
        (p for p in rng.permutation(platforms) if so_counts.get(p, 0) == 1),
        key=lambda p: p in roles.self_pref,
    )
    roles.quality_lookalike = [str(p) for p in rest[:1]]
    roles.ads_lookalike = [str(p) for p in rest[1:2]]
    # exclusive dealing: platforms with enough multi-homing stores
    pairs = multihoming_pairs(world)
    counts = pairs.groupby("platform_id")["merchant_id"].nunique()
    cats = _platform_categories(world)
    searched = set(products["platform_id"].astype(str))  # exposure loss must be visible
    eligible = [p for p in platforms if counts.get(p, 0) >= 3 and p in searched]
    taken: set[str] = set()
    if world.violations and eligible:
        want = 2 if big else 1
        for p in rng.permutation(eligible):
            if len(roles.coercers) >= want:
                break
            if any(cats.get(str(p), set()) & cats.get(c, set()) for c in roles.coercers):
                continue  # two coercers never compete for the same merchants
            roles.coercers.append(str(p))
        taken.update(roles.coercers)
    coercer_rivals = {
        r for c in roles.coercers for r in pairs.loc[pairs["platform_id"] == c, "rival_platform_id"]
    }
    # fee-hike look-alike: a pair of rivals (neither coercing), preferably outside the
    # coercers' category
    pc = pairs[~pairs["platform_id"].isin(taken) & ~pairs["rival_platform_id"].isin(taken)]
    if len(pc):
        shared = pc.groupby(["rival_platform_id", "platform_id"]).size().reset_index(name="n")
        shared = shared[shared["n"] >= 2]
        if len(shared):
            shared["clean"] = ~shared["rival_platform_id"].isin(coercer_rivals)
            shared = shared.sort_values(
                ["clean", "n", "rival_platform_id", "platform_id"],
                ascending=[False, False, True, True],
            )
            top = shared.head(3).reset_index(drop=True)
            row = top.iloc[int(rng.integers(0, len(top)))]
            roles.fee_hike = (str(row["rival_platform_id"]), str(row["platform_id"]))
            roles.fee_hike_day = int(rng.uniform(0.3, 0.6) * world.days)
            taken.update(roles.fee_hike)
    m = world.frame("merchants")
    with_stores = set(m.loc[~m["self_operated"].astype(bool), "platform_id"].astype(str)) & searched
    rest_pl = [str(p) for p in rng.permutation(eligible) if p not in taken]
    rest_pl += [
        str(p) for p in rng.permutation(sorted(with_stores)) if p not in taken and p not in rest_pl
    ]
    if rest_pl:
        roles.penalty_lookalike = str(rest_pl[0])
    if len(rest_pl) > 1:
        roles.churn_lookalike = str(rest_pl[1])
    world.info["conduct_roles"] = roles
    log.debug("conduct roles: %s", roles)
    return roles


def written_parts(out: TableWriter | None, table: str) -> list[Path]:
    """The part files of ``table`` that ``out`` has written so far (none for other writers)."""
    folder = getattr(out, "out_dir", None)
    if folder is None or not (Path(folder) / table).is_dir():
        return []
    return sorted((Path(folder) / table).glob("*.parquet"))


def paid_order_counts(out: TableWriter | None) -> pd.Series | None:
    """Paid orders per ``sku_id`` in the ``orders`` already written (``None`` without orders)."""
    parts = written_parts(out, "orders")
    if not parts:
        return None
    counts: list[pd.Series] = []
    for part in parts:
        t = pq.read_table(part, columns=["sku_id", "status"])
        t = t.filter(pc.equal(t["status"], "paid"))
        counts.append(t["sku_id"].to_pandas().value_counts())
    total = pd.concat(counts).groupby(level=0).sum()
    return total if total.sum() > 0 else None


def sku_signals(world: World, out: TableWriter | None = None) -> pd.DataFrame:
    """Per-SKU quality, expected rating, popularity and relative price (cached).

    ``quality`` is a latent z-score (merchant effect plus offer noise; raised for
    self-operated offers on a quality look-alike platform); ``rating`` the expected star
    rating it earns (reviews scatter around it); ``popularity`` the offer's sales (mean 1
    per platform; search ranking follows it): its paid ``orders`` when the pricing module
    has written them to ``out``, else a demand weight drawn here; ``price_rel`` the offer's
    price relative to its category median. The first call (with ``out``) fixes the signals.
    """
    cached = world.info.get("sku_quality")
    if isinstance(cached, pd.DataFrame):
        return cached
    roles = conduct_roles(world)
    rng = world.rng_for("conduct.sku_quality")
    p = world.frame("products")[
        ["sku_id", "platform_id", "merchant_id", "category", "self_operated"]
    ].copy()
    p["self_operated"] = p["self_operated"].astype(bool)
    merchants = np.sort(p["merchant_id"].unique())
    m_eff = pd.Series(rng.normal(0.0, 0.7, len(merchants)), index=merchants)
    q = m_eff.reindex(p["merchant_id"]).to_numpy() + rng.normal(0.0, 0.7, len(p))
    for plat in roles.quality_lookalike:  # self-operated offers better by 0.8-1.4 sd
        on = (p["platform_id"] == plat).to_numpy()
        mask = on & p["self_operated"].to_numpy()
        gap = q[mask].mean() - q[on & ~mask].mean() if (on & ~mask).any() else 0.0
        q[mask] += rng.uniform(0.8, 1.4) - min(gap, 0.0)
    prices = world.sku_prices.set_index("sku_id")["base_price"] if len(world.sku_prices) else None
    price = (
        prices.reindex(p["sku_id"]).to_numpy(dtype=float)
        if prices is not None
        else np.full(len(p), np.nan)
    )
    p["base_price"] = price
    med = p.groupby("category")["base_price"].transform("median").fillna(100.0)
    price = np.where(np.isnan(price), med, price)
    price_rel = np.clip(price / med.to_numpy(), 0.05, 20.0)
    rating = np.clip(4.1 + 0.45 * q, 1.5, 4.95)
    pop = np.exp(0.6 * q - 0.7 * np.log(price_rel) + rng.normal(0.0, 0.5, len(p)))
    sales = paid_order_counts(out)
    if sales is not None:  # rank on the sales a detector can count
        pop = sales.reindex(p["sku_id"]).fillna(0.0).to_numpy(dtype=float) + 0.5
    log.info("sku signals: popularity from %s", "paid orders" if sales is not None else "draws")
    p["popularity"] = pop
    p["popularity"] = pop / p.groupby("platform_id")["popularity"].transform("mean").to_numpy()
    out = pd.DataFrame(
        {
            "sku_id": p["sku_id"].to_numpy(),
            "quality": q,
            "rating": rating,
            "popularity": p["popularity"].to_numpy(),
            "price_rel": price_rel,
        }
    )
    world.info["sku_quality"] = out
    return out


# -- merchant events ------------------------------------------------------------------------

_CLOSE_REASONS = np.array(
    ["商家申请关店", "经营调整", "店铺停止经营", "商家主动退出", ""], dtype=object
)
_VAGUE_DEMOTE = np.array(
    ["违反平台规则", "店铺综合体验分调整", "搜索权重调整", "经营行为异常", "不符合平台经营要求"],
    dtype=object,
)
_CONCRETE_DEMOTE = np.array(
    ["虚假发货", "延迟发货超时", "商品描述与实物不符", "售后响应超时", "价格标示不规范"],
    dtype=object,
)
_COUNTERFEIT = np.array(
    [
        "售假：销售假冒注册商标商品",
        "商品抽检不合格（假冒）",
        "售假",
        "销售假冒伪劣商品，经品牌方投诉核实",
    ],
    dtype=object,
)


class _Events:
    """Collects merchant events, closures and search-exposure penalties."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rows: list[pd.DataFrame] = []
        self.win = merchant_windows(world).set_index("merchant_id")
        self.platform = self.win["platform_id"].to_dict()
        self.closures: dict[str, int] = {}
        self.penalty: dict[str, tuple[int, float]] = {}

    def is_open(self, mid: str, day: int) -> bool:
        w = self.win.loc[mid]
        close = min(float(w["close_day"]), float(self.closures.get(mid, _FAR)))
        return bool(w["open_day"] <= day < close)

    def add(
        self,
        mids: list[str],
        days: list[int],
        event: str,
        reasons: list[Any],
        rng: np.random.Generator,
    ) -> None:
        if not mids:
            return
        d = np.asarray(days, dtype=int)
        self.rows.append(
            pd.DataFrame(
                {
                    "merchant_id": mids,
                    "platform_id": [self.platform[m] for m in mids],
                    "ts": utc_ts(self.world, d, local_seconds(rng, len(mids))),
                    "event": event,
                    "reason": [r if r else None for r in reasons],
                }
            )
        )

    def close(self, mid: str, day: int, rng: np.random.Generator) -> bool:
        """Close a store on ``day`` if it is open then; returns whether it was closed."""
        if day >= self.world.days or mid in self.closures or not self.is_open(mid, day):
            return False
        self.closures[mid] = day
        self.add([mid], [day], "close", [rng.choice(_CLOSE_REASONS)], rng)
        return True

    def demote(self, mid: str, day: int, loss: float) -> None:
        """From ``day`` on, the store's offers are left out of a share ``loss`` of the
        searches they would have appeared in and rank lower in the rest."""
        old = self.penalty.get(mid)
        if old is None or day < old[0]:
            self.penalty[mid] = (day, float(np.clip(max(loss, old[1] if old else 0.0), 0.0, 0.95)))

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame(columns=["merchant_id", "platform_id", "ts", "event", "reason"])
        return pd.concat(self.rows, ignore_index=True).sort_values(
            ["ts", "merchant_id"], kind="stable"
        )


def _cluster_lag(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    return 1 + np.floor(rng.gamma(2.0, scale, size=n)).astype(int)


def _exclusive_dealing(world: World, roles: ConductRoles, ev: _Events, truth: GroundTruth) -> None:
    rng = world.rng_for("conduct.exclusive_dealing")
    pairs = multihoming_pairs(world)
    for plat in roles.coercers:
        start = int(rng.uniform(0.25, 0.5) * world.days)
        share = float(rng.uniform(0.2, 0.7))
        loss = float(rng.uniform(0.15, 0.6))
        lag_scale = float(rng.uniform(1.0, 3.0))
        mine = pairs[pairs["platform_id"] == plat]
        both_open = [
            ev.is_open(a, start) and ev.is_open(b, start)
            for a, b in zip(mine["merchant_id"], mine["rival_merchant_id"], strict=True)
        ]
        mine = mine[np.array(both_open, dtype=bool)]
        stores = np.sort(mine["merchant_id"].unique())
        if len(stores) < 2:
            log.warning("exclusive dealing on %s skipped: too few multi-homing stores", plat)
            continue
        n_leave = int(np.clip(round(share * len(stores)), 1, len(stores) - 1))
        leave = set(rng.choice(stores, size=n_leave, replace=False).tolist())
        closed: list[str] = []
        for mid in stores:
            if mid in leave:
                rivals = np.sort(mine.loc[mine["merchant_id"] == mid, "rival_merchant_id"].unique())
                lag = int(_cluster_lag(rng, 1, lag_scale)[0])
                for r in rivals:
                    if ev.close(str(r), start + lag + int(rng.integers(0, 2)), rng):
                        closed.append(str(r))
            else:
                day = start + int(rng.integers(3, 13))
                if day >= world.days:
                    day = world.days - 1
                kind = "demote" if rng.random() < 0.6 else "penalty"
                ev.add([mid], [day], kind, [rng.choice(_VAGUE_DEMOTE)], rng)
                if rng.random() < 0.5 and day + 7 < world.days:
                    other = "penalty" if kind == "demote" else "demote"
                    ev.add(
                        [mid],
                        [day + int(rng.integers(3, 8))],
                        other,
                        [rng.choice(_VAGUE_DEMOTE)],
                        rng,
                    )
                ev.demote(mid, day, float(np.clip(loss * rng.uniform(0.85, 1.15), 0.05, 0.9)))
        stayers = [m for m in stores if m not in leave]
        truth.add(
            "conduct.exclusive_dealing",
            "platform",
            plat,
            platform_id=plat,
            strength=round(share, 3),
            note=(
                f"campaign_start={world.start + timedelta(days=start)}; "
                f"leave_share={share:.2f}; exposure_loss={loss:.2f}; "
                f"rival_stores_closed={','.join(closed)}; "
                f"demoted={','.join(map(str, stayers))}"
            ),
        )


def _exclusive_lookalikes(
    world: World, roles: ConductRoles, ev: _Events, truth: GroundTruth
) -> None:
    rng = world.rng_for("conduct.exclusive_lookalikes")
    pairs = multihoming_pairs(world)
    m = world.frame("merchants")
    if roles.penalty_lookalike:
        plat = roles.penalty_lookalike
        tp = np.sort(
            m.loc[
                (m["platform_id"] == plat) & ~m["self_operated"].astype(bool), "merchant_id"
            ].to_numpy()
        )
        n = max(1, round(rng.uniform(0.08, 0.15) * len(tp))) if len(tp) else 0
        hit: np.ndarray = rng.choice(tp, size=n, replace=False) if n else np.array([], object)
        loss = float(rng.uniform(0.2, 0.6))
        for mid in hit:
            day = int(rng.integers(0, world.days))
            if not ev.is_open(str(mid), day):
                continue
            ev.add([str(mid)], [day], "penalty", [rng.choice(_COUNTERFEIT)], rng)
            if rng.random() < 0.7:
                ev.add(
                    [str(mid)],
                    [min(day + 1, world.days - 1)],
                    "demote",
                    [rng.choice(_COUNTERFEIT)],
                    rng,
                )
            ev.demote(str(mid), day, loss)
        if n:
            truth.lookalike(
                "conduct.exclusive_dealing",
                "platform",
                plat,
                platform_id=plat,
                note=f"counterfeit penalties on {n} stores regardless of multi-homing",
            )
    if roles.churn_lookalike:
        plat = roles.churn_lookalike
        mine = pairs[
            (pairs["platform_id"] == plat) & ~pairs["rival_platform_id"].isin(roles.coercers)
        ]
        stores = np.sort(mine["merchant_id"].unique())
        share = float(rng.uniform(0.2, 0.5))
        n_closed = 0
        for mid in stores:
            if rng.random() >= share:
                continue
            rivals = np.sort(mine.loc[mine["merchant_id"] == mid, "rival_merchant_id"].unique())
            day = int(rng.integers(0, world.days))
            n_closed += sum(ev.close(str(r), day, rng) for r in rivals)
        if n_closed:
            truth.lookalike(
                "conduct.exclusive_dealing",
                "platform",
                plat,
                platform_id=plat,
                note=f"{n_closed} rival stores closed by multi-homers, spread over time",
            )
    if roles.fee_hike:
        raiser, stay = roles.fee_hike
        day0 = roles.fee_hike_day
        mine = pairs[(pairs["platform_id"] == stay) & (pairs["rival_platform_id"] == raiser)]
        stores = np.sort(mine["rival_merchant_id"].unique())  # stores on the raising platform
        share = float(rng.uniform(0.2, 0.6))
        lag_scale = float(rng.uniform(1.0, 3.0))
        n_closed = 0
        for r in stores:
            if rng.random() < share:
                n_closed += ev.close(str(r), day0 + int(_cluster_lag(rng, 1, lag_scale)[0]), rng)
        single = m.loc[
            (m["platform_id"] == raiser)
            & ~m["self_operated"].astype(bool)
            & ~m["merchant_id"].isin(pairs["merchant_id"]),
            "merchant_id",
        ]
        for mid in np.sort(single.to_numpy()):
            if rng.random() < rng.uniform(0.05, 0.15):
                ev.close(str(mid), day0 + int(_cluster_lag(rng, 1, lag_scale)[0]), rng)
        if n_closed:
            truth.lookalike(
                "conduct.exclusive_dealing",
                "platform",
                stay,
                platform_id=stay,
                note=(
                    f"{n_closed} stores on {raiser} closed after {raiser}'s own "
                    f"fee increase effective {world.start + timedelta(days=day0)}"
                ),
            )


def _background_events(world: World, ev: _Events) -> None:
    rng = world.rng_for("conduct.background_events")
    m = world.frame("merchants")
    win = ev.win
    # opens and the world's own closures inside the period
    opened = win[(win["open_day"] >= 0) & (win["open_day"] < world.days)]
    ev.add(
        list(opened.index),
        opened["open_day"].astype(int).tolist(),
        "open",
        [None] * len(opened),
        rng,
    )
    closed = win[(win["close_day"] >= 0) & (win["close_day"] < world.days)]
    ev.add(
        list(closed.index),
        closed["close_day"].astype(int).tolist(),
        "close",
        list(rng.choice(_CLOSE_REASONS, size=len(closed))),
        rng,
    )
    mids = m["merchant_id"].to_numpy()
    lo = np.clip(win.loc[mids, "open_day"].to_numpy(), 0, None)
    planted = pd.Series(ev.closures, dtype=float).reindex(mids).fillna(_FAR).to_numpy()
    hi = np.clip(np.minimum(win.loc[mids, "close_day"].to_numpy(), planted), None, world.days)
    span = np.clip(hi - lo, 0, None)
    # promotions: joins and leaves
    n_promo = rng.poisson(span / rng.uniform(15, 40))
    idx = np.repeat(np.arange(len(mids)), n_promo)
    if len(idx):
        day = (lo[idx] + rng.random(len(idx)) * span[idx]).astype(int)
        ev.add([str(x) for x in mids[idx]], day.tolist(), "promo_join", [None] * len(idx), rng)
        leave = day + rng.integers(3, 12, len(idx))
        ok = leave < hi[idx]
        ev.add(
            [str(x) for x in mids[idx][ok]],
            leave[ok].tolist(),
            "promo_leave",
            [None] * int(ok.sum()),
            rng,
        )
    # suspensions with reinstatement
    n_susp = rng.poisson(span / 500.0)
    idx = np.repeat(np.arange(len(mids)), n_susp)
    if len(idx):
        day = (lo[idx] + rng.random(len(idx)) * span[idx]).astype(int)
        ev.add(
            [str(x) for x in mids[idx]],
            day.tolist(),
            "suspend",
            list(rng.choice(["资质证照过期", "经营地址核验未通过"], len(idx))),
            rng,
        )
        back = day + rng.integers(1, 6, len(idx))
        ok = back < hi[idx]
        ev.add(
            [str(x) for x in mids[idx][ok]],
            back[ok].tolist(),
            "reinstate",
            ["资质已补全"] * int(ok.sum()),
            rng,
        )
    # ordinary, concrete demotions and penalties
    n_pen = rng.poisson(span / 400.0)
    idx = np.repeat(np.arange(len(mids)), n_pen)
    if len(idx):
        day = (lo[idx] + rng.random(len(idx)) * span[idx]).astype(int)
        kind = rng.random(len(idx)) < 0.5
        for k, name in ((kind, "demote"), (~kind, "penalty")):
            ev.add(
                [str(x) for x in mids[idx][k]],
                day[k].tolist(),
                name,
                list(rng.choice(_CONCRETE_DEMOTE, int(k.sum()))),
                rng,
            )


def _apply_closures(world: World, closures: dict[str, int]) -> None:
    if not closures:
        return
    m = world.frames["merchants"]
    if "closed_on" not in m:
        m["closed_on"] = None
    mask = m["merchant_id"].isin(list(closures))
    days = m.loc[mask, "merchant_id"].map(closures)
    if pd.api.types.is_datetime64_any_dtype(m["closed_on"]):
        m.loc[mask, "closed_on"] = pd.Timestamp(world.start) + pd.to_timedelta(days, unit="D")
    else:
        m["closed_on"] = m["closed_on"].astype(object)
        m.loc[mask, "closed_on"] = pd.Series(
            day_dates(world, days.to_numpy()), index=days.index, dtype=object
        )


# -- fees -------------------------------------------------------------------------------------

_SUBGROUPS = ["多平台经营商家", "非独家合作商家", "非品牌旗舰店", "非年费会员商家"]


def _fees(world: World, roles: ConductRoles, truth: GroundTruth) -> pd.DataFrame:
    rng = world.rng_for("conduct.fees")
    m = world.frame("merchants")
    platforms = sorted(world.frame("platforms")["platform_id"].astype(str))
    categories = sorted(m["category"].astype(str).unique())
    comm = {c: float(rng.uniform(1.5, 8.0)) for c in categories}
    dep = {c: float(rng.uniform(2_000, 50_000)) for c in categories}
    cats_of = {
        p: sorted(m.loc[m["platform_id"] == p, "category"].astype(str).unique()) for p in platforms
    }
    rows: list[dict[str, Any]] = []

    def row(
        p: str,
        ftype: str,
        mcat: str | None,
        rate: float | None,
        amount: float | None,
        ann: int,
        eff: int,
        tag: str = "",
        **kw: Any,
    ) -> dict[str, Any]:
        r = {
            "platform_id": p,
            "fee_type": ftype,
            "merchant_category": mcat,
            "rate_pct": None if rate is None else round(rate, 2),
            "amount_cny": None if amount is None else round(amount, 2),
            "ann": ann,
            "eff": eff,
            "tag": tag,
        }
        r.update(kw)
        rows.append(r)
        return r

    current: dict[tuple[str, str, str], dict[str, Any]] = {}
    for p in platforms:
        pf = float(rng.uniform(0.8, 1.25))
        ann = -int(rng.integers(200, 900))
        eff = ann + int(rng.integers(30, 61))
        for c in cats_of[p]:
            current[(p, "commission", c)] = row(
                p, "commission", c, comm[c] * pf * rng.uniform(0.9, 1.1), None, ann, eff
            )
            current[(p, "deposit", c)] = row(
                p, "deposit", c, None, round(dep[c] * rng.uniform(0.7, 1.3), -2), ann, eff
            )
        row(
            p,
            "technical_service",
            None,
            None,
            float(rng.choice([3000, 6000, 10000, 30000])),
            ann,
            eff,
        )
        if rng.random() < 0.6:
            row(p, "promotion", None, rng.uniform(0.5, 3.0), None, ann, eff)
    # lawful look-alikes among the historical rows: the dearest category on a platform and
    # the largest ordinary deposit
    for p in rng.permutation(platforms)[:2]:
        cands = [current[(str(p), "commission", c)] for c in cats_of[str(p)]]
        if len(cands) >= 2:
            max(cands, key=lambda r: r["rate_pct"])["tag"] = "la:category_differentiated"
    deposits = [current[k] for k in sorted(current) if k[1] == "deposit"]
    if deposits:
        max(deposits, key=lambda r: r["amount_cny"])["tag"] = "la:normal_deposit"

    days = world.days

    def when(lo_notice: int, hi_notice: int, eff_from: int | None = None) -> tuple[int, int]:
        notice = int(rng.integers(lo_notice, hi_notice + 1))
        if eff_from is not None:
            return eff_from - notice, eff_from
        ann = int(rng.integers(-20, max(days - 10, -19)))
        return ann, ann + notice

    slots = [k for k in sorted(current) if k[0] not in (roles.fee_hike or ())]
    slots = [slots[i] for i in rng.permutation(len(slots))]
    n_each = 1 + int(world.scale.platforms >= 10)

    def take(ftype: str) -> tuple[str, str, str] | None:
        for i, k in enumerate(slots):
            if k[1] == ftype:
                return slots.pop(i)
        return None

    def change(
        k: tuple[str, str, str],
        factor: float,
        notice: tuple[int, int],
        tag: str,
        eff_from: int | None = None,
    ) -> None:
        old = current[k]
        ann, eff = when(*notice, eff_from=eff_from)
        if old["rate_pct"] is not None:
            row(k[0], k[1], k[2], old["rate_pct"] * factor, None, ann, eff, tag, factor=factor)
        else:
            row(
                k[0],
                k[1],
                k[2],
                None,
                round(old["amount_cny"] * factor, -2),
                ann,
                eff,
                tag,
                factor=factor,
            )

    if roles.fee_hike:
        raiser = roles.fee_hike[0]
        f = float(rng.uniform(1.1, 1.3))
        for c in cats_of[raiser]:
            change(
                (raiser, "commission", c),
                f,
                (30, 45),
                "la:modest_increase",
                eff_from=roles.fee_hike_day,
            )
    if world.violations:
        for _ in range(n_each):
            k = take("commission")
            if k:
                change(k, 1 + float(rng.uniform(0.4, 1.5)), (10, 45), "v:excessive_increase")
            k = take("commission")
            if k:
                change(k, 1 + float(rng.uniform(0.05, 0.35)), (0, 5), "v:short_notice")
            k = take("deposit")
            if k:
                ann, eff = when(14, 45)
                base = dep[k[2]]
                if rng.random() < 0.5:
                    ratio = float(rng.uniform(8, 30))
                    row(
                        k[0],
                        "deposit",
                        k[2],
                        None,
                        round(base * ratio, -2),
                        ann,
                        eff,
                        "v:disguised_deposit",
                        factor=ratio,
                    )
                else:
                    rate = float(rng.uniform(1.0, 5.0))
                    row(
                        k[0],
                        "deposit",
                        k[2],
                        rate,
                        None,
                        ann,
                        eff,
                        "v:disguised_deposit",
                        factor=rate,
                    )
            k = take("commission")
            if k:
                ann, eff = when(20, 45)
                u = float(rng.uniform(0.2, 1.0))
                sub = str(rng.choice(_SUBGROUPS))
                row(
                    k[0],
                    "commission",
                    f"{k[2]}/{sub}",
                    current[k]["rate_pct"] * (1 + u),
                    None,
                    ann,
                    eff,
                    "v:discriminatory",
                    factor=1 + u,
                )
    for _ in range(n_each + 1):
        k = take("commission")
        if k:
            change(k, float(rng.uniform(1.05, 1.3)), (30, 60), "la:modest_increase")
        k = take("commission")
        if k:
            change(k, float(rng.uniform(0.6, 0.9)), (7, 25), "la:reduction")
    k = take("deposit")
    if k:
        change(k, float(rng.uniform(1.05, 1.3)), (30, 60), "la:modest_increase")

    df = pd.DataFrame(rows)
    df["tie"] = rng.random(len(df))
    df = df.sort_values(["platform_id", "ann", "eff", "tie"], kind="stable").reset_index(drop=True)
    df["fee_id"] = df.groupby("platform_id").cumcount().map(lambda i: f"{i + 1:04d}")
    df["fee_id"] = "fee-" + df["platform_id"] + "-" + df["fee_id"]
    df["announced_on"] = day_dates(world, df["ann"].to_numpy())
    df["effective_from"] = day_dates(world, df["eff"].to_numpy())
    for r in df.itertuples():
        tag = str(r.tag)
        if tag.startswith("v:"):
            kind = tag[2:]
            factor = float(r.factor)
            notice = int(r.eff - r.ann)
            strength = {
                "excessive_increase": factor - 1,
                "short_notice": (NOTICE_DAYS - notice) / NOTICE_DAYS,
                "disguised_deposit": min(1.0, factor / 30),
                "discriminatory": factor - 1,
            }[kind]
            truth.add(
                "conduct.unfair_fee_change",
                "fee",
                str(r.fee_id),
                platform_id=str(r.platform_id),
                strength=round(float(strength), 3),
                note=f"{kind}; factor={factor:.2f}; notice_days={notice}",
            )
        elif tag.startswith("la:"):
            truth.lookalike(
                "conduct.unfair_fee_change",
                "fee",
                str(r.fee_id),
                platform_id=str(r.platform_id),
                note=tag[3:],
            )
    return df[
        [
            "fee_id",
            "platform_id",
            "fee_type",
            "merchant_category",
            "rate_pct",
            "amount_cny",
            "announced_on",
            "effective_from",
        ]
    ]


# -- rule changes -----------------------------------------------------------------------------

_RULE_TITLES = [
    "《平台服务协议》修订",
    "《商家入驻规则》调整",
    "《商品发布规范》更新",
    "《交易纠纷处理规则》修订",
    "《营销活动规则》调整",
    "《店铺评分规则》更新",
    "《保证金管理规范》修订",
    "《搜索排序规则》说明更新",
    "《违规处理规则》修订",
    "《退换货规则》调整",
    "《隐私政策》更新",
    "《直播营销规则》修订",
    "《物流服务规范》调整",
    "《信用评价规则》修订",
]


def _rule_changes(world: World, truth: GroundTruth) -> pd.DataFrame:
    rng = world.rng_for("conduct.rule_changes")
    platforms = sorted(world.frame("platforms")["platform_id"].astype(str))
    days = world.days
    rows: list[dict[str, Any]] = []

    def add(p: str, notice: int, consult: bool, tag: str) -> None:
        ann = int(rng.integers(-10, days))
        cons = ann - int(rng.integers(7, 31)) if consult else None
        rows.append(
            {
                "platform_id": p,
                "title": str(rng.choice(_RULE_TITLES)),
                "ann": ann,
                "eff": ann + notice,
                "cons": cons,
                "tag": tag,
                "notice": notice,
            }
        )

    for p in platforms:
        for _ in range(1 + rng.poisson(days / 20)):
            add(p, NOTICE_DAYS + int(rng.gamma(1.5, 8.0)), True, "")
    for notice in (NOTICE_DAYS, NOTICE_DAYS + 1, 30):
        add(str(rng.choice(platforms)), notice, True, "la")
    if world.violations:
        n = max(3, len(platforms) // 2)
        kinds = [
            "short",
            "no_consultation",
            "both",
            *rng.choice(["short", "no_consultation", "both"], size=max(0, n - 3)),
        ]
        six_done = False
        for kind in kinds:
            p = str(rng.choice(platforms))
            if kind == "no_consultation":
                add(p, NOTICE_DAYS + int(rng.integers(0, 24)), False, "v:no_consultation")
            else:
                notice = NOTICE_DAYS - 1 if not six_done else int(rng.integers(0, NOTICE_DAYS))
                six_done = True
                add(p, notice, kind != "both", f"v:{kind}")
    df = pd.DataFrame(rows)
    df["tie"] = rng.random(len(df))
    df = df.sort_values(["platform_id", "ann", "tie"], kind="stable").reset_index(drop=True)
    df["change_id"] = (
        "rc-"
        + df["platform_id"]
        + "-"
        + df.groupby("platform_id").cumcount().map(lambda i: f"{i + 1:04d}")
    )
    for r in df.itertuples():
        tag = str(r.tag)
        if tag.startswith("v:"):
            notice = int(r.notice)
            strength = max(
                0.5 if r.cons is None or pd.isna(r.cons) else 0.0,
                max(0, NOTICE_DAYS - notice) / NOTICE_DAYS,
            )
            truth.add(
                "conduct.rule_change_notice",
                "rule_change",
                str(r.change_id),
                platform_id=str(r.platform_id),
                strength=round(strength, 3),
                note=f"{tag[2:]}; notice_days={notice}",
            )
        elif tag == "la":
            truth.lookalike(
                "conduct.rule_change_notice",
                "rule_change",
                str(r.change_id),
                platform_id=str(r.platform_id),
                note=f"notice_days={int(r.notice)} with consultation",
            )
    cons = df["cons"].astype(object)
    return pd.DataFrame(
        {
            "change_id": df["change_id"],
            "platform_id": df["platform_id"],
            "title": df["title"],
            "announced_on": day_dates(world, df["ann"].to_numpy()),
            "effective_on": day_dates(world, df["eff"].to_numpy()),
            "consultation_from": [
                None if c is None or pd.isna(c) else world.start + timedelta(days=int(c))
                for c in cons
            ],
        }
    )


# -- search results -------------------------------------------------------------------------


def _search(
    world: World, roles: ConductRoles, ev: _Events, out: TableWriter, truth: GroundTruth
) -> None:
    rng = world.rng_for("conduct.search")
    sig = sku_signals(world)
    prod = searchable_products(world)[
        ["sku_id", "platform_id", "merchant_id", "category", "self_operated"]
    ]
    offers = prod.merge(sig, on="sku_id", how="left")
    win = merchant_windows(world).set_index("merchant_id")
    offers["open_day"] = win["open_day"].reindex(offers["merchant_id"]).to_numpy()
    offers["close_day"] = win["close_day"].reindex(offers["merchant_id"]).to_numpy()
    pen = offers["merchant_id"].map(ev.penalty)
    offers["pen_day"] = [p[0] if isinstance(p, tuple) else _FAR for p in pen]
    offers["pen_loss"] = [p[1] if isinstance(p, tuple) else 0.0 for p in pen]
    offers["self_operated"] = offers["self_operated"].astype(bool)
    users = world.users
    total_rows = max(40_000, int(world.scale.quotes * 0.4))
    counts = offers.groupby("platform_id").size()
    day_w = weekday_weights(world, rng, weekend=1.2)
    buffer: list[pd.DataFrame] = []
    buffered = 0
    for plat in sorted(counts.index.astype(str)):
        po = offers[offers["platform_id"] == plat].reset_index(drop=True)
        cat_n = po.groupby("category").size()
        cat_w = po.groupby("category")["popularity"].sum() ** 0.7
        per_query = float((np.minimum(cat_n, SEARCH_POSITIONS) * cat_w).sum() / cat_w.sum())
        nq = max(50, int(total_rows * counts[plat] / counts.sum() / per_query))
        w = rng.uniform(0.7, 1.3, size=3)
        score = (
            w[0] * (po["rating"].to_numpy(dtype=float) - 4.0) / 0.5
            + w[1] * np.log(po["popularity"].to_numpy(dtype=float))
            - w[2] * np.log(po["price_rel"].to_numpy(dtype=float))
        )
        boost = roles.self_pref.get(plat)
        if boost is not None:
            score = score + np.log1p(boost) * po["self_operated"].to_numpy()
        spons_rate = float(rng.uniform(0.15, 0.45))
        merchants = np.sort(po["merchant_id"].unique())
        m_logw = pd.Series(rng.normal(0.0, 1.0, len(merchants)), index=merchants)
        spons_logw = m_logw.reindex(po["merchant_id"]).to_numpy()
        if plat in roles.ads_lookalike:
            spons_logw = spons_logw + np.log(rng.uniform(5, 15)) * po["self_operated"].to_numpy()
        cats = cat_w.index.to_numpy()
        q_cat = rng.choice(len(cats), size=nq, p=(cat_w / cat_w.sum()).to_numpy())
        q_day = rng.choice(world.days, size=nq, p=day_w / day_w.sum())
        q_sec = local_seconds(rng, nq)
        order = np.lexsort((q_sec, q_day))
        q_cat, q_day, q_sec = q_cat[order], q_day[order], q_sec[order]
        pu = users.loc[users["platform_id"] == plat, "user_id"].to_numpy()
        q_user = pu[rng.integers(0, len(pu), nq)] if len(pu) else np.full(nq, None, dtype=object)
        q_ids = np.array([f"{plat}-q{i + 1:08d}" for i in range(nq)], dtype=object)
        q_ts = utc_ts(world, q_day, q_sec)
        for ci, cat in enumerate(cats):
            qs = np.flatnonzero(q_cat == ci)
            idx = np.flatnonzero(po["category"].to_numpy() == cat)
            if not len(qs) or not len(idx):
                continue
            n = len(idx)
            chunk = max(1, 1_000_000 // n)
            for c0 in range(0, len(qs), chunk):
                qq = qs[c0 : c0 + chunk]
                d = q_day[qq][:, None]
                avail = (d >= po["open_day"].to_numpy()[idx]) & (
                    d < po["close_day"].to_numpy()[idx]
                )
                s = score[idx][None, :] + rng.gumbel(0.0, 1.0, size=(len(qq), n))
                loss = po["pen_loss"].to_numpy()[idx]
                if loss.any():  # demoted offers: shielded from some searches, lower in the rest
                    hit = d >= po["pen_day"].to_numpy()[idx]
                    avail &= ~(hit & (rng.random((len(qq), n)) < loss))
                    s = s + np.log1p(-loss / 2) * hit
                s[~avail] = -np.inf
                # a labelled sponsored slot in some queries
                has_sp = (rng.random(len(qq)) < spons_rate) & avail.any(axis=1)
                sw = spons_logw[idx][None, :] + rng.gumbel(0.0, 1.0, size=(len(qq), n))
                sw[~avail] = -np.inf
                sp = np.argmax(sw, axis=1)
                rows_sp = np.flatnonzero(has_sp)
                s[rows_sp, sp[rows_sp]] = -np.inf
                k = min(SEARCH_POSITIONS, n)
                top = (
                    np.argpartition(-s, k - 1, axis=1)[:, :k]
                    if k < n
                    else np.tile(np.arange(n), (len(qq), 1))
                )
                ts_ = np.take_along_axis(s, top, axis=1)
                o = np.argsort(-ts_, axis=1, kind="stable")
                top = np.take_along_axis(top, o, axis=1)
                valid = np.isfinite(np.take_along_axis(ts_, o, axis=1))
                n_org = valid.sum(axis=1)
                sp_pos = np.minimum(
                    rng.choice([1, 2, 3], size=len(qq), p=[0.5, 0.3, 0.2]), n_org + 1
                )
                rank = np.cumsum(valid, axis=1)
                pos = rank + (has_sp[:, None] & (rank >= sp_pos[:, None]))
                keep = valid & (pos <= SEARCH_POSITIONS)
                qi, ki = np.nonzero(keep)
                org_q = qq[qi]
                org_off = idx[top[qi, ki]]
                org_pos = pos[qi, ki]
                sp_q = qq[rows_sp]
                sp_off = idx[sp[rows_sp]]
                q_all = np.concatenate([org_q, sp_q])
                off_all = np.concatenate([org_off, sp_off])
                frame = pd.DataFrame(
                    {
                        "query_id": q_ids[q_all],
                        "ts": q_ts[q_all],
                        "platform_id": plat,
                        "query": str(cat),
                        "position": np.concatenate([org_pos, sp_pos[rows_sp]]).astype("int64"),
                        "sku_id": po["sku_id"].to_numpy()[off_all],
                        "merchant_id": po["merchant_id"].to_numpy()[off_all],
                        "sponsored": np.concatenate(
                            [np.zeros(len(org_q), bool), np.ones(len(sp_q), bool)]
                        ),
                        "user_id": q_user[q_all],
                    }
                )
                buffer.append(frame)
                buffered += len(frame)
                if buffered >= PART_ROWS:
                    _flush_search(out, buffer)
                    buffer, buffered = [], 0
        if boost is not None:
            truth.add(
                "conduct.self_preferencing",
                "platform",
                plat,
                platform_id=plat,
                strength=round(boost, 3),
                note=f"self-operated organic exposure weight x{1 + boost:.2f}",
            )
        elif plat in roles.quality_lookalike:
            truth.lookalike(
                "conduct.self_preferencing",
                "platform",
                plat,
                platform_id=plat,
                note="self-operated offers rank high on real quality",
            )
        elif plat in roles.ads_lookalike:
            truth.lookalike(
                "conduct.self_preferencing",
                "platform",
                plat,
                platform_id=plat,
                note="self-operated stores buy labelled sponsored slots",
            )
    _flush_search(out, buffer)


def _flush_search(out: TableWriter, buffer: list[pd.DataFrame]) -> None:
    if not buffer:
        return
    frame = pd.concat(buffer, ignore_index=True).sort_values(
        ["ts", "query_id", "position"], kind="stable"
    )
    for i in range(0, len(frame), PART_ROWS):
        out.write("search_results", frame.iloc[i : i + PART_ROWS])


# -- entry point ------------------------------------------------------------------------------


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write the conduct tables and plant the conduct families (see the module docstring)."""
    roles = conduct_roles(world)
    sku_signals(world, out)
    ev = _Events(world)
    if world.violations:
        _exclusive_dealing(world, roles, ev, truth)
    _exclusive_lookalikes(world, roles, ev, truth)
    _background_events(world, ev)
    _apply_closures(world, ev.closures)
    events = ev.frame()
    for i in range(0, len(events), PART_ROWS):
        out.write("merchant_events", events.iloc[i : i + PART_ROWS])
    out.write("fee_schedules", _fees(world, roles, truth))
    out.write("rule_changes", _rule_changes(world, truth))
    _search(world, roles, ev, out, truth)
    log.info(
        "conduct: %d merchant events, %d closures planted, search rows %d",
        len(events),
        len(ev.closures),
        out.rows.get("search_results", 0),
    )
