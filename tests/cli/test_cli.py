"""The command line: help with examples, exit codes, errors for people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairwatch.cli.main import app
from tests.detectors.golden import load_cases, write_case_lake
from tests.helpers import quotes_table, reference_tables, write_folder

runner = CliRunner()


def _commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            out += [[name, s] for s in sub]
        else:
            out.append([name])
    return out


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c))
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`fairwatch {' '.join(command)} --help` shows no example"


def test_scan_exit_codes_and_outputs(tmp_path: Path) -> None:
    code, case = next((c, k) for c, k in load_cases() if c == "FW101" and k["expect"])
    lake = write_case_lake(tmp_path / "lake", case["tables"])
    result = runner.invoke(
        app, ["scan", str(lake), "--out", str(tmp_path / "run"), "--as-of", "2025-06-30"]
    )
    assert result.exit_code == 1, result.output
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "findings.jsonl").read_text().splitlines()
    ]
    assert rows and {r["rule"] for r in rows} == {code}
    assert (tmp_path / "run" / "findings.parquet").exists()
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    statuses = {d["code"]: d["status"] for d in run["detectors"]}
    assert statuses["FW101"] == "ok" and statuses["FW102"] == "skipped"
    assert "<html" in (tmp_path / "run" / "report.html").read_text().lower()

    clean = write_case_lake(tmp_path / "clean", {"price_quotes": []})
    assert runner.invoke(app, ["scan", str(clean), "--out", str(tmp_path / "r2")]).exit_code == 0


def test_usage_and_data_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["scan", str(tmp_path / "nowhere")]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--select", "FW999"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--as-of", "yesterday"]).exit_code == 2
    bad = reference_tables()
    quotes = quotes_table(5)
    batch = write_folder(
        tmp_path / "bad", {**bad, "price_quotes": quotes.drop_columns(["platform_id"])}
    )
    result = runner.invoke(app, ["ingest", str(batch), "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 2
    assert "price_quotes" in result.output and "platform_id" in result.output
    assert not (tmp_path / "lake" / "_manifest.json").exists()


def test_rules_lists_and_explains(tmp_path: Path) -> None:
    listing = runner.invoke(app, ["rules"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "FW101" in listing.output and "FW102" in listing.output
    one = runner.invoke(app, ["rules", "fw102"], env={"COLUMNS": "200"})
    assert one.exit_code == 0 and "Known limitations" in one.output
    assert runner.invoke(app, ["rules", "FW999"]).exit_code == 2


def test_a_crashing_detector_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fairwatch.detectors.registry import registry

    def boom(self: object, ctx: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(registry().get("FW101"), "run", boom)
    _, case = next((c, k) for c, k in load_cases() if c == "FW102" and k["expect"])
    lake = write_case_lake(tmp_path / "lake", {**case["tables"]})
    result = runner.invoke(
        app, ["scan", str(lake), "--out", str(tmp_path / "run"), "--as-of", "2025-06-30"]
    )
    assert result.exit_code == 1, result.output
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    entry = {d["code"]: d for d in run["detectors"]}
    assert entry["FW101"]["status"] == "error" and "kaboom" in entry["FW101"]["error"]
    assert entry["FW102"]["status"] == "ok" and entry["FW102"]["findings"] >= 1
    assert "kaboom" in (tmp_path / "run" / "report.html").read_text()
