"""Deal screening: must this concentration be notified, was it, and what does it do to markets.

For each deal (a row of the standard's ``deals`` table, or a proposed one):

1. **Is it a concentration?** Only an acquisition of control (``control_acquired``) is
   (AML 2022 art. 25; 2008 art. 20).
2. **Intra-group exemption** (AML 2022 art. 27; 2008 art. 22): no notification where a
   party holds at least ``cn.aml.merger_review.group_exemption_min_share_pct`` of the
   votes of every other party, or one undertaking outside holds that much of every
   party. Votes held through controlled entities count; contractual control (a VIE) is
   read as holding the votes it transfers.
3. **The undertakings concerned and their turnover** in the fiscal year before the
   announcement: the acquirer counts its whole group (the consolidated figures of its
   ultimate controller on the announcement day, see
   :mod:`fairwatch.structure.ownership`); the target counts itself and what it controls
   (its own consolidated row): when the seller gives up control, only the part sold
   concerns the concentration (SAMR notification guidance).
4. **The thresholds in force on the announcement day**
   (``cn.aml.merger_thresholds.*``): (global combined > X or China combined > Y) and at
   least two parties each above Z in China, all strict.
5. **Notification**: a notifiable deal that closed without ``notified_on`` (or notified
   only after closing) was implemented without clearance -- the violation
   ``structure.unnotified_concentration`` reports. A notifiable deal not yet closed is
   ``notification_due``.
6. **Market effects** from ``market_shares`` (group-level shares): in each market where
   both the acquirer's group and the target hold a share, the pre- and post-merger HHI,
   its delta, the combined share, the AML art. 24 dominance presumption, the simple-case
   criterion (horizontal combined share) and the EU / US concentration bands.
7. **Price effects**, where a reviewer supplies price evidence (:class:`PriceEvidence`;
   the standard carries no prices or margins per relevant market): GUPPI and upward
   pricing pressure from margins and diversion ratios, and a logit merger simulation
   calibrated from the market's shares, the prices and one margin
   (:func:`price_effects`; ``fairwatch deal propose --price ... --margin ...``).

Every figure carries the parameter and citation it was judged against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import pandas as pd

from fairwatch.errors import DataError, ParameterLookupError
from fairwatch.structure._values import jsonable as _jsonable
from fairwatch.structure._values import opt_day as _day
from fairwatch.structure._values import opt_float as _num
from fairwatch.structure.ownership import GroupFigures, OwnershipGraph, Snapshot, empty_ownership

GLOBAL = "cn.aml.merger_thresholds.global_combined_cny"
CHINA = "cn.aml.merger_thresholds.china_combined_cny"
EACH = "cn.aml.merger_thresholds.each_party_china_cny"
MIN_PARTIES = "cn.aml.merger_thresholds.min_parties_above_each_party"
GROUP_EXEMPTION = "cn.aml.merger_review.group_exemption_min_share_pct"
DOMINANCE_ONE = "cn.aml.dominance.single_firm_share"
DOMINANCE_TWO = "cn.aml.dominance.two_firms_share"
DOMINANCE_THREE = "cn.aml.dominance.three_firms_share"
DOMINANCE_MIN = "cn.aml.dominance.joint_min_individual_share"
SIMPLE_HORIZONTAL = "cn.aml.simple_case.horizontal_max_combined_share_pct"
EU_SAFE = "eu.merger.hhi.unlikely_concern_below"
EU_MID_UPPER = "eu.merger.hhi.mid_band_upper"
EU_MID_DELTA = "eu.merger.hhi.mid_band_max_delta"
EU_HIGH_DELTA = "eu.merger.hhi.high_band_max_delta"
US_HHI = "us.merger.hhi.presumption_min"
US_HHI_DELTA = "us.merger.hhi.presumption_min_delta"
#: A citation of the amended AML; its instrument's effective date says which AML applied.
AML_2022 = "cn.aml2022.art26"

#: Outcomes of the notification screen.
NO_CONTROL = "no_control"
INTRA_GROUP = "intra_group"
TURNOVER_MISSING = "turnover_missing"
BELOW = "below_thresholds"
NOTIFIED = "notified"
NOTIFIED_LATE = "notified_after_closing"
DUE = "notification_due"
UNNOTIFIED = "unnotified"
VIOLATIONS = frozenset({UNNOTIFIED, NOTIFIED_LATE})


@dataclass(frozen=True)
class Figure:
    """A figure compared with a legal or policy threshold, with where the threshold comes from."""

    name: str
    value: float | None
    threshold: float | None
    passed: bool | None
    parameter: str | None = None
    citation: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Regime:
    """The notification thresholds in force on one day."""

    since: date
    global_combined: float
    china_combined: float
    each_party_china: float
    min_parties: int
    citation: str

    @classmethod
    def at(cls, law: Any, day: date) -> Regime:
        entry = law.entry(EACH, day)
        return cls(
            since=entry.start,
            global_combined=float(law.value(GLOBAL, day)),
            china_combined=float(law.value(CHINA, day)),
            each_party_china=float(entry.value),
            min_parties=int(law.value(MIN_PARTIES, day)),
            citation=entry.citation.key or EACH,
        )


@dataclass(frozen=True)
class Party:
    """An undertaking concerned and the turnover counted for it."""

    role: str  # acquirer | target
    entity_id: str
    undertaking_id: str  # whose consolidated figures count
    figures: GroupFigures
    counted_as: str


@dataclass(frozen=True)
class Exemption:
    holder: str
    votes_pct: dict[str, float]
    threshold: float
    text: str
    citation: str


@dataclass(frozen=True)
class MarketEffect:
    """What a deal does to one relevant market (shares in percent, HHI in points)."""

    market_id: str
    market_name: str
    period: str
    acquirer_share: float
    target_share: float
    combined_share: float
    hhi_pre: float
    hhi_post: float
    delta: float
    firms: int
    dominance: str | None  # which AML art. 24 presumption the merged firm meets
    simple_case: bool
    eu_band: str  # safe | mid_band_safe | high_band_safe | outside_safe_harbour
    us_presumption: bool
    figures: tuple[Figure, ...] = ()


@dataclass
class DealScreen:
    """The outcome of screening one deal (see the module docstring)."""

    deal_id: str
    acquirer_id: str
    target_id: str
    announced_on: date
    closed_on: date | None
    notified_on: date | None
    control_acquired: bool
    fiscal_year: int
    regime: Regime | None
    parties: tuple[Party, ...]
    status: str
    reason: str
    figures: tuple[Figure, ...] = ()
    exemption: Exemption | None = None
    notifiable: bool | None = None
    margin: float | None = None
    effects: tuple[MarketEffect, ...] = ()
    citations: tuple[str, ...] = ()
    consideration_cny: float | None = None
    stake_before_pct: float | None = None
    stake_after_pct: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def violation(self) -> bool:
        return self.status in VIOLATIONS

    @property
    def acquirer_group(self) -> str:
        return self.parties[0].undertaking_id if self.parties else self.acquirer_id

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["violation"] = self.violation
        return _jsonable(out)


class DealScreener:
    """Screens deals against one lake's ownership, financials and market shares."""

    def __init__(
        self,
        law: Any,
        *,
        ownership: pd.DataFrame | None = None,
        financials: pd.DataFrame | None = None,
        entities: pd.DataFrame | None = None,
        market_shares: pd.DataFrame | None = None,
        graph: OwnershipGraph | None = None,
    ) -> None:
        self.law = law
        if graph is None:
            own = ownership if ownership is not None else empty_ownership()
            graph = OwnershipGraph(own, entities=entities, financials=financials, law=law)
        self.graph = graph
        self.entities = entities
        self.market_shares = market_shares

    @classmethod
    def from_tables(cls, law: Any, tables: Mapping[str, pd.DataFrame]) -> DealScreener:
        if "financials" not in tables:
            raise DataError("deal screening needs the financials table (turnovers); it is missing")
        return cls(
            law,
            ownership=tables.get("ownership"),
            financials=tables["financials"],
            entities=tables.get("entities"),
            market_shares=tables.get("market_shares"),
        )

    # -- screening ---------------------------------------------------------------------

    def screen_all(self, deals: pd.DataFrame, as_of: date | None = None) -> list[DealScreen]:
        """Screen every deal announced on or before ``as_of`` (all, without it)."""
        out = []
        for row in deals.sort_values("deal_id").to_dict("records"):
            ann = _day(row.get("announced_on"))
            if ann is None:
                raise DataError(f"deal {row.get('deal_id')!r} has no announced_on")
            if as_of is not None and ann > as_of:
                continue
            out.append(self.screen(row, as_of=as_of))
        return out

    def screen(self, deal: Mapping[str, Any], as_of: date | None = None) -> DealScreen:
        """Screen one deal given as a mapping with the ``deals`` columns."""
        deal_id = str(deal.get("deal_id") or "proposed")
        ann = _day(deal.get("announced_on"))
        if ann is None:
            raise DataError(f"deal {deal_id!r}: announced_on is required")
        closed = _day(deal.get("closed_on"))
        notified = _day(deal.get("notified_on"))
        if as_of is not None:  # what was known on the as-of day
            closed = closed if closed is not None and closed <= as_of else None
            notified = notified if notified is not None and notified <= as_of else None
        acquirer, target = str(deal["acquirer_id"]), str(deal["target_id"])
        fy = ann.year - 1
        snap = self.graph.at(ann)
        base: dict[str, Any] = {
            "deal_id": deal_id,
            "acquirer_id": acquirer,
            "target_id": target,
            "announced_on": ann,
            "closed_on": closed,
            "notified_on": notified,
            "control_acquired": bool(deal.get("control_acquired")),
            "fiscal_year": fy,
            "consideration_cny": _num(deal.get("consideration_cny")),
            "stake_before_pct": _num(deal.get("stake_before_pct")),
            "stake_after_pct": _num(deal.get("stake_after_pct")),
        }
        try:
            regime: Regime | None = Regime.at(self.law, ann)
        except ParameterLookupError:
            regime = None
        parties = self._parties(acquirer, target, fy, ann, snap)
        effects = self.market_effects(parties[0].undertaking_id, target, ann, acquirer)
        common: dict[str, Any] = {**base, "regime": regime, "parties": parties, "effects": effects}
        aml = "cn.aml2022" if aml2022_applies(self.law, closed or ann) else "cn.aml2008"
        if not base["control_acquired"]:
            return DealScreen(
                **common,
                status=NO_CONTROL,
                reason="no acquisition of control: not a concentration",
                citations=(f"{aml}.art{25 if aml == 'cn.aml2022' else 20}",),
            )
        exemption = self._intra_group(acquirer, target, ann, snap)
        if exemption is not None:
            return DealScreen(
                **common,
                status=INTRA_GROUP,
                reason=exemption.text,
                exemption=exemption,
                citations=(exemption.citation,),
            )
        if regime is None:
            return DealScreen(
                **common,
                status=TURNOVER_MISSING,
                reason=f"no notification thresholds in force on {ann}",
            )
        notifiable, figures, margin = judge_thresholds(regime, parties)
        cites = (regime.citation, f"{aml}.art{26 if aml == 'cn.aml2022' else 21}")
        if notifiable is None:
            missing = [p.undertaking_id for p in parties if p.figures.china_turnover_cny is None]
            return DealScreen(
                **common,
                status=TURNOVER_MISSING,
                reason=f"China turnover for FY{fy} not reported for {', '.join(missing)}",
                figures=figures,
                citations=cites,
            )
        status, reason = _notification_status(notifiable, closed, notified)
        return DealScreen(
            **common,
            status=status,
            reason=reason,
            figures=figures,
            notifiable=notifiable,
            margin=margin,
            citations=cites,
        )

    # -- the pieces --------------------------------------------------------------------

    def _parties(
        self, acquirer: str, target: str, fy: int, day: date, snap: Snapshot
    ) -> tuple[Party, Party]:
        group = self.graph.group_financials(acquirer, fy, day)
        top = snap.ultimate_controller(acquirer)
        how = (
            "the acquirer's own consolidated figures"
            if top == acquirer
            else f"the group of its ultimate controller {top} (consolidated)"
        )
        if group.basis == "sum_of_members":
            how = f"the sum of the top reporting members of {top}'s group"
        tgt = self.graph.own_financials(target, fy)
        return (
            Party("acquirer", acquirer, top, group, how),
            Party("target", target, target, tgt, "the target and what it controls"),
        )

    def _intra_group(
        self, acquirer: str, target: str, day: date, snap: Snapshot
    ) -> Exemption | None:
        entry = self.law.entry(GROUP_EXEMPTION, day)
        threshold = float(entry.value)
        cite = entry.citation.key or GROUP_EXEMPTION

        def holds(holder: str, party: str) -> float:
            if holder in snap.controllers(party):
                return 100.0  # controls it (by votes or contract)
            return snap.votes_held(holder, party)

        for a, b in ((acquirer, target), (target, acquirer)):
            pct = holds(a, b)
            if pct >= threshold:
                return Exemption(
                    a,
                    {b: pct},
                    threshold,
                    f"intra-group: {a} holds {pct:g} % of the votes of {b} (>= {threshold:g} %)",
                    cite,
                )
        for holder in snap.controllers(acquirer) + snap.controllers(target):
            pa, pt = holds(holder, acquirer), holds(holder, target)
            if pa >= threshold and pt >= threshold:
                return Exemption(
                    holder,
                    {acquirer: pa, target: pt},
                    threshold,
                    f"intra-group: {holder} holds >= {threshold:g} % of both parties "
                    f"({pa:g} % of {acquirer}, {pt:g} % of {target})",
                    cite,
                )
        return None

    def market_effects(
        self, acquirer_group: str, target: str, day: date, acquirer: str | None = None
    ) -> tuple[MarketEffect, ...]:
        """Horizontal effects in every market where both sides hold a share."""
        ms = self.market_shares
        if ms is None or ms.empty:
            return ()
        effects = []
        acq_ids = {acquirer_group} | ({acquirer} if acquirer else set())
        for market_id, rows in ms.groupby("market_id", sort=True):
            periods = sorted(str(p) for p in rows["period"].unique())
            usable = [p for p in periods if p[:4].isdigit() and int(p[:4]) < day.year]
            if not usable:
                continue
            period = usable[-1]
            cur = rows[rows["period"].astype(str) == period]
            shares = cur.groupby(cur["entity_id"].astype(str))["share_pct"].sum()
            a = float(sum(shares.get(i, 0.0) for i in acq_ids))
            t = float(shares.get(target, 0.0))
            if a <= 0 or t <= 0:
                continue
            others = [float(s) for e, s in shares.items() if e not in acq_ids and e != target]
            effects.append(
                self._effect(
                    str(market_id), str(cur["market_name"].iloc[0]), period, a, t, others, day
                )
            )
        return tuple(effects)

    def _effect(
        self,
        market_id: str,
        name: str,
        period: str,
        a: float,
        t: float,
        others: Sequence[float],
        day: date,
    ) -> MarketEffect:
        law = self.law
        pre = a * a + t * t + sum(s * s for s in others)
        combined = a + t
        post = combined * combined + sum(s * s for s in others)
        delta = post - pre
        dominance, dom_fig = _dominance(law, day, combined, others)
        simple_max = float(law.value(SIMPLE_HORIZONTAL, day))
        eu_band, eu_fig = _eu_band(law, day, post, delta)
        us_min, us_delta = float(law.value(US_HHI, day)), float(law.value(US_HHI_DELTA, day))
        us = post > us_min and delta > us_delta
        figures = (
            *dom_fig,
            Figure(
                "combined share (simple case, horizontal)",
                combined,
                simple_max,
                combined < simple_max,
                SIMPLE_HORIZONTAL,
                citation_key(law, SIMPLE_HORIZONTAL, day),
            ),
            eu_fig,
            Figure(
                "post-merger HHI (US presumption; delta must also exceed "
                f"{us_delta:g}, here {delta:.0f})",
                post,
                us_min,
                us,
                US_HHI,
                citation_key(law, US_HHI, day),
            ),
        )
        return MarketEffect(
            market_id=market_id,
            market_name=name,
            period=period,
            acquirer_share=round(a, 4),
            target_share=round(t, 4),
            combined_share=round(combined, 4),
            hhi_pre=round(pre, 2),
            hhi_post=round(post, 2),
            delta=round(delta, 2),
            firms=len(others) + 2,
            dominance=dominance,
            simple_case=combined < simple_max,
            eu_band=eu_band,
            us_presumption=us,
            figures=figures,
        )


