"""Golden tests of the capital traffic light (fairwatch.structure.traffic_light).

Every test builds a small, consistent world by hand (entities, ownership, financials,
deals, market shares, platforms) and states only what matters to the reason under test.
Thresholds are read from the law store at the deal date, never hard-coded, so a
regulator editing a policy parameter changes where the line is, not what a test means:
each reason is shown triggering at (or just past) its parameter and a near miss just
short of it not triggering.

The default world: group ``G0`` (holding, industry group L72) controls ``G1``
(operator, industry group F52) 100 %; the target ``T`` (industry group C39, established
2005) is independent. Turnovers are far below the notification thresholds, nobody holds
market shares or runs platforms, so the default deal ``D1`` (``G1`` acquires control of
``T``, announced 2024-06-03, closed a month later) is green.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from fairwatch.cli.main import app
from fairwatch.law import LawStore, default_store
from fairwatch.structure.traffic_light import Light, TrafficLight
from tests.helpers import uscc

DAY = date(2024, 6, 3)  # announcement day of the screened deal
FY = DAY.year - 1  # the fiscal year whose turnover counts
P = "cn.traffic_light."
T_GLOBAL = "cn.aml.merger_thresholds.global_combined_cny"
T_CHINA = "cn.aml.merger_thresholds.china_combined_cny"
T_EACH = "cn.aml.merger_thresholds.each_party_china_cny"
MAJORITY = "cn.aml.control.majority_pct"
DOMINANCE_ONE = "cn.aml.dominance.single_firm_share"
RED, YELLOW, GREEN = "red", "yellow", "green"
RANK = {GREEN: 0, YELLOW: 1, RED: 2}

DEAL_COLUMNS = [
    "deal_id",
    "announced_on",
    "closed_on",
    "acquirer_id",
    "target_id",
    "stake_before_pct",
    "stake_after_pct",
    "control_acquired",
    "consideration_cny",
    "notified_on",
]

runner = CliRunner()


@pytest.fixture(scope="module")
def store() -> LawStore:
    return default_store()


def v(store: LawStore, name: str, day: date = DAY) -> Any:
    """A parameter's value on ``day``; fractions such as "1/2" as floats."""
    value = store.value(name, day)
    if isinstance(value, str) and "/" in value:
        num, den = value.split("/")
        return float(num) / float(den)
    return value


def years_before(day: date, years: float) -> date:
    return day - timedelta(days=round(years * 365.25))


def months_before(day: date, months: int) -> date:
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


# --- the fixture helper -------------------------------------------------------------------


