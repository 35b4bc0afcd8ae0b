"""FW201 conduct.exclusive_dealing."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.stats import bh_qvalues
from fairwatch.engine import local_date

PUNISHMENTS = ("demote", "penalty")


class ExclusiveStores(Detector):
    """A platform makes merchants "choose one of two": leave rival platforms or be punished.

    **What it detects**

    A platform that forces merchants selling on it and on a rival platform (the same
    entity, stores on two platforms sharing a platform category) to give up the rival:
    multi-homing merchants close their rival store in a cluster of days while keeping
    the store on this platform, and those who keep both stores are demoted or penalised
    and lose search exposure on this platform, relative to comparable single-homing
    merchants ("二选一").

    **Why it matters**

    Restricting the merchants' choice of trading partners is exclusive dealing, an abuse
    of a dominant position (AML art. 22(1)(4), also by platform rules and algorithms
    under art. 22(2)); platforms may not impose unreasonable restrictions on merchants
    (E-Commerce Law art. 35), and may not use search demotion, delisting, shielding or
    higher fees to stop merchants operating on several platforms (Online Transaction
    Supervision Measures art. 32; from 2026-02-01 also the Measures on Online Trading
    Platform Rules).

    **Method**

    Stores are third-party ``merchants`` rows; an entity multi-homes with platform *X*
    on a day when it has an open store on *X* and one on a rival of *X* (a platform
    sharing one of ``platforms.categories``). A store's closing day is its first
    ``close`` event or ``closed_on``. Days are China-local.

    *(a) Exits.* For each candidate *X*, every closure of a third-party store on the
    rivals of *X* falls on any open store-day alike under the null. For every window of
    ``cn.detection.conduct.exclusive_window_days`` days, the closures of stores whose
    entity keeps its store on *X* open through the window are counted and tested
    against their share of all closures on those rivals over the period (binomial upper
    tail, the share being the window's linked store-days over all store-days), the
    smallest p-value Bonferroni-corrected over the windows. Exits alone are not held
    against *X*: merchants also leave a platform that raised its own fees.

    *(b) Punishment.* With a change point *c* — the first exit of the exit window when
    (a) is significant at ``cn.detection.fdr_q``, else the first punishment in the
    window where punishments fall most lopsidedly on multi-homers (a scan with the
    Fisher test below, Bonferroni-corrected over the windows) — stores on *X* that
    multi-home from *c* to the end ("stayers") are compared with stores on *X* that
    never multi-home, both open over the whole period: (i) the share punished (a
    ``demote`` or ``penalty`` event on *X* from *c* on), one-sided Fisher exact test;
    (ii) a difference-in-differences of search exposure: per store and query, ``log``
    of organic appearances per search of the query after (from one window past *c*,
    when the data allow) minus before *c*, net of the query's mean change among
    single-homers (so queries gaining or losing competitors move both groups alike;
    in a query with no other single-homer, net of all single-homers' mean change),
    averaged over the store's queries; stayers against single-homers, one-sided
    two-sample t-test. Events whose ``reason`` names an infringement the platform must
    act on (``cn.detection.conduct.exclusive_justified_reason_terms``: counterfeits,
    IP, failed quality checks) are not punishment, and their stores are left out of
    both groups. The two p-values are combined (Fisher's method) into the punishment
    p-value, and Benjamini–Hochberg q-values are taken across platforms.

    A platform is reported when its punishment q-value is at most ``cn.detection.fdr_q``
    and the exposure loss is at least
    ``cn.detection.conduct.exclusive_min_exposure_loss_pct``. The engine reduces
    ``search_results`` to organic appearances per store, query and day (one pass);
    stores, events and platforms are small. The statistics give the exposure loss, the
    punished shares, the exits against expectation, all p- and q-values (and the
    combined p of exits and punishment) and a weekly timeline; evidence lists the
    stayers (scored by their own exposure loss) and the rival stores closed in the exit
    window. Every platform tested is recorded in the run, reported or not, with its
    q-value, exposure loss, group sizes and exit p-value.

    **Known limitations**

    Multi-homing is seen through ``merchants.entity_id``; stores of one business under
    different legal persons are not linked. A platform that punishes with reasons that
    name counterfeits, or that demotes silently in ways that do not reduce organic
    appearances, escapes the punishment test. Coercion by exclusive contracts or higher
    fees alone, without demotion or penalty, is not detected. Stores opened or closed
    during the period are left out of the comparison, and when almost every store on a
    platform multi-homes there are too few single-homers to compare with.
    """

    code = "FW201"
    name = "conduct.exclusive_stores"
    family = "conduct.exclusive_dealing"
    legal_basis = (
        "cn.aml2022.art22",
        "cn.ecommerce_law.art35",
        "cn.online_transaction_measures.art32",
        "cn.platform_rules_measures",
    )
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.conduct.exclusive_window_days",
        "cn.detection.conduct.exclusive_min_exposure_loss_pct",
        "cn.detection.conduct.exclusive_justified_reason_terms",
        "cn.detection.conduct.exclusive_severity_exposure_loss_pct",
    )
    inputs = {
        "merchants": (
            "merchant_id",
            "platform_id",
            "entity_id",
            "opened_on",
            "closed_on",
            "self_operated",
        ),
        "platforms": ("platform_id", "categories"),
        "merchant_events": ("merchant_id", "platform_id", "ts", "event", "reason"),
        "search_results": (
            "query_id",
            "ts",
            "platform_id",
            "query",
            "position",
            "merchant_id",
            "sponsored",
        ),
    }

    # -- engine phase --------------------------------------------------------------------

    def summarize(self, ctx: Context) -> ir.Table:
        """Organic appearances per store, query and local day (one pass over searches).

        ``tops`` counts the rows at position 1: summed over a query's stores it is the
        number of searches of that query on that day.
        """
        s = ctx.table("search_results")
        s = s.mutate(day=local_date(s.ts))
        organic = ~s.sponsored
        return s.group_by(["platform_id", "merchant_id", "query", "day"]).aggregate(
            shown=ibis.ifelse(organic, 1, 0).sum(),
            position_sum=ibis.ifelse(organic, s.position, 0).sum(),
            tops=ibis.ifelse(s.position == 1, 1, 0).sum(),
        )

    def run(self, ctx: Context) -> list[Finding]:
        exposure = ctx.execute(self.summarize(ctx))
        m = ctx.table("merchants")
        stores = ctx.execute(
            m.select(
                "merchant_id",
                "platform_id",
                "entity_id",
                "opened_on",
                "closed_on",
                "self_operated",
            )
        )
        p = ctx.table("platforms")
        platforms = ctx.execute(p.select("platform_id", "categories"))
        e = ctx.table("merchant_events")
        e = e.filter(e.event.isin(["close", *PUNISHMENTS]))
        events = ctx.execute(
            e.select("merchant_id", "platform_id", "event", "reason", day=local_date(e.ts))
        )
        return self.judge(ctx, exposure, stores, platforms, events)

    # -- statistics phase ----------------------------------------------------------------

    def judge(
        self,
        ctx: Context,
        summary: pd.DataFrame,
        stores: pd.DataFrame | None = None,
        platforms: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
    ) -> list[Finding]:
        if stores is None or platforms is None or events is None or stores.empty:
            return []
        terms = ctx.param("cn.detection.conduct.exclusive_justified_reason_terms")
        world = _World.build(summary, stores, platforms, events, [str(t).lower() for t in terms])
        if world is None:
            return []
        window = int(ctx.param("cn.detection.conduct.exclusive_window_days"))
        fdr = float(ctx.param("cn.detection.fdr_q"))
        tests = [
            t
            for x in world.platform_ids
            if (t := _test_platform(world, x, window, fdr)) is not None
        ]
        if not tests:
            return []
        q = bh_qvalues([t.p_punish for t in tests])
        min_loss = float(ctx.param("cn.detection.conduct.exclusive_min_exposure_loss_pct"))
        bands = ctx.param("cn.detection.conduct.exclusive_severity_exposure_loss_pct")
        findings = []
        for t, qv in zip(tests, q, strict=True):
            t.q_punish = float(qv)
            ctx.log.debug(
                "%s: p_exits=%.3g p_punished=%.3g p_exposure=%.3g q=%.3g loss=%s",
                t.platform_id,
                t.p_exits,
                t.p_events,
                t.p_exposure,
                t.q_punish,
                t.loss_pct,
            )
            reported = bool(t.q_punish <= fdr and t.loss_pct is not None and t.loss_pct >= min_loss)
            ctx.record_test(
                t.platform_id,
                reported,
                q_value=t.q_punish,
                exposure_loss_pct=t.loss_pct,
                stayers=t.n_stay,
                single_homers=t.n_single,
                p_exits=t.p_exits,
            )
            if reported:
                findings.append(self._finding(ctx, world, t, bands))
        return findings

    def _finding(self, ctx: Context, world: _World, t: _PlatformTest, bands: Any) -> Finding:
        loss = float(t.loss_pct or 0.0)
        start, end = world.date(t.change_point), world.date(world.days - 1)
        legal = [k for k in self.legal_basis if ctx.law.citation(k).effective_on <= end]
        combined = _fisher_combined(t.p_exits, t.p_punish)
        stayers = sorted(t.store_loss.items(), key=lambda kv: (-kv[1], kv[0]))
        worst = max((v for _, v in stayers), default=0.0)
        evidence = [
            Evidence(
                "merchants",
                [mid for mid, _ in stayers],
                scores=[round(max(v, 0.0) / worst, 6) if worst > 0 else 0.0 for _, v in stayers],
                note=f"stores on {t.platform_id} that kept a rival store, scored by their "
                "own loss of search exposure",
            )
        ]
        if t.exit_ids:
            evidence.append(
                Evidence(
                    "merchants",
                    sorted(t.exit_ids),
                    note=f"rival stores closed in the exit window by merchants staying on "
                    f"{t.platform_id}",
                )
            )
        return self.finding(
            ctx,
            subject_id=t.platform_id,
            platform_id=t.platform_id,
            period_start=start,
            period_end=end,
            severity=severity_from_bands(loss, bands),
            score=round((1 - t.q_punish) * (1 - math.exp(-loss / 25)), 6),
            legal_basis=legal,
            statistics={
                "change_point": start,
                "change_point_basis": t.basis,
                "exposure_loss_pct": loss,
                "exposure_did_log": t.did,
                "exposure_t": t.t_stat,
                "p_exposure": t.p_exposure,
                "stayers": t.n_stay,
                "stayers_punished": t.stay_punished,
                "single_homers": t.n_single,
                "single_homers_punished": t.single_punished,
                "p_punished": t.p_events,
                "mean_position_change_stayers": t.position_change_stay,
                "mean_position_change_single_homers": t.position_change_single,
                "exit_window": [world.date(t.exit_start), world.date(t.exit_end)]
                if t.exit_start is not None and t.exit_end is not None
                else None,
                "exits_in_window": t.exits,
                "exits_expected": t.exits_expected,
                "p_exits": t.p_exits,
                "p_value": t.p_punish,
                "q_value": t.q_punish,
                "p_combined": combined,
                "timeline": t.timeline,
                "test": "punishment: Fisher exact (share punished) + one-sided t on the "
                "exposure difference-in-differences, combined by Fisher's method, BH "
                "across platforms; exits: binomial window scan, Bonferroni",
            },
            evidence=evidence,
        )


# -- the small world the tests run on -------------------------------------------------------


@dataclass
class _World:
    """Third-party stores, their open days, entities' presence per platform, events and
    exposure, on a grid of local days ``d0 .. d0 + days - 1``."""

    d0: date
    days: int
    stores: pd.DataFrame  # merchant_id, platform_id, entity_id, row (index into open_)
    open_: np.ndarray  # stores x days
    close_day: np.ndarray  # per store: day offset of its closing (>= days when none)
    rivals: dict[str, list[str]]
    presence: dict[str, tuple[pd.Index, np.ndarray]]  # platform -> (entities, entities x days)
    punish: pd.DataFrame  # merchant_id, platform_id, d, justified
    exposure: pd.DataFrame  # platform_id, merchant_id, query, d, shown, position_sum
    searches: pd.DataFrame  # platform_id, query, d, n
    platform_ids: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        summary: pd.DataFrame,
        stores: pd.DataFrame,
        platforms: pd.DataFrame,
        events: pd.DataFrame,
        terms: list[str],
    ) -> _World | None:
        summary = summary.assign(day=pd.to_datetime(summary["day"]).dt.date)
        events = events.assign(day=pd.to_datetime(events["day"]).dt.date)
        spans = [s for s in (summary["day"], events["day"]) if len(s)]
        if not spans:
            return None
        d0 = min(s.min() for s in spans)
        days = (max(s.max() for s in spans) - d0).days + 1

        def offset(values: pd.Series, missing: int) -> np.ndarray:
            s = pd.to_datetime(values, errors="coerce")
            out = (s - pd.Timestamp(d0)).dt.days.to_numpy(dtype=float)
            return np.where(np.isnan(out), missing, out).astype(int)

        tp = stores[~stores["self_operated"].fillna(False).astype(bool)]
        tp = tp.sort_values("merchant_id").reset_index(drop=True)
        tp = tp.assign(row=np.arange(len(tp)))
        closes = events[events["event"] == "close"].groupby("merchant_id")["day"].min()
        open_day = offset(tp["opened_on"], -_FAR)
        close_day = np.minimum(
            offset(tp["closed_on"], _FAR), offset(tp["merchant_id"].map(closes), _FAR)
        )
        grid = np.arange(days)
        open_ = (grid[None, :] >= open_day[:, None]) & (grid[None, :] < close_day[:, None])

        cats = {
            str(p): {str(c) for c in (cs if cs is not None else [])}
            for p, cs in zip(platforms["platform_id"], platforms["categories"], strict=True)
        }
        ids = sorted(cats)
        rivals = {x: [y for y in ids if y != x and cats[x] & cats[y]] for x in ids}

        presence: dict[str, tuple[pd.Index, np.ndarray]] = {}
        with_entity = tp[tp["entity_id"].notna()]
        for pid, rows in with_entity.groupby("platform_id", sort=True):
            codes, entities = pd.factorize(rows["entity_id"].astype(str), sort=True)
            matrix = np.zeros((len(entities), days), dtype=bool)
            np.logical_or.at(matrix, codes, open_[rows["row"].to_numpy()])
            presence[str(pid)] = (pd.Index(entities), matrix)

        punish = events[events["event"].isin(PUNISHMENTS)]
        reason = punish["reason"].fillna("").astype(str).str.lower()
        punish = punish.assign(
            justified=np.array([any(t in r for t in terms) for r in reason], dtype=bool),
            d=offset(punish["day"], -1),
        )
        exposure = summary.assign(d=offset(summary["day"], -1))
        searches = (
            exposure.groupby(["platform_id", "query", "d"], sort=True)["tops"]
            .sum()
            .rename("n")
            .reset_index()
        )
        world = cls(
            d0=d0,
            days=days,
            stores=tp,
            open_=open_,
            close_day=close_day,
            rivals=rivals,
            presence=presence,
            punish=punish,
            exposure=exposure[exposure["shown"] > 0],
            searches=searches,
        )
        world.platform_ids = [x for x in ids if rivals[x]]
        return world

    def date(self, d: int) -> date:
        return self.d0 + timedelta(days=int(d))

    def linked(self, entities: pd.Series, platforms: list[str]) -> np.ndarray:
        """Per row of ``entities``: the days on which the entity has an open third-party
        store on any of ``platforms``."""
        out = np.zeros((len(entities), self.days), dtype=bool)
        keys = entities.astype("string").fillna("").to_numpy(dtype=object)
        for p in platforms:
            if p not in self.presence:
                continue
            index, matrix = self.presence[p]
            at = index.get_indexer(keys)
            hit = at >= 0
            out[hit] |= matrix[at[hit]]
        return out


_FAR = 10**6


@dataclass
class _Platform:
    """The third-party stores of one candidate platform, with what the tests need."""

    x: str
    ids: np.ndarray  # merchant_id
    rows: np.ndarray  # rows into the world's arrays
    mh: np.ndarray  # stores x days: multi-homing with a rival of x
    ok: np.ndarray  # open on every day of the period, no justified sanction on x
    punished: np.ndarray  # stores x days: an unjustified demotion or penalty on x

    @classmethod
    def of(cls, world: _World, x: str) -> _Platform:
        mine = world.stores[world.stores["platform_id"] == x]
        rows = mine["row"].to_numpy()
        ids = mine["merchant_id"].astype(str).to_numpy()
        ev = world.punish[(world.punish["platform_id"] == x) & (world.punish["d"] >= 0)]
        local = pd.Index(ids)
        justified = np.isin(ids, ev.loc[ev["justified"], "merchant_id"].astype(str))
        ev = ev[~ev["justified"]]
        at = local.get_indexer(ev["merchant_id"].astype(str))
        punished = np.zeros((len(ids), world.days), dtype=bool)
        punished[at[at >= 0], ev["d"].to_numpy()[at >= 0]] = True
        return cls(
            x=x,
            ids=ids,
            rows=rows,
            mh=world.linked(mine["entity_id"], world.rivals[x]),
            ok=world.open_[rows].all(axis=1) & ~justified,
            punished=punished,
        )

    def groups(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Stayers (multi-homing on every day ``start .. end - 1``) and single-homers
        (never multi-homing), among stores open throughout without justified sanction."""
        stay = self.ok & self.mh[:, start:end].all(axis=1)
        single = self.ok & ~self.mh.any(axis=1)
        return stay, single


@dataclass
class _PlatformTest:
    platform_id: str
    change_point: int
    basis: str
    p_exits: float = 1.0
    exits: int = 0
    exits_expected: float = 0.0
    exit_start: int | None = None
    exit_end: int | None = None
    exit_ids: list[str] = field(default_factory=list)
    p_events: float = 1.0
    n_stay: int = 0
    n_single: int = 0
    stay_punished: int = 0
    single_punished: int = 0
    p_exposure: float = 1.0
    did: float | None = None
    t_stat: float | None = None
    loss_pct: float | None = None
    position_change_stay: float | None = None
    position_change_single: float | None = None
    store_loss: dict[str, float] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    p_punish: float = 1.0
    q_punish: float = 1.0


def _t_less(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float]:
    """One-sided pooled two-sample t-test that ``a`` is lower than ``b``.

    Exact when there is no spread at all: a difference with no noise is certain (p = 0),
    no difference is p = 1.
    """
    diff = float(a.mean() - b.mean())
    resid = np.concatenate([a - a.mean(), b - b.mean()])
    scale = float(np.abs(np.concatenate([a, b])).max()) or 1.0
    if float(np.abs(resid).max()) <= 1e-9 * scale:
        return None, 0.0 if diff < -1e-9 * scale else 1.0
    with warnings.catch_warnings():  # near-identical values: scipy warns, result stands
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(a, b, equal_var=True, alternative="less")
    return float(res.statistic), float(res.pvalue)


def _fisher_combined(*pvalues: float) -> float:
    """Fisher's method; a p-value of exactly 0 (an exact test with no doubt) stays 0."""
    if min(pvalues) <= 0.0:
        return 0.0
    return float(stats.combine_pvalues(list(pvalues), method="fisher")[1])


def _windows(days: int, window: int) -> list[tuple[int, int]]:
    """Start and end (exclusive) of every window of ``window`` days within the period."""
    if days <= window:
        return [(0, days)]
    return [(s, s + window) for s in range(days - window + 1)]


def _exit_scan(world: _World, x: str, window: int) -> dict[str, Any]:
    """(a): closures on the rivals of ``x`` by entities that keep their store on ``x``.

    Under the null every closure of a third-party store on the rivals falls on any open
    store-day alike; a window's count of linked exits is tested against its share of
    the linked store-days (binomial upper tail), Bonferroni over the windows.
    """
    none: dict[str, Any] = {"p": 1.0, "p_adj": 1.0}
    pool = world.stores[world.stores["platform_id"].isin(world.rivals[x])]
    if pool.empty:
        return none
    rows = pool["row"].to_numpy()
    open_ = world.open_[rows]
    total_days = float(open_.sum())
    close = world.close_day[rows]
    closed_in = (close >= 0) & (close < world.days)
    n_total = int(closed_in.sum())
    if n_total == 0 or total_days == 0:
        return none
    on_x = world.linked(pool["entity_id"], [x])
    at_risk = (open_ & on_x).astype(float)
    cum_risk = np.concatenate([[0.0], at_risk.sum(axis=0).cumsum()])
    keeps = on_x[np.arange(len(rows)), close.clip(0, world.days - 1)]
    wins = _windows(world.days, window)
    best: dict[str, Any] = {"p": 1.0}
    for s, e in wins:
        exits = closed_in & (close >= s) & (close < e) & keeps & on_x[:, e - 1]
        n = int(exits.sum())
        if n == 0:
            continue
        share = min(float(cum_risk[e] - cum_risk[s]) / total_days, 1.0)
        p = float(stats.binom.sf(n - 1, n_total, share))
        if p < best["p"]:
            best = {
                "p": p,
                "start": int(close[exits].min()),
                "end": int(close[exits].max()),
                "n": n,
                "expected": share * n_total,
                "ids": pool["merchant_id"].astype(str).to_numpy()[exits].tolist(),
            }
    best["p_adj"] = min(1.0, best["p"] * len(wins))
    return best


def _fisher(stay_hit: int, stay_n: int, single_hit: int, single_n: int) -> float:
    """One-sided Fisher exact test: stayers punished more often than single-homers."""
    if stay_n == 0 or single_n == 0 or stay_hit == 0:
        return 1.0
    table = [[stay_hit, stay_n - stay_hit], [single_hit, single_n - single_hit]]
    return float(stats.fisher_exact(table, alternative="greater")[1])


def _event_scan(pl: _Platform, days: int, window: int) -> tuple[float, int | None]:
    """(b-i) without an exit cluster: the window in which punishments fall on
    multi-homers most lopsidedly (Bonferroni over the windows) and the first day in it
    on which a stayer was punished."""
    wins = _windows(days, window)
    cum = np.concatenate(
        [np.zeros((len(pl.ids), 1), dtype=int), pl.punished.astype(int).cumsum(axis=1)], axis=1
    )
    best_p, best_s = 1.0, None
    for s, e in wins:
        stay, single = pl.groups(s, e)
        hit = (cum[:, e] - cum[:, s]) > 0
        p = _fisher(
            int((hit & stay).sum()), int(stay.sum()), int((hit & single).sum()), int(single.sum())
        )
        if p < best_p:
            first = np.flatnonzero(pl.punished[hit & stay, s:e].any(axis=0))
            best_p, best_s = p, s + int(first[0])
    return min(1.0, best_p * len(wins)), best_s


def _exposure(world: _World, pl: _Platform, c: int, post: int) -> pd.DataFrame:
    """Per store of ``pl`` and query it appears in: organic appearances, searches of the
    query and position sums before ``c`` and from ``post`` on, on days the store was open."""
    cols = ["merchant_id", "query", "a_pre", "q_pre", "a_post", "q_post", "pos_pre", "pos_post"]
    local = pd.Index(pl.ids)
    ex = world.exposure[world.exposure["platform_id"] == pl.x]
    ex = ex[local.get_indexer(ex["merchant_id"].astype(str)) >= 0]
    if ex.empty:
        return pd.DataFrame(columns=cols)
    open_ = world.open_[pl.rows]
    li = local.get_indexer(ex["merchant_id"].astype(str))
    ex = ex[open_[li, ex["d"].to_numpy()]]
    sr = world.searches[world.searches["platform_id"] == pl.x]
    queries = pd.Index(sorted(sr["query"].unique()))
    per_day = np.zeros((len(queries), world.days))
    per_day[queries.get_indexer(sr["query"]), sr["d"].to_numpy()] = sr["n"].to_numpy()
    q_pre = open_[:, :c].astype(float) @ per_day[:, :c].T  # stores x queries
    q_post = open_[:, post:].astype(float) @ per_day[:, post:].T
    part = np.where(ex["d"] < c, "pre", np.where(ex["d"] >= post, "post", "gap"))
    sums = (
        ex.assign(merchant_id=ex["merchant_id"].astype(str), part=part)
        .loc[part != "gap"]
        .groupby(["merchant_id", "query", "part"], sort=True)[["shown", "position_sum"]]
        .sum()
        .unstack("part", fill_value=0)
    )
    pairs = (
        ex.assign(merchant_id=ex["merchant_id"].astype(str))[["merchant_id", "query"]]
        .drop_duplicates()
        .sort_values(["merchant_id", "query"])
    )
    sums = sums.reindex(pd.MultiIndex.from_frame(pairs), fill_value=0)

    def col(name: str, part: str) -> np.ndarray:
        key = (name, part)
        return sums[key].to_numpy(dtype=float) if key in sums.columns else np.zeros(len(sums))

    si = local.get_indexer(pairs["merchant_id"])
    qi = queries.get_indexer(pairs["query"])
    return pd.DataFrame(
        {
            "merchant_id": pairs["merchant_id"].to_numpy(),
            "query": pairs["query"].to_numpy(),
            "a_pre": col("shown", "pre"),
            "q_pre": np.where(qi >= 0, q_pre[si, qi.clip(0)], 0.0),
            "a_post": col("shown", "post"),
            "q_post": np.where(qi >= 0, q_post[si, qi.clip(0)], 0.0),
            "pos_pre": col("position_sum", "pre"),
            "pos_post": col("position_sum", "post"),
        }
    )


def _exposure_did(
    ex: pd.DataFrame, stayers: set[str], singles: set[str]
) -> tuple[pd.Series, pd.Series] | None:
    """Per store, the change in log exposure share net of the query's trend among
    single-homers (the other single-homers, for a single-homer): stayers', singles'.

    Each (store, query) change is ``log`` of appearances per search after minus before;
    the query's trend is the mean change of the single-homers in the query, so a query
    losing or gaining competitors moves both groups alike. In a query without another
    single-homer the trend is that of all the platform's single-homers (the platform's
    own change, without the query's). A store's value is the mean over its queries
    weighted by its appearances.
    """
    ex = ex[ex["merchant_id"].isin(stayers | singles)]
    ex = ex[(ex["q_pre"] > 0) & (ex["q_post"] > 0) & ((ex["a_pre"] + ex["a_post"]) > 0)]
    if ex.empty:
        return None
    y = np.log((ex["a_post"] + 0.5) / ex["q_post"]) - np.log((ex["a_pre"] + 0.5) / ex["q_pre"])
    own = ex["merchant_id"].isin(singles).to_numpy()
    ex = ex.assign(y=y.to_numpy(), single=own)
    ctrl = ex[own].groupby("query")["y"].agg(["sum", "count"]).reindex(ex["query"])
    total, count = ctrl["sum"].fillna(0).to_numpy(), ctrl["count"].fillna(0).to_numpy()
    others = count - own
    mine = np.where(own, ex["y"].to_numpy(), 0.0)
    by_query = (total - mine) / np.maximum(others, 1)
    all_others = own.sum() - own
    platform = (ex.loc[own, "y"].sum() - mine) / np.maximum(all_others, 1)
    trend = np.where(others > 0, by_query, np.where(all_others > 0, platform, np.nan))
    ex = ex.assign(net=ex["y"].to_numpy() - trend, w=(ex["a_pre"] + ex["a_post"]).to_numpy())
    ex = ex[np.isfinite(ex["net"])]
    if ex.empty:
        return None
    g = ex.assign(wn=ex["net"] * ex["w"]).groupby("merchant_id", sort=True)[["wn", "w"]].sum()
    per_store = g["wn"] / g["w"]
    return per_store[per_store.index.isin(stayers)], per_store[per_store.index.isin(singles)]


def _mean_position_change(ex: pd.DataFrame, ids: set[str]) -> float | None:
    """Mean change of a store's average organic position (positive = lower in the list)."""
    g = (
        ex[ex["merchant_id"].isin(ids)]
        .groupby("merchant_id")[["a_pre", "a_post", "pos_pre", "pos_post"]]
        .sum()
    )
    g = g[(g["a_pre"] > 0) & (g["a_post"] > 0)]
    if g.empty:
        return None
    return float((g["pos_post"] / g["a_post"] - g["pos_pre"] / g["a_pre"]).mean())


def _test_platform(world: _World, x: str, window: int, fdr: float) -> _PlatformTest | None:
    pl = _Platform.of(world, x)
    exits = _exit_scan(world, x, window)
    p_scan: float | None = None
    if exits["p_adj"] <= fdr:
        c, basis = int(exits["start"]), "exit window"
    else:
        p_scan, start = _event_scan(pl, world.days, window)
        if start is None:
            return None
        c, basis = int(start), "punishment window"
    stay, single = pl.groups(c, world.days)
    if not stay.any() or not single.any():
        return None
    t = _PlatformTest(platform_id=x, change_point=c, basis=basis, p_exits=float(exits["p_adj"]))
    if "start" in exits:
        t.exit_start, t.exit_end = int(exits["start"]), int(exits["end"])
        t.exits, t.exits_expected = int(exits["n"]), float(exits["expected"])
        t.exit_ids = list(exits["ids"])
    hit = pl.punished[:, c:].any(axis=1)
    t.n_stay, t.n_single = int(stay.sum()), int(single.sum())
    t.stay_punished, t.single_punished = int((hit & stay).sum()), int((hit & single).sum())
    t.p_events = (
        _fisher(t.stay_punished, t.n_stay, t.single_punished, t.n_single)
        if p_scan is None
        else p_scan
    )
    post = c + window if world.days - (c + window) >= window else c
    if c > 0 and post < world.days:
        ex = _exposure(world, pl, c, post)
        stayers, singles = set(pl.ids[stay]), set(pl.ids[single])
        did = _exposure_did(ex, stayers, singles)
        if did is not None and len(did[0]) >= 1 and len(did[1]) >= 1 and sum(map(len, did)) >= 3:
            ys, yn = did
            t.did = float(ys.mean() - yn.mean())
            t.t_stat, t.p_exposure = _t_less(ys.to_numpy(), yn.to_numpy())
            t.loss_pct = (1 - math.exp(t.did)) * 100
            centre = float(yn.mean())
            t.store_loss = {
                str(mid): (1 - math.exp(float(v) - centre)) * 100 for mid, v in ys.items()
            }
        t.position_change_stay = _mean_position_change(ex, stayers)
        t.position_change_single = _mean_position_change(ex, singles)
    t.p_punish = _fisher_combined(t.p_events, t.p_exposure)
    t.timeline = _timeline(world, pl, t.exit_ids)
    return t


def _timeline(world: _World, pl: _Platform, exit_ids: list[str]) -> list[dict[str, Any]]:
    """Weekly exits (linked rival closures in the exit window) and punishments of stores
    on the platform that multi-homed on the day of the punishment."""
    per_day = (pl.punished & pl.mh).sum(axis=0)
    rows = world.stores.set_index(world.stores["merchant_id"].astype(str))["row"]
    exit_days = world.close_day[rows.reindex(exit_ids).dropna().astype(int).to_numpy()]
    weeks = []
    for w0 in range(0, world.days, 7):
        weeks.append(
            {
                "week_start": world.date(w0),
                "exits": int(((exit_days >= w0) & (exit_days < w0 + 7)).sum()),
                "punishments": int(per_day[w0 : w0 + 7].sum()),
            }
        )
    return weeks
