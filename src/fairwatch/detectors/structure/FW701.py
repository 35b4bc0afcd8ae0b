"""FW701 structure.unnotified_concentration."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.structure import deals as D
from fairwatch.structure.deals import DealScreen, DealScreener
from fairwatch.structure.ownership import CONTRACTUAL, MAJORITY

DEAL_COLUMNS = (
    "deal_id",
    "announced_on",
    "closed_on",
    "acquirer_id",
    "target_id",
    "stake_before_pct",
    "stake_after_pct",
    "control_acquired",
    "consideration_cny",
    "notified_on",
)


class UnnotifiedConcentration(Detector):
    """A concentration that met the notification thresholds was implemented without notification.

    **What it detects**

    Deals that acquired control (``control_acquired``), closed on or before the as-of
    date, and whose undertakings met the State Council notification thresholds in force
    on the announcement day, but that were never notified (``notified_on`` null) or were
    notified only after closing. Typical cases: a large group buying a company through
    a small vehicle at the bottom of a chain of subsidiaries or VIE contracts, whose own
    turnover is far below the thresholds; a foreign group with a small China business
    meeting only the worldwide test; a deal under the 2008 thresholds that the higher
    2024 thresholds would not catch.

    **Why it matters**

    A concentration meeting the thresholds must be notified and may not be implemented
    before SAMR clears it (AML 2022 art. 26; 2008 art. 21). Implementing it anyway is
    an illegal concentration: a fine up to 5 M yuan without anticompetitive effect, up to
    10 % of the prior year's sales with it, and orders to restore the prior state (AML
    2022 art. 58; 2008 art. 48: up to 500 k). Groups resolving to few ultimate
    controllers is exactly what the seeds' "penetrating supervision" asks for.

    **Method**

    Each deal is screened by :mod:`fairwatch.structure.deals` as of its announcement
    day: the acquirer is resolved to its ultimate controller through the ownership graph
    (control by a majority of votes, ``cn.aml.control.majority_pct``, or by contract,
    ``cn.aml.control.contractual_kinds``) and counts the group's consolidated turnover of
    the previous fiscal year; the target counts its own consolidated figures (the
    seller's group does not count when it gives up control). Deals without acquisition
    of control and intra-group deals (``cn.aml.merger_review.group_exemption_min_share_pct``
    of the votes held by one party in the other, or by one undertaking in both, directly
    or through controlled entities) are not notifiable. The turnovers are judged against
    ``cn.aml.merger_thresholds.*`` in force on the announcement day (2008 and 2024
    figures; strict comparisons). A notifiable deal that closed without notification, or
    before it was notified, is reported; one not yet closed is not (it may still be
    notified). The score rises with the margin by which the thresholds were exceeded
    (the smallest of the per-party and combined ratios): 0.5 at the threshold, towards 1
    far above it. Severity is high where ``market_shares`` show a possible
    anticompetitive effect (the merged group at an AML art. 24 dominance presumption, or
    outside the HHI safe harbour), medium otherwise, following the two fine ranges of
    art. 58. The finding lists every figure with its threshold and citation, the control
    chain, and the markets affected.

    **Known limitations**

    Turnover is taken from ``financials`` as reported (consolidated); a group whose
    ultimate controller reports no row is summed over its topmost reporting members.
    Joint control (for example 50/50 joint ventures) and de-facto control below a
    majority of votes are not modelled unless the policy parameters are changed. The
    date the thresholds are judged on is the announcement; deals announced between
    2024-01-22 and 2024-01-26 fall under Decree 773, whose effective date sources
    dispute. Call-in of below-threshold deals (AML art. 26(2)) is a screening question
    for the capital traffic light, not a violation reported here. Limitation periods are
    not applied.
    """

    code = "FW701"
    name = "structure.unnotified_concentration"
    family = "structure.unnotified_concentration"
    legal_basis = (
        "cn.aml2022.art25",
        "cn.aml2022.art26",
        "cn.aml2022.art27",
        "cn.aml2022.art58",
        "cn.aml2008.art21",
        "cn.aml2008.art48",
        "cn.notification_thresholds.decree529",
        "cn.notification_thresholds.decree773",
    )
    parameters = (
        D.GLOBAL,
        D.CHINA,
        D.EACH,
        D.MIN_PARTIES,
        D.GROUP_EXEMPTION,
        MAJORITY,
        CONTRACTUAL,
        D.DOMINANCE_ONE,
        D.DOMINANCE_TWO,
        D.DOMINANCE_THREE,
        D.DOMINANCE_MIN,
        D.SIMPLE_HORIZONTAL,
        D.EU_SAFE,
        D.EU_MID_UPPER,
        D.EU_MID_DELTA,
        D.EU_HIGH_DELTA,
        D.US_HHI,
        D.US_HHI_DELTA,
    )
    inputs = {
        "deals": DEAL_COLUMNS,
        "financials": ("entity_id", "fiscal_year", "global_turnover_cny", "china_turnover_cny"),
    }
    optional_inputs = {
        "ownership": (
            "owner_id",
            "owned_id",
            "share_pct",
            "voting_pct",
            "control",
            "valid_from",
            "valid_to",
        ),
        "market_shares": ("market_id", "market_name", "period", "entity_id", "share_pct"),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        d = ctx.table("deals")
        return d.filter(d.announced_on <= ctx.as_of).select(*DEAL_COLUMNS)

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        tables = {"financials": ctx.execute(ctx.table("financials"))}
        for name in self.optional_inputs:
            if ctx.has(name):
                tables[name] = ctx.execute(ctx.table(name))
        screener = DealScreener.from_tables(ctx.law, tables)
        findings = []
        for screen in screener.screen_all(summary, as_of=ctx.as_of):
            if screen.violation:
                findings.append(self._finding(ctx, screen, screener))
        ctx.log.debug("%d of %d deals reported", len(findings), len(summary))
        return findings

    def _finding(self, ctx: Context, s: DealScreen, screener: DealScreener) -> Finding:
        assert s.closed_on is not None and s.margin is not None
        effect = any(
            e.dominance is not None or e.eu_band == "outside_safe_harbour" for e in s.effects
        )
        aml2022 = D.aml2022_applies(ctx.law, s.closed_on)
        penalty = "cn.aml2022.art58" if aml2022 else "cn.aml2008.art48"
        chain = screener.graph.at(s.announced_on).control_chain(s.acquirer_id)
        statistics: dict[str, Any] = {
            "status": s.status,
            "reason": s.reason,
            "announced_on": s.announced_on,
            "closed_on": s.closed_on,
            "notified_on": s.notified_on,
            "fiscal_year": s.fiscal_year,
            "thresholds_in_force_since": s.regime.since if s.regime else None,
            "threshold_margin": round(s.margin, 6),
            "acquirer_group": s.acquirer_group,
            "control_chain": [f"{link.owner} -> {link.owned}: {link.describe()}" for link in chain],
            "parties": [
                {
                    "role": p.role,
                    "entity_id": p.entity_id,
                    "undertaking_id": p.undertaking_id,
                    "counted_as": p.counted_as,
                    "global_turnover_cny": p.figures.global_turnover_cny,
                    "china_turnover_cny": p.figures.china_turnover_cny,
                }
                for p in s.parties
            ],
            "tests": [
                {"test": f.name, "value": f.value, "threshold": f.threshold, "met": f.passed}
                for f in s.figures
            ],
            "possible_anticompetitive_effect": effect,
            "markets": [
                {
                    "market_id": e.market_id,
                    "period": e.period,
                    "combined_share_pct": e.combined_share,
                    "hhi_post": e.hhi_post,
                    "hhi_delta": e.delta,
                    "dominance_presumption": e.dominance,
                }
                for e in s.effects
            ],
        }
        evidence = [
            Evidence("deals", [s.deal_id], note="the deal as reported"),
            Evidence(
                "financials",
                [f"{p.undertaking_id}:{s.fiscal_year}" for p in s.parties],
                note="turnover counted for each undertaking (key entity_id:fiscal_year)",
            ),
        ]
        if chain:
            evidence.append(
                Evidence(
                    "ownership",
                    [f"{link.owner}:{link.owned}:{link.valid_from}" for link in chain],
                    note="control chain from the acquirer up to its ultimate controller "
                    "(key owner_id:owned_id:valid_from)",
                )
            )
        end = s.notified_on if s.notified_on is not None else max(ctx.as_of, s.closed_on)
        return self.finding(
            ctx,
            subject_id=s.deal_id,
            platform_id=None,
            period_start=s.closed_on,
            period_end=end,
            severity="high" if effect else "medium",
            score=round(score_from_margin(s.margin), 6),
            statistics=statistics,
            evidence=evidence,
            legal_basis=(*s.citations, penalty),
        )


def score_from_margin(margin: float) -> float:
    """0.5 at the threshold, rising towards 1 with the multiple by which it is exceeded."""
    return 1.0 - 0.5 / max(1.0, margin)
