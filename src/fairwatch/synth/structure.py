"""Planting module: concentrations of undertakings (``deals``, ``market_shares``).

Family ``structure.unnotified_concentration`` (subject ``deal`` = ``deal_id``).

A concentration must be notified to SAMR before it is implemented when the undertakings
concerned met the State Council thresholds in force at the deal date, judged on their
turnover of the **previous fiscal year** (the fiscal year before ``announced_on``):

===================  ==================  ===============  ===========================
in force from        global combined     China combined   each of >= 2 parties, China
===================  ==================  ===============  ===========================
2008-08-03 (D. 529)  > 10 bn             > 2 bn           > 400 M
2024-01-22 (D. 773)  > 12 bn             > 4 bn           > 800 M
===================  ==================  ===============  ===========================

test: (global combined > X and >= 2 parties each > Z) or (China combined > Y and >= 2
parties each > Z). No deal is dated between 2024-01-22 and 2024-01-26 (the sources
disagree on Decree 773's effective date), and announcement and closing fall in the same
calendar year and the same regime.

Turnover attribution (legal assumptions, to become law-store parameters):

- the **acquirer** side counts its whole group: the turnover of its ultimate controller,
  found by walking control edges upwards at the deal date (``equity``/``other`` edges
  with ``max(share_pct, voting_pct) > 50``; ``vie``, ``agreement`` and ``board`` edges
  always confer control). The group figure sits in ``financials`` of the ultimate parent
  (consolidated, as in its statements); the acquiring vehicle's own row is small;
- the **target** side counts only the target and what it controls (its own consolidated
  ``financials`` row) when the seller gives up control (SAMR notification guidance: for
  the seller only the part concerned counts) -- a target owned by a large seller group
  does not bring the seller's turnover;
- intra-group transactions are exempt (AML art. 27): one party holds >= 50 % of the
  voting rights of the other, or one undertaking outside holds >= 50 % of each party
  (exactly 50 % is enough);
- only acquisitions of control (``control_acquired``) are concentrations; a deal not yet
  closed is not yet implemented, so an un-notified pending deal is not (yet) a violation.

Planted violations (``control_acquired``, closed, ``notified_on`` null, thresholds met):
a direct acquisition by a large group; an acquisition by a small vehicle at the bottom of
a >= 3-level chain (half of them through a VIE edge) whose own turnover is far below the
thresholds while its ultimate parent's is far above; a group meeting only the global
test (China combined below Y); deals before 2024-01-22 meeting the 2008 thresholds but
not the 2024 ones. Strength: how clearly the thresholds are exceeded (log of the
smallest margin), 0.15..1.

Look-alikes: target just below 800 M under the 2024 regime (would have met 2008);
combined turnovers just below X and Y (would have met 2008); intra-group transfers;
notified deals; minority stakes without control; pre-2024 deals whose target was below
400 M in the prior fiscal year but grew past 800 M later; small targets sold by large
seller groups; announced but not yet closed deals; a below-threshold merger to a combined
market share >= 50 % (an AML art. 26 candidate, not a notification breach).

``market_shares`` holds, for a few relevant markets (periods ``YYYY``, shares summing to
at most 100), group-level shares: the markets of two deals (one creating a combined share
>= 50 %) and one market per platform category of the world (platform operators resolved
to their ultimate controllers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from fairwatch.contract.identifiers import USCC_ALPHABET, uscc_check_char
from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

FAMILY = "structure.unnotified_concentration"
SUBJECT = "deal"


@dataclass(frozen=True)
class Thresholds:
    """Merger notification thresholds of one State Council regime (yuan)."""

    regime: str
    in_force_from: date
    global_combined: float
    china_combined: float
    china_each: float


THRESHOLDS: tuple[Thresholds, ...] = (
    Thresholds("state_council_decree_529", date(2008, 8, 3), 10e9, 2e9, 400e6),
    Thresholds("state_council_decree_773", date(2024, 1, 22), 12e9, 4e9, 800e6),
)
#: Decree 773's effective date is 2024-01-22 or 2024-01-26 depending on the source; no
#: synthetic deal is dated inside this window.
AMBIGUOUS_WINDOW = (date(2024, 1, 22), date(2024, 1, 26))
CONTROL_KINDS = frozenset({"vie", "agreement", "board"})


def thresholds_at(day: date) -> Thresholds:
    """The regime in force on ``day``."""
    current = THRESHOLDS[0]
    for t in THRESHOLDS:
        if day >= t.in_force_from:
            current = t
    return current


def notifiable(th: Thresholds, parties: Sequence[tuple[float, float]]) -> bool:
    """Whether parties' ``(global, china)`` turnovers meet the thresholds ``th``."""
    each = sum(1 for _, china in parties if china > th.china_each) >= 2
    total_global = sum(g for g, _ in parties)
    total_china = sum(c for _, c in parties)
    return each and (total_global > th.global_combined or total_china > th.china_combined)