class World:
    """A small lake under construction: rows of the standard's structural tables."""

    def __init__(self, store: LawStore) -> None:
        self.store = store
        self.entities: dict[str, dict[str, Any]] = {}
        self.ownership: list[dict[str, Any]] = []
        self.financials: dict[tuple[str, int], dict[str, Any]] = {}
        self.deals: dict[str, dict[str, Any]] = {}
        self.shares: list[dict[str, Any]] = []
        self.platforms: list[dict[str, Any]] = []

    # rows ---------------------------------------------------------------------------

    def entity(
        self,
        entity_id: str,
        *,
        industry: str = "C391",
        kind: str = "company",
        established: date = date(2005, 3, 1),
        licences: Iterable[str] = (),
        china: float | None = 50e6,
        global_: float | None = None,
        value: float | None = None,
    ) -> World:
        """An entity (valid-looking fields) with its FY turnover (global = 1.2 x China)."""
        n = len(self.entities) + 1
        self.entities[entity_id] = {
            "entity_id": entity_id,
            "name": f"测试公司{n}",
            "uscc": uscc(n) if n % 2 else None,  # uscc may be null
            "kind": kind,
            "region_code": "330100",
            "industry_code": industry,
            "established_on": established,
            "licenses": list(licences),
        }
        if china is not None or global_ is not None:
            self.fin(entity_id, china, global_, value=value)
        return self

    def update(self, entity_id: str, **fields: Any) -> World:
        self.entities[entity_id].update(fields)
        return self

    def fin(
        self,
        entity_id: str,
        china: float | None,
        global_: float | None = None,
        *,
        year: int = FY,
        value: float | None = None,
    ) -> World:
        if global_ is None and china is not None:
            global_ = china * 1.2
        self.financials[(entity_id, year)] = {
            "entity_id": entity_id,
            "fiscal_year": year,
            "global_turnover_cny": global_,
            "china_turnover_cny": china,
            "market_value_cny": value,
        }
        return self

    def owns(
        self,
        owner: str,
        owned: str,
        pct: float = 100.0,
        *,
        control: str = "equity",
        since: date = date(2015, 1, 1),
        until: date | None = None,
    ) -> World:
        self.ownership.append(
            {
                "owner_id": owner,
                "owned_id": owned,
                "share_pct": pct,
                "voting_pct": pct,
                "control": control,
                "valid_from": since,
                "valid_to": until,
            }
        )
        return self

    def deal(
        self,
        deal_id: str,
        acquirer: str,
        target: str,
        *,
        announced: date = DAY,
        closed: date | str | None = "auto",
        notified: date | None = None,
        control: bool = True,
        consideration: float | None = None,
    ) -> World:
        """A deal; by default closed 30 days after announcement, not notified.

        A closed acquisition of control also adds the ownership edge from closing on.
        """
        closing = announced + timedelta(days=30) if closed == "auto" else closed
        assert closing is None or isinstance(closing, date)
        self.deals[deal_id] = {
            "deal_id": deal_id,
            "announced_on": announced,
            "closed_on": closing,
            "acquirer_id": acquirer,
            "target_id": target,
            "stake_before_pct": 0.0,
            "stake_after_pct": 100.0 if control else 20.0,
            "control_acquired": control,
            "consideration_cny": consideration,
            "notified_on": notified,
        }
        if closing is not None:
            self.owns(acquirer, target, 100.0 if control else 20.0, since=closing)
        return self

    def market(self, market_id: str, shares: dict[str, float], *, period: str = str(FY)) -> World:
        """Group-level shares in one market; rivals not yet known become entities."""
        for entity_id, share in shares.items():
            if entity_id not in self.entities:
                self.entity(entity_id, industry="C392", china=None)
            self.shares.append(
                {
                    "market_id": market_id,
                    "market_name": f"市场 {market_id}",
                    "period": period,
                    "entity_id": entity_id,
                    "share_pct": float(share),
                    "basis": "revenue",
                    "geography": "CN",
                    "sector": "I645",
                }
            )
        return self

    def platform(self, platform_id: str, operator: str, *categories: str) -> World:
        self.platforms.append(
            {
                "platform_id": platform_id,
                "name": f"平台 {platform_id}",
                "operator_id": operator,
                "categories": list(categories),
                "launched_on": date(2016, 1, 1),
            }
        )
        return self

    # output -------------------------------------------------------------------------

    def tables(self) -> dict[str, pd.DataFrame]:
        own_cols = ["owner_id", "owned_id", "share_pct", "voting_pct", "control"]
        own = pd.DataFrame(self.ownership, columns=[*own_cols, "valid_from", "valid_to"])
        for col in ("valid_from", "valid_to"):
            own[col] = pd.to_datetime(own[col])
        out = {
            "entities": pd.DataFrame(list(self.entities.values())),
            "ownership": own,
            "financials": pd.DataFrame(list(self.financials.values())),
            "deals": pd.DataFrame(list(self.deals.values()), columns=DEAL_COLUMNS),
        }
        if self.shares:
            out["market_shares"] = pd.DataFrame(self.shares)
        if self.platforms:
            out["platforms"] = pd.DataFrame(self.platforms)
        return out

    def traffic_light(self, grade: str | Callable[[str, date], str | None] | None = None) -> Any:
        grade_of = (lambda entity_id, day: grade) if isinstance(grade, str) else grade
        return TrafficLight(self.store, self.tables(), grade_of=grade_of)

    def light(self, deal_id: str = "D1", grade: Any = None) -> Light:
        light = self.traffic_light(grade).deal(deal_id)
        check(light, self.store)
        return light

    def write_lake(self, folder: Path) -> Path:
        """The frames as a raw lake: ``<folder>/<table>.parquet``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        return folder


def world(store: LawStore, *, with_deal: bool = True) -> World:
    w = World(store)
    w.entity("G0", industry="L721", china=200e6)
    w.entity("G1", industry="F529", china=150e6)
    w.entity("T", industry="C391", china=50e6)
    w.owns("G0", "G1")
    if with_deal:
        w.deal("D1", "G1", "T")
    return w


def notifiable(w: World, store: LawStore, *, day: date = DAY) -> World:
    """Make G0 (group) and T meet the thresholds in force on ``day``: China combined above
    its threshold, both parties above the per-party threshold."""
    each, china = float(v(store, T_EACH, day)), float(v(store, T_CHINA, day))
    w.fin("G0", china, year=day.year - 1)
    w.fin("T", each * 1.1, year=day.year - 1)
    return w


def check(light: Light, store: LawStore) -> None:
    """Invariants of every light: colour, citations and figure parameters."""
    expected = max((r.colour for r in light.reasons), key=RANK.__getitem__, default=GREEN)
    assert light.colour == expected
    for r in light.reasons:
        assert r.colour in (RED, YELLOW)
        assert r.text
        assert r.citations, f"{r.code} carries no citation"
        for key in r.citations:
            assert store.has_citation(key) or store.has(key), f"{r.code}: {key!r} unresolved"
        for f in r.figures:
            if f.parameter is not None:
                assert store.has(f.parameter), f"{r.code}: unknown parameter {f.parameter}"
            if f.citation is not None:
                assert store.has_citation(f.citation) or store.has(f.citation)
            if f.threshold is not None and not f.name.startswith("adjacent"):
                assert f.parameter, f"{r.code}: figure {f.name!r} names no parameter"
    json.dumps(light.to_dict())  # serialisable


def codes(light: Light) -> set[str]:
    return {r.code for r in light.reasons}


def reason(light: Light, code: str) -> Any:
    hits = [r for r in light.reasons if r.code == code]
    assert hits, f"{code} not among {sorted(codes(light))}"
    return hits[0]


def figure(r: Any, parameter: str) -> Any:
    hits = [f for f in r.figures if f.parameter == parameter]
    assert hits, f"{r.code} has no figure judged against {parameter}"
    return hits[0]


def hhi(shares: dict[str, float], a: str, t: str) -> tuple[float, float]:
    """Post-merger HHI and delta when ``a`` and ``t`` merge."""
    pre = sum(s * s for s in shares.values())
    return pre + 2 * shares[a] * shares[t], 2 * shares[a] * shares[t]


# --- green, colour, citations -------------------------------------------------------------


def test_green_when_nothing_applies(store: LawStore) -> None:
    light = world(store).light()
    assert light.colour == GREEN
    assert light.reasons == []
    assert light.screen.status == "below_thresholds"
    assert light.to_dict()["colour"] == GREEN


def test_colour_is_the_most_severe_reason(store: LawStore) -> None:
    # a news target (red) in a notifiable deal not yet closed (yellow)
    w = notifiable(world(store, with_deal=False), store)
    w.update("T", industry_code=store.value(P + "red.news_industry_codes", DAY)[0])
    w.deal("D1", "G1", "T", closed=None)
    light = w.light()
    assert {"prohibited_market_access", "notification_due"} <= codes(light)
    assert {r.colour for r in light.reasons} == {RED, YELLOW}
    assert light.colour == RED


# --- red: prohibited market access ---------------------------------------------------------


def test_news_industry_code_bought_by_private_group_is_red(store: LawStore) -> None:
    code = store.value(P + "red.news_industry_codes", DAY)[0]
    w = world(store).update("T", industry_code=code + "0")  # a sub-code of the prefix
    light = w.light()
    r = reason(light, "prohibited_market_access")
    assert r.colour == RED and light.colour == RED
    assert "G0" in r.text  # names the ultimate controller found through G1
    assert "cn.market_access_negative_list" in r.citations


def test_news_licence_marks_a_news_business_whatever_the_industry(store: LawStore) -> None:
    licence = store.value(P + "red.news_licences", DAY)[0]
    w = world(store).update("T", licenses=[licence])
    assert reason(w.light(), "prohibited_market_access").colour == RED


def test_news_target_of_a_state_controlled_group_is_not_prohibited(store: LawStore) -> None:
    code = store.value(P + "red.news_industry_codes", DAY)[0]
    majority = float(store.value(MAJORITY, DAY))
    w = world(store).update("T", industry_code=code)
    w.entity("S0", kind="state", industry="S922", china=None)
    w.owns("S0", "G0", majority + 1)  # the state controls G0, hence G1
    light = w.light()
    assert light.screen.acquirer_group == "S0"
    assert "prohibited_market_access" not in codes(light)
    assert light.colour == GREEN


def test_state_minority_holder_does_not_lift_the_news_bar(store: LawStore) -> None:
    # near miss: the state holds exactly the majority threshold, which is not control
    code = store.value(P + "red.news_industry_codes", DAY)[0]
    majority = float(store.value(MAJORITY, DAY))
    w = world(store).update("T", industry_code=code)
    w.entity("S0", kind="state", industry="S922", china=None)
    w.owns("S0", "G0", majority)
    assert reason(w.light(), "prohibited_market_access").colour == RED


def test_non_news_target_is_not_prohibited(store: LawStore) -> None:
    codes_ = store.value(P + "red.news_industry_codes", DAY)
    other = "R862" if "R862" not in codes_ else "R869"
    assert not any(other.startswith(c) for c in codes_)
    w = world(store).update("T", industry_code=other, licenses=["payment"])
    assert "prohibited_market_access" not in codes(w.light())


# --- red: unlicensed financial business ----------------------------------------------------


def test_financial_target_without_a_licence_is_red(store: LawStore) -> None:
    code = store.value(P + "red.financial_industry_codes", DAY)[0]
    light = world(store).update("T", industry_code=code + "1").light()
    r = reason(light, "unlicensed_financial_business")
    assert r.colour == RED and light.colour == RED
    assert "cn.market_access_negative_list" in r.citations


def test_financial_target_with_a_payment_licence_is_not(store: LawStore) -> None:
    code = store.value(P + "red.financial_industry_codes", DAY)[0]
    assert "payment" in store.value(P + "red.financial_licences", DAY)
    light = world(store).update("T", industry_code=code + "1", licenses=["payment"]).light()
    assert "unlicensed_financial_business" not in codes(light)
    assert light.colour == GREEN


def test_unrelated_licence_does_not_authorise_financial_business(store: LawStore) -> None:
    code = store.value(P + "red.financial_industry_codes", DAY)[0]
    licence = store.value(P + "red.news_licences", DAY)[0]
    assert licence not in store.value(P + "red.financial_licences", DAY)
    light = world(store).update("T", industry_code=code + "1", licenses=[licence]).light()
    assert "unlicensed_financial_business" in codes(light)


# --- notification ------------------------------------------------------------------------


def test_closed_unnotified_notifiable_deal_is_red(store: LawStore) -> None:
    light = notifiable(world(store), store).light()
    r = reason(light, "notification_missing")
    assert r.colour == RED and light.colour == RED
    assert light.screen.status == "unnotified"
    assert "notification_due" not in codes(light)
    assert {T_EACH, T_CHINA} <= {f.parameter for f in r.figures}
    assert figure(r, T_CHINA).passed is True
    assert figure(r, T_CHINA).threshold == float(v(store, T_CHINA))
    assert "cn.aml2022.art26" in r.citations


def test_notified_only_after_closing_is_red(store: LawStore) -> None:
    w = notifiable(world(store, with_deal=False), store)
    w.deal("D1", "G1", "T", closed=DAY + timedelta(days=10), notified=DAY + timedelta(days=20))
    light = w.light()
    assert light.screen.status == "notified_after_closing"
    assert reason(light, "notification_missing").colour == RED


def test_open_notifiable_deal_is_yellow_notification_due(store: LawStore) -> None:
    w = notifiable(world(store, with_deal=False), store)
    w.deal("D1", "G1", "T", closed=None)
    light = w.light()
    assert codes(light) == {"notification_due"}
    assert light.colour == YELLOW


def test_notified_deal_gets_neither(store: LawStore) -> None:
    w = notifiable(world(store, with_deal=False), store)
    w.deal("D1", "G1", "T", notified=DAY + timedelta(days=5))  # closes after 30 days
    light = w.light()
    assert light.screen.status == "notified"
    assert not codes(light) & {"notification_missing", "notification_due"}
    assert light.colour == GREEN


def test_per_party_threshold_is_strict(store: LawStore) -> None:
    # near miss: the target's China turnover exactly at the per-party threshold
    w = notifiable(world(store), store)
    w.fin("T", float(v(store, T_EACH)))
    light = w.light()
    assert light.screen.status == "below_thresholds"
    assert not codes(light) & {"notification_missing", "notification_due"}


def test_combined_china_threshold_is_strict(store: LawStore) -> None:
    # near miss: both parties above the per-party line, combined China exactly at its
    # threshold, worldwide well below
    each, china = float(v(store, T_EACH)), float(v(store, T_CHINA))
    assert china / 2 > each
    w = world(store).fin("G0", china / 2, china / 2).fin("T", china / 2, china / 2)
    assert china < float(v(store, T_GLOBAL))
    light = w.light()
    assert light.screen.status == "below_thresholds"
    assert "notification_missing" not in codes(light)


def test_acquirer_turnover_is_the_whole_groups(store: LawStore) -> None:
    # G1 itself is small; its parent G0's consolidated figure makes the deal notifiable
    w = notifiable(world(store), store).fin("G1", 1e6)
    light = w.light()
    assert light.screen.parties[0].undertaking_id == "G0"
    assert "notification_missing" in codes(light)


# --- market effects ----------------------------------------------------------------------


def test_dominance_with_large_delta_is_red(store: LawStore) -> None:
    one = float(v(store, DOMINANCE_ONE)) * 100
    min_delta = float(v(store, P + "red.dominance_min_delta_hhi"))
    a = one - 10
    t = 10.0
    shares = {"G0": a, "T": t, "R1": (100 - one) / 2, "R2": (100 - one) / 2}
    assert a + t >= one and hhi(shares, "G0", "T")[1] >= min_delta
    light = world(store).market("M1", shares).light()
    r = reason(light, "dominance_large_delta")
    assert r.colour == RED and light.colour == RED
    assert figure(r, P + "red.dominance_min_delta_hhi").threshold == min_delta
    assert {"cn.aml2022.art24"} <= set(r.citations)
    assert light.screen.effects[0].dominance == "single_firm"
    # below the thresholds, with an effect: SAMR may call it in
    assert "call_in_candidate" in codes(light)


def test_dominance_with_delta_just_below_the_parameter_is_not_red(store: LawStore) -> None:
    one = float(v(store, DOMINANCE_ONE)) * 100
    min_delta = float(v(store, P + "red.dominance_min_delta_hhi"))
    high_delta = float(v(store, P + "yellow.hhi_high_max_delta"))
    a = one - 0.5
    t = (min(min_delta, high_delta) - 1) / (2 * a)  # delta one point short of both
    rest = 100 - a - t
    shares = {"G0": a, "T": t, **{f"R{i}": rest / 4 for i in range(4)}}
    assert a + t >= one  # the presumption is met ...
    light = world(store).market("M1", shares).light()
    assert light.screen.effects[0].dominance == "single_firm"
    assert light.screen.effects[0].delta < min_delta  # ... but the deal adds too little
    assert "dominance_large_delta" not in codes(light)
    assert light.colour == GREEN


def test_combined_share_just_under_dominance_is_at_most_a_warning(store: LawStore) -> None:
    one = float(v(store, DOMINANCE_ONE)) * 100
    two = float(v(store, "cn.aml.dominance.two_firms_share")) * 100
    three = float(v(store, "cn.aml.dominance.three_firms_share")) * 100
    a, t = one - 20.5, 20.0  # combined 0.5 points short of the single-firm presumption
    rest = 100 - a - t
    rivals = {f"R{i}": rest / 10 for i in range(10)}
    shares = {"G0": a, "T": t, **rivals}
    assert a + t + 2 * rest / 10 < three and a + t + rest / 10 < two  # no joint presumption
    light = world(store).market("M1", shares).light()
    assert light.screen.effects[0].dominance is None
    assert "dominance_large_delta" not in codes(light)
    assert light.colour == YELLOW
    assert "concentration_warning_band" in codes(light)


def _band_market(a: float, t: float, rivals: list[float]) -> dict[str, float]:
    return {"G0": a, "T": t, **{f"R{i}": s for i, s in enumerate(rivals)}}


def test_warning_band_middle_band_at_the_delta_parameter(store: LawStore) -> None:
    safe = float(v(store, P + "yellow.hhi_safe_below"))
    upper = float(v(store, P + "yellow.hhi_mid_upper"))
    mid_delta = float(v(store, P + "yellow.hhi_mid_max_delta"))
    a = 20.0
    t = mid_delta / (2 * a)  # delta exactly at the parameter
    shares = _band_market(a, t, [(100 - a - t) / 5] * 5)
    post, delta = hhi(shares, "G0", "T")
    assert safe <= post <= upper and delta == pytest.approx(mid_delta)
    light = world(store).market("M1", shares).light()
    r = reason(light, "concentration_warning_band")
    assert r.colour == YELLOW and light.colour == YELLOW
    f = figure(r, P + "yellow.hhi_mid_max_delta")
    assert f.threshold == mid_delta and f.passed is True
    assert "cn.aml2022.art33" in r.citations
    assert "call_in_candidate" in codes(light)


def test_warning_band_middle_band_below_the_delta_parameter(store: LawStore) -> None:
    safe = float(v(store, P + "yellow.hhi_safe_below"))
    upper = float(v(store, P + "yellow.hhi_mid_upper"))
    mid_delta = float(v(store, P + "yellow.hhi_mid_max_delta"))
    a = 20.0
    t = (mid_delta - 5) / (2 * a)
    shares = _band_market(a, t, [(100 - a - t) / 5] * 5)
    post, delta = hhi(shares, "G0", "T")
    assert safe <= post <= upper and delta < mid_delta
    light = world(store).market("M1", shares).light()
    assert codes(light) == set()
    assert light.colour == GREEN


def test_warning_band_high_band(store: LawStore) -> None:
    upper = float(v(store, P + "yellow.hhi_mid_upper"))
    mid_delta = float(v(store, P + "yellow.hhi_mid_max_delta"))
    high_delta = float(v(store, P + "yellow.hhi_high_max_delta"))
    three = float(v(store, "cn.aml.dominance.three_firms_share")) * 100
    a = 40.0
    for t, expected in ((high_delta / (2 * a), True), ((high_delta - 5) / (2 * a), False)):
        rest = 100 - a - t
        rivals = [16.0, 16.0, 16.0, rest - 48.0]
        shares = _band_market(a, t, rivals)
        post, delta = hhi(shares, "G0", "T")
        assert post > upper and a + t + 32.0 < three
        light = world(store).market("M1", shares).light()
        assert light.screen.effects[0].dominance is None
        if expected:
            r = reason(light, "concentration_warning_band")
            assert figure(r, P + "yellow.hhi_high_max_delta").threshold == high_delta
        else:
            assert delta < high_delta
            assert "concentration_warning_band" not in codes(light), delta
    assert high_delta <= mid_delta  # the high band is the stricter one


def test_safe_band_is_green_whatever_the_delta(store: LawStore) -> None:
    safe = float(v(store, P + "yellow.hhi_safe_below"))
    a, t = 15.0, 12.0  # delta 360
    rivals = [73 / 40] * 40
    shares = _band_market(a, t, rivals)
    post, delta = hhi(shares, "G0", "T")
    assert post < safe and delta >= float(v(store, P + "yellow.hhi_mid_max_delta"))
    assert world(store).market("M1", shares).light().colour == GREEN


def test_market_effects_use_the_period_before_the_deal(store: LawStore) -> None:
    # shares for the deal's own year are not yet known on the announcement day
    one = float(v(store, DOMINANCE_ONE)) * 100
    shares = {"G0": one, "T": 10.0, "R1": 90 - one}
    light = world(store).market("M1", shares, period=str(DAY.year)).light()
    assert light.screen.effects == ()
    assert light.colour == GREEN


# --- serial acquisitions -----------------------------------------------------------------


def _serial(store: LawStore, earlier: list[date]) -> World:
    """The group acquires control of X0, X1, ... on the given days (via G1 or G0), then T."""
    w = world(store, with_deal=False)
    for i, day in enumerate(earlier):
        w.entity(f"X{i}", industry="F529")
        w.deal(f"DX{i}", "G1" if i % 2 else "G0", f"X{i}", announced=day)
    w.deal("D1", "G1", "T")
    return w


def test_serial_acquisitions_n_within_the_window(store: LawStore) -> None:
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    window = int(store.value(P + "yellow.serial_window_months", DAY))
    earlier = [months_before(DAY, window - 1 - i) for i in range(n - 1)]
    light = _serial(store, earlier).light()
    r = reason(light, "serial_acquisitions")
    assert r.colour == YELLOW and light.colour == YELLOW
    f = figure(r, P + "yellow.serial_min_acquisitions")
    assert f.value == n and f.threshold == n
    assert "D1" in r.text and "DX0" in r.text


def test_serial_acquisitions_n_minus_one_is_not(store: LawStore) -> None:
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    earlier = [months_before(DAY, 3 + i) for i in range(n - 2)]
    assert "serial_acquisitions" not in codes(_serial(store, earlier).light())


def test_serial_acquisitions_one_outside_the_window_is_not(store: LawStore) -> None:
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    window = int(store.value(P + "yellow.serial_window_months", DAY))
    earlier = [months_before(DAY, 3 + i) for i in range(n - 2)]
    earlier.append(months_before(DAY, window + 1))
    assert "serial_acquisitions" not in codes(_serial(store, earlier).light())


def test_serial_acquisitions_count_only_control_and_only_the_group(store: LawStore) -> None:
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    w = world(store, with_deal=False)
    w.entity("Z0", industry="F529")  # another group
    for i in range(n - 1):
        w.entity(f"X{i}", industry="F529")
        w.entity(f"Y{i}", industry="F529")
        w.deal(f"DX{i}", "G1", f"X{i}", announced=months_before(DAY, 2 + i), control=False)
        w.deal(f"DY{i}", "Z0", f"Y{i}", announced=months_before(DAY, 2 + i))
    w.deal("D1", "G1", "T")
    assert "serial_acquisitions" not in codes(w.light())


# --- cross-sector expansion --------------------------------------------------------------


def test_expansion_target_platform_outside_the_groups_categories(store: LawStore) -> None:
    assert "large" in store.value(P + "yellow.expansion_grades", DAY)
    w = world(store).platform("P0", "G1", "online_sales").platform("PT", "T", "life_services")
    calls: list[tuple[str, date]] = []

    def grade_of(entity_id: str, day: date) -> str:
        calls.append((entity_id, day))
        return "large"

    light = w.light(grade=grade_of)
    r = reason(light, "cross_sector_expansion")
    assert r.colour == YELLOW and light.colour == YELLOW
    assert calls and calls[0] == ("G0", DAY)  # the grade of the acquirer's group
    assert figure(r, P + "yellow.expansion_grades").note == "large"
    assert "life_services" in r.text


def test_expansion_target_platform_sharing_a_category_is_core(store: LawStore) -> None:
    w = world(store).platform("P0", "G1", "online_sales").platform("PT", "T", "online_sales")
    # the industry groups differ, but platforms decide for a target that runs one
    assert "cross_sector_expansion" not in codes(w.light(grade="large"))


def test_expansion_target_without_platforms_other_industry_group(store: LawStore) -> None:
    w = world(store).platform("P0", "G1", "online_sales")
    w.update("T", industry_code="H621")  # H62 is neither L72 nor F52
    r = reason(w.light(grade="large"), "cross_sector_expansion")
    assert "H62" in r.text


def test_expansion_target_without_platforms_same_industry_group(store: LawStore) -> None:
    w = world(store).platform("P0", "G1", "online_sales")
    w.update("T", industry_code="F523")  # same group F52 as G1, another class
    assert "cross_sector_expansion" not in codes(w.light(grade="large"))


def test_expansion_only_for_the_policy_grades(store: LawStore) -> None:
    assert "small_medium" not in store.value(P + "yellow.expansion_grades", DAY)
    w = world(store).platform("P0", "G1", "online_sales").platform("PT", "T", "life_services")
    assert "cross_sector_expansion" not in codes(w.light(grade="small_medium"))
    assert "cross_sector_expansion" not in codes(w.light(grade=lambda e, d: None))
    assert "cross_sector_expansion" not in codes(w.light())  # no grading at all


def _sectors(store: LawStore, new_earlier: int) -> World:
    """A large group (F52, online sales) buys ``new_earlier`` targets in new industry
    groups within the expansion window, then T: same platform category (core business)
    but a new industry group."""
    window = int(store.value(P + "yellow.expansion_window_months", DAY))
    w = world(store, with_deal=False).platform("P0", "G1", "online_sales")
    fresh = ["H621", "K701", "N772", "M751", "P831", "Q841"]
    for i in range(new_earlier):
        w.entity(f"X{i}", industry=fresh[i])
        w.deal(f"DX{i}", "G1", f"X{i}", announced=months_before(DAY, window - 1 - i))
    w.update("T", industry_code="G541")
    w.platform("PT", "T", "online_sales")
    w.deal("D1", "G1", "T")
    return w


def test_expansion_many_new_sectors_within_the_window(store: LawStore) -> None:
    n = int(store.value(P + "yellow.expansion_min_new_sectors", DAY))
    light = _sectors(store, n - 1).light(grade="large")
    r = reason(light, "cross_sector_expansion")
    f = figure(r, P + "yellow.expansion_min_new_sectors")
    assert f.value == n and f.threshold == n
    assert "G54" in r.text and "H62" in r.text


def test_expansion_one_new_sector_too_few(store: LawStore) -> None:
    n = int(store.value(P + "yellow.expansion_min_new_sectors", DAY))
    light = _sectors(store, n - 2).light(grade="large")
    assert "cross_sector_expansion" not in codes(light)


def test_expansion_new_sector_outside_the_window_does_not_count(store: LawStore) -> None:
    n = int(store.value(P + "yellow.expansion_min_new_sectors", DAY))
    window = int(store.value(P + "yellow.expansion_window_months", DAY))
    w = _sectors(store, n - 1)
    w.deals["DX0"]["announced_on"] = months_before(DAY, window + 2)
    assert "cross_sector_expansion" not in codes(w.light(grade="large"))


def test_expansion_sectors_the_group_already_holds_are_not_new(store: LawStore) -> None:
    n = int(store.value(P + "yellow.expansion_min_new_sectors", DAY))
    w = _sectors(store, n - 1)
    w.entity("G2", industry=w.entities["X0"]["industry_code"])  # G0 was already there
    w.owns("G0", "G2")
    assert "cross_sector_expansion" not in codes(w.light(grade="large"))


# --- killer acquisitions -----------------------------------------------------------------


def _draft(store: LawStore, fail: str | None = None) -> World:
    """The 2022 draft test: a party's China turnover, the target's valuation, the target's
    China share of its turnover; ``fail`` puts one of them exactly at its line."""
    big = float(v(store, P + "killer_acquisition.acquirer_china_turnover_cny"))
    value = float(v(store, P + "killer_acquisition.target_valuation_cny"))
    share = float(v(store, P + "killer_acquisition.target_china_share_of_global"))
    w = world(store, with_deal=False)
    w.fin("G0", big if fail == "turnover" else big * 1.01)
    tgt_global = 300e6
    tgt_china = tgt_global * share if fail == "share" else tgt_global * min(1.0, share * 1.5)
    w.fin("T", tgt_china, tgt_global, value=value / 10)  # market value alone would not do
    w.deal("D1", "G1", "T", consideration=value * (0.999 if fail == "valuation" else 1.0))
    return w


def test_killer_draft_test_all_three_conditions(store: LawStore) -> None:
    light = _draft(store).light()
    r = reason(light, "killer_acquisition_draft_test")
    assert r.colour == YELLOW and light.colour == YELLOW
    assert light.screen.status == "below_thresholds"  # the target is too small to notify
    assert all(f.passed for f in r.figures)
    assert {f.parameter for f in r.figures} == {
        P + "killer_acquisition.acquirer_china_turnover_cny",
        P + "killer_acquisition.target_valuation_cny",
        P + "killer_acquisition.target_china_share_of_global",
    }
    assert "call_in_candidate" in codes(light)
    assert "killer_acquisition_draft_test" in reason(light, "call_in_candidate").text


def test_killer_draft_test_is_about_acquisitions_of_control(store: LawStore) -> None:
    w = _draft(store)
    w.deals["D1"]["control_acquired"] = False
    light = w.light()
    assert light.screen.status == "no_control"
    assert not codes(light) & {"killer_acquisition_draft_test", "call_in_candidate"}


def test_missing_target_turnover_is_a_warning_not_green(store: LawStore) -> None:
    w = world(store, with_deal=False)
    del w.financials[("T", FY)]
    w.deal("D1", "G1", "T")
    light = w.light()
    assert light.screen.status == "turnover_missing"
    assert codes(light) == {"turnover_missing"} and light.colour == YELLOW
    assert "T" in reason(light, "turnover_missing").text
    check(light, store)


@pytest.mark.parametrize("fail", ["turnover", "valuation", "share"])
def test_killer_draft_test_each_condition_failing_alone(store: LawStore, fail: str) -> None:
    light = _draft(store, fail).light()
    assert "killer_acquisition_draft_test" not in codes(light)
    assert "call_in_candidate" not in codes(light)
    assert light.colour == GREEN


def test_killer_draft_test_uses_market_value_without_consideration(store: LawStore) -> None:
    value = float(v(store, P + "killer_acquisition.target_valuation_cny"))
    w = _draft(store)
    w.deals["D1"]["consideration_cny"] = None
    w.financials[("T", FY)]["market_value_cny"] = value
    assert "killer_acquisition_draft_test" in codes(w.light())
    w.financials[("T", FY)]["market_value_cny"] = value * 0.999
    assert "killer_acquisition_draft_test" not in codes(w.light())


def _pattern(store: LawStore, fail: str | None = None, via_market: bool = False) -> World:
    """A young, fast-growing target adjacent to the group; ``fail`` breaks one condition."""
    max_age = float(v(store, P + "killer_acquisition.young_target_max_age_years"))
    growth = float(v(store, P + "killer_acquisition.fast_growth_min_pct")) / 100
    w = world(store, with_deal=False)
    age = max_age + 0.5 if fail == "young" else max_age - 0.5
    rate = growth - 0.01 if fail == "fast" else growth + 0.01
    industry = "C391" if (fail == "adjacent" or via_market) else "F524"  # G1 is in F52
    w.update("T", established_on=years_before(DAY, age), industry_code=industry)
    w.fin("T", 20e6, year=FY - 2).fin("T", 20e6 * (1 + rate) ** 2, year=FY)
    if via_market:  # small shares: adjacency without any concentration concern
        w.market("M1", {"G0": 4.0, "T": 1.0, **{f"R{i}": 5.0 for i in range(19)}})
    w.deal("D1", "G1", "T")
    return w


def test_killer_pattern_young_fast_adjacent(store: LawStore) -> None:
    light = _pattern(store).light()
    r = reason(light, "killer_acquisition_pattern")
    assert r.colour == YELLOW and light.colour == YELLOW
    assert figure(r, P + "killer_acquisition.young_target_max_age_years").passed is True
    assert figure(r, P + "killer_acquisition.fast_growth_min_pct").passed is True
    assert "F52" in r.text
    assert "call_in_candidate" in codes(light)


def test_killer_pattern_adjacent_through_a_shared_market(store: LawStore) -> None:
    light = _pattern(store, via_market=True).light()
    assert "M1" in reason(light, "killer_acquisition_pattern").text
    assert "concentration_warning_band" not in codes(light)


@pytest.mark.parametrize("fail", ["young", "fast", "adjacent"])
def test_killer_pattern_each_condition_failing_alone(store: LawStore, fail: str) -> None:
    light = _pattern(store, fail).light()
    assert "killer_acquisition_pattern" not in codes(light)
    assert light.colour == GREEN


def test_killer_pattern_needs_the_turnover_history(store: LawStore) -> None:
    w = _pattern(store)
    del w.financials[("T", FY - 2)]
    assert "killer_acquisition_pattern" not in codes(w.light())


# --- call-in candidate -------------------------------------------------------------------


def test_call_in_only_below_the_thresholds(store: LawStore) -> None:
    a, t = 20.0, 10.0  # delta 400: a warning in the middle band
    shares = _band_market(a, t, [14.0] * 5)
    below = world(store).market("M1", shares).light()
    assert {"concentration_warning_band", "call_in_candidate"} <= codes(below)
    cite = reason(below, "call_in_candidate").citations
    assert "cn.aml2022.art26" in cite
    # the same effect in a notified (notifiable) deal: reviewed anyway, no call-in
    w = notifiable(world(store, with_deal=False), store).market("M1", shares)
    w.deal("D1", "G1", "T", notified=DAY + timedelta(days=1))
    above = w.light()
    assert "concentration_warning_band" in codes(above)
    assert "call_in_candidate" not in codes(above)


def test_no_call_in_without_an_effect(store: LawStore) -> None:
    # serial acquisitions alone are no competition effect
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    light = _serial(store, [months_before(DAY, 2 + i) for i in range(n - 1)]).light()
    assert "serial_acquisitions" in codes(light)
    assert "call_in_candidate" not in codes(light)


# --- intra-group and non-control deals ---------------------------------------------------


def test_intra_group_deal_gets_no_structural_reasons(store: LawStore) -> None:
    # G1 buys T from its parent G0: everything else would light up
    one = float(v(store, DOMINANCE_ONE)) * 100
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    w = notifiable(world(store, with_deal=False), store)
    w.owns("G0", "T", since=date(2018, 1, 1))
    w.platform("P0", "G1", "online_sales").platform("PT", "T", "life_services")
    w.market("M1", {"G0": one, "T": 10.0, "R1": 90 - one})
    for i in range(n - 1):
        w.entity(f"X{i}", industry="H621")
        w.deal(f"DX{i}", "G1", f"X{i}", announced=months_before(DAY, 2 + i))
    w.deal("D1", "G1", "T")
    light = w.light(grade="large")
    assert light.screen.status == "intra_group"
    assert light.reasons == []
    assert light.colour == GREEN


def test_minority_stake_is_no_concentration(store: LawStore) -> None:
    # a stake without control merges no market shares, even where a merger would be red
    one = float(v(store, DOMINANCE_ONE)) * 100
    w = notifiable(world(store, with_deal=False), store)
    w.market("M1", {"G0": one - 10, "T": 20.0, "R1": 90 - one})
    w.platform("P0", "G1", "online_sales").platform("PT", "T", "life_services")
    w.deal("D1", "G1", "T", control=False)
    light = w.light(grade="large")
    assert light.screen.status == "no_control"
    assert light.screen.effects  # the screen still reports the market ...
    assert light.reasons == []  # ... but nothing structural follows
    assert light.colour == GREEN


def test_reorganisations_are_no_acquisitions(store: LawStore) -> None:
    # the group moves subsidiaries in new industry groups under G1: neither a series of
    # acquisitions nor an entry into new sectors
    n = max(
        int(store.value(P + "yellow.serial_min_acquisitions", DAY)),
        int(store.value(P + "yellow.expansion_min_new_sectors", DAY)),
    )
    w = world(store, with_deal=False).platform("P0", "G1", "online_sales")
    fresh = ["H621", "K701", "N772", "M751", "P831", "Q841"]
    for i in range(n - 1):
        w.entity(f"G{i + 2}", industry=fresh[i]).owns("G0", f"G{i + 2}")
        w.deal(f"DR{i}", "G1", f"G{i + 2}", announced=months_before(DAY, 3 + i))
    w.update("T", industry_code="G541").platform("PT", "T", "online_sales")
    w.deal("D1", "G1", "T")
    assert w.light("DR0").screen.status == "intra_group"
    light = w.light(grade="large")
    assert not codes(light) & {"serial_acquisitions", "cross_sector_expansion"}
    assert light.colour == GREEN


# --- proposals ---------------------------------------------------------------------------


def test_proposal_meeting_the_thresholds_is_notification_due(store: LawStore) -> None:
    w = notifiable(world(store, with_deal=False), store)
    light = w.traffic_light().proposal("G1", "T", DAY)
    check(light, store)
    assert light.deal_id == "proposed"
    assert light.screen.closed_on is None
    assert codes(light) == {"notification_due"}
    assert light.colour == YELLOW


def test_proposal_below_the_thresholds_is_green(store: LawStore) -> None:
    light = world(store, with_deal=False).traffic_light().proposal("G1", "T", DAY)
    check(light, store)
    assert light.colour == GREEN


def test_proposal_counts_itself_in_a_series(store: LawStore) -> None:
    n = int(store.value(P + "yellow.serial_min_acquisitions", DAY))
    w = _serial(store, [months_before(DAY, 2 + i) for i in range(n - 1)])
    del w.deals["D1"]
    light = w.traffic_light().proposal("G1", "T", DAY + timedelta(days=1))
    check(light, store)
    assert "serial_acquisitions" in codes(light)


# --- the command line --------------------------------------------------------------------


def _cli_world(store: LawStore) -> World:
    """A red deal (closed unnotified, notifiable), a green one, and a red news deal
    (the licence list read back from Parquet)."""
    w = notifiable(world(store, with_deal=False), store)
    w.entity("U", industry="C391", china=10e6, licences=["payment"])
    w.entity("N", industry="C391", china=10e6, licences=store.value(P + "red.news_licences", DAY))
    w.deal("DRED", "G1", "T")
    w.deal("DGRN", "G1", "U", announced=DAY + timedelta(days=3))
    window = int(store.value(P + "yellow.serial_window_months", DAY))
    w.deal("DNEWS", "G0", "N", announced=months_before(DAY, window + 1))  # not in a series
    return w


def test_cli_deal_screen_exit_codes_and_json(store: LawStore, tmp_path: Path) -> None:
    lake = _cli_world(store).write_lake(tmp_path / "lake")
    red = runner.invoke(app, ["deal", "screen", "--lake", str(lake), "--deal", "DRED"])
    assert red.exit_code == 1, red.output
    assert "notification_missing" in red.output
    green = runner.invoke(app, ["deal", "screen", "--lake", str(lake), "--deal", "DGRN"])
    assert green.exit_code == 0, green.output
    assert "green" in green.output

    out = runner.invoke(app, ["deal", "screen", "--lake", str(lake), "--deal", "DRED", "--json"])
    assert out.exit_code == 1
    [light] = json.loads(out.stdout)
    assert light["deal_id"] == "DRED" and light["colour"] == RED
    [r] = [r for r in light["reasons"] if r["code"] == "notification_missing"]
    assert r["colour"] == RED and r["citations"]
    assert light["screen"]["status"] == "unnotified"

    everything = runner.invoke(app, ["deal", "screen", "--lake", str(lake), "--json"])
    assert everything.exit_code == 1  # any red deal
    colours = {d["deal_id"]: d["colour"] for d in json.loads(everything.stdout)}
    assert colours == {"DGRN": GREEN, "DRED": RED, "DNEWS": RED}

    news = runner.invoke(app, ["deal", "screen", "--lake", str(lake), "--deal", "DNEWS", "--json"])
    assert news.exit_code == 1
    news_codes = [r["code"] for r in json.loads(news.stdout)[0]["reasons"]]
    assert news_codes[0] == "prohibited_market_access"
    assert set(news_codes) <= {"prohibited_market_access", "turnover_missing"}


def test_cli_deal_screen_unknown_deal_is_a_usage_error(store: LawStore, tmp_path: Path) -> None:
    lake = _cli_world(store).write_lake(tmp_path / "lake")
    result = runner.invoke(app, ["deal", "screen", "--lake", str(lake), "--deal", "NOPE"])
    assert result.exit_code == 2
    assert "NOPE" in result.output


def test_cli_deal_propose(store: LawStore, tmp_path: Path) -> None:
    lake = _cli_world(store).write_lake(tmp_path / "lake")
    args = ["deal", "propose", "--lake", str(lake), "--acquirer", "G1", "--target", "T"]
    result = runner.invoke(app, [*args, "--on", DAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    [light] = json.loads(result.stdout)
    assert light["colour"] == YELLOW
    assert [r["code"] for r in light["reasons"]] == ["notification_due"]
    minority = runner.invoke(app, [*args, "--on", DAY.isoformat(), "--no-control", "--json"])
    assert minority.exit_code == 0, minority.output
    [light] = json.loads(minority.stdout)
    assert light["colour"] == GREEN and light["screen"]["status"] == "no_control"
    args = [*args[:-2], "--target", "U", "--on", DAY.isoformat(), "--json"]
    small = runner.invoke(app, args)
    assert small.exit_code == 0, small.output
    assert json.loads(small.stdout)[0]["colour"] == GREEN


def test_cli_entity_control_chain(store: LawStore, tmp_path: Path) -> None:
    w = _cli_world(store)
    lake = w.write_lake(tmp_path / "lake")
    # after DRED closed, T sits under G1 under G0
    after = (DAY + timedelta(days=60)).isoformat()
    args = ["entity", "T", "--lake", str(lake), "--json"]
    result = runner.invoke(app, [*args, "--at", after])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ultimate_controller"] == "G0"
    assert [(c["owner_id"], c["owned_id"]) for c in out["control_chain"]] == [
        ("G1", "T"),
        ("G0", "G1"),
    ]
    assert {"G0", "G1", "T"} <= set(out["group_members"])
    assert out["group_financials"]["fiscal_year"] == FY  # the FY before the --at day
    # before closing, T controls itself
    before = runner.invoke(app, [*args, "--at", DAY.isoformat()])
    assert before.exit_code == 0, before.output
    out = json.loads(before.stdout)
    assert out["ultimate_controller"] == "T" and out["control_chain"] == []
    text = runner.invoke(app, ["entity", "T", "--lake", str(lake), "--at", after])
    assert text.exit_code == 0 and "G0" in text.output


def test_cli_entity_edges_are_dated(store: LawStore, tmp_path: Path) -> None:
    # S0 controlled G0 through a VIE until 2020; G0 has been on its own since
    w = world(store)
    w.entity("S0", kind="fund", industry="J672", china=None)
    w.owns("S0", "G0", 0.0, control="vie", since=date(2016, 1, 1), until=date(2020, 1, 1))
    lake = w.write_lake(tmp_path / "lake")
    args = ["entity", "G1", "--lake", str(lake), "--json", "--at"]
    then = json.loads(runner.invoke(app, [*args, "2019-12-31"]).stdout)
    assert then["ultimate_controller"] == "S0"
    assert [c["control"] for c in then["control_chain"]] == ["equity", "vie"]
    now = json.loads(runner.invoke(app, [*args, "2020-01-01"]).stdout)  # valid_to exclusive
    assert now["ultimate_controller"] == "G0"
    assert [c["owner_id"] for c in now["control_chain"]] == ["G0"]
