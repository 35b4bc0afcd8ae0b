"""FW204 conduct.rule_change_notice."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding

NOTICE = "cn.ecommerce.rule_change_notice_days"
#: Score of a change published without prior public consultation (and enough notice).
NO_CONSULTATION_SCORE = 0.5


class ShortRuleChangeNotice(Detector):
    """A platform rule change takes effect too soon after it is published, or was not consulted on.

    **What it detects**

    Changes to a platform's service agreement or trading rules (``rule_changes``) that
    take effect fewer than the required days after they are announced (including changes
    that apply before they are announced), and changes announced without a public
    consultation beforehand: no ``consultation_from`` at all, or a comment period that
    opened only after the final text had been announced.

    **Why it matters**

    A platform must solicit opinions publicly on changes to its service agreement and
    trading rules, take reasonable measures so that the parties concerned can express
    their views in time, and publish the change at least seven days before it takes
    effect (E-Commerce Law art. 34). Merchants need that time to adapt prices, stock and
    contracts to new fees, penalties or obligations.

    **Method**

    The notice is counted in calendar days: ``effective_on - announced_on`` (both China
    local dates). A change announced on 1 March may take effect on 8 March at the
    earliest: the text is then public on the seven days 1-7 March before the day it
    applies, and seven days of notice are lawful, six are not. (The stricter reading
    that counts the period from the day after publication, as Civil Code art. 201 does
    for periods, would also report seven days; a regulator taking it raises
    ``cn.ecommerce.rule_change_notice_days`` to 8.) The required notice is that
    parameter's value on the announcement day; changes announced before the E-Commerce
    Law applied are not judged. A consultation opened on the announcement day counts
    (the notice period doubles as the comment period); one opened later does not. The
    engine keeps the rows that may break either rule; each finding names its reasons,
    the notice, the shortfall and the consultation date. Severity follows
    ``cn.detection.conduct.rule_change_severity_score`` on a score combining the
    missing share of the notice period with the lack of consultation.

    **Known limitations**

    Dates are taken as reported: a platform that backdates ``announced_on`` or reports a
    consultation that was not really public passes. Whether the consultation let the
    parties "fully express their views" (its length, its visibility on the home page) is
    not tested, nor whether the change is one of the rules art. 34 covers (every row of
    ``rule_changes`` is taken to be one).
    """

    code = "FW204"
    name = "conduct.short_rule_notice"
    family = "conduct.rule_change_notice"
    legal_basis = ("cn.ecommerce_law.art34",)
    parameters = (NOTICE, "cn.detection.conduct.rule_change_severity_score")
    inputs = {
        "rule_changes": (
            "change_id",
            "platform_id",
            "title",
            "announced_on",
            "effective_on",
            "consultation_from",
        ),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        rc = ctx.table("rule_changes")
        # the longest notice the law has ever required: a superset, judged row by row
        longest = max(int(v) for v in ctx.param_history(NOTICE))
        notice = rc.effective_on.delta(rc.announced_on, unit="day")
        late_consultation = rc.consultation_from > rc.announced_on
        flagged = (notice < longest) | rc.consultation_from.isnull() | late_consultation
        return rc.filter(flagged.fill_null(True)).select(
            "change_id",
            "platform_id",
            "title",
            "announced_on",
            "effective_on",
            "consultation_from",
            notice_days=notice,
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        bands = ctx.param("cn.detection.conduct.rule_change_severity_score")
        findings = []
        for row in summary.sort_values("change_id").itertuples(index=False):
            announced, effective = _day(row.announced_on), _day(row.effective_on)
            if announced is None or effective is None:
                continue
            required = ctx.param_in_force(NOTICE, announced)
            if required is None:
                continue  # announced before the E-Commerce Law applied
            required = int(required)
            notice = (effective - announced).days
            consulted = _day(row.consultation_from)
            reasons = []
            if notice < required:
                reasons.append("short_notice" if notice >= 0 else "effective_before_announcement")
            if consulted is None:
                reasons.append("no_consultation")
                consultation = "none"
            elif consulted > announced:
                reasons.append("consultation_after_announcement")
                consultation = "opened after the announcement"
            else:
                consultation = "opened on or before the announcement"
            if not reasons:
                continue
            shortfall = max(0, required - notice)
            s_notice = min(1.0, shortfall / required) if required > 0 else 0.0
            s_consult = NO_CONSULTATION_SCORE if consulted is None or consulted > announced else 0
            score = 1 - (1 - s_notice) * (1 - s_consult)
            findings.append(
                self.finding(
                    ctx,
                    subject_id=str(row.change_id),
                    platform_id=None if pd.isna(row.platform_id) else str(row.platform_id),
                    period_start=min(announced, effective),
                    period_end=max(announced, effective),
                    severity=severity_from_bands(score, bands),
                    score=round(score, 6),
                    statistics={
                        "reasons": reasons,
                        "title": None if pd.isna(row.title) else str(row.title),
                        "announced_on": announced,
                        "effective_on": effective,
                        "notice_days": notice,
                        "required_notice_days": required,
                        "shortfall_days": shortfall,
                        "consultation_from": consulted,
                        "consultation": consultation,
                        "notice_counting": "calendar days, effective_on - announced_on",
                    },
                    evidence=[
                        Evidence(
                            "rule_changes",
                            [str(row.change_id)],
                            note="the rule change as reported",
                        )
                    ],
                )
            )
        ctx.log.debug("%d of %d candidate changes reported", len(findings), len(summary))
        return findings


def _day(value: Any) -> date | None:
    """A date from what an engine returns for a date column (date, Timestamp, NaT, None)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()
