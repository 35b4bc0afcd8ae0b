"""FW104 pricing.collusion."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special, stats

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.stats import bh_qvalues
from fairwatch.engine import local_date

#: Robust dispersion levels: the group's dispersion before a break is the lower quartile
#: of its daily dispersion (it was apart on most days, not only during a spike), after
#: the break the upper quartile (it stayed together on most days, not only once).
BEFORE_QUANTILE = 0.25
AFTER_QUANTILE = 0.75


@dataclass(frozen=True)
class _Settings:
    min_group: int
    min_drop: float  # fraction
    eps: float  # squared log-price resolution
    resolution: float  # log-price resolution
    follow: int
    min_joint: int
    share: float
    min_days: int
    permutations: int


@dataclass(frozen=True)
class _Offers:
    """A market's offers per seller (rows) and day (columns): the seller's price level
    (mean log price of its offers), the variance of its offers' log prices around that
    level and the number of its offers quoted."""

    levels: NDArray[np.float64]
    within: NDArray[np.float64]
    count: NDArray[np.float64]

    def take(self, rows: NDArray[np.int64]) -> _Offers:
        return _Offers(self.levels[rows], self.within[rows], self.count[rows])

    def variance(self) -> NDArray[np.float64]:
        """The daily sample variance of the log prices of all the offers."""
        n = self.count.sum(axis=0)
        mean = (self.count * self.levels).sum(axis=0) / n
        ss = (self.count * (self.within + (self.levels - mean) ** 2)).sum(axis=0)
        return ss / np.maximum(n - 1, 1)

    def size(self) -> int:
        """The number of offers on a typical day (the median of the daily count)."""
        return round(float(np.median(self.count.sum(axis=0))))


@dataclass
class _Group:
    """The best converged group of one market: members (row positions) and break day."""

    members: NDArray[np.int64]
    tau: int
    f: float
    p_variance: float
    var_before: float
    var_after: float


class PriceCollusionScreen(Detector):
    """Sellers of a relevant market whose prices converge and then move in lockstep.

    **What it detects**

    Relevant markets (a product category, on one platform or across platforms) in which a
    group of sellers shows the price pattern cartel screens look for: their prices,
    dispersed before, converge at some date to nearly the same level (the variance
    screen: dispersion falls sharply), and from then on they change prices together —
    the same direction within a few days, repeatedly (synchronised, parallel moves),
    often with the same seller moving first (stable price leadership). This is a
    *screen*: a finding is a lead for an investigation, not proof of an agreement.

    **Why it matters**

    Competitors may not agree to fix or change prices (AML 2022 art. 17); organising or
    materially helping such an agreement — e.g. a platform whose pricing tools align its
    merchants' prices — is prohibited as well (art. 19, hub-and-spoke). Agreements are
    hidden; regulators use screens on price data to find markets worth investigating
    (Abrantes-Metz, Froeb, Geweke & Taylor 2006, "A variance screen for collusion";
    Harrington 2008 on collusive markers: low dispersion, parallel and synchronised
    price changes, price leadership).

    **Method**

    The engine reduces the public prices (``list_price``) of the quotes to one value per
    offer and China-local day (mean log price), normalises each offer to its own mean
    level over the period, and averages per seller, category and day: a daily price index
    per seller and market, the seller's mean price level, the number of its offers quoted
    and the variance of their log prices (one pass over the quotes). Dispersion is that of
    the offers: a seller's mean price can sit near the others' while its offers are far
    apart, and come closer without them converging. Days without quotes carry a
    seller's values over from the day before; so do days on which it quotes fewer of its
    offers than on most days, for the number and variance of its offers (its index comes
    from the offers quoted). For each category, on the sellers quoted on at least
    ``cn.detection.pricing.collusion_min_segment_days`` days:

    * *Moves*: a change of a seller's index of at least
      ``cn.detection.pricing.collusion_price_resolution_pct`` starts a price move (runs of
      same-direction days are one move). Two sellers *co-move* when their moves go the
      same direction within ``cn.detection.pricing.collusion_max_follow_days``.
    * *Break and group*: for every candidate break day leaving at least
      ``collusion_min_segment_days`` days on each side, two sellers are *linked* when they
      co-moved at least ``cn.detection.pricing.collusion_min_joint_moves`` times from the
      break on and the root-mean-square gap between their offers' log prices (every offer
      of one against every offer of the other) fell by at least
      ``cn.detection.pricing.collusion_min_dispersion_drop_pct`` (gaps below the
      resolution count as zero). Linked sellers are grouped (connected components), and
      each group is peeled to its core in which every seller is linked to at least
      ``cn.detection.pricing.collusion_min_joint_share`` of the others; cores need
      ``cn.detection.pricing.collusion_min_group_merchants`` sellers. The best core (below)
      is then extended one seller at a time by the seller that co-moved at least
      ``collusion_min_joint_moves`` times from the break on with
      ``collusion_min_joint_share`` of the members and lowers the variance p-value most,
      while one does (a member whose price was already near some of the others before
      the break is not linked to them, yet belongs to the group).
    * *Variance screen*: the group's daily variance of its offers' log prices — each day
      the lowest of that day and the follow window after it, as sellers that follow a
      move within the window move in sync — is taken at its lower quartile before the
      break and its upper quartile after it (so a temporary divergence, such as an
      emergency, or a few lagged moves do not make a break); the F-test of the two
      (``n − 1`` degrees of freedom each, ``n`` offers of the group on a typical day)
      gives the variance p-value and the dispersion drop (both floored at the
      resolution). The core with the smallest
      p-value is the market's candidate; its break is then placed where the log of its
      daily variance (each day's own) shifts level (the least absolute deviations split
      into two segments) unless the dispersion does not fall there. As the break was
      searched for, the variance p-value is multiplied by the number of breaks tried,
      counted in blocks of ``collusion_min_segment_days`` (breaks closer than that split
      the days into nearly the same samples): a Bonferroni correction for the search
      over time.
    * *Synchronisation screen*: after the break, a *joint move* is a move in which at
      least ``collusion_min_joint_share`` of the group (and two sellers) move the same
      direction within the follow window, by about the same amount (the dispersion of
      the sellers moving changes by less than the resolution), while no seller of the
      group moves only the other way (sellers moving towards each other converge, they
      do not move in parallel). Members that took part in fewer than
      ``collusion_min_joint_share`` of the group's joint moves do not move in step with
      it: they are dropped and the variance screen and the joint moves taken again,
      until every member took part in enough (fewer than
      ``collusion_min_group_merchants`` left: no candidate). The
      statistic sums, over the group's moves, the other members moving the same way
      within the follow window (moves shared by at least ``collusion_min_joint_share`` of
      the market's other sellers, and by ``collusion_min_group_merchants`` of them, are a
      common shock and do not count); its p-value comes
      from ``cn.detection.pricing.collusion_permutations`` random circular shifts of each
      seller's move days (which keeps each seller's frequency of moves). The first mover
      of each joint move gives the price leader and how often it led; the mean
      correlation of the sellers' index changes (summed over follow windows) measures
      parallelism.
    * *Decision*: the two p-values are combined with Fisher's method, Benjamini–Hochberg
      q-values are taken across the categories screened, and a market is reported when
      q is at most ``cn.detection.fdr_q``, the dispersion drop reaches the materiality
      above and the group made at least ``collusion_min_joint_moves`` joint moves after
      the break. The market is the category on one platform when the whole group sells
      there (then art. 19 is cited as well: the platform may organise it) and the
      category across platforms otherwise. Evidence lists the group's sellers, scored by
      the share of joint moves each took part in. Every category screened is recorded
      in the run, reported or not, with its q-value and its group's size, dispersion
      drop and joint moves.

    **Known limitations**

    A screen, not proof: sellers may converge for lawful reasons (a shared supplier's
    recommended price, price-matching promises, a regulated price), and the tests'
    p-values do not account for the search over groups of sellers (nor for extending and
    pruning the group), the F-test counts a group's offers as independent draws (offers
    a seller prices together carry less information than their number), and the
    correction for the search over breaks is a bound (the q-values rank leads; they are
    not exact error rates). Levels of different offers of a
    category are compared directly, so a category mixing pack sizes has a high natural
    dispersion (that makes convergence easier to see, not harder). Context-dependent
    list prices (regional prices, peak hours) add day-to-day noise to the index. A cartel
    that formed before the reported period (no break) or keeps prices apart while moving
    them together is only seen through the synchronisation screen, which alone does not
    trigger a report. Quotes without ``list_price`` are not used.
    """

    code = "FW104"
    name = "pricing.collusion"
    family = "pricing.collusion"
    legal_basis = ("cn.aml2022.art17", "cn.aml2022.art19")
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.pricing.collusion_min_group_merchants",
        "cn.detection.pricing.collusion_min_dispersion_drop_pct",
        "cn.detection.pricing.collusion_price_resolution_pct",
        "cn.detection.pricing.collusion_max_follow_days",
        "cn.detection.pricing.collusion_min_joint_moves",
        "cn.detection.pricing.collusion_min_joint_share",
        "cn.detection.pricing.collusion_min_segment_days",
        "cn.detection.pricing.collusion_permutations",
        "cn.detection.pricing.collusion_severity_dispersion_drop_pct",
    )
    inputs = {
        "price_quotes": ("ts", "sku_id", "list_price"),
        "products": ("sku_id", "platform_id", "merchant_id", "category"),
    }
    cost = 4

    def summarize(self, ctx: Context) -> ir.Table:
        q = ctx.table("price_quotes")
        q = q.filter(q.list_price.notnull(), q.list_price > 0)
        q = q.mutate(day=local_date(q.ts), lp=q.list_price.ln())
        daily = q.group_by(["sku_id", "day"]).aggregate(lp=q.lp.mean())
        p = ctx.table("products").select("sku_id", "platform_id", "merchant_id", "category")
        d = daily.join(p, "sku_id")
        d = d.mutate(ref=d.lp.mean().over(ibis.window(group_by=d.sku_id)))
        return d.group_by(["category", "platform_id", "merchant_id", "day"]).aggregate(
            skus=d.count(),
            idx=(d.lp - d.ref).mean(),
            ref=d.ref.mean(),
            within=d.lp.var(how="pop"),
        )

    def _settings(self, ctx: Context) -> _Settings:
        resolution = math.log1p(
            float(ctx.param("cn.detection.pricing.collusion_price_resolution_pct")) / 100
        )
        return _Settings(
            min_group=int(ctx.param("cn.detection.pricing.collusion_min_group_merchants")),
            min_drop=float(ctx.param("cn.detection.pricing.collusion_min_dispersion_drop_pct"))
            / 100,
            eps=resolution**2,
            resolution=resolution,
            follow=int(ctx.param("cn.detection.pricing.collusion_max_follow_days")),
            min_joint=int(ctx.param("cn.detection.pricing.collusion_min_joint_moves")),
            share=float(ctx.param("cn.detection.pricing.collusion_min_joint_share")),
            min_days=int(ctx.param("cn.detection.pricing.collusion_min_segment_days")),
            permutations=int(ctx.param("cn.detection.pricing.collusion_permutations")),
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        cfg = self._settings(ctx)
        summary = summary.assign(day=pd.to_datetime(summary["day"]).dt.normalize())
        calendar = pd.date_range(summary["day"].min(), summary["day"].max(), freq="D")
        if len(calendar) < 2 * cfg.min_days:
            ctx.log.info("period of %d days too short to screen for breaks", len(calendar))
            return []
        platform_of = summary.groupby("merchant_id", sort=True)["platform_id"].first()
        results: list[dict[str, Any]] = []
        for category, rows in summary.groupby("category", sort=True):
            result = self._screen(str(category), rows, calendar, cfg)
            if result is not None:
                results.append(result)
        if not results:
            return []
        q = bh_qvalues([r["pvalue"] for r in results])
        fdr = float(ctx.param("cn.detection.fdr_q"))
        bands = ctx.param("cn.detection.pricing.collusion_severity_dispersion_drop_pct")
        findings = []
        for r, qv in zip(results, q, strict=True):
            r["qvalue"] = float(qv)
            found = r.get("group") is not None
            reported = bool(
                found
                and qv <= fdr
                and r["drop"] >= cfg.min_drop
                and r["joint_moves"] >= cfg.min_joint
            )
            group = (
                {
                    "group_size": len(r["group"]),
                    "dispersion_drop_pct": r["drop"] * 100,
                    "joint_moves": r["joint_moves"],
                }
                if found
                else {"group_size": 0}
            )
            ctx.record_test(
                r["category"],
                reported,
                q_value=qv,
                merchants_screened=r["merchants_screened"],
                **group,
            )
            if reported:
                findings.append(self._finding(ctx, r, platform_of, bands))
        ctx.log.info("screened %d markets, %d reported", len(results), len(findings))
        return findings

    # -- one market ---------------------------------------------------------------------

    def _screen(
        self, category: str, rows: pd.DataFrame, calendar: pd.DatetimeIndex, cfg: _Settings
    ) -> dict[str, Any] | None:
        index = rows.pivot(index="merchant_id", columns="day", values="idx").reindex(
            columns=calendar
        )
        index = index.sort_index()
        seen = index.notna().sum(axis=1)
        index = index[seen >= cfg.min_days]
        if len(index) < cfg.min_group:
            return None
        index = index.ffill(axis=1).bfill(axis=1)
        base = rows.groupby("merchant_id")["ref"].mean().reindex(index.index)
        merchants = index.index.to_numpy().astype(str)
        idx = index.to_numpy(dtype=float)
        levels = idx + base.to_numpy(dtype=float)[:, None]
        offers = _offers(rows, levels, index.index, calendar)
        starts = _move_starts(idx, cfg.resolution)
        result: dict[str, Any] = {
            "category": category,
            "merchants_screened": len(merchants),
            "pvalue": 1.0,
            "group": None,
        }
        group = _best_group(offers, starts, cfg)
        if group is None:
            return result
        stepped = _in_step(group, offers, starts, cfg)
        if stepped is None:
            return result
        group, after, events, taken = stepped
        members = group.members
        seed = zlib.crc32(category.encode("utf-8"))
        sync_stat, p_sync = _sync_test(after, cfg, seed)
        moves = int((after != 0).sum())
        in_events = sum(len(e["who"]) for e in events)
        leader, led = _leader(events, merchants[members])
        sd_before, sd_after = math.sqrt(group.var_before), math.sqrt(group.var_after)
        drop = 1 - math.sqrt((group.var_after + cfg.eps) / (group.var_before + cfg.eps))
        breaks = _breaks_searched(len(calendar), cfg.min_days)
        p_variance = min(1.0, group.p_variance * breaks)
        p_comb = float(stats.combine_pvalues([p_variance, p_sync], method="fisher").pvalue)
        participation = taken / max(len(events), 1)
        result.update(
            pvalue=p_comb,
            group=merchants[members].tolist(),
            participation=participation.tolist(),
            break_on=calendar[group.tau].date(),
            last_day=calendar[-1].date(),
            dispersion_before=sd_before,
            dispersion_after=sd_after,
            drop=drop,
            f=group.f,
            p_variance=p_variance,
            p_variance_at_break=group.p_variance,
            breaks_searched=breaks,
            sync_statistic=sync_stat,
            p_sync=p_sync,
            joint_moves=len(events),
            sync_share=in_events / moves if moves else 0.0,
            leader=leader,
            leader_share=led / len(events) if events else 0.0,
            parallelism=_parallelism(idx[members][:, group.tau + cfg.follow :], cfg.follow),
        )
        return result

    def _finding(
        self,
        ctx: Context,
        r: dict[str, Any],
        platform_of: pd.Series,
        bands: dict[str, float],
    ) -> Finding:
        group: list[str] = r["group"]
        platforms = sorted({str(platform_of[m]) for m in group})
        single = len(platforms) == 1
        order = sorted(
            range(len(group)),
            key=lambda i: (group[i] != r["leader"], -r["participation"][i], group[i]),
        )
        drop_pct = r["drop"] * 100
        legal = ("cn.aml2022.art17", "cn.aml2022.art19") if single else ("cn.aml2022.art17",)
        return self.finding(
            ctx,
            subject_id=r["category"],
            platform_id=platforms[0] if single else None,
            period_start=r["break_on"],
            period_end=r["last_day"],
            severity=severity_from_bands(drop_pct, bands),
            score=round(float(np.clip(r["drop"] * (1 - r["qvalue"]), 0, 1)), 6),
            legal_basis=legal,
            statistics={
                "market": f"{r['category']} on {platforms[0]}"
                if single
                else f"{r['category']} across platforms",
                "platforms": platforms,
                "merchants_screened": r["merchants_screened"],
                "group_size": len(group),
                "break_on": r["break_on"],
                "dispersion_before": r["dispersion_before"],
                "dispersion_after": r["dispersion_after"],
                "dispersion_drop_pct": drop_pct,
                "f_statistic": r["f"],
                "p_variance": r["p_variance"],
                "p_variance_at_break": r["p_variance_at_break"],
                "breaks_searched": r["breaks_searched"],
                "joint_moves": r["joint_moves"],
                "sync_share": r["sync_share"],
                "sync_statistic": r["sync_statistic"],
                "p_sync": r["p_sync"],
                "parallelism": r["parallelism"],
                "leader": r["leader"],
                "leader_share": r["leader_share"],
                "pvalue": r["pvalue"],
                "qvalue": r["qvalue"],
            },
            evidence=[
                Evidence(
                    "merchants",
                    [group[i] for i in order],
                    scores=[round(float(r["participation"][i]), 6) for i in order],
                    note="sellers whose prices converged and moved together (leader first); "
                    "score: share of the joint moves each took part in",
                )
            ],
        )


# -- building blocks (arrays: one row per seller, one column per day) ----------------------


def _offers(
    rows: pd.DataFrame,
    levels: NDArray[np.float64],
    merchants: pd.Index,
    calendar: pd.DatetimeIndex,
) -> _Offers:
    """The sellers' offers per day. A day on which a seller quotes fewer of its offers
    than on most days (its median) is taken as a gap, like a day without quotes: the
    count and variance of its offers carry over from the last full day (an offer missing
    for a day is not an offer moving)."""

    def table(column: str) -> pd.DataFrame:
        pivot = rows.pivot(index="merchant_id", columns="day", values=column)
        return pivot.reindex(index=merchants, columns=calendar)

    count, within = table("skus"), table("within")
    partial = count.lt(count.median(axis=1), axis=0)
    count, within = count.mask(partial), within.mask(partial)

    def filled(t: pd.DataFrame) -> NDArray[np.float64]:
        return t.ffill(axis=1).bfill(axis=1).fillna(0.0).to_numpy(dtype=float)

    return _Offers(levels, filled(within), filled(count))


def _move_starts(idx: NDArray[np.float64], resolution: float) -> NDArray[np.int64]:
    """+1 / −1 on the first day of each run of same-direction index changes, else 0."""
    change = np.diff(idx, axis=1, prepend=idx[:, :1])
    sign = np.sign(change) * (np.abs(change) >= resolution - 1e-12)
    previous = np.concatenate([np.zeros((len(sign), 1)), sign[:, :-1]], axis=1)
    return np.where((sign != 0) & (sign != previous), sign, 0).astype(np.int64)


def _dilate(x: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    """True within ``k`` days of a True (both directions)."""
    out = x.copy()
    for shift in range(1, k + 1):
        out[:, shift:] |= x[:, :-shift]
        out[:, :-shift] |= x[:, shift:]
    return out


def _co_moves(starts: NDArray[np.int64], follow: int, since: int = 0) -> NDArray[np.float64]:
    """Pairwise count of moves (starting on day ``since`` or later) matched by the other
    seller (same direction, within ``follow`` days), the smaller of the two directions."""
    counts = np.zeros((len(starts), len(starts)))
    for sign in (1, -1):
        x = starts == sign
        near = _dilate(x, follow)
        x[:, :since] = False
        counts += x.astype(float) @ near.T.astype(float)
    counts = np.minimum(counts, counts.T)
    np.fill_diagonal(counts, 0)
    return counts


def _co_moves_from(
    starts: NDArray[np.int64], pairs: NDArray[np.int64], taus: NDArray[np.int64], follow: int
) -> NDArray[np.float64]:
    """For each pair (rows) and candidate break (columns): the co-moves (as in
    :func:`_co_moves`) of the pair's moves starting on or after the break."""
    a, b = pairs[:, 0], pairs[:, 1]
    ab = np.zeros((len(pairs), starts.shape[1]))
    ba = np.zeros_like(ab)
    for sign in (1, -1):
        x = starts == sign
        near = _dilate(x, follow)
        ab += x[a] & near[b]
        ba += x[b] & near[a]
    tail_ab = np.cumsum(ab[:, ::-1], axis=1)[:, ::-1]
    tail_ba = np.cumsum(ba[:, ::-1], axis=1)[:, ::-1]
    return np.minimum(tail_ab[:, taus], tail_ba[:, taus])


