"""FW103 pricing.price_gouging."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding, top_ids_in_period
from fairwatch.detectors.stats import bh_qvalues
from fairwatch.engine import local_date

#: Category basis of the general price movement (statistics ``category_basis``).
OUTSIDE = "offers of the category not concerned by the emergency"
EVERY = "every offer of the category (too few offers outside the region)"


@dataclass(frozen=True)
class _Emergency:
    emergency_id: str
    declared: date
    end: date  # last day judged: the day before lifting, or the as-of date
    region: str
    categories: frozenset[str] | None  # None = every category

    def covers(self, region: pd.Series) -> pd.Series:
        """Which merchant region codes the emergency's region covers."""
        code = self.region
        if code.endswith("0000"):
            prefix = code[:2]
        elif code.endswith("00"):
            prefix = code[:4]
        else:
            prefix = code
        return region.fillna("").astype(str).str.startswith(prefix)

    def concerns(self, category: pd.Series) -> pd.Series:
        if self.categories is None:
            return pd.Series(True, index=category.index)
        return category.isin(sorted(self.categories))


class EmergencyPriceGouging(Detector):
    """Offers whose prices rose far more during a declared emergency than the same goods elsewhere.

    **What it detects**

    Price gouging (哄抬价格) during a public emergency: offers of merchants located in the
    region of a declared emergency (``emergencies``: a province, city or county code
    covering everything below it), in the categories it concerns, whose public price
    during the emergency rose well above the offer's own price before it, beyond the
    general movement of the same category's prices over the same days.

    **Why it matters**

    Pushing prices up excessively or too fast is prohibited (Price Law art. 14(3)); in
    an emergency, when buyers cannot wait or go elsewhere, it is the conduct market
    regulators pursue first. Prices that rise because costs rose for everyone are
    lawful, so the rise has to be measured against the general movement.

    **Method**

    The engine reduces the quotes to one value per offer and China-local day (the mean
    log ``list_price``, the public price) for the categories concerned, from
    ``cn.detection.pricing.gouging_baseline_days`` before the earliest declaration to
    the last emergency day, joined to the offer's merchant and its region — one pass
    over the quotes. An emergency runs from ``declared_on`` to the day before
    ``lifted_on`` (or the as-of date while in force); it concerns the offers of merchants
    whose ``region_code`` it covers, in its categories (all when null), whoever buys.
    For each concerned offer: its baseline is the median of its daily log prices over
    the baseline window before the declaration; its daily *rise* is the log price minus
    the baseline. The category's general movement on each day is the median, across
    sellers, of each seller's median rise over its reference offers (a seller with many
    offers counts once) — the reference offers being the same category's offers not
    concerned by any emergency overlapping this one (merchants outside the region), or,
    when fewer than ``cn.detection.pricing.gouging_min_control_offers`` of them have a
    baseline, every offer of the category. The daily *excess* is the offer's rise minus
    the category's movement (a difference in differences on log prices). A one-sided Welch t-test
    compares the offer's daily excess during the emergency with its daily excess in
    the baseline window; Benjamini–Hochberg q-values are taken across all offers
    tested. An offer is reported when q is at most ``cn.detection.fdr_q`` and its excess
    rise — the median over the emergency days — is at least
    ``cn.detection.pricing.gouging_min_excess_rise_pct``. Offers need quotes on at least
    ``cn.detection.pricing.gouging_min_days`` days both in the baseline window and during
    the emergency. A finding covers the emergency from its declaration to the offer's
    last quoted day in it; evidence lists the emergency and the offer's highest-priced
    quotes during it.

    **Known limitations**

    Only public list prices are judged: surcharges shown to individual buyers, forced
    bundling and hoarding are not seen. The median over the emergency days ignores a
    rise that lasted less than half of it. When nearly every seller of the category is
    in the emergency's region, the general movement falls back to all offers, so a rise
    by most of them together is taken as general. Costs are not in the data: an
    offer-specific cost increase (a merchant's own supplier) looks like gouging and is
    for the investigation to weigh. A merchant is placed by its reported ``region_code``
    (a store shipping from elsewhere is judged where it says it is).
    """

    code = "FW103"
    name = "pricing.price_gouging"
    family = "pricing.price_gouging"
    legal_basis = ("cn.price_law.art14",)
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.pricing.gouging_baseline_days",
        "cn.detection.pricing.gouging_min_days",
        "cn.detection.pricing.gouging_min_excess_rise_pct",
        "cn.detection.pricing.gouging_min_control_offers",
        "cn.detection.pricing.gouging_severity_excess_rise_pct",
    )
    inputs = {
        "emergencies": ("emergency_id", "declared_on", "lifted_on", "region_code", "categories"),
        "price_quotes": ("quote_id", "ts", "sku_id", "list_price"),
        "products": ("sku_id", "platform_id", "merchant_id", "category"),
        "merchants": ("merchant_id", "region_code"),
    }
    cost = 5.5

    # -- the engine phase ------------------------------------------------------------------

    def _emergencies(self, ctx: Context) -> list[_Emergency]:
        e = ctx.table("emergencies")
        rows = ctx.execute(
            e.select("emergency_id", "declared_on", "lifted_on", "region_code", "categories")
        )
        out = []
        for r in rows.sort_values("emergency_id").itertuples(index=False):
            declared = pd.Timestamp(r.declared_on).date()
            if declared > ctx.as_of:
                continue
            end = ctx.as_of
            if r.lifted_on is not None and not pd.isna(r.lifted_on):
                end = min(end, pd.Timestamp(r.lifted_on).date() - timedelta(days=1))
            if end < declared:
                continue
            cats = r.categories
            categories = None if cats is None else frozenset(str(c) for c in list(cats))
            if categories is not None and not categories:
                ctx.log.info("emergency %s concerns no category; skipped", r.emergency_id)
                continue
            out.append(
                _Emergency(str(r.emergency_id), declared, end, str(r.region_code), categories)
            )
        return out

    def _window(self, ctx: Context, emergencies: list[_Emergency]) -> tuple[date, date]:
        baseline = int(ctx.param("cn.detection.pricing.gouging_baseline_days"))
        lo = min(e.declared for e in emergencies) - timedelta(days=baseline)
        return lo, max(e.end for e in emergencies)

    def summarize(self, ctx: Context) -> ir.Table:
        return self._summary(ctx, self._emergencies(ctx))

    def _summary(self, ctx: Context, emergencies: list[_Emergency]) -> ir.Table:
        q = ctx.table("price_quotes")
        q = q.filter(q.list_price.notnull(), q.list_price > 0)
        q = q.mutate(day=local_date(q.ts))
        if emergencies:
            lo, hi = self._window(ctx, emergencies)
            q = q.filter(q.day >= lo, q.day <= hi)
        else:
            q = q.filter(ibis.literal(False))
        daily = q.group_by(["sku_id", "day"]).aggregate(
            quotes=q.count(), lp=q.list_price.ln().mean()
        )
        p = ctx.table("products").select("sku_id", "platform_id", "merchant_id", "category")
        if emergencies and all(e.categories is not None for e in emergencies):
            wanted = sorted(set().union(*(e.categories or frozenset() for e in emergencies)))
            p = p.filter(p.category.isin(wanted))
        m = ctx.table("merchants")
        m = m.select("merchant_id", merchant_region=m.region_code)
        joined = daily.join(p, "sku_id").join(m, "merchant_id", how="left")
        return joined.select(
            "sku_id",
            "platform_id",
            "merchant_id",
            "category",
            "merchant_region",
            "day",
            "quotes",
            "lp",
        )

    def run(self, ctx: Context) -> list[Finding]:
        emergencies = self._emergencies(ctx)
        if not emergencies:
            ctx.log.info("no declared emergency in force up to %s", ctx.as_of)
            return []
        summary = ctx.execute(self._summary(ctx, emergencies))
        ctx.log.debug("summary of %d offer-days", len(summary))
        return self.judge(ctx, summary, emergencies)

    # -- the statistics phase ----------------------------------------------------------------

    def judge(
        self,
        ctx: Context,
        summary: pd.DataFrame,
        emergencies: list[_Emergency] | None = None,
    ) -> list[Finding]:
        if emergencies is None:
            emergencies = self._emergencies(ctx)
        if summary.empty or not emergencies:
            return []
        summary = summary.assign(day=pd.to_datetime(summary["day"]).dt.date)
        offers = (
            summary.drop_duplicates("sku_id")
            .set_index("sku_id")[["platform_id", "merchant_id", "category", "merchant_region"]]
            .sort_index()
        )
        prices = summary.pivot(index="sku_id", columns="day", values="lp").sort_index()
        prices = prices.reindex(offers.index)
        concerned = {
            e.emergency_id: e.covers(offers["merchant_region"]) & e.concerns(offers["category"])
            for e in emergencies
        }
        tests: list[dict[str, Any]] = []
        for e in emergencies:
            tests.extend(self._test(ctx, e, emergencies, offers, prices, concerned))
        if not tests:
            return []
        q = bh_qvalues([t["pvalue"] for t in tests])
        fdr = float(ctx.param("cn.detection.fdr_q"))
        min_excess = float(ctx.param("cn.detection.pricing.gouging_min_excess_rise_pct"))
        flagged = []
        for t, qv in zip(tests, q, strict=True):
            t["qvalue"] = float(qv)
            if qv <= fdr and t["excess_rise_pct"] >= min_excess:
                flagged.append(t)
        ctx.log.info("tested %d offers during emergencies, %d reported", len(tests), len(flagged))
        if not flagged:
            return []
        evidence = self._evidence(ctx, flagged)
        bands = ctx.param("cn.detection.pricing.gouging_severity_excess_rise_pct")
        findings = []
        for t in flagged:
            excess = t["excess_rise_pct"]
            findings.append(
                self.finding(
                    ctx,
                    subject_id=t["sku_id"],
                    platform_id=t["platform_id"],
                    period_start=t["start"],
                    period_end=t["end"],
                    severity=severity_from_bands(excess, bands),
                    score=round(float(1 - math.exp(-excess / 30)), 6),
                    statistics={k: v for k, v in t.items() if k not in ("start", "end", "sku_id")},
                    evidence=[
                        Evidence("emergencies", [t["emergency_id"]], note="the declared emergency"),
                        Evidence(
                            "price_quotes",
                            evidence.get((t["sku_id"], t["emergency_id"]), []),
                            note="the offer's highest-priced quotes during the emergency",
                        ),
                    ],
                )
            )
        return findings

    def _test(
        self,
        ctx: Context,
        e: _Emergency,
        emergencies: list[_Emergency],
        offers: pd.DataFrame,
        prices: pd.DataFrame,
        concerned: dict[str, pd.Series],
    ) -> list[dict[str, Any]]:
        baseline_days = int(ctx.param("cn.detection.pricing.gouging_baseline_days"))
        min_days = int(ctx.param("cn.detection.pricing.gouging_min_days"))
        min_control = int(ctx.param("cn.detection.pricing.gouging_min_control_offers"))
        material = math.log1p(
            float(ctx.param("cn.detection.pricing.gouging_min_excess_rise_pct")) / 100
        )
        base_from = e.declared - timedelta(days=baseline_days)
        base_cols = [d for d in prices.columns if base_from <= d < e.declared]
        em_cols = [d for d in prices.columns if e.declared <= d <= e.end]
        mine = concerned[e.emergency_id]
        if not mine.any() or len(base_cols) < min_days or len(em_cols) < min_days:
            return []
        # Reference offers: same categories, located (region known) and not concerned by any
        # emergency whose judged days or baseline overlap this one's.
        overlapping = [
            o
            for o in emergencies
            if o.declared - timedelta(days=baseline_days) <= e.end and base_from <= o.end
        ]
        touched = np.zeros(len(offers), dtype=bool)
        for o in overlapping:
            touched |= concerned[o.emergency_id].to_numpy()
        located = offers["merchant_region"].notna().to_numpy()
        sellers = offers["merchant_id"].astype(str).to_numpy()
        base = prices[base_cols]
        baseline = base.median(axis=1)
        has_base = (base.notna().sum(axis=1) >= min_days).to_numpy()
        window = prices[base_cols + em_cols]
        rise = window.sub(baseline, axis=0)
        out: list[dict[str, Any]] = []
        for category in sorted(offers.loc[mine, "category"].unique()):
            in_cat = (offers["category"] == category).to_numpy() & has_base
            controls = in_cat & ~touched & located
            if controls.sum() >= min_control:
                reference, basis = controls, OUTSIDE
            else:
                reference, basis = in_cat, EVERY
            movement, kept = _general_movement(rise, reference, em_cols, material, sellers)
            set_aside = reference.sum() - kept.sum()
            targets = np.flatnonzero(mine.to_numpy() & in_cat)
            for i in targets:
                result = self._one(rise.iloc[i], movement, base_cols, em_cols, min_days)
                if result is None:
                    continue
                sku = str(offers.index[i])
                out.append(
                    {
                        "sku_id": sku,
                        "platform_id": str(offers["platform_id"].iloc[i]),
                        "start": e.declared,
                        "end": result.pop("last_day"),
                        "emergency_id": e.emergency_id,
                        "emergency_region": e.region,
                        "merchant_id": str(offers["merchant_id"].iloc[i]),
                        "merchant_region": str(offers["merchant_region"].iloc[i]),
                        "category": str(category),
                        "baseline_price": float(math.exp(baseline.iloc[i])),
                        "emergency_price": float(
                            math.exp(baseline.iloc[i] + result.pop("own_rise"))
                        ),
                        "category_basis": basis,
                        "reference_offers": int(reference.sum()),
                        "reference_offers_set_aside": int(set_aside),
                        **result,
                    }
                )
        return out

    @staticmethod
    def _one(
        rise: pd.Series,
        movement: pd.Series,
        base_cols: list[date],
        em_cols: list[date],
        min_days: int,
    ) -> dict[str, Any] | None:
        excess = rise - movement
        before = excess[base_cols].dropna().to_numpy()
        during = excess[em_cols].dropna()
        if len(before) < min_days or len(during) < min_days:
            return None
        days = list(during.index)
        own = float(rise[days].median())
        general = float(movement[days].median())
        t, p = _welch_greater(during.to_numpy(), before)
        return {
            "last_day": max(days),
            "own_rise": own,
            "own_rise_pct": (math.exp(own) - 1) * 100,
            "category_rise_pct": (math.exp(general) - 1) * 100,
            "excess_rise_pct": (math.exp(float(during.median())) - 1) * 100,
            "baseline_days_observed": len(before),
            "emergency_days_observed": len(during),
            "t_statistic": t,
            "pvalue": p,
        }

    def _evidence(
        self, ctx: Context, flagged: list[dict[str, Any]], limit: int = 10
    ) -> dict[tuple[str, str], list[str]]:
        skus = sorted({t["sku_id"] for t in flagged})
        lo = min(t["start"] for t in flagged)
        hi = max(t["end"] for t in flagged)
        q = ctx.table("price_quotes")
        q = q.mutate(day=local_date(q.ts))
        q = q.filter(q.sku_id.isin(skus), q.day >= lo, q.day <= hi, q.list_price.notnull())
        rows = ctx.execute(q.select("quote_id", "sku_id", "day", "list_price"))
        rows["day"] = pd.to_datetime(rows["day"]).dt.date
        wanted = pd.DataFrame(
            [(t["sku_id"], t["emergency_id"], t["start"], t["end"]) for t in flagged],
            columns=["sku_id", "emergency_id", "start", "end"],
        )
        return top_ids_in_period(
            rows,
            wanted,
            ["sku_id", "emergency_id"],
            by="list_price",
            id_column="quote_id",
            limit=limit,
        )


