"""Price quotes, orders, and the four pricing families of the synthetic market.

``plant(world, out, truth)`` writes ``price_quotes`` and ``orders`` in chunks (at most
2 M quotes each, one part file per chunk, drawn from ``world.rng_for(f"quotes:{i}")``)
so that 10^8 quotes never sit in memory, adds the ``emergencies`` reference rows, and
records planted violations and lawful look-alikes.

Data semantics (what detectors may rely on)
-------------------------------------------
Every SKU has a daily price path ``P[sku, day]`` (days are Asia/Shanghai calendar days
from the start of the period): its regular price with independent small price changes,
category-wide cost shocks, merchants' emergency price rises, cartel moves, promotions.

* ``list_price`` — the offer's public price at that moment for that user's context:
  ``P[sku, day]`` × regional factor (SKUs with regional list prices: hotel rooms, rides,
  delivered meals; keyed by the user's city) × time-of-day factor (rides at peak hours
  07-10 and 17-20 local time), rounded to 0.01. During a promotion ``P`` is the promotion
  price; after a cost shock it includes the shock.
* ``coupon_cny`` — the coupon applied to this quote: a coupon open to all (shown on a
  random 10-20 % of the quotes of couponed SKUs), or a new-user coupon (account tenure
  < 30 days, during the SKU's time-limited new-customer campaign); the larger when both;
  null when none.
* ``member_price`` — true iff the quote shows the SKU's published member price (SKUs
  with member pricing, to paying members): then the pre-coupon price is
  ``round(list_price × member_factor, 2)``.
* ``quoted_price`` — what this user is asked to pay after all discounts:
  ``round(list_price × (1 + personal_markup), 2)`` (or the member price of that), minus the
  coupon. ``personal_markup`` is 0 except on SKUs with planted discrimination, so for every
  other quote ``quoted_price + coupon_cny`` equals ``list_price`` or the member price.
* ``claimed_original_price`` — the struck-through "was" price; shown only on quotes during
  a promotion, null otherwise.
* ``user_*`` — the account the quote was shown to: tenure on that platform on the quote's
  day, paying membership on that platform, device, region.
* ``orders`` — 5-10 % of quotes (more for low-volume SKUs, so that each SKU has orders on
  most days) convert a few minutes later: ``unit_price`` is the offer's price for that
  buyer before coupons and member discounts (``round(list_price × (1 + markup), 2)``),
  ``paid_cny`` = quantity × quoted price, ``commission_cny`` the platform's commission
  (none for self-operated stores), ``status`` mostly ``paid``.

Planted families (only when ``world.violations``) and their look-alikes
-----------------------------------------------------------------------
``pricing.personalized_discrimination`` (subject ``sku``): 4-6 % of SKUs (at least 5)
    carry a hidden markup, log-uniform in 3-25 %, on a random 60-100 % of the quotes of a
    targeted group (account tenure ≥ 365 days, iOS users, members on SKUs without a
    published member price, or users of one city). ``list_price`` stays the public price.
    Look-alikes: published member prices, coupons open to all, new-user coupons, regional
    list prices and peak-hour pricing, alone or combined.
``pricing.fictitious_original_price`` (subject ``sku``): 3-5 % of SKUs run a 3-10 day
    promotion whose claimed original price exceeds the lowest paid ``unit_price`` in the
    7 local days before it starts: (a) an invented price 20-100 % above the regular price,
    (b) the price raised 15-60 % for 2-5 days just before the promotion and the raised
    price claimed, (c) a claim 3-10 % above the regular price. Look-alikes (about 15 %
    of SKUs): genuine promotions claiming the regular price of the 7 days before; a price
    raised 10-20 days before the promotion and held, then claimed; a temporary cut that
    ended 9-14 days before the promotion. The truth is checked against the generated
    paid orders (a planted case without a paid order below the claim in the window is
    lawful by that rule and recorded as a look-alike instead).
``pricing.price_gouging`` (subject ``sku``): 1-3 ``emergencies`` (a city or the
    province, with concerned categories); 20-50 % of the merchants located in the region
    that sell concerned goods raise those SKUs 20-150 % (log-uniform) during the
    emergency. Look-alikes: a category-wide cost shock (+15-30 %, every merchant
    everywhere, during the emergency), moderate rises (8-35 %) by a minority (at most a
    third) of each concerned category's merchants outside the region, and rises of
    non-concerned goods in the region. Offers an emergency concerns carry no other
    planted price path (no cartel, no promotion) and no independent price change from
    two weeks before it to a few days after it: a rise of their price during the
    emergency would be gouging as well, whatever the truth says.
``pricing.collusion`` (subject ``market`` = product category): in one or two commodity
    categories a group of 4-10 merchants on at least two platforms, from a date on,
    converge to a common price (dispersion falls from the category's natural level to a
    coefficient of variation of 1-4 %) and change prices in lockstep (leader first, the
    others 0-3 days later by similar amounts; moves at least 5 days apart). Cartels are
    planted only on offers no emergency concerns. Look-alikes: a category with a common cost
    shock (one joint jump, dispersion unchanged) and categories of standardised goods
    with naturally low, stable dispersion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fairwatch.synth.core import GroundTruth, TableWriter, World
from fairwatch.synth.world import local_midnight_utc

log = logging.getLogger(__name__)

CHUNK_ROWS = 2_000_000
POPULARITY_FLOOR = 0.45  # share of quotes spread evenly over SKUs
MIN_ORDERS_PER_DAY = 1.2
MOVE_GAP = 5  # days between two lockstep moves of a cartel
MIN_ORDERS_PER_DAY_PROMOTED = 3.0  # SKUs with promotions: the 7-day window needs transactions
HOUR_WEIGHTS = np.array(
    [
        0.6,
        0.35,
        0.2,
        0.15,
        0.15,
        0.25,
        0.6,
        1.2,
        1.8,
        2.0,
        2.2,
        2.6,
        3.0,
        2.6,
        2.3,
        2.2,
        2.3,
        2.6,
        2.9,
        3.4,
        3.8,
        3.9,
        3.2,
        1.8,
    ]
)
PEAK_HOURS = np.zeros(24, dtype=bool)
PEAK_HOURS[[7, 8, 9, 17, 18, 19]] = True
COMMODITIES = (
    "groceries",
    "pork",
    "vegetables",
    "fruit",
    "cooking_oil",
    "rice",
    "masks",
    "medicine",
    "baby_formula",
)
EMERGENCY_SETS = (
    ("masks", "medicine"),
    ("vegetables", "fruit"),
    ("masks", "medicine", "vegetables"),
    ("medicine",),
    ("vegetables", "groceries", "pork"),
)
EMERGENCY_TITLES = {
    "masks": "疫情防控",
    "medicine": "疫情防控",
    "vegetables": "台风灾害",
    "fruit": "台风灾害",
    "groceries": "洪涝灾害",
    "pork": "洪涝灾害",
}
MULTI_UNIT = ("groceries", "pork", "vegetables", "fruit", "food_delivery_meal")
CITY_NAMES = {
    "3301": "杭州市",
    "3302": "宁波市",
    "3303": "温州市",
    "3304": "嘉兴市",
    "3305": "湖州市",
    "3306": "绍兴市",
    "3307": "金华市",
    "3308": "衢州市",
    "3309": "舟山市",
    "3310": "台州市",
    "3311": "丽水市",
    "3300": "浙江省",
}

DISCRIMINATION = "pricing.personalized_discrimination"
FICTITIOUS = "pricing.fictitious_original_price"
GOUGING = "pricing.price_gouging"
COLLUSION = "pricing.collusion"

T_NONE, T_TENURE, T_IOS, T_MEMBER, T_CITY = 0, 1, 2, 3, 4
TARGET_NAMES = {
    T_TENURE: "accounts with tenure >= 365 days",
    T_IOS: "iOS users",
    T_MEMBER: "members (no published member price)",
    T_CITY: "users of one city",
}


@dataclass
class Episode:
    """A promotion with a claimed original price."""

    sku: int
    start: int  # first promotion day
    length: int
    claim: float
    kind: str
    planted: bool
    strength: float = 0.0
    note: str = ""


@dataclass
class Emergency:
    """A declared public emergency (days are offsets from the start of the period)."""

    emergency_id: str
    declared: int
    lifted: int | None
    region_code: str
    categories: list[str]
    title: str

    def row(self, start: date) -> dict[str, object]:
        return {
            "emergency_id": self.emergency_id,
            "declared_on": start + timedelta(days=self.declared),
            "lifted_on": None if self.lifted is None else start + timedelta(days=self.lifted),
            "region_code": self.region_code,
            "categories": list(self.categories),
            "title": self.title,
        }


@dataclass
class Plan:
    """Per-SKU pricing state: everything the quote generator needs."""

    n_sku: int
    days: int
    price: np.ndarray  # (S, D) daily price level, yuan
    claim: np.ndarray  # (S, D) claimed original price, NaN = none
    regional: np.ndarray  # (S, C) factor by user city
    peak: np.ndarray  # (S,) peak-hour factor
    member_factor: np.ndarray  # (S,) NaN = no published member price
    open_p: np.ndarray
    open_amt: np.ndarray
    nu_amt: np.ndarray  # NaN = no new-user campaign
    nu_from: np.ndarray
    nu_to: np.ndarray
    markup: np.ndarray  # 0 = none
    target: np.ndarray  # T_* code
    target_city: np.ndarray
    markup_frac: np.ndarray
    popularity: np.ndarray
    conversion: np.ndarray
    episodes: list[Episode] = field(default_factory=list)


@dataclass
class Context:
    """Arrays the chunk generator indexes into."""

    sku_ids: pa.Array
    sku_platform: np.ndarray
    sku_merchant: np.ndarray
    sku_qty_multi: np.ndarray
    sku_commission: np.ndarray
    platform_ids: pa.Array
    merchant_ids: pa.Array
    acc_cum: np.ndarray  # segment-wise cumulative activity weights, platform k in [k, k+1)
    acc_user: np.ndarray  # account -> user index
    acc_tenure: np.ndarray
    acc_member: np.ndarray
    acc_city: np.ndarray
    acc_device: np.ndarray  # codes into DEVICES
    acc_region: np.ndarray  # codes into regions
    user_ids: pa.Array
    regions: pa.Array
    devices: pa.Array
    day_cum: np.ndarray
    start_utc_s: int
    hour_p: np.ndarray


# --------------------------------------------------------------------------- planning


def _loguniform(
    rng: np.random.Generator, lo: float, hi: float, size: int | None = None
) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def _in_region(codes: np.ndarray, region: str) -> np.ndarray:
    """Which 6-digit codes a region code covers (province, city or county)."""
    codes = codes.astype(str)
    if region.endswith("0000"):
        return np.char.startswith(codes, region[:2])
    if region.endswith("00"):
        return np.char.startswith(codes, region[:4])
    return codes == region


def _ramp(days: int, begin: int, ramp: int, end: int | None, fall: int, size: float) -> np.ndarray:
    """Log factor: 0 before ``begin``, log(1+size) after ``ramp`` days, 0 again after ``end``."""
    t = np.arange(days, dtype=float)
    up = np.clip((t - begin + 1) / max(ramp, 1), 0, 1)
    if end is not None:
        down = np.clip(1 - (t - end + 1) / max(fall, 1), 0, 1)
        up = np.minimum(up, down)
    return up * np.log1p(size)


class Planner:
    def __init__(self, world: World, truth: GroundTruth) -> None:
        self.world = world
        self.truth = truth
        self.rng = world.rng_for("pricing:plan")
        products = world.frame("products").reset_index(drop=True)
        merchants = world.frame("merchants").set_index("merchant_id")
        prices = world.sku_prices.set_index("sku_id")["base_price"]
        self.products = products
        self.S = len(products)
        self.D = world.days
        self.cat = products["category"].to_numpy().astype(str)
        self.merchant = products["merchant_id"].to_numpy().astype(str)
        self.platform = products["platform_id"].to_numpy().astype(str)
        self.m_region = merchants.loc[self.merchant, "region_code"].to_numpy().astype(str)
        self.base = prices.loc[products["sku_id"]].to_numpy().astype(float)
        self.sku_id = products["sku_id"].to_numpy().astype(str)
        self.regional_cats = set(world.info.get("regional_categories", ()))
        self.peak_cats = set(world.info.get("peak_categories", ()))
        self.standardised = list(world.info.get("standardised_categories", ()))
        self.busy = np.zeros(self.S, dtype=bool)  # SKUs with a planted or special price path
        self.log_steps = np.zeros(
            (self.S, self.D)
        )  # background log price changes (by day of change)
        self.keep_steps = np.ones((self.S, self.D), dtype=bool)
        self.log_extra = np.zeros((self.S, self.D))  # shocks, gouging, promotions (log factors)
        self.override: dict[int, np.ndarray] = {}  # full price paths (collusion)
        self.emergencies: list[Emergency] = []
        self.shock_cats: list[str] = []
        self.lookalikes: list[tuple[str, str, str, str]] = []  # (family, type, id, note)
        self.violations: list[tuple[str, str, str, float, str]] = []
        self.gouged: set[int] = set()
        # SKUs some emergency concerns (concerned goods of merchants in its region): no
        # other planted price path (cartel, promotion) is put on them, because any rise of
        # their price during the emergency would be price gouging as well.
        self.concerned_any = np.zeros(self.S, dtype=bool)

    # ----- background
    def background(self) -> None:
        rng = self.rng
        rate = rng.uniform(0.3, 1.5, self.S) * self.D / 30
        counts = rng.poisson(rate)
        sku = np.repeat(np.arange(self.S), counts)
        day = rng.integers(1, self.D, len(sku))
        size = rng.normal(0.0, 0.04, len(sku))
        std = np.isin(self.cat[sku], self.standardised)
        size[std] *= 0.3
        np.add.at(self.log_steps, (sku, day), size)

    # ----- emergencies, gouging, cost shocks
    def _concerned(self, emergency: Emergency) -> np.ndarray:
        """SKUs an emergency concerns: concerned goods of merchants located in its region."""
        return _in_region(self.m_region, emergency.region_code) & np.isin(
            self.cat, emergency.categories
        )

    def _merchants(self, mask: np.ndarray) -> list[str]:
        return sorted(set(self.merchant[mask]))

    def emergencies_and_shocks(self) -> None:
        rng = self.rng
        D = self.D
        options = [
            *sorted({c[:4] + "00" for c in self.world.info["zhejiang_districts"]}),
            self.world.home_province,
        ]
        # The emergencies: concerned goods and a region where two or more merchants sell them.
        for k in range(int(rng.integers(1, 4))):
            w = np.zeros(len(options))
            for attempt in range(12):
                cats = list(EMERGENCY_SETS[int(rng.integers(len(EMERGENCY_SETS)))])
                concerned = np.isin(self.cat, cats)
                counts = np.array(
                    [
                        len(self._merchants(_in_region(self.m_region, r) & concerned))
                        for r in options
                    ],
                    dtype=float,
                )
                w = np.where(counts >= (2 if attempt < 8 else 1), counts, 0.0)
                w[[options.index(e.region_code) for e in self.emergencies]] = 0.0
                if w.sum() > 0:
                    break
            if w.sum() == 0:
                continue
            w[-1] *= 0.4  # a province-wide emergency is rarer
            region = options[int(rng.choice(len(options), p=w / w.sum()))]
            declared = int(rng.integers(10, max(11, D - 20)))
            lifted: int | None = declared + int(rng.integers(14, 41))
            if lifted is not None and lifted >= D:
                lifted = None
            place = CITY_NAMES.get(region[:4], "") if region.endswith("00") else region
            title = f"{place}{EMERGENCY_TITLES[cats[0]]}突发事件应急响应"
            self.emergencies.append(
                Emergency(f"EMG{k + 1:03d}", declared, lifted, region, cats, title)
            )
        concerned_any = np.zeros(self.S, dtype=bool)
        in_any_region = np.zeros(self.S, dtype=bool)
        for e in self.emergencies:
            concerned_any |= self._concerned(e)
            in_any_region |= _in_region(self.m_region, e.region_code)
            # Concerned offers change price during an emergency only as planted (gouging,
            # cost shocks): an independent rise there would be gouging as well.
            hi = self.D if e.lifted is None else min(self.D, e.lifted + 6)
            self.keep_steps[np.ix_(self._concerned(e), np.arange(max(0, e.declared - 14), hi))] = (
                False
            )
        self.concerned_any = concerned_any
        used: set[str] = set()

        def rise(
            m: str, mask: np.ndarray, size: float, declared: int, lifted: int | None, apply: bool
        ) -> np.ndarray:
            used.add(m)
            skus = np.flatnonzero((self.merchant == m) & mask & ~self.busy)
            path = _ramp(
                D,
                declared + int(rng.integers(0, 5)),
                int(rng.integers(1, 4)),
                lifted,
                int(rng.integers(2, 6)),
                size,
            )
            for s in skus:
                if apply:
                    self.log_extra[s] += path * float(np.exp(rng.normal(0, 0.03)))
                self._quiet(int(s), declared - 10, (D if lifted is None else lifted) + 6)
                self.busy[s] = True
            return skus

        raised_outside: dict[str, int] = {}
        for e in self.emergencies:
            eid, region, declared, lifted = e.emergency_id, e.region_code, e.declared, e.lifted
            concerned = self._concerned(e)
            inside = _in_region(self.m_region, region)
            # Planted: some in-region merchants selling concerned goods raise those prices.
            cand = [m for m in self._merchants(concerned & ~self.busy) if m not in used]
            n_pick = max(min(2, len(cand)), round(len(cand) * rng.uniform(0.2, 0.5)))
            for m in rng.choice(cand, min(n_pick, len(cand)), replace=False) if cand else []:
                g = float(_loguniform(rng, 0.2, 1.5))
                for s in rise(str(m), concerned, g, declared, lifted, self.world.violations):
                    self.gouged.add(int(s))
                    self.violations.append(
                        (
                            GOUGING,
                            self.sku_id[s],
                            self.platform[s],
                            g,
                            f"emergency {eid} ({region}): +{g:.0%} during the emergency",
                        )
                    )
            # Look-alikes: moderate rises of the same goods by merchants outside every region
            # concerned, and rises of goods no emergency concerns by merchants in the region.
            # The outside risers are a minority (at most a third) of each concerned
            # category's sellers outside: the same goods elsewhere keep their general price
            # level, the benchmark a rise in the region is judged against.
            # The cap holds across emergencies: two emergencies concerning the same goods
            # must not together make the risers the majority outside.
            for cat in e.categories:
                same_goods = (self.cat == cat) & ~concerned_any
                outside = [m for m in self._merchants(same_goods & ~self.busy) if m not in used]
                already = raised_outside.get(cat, 0)
                allowed = len(self._merchants(same_goods)) // 3 - already
                n_out = max(0, min(allowed, len(outside) // 3, max(2, len(outside) // 6)))
                raised_outside[cat] = already + n_out
                for m in rng.choice(outside, n_out, replace=False) if n_out else []:
                    g = float(rng.uniform(0.08, 0.35))
                    for s in rise(str(m), same_goods, g, declared, lifted, True):
                        self.lookalikes.append(
                            (
                                GOUGING,
                                "sku",
                                self.sku_id[s],
                                f"merchant outside the region of {eid} raised +{g:.0%}",
                            )
                        )
            other_goods = inside & ~concerned_any & ~np.isin(self.cat, list(self.regional_cats))
            other = [m for m in self._merchants(other_goods & ~self.busy) if m not in used]
            for m in (
                rng.choice(other, min(len(other), max(2, len(other) // 8)), replace=False)
                if other
                else []
            ):
                g = float(rng.uniform(0.15, 0.6))
                for s in rise(str(m), other_goods, g, declared, lifted, True):
                    self.lookalikes.append(
                        (
                            GOUGING,
                            "sku",
                            self.sku_id[s],
                            f"non-concerned goods in the region of {eid} raised +{g:.0%}",
                        )
                    )
        # Category-wide cost shocks during the first emergency: pork, sometimes a concerned
        # category, sometimes another commodity (only categories sold by 3+ merchants).
        first = self.emergencies[0] if self.emergencies else None
        sellers = pd.Series(self.merchant).groupby(self.cat).nunique()
        pool = [c for c in COMMODITIES if c not in self.standardised and sellers.get(c, 0) >= 3]
        shocks = ["pork"] if "pork" in pool else []
        if first is not None and rng.random() < 0.6:
            shocks.append(str(rng.choice(first.categories)))
        if rng.random() < 0.4 and pool:
            shocks.append(str(rng.choice(pool)))
        shocks = [c for c in dict.fromkeys(shocks) if c in pool]
        if not shocks and pool:
            shocks = [str(rng.choice(pool))]
        day0 = first.declared if first is not None else int(rng.integers(10, max(11, D - 10)))
        for cat in shocks:
            size = float(rng.uniform(0.15, 0.30))
            begin = min(D - 2, day0 + int(rng.integers(0, 4)))
            path = _ramp(D, begin, int(rng.integers(1, 4)), None, 1, size)
            skus = np.flatnonzero(self.cat == cat)
            self.log_extra[skus] += path[None, :]
            self.shock_cats.append(cat)
            self.lookalikes.append(
                (COLLUSION, "market", cat, f"common cost shock +{size:.0%}: one joint jump")
            )
            for s in skus:
                if in_any_region[s] and int(s) not in self.gouged:
                    self.lookalikes.append(
                        (
                            GOUGING,
                            "sku",
                            self.sku_id[s],
                            f"category-wide cost shock +{size:.0%} everywhere",
                        )
                    )
        for c in self.standardised:
            if sellers.get(c, 0) >= 3:
                self.lookalikes.append(
                    (COLLUSION, "market", c, "standardised goods: naturally low, stable dispersion")
                )

    # ----- collusion
    def collusion(self) -> None:
        rng = self.rng
        D = self.D
        concerned = {c for e in self.emergencies for c in e.categories}
        pool = [c for c in COMMODITIES if c not in self.standardised and c not in self.shock_cats]
        preferred = [c for c in pool if c not in concerned]
        candidates = []
        for c in [*preferred, *[c for c in pool if c in concerned]]:
            mask = (self.cat == c) & ~self.busy & ~self.concerned_any
            merchants = (
                pd.Series(self.platform[mask], index=self.merchant[mask]).groupby(level=0).first()
            )
            if len(merchants) >= 4 and merchants.nunique() >= 2:
                candidates.append(c)
        n_cat = min(len(candidates), 1 + int(rng.random() < 0.5))
        if not candidates:
            log.warning("no category can host collusion in this market")
            return
        good = [c for c in candidates if c in preferred]
        pick_from = good if len(good) >= n_cat else candidates
        chosen = [str(c) for c in rng.choice(pick_from, n_cat, replace=False)]
        for c in chosen:
            mask = (self.cat == c) & ~self.busy & ~self.concerned_any
            merchants = (
                pd.Series(self.platform[mask], index=self.merchant[mask]).groupby(level=0).first()
            )
            k = min(len(merchants), int(rng.integers(4, 11)))
            for _ in range(20):
                group = list(rng.choice(merchants.index.to_numpy(), k, replace=False))
                if merchants.loc[group].nunique() >= 2:
                    break
            leader = str(group[0])
            start = int(D * rng.uniform(0.3, 0.5))
            ramp = int(rng.integers(2, 7))
            skus = np.flatnonzero(mask & np.isin(self.merchant, group))
            pre = self.base[skus] * np.exp(np.cumsum(self.log_steps[skus], axis=1))[:, start - 1]
            ref = float(np.median(pre)) * rng.uniform(1.02, 1.12)
            sigma_after = float(rng.uniform(0.01, 0.04))
            target = ref * np.exp(rng.normal(0, sigma_after, len(skus)))
            span = np.arange(start + ramp + 1, D - 1)
            # Moves at least MOVE_GAP days apart: with followers up to 3 days behind the
            # leader, closer moves would merge into one.
            grid = span[int(rng.integers(0, MOVE_GAP)) :: MOVE_GAP]
            n_moves = min(len(grid), max(2, int(rng.poisson((D - start - ramp) / 10))))
            moves = (
                np.sort(rng.choice(grid, n_moves, replace=False)) if n_moves else np.zeros(0, int)
            )
            deltas = np.where(rng.random(len(moves)) < 0.7, 1, -1) * rng.uniform(
                0.03, 0.10, len(moves)
            )
            lags = {
                m: (0 if m == leader else int(rng.choice(4, p=[0.2, 0.5, 0.25, 0.05])))
                for m in group
            }
            for j, s in enumerate(skus):
                m = self.merchant[s]
                path_log = np.zeros(D)
                for t, dlt in zip(moves, deltas, strict=True):
                    day = min(D - 1, int(t) + lags[m])
                    path_log[day:] += np.log1p(dlt * (1 + rng.normal(0, 0.1)))
                natural = self.base[s] * np.exp(np.cumsum(self.log_steps[s]))
                after = target[j] * np.exp(path_log)
                w = np.clip((np.arange(D) - start + 1) / ramp, 0, 1)
                full = np.exp((1 - w) * np.log(natural) + w * np.log(after))
                self.override[int(s)] = full
                self.busy[s] = True
            cv_before = float(np.std(pre) / np.mean(pre))
            final = np.array([self.override[int(s)][-1] for s in skus])
            cv_after = float(np.std(final) / np.mean(final))
            strength = max(0.0, 1 - cv_after / max(cv_before, 1e-9))
            members = sorted(str(m) for m in group)
            self.violations.append(
                (
                    COLLUSION,
                    c,
                    "",
                    strength,
                    f"merchants: {','.join(members)}; leader {leader}; from "
                    f"{self.world.start + timedelta(days=start)}; "
                    f"CV {cv_before:.3f} -> {cv_after:.3f}",
                )
            )
            if not self.world.violations:
                for s in skus:
                    self.override.pop(int(s), None)

    # ----- promotions and claimed original prices
    def promotions(self) -> list[Episode]:
        rng = self.rng
        D = self.D
        eligible = np.flatnonzero(
            ~self.busy
            & ~self.concerned_any
            & ~np.isin(self.cat, [*self.regional_cats, *self.peak_cats, *self.shock_cats])
            & ~np.isin(self.cat, [v[1] for v in self.violations if v[0] == COLLUSION])
            & ~np.isin(self.cat, self.standardised)
        )
        rng.shuffle(eligible)
        n_plant = min(len(eligible) // 4, max(4, round(self.S * rng.uniform(0.03, 0.05))))
        n_look = min(len(eligible) - n_plant, max(6, round(self.S * rng.uniform(0.12, 0.18))))
        episodes: list[Episode] = []
        kinds = ["invented", "raise_then_cut", "subtle"]
        for i, s in enumerate(eligible[:n_plant]):
            kind = kinds[i % 3] if i < 3 else str(rng.choice(kinds, p=[0.4, 0.3, 0.3]))
            episodes.append(self._planted_episode(int(s), kind))
        looks = ["genuine", "raised_earlier", "old_cut"]
        for i, s in enumerate(eligible[n_plant : n_plant + n_look]):
            kind = looks[i] if i < 3 else str(rng.choice(looks, p=[0.6, 0.2, 0.2]))
            episodes += self._lookalike_episodes(int(s), kind)
        for s in eligible[: n_plant + n_look]:
            self.busy[s] = True
        if D < 20:
            log.warning("period of %d days too short for promotions", D)
        return episodes

    def _regular(self, s: int) -> np.ndarray:
        steps = np.where(self.keep_steps[s], self.log_steps[s], 0.0)
        return self.base[s] * np.exp(np.cumsum(steps) + self.log_extra[s])

    def _quiet(self, s: int, lo: int, hi: int) -> None:
        self.keep_steps[s, max(0, lo) : max(0, min(self.D, hi))] = False

    def _planted_episode(self, s: int, kind: str) -> Episode:
        rng = self.rng
        D = self.D
        length = int(rng.integers(3, 11))
        a = int(rng.integers(8, max(9, D - length)))
        self._quiet(s, a - 22, a + length + 2)
        regular = self._regular(s)[a - 1]
        if kind == "raise_then_cut":
            k = int(rng.integers(2, 6))
            raised = regular * rng.uniform(1.15, 1.6)
            claim = round(raised, 2)
            promo = raised * (1 - rng.uniform(0.1, 0.3))
            if self.world.violations:
                self.log_extra[s, a - k : a] += np.log(raised / regular)
        elif kind == "invented":
            claim = round(regular * rng.uniform(1.2, 2.0), 2)
            promo = regular * rng.uniform(0.85, 1.0)
        else:
            claim = round(regular * rng.uniform(1.03, 1.10), 2)
            promo = regular * rng.uniform(0.88, 0.98)
        if self.world.violations:
            self.log_extra[s, a : a + length] += np.log(promo / regular)
        return Episode(s, a, length, claim, kind, True, strength=claim / round(regular, 2) - 1)

    def _lookalike_episodes(self, s: int, kind: str) -> list[Episode]:
        rng = self.rng
        D = self.D
        length = int(rng.integers(3, 11))
        if kind == "raised_earlier":
            lead = int(rng.integers(10, 21))
            a = int(rng.integers(lead + 1, max(lead + 2, D - length)))
            self._quiet(s, a - lead - 8, a + length + 2)
            self.log_extra[s, a - lead :] += np.log(rng.uniform(1.05, 1.3))
            note = f"price raised {lead} days before the promotion and held"
        elif kind == "old_cut":
            gap = int(rng.integers(9, 15))
            cut = int(rng.integers(2, 7))
            a = int(rng.integers(gap + cut + 1, max(gap + cut + 2, D - length)))
            self._quiet(s, a - gap - cut - 8, a + length + 2)
            self.log_extra[s, a - gap - cut + 1 : a - gap + 1] += np.log(rng.uniform(0.7, 0.9))
            note = f"a temporary cut ended {gap - 1} days before the promotion"
        else:
            a = int(rng.integers(8, max(9, D - length)))
            self._quiet(s, a - 22, a + length + 2)
            note = "genuine promotion claiming the regular price"
        regular = self._regular(s)[a - 1]
        claim = round(regular, 2)
        self.log_extra[s, a : a + length] += np.log(1 - rng.uniform(0.05, 0.3))
        episodes = [Episode(s, a, length, claim, kind, False, note=note)]
        # A second genuine promotion later, when there is room (9+ days after the first).
        b = a + length + int(rng.integers(9, 20))
        if kind == "genuine" and b + 3 < D and rng.random() < 0.5:
            length2 = int(rng.integers(3, min(11, D - b) + 1))
            self._quiet(s, b - 22, b + length2 + 2)
            regular2 = self._regular(s)[b - 1]
            self.log_extra[s, b : b + length2] += np.log(1 - rng.uniform(0.05, 0.3))
            episodes.append(Episode(s, b, length2, round(regular2, 2), kind, False, note=note))
        return episodes

    # ----- personalised prices and their look-alikes
    def personal(self, plan: Plan, cities: list[str], city_share: np.ndarray) -> None:
        rng = self.rng
        S = self.S
        cand = np.flatnonzero(~self.busy)
        n = min(len(cand), max(5, round(S * rng.uniform(0.04, 0.06))))
        chosen = rng.choice(cand, n, replace=False)
        kinds = rng.choice([T_TENURE, T_IOS, T_MEMBER, T_CITY], n, p=[0.35, 0.25, 0.2, 0.2])
        big_cities = np.flatnonzero(city_share >= 0.05)
        for s, kind in zip(chosen, kinds, strict=True):
            markup = float(_loguniform(rng, 0.03, 0.25))
            frac = float(rng.uniform(0.6, 1.0))
            if kind == T_MEMBER:
                plan.member_factor[s] = np.nan
            city = int(
                rng.choice(big_cities, p=city_share[big_cities] / city_share[big_cities].sum())
            )
            if self.world.violations:
                plan.markup[s] = markup
                plan.target[s] = kind
                plan.target_city[s] = city
                plan.markup_frac[s] = frac
            self.busy[s] = True
            target = TARGET_NAMES[int(kind)] + (f" ({cities[city]})" if kind == T_CITY else "")
            self.violations.append(
                (
                    DISCRIMINATION,
                    self.sku_id[s],
                    self.platform[s],
                    markup,
                    f"hidden +{markup:.1%} for {target} on {frac:.0%} of their quotes",
                )
            )
        planted = set(int(s) for s in chosen)
        for s in range(S):
            if s in planted:
                continue
            features = []
            if not np.isnan(plan.member_factor[s]):
                features.append("published member price")
            if plan.open_p[s] > 0:
                features.append("coupon open to all")
            if not np.isnan(plan.nu_amt[s]):
                features.append("new-user coupon campaign")
            if self.cat[s] in self.regional_cats:
                features.append("regional list prices")
            if self.cat[s] in self.peak_cats:
                features.append("peak-hour pricing")
            if features:
                self.lookalikes.append((DISCRIMINATION, "sku", self.sku_id[s], "; ".join(features)))


def _plan(
    world: World, truth: GroundTruth, cities: list[str], city_share: np.ndarray
) -> tuple[Plan, Planner]:
    pl = Planner(world, truth)
    rng = pl.rng
    S, D, C = pl.S, pl.D, len(cities)
    pl.background()
    pl.emergencies_and_shocks()
    pl.collusion()
    episodes = pl.promotions()

    regional = np.ones((S, C))
    is_regional = np.isin(pl.cat, list(pl.regional_cats))
    spread = rng.uniform(0.06, 0.15, S)
    regional[is_regional] = np.exp(
        rng.normal(0, 1, (int(is_regional.sum()), C)) * spread[is_regional, None]
    )
    peak = np.where(np.isin(pl.cat, list(pl.peak_cats)), rng.uniform(1.15, 1.5, S), 1.0)
    ride = np.isin(pl.cat, list(pl.peak_cats))
    member_factor = np.where((rng.random(S) < 0.2) & ~ride, rng.uniform(0.85, 0.97, S), np.nan)
    open_p = np.where(rng.random(S) < 0.2, rng.uniform(0.1, 0.2, S), 0.0)
    open_amt = np.maximum(1.0, np.round(pl.base * rng.uniform(0.03, 0.12, S)))
    nu = rng.random(S) < 0.15
    nu_amt = np.where(nu, np.maximum(1.0, np.round(pl.base * rng.uniform(0.1, 0.3, S))), np.nan)
    nu_from = rng.integers(0, max(1, D - 20), S)
    nu_to = nu_from + rng.integers(14, 41, S)
    popularity = rng.lognormal(0.0, 0.8, S)
    popularity /= popularity.sum()
    promo_skus = np.array(sorted({e.sku for e in episodes}), dtype=int)
    if len(promo_skus):
        popularity[promo_skus] = np.maximum(popularity[promo_skus], np.median(popularity))
        popularity /= popularity.sum()
    popularity = POPULARITY_FLOOR / S + (1 - POPULARITY_FLOOR) * popularity
    plan = Plan(
        n_sku=S,
        days=D,
        price=np.zeros((S, D)),
        claim=np.full((S, D), np.nan),
        regional=regional,
        peak=peak,
        member_factor=member_factor,
        open_p=open_p,
        open_amt=open_amt,
        nu_amt=nu_amt,
        nu_from=nu_from,
        nu_to=nu_to,
        markup=np.zeros(S),
        target=np.zeros(S, dtype=np.int8),
        target_city=np.zeros(S, dtype=np.int64),
        markup_frac=np.zeros(S),
        popularity=popularity,
        conversion=np.zeros(S),
        episodes=episodes,
    )
    pl.personal(plan, cities, city_share)
    daily_quotes = world.scale.quotes * popularity / D
    min_orders = np.full(S, MIN_ORDERS_PER_DAY)
    min_orders[promo_skus] = MIN_ORDERS_PER_DAY_PROMOTED
    plan.conversion = np.clip(
        np.maximum(rng.uniform(0.05, 0.10, S), min_orders / daily_quotes), 0, 0.6
    )

    steps = np.where(pl.keep_steps, pl.log_steps, 0.0)
    plan.price = pl.base[:, None] * np.exp(np.cumsum(steps, axis=1) + pl.log_extra)
    for s, path in pl.override.items():
        plan.price[s] = path
    plan.price = np.maximum(plan.price, 0.5)
    for e in episodes:
        if e.planted and not world.violations:
            continue
        plan.claim[e.sku, e.start : e.start + e.length] = e.claim
    return plan, pl


# --------------------------------------------------------------------------- generation


DEVICES = ("ios", "android", "web", "other")


def _context(world: World, plan: Plan, cities: list[str], day_counts: np.ndarray) -> Context:
    products = world.frame("products").reset_index(drop=True)
    merchants = world.frame("merchants").reset_index(drop=True)
    platforms = world.frame("platforms")["platform_id"].astype(str).tolist()
    p_index = {p: i for i, p in enumerate(platforms)}
    m_index = {m: i for i, m in enumerate(merchants["merchant_id"].astype(str))}
    rng = world.rng_for("pricing:context")
    accounts = world.frame("accounts").reset_index(drop=True)
    attrs: pd.DataFrame = world.info["account_attrs"].reset_index(drop=True)
    users = world.users
    u_index = pd.Index(users["user_id"])
    device_of = pd.Series(users["device"].to_numpy(), index=u_index)
    acc_p = accounts["platform_id"].map(p_index).to_numpy()
    order = np.argsort(acc_p, kind="stable")
    acc_p = acc_p[order]
    weight = rng.lognormal(0.0, 0.7, len(order))
    cum = np.zeros(len(order))
    for k in range(len(platforms)):
        seg = np.flatnonzero(acc_p == k)
        if len(seg):
            cum[seg] = k + np.cumsum(weight[seg]) / weight[seg].sum()
    sku_p = products["platform_id"].map(p_index).to_numpy()
    missing = set(np.unique(sku_p)) - set(np.unique(acc_p))
    if missing:
        raise ValueError(
            f"platforms with offers but no accounts: {[platforms[k] for k in missing]}"
        )
    region_codes = accounts["region_code"].astype(str).to_numpy()[order]
    region_values, region_codes_idx = np.unique(region_codes, return_inverse=True)
    city_index = {c: i for i, c in enumerate(cities)}
    acc_city = np.array([city_index[r[:4]] for r in region_values])[region_codes_idx]
    acc_users = accounts["user_id"].to_numpy()[order]
    user_pos = u_index.get_indexer(acc_users)
    devices = device_of.to_numpy()[user_pos]
    dev_code = pd.Categorical(devices, categories=list(DEVICES)).codes.astype(np.int8)
    merchants_self = merchants.set_index("merchant_id")["self_operated"]
    sku_self = merchants_self.loc[products["merchant_id"]].to_numpy().astype(bool)
    rate_by_platform = rng.uniform(0.02, 0.08, len(platforms))
    commission = np.where(
        sku_self, 0.0, rate_by_platform[sku_p] * rng.uniform(0.8, 1.25, len(products))
    )
    start_utc = int(local_midnight_utc(world.start).timestamp())
    return Context(
        sku_ids=pa.array(products["sku_id"].astype(str).tolist()),
        sku_platform=sku_p,
        sku_merchant=products["merchant_id"].map(m_index).to_numpy(),
        sku_qty_multi=products["category"].isin(MULTI_UNIT).to_numpy(),
        sku_commission=commission,
        platform_ids=pa.array(platforms),
        merchant_ids=pa.array(merchants["merchant_id"].astype(str).tolist()),
        acc_cum=cum,
        acc_user=user_pos,
        acc_tenure=attrs["tenure_days"].to_numpy()[order].astype(np.int64),
        acc_member=attrs["is_member"].to_numpy()[order].astype(bool),
        acc_city=acc_city,
        acc_device=dev_code,
        acc_region=region_codes_idx,
        user_ids=pa.array(users["user_id"].astype(str).tolist()),
        regions=pa.array(region_values.tolist()),
        devices=pa.array(list(DEVICES)),
        day_cum=np.cumsum(day_counts),
        start_utc_s=start_utc,
        hour_p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum(),
    )


def _ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=pa.timestamp("us", tz="UTC"))


def _chunk(
    world: World,
    plan: Plan,
    ctx: Context,
    i: int,
    lo: int,
    hi: int,
    order_start: int,
    min_paid: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    rng = world.rng_for(f"quotes:{i}")
    n = hi - lo
    D = plan.days
    # Stratified times: the r-th quote of a day sits at the daily-cycle quantile (r + u) / n_day,
    # so timestamps increase with the global quote index across chunks.
    index = np.arange(lo, hi)
    day = np.searchsorted(ctx.day_cum, index, side="right")
    first = np.concatenate([[0], ctx.day_cum])[day]
    n_day = ctx.day_cum[day] - first
    x = (index - first + rng.random(n)) / n_day
    cum = np.cumsum(ctx.hour_p)
    hour = np.minimum(np.searchsorted(cum, x, side="right"), 23)
    below = np.where(hour > 0, cum[hour - 1], 0.0)
    sec = np.clip(((hour + (x - below) / ctx.hour_p[hour]) * 3600).astype(np.int64), 0, 86399)
    local = day.astype(np.int64) * 86400 + sec
    sku = rng.choice(plan.n_sku, n, p=plan.popularity)
    acc = np.searchsorted(ctx.acc_cum, ctx.sku_platform[sku] + rng.random(n), side="right")
    acc = np.minimum(acc, len(ctx.acc_cum) - 1)
    tenure = ctx.acc_tenure[acc] + day
    member = ctx.acc_member[acc]
    city = ctx.acc_city[acc]
    device = ctx.acc_device[acc]

    factor = plan.regional[sku, city] * np.where(PEAK_HOURS[hour], plan.peak[sku], 1.0)
    list_price = np.round(plan.price[sku, day] * factor, 2)
    # Hidden personal markups on the targeted group (planted SKUs only).
    kind = plan.target[sku]
    targeted = (
        ((kind == T_TENURE) & (tenure >= 365))
        | ((kind == T_IOS) & (device == 0))
        | ((kind == T_MEMBER) & member)
        | ((kind == T_CITY) & (city == plan.target_city[sku]))
    )
    hit = targeted & (rng.random(n) < plan.markup_frac[sku])
    offer = np.where(hit, np.round(list_price * (1 + plan.markup[sku]), 2), list_price)
    mf = plan.member_factor[sku]
    shows_member = member & ~np.isnan(mf)
    pre = np.where(shows_member, np.round(offer * np.where(shows_member, mf, 1.0), 2), offer)
    open_c = np.where(rng.random(n) < plan.open_p[sku], plan.open_amt[sku], 0.0)
    nu_ok = (
        (tenure < 30)
        & (day >= plan.nu_from[sku])
        & (day < plan.nu_to[sku])
        & ~np.isnan(plan.nu_amt[sku])
    )
    nu_c = np.where(nu_ok, np.nan_to_num(plan.nu_amt[sku]), 0.0)
    coupon = np.minimum(np.maximum(open_c, nu_c), np.floor(pre * 0.5))
    has_coupon = coupon > 0
    quoted = np.round(pre - coupon, 2)
    claim = plan.claim[sku, day]
    ts_s = ctx.start_utc_s + local

    quotes = pa.table(
        {
            "quote_id": _ids("Q", lo, n, 10),
            "ts": _ts(ts_s),
            "platform_id": ctx.platform_ids.take(pa.array(ctx.sku_platform[sku])),
            "sku_id": ctx.sku_ids.take(pa.array(sku)),
            "user_id": ctx.user_ids.take(pa.array(ctx.acc_user[acc])),
            "user_tenure_days": pa.array(tenure.astype(np.int64)),
            "user_is_member": pa.array(member),
            "user_device": ctx.devices.take(pa.array(device)),
            "user_region_code": ctx.regions.take(pa.array(ctx.acc_region[acc])),
            "quoted_price": pa.array(quoted),
            "list_price": pa.array(list_price),
            "claimed_original_price": pa.array(claim, mask=np.isnan(claim)),
            "coupon_cny": pa.array(coupon, mask=~has_coupon),
            "member_price": pa.array(shows_member),
        }
    )

    # Orders: some quotes convert a few minutes later.
    conv = np.flatnonzero(rng.random(n) < plan.conversion[sku])
    m = len(conv)
    delay = np.clip(rng.exponential(240.0, m), 30, 1800).astype(np.int64)
    o_local = local[conv] + delay
    o_sort = np.argsort(o_local, kind="stable")
    conv, o_local = conv[o_sort], o_local[o_sort]
    o_sku = sku[conv]
    qty = np.where(
        ctx.sku_qty_multi[o_sku],
        rng.choice([1, 2, 3], m, p=[0.7, 0.2, 0.1]),
        rng.choice([1, 2], m, p=[0.92, 0.08]),
    ).astype(np.int64)
    unit = offer[conv]
    paid = np.round(qty * quoted[conv], 2)
    status_code = rng.choice(3, m, p=[0.92, 0.05, 0.03])
    commission = np.round(paid * ctx.sku_commission[o_sku], 2)
    o_day = o_local // 86400
    ok = (status_code == 0) & (o_day < D)
    np.minimum.at(min_paid, (o_sku[ok], o_day[ok]), unit[ok])
    orders = pa.table(
        {
            "order_id": _ids("O", order_start, m, 10),
            "ts": _ts(ctx.start_utc_s + o_local),
            "platform_id": ctx.platform_ids.take(pa.array(ctx.sku_platform[o_sku])),
            "merchant_id": ctx.merchant_ids.take(pa.array(ctx.sku_merchant[o_sku])),
            "sku_id": ctx.sku_ids.take(pa.array(o_sku)),
            "user_id": ctx.user_ids.take(pa.array(ctx.acc_user[acc[conv]])),
            "quantity": pa.array(qty),
            "unit_price": pa.array(unit),
            "paid_cny": pa.array(paid),
            "commission_cny": pa.array(commission),
            "status": pa.array(
                np.array(["paid", "refunded", "cancelled"], dtype=object)[status_code]
            ),
        }
    )
    return quotes, orders


def _cities(world: World) -> tuple[list[str], np.ndarray]:
    regions = world.frame("accounts")["region_code"].astype(str).str[:4]
    share = regions.value_counts(normalize=True)
    cities = sorted(share.index)
    return cities, share.reindex(cities).to_numpy()


def _day_counts(world: World, total: int) -> np.ndarray:
    rng = world.rng_for("pricing:days")
    D = world.days
    weekday = np.array([(world.start + timedelta(days=d)).weekday() for d in range(D)])
    w = np.where(weekday >= 5, 1.15, 1.0) * rng.uniform(0.95, 1.05, D) * np.linspace(0.97, 1.03, D)
    raw = total * w / w.sum()
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts))[: total - int(counts.sum())]] += 1
    return counts


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``price_quotes`` and ``orders``; plant the four pricing families."""
    cities, city_share = _cities(world)
    plan, planner = _plan(world, truth, cities, city_share)
    total = world.scale.quotes
    ctx = _context(world, plan, cities, _day_counts(world, total))
    min_paid = np.full((plan.n_sku, plan.days), np.inf)
    n_chunks = max(1, -(-total // CHUNK_ROWS))
    progress = world.info.get("progress")
    order_start = 0
    for i in range(n_chunks):
        lo, hi = i * total // n_chunks, (i + 1) * total // n_chunks
        quotes, orders = _chunk(world, plan, ctx, i, lo, hi, order_start, min_paid)
        out.write("price_quotes", quotes)
        out.write("orders", orders)
        order_start += orders.num_rows
        del quotes, orders
        if callable(progress):
            progress("price quotes", i + 1, n_chunks)
        log.info("price quotes chunk %d/%d written", i + 1, n_chunks)
    if planner.emergencies:
        world.add_rows("emergencies", [e.row(world.start) for e in planner.emergencies])
    _record(world, truth, plan, planner, min_paid)
    world.info["pricing"] = {
        "emergencies": [e.emergency_id for e in planner.emergencies],
        "shock_categories": list(planner.shock_cats),
        "promotion_skus": sorted({planner.sku_id[e.sku] for e in plan.episodes}),
    }


def _record(
    world: World, truth: GroundTruth, plan: Plan, planner: Planner, min_paid: np.ndarray
) -> None:
    if world.violations:
        for family, subject, platform, strength, note in planner.violations:
            if family == COLLUSION:
                truth.add(family, "market", subject, strength=round(strength, 4), note=note)
            else:
                truth.add(
                    family,
                    "sku",
                    subject,
                    platform_id=platform,
                    strength=round(strength, 4),
                    note=note,
                )
    for family, subject_type, subject, note in planner.lookalikes:
        truth.lookalike(family, subject_type, subject, note=note)
    # Claimed original prices, judged on the paid orders actually generated.
    lawful: dict[str, str] = {}
    for e in plan.episodes:
        if e.planted and not world.violations:
            continue
        window = min_paid[e.sku, max(0, e.start - 7) : e.start]
        lowest = float(window.min()) if len(window) else np.inf
        violating = np.isfinite(lowest) and lowest < e.claim - 0.005
        sku = planner.sku_id[e.sku]
        platform = planner.platform[e.sku]
        if e.planted and violating:
            truth.add(
                FICTITIOUS,
                "sku",
                sku,
                platform_id=platform,
                strength=round(e.claim / lowest - 1, 4),
                note=f"{e.kind}: claims {e.claim:.2f} from "
                f"{world.start + timedelta(days=e.start)}; "
                f"lowest paid price in the 7 days before {lowest:.2f}",
            )
        elif e.planted:
            # No paid order below the claim in the window: by the transaction rule the claim
            # is lawful (a naive detector reading list prices would still flag it).
            log.info(
                "planted %s on %s is lawful by its orders: recorded as a look-alike", e.kind, sku
            )
            lawful.setdefault(sku, f"{e.kind} without a paid order below the claim in the 7 days")
        elif violating:
            log.warning(
                "look-alike promotion on %s violates the 7-day rule; recorded as a violation", sku
            )
            truth.add(
                FICTITIOUS,
                "sku",
                sku,
                platform_id=platform,
                strength=round(e.claim / lowest - 1, 4),
                note=f"unintended: {e.kind}",
            )
            lawful[sku] = ""
        else:
            lawful.setdefault(sku, e.note)
    for sku, note in lawful.items():
        if note:
            truth.lookalike(FICTITIOUS, "sku", sku, note=note)
