"""The labour planting module: riders' time pressure, pay and hours."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fairwatch.contract.identifiers import looks_like_phone, resident_id_is_valid
from fairwatch.synth import labour
from fairwatch.synth.core import GroundTruth, Scale, TableWriter, World
from fairwatch.synth.world import build_world

SCALE = Scale("test", quotes=1_000, platforms=12, merchants=60, skus=150, users=2_000, days=14)
# Zhejiang hourly minimum wage from 2025 (facts file section 11), by tier.
HOURLY_2025 = {1: 24.0, 2: 22.0, 3: 20.0}
MONTHLY_2025_TIER1 = 2490.0

Result = tuple[World, pd.DataFrame, pd.DataFrame, GroundTruth]


def run(tmp: Path, seed: int, violations: bool) -> Result:
    world = build_world(seed, SCALE, violations=violations)
    truth = GroundTruth()
    labour.plant(world, TableWriter(tmp), truth)
    return (
        world,
        pd.read_parquet(tmp / "deliveries"),
        pd.read_parquet(tmp / "worker_sessions"),
        truth,
    )


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return run(tmp_path_factory.mktemp("labour"), 21, True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return run(tmp_path_factory.mktemp("labour_clean"), 22, False)


def units(deliveries: pd.DataFrame) -> list[str]:
    return sorted(set(deliveries["platform_id"] + ":" + deliveries["region_code"]))


def subset(frame: pd.DataFrame, subject: str) -> pd.DataFrame:
    pid, region = subject.split(":")
    return frame[(frame["platform_id"] == pid) & (frame["region_code"] == region)]


def infeasible_share(d: pd.DataFrame) -> float:
    # generous: 20 km/h riding plus 5 minutes to pick up
    return float((d["promised_minutes"] < 5 + d["distance_m"] / (20_000 / 60)).mean())


def hourly_by_rider(d: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    hours = (
        ((s["online_to"] - s["online_from"]).dt.total_seconds() / 3600)
        .groupby(s["worker_id"])
        .sum()
    )
    net = (d["pay_cny"] - d["deduction_cny"].fillna(0)).groupby(d["rider_id"]).sum()
    frame = pd.DataFrame({"hours": hours, "net": net}).dropna()
    frame["hourly"] = frame["net"] / frame["hours"]
    return frame


def minimum(region: str, day: date) -> float:
    assert day >= date(2025, 1, 1)
    return HOURLY_2025[labour.TIER[region]]


def stretches(s: pd.DataFrame) -> pd.DataFrame:
    """Continuous online stretches: sessions merged across gaps shorter than 20 minutes."""
    s = s.sort_values(["worker_id", "online_from"])
    gap = s["online_from"] - s.groupby("worker_id")["online_to"].shift()
    new = gap.isna() | (gap >= pd.Timedelta(minutes=20))
    sid = new.cumsum()
    g = s.groupby(sid)
    return pd.DataFrame(
        {
            "worker_id": g["worker_id"].first(),
            "hours": (g["online_to"].max() - g["online_from"].min()).dt.total_seconds() / 3600,
        }
    )


def over_share(s: pd.DataFrame) -> float:
    st = stretches(s)
    return float(st.groupby("worker_id")["hours"].max().gt(12).mean())


def truth_subjects(truth: GroundTruth, family: str, lookalike: bool = False) -> dict[str, str]:
    rows = truth.lookalikes if lookalike else truth.violations
    return {r.subject_id: r.note for r in rows if r.family == family}


def test_every_family_is_planted(planted: Result) -> None:
    _, d, _, truth = planted
    for family in (labour.TIME_PRESSURE, labour.MIN_WAGE, labour.HOURS):
        subjects = truth_subjects(truth, family)
        assert subjects, family
        assert set(subjects) <= set(units(d))
        assert truth_subjects(truth, family, lookalike=True)
        assert all(0 < (r.strength or 0) <= 1 for r in truth.violations if r.family == family)


def test_time_pressure(planted: Result) -> None:
    _, d, _, truth = planted
    bad = truth_subjects(truth, labour.TIME_PRESSURE)
    for subject in units(d):
        u = subset(d, subject)
        share = infeasible_share(u)
        if subject in bad:
            achieved = (u["delivered_at"] - u["dispatched_at"]).dt.total_seconds() / 60
            assert share >= 0.25
            assert u["promised_minutes"].median() < 0.8 * achieved.median()
            late = achieved > u["promised_minutes"]
            assert (u.loc[late, "deduction_reason"] == "lateness").mean() > 0.8
            assert u["deduction_cny"].fillna(0).mean() > 1.0
        else:
            assert share == 0.0, subject


def test_time_pressure_lookalike(planted: Result) -> None:
    _, d, _, truth = planted
    dense = truth_subjects(truth, labour.TIME_PRESSURE, lookalike=True)
    normal = [
        s
        for s in units(d)
        if s not in dense and s not in truth_subjects(truth, labour.TIME_PRESSURE)
    ]
    ref = pd.concat([subset(d, s) for s in normal])
    for subject in dense:
        u = subset(d, subject)
        assert u["promised_minutes"].median() < 0.7 * ref["promised_minutes"].median()
        assert u["distance_m"].median() < 0.6 * ref["distance_m"].median()
        assert infeasible_share(u) == 0.0


def test_pay_below_minimum(planted: Result) -> None:
    world, d, s, truth = planted
    assert world.start >= date(2025, 1, 1)
    bad = truth_subjects(truth, labour.MIN_WAGE)
    for subject in units(d):
        region = subject.split(":")[1]
        h = hourly_by_rider(subset(d, subject), subset(s, subject))
        below = float((h["hourly"] < minimum(region, world.start)).mean())
        if subject in bad:
            assert 0.1 <= below <= 0.7, (subject, below)
        else:
            assert below == 0.0, (subject, below)


def test_pay_lookalikes(planted: Result) -> None:
    world, d, s, truth = planted
    looks = truth_subjects(truth, labour.MIN_WAGE, lookalike=True)
    assert looks
    for subject, note in looks.items():
        region = subject.split(":")[1]
        u, us = subset(d, subject), subset(s, subject)
        h = hourly_by_rider(u, us)
        floor = minimum(region, world.start)
        assert (h["hourly"] >= floor).all()
        if note.startswith("mostly part-time"):
            monthly = h["net"] * 30 / world.days
            assert (monthly < MONTHLY_2025_TIER1).mean() > 0.4
        elif note.startswith("heavy deductions"):
            assert u["deduction_cny"].sum() / u["pay_cny"].sum() > 0.08
        else:
            assert labour.TIER[region] > 1
            assert (h["hourly"] < HOURLY_2025[1]).any()


def test_excessive_hours(planted: Result) -> None:
    _, d, s, truth = planted
    bad = truth_subjects(truth, labour.HOURS)
    looks = truth_subjects(truth, labour.HOURS, lookalike=True)
    for subject in units(d):
        share = over_share(subset(s, subject))
        if subject in bad:
            assert share >= 0.1, subject
        else:
            assert share == 0.0, subject
    for subject in looks:
        us = subset(s, subject).copy()
        local = us["online_from"].dt.tz_convert("Asia/Shanghai")
        us["day"] = (local - pd.Timedelta(hours=5)).dt.date
        span = us.groupby(["worker_id", "day"]).agg(
            a=("online_from", "min"), b=("online_to", "max")
        )
        assert ((span["b"] - span["a"]).dt.total_seconds() > 12 * 3600).any()
        assert stretches(us)["hours"].max() <= 12


def test_consistency_and_pseudonyms(planted: Result) -> None:
    _, d, s, _ = planted
    assert d["task_id"].is_unique
    assert (d["dispatched_at"] <= d["picked_up_at"]).all()
    assert (d["picked_up_at"] <= d["delivered_at"]).all()
    assert (s["online_from"] < s["online_to"]).all()
    assert set(d["rider_id"]) == set(s["worker_id"])
    riders = pd.concat([d["rider_id"], s["worker_id"]]).unique()
    assert not any(looks_like_phone(r) or resident_id_is_valid(r) for r in riders)
    assert all(str(r).startswith("rd_") for r in riders)
    # every task lies inside one of its rider's sessions
    m = d.merge(s, left_on="rider_id", right_on="worker_id")
    inside = (m["dispatched_at"] >= m["online_from"]) & (m["delivered_at"] <= m["online_to"])
    assert inside.groupby(m["task_id"]).any().all()
    # one home district per rider
    assert s.groupby("worker_id")["region_code"].nunique().eq(1).all()
    assert (d["pay_cny"] >= 0).all() and (d["deduction_cny"].dropna() > 0).all()
    assert np.isin(d["region_code"].unique(), list(labour.TIER)).all()


def test_clean_market(clean: Result) -> None:
    world, d, s, truth = clean
    assert truth.violations == []
    assert truth.lookalikes
    for subject in units(d):
        region = subject.split(":")[1]
        assert infeasible_share(subset(d, subject)) == 0.0
        assert over_share(subset(s, subject)) == 0.0
        h = hourly_by_rider(subset(d, subject), subset(s, subject))
        assert (h["hourly"] >= minimum(region, world.start)).all()


def test_hourly_minimum_schedule() -> None:
    assert labour.hourly_minimum("330106", date(2025, 3, 1)) == 24
    assert labour.hourly_minimum("330106", date(2024, 12, 31)) == 22
    assert labour.hourly_minimum("330302", date(2025, 3, 1)) == 22
    assert labour.hourly_minimum("331102", date(2022, 1, 1)) == 18


def test_deterministic(tmp_path: Path, planted: Result) -> None:
    _, d, s, truth = planted
    _, d2, s2, truth2 = run(tmp_path, 21, True)
    pd.testing.assert_frame_equal(d, d2)
    pd.testing.assert_frame_equal(s, s2)
    assert truth.violations == truth2.violations


def test_tables_validate(tmp_path: Path) -> None:
    from fairwatch.contract import validate_batch

    world = build_world(5, SCALE)
    out = TableWriter(tmp_path)
    labour.plant(world, out, GroundTruth())
    out.write("platforms", world.frame("platforms"))
    batch = {t: pq.read_table(tmp_path / t) for t in ("deliveries", "worker_sessions", "platforms")}
    assert validate_batch(batch) == []