def _general_movement(
    rise: pd.DataFrame,
    reference: NDArray[np.bool_],
    em_cols: list[date],
    material: float,
    sellers: NDArray[Any],
) -> tuple[pd.Series, NDArray[np.bool_]]:
    """The category's daily general movement: the median, across the reference offers'
    sellers, of each seller's median rise (a seller with many offers counts once).

    Reference offers that themselves rose materially more than that movement during the
    emergency (their median excess reaches ``material``, in log terms) are set aside and
    the median is taken again, until no more are set aside: a minority of offers raising
    prices for their own reasons does not move the benchmark. Returns the movement (NaN
    on days without reference data) and the offers kept.
    """
    kept = reference.copy()
    while True:
        mine = rise[kept]
        movement = mine.groupby(sellers[kept]).median().median(axis=0)
        excess = mine.sub(movement, axis=1)[em_cols].median(axis=1)
        outliers = (excess >= material).to_numpy()
        if not outliers.any() or outliers.all():
            return movement, kept
        positions = np.flatnonzero(kept)
        kept[positions[outliers]] = False


def _welch_greater(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, float]:
    """One-sided Welch t-test that ``a`` has the larger mean: (t, p).

    Exact when both samples are constant: a higher mean without any noise is certain
    (p = 0), an equal or lower one is p = 1.
    """
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean())
    va = float(a.var(ddof=1)) if na > 1 else 0.0
    vb = float(b.var(ddof=1)) if nb > 1 else 0.0
    se2 = va / na + vb / nb
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)), 1.0)
    if se2 <= (1e-12 * scale) ** 2:
        if diff > 1e-9 * scale:
            return float("inf"), 0.0
        return 0.0, 1.0
    t = diff / math.sqrt(se2)
    dof_den = 0.0
    if na > 1:
        dof_den += (va / na) ** 2 / (na - 1)
    if nb > 1:
        dof_den += (vb / nb) ** 2 / (nb - 1)
    dof = se2**2 / dof_den if dof_den > 0 else float(na + nb - 2)
    return float(t), float(stats.t.sf(t, dof))
