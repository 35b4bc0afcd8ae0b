"""FW601 data.cross_border_mechanism."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.errors import DefinitionError, ParameterLookupError

ASSESS_PI = "cn.data_export.assessment.exported_pi_individuals"
ASSESS_SENSITIVE = "cn.data_export.assessment.exported_sensitive_pi_individuals"
WINDOW = "cn.data_export.counting_window_start"
CONTRACT_MIN = "cn.data_export.standard_contract.min_pi_individuals"
EXEMPT_MAX = "cn.data_export.exempt.max_pi_individuals"
GROUNDS = "cn.data_export.exempt.grounds"
REASONS = "cn.detection.data.exemption_reason_codes"
SEVERITY = "cn.detection.data.export_severity"

#: Counting windows the law store's ``counting_window_start`` can name.
CURRENT_YEAR, PREVIOUS_YEAR = "jan1_current_year", "jan1_previous_year"
#: The exemption ground that only covers exports without personal information.
NO_PI_GROUND = "no_personal_information_or_important_data"

ASSESSMENT, CONTRACT, NOTHING = "assessment", "contract", "nothing"
LEVELS = {NOTHING: 0, CONTRACT: 1, ASSESSMENT: 2}
SATISFIES = {
    ASSESSMENT: {"security_assessment"},
    CONTRACT: {"security_assessment", "standard_contract", "certification"},
}
REQUIRED_NAME = {
    ASSESSMENT: "security_assessment",
    CONTRACT: "standard_contract_or_certification",
    NOTHING: "none",
}
#: Strength of a categorical trigger (important data, a CIIO exporting, any PI in 2022).
CATEGORICAL_SCORE = 0.9
SENSITIVE_ANY_SCORE = 0.6


@dataclass(frozen=True)
class Rules:
    """The cross-border regime in force on one day, read from the law store."""

    regime: str
    since: date
    assess_pi: int
    assess_sensitive: int
    window: str
    contract_min_pi: int | None  # None: any personal information needs a mechanism
    exempt_max_pi: int | None
    grounds: frozenset[str]


@dataclass(frozen=True)
class Requirement:
    level: str
    triggers: tuple[str, ...]
    score: float
    pi_counted: int
    sensitive_counted: int


class ExportMechanismMismatch(Detector):
    """Personal information or important data sent abroad without the mechanism the law requires.

    **What it detects**

    Entity-years of ``data_exports`` whose declared ``mechanism`` is weaker than the one
    the cross-border regime requires for what was exported: a CAC security assessment,
    or at least a standard contract or certification. Examples: a non-CIIO exporting
    personal information of a million individuals under a standard contract; a critical
    information infrastructure operator (CIIO) exporting under a contract; important data
    under a contract; sensitive personal information of 10,000 individuals without an
    assessment; ``none`` or an unfounded ``exempt`` where a contract was required.

    **Why it matters**

    Personal information may leave China only through a security assessment, a
    certification or a standard contract unless an exemption applies (PIPL arts. 38, 40).
    From 2022-09-01 the Security Assessment Measures required an assessment for
    important data, for CIIOs and above volume thresholds; from 2024-03-22 the Provisions
    on Promoting and Regulating Cross-Border Data Flows raised the thresholds and
    exempted small volumes and transfers necessary for a contract, HR or emergencies.

    **Method**

    Each row is judged under the regime in force on the last day of its year (or the
    as-of date, if earlier): the thresholds ``cn.data_export.assessment.*``, the counting
    window, the contract and exemption thresholds and the exemption grounds, each read
    from the law store at that day (so 2023 rows meet the 2022 measures, 2024 rows the
    2024 provisions, which had applied for most of the year and are lighter). In order:
    important data needs an assessment; a claimed exemption ground (the free-text
    ``exemption`` read through ``cn.detection.data.exemption_reason_codes``) in force
    exempts personal information; a CIIO exporting personal information needs an
    assessment; so does a count at or above the assessment thresholds; below them a
    contract is needed for sensitive personal information or from
    ``cn.data_export.standard_contract.min_pi_individuals`` individuals (or, before the
    2024 provisions, for any personal information); smaller volumes need nothing. Where
    the window starts on 1 January of the previous year (2022 measures), the count is the
    larger of the two years' counts: a lower bound of the distinct individuals, so a
    finding never rests on an overlap that may not exist. A mechanism whose
    ``mechanism_valid_from`` is after the year did not cover it. Administrative Penalty
    Law art. 37: when the regime in force at the as-of date differs and the row
    satisfies it, the lighter law applies and nothing is reported. The finding gives the
    required and declared mechanisms, the regime, the counts and thresholds that trigger
    it; severity follows ``cn.detection.data.export_severity``.

    **Known limitations**

    The 2022 measures also required an assessment from processors handling the personal
    information of a million individuals, exported or not; ``data_exports`` does not
    carry that number, so only exported counts are tested. Exemption reasons are taken
    at face value (whether a transfer really was necessary for a contract is not
    checked), and the six-month grace the 2022 measures gave to transfers begun before
    them is not modelled. A year without a row is read as no transfer, as the standard's
    table is complete per entity. Free-trade-zone negative lists are not loaded.
    """

    code = "FW601"
    name = "data.export_mechanism_mismatch"
    family = "data.cross_border_mechanism"
    legal_basis = (
        "cn.pipl.art38",
        "cn.pipl.art40",
        "cn.data_export_assessment_measures",
        "cn.cross_border_data_provisions",
        "cn.apl.art37",
    )
    parameters = (
        ASSESS_PI,
        ASSESS_SENSITIVE,
        WINDOW,
        CONTRACT_MIN,
        EXEMPT_MAX,
        GROUNDS,
        REASONS,
        SEVERITY,
    )
    inputs = {
        "data_exports": (
            "entity_id",
            "year",
            "is_ciio",
            "pi_individuals",
            "sensitive_pi_individuals",
            "important_data",
            "mechanism",
            "mechanism_valid_from",
            "exemption",
        ),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        d = ctx.table("data_exports")
        prev = d.select(
            prev_entity_id=d.entity_id,
            prev_year=d.year + 1,
            prev_pi_individuals=d.pi_individuals,
            prev_sensitive_pi_individuals=d.sensitive_pi_individuals,
        )
        joined = d.left_join(prev, [d.entity_id == prev.prev_entity_id, d.year == prev.prev_year])
        return joined.select(
            "entity_id",
            "year",
            "is_ciio",
            "pi_individuals",
            "sensitive_pi_individuals",
            "important_data",
            "mechanism",
            "mechanism_valid_from",
            "exemption",
            "prev_pi_individuals",
            "prev_sensitive_pi_individuals",
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        reason_codes: dict[str, list[str]] = ctx.param(REASONS)
        grounds = {g for v in ctx.param_history(GROUNDS) for g in v}
        unknown = sorted(set(reason_codes) - grounds)
        if unknown:
            raise DefinitionError(
                f"{REASONS} maps reasons to grounds that {GROUNDS} never lists: {unknown}",
                self.code,
            )
        claims = {str(r).strip().lower(): g for g, rs in reason_codes.items() for r in rs}
        severity: dict[str, str] = ctx.param(SEVERITY)
        rules_cache: dict[date, Rules | None] = {}

        def rules_at(day: date) -> Rules | None:
            if day not in rules_cache:
                rules_cache[day] = self._rules(ctx, day)
            return rules_cache[day]

        findings = []
        for row in summary.sort_values(["entity_id", "year"]).itertuples(index=False):
            year = int(row.year)
            if date(year, 1, 1) > ctx.as_of:
                continue
            act_day = min(date(year, 12, 31), ctx.as_of)
            rules = rules_at(act_day)
            if rules is None:
                continue  # no cross-border regime in force yet
            declared = self._declared(row, act_day)
            ground = (
                claims.get(str(row.exemption).strip().lower())
                if row.mechanism == "exempt"
                else None
            )
            need = _required(row, rules, ground)
            if _satisfied(declared, need.level):
                continue
            applied, now = need, None
            if ctx.as_of > act_day:
                current = rules_at(ctx.as_of)
                if current is not None and current.regime != rules.regime:
                    now = _required(row, current, ground)
                    if _satisfied(declared, now.level):
                        continue  # lawful under the lighter current rules (APL art. 37)
                    if LEVELS[now.level] < LEVELS[need.level]:
                        applied = now
            findings.append(
                self._finding(ctx, row, rules, need, now, applied, declared, ground, severity)
            )
        ctx.log.debug("%d of %d entity-years reported", len(findings), len(summary))
        return findings

    # -- helpers ------------------------------------------------------------------------

    def _rules(self, ctx: Context, day: date) -> Rules | None:
        try:
            assess_pi = ctx.param_at(ASSESS_PI, day)
            assess_sensitive = ctx.param_at(ASSESS_SENSITIVE, day)
            window = ctx.param_at(WINDOW, day)
        except ParameterLookupError:
            return None
        citation = ctx.law.entry(ASSESS_PI, day).citation
        start = ctx.law.entry(ASSESS_PI, day).start
        return Rules(
            regime=f"{citation.instrument} (from {start.isoformat()})",
            since=start,
            assess_pi=int(assess_pi),
            assess_sensitive=int(assess_sensitive),
            window=str(window),
            contract_min_pi=ctx.param_in_force(CONTRACT_MIN, day),
            exempt_max_pi=ctx.param_in_force(EXEMPT_MAX, day),
            grounds=frozenset(ctx.param_in_force(GROUNDS, day) or ()),
        )

    @staticmethod
    def _declared(row: Any, act_day: date) -> str:
        valid_from = _day(row.mechanism_valid_from)
        if row.mechanism in SATISFIES[CONTRACT] and valid_from is not None and valid_from > act_day:
            return "none"  # obtained only after the year's transfers
        return str(row.mechanism)

    def _finding(
        self,
        ctx: Context,
        row: Any,
        rules: Rules,
        need: Requirement,
        now: Requirement | None,
        applied: Requirement,
        declared: str,
        ground: str | None,
        severity: dict[str, str],
    ) -> Finding:
        year = int(row.year)
        subject = f"{row.entity_id}:{year}"
        statistics: dict[str, Any] = {
            "required_mechanism": REQUIRED_NAME[applied.level],
            "declared_mechanism": str(row.mechanism),
            "declared_exemption": None if _missing(row.exemption) else str(row.exemption),
            "exemption_ground_recognised": ground,
            "mechanism_valid_from": _day(row.mechanism_valid_from),
            "mechanism_in_force_for_year": declared == str(row.mechanism),
            "triggers": list(applied.triggers),
            "regime": rules.regime,
            "required_under_regime": REQUIRED_NAME[need.level],
            "is_ciio": bool(row.is_ciio),
            "important_data": bool(row.important_data),
            "pi_individuals": _int(row.pi_individuals),
            "sensitive_pi_individuals": _int(row.sensitive_pi_individuals),
            "counting_window": rules.window,
            "pi_individuals_counted": need.pi_counted,
            "sensitive_pi_individuals_counted": need.sensitive_counted,
            "assessment_pi_threshold": rules.assess_pi,
            "assessment_sensitive_threshold": rules.assess_sensitive,
            "contract_pi_threshold": rules.contract_min_pi,
        }
        if now is not None:
            statistics["required_under_current_rules"] = REQUIRED_NAME[now.level]
            statistics["current_rules_triggers"] = list(now.triggers)
        return self.finding(
            ctx,
            subject_id=subject,
            platform_id=None,
            period_start=date(year, 1, 1),
            period_end=min(date(year, 12, 31), max(ctx.as_of, date(year, 1, 1))),
            severity=severity.get(applied.level, "medium"),
            score=round(min(1.0, max(0.0, applied.score)), 6),
            statistics=statistics,
            evidence=[
                Evidence(
                    "data_exports",
                    [subject],
                    note="the entity-year as reported (key entity_id:year)",
                )
            ],
        )


def _required(row: Any, rules: Rules, ground: str | None) -> Requirement:
    """The weakest mechanism the rules require for the row, why, and how strongly."""
    pi, sensitive = _int(row.pi_individuals), _int(row.sensitive_pi_individuals)
    if rules.window == PREVIOUS_YEAR:  # distinct individuals over two years: at least the max
        pi_n = max(pi, _int(row.prev_pi_individuals))
        sens_n = max(sensitive, _int(row.prev_sensitive_pi_individuals))
    else:
        pi_n, sens_n = pi, sensitive

    def need(level: str, score: float, *triggers: str) -> Requirement:
        return Requirement(level, triggers, score, pi_n, sens_n)

    if bool(row.important_data):
        return need(ASSESSMENT, CATEGORICAL_SCORE, "important data exported")
    if pi + sensitive == 0:
        return need(NOTHING, 0.0)
    if ground is not None and ground in rules.grounds and ground != NO_PI_GROUND:
        return need(NOTHING, 0.0, f"exempt: {ground}")
    if bool(row.is_ciio):
        return need(ASSESSMENT, CATEGORICAL_SCORE, "CIIO exporting personal information")
    triggers, score = [], 0.0
    if pi_n >= rules.assess_pi:
        triggers.append(f"personal information of {pi_n} individuals >= {rules.assess_pi}")
        score = max(score, _ratio_score(pi_n, rules.assess_pi))
    if sens_n >= rules.assess_sensitive:
        triggers.append(
            f"sensitive personal information of {sens_n} individuals >= {rules.assess_sensitive}"
        )
        score = max(score, _ratio_score(sens_n, rules.assess_sensitive))
    if triggers:
        return need(ASSESSMENT, score, *triggers)
    if rules.contract_min_pi is None:
        return need(
            CONTRACT, SENSITIVE_ANY_SCORE, "personal information exported (no exemption by volume)"
        )
    if sensitive > 0:
        return need(CONTRACT, SENSITIVE_ANY_SCORE, "sensitive personal information exported")
    if pi >= rules.contract_min_pi:
        return need(
            CONTRACT,
            _ratio_score(pi, rules.contract_min_pi),
            f"personal information of {pi} individuals >= {rules.contract_min_pi}",
        )
    if rules.exempt_max_pi is not None and pi < rules.exempt_max_pi:
        return need(NOTHING, 0.0, f"fewer than {rules.exempt_max_pi} individuals: exempt")
    return need(CONTRACT, SENSITIVE_ANY_SCORE, "personal information exported")


def _satisfied(declared: str, level: str) -> bool:
    return level == NOTHING or declared in SATISFIES[level]


def _ratio_score(count: int, threshold: int) -> float:
    """0.5 at the threshold, rising towards 1 with the multiple of it."""
    return 1 - 0.5 / max(1.0, count / threshold) if threshold > 0 else 1.0


def _int(value: Any) -> int:
    return 0 if _missing(value) else int(value)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _day(value: Any) -> date | None:
    if _missing(value):
        return None
    return pd.Timestamp(value).date()