def judge_thresholds(
    regime: Regime, parties: Sequence[Party]
) -> tuple[bool | None, tuple[Figure, ...], float | None]:
    """Whether the parties' turnovers meet ``regime`` (``None``: a China figure is missing).

    A missing global turnover is bounded below by the China turnover (global includes
    China), so the global test can still pass; if it would need the missing figure and
    the China test fails, the answer is ``None``.
    """
    chinas = [p.figures.china_turnover_cny for p in parties]
    globs = [p.figures.global_turnover_cny for p in parties]
    cite = regime.citation
    figures: list[Figure] = []
    for p, china in zip(parties, chinas, strict=True):
        figures.append(
            Figure(
                f"{p.role} {p.undertaking_id}: China turnover FY{p.figures.fiscal_year}",
                china,
                regime.each_party_china,
                None if china is None else china > regime.each_party_china,
                EACH,
                cite,
                note=p.counted_as,
            )
        )
    if any(c is None for c in chinas):
        return None, tuple(figures), None
    known = [float(c) for c in chinas if c is not None]
    above = sum(1 for c in known if c > regime.each_party_china)
    each_ok = above >= regime.min_parties
    china_sum = sum(known)
    glob_lower = sum(float(g) if g is not None else c for g, c in zip(globs, known, strict=True))
    glob_complete = all(g is not None for g in globs)
    china_ok = china_sum > regime.china_combined
    glob_ok = glob_lower > regime.global_combined
    figures += [
        Figure(
            f"parties above the per-party China threshold (need {regime.min_parties})",
            float(above),
            float(regime.min_parties),
            each_ok,
            MIN_PARTIES,
            cite,
        ),
        Figure(
            "combined worldwide turnover" + ("" if glob_complete else " (lower bound)"),
            glob_lower,
            regime.global_combined,
            glob_ok if (glob_ok or glob_complete) else None,
            GLOBAL,
            cite,
        ),
        Figure("combined China turnover", china_sum, regime.china_combined, china_ok, CHINA, cite),
    ]
    if not each_ok:
        result: bool | None = False
    elif glob_ok or china_ok:
        result = True
    else:
        result = False if glob_complete else None
    ordered = sorted(known, reverse=True)
    each_ratio = (
        ordered[regime.min_parties - 1] / regime.each_party_china
        if len(ordered) >= regime.min_parties
        else 0.0
    )
    combined_ratio = max(glob_lower / regime.global_combined, china_sum / regime.china_combined)
    return result, tuple(figures), min(each_ratio, combined_ratio)


