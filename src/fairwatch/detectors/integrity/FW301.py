"""FW301 integrity.review_ring."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from numpy.typing import NDArray

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.integrity.graph import (
    Block,
    bursty_clusters,
    column_weights,
    fraudar,
    graph_density,
    null_edge_weight,
    submatrix,
)
from fairwatch.engine import local_date

#: The account signals combined into an account's suspicion (weights: a parameter).
SIGNALS = ("registration_burst", "shared_identifier", "no_order", "rating_deviation")
#: Identifier columns linking accounts: in ``accounts`` and, at review time, ``reviews``.
ACCOUNT_IDENTIFIERS = ("device_hash", "phone_hash", "ip_prefix")
REVIEW_IDENTIFIERS = ("device_hash", "ip_prefix")
SECONDS_PER_HOUR = 3600
LINK_COLUMNS = ("platform_id", "user_id", "registered_at", "kind", "value")


def _rating_span() -> float:
    """Width of the standard's rating scale (``reviews.rating``: 1..5 gives 4)."""
    from fairwatch.contract import STANDARD

    scale = STANDARD.table("reviews").column("rating").range
    assert scale is not None and scale.min is not None and scale.max is not None
    return float(scale.max - scale.min)


@dataclass
class _Ring:
    """What the blocks say about one store: its ring accounts and the strongest block."""

    platform_id: str
    merchant_id: str
    accounts: set[int] = field(default_factory=set)
    lockstep: int = 0
    block: dict[str, Any] = field(default_factory=dict)
    columns: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


