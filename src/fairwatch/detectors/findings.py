"""Findings: what a monitoring run reports, exactly as the reporting standard says."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fairwatch.detectors.families import FAMILIES, SEVERITIES

#: Field order of a finding in findings.jsonl (the standard's table).
FIELDS = (
    "finding_id",
    "rule",
    "family",
    "subject_type",
    "subject_id",
    "platform_id",
    "period_start",
    "period_end",
    "severity",
    "score",
    "statistics",
    "evidence",
    "legal_basis",
    "as_of",
)


def finding_id(
    rule: str, subject_type: str, subject_id: str, period_start: date, period_end: date
) -> str:
    """Stable id: the same rule, subject and period give the same id on every run."""
    key = f"{rule}|{subject_type}|{subject_id}|{period_start.isoformat()}|{period_end.isoformat()}"
    return "f_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def plain(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python, floats rounded to 10 significant digits.

    Rounding makes findings from different engines (whose floating-point sums differ in
    the last bits) compare equal; non-finite floats become null.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        if not math.isfinite(f):
            return None
        return float(f"{f:.10g}")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Evidence:
    """Rows that support a finding, optionally ranked (``scores`` parallel to ``ids``)."""

    table: str
    ids: Sequence[str]
    scores: Sequence[float] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"table": self.table, "ids": [str(i) for i in self.ids]}
        if self.scores is not None:
            out["scores"] = plain(list(self.scores))
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Finding:
    """One finding; ``finding_id`` is derived from rule, subject and period."""

    rule: str
    family: str
    subject_type: str
    subject_id: str
    period_start: date
    period_end: date
    severity: str
    score: float
    statistics: dict[str, Any]
    evidence: list[Evidence | dict[str, Any]]
    legal_basis: Sequence[str]
    as_of: date
    platform_id: str | None = None
    finding_id: str = field(default="", init=False)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be within 0..1, not {self.score}")
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        self.finding_id = finding_id(
            self.rule, self.subject_type, self.subject_id, self.period_start, self.period_end
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "rule": self.rule,
            "family": self.family,
            "subject_type": self.subject_type,
            "subject_id": str(self.subject_id),
            "platform_id": self.platform_id,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "severity": self.severity,
            "score": plain(self.score),
            "statistics": plain(self.statistics),
            "evidence": [
                e.to_dict() if isinstance(e, Evidence) else plain(e) for e in self.evidence
            ],
            "legal_basis": list(self.legal_basis),
            "as_of": self.as_of.isoformat(),
        }


PARQUET_SCHEMA = pa.schema(
    [
        ("finding_id", pa.string()),
        ("rule", pa.string()),
        ("family", pa.string()),
        ("subject_type", pa.string()),
        ("subject_id", pa.string()),
        ("platform_id", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("severity", pa.string()),
        ("score", pa.float64()),
        ("statistics", pa.string()),
        ("evidence", pa.string()),
        ("legal_basis", pa.list_(pa.string())),
        ("as_of", pa.date32()),
    ]
)


def sort_key(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (row["rule"], row["subject_type"], row["subject_id"], row["period_start"])


def write_findings(rows: Iterable[Mapping[str, Any]], out_dir: Path) -> int:
    """Write ``findings.jsonl`` and ``findings.parquet`` (statistics and evidence as JSON
    text in Parquet, since their shape varies by detector). Returns the row count."""
    ordered = sorted(rows, key=sort_key)
    with open(out_dir / "findings.jsonl", "w", encoding="utf-8") as fh:
        for row in ordered:
            fh.write(
                json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False, sort_keys=False) + "\n"
            )
    columns: dict[str, list[Any]] = {name: [] for name in PARQUET_SCHEMA.names}
    for row in ordered:
        for name in PARQUET_SCHEMA.names:
            value = row[name]
            if name in ("statistics", "evidence"):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif name in ("period_start", "period_end", "as_of"):
                value = date.fromisoformat(value)
            columns[name].append(value)
    pq.write_table(
        pa.Table.from_pydict(columns, schema=PARQUET_SCHEMA), out_dir / "findings.parquet"
    )
    return len(ordered)


def read_findings(path: Path) -> list[dict[str, Any]]:
    """Read findings from a run folder or a findings.jsonl file."""
    file = path / "findings.jsonl" if path.is_dir() else path
    with open(file, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def top_ids_in_period(
    rows: Any,
    periods: Any,
    keys: Sequence[str],
    *,
    by: str,
    id_column: str,
    limit: int,
) -> dict[tuple[Any, ...], list[str]]:
    """Evidence ids per finding: of ``rows`` (a frame with ``sku_id``, ``day`` and the
    ``by`` and ``id_column`` columns), those of each finding's offer within its period
    (``periods``: one row per finding with ``keys``, ``sku_id``, ``start`` and ``end``),
    the ``limit`` highest by ``by`` (ties by id), keyed by the finding's ``keys``."""
    joined = rows.merge(periods, on="sku_id")
    joined = joined[(joined["day"] >= joined["start"]) & (joined["day"] <= joined["end"])]
    joined = joined.sort_values(
        [*keys, by, id_column], ascending=[True] * len(keys) + [False, True]
    )
    top = joined.groupby(list(keys), sort=False).head(limit)
    ids = top.groupby(list(keys))[id_column].agg(list)
    return {
        (key if isinstance(key, tuple) else (key,)): [str(i) for i in values]
        for key, values in ids.items()
    }