def _notification_status(
    notifiable: bool, closed: date | None, notified: date | None
) -> tuple[str, str]:
    if not notifiable:
        return BELOW, "the turnovers do not meet the notification thresholds in force"
    if notified is not None and (closed is None or notified <= closed):
        return NOTIFIED, f"notifiable and notified on {notified}"
    if closed is None:
        return DUE, "notifiable: must be notified and cleared before closing"
    if notified is not None:
        return NOTIFIED_LATE, f"notifiable; closed on {closed} but notified only on {notified}"
    return UNNOTIFIED, f"notifiable; closed on {closed} without notification"


def _dominance(
    law: Any, day: date, combined: float, others: Sequence[float]
) -> tuple[str | None, tuple[Figure, ...]]:
    """The AML art. 24 presumption the merged firm meets (shares in percent)."""
    one = _frac(law.value(DOMINANCE_ONE, day))
    two = _frac(law.value(DOMINANCE_TWO, day))
    three = _frac(law.value(DOMINANCE_THREE, day))
    floor = _frac(law.value(DOMINANCE_MIN, day))
    cite = citation_key(law, DOMINANCE_ONE, day)
    s = combined / 100
    rivals = sorted((o / 100 for o in others), reverse=True)
    top2 = s + (rivals[0] if rivals else 0.0)
    top3 = top2 + (rivals[1] if len(rivals) > 1 else 0.0)
    fig = (
        Figure(
            "merged firm's share (single-firm dominance presumption)",
            combined,
            one * 100,
            s >= one,
            DOMINANCE_ONE,
            cite,
        ),
    )
    if s >= one:
        return "single_firm", fig
    if s >= floor and top2 >= two:
        return "two_firms", fig
    if s >= floor and top3 >= three:
        return "three_firms", fig
    return None, fig


