"""Unit tests of the integrity detectors' graph algorithms (detectors/integrity/graph.py)."""

from __future__ import annotations

import itertools
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml

from fairwatch.detectors.base import Context
from fairwatch.detectors.integrity.graph import (
    Block,
    bursty_clusters,
    column_weights,
    components,
    core,
    fraudar,
    graph_density,
    linked_components,
    null_edge_weight,
    peel,
    registration_waves,
    wave_pvalue,
    weighted_by_column,
)
from fairwatch.detectors.registry import registry
from fairwatch.detectors.run import run_detectors
from fairwatch.engine import connect
from fairwatch.lake import Lake
from fairwatch.law import default_store
from tests.detectors.golden import load_cases, write_case_lake


def _graph(n_rows: int, n_cols: int, edges: list[tuple[int, int]] | np.ndarray) -> sp.csr_matrix:
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    m = sp.csr_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _planted(
    rng: np.random.Generator,
    n_rows: int = 400,
    n_cols: int = 300,
    noise: int = 1200,
    block: tuple[range, range] = (range(20), range(5)),
) -> sp.csr_matrix:
    """Random sparse edges plus a complete block of rows × cols."""
    random_edges = np.column_stack([rng.integers(0, n_rows, noise), rng.integers(0, n_cols, noise)])
    dense = np.array(list(itertools.product(block[0], block[1])))
    return _graph(n_rows, n_cols, np.vstack([random_edges, dense]))


def _density(m: sp.csr_matrix, prior: np.ndarray, rows: list[int], cols: list[int]) -> float:
    """FRAUDAR's g(S) by definition (priors count for rows with an edge in S)."""
    sub = m[rows][:, cols]
    has = np.asarray((sub != 0).sum(axis=1)).ravel() > 0
    return float((prior[rows][has].sum() + sub.sum()) / (len(rows) + len(cols)))


def _best_by_brute_force(m: sp.csr_matrix, prior: np.ndarray, min_rows: int = 1) -> float:
    best = -math.inf
    n_rows, n_cols = m.shape
    for r in range(min_rows, n_rows + 1):
        for rows in itertools.combinations(range(n_rows), r):
            for c in range(1, n_cols + 1):
                for cols in itertools.combinations(range(n_cols), c):
                    best = max(best, _density(m, prior, list(rows), list(cols)))
    return best


# -- column weights -------------------------------------------------------------------------


def test_column_weights_are_one_over_log_degree_plus_five() -> None:
    m = _graph(4, 3, [(0, 0), (1, 0), (2, 0), (0, 1)])
    w = column_weights(m)
    assert w == pytest.approx([1 / math.log(3 + 5), 1 / math.log(1 + 5), 1 / math.log(5)])
    weighted = weighted_by_column(m)
    assert weighted[1, 0] == pytest.approx(1 / math.log(8))
    assert weighted[0, 1] == pytest.approx(1 / math.log(6))


# -- peeling ------------------------------------------------------------------------------------


def test_peel_finds_a_planted_block() -> None:
    rng = np.random.default_rng(1)
    m = weighted_by_column(_planted(rng))
    zeros_r, zeros_c = np.zeros(m.shape[0]), np.zeros(m.shape[1])
    block = peel(m, zeros_r, zeros_c, np.arange(m.shape[0]), np.arange(m.shape[1]))
    assert block is not None
    assert set(block.rows.tolist()) == set(range(20))
    assert set(block.cols.tolist()) == set(range(5))
    assert block.density == pytest.approx(_density(m, zeros_r, list(range(20)), list(range(5))))


