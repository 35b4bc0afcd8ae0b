"""Every golden case of every detector, on every engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fairwatch.detectors.base import Context
from fairwatch.detectors.registry import registry
from fairwatch.detectors.run import run_detectors
from fairwatch.engine import connect
from fairwatch.lake import Lake
from fairwatch.law import default_store
from tests.detectors.golden import load_cases, matches, write_case_lake

CASES = load_cases()


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{c}:{case['name']}" for c, case in CASES])
def test_golden_case(code: str, case: dict[str, Any], engine_name: str, tmp_path: Path) -> None:
    lake = write_case_lake(tmp_path / "lake", case["tables"])
    eng = connect(Lake(lake).table_files(), engine_name)
    try:
        as_of = date.fromisoformat(str(case["as_of"]))
        ctx = Context(eng, as_of, "golden", default_store())
        runs, findings = run_detectors(ctx, [registry().get(code)])
    finally:
        eng.close()
    assert runs[0].status == "ok", runs[0].error
    expected = case["expect"]
    unmatched = [f for f in findings if not any(matches(e, f) for e in expected)]
    missing = [e for e in expected if not any(matches(e, f) for f in findings)]
    assert not missing, f"expected but not found: {missing}\nfound: {findings}"
    assert not unmatched, f"unexpected findings: {unmatched}"
    for f in findings:
        assert f["rule"] == code and f["as_of"] == as_of.isoformat()


def test_every_detector_has_golden_cases() -> None:
    covered = {code for code, _ in CASES}
    missing = [c for c in registry().codes() if c not in covered]
    assert not missing, f"detectors without tests/detectors/cases/<CODE>.yaml: {missing}"
