"""FW101 pricing.personalized_discrimination."""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.stats import anova_by_group, bh_qvalues
from fairwatch.engine import local_date

ATTRIBUTES = ("tenure", "member", "device", "region", "city", "province")
#: Attributes grouped in the engine; city and province are rolled up from region.
ENGINE_ATTRIBUTES = ("tenure", "member", "device", "region")


class PersonalizedPriceDiscrimination(Detector):
    """The same offer is quoted systematically higher to some users than to others.

    **What it detects**

    Offers (SKUs) whose quoted prices differ between groups of users — by tenure on the
    platform, membership, device or region (county, city or province) — beyond what the
    offer's public price at that moment explains: big-data price discrimination
    ("大数据杀熟"), e.g. loyal customers or iPhone users asked to pay more for the same offer
    at the same time.

    **Why it matters**

    Operators may not apply unreasonable differential treatment in transaction prices
    based on users' preferences, habits or characteristics (PIPL art. 24; Algorithm
    Recommendation Provisions art. 21; Consumer Rights Protection Law Implementing
    Regulations art. 9), and a dominant platform may not discriminate between
    counterparties under the same conditions (AML art. 22(1)(6)).

    **Method**

    Each quote that is not a published member price is compared with the offer's public
    price at that moment: ``d = ln((quoted_price + coupon_cny) / list_price)``. Adding
    back the coupon neutralises coupons open to all and new-customer coupons; using the
    moment's list price neutralises regional list prices, time-of-day pricing,
    promotions and cost shocks applied to everyone. Lawful pricing gives ``d = 0``
    whoever the user is. The engine groups quotes per offer by tenure bucket
    (``cn.detection.pricing.tenure_bucket_edges_days``), membership, device and region
    code into counts, sums and sums of squares of ``d`` — one pass over the quotes into
    their joint grouping, from which each attribute's groups are summed.
    Regions are also rolled up to their city (``3301xx``) and province (``33xxxx``), so
    a city-wide surcharge is seen even when each county has few quotes. For each offer
    and attribute, groups with at least ``cn.detection.pricing.min_group_quotes`` quotes
    are compared with a one-way ANOVA, the smaller groups pooled into one "other" group
    (so users of one city can be compared with everyone else); the offer's p-value is
    the smallest across the six attributes, Bonferroni-corrected, and Benjamini–Hochberg
    q-values are taken across all offers. An offer is reported when its q-value is at
    most ``cn.detection.fdr_q`` and the premium of the most-charged group over the
    least-charged one is at least ``cn.detection.pricing.min_premium_pct``. Evidence
    lists the quotes with the highest premium (scored), the statistics name the
    attribute and the groups.

    **Known limitations**

    Quotes without a ``list_price`` are not used: without the public price, lawful
    regional or time-of-day prices cannot be told apart from personal ones. A platform
    that reports a personalised price as the "public" list price hides the difference
    from this test. Discrimination by an attribute the standard does not carry (e.g.
    browsing history) is seen only through its correlation with the attributes tested.
    """

    code = "FW101"
    name = "pricing.personalized_premium"
    family = "pricing.personalized_discrimination"
    legal_basis = (
        "cn.pipl.art24",
        "cn.algorithm_provisions.art21",
        "cn.crpl_regulations.art9",
        "cn.aml2022.art22",
    )
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.pricing.min_premium_pct",
        "cn.detection.pricing.min_group_quotes",
        "cn.detection.pricing.tenure_bucket_edges_days",
        "cn.detection.pricing.severity_premium_pct",
    )
    inputs = {
        "price_quotes": (
            "quote_id",
            "ts",
            "platform_id",
            "sku_id",
            "user_tenure_days",
            "user_is_member",
            "user_device",
            "user_region_code",
            "quoted_price",
            "list_price",
            "coupon_cny",
            "member_price",
        ),
    }
    cost = 8

    def _quotes(self, ctx: Context) -> ir.Table:
        q = ctx.table("price_quotes")
        q = q.filter(
            q.list_price.notnull(),
            q.list_price > 0,
            q.quoted_price.notnull(),
            ~q.member_price.fill_null(False),
        )
        pre_coupon = q.quoted_price + q.coupon_cny.fill_null(0)
        edges = sorted(int(e) for e in ctx.param("cn.detection.pricing.tenure_bucket_edges_days"))
        tenure = ibis.cases(
            *[(q.user_tenure_days < edge, f"<{edge}d") for edge in edges],
            else_=f">={edges[-1]}d",
        )
        tenure = ibis.ifelse(q.user_tenure_days.isnull(), ibis.null("string"), tenure)
        return q.mutate(
            d=(pre_coupon / q.list_price).ln(),
            day=local_date(q.ts),
            tenure=tenure,
            member=q.user_is_member.cast("string"),
            device=q.user_device,
            region=q.user_region_code,
        )

    def summarize(self, ctx: Context) -> ir.Table:
        """Per offer, attribute and group: count, sum and sum of squares of ``d``.

        One scan of the quotes into their joint grouping by all engine attributes (a
        few cells per offer and combination of groups), then each attribute's marginal
        from that joint table, stacked. The result is a few rows per offer and attribute;
        the joint table stays in the engine (at 10^8 quotes it has millions of rows).
        """
        q = self._quotes(ctx)
        joint = q.group_by(["sku_id", "platform_id", *ENGINE_ATTRIBUTES]).aggregate(
            n=q.count(),
            s=q.d.sum(),
            ss=(q.d * q.d).sum(),
            first_day=q.day.min(),
            last_day=q.day.max(),
        )
        marginals = [
            joint.group_by(["sku_id", "platform_id", joint[a].name("level")])
            .aggregate(
                n=joint.n.sum(),
                s=joint.s.sum(),
                ss=joint.ss.sum(),
                first_day=joint.first_day.min(),
                last_day=joint.last_day.max(),
            )
            .mutate(attribute=ibis.literal(a))
            for a in ENGINE_ATTRIBUTES
        ]
        return ibis.union(*marginals, distinct=False)

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        regions = summary[summary["attribute"] == "region"]
        region = regions["level"].where(regions["level"].str.fullmatch(r"\d{6}", na=False))
        rolled = [
            regions.assign(attribute="city", level=region.str.slice(0, 4) + "00"),
            regions.assign(attribute="province", level=region.str.slice(0, 2) + "0000"),
        ]
        summary = pd.concat([summary, *rolled], ignore_index=True)
        min_n = int(ctx.param("cn.detection.pricing.min_group_quotes"))
        tests = []
        for attribute in ATTRIBUTES:
            cells = (
                summary[summary["attribute"] == attribute]
                .dropna(subset=["level"])
                .groupby(["sku_id", "level"], sort=True)[["n", "s", "ss"]]
                .sum()
                .reset_index()
                .rename(columns={"level": attribute})
            )
            cells = _pool_small_groups(cells, attribute, min_n)
            if cells.empty:
                continue
            tests.append(_attribute_tests(cells, attribute))
        per_test = pd.concat(tests, ignore_index=True) if tests else pd.DataFrame()
        if per_test.empty:
            return []
        per_test["p_adj"] = np.minimum(per_test["pvalue"] * len(ATTRIBUTES), 1.0)
        per_sku = per_test.groupby("sku_id", sort=True)["p_adj"].min().rename("p_sku").reset_index()
        per_sku["q"] = bh_qvalues(per_sku["p_sku"].to_numpy())

        q_max = float(ctx.param("cn.detection.fdr_q"))
        min_premium = float(ctx.param("cn.detection.pricing.min_premium_pct"))
        bands = ctx.param("cn.detection.pricing.severity_premium_pct")
        flagged = per_sku[(per_sku["q"] <= q_max)]
        # Per flagged offer, its most-charged significant attribute (ties: by name).
        candidates = per_test[
            per_test["sku_id"].isin(flagged["sku_id"]) & (per_test["p_adj"] <= q_max)
        ]
        best = (
            candidates.sort_values(
                ["sku_id", "premium_pct", "attribute"],
                ascending=[True, False, True],
                kind="mergesort",
            )
            .groupby("sku_id", sort=True)
            .head(1)
        )
        best = best[best["premium_pct"] >= min_premium].merge(
            flagged[["sku_id", "q", "p_sku"]], on="sku_id"
        )
        chosen: list[dict[str, Any]] = [
            {**row, "q": float(row["q"]), "p_sku": float(row["p_sku"])}
            for row in best.to_dict("records")
        ]
        if not chosen:
            return []

        # Every quote is in exactly one group of each engine attribute (nulls included).
        one_attribute = summary[summary["attribute"] == ENGINE_ATTRIBUTES[0]]
        spans = one_attribute.groupby("sku_id").agg(
            platform_id=("platform_id", "first"),
            first_day=("first_day", "min"),
            last_day=("last_day", "max"),
            quotes=("n", "sum"),
        )
        evidence = self._evidence(ctx, [c["sku_id"] for c in chosen])
        findings = []
        for c in chosen:
            span = spans.loc[c["sku_id"]]
            premium = float(c["premium_pct"])
            rows = evidence.get(c["sku_id"], ([], []))
            findings.append(
                self.finding(
                    ctx,
                    subject_id=str(c["sku_id"]),
                    platform_id=str(span["platform_id"]),
                    period_start=pd.Timestamp(span["first_day"]).date(),
                    period_end=pd.Timestamp(span["last_day"]).date(),
                    severity=severity_from_bands(premium, bands),
                    score=round((1 - float(c["q"])) * (1 - math.exp(-premium / 10)), 6),
                    statistics={
                        "attribute": c["attribute"],
                        "charged_more": c["charged_more"],
                        "charged_less": c["charged_less"],
                        "premium_pct": premium,
                        "n_charged_more": c["n_more"],
                        "n_charged_less": c["n_less"],
                        "groups": c["groups"],
                        "f_statistic": c["f"],
                        "p_value": c["p_sku"],
                        "q_value": c["q"],
                        "quotes": int(span["quotes"]),
                        "test": "one-way ANOVA on ln(pre-coupon price / list price), "
                        f"Bonferroni over {len(ATTRIBUTES)} attributes, BH across offers",
                    },
                    evidence=[
                        Evidence(
                            "price_quotes",
                            rows[0],
                            scores=rows[1],
                            note="quotes with the highest premium over the list price",
                        )
                    ],
                )
            )
        return findings

    def _evidence(
        self, ctx: Context, skus: list[str], limit: int = 20
    ) -> dict[str, tuple[list[str], list[float]]]:
        q = self._quotes(ctx)
        q = q.filter(q.sku_id.isin(skus), q.d > 0)
        ranked = q.mutate(
            rank=ibis.row_number().over(group_by=q.sku_id, order_by=[q.d.desc(), q.quote_id])
        )
        top = ranked.filter(ranked["rank"] < limit).select("sku_id", "quote_id", "d", "rank")
        frame = ctx.execute(top).sort_values(["sku_id", "rank"])
        out: dict[str, tuple[list[str], list[float]]] = {}
        for sku, rows in frame.groupby("sku_id", sort=True):
            premiums = np.expm1(rows["d"].to_numpy())
            scores = np.clip(premiums / max(premiums.max(), 1e-12), 0, 1)
            out[str(sku)] = (
                rows["quote_id"].astype(str).tolist(),
                [round(float(s), 6) for s in scores],
            )
        return out