@pytest.mark.parametrize("seed", range(6))
def test_peel_is_within_a_factor_two_of_the_optimum(seed: int) -> None:
    """FRAUDAR's guarantee: the greedy block is at least half as dense as the best one."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = 5, 4
    edges = [(r, c) for r in range(n_rows) for c in range(n_cols) if rng.random() < 0.45]
    edges.append((0, 0))
    m = weighted_by_column(_graph(n_rows, n_cols, edges))
    prior = rng.random(n_rows) * rng.integers(0, 2, n_rows)
    block = peel(m, prior, np.zeros(n_cols), np.arange(n_rows), np.arange(n_cols))
    assert block is not None
    best = _best_by_brute_force(m, prior)
    assert block.density >= best / 2 - 1e-12
    assert block.density <= best + 1e-12
    assert block.density == pytest.approx(
        _density(m, prior, block.rows.tolist(), block.cols.tolist())
    )


def test_camouflage_does_not_hide_the_block() -> None:
    """Fraudulent rows that also review popular columns (camouflage) are still found, and
    the block's suspiciousness is exactly what it was without camouflage: column weights
    depend on the column's degree only."""
    rng = np.random.default_rng(2)
    base = _planted(rng)
    popular = np.arange(250, 260)
    camouflage = np.column_stack([np.repeat(np.arange(20), 2), rng.choice(popular, 40)])
    fans = [(r, c) for r in range(100, 400) for c in popular if rng.random() < 0.1]
    plain = weighted_by_column(base)
    m = weighted_by_column(
        _graph(*base.shape, np.vstack([np.column_stack(base.nonzero()), camouflage, fans]))
    )
    z_r, z_c = np.zeros(m.shape[0]), np.zeros(m.shape[1])
    block = peel(m, z_r, z_c, np.arange(m.shape[0]), np.arange(m.shape[1]))
    assert block is not None
    assert set(block.rows.tolist()) == set(range(20))
    assert set(block.cols.tolist()) >= set(range(5))  # plus popular columns they crowd
    rows, cols = list(range(20)), list(range(5))
    assert _density(m, z_r, rows, cols) == pytest.approx(_density(plain, z_r, rows, cols))


def test_peel_respects_the_minimum_number_of_rows() -> None:
    # a 2 x 3 complete block is densest, but at least 4 rows are required
    edges = [(r, c) for r in range(2) for c in range(3)] + [(r, 3) for r in range(2, 6)]
    m = _graph(6, 4, edges)
    z_r, z_c = np.zeros(6), np.zeros(4)
    small = peel(m, z_r, z_c, np.arange(6), np.arange(4))
    assert small is not None and set(small.rows.tolist()) == {0, 1}
    big = peel(m, z_r, z_c, np.arange(6), np.arange(4), min_rows=4)
    assert big is not None and len(big.rows) >= 4
    assert peel(m, z_r, z_c, np.arange(6), np.arange(4), min_rows=7) is None


def test_a_prior_counts_only_with_an_edge_in_the_block() -> None:
    """Suspicious rows without an edge cannot pad a block's density with their prior."""
    edges = [(r, 0) for r in range(5)]
    m = _graph(8, 1, edges)
    prior = np.array([0.1] * 5 + [5.0, 5.0, 5.0])  # rows 5-7: no edge at all
    block = peel(m, prior, np.zeros(1), np.arange(8), np.arange(1), min_rows=5)
    assert block is not None
    assert set(block.rows.tolist()) == set(range(5))
    assert block.density == pytest.approx((5 * 0.1 + 5 * m[0, 0]) / 6)
    assert graph_density(m, prior, np.zeros(1)) == pytest.approx((5 * 0.1 + 5 * m[0, 0]) / 9)


def test_peel_is_deterministic_under_relabelling() -> None:
    rng = np.random.default_rng(3)
    m = weighted_by_column(_planted(rng, block=(range(30, 45), range(10, 14))))
    z_r, z_c = np.zeros(m.shape[0]), np.zeros(m.shape[1])
    first = peel(m, z_r, z_c, np.arange(m.shape[0]), np.arange(m.shape[1]))
    perm_r, perm_c = rng.permutation(m.shape[0]), rng.permutation(m.shape[1])
    shuffled = m[perm_r][:, perm_c]
    second = peel(shuffled, z_r, z_c, np.arange(m.shape[0]), np.arange(m.shape[1]))
    assert first is not None and second is not None
    assert set(perm_r[second.rows].tolist()) == set(first.rows.tolist())
    assert set(perm_c[second.cols].tolist()) == set(first.cols.tolist())
    assert second.density == pytest.approx(first.density)


def test_peel_scales_on_a_sparse_graph_without_a_dense_matrix() -> None:
    rng = np.random.default_rng(4)
    n = 100_000
    m = weighted_by_column(
        _planted(rng, n_rows=n, n_cols=n, noise=300_000, block=(range(50), range(8)))
    )
    z = np.zeros(n)
    block = peel(m, z, z, np.arange(n), np.arange(n))
    assert block is not None and set(block.rows.tolist()) == set(range(50))


# -- core and repeated extraction -------------------------------------------------------------


