"""Reading a monitoring run's output folder: ``findings.jsonl`` and ``run.json``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fairwatch.errors import UsageError

log = logging.getLogger(__name__)

FINDINGS_FILE = "findings.jsonl"
RUN_FILE = "run.json"


def findings_file(path: Path) -> Path:
    """The ``findings.jsonl`` of a run folder, or ``path`` itself when it is a file."""
    path = Path(path)
    if path.is_dir():
        path = path / FINDINGS_FILE
    if not path.is_file():
        raise UsageError(f"no findings file at {path}")
    return path


def run_file(path: Path) -> Path | None:
    """The ``run.json`` beside a findings file or inside a run folder, if there is one."""
    path = Path(path)
    candidate = path / RUN_FILE if path.is_dir() else path.with_name(RUN_FILE)
    return candidate if candidate.is_file() else None


def read_findings(path: Path) -> list[dict[str, Any]]:
    """All findings of a run folder or ``findings.jsonl`` file, in file order.

    Blank lines are skipped; a line that is not a JSON object is a :class:`UsageError`
    naming the file and line.
    """
    file = findings_file(path)
    findings: list[dict[str, Any]] = []
    with file.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{file}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise UsageError(f"{file}:{number}: a finding must be a JSON object")
            findings.append(row)
    log.debug("read %d findings from %s", len(findings), file)
    return findings


def read_run(path: Path) -> dict[str, Any] | None:
    """The ``run.json`` of a run folder (or beside a findings file), or ``None`` if absent."""
    file = run_file(path)
    if file is None:
        return None
    try:
        run = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{file}: not valid JSON ({exc.msg})") from exc
    if not isinstance(run, dict):
        raise UsageError(f"{file}: run.json must be a JSON object")
    return run