def _eu_band(law: Any, day: date, post: float, delta: float) -> tuple[str, Figure]:
    safe = float(law.value(EU_SAFE, day))
    mid_upper = float(law.value(EU_MID_UPPER, day))
    mid_delta = float(law.value(EU_MID_DELTA, day))
    high_delta = float(law.value(EU_HIGH_DELTA, day))
    if post < safe:
        band, ok, limit = "safe", True, safe
    elif post <= mid_upper:
        band = "mid_band_safe" if delta < mid_delta else "outside_safe_harbour"
        ok, limit = delta < mid_delta, mid_delta
    else:
        band = "high_band_safe" if delta < high_delta else "outside_safe_harbour"
        ok, limit = delta < high_delta, high_delta
    fig = Figure(
        f"HHI delta (post-merger HHI {post:.0f}; EU 2004 guidelines bands)",
        delta,
        limit,
        ok,
        EU_SAFE if post < safe else (EU_MID_DELTA if post <= mid_upper else EU_HIGH_DELTA),
        citation_key(law, EU_SAFE, day),
    )
    return band, fig


def aml2022_applies(law: Any, day: date) -> bool:
    """Whether the amended AML was in force on ``day`` (its effective date, from the law
    store), so conduct then is judged under its articles rather than the 2008 law's."""
    effective: date = law.citation(AML_2022).effective_on
    return day >= effective


def citation_key(law: Any, name: str, day: date) -> str:
    """The citation key of the value of parameter ``name`` in force on ``day``."""
    key: str | None = law.entry(name, day).citation.key
    return key or name


def _frac(value: Any) -> float:
    return float(Fraction(value)) if isinstance(value, str) else float(value)


@dataclass(frozen=True)
class PriceEvidence:
    """Price evidence a reviewer supplies for one relevant market (the standard has none).

    ``prices`` and ``margins`` are per undertaking (group-level ids as in
    ``market_shares``; margins as fractions of price); ``diversion[(a, b)]`` is the share
    of a's lost sales that go to b. ``outside_share`` is the share of buyers who would
    buy none of the market's products (the logit outside good): market shares are scaled
    by ``1 - outside_share``.
    """

    prices: Mapping[str, float]
    margins: Mapping[str, float] = field(default_factory=dict)
    diversion: Mapping[tuple[str, str], float] = field(default_factory=dict)
    outside_share: float = 0.3


@dataclass(frozen=True)
class PriceEffects:
    """Upward pricing pressure, GUPPI and a calibrated logit merger simulation."""

    market_id: str
    guppi: dict[str, float]  # per merging party: GUPPI of its own product
    upp: dict[str, float]
    logit_mean_price_change_pct: float | None
    logit_parties_price_change_pct: dict[str, float]
    calibrated_from: str | None
    notes: tuple[str, ...] = ()


