"""Detection quality on a synthetic market (the tests' seed; the release numbers use others)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairwatch.detectors.run import scan
from fairwatch.synth.core import Scale
from fairwatch.synth.evaluate import evaluate
from fairwatch.synth.generate import generate_market

SCALE = Scale("quality", quotes=120_000, platforms=6, merchants=80, skus=200, users=4_000, days=60)
FAMILIES = ("pricing.personalized_discrimination", "pricing.fictitious_original_price")


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quality") / "market"
    generate_market(out, SCALE, seed=2024)
    return out


def test_pricing_detectors_find_planted_cases(market: Path, tmp_path: Path) -> None:
    scan(market, tmp_path / "run", select=["FW101", "FW102"], report=False)
    result = evaluate(tmp_path / "run", market)
    for family in FAMILIES:
        row = result.row(family)
        assert row is not None and row.truth > 0, f"the market plants no {family}"
        assert row.precision is not None and row.precision >= 0.95, (family, row)
        assert row.recall is not None and row.recall >= 0.95, (family, row)


def test_unnotified_concentrations_found_through_group_resolution(
    market: Path, tmp_path: Path
) -> None:
    scan(market, tmp_path / "run", select=["FW701"], report=False)
    row = evaluate(tmp_path / "run", market).row("structure.unnotified_concentration")
    assert row is not None and row.truth > 0, "the market plants no unnotified concentration"
    assert row.precision is not None and row.precision >= 0.95, row
    assert row.recall is not None and row.recall >= 0.95, row


def test_clean_market_gives_no_pricing_or_structure_findings(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    generate_market(clean, SCALE, seed=99, violations=False)
    result = scan(clean, None, select=["FW101", "FW102", "FW701"])
    assert result.findings == [], result.findings[:3]
