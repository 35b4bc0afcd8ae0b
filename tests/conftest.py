"""Shared fixtures: engines (DuckDB always; Spark when PySpark and Java are present), cheap
password hashing for the case tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with test-sized costs: the case tests create many users (same hash
    format; the production cost takes ~0.1 s per hash)."""
    from argon2 import PasswordHasher

    from fairwatch.cases import auth

    real = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        auth._hasher = real
