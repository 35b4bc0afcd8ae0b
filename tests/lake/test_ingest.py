"""Ingest: validation gate, idempotence, and crash consistency under kill -9."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from fairwatch.errors import InvalidBatch, UsageError
from fairwatch.lake import Lake, ingest
from tests.helpers import folder_state, quotes_table, reference_tables, write_folder


def lake_rows(path: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {
        name: sum(pq.read_metadata(f).num_rows for f in files)
        for name, files in Lake(path).table_files().items()
    }


def test_ingest_appends_and_is_idempotent(tmp_path: Path) -> None:
    batch = write_folder(tmp_path / "b1", {**reference_tables(), "price_quotes": quotes_table(100)})
    result = ingest(batch, tmp_path / "lake")
    assert result.rows["price_quotes"] == 100
    assert lake_rows(tmp_path / "lake")["products"] == 8
    before = folder_state(tmp_path / "lake")
    again = ingest(batch, tmp_path / "lake")
    assert again.append.already_present
    assert folder_state(tmp_path / "lake") == before


def test_same_content_in_another_format_is_the_same_batch(tmp_path: Path) -> None:
    refs = reference_tables()
    ingest(write_folder(tmp_path / "refs", refs), tmp_path / "lake")
    quotes = quotes_table(50)
    parquet_batch = write_folder(tmp_path / "pq", {"price_quotes": quotes})
    ingest(parquet_batch, tmp_path / "lake")
    before = folder_state(tmp_path / "lake")
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    frame = quotes.to_pandas()
    frame["ts"] = frame["ts"].map(lambda t: t.isoformat())
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), csv_dir / "price_quotes.csv")
    assert ingest(csv_dir, tmp_path / "lake").append.already_present
    assert folder_state(tmp_path / "lake") == before


def test_second_batch_appends_and_respects_existing_keys(tmp_path: Path) -> None:
    ingest(
        write_folder(tmp_path / "b1", {**reference_tables(), "price_quotes": quotes_table(60)}),
        tmp_path / "lake",
    )
    ingest(
        write_folder(tmp_path / "b2", {"price_quotes": quotes_table(40, start=60)}),
        tmp_path / "lake",
    )
    assert lake_rows(tmp_path / "lake")["price_quotes"] == 100
    before = folder_state(tmp_path / "lake")
    clash = write_folder(tmp_path / "b3", {"price_quotes": quotes_table(10, start=55)})
    with pytest.raises(InvalidBatch) as info:
        ingest(clash, tmp_path / "lake")
    assert any(p.rule == "unique_key" and p.table == "price_quotes" for p in info.value.problems)
    assert folder_state(tmp_path / "lake") == before


def test_rejected_batch_changes_nothing_and_names_the_problem(tmp_path: Path) -> None:
    ingest(write_folder(tmp_path / "b1", reference_tables()), tmp_path / "lake")
    before = folder_state(tmp_path / "lake")
    quotes = quotes_table(20)
    bad_sku = quotes.column("sku_id").to_pylist()
    bad_sku[4] = "no-such-sku"
    quotes = quotes.set_column(quotes.schema.get_field_index("sku_id"), "sku_id", pa.array(bad_sku))
    with pytest.raises(InvalidBatch) as info:
        ingest(write_folder(tmp_path / "bad", {"price_quotes": quotes}), tmp_path / "lake")
    problem = next(p for p in info.value.problems if p.rule == "reference")
    assert (problem.table, problem.column, problem.rows[:1]) == ("price_quotes", "sku_id", (5,))
    assert "price_quotes.sku_id" in str(info.value)
    assert folder_state(tmp_path / "lake") == before


def test_raw_folder_is_not_overwritten(tmp_path: Path) -> None:
    raw = write_folder(tmp_path / "raw", reference_tables())
    with pytest.raises(UsageError):
        ingest(write_folder(tmp_path / "b", {"price_quotes": quotes_table(5)}), raw)


# -- crash consistency ----------------------------------------------------------------


def _ingest_cmd(batch: Path, lake: Path) -> list[str]:
    return [sys.executable, "-m", "fairwatch", "ingest", str(batch), "--lake", str(lake)]


@pytest.fixture
def seeded_lake(tmp_path: Path) -> tuple[Path, Path]:
    """A lake with one committed batch and a second, large batch ready to ingest."""
    lake = tmp_path / "lake"
    ingest(
        write_folder(tmp_path / "b1", {**reference_tables(), "price_quotes": quotes_table(100)}),
        lake,
    )
    batch = write_folder(tmp_path / "b2", {"price_quotes": quotes_table(300_000, start=100)})
    return lake, batch


@pytest.mark.parametrize(
    ("failpoint", "committed"),
    [
        ("staged_part", False),
        ("staged", False),
        ("manifest_written", False),
        ("committed", True),
        ("moved", True),
    ],
)
def test_kill_at_each_step_leaves_lake_before_or_after(
    seeded_lake: tuple[Path, Path], failpoint: str, committed: bool
) -> None:
    lake, batch = seeded_lake
    before = folder_state(lake)
    env = {**os.environ, "FAIRWATCH_FAILPOINT": failpoint}
    proc = subprocess.run(_ingest_cmd(batch, lake), env=env, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    Lake(lake).recover()
    rows = lake_rows(lake)
    if committed:
        assert rows["price_quotes"] == 300_100
        assert not (lake / "_txn").exists()
    else:
        assert folder_state(lake) == before
        assert rows["price_quotes"] == 100
    # The interrupted batch can be ingested (again) and lands exactly once.
    subprocess.run(_ingest_cmd(batch, lake), check=True, capture_output=True, timeout=300)
    assert lake_rows(lake)["price_quotes"] == 300_100


def test_kill_at_random_moments(seeded_lake: tuple[Path, Path]) -> None:
    lake, batch = seeded_lake
    before = folder_state(lake)
    rng = random.Random(20261124)
    outcomes = set()
    for _ in range(6):
        proc = subprocess.Popen(
            _ingest_cmd(batch, lake), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        Lake(lake).recover()
        rows = lake_rows(lake)["price_quotes"]
        assert rows in (100, 300_100)
        if rows == 100:
            assert folder_state(lake) == before
            outcomes.add("before")
        else:
            outcomes.add("after")
            break
    assert outcomes  # every kill left one of the two states
