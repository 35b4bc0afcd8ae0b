"""Ibis connections bound to a lake: DuckDB by default, Spark for scale.

Detectors never import an engine: they receive :class:`Engine` tables as Ibis
expressions. Every table is presented with the canonical columns and types of the
reporting standard (columns a lake lacks are null; extra columns are dropped from the
view), so a detector sees the same thing on every backend.

Both backends run in UTC (DuckDB ``TimeZone``, Spark ``spark.sql.session.timeZone``);
local calendar days are derived explicitly with :func:`local_date`.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from fairwatch.errors import EngineError, UsageError

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")
#: The reporting standard's "day" is the China local calendar day: UTC+8, no DST.
LOCAL_UTC_OFFSET_HOURS = 8


def local_ts(ts: ir.TimestampValue) -> ir.TimestampValue:
    """A UTC timestamp moved to China local wall-clock time (UTC+8)."""
    return ts + ibis.interval(hours=LOCAL_UTC_OFFSET_HOURS)


def local_date(ts: ir.TimestampValue) -> ir.DateValue:
    """The China local calendar day of a UTC timestamp."""
    return local_ts(ts).date()


@dataclass
class Engine:
    """An Ibis backend with the lake's tables registered."""

    name: str
    backend: Any
    tables: dict[str, ir.Table] = field(default_factory=dict)
    _cleanup: list[Any] = field(default_factory=list)

    def has(self, table: str) -> bool:
        return table in self.tables

    def table(self, name: str) -> ir.Table:
        try:
            return self.tables[name]
        except KeyError:
            raise UsageError(f"table {name!r} is not in this lake") from None

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        """Run an expression and return a pandas frame (for small results)."""
        frame = expr.to_pandas()
        assert isinstance(frame, pd.DataFrame)
        return frame

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        return expr.to_pyarrow()

    def close(self) -> None:
        for closer in reversed(self._cleanup):
            try:
                closer()
            except Exception:  # cleanup must not hide the run's own outcome
                log.debug("engine cleanup failed", exc_info=True)
        self._cleanup.clear()


def _arrow_to_ibis(schema: pa.Schema) -> dict[str, dt.DataType]:
    return {f.name: dt.DataType.from_pyarrow(f.type) for f in schema}


def _canonical_view(raw: ir.Table, table: str) -> ir.Table:
    """Project a registered table onto the standard's columns with canonical types."""
    from fairwatch.contract import STANDARD

    columns = []
    for name, dtype in _arrow_to_ibis(STANDARD.table(table).arrow_schema()).items():
        if name in raw.columns:
            col = raw[name]
            columns.append(col if col.type() == dtype else col.cast(dtype).name(name))
        else:
            columns.append(ibis.null(dtype).name(name))
    return raw.select(columns)


def _read_other(files: list[Path], table: str) -> pa.Table:
    from fairwatch.contract import coerce, read_table

    data, problems = coerce(table, read_table(files, table))
    if problems:
        from fairwatch.errors import InvalidBatch

        raise InvalidBatch(problems, source=str(files[0]))
    return data


def connect(
    table_files: Mapping[str, list[Path]],
    engine: str = "duckdb",
    *,
    spark_master: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Engine:
    """Open an engine with the given tables registered (only tables of the standard)."""
    from fairwatch.contract import STANDARD

    wanted = {t: files for t, files in table_files.items() if t in STANDARD.tables and files}
    if engine == "duckdb":
        return _connect_duckdb(wanted, memory_limit=memory_limit, threads=threads)
    if engine == "spark":
        return _connect_spark(wanted, master=spark_master)
    raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _connect_duckdb(
    tables: Mapping[str, list[Path]], *, memory_limit: str | None, threads: int | None
) -> Engine:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    if memory_limit:
        con.raw_sql(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.raw_sql(f"SET threads = {int(threads)}")
    eng = Engine("duckdb", con)
    eng._cleanup.append(con.disconnect)
    for name, files in sorted(tables.items()):
        if all(f.suffix == ".parquet" for f in files):
            raw = con.read_parquet(
                [str(f) for f in files], table_name=f"raw_{name}", union_by_name=True
            )
        else:
            raw = con.create_table(f"raw_{name}", _read_other(files, name), temp=True)
        eng.tables[name] = _canonical_view(raw, name)
    return eng


def spark_session(master: str | None = None, app_name: str = "fairwatch") -> Any:
    """A Spark session configured as fairwatch needs (UTC, private warehouse dir)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise EngineError("the spark engine needs PySpark: pip install 'fairwatch[spark]'") from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    warehouse = tempfile.mkdtemp(prefix="fairwatch-spark-")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master or os.environ.get("FAIRWATCH_SPARK_MASTER", "local[2]"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", warehouse)
        .config(
            "spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={warehouse} -Duser.timezone=UTC"
        )
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("FAIRWATCH_SPARK_PARTITIONS", "8"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.memory", os.environ.get("FAIRWATCH_SPARK_DRIVER_MEMORY", "2g"))
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise EngineError(f"cannot start Spark ({exc}); is Java 17 installed?") from exc
    session.sparkContext.setLogLevel(os.environ.get("FAIRWATCH_SPARK_LOG_LEVEL", "ERROR"))
    return session


def _connect_spark(tables: Mapping[str, list[Path]], *, master: str | None) -> Engine:
    session = spark_session(master)
    con = ibis.pyspark.connect(session)
    eng = Engine("spark", con)
    for name, files in sorted(tables.items()):
        view = f"raw_{name}"
        if all(f.suffix == ".parquet" for f in files):
            frame = session.read.option("mergeSchema", "true").parquet(*[str(f) for f in files])
        else:
            frame = session.createDataFrame(_read_other(files, name).to_pandas())
        frame.createOrReplaceTempView(view)
        eng.tables[name] = _canonical_view(con.table(view), name)
    return eng