def margin(th: Thresholds, parties: Sequence[tuple[float, float]]) -> float:
    """How far the thresholds are exceeded: the smallest relevant ratio (> 1 = met)."""
    chinas = sorted((c for _, c in parties), reverse=True)
    each = chinas[1] / th.china_each if len(chinas) > 1 else 0.0
    combined = max(
        sum(g for g, _ in parties) / th.global_combined,
        sum(chinas) / th.china_combined,
    )
    return min(each, combined)


def controls(edge_control: str, share_pct: Any, voting_pct: Any) -> bool:
    """Whether an ownership edge confers control (see the module docstring)."""
    if edge_control in CONTROL_KINDS:
        return True
    vals = [float(v) for v in (share_pct, voting_pct) if v is not None and not pd.isna(v)]
    return bool(vals) and max(vals) > 50.0


def ultimate_controller(entity_id: str, day: date, ownership: pd.DataFrame) -> str:
    """The entity at the top of ``entity_id``'s control chain on ``day``."""
    if ownership.empty:
        return entity_id
    valid_to = pd.to_datetime(ownership["valid_to"]).dt.date
    valid_from = pd.to_datetime(ownership["valid_from"]).dt.date
    live = ownership[(valid_from <= day) & (valid_to.isna() | (valid_to > day))]
    edges = [
        (r.owned_id, r.owner_id, max(_f(r.voting_pct), _f(r.share_pct)), r.control)
        for r in live.itertuples()
        if controls(r.control, r.share_pct, r.voting_pct)
    ]
    parent: dict[str, str] = {}
    best: dict[str, float] = {}
    for owned, owner, pct, kind in edges:
        weight = 101.0 if kind in CONTROL_KINDS else pct
        if weight > best.get(owned, -1.0):
            parent[owned], best[owned] = owner, weight
    seen = {entity_id}
    current = entity_id
    while current in parent and parent[current] not in seen:
        current = parent[current]
        seen.add(current)
    return current


def _f(v: Any) -> float:
    return 0.0 if v is None or pd.isna(v) else float(v)


# --------------------------------------------------------------------------- entities

CITIES = {
    "330100": "杭州",
    "330200": "宁波",
    "330300": "温州",
    "330400": "嘉兴",
    "330500": "湖州",
    "330600": "绍兴",
    "330700": "金华",
    "331000": "台州",
}
DISTRICTS = {
    "330100": ["330102", "330105", "330106", "330108", "330109", "330110"],
    "330200": ["330203", "330205", "330206", "330212"],
    "330300": ["330302", "330303", "330304"],
    "330400": ["330402", "330411"],
    "330500": ["330502", "330503"],
    "330600": ["330602", "330603", "330604"],
    "330700": ["330702", "330782"],
    "331000": ["331002", "331003"],
}
_WORDS = [
    "云帆",
    "星河",
    "蓝鲸",
    "青禾",
    "远洋",
    "启明",
    "天目",
    "钱江",
    "之江",
    "明湖",
    "锦程",
    "海川",
    "瑞丰",
    "恒信",
    "汇通",
    "聚源",
    "智联",
    "鼎盛",
    "华策",
    "博远",
    "澜途",
    "知行",
    "禾木",
    "岚山",
    "沐光",
    "潮汐",
    "栖霞",
    "丰泽",
    "臻选",
    "拓维",
    "柏林",
    "梧桐",
]
_TRADES = [
    ("网络科技", "I641"),
    ("信息技术", "I651"),
    ("电子商务", "F529"),
    ("供应链管理", "L724"),
    ("餐饮管理", "H621"),
    ("物流", "G582"),
    ("文化传媒", "R862"),
    ("数据服务", "I654"),
    ("生鲜超市", "F521"),
    ("本地生活服务", "O809"),
    ("出行服务", "G543"),
]
_PINYIN = [
    "Yunfan",
    "Xinghe",
    "Lanjing",
    "Qinghe",
    "Yuanyang",
    "Qiming",
    "Tianmu",
    "Qianjiang",
    "Zhijiang",
    "Minghu",
    "Jincheng",
    "Haichuan",
    "Ruifeng",
    "Hengxin",
    "Huitong",
    "Juyuan",
]
_FOREIGN = ["Holdings Limited", "Group Limited", "Technology Holdings Ltd.", "(Hong Kong) Limited"]


