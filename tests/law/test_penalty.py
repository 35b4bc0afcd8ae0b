"""The penalty calculator: golden cases (``penalty_cases/*.yaml``), API and CLI.

Each golden case gives a case's ``input`` and the ``output`` fields to check; amounts
are ``[min, max]`` in CNY, compared exactly. A real decision adds ``actual``: the
published fine must lie in the statutory range, its rate in the statutory rate range,
and in the band named by ``actual.band``; that band must equal the band the stated
circumstances imply unless ``actual.divergence`` explains why not.
"""

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

from fairwatch.cli.penalty import penalty
from fairwatch.errors import DefinitionError, ParameterLookupError, UsageError
from fairwatch.law import LawStore, default_store
from fairwatch.law.penalty import (
    PROVISIONS,
    Band,
    Circumstance,
    Outcome,
    PenaltyCase,
    PenaltyResult,
    Range,
    _entry,
    add_months,
    add_years,
    calculate,
)

CASES_DIR = Path(__file__).parent / "penalty_cases"
TODAY = dt.date(2026, 11, 24)


def _load_cases() -> list[Any]:
    params = []
    seen: set[str] = set()
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            name = case["name"]
            assert name not in seen, f"{path.name}: case {name} appears twice"
            seen.add(name)
            params.append(pytest.param(case, id=f"{path.stem}:{name}"))
    return params


CASES = _load_cases()


@pytest.fixture(scope="module")
def store() -> LawStore:
    return default_store()


def _case(data: dict[str, Any]) -> PenaltyCase:
    return PenaltyCase.build(
        provision=data["provision"],
        conduct_start=data["conduct_start"],
        conduct_end=data["conduct_end"],
        decided_on=data["decided_on"],
        base_cny=data.get("base_cny"),
        circumstances=data.get("circumstances", ()),
        leniency_rank=data.get("leniency_rank"),
        discovered_on=data.get("discovered_on"),
    )


def _pair(r: Range | None) -> list[Fraction] | None:
    return None if r is None else [r.min_cny, r.max_cny]


def _expect_pair(value: Any) -> list[Fraction] | None:
    return None if value is None else [Fraction(str(v)) for v in value]


def _check_output(result: PenaltyResult, expected: dict[str, Any]) -> None:
    for key, want in expected.items():
        if key == "outcome":
            assert result.outcome.value == want
        elif key == "applied_law":
            assert result.applied == want
        elif key == "law":
            assert result.regime.law == want
        elif key in ("statutory", "band_range", "recommended"):
            assert _pair(getattr(result, key)) == _expect_pair(want), key
        elif key in ("conduct_regime", "decision_regime"):
            regime = result.regimes[key.split("_")[0]]
            got = None if regime is None else _pair(regime.ceiling)
            assert got == _expect_pair(want), key
        elif key == "band":
            assert result.band.value == want
        elif key == "aggravation_multiplier":
            assert (None if result.multiplier is None else list(result.multiplier)) == want
        elif key == "leniency_reduction_pct":
            reduction = result.leniency_reduction_pct
            assert (None if reduction is None else list(reduction)) == want
        elif key == "limitation_checked":
            assert result.limitation.checked is want
        elif key == "limitation_expired":
            assert result.limitation.expired is want
        elif key == "limitation_expires_on":
            assert result.limitation.expires_on == want
        elif key == "exemption_grounds":
            assert list(result.exemption_grounds) == want
        elif key == "below_minimum_allowed":
            assert result.below_minimum_allowed is want
        elif key == "benchmark_start_cny":
            start = result.benchmark_start_cny
            assert start == (None if want is None else Fraction(want))
        elif key == "warnings_contain":
            for text in want:
                assert any(text in w for w in result.warnings), (text, result.warnings)
        else:  # pragma: no cover - a typo in a case file
            raise AssertionError(f"unknown output key {key!r}")