def _core(linked: NDArray[np.bool_], cfg: _Settings) -> NDArray[np.int64]:
    """Positions of the core of a connected group: the least-linked seller is peeled, one
    at a time, until each is linked to ``share`` of the others; empty when fewer than the
    minimum group remain."""
    sub = linked.astype(np.int64)
    degree = sub.sum(axis=1)
    alive = np.ones(len(linked), dtype=bool)
    size = len(linked)
    while size >= cfg.min_group:
        need = math.ceil(cfg.share * (size - 1) - 1e-9)
        candidate = np.where(alive, degree, np.iinfo(np.int64).max)
        j = int(np.argmin(candidate))
        if candidate[j] >= need:
            return np.flatnonzero(alive)
        alive[j] = False
        degree -= sub[:, j]
        size -= 1
    return np.flatnonzero(alive)[:0]


def _best_group(offers: _Offers, starts: NDArray[np.int64], cfg: _Settings) -> _Group | None:
    """The break day and converged, co-moving group with the smallest variance p-value.

    Only pairs of sellers that co-moved often enough over the whole period can co-move
    often enough after a break; for them the co-moves after every candidate break and
    the mean squared gap between their offers' log prices before and after it come from
    cumulative sums.
    """
    levels, within = offers.levels, offers.within
    days = levels.shape[1]
    co = _co_moves(starts, cfg.follow) >= cfg.min_joint
    pairs = np.argwhere(np.triu(co, 1))
    if len(pairs) < cfg.min_group - 1:
        return None
    a, b = pairs[:, 0], pairs[:, 1]
    gap2 = (levels[a] - levels[b]) ** 2 + within[a] + within[b]
    cum = np.cumsum(gap2, axis=1)
    taus = np.arange(cfg.min_days, days - cfg.min_days + 1)
    before = cum[:, taus - 1] / taus
    after = (cum[:, -1:] - cum[:, taus - 1]) / (days - taus)
    rho2 = (1 - cfg.min_drop) ** 2
    linked_at = (after + cfg.eps <= rho2 * (before + cfg.eps)) & (
        _co_moves_from(starts, pairs, taus, cfg.follow) >= cfg.min_joint
    )
    best: _Group | None = None
    cores: dict[bytes, list[NDArray[np.int64]]] = {}
    for j, tau in enumerate(taus):
        edges = pairs[linked_at[:, j]]
        if len(edges) < cfg.min_group - 1:
            continue
        key = edges.tobytes()
        if key not in cores:
            cores[key] = _cores_of(edges, cfg)
        for core in cores[key]:
            screen = _variance_screen(offers.take(core), int(tau), cfg)
            if screen.f <= 1 and best is not None:
                continue
            if best is None or (screen.p_variance, -len(core)) < (
                best.p_variance,
                -len(best.members),
            ):
                best = _Group(core, int(tau), screen.f, screen.p_variance, 0.0, 0.0)
    if best is None:
        return None
    best = _grow(best, offers, starts, cfg)
    group = offers.take(best.members)
    tau = _change_point(np.log(group.variance() + cfg.eps), cfg.min_days)
    screen = _variance_screen(group, tau, cfg)
    if screen.f <= 1:  # the dispersion level rises there: keep the linked break
        screen = _variance_screen(group, best.tau, cfg)
    screen.members = best.members
    return screen


