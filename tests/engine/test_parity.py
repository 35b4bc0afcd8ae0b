"""Every detector gives the same findings on DuckDB and on Spark."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from fairwatch.detectors.run import scan
from fairwatch.synth.core import Scale
from fairwatch.synth.generate import generate_market
from tests.conftest import spark_unavailable

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(spark_unavailable() is not None, reason=str(spark_unavailable())),
]

SCALE = Scale("parity", quotes=30_000, platforms=6, merchants=60, skus=120, users=2_000, days=45)


def _close(a: Any, b: Any) -> bool:
    # Findings round their numbers to 6 decimals; the engines sum in different orders, so
    # a value that straddles a rounding boundary may differ by one unit in the last place.
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1.01e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_duckdb_and_spark_agree(tmp_path: Path) -> None:
    market = tmp_path / "market"
    generate_market(market, SCALE, seed=11)
    duck = scan(market, None)
    spark = scan(market, None, engine="spark")
    assert [d.status for d in duck.detectors] == [d.status for d in spark.detectors]
    assert all(d.status != "error" for d in duck.detectors + spark.detectors), [
        (d.code, d.error) for d in duck.detectors + spark.detectors if d.error
    ]
    assert duck.findings, "the parity market should produce findings to compare"
    by_id_duck = {f["finding_id"]: f for f in duck.findings}
    by_id_spark = {f["finding_id"]: f for f in spark.findings}
    assert by_id_duck.keys() == by_id_spark.keys()
    for fid, f in by_id_duck.items():
        g = by_id_spark[fid]
        for key in f:
            assert _close(f[key], g[key]), (fid, key, f[key], g[key])