def _check_actual(result: PenaltyResult, actual: dict[str, Any]) -> None:
    fine = Fraction(str(actual["fine_cny"]))
    statutory = result.statutory
    assert statutory.contains(fine), f"{fine} outside the statutory range {statutory.text()}"
    if "rate_pct" in actual:
        rate = Fraction(str(actual["rate_pct"]))
        assert statutory.rate_min is not None and statutory.rate_max is not None
        assert statutory.rate_min <= rate <= statutory.rate_max
        published_band = result.bands[Band(actual["band"])]
        assert published_band.rate_min is not None and published_band.rate_max is not None
        assert published_band.rate_min <= rate <= published_band.rate_max
    assert result.band_of(fine) == Band(actual["band"])
    if "divergence" in actual:
        assert actual["divergence"].strip(), "a divergence needs its reason"
        assert result.band != Band(actual["band"]), "no longer diverges: drop `divergence`"
    else:
        assert result.band == Band(actual["band"]), (
            f"the circumstances imply the {result.band.value} band, the fine lies in "
            f"{actual['band']}"
        )


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: dict[str, Any], store: LawStore) -> None:
    result = calculate(_case(case["input"]), store, today=TODAY)
    _check_output(result, case["output"])
    if "actual" in case:
        _check_actual(result, case["actual"])
    # every step cites the law store and the result serialises to JSON
    for step in result.steps:
        assert step.citation_label
        if step.citation_key is not None:
            assert store.has_citation(step.citation_key)
        if step.parameter is not None:
            assert store.has(step.parameter)
    json.dumps(result.to_dict())


@pytest.mark.parametrize("key", sorted(PROVISIONS))
def test_every_provision_resolves(key: str, store: LawStore) -> None:
    """Each provision has a fine in force at some recent date (none is dead in the table)."""
    prov = PROVISIONS[key]
    base = 1_000_000 if prov.base else None
    results = []
    for day in (dt.date(2025, 12, 1), dt.date(2024, 6, 1)):
        try:
            results.append(
                calculate(PenaltyCase.build(key, day, day, day, base), store, today=TODAY)
            )
        except ParameterLookupError:
            continue
    assert results, f"{key} resolves at neither date"
    for result in results:
        assert 0 <= result.statutory.min_cny <= result.statutory.max_cny
        assert result.statutory.max_cny > 0


def test_to_dict_is_json_and_exact(store: LawStore) -> None:
    case = PenaltyCase.build(
        "aml.abuse_of_dominance",
        dt.date(2018, 1, 1),
        dt.date(2021, 10, 8),
        dt.date(2021, 10, 8),
        base_cny="114748000000",
        circumstances=["cooperation"],
    )
    data = json.loads(json.dumps(calculate(case, store, today=TODAY).to_dict()))
    assert data["band"] == "lighter"
    assert data["band_range"]["max_cny"] == "4245676000"
    assert data["band_range"]["rate_max"] == "3.7"
    assert data["regimes"]["conduct"]["articles"] == [
        "Anti-Monopoly Law of the PRC (2007), art. 47"
    ]
    assert data["steps"][0]["citation_key"] == "cn.aml2008.art47"


def test_unknown_provision_and_circumstance() -> None:
    with pytest.raises(UsageError, match="unknown provision"):
        calculate(
            PenaltyCase.build("aml.nope", dt.date(2024, 1, 1), dt.date(2024, 1, 1), TODAY),
            today=TODAY,
        )
    with pytest.raises(UsageError, match="unknown circumstance"):
        PenaltyCase.build("aml.abuse_of_dominance", TODAY, TODAY, TODAY, circumstances=["lucky"])


@pytest.mark.parametrize(
    ("start", "end", "decided", "found", "message"),
    [
        (dt.date(2024, 2, 1), dt.date(2024, 1, 1), dt.date(2024, 3, 1), None, "after conduct_end"),
        (dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 2, 1), None, "after decided_on"),
        (
            dt.date(2024, 1, 1),
            dt.date(2024, 1, 2),
            dt.date(2024, 3, 1),
            dt.date(2023, 1, 1),
            "discovered_on",
        ),
    ],
)
def test_dates_out_of_order(
    start: dt.date, end: dt.date, decided: dt.date, found: dt.date | None, message: str
) -> None:
    case = PenaltyCase.build("ecommerce.art81", start, end, decided, discovered_on=found)
    with pytest.raises(UsageError, match=message):
        calculate(case, today=TODAY)


def test_missing_base_is_a_usage_error() -> None:
    case = PenaltyCase.build(
        "aml.abuse_of_dominance", dt.date(2021, 1, 1), dt.date(2021, 6, 1), dt.date(2021, 9, 1)
    )
    with pytest.raises(UsageError, match="needs base_cny"):
        calculate(case, today=TODAY)


def test_conduct_before_any_encoded_law() -> None:
    case = PenaltyCase.build(
        "price.platform_forced_promotion",
        dt.date(2021, 1, 1),
        dt.date(2021, 6, 1),
        dt.date(2022, 9, 1),
    )
    with pytest.raises(ParameterLookupError, match="no fine"):
        calculate(case, today=TODAY)


