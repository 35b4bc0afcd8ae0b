"""FW602 algorithm.unfiled."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.errors import DefinitionError, ParameterLookupError
from fairwatch.law import calendar

DEADLINE = "cn.algorithm.filing.deadline_working_days"
SCOPE = "cn.detection.algorithm.filing_scope"
SEVERITY = "cn.detection.algorithm.severity_delay_working_days"


@dataclass(frozen=True)
class _Gap:
    """One in-scope algorithm without a timely, valid filing."""

    service: str
    algorithm_type: str
    in_use_from: date
    in_use_to: date | None
    deadline: date
    status: str
    filed_on: date | None
    delay: int | None
    until: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "algorithm_type": self.algorithm_type,
            "in_use_from": self.in_use_from,
            "in_use_to": self.in_use_to,
            "filing_deadline": self.deadline,
            "status": self.status,
            "filed_on": self.filed_on,
            "delay_working_days": self.delay,
        }


class UnfiledAlgorithm(Detector):
    """Algorithms that must be filed run without a timely filing.

    **What it detects**

    Platforms whose ``algorithm_inventory`` lists an algorithm in the scope of the
    filing duty that has no ``filed`` registration of its type in
    ``algorithm_filings`` by the deadline: never filed, filed only as ``pending`` or
    ``rejected``, filed late, or deregistered while still in use. The scope is
    ``cn.detection.algorithm.filing_scope`` (by the platform's categories). Timely
    filings, filings made before the launch, filings deregistered after the algorithm
    stopped, a rejected filing followed by a timely accepted one, and algorithms
    outside the scope are lawful.

    **Why it matters**

    Providers of algorithm recommendation services with public-opinion attributes or
    social-mobilisation capacity must file the algorithm (name, form, field, type,
    self-assessment, public summary) within ten working days of providing the service,
    and deregister within twenty working days of ending it (Algorithm Recommendation
    Provisions art. 24); a provider that does not is warned and ordered to rectify, and
    fined if it does not (art. 31).

    **Method**

    The engine aggregates the filings per platform and algorithm type (earliest
    ``filed`` date, earliest ``deregistered`` date, counts of undated, pending and
    rejected filings) and joins them to the inventory. For each in-scope inventory row,
    the deadline is the ``cn.algorithm.filing.deadline_working_days``-th working day
    after ``in_use_from`` (or after the provisions took effect, for an algorithm already
    running then), on China's official calendar (:mod:`fairwatch.law.calendar`: public
    holidays and make-up working days per the State Council's arrangements). A row is
    lawful when a ``filed`` filing of its type is dated on or before the deadline (or is
    undated), or when the algorithm has stopped (``in_use_to``) and its filing, timely,
    was deregistered. Rows whose deadline is not past at the as-of date, or that
    stopped by their deadline, are not judged. The platform's finding lists each gap
    with its deadline, status, filing date and delay in working days (to the late
    filing, else to the end of use or the as-of date); severity follows
    ``cn.detection.algorithm.severity_delay_working_days`` on the longest delay.

    **Known limitations**

    Filings are matched to the inventory by algorithm type, not by name: a filing of one
    personalised-push algorithm covers another of the same type. The standard does not
    date deregistrations, so a registration deregistered while the algorithm still runs
    has no measurable delay, and one deregistered after use ended is accepted without
    checking the twenty-working-day deregistration deadline. Whether a provider really
    has public-opinion attributes is approximated by its platform categories. A deadline
    in a year the calendar does not cover is not computed (the row is logged and
    skipped).
    """

    code = "FW602"
    name = "algorithm.unfiled_algorithm"
    family = "algorithm.unfiled"
    legal_basis = ("cn.algorithm_provisions.art24",)
    parameters = (DEADLINE, SCOPE, SEVERITY)
    inputs = {
        "algorithm_inventory": (
            "platform_id",
            "service",
            "algorithm_type",
            "in_use_from",
            "in_use_to",
        ),
        "algorithm_filings": ("filing_id", "platform_id", "algorithm_type", "filed_on", "status"),
        "platforms": ("platform_id", "categories"),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        inv = ctx.table("algorithm_inventory")
        fil = ctx.table("algorithm_filings")
        filed = fil.status == "filed"
        dereg = fil.status == "deregistered"
        undated = fil.filed_on.isnull()
        per_type = fil.group_by(
            [fil.platform_id.name("f_platform_id"), fil.algorithm_type.name("f_algorithm_type")]
        ).aggregate(
            first_filed=fil.filed_on.min(where=filed),
            filed_undated=(filed & undated).sum(),
            first_deregistered=fil.filed_on.min(where=dereg),
            deregistered_undated=(dereg & undated).sum(),
            pending=(fil.status == "pending").sum(),
            rejected=(fil.status == "rejected").sum(),
            filings=fil.count(),
        )
        joined = inv.left_join(
            per_type,
            [
                inv.platform_id == per_type.f_platform_id,
                inv.algorithm_type == per_type.f_algorithm_type,
            ],
        )
        return joined.select(
            "platform_id",
            "service",
            "algorithm_type",
            "in_use_from",
            "in_use_to",
            "first_filed",
            "filed_undated",
            "first_deregistered",
            "deregistered_undated",
            "pending",
            "rejected",
            "filings",
        )

    def run(self, ctx: Context) -> list[Finding]:
        summary = ctx.execute(self.summarize(ctx))
        p = ctx.table("platforms")
        platforms = ctx.execute(p.select("platform_id", "categories"))
        return self.judge(ctx, summary, platforms)

    def judge(
        self, ctx: Context, summary: pd.DataFrame, platforms: pd.DataFrame | None = None
    ) -> list[Finding]:
        if summary.empty:
            return []
        required = ctx.param_in_force(DEADLINE, ctx.as_of)
        if required is None:
            return []  # the filing duty is not in force at the as-of date
        since = ctx.law.parameter(DEADLINE).values[0].start
        scope: dict[str, list[str]] = ctx.param(SCOPE)
        _check_scope(scope)
        bands = ctx.param(SEVERITY)
        categories = _categories(platforms)

        gaps: dict[str, list[_Gap]] = {}
        rows = summary.sort_values(["platform_id", "algorithm_type", "service", "in_use_from"])
        for row in rows.itertuples(index=False):
            pid = str(row.platform_id)
            if pid not in categories:
                ctx.log.warning("platform %s is not in `platforms`: scope unknown, skipped", pid)
                continue
            in_scope = {t for c in categories[pid] for t in scope.get(c, ())}
            if row.algorithm_type not in in_scope:
                continue
            gap = self._gap(ctx, row, since, int(required))
            if gap is not None:
                gaps.setdefault(pid, []).append(gap)
        if not gaps:
            return []
        filings = self._filings(ctx, gaps)
        return [
            self._finding(ctx, pid, found, categories[pid], filings, int(required), bands)
            for pid, found in sorted(gaps.items())
        ]

    def _gap(self, ctx: Context, row: Any, since: date, required: int) -> _Gap | None:
        start_use, end_use = _day(row.in_use_from), _day(row.in_use_to)
        if start_use is None or (end_use is not None and end_use < since):
            return None
        start = max(start_use, since)
        try:
            deadline = calendar.add_working_days(start, required)
        except ParameterLookupError as exc:
            ctx.log.warning("%s %s: deadline not computed: %s", row.platform_id, row.service, exc)
            return None
        if deadline >= ctx.as_of or (end_use is not None and end_use <= deadline):
            return None  # not yet due, or stopped before it was
        first_filed, first_dereg = _day(row.first_filed), _day(row.first_deregistered)
        stopped = end_use is not None
        if _count(row.filed_undated) or (first_filed is not None and first_filed <= deadline):
            return None
        if stopped and (
            _count(row.deregistered_undated)
            or (first_dereg is not None and first_dereg <= deadline)
        ):
            return None
        until = min(end_use, ctx.as_of) if end_use is not None else ctx.as_of
        late = first_filed if first_filed is not None else (first_dereg if stopped else None)
        if late is not None:
            status = "filed_late" if first_filed is not None else "filed_late_then_deregistered"
            filed_on: date | None = late
            until = late
        elif first_dereg is not None or _count(row.deregistered_undated):
            status, filed_on = "deregistered_while_in_use", first_dereg
        elif _count(row.pending):
            status, filed_on = "pending", None
        elif _count(row.rejected):
            status, filed_on = "rejected", None
        else:
            status, filed_on = "not_filed", None
        delay: int | None = None
        if status != "deregistered_while_in_use":
            try:
                delay = calendar.working_days_between(deadline, until)
            except ParameterLookupError:
                delay = None
        return _Gap(
            service=str(row.service),
            algorithm_type=str(row.algorithm_type),
            in_use_from=start_use,
            in_use_to=end_use,
            deadline=deadline,
            status=status,
            filed_on=filed_on,
            delay=delay,
            until=until,
        )

    def _filings(self, ctx: Context, gaps: dict[str, list[_Gap]]) -> pd.DataFrame:
        fil = ctx.table("algorithm_filings")
        fil = fil.filter(fil.platform_id.isin(sorted(gaps))).select(
            "filing_id", "platform_id", "algorithm_type", "status", "filed_on"
        )
        return ctx.execute(fil)

    def _finding(
        self,
        ctx: Context,
        pid: str,
        gaps: list[_Gap],
        categories: list[str],
        filings: pd.DataFrame,
        required: int,
        bands: dict[str, float],
    ) -> Finding:
        delays = [g.delay for g in gaps if g.delay is not None]
        longest = max(delays) if delays else None
        medium = float(bands.get("medium", 1)) or 1.0
        if longest is None:
            severity, score = "medium", 0.5
        else:
            severity = severity_from_bands(longest, bands)
            score = 1 - math.exp(-max(longest, 1) / medium)
        types = sorted({g.algorithm_type for g in gaps})
        related = filings[
            (filings["platform_id"] == pid) & filings["algorithm_type"].isin(types)
        ].sort_values("filing_id")
        return self.finding(
            ctx,
            subject_id=pid,
            platform_id=pid,
            period_start=min(g.deadline for g in gaps) + timedelta(days=1),
            period_end=max(g.until for g in gaps),
            severity=severity,
            score=round(score, 6),
            statistics={
                "algorithms": [g.to_dict() for g in gaps],
                "unfiled_algorithms": len(gaps),
                "statuses": dict(sorted(Counter(g.status for g in gaps).items())),
                "algorithm_types": types,
                "deadline_working_days": required,
                "max_delay_working_days": longest,
                "platform_categories": categories,
            },
            evidence=[
                Evidence(
                    "algorithm_inventory",
                    [f"{g.service}|{g.algorithm_type}|{g.in_use_from.isoformat()}" for g in gaps],
                    note="in-scope algorithms without a timely filing (service|type|in_use_from)",
                ),
                Evidence(
                    "algorithm_filings",
                    related["filing_id"].astype(str).tolist(),
                    note="filings of these types: late, pending, rejected or deregistered",
                ),
            ],
        )


def _check_scope(scope: dict[str, list[str]]) -> None:
    """The scope policy must use the reporting standard's codes (a typo would hide gaps)."""
    from fairwatch.contract import STANDARD

    def enum(table: str, column: str) -> set[str]:
        col = next(c for c in STANDARD.table(table).columns if c.name == column)
        return set(col.enum or ())

    types, cats = enum("algorithm_inventory", "algorithm_type"), enum("platforms", "categories")
    bad = sorted({c for c in scope if cats and c not in cats})
    bad += sorted({t for ts in scope.values() for t in ts if t not in types})
    if bad:
        raise DefinitionError(
            f"{SCOPE} names codes the reporting standard does not have: {', '.join(bad)}",
            "detector FW602",
        )


def _categories(platforms: pd.DataFrame | None) -> dict[str, list[str]]:
    if platforms is None or platforms.empty:
        return {}
    out: dict[str, list[str]] = {}
    for pid, cats in zip(platforms["platform_id"], platforms["categories"], strict=True):
        values = [] if cats is None or (isinstance(cats, float) and math.isnan(cats)) else cats
        out[str(pid)] = sorted(str(c) for c in values)
    return out


def _count(value: Any) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)


def _day(value: Any) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return pd.Timestamp(value).date()
