"""Platform grading (SAMR draft), the DMA / DSA tests and the obligations that follow.

Golden cases on small hand-built markets: every threshold just above, at and just below.
The thresholds are the facts file's figures (section 3 and 12), written out here on
purpose: if a parameter file changes, these tests say so.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from fairwatch.cli.platform import platform
from fairwatch.errors import DataError, UsageError
from fairwatch.law import LawStore, default_store
from fairwatch.structure.grading import (
    NO_EU_FIGURES,
    PARAMETERS,
    EUFigures,
    GradingResult,
    grade_group,
    grade_platform,
)

AT = date(2025, 6, 1)  # graded on 2024
YEAR = 2024
TRILLION = 1_000_000_000_000
BN = 1_000_000_000
M = 1_000_000


@pytest.fixture(scope="module")
def law() -> LawStore:
    return default_store()


def market(
    *,
    users: dict[str, Any] | None = None,
    value: float | None = 2 * TRILLION,
    categories: dict[str, list[str]] | None = None,
    monthly_only: tuple[str, ...] = (),
) -> dict[str, pd.DataFrame]:
    """A holding H (listed) owning operator S (100 %); S runs P1, H runs P2 when asked.

    ``users`` maps platform ids to their annual active users in 2024 (``None``: the
    row exists without a figure); ``categories`` maps platform ids to their categories
    (default: P1 in online_sales and financial_services).
    """
    categories = categories or {"P1": ["online_sales", "financial_services"]}
    users = users if users is not None else {"P1": 600 * M}
    operators = {"P1": "S", "P2": "H", "P3": "X"}
    platforms = pd.DataFrame(
        {
            "platform_id": list(categories),
            "name": [f"platform {p}" for p in categories],
            "operator_id": [operators[p] for p in categories],
            "categories": list(categories.values()),
            "launched_on": [date(2015, 1, 1)] * len(categories),
        }
    )
    rows = [
        {"platform_id": p, "period": str(YEAR), "active_users": u, "business_users": 1000}
        for p, u in users.items()
    ]
    for p in monthly_only:
        rows += [
            {"platform_id": p, "period": f"{YEAR}-{m:02d}", "active_users": 70 * M}
            for m in (1, 2, 3)
        ]
    metrics = pd.DataFrame(rows, columns=["platform_id", "period", "active_users"])
    entities = pd.DataFrame(
        {
            "entity_id": ["H", "S", "X"],
            "name": ["Holding Ltd", "Operator Ltd", "Other Ltd"],
            "kind": ["company"] * 3,
        }
    )
    ownership = pd.DataFrame(
        {
            "owner_id": ["H"],
            "owned_id": ["S"],
            "share_pct": [100.0],
            "voting_pct": [100.0],
            "control": ["equity"],
            "valid_from": [pd.Timestamp("2010-01-01")],
            "valid_to": [pd.NaT],
        }
    )
    financials = pd.DataFrame(
        {
            "entity_id": ["H", "S", "X"],
            "fiscal_year": [YEAR] * 3,
            "global_turnover_cny": [500 * BN, 300 * BN, 1 * BN],
            "china_turnover_cny": [400 * BN, 300 * BN, 1 * BN],
            # the operator's own row has a small value: the group's figure must be H's
            "market_value_cny": [value, 5 * BN, 1 * BN],
        }
    )
    return {
        "platforms": platforms,
        "platform_metrics": metrics,
        "entities": entities,
        "ownership": ownership,
        "financials": financials,
    }


def criterion(result: GradingResult, test: str, cid: str) -> Any:
    return next(c for c in result.test(test).criteria if c.id == cid)


# --- SAMR thresholds: just above, at, just below --------------------------------------


@pytest.mark.parametrize(
    ("users", "grade", "status"),
    [
        (500_000_001, "super", "pass"),
        (500_000_000, "super", "pass"),
        (499_999_999, "large", "fail"),
    ],
)
def test_super_users_threshold(law: LawStore, users: int, grade: str, status: str) -> None:
    r = grade_platform(market(users={"P1": users}), "P1", AT, law)
    assert criterion(r, "super", "users").status == status
    assert criterion(r, "super", "users").threshold == 500_000_000
    assert r.grade == grade and not r.provisional


@pytest.mark.parametrize(
    ("users", "grade"),
    [(50_000_001, "large"), (50_000_000, "large"), (49_999_999, "small_medium")],
)
def test_large_users_threshold(law: LawStore, users: int, grade: str) -> None:
    r = grade_platform(market(users={"P1": users}), "P1", AT, law)
    assert criterion(r, "large", "users").threshold == 50_000_000
    assert r.grade == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [(TRILLION + 1, "super"), (TRILLION, "super"), (TRILLION - 1, "large")],
)
def test_super_market_value_threshold(law: LawStore, value: float, grade: str) -> None:
    r = grade_platform(market(value=value), "P1", AT, law)
    c = criterion(r, "super", "market_value")
    assert c.threshold == TRILLION and c.figure == value
    assert r.grade == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [(100 * BN + 1, "large"), (100 * BN, "large"), (100 * BN - 1, "small_medium")],
)
def test_large_market_value_threshold(law: LawStore, value: float, grade: str) -> None:
    r = grade_platform(market(value=value), "P1", AT, law)
    assert criterion(r, "large", "market_value").threshold == 100 * BN
    assert r.grade == grade


@pytest.mark.parametrize(
    ("cats", "grade"),
    [
        (["online_sales", "financial_services", "information"], "super"),
        (["online_sales", "financial_services"], "super"),
        (["online_sales"], "large"),
    ],
)
def test_super_category_breadth_threshold(law: LawStore, cats: list[str], grade: str) -> None:
    r = grade_platform(market(categories={"P1": cats}), "P1", AT, law)
    c = criterion(r, "super", "categories")
    assert (c.figure, c.threshold) == (len(cats), 2)
    assert r.grade == grade


def test_criteria_carry_figure_threshold_and_citation(law: LawStore) -> None:
    r = grade_platform(market(), "P1", AT, law)
    for test in r.tests:
        for c in test.criteria:
            assert c.citation_key and law.has_citation(c.citation_key)
            if c.qualitative:
                assert c.status == "not_assessed" and c.parameter is None
            else:
                assert c.parameter and c.threshold is not None and c.figure is not None
                entry = law.entry(c.parameter, AT)
                assert c.threshold == entry.value and c.citation_key == entry.citation.key


# --- group resolution ------------------------------------------------------------------


def test_subsidiary_operator_is_graded_on_its_parents_market_value(law: LawStore) -> None:
    r = grade_platform(market(value=2 * TRILLION), "P1", AT, law)
    assert r.operator_id == "S" and r.group.entity_id == "H"
    assert [(link.owned, link.owner) for link in r.group.chain] == [("S", "H")]
    c = criterion(r, "super", "market_value")
    assert c.figure == 2 * TRILLION  # H's consolidated row, not S's 5 bn
    assert "H" in c.reason
    assert r.grade == "super"


def test_group_takes_the_union_of_categories_and_the_largest_platform(law: LawStore) -> None:
    tables = market(
        users={"P1": 80 * M, "P2": 520 * M},
        categories={"P1": ["online_sales"], "P2": ["financial_services"]},
    )
    g = grade_group(tables, "S", AT, law)
    assert g.group.entity_id == "H" and g.group.platforms == ("P1", "P2")
    assert g.categories == ("online_sales", "financial_services")
    assert criterion(g, "super", "users").figure == 520 * M
    assert g.grade == "super"
    # a platform of the group: its own users (80 M), the group's breadth and value
    p = grade_platform(tables, "P1", AT, law)
    assert p.categories == ("online_sales",)
    assert p.group_categories == ("online_sales", "financial_services")
    assert criterion(p, "super", "categories").status == "pass"
    assert criterion(p, "super", "users").status == "fail"
    assert p.grade == "large"


def test_platform_of_another_group_is_not_counted(law: LawStore) -> None:
    tables = market(
        users={"P1": 80 * M, "P3": 900 * M},
        categories={"P1": ["online_sales"], "P3": ["information"]},
    )
    g = grade_group(tables, "H", AT, law)
    assert g.group.platforms == ("P1",)
    assert g.categories == ("online_sales",)
    assert criterion(g, "large", "users").figure == 80 * M


# --- missing figures --------------------------------------------------------------------


def test_only_monthly_users_is_not_assessed_and_not_invented(law: LawStore) -> None:
    r = grade_platform(market(users={}, monthly_only=("P1",)), "P1", AT, law)
    for test in ("super", "large"):
        c = criterion(r, test, "users")
        assert c.status == "not_assessed" and c.figure is None
        assert "monthly" in c.reason
    assert r.grade == "undetermined"
    assert {o.id.split(".")[0] for o in r.obligations} == {"all"}


def test_missing_metrics_table_and_market_value(law: LawStore) -> None:
    tables = market(value=None)
    del tables["platform_metrics"]
    r = grade_platform(tables, "P1", AT, law)
    users = criterion(r, "large", "users")
    value = criterion(r, "large", "market_value")
    assert users.status == value.status == "not_assessed"
    assert "platform_metrics" in users.reason
    assert "market value" in value.reason
    assert r.grade == "undetermined"


def test_a_missing_figure_never_hides_a_failure(law: LawStore) -> None:
    r = grade_platform(market(users={"P1": 10 * M}, value=None), "P1", AT, law)
    assert criterion(r, "large", "users").status == "fail"
    assert criterion(r, "large", "market_value").status == "not_assessed"
    assert r.grade == "small_medium"


def test_group_with_an_unreported_platform(law: LawStore) -> None:
    cats = {"P1": ["online_sales"], "P2": ["financial_services"]}
    # the reported platform passes the large test; the other may be larger: provisional
    r = grade_group(market(users={"P1": 100 * M}, categories=cats), "H", AT, law)
    assert criterion(r, "large", "users").status == "pass"
    assert criterion(r, "super", "users").status == "not_assessed"
    assert "P2" in criterion(r, "super", "users").reason
    assert r.grade == "large" and r.provisional
    assert any("provisional" in n for n in r.notes)
    # below every threshold, but an unreported platform could still pass: not assessed
    low = grade_group(market(users={"P1": 10 * M}, categories=cats), "H", AT, law)
    assert criterion(low, "large", "users").status == "not_assessed"
    assert low.grade == "undetermined"


# --- EU DMA and DSA ---------------------------------------------------------------------

YEARS = (2022, 2023, 2024)


def gatekeeper(**changes: Any) -> EUFigures:
    """EU figures that meet the DMA presumption through turnover (market cap too low)."""
    base = EUFigures(
        turnover_eur={y: 8 * BN for y in YEARS},
        avg_market_cap_eur=10 * BN,
        member_states=5,
        monthly_active_end_users={y: 50 * M for y in YEARS},
        yearly_active_business_users={y: 20_000 for y in YEARS},
        monthly_active_recipients=10 * M,
    )
    return replace(base, **changes)


def one_year(value: float, other: float) -> dict[int, float]:
    return {2022: other, 2023: value, 2024: other}


@pytest.mark.parametrize(
    ("figures", "status"),
    [
        (gatekeeper(), "pass"),
        (gatekeeper(turnover_eur=one_year(7_500_000_000, 8 * BN)), "pass"),
        (gatekeeper(turnover_eur=one_year(7_499_999_999, 8 * BN)), "fail"),
        # the market-cap alternative
        (gatekeeper(turnover_eur=one_year(1 * BN, 1 * BN), avg_market_cap_eur=75 * BN), "pass"),
        (gatekeeper(turnover_eur=one_year(1 * BN, 1 * BN), avg_market_cap_eur=75 * BN - 1), "fail"),
        (gatekeeper(member_states=3), "pass"),
        (gatekeeper(member_states=2), "fail"),
        (gatekeeper(monthly_active_end_users=one_year(45_000_000, 50 * M)), "pass"),
        (gatekeeper(monthly_active_end_users=one_year(44_999_999, 50 * M)), "fail"),
        (gatekeeper(yearly_active_business_users=one_year(10_000, 20_000)), "pass"),
        (gatekeeper(yearly_active_business_users=one_year(9_999, 20_000)), "fail"),
    ],
)
def test_dma_presumption_thresholds(law: LawStore, figures: EUFigures, status: str) -> None:
    r = grade_platform(market(), "P1", AT, law, eu=figures)
    assert r.test("dma_gatekeeper").status == status
    dma = [o.citation_key for o in r.obligations if o.parameter.startswith("eu.dma")]
    assert dma == (["eu.dma.art5", "eu.dma.art6", "eu.dma.art7"] if status == "pass" else [])


def test_dma_turnover_needs_each_of_the_last_three_years(law: LawStore) -> None:
    two_years = gatekeeper(turnover_eur={2023: 8 * BN, 2024: 8 * BN})
    r = grade_platform(market(), "P1", AT, law, eu=two_years)
    c = criterion(r, "dma_gatekeeper", "eu_turnover")
    assert c.status == "not_assessed" and "2022" in c.reason
    assert r.test("dma_gatekeeper").status == "not_assessed"


@pytest.mark.parametrize(
    ("recipients", "status"),
    [(45_000_001, "pass"), (45_000_000, "pass"), (44_999_999, "fail")],
)
def test_dsa_vlop_threshold(law: LawStore, recipients: int, status: str) -> None:
    figures = EUFigures(monthly_active_recipients=recipients)
    r = grade_platform(market(), "P1", AT, law, eu=figures)
    assert r.test("dsa_vlop").status == status
    assert criterion(r, "dsa_vlop", "monthly_active_recipients").threshold == 45 * M
    dsa = [o.citation_key for o in r.obligations if o.parameter.startswith("eu.dsa")]
    expected = ["eu.dsa.art34", "eu.dsa.art35", "eu.dsa.art36", "eu.dsa.art37"]
    assert dsa == (expected if status == "pass" else [])
    # only the DSA figure was given: the DMA test is not assessed, not failed
    assert r.test("dma_gatekeeper").status == "not_assessed"


def test_without_eu_figures_each_eu_test_is_not_assessed(law: LawStore) -> None:
    r = grade_platform(market(), "P1", AT, law)
    for test in r.eu_tests:
        assert test.status == "not_assessed"
        assert test.note == f"not assessed: {NO_EU_FIGURES}"
        assert all(c.reason == NO_EU_FIGURES for c in test.criteria)


# --- obligations ------------------------------------------------------------------------


def obligations_of(law: LawStore, users: int, value: float) -> GradingResult:
    return grade_platform(market(users={"P1": users}, value=value), "P1", AT, law)


def test_super_platform_obligations(law: LawStore) -> None:
    r = obligations_of(law, 600 * M, 2 * TRILLION)
    assert r.grade == "super"
    keys = [o.citation_key for o in r.obligations]
    duties = law.value("cn.platform.responsibility.super_large_duties", AT)
    super_keys = [f"cn.platform_responsibility_draft.art{n}" for n in range(1, 10)]
    assert keys[:9] == super_keys  # arts. 1-9 in order, one per duty
    assert [o.id for o in r.obligations[:9]] == [f"super.{d}" for d in duties]
    assert not any(o.verified for o in r.obligations[:9])  # article numbers inferred
    assert keys.count("cn.pipl.art58") == 3
    all_duties = law.value("cn.platform.responsibility.all_platform_duties", AT)
    assert [o.id for o in r.obligations if o.id.startswith("all.")] == [
        f"all.{d}" for d in all_duties
    ]
    assert keys.count("cn.platform_responsibility_draft") == len(all_duties) == 8
    for o in r.obligations:
        assert o.text and o.citation_key and law.has_citation(o.citation_key)


def test_large_platform_obligations(law: LawStore) -> None:
    r = obligations_of(law, 60 * M, 200 * BN)
    assert r.grade == "large"
    prefixes = [o.id.split(".")[0] for o in r.obligations]
    assert "super" not in prefixes
    assert prefixes.count("pipl58") == 3 and prefixes.count("all") == 8
    assert all(o.citation_key == "cn.pipl.art58" for o in r.obligations if o.id[:6] == "pipl58")


def test_small_platform_obligations(law: LawStore) -> None:
    r = obligations_of(law, 10 * M, 10 * BN)
    assert r.grade == "small_medium"
    assert {o.id.split(".")[0] for o in r.obligations} == {"all"}
    assert all(o.citation_key == "cn.platform_responsibility_draft" for o in r.obligations)


def test_every_parameter_read_is_in_force_with_a_citation(law: LawStore) -> None:
    for name in PARAMETERS:
        entry = law.entry(name, AT)
        assert entry.citation.key is None or law.has_citation(entry.citation.key), name
        for key in entry.citation.implements:
            assert law.has_citation(key), (name, key)
    for name in ("eu.dma.gatekeeper.obligation_articles", "eu.dsa.vlop.obligation_articles"):
        for key in law.value(name, AT):
            assert law.has_citation(key), (name, key)


# --- errors ---------------------------------------------------------------------------


def test_errors_name_the_id_or_table(law: LawStore) -> None:
    with pytest.raises(UsageError, match="P9"):
        grade_platform(market(), "P9", AT, law)
    with pytest.raises(UsageError, match="NOBODY"):
        grade_group(market(), "NOBODY", AT, law)
    with pytest.raises(UsageError, match="no platform"):
        grade_group(market(), "X", AT, law)
    with pytest.raises(DataError, match="platforms"):
        grade_platform({k: v for k, v in market().items() if k != "platforms"}, "P1", AT, law)
    with pytest.raises(DataError, match="gaming"):
        grade_platform(market(categories={"P1": ["gaming"]}), "P1", AT, law)
    with pytest.raises(UsageError, match="2021-10-29"):
        grade_platform(market(), "P1", date(2020, 6, 1), law)


def test_to_dict_is_json(law: LawStore) -> None:
    r = grade_platform(market(), "P1", AT, law, eu=gatekeeper())
    data = json.loads(json.dumps(r.to_dict()))
    assert data["grade"] == "super" and data["group"]["entity_id"] == "H"
    assert data["eu_figures"]["turnover_eur"] == {"2022": 8 * BN, "2023": 8 * BN, "2024": 8 * BN}


# --- CLI ------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command(name="platform")(platform)

    @app.command()
    def other() -> None:  # a second command keeps `platform` a sub-command
        """Unused."""

    return app


def _lake(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    lake = tmp_path / "lake"
    lake.mkdir()
    for name, frame in tables.items():
        frame.to_parquet(lake / f"{name}.parquet", index=False)
    return lake


def test_cli_prints_grade_criteria_and_obligations(tmp_path: Path) -> None:
    lake = _lake(tmp_path, market())
    runner = CliRunner()
    app = _app()
    args = ["platform", "P1", "--lake", str(lake), "--at", AT.isoformat()]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "super platform" in out and "Holding Ltd" in out
    assert "cn.platform.grading.super.min_market_value_cny" in out
    assert "cn.pipl.art58" in out and "no EU figures reported" in out

    as_json = runner.invoke(app, [*args, "--json", "--eu-recipients", "45e6"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["grade"] == "super"
    dsa = next(t for t in data["eu_tests"] if t["id"] == "dsa_vlop")
    assert dsa["status"] == "pass"

    eu = runner.invoke(
        app,
        [
            *args,
            "--json",
            "--eu-turnover-eur",
            "2022=8e9,2023=8e9",
            "--eu-turnover-eur",
            "2024=7.4e9",
        ],
    )
    data = json.loads(eu.output)
    dma = next(t for t in data["eu_tests"] if t["id"] == "dma_gatekeeper")
    assert dma["criteria"][0]["status"] == "fail"


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    lake = _lake(tmp_path, market())
    runner = CliRunner()
    app = _app()
    unknown = runner.invoke(app, ["platform", "P9", "--lake", str(lake), "--at", "2025-06-01"])
    assert unknown.exit_code == 2 and "P9" in unknown.output
    bad_date = runner.invoke(app, ["platform", "P1", "--lake", str(lake), "--at", "June"])
    assert bad_date.exit_code == 2
    bad_eu = runner.invoke(app, ["platform", "P1", "--lake", str(lake), "--eu-end-users", "x"])
    assert bad_eu.exit_code == 2
    helped = runner.invoke(app, ["platform", "--help"], env={"COLUMNS": "200"})
    assert helped.exit_code == 0 and "Example" in helped.output