def _grow(best: _Group, offers: _Offers, starts: NDArray[np.int64], cfg: _Settings) -> _Group:
    """The group extended, one seller at a time, by the seller that co-moved at least
    ``min_joint`` times from the break on with ``share`` of the members and lowers the
    variance p-value (at the same break) most, while one does."""
    co = _co_moves(starts, cfg.follow, since=best.tau) >= cfg.min_joint
    members = best.members
    while True:
        rest = np.setdiff1d(np.arange(len(starts)), members)
        need = math.ceil(cfg.share * len(members) - 1e-9)
        found: _Group | None = None
        for c in rest[co[np.ix_(rest, members)].sum(axis=1) >= need]:
            grown = np.sort(np.append(members, c))
            screen = _variance_screen(offers.take(grown), best.tau, cfg)
            if screen.p_variance < (found or best).p_variance:
                screen.members = grown
                found = screen
        if found is None:
            return best
        best, members = found, found.members


def _in_step(
    group: _Group, offers: _Offers, starts: NDArray[np.int64], cfg: _Settings
) -> tuple[_Group, NDArray[np.int64], list[dict[str, Any]], NDArray[np.float64]] | None:
    """The group's own moves after the break, its joint moves and how many of them each
    member took part in, once the members that took part in fewer than ``share`` of the
    joint moves are dropped (and the joint moves taken again, until every member took
    part in enough); ``None`` when fewer than ``min_group`` sellers move in step."""
    while True:
        members = group.members
        others = np.setdiff1d(np.arange(len(starts)), members)
        after = _own_moves(starts, members, others, cfg)[:, group.tau :]
        events = _joint_moves(after, offers.levels[members][:, group.tau - 1 :], cfg)
        taken = np.zeros(len(members))
        for e in events:
            taken[e["who"]] += 1
        keep = taken >= cfg.share * len(events) - 1e-9
        if keep.all():
            return group, after, events, taken
        if keep.sum() < cfg.min_group:
            return None
        screen = _variance_screen(offers.take(members[keep]), group.tau, cfg)
        screen.members = members[keep]
        group = screen


