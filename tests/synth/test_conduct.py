"""Conduct planting: search, merchant events, fees and rule changes on a tiny world."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from fairwatch.contract.identifiers import looks_like_phone
from fairwatch.detectors.families import FAMILIES
from fairwatch.synth import conduct
from fairwatch.synth.core import World
from tests.synth.conftest_conduct import Run, iter_truth, note_field, run, validate_lake

FAMILIES_HERE = (
    "conduct.exclusive_dealing",
    "conduct.self_preferencing",
    "conduct.unfair_fee_change",
    "conduct.rule_change_notice",
)


@pytest.fixture(scope="module")
def planted() -> Run:
    return run(conduct, seed=7)


@pytest.fixture(scope="module")
def clean() -> Run:
    return run(conduct, seed=7, violations=False)


def _local_day(world: World, ts: pd.Series) -> pd.Series:
    local = ts.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
    return (local - pd.Timestamp(world.start)).dt.days


def test_every_family_planted_on_its_subject(planted: Run) -> None:
    _, _, truth = planted
    for family in FAMILIES_HERE:
        rows = list(iter_truth(truth, family))
        assert rows, family
        assert {r.subject_type for r in rows} == {FAMILIES[family]}
        assert list(iter_truth(truth, family, lookalike=True)), family


def test_clean_world_records_no_violation_but_lookalikes(clean: Run) -> None:
    _, out, truth = clean
    assert truth.violations == []
    assert {r.family for r in truth.lookalikes} >= {
        "conduct.unfair_fee_change",
        "conduct.rule_change_notice",
        "conduct.self_preferencing",
    }
    rc = out.table("rule_changes")
    notice = (pd.to_datetime(rc["effective_on"]) - pd.to_datetime(rc["announced_on"])).dt.days
    assert (notice >= 7).all() and rc["consultation_from"].notna().all()
    fees = out.table("fee_schedules")
    assert not fees["merchant_category"].fillna("").str.contains("/").any()


def test_rule_change_notice(planted: Run) -> None:
    _, out, truth = planted
    rc = out.table("rule_changes").set_index("change_id")
    assert rc.index.is_unique
    notice = (pd.to_datetime(rc["effective_on"]) - pd.to_datetime(rc["announced_on"])).dt.days
    bad = {r.subject_id for r in iter_truth(truth, "conduct.rule_change_notice")}
    for cid in bad:
        assert notice[cid] < 7 or pd.isna(rc.loc[cid, "consultation_from"]), cid
    assert 6 in set(notice[list(bad)])
    looks = {r.subject_id for r in iter_truth(truth, "conduct.rule_change_notice", lookalike=True)}
    assert {7, 8, 30} <= set(notice[list(looks)])
    lawful = rc.index.difference(list(bad))
    assert (notice[lawful] >= 7).all() and rc.loc[lawful, "consultation_from"].notna().all()


def _previous(fees: pd.DataFrame, row: pd.Series) -> pd.Series:
    same = fees[
        (fees["platform_id"] == row["platform_id"])
        & (fees["fee_type"] == row["fee_type"])
        & (fees["merchant_category"] == row["merchant_category"])
        & (fees["effective_from"] < row["effective_from"])
    ]
    assert len(same), row["fee_id"]
    return same.sort_values("effective_from").iloc[-1]


def test_unfair_fee_changes(planted: Run) -> None:
    _, out, truth = planted
    fees = out.table("fee_schedules")
    assert fees["fee_id"].is_unique
    by_id = fees.set_index("fee_id", drop=False)
    notice = (pd.to_datetime(fees["effective_from"]) - pd.to_datetime(fees["announced_on"])).dt.days
    notice.index = fees["fee_id"]
    kinds = set()
    for r in iter_truth(truth, "conduct.unfair_fee_change"):
        row = by_id.loc[r.subject_id]
        kind = r.note.split(";")[0]
        kinds.add(kind)
        if kind == "excessive_increase":
            assert row["rate_pct"] / _previous(fees, row)["rate_pct"] >= 1.39
            assert notice[r.subject_id] >= 7
        elif kind == "short_notice":
            assert notice[r.subject_id] <= 5
            assert row["rate_pct"] > _previous(fees, row)["rate_pct"]
        elif kind == "disguised_deposit":
            assert row["fee_type"] == "deposit"
            normal = fees[
                (fees["fee_type"] == "deposit")
                & fees["amount_cny"].notna()
                & (fees["merchant_category"] == row["merchant_category"])
                & (fees["fee_id"] != row["fee_id"])
            ]["amount_cny"]
            assert pd.notna(row["rate_pct"]) or row["amount_cny"] >= 5 * normal.median()
        elif kind == "discriminatory":
            cat, _, sub = str(row["merchant_category"]).partition("/")
            assert sub
            base = fees[
                (fees["platform_id"] == row["platform_id"])
                & (fees["merchant_category"] == cat)
                & (fees["fee_type"] == row["fee_type"])
            ]
            assert (row["rate_pct"] > base["rate_pct"] * 1.19).all() and len(base)
        else:  # pragma: no cover
            pytest.fail(kind)
    assert kinds == {"excessive_increase", "short_notice", "disguised_deposit", "discriminatory"}
    for r in iter_truth(truth, "conduct.unfair_fee_change", lookalike=True):
        row = by_id.loc[r.subject_id]
        if r.note == "modest_increase":
            prev = _previous(fees, row)
            col = "rate_pct" if pd.notna(row["rate_pct"]) else "amount_cny"
            assert 1.0 < row[col] / prev[col] <= 1.31 and notice[r.subject_id] >= 30
        elif r.note == "reduction":
            assert row["rate_pct"] < _previous(fees, row)["rate_pct"] and notice[r.subject_id] >= 7
    planted_ids = {r.subject_id for r in iter_truth(truth, "conduct.unfair_fee_change")}
    assert (notice.drop(list(planted_ids)) >= 7).all()


def test_exclusive_dealing(planted: Run) -> None:
    world, out, truth = planted
    ev = out.table("merchant_events")
    m = world.frame("merchants").set_index("merchant_id")
    sr = out.table("search_results")
    sr = sr[~sr["sponsored"]].assign(day=lambda x: _local_day(world, x["ts"]))
    ev = ev.assign(day=_local_day(world, ev["ts"]))
    prods = world.frame("products")
    for r in iter_truth(truth, "conduct.exclusive_dealing"):
        plat = r.subject_id
        start = (
            date.fromisoformat(note_field(r"campaign_start=(\S+);", r.note)) - world.start
        ).days
        closed = note_field(r"rival_stores_closed=([^;]*);", r.note).split(",")
        demoted = note_field(r"demoted=(.*)$", r.note).split(",")
        assert closed != [""] and demoted != [""]
        closes = ev[(ev["event"] == "close") & ev["merchant_id"].isin(closed)]
        assert set(closes["merchant_id"]) == set(closed)
        assert (closes["platform_id"] != plat).all()
        assert (closes["day"] > start).all() and closes["day"].median() - start <= 12
        for mid in closed:  # each closed store belongs to an entity that stays on plat
            ent = m.loc[mid, "entity_id"]
            assert ((m["entity_id"] == ent) & (m["platform_id"] == plat)).any()
            assert pd.notna(m.loc[mid, "closed_on"])
        dem = ev[
            ev["merchant_id"].isin(demoted)
            & ev["event"].isin(["demote", "penalty"])
            & (ev["day"] >= start)
        ]
        assert set(dem["merchant_id"]) == set(demoted) and (dem["platform_id"] == plat).all()
        # exposure: demoted stores appear in fewer of their categories' searches afterwards
        before = after = 0.0
        for mid in demoted:
            cats = set(prods.loc[prods["merchant_id"] == mid, "category"])
            q = sr[(sr["platform_id"] == plat) & sr["query"].isin(cats)]
            first = int(dem.loc[dem["merchant_id"] == mid, "day"].min())
            for part, lo, hi in ((0, -1, start), (1, first, world.days)):
                x = q[(q["day"] > lo) & (q["day"] < hi)] if part == 0 else q[q["day"] >= lo]
                share = (x["merchant_id"] == mid).sum() / max(1, x["query_id"].nunique())
                if part == 0:
                    before += share
                else:
                    after += share
        assert after < 0.9 * before
    # look-alikes keep their lawful property
    for r in iter_truth(truth, "conduct.exclusive_dealing", lookalike=True):
        if r.note.startswith("counterfeit"):
            pen = ev[
                (ev["platform_id"] == r.subject_id)
                & ev["event"].isin(["demote", "penalty"])
                & ev["reason"].fillna("").str.contains("假")
            ]
            assert len(pen)
        elif "fee increase" in r.note:
            stay = r.subject_id
            assert not ev[
                (ev["platform_id"] == stay)
                & ev["event"].isin(["demote", "penalty"])
                & ev["reason"].isin(conduct._VAGUE_DEMOTE)
            ].shape[0]


def _exploded_logit(g: pd.DataFrame) -> np.ndarray:
    """Rank-ordered logit of the organic order on rating, log sales, log price, self-operated."""
    g = g.sort_values(["query_id", "position"])
    x = np.column_stack(
        [
            g["rating"],
            np.log(g["popularity"]),
            np.log(g["price_rel"]),
            g["self_operated"].astype(float),
        ]
    )
    q = pd.factorize(g["query_id"])[0]
    starts = np.r_[0, np.flatnonzero(np.diff(q)) + 1]
    ends = np.r_[starts[1:], len(g)]

    def nll(b: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ b
        total, grad = 0.0, np.zeros_like(b)
        for a, e in zip(starts, ends, strict=True):
            for j in range(a, e - 1):
                w = np.exp(s[j:e] - s[j:e].max())
                p = w / w.sum()
                total -= s[j] - (np.log(w.sum()) + s[j:e].max())
                grad -= x[j] - p @ x[j:e]
        return total, grad

    return np.asarray(minimize(nll, np.zeros(4), jac=True, method="L-BFGS-B").x)


def test_self_preferencing(planted: Run) -> None:
    world, out, truth = planted
    sig = world.info["sku_quality"]
    prod = world.frame("products")[["sku_id", "self_operated"]].merge(sig, on="sku_id")
    sr = out.table("search_results")
    assert not sr.duplicated(["query_id", "position"]).any()
    assert sr["sponsored"].any() and (sr["position"] >= 1).all()
    org = sr[~sr["sponsored"]].merge(prod, on="sku_id")
    coef = {}
    for p, g in org.groupby("platform_id"):
        first = g["query_id"].drop_duplicates().iloc[:400]
        coef[p] = _exploded_logit(g[g["query_id"].isin(first)])[3]
    planted_p = [r.subject_id for r in iter_truth(truth, "conduct.self_preferencing")]
    quality_p = [
        r.subject_id
        for r in iter_truth(truth, "conduct.self_preferencing", lookalike=True)
        if "quality" in r.note
    ]
    for p in planted_p:
        assert coef[p] > 0.3
    for p in quality_p:
        on = prod.merge(world.frame("products")[["sku_id", "platform_id", "category"]], on="sku_id")
        on = on[(on["platform_id"] == p) & on["category"].isin(org["query"])]
        mixed = on.groupby("category")["self_operated"].nunique() == 2
        if (on["self_operated"] & on["category"].map(mixed)).sum() >= 3:  # enough to compare
            assert coef[p] < min(coef[x] for x in planted_p)
        # the look-alike's self-operated offers really are better
        assert (
            on.loc[on["self_operated"], "rating"].mean()
            > on.loc[~on["self_operated"], "rating"].mean()
        )


def test_search_respects_store_windows(planted: Run) -> None:
    world, out, _ = planted
    sr = out.table("search_results")
    m = world.frame("merchants").set_index("merchant_id")
    day = _local_day(world, sr["ts"])
    closed = pd.to_datetime(m["closed_on"].reindex(sr["merchant_id"]).to_numpy())
    close_day = (closed - pd.Timestamp(world.start)).days.to_numpy(dtype=float)
    assert not (day.to_numpy() >= np.nan_to_num(close_day, nan=1e9)).any()
    assert not sr["user_id"].dropna().map(looks_like_phone).any()


def test_deterministic(planted: Run) -> None:
    _, out, truth = planted
    _, out2, truth2 = run(conduct, seed=7)
    for table in ("search_results", "merchant_events", "fee_schedules", "rule_changes"):
        pd.testing.assert_frame_equal(out.table(table), out2.table(table))
    assert [r.__dict__ for r in truth.violations] == [r.__dict__ for r in truth2.violations]
    _, _, other = run(conduct, seed=8)
    assert [r.subject_id for r in other.violations] != [r.subject_id for r in truth.violations]


def test_tables_validate_against_the_standard(tmp_path: Path) -> None:
    problems, rows = validate_lake(conduct, tmp_path)
    assert problems == []
    assert set(rows) == {"search_results", "merchant_events", "fee_schedules", "rule_changes"}
