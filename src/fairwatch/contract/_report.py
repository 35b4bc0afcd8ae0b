"""Turning a boolean "offending rows" mask into a :class:`Problem`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fairwatch.errors import Problem

MAX_ROWS = 5
MAX_SAMPLES = 3
_SAMPLE_SCAN = 200


def fmt_value(value: Any) -> str:
    """A short, readable rendering of one cell value."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def mask_personal(value: str) -> str:
    """Hide most of a value that may be personal data (a phone or ID number)."""
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def distinct_samples(values: Iterable[str], limit: int = MAX_SAMPLES) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
            if len(out) == limit:
                break
    return tuple(out)


def mask_problem(
    table: str,
    column: str | None,
    rule: str,
    message: str,
    mask: pa.Array | pa.ChunkedArray,
    values: pa.Array | pa.ChunkedArray | Mapping[str, pa.Array | pa.ChunkedArray] | None = None,
    *,
    personal: bool = False,
) -> Problem | None:
    """A problem for the rows where ``mask`` is true (``None`` when there are none).

    Rows are 1-based; at most :data:`MAX_ROWS` rows and :data:`MAX_SAMPLES` distinct
    sample values (taken from ``values``; a mapping of several columns renders each
    sample as ``name=value, ...``) are kept. ``personal`` masks the samples.
    """
    mask = pc.fill_null(mask, False)
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks() if mask.num_chunks != 1 else mask.chunk(0)
    count = int(pc.sum(mask).as_py() or 0)
    if count == 0:
        return None
    idx = pc.indices_nonzero(mask)
    rows = tuple(int(i) + 1 for i in idx[:MAX_ROWS].to_pylist())
    samples: tuple[str, ...] = ()
    first = idx[:_SAMPLE_SCAN]
    if isinstance(values, Mapping):
        cols = {name: arr.take(first).to_pylist() for name, arr in values.items()}
        shown: Iterable[str] = (
            ", ".join(f"{name}={fmt_value(vals[i])}" for name, vals in cols.items())
            for i in range(len(first))
        )
        samples = distinct_samples(shown)
    elif values is not None:
        raw = values.take(first).to_pylist()
        shown = (fmt_value(v) for v in raw if v is not None)
        samples = distinct_samples(mask_personal(s) if personal else s for s in shown)
    return Problem(table, column, rule, message, rows=rows, count=count, samples=samples)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in a deterministic order: table, column, rule, then message and rows."""
    return sorted(problems, key=lambda p: (p.table, p.column or "", p.rule, p.message, p.rows))
