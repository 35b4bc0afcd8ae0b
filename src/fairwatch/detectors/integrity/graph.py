"""Sparse-graph algorithms of the integrity detectors (FW301, FW302).

Everything here works on ``scipy.sparse`` matrices and numpy arrays; no dense adjacency
matrix is ever built, so the cost grows with the number of edges.

* :func:`fraudar` — dense-block detection on a bipartite graph (rows × columns) with
  FRAUDAR's density metric (Hooi, Song, Beutel, Shah, Shin, Faloutsos: *FRAUDAR:
  Bounding Graph Fraud in the Face of Camouflage*, KDD 2016): the greedy peeling that
  repeatedly removes the node whose removal costs the least suspiciousness, keeping the
  intermediate set of highest density ``g(S) = f(S) / |S|``, where ``f(S)`` adds the
  nodes' prior suspiciousness and the weights of the edges inside ``S``. Column weights
  ``1 / log(degree + c)`` (:func:`column_weights`) make edges into popular columns cheap,
  so camouflage (fraudsters also reviewing popular stores) cannot hide a block.
* :func:`linked_components` — connected components of entities linked by shared
  identifiers (the entity × identifier bipartite graph, ``scipy.sparse.csgraph``).
* :func:`registration_waves` and :func:`wave_pvalue` — the densest windows of a group's
  registration times and how surprising each is given the group's organic spread.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy import stats
from scipy.sparse.csgraph import connected_components

from fairwatch.detectors.stats import bh_qvalues

#: FRAUDAR's column-weight constant ``c`` in ``1 / log(degree + c)`` (the paper's value).
#: A property of the method, not a threshold: it keeps weights finite for degree-1
#: columns and decreasing in the degree.
FRAUDAR_LOG_OFFSET = 5.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


# -- FRAUDAR ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A dense block: row and column indices of the input matrix, its density and mass."""

    rows: IntArray
    cols: IntArray
    density: float
    mass: float


def column_weights(matrix: sp.spmatrix, offset: float = FRAUDAR_LOG_OFFSET) -> FloatArray:
    """FRAUDAR's camouflage-resistant column weights ``1 / log(degree + offset)``.

    The degree is the number of distinct rows with an edge into the column.
    """
    degree = np.asarray((sp.csc_matrix(matrix) != 0).sum(axis=0)).ravel().astype(float)
    return 1.0 / np.log(degree + offset)


def weighted_by_column(matrix: sp.spmatrix, offset: float = FRAUDAR_LOG_OFFSET) -> sp.csr_matrix:
    """A copy of ``matrix`` whose every edge weighs its column's :func:`column_weights`."""
    csr = sp.csr_matrix(matrix, dtype=float, copy=True)
    csr.sum_duplicates()
    csr.data = column_weights(csr, offset)[csr.indices]
    return csr