class ReviewRing(Detector):
    """A store whose reviews come from a ring of coordinated, suspicious accounts.

    **What it detects**

    Stores (merchants) that benefit from fabricated reviews: a group of accounts that
    review the same stores in the same short windows (lockstep), forming a block of
    the account × store-day review graph far denser than the rest, and whose accounts
    look fake — registered in a burst together with accounts sharing their device,
    phone or network, sharing devices or networks with the other reviewers of the
    store, reviewing without orders, rating above everyone else. Rings that also
    review popular stores to look normal (camouflage) are still found.

    **Why it matters**

    Fabricating user reviews deceives consumers and is prohibited to operators of
    e-commerce (E-Commerce Law art. 17) and as false commercial publicity or organised
    fake transactions (AUCL 2019 art. 8; the 2025 revision; SAMR Interim Provisions
    on Anti-Unfair Competition on the Internet: fake reviews and rewarded reviews).

    **Method**

    The engine reduces reviews to one edge per account, store and local day (count,
    reviews without ``order_id``, rating sum, first time), and lists the identifier
    values (``device_hash``, ``phone_hash``, ``ip_prefix`` of ``accounts``;
    ``device_hash``, ``ip_prefix`` of ``reviews``) held by at least two accounts of a
    platform. Each account gets a suspicion score in 0..1, the weighted mean
    (``cn.detection.integrity.review_ring.signal_weights``) of four signals:
    *registration_burst* (it belongs to a cluster of linked accounts registered in a
    burst, FW302's test with ``cn.detection.integrity.burst_window_hours`` and
    ``min_cluster_accounts``), *shared_identifier* (``1 − 1/k`` for the largest number
    ``k`` of reviewers of one of its stores holding one of its identifiers),
    *no_order* (how much more often than the platform's reviews its reviews lack an
    order) and *rating_deviation* (its mean rating above the store's other reviews,
    over the width of the rating scale). Per platform, FRAUDAR (Hooi et al., KDD 2016)
    runs on the bipartite graph accounts × (store, local day): edges weigh
    ``1 / log(degree + 5)`` of their store-day, accounts carry their suspicion as node
    prior, and greedy peeling with a priority queue finds the block of highest density
    ``g = f / |S|``. Blocks are extracted repeatedly (a found block is removed) while
    the density is at least ``cn.detection.integrity.review_ring.min_density_lift``
    times the density of the platform's whole graph, up to
    ``cn.detection.integrity.review_ring.max_blocks``; a core of the graph is cut first
    with the same bound, which provably keeps every such block. A block is a ring when
    it has at least ``cn.detection.integrity.review_ring.min_ring_accounts`` accounts
    whose mean suspicion reaches ``cn.detection.integrity.review_ring.min_suspicion``.
    A store of a ring's block is reported when at least ``min_ring_accounts`` of the
    ring's accounts reviewed it within one window of
    ``cn.detection.integrity.review_ring.lockstep_window_hours`` (CopyCatch's lockstep).
    The statistics give the ring's size, its reviews and share of the store's
    reviews, the block's density against the background and against a Chung–Lu null
    with the same degrees, the mean signals; evidence lists the ring's accounts ranked
    by score (suspicion combined with the share of the account's reviews inside the
    block) and the ring's reviews of the store.

    **Known limitations**

    A ring of fewer accounts than the minimum, or one spreading its reviews over
    weeks, is not dense in store-days and is missed. Accounts bought from real people
    (old accounts on their own devices, with real orders) carry no account signal and
    are found only through lockstep density, which must then beat the suspicion bar
    alone. A store cannot be told apart from a competitor who buys it fake praise to
    get it punished ("reverse brushing"); the finding says who benefits, not who paid.
    """

    code = "FW301"
    name = "integrity.review_ring"
    family = "integrity.fake_reviews"
    legal_basis = (
        "cn.ecommerce_law.art17",
        "cn.aucl2019.art8",
        "cn.aucl2025",
        "cn.online_unfair_competition_provisions",
    )
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.integrity.burst_window_hours",
        "cn.detection.integrity.min_cluster_accounts",
        "cn.detection.integrity.review_ring.min_ring_accounts",
        "cn.detection.integrity.review_ring.lockstep_window_hours",
        "cn.detection.integrity.review_ring.min_density_lift",
        "cn.detection.integrity.review_ring.max_blocks",
        "cn.detection.integrity.review_ring.min_suspicion",
        "cn.detection.integrity.review_ring.signal_weights",
        "cn.detection.integrity.review_ring.severity_fake_share_pct",
    )
    inputs = {
        "reviews": (
            "review_id",
            "ts",
            "platform_id",
            "user_id",
            "merchant_id",
            "rating",
            "order_id",
            "device_hash",
            "ip_prefix",
        ),
        "accounts": (
            "user_id",
            "platform_id",
            "registered_at",
            "device_hash",
            "phone_hash",
            "ip_prefix",
        ),
    }
    cost = 5.5

    # -- engine ------------------------------------------------------------------------

    def summarize(self, ctx: Context) -> ir.Table:
        """One edge per account, store and local day of the review graph."""
        r = ctx.table("reviews")
        r = r.mutate(day=local_date(r.ts))
        return r.group_by(["platform_id", "user_id", "merchant_id", "day"]).aggregate(
            reviews=r.count(),
            without_order=r.order_id.isnull().sum(),
            rating_sum=r.rating.sum(),
            first_ts=r.ts.min(),
        )

    def _links(self, ctx: Context) -> ir.Table:
        """Identifier values shared by two or more accounts of a platform, per holder."""
        acc = ctx.table("accounts")
        rev = ctx.table("reviews")
        parts = [
            t.filter(t[kind].notnull()).select(
                platform_id=t.platform_id,
                user_id=t.user_id,
                kind=ibis.literal(kind),
                value=t[kind],
            )
            for t, kinds in ((acc, ACCOUNT_IDENTIFIERS), (rev, REVIEW_IDENTIFIERS))
            for kind in kinds
        ]
        links = ibis.union(*parts, distinct=True)
        sharing = links.user_id.count().over(group_by=[links.platform_id, links.kind, links.value])
        links = links.mutate(sharing=sharing)
        links = links.filter(links.sharing >= 2)
        reg = acc.select("platform_id", "user_id", "registered_at")
        joined = links.left_join(reg, ["platform_id", "user_id"])
        return joined.select(*LINK_COLUMNS)

    def run(self, ctx: Context) -> list[Finding]:
        # Arrow, not pandas: at 10^7 edges, Python string objects would cost gigabytes.
        edges = self.summarize(ctx).to_pyarrow()
        ctx.log.debug("review graph of %d account-store-day edges", edges.num_rows)
        if edges.num_rows == 0:
            return []
        links = self._links(ctx).to_pyarrow().to_pandas()
        ctx.log.debug("%d shared-identifier links", len(links))
        return self._judge(ctx, edges, links)

    # -- statistics --------------------------------------------------------------------

    def judge(
        self, ctx: Context, summary: pd.DataFrame, links: pd.DataFrame | None = None
    ) -> list[Finding]:
        """Findings from the review-graph edges (``summarize``) and the shared links."""
        if summary.empty:
            return []
        if links is None:
            links = pd.DataFrame(
                columns=["platform_id", "user_id", "registered_at", "kind", "value"]
            )
        return self._judge(ctx, pa.Table.from_pandas(summary, preserve_index=False), links)

    def _judge(self, ctx: Context, edges: pa.Table, links: pd.DataFrame) -> list[Finding]:
        window_h = float(ctx.param("cn.detection.integrity.burst_window_hours"))
        min_cluster = int(ctx.param("cn.detection.integrity.min_cluster_accounts"))
        q_max = float(ctx.param("cn.detection.fdr_q"))
        clusters = bursty_clusters(links, window_h, min_cluster, q_max)
        ctx.log.debug("%d bursty linked clusters", len(clusters))
        bursty: dict[str, list[str]] = {}
        for c in clusters:
            bursty.setdefault(c.platform_id, []).extend(c.members)

        plat_codes, plat_ids = _sorted_codes(edges["platform_id"])
        order = np.argsort(plat_codes, kind="stable")
        bounds = np.searchsorted(plat_codes[order], np.arange(len(plat_ids) + 1))
        rings: list[_Ring] = []
        platforms: dict[str, _Platform] = {}
        for k, plat in enumerate(plat_ids.to_pylist()):
            rows = edges.take(pa.array(order[bounds[k] : bounds[k + 1]]))
            p = _Platform(str(plat), rows)
            del rows
            mine = links[links["platform_id"] == plat]
            found = self._platform_rings(ctx, p, mine, bursty.get(str(plat), []))
            if found:
                platforms[p.platform_id] = p
                rings.extend(found)
        if not rings:
            return []
        return self._findings(ctx, rings, platforms)

    def _platform_rings(
        self, ctx: Context, p: _Platform, links: pd.DataFrame, bursty: list[str]
    ) -> list[_Ring]:
        min_ring = int(ctx.param("cn.detection.integrity.review_ring.min_ring_accounts"))
        lift = float(ctx.param("cn.detection.integrity.review_ring.min_density_lift"))
        max_blocks = int(ctx.param("cn.detection.integrity.review_ring.max_blocks"))
        min_susp = float(ctx.param("cn.detection.integrity.review_ring.min_suspicion"))
        lockstep_s = float(ctx.param("cn.detection.integrity.review_ring.lockstep_window_hours"))
        lockstep_s *= SECONDS_PER_HOUR
        weights = ctx.param("cn.detection.integrity.review_ring.signal_weights")

        p.signals = self._signals(p, links, bursty)
        w = np.array([float(weights.get(s, 0.0)) for s in SIGNALS])
        p.suspicion = p.signals @ (w / w.sum()) if w.sum() > 0 else np.zeros(p.n_accounts)
        p.graph = self._graph(p)
        suspicion = p.suspicion
        background = graph_density(p.graph, suspicion, np.zeros(p.n_columns))

        def screen(block: Block) -> NDArray[np.bool_] | None:
            """Accept a block of suspicious accounts; else set its ordinary ones aside."""
            mean = float(suspicion[block.rows].mean())
            if mean >= min_susp:
                return None
            ctx.log.debug(
                "block of %d accounts, density %.3f: mean suspicion %.3f, set aside",
                len(block.rows),
                block.density,
                mean,
            )
            return np.asarray(suspicion[block.rows] < min_susp)

        blocks = fraudar(
            p.graph,
            suspicion,
            min_density=lift * background,
            max_blocks=max_blocks,
            min_rows=min_ring,
            screen=screen,
        )
        ctx.log.debug(
            "platform %s: %d accounts, %d store-days, background density %.4f, %d ring blocks",
            p.platform_id,
            p.n_accounts,
            p.n_columns,
            background,
            len(blocks),
        )
        by_store: dict[int, _Ring] = {}
        for block in blocks:
            stats = self._block_stats(p, block, background)
            edges = p.edges_of(block.rows)
            edges = edges[np.isin(p.column[edges], block.cols)]
            theirs = p.edges_of(block.rows)
            for store in np.unique(p.store[edges]).tolist():
                # every review of the store by the block's accounts, in or out of the block,
                # and by suspicious accounts just outside the block's edge in the same
                # windows (peeling keeps a dense core; a ring's stragglers join here)
                mine = theirs[p.store[theirs] == store]
                near = p.edges_of_store(store)
                t = p.first_s[near]
                near = near[
                    (t >= p.first_s[mine].min() - lockstep_s)
                    & (t <= p.first_s[mine].max() + lockstep_s)
                    & (suspicion[p.account[near]] >= min_susp)
                ]
                mine = np.union1d(mine, near)
                lockstep = _lockstep(p.account[mine], p.first_s[mine], lockstep_s)
                if lockstep < min_ring:
                    continue
                ring = by_store.setdefault(store, _Ring(p.platform_id, p.store_ids[store]))
                ring.accounts |= set(p.account[mine].tolist())
                ring.lockstep = max(ring.lockstep, lockstep)
                if not ring.block or block.density > ring.block["block_density"]:
                    ring.block, ring.columns = stats, block.cols
        return [by_store[s] for s in sorted(by_store)]

    @staticmethod
    def _graph(p: _Platform) -> sp.csr_matrix:
        """Accounts × store-days, FRAUDAR-weighted; an account's repeat visits to one
        store share the weight of one edge (loyal customers are not a dense block)."""
        shape = (p.n_accounts, p.n_columns)
        binary = sp.csr_matrix((np.ones(p.n_edges), (p.account, p.column)), shape=shape)
        weight = column_weights(binary)[p.column]
        # edges are sorted by account, store, day: visits = run length of (account, store)
        new_pair = np.r_[True, (np.diff(p.account) != 0) | (np.diff(p.store) != 0)]
        pair = np.cumsum(new_pair) - 1
        visits = np.bincount(pair)[pair]
        return sp.csr_matrix((weight / visits, (p.account, p.column)), shape=shape)

    def _signals(self, p: _Platform, links: pd.DataFrame, bursty: list[str]) -> NDArray[np.float64]:
        """Per account: registration_burst, shared_identifier, no_order, rating_deviation."""
        n = p.n_accounts
        out = np.zeros((n, len(SIGNALS)))
        if bursty:
            out[p.codes_of(bursty), 0] = 1.0
        out[:, 1] = self._shared(p, links)

        # reviews without an order, against the platform's rate
        no_order = np.bincount(p.account, weights=p.without_order, minlength=n)
        base = no_order.sum() / p.n_reviews.sum()
        if base < 1:
            out[:, 2] = np.clip((no_order / p.n_reviews - base) / (1 - base), 0, 1)

        # rating above the store's other reviews
        store_n = np.bincount(p.store, weights=p.reviews)[p.store]
        store_r = np.bincount(p.store, weights=p.rating_sum)[p.store]
        others = store_n - p.reviews
        ok = others > 0
        dev = np.zeros(p.n_edges)
        dev[ok] = p.rating_sum[ok] / p.reviews[ok] - (store_r[ok] - p.rating_sum[ok]) / others[ok]
        weight = np.where(ok, p.reviews, 0.0)
        total = np.bincount(p.account, weights=weight, minlength=n)
        mean_dev = np.divide(
            np.bincount(p.account, weights=dev * weight, minlength=n),
            total,
            out=np.zeros(n),
            where=total > 0,
        )
        out[:, 3] = np.clip(mean_dev / _rating_span(), 0, 1)
        return out

    @staticmethod
    def _shared(p: _Platform, links: pd.DataFrame) -> NDArray[np.float64]:
        """``1 - 1/k``: ``k`` the most reviewers of one of the account's stores holding one
        of its identifier values (0 when it shares none with a co-reviewer)."""
        out = np.zeros(p.n_accounts)
        if links.empty:
            return out
        value = links.groupby(["kind", "value"], sort=True).ngroup().to_numpy()
        held = pd.DataFrame({"account": p.codes_of(links["user_id"]), "value": value})
        held = held[held["account"] >= 0].drop_duplicates()
        first = np.r_[True, (np.diff(p.account) != 0) | (np.diff(p.store) != 0)]
        pairs = pd.DataFrame({"account": p.account[first], "store": p.store[first]})
        co = held.merge(pairs, on="account")
        k = co.groupby(["value", "store"])["account"].transform("size").to_numpy()
        kmax = pd.Series(k).groupby(co["account"].to_numpy()).max()
        out[kmax.index.to_numpy()] = 1.0 - 1.0 / kmax.to_numpy()
        return out

    def _block_stats(self, p: _Platform, block: Block, background: float) -> dict[str, Any]:
        sub = submatrix(p.graph, block.rows, block.cols)
        observed = float(sub.sum())
        expected = null_edge_weight(p.graph, block.rows, block.cols)
        return {
            "block_accounts": len(block.rows),
            "block_store_days": len(block.cols),
            "block_density": block.density,
            "background_density": background,
            "density_lift": block.density / background if background > 0 else math.inf,
            "null_edge_lift": observed / expected if expected > 0 else math.inf,
            "mean_suspicion": float(p.suspicion[block.rows].mean()),
        }

    # -- findings ----------------------------------------------------------------------

    def _findings(
        self, ctx: Context, rings: list[_Ring], platforms: Mapping[str, _Platform]
    ) -> list[Finding]:
        min_ring = int(ctx.param("cn.detection.integrity.review_ring.min_ring_accounts"))
        bands = ctx.param("cn.detection.integrity.review_ring.severity_fake_share_pct")
        lockstep_h = float(ctx.param("cn.detection.integrity.review_ring.lockstep_window_hours"))
        review_ids = self._review_ids(ctx, rings, platforms)
        findings = []
        for ring in rings:
            p = platforms[ring.platform_id]
            store = int(p.store_ids.get_loc(ring.merchant_id))
            accounts = np.array(sorted(ring.accounts), dtype=np.int64)
            of_store = p.edges_of_store(store)
            mine = of_store[np.isin(p.account[of_store], accounts)]
            ring_reviews = int(p.reviews[mine].sum())
            store_reviews = int(p.reviews[of_store].sum())
            share = ring_reviews / store_reviews * 100
            theirs = p.edges_of(accounts)
            inside = theirs[np.isin(p.column[theirs], ring.columns)]
            in_block = np.bincount(
                p.account[inside], weights=p.reviews[inside], minlength=p.n_accounts
            )[accounts]
            lock_share = in_block / p.n_reviews[accounts]
            scores = 1 - (1 - p.suspicion[accounts]) * (1 - lock_share)
            ids = p.ids_of(accounts)
            order = np.lexsort((np.array(ids, dtype=object), -scores))
            days = p.day[mine]
            signals = p.signals[accounts].mean(axis=0)
            score = float(scores.mean()) * (1 - math.exp(-len(accounts) / min_ring))
            findings.append(
                self.finding(
                    ctx,
                    subject_id=ring.merchant_id,
                    platform_id=ring.platform_id,
                    period_start=_day(int(days.min())),
                    period_end=_day(int(days.max())),
                    severity=severity_from_bands(share, bands),
                    score=round(min(1.0, max(0.0, score)), 6),
                    statistics={
                        "ring_accounts": len(accounts),
                        "ring_reviews": ring_reviews,
                        "store_reviews": store_reviews,
                        "fake_share_pct": share,
                        "lockstep_accounts": ring.lockstep,
                        "lockstep_window_hours": lockstep_h,
                        **ring.block,
                        "mean_signals": dict(zip(SIGNALS, signals.tolist(), strict=True)),
                        "method": "FRAUDAR greedy peeling on accounts x (store, local day) with "
                        "1/log(degree+5) column weights and account suspicion priors; "
                        "CopyCatch lockstep check per store",
                    },
                    evidence=[
                        Evidence(
                            "accounts",
                            [ids[i] for i in order],
                            scores=[round(float(scores[i]), 6) for i in order],
                            note="the ring's accounts that reviewed the store, most suspicious "
                            "first (user_id on the platform)",
                        ),
                        Evidence(
                            "reviews",
                            review_ids.get((ring.platform_id, ring.merchant_id), []),
                            note="the ring's reviews of the store",
                        ),
                    ],
                )
            )
        return findings

    def _review_ids(
        self, ctx: Context, rings: list[_Ring], platforms: Mapping[str, _Platform]
    ) -> dict[tuple[str, str], list[str]]:
        wanted = {
            (ring.platform_id, ring.merchant_id, user)
            for ring in rings
            for user in platforms[ring.platform_id].ids_of(sorted(ring.accounts))
        }
        r = ctx.table("reviews")
        r = r.filter(
            r.merchant_id.isin(sorted({w[1] for w in wanted})),
            r.user_id.isin(sorted({w[2] for w in wanted})),
        )
        frame = ctx.execute(r.select("review_id", "platform_id", "merchant_id", "user_id"))
        keys = zip(frame["platform_id"], frame["merchant_id"], frame["user_id"], strict=True)
        frame = frame[[k in wanted for k in keys]].sort_values("review_id")
        return {
            (str(plat), str(m)): rows["review_id"].astype(str).tolist()
            for (plat, m), rows in frame.groupby(["platform_id", "merchant_id"], sort=True)
        }


