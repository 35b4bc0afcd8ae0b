"""The credit engine: records, the serious-dishonesty list, repair dates, risk class; CLI."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from fairwatch.cli.credit import credit
from fairwatch.errors import DefinitionError, UsageError
from fairwatch.law import LawStore, default_store
from fairwatch.law.credit import (
    Decision,
    DecisionOutcome,
    Measure,
    _entry,
    credit_profile,
    load_decisions,
)
from fairwatch.law.penalty import Band

D = dt.date


@pytest.fixture(scope="module")
def store() -> LawStore:
    return default_store()


def fine(decided_on: dt.date, **kw: Any) -> Decision:
    defaults: dict[str, Any] = {
        "entity_id": "e1",
        "provision": "ecommerce.art82",
        "outcome": DecisionOutcome.FINE,
        "fine_cny": Fraction(100_000),
        "band": Band.GENERAL,
    }
    defaults.update(kw)
    return Decision(decided_on=decided_on, **defaults)


# --- the list of seriously illegal and dishonest entities ------------------------------------


def test_serious_violation_with_heavier_fine_is_listed(store: LawStore) -> None:
    decision = fine(
        D(2023, 6, 1),
        band=Band.HEAVIER,
        serious=True,
        harm_removed=True,
        fulfilled_on=D(2023, 9, 1),
    )
    profile = credit_profile("e1", [decision], D(2024, 1, 1), store)
    (record,) = profile.records
    assert record.listing is not None
    assert record.listing.listed_on == D(2023, 6, 1)
    assert record.listing.until == D(2026, 6, 1)  # 3-year term
    assert record.listing.grounds == ("fine_heavier_band",)
    assert record.listing.early_removal_from == D(2024, 6, 1)  # after 1 year
    assert record.listing.early_removal_blockers == ()
    assert profile.listed
    assert not credit_profile("e1", [decision], D(2026, 6, 1), store).listed


def test_early_removal_waits_for_late_fulfilment(store: LawStore) -> None:
    decision = fine(
        D(2023, 6, 1),
        band=Band.HEAVIER,
        serious=True,
        harm_removed=True,
        fulfilled_on=D(2024, 8, 1),
    )
    listing = credit_profile("e1", [decision], D(2024, 9, 1), store).records[0].listing
    assert listing is not None
    assert listing.early_removal_from == D(2024, 8, 1)


def test_early_removal_blockers(store: LawStore) -> None:
    listed = fine(D(2023, 6, 1), licence_revoked=True, serious=True)
    again = fine(D(2024, 2, 1), business_suspended=True)
    profile = credit_profile("e1", [listed, again], D(2024, 9, 1), store)
    listing = profile.records[0].listing
    assert listing is not None
    assert listing.grounds == ("licence_revoked",)
    assert listing.early_removal_from is None
    assert listing.early_removal_blockers == (
        "penalty not fulfilled",
        "harm not removed",
        "new heavier penalty on 2024-02-01",
    )
    # the second decision carries a heavier measure but was not found serious
    assert profile.records[1].listing is None
    assert "not found serious" in profile.records[1].listing_note


def test_serious_without_heavier_penalty_is_not_listed(store: LawStore) -> None:
    profile = credit_profile("e1", [fine(D(2023, 6, 1), serious=True)], D(2024, 1, 1), store)
    assert profile.records[0].listing is None
    assert profile.records[0].listing_note == "no heavier penalty: not listed"
    assert not profile.listed


def test_before_the_list_measures(store: LawStore) -> None:
    decision = fine(D(2021, 3, 1), band=Band.HEAVIER, serious=True)
    profile = credit_profile("e1", [decision], D(2021, 6, 1), store)
    record = profile.records[0]
    assert record.listing is None
    assert "not encoded" in record.listing_note
    assert record.publicity_until is None
    assert any("not encoded" in w for w in profile.warnings)


# --- publicity and repair ------------------------------------------------------------------


def test_publicity_and_repair_general_sector(store: LawStore) -> None:
    decision = fine(D(2022, 8, 31), fulfilled_on=D(2022, 10, 1))
    record = credit_profile("e1", [decision], D(2023, 1, 1), store).records[0]
    assert record.publicity_until == D(2025, 8, 31)
    assert record.publicised
    assert record.repair_from == D(2023, 2, 28)  # 6 months, clipped to the month's end


@pytest.mark.parametrize("sector", ["food", "drugs", "special_equipment"])
def test_repair_waits_a_year_in_sensitive_sectors(sector: str, store: LawStore) -> None:
    decision = fine(D(2022, 3, 1), sector=sector, fulfilled_on=D(2022, 4, 1))
    record = credit_profile("e1", [decision], D(2023, 1, 1), store).records[0]
    assert record.repair_from == D(2023, 3, 1)


def test_repair_needs_fulfilment(store: LawStore) -> None:
    record = credit_profile("e1", [fine(D(2022, 3, 1))], D(2023, 1, 1), store).records[0]
    assert record.repair_from is None
    assert "2022-09-01" in record.repair_note
    late = fine(D(2022, 3, 1), fulfilled_on=D(2022, 12, 1))
    assert credit_profile("e1", [late], D(2023, 1, 1), store).records[0].repair_from == D(
        2022, 12, 1
    )


def test_publicity_ends(store: LawStore) -> None:
    record = credit_profile("e1", [fine(D(2021, 10, 1))], D(2024, 10, 1), store).records[0]
    assert record.publicity_until == D(2024, 10, 1)
    assert not record.publicised


def test_no_penalty_is_recorded_not_published(store: LawStore) -> None:
    decision = fine(D(2023, 1, 1), outcome=DecisionOutcome.NO_PENALTY, fine_cny=None, band=None)
    profile = credit_profile("e1", [decision], D(2023, 6, 1), store)
    record = profile.records[0]
    assert record.publicity_until is None and record.repair_from is None
    assert record.severity == 0
    assert profile.risk_class == "A"


# --- score and class --------------------------------------------------------------------------


def test_recency_fades_linearly(store: LawStore) -> None:
    weights = store.value("cn.credit.risk_score.weights", D(2024, 1, 1))
    decided = D(2022, 1, 1)
    end = D(2025, 1, 1)  # 3-year lookback
    at = D(2023, 7, 3)
    record = credit_profile("e1", [fine(decided)], at, store).records[0]
    assert record.recency == Fraction((end - at).days, (end - decided).days)
    assert record.severity == weights["fine_general"]
    assert credit_profile("e1", [fine(decided)], decided, store).records[0].recency == 1
    assert credit_profile("e1", [fine(decided)], end, store).records[0].recency == 0


def test_severity_adds_measures(store: LawStore) -> None:
    weights = store.value("cn.credit.risk_score.weights", D(2024, 1, 1))
    decision = fine(D(2023, 1, 1), band=Band.HEAVIER, licence_revoked=True, banned=True)
    assert decision.measures == (
        Measure.FINE_HEAVIER_BAND,
        Measure.LICENCE_REVOKED,
        Measure.BANNED,
    )
    record = credit_profile("e1", [decision], D(2023, 1, 1), store).records[0]
    assert record.severity == (
        weights["fine_heavier"] + weights["licence_revoked"] + weights["banned"]
    )


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], "A"),
        ([{"outcome": DecisionOutcome.WARNING, "fine_cny": None, "band": None}], "B"),
        ([{"band": Band.GENERAL}, {"band": Band.LIGHTER}], "C"),
        ([{"band": Band.HEAVIER, "serious": True}], "D"),
    ],
)
def test_risk_class(decisions: list[dict[str, Any]], expected: str, store: LawStore) -> None:
    at = D(2024, 5, 1)
    profile = credit_profile("e1", [fine(at, **kw) for kw in decisions], at, store)
    cutoffs = store.value("cn.credit.risk_class.min_score", at)
    assert profile.risk_class == expected, (profile.score, cutoffs)


def test_other_entities_and_later_decisions_are_ignored(store: LawStore) -> None:
    decisions = [fine(D(2023, 1, 1), entity_id="e2"), fine(D(2025, 1, 1))]
    profile = credit_profile("e1", decisions, D(2024, 1, 1), store)
    assert profile.records == ()
    assert profile.score == 0 and profile.risk_class == "A"


def test_profile_to_dict_is_json(store: LawStore) -> None:
    decision = fine(D(2023, 6, 1), band=Band.HEAVIER, serious=True, fulfilled_on=D(2023, 7, 1))
    data = json.loads(json.dumps(credit_profile("e1", [decision], D(2024, 1, 1), store).to_dict()))
    assert data["listed"] is True
    assert data["risk_class"] == "D"
    assert data["records"][0]["listing"]["until"] == "2026-06-01"
    keys = {s["citation_key"] for s in data["steps"]}
    assert {"cn.credit_list_measures", "cn.credit_repair_rules", "cn.fairwatch_policy"} <= keys
    for step in data["steps"]:
        assert step["citation_label"]


def test_undeclared_parameter_is_refused(store: LawStore) -> None:
    with pytest.raises(DefinitionError, match="PARAMETERS"):
        _entry(store, "cn.penalty.limitation.general_years", D(2024, 1, 1))


# --- parsing ---------------------------------------------------------------------------------


def test_from_mapping() -> None:
    (decision,) = load_decisions(
        [
            {
                "entity_id": 42,
                "decided_on": "2023-06-01",
                "provision": "ecommerce.art82",
                "outcome": 250000.5,
                "band": "heavier",
                "serious": True,
                "fulfilled_on": "2023-07-01",
            }
        ]
    )
    assert decision.entity_id == "42"
    assert decision.outcome is DecisionOutcome.FINE
    assert decision.fine_cny == Fraction("250000.5")
    assert decision.band is Band.HEAVIER
    assert decision.fulfilled_on == D(2023, 7, 1)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"entity_id": "e", "decided_on": "2023-01-01", "provision": "p"}, "missing keys"),
        (
            {"entity_id": "e", "decided_on": "2023-01-01", "provision": "p", "outcome": "x"},
            "outcome",
        ),
        (
            {"entity_id": "e", "decided_on": "2023-13-01", "provision": "p", "outcome": "warning"},
            "not a date",
        ),
        (
            {"entity_id": "e", "decided_on": "2023-01-01", "provision": "p", "outcome": "fine"}
            | {"band": "mild"},
            "band",
        ),
        (
            {"entity_id": "e", "decided_on": "2023-01-01", "provision": "p", "outcome": "fine"}
            | {"colour": "red"},
            "unknown keys",
        ),
        (
            {"entity_id": "e", "decided_on": "2023-01-01", "provision": "p", "outcome": "fine"}
            | {"serious": "yes"},
            "true or false",
        ),
        (
            {"entity_id": "e", "decided_on": "2023-01-01", "provision": "p", "outcome": "fine"}
            | {"fulfilled_on": "2022-01-01"},
            "before decided_on",
        ),
        ("not a mapping", "expected a mapping"),
    ],
)
def test_bad_decisions(item: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_decisions([item])


# --- CLI ------------------------------------------------------------------------------------

_app = typer.Typer()
_app.command()(credit)
runner = CliRunner()
ENV = {"COLUMNS": "250"}
DECISIONS = [
    {
        "entity_id": "shop-1",
        "decision_id": "D-1",
        "decided_on": "2023-06-01",
        "provision": "ecommerce.art81",
        "outcome": 90000,
        "band": "heavier",
        "serious": True,
        "sector": "food",
        "harm_removed": True,
        "fulfilled_on": "2023-07-15",
    },
    {
        "entity_id": "shop-1",
        "decided_on": "2024-02-01",
        "provision": "advertising.prohibited_terms",
        "outcome": "warning",
    },
]


@pytest.fixture
def decisions_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "decisions.yaml"
    path.write_text(yaml.safe_dump(DECISIONS), encoding="utf-8")
    return path


def test_cli_table(decisions_yaml: Path) -> None:
    result = runner.invoke(_app, ["shop-1", str(decisions_yaml), "--at", "2024-06-01"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "class D" in result.output and "LISTED" in result.output
    assert "D-1" in result.output
    assert "listed until 2026-06-01" in result.output
    assert "cn.credit_list_measures" in result.output


def test_cli_json(tmp_path: Path) -> None:
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(DECISIONS), encoding="utf-8")
    result = runner.invoke(_app, ["shop-1", str(path), "--at", "2024-06-01", "--json"], env=ENV)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["records"][0]["repair_from"] == "2024-06-01"  # food: 12 months


@pytest.mark.parametrize(
    ("content", "at", "message"),
    [
        (None, "2024-06-01", "cannot read"),
        ("{a: 1}", "2024-06-01", "must hold a list"),
        ("[", "2024-06-01", "not valid"),
        ("[]", "2024-99-01", "not a date"),
        ("[{entity_id: e}]", "2024-06-01", "missing keys"),
    ],
)
def test_cli_errors_exit_2(tmp_path: Path, content: str | None, at: str, message: str) -> None:
    path = tmp_path / "decisions.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(_app, ["shop-1", str(path), "--at", at], env=ENV)
    assert result.exit_code == 2
    assert message in result.output


def test_cli_docstring_has_example() -> None:
    assert credit.__doc__ is not None
    assert "Example: fairwatch credit show " in credit.__doc__
