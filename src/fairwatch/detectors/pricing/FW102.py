"""FW102 pricing.fictitious_original_price."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding, top_ids_in_period
from fairwatch.engine import local_date


class FictitiousOriginalPrice(Detector):
    """A struck-through "original price" higher than the lowest price charged in the 7 days before.

    **What it detects**

    Promotions whose claimed original ("was") price is higher than the lowest price at
    which the offer was actually sold in the days before the promotion began:
    invented reference prices, prices raised just before a sale so the "discount" looks
    larger ("先涨后降"), and reference prices inflated by a few percent.

    **Why it matters**

    Using a struck-through price that is not the lowest transaction price in the seven
    days before the promotion is price fraud (Provisions on Clearly Marked Prices and
    the Prohibition of Price Fraud, art. 19), and misleads consumers about the value of
    a discount (Price Law art. 14(4)).

    **Method**

    A promotion is a run of China-local days on which quotes of an offer show a
    ``claimed_original_price``; it ends on the first day the offer is quoted without one
    (days with no quote at all do not end it). For each promotion starting on day *S*,
    the reference price is the lowest ``unit_price`` of paid orders of the offer on days
    *S−k … S−1*, where *k* is ``cn.price.original_price_lookback_days`` (7) at the
    as-of date; if there was no sale in that window, the price of the last sale before
    it. The promotion is reported when the highest claimed price exceeds the reference
    by more than ``cn.detection.pricing.price_tolerance_cny`` (rounding). The engine
    reduces quotes to (offer, day, quotes, quotes with a claim, highest claim) and paid
    orders to (offer, day, lowest price); episodes and windows are resolved on those
    small tables. The statistics give the overstatement in yuan and percent; evidence
    lists the quotes that showed the claimed price and the orders at the reference price.

    **Known limitations**

    ``orders.unit_price`` is read as the item's transaction price before order-level
    coupons and member discounts (the standard's ``paid_cny`` carries those). A
    promotion with no sale of the offer before it cannot be judged and is not
    reported. Sales outside the platform are not seen.
    """

    code = "FW102"
    name = "pricing.inflated_original_price"
    family = "pricing.fictitious_original_price"
    legal_basis = ("cn.price_fraud_provisions.art19", "cn.price_law.art14")
    parameters = (
        "cn.price.original_price_lookback_days",
        "cn.detection.pricing.price_tolerance_cny",
        "cn.detection.pricing.severity_overstatement_pct",
    )
    inputs = {
        "price_quotes": ("quote_id", "ts", "platform_id", "sku_id", "claimed_original_price"),
        "orders": ("order_id", "ts", "sku_id", "unit_price", "status"),
    }
    cost = 6

    def _claims(self, ctx: Context) -> ir.Table:
        q = ctx.table("price_quotes")
        q = q.filter(q.claimed_original_price.notnull())
        return q.mutate(day=local_date(q.ts))

    def _sales(self, ctx: Context) -> ir.Table:
        o = ctx.table("orders")
        o = o.filter(o.status == "paid", o.sku_id.notnull(), o.unit_price.notnull())
        return o.mutate(day=local_date(o.ts))

    def summarize(self, ctx: Context) -> ir.Table:
        q = ctx.table("price_quotes")
        q = q.mutate(day=local_date(q.ts))
        claimed = q.claimed_original_price.notnull()
        per_day = q.group_by(["sku_id", "day"]).aggregate(
            platform_id=q.platform_id.max(),
            claimed=q.claimed_original_price.max(),
            quotes=claimed.sum(),
            plain=(~claimed).sum(),
        )
        # Only offers that ever show a claim matter.
        return per_day.filter(per_day.claimed.max().over(group_by=per_day.sku_id).notnull())

    def run(self, ctx: Context) -> list[Finding]:
        claims = ctx.execute(self.summarize(ctx))
        if claims.empty or claims["quotes"].sum() == 0:
            return []
        sales = self._sales(ctx)
        sales = sales.filter(sales.sku_id.isin(sorted(claims["sku_id"].unique().tolist())))
        daily = ctx.execute(sales.group_by(["sku_id", "day"]).aggregate(low=sales.unit_price.min()))
        return self.judge(ctx, claims, daily)

    def judge(
        self, ctx: Context, summary: pd.DataFrame, daily: pd.DataFrame | None = None
    ) -> list[Finding]:
        lookback = int(ctx.param("cn.price.original_price_lookback_days"))
        tolerance = float(ctx.param("cn.detection.pricing.price_tolerance_cny"))
        bands = ctx.param("cn.detection.pricing.severity_overstatement_pct")
        daily = daily if daily is not None else pd.DataFrame(columns=["sku_id", "day", "low"])
        summary = summary.assign(day=pd.to_datetime(summary["day"]))
        daily = daily.assign(day=pd.to_datetime(daily["day"]))
        episodes = _episodes(summary)
        if episodes.empty:
            return []
        refs = _references(episodes, daily, lookback)
        episodes = episodes.join(refs, how="inner")
        episodes = episodes[episodes["claimed"] - episodes["reference"] > tolerance]
        basis = {
            "window": f"lowest paid price in the {lookback} days before",
            "before": "last paid price before the window (no sale within it)",
        }
        violations: list[dict[str, Any]] = [
            {
                "sku_id": str(e.sku_id),
                "platform_id": str(e.platform_id),
                "start": e.start.date(),
                "end": e.end.date(),
                "claimed": float(e.claimed),
                "reference": float(e.reference),
                "reference_day": e.reference_day.date(),
                "basis": basis[str(e.basis)],
                "quotes": int(e.quotes),
            }
            for e in episodes.sort_values(["sku_id", "start"]).itertuples(index=False)
        ]
        if not violations:
            return []
        evidence = self._evidence(ctx, violations)
        findings = []
        for v in violations:
            over = v["claimed"] - v["reference"]
            pct = over / v["reference"] * 100 if v["reference"] > 0 else float("inf")
            key = (v["sku_id"], v["start"])
            findings.append(
                self.finding(
                    ctx,
                    subject_id=v["sku_id"],
                    platform_id=v["platform_id"],
                    period_start=v["start"],
                    period_end=v["end"],
                    severity=severity_from_bands(pct, bands),
                    score=round(float(1 - np.exp(-pct / 15)), 6),
                    statistics={
                        "claimed_original_price": v["claimed"],
                        "lowest_price_before": v["reference"],
                        "reference_day": v["reference_day"],
                        "reference_basis": v["basis"],
                        "overstatement_cny": round(over, 2),
                        "overstatement_pct": pct,
                        "lookback_days": lookback,
                        "promotion_days": (v["end"] - v["start"]).days + 1,
                        "quotes_with_claim": v["quotes"],
                    },
                    evidence=evidence.get(key, []),
                )
            )
        return findings

    def _evidence(
        self, ctx: Context, violations: list[dict[str, Any]], limit: int = 10
    ) -> dict[tuple[str, date], list[Evidence]]:
        skus = sorted({v["sku_id"] for v in violations})
        claims = self._claims(ctx)
        claims = claims.filter(claims.sku_id.isin(skus)).select(
            "sku_id", "day", "quote_id", "claimed_original_price"
        )
        sales = self._sales(ctx)
        sales = sales.filter(sales.sku_id.isin(skus)).select(
            "sku_id", "day", "order_id", "unit_price"
        )
        found = pd.DataFrame(violations)[["sku_id", "start", "end", "reference_day", "reference"]]
        quotes = ctx.execute(claims)
        quotes["day"] = pd.to_datetime(quotes["day"]).dt.date
        quote_ids = top_ids_in_period(
            quotes,
            found[["sku_id", "start", "end"]],
            ["sku_id", "start"],
            by="claimed_original_price",
            id_column="quote_id",
            limit=limit,
        )
        orders = ctx.execute(sales)
        orders["day"] = pd.to_datetime(orders["day"]).dt.date
        orders = orders.merge(
            found, left_on=["sku_id", "day"], right_on=["sku_id", "reference_day"]
        )
        orders = orders[np.isclose(orders["unit_price"], orders["reference"])]
        orders = orders.sort_values(["sku_id", "start", "order_id"])
        paid = orders.groupby(["sku_id", "start"], sort=False).head(limit)
        order_ids = paid.groupby(["sku_id", "start"])["order_id"].agg(list).to_dict()
        out: dict[tuple[str, date], list[Evidence]] = {}
        for v in violations:
            key = (v["sku_id"], v["start"])
            out[key] = [
                Evidence(
                    "price_quotes",
                    quote_ids.get(key, []),
                    note="quotes showing the claimed price",
                ),
                Evidence(
                    "orders",
                    [str(i) for i in order_ids.get(key, [])],
                    note="sales at the reference price",
                ),
            ]
        return out


def _episodes(summary: pd.DataFrame) -> pd.DataFrame:
    """Promotions: per offer, runs of claim days ended by a day quoted without a claim.

    ``summary`` holds the offers' quoted days, with ``quotes`` (quotes showing a claim)
    and ``plain`` (quotes without one). A day with claims and plain quotes both
    continues the promotion; a day with plain quotes only ends it (days without quotes
    do not). One row per promotion: offer, platform, first and last day, the highest
    claimed price and the quotes showing a claim.
    """
    days = summary.sort_values(["sku_id", "day"], kind="mergesort").reset_index(drop=True)
    claim = (days["quotes"] > 0).to_numpy()
    same_offer = (days["sku_id"] == days["sku_id"].shift()).to_numpy()
    previous = np.concatenate([[False], claim[:-1]])
    opens = claim & ~(same_offer & previous)
    days["episode"] = np.cumsum(opens)
    runs = days[claim].groupby("episode", sort=True)
    return pd.DataFrame(
        {
            "sku_id": runs["sku_id"].first(),
            "platform_id": runs["platform_id"].first(),
            "start": runs["day"].first(),
            "end": runs["day"].last(),
            "claimed": runs["claimed"].max(),
            "quotes": runs["quotes"].sum(),
        }
    )


def _references(episodes: pd.DataFrame, daily: pd.DataFrame, lookback: int) -> pd.DataFrame:
    """Each promotion's reference price: the lowest paid price in the ``lookback`` days
    before it began (the earliest day of that price), or, without a sale then, the last
    paid price before that window. Promotions with neither are left out. Indexed like
    ``episodes``: ``reference``, ``reference_day`` and ``basis`` (window | before)."""
    columns = ["reference", "reference_day", "basis"]
    if episodes.empty or daily.empty:
        return pd.DataFrame(columns=columns)
    pairs = episodes[["sku_id", "start"]].reset_index().merge(daily, on="sku_id")
    opens = pairs["start"] - pd.Timedelta(days=lookback)
    inside = pairs[(pairs["day"] >= opens) & (pairs["day"] < pairs["start"])]
    inside = inside.sort_values(["episode", "low", "day"], kind="mergesort")
    lowest = inside.groupby("episode", sort=True).head(1).assign(basis="window")
    before = pairs[(pairs["day"] < opens) & ~pairs["episode"].isin(lowest["episode"])]
    before = before.sort_values(["episode", "day"], kind="mergesort")
    last = before.groupby("episode", sort=True).tail(1).assign(basis="before")
    refs = pd.concat([lowest, last]).set_index("episode")
    return refs.rename(columns={"low": "reference", "day": "reference_day"})[columns]
