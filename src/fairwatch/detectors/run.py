"""Running detectors over a lake: the ``fairwatch scan`` job.

Runs every selected detector whose input tables are present (the others are reported
as skipped, naming what is missing), isolates a detector that crashes (an ``error``
entry with its code and the exception; the run goes on), and writes the run folder:
``findings.jsonl``, ``findings.parquet``, ``run.json`` and ``report.html``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import secrets
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
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
    #: subjects tested, reported or not, with the test's statistics (Context.record_test)
    tested: list[dict[str, Any]] = field(default_factory=list)


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
        entry, found = run_one(ctx, cls)
        runs.append(entry)
        rows.extend(found)
    if progress:
        progress("", len(detectors), len(detectors))
    return runs, rows


def run_one(ctx: Context, cls: type[Detector]) -> tuple[DetectorRun, list[dict[str, Any]]]:
    """Run one detector: its run entry and its findings (as the standard's dicts)."""
    entry = DetectorRun(cls.code, cls.name, cls.family, "ok")
    missing = [t for t in cls.inputs if not ctx.has(t)]
    if missing:
        entry.status, entry.missing = "skipped", missing
        return entry, []
    detector = cls()
    dctx = ctx.for_detector(detector)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    try:
        rows = [f.to_dict() for f in detector.run(dctx)]
        entry.findings = len(rows)
    except Exception as exc:
        entry.status = "error"
        entry.error = f"{type(exc).__name__}: {exc}"
        dctx.log.error("detector crashed; the run goes on\n%s", traceback.format_exc())
    entry.seconds = round(time.perf_counter() - started, 3)
    entry.tested = dctx.tested
    return entry, rows


def default_workers(engine: str = "duckdb") -> int:
    """Processes a scan uses by default: one per core, at most four (DuckDB only)."""
    return max(1, min(os.cpu_count() or 1, 4)) if engine == "duckdb" else 1


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
    workers: int = 1,
) -> RunResult:
    """Scan a lake with the selected detectors; write the run folder when ``out_dir`` is set.

    With ``workers`` > 1 (DuckDB only) detectors run in that many worker processes, each
    with its own engine over the same lake; results are reported in detector order,
    whatever order they finish in. Spark parallelises within a detector instead.
    """
    from fairwatch.law import default_store

    detectors = registry().select(select, ignore)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    as_of = as_of or date.today()
    table_files = Lake(lake_path).table_files()
    if workers > 1 and engine == "duckdb" and len(detectors) > 1:
        runs, rows = _run_in_workers(table_files, detectors, as_of, run_id, workers, progress)
    else:
        eng = connect(table_files, engine, spark_master=spark_master)
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


# -- worker processes ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_start(
    table_files: dict[str, list[Path]], as_of: date, run_id: str, memory_limit: str | None
) -> None:
    """Open this worker's engine over the lake (one per process, reused for each task)."""
    from fairwatch.law import default_store

    eng = connect(table_files, "duckdb", memory_limit=memory_limit)
    _WORKER["ctx"] = Context(eng, as_of, run_id, default_store())


def _worker_task(code: str) -> tuple[DetectorRun, list[dict[str, Any]]]:
    return run_one(_WORKER["ctx"], registry().get(code))


def _memory_share(workers: int) -> str | None:
    """DuckDB's default memory limit (80 % of RAM) shared among the workers."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux
        return None
    return f"{max(256, int(ram * 0.8 / workers) >> 20)}MB"


def schedule(detectors: Sequence[type[Detector]]) -> list[type[Detector]]:
    """The order worker processes start detectors in: longest first (by
    :attr:`Detector.cost`, ties in the given order), which keeps a heavy detector from
    starting last and running alone while the other workers idle."""
    return sorted(detectors, key=lambda cls: -cls.cost)


def _run_in_workers(
    table_files: dict[str, list[Path]],
    detectors: Sequence[type[Detector]],
    as_of: date,
    run_id: str,
    workers: int,
    progress: Progress | None,
) -> tuple[list[DetectorRun], list[dict[str, Any]]]:
    """Run detectors in worker processes (forked: the registry and law store are
    inherited), started longest first (:func:`schedule`); the result is in detector
    order all the same. If a worker dies (killed for memory, a crash in native code),
    the detectors not finished are run again one at a time, each in a process of its
    own, so the one that kills its process is named in an ``error`` entry and the rest
    complete."""
    results: dict[str, tuple[DetectorRun, list[dict[str, Any]]]] = {}
    order = schedule(detectors)

    def tick() -> None:
        if progress:
            running = next((c.code for c in order if c.code not in results), "")
            progress(running, len(results), len(detectors))

    def pool(size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_start,
            initargs=(dict(table_files), as_of, run_id, _memory_share(size)),
        )

    tick()
    with pool(min(workers, len(detectors))) as shared:
        futures = {shared.submit(_worker_task, cls.code): cls for cls in order}
        for future in as_completed(futures):
            with contextlib.suppress(BrokenProcessPool):
                results[futures[future].code] = future.result()
                tick()
    for cls in [c for c in order if c.code not in results]:
        with pool(1) as alone:
            try:
                results[cls.code] = alone.submit(_worker_task, cls.code).result()
            except BrokenProcessPool as exc:
                log.error("the worker process running %s died: %s", cls.code, exc)
                error = f"its worker process died: {exc}"
                results[cls.code] = (
                    DetectorRun(cls.code, cls.name, cls.family, "error", error=error),
                    [],
                )
        tick()
    runs = [results[cls.code][0] for cls in detectors]
    rows = [row for cls in detectors for row in results[cls.code][1]]
    return runs, rows


def write_run(result: RunResult, out_dir: Path, *, report: bool = True) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_findings(result.findings, out_dir)
    (out_dir / "run.json").write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
    if report:
        from fairwatch.report import write_report

        write_report(out_dir)