class _Platform:
    """One platform's review graph: accounts, stores and store-days as integer codes.

    Edges (account, store, local day) are sorted by account, store and day, so an
    account's edges are one slice; ``edges_of_store`` indexes them by store.
    """

    def __init__(self, platform_id: str, edges: pa.Table) -> None:
        self.platform_id = platform_id
        account, self.account_ids = _sorted_codes(edges["user_id"])
        store, store_ids = _sorted_codes(edges["merchant_id"])
        self.store_ids = pd.Index(store_ids.to_pylist())
        day = pc.cast(edges["day"].combine_chunks(), pa.int32()).to_numpy().astype(np.int64)
        order = np.lexsort((day, store, account))
        self.account = account[order]
        self.store = store[order]
        self.day = day[order]
        self.reviews = _floats(edges["reviews"])[order]
        self.without_order = _floats(edges["without_order"])[order]
        self.rating_sum = _floats(edges["rating_sum"])[order]
        first = pc.cast(edges["first_ts"].combine_chunks(), pa.timestamp("us"))
        first_us = pc.cast(first, pa.int64()).to_numpy(zero_copy_only=False)
        self.first_s = (first_us // 1_000_000)[order]
        self.n_edges = len(order)
        self.n_accounts = len(self.account_ids)
        days = int(self.day.max() - self.day.min()) + 1
        column = self.store * days + (self.day - self.day.min())
        codes, self.column = np.unique(column, return_inverse=True)
        self.n_columns = len(codes)
        self._acc_ptr = np.searchsorted(self.account, np.arange(self.n_accounts + 1))
        self._by_store = np.argsort(self.store, kind="stable")
        self._store_ptr = np.searchsorted(
            self.store[self._by_store], np.arange(len(self.store_ids) + 1)
        )
        self.n_reviews = np.bincount(self.account, weights=self.reviews, minlength=self.n_accounts)
        self.signals: NDArray[np.float64] = np.zeros((self.n_accounts, len(SIGNALS)))
        self.suspicion: NDArray[np.float64] = np.zeros(self.n_accounts)
        self.graph: sp.csr_matrix = sp.csr_matrix((self.n_accounts, self.n_columns))

    def edges_of(self, accounts: NDArray[np.int64]) -> NDArray[np.int64]:
        """Positions of the edges of ``accounts``."""
        lo, hi = self._acc_ptr[accounts], self._acc_ptr[np.asarray(accounts) + 1]
        if not len(lo):
            return np.zeros(0, np.int64)
        return np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])

    def edges_of_store(self, store: int) -> NDArray[np.int64]:
        """Positions of the edges of one store."""
        return self._by_store[self._store_ptr[store] : self._store_ptr[store + 1]]

    def codes_of(self, users: Sequence[str] | pd.Series) -> NDArray[np.int64]:
        """Account codes of user ids (-1 for users without a review here)."""
        found = pc.index_in(pa.array(list(users), pa.string()), value_set=self.account_ids)
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)

    def ids_of(self, accounts: Sequence[int] | NDArray[np.int64]) -> list[str]:
        """User ids of account codes."""
        return [str(u) for u in self.account_ids.take(pa.array(accounts, pa.int64())).to_pylist()]


