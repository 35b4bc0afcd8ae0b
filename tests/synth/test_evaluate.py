"""Evaluation of findings against ground truth: arithmetic, subject types, not-run families."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from fairwatch.cli.evaluate import evaluate as evaluate_command
from fairwatch.detectors.families import FAMILIES
from fairwatch.errors import UsageError
from fairwatch.synth.evaluate import NOT_RUN, evaluate, render_table

PD = "pricing.personalized_discrimination"
FA = "integrity.fake_accounts"
CS = "consumer.complaint_surge"
AD = "ads.unlabeled"

TRUTH_SCHEMA = pa.schema(
    [
        ("family", pa.string()),
        ("subject_type", pa.string()),
        ("subject_id", pa.string()),
        ("platform_id", pa.string()),
        ("strength", pa.float64()),
        ("note", pa.string()),
    ]
)


def truth_row(family: str, subject_type: str, subject_id: str) -> dict[str, Any]:
    return {
        "family": family,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "platform_id": "p1",
        "strength": 1.0,
        "note": "",
    }


def finding(family: str, subject_type: str, subject_id: str, n: int = 0) -> dict[str, Any]:
    return {
        "finding_id": f"{family}:{subject_id}:{n}",
        "rule": "FW999",
        "family": family,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "platform_id": "p1",
        "period_start": "2024-01-01",
        "period_end": "2024-01-31",
        "severity": "high",
        "score": 0.9,
        "statistics": {},
        "evidence": [],
        "legal_basis": [],
        "as_of": "2024-02-01",
    }


def make_lake(
    tmp: Path, violations: list[dict[str, Any]], lookalikes: list[dict[str, Any]]
) -> Path:
    lake = tmp / "lake"
    lake.mkdir()
    pq.write_table(
        pa.Table.from_pylist(violations, schema=TRUTH_SCHEMA), lake / "ground_truth.parquet"
    )
    pq.write_table(
        pa.Table.from_pylist(lookalikes, schema=TRUTH_SCHEMA),
        lake / "ground_truth_lookalikes.parquet",
    )
    (lake / "_synth.json").write_text("{}")
    return lake


def make_run(
    tmp: Path, findings: list[dict[str, Any]], detectors: list[dict[str, Any]] | None = None
) -> Path:
    run = tmp / "run"
    run.mkdir()
    (run / "findings.jsonl").write_text("".join(json.dumps(f) + "\n" for f in findings))
    if detectors is not None:
        (run / "run.json").write_text(
            json.dumps(
                {"run_id": "r1", "as_of": "2024-02-01", "engine": "duckdb", "detectors": detectors}
            )
        )
    return run


def detector(code: str, family: str, status: str = "ok", **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": code.lower(), "family": family, "status": status, "findings": 0,
            "seconds": 0.1, "error": None, "missing": [], **extra}  # fmt: skip


@pytest.fixture
def scenario(tmp_path: Path) -> tuple[Path, Path]:
    """PD: truth s1..s4; found s1, s2 (twice), s9 (look-alike), s8; plus s3 on the wrong type."""
    lake = make_lake(
        tmp_path,
        [truth_row(PD, "sku", f"s{i}") for i in range(1, 5)]
        + [truth_row(FA, "account_cluster", "cluster:u1")],
        [truth_row(PD, "sku", "s9"), truth_row(PD, "sku", "s1")],
    )
    run = make_run(
        tmp_path,
        [
            finding(PD, "sku", "s1"),
            finding(PD, "sku", "s2"),
            finding(PD, "sku", "s2", n=1),  # same subject again: counted once
            finding(PD, "sku", "s9"),  # false positive on a recorded look-alike
            finding(PD, "sku", "s8"),  # plain false positive
            finding(PD, "merchant", "s3"),  # wrong subject type: not a hit
            finding(CS, "merchant", "m1"),  # family absent from truth: all false positives
        ],
    )
    return run, lake


def test_families_table_covers_the_standard() -> None:
    assert len(FAMILIES) == 20
    assert FAMILIES[PD] == "sku"
    assert FAMILIES[FA] == "account_cluster"
    assert FAMILIES["labour.excessive_hours"] == "platform_region"


def test_counts_per_family(scenario: tuple[Path, Path]) -> None:
    run, lake = scenario
    result = evaluate(run, lake)
    assert [r.family for r in result.rows] == sorted([PD, FA, CS])

    pd_row = result.row(PD)
    assert (pd_row.truth, pd_row.tp, pd_row.fp, pd_row.fn) == (4, 2, 2, 2)
    assert pd_row.findings == 6
    assert pd_row.subjects == 4
    assert pd_row.off_type == 1
    assert pd_row.lookalike_hits == 1  # s9; s1 is a look-alike too but a true positive
    assert pd_row.precision == pytest.approx(0.5)
    assert pd_row.recall == pytest.approx(0.5)
    assert pd_row.f1 == pytest.approx(0.5)
    assert pd_row.status == "evaluated"

    fa_row = result.row(FA)
    assert (fa_row.tp, fa_row.fp, fa_row.fn) == (0, 0, 1)
    assert fa_row.precision is None  # no findings: undefined, not zero
    assert fa_row.recall == 0.0
    assert fa_row.f1 is None

    cs_row = result.row(CS)
    assert (cs_row.tp, cs_row.fp, cs_row.fn) == (0, 1, 0)
    assert cs_row.precision == 0.0
    assert cs_row.recall is None

    total = result.total
    assert (total.tp, total.fp, total.fn, total.lookalike_hits) == (2, 3, 3, 1)


def test_wrong_subject_type_is_not_a_hit(tmp_path: Path) -> None:
    lake = make_lake(tmp_path, [truth_row(FA, "account_cluster", "cluster:u1")], [])
    run = make_run(tmp_path, [finding(FA, "account", "cluster:u1"), finding(FA, "account", "u2")])
    row = evaluate(run / "findings.jsonl", lake).row(FA)
    assert (row.tp, row.fp, row.fn, row.off_type, row.subjects) == (0, 0, 1, 2, 0)
    assert row.recall == 0.0
    assert row.precision is None


def test_perfect_detection(tmp_path: Path) -> None:
    lake = make_lake(tmp_path, [truth_row(AD, "ad", "a1"), truth_row(AD, "ad", "a2")], [])
    run = make_run(tmp_path, [finding(AD, "ad", "a1"), finding(AD, "ad", "a2")])
    row = evaluate(run, lake).row(AD)
    assert (row.precision, row.recall, row.f1) == (1.0, 1.0, 1.0)


def test_not_run_families_from_run_json(tmp_path: Path) -> None:
    lake = make_lake(
        tmp_path,
        [
            truth_row(PD, "sku", "s1"),
            truth_row(FA, "account_cluster", "cluster:u1"),
            truth_row(AD, "ad", "a1"),
            truth_row(CS, "merchant", "m1"),
        ],
        [],
    )
    run = make_run(
        tmp_path,
        [finding(PD, "sku", "s1")],
        detectors=[
            detector("FW101", PD),
            detector("FW601", FA, "skipped", missing=["accounts"]),
            detector("FW901", CS, "error", error="ZeroDivisionError"),
            # no detector of ads.unlabeled at all
        ],
    )
    result = evaluate(run, lake)
    assert result.run_id == "r1"
    assert result.row(PD).status == "evaluated"
    assert result.row(PD).detectors == ("FW101",)
    for family in (FA, AD):
        row = result.row(family)
        assert row.status == NOT_RUN
        assert row.recall is None and row.precision is None
        assert row.fn == 1  # still counted, but not scored
    assert "accounts" in result.row(FA).note
    errored = result.row(CS)
    assert errored.status == "error"
    assert errored.recall == 0.0  # a crashed detector's misses are real
    assert result.failures(min_recall=0.5) == {CS: ["recall 0.000 < 0.5"]}
    # not-run families stay out of the total
    assert result.total.truth == 2


def test_without_run_json_every_family_is_evaluated(tmp_path: Path) -> None:
    lake = make_lake(tmp_path, [truth_row(AD, "ad", "a1")], [])
    run = make_run(tmp_path, [])
    row = evaluate(run, lake).row(AD)
    assert row.status == "evaluated"
    assert row.recall == 0.0


def test_outputs(scenario: tuple[Path, Path]) -> None:
    run, lake = scenario
    result = evaluate(run, lake)
    data = json.loads(result.to_json())
    assert {f["family"] for f in data["families"]} == {PD, FA, CS}
    pd_json = next(f for f in data["families"] if f["family"] == PD)
    assert pd_json["tp"] == 2 and pd_json["lookalike_hits"] == 1
    assert data["total"]["fp"] == 3
    md = result.to_markdown().splitlines()
    assert md[0].startswith("| family |")
    assert len(md) == 2 + 3 + 1
    assert any(line.startswith(f"| {PD} | sku | evaluated | 4 |") for line in md)
    table = render_table(result)
    assert table.row_count == 4


def test_missing_truth_is_a_usage_error(tmp_path: Path) -> None:
    run = make_run(tmp_path, [])
    with pytest.raises(UsageError):
        evaluate(run, tmp_path / "nowhere")
    with pytest.raises(UsageError):
        evaluate(tmp_path / "nowhere", tmp_path)


# -- the command ---------------------------------------------------------------------------

app = typer.Typer()
app.command()(evaluate_command)
app.command("noop")(lambda: None)  # two commands, so the command is addressed by name


def invoke(*args: str) -> Any:
    return CliRunner(env={"COLUMNS": "200"}).invoke(app, ["evaluate", *args])


def test_cli_thresholds(scenario: tuple[Path, Path], tmp_path: Path) -> None:
    run, lake = scenario
    ok = invoke(str(run), "--truth", str(lake))
    assert ok.exit_code == 0, ok.output
    assert PD in ok.output

    # PD precision 0.5, CS precision 0: fails 0.4; FA recall 0
    assert invoke(str(run), "--truth", str(lake), "--min-precision", "0.4").exit_code == 1
    assert invoke(str(run), "--truth", str(lake), "--min-recall", "0.5").exit_code == 1
    assert invoke(str(run), "--truth", str(lake), "--min-recall", "0.0").exit_code == 0

    out = tmp_path / "eval" / "e.json"
    res = invoke(str(run), "--truth", str(lake), "--json-out", str(out), "--min-precision", "0.0")
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["total"]["tp"] == 2


def test_cli_thresholds_pass_when_good(tmp_path: Path) -> None:
    lake = make_lake(
        tmp_path, [truth_row(AD, "ad", "a1"), truth_row(FA, "account_cluster", "c")], []
    )
    run = make_run(
        tmp_path,
        [finding(AD, "ad", "a1")],
        detectors=[detector("FW401", AD)],  # FA not run: never fails a threshold
    )
    res = invoke(str(run), "--truth", str(lake), "--min-precision", "0.9", "--min-recall", "0.9")
    assert res.exit_code == 0, res.output
    assert NOT_RUN in res.output


def test_cli_docstring_has_example() -> None:
    assert "Example:" in (evaluate_command.__doc__ or "")
