"""FW501 labour.delivery_time_pressure."""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.labour import MINUTE_S, epoch_s, lookup_region, region_value, subject
from fairwatch.detectors.stats import bh_qvalues
from fairwatch.engine import local_date

SPEED = "cn.detection.labour.riding_speed_kmh"
ALLOWANCE = "cn.detection.labour.pickup_allowance_minutes"
MAX_SHARE = "cn.detection.labour.max_infeasible_share_pct"
BANDS = "cn.detection.labour.severity_infeasible_share_pct"
FDR = "cn.detection.fdr_q"


class InfeasibleDeliveryTimes(Detector):
    """Delivery time limits that riders cannot meet without speeding.

    **What it detects**

    Platform-regions where a material share of the delivery times promised to customers
    (and imposed on riders) is shorter than the time the trip physically needs: riding
    the task's distance at the fastest lawful speed plus a short allowance to collect and
    hand over the order. It also measures what such limits cost riders: lateness, the
    deductions taken from late and from infeasible tasks, and how the promised times
    compare with the median of the times riders actually achieve.

    **Why it matters**

    The 2021 guidance of SAMR and six other bodies on food-delivery riders asks platforms
    to relax delivery time limits and to set targets by the median of what riders
    achieve ("算法取中"), not by the strictest algorithm; the Algorithm Recommendation
    Provisions (art. 20) require work-dispatch algorithms to protect workers' pay and
    rest. A time limit that can only be met by speeding pushes riders into traffic
    violations and accidents, and turns deductions for lateness into pay cuts.

    **Method**

    A task is *infeasible* when ``(promised_minutes − a) × v × 1000 < distance_m × 60``,
    i.e. the promise is shorter than the pickup allowance ``a``
    (``cn.detection.labour.pickup_allowance_minutes``) plus the riding time at speed
    ``v`` km/h (``cn.detection.labour.riding_speed_kmh``, by region: the most specific of
    county, city, province, default). Exactly enough time is feasible. The engine groups
    deliveries, in one pass, per platform, region, promised minutes and achieved minutes
    (``delivered_at − dispatched_at``, whole minutes; none when not delivered): tasks,
    infeasible tasks, tasks delivered late, deductions on late and on infeasible tasks,
    pay, first and last China local day. The promised and the achieved minutes per
    platform-region are rolled up from these groups, so medians are exact. Per
    platform-region a one-sided binomial test asks whether the infeasible share exceeds
    the tolerated share ``cn.detection.labour.max_infeasible_share_pct``;
    Benjamini–Hochberg q-values are taken across platform-regions. A platform-region is
    reported when its q-value is at most ``cn.detection.fdr_q`` and its infeasible share
    exceeds the tolerated share.
    Severity follows ``cn.detection.labour.severity_infeasible_share_pct``. Statistics
    give the median promised and achieved minutes, the share of promises below the
    median achieved time, lateness and deductions; evidence lists the infeasible tasks
    with the largest shortfall (scored by shortfall / required time).

    **Known limitations**

    ``distance_m`` is taken as reported (a route distance; a straight-line distance would
    understate the trip and make the test more lenient). Waiting at the merchant beyond
    the allowance, weather and traffic are not modelled, all of which make real trips
    longer: the test only catches promises that are infeasible even in ideal conditions.
    Tasks without ``delivered_at`` count for feasibility but not for achieved times.
    """

    code = "FW501"
    name = "labour.infeasible_delivery_times"
    family = "labour.delivery_time_pressure"
    legal_basis = ("cn.food_delivery_guidance", "cn.algorithm_provisions.art20")
    parameters = (SPEED, ALLOWANCE, MAX_SHARE, BANDS, FDR)
    inputs = {
        "deliveries": (
            "task_id",
            "platform_id",
            "region_code",
            "dispatched_at",
            "promised_minutes",
            "distance_m",
            "delivered_at",
            "pay_cny",
            "deduction_cny",
        ),
    }
    cost = 3.5

    def _tasks(self, ctx: Context) -> ir.Table:
        """The deliveries that can be tested, with ``infeasible``, ``required`` (minutes the
        trip needs), ``achieved_s`` (null when not delivered) and ``deduction``."""
        d = ctx.table("deliveries")
        d = d.filter(
            d.promised_minutes.notnull(),
            d.distance_m.notnull(),
            d.region_code.notnull(),
            d.dispatched_at.notnull(),
        )
        speed = region_value(d.region_code, ctx.param(SPEED))
        allowance = float(ctx.param(ALLOWANCE))
        slack_m = (d.promised_minutes.cast("float64") - allowance) * speed * 1000
        # required minutes: allowance + distance at speed (for scoring the shortfall)
        required = allowance + d.distance_m * 60 / (speed * 1000)
        return d.mutate(
            infeasible=slack_m < d.distance_m * 60,
            required=required,
            achieved_s=epoch_s(d.delivered_at) - epoch_s(d.dispatched_at),
            deduction=d.deduction_cny.fill_null(0),
        )

    def summarize(self, ctx: Context) -> ir.Table:
        """Per platform, region, promised minutes and achieved minutes (null when not
        delivered): counts, deductions, pay and the first and last local day.

        One pass over the deliveries gives both histograms :meth:`judge` needs (see
        :func:`_split`). The epoch arithmetic of ``achieved_s`` is the costly part: it is
        computed once per task in :meth:`_tasks`' projection, and lateness and achieved
        minutes are derived from that column inside the aggregation (derived in a
        projection of their own, Ibis would inline the arithmetic into each and DuckDB
        compute it twice). Local days are taken of each group's first and last dispatch
        time, which gives the same days as taking them per task since the local day only
        grows with time.
        """
        t = self._tasks(ctx)
        late = t.delivered_at.notnull() & (t.achieved_s > t.promised_minutes * MINUTE_S)
        groups = t.group_by(
            "platform_id",
            "region_code",
            "promised_minutes",
            achieved_min=(t.achieved_s / MINUTE_S).floor().cast("int64"),
        )
        per = groups.aggregate(
            tasks=t.count(),
            infeasible=t.infeasible.sum(),
            delivered=t.delivered_at.notnull().sum(),
            late=late.sum(),
            late_deducted=(late & (t.deduction > 0)).sum(),
            late_deduction_cny=ibis.ifelse(late, t.deduction, 0.0).sum(),
            infeasible_deducted=(t.infeasible & (t.deduction > 0)).sum(),
            infeasible_deduction_cny=ibis.ifelse(t.infeasible, t.deduction, 0.0).sum(),
            deduction_cny=t.deduction.sum(),
            pay_cny=t.pay_cny.sum(),
            first_at=t.dispatched_at.min(),
            last_at=t.dispatched_at.max(),
        )
        return per.mutate(
            first_day=local_date(per.first_at), last_day=local_date(per.last_at)
        ).drop("first_at", "last_at")

    def run(self, ctx: Context) -> list[Finding]:
        groups = ctx.execute(self.summarize(ctx))
        ctx.log.debug("summary of %d rows", len(groups))
        if groups.empty:
            return []
        summary, achieved = _split(groups)
        return self.judge(ctx, summary, achieved)

    def judge(
        self, ctx: Context, summary: pd.DataFrame, achieved: pd.DataFrame | None = None
    ) -> list[Finding]:
        if summary.empty:
            return []
        max_share = float(ctx.param(MAX_SHARE)) / 100
        q_max = float(ctx.param(FDR))
        bands = ctx.param(BANDS)
        achieved = (
            achieved
            if achieved is not None
            else pd.DataFrame(columns=["platform_id", "region_code", "achieved_min", "tasks"])
        )
        keys = ["platform_id", "region_code"]
        sums = [
            "tasks",
            "infeasible",
            "delivered",
            "late",
            "late_deducted",
            "late_deduction_cny",
            "infeasible_deducted",
            "infeasible_deduction_cny",
            "deduction_cny",
            "pay_cny",
        ]
        units = summary.groupby(keys, sort=True).agg(
            **{c: (c, "sum") for c in sums},
            first_day=("first_day", "min"),
            last_day=("last_day", "max"),
        )
        units = units.reset_index()
        units["pvalue"] = [
            float(stats.binomtest(int(k), int(n), max_share, alternative="greater").pvalue)
            if n > 0
            else np.nan
            for k, n in zip(units["infeasible"], units["tasks"], strict=True)
        ]
        units["q"] = bh_qvalues(units["pvalue"].to_numpy())
        units["share"] = units["infeasible"] / units["tasks"]
        flagged = units[(units["q"] <= q_max) & (units["share"] > max_share)]
        ctx.log.info(
            "%d platform-regions tested, %d with infeasible promises, %d reported",
            len(units),
            int((units["infeasible"] > 0).sum()),
            len(flagged),
        )
        if flagged.empty:
            return []
        promised = {k: g for k, g in summary.groupby(keys, sort=True)}
        done = {k: g for k, g in achieved.groupby(keys, sort=True)}
        evidence = self._evidence(ctx, flagged)
        speeds = ctx.param(SPEED)
        findings = []
        for row in flagged.itertuples(index=False):
            key = (row.platform_id, row.region_code)
            hist_p = promised[key]
            med_promised = _median(hist_p["promised_minutes"], hist_p["tasks"])
            hist_a = done.get(key)
            med_achieved = (
                _median(hist_a["achieved_min"], hist_a["tasks"]) if hist_a is not None else None
            )
            below_median = (
                float(hist_p.loc[hist_p["promised_minutes"] < med_achieved, "tasks"].sum())
                / row.tasks
                if med_achieved is not None
                else None
            )
            share_pct = float(row.share) * 100
            stats_: dict[str, Any] = {
                "tasks": int(row.tasks),
                "infeasible_tasks": int(row.infeasible),
                "infeasible_share_pct": share_pct,
                "tolerated_share_pct": max_share * 100,
                "p_value": float(row.pvalue),
                "q_value": float(row.q),
                "test": "one-sided binomial test of the infeasible share against the "
                "tolerated share, BH across platform-regions",
                "riding_speed_kmh": lookup_region(speeds, str(row.region_code)),
                "pickup_allowance_minutes": float(ctx.param(ALLOWANCE)),
                "median_promised_minutes": med_promised,
                "median_achieved_minutes": med_achieved,
                "promised_below_median_achieved_pct": None
                if below_median is None
                else below_median * 100,
                "late_share_pct": float(row.late) / row.delivered * 100 if row.delivered else None,
                "late_tasks_deducted": int(row.late_deducted),
                "late_deductions_cny": round(float(row.late_deduction_cny), 2),
                "infeasible_tasks_deducted": int(row.infeasible_deducted),
                "infeasible_deductions_cny": round(float(row.infeasible_deduction_cny), 2),
                "deductions_pct_of_pay": float(row.deduction_cny) / float(row.pay_cny) * 100
                if row.pay_cny
                else None,
            }
            ids, scores = evidence.get(key, ([], []))
            findings.append(
                self.finding(
                    ctx,
                    subject_id=subject(str(row.platform_id), str(row.region_code)),
                    platform_id=str(row.platform_id),
                    period_start=pd.Timestamp(row.first_day).date(),
                    period_end=pd.Timestamp(row.last_day).date(),
                    severity=severity_from_bands(share_pct, bands),
                    score=round((1 - float(row.q)) * min(1.0, float(row.share)), 6),
                    statistics=stats_,
                    evidence=[
                        Evidence(
                            "deliveries",
                            ids,
                            scores=scores,
                            note="infeasible promises with the largest shortfall "
                            "(score: missing time / time needed)",
                        )
                    ],
                )
            )
        return findings

    def _evidence(
        self, ctx: Context, flagged: pd.DataFrame, limit: int = 20
    ) -> dict[tuple[str, str], tuple[list[str], list[float]]]:
        t = self._tasks(ctx)
        wanted = [
            (t.platform_id == p) & (t.region_code == r)
            for p, r in zip(flagged["platform_id"], flagged["region_code"], strict=True)
        ]
        t = t.filter(t.infeasible, ibis.or_(*wanted))
        t = t.mutate(shortfall=(t.required - t.promised_minutes) / t.required)
        ranked = t.mutate(
            rank=ibis.row_number().over(
                group_by=[t.platform_id, t.region_code],
                order_by=[t.shortfall.desc(), t.task_id],
            )
        )
        top = ranked.filter(ranked["rank"] < limit).select(
            "platform_id", "region_code", "task_id", "shortfall", "rank"
        )
        frame = ctx.execute(top).sort_values(["platform_id", "region_code", "rank"])
        out: dict[tuple[str, str], tuple[list[str], list[float]]] = {}
        for key, rows in frame.groupby(["platform_id", "region_code"], sort=True):
            scores = np.clip(rows["shortfall"].to_numpy(dtype=float), 0, 1)
            out[(str(key[0]), str(key[1]))] = (
                rows["task_id"].astype(str).tolist(),
                [round(float(s), 6) for s in scores],
            )
        return out