def _sorted_codes(column: pa.ChunkedArray | pa.Array) -> tuple[NDArray[np.int64], pa.Array]:
    """Integer codes of a string column, numbered in sorted order of the values (so they
    do not depend on the order the engine returned rows in), and the sorted values."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary
    by_value = pc.sort_indices(values).to_numpy()
    rank = np.empty(len(values), np.int64)
    rank[by_value] = np.arange(len(values))
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return codes, values.take(pa.array(by_value))


def _floats(column: pa.ChunkedArray) -> NDArray[np.float64]:
    return np.asarray(pc.cast(column.combine_chunks(), pa.float64()).to_numpy(), np.float64)


def _day(days_since_epoch: int) -> date:
    return date(1970, 1, 1) + timedelta(days=days_since_epoch)


def _lockstep(accounts: NDArray[np.int64], seconds: NDArray[np.int64], window: float) -> int:
    """Most distinct ``accounts`` whose times fall within one window of ``window`` seconds."""
    if len(accounts) == 0:
        return 0
    order = np.argsort(seconds, kind="stable")
    t, a = seconds[order], accounts[order]
    ends = np.searchsorted(t, t + window, side="right")
    best = 0
    for i, j in enumerate(ends):
        if j - i > best:
            best = max(best, len(np.unique(a[i:j])))
    return best
