"""FW503 labour.excessive_hours."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.labour import (
    HOUR_S,
    MINUTE_S,
    sessions,
    stretches,
    subject,
    worker_units,
)

CAP = "cn.detection.labour.max_continuous_online_hours"
REST = "cn.detection.labour.min_rest_minutes"
MAX_SHARE = "cn.detection.labour.max_share_workers_over_hours_pct"
BANDS = "cn.detection.labour.severity_share_workers_over_hours_pct"


class ExcessiveContinuousHours(Detector):
    """Workers kept logged in for longer than the cap without a rest break.

    **What it detects**

    Platform-regions where a material share of riders have continuous logged-in
    stretches longer than the cap: sessions follow one another with gaps too short to
    be a rest (reconnections, app restarts), so the platform keeps dispatching orders
    to a worker who has had no break for many hours. Long days broken by real rest
    breaks are not excessive.

    **Why it matters**

    The national standard on takeout platform services asks platforms to cap continuous
    order-taking time, prompt fatigue and force rest; the Algorithm Recommendation
    Provisions (art. 20) and the 2021 MOHRSS guidance on new forms of employment require
    dispatch algorithms to protect workers' rest. Fatigue is a main cause of riders'
    road accidents.

    **Method**

    Per platform and worker, sessions ordered by (start, end) are merged into stretches
    (a gaps-and-islands window over the sessions): a session starts a new stretch when
    it begins at least ``cn.detection.labour.min_rest_minutes`` after the latest end of
    the worker's earlier sessions, otherwise it continues the stretch (overlapping
    sessions merge). A stretch is excessive when it lasts longer than
    ``cn.detection.labour.max_continuous_online_hours`` (exactly the cap is not). Each
    worker belongs to the platform-region holding most of their logged-in time (the
    session's region, else the region of most of their deliveries). The engine
    returns per platform-region the workers, the workers with an excessive stretch, the
    excessive stretches, the longest stretch and the China local days covered. A
    platform-region is reported when the share of its workers with an excessive stretch
    exceeds ``cn.detection.labour.max_share_workers_over_hours_pct``; severity follows
    ``cn.detection.labour.severity_share_workers_over_hours_pct``. Evidence lists those
    workers (``worker_sessions.worker_id``), scored by their longest stretch beyond the
    cap.

    **Known limitations**

    Logged-in time is taken as working time; a worker logged in on two platforms at once
    is judged per platform, so a cap exceeded only across platforms is not seen. Rest
    taken while logged in (the app lets a rider pause without logging out) is invisible
    in ``worker_sessions`` and makes stretches look longer than they are.
    """

    code = "FW503"
    name = "labour.excessive_continuous_hours"
    family = "labour.excessive_hours"
    legal_basis = (
        "cn.takeout_platform_standard",
        "cn.algorithm_provisions.art20",
        "cn.new_employment_forms_guidance",
    )
    parameters = (CAP, REST, MAX_SHARE, BANDS)
    inputs = {
        "worker_sessions": ("worker_id", "platform_id", "online_from", "online_to", "region_code"),
        "deliveries": ("platform_id", "rider_id", "region_code"),
    }
    cost = 2.5

    def _stretches(self, ctx: Context) -> ir.Table:
        sess = sessions(ctx)
        rest_s = round(float(ctx.param(REST)) * MINUTE_S)
        cap_s = round(float(ctx.param(CAP)) * HOUR_S)
        st = stretches(sess, rest_s)
        units = worker_units(sess)
        st = st.join(
            units, [st.platform_id == units.platform_id, st.worker_id == units.worker_id]
        ).select(st, region=units.region)
        return st.mutate(length_s=st.t1 - st.t0, over=(st.t1 - st.t0) > cap_s)

    def summarize(self, ctx: Context) -> ir.Table:
        st = self._stretches(ctx)
        per_worker = st.group_by(["platform_id", "region", "worker_id"]).aggregate(
            over_stretches=st.over.sum(),
            longest_s=st.length_s.max(),
            first_day=st.first_day.min(),
            last_day=st.first_day.max(),
        )
        return per_worker.group_by(["platform_id", "region"]).aggregate(
            workers=per_worker.count(),
            workers_over=(per_worker.over_stretches > 0).sum(),
            over_stretches=per_worker.over_stretches.sum(),
            longest_s=per_worker.longest_s.max(),
            first_day=per_worker.first_day.min(),
            last_day=per_worker.last_day.max(),
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        max_share = float(ctx.param(MAX_SHARE)) / 100
        cap_h = float(ctx.param(CAP))
        bands = ctx.param(BANDS)
        summary = summary.sort_values(["platform_id", "region"]).assign(
            share=lambda f: f["workers_over"] / f["workers"]
        )
        flagged = summary[summary["share"] > max_share]
        ctx.log.info(
            "%d platform-regions, %d with stretches over %g h, %d reported",
            len(summary),
            int((summary["workers_over"] > 0).sum()),
            cap_h,
            len(flagged),
        )
        if flagged.empty:
            return []
        evidence = self._evidence(ctx, flagged)
        findings = []
        for row in flagged.itertuples(index=False):
            share_pct = float(row.share) * 100
            ids, scores = evidence.get((str(row.platform_id), str(row.region)), ([], []))
            findings.append(
                self.finding(
                    ctx,
                    subject_id=subject(str(row.platform_id), str(row.region)),
                    platform_id=str(row.platform_id),
                    period_start=pd.Timestamp(row.first_day).date(),
                    period_end=pd.Timestamp(row.last_day).date(),
                    severity=severity_from_bands(share_pct, bands),
                    score=round(min(1.0, float(row.share)), 6),
                    statistics={
                        "workers": int(row.workers),
                        "workers_over_cap": int(row.workers_over),
                        "share_over_cap_pct": share_pct,
                        "reported_above_share_pct": max_share * 100,
                        "stretches_over_cap": int(row.over_stretches),
                        "longest_stretch_hours": float(row.longest_s) / HOUR_S,
                        "cap_hours": cap_h,
                        "min_rest_minutes": float(ctx.param(REST)),
                    },
                    evidence=[
                        Evidence(
                            "worker_sessions",
                            ids,
                            scores=scores,
                            note="worker_id of workers with a continuous stretch over the "
                            "cap (score: longest stretch beyond the cap, relative to it)",
                        )
                    ],
                )
            )
        return findings

    def _evidence(
        self, ctx: Context, flagged: pd.DataFrame, limit: int = 50
    ) -> dict[tuple[str, str], tuple[list[str], list[float]]]:
        st = self._stretches(ctx)
        st = st.filter(st.over)
        per = st.group_by(["platform_id", "region", "worker_id"]).aggregate(
            longest_s=st.length_s.max()
        )
        frame = ctx.execute(per)
        cap_s = float(ctx.param(CAP)) * HOUR_S
        wanted = set(zip(flagged["platform_id"], flagged["region"], strict=True))
        out: dict[tuple[str, str], tuple[list[str], list[float]]] = {}
        for key, rows in frame.groupby(["platform_id", "region"], sort=True):
            if key not in wanted:
                continue
            rows = rows.sort_values(["longest_s", "worker_id"], ascending=[False, True])
            rows = rows.head(limit)
            excess = ((rows["longest_s"] - cap_s) / cap_s).clip(0, 1)
            out[(str(key[0]), str(key[1]))] = (
                rows["worker_id"].astype(str).tolist(),
                [round(float(x), 6) for x in excess],
            )
        return out
