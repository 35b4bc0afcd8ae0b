"""``fairwatch law`` commands, through Typer's CliRunner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fairwatch.cli.law import app
from fairwatch.law.docs import render_markdown

runner = CliRunner()
ENV = {"COLUMNS": "250"}


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def test_show_at_date() -> None:
    code, out = invoke("show", "cn.aml.merger_thresholds.global_combined_cny", "--at", "2024-06-01")
    assert code == 0, out
    assert "12,000,000,000 CNY" in out
    assert "cn.notification_thresholds.decree773" in out
    assert "2024-01-26" in out  # the conflicting publication date is shown
    assert "NO (unverified)" in out


def test_show_before_change() -> None:
    code, out = invoke("show", "cn.aml.merger_thresholds.global_combined_cny", "--at", "2024-01-21")
    assert code == 0, out
    assert "10,000,000,000 CNY" in out
    assert "Decree No. 703" in out


def test_show_today() -> None:
    code, out = invoke("show", "cn.detection.fdr_q")
    assert code == 0, out
    assert "0.05" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "cn.nope"), "unknown parameter"),
        (("show", "cn.detection.fdr_q", "--at", "2024-13-01"), "not a date"),
        (("show", "cn.aml.fines.aggravation_multiplier", "--at", "2021-01-01"), "not in force"),
        (
            (
                "show",
                "cn.aml.fines.illegal_concentration.with_effect_max_cny",
                "--at",
                "2023-01-01",
            ),
            "repealed",
        ),
        (("diff", "2021-01-01", "yesterday"), "not a date"),
        (("cite", "cn.pipl.art99"), "unknown citation key"),
        (("list", "xx."), "no parameter"),
    ],
)
def test_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert message in out


def test_diff() -> None:
    code, out = invoke("diff", "2021-01-01", "2026-06-01")
    assert code == 0, out
    for name in (
        "cn.aml.merger_thresholds.global_combined_cny",
        "cn.aml.fines.monopoly_agreement.not_implemented_max_cny",
        "cn.data_export.assessment.exported_pi_individuals",
    ):
        assert name in out
    assert "Decree No. 703" in out and "Decree No. 773" in out


def test_diff_with_prefix() -> None:
    code, out = invoke("diff", "2021-01-01", "2026-06-01", "--prefix", "cn.aml.merger")
    assert code == 0, out
    assert "cn.aml.merger_thresholds.china_combined_cny" in out
    assert "cn.data_export" not in out


def test_cite_key_and_parameter() -> None:
    code, out = invoke("cite", "cn.pipl.art24")
    assert code == 0, out
    assert "Personal Information Protection Law" in out
    assert "2021-11-01" in out
    code, out = invoke("cite", "cn.aml.merger_thresholds.each_party_china_cny")
    assert code == 0, out
    assert "Decree No. 529" in out and "Decree No. 773" in out


def test_list() -> None:
    code, out = invoke("list", "cn.detection")
    assert code == 0, out
    assert "cn.detection.pricing.min_group_quotes" in out
    assert "cn.aml" not in out


def test_docs_prints_the_reference() -> None:
    result = runner.invoke(app, ["docs"])
    assert result.exit_code == 0
    assert result.output == render_markdown()


@pytest.mark.parametrize("command", ["show", "diff", "cite", "list", "docs"])
def test_every_command_has_an_example(command: str) -> None:
    code, out = invoke(command, "--help")
    assert code == 0
    assert "Example:" in out
    assert "fairwatch law " + command in out
