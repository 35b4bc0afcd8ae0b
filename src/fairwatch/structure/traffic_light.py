"""The capital "traffic light": red, yellow or green for a deal or a proposed investment.

No official criteria are published (facts file, section 4), so fairwatch screens with
its own criteria, each tied to a legal lever and each a published, regulator-editable
policy parameter under ``cn.traffic_light.*`` (statutory tests use the statute's
parameters). A deal gets the most severe colour among its reasons; green means no
reason applies. Every reason names its figures, thresholds and citations.

**Red** -- stop: a legal bar.

- ``prohibited_market_access``: a target in news gathering, editing or broadcasting
  (industry codes ``red.news_industry_codes`` or licences ``red.news_licences``) bought
  by a group whose ultimate controller is not a state entity (market access negative
  list).
- ``unlicensed_financial_business``: a target in financial business
  (``red.financial_industry_codes``) holding none of ``red.financial_licences``.
- ``notification_missing``: a notifiable concentration closed without (or before)
  notification (AML 2022 arts. 26, 58).
- ``dominance_large_delta``: after the deal the acquirer's group reaches an AML art. 24
  dominance presumption in a relevant market and the HHI rises by at least
  ``red.dominance_min_delta_hhi``.

**Yellow** -- warn, monitor, consider review.

- ``notification_due``: notifiable and not yet closed: notify and wait for clearance.
- ``turnover_missing``: an acquisition of control whose notification duty cannot be
  judged because a party's China turnover is not reported.
- ``cross_sector_expansion``: the acquirer's group is a platform group graded in
  ``yellow.expansion_grades`` and the target is outside its core business (no shared
  platform category or, for a target without platforms, no shared GB/T 4754 industry
  group), or the group entered at least ``yellow.expansion_min_new_sectors`` new
  industry groups within ``yellow.expansion_window_months``.
- ``serial_acquisitions``: at least ``yellow.serial_min_acquisitions`` acquisitions of
  control by the group within ``yellow.serial_window_months``.
- ``killer_acquisition_draft_test`` (acquisitions of control only): the dropped 2022
  draft threshold (a party's China turnover, the target's valuation, the target's China
  share of its turnover).
- ``killer_acquisition_pattern``: a young (``killer_acquisition.young_target_max_age_years``),
  fast-growing (``killer_acquisition.fast_growth_min_pct``) target adjacent to the
  acquirer's group (same industry group, or both present in one relevant market).
- ``concentration_warning_band``: post-merger HHI and delta outside the safe bands
  ``yellow.hhi_*``.
- ``call_in_candidate``: below the thresholds, but one of the effects above applies
  (AML art. 26(2): SAMR may require notification).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import pandas as pd

from fairwatch.structure._values import jsonable as _jsonable
from fairwatch.structure._values import opt_day as _day
from fairwatch.structure.deals import (
    BELOW,
    DUE,
    EACH,
    INTRA_GROUP,
    TURNOVER_MISSING,
    VIOLATIONS,
    DealScreen,
    DealScreener,
    Figure,
    MarketEffect,
    citation_key,
)

P = "cn.traffic_light."
NEWS_CODES = P + "red.news_industry_codes"
NEWS_LICENCES = P + "red.news_licences"
FIN_CODES = P + "red.financial_industry_codes"
FIN_LICENCES = P + "red.financial_licences"
DOMINANCE_DELTA = P + "red.dominance_min_delta_hhi"
HHI_SAFE = P + "yellow.hhi_safe_below"
HHI_MID_UPPER = P + "yellow.hhi_mid_upper"
HHI_MID_DELTA = P + "yellow.hhi_mid_max_delta"
HHI_HIGH_DELTA = P + "yellow.hhi_high_max_delta"
EXPANSION_GRADES = P + "yellow.expansion_grades"
EXPANSION_WINDOW = P + "yellow.expansion_window_months"
EXPANSION_MIN = P + "yellow.expansion_min_new_sectors"
SERIAL_WINDOW = P + "yellow.serial_window_months"
SERIAL_MIN = P + "yellow.serial_min_acquisitions"
KILLER_ACQ_TURNOVER = P + "killer_acquisition.acquirer_china_turnover_cny"
KILLER_VALUATION = P + "killer_acquisition.target_valuation_cny"
KILLER_CHINA_SHARE = P + "killer_acquisition.target_china_share_of_global"
YOUNG_AGE = P + "killer_acquisition.young_target_max_age_years"
FAST_GROWTH = P + "killer_acquisition.fast_growth_min_pct"

RED, YELLOW, GREEN = "red", "yellow", "green"
_RANK = {GREEN: 0, YELLOW: 1, RED: 2}

#: ``grade_of(entity_id, day)``: the platform grade of the group an entity heads
#: (``super`` / ``large`` / ``small_medium``), or ``None`` when it runs no platform.
GradeOf = Callable[[str, date], str | None]


@dataclass(frozen=True)
class Reason:
    """Why a deal gets a colour: the test, what it found, and its legal footing."""

    code: str
    colour: str
    text: str
    figures: tuple[Figure, ...] = ()
    citations: tuple[str, ...] = ()


@dataclass
class Light:
    """A deal's colour with every reason (empty for green) and the screen behind it."""

    deal_id: str
    colour: str
    reasons: list[Reason]
    screen: DealScreen
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(
            {
                "deal_id": self.deal_id,
                "colour": self.colour,
                "reasons": [asdict(r) for r in self.reasons],
                "screen": self.screen.to_dict(),
            }
        )


