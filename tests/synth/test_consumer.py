"""Consumer planting: complaint surges and their look-alikes on a tiny world."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fairwatch.contract.identifiers import looks_like_phone
from fairwatch.synth import consumer
from fairwatch.synth.core import World
from tests.synth.conftest_conduct import Run, iter_truth, note_field, run, validate_lake

FAMILY = "consumer.complaint_surge"


@pytest.fixture(scope="module")
def planted() -> Run:
    return run(consumer, seed=7)


@pytest.fixture(scope="module")
def clean() -> Run:
    return run(consumer, seed=7, violations=False)


def _with_day(world: World, c: pd.DataFrame) -> pd.DataFrame:
    local = c["ts"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
    return c.assign(day=(local - pd.Timestamp(world.start)).dt.days)


def test_surges(planted: Run) -> None:
    world, out, truth = planted
    c = _with_day(world, out.table("complaints"))
    surges = list(iter_truth(truth, FAMILY))
    assert len(surges) >= 2
    for r in surges:
        n_days = int(note_field(r"surge (\d+) days", r.note))
        start = int(note_field(r"from day (\d+)", r.note))
        mine = c[c["merchant_id"] == r.subject_id]
        inside = mine[mine["day"].between(start, start + n_days - 1)]
        outside = mine[~mine.index.isin(inside.index)]
        rate_in = len(inside) / n_days
        rate_out = len(outside) / max(1, world.days - n_days)
        assert rate_in >= 2 * rate_out and len(inside) >= 4
        assert inside["complainant_id"].nunique() >= 0.8 * len(inside)
        assert r.strength is not None and r.strength >= 3


def test_lookalikes(planted: Run) -> None:
    world, out, truth = planted
    c = _with_day(world, out.table("complaints"))
    planted_m = {r.subject_id for r in iter_truth(truth, FAMILY)}
    kinds = set()
    for r in iter_truth(truth, FAMILY, lookalike=True):
        assert r.subject_id not in planted_m
        mine = c[c["merchant_id"] == r.subject_id]
        if r.note.startswith("serial"):
            kinds.add("serial")
            who = r.note.split()[2].rstrip(":")
            theirs = c[c["complainant_id"] == who]
            assert len(theirs) >= 24 and theirs["merchant_id"].nunique() >= 8
            assert (mine["complainant_id"] == who).sum() >= 6
        elif "templated" in r.note:
            kinds.add("templated")
            top = mine["text"].value_counts()
            assert top.iloc[0] >= 10
            same = mine[mine["text"] == top.index[0]]
            assert same["complainant_id"].nunique() <= 4
        else:
            kinds.add("festival")
            sector = r.note.split("sector ")[1].split()[0]
            m = world.frame("merchants")
            assert m.set_index("merchant_id").loc[r.subject_id, "category"] == sector
    assert kinds == {"serial", "templated", "festival"}


def test_baseline_and_ids(planted: Run) -> None:
    world, out, _ = planted
    c = out.table("complaints")
    assert c["complaint_id"].is_unique
    assert set(c["category"]) <= set(consumer.CATEGORIES)
    assert c["complainant_id"].str.startswith("cp_").all()
    assert not c["complainant_id"].map(looks_like_phone).any()
    assert not c["complainant_id"].str.fullmatch(r"\d{11}").any()
    assert c["text"].str.contains(r"[\u4e00-\u9fff]").all()
    m = world.frame("merchants").set_index("merchant_id")
    assert (m.loc[c["merchant_id"], "platform_id"].to_numpy() == c["platform_id"].to_numpy()).all()
    assert (m.loc[c["merchant_id"], "entity_id"].to_numpy() == c["target_id"].to_numpy()).all()
    assert (c["claimed_cny"].dropna() >= 0).all()
    # most complainants file once
    per = c["complainant_id"].value_counts()
    assert (per == 1).mean() > 0.5


def test_clean_world(clean: Run) -> None:
    _, out, truth = clean
    assert truth.violations == []
    assert {r.family for r in truth.lookalikes} == {FAMILY}
    assert len(out.table("complaints"))


def test_deterministic(planted: Run) -> None:
    _, out, truth = planted
    _, out2, truth2 = run(consumer, seed=7)
    pd.testing.assert_frame_equal(out.table("complaints"), out2.table("complaints"))
    assert [r.__dict__ for r in truth.violations] == [r.__dict__ for r in truth2.violations]


def test_tables_validate_against_the_standard(tmp_path: Path) -> None:
    problems, rows = validate_lake(consumer, tmp_path)
    assert problems == []
    assert rows["complaints"] > 0
