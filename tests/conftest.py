"""Shared fixtures: engines (DuckDB always; Spark when PySpark and Java are present)."""

from __future__ import annotations

import shutil
from importlib.util import find_spec

import pytest


def spark_unavailable() -> str | None:
    """Why the Spark engine cannot run here, or None when it can."""
    if find_spec("pyspark") is None:
        return "PySpark is not installed (pip install 'fairwatch[spark]')"
    if shutil.which("java") is None:
        return "no Java runtime on PATH (Spark needs Java 17)"
    return None


ENGINES = [
    "duckdb",
    pytest.param(
        "spark",
        marks=[
            pytest.mark.spark,
            pytest.mark.skipif(spark_unavailable() is not None, reason=str(spark_unavailable())),
        ],
    ),
]


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
