"""The data (cross-border transfers) and algorithms (filings) planting modules."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fairwatch.synth import algorithms, data
from fairwatch.synth.core import GroundTruth, Scale, TableWriter, World
from fairwatch.synth.world import build_world

SCALE = Scale("test", quotes=1_000, platforms=12, merchants=60, skus=150, users=2_000, days=14)
Result = tuple[World, dict[str, pd.DataFrame], GroundTruth]
ART5 = {"contract_necessity", "cross_border_hr", "emergency_life_health"}


def run(tmp: Path, seed: int, violations: bool) -> Result:
    world = build_world(seed, SCALE, violations=violations)
    truth = GroundTruth()
    out = TableWriter(tmp)
    data.plant(world, out, truth)
    algorithms.plant(world, out, truth)
    tables = {
        t: pd.read_parquet(tmp / t)
        for t in ("data_exports", "algorithm_filings", "algorithm_inventory")
    }
    return world, tables, truth


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return run(tmp_path_factory.mktemp("dal"), 31, True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return run(tmp_path_factory.mktemp("dal_clean"), 32, False)


# ----------------------------------------------------------------------------- data


def lawful_2024(r: pd.Series) -> bool:
    """The 2024-03-22 CAC provisions, written out independently."""
    mech, pi, sens = r["mechanism"], r["pi_individuals"], r["sensitive_pi_individuals"]
    if mech == "exempt" and r["exemption"] in ART5 and not r["is_ciio"] and not r["important_data"]:
        return True
    if r["important_data"] or (r["is_ciio"] and pi + sens > 0) or pi >= 1_000_000 or sens >= 10_000:
        return bool(mech == "security_assessment")
    if pi >= 100_000 or sens > 0:
        return mech in ("security_assessment", "standard_contract", "certification")
    if mech == "exempt":
        reason = r["exemption"]
        return (
            reason in ART5
            or reason == "below_100k_non_sensitive"
            or (reason == "no_personal_information" and pi + sens == 0)
        )
    return True


def lawful_2022(r: pd.Series) -> bool:
    """The 2022 assessment measures + PIPL art. 38 (no de-minimis exemption)."""
    mech, pi, sens = r["mechanism"], r["pi_individuals"], r["sensitive_pi_individuals"]
    if r["important_data"] or (r["is_ciio"] and pi + sens > 0) or pi >= 100_000 or sens >= 10_000:
        return bool(mech == "security_assessment")
    if pi + sens > 0:
        return mech in ("security_assessment", "standard_contract", "certification")
    return mech == "none" or (mech == "exempt" and r["exemption"] == "no_personal_information")


def lawful(r: pd.Series) -> bool:
    # judged under the rules of the year, unless today's rules are lighter (APL art. 37)
    return lawful_2024(r) or (r["year"] < 2024 and lawful_2022(r))


def _subjects(truth: GroundTruth, family: str, lookalike: bool = False) -> dict[str, str]:
    rows = truth.lookalikes if lookalike else truth.violations
    return {r.subject_id: r.note for r in rows if r.family == family}


def test_data_planted_and_lookalikes(planted: Result) -> None:
    _, tables, truth = planted
    ex = tables["data_exports"].copy()
    ex["subject"] = ex["entity_id"] + ":" + ex["year"].astype(str)
    bad = _subjects(truth, data.FAMILY)
    looks = _subjects(truth, data.FAMILY, lookalike=True)
    assert bad and looks
    for _, r in ex.iterrows():
        assert lawful(r) != (r["subject"] in bad), (r.to_dict(), bad.get(r["subject"]))
    kinds = {n.split(":")[0] for n in bad.values()}
    assert {"million_contract", "ciio_contract", "sensitive", "none"} <= kinds
    assert {"99999", "999999", "art5", "boundary_2024", "2023_lighter_law"} <= set(looks.values())
    by = ex.set_index("subject")
    for subject, kind in looks.items():
        r = by.loc[subject]
        if kind == "99999":
            assert 80_000 <= r["pi_individuals"] < 100_000 and r["mechanism"] == "exempt"
        if kind == "999999":
            assert 900_000 <= r["pi_individuals"] < 1_000_000
        if kind == "boundary_2024":
            assert r["year"] == 2024 and not lawful_2022(r) and lawful_2024(r)
        if kind == "2023_lighter_law":
            assert r["year"] == 2023 and not lawful_2022(r) and lawful_2024(r)
    assert all(0 < (r.strength or 0) <= 1 for r in truth.violations if r.family == data.FAMILY)


def test_data_rows(planted: Result) -> None:
    world, tables, _ = planted
    ex = tables["data_exports"]
    assert not ex.duplicated(["entity_id", "year"]).any()
    assert set(ex["entity_id"]) <= set(world.frame("entities")["entity_id"])
    assert ex.groupby("entity_id")["is_ciio"].nunique().eq(1).all()
    assert ex["year"].min() == 2023 and ex["year"].max() == (world.end - timedelta(days=1)).year
    needs = ex["mechanism"].isin(["security_assessment", "standard_contract", "certification"])
    assert ex.loc[needs, "mechanism_valid_from"].notna().all()
    assert ex.loc[ex["mechanism"] == "exempt", "exemption"].notna().all()


def test_data_clean(clean: Result) -> None:
    _, tables, truth = clean
    assert not _subjects(truth, data.FAMILY)
    assert _subjects(truth, data.FAMILY, lookalike=True)
    assert all(lawful(r) for _, r in tables["data_exports"].iterrows())


# ----------------------------------------------------------------------------- algorithms


def test_working_day_calendar() -> None:
    wd = algorithms.is_working_day
    assert wd(date(2025, 1, 26))  # Sunday, adjusted working day
    assert not wd(date(2025, 1, 28)) and not wd(date(2025, 2, 4))  # Spring Festival
    assert not wd(date(2024, 10, 7)) and wd(date(2024, 10, 12))  # National Day, Saturday worked
    assert wd(date(2023, 6, 21)) and not wd(date(2023, 6, 23))
    # ten working days after Friday 2025-01-24: Jan 26 (Sun), 27, Feb 5, 6, 7, 8 (Sat), 10..13
    assert algorithms.filing_deadline(date(2025, 1, 24)) == date(2025, 2, 13)


def _deadline(start: date) -> date:
    day, n = start, 0
    while n < 10:
        day += timedelta(days=1)
        n += algorithms.is_working_day(day)
    return day


def _scoped(categories: list[str], atype: str) -> bool:
    return bool({"information", "social_entertainment"} & set(categories)) or (
        "online_sales" in categories and atype == "personalized_push"
    )


def _violating_platforms(world: World, tables: dict[str, pd.DataFrame]) -> set[str]:
    cats = {r.platform_id: list(r.categories) for r in world.frame("platforms").itertuples()}
    fil = tables["algorithm_filings"]
    bad = set()
    for r in tables["algorithm_inventory"].itertuples():
        if not _scoped(cats[r.platform_id], r.algorithm_type):
            continue
        f = fil[(fil["platform_id"] == r.platform_id) & (fil["algorithm_type"] == r.algorithm_type)]
        ok_status = (f["status"] == "filed") | (
            (f["status"] == "deregistered") & pd.notna(r.in_use_to)
        )
        timely = pd.to_datetime(f["filed_on"]).dt.date <= _deadline(r.in_use_from)
        if not (ok_status & timely).any():
            bad.add(r.platform_id)
    return bad


def test_algorithms_planted(planted: Result) -> None:
    world, tables, truth = planted
    bad = _subjects(truth, algorithms.FAMILY)
    looks = _subjects(truth, algorithms.FAMILY, lookalike=True)
    assert bad and looks and not set(bad) & set(looks)
    assert _violating_platforms(world, tables) == set(bad)
    notes = " ".join(looks.values())
    assert "out of scope" in notes
    fil, inv = tables["algorithm_filings"], tables["algorithm_inventory"]
    for pid, note in looks.items():
        if "across a holiday" not in note:
            continue
        for atype in (part.split(":")[0] for part in note.split("; ") if "holiday" in part):
            start = inv[(inv["platform_id"] == pid) & (inv["algorithm_type"] == atype)][
                "in_use_from"
            ].iloc[0]
            filed = fil[(fil["platform_id"] == pid) & (fil["algorithm_type"] == atype)][
                "filed_on"
            ].max()
            assert (filed - start).days >= 14 and filed <= _deadline(start)
    modes = " ".join(bad.values())
    assert any(m in modes for m in ("none", "pending", "rejected", "late"))


def test_algorithm_tables(planted: Result) -> None:
    world, tables, _ = planted
    fil, inv = tables["algorithm_filings"], tables["algorithm_inventory"]
    assert fil["filing_id"].is_unique
    assert not inv.duplicated(["platform_id", "algorithm_type"]).any()
    pids = set(world.frame("platforms")["platform_id"])
    assert set(fil["platform_id"]) <= pids and set(inv["platform_id"]) <= pids
    assert (inv["in_use_from"] >= date(2022, 3, 1)).all()
    assert (inv["in_use_to"].dropna() > inv.loc[inv["in_use_to"].notna(), "in_use_from"]).all()
    assert (fil["filed_on"].dropna() < world.end).all()


def test_algorithms_clean(clean: Result) -> None:
    world, tables, truth = clean
    assert not _subjects(truth, algorithms.FAMILY)
    assert _violating_platforms(world, tables) == set()


def test_deterministic(tmp_path: Path, planted: Result) -> None:
    _, tables, truth = planted
    _, again, truth2 = run(tmp_path, 31, True)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])
    assert truth.violations == truth2.violations and truth.lookalikes == truth2.lookalikes


def test_tables_validate(tmp_path: Path) -> None:
    from fairwatch.contract import validate_batch

    world = build_world(5, SCALE)
    out = TableWriter(tmp_path)
    data.plant(world, out, GroundTruth())
    algorithms.plant(world, out, GroundTruth())
    out.write("entities", world.frame("entities"))
    out.write("platforms", world.frame("platforms"))
    names = ("data_exports", "algorithm_filings", "algorithm_inventory", "entities", "platforms")
    assert validate_batch({t: pq.read_table(tmp_path / t) for t in names}) == []
