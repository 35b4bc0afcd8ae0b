"""Labour detectors (riders and drivers): FW501 time pressure, FW502 pay, FW503 hours.

Helpers shared by the three detectors. Every one of them reports per
``platform_region`` = ``platform_id:region_code``. A worker belongs to one platform-region
per platform: the region where most of their logged-in time on that platform was spent,
taking each session's ``region_code`` or, when it is null, the region of most of the
worker's deliveries on that platform (ties go to the smaller code).

Time arithmetic is done on whole epoch seconds (``floor``), which DuckDB and Spark compute
the same way; local calendar days are China days (UTC+8, :func:`fairwatch.engine.local_date`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from fairwatch.detectors.base import Context
from fairwatch.engine import LOCAL_UTC_OFFSET_HOURS, local_date

HOUR_S = 3600
MINUTE_S = 60


def epoch_s(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds since the epoch (portable: Spark truncates, DuckDB is floored)."""
    return ts.epoch_seconds().floor().cast("int64")


def local_midnight_epoch_s(day: Any) -> int:
    """Epoch seconds of 00:00 China local time on ``day`` (a ``date``)."""
    from datetime import date

    assert isinstance(day, date)
    return (day.toordinal() - date(1970, 1, 1).toordinal()) * 86_400 - (
        LOCAL_UTC_OFFSET_HOURS * HOUR_S
    )


def delivery_regions(ctx: Context) -> ir.Table:
    """Per (platform, rider): the region of most of their deliveries (ties: smaller code)."""
    d = ctx.table("deliveries")
    d = d.filter(d.region_code.notnull())
    per = d.group_by(["platform_id", "rider_id", "region_code"]).aggregate(tasks=d.count())
    ranked = per.mutate(
        rank=ibis.row_number().over(
            group_by=[per.platform_id, per.rider_id],
            order_by=[per.tasks.desc(), per.region_code],
        )
    )
    top = ranked.filter(ranked["rank"] == 0)
    return top.select(
        platform_id=top.platform_id, worker_id=top.rider_id, delivery_region=top.region_code
    )


def sessions(ctx: Context) -> ir.Table:
    """Worker sessions with ``region`` resolved and times as epoch seconds ``t0``/``t1``."""
    s = ctx.table("worker_sessions")
    s = s.filter(s.online_to > s.online_from)
    main = delivery_regions(ctx)
    joined = s.left_join(main, [s.platform_id == main.platform_id, s.worker_id == main.worker_id])
    return joined.select(
        worker_id=s.worker_id,
        platform_id=s.platform_id,
        online_from=s.online_from,
        online_to=s.online_to,
        region=ibis.coalesce(s.region_code, main.delivery_region),
        t0=epoch_s(s.online_from),
        t1=epoch_s(s.online_to),
        day=local_date(s.online_from),
    )


def worker_units(sess: ir.Table) -> ir.Table:
    """Per (platform, worker): the ``region`` holding most of their logged-in seconds."""
    known = sess.filter(sess.region.notnull())
    per = known.group_by(["platform_id", "worker_id", "region"]).aggregate(
        secs=(known.t1 - known.t0).sum()
    )
    ranked = per.mutate(
        rank=ibis.row_number().over(
            group_by=[per.platform_id, per.worker_id],
            order_by=[per.secs.desc(), per.region],
        )
    )
    top = ranked.filter(ranked["rank"] == 0)
    return top.select("platform_id", "worker_id", "region")


def stretches(sess: ir.Table, rest_s: int) -> ir.Table:
    """Continuous logged-in stretches per (platform, worker): gaps and islands.

    Sessions ordered by (start, end) start a new stretch when they begin at least
    ``rest_s`` seconds after the latest end of the worker's earlier sessions (overlapping
    and nested sessions merge). Columns: platform_id, worker_id, stretch, t0, t1, sessions.
    """
    order = [sess.t0, sess.t1]
    before = ibis.window(
        group_by=[sess.platform_id, sess.worker_id], order_by=order, rows=(None, -1)
    )
    prev_end = sess.t1.max().over(before)
    flagged = sess.mutate(new=ibis.ifelse(prev_end.isnull() | (sess.t0 - prev_end >= rest_s), 1, 0))
    upto = ibis.window(
        group_by=[flagged.platform_id, flagged.worker_id],
        order_by=[flagged.t0, flagged.t1],
        rows=(None, 0),
    )
    numbered = flagged.mutate(stretch=flagged.new.sum().over(upto))
    return numbered.group_by(["platform_id", "worker_id", "stretch"]).aggregate(
        t0=numbered.t0.min(),
        t1=numbered.t1.max(),
        sessions=numbered.count(),
        first_day=numbered.day.min(),
    )


def region_value(region: ir.StringValue, mapping: Mapping[str, Any]) -> ir.Value:
    """A per-region parameter (keys ``default`` or ``r`` + region code) as an expression.

    The most specific key covering the region applies: the county code, then its city
    (``3301xx`` -> ``r330100``), then its province (``r330000``), then ``default``.
    """
    overrides = {k[1:]: v for k, v in mapping.items() if k != "default"}
    default = mapping.get("default")
    branches = []

    def specificity(code: str) -> int:
        return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2

    for code in sorted(overrides, key=lambda c: (-specificity(c), c)):
        level = specificity(code)
        if level == 2:
            cond = region == code
        elif level == 1:
            cond = region.substr(0, 4) == code[:4]
        else:
            cond = region.substr(0, 2) == code[:2]
        branches.append((cond, overrides[code]))
    if not branches:
        return ibis.literal(default)
    return ibis.cases(*branches, else_=default)


def lookup_region(mapping: Mapping[str, Any], region: str) -> Any:
    """:func:`region_value` in Python, for messages and statistics."""
    for key in (f"r{region}", f"r{region[:4]}00", f"r{region[:2]}0000"):
        if key in mapping:
            return mapping[key]
    return mapping.get("default")


def subject(platform_id: str, region: str) -> str:
    return f"{platform_id}:{region}"
