"""Planting module: food-delivery riders (tables ``deliveries`` and ``worker_sessions``).

Subject of all three families: ``platform_region`` = ``platform_id:region_code``. Riders
work for the life-services platforms that have restaurant stores (food delivery), in
Zhejiang districts; each rider has one home district (``worker_sessions.region_code``,
the same as the ``deliveries.region_code`` of all their tasks). A platform-region is the
unit of planting.

Zhejiang minimum wage (facts file section 11; hourly rates, yuan):

==========  =========  ======  ======  ======
from                   tier 1  tier 2  tier 3
==========  =========  ======  ======  ======
2021-08-01             22      20      18
2025-01-01             24      22      20
==========  =========  ======  ======  ======

Tier assignment of the districts used (an assumption: the province assigns tiers per
county; this is a plausible reading, to become a law-store parameter):

- tier 1: Hangzhou urban districts 330102 上城, 330105 拱墅, 330106 西湖, 330108 滨江,
  330109 萧山, 330110 余杭; Ningbo urban districts 330203 海曙, 330206 北仑, 330212 鄞州;
- tier 2: 330302 温州鹿城, 330402 嘉兴南湖, 330502 湖州吴兴, 330602 绍兴越城,
  330702 金华婺城, 330782 义乌市, 330902 舟山定海, 331002 台州椒江;
- tier 3: 330802 衢州柯城, 331102 丽水莲都, 330127 淳安县, 330226 宁海县.

Families, measures and what is planted:

``labour.delivery_time_pressure``
    A task is *infeasible* when ``promised_minutes < 5 + distance_m / 333.3`` (riding at
    20 km/h, the top of the realistic 15-20 km/h, plus a 5-minute pickup allowance --
    both generous assumptions). Planted platform-regions have a share of 30-70 %
    infeasible tasks (strength = that share), promised times far below the median achieved
    time, and heavy lateness deductions (``deduction_reason`` = ``lateness``). Elsewhere no
    task is infeasible. Look-alike: a dense city centre with short promised times (about
    12-20 min) that are feasible because distances are short.
``labour.pay_below_minimum_wage``
    A rider's effective hourly earnings = (sum ``pay_cny`` - sum ``deduction_cny``) / logged
    in hours (sum of ``worker_sessions`` durations), over the whole period, against the
    hourly minimum of their district's tier (hours-weighted when the rate changes during
    the period). Planted: 15-60 % of the riders of a platform-region earn 60-95 % of the
    minimum (strength = the share); everywhere else every rider earns >= 103 % of it.
    Look-alikes: mostly part-time riders (few hours, monthly pay far below the monthly
    minimum, hourly pay adequate); heavy deductions (lateness and ``customer_complaint``,
    > 8 % of gross pay) that still leave hourly pay above the minimum; riders in a tier 2/3
    district paid between their own minimum and the tier 1 minimum.
``labour.excessive_hours``
    Assumed cap (to become a law-store parameter; the 2025 national standard on takeout
    platforms requires caps on continuous order-taking time without fixing the number
    here): no rider may be logged in for more than **12 hours continuously**, where
    continuity is broken only by a rest break of at least **20 minutes** (shorter gaps
    between sessions are reconnections and do not count as rest). Planted: 15-50 % of a
    platform-region's riders have 12.2-15.5 h continuous stretches (often split over
    several session rows by gaps of 1-15 min) on 30-80 % of their working days (strength
    = the share of riders). Everywhere else no stretch exceeds 10.5 h. Look-alike: long
    days (12-17 h from first login to last logout) split by breaks of 20-90 min.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

TIME_PRESSURE = "labour.delivery_time_pressure"
MIN_WAGE = "labour.pay_below_minimum_wage"
HOURS = "labour.excessive_hours"
SUBJECT = "platform_region"

#: (district code, name, minimum-wage tier)
RIDER_REGIONS: tuple[tuple[str, str, int], ...] = (
    ("330102", "杭州市上城区", 1),
    ("330105", "杭州市拱墅区", 1),
    ("330106", "杭州市西湖区", 1),
    ("330108", "杭州市滨江区", 1),
    ("330109", "杭州市萧山区", 1),
    ("330110", "杭州市余杭区", 1),
    ("330203", "宁波市海曙区", 1),
    ("330206", "宁波市北仑区", 1),
    ("330212", "宁波市鄞州区", 1),
    ("330302", "温州市鹿城区", 2),
    ("330402", "嘉兴市南湖区", 2),
    ("330502", "湖州市吴兴区", 2),
    ("330602", "绍兴市越城区", 2),
    ("330702", "金华市婺城区", 2),
    ("330782", "义乌市", 2),
    ("330902", "舟山市定海区", 2),
    ("331002", "台州市椒江区", 2),
    ("330802", "衢州市柯城区", 3),
    ("331102", "丽水市莲都区", 3),
    ("330127", "杭州市淳安县", 3),
    ("330226", "宁波市宁海县", 3),
)
TIER: dict[str, int] = {code: tier for code, _, tier in RIDER_REGIONS}
#: Hourly minimum wage by tier (1, 2, 3), with the date each schedule took effect.
HOURLY_MINIMUM: tuple[tuple[date, tuple[float, float, float]], ...] = (
    (date(2021, 8, 1), (22.0, 20.0, 18.0)),
    (date(2025, 1, 1), (24.0, 22.0, 20.0)),
)
MAX_CONTINUOUS_HOURS = 12.0
MIN_REST_MINUTES = 20.0
FEASIBLE_SPEED_M_PER_MIN = 20_000 / 60  # 20 km/h
PICKUP_ALLOWANCE_MIN = 5.0

_CHUNK = 2_000_000
_HOUR = 3600.0


def hourly_minimum(region_code: str, day: date) -> float:
    """The hourly minimum wage of a district on a day."""
    rates = HOURLY_MINIMUM[0][1]
    for since, schedule in HOURLY_MINIMUM:
        if day >= since:
            rates = schedule
    return rates[TIER[region_code] - 1]


def infeasible(promised_minutes: np.ndarray, distance_m: np.ndarray) -> np.ndarray:
    """Tasks whose promised time is below the most generous feasible time."""
    return promised_minutes < PICKUP_ALLOWANCE_MIN + distance_m / FEASIBLE_SPEED_M_PER_MIN


@dataclass
class _Unit:
    platform_id: str
    region: str
    n_workers: int
    time_role: str = ""  # "v" | "l" | ""
    wage_role: str = ""  # "v" | "l_part" | "l_ded" | "l_tier" | ""
    hours_role: str = ""  # "v" | "l" | ""
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"{self.platform_id}:{self.region}"


def _rider_platforms(world: World) -> list[str]:
    platforms = world.frame("platforms")
    if platforms.empty:
        return []
    life = platforms[platforms["categories"].apply(lambda c: "life_services" in list(c))]
    merchants = world.frame("merchants")
    if not merchants.empty:
        food = set(merchants.loc[merchants["category"] == "restaurant", "platform_id"])
        with_food = [p for p in life["platform_id"] if p in food]
        if with_food:
            return sorted(with_food)
    return sorted(life["platform_id"])


def _units(world: World, rng: np.random.Generator) -> list[_Unit]:
    pids = _rider_platforms(world)
    if not pids:
        return []
    riders_total = max(120, world.scale.users // 50)
    combos = len(pids) * len(RIDER_REGIONS)
    n_units = int(min(combos, max(6, riders_total // 40)))
    per_platform = [n_units // len(pids) + (i < n_units % len(pids)) for i in range(len(pids))]
    codes = np.array([c for c, _, _ in RIDER_REGIONS])
    tiers = np.array([t for _, _, t in RIDER_REGIONS])
    weights = np.array([3.0, 1.6, 0.8])[tiers - 1]
    units: list[_Unit] = []
    per_unit = riders_total / n_units
    for pid, k in zip(pids, per_platform, strict=True):
        if k == 0:
            continue
        chosen = rng.choice(len(codes), k, replace=False, p=weights / weights.sum())
        if k >= 3 and not (tiers[chosen] > 1).any():
            chosen[-1] = rng.choice(np.flatnonzero(tiers > 1))
        for j in chosen:
            n = max(12, round(per_unit * rng.uniform(0.7, 1.3)))
            units.append(_Unit(pid, str(codes[j]), n))
    return units


def _assign_roles(units: list[_Unit], rng: np.random.Generator, violations: bool) -> None:
    n = len(units)

    def pick(attr: str, count: int, label: str, prefer: np.ndarray | None = None) -> list[int]:
        free = [i for i in range(n) if getattr(units[i], attr) == ""]
        if prefer is not None:
            good = [i for i in free if prefer[i]]
            free = good or free
        chosen = [int(i) for i in rng.permutation(free)[:count]]
        for i in chosen:
            setattr(units[i], attr, label)
        return chosen

    def count() -> int:
        return max(1, round(rng.uniform(0.12, 0.3) * n))

    lower_tier = np.array([TIER[u.region] > 1 for u in units])
    for attr in ("time_role", "wage_role", "hours_role"):
        if violations:
            pick(attr, count(), "v")
    pick("time_role", count(), "l", prefer=np.array([TIER[u.region] == 1 for u in units]))
    pick("hours_role", count(), "l")
    pick("wage_role", 1, "l_tier", prefer=lower_tier)
    pick("wage_role", 1, "l_part")
    pick("wage_role", max(1, count() - 2), "l_ded")


def _token(seed: int, *parts: object) -> str:
    h = hashlib.sha256(("|".join(map(str, (seed, *parts)))).encode()).hexdigest()
    return "rd_" + h[:16]


def _unit_data(
    world: World, unit: _Unit, rng: np.random.Generator, serial: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sessions and deliveries of one platform-region."""
    n, days = unit.n_workers, world.days
    part_share = rng.uniform(0.6, 0.8) if unit.wage_role == "l_part" else rng.uniform(0.15, 0.35)
    part = rng.random(n) < part_share
    if part.all():
        part[0] = False
    day_prob = np.where(part, rng.uniform(0.12, 0.35, n), rng.uniform(0.55, 0.9, n))
    works = rng.random((n, days)) < day_prob[:, None]
    idle = ~works.any(axis=1)
    works[idle, rng.integers(0, days, int(idle.sum()))] = True

    full_idx = np.flatnonzero(~part)
    over = np.zeros(n, dtype=bool)
    longday = np.zeros(n, dtype=bool)
    if unit.hours_role == "v":
        k = min(len(full_idx), max(2, round(rng.uniform(0.15, 0.5) * n)))
        over[rng.choice(full_idx, k, replace=False)] = True
    elif unit.hours_role == "l":
        k = min(len(full_idx), max(2, round(rng.uniform(0.2, 0.5) * n)))
        longday[rng.choice(full_idx, k, replace=False)] = True
    special_p = rng.uniform(0.3, 0.8, n)

    w_idx, d_idx = np.nonzero(works)
    m = len(w_idx)
    special = rng.random(m) < special_p[w_idx]
    # the first working day of each overworked rider is always a long one
    first = np.r_[True, w_idx[1:] != w_idx[:-1]]
    special |= first & (over[w_idx] | longday[w_idx])
    kind = np.where(part[w_idx], 0, 1)  # 0 part, 1 full, 2 over, 3 long
    kind = np.where(over[w_idx] & special, 2, kind)
    kind = np.where(longday[w_idx] & special, 3, kind)

    start_h = np.where(kind == 0, rng.uniform(10, 19, m), rng.uniform(6.5, 10, m))
    total = rng.uniform(6, 10.5, m)
    two = (kind == 1) & (rng.random(m) < 0.6)
    l1 = np.select(
        [kind == 0, kind == 2, kind == 3, two],
        [
            rng.uniform(2, 4.5, m),
            rng.uniform(12.2, 15.5, m),
            rng.uniform(6, 7.5, m),
            total * rng.uniform(0.4, 0.6, m),
        ],
        total,
    )
    brk = (
        np.where(kind == 3, rng.uniform(MIN_REST_MINUTES + 0.5, 90, m), rng.uniform(25, 150, m))
        / 60
    )
    l2 = np.where(kind == 3, rng.uniform(5.5, 7, m), np.where(two, total - l1, 0.0))
    has2 = l2 > 0

    # stretches: (worker, day, start hour, length)
    s_w = np.r_[w_idx, w_idx[has2]]
    s_d = np.r_[d_idx, d_idx[has2]]
    s_start = np.r_[start_h, (start_h + l1 + brk)[has2]]
    s_len = np.r_[l1, l2[has2]]
    s_over = np.r_[kind == 2, np.zeros(int(has2.sum()), dtype=bool)]
    # split stretches into session rows by reconnection gaps (< 20 min)
    ns = len(s_len)
    p_split = np.where(s_over, 0.65, 0.35)
    pieces = np.where(s_len >= 4, 1 + (rng.random(ns) < p_split), 1)
    pieces = np.where((pieces == 2) & (s_len >= 6) & (rng.random(ns) < 0.35), 3, pieces)
    u1 = np.where(pieces == 2, rng.uniform(0.3, 0.7, ns), rng.uniform(0.2, 0.4, ns))
    u2 = rng.uniform(0.6, 0.8, ns)
    g1 = rng.uniform(1, 15, ns) / 60
    g2 = rng.uniform(1, 15, ns) / 60
    rep = np.repeat(np.arange(ns), pieces)
    pos = np.arange(len(rep)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    kk = pieces[rep]
    a = s_start[rep]
    L = s_len[rep]
    cut1 = a + u1[rep] * L
    cut2 = a + u2[rep] * L
    frm = np.select([pos == 0, (pos == 1)], [a, cut1 + g1[rep] / 2], cut2 + g2[rep] / 2)
    to = np.select(
        [kk == 1, (pos == 0), (pos == 1) & (kk == 2), pos == 1],
        [a + L, cut1 - g1[rep] / 2, a + L, cut2 - g2[rep] / 2],
        a + L,
    )
    sess_w = s_w[rep]
    base = (np.datetime64(world.start, "s") - np.timedelta64(8, "h")).astype("int64")
    day0 = base + s_d[rep].astype(np.int64) * 86400
    t_from = day0 + np.round(frm * _HOUR).astype(np.int64)
    t_to = day0 + np.round(to * _HOUR).astype(np.int64)
    sess_day = s_d[rep]
    dur_h = (t_to - t_from) / _HOUR

    # deliveries
    rate = rng.uniform(1.6, 2.6, n)
    n_tasks = np.maximum(1, rng.poisson(rate[sess_w] * dur_h))
    t_sess = np.repeat(np.arange(len(sess_w)), n_tasks)
    nt = len(t_sess)
    t_w = sess_w[t_sess]
    dense = unit.time_role == "l"
    if dense:
        dist = np.clip(rng.lognormal(np.log(1000), 0.35, nt), 200, 2500)
        pickup = rng.uniform(3, 8, nt)
    else:
        dist = np.clip(rng.lognormal(np.log(2800), 0.45, nt), 300, 8000)
        pickup = rng.uniform(6, 18, nt)
    dist = np.round(dist, 0)
    speed = rng.uniform(250, 350 if unit.time_role == "v" else 333, nt)  # m/min
    achieved = pickup + dist / speed + rng.uniform(1, 3, nt)
    floor = PICKUP_ALLOWANCE_MIN + dist / FEASIBLE_SPEED_M_PER_MIN
    if unit.time_role == "v":
        q = rng.uniform(0.3, 0.7)
        bad = rng.random(nt) < q
        promised = np.where(
            bad,
            np.floor(floor * rng.uniform(0.55, 0.95, nt)),
            np.ceil(floor * rng.uniform(1.0, 1.35, nt) + rng.uniform(0, 3, nt)),
        )
    elif dense:
        promised = np.round(6 + dist / 250 + rng.uniform(3, 7, nt))
    else:
        promised = np.round(12 + dist / 250 + rng.uniform(5, 15, nt))
    promised = np.maximum(promised, 1).astype(np.int64)
    late_min = achieved - promised
    late = late_min > 0
    ded = np.zeros(nt)
    reason = np.full(nt, None, dtype=object)
    if unit.time_role == "v":
        hit = late & (rng.random(nt) < 0.95)
        ded[hit] = np.minimum(2 + 0.4 * late_min[hit], 15) * rng.uniform(0.8, 1.2, int(hit.sum()))
    elif unit.wage_role == "l_ded":
        hit = late & (rng.random(nt) < 0.9)
        ded[hit] = rng.uniform(6, 15, int(hit.sum()))
    else:
        hit = late & (rng.random(nt) < 0.5)
        ded[hit] = rng.uniform(0.5, 2.5, int(hit.sum()))
    reason[hit] = "lateness"
    if unit.wage_role == "l_ded":
        comp = ~hit & (rng.random(nt) < rng.uniform(0.1, 0.2))
        ded[comp] = rng.uniform(8, 25, int(comp.sum()))
        reason[comp] = "customer_complaint"
    ded = np.round(ded, 2)

    # place tasks inside their session; drop the rare task that cannot fit
    room = (t_to - t_from)[t_sess] - achieved * 60 - 60
    fits = room > 0
    dispatched = t_from[t_sess] + np.floor(rng.random(nt) * np.maximum(room, 0)).astype(np.int64)
    picked = dispatched + np.round(pickup * 60).astype(np.int64)
    delivered = dispatched + np.round(achieved * 60).astype(np.int64)

    # pay: scale each rider's per-task base pay to hit a net hourly target
    min_rate = np.array(
        [hourly_minimum(unit.region, world.start + timedelta(days=int(d))) for d in range(days)]
    )
    hours_w = np.bincount(sess_w, weights=dur_h, minlength=n)
    min_w = np.bincount(sess_w, weights=dur_h * min_rate[sess_day], minlength=n) / np.maximum(
        hours_w, 1e-9
    )
    factor = rng.uniform(1.08, 1.7, n)
    if unit.wage_role == "v":
        share = rng.uniform(0.15, 0.6)
        low = rng.permutation(n)[: max(2, round(share * n))]
        factor[low] = rng.uniform(0.6, 0.95, len(low))
    elif unit.wage_role == "l_part":
        factor = rng.uniform(1.1, 1.6, n)
    elif unit.wage_role == "l_ded":
        factor = rng.uniform(1.08, 1.5, n)
    elif unit.wage_role == "l_tier":
        top = hourly_minimum(RIDER_REGIONS[0][0], world.start)  # tier 1 rate
        own = hourly_minimum(unit.region, world.start)
        hi = max(1.03, top * 0.97 / own) if TIER[unit.region] > 1 else 1.1
        band = rng.random(n) < rng.uniform(0.3, 0.7)
        factor[band] = rng.uniform(1.03, max(1.031, hi), int(band.sum()))
    keep_w = t_w[fits]
    raw = 3.0 + 1.1 * dist / 1000 + rng.uniform(0, 1.5, nt)
    raw_w = np.bincount(keep_w, weights=raw[fits], minlength=n)
    ded_w = np.bincount(keep_w, weights=ded[fits], minlength=n)
    target = factor * min_w * hours_w
    scale = np.where(raw_w > 0, (target + ded_w) / np.maximum(raw_w, 1e-9), 0.0)
    pay = np.round(raw * scale[t_w], 2)

    workers = np.array(
        [_token(world.seed, unit.platform_id, unit.region, serial, i) for i in range(n)],
        dtype=object,
    )
    active = np.bincount(keep_w, minlength=n) > 0
    sess_keep = active[sess_w]
    sessions = pd.DataFrame(
        {
            "worker_id": workers[sess_w[sess_keep]],
            "platform_id": unit.platform_id,
            "online_from": pd.to_datetime(t_from[sess_keep], unit="s", utc=True),
            "online_to": pd.to_datetime(t_to[sess_keep], unit="s", utc=True),
            "region_code": unit.region,
        }
    )
    deliveries = (
        pd.DataFrame(
            {
                "task_id": "",
                "platform_id": unit.platform_id,
                "rider_id": workers[t_w[fits]],
                "region_code": unit.region,
                "dispatched_at": pd.to_datetime(dispatched[fits], unit="s", utc=True),
                "promised_minutes": promised[fits],
                "distance_m": dist[fits],
                "picked_up_at": pd.to_datetime(picked[fits], unit="s", utc=True),
                "delivered_at": pd.to_datetime(delivered[fits], unit="s", utc=True),
                "pay_cny": pay[fits],
                "deduction_cny": np.where(ded[fits] > 0, ded[fits], np.nan),
                "deduction_reason": reason[fits],
            }
        )
        .sort_values("dispatched_at", kind="stable")
        .reset_index(drop=True)
    )

    # realised statistics (for the truth notes and strengths)
    net = np.bincount(keep_w, weights=pay[fits] - ded[fits], minlength=n)
    hourly = net / np.maximum(hours_w, 1e-9)
    below = (hourly < min_w)[active]
    inf = infeasible(promised[fits], dist[fits])
    unit.stats = {
        "infeasible_share": float(inf.mean()),
        "below_minimum_share": float(below.mean()),
        "over_share": float(over[active].mean()),
        "median_promised": float(np.median(promised[fits])),
        "median_achieved": float(np.median(achieved[fits])),
        "workers": float(active.sum()),
    }
    return sessions, deliveries


class _Buffer:
    def __init__(self, out: TableWriter, table: str) -> None:
        self.out, self.table = out, table
        self.parts: list[pd.DataFrame] = []
        self.rows = 0

    def add(self, frame: pd.DataFrame) -> None:
        self.parts.append(frame)
        self.rows += len(frame)
        if self.rows >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        data = pd.concat(self.parts, ignore_index=True)
        for lo in range(0, len(data), _CHUNK):
            self.out.write(self.table, data.iloc[lo : lo + _CHUNK])
        self.parts, self.rows = [], 0


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``deliveries`` and ``worker_sessions`` with the three labour families."""
    rng = world.rng_for("labour")
    units = _units(world, rng)
    if not units:
        log.warning("labour: no life-services platform, nothing planted")
        return
    _assign_roles(units, rng, world.violations)
    sessions_buf = _Buffer(out, "worker_sessions")
    deliveries_buf = _Buffer(out, "deliveries")
    task_no = 0
    for serial, unit in enumerate(units):
        urng = world.rng_for(f"labour:{unit.subject}")
        sessions, deliveries = _unit_data(world, unit, urng, serial)
        deliveries["task_id"] = [f"T{task_no + i + 1:010d}" for i in range(len(deliveries))]
        task_no += len(deliveries)
        sessions_buf.add(sessions)
        deliveries_buf.add(deliveries)
        st = unit.stats
        pid, subj = unit.platform_id, unit.subject
        if unit.time_role == "v":
            truth.add(
                TIME_PRESSURE,
                SUBJECT,
                subj,
                platform_id=pid,
                strength=st["infeasible_share"],
                note=f"{st['infeasible_share']:.0%} infeasible promises; median promised "
                f"{st['median_promised']:.0f} vs achieved {st['median_achieved']:.0f} min",
            )
        elif unit.time_role == "l":
            truth.lookalike(
                TIME_PRESSURE,
                SUBJECT,
                subj,
                platform_id=pid,
                note=f"dense centre: median promised {st['median_promised']:.0f} min, "
                "short distances, all feasible",
            )
        if unit.wage_role == "v":
            truth.add(
                MIN_WAGE,
                SUBJECT,
                subj,
                platform_id=pid,
                strength=st["below_minimum_share"],
                note=f"{st['below_minimum_share']:.0%} of riders below the hourly minimum",
            )
        elif unit.wage_role:
            truth.lookalike(
                MIN_WAGE,
                SUBJECT,
                subj,
                platform_id=pid,
                note={
                    "l_part": "mostly part-time riders: low monthly pay, adequate hourly pay",
                    "l_ded": "heavy deductions, hourly pay still above the minimum",
                    "l_tier": f"tier {TIER[unit.region]} district: above its own minimum, "
                    "below tier 1's",
                }[unit.wage_role],
            )
        if unit.hours_role == "v":
            truth.add(
                HOURS,
                SUBJECT,
                subj,
                platform_id=pid,
                strength=st["over_share"],
                note=f"{st['over_share']:.0%} of riders logged in > {MAX_CONTINUOUS_HOURS:g} h "
                f"without a {MIN_REST_MINUTES:g}-minute break",
            )
        elif unit.hours_role == "l":
            truth.lookalike(
                HOURS,
                SUBJECT,
                subj,
                platform_id=pid,
                note="long days split by rest breaks of 20-90 min",
            )
    sessions_buf.flush()
    deliveries_buf.flush()
    log.info("labour: %d platform-regions, %d deliveries", len(units), task_no)