class EntityFactory:
    """Makes new entities (valid USCCs, plausible Zhejiang names) for a planting module.

    ``prefix`` keeps the module's ids apart from every other module's and the world's.
    Call :meth:`flush` once to append the rows to the world's ``entities``.
    """

    def __init__(self, world: World, rng: np.random.Generator, prefix: str) -> None:
        self.world = world
        self.rng = rng
        self.prefix = prefix
        self.rows: list[dict[str, Any]] = []
        existing = world.frame("entities")
        self._names: set[str] = set(existing["name"]) if "name" in existing else set()
        self._ids: set[str] = set(existing["entity_id"]) if "entity_id" in existing else set()
        self._usccs: set[str] = set(existing["uscc"].dropna()) if "uscc" in existing else set()

    def uscc(self, region_code: str) -> str:
        """A fresh USCC (registration '9', enterprise '1', valid org code and check char)."""
        while True:
            body = "".join(str(d) for d in self.rng.integers(0, 10, 8))
            weights = (3, 7, 9, 10, 5, 8, 4, 2)
            c9 = 11 - sum(int(ch) * w for ch, w in zip(body, weights, strict=True)) % 11
            org = body + {10: "X", 11: "0"}.get(c9, str(c9))
            first17 = "91" + region_code + org
            assert all(ch in USCC_ALPHABET for ch in first17)
            code = first17 + uscc_check_char(first17)
            if code not in self._usccs:
                self._usccs.add(code)
                return code

    def name(self, city: str, trade: str) -> str:
        for _ in range(200):
            word = _WORDS[int(self.rng.integers(len(_WORDS)))]
            word2 = _WORDS[int(self.rng.integers(len(_WORDS)))]
            core = word if self.rng.random() < 0.5 else word + word2[0]
            name = f"{city}{core}{trade}有限公司"
            if name not in self._names:
                self._names.add(name)
                return name
        raise RuntimeError("could not find a fresh entity name")

    def new(
        self,
        *,
        name: str | None = None,
        city_code: str | None = None,
        trade: tuple[str, str] | None = None,
        foreign: bool = False,
        kind: str = "company",
        established_on: date | None = None,
        licenses: list[str] | None = None,
    ) -> str:
        """Add one entity and return its id."""
        entity_id = f"{self.prefix}{len(self.rows) + 1:05d}"
        while entity_id in self._ids:
            entity_id += "x"
        self._ids.add(entity_id)
        trade = trade or _TRADES[int(self.rng.integers(len(_TRADES)))]
        established = established_on or date(int(self.rng.integers(2000, 2020)), 1, 1) + timedelta(
            days=int(self.rng.integers(0, 365))
        )
        if foreign:
            label = name or ""
            while not name and (not label or label in self._names):
                a, b = self.rng.integers(len(_PINYIN), size=2)
                suffix = _FOREIGN[int(self.rng.integers(len(_FOREIGN)))]
                label = f"{_PINYIN[a]}{_PINYIN[b].lower()} {suffix}"
            self._names.add(label)
            row = {
                "entity_id": entity_id,
                "name": label,
                "uscc": None,
                "kind": kind,
                "region_code": None,
                "industry_code": trade[1],
                "established_on": established,
                "licenses": licenses or [],
            }
        else:
            city = city_code or list(CITIES)[int(self.rng.integers(len(CITIES)))]
            districts = DISTRICTS[city]
            region = districts[int(self.rng.integers(len(districts)))]
            label = name or self.name(CITIES[city], trade[0])
            self._names.add(label)
            row = {
                "entity_id": entity_id,
                "name": label,
                "uscc": self.uscc(region),
                "kind": kind,
                "region_code": region,
                "industry_code": trade[1],
                "established_on": established,
                "licenses": licenses or [],
            }
        self.rows.append(row)
        return entity_id

    def flush(self) -> None:
        if self.rows:
            self.world.add_rows("entities", pd.DataFrame(self.rows))
            self.rows = []


# --------------------------------------------------------------------------- planting


@dataclass
class _Group:
    top: str
    fiscal: dict[int, tuple[float, float]]  # FY -> (global, china) of the consolidated group
    from_world: bool = False


