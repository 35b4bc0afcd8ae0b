"""Finding and reading the tables of a lake folder, per the standard's layout.

A lake holds one file or folder per table: ``<t>.parquet``, ``<t>/*.parquet``,
``<t>.csv`` or ``<t>.jsonl``. CSV and JSONL are read with every column as text, exactly
as written, so that :func:`fairwatch.contract.coerce` parses all formats the same way.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from fairwatch.errors import InvalidBatch, Problem

log = logging.getLogger(__name__)

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}


def _hidden(path: Path) -> bool:
    return path.name.startswith(("_", "."))


def discover(folder: Path) -> dict[str, list[Path]]:
    """The files of each table in a lake folder, by table name (sorted).

    Includes tables that are not in the standard (callers ignore them). Names starting
    with ``_`` or ``.`` are skipped, as are folders without Parquet files and files of
    other formats. A table stored in more than one way (say ``orders.csv`` and
    ``orders/``) is an error: :class:`InvalidBatch` with rule ``layout``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidBatch([Problem("*", None, "layout", f"{folder} is not a folder")], str(folder))
    found: dict[str, dict[str, list[Path]]] = {}
    for entry in sorted(folder.iterdir()):
        if _hidden(entry):
            continue
        if entry.is_dir():
            parts = sorted(p for p in entry.glob("*.parquet") if p.is_file() and not _hidden(p))
            if not parts:
                log.debug("skipping %s: no Parquet files", entry)
                continue
            found.setdefault(entry.name, {})["parquet folder"] = parts
        elif entry.is_file() and entry.suffix in FORMATS:
            found.setdefault(entry.stem, {})[entry.suffix] = [entry]
    problems = [
        Problem(
            table,
            None,
            "layout",
            "table stored in more than one way: "
            + ", ".join(str(p) for paths in ways.values() for p in paths[:1]),
        )
        for table, ways in found.items()
        if len(ways) > 1
    ]
    if problems:
        raise InvalidBatch(problems, str(folder))
    return {table: next(iter(ways.values())) for table, ways in sorted(found.items())}


def read_table(paths: Sequence[Path], table: str) -> pa.Table:
    """Read the files of one table and concatenate them (in the given order).

    Parquet is read as stored; CSV (with a header) and JSONL are read with every value
    as text (JSON arrays and objects as their JSON text), leaving the parsing to
    :func:`fairwatch.contract.coerce`. Unreadable input raises :class:`InvalidBatch`
    with rule ``read``.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError(f"no files given for table {table!r}")
    kinds = {FORMATS.get(p.suffix) for p in paths}
    if len(kinds) != 1 or None in kinds:
        raise InvalidBatch(
            [Problem(table, None, "layout", f"files of mixed or unknown formats: {paths}")]
        )
    kind = kinds.pop()
    parts: list[pa.Table] = []
    for path in paths:
        try:
            if kind == "parquet":
                parts.append(pq.read_table(path))
            elif kind == "csv":
                parts.append(_read_csv(path))
            else:
                parts.append(_read_jsonl(path))
        except InvalidBatch:
            raise
        except (OSError, pa.ArrowException, duckdb.Error, csv.Error, UnicodeError) as exc:
            raise InvalidBatch(
                [Problem(table, None, "read", f"cannot read {path}: {exc}")], str(path)
            ) from exc
    if len(parts) == 1:
        data = parts[0]
    else:
        try:
            data = pa.concat_tables(parts, promote_options="permissive")
        except pa.ArrowException as exc:
            raise InvalidBatch(
                [Problem(table, None, "read", f"files of {table} have incompatible columns: {exc}")]
            ) from exc
    log.debug("read %s: %d rows from %d %s file(s)", table, data.num_rows, len(paths), kind)
    return data.replace_schema_metadata(None)


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        row = next(csv.reader(fh), None)
    if not row:
        raise InvalidBatch([Problem(path.stem, None, "read", f"{path} has no header row")])
    if len(set(row)) != len(row):
        dup = sorted({c for c in row if row.count(c) > 1})
        raise InvalidBatch([Problem(path.stem, None, "read", f"{path}: duplicate columns {dup}")])
    return row


def _read_csv(path: Path) -> pa.Table:
    names = _header(path)
    return pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(use_threads=True, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _json_pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_jsonl(path: Path) -> pa.Table:
    con = duckdb.connect()
    try:
        src = f"read_ndjson_objects({_sql_str(str(path))})"
        not_objects = con.sql(
            f"SELECT count(*) FROM {src} WHERE json_type(json) <> 'OBJECT'"
        ).fetchone()
        if not_objects and not_objects[0]:
            raise InvalidBatch(
                [
                    Problem(
                        path.stem, None, "read", f"{path}: {not_objects[0]} line(s) are not objects"
                    )
                ]
            )
        keys = [
            k
            for (k,) in con.sql(
                f"""
                SELECT k FROM (
                    SELECT unnest(json_keys(json)) AS k,
                           unnest(range(len(json_keys(json)))) AS pos,
                           row_number() OVER () AS rn
                    FROM {src}
                ) GROUP BY k ORDER BY min(rn), min(pos)
                """
            ).fetchall()
        ]
        if not keys:
            return pa.table({})
        cols = ", ".join(f"json ->> {_sql_str(_json_pointer(k))} AS {_ident(k)}" for k in keys)
        data = con.sql(f"SELECT {cols} FROM {src}").to_arrow_table()
    finally:
        con.close()
    return data.cast(pa.schema([pa.field(k, pa.string()) for k in keys]))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