def test_core_keeps_the_densest_block() -> None:
    rng = np.random.default_rng(5)
    m = weighted_by_column(_planted(rng))
    z_r, z_c = np.zeros(m.shape[0]), np.zeros(m.shape[1])
    whole = peel(m, z_r, z_c, np.arange(m.shape[0]), np.arange(m.shape[1]))
    assert whole is not None
    rows, cols = core(m, z_r, z_c, whole.density)
    assert set(whole.rows.tolist()) <= set(rows.tolist())
    assert set(whole.cols.tolist()) <= set(cols.tolist())
    assert len(rows) < m.shape[0] and len(cols) < m.shape[1]
    on_core = peel(m, z_r, z_c, rows, cols)
    assert on_core is not None and on_core.density == pytest.approx(whole.density)


def test_components_split_the_graph() -> None:
    m = _graph(4, 4, [(0, 0), (1, 0), (2, 2), (3, 3), (2, 3)])
    parts = components(m, np.arange(4), np.arange(4))
    assert [(r.tolist(), c.tolist()) for r, c in parts] == [([0, 1], [0]), ([2, 3], [2, 3])]


def test_fraudar_extracts_blocks_densest_first_until_the_background() -> None:
    rng = np.random.default_rng(6)
    noise = np.column_stack([rng.integers(0, 500, 400), rng.integers(0, 400, 400)])
    big = list(itertools.product(range(0, 25), range(0, 6)))
    small = list(itertools.product(range(100, 112), range(50, 53)))
    m = weighted_by_column(_graph(500, 400, np.vstack([noise, big, small])))
    background = graph_density(m, np.zeros(500), np.zeros(400))
    blocks = fraudar(m, min_density=2 * background, max_blocks=10, min_rows=5)
    assert len(blocks) == 2
    assert set(blocks[0].rows.tolist()) == set(range(25))
    assert set(blocks[1].rows.tolist()) == set(range(100, 112))
    assert blocks[0].density > blocks[1].density >= 2 * background
    assert len(fraudar(m, min_density=2 * background, max_blocks=1, min_rows=5)) == 1


def test_a_screen_sets_ordinary_rows_aside_and_finds_the_block_inside() -> None:
    """A denser block of ordinary rows swallows a suspicious one; the screen rejects it,
    removes its ordinary rows, and the suspicious block is found on its own."""
    ordinary = list(itertools.product(range(0, 40), range(0, 10)))
    suspicious = list(itertools.product(range(40, 48), range(0, 2)))
    m = weighted_by_column(_graph(60, 20, ordinary + suspicious + [(50, 15), (51, 16)]))
    prior = np.zeros(60)
    prior[40:48] = 0.9
    seen: list[Block] = []

    def screen(block: Block) -> np.ndarray | None:
        seen.append(block)
        if prior[block.rows].mean() >= 0.5:
            return None
        return prior[block.rows] < 0.5

    blocks = fraudar(m, prior, min_density=0.5, max_blocks=10, min_rows=5, screen=screen)
    assert set(seen[0].rows.tolist()) >= set(range(40))  # the ordinary block came first
    assert len(blocks) == 1 and set(blocks[0].rows.tolist()) == set(range(40, 48))


def test_null_edge_weight_follows_the_degrees() -> None:
    m = weighted_by_column(_graph(3, 2, [(0, 0), (1, 0), (2, 1)]))
    w0 = 1 / math.log(2 + 5)
    # rows 0, 1 (degree 1 each) x column 0 (degree 2), 3 edges in all
    assert null_edge_weight(m, [0, 1], [0]) == pytest.approx(2 * (1 * 2 / 3) * w0)


# -- linked accounts and registration bursts ----------------------------------------------------


def test_linked_components_follow_chains_of_shared_identifiers() -> None:
    # 0-1 share id 0, 1-2 share id 1, 3-4 share id 2, 5 alone
    entity = np.array([0, 1, 1, 2, 3, 4, 5])
    ident = np.array([0, 0, 1, 1, 2, 2, 3])
    labels = linked_components(entity, ident, 6)
    assert labels.tolist() == [0, 0, 0, 1, 1, 2]


def test_registration_waves_take_the_densest_windows_first() -> None:
    hour = 3600
    times = np.array([0, 10, 20, 30, 40, 100 * hour, 100 * hour + 5, 100 * hour + 9, 300 * hour])
    waves = registration_waves(times, 24 * hour, 3)
    assert [w.tolist() for w in waves] == [[0, 1, 2, 3, 4], [5, 6, 7]]
    assert registration_waves(times, 24 * hour, 6) == []