def test_contradictory_circumstances() -> None:
    case = PenaltyCase.build(
        "ecommerce.art81", TODAY, TODAY, TODAY, circumstances=["no_harm", "slight_harm"]
    )
    with pytest.raises(UsageError, match="contradict"):
        calculate(case, today=TODAY)


def test_future_decision_warns() -> None:
    case = PenaltyCase.build("ecommerce.art81", TODAY, TODAY, dt.date(2027, 1, 1))
    result = calculate(case, today=TODAY)
    assert any("after today" in w for w in result.warnings)


def test_leniency_outside_monopoly_agreements_warns() -> None:
    case = PenaltyCase.build("ecommerce.art81", TODAY, TODAY, TODAY, leniency_rank=1)
    result = calculate(case, today=TODAY)
    assert result.leniency_reduction_pct is None
    assert any("leniency applies" in w for w in result.warnings)


def test_undeclared_parameter_is_refused(store: LawStore) -> None:
    with pytest.raises(DefinitionError, match="PARAMETERS"):
        _entry(store, "cn.aml.merger_thresholds.global_combined_cny", TODAY)


def test_circumstances_are_known_codes(store: LawStore) -> None:
    """The law-store circumstance lists only name codes the calculator knows."""
    known = {c.value for c in Circumstance}
    for name in store.names("cn.penalty."):
        parameter = store.parameter(name)
        if parameter.unit != "terms":
            continue
        for dated in parameter.values:
            value = dated.value
            codes = [t for v in value.values() for t in v] if isinstance(value, dict) else value
            assert set(codes) <= known, (name, set(codes) - known)


def test_outcome_values_are_stable() -> None:
    assert [o.value for o in Outcome] == ["penalty", "may_exempt", "no_penalty", "time_barred"]


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (dt.date(2020, 2, 29), 1, dt.date(2021, 2, 28)),
        (dt.date(2020, 2, 29), 2, dt.date(2022, 2, 28)),
        (dt.date(2022, 1, 31), 2, dt.date(2024, 1, 31)),
    ],
)
def test_add_years(day: dt.date, years: int, expected: dt.date) -> None:
    assert add_years(day, years) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2021, 8, 31), 6, dt.date(2022, 2, 28)),
        (dt.date(2021, 12, 15), 1, dt.date(2022, 1, 15)),
        (dt.date(2023, 3, 1), 12, dt.date(2024, 3, 1)),
        (dt.date(2023, 3, 1), 0, dt.date(2023, 3, 1)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


# --- CLI ------------------------------------------------------------------------------------

_app = typer.Typer()
_app.command()(penalty)
runner = CliRunner()
ENV = {"COLUMNS": "250"}


def test_cli_table() -> None:
    result = runner.invoke(
        _app,
        [
            "aml.abuse_of_dominance",
            "2018-01-01",
            "2021-10-08",
            "2021-10-08",
            "--base-cny",
            "114748000000",
            "-c",
            "cooperation",
            "-c",
            "promptly_corrected",
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert "lighter band" in result.output
    assert "cn.aml2008.art47" in result.output
    assert "cn.apl.art37" in result.output
    assert "1,147,480,000–4,245,676,000 CNY" in result.output


def test_cli_json() -> None:
    result = runner.invoke(
        _app,
        [
            "ecommerce.art81",
            "2021-09-01",
            "2022-01-31",
            "2024-05-01",
            "--json",
            "--discovered-on",
            "2024-03-01",
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["outcome"] == "time_barred"
    assert data["limitation"]["expires_on"] == "2024-01-31"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["aml.nope", "2021-01-01", "2021-02-01", "2021-03-01"], "unknown provision"),
        (["ecommerce.art81", "2021-13-01", "2021-02-01", "2021-03-01"], "not a date"),
        (["aml.abuse_of_dominance", "2021-01-01", "2021-02-01", "2021-03-01"], "needs base_cny"),
        (["ecommerce.art81", "2024-01-01", "2024-02-01", "2024-03-01", "-c", "x"], "circumstance"),
        (
            ["ecommerce.art81", "2024-01-01", "2024-02-01", "2024-03-01", "-b", "abc"],
            "not a number",
        ),
    ],
)
def test_cli_errors_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(_app, args, env=ENV)
    assert result.exit_code == 2
    assert message in result.output


def test_cli_docstring_has_example() -> None:
    assert penalty.__doc__ is not None
    assert "Example: fairwatch penalty " in penalty.__doc__
