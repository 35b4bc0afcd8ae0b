"""FW502 labour.pay_below_minimum_wage."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.labour import (
    HOUR_S,
    epoch_s,
    local_midnight_epoch_s,
    sessions,
    subject,
)
from fairwatch.law.declared import Declared

MAX_SHARE = "cn.detection.labour.max_share_below_minimum_wage_pct"
BANDS = "cn.detection.labour.severity_share_below_minimum_wage_pct"
ZJ_HOURLY = "cn_zj.labour.minimum_wage.hourly_cny"
ZJ_TIERS = "cn_zj.labour.minimum_wage.region_tiers"

#: Province prefix of the region code -> (hourly minimum by tier, tier of each region).
#: Regions of provinces without a rule pack are not judged (and logged).
MINIMUM_WAGE_PACKS: dict[str, tuple[str, str]] = {"33": (ZJ_HOURLY, ZJ_TIERS)}


@dataclass(frozen=True)
class _Segment:
    """A span of China local days with one set of law values (end exclusive)."""

    start: date | None
    end: date | None

    def bounds_s(self) -> tuple[int | None, int | None]:
        return (
            None if self.start is None else local_midnight_epoch_s(self.start),
            None if self.end is None else local_midnight_epoch_s(self.end),
        )


class PayBelowMinimumWage(Detector):
    """Workers whose hourly earnings over logged-in time are below the local minimum wage.

    **What it detects**

    Platform-regions where a material share of riders earn, per hour logged in and
    available, less than the hourly minimum wage of their district, after the
    platform's deductions (lateness, complaints). Monthly earnings are not the test: a
    part-time rider with few hours may earn little in a month and still be paid
    lawfully per hour.

    **Why it matters**

    The 2021 SAMR guidance on food-delivery riders and the 2021 MOHRSS guidance on new
    forms of employment require that workers providing normal labour earn at least the
    local minimum wage; the Algorithm Recommendation Provisions (art. 20) require
    dispatch algorithms to protect workers' pay. Zhejiang sets hourly minimum rates by
    tier of county (cn_zj.labour.minimum_wage.hourly_cny).

    **Method**

    A worker's logged-in time is the sum of their ``worker_sessions`` on a platform;
    each session's region is its ``region_code`` or, when null, the region of most of
    the worker's deliveries on that platform. The worker is counted in the
    platform-region holding most of their logged-in time. Earnings are
    ``pay_cny − deduction_cny`` of their deliveries on that platform. Time is split at
    every date on which the hourly rates or the tier assignment change (China local
    midnight), so the minimum due is ``Σ hours × rate in force on those days`` for the
    tier of each session's region — an hours-weighted minimum when a new rate takes
    effect during the period. Pay is split the same way by dispatch time and, within a
    span, over the worker's regions by hours. The engine aggregates per (platform,
    worker, region) the seconds in each span and the net pay in each span. A worker is
    below the minimum when net earnings, rounded to the fen, are below the minimum due;
    a worker who earned exactly the minimum is not. Per platform-region the share of
    workers below is reported when it exceeds
    ``cn.detection.labour.max_share_below_minimum_wage_pct``; severity follows
    ``cn.detection.labour.severity_share_below_minimum_wage_pct``. Evidence lists the
    workers below (``worker_sessions.worker_id``), scored by their shortfall.

    **Known limitations**

    Only regions with a minimum-wage rule pack are judged (Zhejiang: its tier list in
    cn_zj.labour.minimum_wage.region_tiers is unverified); other regions and days before
    the first rate in force are skipped and logged. Logged-in time is taken as working
    time, including waiting for orders; pay outside ``deliveries`` (bonuses, subsidies)
    is not seen, so a platform that reports bonuses elsewhere looks worse than it is.
    Deliveries by a worker without any session on that platform cannot be judged.
    """

    code = "FW502"
    name = "labour.pay_below_minimum_wage"
    family = "labour.pay_below_minimum_wage"
    legal_basis = (
        "cn.food_delivery_guidance",
        "cn.new_employment_forms_guidance",
        "cn.algorithm_provisions.art20",
        "cn_zj.minimum_wage_2021",
        "cn_zj.minimum_wage_2025",
    )
    parameters = (MAX_SHARE, BANDS, ZJ_HOURLY, ZJ_TIERS)
    inputs = {
        "worker_sessions": ("worker_id", "platform_id", "online_from", "online_to", "region_code"),
        "deliveries": (
            "platform_id",
            "rider_id",
            "region_code",
            "dispatched_at",
            "pay_cny",
            "deduction_cny",
        ),
    }
    cost = 2

    # -- law ---------------------------------------------------------------------------

    def _segments(self, ctx: Context) -> list[_Segment]:
        """Spans between every date on which a minimum-wage parameter changes."""
        law = Declared(self.parameters, f"detector {self.code}")
        dates = sorted(
            {
                dated.start
                for hourly, tiers in MINIMUM_WAGE_PACKS.values()
                for name in (hourly, tiers)
                for dated in law.parameter(ctx.law, name).values
            }
        )
        edges: list[date | None] = [None, *dates, None]
        return [_Segment(a, b) for a, b in itertools.pairwise(edges)]

    def _rates(self, ctx: Context, segment: _Segment) -> dict[str, float]:
        """Hourly minimum by listed region code during a span (empty when not in force)."""
        if segment.start is None:
            return {}
        law = Declared(self.parameters, f"detector {self.code}")
        out: dict[str, float] = {}
        for hourly, tiers in MINIMUM_WAGE_PACKS.values():
            rate = law.in_force(ctx.law, hourly, segment.start)
            tier = law.in_force(ctx.law, tiers, segment.start)
            if rate is None or tier is None or rate.value is None or tier.value is None:
                continue
            for tier_name, codes in tier.value.items():
                if tier_name in rate.value:
                    for code in codes:
                        out[str(code)] = float(rate.value[tier_name])
        return out

    # -- engine ------------------------------------------------------------------------

    def summarize(self, ctx: Context) -> ir.Table:
        segments = self._segments(ctx)
        s = sessions(ctx)
        d = ctx.table("deliveries")
        d = d.mutate(
            t=epoch_s(d.dispatched_at),
            net=d.pay_cny.fill_null(0) - d.deduction_cny.fill_null(0),
            deduction=d.deduction_cny.fill_null(0),
        )
        secs: dict[str, Any] = {}
        nets: dict[str, Any] = {}
        for k, seg in enumerate(segments):
            lo, hi = seg.bounds_s()
            start = s.t0 if lo is None else ibis.greatest(s.t0, lo)
            end = s.t1 if hi is None else ibis.least(s.t1, hi)
            secs[f"secs_{k}"] = ibis.greatest(end - start, 0).sum()
            inside = ibis.literal(True)
            if lo is not None:
                inside &= d.t >= lo
            if hi is not None:
                inside &= d.t < hi
            nets[f"net_{k}"] = ibis.ifelse(inside, d.net, 0.0).sum()
        per_region = s.group_by(["platform_id", "worker_id", "region"]).aggregate(
            **secs, first_day=s.day.min(), last_day=s.day.max()
        )
        pay = d.group_by(["platform_id", "rider_id"]).aggregate(
            **nets, tasks=d.count(), deductions_cny=d.deduction.sum()
        )
        joined = per_region.left_join(
            pay,
            [per_region.platform_id == pay.platform_id, per_region.worker_id == pay.rider_id],
        )
        return joined.select(
            per_region.platform_id,
            per_region.worker_id,
            per_region.region,
            *[per_region[c] for c in secs],
            *[pay[c].fill_null(0.0).name(c) for c in nets],
            pay.tasks.fill_null(0).name("tasks"),
            pay.deductions_cny.fill_null(0.0).name("deductions_cny"),
            per_region.first_day,
            per_region.last_day,
        )

    # -- statistics --------------------------------------------------------------------

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        segments = self._segments(ctx)
        rates = [self._rates(ctx, seg) for seg in segments]
        workers = _judge_workers(summary, rates, len(segments))
        skipped = len(summary[["platform_id", "worker_id"]].drop_duplicates()) - len(workers)
        if skipped:
            ctx.log.info(
                "%d workers not judged: no minimum wage known for their region and days",
                skipped,
            )
        if workers.empty:
            return []
        max_share = float(ctx.param(MAX_SHARE)) / 100
        bands = ctx.param(BANDS)
        findings = []
        for (platform_id, region), unit in workers.groupby(["platform_id", "unit"], sort=True):
            below = unit[unit["below"]]
            share = len(below) / len(unit)
            if share <= max_share:
                continue
            hourly = unit["net"] / unit["hours"]
            minimum = unit["due"] / unit["hours"]
            below_sorted = below.assign(
                shortfall=1 - below["net"].clip(lower=0) / below["due"]
            ).sort_values(["shortfall", "worker_id"], ascending=[False, True])
            share_pct = share * 100
            findings.append(
                self.finding(
                    ctx,
                    subject_id=subject(str(platform_id), str(region)),
                    platform_id=str(platform_id),
                    period_start=pd.Timestamp(unit["first_day"].min()).date(),
                    period_end=pd.Timestamp(unit["last_day"].max()).date(),
                    severity=severity_from_bands(share_pct, bands),
                    score=round(min(1.0, share), 6),
                    statistics={
                        "workers": len(unit),
                        "workers_below_minimum": len(below),
                        "share_below_minimum_pct": share_pct,
                        "reported_above_share_pct": max_share * 100,
                        "hourly_minimum_cny": sorted({round(float(m), 2) for m in minimum}),
                        "median_hourly_earnings_cny": float(np.median(hourly)),
                        "median_hourly_earnings_below_cny": float(
                            np.median(below["net"] / below["hours"])
                        ),
                        "median_pct_of_minimum_below": float(
                            np.median(below["net"] / below["due"]) * 100
                        ),
                        "shortfall_cny": round(float((below["due"] - below["net"]).sum()), 2),
                        "hours_logged_in": float(unit["hours"].sum()),
                        "deductions_cny": round(float(unit["deductions_cny"].sum()), 2),
                        "measure": "(pay - deductions) / logged-in hours vs the hourly "
                        "minimum of the region's tier, hours-weighted over rate changes",
                    },
                    evidence=[
                        Evidence(
                            "worker_sessions",
                            below_sorted["worker_id"].astype(str).head(50).tolist(),
                            scores=[
                                round(float(x), 6)
                                for x in below_sorted["shortfall"].clip(0, 1).head(50)
                            ],
                            note="worker_id of workers below the hourly minimum "
                            "(score: shortfall as a share of the minimum due)",
                        )
                    ],
                )
            )
        ctx.log.info(
            "%d workers judged in %d platform-regions, %d reported",
            len(workers),
            workers.groupby(["platform_id", "unit"]).ngroups,
            len(findings),
        )
        return findings


def _judge_workers(summary: pd.DataFrame, rates: list[dict[str, float]], n: int) -> pd.DataFrame:
    """Per (platform, worker): unit region, judged hours, minimum due, net pay, below?"""
    frame = summary.copy()
    frame["region"] = frame["region"].astype("string")
    secs = frame[[f"secs_{k}" for k in range(n)]].to_numpy(dtype=float)
    # the worker's pay in a span is shared over their regions by seconds in that span
    key = [frame["platform_id"], frame["worker_id"]]
    span_total = np.column_stack(
        [frame[f"secs_{k}"].groupby(key).transform("sum").to_numpy(dtype=float) for k in range(n)]
    )
    nets = frame[[f"net_{k}" for k in range(n)]].to_numpy(dtype=float)
    share = np.divide(secs, span_total, out=np.zeros_like(secs), where=span_total > 0)
    rate = np.array(
        [
            [rates[k].get(str(r), np.nan) if pd.notna(r) else np.nan for k in range(n)]
            for r in frame["region"]
        ],
        dtype=float,
    ).reshape(len(frame), n)
    known = ~np.isnan(rate) & (secs > 0)
    frame["judged_s"] = np.where(known, secs, 0).sum(axis=1)
    frame["due"] = np.where(known, secs * np.nan_to_num(rate) / HOUR_S, 0).sum(axis=1)
    frame["net_judged"] = np.where(known, nets * share, 0).sum(axis=1)
    frame["all_s"] = secs.sum(axis=1)
    # the worker's unit: the region with most logged-in time (ties: smaller code)
    ranked = frame[frame["region"].notna()].sort_values(
        ["platform_id", "worker_id", "all_s", "region"], ascending=[True, True, False, True]
    )
    unit = ranked.groupby(["platform_id", "worker_id"], sort=True)["region"].first()
    per = frame.groupby(["platform_id", "worker_id"], sort=True).agg(
        judged_s=("judged_s", "sum"),
        due=("due", "sum"),
        net=("net_judged", "sum"),
        deductions_cny=("deductions_cny", "first"),
        first_day=("first_day", "min"),
        last_day=("last_day", "max"),
    )
    per["unit"] = unit
    per = per[(per["judged_s"] > 0) & per["unit"].notna()]
    per["hours"] = per["judged_s"] / HOUR_S
    per["below"] = per["net"].round(2) < per["due"].round(2)
    return per.reset_index()
