"""FW203 conduct.unfair_fee_change."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding

NOTICE = "cn.ecommerce.rule_change_notice_days"
MAX_STEP = "cn.detection.conduct.fee_max_step_increase"
DEPOSIT_MULTIPLE = "cn.detection.conduct.fee_deposit_max_multiple"
SURCHARGE = "cn.detection.conduct.fee_subgroup_surcharge_min_pct"
SEVERITY = "cn.detection.conduct.fee_severity_score"
#: Score of a deposit charged as a percentage of sales (a fee by construction).
RATE_DEPOSIT_SCORE = 0.75
SUBGROUP_SEPARATOR = "/"
BASES = ("rate_pct", "amount_cny")


@dataclass
class _Case:
    row: Any
    reasons: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)

    def add(self, reason: str, score: float, stats: dict[str, Any], *evidence: Evidence) -> None:
        self.reasons.append(reason)
        self.scores.append(min(1.0, max(0.0, score)))
        self.stats.update(stats)
        self.evidence.extend(evidence)


class UnfairFeeRise(Detector):
    """A merchant fee raised too much or too fast, disguised as a deposit, or higher for some.

    **What it detects**

    Rows of ``fee_schedules`` (one fee level of a platform, fee type and merchant
    category from ``effective_from``) that are unfair in one of four ways:

    - *excessive increase*: the fee is more than ``cn.detection.conduct.fee_max_step_increase``
      (a third) above the previous level of the same platform, fee type and merchant
      category, in one step;
    - *short notice*: the fee rises (by any amount) and takes effect fewer than
      ``cn.ecommerce.rule_change_notice_days`` (7) calendar days after it is announced;
    - *disguised deposit*: a ``deposit`` charged as a percentage of sales (``rate_pct``),
      or an amount more than ``cn.detection.conduct.fee_deposit_max_multiple`` times the
      ordinary deposit of its category (the median of the other deposits of that
      category in the market);
    - *subgroup surcharge*: a fee for a subgroup of a category (``merchant_category`` =
      ``"<category>/<subgroup>"``, e.g. merchants that also sell on other platforms)
      more than ``cn.detection.conduct.fee_subgroup_surcharge_min_pct`` above the fee of
      the same type the platform charges the category itself at that date.

    Reductions, increases within the line announced with enough notice, fees that differ
    between different categories, and deposits within the ordinary range are lawful.

    **Why it matters**

    Platforms may not impose unreasonable fees on merchants through their agreements or
    rules (E-Commerce Law art. 35), must publish fee changes, like any rule change, at
    least seven days before they apply (art. 34), and, per the SAMR compliance
    guidelines on platform fees (2025), may not collect fees disguised as deposits or
    charge merchants under the same conditions differently. Fee increases are also a
    lever of exclusive dealing ("choose one of two", Online Transaction Supervision
    Measures) when they target merchants that multi-home.

    **Method**

    The engine orders each (platform, fee type, merchant category) chain by
    ``effective_from`` (then ``announced_on``, ``fee_id``) and attaches to every row its
    predecessor's rate and amount and its notice in days (one window pass). The judge
    compares like with like (rate with rate, amount with amount), finds the category
    fee in force when a subgroup fee takes effect, and takes the median of the other
    amount-based deposits of the same category (leave-one-out, so a single outlier does
    not set its own reference). Notice is ``effective_from - announced_on`` in calendar
    days, read as FW204 reads rule changes; the required notice is the law's on the
    announcement day, and fees announced before the E-Commerce Law applied are not
    judged. A finding lists its reasons with their figures; the score combines them
    (each reason's strength ``s``, score ``1 - prod(1 - s)``) and sets the severity
    through ``cn.detection.conduct.fee_severity_score``.

    **Known limitations**

    The standard has no column for whether a deposit is refundable, so a non-refundable
    deposit of ordinary size is not seen. A fee without a predecessor in the data (a
    newly introduced fee, or history not reported) is not judged as an increase. The
    step test compares with the previous level only: a series of small increases, or the
    end of a temporary discount (restoring the old level), is judged step by step.
    Subgroups are recognised only through the ``"<category>/<subgroup>"`` form; whether
    a surcharge is objectively justified (e.g. a costlier service) is left to the
    investigator.
    """

    code = "FW203"
    name = "conduct.unfair_fee_rise"
    family = "conduct.unfair_fee_change"
    legal_basis = (
        "cn.ecommerce_law.art34",
        "cn.ecommerce_law.art35",
        "cn.platform_fee_guidelines",
    )
    parameters = (NOTICE, MAX_STEP, DEPOSIT_MULTIPLE, SURCHARGE, SEVERITY)
    inputs = {
        "fee_schedules": (
            "fee_id",
            "platform_id",
            "fee_type",
            "merchant_category",
            "rate_pct",
            "amount_cny",
            "announced_on",
            "effective_from",
        ),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        f = ctx.table("fee_schedules")
        chain = ibis.window(
            group_by=[f.platform_id, f.fee_type, f.merchant_category],
            order_by=[f.effective_from, f.announced_on, f.fee_id],
        )
        return f.mutate(
            notice_days=f.effective_from.delta(f.announced_on, unit="day"),
            prev_fee_id=f.fee_id.lag().over(chain),
            prev_rate_pct=f.rate_pct.lag().over(chain),
            prev_amount_cny=f.amount_cny.lag().over(chain),
            prev_effective_from=f.effective_from.lag().over(chain),
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        fees = summary.copy()
        for col in ("announced_on", "effective_from", "prev_effective_from"):
            fees[col] = pd.to_datetime(fees[col]).dt.date
        fees["category"] = fees["merchant_category"].map(_base_category)
        fees = fees.sort_values(["platform_id", "fee_type", "effective_from", "fee_id"])
        max_step = Fraction(ctx.param(MAX_STEP))
        multiple = float(ctx.param(DEPOSIT_MULTIPLE))
        surcharge_min = float(ctx.param(SURCHARGE)) / 100
        bands = ctx.param(SEVERITY)

        amounts = fees[
            (fees["fee_type"] == "deposit") & fees["amount_cny"].notna() & (fees["amount_cny"] > 0)
        ]
        deposits = {c: g for c, g in amounts.groupby("category", sort=True)}
        findings = []
        for row in fees.itertuples(index=False):
            required = ctx.param_in_force(NOTICE, row.announced_on)
            if required is None:
                continue  # announced before the E-Commerce Law applied
            case = _Case(row)
            self._increase(case, int(required), max_step)
            if row.fee_type == "deposit":
                self._deposit(case, deposits, multiple)
            if SUBGROUP_SEPARATOR in str(row.merchant_category or ""):
                self._subgroup(case, fees, surcharge_min)
            if case.reasons:
                findings.append(self._finding(ctx, case, bands))
        ctx.log.debug("%d of %d fee rows reported", len(findings), len(fees))
        return findings

    # -- the four tests ----------------------------------------------------------------

    @staticmethod
    def _increase(case: _Case, required: int, max_step: Fraction) -> None:
        row = case.row
        if _missing(row.prev_fee_id):
            return
        basis = next(
            (
                b
                for b in BASES
                if not _missing(getattr(row, b)) and not _missing(getattr(row, f"prev_{b}"))
            ),
            None,
        )
        if basis is None:
            return  # no comparable level (e.g. a switch from a rate to an amount)
        new, old = float(getattr(row, basis)), float(getattr(row, f"prev_{basis}"))
        if new <= old:
            return
        increase = math.inf if old <= 0 else new / old - 1
        previous = Evidence("fee_schedules", [str(row.prev_fee_id)], note="the previous level")
        figures = {
            "basis": basis,
            "previous_fee_id": str(row.prev_fee_id),
            "previous_level": old,
            "new_level": new,
            "increase_pct": increase * 100,
        }
        if increase > max_step:
            case.add(
                "excessive_increase",
                1 - math.exp(-increase),
                {**figures, "max_step_increase_pct": float(max_step) * 100},
                previous,
            )
        notice = int(row.notice_days)
        if notice < required:
            shortfall = required - notice
            case.add(
                "short_notice",
                min(1.0, shortfall / required) if required > 0 else 0.0,
                {
                    **figures,
                    "notice_days": notice,
                    "required_notice_days": required,
                    "shortfall_days": shortfall,
                },
                previous,
            )

    @staticmethod
    def _deposit(case: _Case, deposits: dict[Any, pd.DataFrame], max_multiple: float) -> None:
        row = case.row
        if not _missing(row.rate_pct) and float(row.rate_pct) > 0:
            case.add(
                "disguised_deposit",
                RATE_DEPOSIT_SCORE,
                {"deposit_charged_as_rate_pct": float(row.rate_pct)},
            )
            return
        if _missing(row.amount_cny) or float(row.amount_cny) <= 0:
            return
        same = deposits.get(row.category)
        if same is None:
            return
        others = same[same["fee_id"] != row.fee_id]
        if others.empty:
            return
        ordinary = float(np.median(others["amount_cny"].to_numpy(dtype=float)))
        ratio = float(row.amount_cny) / ordinary
        if ratio <= max_multiple:
            return
        ids = others.sort_values(["amount_cny", "fee_id"])["fee_id"].astype(str).tolist()
        case.add(
            "disguised_deposit",
            1 - max_multiple / ratio,
            {
                "deposit_cny": float(row.amount_cny),
                "category_ordinary_deposit_cny": ordinary,
                "deposit_multiple": ratio,
                "max_deposit_multiple": max_multiple,
                "reference_deposits": len(others),
            },
            Evidence("fee_schedules", ids[:20], note="other deposits of the category (reference)"),
        )

    @staticmethod
    def _subgroup(case: _Case, fees: pd.DataFrame, surcharge_min: float) -> None:
        row = case.row
        category, _, subgroup = str(row.merchant_category).partition(SUBGROUP_SEPARATOR)
        base = fees[
            (fees["platform_id"] == row.platform_id)
            & (fees["fee_type"] == row.fee_type)
            & (fees["merchant_category"] == category)
            & (fees["effective_from"] <= row.effective_from)
        ].sort_values(["effective_from", "announced_on", "fee_id"])
        if base.empty:
            return
        general = base.iloc[-1]
        basis = next(
            (b for b in BASES if not _missing(getattr(row, b)) and not _missing(general[b])),
            None,
        )
        if basis is None:
            return
        charged, normal = float(getattr(row, basis)), float(general[basis])
        surcharge = math.inf if normal <= 0 < charged else charged / normal - 1
        if not surcharge > surcharge_min:
            return
        case.add(
            "subgroup_surcharge",
            1 - math.exp(-2 * surcharge),
            {
                "category": category,
                "subgroup": subgroup,
                "category_fee_id": str(general["fee_id"]),
                "category_level": normal,
                "subgroup_level": charged,
                "surcharge_pct": surcharge * 100,
                "surcharge_basis": basis,
                "min_surcharge_pct": surcharge_min * 100,
            },
            Evidence(
                "fee_schedules",
                [str(general["fee_id"])],
                note="the fee the platform charges the category itself",
            ),
        )

    # -- the finding ---------------------------------------------------------------------

    def _finding(self, ctx: Context, case: _Case, bands: dict[str, float]) -> Finding:
        row = case.row
        score = 1 - math.prod(1 - s for s in case.scores)
        announced, effective = row.announced_on, row.effective_from
        return self.finding(
            ctx,
            subject_id=str(row.fee_id),
            platform_id=str(row.platform_id),
            period_start=min(announced, effective),
            period_end=max(announced, effective),
            severity=severity_from_bands(score, bands),
            score=round(score, 6),
            statistics={
                "reasons": case.reasons,
                "fee_type": row.fee_type,
                "merchant_category": None
                if _missing(row.merchant_category)
                else row.merchant_category,
                "announced_on": announced,
                "effective_from": effective,
                **case.stats,
            },
            evidence=[
                Evidence("fee_schedules", [str(row.fee_id)], note="the fee as reported"),
                *_dedupe(case.evidence),
            ],
        )


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out = []
    for e in evidence:
        key = (e.table, tuple(e.ids))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _base_category(value: Any) -> Any:
    if _missing(value):
        return None
    return str(value).split(SUBGROUP_SEPARATOR, 1)[0]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
