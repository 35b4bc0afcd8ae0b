"""Scanning with worker processes gives the run a sequential scan gives, and a worker
that dies takes down only the detector it was running."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fairwatch.detectors.registry import registry
from fairwatch.detectors.run import scan, schedule
from fairwatch.synth.generate import generate_market

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("parallel") / "market"
    generate_market(lake, "tiny", 5, overwrite=True)
    return lake


def _comparable(rows: list[dict[str, Any]]) -> list[str]:
    """Findings without the run's own identifiers (the run id differs between runs)."""
    out = []
    for row in rows:
        kept = {k: v for k, v in row.items() if k not in ("run_id", "finding_id")}
        out.append(json.dumps(kept, sort_keys=True, default=str))
    return out


def test_workers_give_the_findings_of_a_sequential_scan_in_detector_order(market: Path) -> None:
    one = scan(market, as_of=AS_OF, workers=1)
    two = scan(market, as_of=AS_OF, workers=2)
    assert one.findings, "the tiny market plants violations; a scan must find some"
    assert _comparable(two.findings) == _comparable(one.findings)
    assert [d.code for d in two.detectors] == [d.code for d in one.detectors]
    assert [(d.status, d.findings) for d in two.detectors] == [
        (d.status, d.findings) for d in one.detectors
    ]
    assert [f["rule"] for f in two.findings] == sorted(f["rule"] for f in two.findings)


def test_a_worker_that_dies_is_an_error_for_its_detector_only(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(self: object, ctx: object) -> None:
        os._exit(17)  # as the kernel's OOM killer or a crash in native code would

    monkeypatch.setattr(registry().get("FW102"), "run", die)
    result = scan(market, as_of=AS_OF, select=["FW101", "FW102", "FW103"], workers=2)
    entry = {d.code: d for d in result.detectors}
    assert entry["FW102"].status == "error"
    assert "worker process died" in (entry["FW102"].error or "")
    assert entry["FW101"].status == "ok" and entry["FW101"].findings > 0
    assert entry["FW103"].status == "ok"
    assert {f["rule"] for f in result.findings} <= {"FW101", "FW103"}


def test_workers_start_the_costliest_detectors_first() -> None:
    detectors = registry().select()
    order = schedule(detectors)
    assert sorted(c.code for c in order) == sorted(c.code for c in detectors)
    costs = [c.cost for c in order]
    assert costs == sorted(costs, reverse=True)
    assert order[0].cost > 1, "the heavy detectors carry a cost hint"
    # equal costs keep detector order
    cheap = [c.code for c in order if c.cost == 1]
    assert cheap == [c.code for c in detectors if c.cost == 1]