def _breaks_searched(days: int, min_days: int) -> int:
    """The number of distinct breaks the search tries, at the resolution of a segment.

    Every day leaving ``min_days`` on each side is a candidate, but breaks closer than a
    segment split the days into nearly the same two samples; the candidates are counted
    in blocks of ``min_days`` (at least one).
    """
    return max(1, math.ceil((days - 2 * min_days + 1) / min_days))


def _dispersion(group: _Offers, follow: int) -> NDArray[np.float64]:
    """The group's daily variance of its offers' log prices, each day the lowest within
    the next ``follow`` days: sellers that follow a move within the follow window move
    in sync, so the spread while they catch up is not dispersion."""
    daily = group.variance()
    padded = np.concatenate([daily, np.full(follow, daily[-1])])
    return np.lib.stride_tricks.sliding_window_view(padded, follow + 1).min(axis=1)


def _variance_screen(group: _Offers, tau: int, cfg: _Settings) -> _Group:
    """The variance screen of a group at a break: its daily dispersion (:func:`_dispersion`)
    at the lower quartile before and the upper quartile after, and their F-test (``n - 1``
    degrees of freedom each, ``n`` offers on a typical day)."""
    daily_var = _dispersion(group, cfg.follow)
    var_before = _quantile(daily_var[:tau], BEFORE_QUANTILE)
    var_after = _quantile(daily_var[tau:], AFTER_QUANTILE)
    f = (var_before + cfg.eps) / (var_after + cfg.eps)
    df = max(group.size(), 2) - 1
    return _Group(
        np.arange(len(group.levels)),
        tau,
        f,
        float(special.fdtrc(df, df, f)),
        var_before,
        var_after,
    )