class TrafficLight:
    """Colours deals and proposals against one lake's structural tables."""

    def __init__(
        self,
        law: Any,
        tables: Mapping[str, pd.DataFrame],
        *,
        grade_of: GradeOf | None = None,
    ) -> None:
        self.law = law
        self.tables = tables
        self.screener = DealScreener.from_tables(law, tables)
        self.graph = self.screener.graph
        self.grade_of = grade_of
        self.entities = _index(tables.get("entities"), "entity_id")
        self.deals = tables.get("deals")
        self.platforms = tables.get("platforms")

    # -- entry points ------------------------------------------------------------------

    def all(self, as_of: date | None = None) -> list[Light]:
        """The light of every deal in the lake announced by ``as_of``."""
        if self.deals is None or self.deals.empty:
            return []
        return [self.light(s) for s in self.screener.screen_all(self.deals, as_of=as_of)]

    def deal(self, deal_id: str, as_of: date | None = None) -> Light:
        from fairwatch.errors import UsageError

        if self.deals is None:
            raise UsageError("the lake has no deals table")
        rows = self.deals[self.deals["deal_id"].astype(str) == deal_id]
        if rows.empty:
            raise UsageError(f"no deal {deal_id!r} in the lake")
        return self.light(self.screener.screen(rows.iloc[0].to_dict(), as_of=as_of))

    def proposal(
        self,
        acquirer_id: str,
        target_id: str,
        on: date,
        *,
        control: bool = True,
        stake_before_pct: float = 0.0,
        stake_after_pct: float = 100.0,
        consideration_cny: float | None = None,
    ) -> Light:
        """The light of a proposed (not yet closed, not notified) investment."""
        deal = {
            "deal_id": "proposed",
            "announced_on": on,
            "closed_on": None,
            "notified_on": None,
            "acquirer_id": acquirer_id,
            "target_id": target_id,
            "control_acquired": control,
            "stake_before_pct": stake_before_pct,
            "stake_after_pct": stake_after_pct,
            "consideration_cny": consideration_cny,
        }
        return self.light(self.screener.screen(deal), proposed=True)

    # -- the tests ---------------------------------------------------------------------

    def light(self, s: DealScreen, proposed: bool = False) -> Light:
        day = s.announced_on
        reasons: list[Reason] = []
        reasons += self._market_access(s, day)
        reasons += self._notification(s)
        if s.status == INTRA_GROUP:  # control stays within the group: no structural change
            return Light(s.deal_id, _colour(reasons), reasons, s)
        # shares only combine when control passes: a minority stake merges no market
        effects = self._effects(s, day) if s.control_acquired else []
        reasons += [r for r in effects if r.colour == RED]
        yellow_effects = [r for r in effects if r.colour == YELLOW]
        # the draft threshold and the pattern are about concentrations, not minority stakes
        killer = self._killer(s, day) if s.control_acquired else []
        reasons += yellow_effects + killer
        if s.control_acquired:
            reasons += self._expansion(s, day, proposed)
            reasons += self._serial(s, day, proposed)
        if s.status == BELOW:
            triggers = [r for r in reasons if r.code != "call_in_candidate"]
            triggers += [r for r in effects if r.colour == RED]
            if any(r.code in _CALL_IN_TRIGGERS for r in triggers):
                reasons.append(
                    Reason(
                        "call_in_candidate",
                        YELLOW,
                        "below the notification thresholds, but "
                        + ", ".join(
                            sorted({r.code for r in triggers if r.code in _CALL_IN_TRIGGERS})
                        )
                        + ": SAMR may require notification (AML art. 26(2))",
                        citations=("cn.aml2022.art26",),
                    )
                )
        return Light(s.deal_id, _colour(reasons), reasons, s)

    def _market_access(self, s: DealScreen, day: date) -> list[Reason]:
        target = self.entities.get(s.target_id, {})
        code = str(target.get("industry_code") or "")
        licences = {str(x) for x in _list(target.get("licenses"))}
        out: list[Reason] = []
        news_codes = self._v(NEWS_CODES, day)
        news_licences = set(self._v(NEWS_LICENCES, day))
        is_news = any(code.startswith(c) for c in news_codes) or bool(licences & news_licences)
        top = self.graph.at(day).ultimate_controller(s.acquirer_id)
        top_kind = str(self.entities.get(top, {}).get("kind") or "")
        if is_news and top_kind != "state":
            out.append(
                Reason(
                    "prohibited_market_access",
                    RED,
                    f"target {s.target_id} is a news business (industry {code or '?'}, licences "
                    f"{sorted(licences) or 'none'}) and the acquirer's ultimate controller {top} "
                    f"is not a state entity ({top_kind or 'kind unknown'})",
                    citations=(self._c(NEWS_CODES, day), "cn.market_access_negative_list"),
                )
            )
        fin_codes = self._v(FIN_CODES, day)
        fin_licences = set(self._v(FIN_LICENCES, day))
        if any(code.startswith(c) for c in fin_codes) and not licences & fin_licences:
            out.append(
                Reason(
                    "unlicensed_financial_business",
                    RED,
                    f"target {s.target_id} is in financial business (industry {code}) without "
                    f"any of the licences {sorted(fin_licences)}",
                    citations=(self._c(FIN_CODES, day), "cn.market_access_negative_list"),
                )
            )
        return out

    def _notification(self, s: DealScreen) -> list[Reason]:
        if s.status in VIOLATIONS:
            return [Reason("notification_missing", RED, s.reason, s.figures, s.citations)]
        if s.status == DUE:
            return [Reason("notification_due", YELLOW, s.reason, s.figures, s.citations)]
        if s.status == TURNOVER_MISSING:
            text = f"cannot tell whether the deal had to be notified: {s.reason}"
            return [Reason("turnover_missing", YELLOW, text, s.figures, s.citations or (EACH,))]
        return []

    def _effects(self, s: DealScreen, day: date) -> list[Reason]:
        out: list[Reason] = []
        min_delta = float(self._v(DOMINANCE_DELTA, day))
        safe, mid_upper = float(self._v(HHI_SAFE, day)), float(self._v(HHI_MID_UPPER, day))
        mid_delta, high_delta = (
            float(self._v(HHI_MID_DELTA, day)),
            float(self._v(HHI_HIGH_DELTA, day)),
        )
        for e in s.effects:
            if e.dominance is not None and e.delta >= min_delta:
                out.append(
                    Reason(
                        "dominance_large_delta",
                        RED,
                        f"{e.market_name} ({e.market_id}, {e.period}): combined share "
                        f"{e.combined_share:.1f} % meets the {e.dominance.replace('_', '-')} "
                        f"dominance presumption; HHI {e.hhi_pre:.0f} -> {e.hhi_post:.0f} "
                        f"(+{e.delta:.0f} >= {min_delta:g})",
                        _effect_figures(
                            e, min_delta, DOMINANCE_DELTA, self._c(DOMINANCE_DELTA, day)
                        ),
                        (self._c(DOMINANCE_DELTA, day), "cn.aml2022.art24", "cn.aml2022.art34"),
                    )
                )
                continue
            if e.hhi_post < safe:
                continue
            limit = mid_delta if e.hhi_post <= mid_upper else high_delta
            name = HHI_MID_DELTA if e.hhi_post <= mid_upper else HHI_HIGH_DELTA
            if e.delta >= limit:
                out.append(
                    Reason(
                        "concentration_warning_band",
                        YELLOW,
                        f"{e.market_name} ({e.market_id}, {e.period}): post-merger HHI "
                        f"{e.hhi_post:.0f}, delta {e.delta:.0f} >= {limit:g}",
                        _effect_figures(e, limit, name, self._c(name, day)),
                        (self._c(name, day), "cn.aml2022.art33"),
                    )
                )
        return out

    def _killer(self, s: DealScreen, day: date) -> list[Reason]:
        out: list[Reason] = []
        acq, tgt = s.parties[0].figures, s.parties[1].figures
        min_turnover = float(self._v(KILLER_ACQ_TURNOVER, day))
        min_value = float(self._v(KILLER_VALUATION, day))
        share = float(Fraction(self._v(KILLER_CHINA_SHARE, day)))
        value = s.consideration_cny if s.consideration_cny is not None else tgt.market_value_cny
        big = max(
            (c for c in (acq.china_turnover_cny, tgt.china_turnover_cny) if c is not None),
            default=None,
        )
        ratio = (
            tgt.china_turnover_cny / tgt.global_turnover_cny
            if tgt.china_turnover_cny is not None and tgt.global_turnover_cny
            else None
        )
        figs = (
            Figure(
                "a party's China turnover",
                big,
                min_turnover,
                _gt(big, min_turnover),
                KILLER_ACQ_TURNOVER,
                self._c(KILLER_ACQ_TURNOVER, day),
            ),
            Figure(
                "target valuation (consideration, else market value)",
                value,
                min_value,
                _ge(value, min_value),
                KILLER_VALUATION,
                self._c(KILLER_VALUATION, day),
            ),
            Figure(
                "target's China share of its turnover",
                ratio,
                share,
                _gt(ratio, share),
                KILLER_CHINA_SHARE,
                self._c(KILLER_CHINA_SHARE, day),
            ),
        )
        if all(f.passed for f in figs):
            out.append(
                Reason(
                    "killer_acquisition_draft_test",
                    YELLOW,
                    "meets the dropped 2022 draft threshold for acquisitions of valuable "
                    "targets by very large undertakings",
                    figs,
                    (self._c(KILLER_VALUATION, day), "cn.aml2022.art26"),
                )
            )
        pattern = self._young_fast_adjacent(s, day)
        if pattern is not None:
            out.append(pattern)
        return out

    def _young_fast_adjacent(self, s: DealScreen, day: date) -> Reason | None:
        target = self.entities.get(s.target_id, {})
        est = _day(target.get("established_on"))
        max_age = float(self._v(YOUNG_AGE, day))
        min_growth = float(self._v(FAST_GROWTH, day))
        if est is None:
            return None
        age = (day - est).days / 365.25
        fy = s.fiscal_year
        now = self.graph.own_financials(s.target_id, fy).china_turnover_cny
        then = self.graph.own_financials(s.target_id, fy - 2).china_turnover_cny
        growth = None
        if now is not None and then is not None and then > 0:
            growth = ((now / then) ** 0.5 - 1) * 100
        adjacent, how = self._adjacent(s, day)
        figs = (
            Figure(
                "target age (years)",
                round(age, 2),
                max_age,
                age <= max_age,
                YOUNG_AGE,
                self._c(YOUNG_AGE, day),
            ),
            Figure(
                f"target China turnover growth FY{fy - 2}-FY{fy} (% a year)",
                None if growth is None else round(growth, 2),
                min_growth,
                _ge(growth, min_growth),
                FAST_GROWTH,
                self._c(FAST_GROWTH, day),
            ),
            Figure(
                "adjacent to the acquirer's group",
                1.0 if adjacent else 0.0,
                1.0,
                adjacent,
                note=how,
            ),
        )
        if not all(f.passed for f in figs):
            return None
        return Reason(
            "killer_acquisition_pattern",
            YELLOW,
            f"young ({age:.1f} years), fast-growing ({growth:.0f} % a year) target adjacent to "
            f"the acquirer ({how})",
            figs,
            (self._c(YOUNG_AGE, day), "cn.aml2022.art26"),
        )

    def _adjacent(self, s: DealScreen, day: date) -> tuple[bool, str]:
        group = s.acquirer_group
        members = self.graph.at(day).group_members(s.acquirer_id)
        tgt_div = _division(self.entities.get(s.target_id, {}).get("industry_code"))
        divisions = {_division(self.entities.get(m, {}).get("industry_code")) for m in members}
        if tgt_div and tgt_div in divisions:
            return True, f"same industry group {tgt_div}"
        ms = self.tables.get("market_shares")
        if ms is not None and not ms.empty:
            ids = ms["entity_id"].astype(str)
            mine = set(ms.loc[ids.isin({group, *members}), "market_id"])
            theirs = set(ms.loc[ids == s.target_id, "market_id"])
            both = sorted(mine & theirs)
            if both:
                return True, f"both in market {both[0]}"
        return False, "no shared industry group or market"

    def _expansion(self, s: DealScreen, day: date, proposed: bool) -> list[Reason]:
        if self.grade_of is None:
            return []
        grades = set(self._v(EXPANSION_GRADES, day))
        grade = self.grade_of(s.acquirer_group, day)
        if grade not in grades:
            return []
        members = self.graph.at(day).group_members(s.acquirer_id)
        core = self._categories(members)
        tgt_members = self.graph.at(day).controlled_by(s.target_id)
        tgt_cats = self._categories(tgt_members)
        out: list[Reason] = []
        if tgt_cats:
            outside = not (tgt_cats & core)
            what = f"target's platform categories {sorted(tgt_cats)} vs the group's {sorted(core)}"
        else:
            divisions = {_division(self.entities.get(m, {}).get("industry_code")) for m in members}
            tgt_div = _division(self.entities.get(s.target_id, {}).get("industry_code"))
            outside = bool(tgt_div) and tgt_div not in divisions
            held = sorted(d for d in divisions if d)
            what = f"target's industry group {tgt_div or '?'} vs the group's {held}"
        cite = self._c(EXPANSION_GRADES, day)
        if outside:
            out.append(
                Reason(
                    "cross_sector_expansion",
                    YELLOW,
                    f"a {grade} platform group acquires outside its core business ({what})",
                    (
                        Figure(
                            "acquirer group's platform grade",
                            None,
                            None,
                            True,
                            EXPANSION_GRADES,
                            cite,
                            note=str(grade),
                        ),
                    ),
                    (cite, "cn.platform_economy_opinions.traffic_light"),
                )
            )
        window = int(self._v(EXPANSION_WINDOW, day))
        minimum = int(self._v(EXPANSION_MIN, day))
        history = self._group_deals(s, day, window, proposed)
        new_sectors = _new_sectors(history, self.entities, set(members))
        if len(new_sectors) >= minimum and not outside:
            out.append(
                Reason(
                    "cross_sector_expansion",
                    YELLOW,
                    f"a {grade} platform group entered {len(new_sectors)} new industry groups by "
                    f"acquisition within {window} months: {', '.join(sorted(new_sectors))}",
                    (
                        Figure(
                            "new industry groups entered",
                            float(len(new_sectors)),
                            float(minimum),
                            True,
                            EXPANSION_MIN,
                            self._c(EXPANSION_MIN, day),
                        ),
                    ),
                    (self._c(EXPANSION_MIN, day), "cn.platform_economy_opinions.traffic_light"),
                )
            )
        return out

    def _serial(self, s: DealScreen, day: date, proposed: bool) -> list[Reason]:
        window = int(self._v(SERIAL_WINDOW, day))
        minimum = int(self._v(SERIAL_MIN, day))
        history = self._group_deals(s, day, window, proposed)
        if len(history) < minimum:
            return []
        ids = ", ".join(str(d["deal_id"]) for d in history)
        return [
            Reason(
                "serial_acquisitions",
                YELLOW,
                f"group {s.acquirer_group} acquired control {len(history)} times within "
                f"{window} months ({ids})",
                (
                    Figure(
                        "acquisitions of control in the window",
                        float(len(history)),
                        float(minimum),
                        True,
                        SERIAL_MIN,
                        self._c(SERIAL_MIN, day),
                    ),
                ),
                (self._c(SERIAL_MIN, day), "cn.aml2022.art26"),
            )
        ]

    # -- helpers -----------------------------------------------------------------------

    def _group_deals(
        self, s: DealScreen, day: date, months: int, proposed: bool
    ) -> list[dict[str, Any]]:
        """Acquisitions of control by the screened deal's group within the window up to ``day``."""
        start = (pd.Timestamp(day) - pd.DateOffset(months=months)).date()
        out: list[dict[str, Any]] = []
        if self.deals is not None and not self.deals.empty:
            for row in self.deals.to_dict("records"):
                ann = _day(row.get("announced_on"))
                if ann is None or not (start < ann <= day) or not bool(row.get("control_acquired")):
                    continue
                snap = self.graph.at(ann)
                top = snap.ultimate_controller(str(row["acquirer_id"]))
                # a target already in the group (a reorganisation) is no acquisition
                if (
                    top == s.acquirer_group
                    and snap.ultimate_controller(str(row["target_id"])) != top
                ):
                    out.append(row)
        if proposed or not any(str(r["deal_id"]) == s.deal_id for r in out):
            out.append({"deal_id": s.deal_id, "target_id": s.target_id, "announced_on": day})
        return sorted(out, key=lambda r: (_day(r["announced_on"]) or day, str(r["deal_id"])))

    def _categories(self, members: Iterable[str]) -> set[str]:
        pl = self.platforms
        if pl is None or pl.empty:
            return set()
        mine = pl[pl["operator_id"].astype(str).isin(set(members))]
        return {str(c) for cats in mine["categories"] for c in _list(cats)}

    def _v(self, name: str, day: date) -> Any:
        return self.law.value(name, day)

    def _c(self, name: str, day: date) -> str:
        return citation_key(self.law, name, day)