def price_effects(
    effect: MarketEffect,
    shares: Mapping[str, float],
    acquirer_group: str,
    target: str,
    evidence: PriceEvidence,
) -> PriceEffects:
    """UPP / GUPPI (when margins and diversion ratios are given) and a logit simulation.

    ``shares`` are the market's shares in percent by undertaking (as ``market_shares``
    holds them, the acquirer's group under ``acquirer_group``). The logit simulation is
    calibrated from those shares, the given prices and one margin (the acquirer's if
    given, else the first given), each undertaking pricing one product (Werden and
    Froeb 1994; see :func:`fairwatch.structure.merger_sim.simulate_logit_merger`).
    """
    from fairwatch.structure import merger_sim as ms

    notes: list[str] = []
    pair = ((acquirer_group, target), (target, acquirer_group))
    guppi: dict[str, float] = {}
    upp: dict[str, float] = {}
    for a, b in pair:
        d = evidence.diversion.get((a, b))
        if d is None or a not in evidence.prices or b not in evidence.prices:
            continue
        if b in evidence.margins:
            guppi[a] = ms.guppi(d, evidence.prices[b], evidence.margins[b], evidence.prices[a])
            if a in evidence.margins:
                upp[a] = ms.upp(
                    evidence.prices[a],
                    evidence.margins[a],
                    d,
                    evidence.prices[b],
                    evidence.margins[b],
                )
    if not guppi:
        notes.append("GUPPI / UPP need both parties' prices, a margin and a diversion ratio")
    priced = [e for e in sorted(shares) if e in evidence.prices and shares[e] > 0]
    mean_change: float | None = None
    parties: dict[str, float] = {}
    calibrated: str | None = None
    margin_of = [e for e in (acquirer_group, *priced) if e in evidence.margins and e in priced]
    if len(priced) < len([e for e in shares if shares[e] > 0]):
        notes.append("the logit simulation needs a price for every undertaking in the market")
    elif not margin_of:
        notes.append("the logit simulation needs one margin")
    else:
        calibrated = margin_of[0]
        scale = (1.0 - evidence.outside_share) / sum(shares[e] for e in priced)
        result = ms.simulate_logit_merger(
            [evidence.prices[e] for e in priced],
            [shares[e] * scale for e in priced],
            priced,
            {target: acquirer_group},
            margin=evidence.margins[calibrated],
            margin_index=priced.index(calibrated),
        )
        mean_change = round(100 * result.mean_relative_price_change, 6)
        for e in (acquirer_group, target):
            if e in priced:
                parties[e] = round(100 * float(result.relative_price_change[priced.index(e)]), 6)
    return PriceEffects(
        effect.market_id,
        {k: round(v, 6) for k, v in guppi.items()},
        {k: round(v, 6) for k, v in upp.items()},
        mean_change,
        parties,
        calibrated,
        tuple(notes),
    )


def market_shares_of(market_shares: pd.DataFrame, market_id: str, period: str) -> dict[str, float]:
    """The shares (percent) by undertaking of one market and period."""
    rows = market_shares[
        (market_shares["market_id"].astype(str) == market_id)
        & (market_shares["period"].astype(str) == period)
    ]
    return {str(k): float(v) for k, v in rows.groupby("entity_id")["share_pct"].sum().items()}
