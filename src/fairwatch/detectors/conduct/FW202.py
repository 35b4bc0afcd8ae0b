"""FW202 conduct.self_preferencing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import optimize, stats

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.stats import bh_qvalues
from fairwatch.engine import local_date

#: Covariates of the ranking model, in the order of the coefficient vector.
COVARIATES = ("log_price", "rating", "log_sales", "self_operated")
STARS = (1, 2, 3, 4, 5)
#: Latent-rating model: a star is a normal latent score rounded to the nearest star and
#: censored at 1 and 5; the posterior is computed on this grid of latent means, the noise
#: sigma is searched within these bounds by marginal likelihood (numerical settings, not
#: thresholds).
_LATENT_GRID = np.linspace(-1.0, 7.0, 161)
_SIGMA_BOUNDS = (0.2, 3.0)
_EM_ROUNDS = 8
_CUTS = np.array([1.5, 2.5, 3.5, 4.5])


class SelfPreference(Detector):
    """A platform ranks its own offers above comparable third-party offers in search.

    **What it detects**

    Platforms whose organic search results place their own (``self_operated``) offers
    higher than third-party offers of the same price, customer rating and sales: the
    ranking gives own offers a weight that the offers' merits do not explain
    (self-preferencing).

    **Why it matters**

    A dominant platform may not apply dissimilar conditions to equivalent transactions,
    including through algorithms and platform rules (AML art. 22(1)(6) and 22(2)), nor
    impose unreasonable conditions on merchants' trading (E-Commerce Law art. 35); the
    platform-responsibility guidelines ask super-large platforms to treat their own
    products and those of merchants on the platform equally.

    **Method**

    Organic ranking is modelled as a rank-ordered (exploded) logit, the Plackett–Luce
    model of a ranking: the offer at each position is drawn from the offers still
    available with probability proportional to ``exp(x·β)``, where ``x`` holds the
    offer's log median list price (``price_quotes``), its customer rating, ``log(1 +
    paid orders)`` (``orders``) and ``self_operated``. The choice set of a search is
    every offer of the queried category on the platform whose store was open that day
    (plus any offer shown for the query), minus the labelled sponsored result, which is
    lawful paid placement and is left out of the organic ranking. Conditioning on the
    search's choice set is a query×day fixed effect; using the whole choice set, not
    only the ten shown, avoids the truncation bias of a regression on shown positions.
    The rating is the latent mean of reviews tied to an order (all reviews where a
    platform has none) under a rounded, censored normal model of stars, shrunk in
    proportion to its noise towards a prior centred on the rating of the store's other
    reviews, shifted for own or third-party offers (regression calibration; without it
    the noise in ratings of offers that really are better would be credited to
    ``self_operated``). The offer's own reviews are left out of its prior so they do
    not count twice, which would understate the rating's posterior variance; that
    variance is added to the coefficients' (delta method). The store's other reviews
    measure its level through ``k`` other offers, each with its own deviation, so the
    prior follows them by their reliability ``ρk / (ρk + 1)``, ``ρ`` the ratio of
    store-level to offer-level variance estimated with the prior (at face value, the
    ratings of offers in small stores came out too spread and offers that really are
    better were under-credited). ``exp(β_self)`` is the
    weight ratio of an own offer over a comparable third-party offer.

    The engine aggregates prices, ratings and sales per offer (one pass over each
    table) and draws a systematic sample of at most
    ``cn.detection.conduct.self_preference_max_searches`` searches per platform (every
    k-th ``query_id``). The model is fitted per platform by maximum likelihood with
    standard errors clustered by query (the query's offers share unobserved traits);
    the one-sided p-value of ``β_self > 0`` uses a t distribution with (queries − 1)
    degrees of freedom, and Benjamini–Hochberg q-values are taken across platforms. A
    platform is reported when its q-value is at most ``cn.detection.fdr_q`` and the
    weight ratio is at least ``cn.detection.conduct.self_preference_min_weight_ratio``.
    Evidence lists the own offers (scored by how much more often they topped the
    organic results than their merits predict) and searches in which an own offer was
    placed above a third-party offer the model rates better on merits.

    **Known limitations**

    Ranking signals the standard does not report (delivery speed, stock, returns,
    relevance of a free-text query) are unobserved: if own offers are better on them,
    the advantage is attributed to self-preferencing; the materiality ratio leaves room
    for that. A platform with a single queried category cannot be tested (no clusters
    to estimate the error). Ranking outside search (feeds, recommendations) is not
    seen. Power is set by the number of own offers and of their reviews, since the
    noise of their ratings does not average out over searches: for every platform
    tested the run records (``tested`` in ``run.json``, "Tested without a finding" in
    the report) the weight ratio, q-value and the smallest weight ratio the test would
    find with 80 % power. On
    synthetic markets that was ×2 to ×3 with five to ten own offers of about a dozen
    reviews each, about ×1.7 with ten to thirty own offers of about twenty reviews, and
    ×1.2 to ×1.3 with a few hundred own offers.
    """

    code = "FW202"
    name = "conduct.self_preference"
    family = "conduct.self_preferencing"
    legal_basis = (
        "cn.aml2022.art22",
        "cn.ecommerce_law.art35",
        "cn.platform_responsibility_draft.art2",
    )
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.conduct.self_preference_min_weight_ratio",
        "cn.detection.conduct.self_preference_severity_weight_ratio",
        "cn.detection.conduct.self_preference_max_searches",
    )
    inputs = {
        "products": ("sku_id", "platform_id", "merchant_id", "category", "self_operated"),
        "price_quotes": ("sku_id", "list_price"),
        "reviews": ("sku_id", "merchant_id", "rating", "order_id"),
        "orders": ("sku_id", "status"),
        "search_results": (
            "query_id",
            "ts",
            "platform_id",
            "query",
            "position",
            "sku_id",
            "sponsored",
        ),
        "merchants": ("merchant_id", "opened_on", "closed_on"),
        "merchant_events": ("merchant_id", "ts", "event"),
    }
    cost = 5

    # -- engine phase --------------------------------------------------------------------

    def summarize(self, ctx: Context) -> ir.Table:
        """Per offer: median list price, star counts of its reviews and of its store's
        (all reviews and order-backed ones) and paid orders."""
        p = ctx.table("products").select(
            "sku_id", "platform_id", "merchant_id", "category", "self_operated"
        )
        q = ctx.table("price_quotes")
        q = q.filter(q.list_price.notnull(), q.list_price > 0)
        prices = q.group_by("sku_id").aggregate(price=q.list_price.median())
        r = ctx.table("reviews")
        r = r.filter(r.rating.notnull())
        r = r.mutate(star=r.rating.round().cast("int64").clip(lower=1, upper=5))

        def star_counts(key: str, prefix: str) -> ir.Table:
            rr = r.filter(r[key].notnull())
            verified = rr.order_id.notnull()
            counts = {}
            for k in STARS:
                hit = rr.star == k
                counts[f"{prefix}a{k}"] = ibis.ifelse(hit, 1, 0).sum()
                counts[f"{prefix}v{k}"] = ibis.ifelse(hit & verified, 1, 0).sum()
            return rr.group_by(key).aggregate(**counts)

        per_sku = star_counts("sku_id", "r_")
        per_store = star_counts("merchant_id", "m_")
        o = ctx.table("orders")
        o = o.filter(o.status == "paid", o.sku_id.notnull())
        sales = o.group_by("sku_id").aggregate(sales=o.count())
        out = (
            p.left_join(prices, "sku_id")
            .left_join(per_sku, "sku_id")
            .left_join(per_store, "merchant_id")
            .left_join(sales, "sku_id")
        )
        return out.select(
            "sku_id",
            "platform_id",
            "merchant_id",
            "category",
            "self_operated",
            "price",
            *[f"{lv}{kind}{k}" for lv in ("r_", "m_") for kind in "av" for k in STARS],
            sales=out.sales.fill_null(0),
        )

    def _searches(self, ctx: Context, max_searches: int) -> ir.Table:
        """A systematic sample of searches: every k-th ``query_id`` per platform."""
        s = ctx.table("search_results")
        ids = s.select("platform_id", "query_id").distinct()
        ids = ids.mutate(
            rn=ibis.row_number().over(group_by=ids.platform_id, order_by=ids.query_id),
            total=ids.query_id.count().over(group_by=ids.platform_id),
        )
        step = (ids.total + (max_searches - 1)) // max_searches
        kept = ids.filter((ids.rn % step) == 0).select("platform_id", "query_id", "total")
        rows = s.inner_join(kept, ["platform_id", "query_id"])
        return rows.select(
            "platform_id",
            "query_id",
            "query",
            "position",
            "sku_id",
            "sponsored",
            "total",
            day=local_date(rows.ts),
        )

    def run(self, ctx: Context) -> list[Finding]:
        offers = ctx.execute(self.summarize(ctx))
        if offers.empty or not offers["self_operated"].fillna(False).astype(bool).any():
            return []
        max_searches = int(ctx.param("cn.detection.conduct.self_preference_max_searches"))
        searches = ctx.execute(self._searches(ctx, max_searches))
        m = ctx.table("merchants").select("merchant_id", "opened_on", "closed_on")
        e = ctx.table("merchant_events")
        e = e.filter(e.event.isin(["demote", "penalty"]))
        first = e.group_by("merchant_id").aggregate(sanctioned_on=local_date(e.ts).min())
        stores = ctx.execute(m.left_join(first, "merchant_id").select(*m.columns, "sanctioned_on"))
        return self.judge(ctx, offers, searches, stores)

    # -- statistics phase ----------------------------------------------------------------

    def judge(
        self,
        ctx: Context,
        summary: pd.DataFrame,
        searches: pd.DataFrame | None = None,
        stores: pd.DataFrame | None = None,
    ) -> list[Finding]:
        if searches is None or stores is None or searches.empty or summary.empty:
            return []
        # The engines return rows in any order; the fit must not depend on it.
        summary = summary.sort_values(["platform_id", "sku_id"], kind="stable")
        searches = searches.sort_values(["platform_id", "query_id", "position"], kind="stable")
        offers = _covariates(summary.reset_index(drop=True))
        searches = searches.assign(
            day=pd.to_datetime(searches["day"]).dt.date,
            sponsored=searches["sponsored"].fillna(False).astype(bool),
        )
        fits: list[_Fit] = []
        for pid, rows in searches.groupby("platform_id", sort=True):
            mine = offers[offers["platform_id"] == pid].reset_index(drop=True)
            fit = _fit_platform(str(pid), mine, rows, stores)
            if fit is None:
                ctx.log.debug("%s: not testable (no competing own offers or < 2 queries)", pid)
                continue
            fits.append(fit)
        if not fits:
            return []
        q_values = bh_qvalues([f.p for f in fits])
        fdr = float(ctx.param("cn.detection.fdr_q"))
        min_ratio = float(ctx.param("cn.detection.conduct.self_preference_min_weight_ratio"))
        bands = ctx.param("cn.detection.conduct.self_preference_severity_weight_ratio")
        findings = []
        for fit, q in zip(fits, q_values, strict=True):
            ratio = math.exp(fit.beta[-1])
            # what "not reported" means for this platform: the smallest weight ratio the
            # test would find with 80 % power at the FDR level (a lower bound: BH asks for
            # p at most the level, and less when fewer platforms are found)
            se = float(fit.se[-1])
            detectable = math.exp((stats.t.ppf(1 - fdr, fit.df) + stats.t.ppf(0.8, fit.df)) * se)
            ctx.log.info(
                "%s: weight ratio %.3f, t %.2f on %d df, p %.3g, q %.3g; %d own offers, "
                "smallest ratio detectable with 80 %% power x%.2f",
                fit.platform_id,
                ratio,
                fit.t,
                fit.df,
                fit.p,
                q,
                fit.own_offers,
                max(detectable, min_ratio),
            )
            reported = bool(q <= fdr and ratio >= min_ratio)
            ctx.record_test(
                fit.platform_id,
                reported,
                weight_ratio=ratio,
                q_value=q,
                own_offers=fit.own_offers,
                detectable_weight_ratio=max(detectable, min_ratio),
            )
            if reported:
                findings.append(self._finding(ctx, fit, float(q), ratio, bands))
        return findings

    def _finding(self, ctx: Context, fit: _Fit, q: float, ratio: float, bands: Any) -> Finding:
        coef = dict(zip(COVARIATES, fit.beta, strict=True))
        se = dict(zip(COVARIATES, fit.se, strict=True))
        return self.finding(
            ctx,
            subject_id=fit.platform_id,
            platform_id=fit.platform_id,
            period_start=fit.first_day,
            period_end=fit.last_day,
            severity=severity_from_bands(ratio, bands),
            score=round(max(0.0, min(1.0, (1 - q) * (1 - 1 / ratio))), 6),
            statistics={
                "weight_ratio": ratio,
                "coefficient": coef["self_operated"],
                "std_error": se["self_operated"],
                "t_statistic": fit.t,
                "df": fit.df,
                "p_value": fit.p,
                "q_value": q,
                "coefficients": coef,
                "std_errors": se,
                "searches": fit.searches,
                "searches_total": fit.searches_total,
                "queries": fit.df + 1,
                "own_offers": fit.own_offers,
                "third_party_offers": fit.third_party_offers,
                "mean_organic_rank_own": fit.rank_own,
                "mean_organic_rank_third_party": fit.rank_third,
                "test": "rank-ordered logit over each search's available offers "
                "(sponsored result excluded), SE clustered by query, one-sided t with "
                "queries-1 df, BH across platforms",
            },
            evidence=[
                Evidence(
                    "products",
                    fit.own_ids,
                    scores=fit.own_scores,
                    note="own offers, scored by how much more often they topped the "
                    "organic results than their price, rating and sales predict",
                ),
                Evidence(
                    "search_results",
                    fit.example_ids,
                    scores=fit.example_scores,
                    note="query_id of searches where an own offer was placed above a "
                    "third-party offer that is better on price, rating and sales",
                ),
            ],
        )


# -- per-offer covariates -------------------------------------------------------------------


def _latent_ratings(
    counts: np.ndarray,
    groups: np.ndarray,
    centres: np.ndarray | None = None,
    reach: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and variances of latent ratings from star counts (empirical Bayes).

    A review's star is the latent mean plus normal noise (``sigma``, common to the
    platform), rounded to the nearest star and censored at 1 and 5. The latent means of
    each group (own or third-party) follow a normal prior, centred on the group's mean
    or, when ``centres`` is given, on each row's own centre plus a group shift; centres,
    shifts and spreads are estimated by EM on a grid, and ``sigma`` maximises the
    marginal likelihood. The posterior mean undoes both the ceiling of the star scale (a
    mean of 4.6 stars hides very different offers) and the noise of few reviews
    (regression calibration); a row without reviews gets its prior mean.
    """
    counts = np.asarray(counts, dtype=float)
    labels, g = np.unique(groups, return_inverse=True)
    rated = counts.sum(axis=1) > 0
    if not rated.any():
        return np.full(len(counts), np.nan), np.zeros(len(counts))
    grid = _LATENT_GRID
    step = float(grid[1] - grid[0])
    start = np.array([_weighted_mean(counts[(g == k) & rated]) for k in range(len(labels))])

    def fit(sigma: float) -> tuple[float, np.ndarray, np.ndarray]:
        cdf = stats.norm.cdf((_CUTS[None, :] - grid[:, None]) / sigma)
        edges = np.zeros((len(grid), 1))
        probs = np.diff(np.column_stack([edges, cdf, edges + 1.0]), axis=1)
        loglik = counts @ np.log(np.clip(probs, 1e-300, None)).T  # rows x grid
        shift = start.copy() if centres is None else np.zeros(len(labels))
        base = np.zeros(len(counts)) if centres is None else np.asarray(centres, dtype=float)
        spread = np.full(len(labels), 1.0)
        # the centres' mean per group: an offer's prior follows its centre's deviation
        # from it by the centre's reliability (``pull``, 1 without ``reach``)
        level = np.zeros(len(counts))
        if centres is not None:
            for k in range(len(labels)):
                sel = (g == k) & rated
                level[g == k] = base[sel].mean() if sel.any() else 0.0
        pull = np.ones(len(counts))
        for _ in range(_EM_ROUNDS):
            prior = level + pull * (base - level) + shift[g]
            z = (grid[None, :] - prior[:, None]) / spread[g][:, None]
            logpost = loglik - 0.5 * z * z - np.log(spread[g])[:, None]
            top = logpost.max(axis=1, keepdims=True)
            post = np.exp(logpost - top)
            total = post.sum(axis=1, keepdims=True)
            post /= total
            mean = post @ grid
            var = np.clip(post @ grid**2 - mean**2, 0.0, None)
            for k in range(len(labels)):
                sel = (g == k) & rated
                if sel.any():
                    if reach is not None:
                        pull[sel] = _pull(mean[sel], base[sel], np.asarray(reach)[sel])
                    centred = level[sel] + pull[sel] * (base[sel] - level[sel])
                    shift[k] = float((mean[sel] - centred).mean())
                    dev = mean[sel] - centred - shift[k]
                    spread[k] = max(float(np.sqrt(np.mean(var[sel] + dev**2))), 0.05)
        marginal = float((top[:, 0] + np.log(total[:, 0] * step / np.sqrt(2 * np.pi)))[rated].sum())
        prior = level + pull * (base - level) + shift[g]
        return marginal, np.where(rated, mean, prior), np.where(rated, var, spread[g] ** 2)

    res = optimize.minimize_scalar(
        lambda sd: -fit(float(sd))[0],
        bounds=_SIGMA_BOUNDS,
        method="bounded",
        options={"xatol": 0.02},
    )
    _, mean, var = fit(float(res.x))
    return mean, var


#: Candidate ratios of store-level to offer-level rating variance (see :func:`_pull`).
_VARIANCE_RATIOS = np.geomspace(0.02, 50.0, 41)


def _pull(mean: np.ndarray, centre: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """How far an offer's prior follows its store's centre: ``ρk / (ρk + 1)``.

    Ratings have a store level and an offer's deviation from it. The centre (the store's
    other reviews) measures the store level through ``k`` other offers, so it predicts
    the offer's rating with the reliability ``ρk / (ρk + 1)``, ``ρ`` the ratio of the
    store-level to the offer-level variance; taken at face value (reliability 1), the
    centre of a store of two offers would carry the other offer's own deviation into
    this one's prior. ``ρ`` is chosen by least squares of the offers' posterior means
    (the M-step of the EM in :func:`_latent_ratings`); without other offers the pull is 0.
    """
    y = mean - mean.mean()
    c = centre - centre.mean()
    best, best_loss = np.ones(len(mean)), np.inf
    for rho in _VARIANCE_RATIOS:
        pull = rho * reach / (rho * reach + 1.0)
        x = c * pull
        x = x - x.mean()
        loss = float(((y - x) ** 2).sum())
        if loss < best_loss:
            best, best_loss = pull, loss
    return best


def _weighted_mean(counts: np.ndarray) -> float:
    total = counts.sum()
    return float((counts.sum(axis=0) @ np.array(STARS)) / total) if total > 0 else 4.0


def _covariates(summary: pd.DataFrame) -> pd.DataFrame:
    """The model's covariates per offer (see the class docstring)."""
    o = summary.reset_index(drop=True).copy()
    o["self_operated"] = o["self_operated"].fillna(False).astype(bool)

    def counts(prefix: str, kind: str) -> np.ndarray:
        return o[[f"{prefix}{kind}{k}" for k in STARS]].fillna(0).to_numpy(dtype=float)

    o["rating"] = np.nan
    o["rating_var"] = np.nan
    for _, idx in o.groupby("platform_id", sort=True).groups.items():
        rows = np.asarray(idx)
        # order-backed reviews where the platform reports any, else all reviews
        kind = "v" if counts("r_", "v")[rows].sum() + counts("m_", "v")[rows].sum() > 0 else "a"
        own, store = counts("r_", kind)[rows], counts("m_", kind)[rows]
        so = o.loc[rows, "self_operated"].to_numpy()
        # two levels: the latent rating of the store's *other* reviews centres the prior
        # of an offer, whose own reviews then move it from there (leaving the offer's own
        # reviews out of its prior keeps them from counting twice)
        rest = np.clip(store - own, 0.0, None)
        centre, _ = _latent_ratings(rest, so)
        rated = (own.sum(axis=1) > 0).astype(float)
        store_id = o.loc[rows, "merchant_id"].astype(str).to_numpy()
        reach = pd.Series(rated).groupby(store_id).transform("sum").to_numpy() - rated
        mean, var = _latent_ratings(own, so, centre, reach)
        o.loc[rows, "rating"] = mean
        o.loc[rows, "rating_var"] = var
    o["rating"] = o["rating"].fillna(o["rating"].mean()).fillna(0.0)
    o["rating_var"] = o["rating_var"].fillna(0.0)
    log_price = np.log(o["price"].where(o["price"] > 0))
    fill = log_price.groupby([o["platform_id"], o["category"]]).transform("median")
    o["log_price"] = log_price.fillna(fill).fillna(log_price.median()).fillna(0.0)
    o["log_sales"] = np.log1p(o["sales"].fillna(0).astype(float))
    return o


# -- the rank-ordered logit -----------------------------------------------------------------


@dataclass
class _Fit:
    platform_id: str
    beta: np.ndarray
    se: np.ndarray
    t: float
    df: int
    p: float
    searches: int
    searches_total: int
    own_offers: int
    third_party_offers: int
    rank_own: float | None
    rank_third: float | None
    first_day: date
    last_day: date
    own_ids: list[str]
    own_scores: list[float]
    example_ids: list[str]
    example_scores: list[float]


@dataclass
class _Design:
    """One platform's searches laid out for the likelihood.

    ``rows_*``: the organic results in (search, position) order; ``group`` the choice
    set (query, day) of each search; ``avail_*`` the incidence of choice sets and
    offers; ``sponsored`` the offer taken out of each search's organic choice (or -1).
    """

    x: np.ndarray  # offers x covariates
    rows_item: np.ndarray
    rows_search: np.ndarray
    search_group: np.ndarray
    search_cluster: np.ndarray
    sponsored: np.ndarray
    avail_group: np.ndarray
    avail_item: np.ndarray
    starts: np.ndarray  # first row of each search
    search_ids: np.ndarray


def _design(
    mine: pd.DataFrame, rows: pd.DataFrame, stores: pd.DataFrame
) -> tuple[_Design, pd.DataFrame] | None:
    win = stores.assign(merchant_id=stores["merchant_id"].astype(str)).set_index("merchant_id")
    store_of = mine["merchant_id"].astype(str)
    opened = pd.to_datetime(win["opened_on"].reindex(store_of)).to_numpy()
    closed = pd.to_datetime(win["closed_on"].reindex(store_of)).to_numpy()
    sanctioned = (
        pd.to_datetime(win["sanctioned_on"].reindex(store_of)).to_numpy()
        if "sanctioned_on" in win
        else np.full(len(mine), np.datetime64("NaT"))
    )
    item_of = pd.Series(np.arange(len(mine)), index=mine["sku_id"].astype(str))
    rows = rows.assign(item=item_of.reindex(rows["sku_id"].astype(str)).to_numpy())
    rows = rows[rows["item"].notna()].assign(item=lambda r: r["item"].astype(int))
    # offers of a store under a recorded sanction (demotion, penalty) are not comparable:
    # from the sanction's day they leave the rankings and the choice sets alike
    rows = rows.assign(
        excluded=sanctioned[rows["item"].to_numpy()] <= pd.to_datetime(rows["day"]).to_numpy()
    )
    organic = rows[~rows["sponsored"] & ~rows["excluded"]].sort_values(
        ["query_id", "position"], kind="stable"
    )
    if organic.empty:
        return None
    search_ids = pd.Index(organic["query_id"].unique())
    per_search = organic.drop_duplicates("query_id").set_index("query_id").reindex(search_ids)
    keys = pd.MultiIndex.from_arrays(
        [per_search["query"].astype(str).to_numpy(), per_search["day"].to_numpy()]
    )
    groups = keys.unique()
    search_group = groups.get_indexer(keys)
    sponsored = (
        rows[rows["sponsored"] & ~rows["excluded"]]
        .drop_duplicates("query_id")
        .set_index("query_id")["item"]
        .reindex(search_ids)
        .fillna(-1)
        .astype(int)
        .to_numpy()
    )
    # choice sets: offers of the queried category (or ever shown for the query) whose
    # store is open on the day, plus whatever the search showed
    candidates = pd.concat(
        [
            pd.DataFrame({"query": mine["category"].astype(str), "i": np.arange(len(mine))}),
            rows.assign(query=rows["query"].astype(str))[["query", "item"]].rename(
                columns={"item": "i"}
            ),
        ]
    ).drop_duplicates()
    group_frame = pd.DataFrame(
        {
            "g": np.arange(len(groups)),
            "query": groups.get_level_values(0).astype(str),
            "day": pd.to_datetime(pd.Series(groups.get_level_values(1))).to_numpy(),
        }
    )
    avail = group_frame.merge(candidates, on="query")
    day = avail["day"].to_numpy()
    item = avail["i"].to_numpy()
    ok = ~(opened[item] > day) & ~(closed[item] <= day) & ~(sanctioned[item] <= day)
    avail = avail[ok][["g", "i"]]
    shown = pd.DataFrame(
        {"g": search_group[search_ids.get_indexer(organic["query_id"])], "i": organic["item"]}
    )
    avail = pd.concat([avail, shown]).drop_duplicates().sort_values(["g", "i"])
    rows_search = search_ids.get_indexer(organic["query_id"])
    starts = np.flatnonzero(np.r_[True, rows_search[1:] != rows_search[:-1]])
    x = mine[list(COVARIATES)].to_numpy(dtype=float)
    design = _Design(
        x=x,
        rows_item=organic["item"].to_numpy(),
        rows_search=rows_search,
        search_group=search_group,
        search_cluster=pd.factorize(per_search["query"].astype(str), sort=True)[0],
        sponsored=sponsored,
        avail_group=avail["g"].to_numpy(),
        avail_item=avail["i"].to_numpy(),
        starts=starts,
        search_ids=search_ids.to_numpy(),
    )
    return design, organic


def _loglik_parts(
    d: _Design, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per organic row: log-likelihood term, score (gradient) contribution, and the
    row's choice-set weight total and covariate mean (relative weights)."""
    score = d.x @ beta
    w = np.exp(score - score.max())
    k = d.x.shape[1]
    ng = int(d.search_group.max()) + 1
    wa = w[d.avail_item]
    total = np.bincount(d.avail_group, weights=wa, minlength=ng)
    total_x = np.column_stack(
        [
            np.bincount(d.avail_group, weights=wa * d.x[d.avail_item, j], minlength=ng)
            for j in range(k)
        ]
    )
    sp = d.sponsored >= 0
    spi = np.maximum(d.sponsored, 0)
    base = total[d.search_group] - np.where(sp, w[spi], 0.0)
    base_x = total_x[d.search_group] - np.where(sp[:, None], w[spi, None] * d.x[spi], 0.0)
    wi = w[d.rows_item]
    xi = d.x[d.rows_item]
    lengths = np.diff(np.r_[d.starts, len(wi)])
    cum = np.cumsum(wi)
    before = cum - wi - np.repeat(cum[d.starts] - wi[d.starts], lengths)
    cum_x = np.cumsum(wi[:, None] * xi, axis=0)
    first_x = cum_x[d.starts] - wi[d.starts, None] * xi[d.starts]
    before_x = cum_x - wi[:, None] * xi - np.repeat(first_x, lengths, axis=0)
    denom = np.maximum(base[d.rows_search] - before, wi)
    denom_x = base_x[d.rows_search] - before_x
    ll = np.log(wi) - np.log(denom)
    mean_x = denom_x / denom[:, None]
    grad = xi - mean_x
    return ll, grad, denom, mean_x


def _rating_jacobian(d: _Design, b: np.ndarray, column: int, scale: float) -> np.ndarray:
    """``∂ score / ∂ r_s`` for every offer ``s`` (k x offers), ``r`` the raw rating.

    The rating of offer ``s`` enters its utility as ``b_r (r_s - m) / scale``; moving it
    changes the rows that chose ``s`` and every row whose choice set holds ``s``:
    ``∂g/∂r_s = e_r/scale (N_s - w_s A_s) - κ w_s (A_s x_s - B_s)`` with ``κ = b_r/scale``,
    ``A_s`` the sum of ``1/D`` and ``B_s`` of ``mean_x/D`` over those rows.
    """
    score = d.x @ b
    w = np.exp(score - score.max())
    _, _, denom, mean_x = _loglik_parts(d, b)
    n_items, k = d.x.shape
    inv = 1.0 / denom
    inv_x = mean_x * inv[:, None]
    ns = len(d.search_ids)
    per_search = np.bincount(d.rows_search, weights=inv, minlength=ns)
    per_search_x = np.column_stack(
        [np.bincount(d.rows_search, weights=inv_x[:, j], minlength=ns) for j in range(k)]
    )
    ng = int(d.search_group.max()) + 1
    per_group = np.bincount(d.search_group, weights=per_search, minlength=ng)
    per_group_x = np.column_stack(
        [np.bincount(d.search_group, weights=per_search_x[:, j], minlength=ng) for j in range(k)]
    )
    a = np.bincount(d.avail_item, weights=per_group[d.avail_group], minlength=n_items)
    bx = np.column_stack(
        [
            np.bincount(d.avail_item, weights=per_group_x[d.avail_group, j], minlength=n_items)
            for j in range(k)
        ]
    )
    # not in the choice set: the search's sponsored offer, and an offer after its pick
    sp = d.sponsored >= 0
    a -= np.bincount(d.sponsored[sp], weights=per_search[sp], minlength=n_items)
    for j in range(k):
        bx[:, j] -= np.bincount(d.sponsored[sp], weights=per_search_x[sp, j], minlength=n_items)
    lengths = np.diff(np.r_[d.starts, len(inv)])
    ends = np.repeat(d.starts + lengths, lengths)
    tail = np.concatenate([np.cumsum(inv[::-1])[::-1], [0.0]])
    tail_x = np.vstack([np.cumsum(inv_x[::-1], axis=0)[::-1], np.zeros((1, k))])
    rows = np.arange(len(inv))
    after = tail[rows + 1] - tail[ends]
    after_x = tail_x[rows + 1] - tail_x[ends]
    a -= np.bincount(d.rows_item, weights=after, minlength=n_items)
    for j in range(k):
        bx[:, j] -= np.bincount(d.rows_item, weights=after_x[:, j], minlength=n_items)
    chosen = np.bincount(d.rows_item, minlength=n_items).astype(float)
    kappa = b[column] / scale
    jac = -kappa * w[:, None] * (a[:, None] * d.x - bx)  # offers x k
    jac[:, column] += (chosen - w * a) / scale
    return jac.T


def _fit_platform(
    pid: str, mine: pd.DataFrame, rows: pd.DataFrame, stores: pd.DataFrame
) -> _Fit | None:
    if mine.empty:
        return None
    built = _design(mine, rows, stores)
    if built is None:
        return None
    d, organic = built
    so = d.x[:, -1] > 0
    # own and third-party offers must meet in some choice set
    mixed = pd.Series(so[d.avail_item]).groupby(d.avail_group).agg(["min", "max"])
    if not ((mixed["min"] == 0) & (mixed["max"] == 1)).any():
        return None
    n_clusters = int(d.search_cluster.max()) + 1
    if n_clusters < 2:
        return None
    # standardise for the optimiser
    centre = d.x.mean(axis=0)
    scale = d.x.std(axis=0)
    scale[scale == 0] = 1.0
    raw_x = d.x
    d.x = (raw_x - centre) / scale

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad, _, _ = _loglik_parts(d, b)
        return -float(ll.sum()), -grad.sum(axis=0)

    res = optimize.minimize(
        objective,
        np.zeros(d.x.shape[1]),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000},
    )
    b = res.x
    k = len(b)
    hess = np.zeros((k, k))
    eps = 1e-5
    for j in range(k):
        step = np.zeros(k)
        step[j] = eps
        hess[:, j] = (objective(b + step)[1] - objective(b - step)[1]) / (2 * eps)
    hess = (hess + hess.T) / 2
    try:
        bread = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return None
    _, grad, _, _ = _loglik_parts(d, b)
    cluster = d.search_cluster[d.rows_search]
    per_cluster = np.column_stack(
        [np.bincount(cluster, weights=grad[:, j], minlength=n_clusters) for j in range(k)]
    )
    meat = per_cluster.T @ per_cluster * n_clusters / (n_clusters - 1)
    cov = bread @ meat @ bread
    # the ratings are estimates: add their posterior uncertainty (delta method)
    column = COVARIATES.index("rating")
    jac = bread @ _rating_jacobian(d, b, column, float(scale[column]))
    cov = cov + (jac * mine["rating_var"].to_numpy(dtype=float)[None, :]) @ jac.T
    beta = b / scale
    se = np.sqrt(np.clip(np.diag(cov), 0, None)) / scale
    d.x = raw_x
    df = n_clusters - 1
    t = float(beta[-1] / se[-1]) if se[-1] > 0 else 0.0
    p = float(stats.t.sf(t, df))

    organic = organic.assign(
        organic_rank=organic.groupby("query_id").cumcount() + 1,
        own=so[organic["item"].to_numpy()],
    )
    own_ids, own_scores = _own_lift(d, beta, organic, mine)
    ex_ids, ex_scores = _examples(d, beta, organic)
    days = pd.to_datetime(rows["day"])
    return _Fit(
        platform_id=pid,
        beta=beta,
        se=se,
        t=t,
        df=df,
        p=p,
        searches=len(d.search_ids),
        searches_total=int(rows["total"].max()) if "total" in rows else len(d.search_ids),
        own_offers=int(so.sum()),
        third_party_offers=int((~so).sum()),
        rank_own=_mean_or_none(organic.loc[organic["own"], "organic_rank"]),
        rank_third=_mean_or_none(organic.loc[~organic["own"], "organic_rank"]),
        first_day=days.min().date(),
        last_day=days.max().date(),
        own_ids=own_ids,
        own_scores=own_scores,
        example_ids=ex_ids,
        example_scores=ex_scores,
    )


def _mean_or_none(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) else None


def _own_lift(
    d: _Design, beta: np.ndarray, organic: pd.DataFrame, mine: pd.DataFrame
) -> tuple[list[str], list[float]]:
    """Own offers with the ratio of their organic top positions to the number expected
    from their merits alone (``β_self`` set to 0), scored relative to the largest."""
    merits = beta.copy()
    merits[-1] = 0.0
    w = np.exp(d.x @ merits - (d.x @ merits).max())
    ng = int(d.search_group.max()) + 1
    total = np.bincount(d.avail_group, weights=w[d.avail_item], minlength=ng)
    sp = d.sponsored >= 0
    base = total[d.search_group] - np.where(sp, w[np.maximum(d.sponsored, 0)], 0.0)
    own = np.flatnonzero(d.x[:, -1] > 0)
    expected = np.zeros(len(d.x))
    # P(first) of every available offer in every search of its choice set
    inv = np.bincount(d.search_group, weights=1.0 / np.maximum(base, 1e-300), minlength=ng)
    np.add.at(expected, d.avail_item, w[d.avail_item] * inv[d.avail_group])
    tops = organic[organic["organic_rank"] == 1]["item"].value_counts()
    lift = {int(i): float(tops.get(i, 0)) / expected[i] for i in own if expected[i] > 0}
    if not lift:
        return [], []
    order = sorted(lift, key=lambda i: (-lift[i], str(mine["sku_id"].iloc[i])))
    top = max(lift.values())
    return (
        [str(mine["sku_id"].iloc[i]) for i in order],
        [round(lift[i] / top, 6) if top > 0 else 0.0 for i in order],
    )


def _examples(
    d: _Design, beta: np.ndarray, organic: pd.DataFrame, limit: int = 20
) -> tuple[list[str], list[float]]:
    """Searches where an own offer was shown above a third-party offer with a higher
    merit score (price, rating, sales), scored by the largest merit gap."""
    merits = d.x[:, :-1] @ beta[:-1]
    o = organic.assign(merit=merits[organic["item"].to_numpy()])
    best_third_below = (
        o.iloc[::-1]
        .assign(m3=lambda f: f["merit"].where(~f["own"]))
        .groupby("query_id", sort=False)["m3"]
        .cummax()
        .iloc[::-1]
    )
    o = o.assign(m3_below=best_third_below.groupby(o["query_id"]).shift(-1))
    gap = (o["m3_below"] - o["merit"]).where(o["own"])
    o = o.assign(gap=gap)
    worst = o[o["gap"] > 0].groupby("query_id")["gap"].max().sort_values(ascending=False)
    worst = worst.head(limit)
    if worst.empty:
        return [], []
    top = float(worst.iloc[0])
    return (
        [str(q) for q in worst.index],
        [round(float(g) / top, 6) for g in worst.to_numpy()],
    )