def _change_point(series: NDArray[np.float64], margin: int) -> int:
    """The day splitting ``series`` into two segments best fitted by their medians (least
    absolute deviations), leaving ``margin`` days on each side."""
    best_tau, best_cost = margin, math.inf
    for tau in range(margin, len(series) - margin + 1):
        head, tail = series[:tau], series[tau:]
        cost = float(np.abs(head - np.median(head)).sum() + np.abs(tail - np.median(tail)).sum())
        if cost < best_cost - 1e-9:
            best_tau, best_cost = tau, cost
    return best_tau


def _cores_of(edges: NDArray[np.int64], cfg: _Settings) -> list[NDArray[np.int64]]:
    """The cores (seller row numbers) of the connected groups an edge list forms."""
    nodes, pos = np.unique(edges, return_inverse=True)
    pos = pos.reshape(edges.shape)
    label = np.arange(len(nodes))
    while True:  # label propagation: every node takes the smallest label of its group
        low = np.minimum(label[pos[:, 0]], label[pos[:, 1]])
        new = label.copy()
        np.minimum.at(new, pos[:, 0], low)
        np.minimum.at(new, pos[:, 1], low)
        if np.array_equal(new, label):
            break
        label = new
    adjacency = np.zeros((len(nodes), len(nodes)), dtype=bool)
    adjacency[pos[:, 0], pos[:, 1]] = True
    adjacency[pos[:, 1], pos[:, 0]] = True
    out = []
    for group in np.unique(label):
        comp = np.flatnonzero(label == group)
        if len(comp) < cfg.min_group:
            continue
        core = comp[_core(adjacency[np.ix_(comp, comp)], cfg)]
        if len(core) >= cfg.min_group:
            out.append(nodes[core])
    return out