OTHER = "(other)"


def _pool_small_groups(cells: pd.DataFrame, attribute: str, min_n: int) -> pd.DataFrame:
    """Merge each offer's groups below ``min_n`` quotes into one ``(other)`` group.

    The pooled group takes part when it reaches ``min_n`` itself; groups still too small
    are dropped.
    """
    small = cells["n"] < min_n
    pooled = cells[small].groupby("sku_id", sort=True)[["n", "s", "ss"]].sum().reset_index()
    pooled[attribute] = OTHER
    out = pd.concat([cells[~small], pooled], ignore_index=True)
    return out[out["n"] >= min_n].sort_values(["sku_id", attribute]).reset_index(drop=True)


def _attribute_tests(cells: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """One ANOVA per offer across the groups of one attribute, with the extreme groups."""
    tests = anova_by_group(cells, "sku_id")
    tests = tests[tests["groups"] >= 2]
    cells = cells[cells["sku_id"].isin(tests.index)].assign(mean=lambda c: c["s"] / c["n"])
    ordered = cells.sort_values(["sku_id", "mean", attribute], kind="mergesort")
    low = ordered.groupby("sku_id", sort=True).head(1).set_index("sku_id")
    high = ordered.groupby("sku_id", sort=True).tail(1).set_index("sku_id")
    return pd.DataFrame(
        {
            "sku_id": tests.index,
            "attribute": attribute,
            "pvalue": tests["pvalue"].to_numpy(),
            "f": tests["f"].to_numpy(),
            "premium_pct": np.expm1((high["mean"] - low["mean"]).loc[tests.index].to_numpy()) * 100,
            "charged_more": high[attribute].loc[tests.index].astype(str).to_numpy(),
            "charged_less": low[attribute].loc[tests.index].astype(str).to_numpy(),
            "n_more": high["n"].loc[tests.index].astype(int).to_numpy(),
            "n_less": low["n"].loc[tests.index].astype(int).to_numpy(),
            "groups": tests["groups"].astype(int).to_numpy(),
        }
    )