def submatrix(csr: sp.csr_matrix, rows: IntArray, cols: IntArray) -> sp.csr_matrix:
    """``csr[rows][:, cols]`` (rows in the given order, columns distinct), built straight
    from the CSR arrays: scipy's fancy indexing validates and copies twice per call,
    which dominates when the peeling takes thousands of small sub-graphs."""
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    starts = csr.indptr[rows].astype(np.int64)
    lengths = csr.indptr[rows + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    picked = offsets + np.arange(total, dtype=np.int64)
    indices = csr.indices[picked]
    order = np.argsort(cols, kind="stable")
    ranked = cols[order]
    pos = np.searchsorted(ranked, indices)
    pos_ok = np.minimum(pos, max(len(ranked) - 1, 0))
    keep = (pos < len(ranked)) & (ranked[pos_ok] == indices) if len(ranked) else pos < 0
    row_of = np.repeat(np.arange(len(rows)), lengths)[keep]
    counts = np.bincount(row_of, minlength=len(rows))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    out = sp.csr_matrix(
        (csr.data[picked[keep]], order[pos_ok[keep]], indptr), shape=(len(rows), len(cols))
    )
    out.sort_indices()
    return out


def core(
    csr: sp.csr_matrix,
    row_prior: FloatArray,
    col_prior: FloatArray,
    threshold: float,
    rows: IntArray | None = None,
    cols: IntArray | None = None,
) -> tuple[IntArray, IntArray]:
    """The rows and columns left after repeatedly removing every node whose priority is
    below ``threshold`` (vectorised: one sparse product per side and round), optionally
    starting from the sub-graph of ``rows`` and ``cols``.

    A node's priority is what removing it takes from ``f``: its prior (counted only
    while it has an edge left) plus the weights of its edges to nodes still present.
    Every set whose nodes all have at least ``threshold`` priority inside it survives —
    in particular the densest set of any part of the graph, when its density reaches
    ``threshold`` (removing a node of lower priority would make it denser) — so
    :func:`peel` finds the same blocks on the core as on the whole graph.
    """
    row_idx = np.arange(csr.shape[0]) if rows is None else np.asarray(rows, np.int64)
    col_idx = np.arange(csr.shape[1]) if cols is None else np.asarray(cols, np.int64)
    sub = csr if rows is None and cols is None else submatrix(csr, row_idx, col_idx)
    sub_t = sub.T.tocsr()
    rp, cp = row_prior[row_idx], col_prior[col_idx]
    alive_r = np.ones(len(row_idx), bool)
    alive_c = np.ones(len(col_idx), bool)
    while True:
        edges_r = sub @ alive_c.astype(float)
        edges_c = sub_t @ alive_r.astype(float)
        p_rows = np.where(edges_r > 0, rp + edges_r, 0.0)
        p_cols = np.where(edges_c > 0, cp + edges_c, 0.0)
        drop_r = alive_r & (p_rows < threshold)
        drop_c = alive_c & (p_cols < threshold)
        if not drop_r.any() and not drop_c.any():
            return row_idx[alive_r], col_idx[alive_c]
        alive_r &= ~drop_r
        alive_c &= ~drop_c


def components(
    csr: sp.csr_matrix, rows: IntArray, cols: IntArray
) -> list[tuple[IntArray, IntArray]]:
    """Connected components of the sub-graph of ``rows`` and ``cols`` (each as the rows
    and columns it holds), ordered by their smallest row; isolated nodes are left out."""
    sub = submatrix(csr, rows, cols)
    nr, nc = len(rows), len(cols)
    graph = sp.bmat([[None, sub], [sub.T, None]], format="csr") if nr and nc else None
    if graph is None:
        return []
    _, labels = connected_components(graph, directed=False)
    degree = np.diff(graph.indptr)
    out = []
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    for members in np.split(order, bounds):
        members = members[degree[members] > 0]
        r = members[members < nr]
        c = members[members >= nr] - nr
        if len(r) and len(c):
            out.append((rows[np.sort(r)], cols[np.sort(c)]))
    return sorted(out, key=lambda rc: int(rc[0][0]))


def peel(
    csr: sp.csr_matrix,
    row_prior: FloatArray,
    col_prior: FloatArray,
    rows: IntArray,
    cols: IntArray,
    min_rows: int = 1,
) -> Block | None:
    """FRAUDAR's greedy peeling on the sub-graph of ``rows`` and ``cols``.

    Removes, one at a time, the node of least priority (a binary heap with lazy
    deletion; ties go to the lower index, so the result is deterministic), updates its
    neighbours' priorities (a node left without edges no longer counts its prior), and
    returns the intermediate set of highest density among those with at least
    ``min_rows`` rows and one column (``None`` if there is none).
    """
    row_idx = np.asarray(rows, np.int64)
    col_idx = np.asarray(cols, np.int64)
    nr, nc = len(row_idx), len(col_idx)
    if nr < min_rows or nc == 0:
        return None
    sub = submatrix(csr, row_idx, col_idx)
    sub.sum_duplicates()
    sub_c = sub.tocsc()
    degree_a = np.concatenate([np.diff(sub.indptr), np.diff(sub_c.indptr)]).astype(np.int64)
    prior_a = np.concatenate([row_prior[row_idx], col_prior[col_idx]])
    prior_a = np.where(degree_a > 0, prior_a, 0.0)
    prio_a = prior_a + np.concatenate(
        [np.asarray(sub.sum(axis=1)).ravel(), np.asarray(sub.sum(axis=0)).ravel()]
    )
    n = nr + nc
    # The loop runs on Python lists: far faster than numpy item access one at a time.
    # Node ids: rows 0..nr-1, columns nr..n-1; adjacency of both sides in one CSR.
    indptr = np.concatenate([sub.indptr[:-1], sub_c.indptr + sub.nnz]).tolist()
    neighbours = np.concatenate([sub.indices + nr, sub_c.indices]).tolist()
    weights = np.concatenate([sub.data, sub_c.data]).tolist()
    prio: list[float] = prio_a.tolist()
    prior: list[float] = prior_a.tolist()
    degree: list[int] = degree_a.tolist()
    mass = float(prior_a.sum() + sub.data.sum())
    removed = bytearray(n)
    heap: list[tuple[float, int]] = [(p, i) for i, p in enumerate(prio)]
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    left_r, left_c, size = nr, nc, n
    best_density, best_step, best_mass = -math.inf, -1, 0.0
    if left_r >= min_rows and left_c >= 1:
        best_density, best_step, best_mass = mass / size, 0, mass
    order: list[int] = []
    while heap and size:
        p, v = pop(heap)
        if removed[v] or p != prio[v]:
            continue
        removed[v] = 1
        order.append(v)
        mass -= p
        size -= 1
        if v < nr:
            left_r -= 1
        else:
            left_c -= 1
        for k in range(indptr[v], indptr[v + 1]):
            u = neighbours[k]
            if removed[u]:
                continue
            pu = prio[u] - weights[k]
            degree[u] -= 1
            if degree[u] == 0:  # no edge left: its prior no longer counts
                pu -= prior[u]
                mass -= prior[u]
            prio[u] = pu
            push(heap, (pu, u))
        if size and left_r >= min_rows and left_c >= 1 and mass / size > best_density:
            best_density, best_step, best_mass = mass / size, len(order), mass
    if best_step < 0:
        return None
    keep = np.ones(n, bool)
    keep[np.asarray(order[:best_step], dtype=np.int64)] = False
    return Block(
        rows=row_idx[np.flatnonzero(keep[:nr])],
        cols=col_idx[np.flatnonzero(keep[nr:])],
        density=float(best_density),
        mass=float(best_mass),
    )


def graph_density(csr: sp.csr_matrix, row_prior: FloatArray, col_prior: FloatArray) -> float:
    """``g(V)``: the density of the whole graph (the background a block is compared with);
    priors count for nodes with at least one edge."""
    n = csr.shape[0] + csr.shape[1]
    if n == 0:
        return 0.0
    has_r = np.diff(csr.indptr) > 0
    has_c = np.bincount(csr.indices, minlength=csr.shape[1]) > 0
    return float((row_prior[has_r].sum() + col_prior[has_c].sum() + csr.sum()) / n)


def fraudar(
    csr: sp.csr_matrix,
    row_prior: FloatArray | None = None,
    col_prior: FloatArray | None = None,
    *,
    min_density: float,
    max_blocks: int,
    min_rows: int = 1,
    screen: Callable[[Block], BoolArray | None] | None = None,
) -> list[Block]:
    """Blocks of density at least ``min_density``, densest first.

    ``csr`` holds the (already weighted) edges, rows × columns. The graph is first cut
    to its :func:`core` at ``min_density`` (every qualifying block lies inside it) and
    split into connected components; FRAUDAR's :func:`peel` runs on each. The densest
    block found is taken out — its rows and columns removed — and only the component it
    came from is cut to its core again, split and peeled again; and so on until no block
    reaches ``min_density`` or ``max_blocks`` blocks have been examined. This is
    FRAUDAR's repeated extraction, done per component so that a block costs the work of
    its own component only.

    ``screen``, when given, examines each block before it is taken: ``None`` accepts
    it; a boolean mask over ``block.rows`` rejects it and removes only the masked rows
    (their columns stay), so that, e.g., ordinary accounts of a popular store's dense
    block are set aside while suspicious accounts that peeling swept into it can still
    form their own block (a rejection that sets nothing aside ends the search in that
    component). Only accepted blocks are returned.
    """
    n_rows, n_cols = csr.shape
    rp = np.zeros(n_rows) if row_prior is None else np.asarray(row_prior, dtype=float)
    cp = np.zeros(n_cols) if col_prior is None else np.asarray(col_prior, dtype=float)
    csr = sp.csr_matrix(csr)
    candidates: list[tuple[float, int, Block, IntArray, IntArray]] = []
    seq = 0

    def search(rows: IntArray, cols: IntArray) -> None:
        nonlocal seq
        for comp_rows, comp_cols in components(csr, rows, cols):
            if len(comp_rows) < min_rows:
                continue
            block = peel(csr, rp, cp, *_tight_core(comp_rows, comp_cols), min_rows)
            if block is not None and block.density >= min_density:
                heapq.heappush(candidates, (-block.density, seq, block, comp_rows, comp_cols))
                seq += 1

    def _tight_core(rows: IntArray, cols: IntArray) -> tuple[IntArray, IntArray]:
        """The component cut to its core at the density of its own densest core found so
        far (a lower bound on its best block), raised until it no longer rises: the
        component's densest block lies inside, and peeling gets much less to do."""
        bound = min_density
        while True:
            r, c = core(csr, rp, cp, bound, rows, cols)
            if len(r) < min_rows or not len(c):
                return rows, cols
            density = _density(csr, rp, cp, r, c)
            if density <= bound * (1 + 1e-9):
                return r, c
            rows, cols, bound = r, c, density

    search(*core(csr, rp, cp, min_density))
    blocks: list[Block] = []
    examined = 0
    while candidates and examined < max_blocks:
        _, _, block, comp_rows, comp_cols = heapq.heappop(candidates)
        examined += 1
        drop = screen(block) if screen is not None else None
        if drop is None:
            blocks.append(block)
            rows = np.setdiff1d(comp_rows, block.rows, assume_unique=True)
            cols = np.setdiff1d(comp_cols, block.cols, assume_unique=True)
        else:
            rows = np.setdiff1d(comp_rows, block.rows[drop], assume_unique=True)
            cols = comp_cols
            if len(rows) == len(comp_rows):  # nothing set aside: the block cannot change
                continue
        if len(rows) >= min_rows and len(cols):
            search(*core(csr, rp, cp, min_density, rows, cols))
    return blocks


def _density(
    csr: sp.csr_matrix, row_prior: FloatArray, col_prior: FloatArray, rows: IntArray, cols: IntArray
) -> float:
    """Density of the set of ``rows`` and ``cols`` (priors of nodes with an edge in it)."""
    sub = submatrix(csr, rows, cols)
    has_r = np.diff(sub.indptr) > 0
    has_c = np.bincount(sub.indices, minlength=len(cols)) > 0
    mass = row_prior[rows][has_r].sum() + col_prior[cols][has_c].sum() + sub.sum()
    return float(mass / (len(rows) + len(cols)))


def null_edge_weight(
    csr: sp.csr_matrix, rows: Sequence[int] | IntArray, cols: Sequence[int] | IntArray
) -> float:
    """Expected weight of the edges between ``rows`` and ``cols`` if the graph's edges
    were placed at random with the same degrees (Chung–Lu: an edge between ``i`` and
    ``j`` with probability ``min(1, d_i d_j / m)``), each weighing its column's weight.
    """
    binary = csr.copy()
    binary.data = np.ones_like(binary.data)
    m = float(binary.sum())
    if m == 0:
        return 0.0
    d_rows = np.asarray(binary.sum(axis=1)).ravel()[np.asarray(rows, dtype=np.int64)]
    csc = csr.tocsc()
    cols_ = np.asarray(cols, dtype=np.int64)
    d_cols = np.diff(csc.indptr)[cols_].astype(float)
    w_cols = np.array(
        [csc.data[csc.indptr[j]] if csc.indptr[j + 1] > csc.indptr[j] else 0.0 for j in cols_]
    )
    p = np.minimum(1.0, np.outer(d_rows, d_cols) / m)
    return float((p * w_cols[None, :]).sum())


# -- linked accounts ------------------------------------------------------------------------------


def linked_components(entity: IntArray, identifier: IntArray, n_entities: int) -> IntArray:
    """Component label of each entity in the entity × identifier bipartite graph.

    ``entity[k]`` and ``identifier[k]`` (0-based codes) are the k-th link; entities that
    share an identifier, directly or through a chain, get the same label. Labels are
    numbered in order of each component's smallest entity code.
    """
    n_ids = int(identifier.max()) + 1 if len(identifier) else 0
    n = n_entities + n_ids
    graph = sp.coo_matrix(
        (np.ones(len(entity)), (entity, identifier + n_entities)), shape=(n, n)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    labels = labels[:n_entities]
    # renumber by first appearance so labels do not depend on identifier codes
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[np.searchsorted(np.unique(labels), labels)]


def registration_waves(times: IntArray, window: int, min_count: int) -> list[IntArray]:
    """The densest windows of registration ``times`` (seconds), densest first.

    Takes the window ``[t, t + window]`` holding the most times (the earliest such
    window on a tie), removes its members and repeats while a window holds at least
    ``min_count``. Returns the positions (into ``times``) of each wave's members.
    """
    order = np.argsort(times, kind="stable")
    left = order.copy()
    waves: list[IntArray] = []
    while len(left) >= min_count:
        t = times[left]
        ends = np.searchsorted(t, t + window, side="right")
        counts = ends - np.arange(len(t))
        i = int(np.argmax(counts))
        if counts[i] < min_count:
            break
        waves.append(np.sort(left[i : ends[i]]))
        left = np.concatenate([left[:i], left[ends[i] :]])
    return waves


def wave_pvalue(count: int, others: int, span: float, window: float) -> float:
    """How surprising ``count`` registrations within ``window`` are, given the group's
    ``others`` registrations spread over ``span`` (same unit as ``window``).

    The organic rate is ``others / span``; the expected number in one window is
    ``lambda = others * window / max(span, window)``. The p-value is the Poisson tail
    ``P(X >= count)`` scan-corrected for the ``span / window`` windows one could have
    looked at (a Bonferroni bound on the scan statistic), capped at 1. A group with no
    registration outside its waves has no organic rate: ``lambda = 0``, p = 0.
    """
    lam = others * window / max(span, window)
    windows = max(1.0, span / window)
    return float(min(1.0, windows * stats.poisson.sf(count - 1, lam)))


@dataclass(frozen=True)
class LinkedCluster:
    """Accounts of one platform linked by shared identifiers and registered in bursts."""

    platform_id: str
    members: list[str]
    linked: int
    first_registered: pd.Timestamp
    last_registered: pd.Timestamp
    burst_hours: float
    pvalue: float
    qvalue: float
    expected_in_window: float
    shared: dict[str, int]
    largest_share: float


def bursty_clusters(
    links: pd.DataFrame, window_hours: float, min_accounts: int, fdr_q: float
) -> list[LinkedCluster]:
    """Clusters of linked accounts whose registrations come in bursts.

    ``links`` has one row per (``platform_id``, ``user_id``, ``kind``, ``value``) where
    the identifier value is shared by at least two accounts of the platform, with the
    account's ``registered_at``. Accounts are grouped into connected components per
    platform (:func:`linked_components`); in each component of at least
    ``min_accounts`` accounts the registration waves (:func:`registration_waves`) of at
    least ``min_accounts`` within ``window_hours`` are tested against the component's
    other registrations (:func:`wave_pvalue`). Benjamini–Hochberg q-values are taken
    across all waves; a component's cluster is the union of its waves with q at most
    ``fdr_q`` (the members registered in bursts; the others stay out). The cluster's
    p- and q-value are those of its strongest wave.
    """
    if links.empty:
        return []
    links = links.dropna(subset=["registered_at"]).sort_values(
        ["platform_id", "user_id", "kind", "value"], kind="stable"
    )
    links = links.drop_duplicates(["platform_id", "user_id", "kind", "value"])
    accounts = links.drop_duplicates(["platform_id", "user_id"])[
        ["platform_id", "user_id", "registered_at"]
    ].reset_index(drop=True)
    key = pd.MultiIndex.from_frame(accounts[["platform_id", "user_id"]])
    entity = key.get_indexer(pd.MultiIndex.from_frame(links[["platform_id", "user_id"]]))
    ident_codes, _ = pd.factorize(
        pd.MultiIndex.from_frame(links[["platform_id", "kind", "value"]]), sort=True
    )
    labels = linked_components(
        entity.astype(np.int64), np.asarray(ident_codes, np.int64), len(accounts)
    )
    reg = pd.to_datetime(accounts["registered_at"], utc=True)
    seconds = epoch_seconds(reg)
    window = round(window_hours * 3600)
    sizes = np.bincount(labels)
    by_label = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    # (component members, wave members, p, expected count in a window)
    waves: list[tuple[IntArray, IntArray, float, float]] = []
    for label in np.flatnonzero(sizes >= min_accounts):
        members = by_label[starts[label] : starts[label + 1]]
        t = seconds[members]
        found = registration_waves(t, window, min_accounts)
        others = len(members) - sum(len(w) for w in found)
        span = float(t.max() - t.min())
        lam = others * window / max(span, window)
        for w in found:
            waves.append((members, members[w], wave_pvalue(len(w), others, span, window), lam))
    if not waves:
        return []
    qvalues = bh_qvalues([p for _, _, p, _ in waves])
    kept: dict[int, list[int]] = {}
    for k, (members, _, _, _) in enumerate(waves):
        if qvalues[k] <= fdr_q:
            kept.setdefault(int(members[0]), []).append(k)
    link_order = np.argsort(entity, kind="stable")
    link_starts = np.concatenate([[0], np.cumsum(np.bincount(entity, minlength=len(accounts)))])
    out: list[LinkedCluster] = []
    for ks in kept.values():
        members = waves[ks[0]][0]
        chosen = np.sort(np.concatenate([waves[k][1] for k in ks]))
        best = min(ks, key=lambda k: (waves[k][2], -len(waves[k][1]), k))
        times = reg.iloc[chosen]
        rows = np.concatenate([link_order[link_starts[e] : link_starts[e + 1]] for e in chosen])
        mine = links.iloc[rows]
        per_value = mine.groupby(["kind", "value"], sort=True)["user_id"].nunique()
        per_value = per_value[per_value >= 2]
        shared = {str(k): int(v) for k, v in per_value.groupby(level="kind").size().items()}
        out.append(
            LinkedCluster(
                platform_id=str(accounts["platform_id"].iloc[int(chosen[0])]),
                members=sorted(accounts["user_id"].iloc[chosen].astype(str)),
                linked=len(members),
                first_registered=times.min(),
                last_registered=times.max(),
                burst_hours=max(_span(seconds[waves[k][1]]) for k in ks) / 3600,
                pvalue=float(waves[best][2]),
                qvalue=float(qvalues[best]),
                expected_in_window=float(waves[best][3]),
                shared=shared,
                largest_share=float(per_value.max()) / len(chosen) if len(per_value) else 0.0,
            )
        )
    return sorted(out, key=lambda c: (c.platform_id, c.members[0]))


def epoch_seconds(values: pd.Series) -> IntArray:
    """Seconds since 1970-01-01 UTC of timestamps (naive ones are taken as UTC)."""
    ts = pd.to_datetime(values, utc=True)
    return np.asarray((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1), np.int64)


def _span(seconds: IntArray) -> float:
    return float(seconds.max() - seconds.min()) if len(seconds) else 0.0
