"""Benchmark: resolving 10^6 ownership edges to ultimate controllers and groups.

Synthesises an ownership table with numpy: groups as random trees (majority equity,
some VIE and board edges, depth up to ~12), minority cross-holdings between groups,
edges that expired, and a few control cycles. Then times building
:class:`fairwatch.structure.ownership.OwnershipGraph`, taking the snapshot of a day
(every entity's controlling parent and ultimate controller at once), resolving control
chains and group turnovers for sample entities, and an effective-ownership query. It
checks the resolution against a naive walk up the parent links for a sample.

    .venv/bin/python benchmarks/bench_ownership.py --edges 1000000
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from datetime import date

import numpy as np
import pandas as pd

from fairwatch.law import default_store
from fairwatch.structure.ownership import OwnershipGraph


def synthesise(edges: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    control_edges = int(edges * 0.8)
    n = control_edges + control_edges // 8  # roots: one group per ~8 entities
    ids = np.array([f"E{i:08d}" for i in range(n)], dtype=object)
    # entity k > roots picks a parent among earlier entities (a random recursive forest)
    roots = n - control_edges
    child = np.arange(roots, n)
    parent = (rng.random(control_edges) * child).astype(np.int64)
    kind = rng.choice(["equity", "vie", "board"], size=control_edges, p=[0.9, 0.07, 0.03])
    share = np.where(kind == "equity", rng.uniform(50.01, 100, control_edges), 0.0)
    voting = np.where(kind == "vie", 100.0, share)
    minority = edges - control_edges - 20
    m_owner = rng.integers(0, n, minority)
    m_owned = rng.integers(0, n, minority)
    m_share = rng.uniform(1, 30, minority)
    frame = pd.DataFrame(
        {
            "owner_id": np.concatenate([ids[parent], ids[m_owner]]),
            "owned_id": np.concatenate([ids[child], ids[m_owned]]),
            "share_pct": np.concatenate([share, m_share]).round(2),
            "voting_pct": np.concatenate([voting, m_share]).round(2),
            "control": np.concatenate([kind, np.full(minority, "equity", dtype=object)]),
            "valid_from": pd.Timestamp("2015-01-01"),
            "valid_to": pd.NaT,
        }
    )
    # some edges expired before the benchmark day
    expired = rng.random(len(frame)) < 0.05
    frame.loc[expired, "valid_to"] = pd.Timestamp("2020-01-01")
    # ten 2-cycles among roots: A controls B and B controls A
    cyc = [
        {
            "owner_id": ids[a],
            "owned_id": ids[b],
            "share_pct": 60.0,
            "voting_pct": 60.0,
            "control": "equity",
            "valid_from": pd.Timestamp("2015-01-01"),
            "valid_to": pd.NaT,
        }
        for i in range(10)
        for a, b in ((2 * i, 2 * i + 1), (2 * i + 1, 2 * i))
    ]
    frame = pd.concat([frame, pd.DataFrame(cyc)], ignore_index=True)
    fin = pd.DataFrame(
        {
            "entity_id": ids[:roots],
            "fiscal_year": 2024,
            "global_turnover_cny": rng.lognormal(20, 2, roots),
            "china_turnover_cny": rng.lognormal(19, 2, roots),
            "market_value_cny": rng.lognormal(21, 2, roots),
        }
    )
    return frame, fin


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t = time.perf_counter()
    own, fin = synthesise(args.edges, args.seed)
    print(f"synthesised {len(own):,} edges in {time.perf_counter() - t:.1f} s")
    law = default_store()
    day = date(2025, 6, 30)

    t0 = time.perf_counter()
    graph = OwnershipGraph(own, financials=fin, law=law)
    t1 = time.perf_counter()
    snap = graph.at(day)
    t2 = time.perf_counter()
    sample = np.random.default_rng(1).choice(snap.ids, 1000, replace=False)
    chains = [snap.control_chain(str(e)) for e in sample]
    t3 = time.perf_counter()
    figures = [graph.group_financials(str(e), 2024, day) for e in sample[:200]]
    t4 = time.perf_counter()
    deepest = max(zip(sample, chains, strict=True), key=lambda ec: len(ec[1]))[0]
    owners = snap.effective_owners(str(deepest))
    t5 = time.perf_counter()

    # cross-check against a naive walk up the parent links
    for e, chain in zip(sample, chains, strict=True):
        top = chain[-1].owner if chain else str(e)
        i = snap.node(str(e))
        assert i is not None
        seen = {i}
        while snap.parent[i] >= 0 and int(snap.parent[i]) not in seen:
            i = int(snap.parent[i])
            seen.add(i)
        naive = str(snap.ids[i])
        if not snap.in_cycle[i]:
            assert naive == top == snap.ultimate_controller(str(e)), (e, naive, top)
    depth = max(len(c) for c in chains)
    reported = sum(1 for f in figures if f.reported)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"| {len(own):,} edges, {len(snap.ids):,} entities | build {t1 - t0:.2f} s | "
        f"snapshot (all ultimate controllers) {t2 - t1:.2f} s | 1,000 control chains "
        f"{t3 - t2:.2f} s (max depth {depth}) | 200 group turnovers {t4 - t3:.2f} s "
        f"({reported} reported) | effective owners of the deepest entity {t5 - t4:.2f} s "
        f"({len(owners)} owners) | peak RSS {peak:,.0f} MB |"
    )
    print(
        f"groups: {len(np.unique(snap.root)):,}; entities in control cycles: "
        f"{int(snap.in_cycle.sum())}; machine: {platform.machine()}, "
        f"{platform.python_version()}, {date.today()}"
    )


if __name__ == "__main__":
    main()