def _split(groups: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary's groups rolled up to the two histograms :meth:`judge` reads: per
    platform, region and promised minutes (every column but ``achieved_min``) and, over
    delivered tasks, per platform, region and achieved minutes (``tasks``)."""
    keys = ["platform_id", "region_code"]
    rest = (*keys, "promised_minutes", "achieved_min", "first_day", "last_day")
    sums = [c for c in groups.columns if c not in rest]
    summary = (
        groups.groupby([*keys, "promised_minutes"], sort=False, dropna=False)
        .agg(
            **{c: (c, "sum") for c in sums},
            first_day=("first_day", "min"),
            last_day=("last_day", "max"),
        )
        .reset_index()
    )
    delivered = groups[groups["achieved_min"].notna()]
    achieved = (
        delivered.groupby([*keys, "achieved_min"], sort=False, dropna=False)
        .agg(tasks=("tasks", "sum"))
        .reset_index()
    )
    return summary, achieved


def _median(values: pd.Series, weights: pd.Series) -> float | None:
    """Exact median of a histogram (mean of the two middle values for an even count)."""
    order = np.argsort(values.to_numpy(dtype=float), kind="mergesort")
    v = values.to_numpy(dtype=float)[order]
    w = weights.to_numpy(dtype=float)[order]
    total = w.sum()
    if total <= 0:
        return None
    cum = np.cumsum(w)
    lo = v[int(np.searchsorted(cum, math.floor((total + 1) / 2)))]
    hi = v[int(np.searchsorted(cum, math.ceil((total + 1) / 2)))]
    return float((lo + hi) / 2)
