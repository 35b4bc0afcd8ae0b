"""Ingest: read a reported batch, validate it against the standard and the lake, append.

A batch is a folder laid out like a lake, or a single file named after its table
(``price_quotes.csv``). Everything in it is checked before anything is written; a batch
with any problem is rejected whole (:class:`~fairwatch.errors.InvalidBatch`) and the lake
is untouched. Re-ingesting a batch whose content is already in the lake changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from fairwatch.errors import InvalidBatch, Problem, UsageError
from fairwatch.lake.store import AppendResult, Lake, batch_hash

log = logging.getLogger(__name__)

SUFFIXES = (".parquet", ".csv", ".jsonl")


@dataclass
class IngestResult:
    """The outcome of an accepted ingest."""

    append: AppendResult
    ignored_tables: list[str] = field(default_factory=list)

    @property
    def rows(self) -> dict[str, int]:
        return self.append.rows


def source_files(source: Path) -> dict[str, list[Path]]:
    """The files of each table in a batch folder or single table file."""
    from fairwatch.contract import discover

    if source.is_dir():
        return discover(source)
    if source.is_file() and source.suffix in SUFFIXES:
        return {source.stem: [source]}
    raise UsageError(
        f"{source}: not a batch (give a folder laid out like a lake, or a file named "
        "<table>.parquet|.csv|.jsonl)"
    )


def read_batch(source: Path) -> tuple[dict[str, pa.Table], list[str], list[Problem]]:
    """Read and coerce every standard table of a batch.

    Returns the coerced tables, the names of tables that are not in the standard (they
    are ignored, as the standard says), and the problems found while reading.
    """
    from fairwatch.contract import STANDARD, coerce, read_table

    files = source_files(source)
    known = set(STANDARD.names())
    tables: dict[str, pa.Table] = {}
    problems: list[Problem] = []
    ignored = sorted(name for name in files if name not in known)
    for name in sorted(set(files) & known):
        try:
            raw = read_table(files[name], name)
        except Exception as exc:  # unreadable file: report it as the batch's problem
            problems.append(
                Problem(name, None, "read", f"cannot read {files[name][0].name}: {exc}")
            )
            continue
        coerced, found = coerce(name, raw)
        tables[name] = coerced
        problems.extend(found)
    if not tables and not problems:
        problems.append(Problem("*", None, "empty", f"{source} holds no table of the standard"))
    return tables, ignored, problems


def ingest(
    source: Path, lake_path: Path, *, progress: Callable[[str], None] | None = None
) -> IngestResult:
    """Validate ``source`` and append it to the managed lake at ``lake_path``.

    Raises :class:`InvalidBatch` (nothing stored) when the batch breaks the standard,
    including keys that already exist in the lake and references to rows that exist
    neither in the batch nor in the lake.
    """
    from fairwatch.contract import validate_batch

    step = progress or (lambda _msg: None)
    step("reading")
    tables, ignored, problems = read_batch(source)
    if problems:
        raise InvalidBatch(problems, source=str(source))
    for name in ignored:
        log.warning("ignoring table %r: not in the reporting standard", name)
    lake = Lake(lake_path)
    content_hash = batch_hash(tables)
    with lake.lock():
        if lake.managed and lake.contains(content_hash):
            step("already ingested")
            existing = next(b for b in lake.batches() if b["content_hash"] == content_hash)
            return IngestResult(
                AppendResult(existing["batch_id"], content_hash, existing["rows"], True), ignored
            )
        step("validating")
        existing_files = lake.table_files() if lake.managed else {}
        problems = validate_batch(tables, existing_files)
        if problems:
            raise InvalidBatch(problems, source=str(source))
        step("writing")
        result = lake.append(tables, content_hash=content_hash, source=str(source))
    return IngestResult(result, ignored)