def test_wave_pvalue_compares_with_the_organic_rate() -> None:
    day = 86400.0
    assert wave_pvalue(8, 0, 0.0, day) == 0.0  # nothing organic: any burst stands out
    spread = wave_pvalue(3, 100, 100 * day, day)  # ~1 a day: three in a day is common
    farm = wave_pvalue(12, 100, 100 * day, day)
    assert spread == pytest.approx(1.0)
    assert farm < 1e-4
    assert wave_pvalue(10, 100, 100 * day, day) > farm


def _links(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "registered_at", "kind", "value"])
    frame.insert(0, "platform_id", "p1")
    frame["registered_at"] = pd.to_datetime(frame["registered_at"], utc=True)
    return frame


def test_bursty_clusters_separate_a_farm_from_the_network_it_hides_in() -> None:
    start = pd.Timestamp("2025-01-01", tz="UTC")
    rows = [
        (f"a{i:02d}", str(start + pd.Timedelta(days=3 * i)), "ip_prefix", "nat") for i in range(40)
    ]
    farm_at = start + pd.Timedelta(days=31, hours=12)
    rows += [
        (f"z{i}", str(farm_at + pd.Timedelta(minutes=i)), "ip_prefix", "nat") for i in range(8)
    ]
    rows += [
        (f"z{i}", str(farm_at + pd.Timedelta(minutes=i)), "device_hash", "d") for i in range(8)
    ]
    clusters = bursty_clusters(_links(rows), 24, 6, 0.05)
    assert len(clusters) == 1
    farm = clusters[0]
    assert farm.members == [f"z{i}" for i in range(8)]
    assert farm.linked == 48
    assert farm.shared == {"device_hash": 1, "ip_prefix": 1}
    assert farm.qvalue <= 0.05 and farm.burst_hours == pytest.approx(7 / 60)


def test_bursty_clusters_ignore_households_and_spread_out_networks() -> None:
    start = pd.Timestamp("2025-01-01", tz="UTC")
    home = [(f"h{i}", str(start + pd.Timedelta(hours=i)), "device_hash", "home") for i in range(3)]
    campus = [
        (f"s{i:02d}", str(start + pd.Timedelta(days=2 * i)), "ip_prefix", "campus")
        for i in range(50)
    ]
    assert bursty_clusters(_links(home + campus), 24, 6, 0.05) == []


# -- the detector's evidence -----------------------------------------------------------------------


def test_review_ring_evidence_ranks_accounts_and_lists_reviews(tmp_path: Path) -> None:
    case = next(
        c for code, c in load_cases() if code == "FW301" and c["name"].startswith("a ring of")
    )
    tables = yaml.safe_load(yaml.safe_dump(case["tables"]))
    # one ring account wrote no camouflage review: it is the most suspicious
    tables["reviews"] = [r for r in tables["reviews"] if r.get("review_id") != "x{i}"] + [
        {**r, "_repeat": 7, "review_id": "x{n}", "user_id": "r{n}"}
        for r in case["tables"]["reviews"]
        if r.get("review_id") == "x{i}"
    ]
    lake = write_case_lake(tmp_path / "lake", tables)
    eng = connect(Lake(lake).table_files(), "duckdb")
    try:
        ctx = Context(eng, date(2025, 6, 30), "t", default_store())
        runs, findings = run_detectors(ctx, [registry().get("FW301")])
    finally:
        eng.close()
    assert runs[0].status == "ok", runs[0].error
    [finding] = findings
    accounts, reviews = finding["evidence"]
    assert accounts["table"] == "accounts" and reviews["table"] == "reviews"
    assert accounts["ids"][0] == "r0" and sorted(accounts["ids"]) == [f"r{i}" for i in range(8)]
    assert accounts["scores"] == sorted(accounts["scores"], reverse=True)
    assert accounts["scores"][0] > accounts["scores"][1]
    assert all(0 <= s <= 1 for s in accounts["scores"])
    assert reviews["ids"] == [f"f{i}" for i in range(8)]
    stats = finding["statistics"]
    assert stats["mean_signals"]["registration_burst"] == 1.0
    assert stats["mean_signals"]["no_order"] == 1.0
    assert stats["density_lift"] > 1 and stats["null_edge_lift"] > 1
