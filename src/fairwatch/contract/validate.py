"""Validating a batch of coerced tables against the standard (and the lake it joins).

Per-column rules are vectorised with ``pyarrow.compute``; cross-row and cross-table
rules (unique keys, references, also against the Parquet files already in the lake) run
in DuckDB, which streams the existing files and spills to disk, so a large batch checked
against a large lake stays within memory.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fairwatch.contract._report import (
    MAX_ROWS,
    distinct_samples,
    fmt_value,
    mask_problem,
    sort_problems,
)
from fairwatch.contract.identifiers import phone_mask, resident_id_mask, uscc_valid_mask
from fairwatch.contract.schema import STANDARD, Column, TableSchema
from fairwatch.errors import DataError, InvalidBatch, Problem

log = logging.getLogger(__name__)

ROW = "__fairwatch_row"
_SAMPLE_ROWS = 50
_PERIOD_RE = {"YYYY": r"\d{4}", "YYYY-MM": r"\d{4}-(0[1-9]|1[0-2])"}


def validate_batch(
    batch: Mapping[str, pa.Table], existing: Mapping[str, Sequence[Path]] | None = None
) -> list[Problem]:
    """Every problem of ``batch`` (coerced tables of the standard), sorted.

    ``existing`` maps table names to the Parquet files already in the lake (canonical
    schema); keys must stay unique and references may be satisfied across both.
    Tables not in the standard are ignored.
    """
    lake = {t: [Path(p) for p in ps] for t, ps in (existing or {}).items() if ps and t in STANDARD}
    known: dict[str, pa.Table] = {}
    for name, data in batch.items():
        if name not in STANDARD:
            log.info("ignoring table %r: not in the reporting standard", name)
            continue
        known[name] = data
    problems: list[Problem] = []
    for name, data in known.items():
        schema = STANDARD.table(name)
        problems += _column_problems(schema, data)
        problems += _check_problems(schema, data)
    problems += _lake_problems(known, lake)
    log.info("validated %d table(s): %d problem(s)", len(known), len(problems))
    return sort_problems(problems)


def check_batch(
    batch: Mapping[str, pa.Table],
    existing: Mapping[str, Sequence[Path]] | None = None,
    source: str | None = None,
) -> None:
    """Raise :class:`InvalidBatch` listing every problem of ``batch``, if there is any."""
    problems = validate_batch(batch, existing)
    if problems:
        raise InvalidBatch(problems, source)


def _usable(data: pa.Table, col: Column) -> bool:
    """Whether ``col`` is present with its canonical type (else it was reported)."""
    return col.name in data.column_names and data.schema.field(col.name).type == col.arrow_type


# ------------------------------------------------------------------- per column


def _column_problems(schema: TableSchema, data: pa.Table) -> list[Problem]:
    t = schema.name
    out: list[Problem | None] = []
    for col in schema.columns:
        if col.name not in data.column_names:
            if col.required:
                out.append(Problem(t, col.name, "missing_column", "required column is missing"))
            continue
        arr = data.column(col.name)
        if arr.type != col.arrow_type:
            out.append(
                Problem(
                    t,
                    col.name,
                    "type",
                    f"column has Arrow type {arr.type}, expected {col.arrow_type} "
                    f"({col.type}); coerce the table first",
                    count=data.num_rows,
                )
            )
            continue
        out += _value_problems(t, col, arr)
    return [p for p in out if p is not None]


def _value_problems(t: str, col: Column, arr: pa.ChunkedArray) -> list[Problem | None]:
    out: list[Problem | None] = []
    present = pc.is_valid(arr)
    if col.required:
        out.append(mask_problem(t, col.name, "required", "required value is null", pc.is_null(arr)))
    if col.enum is not None:
        out.append(_enum_problem(t, col, arr))
    if col.range is not None:
        lo, hi = col.range
        bad: Any = pa.scalar(False)
        if lo is not None:
            bad = pc.or_(bad, pc.less(arr, lo))
        if hi is not None:
            bad = pc.or_(bad, pc.greater(arr, hi))
        out.append(
            mask_problem(t, col.name, "range", f"value out of range ({col.range})", bad, arr)
        )
    if col.type == "region_code":
        bad = pc.invert(pc.match_substring_regex(arr, r"^\d{6}$"))
        out.append(mask_problem(t, col.name, "region_code", "not a 6-digit region code", bad, arr))
    if col.type == "period":
        pattern = "^(" + "|".join(_PERIOD_RE[f] for f in col.period_formats) + ")$"
        bad = pc.invert(pc.match_substring_regex(arr, pattern))
        shown = " or ".join(col.period_formats)
        out.append(mask_problem(t, col.name, "period", f"not a period {shown}", bad, arr))
    if col.type == "uscc":
        bad = pc.and_(present, pc.invert(uscc_valid_mask(arr)))
        out.append(
            mask_problem(
                t,
                col.name,
                "uscc",
                "not a valid Unified Social Credit Code (18 characters, check character "
                "per GB 32100-2015)",
                bad,
                arr,
            )
        )
    if col.pseudonym:
        out.append(
            mask_problem(
                t,
                col.name,
                "pseudonym_phone",
                "looks like a raw phone number; pseudonym columns must hold opaque tokens",
                phone_mask(arr),
                arr,
                personal=True,
            )
        )
        out.append(
            mask_problem(
                t,
                col.name,
                "pseudonym_resident_id",
                "looks like a resident ID number (valid checksum); pseudonym columns must "
                "hold opaque tokens",
                resident_id_mask(arr),
                arr,
                personal=True,
            )
        )
    return out


def _enum_problem(t: str, col: Column, arr: pa.ChunkedArray) -> Problem | None:
    assert col.enum is not None
    allowed = pa.array(col.enum, type=pa.string())
    message = "value not one of " + ", ".join(col.enum)
    if col.type != "string_list":
        bad = pc.and_(pc.is_valid(arr), pc.invert(pc.is_in(arr, value_set=allowed)))
        return mask_problem(t, col.name, "enum", message, bad, arr)
    flat = pc.list_flatten(arr)
    parents = pc.list_parent_indices(arr)
    bad_elem = pc.and_(pc.is_valid(flat), pc.invert(pc.is_in(flat, value_set=allowed)))
    bad_parents = pc.unique(pc.filter(parents, bad_elem))
    rows = pc.is_in(pa.array(np.arange(len(arr), dtype=np.int64)), value_set=bad_parents)
    problem = mask_problem(t, col.name, "enum", message, rows)
    if problem is None:
        return None
    samples = pc.filter(flat, bad_elem)[:200].to_pylist()
    return dataclasses.replace(problem, samples=distinct_samples(fmt_value(s) for s in samples))


# -------------------------------------------------------------------- table checks


def _check_problems(schema: TableSchema, data: pa.Table) -> list[Problem]:
    out: list[Problem | None] = []
    for check in schema.checks:
        if check.rule != "date_order":  # pragma: no cover - the loader allows no others
            continue
        for earlier, later in check.pairs():
            if not all(_usable(data, schema.column(c)) for c in (earlier, later)):
                continue
            a, b = data.column(earlier), data.column(later)
            bad = pc.less_equal(b, a) if check.strict else pc.less(b, a)
            word = "not after" if check.strict else "before"
            out.append(
                mask_problem(
                    schema.name,
                    later,
                    "date_order",
                    f"{later} is {word} {earlier}",
                    bad,
                    {later: b, earlier: a},
                )
            )
    return [p for p in out if p is not None]


# ------------------------------------------------------- keys and references (DuckDB)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _files(paths: Sequence[Path]) -> str:
    quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}], union_by_name = true)"


def _lake_problems(batch: Mapping[str, pa.Table], lake: Mapping[str, list[Path]]) -> list[Problem]:
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        views: dict[str, set[str]] = {}
        for name, data in batch.items():
            views[name] = _register(con, STANDARD.table(name), data)
        problems: list[Problem] = []
        for name in batch:
            schema = STANDARD.table(name)
            try:
                problems += _key_problems(con, schema, views[name], lake.get(name))
                problems += _reference_problems(con, schema, views, lake)
            except duckdb.Error as exc:
                raise DataError(
                    f"cannot check {name} against the lake's stored Parquet files "
                    f"(are they in the canonical schema?): {exc}"
                ) from exc
        return problems
    finally:
        con.close()


def _register(con: duckdb.DuckDBPyConnection, schema: TableSchema, data: pa.Table) -> set[str]:
    """Register the key and reference columns of ``data`` (plus row numbers) as ``b_<t>``."""
    wanted = list(schema.key) + [c for c, _, _ in schema.references]
    targets = {
        rc for t in STANDARD.tables.values() for _, rt, rc in t.references if rt == schema.name
    }
    wanted += sorted(targets)
    cols = [c for c in dict.fromkeys(wanted) if _usable(data, schema.column(c))]
    arrays = [data.column(c) for c in cols]
    rows = pa.array(np.arange(1, data.num_rows + 1, dtype=np.int64))
    view = pa.Table.from_arrays([*arrays, rows], names=[*cols, ROW])
    con.register(f"b_{schema.name}", view)
    return set(cols)


def _rows_query(
    con: duckdb.DuckDBPyConnection, sql: str, value_cols: Sequence[str]
) -> tuple[int, tuple[int, ...], tuple[str, ...]]:
    """Run ``sql`` (selecting ROW and ``value_cols``): count, first rows, samples."""
    cols = ", ".join(_q(c) for c in value_cols)
    total = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    count = int(total[0]) if total else 0
    if not count:
        return 0, (), ()
    first = con.execute(
        f"SELECT {_q(ROW)}, {cols} FROM ({sql}) ORDER BY {_q(ROW)} LIMIT {_SAMPLE_ROWS}"
    ).fetchall()
    rows = tuple(int(r[0]) for r in first[:MAX_ROWS])
    samples = distinct_samples(
        ", ".join(f"{c}={fmt_value(v)}" for c, v in zip(value_cols, r[1:], strict=True))
        if len(value_cols) > 1
        else fmt_value(r[1])
        for r in first
    )
    return count, rows, samples


def _key_problems(
    con: duckdb.DuckDBPyConnection,
    schema: TableSchema,
    cols: set[str],
    stored: list[Path] | None,
) -> list[Problem]:
    key = schema.key
    if not key or not set(key) <= cols:
        return []
    view = _q(f"b_{schema.name}")
    k = ", ".join(_q(c) for c in key)
    notnull = " AND ".join(f"{_q(c)} IS NOT NULL" for c in key)
    on = " AND ".join(f"b.{_q(c)} = d.{_q(c)}" for c in key)
    label = ", ".join(key)
    column = ",".join(key)
    out: list[Problem] = []
    dup_sql = (
        f"WITH d AS (SELECT {k} FROM {view} WHERE {notnull} GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT b.* FROM {view} b SEMI JOIN d ON {on}"
    )
    count, rows, samples = _rows_query(con, dup_sql, key)
    if count:
        out.append(
            Problem(
                schema.name,
                column,
                "unique_key",
                f"key ({label}) is not unique within the batch: rows share a key",
                rows=rows,
                count=count,
                samples=samples,
            )
        )
    if stored:
        old_sql = (
            f"SELECT b.* FROM {view} b SEMI JOIN (SELECT {k} FROM {_files(stored)}) d "
            f"ON {on} WHERE {' AND '.join(f'b.{_q(c)} IS NOT NULL' for c in key)}"
        )
        count, rows, samples = _rows_query(con, old_sql, key)
        if count:
            out.append(
                Problem(
                    schema.name,
                    column,
                    "unique_key",
                    f"key ({label}) already exists in the lake",
                    rows=rows,
                    count=count,
                    samples=samples,
                )
            )
    return out


def _reference_problems(
    con: duckdb.DuckDBPyConnection,
    schema: TableSchema,
    views: Mapping[str, set[str]],
    lake: Mapping[str, list[Path]],
) -> list[Problem]:
    out: list[Problem] = []
    for col, rt, rc in schema.references:
        if col not in views[schema.name]:
            continue
        sources = []
        if rt in views and rc in views[rt]:
            sources.append(f"SELECT {_q(rc)} AS v FROM {_q('b_' + rt)}")
        if rt in lake:
            sources.append(f"SELECT {_q(rc)} AS v FROM {_files(lake[rt])}")
        if not sources:
            log.debug("%s.%s: %s not present; reference not checked", schema.name, col, rt)
            continue
        sql = (
            f"SELECT b.* FROM {_q('b_' + schema.name)} b "
            f"ANTI JOIN ({' UNION ALL '.join(sources)}) t ON b.{_q(col)} = t.v "
            f"WHERE b.{_q(col)} IS NOT NULL"
        )
        count, rows, samples = _rows_query(con, sql, [col])
        if count:
            out.append(
                Problem(
                    schema.name,
                    col,
                    "reference",
                    f"value not found in {rt}.{rc} (neither in the batch nor in the lake)",
                    rows=rows,
                    count=count,
                    samples=samples,
                )
            )
    return out
