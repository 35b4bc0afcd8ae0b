"""generate_market and ``fairwatch synth``: a whole tiny market, valid and reproducible."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from fairwatch.cli.synth import synth
from fairwatch.contract import STANDARD, coerce, discover, read_table, validate_batch
from fairwatch.errors import UsageError
from fairwatch.synth import generate
from fairwatch.synth.core import Scale
from fairwatch.synth.generate import SYNTH_FILE, generate_market

PRICING = (
    "pricing.personalized_discrimination",
    "pricing.fictitious_original_price",
    "pricing.price_gouging",
    "pricing.collusion",
)
SMALLER = Scale("test", quotes=30_000, platforms=6, merchants=60, skus=120, users=2_000, days=45)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("generate") / "market"
    return out, generate_market(out, "tiny", seed=4)


def _files(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_every_table_passes_the_standard(lake: tuple[Path, dict[str, Any]]) -> None:
    out, summary = lake
    files = discover(out)
    assert {
        "price_quotes",
        "orders",
        "entities",
        "ownership",
        "financials",
        "platforms",
        "platform_metrics",
        "merchants",
        "products",
        "accounts",
        "emergencies",
    } <= set(files)
    batch = {}
    for name, paths in files.items():
        if name not in STANDARD:
            continue
        table, problems = coerce(name, read_table(paths, name))
        assert not problems, (name, problems[:3])
        batch[name] = table
        assert table.num_rows == summary["rows"][name]
    problems = validate_batch(batch)
    assert not problems, problems[:5]


def test_summary_and_truth_files(lake: tuple[Path, dict[str, Any]]) -> None:
    out, summary = lake
    assert json.loads((out / SYNTH_FILE).read_text(encoding="utf-8")) == summary
    assert summary["seed"] == 4 and summary["scale"]["name"] == "tiny" and summary["violations"]
    assert summary["period"] == {
        "start": "2025-03-01",
        "end": "2025-04-29",
        "days": 60,
        "timezone": "Asia/Shanghai",
    }
    assert summary["rows"]["price_quotes"] == 60_000
    assert "pricing" in summary["modules"]["run"]
    truth = pq.read_table(out / "ground_truth.parquet").to_pandas()
    lookalikes = pq.read_table(out / "ground_truth_lookalikes.parquet").to_pandas()
    assert set(PRICING) <= set(truth["family"]) and set(PRICING) <= set(lookalikes["family"])
    counts = truth["family"].value_counts().to_dict()
    assert {f: counts[f] for f in PRICING} == {
        f: summary["truth"]["violations"][f] for f in PRICING
    }
    products = pq.read_table(out / "products").to_pandas()
    skus = truth[truth["subject_type"] == "sku"]
    assert set(skus["subject_id"]) <= set(products["sku_id"])
    markets = truth[truth["family"] == "pricing.collusion"]
    assert set(markets["subject_id"]) <= set(products["category"])


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "market"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        generate_market(out, SMALLER, seed=1)
    assert (out / "keep.txt").exists()
    generate_market(out, SMALLER, seed=1, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / SYNTH_FILE).exists()


def test_same_seed_same_bytes_other_seed_other_market(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate, "MODULES", ["pricing"])
    a = generate_market(tmp_path / "a", SMALLER, seed=9)
    b = generate_market(tmp_path / "b", SMALLER, seed=9)
    c = generate_market(tmp_path / "c", SMALLER, seed=10)
    assert a == b
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    other = _files(tmp_path / "c")
    assert (
        other["price_quotes/part-00000.parquet"]
        != _files(tmp_path / "a")["price_quotes/part-00000.parquet"]
    )
    assert c["rows"]["price_quotes"] == SMALLER.quotes


def test_clean_market_plants_no_pricing_violation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate, "MODULES", ["pricing"])
    summary = generate_market(tmp_path / "clean", SMALLER, seed=9, violations=False)
    assert summary["violations"] is False
    truth = pq.read_table(tmp_path / "clean" / "ground_truth.parquet").to_pandas()
    assert not set(truth["family"]) & set(PRICING)
    assert summary["truth"]["lookalikes"]


def test_missing_modules_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(generate, "MODULES", ["pricing", "not_written_yet"])
    steps: list[tuple[str, int | None, int | None]] = []
    with caplog.at_level(logging.WARNING, logger="fairwatch.synth.generate"):
        summary = generate_market(
            tmp_path / "m",
            SMALLER,
            seed=2,
            progress=lambda msg, done=None, total=None: steps.append((msg, done, total)),
        )
    assert summary["modules"] == {"run": ["pricing"], "skipped": ["not_written_yet"]}
    assert "not_written_yet" in caplog.text
    assert steps[0][0] == "building the world" and steps[-1][0] == "done"
    assert any(msg == "price quotes" for msg, _, _ in steps)


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "MODULES", ["pricing"])
    app = typer.Typer()
    app.command()(synth)
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["--scale", "30000", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "price_quotes" in result.output
    assert json.loads((out / SYNTH_FILE).read_text())["rows"]["price_quotes"] == 30_000
    again = CliRunner().invoke(app, ["--scale", "30000", "--out", str(out)])
    assert again.exit_code == 2 and "not empty" in again.output
    clean = CliRunner().invoke(
        app, ["--scale", "30000", "--out", str(out), "--clean", "--overwrite"]
    )
    assert clean.exit_code == 0, clean.output
    assert json.loads((out / SYNTH_FILE).read_text())["violations"] is False
