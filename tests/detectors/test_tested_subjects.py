"""A run records the subjects a detector tested without a finding, with what the test
could have found, in run.json and in the report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from fairwatch.detectors.base import Context
from fairwatch.detectors.run import scan
from fairwatch.law import default_store
from fairwatch.synth.generate import generate_market

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tested")
    generate_market(base / "market", "tiny", 5, overwrite=True)
    # two workers: the record must survive the trip back from a worker process
    scan(
        base / "market",
        base / "run",
        select=["FW104", "FW201", "FW202", "FW203"],
        as_of=AS_OF,
        workers=2,
    )
    return base / "run"


def _found(run: Path, rule: str) -> set[str]:
    rows = [json.loads(line) for line in (run / "findings.jsonl").read_text().splitlines()]
    return {r["subject_id"] for r in rows if r["rule"] == rule}


@pytest.mark.parametrize("code", ["FW104", "FW201"])
def test_collusion_and_exclusive_dealing_record_what_they_tested(run: Path, code: str) -> None:
    detectors = {d["code"]: d for d in json.loads((run / "run.json").read_text())["detectors"]}
    tested = detectors[code]["tested"]
    assert tested, f"{code} tests several markets or platforms of the tiny market"
    assert {t["subject_id"] for t in tested if t["reported"]} == _found(run, code)
    assert all(0.0 <= t["q_value"] <= 1.0 for t in tested)
    assert any(not t["reported"] for t in tested)


def test_self_preferencing_records_every_platform_it_fitted(run: Path) -> None:
    detectors = {d["code"]: d for d in json.loads((run / "run.json").read_text())["detectors"]}
    tested = detectors["FW202"]["tested"]
    assert len(tested) >= 2, "the tiny market has several platforms with own offers in search"
    assert len({t["subject_id"] for t in tested}) == len(tested)
    assert {t["subject_id"] for t in tested if t["reported"]} == _found(run, "FW202")
    floor = default_store().value("cn.detection.conduct.self_preference_min_weight_ratio", AS_OF)
    for t in tested:
        assert t["detectable_weight_ratio"] >= floor
        assert 0.0 <= t["q_value"] <= 1.0 and t["own_offers"] > 0
    assert any(not t["reported"] for t in tested), "seed 5 plants one platform, not all"
    # a detector that records nothing gives an empty list, not a missing key
    assert detectors["FW203"]["tested"] == []


def test_the_report_lists_the_platforms_tested_without_a_finding(run: Path) -> None:
    detectors = json.loads((run / "run.json").read_text())["detectors"]
    tested = next(d for d in detectors if d["code"] == "FW202")["tested"]
    html = (run / "report.html").read_text()
    assert "Tested without a finding" in html
    section = html.split("Tested without a finding", 1)[1].split("</table>", 1)[0]
    for t in tested:
        row_present = f"<td>{t['subject_id']}</td>" in section
        assert row_present is (not t["reported"]), t["subject_id"]
    assert "detectable_weight_ratio" in section


def test_a_record_holds_plain_values_floats_to_four_significant_digits() -> None:
    ctx = Context(engine=None, as_of=AS_OF, run_id="r", law=default_store())  # type: ignore[arg-type]
    ctx.record_test("P1", np.bool_(False), q=np.float64(0.0123456), n=np.int64(7), gap=None)
    (record,) = ctx.tested
    assert record == {"subject_id": "P1", "reported": False, "q": 0.01235, "n": 7, "gap": None}
    assert type(record["reported"]) is bool and type(record["n"]) is int
    assert json.loads(json.dumps(record)) == record
