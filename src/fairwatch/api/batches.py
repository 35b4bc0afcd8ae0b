"""Data batches submitted by platforms: ownership check, validation, atomic append.

A submission is one or more files named ``<table>.csv|jsonl|parquet``. Every row that
has a ``platform_id`` must belong to one of the submitting account's platforms
(otherwise :class:`~fairwatch.errors.AuthorizationError`, nothing stored); the batch is
then validated and appended to the lake by :func:`fairwatch.lake.ingest` (an invalid
batch is :class:`~fairwatch.errors.InvalidBatch` with its row-and-column problems). Every
submission, accepted or rejected, is recorded as a
:class:`~fairwatch.cases.models.DataBatch` and in the audit log.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from fairwatch.cases import audit
from fairwatch.cases.db import Store
from fairwatch.cases.models import DataBatch
from fairwatch.cases.service import Actor, ConflictError, require
from fairwatch.errors import AuthorizationError, InvalidBatch, Problem, UsageError

log = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^([a-z][a-z0-9_]{0,63})\.(csv|jsonl|parquet)$")


@dataclass
class Submitted:
    submission_id: int
    batch_id: str
    rows: dict[str, int]
    already_present: bool
    ignored_tables: list[str]


def submit(
    store: Store,
    actor: Actor,
    lake_dir: Path | None,
    files: Sequence[tuple[str, IO[bytes]]],
) -> Submitted:
    """Check, validate and append a platform's batch; record the submission either way."""
    from fairwatch.lake import ingest, read_batch

    require(actor, "submit_batch")
    if lake_dir is None:
        raise ConflictError("this server has no lake configured (fairwatch serve --lake)")
    if not files:
        raise UsageError("send at least one file named <table>.csv, .jsonl or .parquet")
    with tempfile.TemporaryDirectory(prefix="fairwatch-batch-") as tmp:
        folder = Path(tmp) / "submission"
        folder.mkdir()
        seen: set[str] = set()
        for name, stream in files:
            match = FILE_NAME.fullmatch(Path(name or "").name)
            if match is None:
                raise UsageError(
                    f"file {Path(name or '').name[:100]!r}: name it <table>.csv, "
                    "<table>.jsonl or <table>.parquet"
                )
            if match.group(1) in seen:
                raise UsageError(f"table {match.group(1)!r} sent more than once")
            seen.add(match.group(1))
            with (folder / match.group(0)).open("wb") as out:
                shutil.copyfileobj(stream, out)
        tables, _ignored, problems = read_batch(folder)
        if problems:
            _record(store, actor, None, "rejected", problems, {})
            raise InvalidBatch(problems)
        reserved = sorted(set(tables) & REGULATOR_TABLES)
        if reserved:
            _record(
                store,
                actor,
                None,
                "rejected",
                [
                    Problem(t, None, "ownership", "reference data kept by the regulator")
                    for t in reserved
                ],
                {},
            )
            raise AuthorizationError(
                f"platforms do not report {', '.join(reserved)}: the regulator keeps that data"
            )
        platforms = _platforms_of(tables)
        foreign = sorted(platforms - set(actor.platform_ids))
        if foreign:
            _record(
                store,
                actor,
                platforms,
                "rejected",
                [Problem("*", "platform_id", "ownership", "rows of other platforms")],
                {},
            )
            raise AuthorizationError(
                "the batch holds rows of platforms this account does not speak for: "
                + ", ".join(foreign[:10])
            )
        try:
            result = ingest(folder, lake_dir)
        except InvalidBatch as exc:
            _record(store, actor, platforms, "rejected", exc.problems, {})
            raise InvalidBatch(exc.problems) from None
        submission_id = _record(
            store,
            actor,
            platforms,
            "accepted",
            [],
            dict(result.rows),
            batch_id=result.append.batch_id,
        )
        return Submitted(
            submission_id,
            result.append.batch_id,
            dict(result.rows),
            result.append.already_present,
            list(result.ignored_tables),
        )


def submissions(store: Store, actor: Actor, limit: int = 100) -> list[DataBatch]:
    """The calling account's own submissions, newest first."""
    require(actor, "submit_batch")
    with store.session() as s:
        return list(
            s.execute(
                select(DataBatch)
                .where(DataBatch.submitted_by == (actor.user_id or 0))
                .order_by(DataBatch.id.desc())
                .limit(limit)
            ).scalars()
        )


#: Reference tables the regulator adds to a lake; a platform account may not submit them.
REGULATOR_TABLES = frozenset({"emergencies", "market_shares"})


def _platforms_of(tables: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for table in tables.values():
        if "platform_id" in table.column_names:
            found.update(str(v) for v in table.column("platform_id").unique().to_pylist() if v)
    return found


def _record(
    store: Store,
    actor: Actor,
    platforms: set[str] | None,
    status: str,
    problems: Sequence[Problem],
    rows: dict[str, int],
    batch_id: str | None = None,
) -> int:
    platform = ",".join(sorted(platforms)) if platforms else ",".join(actor.platform_ids)
    with store.session() as s:
        row = DataBatch(
            platform_id=platform[:64],
            submitted_by=actor.user_id or 0,
            status=status,
            batch_id=batch_id,
            problems=[
                {
                    "table": p.table,
                    "column": p.column,
                    "rule": p.rule,
                    "message": p.message[:500],
                    "rows": list(p.rows),
                    "count": p.count,
                }
                for p in problems[:100]
            ],
            rows=rows,
        )
        s.add(row)
        s.flush()
        audit.append(
            s,
            actor.label,
            f"batch.{status}",
            "data_batch",
            row.id,
            {"batch_id": batch_id, "rows": rows, "problems": len(problems)},
        )
        log.info("data batch %s %s (%d problem(s))", row.id, status, len(problems))
        return row.id