class _Planter:
    def __init__(self, world: World, truth: GroundTruth) -> None:
        self.world = world
        self.truth = truth
        self.rng = world.rng_for("structure")
        self.ents = EntityFactory(world, world.rng_for("structure.entities"), "ES")
        self.ownership: list[dict[str, Any]] = []
        self.financials: dict[tuple[str, int], dict[str, Any]] = {}
        self.deals: list[dict[str, Any]] = []
        self.last_day = world.end - timedelta(days=1)
        self.last_fy = self.last_day.year - 1
        self.first_fy = 2020

    # ------------------------------------------------------------------ helpers
    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def fin_series(self, entity_id: str, anchor_fy: int, glob: float, china: float) -> None:
        """Financials around an anchor year (growing ~3-15 % a year)."""
        growth = self.u(1.03, 1.15)
        for fy in range(self.first_fy, self.last_fy + 1):
            k = growth ** (fy - anchor_fy)
            self.set_fin(entity_id, fy, glob * k, china * k)

    def set_fin(self, entity_id: str, fy: int, glob: float, china: float) -> None:
        glob = max(glob, china)
        self.financials[(entity_id, fy)] = {
            "entity_id": entity_id,
            "fiscal_year": fy,
            "global_turnover_cny": round(glob, 2),
            "china_turnover_cny": round(china, 2),
            "market_value_cny": round(china * self.u(1.2, 6.0), 2),
        }

    def edge(
        self,
        owner: str,
        owned: str,
        share: float | None,
        control: str,
        start: date,
        end: date | None = None,
        voting: float | None = None,
    ) -> None:
        vote = voting if voting is not None else share
        self.ownership.append(
            {
                "owner_id": owner,
                "owned_id": owned,
                "share_pct": None if share is None else round(share, 2),
                "voting_pct": None if vote is None else round(vote, 2),
                "control": control,
                "valid_from": start,
                "valid_to": end,
            }
        )

    def big_group(self) -> _Group:
        """A new large group (China turnover 20-150 bn in every year)."""
        top = self.ents.new(
            foreign=self.rng.random() < 0.5,
            established_on=date(2005, 1, 1) + timedelta(days=int(self.rng.integers(0, 3000))),
        )
        china = float(np.exp(self.rng.uniform(np.log(20e9), np.log(150e9))))
        glob = china * self.u(1.05, 1.6)
        self.fin_series(top, self.last_fy, glob, china)
        fiscal = {
            fy: (
                self.financials[(top, fy)]["global_turnover_cny"],
                self.financials[(top, fy)]["china_turnover_cny"],
            )
            for fy in range(self.first_fy, self.last_fy + 1)
        }
        return _Group(top, fiscal)

    def world_big_groups(self) -> list[_Group]:
        """Roots of the world's ownership graph with large turnover in every fiscal year."""
        fin = self.world.frame("financials")
        own = self.world.frame("ownership")
        if fin.empty or "china_turnover_cny" not in fin:
            return []
        controlled = set()
        if not own.empty:
            for r in own.itertuples():
                if controls(r.control, r.share_pct, r.voting_pct):
                    controlled.add(r.owned_id)
        groups = []
        for entity_id, rows in fin.groupby("entity_id"):
            if entity_id in controlled:
                continue
            fiscal = {
                int(r.fiscal_year): (_f(r.global_turnover_cny), _f(r.china_turnover_cny))
                for r in rows.itertuples()
            }
            if all(c > 5e9 and g > 13e9 for g, c in fiscal.values()):
                groups.append(_Group(str(entity_id), fiscal, from_world=True))
        return groups

    def chain(self, group: _Group, depth: int, vie: bool, start: date) -> str:
        """A chain of ``depth`` controlled levels under ``group.top``; returns the bottom.

        With ``vie`` (depth >= 3): offshore holding -> WFOE -(vie)-> operating company (->
        its subsidiaries).
        """
        parent = group.top
        for level in range(depth):
            foreign = vie and level == 0
            established = start - timedelta(days=int(self.rng.integers(400, 3000)))
            child = self.ents.new(foreign=foreign, established_on=established)
            since = established + timedelta(days=int(self.rng.integers(0, 30)))
            if vie and level == 2:
                self.edge(parent, child, 0.0, "vie", since, voting=100.0)
            else:
                share = 100.0 if vie or self.rng.random() < 0.5 else self.u(51, 99)
                self.edge(parent, child, share, "equity", since)
            parent = child
        return parent

    def target(
        self, anchor_fy: int, china: float, *, glob_ratio: tuple[float, float] = (1.0, 1.3)
    ) -> str:
        t = self.ents.new(established_on=date(anchor_fy - int(self.rng.integers(3, 12)), 3, 1))
        self.fin_series(t, anchor_fy, china * self.u(*glob_ratio), china)
        return t

    def deal_dates(self, regime: str, pending: bool = False) -> tuple[date, date | None]:
        """Announcement and closing dates in one calendar year and one regime."""
        if regime == "old":
            lo, hi = date(2022, 3, 1), date(2023, 10, 31)
        else:
            lo, hi = date(2024, 2, 1), self.last_day - timedelta(days=60)
        if hi <= lo:
            log.warning("structure: the world ends too early for %s-regime deals", regime)
            hi = lo + timedelta(days=90)
        if pending:
            lo = max(lo, self.last_day - timedelta(days=45))
            hi = self.last_day - timedelta(days=5)
        for _ in range(100):
            ann = lo + timedelta(days=int(self.rng.integers(0, max(1, (hi - lo).days))))
            if pending:
                return ann, None
            close = ann + timedelta(days=int(self.rng.integers(20, 120)))
            if (
                close.year == ann.year
                and close <= self.last_day
                and thresholds_at(ann) == thresholds_at(close)
                and not (AMBIGUOUS_WINDOW[0] <= ann <= AMBIGUOUS_WINDOW[1])
            ):
                return ann, close
        ann = date(hi.year, 1, 10) if regime == "old" else hi - timedelta(days=60)
        return ann, ann + timedelta(days=30)

    def add_deal(
        self,
        kind: str,
        acquirer: str,
        target: str,
        ann: date,
        close: date | None,
        *,
        before: float = 0.0,
        after: float | None = None,
        control: bool = True,
        notified: date | None = None,
        china: float = 1e8,
    ) -> str:
        after = (
            after if after is not None else (100.0 if self.rng.random() < 0.5 else self.u(51, 99))
        )
        deal = {
            "deal_id": "",
            "announced_on": ann,
            "closed_on": close,
            "acquirer_id": acquirer,
            "target_id": target,
            "stake_before_pct": round(before, 2),
            "stake_after_pct": round(after, 2),
            "control_acquired": control,
            "consideration_cny": round(china * self.u(0.6, 3.5), 2),
            "notified_on": notified,
            "_kind": kind,
        }
        self.deals.append(deal)
        if close is not None:
            self.edge(acquirer, target, after, "equity", close)
        return kind

    def strength(self, th: Thresholds, parties: Sequence[tuple[float, float]]) -> float:
        m = margin(th, parties)
        return float(np.clip(0.15 + 0.85 * np.log(m) / np.log(5.0), 0.15, 1.0))


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``deals`` and ``market_shares``; add entities, financials and ownership rows."""
    p = _Planter(world, truth)
    rng = p.rng
    mult = int(np.clip(round(np.sqrt(world.scale.merchants / 80)), 1, 4))

    groups = [p.big_group() for _ in range(2)] + p.world_big_groups()

    def pick_group(fy: int, exclude: str | None = None) -> _Group:
        """A large group with financials for ``fy`` (the world's or this module's)."""
        fit = [g for g in groups if fy in g.fiscal and g.top != exclude]
        return fit[int(rng.integers(len(fit)))]

    def acquirer_under(g: _Group, start: date, depth: int | None = None, vie: bool = False) -> str:
        d = depth if depth is not None else int(rng.integers(0, 2))
        return g.top if d == 0 else p.chain(g, d, vie, start)

    def group_fig(g: _Group, fy: int) -> tuple[float, float]:
        return g.fiscal[fy]

    plans: list[tuple[str, bool]] = []  # (kind, is_violation)
    if world.violations:
        for kind in ("direct", "group_only", "global_only", "old_regime"):
            plans += [(kind, True)] * int(rng.integers(1, 3)) * mult
    for kind in (
        "just_below",
        "combined_below",
        "intra_group",
        "notified",
        "minority",
        "prior_year",
        "seller_group",
    ):
        plans += [(kind, False)] * int(rng.integers(1, 3)) * mult
    if rng.random() < 0.7:
        plans.append(("pending", False))
    plans = [plans[i] for i in rng.permutation(len(plans))]
    info: dict[int, dict[str, Any]] = {}

    for kind, _viol in plans:
        regime = "old" if kind in ("old_regime", "prior_year") else "new"
        ann, close = p.deal_dates(regime, pending=kind == "pending")
        fy = ann.year - 1
        th = thresholds_at(ann)
        idx = len(p.deals)
        note = ""
        if kind in (
            "direct",
            "group_only",
            "old_regime",
            "just_below",
            "notified",
            "minority",
            "pending",
            "prior_year",
            "seller_group",
        ):
            g = pick_group(fy)
            if kind == "group_only":
                vie = bool(rng.random() < 0.5)
                acq = p.chain(g, int(rng.integers(3, 5)), vie, ann)
                own_china = p.u(20e6, 300e6)
                p.fin_series(acq, fy, own_china * p.u(1.0, 1.1), own_china)
                note = (
                    f"acquirer's own China turnover {own_china / 1e6:.0f} M; group resolution"
                    f"{' through a VIE' if vie else ''} reveals {g.fiscal[fy][1] / 1e9:.1f} bn"
                )
            else:
                acq = acquirer_under(g, ann)
            gfig = group_fig(g, fy)
            if kind in ("direct", "group_only", "notified", "minority", "pending"):
                tc = th.china_each * float(np.exp(rng.uniform(0.01, 1.6)))
                if rng.random() < 0.25:
                    tc = th.china_each * p.u(1.001, 1.06)  # subtle: just above
            elif kind == "old_regime":
                tc = p.u(410e6, 790e6)  # meets 2008 (> 400 M), not 2024 (> 800 M)
            elif kind == "just_below":
                tc = p.u(700e6, 799.9e6)
                note = "target China turnover below 800 M (would have met the 2008 thresholds)"
            elif kind == "prior_year":
                tc = p.u(250e6, 390e6)
                note = "target below 400 M in the prior fiscal year, > 800 M later"
            else:  # seller_group
                tc = p.u(100e6, 700e6)
            if kind == "seller_group":
                seller = pick_group(fy, exclude=g.top)
                tgt = p.ents.new(established_on=date(fy - 8, 5, 1))
                p.fin_series(tgt, fy, tc * p.u(1.0, 1.2), tc)
                p.edge(seller.top, tgt, 100.0, "equity", date(fy - 5, 1, 1), end=close)
                note = (
                    f"target's own China turnover {tc / 1e6:.0f} M; seller group "
                    f"{seller.fiscal[fy][1] / 1e9:.1f} bn is not counted (seller exits)"
                )
            else:
                tgt = p.target(fy, tc)
            if kind == "prior_year":
                for later in range(ann.year, p.last_fy + 1):
                    big = p.u(850e6, 1.6e9)
                    p.set_fin(tgt, later, big * p.u(1.0, 1.2), big)
            tfig = (
                p.financials[(tgt, fy)]["global_turnover_cny"],
                p.financials[(tgt, fy)]["china_turnover_cny"],
            )
            parties = [gfig, tfig]
            met = notifiable(th, parties)
            if kind in ("direct", "group_only", "old_regime", "notified", "minority", "pending"):
                assert met, (kind, parties, th)
            else:
                assert not met, (kind, parties, th)
            notified = None
            before, after, control = 0.0, None, True
            if kind == "notified":
                assert close is not None
                notified = ann + timedelta(days=int((close - ann).days * p.u(0.05, 0.5)))
                note = "notified before closing"
            if kind == "minority":
                before = p.u(0, 10)
                after = p.u(before + 5, 45)
                control = False
                note = "minority stake without control"
            if kind == "pending":
                note = "announced, not yet closed: notification still possible"
            if kind == "old_regime":
                note = f"target {tc / 1e6:.0f} M: meets the 2008 thresholds in force, not 2024's"
            if kind == "direct":
                note = "group turnover meets the thresholds"
            p.add_deal(
                kind,
                acq,
                tgt,
                ann,
                close,
                before=before,
                after=after,
                control=control,
                notified=notified,
                china=tc,
            )
            info[idx] = {
                "th": th,
                "parties": parties,
                "note": note,
                "group": g.top,
                "acq_fig": gfig,
                "tgt_fig": tfig,
            }
        elif kind == "global_only":
            # A group with a modest China business but large global turnover.
            top = p.ents.new(foreign=True)
            china = p.u(0.9e9, 2.5e9)
            glob = p.u(12.5e9, 30e9)
            p.fin_series(top, fy, glob, china)
            g = _Group(
                top,
                {
                    y: (
                        p.financials[(top, y)]["global_turnover_cny"],
                        p.financials[(top, y)]["china_turnover_cny"],
                    )
                    for y in range(p.first_fy, p.last_fy + 1)
                },
            )
            acq = p.chain(g, int(rng.integers(1, 3)), False, ann)
            tc = p.u(0.82e9, 1.2e9)
            tgt = p.target(fy, tc)
            parties = [g.fiscal[fy], (p.financials[(tgt, fy)]["global_turnover_cny"], tc)]
            assert notifiable(th, parties) and sum(c for _, c in parties) < th.china_combined
            p.add_deal(kind, acq, tgt, ann, close, china=tc)
            info[idx] = {
                "th": th,
                "parties": parties,
                "group": top,
                "note": "met through the global test only (China combined below 4 bn)",
            }
        elif kind == "combined_below":
            top = p.ents.new(foreign=rng.random() < 0.5)
            china = p.u(2.4e9, 2.9e9)
            glob = p.u(8.5e9, 10.2e9)
            p.fin_series(top, fy, glob, china)
            g = _Group(
                top,
                {
                    fy: (
                        p.financials[(top, fy)]["global_turnover_cny"],
                        p.financials[(top, fy)]["china_turnover_cny"],
                    )
                },
            )
            acq = acquirer_under(g, ann)
            tc = p.u(0.85e9, min(0.99e9, 3.99e9 - g.fiscal[fy][1]))
            tgt = p.target(fy, tc, glob_ratio=(1.0, 1.05))
            parties = [g.fiscal[fy], (p.financials[(tgt, fy)]["global_turnover_cny"], tc)]
            assert not notifiable(th, parties) and notifiable(THRESHOLDS[0], parties), parties
            p.add_deal(kind, acq, tgt, ann, close, china=tc)
            info[idx] = {
                "th": th,
                "parties": parties,
                "group": top,
                "note": "combined turnovers just below 12 bn / 4 bn "
                "(would have met the 2008 thresholds)",
            }
        elif kind == "intra_group":
            g = pick_group(fy)
            tc = th.china_each * float(np.exp(rng.uniform(0.05, 1.5)))
            tgt = p.target(fy, tc)
            assert close is not None
            if rng.random() < 0.5:
                # A sibling buys the parent's stake: one outside undertaking holds >= 50 % of both.
                acq = p.chain(g, 1, False, ann)
                stake = 50.0 if rng.random() < 0.4 else p.u(50, 100)
                p.edge(g.top, tgt, stake, "equity", date(fy - 3, 6, 1), end=close)
                note = (
                    f"intra-group: {g.top} holds {stake:.0f} % of the target and controls the "
                    "acquirer"
                )
                before = 0.0
            else:
                # The acquirer already holds exactly half of the target and buys the rest.
                acq = p.chain(g, 1, False, ann)
                p.edge(acq, tgt, 50.0, "equity", date(fy - 2, 3, 1), end=close)
                note = "intra-group: the acquirer already held 50 % of the target"
                before = 50.0
            parties = [g.fiscal[fy], (p.financials[(tgt, fy)]["global_turnover_cny"], tc)]
            p.add_deal(kind, acq, tgt, ann, close, before=before, after=100.0, china=tc)
            info[idx] = {"th": th, "parties": parties, "group": g.top, "note": note}

    # ------------------------------------------------------------------ the Art. 26 case
    idx = len(p.deals)
    ann, close = p.deal_dates("new")
    fy = ann.year - 1
    a_top = p.ents.new(city_code="330100")
    ca = p.u(150e6, 600e6)
    p.fin_series(a_top, fy, ca * p.u(1.0, 1.1), ca)
    tc = p.u(80e6, 350e6)
    tgt = p.target(fy, tc)
    th = thresholds_at(ann)
    parties = [
        (p.financials[(a_top, fy)]["global_turnover_cny"], ca),
        (p.financials[(tgt, fy)]["global_turnover_cny"], tc),
    ]
    assert not notifiable(th, parties)
    p.add_deal("high_share_below", a_top, tgt, ann, close, china=tc)
    info[idx] = {
        "th": th,
        "parties": parties,
        "group": a_top,
        "note": "below the thresholds; combined share >= 50 % (AML art. 26 candidate)",
    }

    # ------------------------------------------------------------------ ids, truth
    order = np.argsort([d["announced_on"] for d in p.deals], kind="stable")
    for n, i in enumerate(order):
        p.deals[i]["deal_id"] = f"DL{p.deals[i]['announced_on'].year}{n + 1:04d}"
    violations_kinds = {"direct", "group_only", "global_only", "old_regime"}
    for i, d in enumerate(p.deals):
        meta = info[i]
        if d["_kind"] in violations_kinds:
            truth.add(
                FAMILY,
                SUBJECT,
                d["deal_id"],
                strength=p.strength(meta["th"], meta["parties"]),
                note=f"{d['_kind']}: {meta['note']} ({meta['th'].regime})",
            )
        else:
            truth.lookalike(FAMILY, SUBJECT, d["deal_id"], note=f"{d['_kind']}: {meta['note']}")

    # ------------------------------------------------------------------ market shares
    shares: list[dict[str, Any]] = []
    concentrating = [
        i
        for i, d in enumerate(p.deals)
        if d["_kind"] in (("direct",) if world.violations else ("notified",))
    ]
    chosen = [concentrating[int(rng.integers(len(concentrating)))]] if concentrating else []
    chosen.append(len(p.deals) - 1)  # the art. 26 case
    market_names = [
        ("网络餐饮外卖平台服务", "life_services"),
        ("社区团购平台服务", "online_sales"),
        ("网络直播电商服务", "social_entertainment"),
        ("本地生鲜即时零售", "online_sales"),
    ]
    for m, i in enumerate(chosen):
        d = p.deals[i]
        acq_group = info[i]["group"]
        year = d["announced_on"].year
        name, sector = market_names[m % len(market_names)]
        geography = "CN" if m == 0 else "330000"
        market_id = f"MKT-DEAL-{m + 1}"
        competitors = [p.ents.new() for _ in range(int(rng.integers(2, 5)))]
        for period in (year - 2, year - 1):
            a = p.u(28, 40)
            t = p.u(max(12.0, 50.5 - a), 25)
            rest = (100 - a - t) * p.u(0.7, 1.0)
            split = rng.dirichlet(np.ones(len(competitors))) * rest
            parts = [(acq_group, a), (d["target_id"], t)]
            parts += list(zip(competitors, split, strict=True))
            for entity_id, share in parts:
                shares.append(
                    {
                        "market_id": market_id,
                        "market_name": f"{name}（{'全国' if m == 0 else '浙江省'}）",
                        "period": str(period),
                        "entity_id": entity_id,
                        "share_pct": round(float(share), 2),
                        "basis": "gmv",
                        "geography": geography,
                        "sector": sector,
                    }
                )
    shares += _platform_markets(world, p)

    p.ents.flush()
    if p.ownership:
        world.add_rows("ownership", pd.DataFrame(p.ownership))
    if p.financials:
        world.add_rows("financials", pd.DataFrame(list(p.financials.values())))
    deals = pd.DataFrame(p.deals).drop(columns="_kind")
    out.write("deals", deals)
    out.write("market_shares", pd.DataFrame(shares))
    log.info(
        "structure: %d deals (%d planted), %d market-share rows",
        len(deals),
        sum(1 for d in p.deals if d["_kind"] in violations_kinds),
        len(shares),
    )


def _platform_markets(world: World, p: _Planter) -> list[dict[str, Any]]:
    """One market per platform category: operators' groups with Dirichlet shares."""
    platforms = world.frame("platforms")
    if platforms.empty:
        return []
    rng = world.rng_for("structure.markets")
    own = world.frame("ownership")
    rows: list[dict[str, Any]] = []
    names = {
        "online_sales": "综合电商平台服务",
        "life_services": "本地生活服务平台",
        "social_entertainment": "社交娱乐平台服务",
        "information": "网络信息服务平台",
        "financial_services": "网络支付与消费金融服务",
        "computing_applications": "应用分发与云服务",
    }
    for category, label in names.items():
        mask = platforms["categories"].apply(lambda cs, c=category: c in list(cs))
        operators = platforms.loc[mask, "operator_id"].dropna().unique()
        for period in range(p.last_day.year - 2, p.last_day.year):
            day = date(period, 12, 31)
            groups = sorted({ultimate_controller(str(o), day, own) for o in operators})
            if len(groups) < 2:
                continue
            weights = rng.dirichlet(np.ones(len(groups)) * 0.8) * 100 * p.u(0.75, 0.98)
            for entity_id, share in zip(groups, weights, strict=True):
                rows.append(
                    {
                        "market_id": f"MKT-{category}",
                        "market_name": f"{label}（全国）",
                        "period": str(period),
                        "entity_id": entity_id,
                        "share_pct": round(float(share), 2),
                        "basis": "users",
                        "geography": "CN",
                        "sector": category,
                    }
                )
    return rows