_CALL_IN_TRIGGERS = frozenset(
    {
        "dominance_large_delta",
        "concentration_warning_band",
        "killer_acquisition_draft_test",
        "killer_acquisition_pattern",
    }
)


def _colour(reasons: Iterable[Reason]) -> str:
    return max((r.colour for r in reasons), key=_RANK.__getitem__, default=GREEN)


def _effect_figures(e: MarketEffect, limit: float, name: str, cite: str) -> tuple[Figure, ...]:
    return (
        Figure("combined share (%)", e.combined_share, None, None),
        Figure("post-merger HHI", e.hhi_post, None, None),
        Figure("HHI delta", e.delta, limit, e.delta >= limit, name, cite),
    )


def _new_sectors(
    history: list[dict[str, Any]], entities: Mapping[str, Mapping[str, Any]], members: set[str]
) -> set[str]:
    """Industry groups of the targets in ``history`` that the group had not been in."""
    # targets bought in the window are members by now: judge against the rest
    held = {
        _division(entities.get(m, {}).get("industry_code"))
        for m in members - {str(d["target_id"]) for d in history}
    }
    new: set[str] = set()
    for d in history:
        div = _division(entities.get(str(d["target_id"]), {}).get("industry_code"))
        if div and div not in held:
            new.add(div)
    return new


def _division(code: Any) -> str:
    """The GB/T 4754 industry group (letter + 2 digits) of an industry code."""
    text = str(code or "").strip().upper()
    return text[:3] if len(text) >= 3 else ""


def _index(frame: pd.DataFrame | None, key: str) -> dict[str, dict[str, Any]]:
    if frame is None or frame.empty:
        return {}
    return {str(r[key]): r for r in frame.to_dict("records")}


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        return list(value)
    except TypeError:
        return []


def _gt(value: float | None, limit: float) -> bool | None:
    return None if value is None else value > limit


def _ge(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit
