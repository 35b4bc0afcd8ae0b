"""Golden lookups (OpenFisca style): ``golden/*.yaml`` map parameter -> date -> value.

The values were typed from shared/reference/regulatory-facts.md, independently of the
pack files. ``raises`` means the lookup must fail with ParameterLookupError.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from fairwatch.errors import ParameterLookupError
from fairwatch.law import LawStore, default_store
from fairwatch.law.schema import NUMERIC_UNITS

GOLDEN_DIR = Path(__file__).parent / "golden"
RAISES = "raises"


def _load_golden() -> dict[str, dict[dt.date, Any]]:
    cases: dict[str, dict[dt.date, Any]] = {}
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, by_date in data.items():
            assert name not in cases, f"{name} appears in two golden files"
            assert all(isinstance(d, dt.date) for d in by_date), f"{path}: {name}: bad date key"
            cases[name] = by_date
    return cases


GOLDEN = _load_golden()
CASES = [
    pytest.param(name, when, expected, id=f"{name}@{when.isoformat()}")
    for name, by_date in GOLDEN.items()
    for when, expected in by_date.items()
]


@pytest.fixture(scope="module")
def store() -> LawStore:
    return default_store()


def _normalise(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


@pytest.mark.parametrize(("name", "when", "expected"), CASES)
def test_golden_lookup(store: LawStore, name: str, when: dt.date, expected: Any) -> None:
    if expected == RAISES:
        with pytest.raises(ParameterLookupError, match=name):
            store.value(name, when)
    else:
        assert _normalise(store.value(name, when)) == expected


def test_golden_names_exist(store: LawStore) -> None:
    missing = [name for name in GOLDEN if not store.has(name)]
    assert not missing, f"golden files name unknown parameters: {missing}"


def test_every_threshold_is_golden_tested_around_every_change(store: LawStore) -> None:
    """Each numeric / fraction parameter has a case the day before and the day of each date."""
    gaps: list[str] = []
    for name in store.names():
        parameter = store.parameter(name)
        if parameter.unit not in NUMERIC_UNITS and parameter.unit != "fraction":
            continue
        by_date = GOLDEN.get(name, {})
        for dated in parameter.values:
            for when in (dated.start - dt.timedelta(days=1), dated.start):
                if when not in by_date:
                    gaps.append(f"{name} @ {when.isoformat()}")
    assert not gaps, "missing golden cases (add them to tests/law/golden/):\n" + "\n".join(gaps)
