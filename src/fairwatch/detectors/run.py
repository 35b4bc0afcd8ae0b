"""Running detectors over a lake: the ``fairwatch scan`` job.

Runs every selected detector whose input tables are present (the others are reported
as skipped, naming what is missing), isolates a detector that crashes (an ``error``
entry with its code and the exception; the run goes on), and writes the run folder:
``findings.jsonl``, ``findings.parquet``, ``run.json`` and ``report.html``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fairwatch.detectors.base import Context, Detector
from fairwatch.detectors.findings import write_findings
from fairwatch.detectors.registry import registry
from fairwatch.engine import connect
from fairwatch.lake import Lake

log = logging.getLogger(__name__)


@dataclass
class DetectorRun:
    code: str
    name: str
    family: str
    status: str  # ok | error | skipped
    findings: int = 0
    seconds: float = 0.0
    error: str | None = None
    missing: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    run_id: str
    as_of: date
    engine: str
    lake: str
    started_at: str
    finished_at: str
    detectors: list[DetectorRun]
    findings: list[dict[str, Any]]

    @property
    def errors(self) -> list[DetectorRun]:
        return [d for d in self.detectors if d.status == "error"]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "lake": self.lake,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "detectors": [d.__dict__ for d in self.detectors],
        }


Progress = Callable[[str, int, int], None]


def run_detectors(
    ctx: Context,
    detectors: Sequence[type[Detector]],
    *,
    progress: Progress | None = None,
) -> tuple[list[DetectorRun], list[dict[str, Any]]]:
    """Run detectors in one context; a crashing detector becomes an ``error`` entry."""
    runs: list[DetectorRun] = []
    rows: list[dict[str, Any]] = []
    for i, cls in enumerate(detectors):
        if progress:
            progress(cls.code, i, len(detectors))
        entry = DetectorRun(cls.code, cls.name, cls.family, "ok")
        missing = [t for t in cls.inputs if not ctx.has(t)]
        if missing:
            entry.status, entry.missing = "skipped", missing
            runs.append(entry)
            continue
        detector = cls()
        dctx = ctx.for_detector(detector)
        started = time.perf_counter()
        try:
            found = detector.run(dctx)
            entry.findings = len(found)
            rows.extend(f.to_dict() for f in found)
        except Exception as exc:
            entry.status = "error"
            entry.error = f"{type(exc).__name__}: {exc}"
            dctx.log.error("detector crashed; the run goes on\n%s", traceback.format_exc())
        entry.seconds = round(time.perf_counter() - started, 3)
        runs.append(entry)
    if progress:
        progress("", len(detectors), len(detectors))
    return runs, rows


def scan(
    lake_path: Path,
    out_dir: Path | None = None,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    as_of: date | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    progress: Progress | None = None,
    report: bool = True,
) -> RunResult:
    """Scan a lake with the selected detectors; write the run folder when ``out_dir`` is set."""
    from fairwatch.law import default_store

    detectors = registry().select(select, ignore)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    as_of = as_of or date.today()
    eng = connect(Lake(lake_path).table_files(), engine, spark_master=spark_master)
    try:
        ctx = Context(eng, as_of, run_id, default_store())
        runs, rows = run_detectors(ctx, detectors, progress=progress)
    finally:
        eng.close()
    result = RunResult(
        run_id=run_id,
        as_of=as_of,
        engine=engine,
        lake=str(lake_path),
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        detectors=runs,
        findings=rows,
    )
    if out_dir is not None:
        write_run(result, out_dir, report=report)
    return result


def write_run(result: RunResult, out_dir: Path, *, report: bool = True) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_findings(result.findings, out_dir)
    (out_dir / "run.json").write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
    if report:
        from fairwatch.report import write_report

        write_report(out_dir)