def _quantile(values: NDArray[np.float64], q: float) -> float:
    """The ``q`` quantile with linear interpolation (numpy's default), for short arrays."""
    ordered = np.sort(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def _own_moves(
    starts: NDArray[np.int64],
    members: NDArray[np.int64],
    others: NDArray[np.int64],
    cfg: _Settings,
) -> NDArray[np.int64]:
    """The group's move starts without market-wide moves: a move shared (same direction,
    within the follow window) by at least ``share`` of the other sellers of the market,
    and by at least ``min_group`` of them, is a common shock, not the group's."""
    own = starts[members].copy()
    need = max(cfg.min_group, math.ceil(cfg.share * len(others) - 1e-9))
    if len(others) < need:
        return own
    for sign in (1, -1):
        near = _dilate(starts[others] == sign, cfg.follow).sum(axis=0)
        own[(own == sign) & (near >= need)[None, :]] = 0
    return own


def _sync_counts(starts: NDArray[np.int64], follow: int) -> NDArray[np.int64]:
    """Synchronisation statistic (over the last two axes: sellers x days): for every move,
    the number of other sellers moving the same direction within ``follow`` days, summed;
    moves while a seller moves only the other way count zero (sellers moving towards each
    other converge; that is not parallel pricing)."""
    pad = [(0, 0)] * (starts.ndim - 1) + [(follow + 1, follow)]
    moving: dict[int, NDArray[np.int32]] = {}
    near: dict[int, NDArray[np.bool_]] = {}
    for sign in (1, -1):
        x = (starts == sign).astype(np.int32)
        cum = np.cumsum(np.pad(x, pad), axis=-1)
        moving[sign] = x
        near[sign] = (cum[..., 2 * follow + 1 :] - cum[..., : -(2 * follow + 1)]) > 0
    total = np.zeros(starts.shape[:-2], dtype=np.int64)
    for sign in (1, -1):
        others = near[sign].sum(axis=-2, keepdims=True) - near[sign]
        against = (near[-sign] & ~near[sign]).sum(axis=-2, keepdims=True)
        matched = moving[sign] * others * (against == 0)
        total = total + matched.sum(axis=(-2, -1))
    return total


def _sync_test(after: NDArray[np.int64], cfg: _Settings, seed: int) -> tuple[int, float]:
    """Synchronised moves of the group and their circular-shift permutation p-value."""
    k, days = after.shape
    observed = int(_sync_counts(after, cfg.follow))
    if observed == 0:
        return 0, 1.0
    rng = np.random.default_rng(seed)
    exceed = 0
    done = 0
    batch = 250
    while done < cfg.permutations:
        b = min(batch, cfg.permutations - done)
        shift = rng.integers(0, days, (b, k))
        cols = (np.arange(days)[None, None, :] - shift[:, :, None]) % days
        shifted = after[np.arange(k)[None, :, None], cols]
        exceed += int((_sync_counts(shifted, cfg.follow) >= observed).sum())
        done += b
    return observed, (1 + exceed) / (cfg.permutations + 1)


def _joint_moves(
    after: NDArray[np.int64], levels: NDArray[np.float64], cfg: _Settings
) -> list[dict[str, Any]]:
    """Joint (parallel) moves after the break: windows of ``follow + 1`` days opened by a
    move in which at least ``share`` of the group (and two sellers) move the same
    direction, no seller moves only the opposite way, and the dispersion of the moving
    sellers' log price levels changes by less than the resolution across the window
    (they moved by about the same amount; members not moving do not count); each seller
    takes part with its first such move of the window. ``levels`` holds the group's log
    price levels from the day before the break."""
    k, days = after.shape
    need = max(2, math.ceil(cfg.share * k - 1e-9))
    used = np.zeros_like(after, dtype=bool)
    events: list[dict[str, Any]] = []
    for t in range(days):
        span = slice(t, t + cfg.follow + 1)
        for sign in (1, -1):
            if not ((after[:, t] == sign) & ~used[:, t]).any():
                continue
            window = (after[:, span] == sign) & ~used[:, span]
            who = np.flatnonzero(window.any(axis=1))
            against = (after[:, span] == -sign).any(axis=1)
            if len(who) < need or against[~window.any(axis=1)].any():
                continue
            spread_before = levels[who, t].std()
            spread_after = levels[who, min(t + cfg.follow + 1, levels.shape[1] - 1)].std()
            if abs(spread_after - spread_before) > cfg.resolution:
                continue
            first = window[who].argmax(axis=1)
            used[who, t + first] = True
            events.append({"day": t, "sign": sign, "who": who, "first": who[first == first.min()]})
    return events


def _leader(events: list[dict[str, Any]], names: NDArray[Any]) -> tuple[str | None, int]:
    """The seller that moved first (alone) in most joint moves, and in how many."""
    counts: dict[str, int] = {}
    for e in events:
        if len(e["first"]) == 1:
            name = str(names[e["first"][0]])
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return None, 0
    leader = min(counts, key=lambda m: (-counts[m], m))
    return leader, counts[leader]


def _parallelism(idx: NDArray[np.float64], follow: int) -> float | None:
    """Mean pairwise correlation of the sellers' index changes over blocks of
    ``follow + 1`` days (so a follower's lag stays within a block)."""
    width = follow + 1
    blocks = (idx.shape[1] - 1) // width
    if blocks < 2:
        return None
    ends = idx[:, ::width][:, : blocks + 1]
    changes = np.diff(ends, axis=1)
    moving = changes.std(axis=1) > 0
    if moving.sum() < 2:
        return None
    corr = np.corrcoef(changes[moving])
    upper = corr[np.triu_indices(len(corr), k=1)]
    return float(np.nanmean(upper)) if np.isfinite(upper).any() else None
