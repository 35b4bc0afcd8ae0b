"""The penalty calculator: what fine the law allows for a case, and why, step by step.

Given a violated provision, the conduct period, the decision date, the fine base and the
circumstances, :func:`calculate` works out, from law-store parameters only:

1. **The law that applies** (Administrative Penalty Law art. 37). The conduct is judged
   under the law in force when it was committed; a continuing act is committed until it
   ends, so that is the law in force on ``conduct_end``. The law in force on the
   decision date applies instead when it is lighter: the regime with the lower maximum
   (then the lower minimum) of the statutory range, including AML art. 63 aggravation
   when the case is especially serious. Both regimes are shown.
2. **The statutory range** of that regime: a fixed band or cap, or a rate band times the
   base (percent of prior-year sales, multiple of the ad fee...). A provision lists its
   alternative rules in order; the first whose parameters are in force (and whose base is
   given) is used. ``serious`` selects the serious tier where the provision has one.
3. **The limitation period** (art. 36): 2 years, 5 where life, health or financial
   security was harmed, counted from the end of the (continuing) act to its discovery.
   Expired: no penalty.
4. **No-penalty outcomes** (art. 33): grounds that rule out a penalty, and grounds on
   which the authority may waive it, each a combination of circumstances.
5. **The discretion band**: mitigating circumstances put the fine in the lighter band,
   aggravating ones in the heavier band, none (or both) in the general band; mandatory
   mitigation (art. 32) always gives the lighter band and also allows a reduced fine below
   the statutory minimum. The bands come from the banding policy (by default the lowest
   30% / the middle / the top 30% of the range, or of the maximum when there is no
   minimum).
6. **AML art. 63**: an especially serious case under the 2022 law multiplies the band by
   2 to 5.
7. **Leniency** for monopoly agreements: the reduction band of the applicant's rank.

Amounts are exact (:class:`fractions.Fraction`); they are rounded to the yuan only for
display. Every parameter is read through :func:`_entry`, which refuses a name missing
from :data:`PARAMETERS` (a meta-test checks that each resolves with a citation).
"""

from __future__ import annotations

import calendar
import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, Literal

from fairwatch.errors import DefinitionError, ParameterLookupError, UsageError
from fairwatch.law.declared import Declared
from fairwatch.law.loader import default_store
from fairwatch.law.model import Citation, DatedValue
from fairwatch.law.store import LawStore

logger = logging.getLogger(__name__)

PERCENT = 100

# --- parameters ------------------------------------------------------------------------

_AML = "cn.aml.fines."
ABUSE_PCT = _AML + "abuse_of_dominance.pct_of_prior_year_sales"
AGREEMENT_PCT = _AML + "monopoly_agreement.implemented_pct_of_prior_year_sales"
AGREEMENT_NO_SALES_MAX = _AML + "monopoly_agreement.no_prior_year_sales_max_cny"
AGREEMENT_NOT_IMPLEMENTED_MAX = _AML + "monopoly_agreement.not_implemented_max_cny"
AGREEMENT_INDIVIDUAL_MAX = _AML + "monopoly_agreement.individual_max_cny"
TRADE_ASSOCIATION_MAX = _AML + "monopoly_agreement.trade_association_max_cny"
CONCENTRATION_EFFECT_PCT = _AML + "illegal_concentration.with_effect_max_pct_of_prior_year_sales"
CONCENTRATION_EFFECT_MAX = _AML + "illegal_concentration.with_effect_max_cny"
CONCENTRATION_NO_EFFECT_MAX = _AML + "illegal_concentration.without_effect_max_cny"
OBSTRUCTION_PCT = _AML + "obstruction.entity_max_pct_of_prior_year_sales"
OBSTRUCTION_NO_SALES_MAX = _AML + "obstruction.entity_no_sales_max_cny"
OBSTRUCTION_MAX = _AML + "obstruction.entity_max_cny"
OBSTRUCTION_SERIOUS = _AML + "obstruction.entity_serious_cny"
OBSTRUCTION_INDIVIDUAL_MAX = _AML + "obstruction.individual_max_cny"
AGGRAVATION = _AML + "aggravation_multiplier"
CONCENTRATION_BENCHMARK = "cn.aml.concentration_penalty.no_effect_starting_fine_cny"
#: Leniency reduction bands by applicant rank (first, second, third); later ranks share one.
LENIENCY_BY_RANK = (
    "cn.aml.leniency.first_reduction_pct",
    "cn.aml.leniency.second_reduction_pct",
    "cn.aml.leniency.third_reduction_pct",
)
LENIENCY_LATER = "cn.aml.leniency.later_reduction_pct"

AUCL_FALSE = "cn.aucl.fines.false_publicity.ordinary_cny"
AUCL_FALSE_SERIOUS = "cn.aucl.fines.false_publicity.serious_cny"
AUCL_ONLINE = "cn.aucl.fines.online_conduct.ordinary_cny"
AUCL_ONLINE_SERIOUS = "cn.aucl.fines.online_conduct.serious_cny"
AUCL_BELOW_COST = "cn.aucl.fines.forcing_below_cost.ordinary_cny"
AUCL_BELOW_COST_SERIOUS = "cn.aucl.fines.forcing_below_cost.serious_cny"
EC_SEARCH = "cn.ecommerce.fines.non_personalised_search.ordinary_cny"
EC_SEARCH_SERIOUS = "cn.ecommerce.fines.non_personalised_search.serious_cny"
EC_REVIEWS = "cn.ecommerce.fines.review_deletion.ordinary_cny"
EC_REVIEWS_SERIOUS = "cn.ecommerce.fines.review_deletion.serious_cny"
EC_MERCHANTS = "cn.ecommerce.fines.merchant_restrictions.ordinary_cny"
EC_MERCHANTS_SERIOUS = "cn.ecommerce.fines.merchant_restrictions.serious_cny"
AD_ABSOLUTE = "cn.advertising.fines.absolute_terms.advertiser_cny"
AD_FALSE_MULTIPLE = "cn.advertising.fines.false_advertising.ad_fee_multiple"
AD_FALSE_NO_FEE = "cn.advertising.fines.false_advertising.no_ad_fee_cny"
AD_FALSE_SERIOUS_MULTIPLE = "cn.advertising.fines.false_advertising.serious_ad_fee_multiple"
AD_FALSE_SERIOUS_NO_FEE = "cn.advertising.fines.false_advertising.serious_no_ad_fee_cny"
AD_UNLABELLED_MAX = "cn.advertising.fines.unlabelled_ad.publisher_max_cny"
AD_POPUP = "cn.advertising.fines.popup_close.advertiser_cny"
PIPL_REFUSAL_MAX = "cn.pipl.fines.refusal_to_rectify.entity_max_cny"
PIPL_SERIOUS_MAX = "cn.pipl.fines.serious.entity_max_cny"
PIPL_SERIOUS_PCT = "cn.pipl.fines.serious.entity_max_pct_of_prior_year_turnover"
PRICE_PROMOTION_MAX = "cn.price.fines.forcing_promotions.ordinary_max_cny"
PRICE_PROMOTION_SERIOUS = "cn.price.fines.forcing_promotions.serious_cny"
PRICE_GAINS_MULTIPLE = "cn.price.penalty.illegal_gains_max_multiple"
PRICE_NO_GAINS = "cn.price.penalty.no_illegal_gains_cny"
ALGORITHM_FINE = "cn.algorithm.fines.unrectified_or_serious_cny"

RANGE_BANDS = "cn.penalty.discretion.range_band_pct"
MAX_ONLY_BANDS = "cn.penalty.discretion.max_only_band_pct"
MITIGATING = "cn.penalty.discretion.mitigating_circumstances"
AGGRAVATING = "cn.penalty.discretion.aggravating_circumstances"
MANDATORY_MITIGATION = "cn.penalty.mitigation.mandatory_circumstances"
NO_PENALTY = "cn.penalty.exemption.no_penalty_conditions"
MAY_EXEMPT = "cn.penalty.exemption.may_exempt_conditions"
LIMITATION = "cn.penalty.limitation.general_years"
LIMITATION_LONG = "cn.penalty.limitation.life_health_finance_years"

#: Every parameter this module reads; :func:`_entry` refuses any other name.
PARAMETERS: tuple[str, ...] = (
    ABUSE_PCT,
    AGREEMENT_PCT,
    AGREEMENT_NO_SALES_MAX,
    AGREEMENT_NOT_IMPLEMENTED_MAX,
    AGREEMENT_INDIVIDUAL_MAX,
    TRADE_ASSOCIATION_MAX,
    CONCENTRATION_EFFECT_PCT,
    CONCENTRATION_EFFECT_MAX,
    CONCENTRATION_NO_EFFECT_MAX,
    OBSTRUCTION_PCT,
    OBSTRUCTION_NO_SALES_MAX,
    OBSTRUCTION_MAX,
    OBSTRUCTION_SERIOUS,
    OBSTRUCTION_INDIVIDUAL_MAX,
    AGGRAVATION,
    CONCENTRATION_BENCHMARK,
    *LENIENCY_BY_RANK,
    LENIENCY_LATER,
    AUCL_FALSE,
    AUCL_FALSE_SERIOUS,
    AUCL_ONLINE,
    AUCL_ONLINE_SERIOUS,
    AUCL_BELOW_COST,
    AUCL_BELOW_COST_SERIOUS,
    EC_SEARCH,
    EC_SEARCH_SERIOUS,
    EC_REVIEWS,
    EC_REVIEWS_SERIOUS,
    EC_MERCHANTS,
    EC_MERCHANTS_SERIOUS,
    AD_ABSOLUTE,
    AD_FALSE_MULTIPLE,
    AD_FALSE_NO_FEE,
    AD_FALSE_SERIOUS_MULTIPLE,
    AD_FALSE_SERIOUS_NO_FEE,
    AD_UNLABELLED_MAX,
    AD_POPUP,
    PIPL_REFUSAL_MAX,
    PIPL_SERIOUS_MAX,
    PIPL_SERIOUS_PCT,
    PRICE_PROMOTION_MAX,
    PRICE_PROMOTION_SERIOUS,
    PRICE_GAINS_MULTIPLE,
    PRICE_NO_GAINS,
    ALGORITHM_FINE,
    RANGE_BANDS,
    MAX_ONLY_BANDS,
    MITIGATING,
    AGGRAVATING,
    MANDATORY_MITIGATION,
    NO_PENALTY,
    MAY_EXEMPT,
    LIMITATION,
    LIMITATION_LONG,
)

# citation keys of the principles applied (not parameters: they carry no number)
_ART37 = "cn.apl.art37"
_ART33 = "cn.apl.art33"
_ART32 = "cn.apl.art32"
_ART36 = "cn.apl.art36"
_DISCRETION = "cn.penalty_discretion_guidance"


_READ = Declared(PARAMETERS, __name__)
_entry = _READ.entry
_meta = _READ.parameter
_in_force = _READ.in_force


# --- vocabulary --------------------------------------------------------------------------


class Circumstance(StrEnum):
    """Facts about a case that the law and the discretion policy react to.

    Which ones mitigate, aggravate, exempt or require mitigation is data: the law-store
    parameters ``cn.penalty.discretion.*``, ``cn.penalty.mitigation.*`` and
    ``cn.penalty.exemption.*``.
    """

    FIRST_VIOLATION = "first_violation"
    MINOR = "minor"
    SLIGHT_HARM = "slight_harm"
    NO_HARM = "no_harm"
    PROMPTLY_CORRECTED = "promptly_corrected"
    HARM_REMOVED = "harm_removed"
    COERCED = "coerced"
    CONFESSED = "confessed"
    MERITORIOUS_SERVICE = "meritorious_service"
    COOPERATION = "cooperation"
    REPEAT_OFFENCE = "repeat_offence"
    SERIOUS = "serious"
    ESPECIALLY_SERIOUS = "especially_serious"
    EMERGENCY_PERIOD = "emergency_period"
    OBSTRUCTED = "obstructed"
    NO_FAULT = "no_fault"
    LIFE_HEALTH_FINANCE_HARM = "life_health_finance_harm"


CIRCUMSTANCE_HELP: dict[Circumstance, str] = {
    Circumstance.FIRST_VIOLATION: "first violation",
    Circumstance.MINOR: "the violation is minor",
    Circumstance.SLIGHT_HARM: "slight harmful consequences",
    Circumstance.NO_HARM: "no harmful consequences",
    Circumstance.PROMPTLY_CORRECTED: "corrected promptly (incl. self-rectification)",
    Circumstance.HARM_REMOVED: "proactively removed or reduced the harm",
    Circumstance.COERCED: "acted under coercion or deception",
    Circumstance.CONFESSED: "confessed violations the authority did not know of",
    Circumstance.MERITORIOUS_SERVICE: "meritorious service in the investigation",
    Circumstance.COOPERATION: "cooperated and proactively provided evidence",
    Circumstance.REPEAT_OFFENCE: "repeat offence",
    Circumstance.SERIOUS: "serious case (情节严重)",
    Circumstance.ESPECIALLY_SERIOUS: "especially serious case (AML art. 63)",
    Circumstance.EMERGENCY_PERIOD: "committed during a declared emergency",
    Circumstance.OBSTRUCTED: "obstructed the investigation",
    Circumstance.NO_FAULT: "the party proves it had no fault",
    Circumstance.LIFE_HEALTH_FINANCE_HARM: "harmed life, health or financial security",
}


class Band(StrEnum):
    """Discretion bands of a statutory range."""

    LIGHTER = "lighter"
    GENERAL = "general"
    HEAVIER = "heavier"


class Outcome(StrEnum):
    """What the calculation concludes."""

    PENALTY = "penalty"
    MAY_EXEMPT = "may_exempt"
    NO_PENALTY = "no_penalty"
    TIME_BARRED = "time_barred"


class Scale(StrEnum):
    """How a parameter turns into an amount."""

    CNY = "cny"
    PCT = "pct"
    MULTIPLE = "multiple"


@dataclass(frozen=True)
class Part:
    """One parameter of a fine rule and how it scales: in CNY, percent or multiple of the base."""

    parameter: str
    scale: Scale = Scale.CNY


@dataclass(frozen=True)
class Rule:
    """One way a provision sets its fine: one part, or alternatives (the widest applies)."""

    parts: tuple[Part, ...]

    @property
    def needs_base(self) -> bool:
        return any(p.scale is not Scale.CNY for p in self.parts)


def _rule(*parts: Part) -> Rule:
    return Rule(parts=parts)


def _cny(name: str) -> Part:
    return Part(name, Scale.CNY)


def _pct(name: str) -> Part:
    return Part(name, Scale.PCT)


def _times(name: str) -> Part:
    return Part(name, Scale.MULTIPLE)


@dataclass(frozen=True)
class Provision:
    """A violated provision and the fine rules that punish it, in order of preference."""

    key: str
    title: str
    base: str | None
    ordinary: tuple[Rule, ...]
    serious: tuple[Rule, ...] = ()
    aggravation: bool = False
    leniency: bool = False
    benchmark: bool = False
    note: str | None = None


_SALES = "prior-year sales"

PROVISIONS: dict[str, Provision] = {
    p.key: p
    for p in (
        Provision(
            "aml.monopoly_agreement",
            "Monopoly agreement reached and implemented (AML 2008 art. 46 / 2022 art. 56)",
            _SALES,
            (_rule(_pct(AGREEMENT_PCT)), _rule(_cny(AGREEMENT_NO_SALES_MAX))),
            aggravation=True,
            leniency=True,
        ),
        Provision(
            "aml.monopoly_agreement_not_implemented",
            "Monopoly agreement reached but not implemented (AML 2008 art. 46 / 2022 art. 56)",
            None,
            (_rule(_cny(AGREEMENT_NOT_IMPLEMENTED_MAX)),),
            aggravation=True,
            leniency=True,
        ),
        Provision(
            "aml.monopoly_agreement_individual",
            "Individual responsible for a monopoly agreement (AML 2022 art. 56)",
            None,
            (_rule(_cny(AGREEMENT_INDIVIDUAL_MAX)),),
            aggravation=True,
        ),
        Provision(
            "aml.trade_association",
            "Trade association organising a monopoly agreement (AML 2008 art. 46 / 2022 art. 56)",
            None,
            (_rule(_cny(TRADE_ASSOCIATION_MAX)),),
            aggravation=True,
        ),
        Provision(
            "aml.abuse_of_dominance",
            "Abuse of a dominant market position (AML 2008 art. 47 / 2022 art. 57)",
            _SALES,
            (_rule(_pct(ABUSE_PCT)),),
            aggravation=True,
        ),
        Provision(
            "aml.illegal_concentration_with_effect",
            "Illegal concentration with (possible) anticompetitive effect "
            "(AML 2008 art. 48 / 2022 art. 58)",
            _SALES,
            (_rule(_pct(CONCENTRATION_EFFECT_PCT)), _rule(_cny(CONCENTRATION_EFFECT_MAX))),
            aggravation=True,
        ),
        Provision(
            "aml.illegal_concentration_without_effect",
            "Illegal concentration without anticompetitive effect, e.g. failure to notify "
            "(AML 2008 art. 48 / 2022 art. 58)",
            None,
            (_rule(_cny(CONCENTRATION_NO_EFFECT_MAX)),),
            aggravation=True,
            benchmark=True,
        ),
        Provision(
            "aml.obstruction",
            "Entity obstructing an investigation (AML 2008 art. 52 / 2022 art. 62)",
            _SALES,
            (
                _rule(_pct(OBSTRUCTION_PCT)),
                _rule(_cny(OBSTRUCTION_NO_SALES_MAX)),
                _rule(_cny(OBSTRUCTION_MAX)),
            ),
            serious=(_rule(_cny(OBSTRUCTION_SERIOUS)),),
            aggravation=True,
        ),
        Provision(
            "aml.obstruction_individual",
            "Individual obstructing an investigation (AML 2022 art. 62)",
            None,
            (_rule(_cny(OBSTRUCTION_INDIVIDUAL_MAX)),),
            aggravation=True,
        ),
        Provision(
            "aucl.false_publicity",
            "False or misleading publicity, incl. organised fake transactions (AUCL 2019 "
            "arts. 8, 20)",
            None,
            (_rule(_cny(AUCL_FALSE)),),
            serious=(_rule(_cny(AUCL_FALSE_SERIOUS)),),
        ),
        Provision(
            "aucl.online_clause",
            "Unfair competition online by technical means, data, algorithms or platform rules "
            "(AUCL 2019 arts. 12, 24 / 2025 arts. 13, 29)",
            None,
            (_rule(_cny(AUCL_ONLINE)),),
            serious=(_rule(_cny(AUCL_ONLINE_SERIOUS)),),
        ),
        Provision(
            "aucl.forcing_below_cost",
            "Platform forcing merchants to sell below cost (AUCL 2025 arts. 14, 30)",
            None,
            (_rule(_cny(AUCL_BELOW_COST)),),
            serious=(_rule(_cny(AUCL_BELOW_COST_SERIOUS)),),
        ),
        Provision(
            "ecommerce.art77",
            "No search results independent of personal characteristics (E-Commerce Law "
            "arts. 18, 77)",
            None,
            (_rule(_cny(EC_SEARCH)),),
            serious=(_rule(_cny(EC_SEARCH_SERIOUS)),),
        ),
        Provision(
            "ecommerce.art81",
            "Platform deleting consumers' reviews (E-Commerce Law arts. 39, 81)",
            None,
            (_rule(_cny(EC_REVIEWS)),),
            serious=(_rule(_cny(EC_REVIEWS_SERIOUS)),),
        ),
        Provision(
            "ecommerce.art82",
            "Unreasonable restrictions, conditions or fees imposed on merchants (E-Commerce "
            "Law arts. 35, 82)",
            None,
            (_rule(_cny(EC_MERCHANTS)),),
            serious=(_rule(_cny(EC_MERCHANTS_SERIOUS)),),
        ),
        Provision(
            "advertising.prohibited_terms",
            "Absolute terms in an advertisement, advertiser (Advertising Law arts. 9(3), 57)",
            None,
            (_rule(_cny(AD_ABSOLUTE)),),
        ),
        Provision(
            "advertising.false",
            "False advertising, advertiser (Advertising Law art. 55)",
            "advertising fee",
            (_rule(_times(AD_FALSE_MULTIPLE)), _rule(_cny(AD_FALSE_NO_FEE))),
            serious=(
                _rule(_times(AD_FALSE_SERIOUS_MULTIPLE)),
                _rule(_cny(AD_FALSE_SERIOUS_NO_FEE)),
            ),
            note="Repeat offences (3 or more within 2 years) count as serious.",
        ),
        Provision(
            "advertising.unlabeled",
            "Advertisement not identifiable as such, publisher (Advertising Law arts. 14, 59)",
            None,
            (_rule(_cny(AD_UNLABELLED_MAX)),),
        ),
        Provision(
            "advertising.popup",
            "Pop-up ad that does not close in one click, advertiser (Advertising Law "
            "arts. 44(2), 62)",
            None,
            (_rule(_cny(AD_POPUP)),),
        ),
        Provision(
            "pipl.art66",
            "Unlawful processing of personal information, processor (PIPL art. 66)",
            "prior-year turnover",
            (_rule(_cny(PIPL_REFUSAL_MAX)),),
            serious=(
                _rule(_cny(PIPL_SERIOUS_MAX), _pct(PIPL_SERIOUS_PCT)),
                _rule(_cny(PIPL_SERIOUS_MAX)),
            ),
            note=(
                "The ordinary tier is the fine for refusing to rectify (art. 66(1)); without "
                "refusal or seriousness art. 66 provides no fine. The serious cap is 50M or 5% "
                "of prior-year turnover, whichever the authority chooses (the higher shown)."
            ),
        ),
        Provision(
            "price.platform_forced_promotion",
            "Platform forcing merchants into promotions (Price Fraud Provisions art. 24)",
            None,
            (_rule(_cny(PRICE_PROMOTION_MAX)),),
            serious=(_rule(_cny(PRICE_PROMOTION_SERIOUS)),),
        ),
        Provision(
            "price.violation",
            "Price violation: fine on top of confiscated illegal gains (Price Violation "
            "Penalty Provisions)",
            "illegal gains",
            (_rule(_times(PRICE_GAINS_MULTIPLE)), _rule(_cny(PRICE_NO_GAINS))),
            note="Check the article for the conduct (the facts file cites arts. 4 and 7).",
        ),
        Provision(
            "algorithm.art31",
            "Algorithm recommendation rules violated and not rectified, or serious "
            "(Algorithm Recommendation Provisions art. 31)",
            None,
            (_rule(_cny(ALGORITHM_FINE)),),
        ),
    )
}


# --- inputs and outputs -------------------------------------------------------------------


@dataclass(frozen=True)
class PenaltyCase:
    """A violation to price.

    ``base_cny`` is the fine base the provision names (``Provision.base``: prior-year
    sales, turnover, ad fee, illegal gains), ``None`` when there is none. A continuing act
    runs from ``conduct_start`` to ``conduct_end``; a one-off act has both equal.
    ``discovered_on`` (default: the decision date) is when the authority found the
    violation, for the limitation period. ``leniency_rank`` is the applicant's rank
    (1 = first) in a monopoly-agreement case.
    """

    provision: str
    conduct_start: date
    conduct_end: date
    decided_on: date
    base_cny: Fraction | Decimal | int | None = None
    circumstances: frozenset[Circumstance] = frozenset()
    leniency_rank: int | None = None
    discovered_on: date | None = None

    @classmethod
    def build(
        cls,
        provision: str,
        conduct_start: date,
        conduct_end: date,
        decided_on: date,
        base_cny: Fraction | Decimal | int | float | str | None = None,
        circumstances: Iterable[str] = (),
        leniency_rank: int | None = None,
        discovered_on: date | None = None,
    ) -> PenaltyCase:
        """A case from plain values (circumstance codes as strings; base as text or number)."""
        return cls(
            provision=provision,
            conduct_start=conduct_start,
            conduct_end=conduct_end,
            decided_on=decided_on,
            base_cny=None if base_cny is None else _as_fraction(base_cny, "base_cny"),
            circumstances=parse_circumstances(circumstances),
            leniency_rank=leniency_rank,
            discovered_on=discovered_on,
        )


def parse_circumstances(codes: Iterable[str]) -> frozenset[Circumstance]:
    """Circumstance codes to members; an unknown code is a :class:`UsageError`."""
    out: set[Circumstance] = set()
    for code in codes:
        try:
            out.add(Circumstance(str(code).strip().lower().replace("-", "_")))
        except ValueError:
            known = ", ".join(c.value for c in Circumstance)
            raise UsageError(f"unknown circumstance {code!r}; known: {known}") from None
    return frozenset(out)


def _as_fraction(value: Fraction | Decimal | int | float | str, what: str) -> Fraction:
    try:
        number = Fraction(str(value).replace("_", "").replace(",", ""))
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{what}: {value!r} is not a number") from None
    if number < 0:
        raise UsageError(f"{what} must not be negative, got {value}")
    return number


@dataclass(frozen=True)
class Range:
    """A closed range of fines in CNY; ``rate_*`` when it is a rate times the base."""

    min_cny: Fraction
    max_cny: Fraction
    rate_min: Fraction | None = None
    rate_max: Fraction | None = None
    rate_unit: Scale | None = None

    def times(self, low: Fraction, high: Fraction) -> Range:
        """The range with its minimum scaled by ``low`` and maximum by ``high``."""
        return Range(
            self.min_cny * low,
            self.max_cny * high,
            None if self.rate_min is None else self.rate_min * low,
            None if self.rate_max is None else self.rate_max * high,
            self.rate_unit,
        )

    def contains(self, amount: Fraction) -> bool:
        return self.min_cny <= amount <= self.max_cny

    def text(self) -> str:
        """``4,557,120,000–45,571,200,000 CNY (1–10% of base)``, rounded to the yuan."""
        body = f"{_yuan(self.min_cny)}–{_yuan(self.max_cny)} CNY"
        if self.rate_unit is not None and self.rate_min is not None and self.rate_max is not None:
            unit = "%" if self.rate_unit is Scale.PCT else "×"
            body += f" ({_number(self.rate_min)}–{_number(self.rate_max)}{unit} of the base)"
        return body

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "min_cny": _number(self.min_cny),
            "max_cny": _number(self.max_cny),
            "min_yuan": _round(self.min_cny),
            "max_yuan": _round(self.max_cny),
        }
        if self.rate_unit is not None:
            out["rate_unit"] = self.rate_unit.value
            out["rate_min"] = None if self.rate_min is None else _number(self.rate_min)
            out["rate_max"] = None if self.rate_max is None else _number(self.rate_max)
        return out


@dataclass(frozen=True)
class Regime:
    """The fine a provision carries under the law in force on one date."""

    role: Literal["conduct", "decision"]
    on: date
    tier: Literal["ordinary", "serious"]
    statutory: Range
    entries: tuple[DatedValue, ...]
    multiplier: tuple[Fraction, Fraction] | None = None
    multiplier_entry: DatedValue | None = None

    @property
    def citation(self) -> Citation:
        return self.entries[0].citation

    @property
    def law(self) -> str:
        return self.citation.instrument

    @property
    def ceiling(self) -> Range:
        """The statutory range with art. 63 aggravation applied, when it applies."""
        if self.multiplier is None:
            return self.statutory
        return self.statutory.times(*self.multiplier)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "date": self.on.isoformat(),
            "law": self.law,
            "articles": sorted({e.citation.label() for e in self.entries}),
            "parameters": [e.name for e in self.entries],
            "tier": self.tier,
            "statutory": self.statutory.to_dict(),
            "aggravation_multiplier": None
            if self.multiplier is None
            else [_number(m) for m in self.multiplier],
            "with_aggravation": None if self.multiplier is None else self.ceiling.to_dict(),
        }


@dataclass(frozen=True)
class Step:
    """One step of the explanation, with the law-store citation it rests on."""

    title: str
    detail: str
    citation_key: str | None
    citation_label: str
    parameter: str | None = None
    verified: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "detail": self.detail,
            "citation_key": self.citation_key,
            "citation_label": self.citation_label,
            "parameter": self.parameter,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Limitation:
    """The limitation check (APL art. 36)."""

    checked: bool
    runs_from: date
    discovered_on: date
    years: int | None = None
    expires_on: date | None = None
    expired: bool = False
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "runs_from": self.runs_from.isoformat(),
            "discovered_on": self.discovered_on.isoformat(),
            "years": self.years,
            "expires_on": None if self.expires_on is None else self.expires_on.isoformat(),
            "expired": self.expired,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PenaltyResult:
    """The calculator's answer; :meth:`to_dict` is JSON-serialisable.

    ``statutory`` is the applied regime's range before aggravation; ``bands`` splits it
    into the three discretion bands; ``band`` is the one the circumstances imply and
    ``band_range`` its amounts. ``recommended`` is that band after AML art. 63 aggravation
    and leniency, ``None`` when no penalty may be imposed.
    """

    case: PenaltyCase
    provision: Provision
    outcome: Outcome
    regimes: dict[str, Regime | None]
    applied: Literal["conduct", "decision"]
    statutory: Range
    bands: dict[Band, Range]
    band: Band
    mitigating: tuple[Circumstance, ...]
    aggravating: tuple[Circumstance, ...]
    mandatory_mitigation: tuple[Circumstance, ...]
    limitation: Limitation
    recommended: Range | None
    multiplier: tuple[Fraction, Fraction] | None = None
    leniency_reduction_pct: tuple[Fraction, Fraction] | None = None
    below_minimum_allowed: bool = False
    exemption_grounds: tuple[str, ...] = ()
    benchmark_start_cny: Fraction | None = None
    steps: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def regime(self) -> Regime:
        """The regime that applies."""
        regime = self.regimes[self.applied]
        assert regime is not None  # calculate() only applies a resolved regime
        return regime

    @property
    def band_range(self) -> Range:
        return self.bands[self.band]

    def band_of(self, amount: Fraction | Decimal | int | str) -> Band | None:
        """The discretion band of the applied statutory range an amount falls in.

        An amount on the edge between two bands belongs to the lower one; ``None`` when
        it lies outside the statutory range.
        """
        value = Fraction(str(amount))
        for band in Band:
            if self.bands[band].contains(value):
                return band
        return None

    def to_dict(self) -> dict[str, Any]:
        case = self.case
        base = None if case.base_cny is None else Fraction(str(case.base_cny))
        return {
            "provision": self.provision.key,
            "provision_title": self.provision.title,
            "provision_note": self.provision.note,
            "base": self.provision.base,
            "base_cny": None if base is None else _number(base),
            "conduct_start": case.conduct_start.isoformat(),
            "conduct_end": case.conduct_end.isoformat(),
            "decided_on": case.decided_on.isoformat(),
            "discovered_on": (case.discovered_on or case.decided_on).isoformat(),
            "circumstances": sorted(c.value for c in case.circumstances),
            "leniency_rank": case.leniency_rank,
            "outcome": self.outcome.value,
            "applied_law": self.applied,
            "law": self.regime.law,
            "regimes": {k: (None if v is None else v.to_dict()) for k, v in self.regimes.items()},
            "statutory": self.statutory.to_dict(),
            "bands": {b.value: r.to_dict() for b, r in self.bands.items()},
            "band": self.band.value,
            "band_range": self.band_range.to_dict(),
            "mitigating": [c.value for c in self.mitigating],
            "aggravating": [c.value for c in self.aggravating],
            "mandatory_mitigation": [c.value for c in self.mandatory_mitigation],
            "below_minimum_allowed": self.below_minimum_allowed,
            "aggravation_multiplier": None
            if self.multiplier is None
            else [_number(m) for m in self.multiplier],
            "leniency_reduction_pct": None
            if self.leniency_reduction_pct is None
            else [_number(r) for r in self.leniency_reduction_pct],
            "benchmark_start_cny": None
            if self.benchmark_start_cny is None
            else _number(self.benchmark_start_cny),
            "exemption_grounds": list(self.exemption_grounds),
            "limitation": self.limitation.to_dict(),
            "recommended": None if self.recommended is None else self.recommended.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "warnings": list(self.warnings),
        }


# --- numbers and dates -----------------------------------------------------------------------


def _number(x: Fraction) -> str:
    """Exact decimal text of a fraction (rounded only if it does not terminate)."""
    if x.denominator == 1:
        return str(x.numerator)
    return format((Decimal(x.numerator) / Decimal(x.denominator)).normalize(), "f")


def _round(x: Fraction) -> int:
    """Round half up to the yuan (for display only)."""
    return math.floor(x + Fraction(1, 2))


def _yuan(x: Fraction) -> str:
    return f"{_round(x):,}"


def _bounds(value: Any) -> tuple[Fraction, Fraction]:
    """A band ``{min, max}`` or a cap (minimum 0) as two fractions."""
    if isinstance(value, Mapping):
        return Fraction(str(value.get("min", 0))), Fraction(str(value["max"]))
    return Fraction(0), Fraction(str(value))


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year: the last day of February
        return date(day.year + years, day.month + 1, 1) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clipped to the end of a shorter month."""
    year, month = day.year, day.month
    for _ in range(months):
        year, month = (year, month + 1) if month < date.max.month else (year + 1, 1)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


# --- the calculation ----------------------------------------------------------------------


class _NoRule(Exception):
    def __init__(self, reason: str, missing_base: bool) -> None:
        super().__init__(reason)
        self.missing_base = missing_base


def provision(key: str) -> Provision:
    """The provision of that key (a :class:`UsageError` listing the known keys otherwise)."""
    try:
        return PROVISIONS[key]
    except KeyError:
        raise UsageError(
            f"unknown provision {key!r}; known: {', '.join(sorted(PROVISIONS))}"
        ) from None


def _check_case(case: PenaltyCase) -> None:
    if case.conduct_start > case.conduct_end:
        raise UsageError(
            f"conduct_start {case.conduct_start} is after conduct_end {case.conduct_end}"
        )
    if case.conduct_end > case.decided_on:
        raise UsageError(f"conduct_end {case.conduct_end} is after decided_on {case.decided_on}")
    found = case.discovered_on
    if found is not None and not case.conduct_start <= found <= case.decided_on:
        raise UsageError(
            f"discovered_on {found} must lie between conduct_start {case.conduct_start} "
            f"and decided_on {case.decided_on}"
        )
    if {Circumstance.NO_HARM, Circumstance.SLIGHT_HARM} <= case.circumstances:
        raise UsageError("circumstances no_harm and slight_harm contradict each other")
    if case.leniency_rank is not None and case.leniency_rank < 1:
        raise UsageError(f"leniency_rank must be 1 or more, got {case.leniency_rank}")
    if case.base_cny is not None and Fraction(str(case.base_cny)) < 0:
        raise UsageError(f"base_cny must not be negative, got {case.base_cny}")


def _rule_range(rule: Rule, entries: list[DatedValue], base: Fraction | None) -> Range:
    ranges: list[Range] = []
    for part, entry in zip(rule.parts, entries, strict=True):
        low, high = _bounds(entry.value)
        if part.scale is Scale.CNY:
            ranges.append(Range(low, high))
            continue
        assert base is not None  # rules that need a base are skipped without one
        factor = Fraction(1, PERCENT) if part.scale is Scale.PCT else Fraction(1)
        ranges.append(Range(base * low * factor, base * high * factor, low, high, part.scale))
    if len(ranges) == 1:
        return ranges[0]
    # alternatives ("<= 50M or <= 5% of turnover"): the authority may use the wider one
    return Range(min(r.min_cny for r in ranges), max(r.max_cny for r in ranges))


def _regime(
    store: LawStore,
    prov: Provision,
    role: Literal["conduct", "decision"],
    on: date,
    base: Fraction | None,
    circumstances: frozenset[Circumstance],
) -> Regime:
    tiers: list[tuple[Literal["ordinary", "serious"], tuple[Rule, ...]]] = []
    if Circumstance.SERIOUS in circumstances and prov.serious:
        tiers.append(("serious", prov.serious))
    tiers.append(("ordinary", prov.ordinary))
    reasons: list[str] = []
    missing_base = False
    for tier, rules in tiers:
        for rule in rules:
            found = [_in_force(store, part.parameter, on) for part in rule.parts]
            absent = [p.parameter for p, e in zip(rule.parts, found, strict=True) if e is None]
            if absent:
                reasons.append(f"{', '.join(absent)} not in force on {on.isoformat()}")
                continue
            entries = [e for e in found if e is not None]
            if rule.needs_base and base is None:
                missing_base = True
                reasons.append(f"{entries[0].name} needs the base ({prov.base})")
                continue
            multiplier: tuple[Fraction, Fraction] | None = None
            multiplier_entry: DatedValue | None = None
            if prov.aggravation and Circumstance.ESPECIALLY_SERIOUS in circumstances:
                multiplier_entry = _in_force(store, AGGRAVATION, on)
                if multiplier_entry is not None:
                    multiplier = _bounds(multiplier_entry.value)
            return Regime(
                role=role,
                on=on,
                tier=tier,
                statutory=_rule_range(rule, entries, base),
                entries=tuple(entries),
                multiplier=multiplier,
                multiplier_entry=multiplier_entry,
            )
    raise _NoRule("; ".join(reasons), missing_base)


def _regime_text(regime: Regime) -> str:
    text = f"{regime.tier} tier, {regime.statutory.text()}"
    if regime.multiplier is not None:
        text += f"; with art. 63 aggravation {regime.ceiling.text()}"
    return text


def _heaviness(regime: Regime) -> tuple[Fraction, Fraction]:
    top = regime.ceiling
    return top.max_cny, top.min_cny


def _terms(store: LawStore, name: str, at: date) -> tuple[DatedValue | None, Any]:
    """A terms parameter in force at ``at`` (or ``None``), its codes checked."""
    entry = _in_force(store, name, at)
    if entry is None:
        return None, None
    value = entry.value
    codes = [t for terms in value.values() for t in terms] if isinstance(value, dict) else value
    known = {c.value for c in Circumstance}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise DefinitionError(
            f"{name} names unknown circumstances {unknown}; known: {sorted(known)}",
            _meta(store, name).source,
        )
    return entry, value


def _band_ranges(statutory: Range, edges: tuple[Fraction, Fraction]) -> dict[Band, Range]:
    lighter_max, heavier_min = edges

    def at(share: Fraction) -> tuple[Fraction, Fraction | None]:
        amount = statutory.min_cny + (statutory.max_cny - statutory.min_cny) * share
        rate = None
        if statutory.rate_min is not None and statutory.rate_max is not None:
            rate = statutory.rate_min + (statutory.rate_max - statutory.rate_min) * share
        return amount, rate

    cuts = [at(Fraction(0)), at(lighter_max), at(heavier_min), at(Fraction(1))]
    out: dict[Band, Range] = {}
    for band, (low, high) in zip(Band, itertools.pairwise(cuts), strict=True):
        out[band] = Range(low[0], high[0], low[1], high[1], statutory.rate_unit)
    return out


def _cite(citation: Citation) -> tuple[str | None, str]:
    label = citation.label()
    if citation.implements:
        label += f" (implements {', '.join(citation.implements)})"
    return citation.key, label


class _Steps:
    def __init__(self, store: LawStore) -> None:
        self.store = store
        self.items: list[Step] = []

    def add(
        self,
        title: str,
        detail: str,
        citation: Citation | str,
        parameter: str | None = None,
    ) -> None:
        cited = self.store.citation(citation) if isinstance(citation, str) else citation
        key, label = _cite(cited)
        self.items.append(Step(title, detail, key, label, parameter, cited.verified))


def calculate(
    case: PenaltyCase, store: LawStore | None = None, *, today: date | None = None
) -> PenaltyResult:
    """The fine the law allows for ``case``, with the explanation (see the module doc).

    Raises :class:`~fairwatch.errors.UsageError` for an impossible case (unknown
    provision or circumstance, dates out of order, a base the provision needs but the
    case lacks) and :class:`~fairwatch.errors.ParameterLookupError` when the law store
    holds no fine for the provision at the time of the conduct.
    """
    store = store or default_store()
    today = today or date.today()
    prov = provision(case.provision)
    _check_case(case)
    base = None if case.base_cny is None else Fraction(str(case.base_cny))
    circ = case.circumstances
    steps = _Steps(store)
    warnings: list[str] = []
    found_on = case.discovered_on or case.decided_on
    logger.info("penalty for %s decided %s", prov.key, case.decided_on)
    if case.decided_on > today:
        warnings.append(
            f"the decision date {case.decided_on} is after today ({today}): the law then "
            "may differ from what the store holds now"
        )
    if base is not None and prov.base is None:
        warnings.append(f"{prov.key} has no fine base; base_cny is ignored")
        base = None

    # 1. the law at the time of the conduct and at the time of the decision (art. 37)
    try:
        conduct = _regime(store, prov, "conduct", case.conduct_end, base, circ)
    except _NoRule as exc:
        if exc.missing_base:
            raise UsageError(
                f"{prov.key} needs base_cny ({prov.base}) under the law in force on "
                f"{case.conduct_end}"
            ) from None
        raise ParameterLookupError(
            f"no fine for {prov.key} is encoded for conduct ending {case.conduct_end}: {exc}"
        ) from None
    try:
        decision: Regime | None = _regime(store, prov, "decision", case.decided_on, base, circ)
    except _NoRule as exc:
        decision = None
        warnings.append(
            f"the law at the decision date ({case.decided_on}) cannot be compared under "
            f"art. 37: {exc}; the law at the time of the conduct applies"
        )
    continuing = case.conduct_start < case.conduct_end
    steps.add(
        "law at the time of the conduct",
        (
            f"{'continuing act ' if continuing else 'act '}"
            f"{case.conduct_start}..{case.conduct_end}: judged under the law in force on "
            f"{case.conduct_end} ({'the end of the act' if continuing else 'the act'}): "
            f"{conduct.law}, {_regime_text(conduct)}"
        ),
        conduct.citation,
        conduct.entries[0].name,
    )
    if decision is not None:
        steps.add(
            "law at the time of the decision",
            f"on {case.decided_on}: {decision.law}, {_regime_text(decision)}",
            decision.citation,
            decision.entries[0].name,
        )
    applied: Literal["conduct", "decision"] = "conduct"
    if decision is None:
        detail = "the decision-time law is not encoded; the law at the time of the conduct applies"
    elif _heaviness(decision) < _heaviness(conduct):
        applied = "decision"
        detail = (
            f"the law at the decision date is lighter (maximum {_yuan(decision.ceiling.max_cny)} "
            f"vs {_yuan(conduct.ceiling.max_cny)} CNY): it applies"
        )
    elif _heaviness(decision) == _heaviness(conduct):
        detail = "both laws give the same range: the law at the time of the conduct applies"
    else:
        detail = (
            "the law at the decision date is not lighter: the law at the time of the conduct "
            "applies"
        )
    steps.add("which law applies", detail, _ART37)
    regime = decision if applied == "decision" and decision is not None else conduct
    statutory = regime.statutory
    basis = ""
    if statutory.rate_unit is not None and base is not None:
        basis = f"; base {prov.base} {_yuan(base)} CNY"
    steps.add(
        "statutory range",
        f"{regime.tier} tier: {statutory.text()}{basis}",
        regime.citation,
        regime.entries[0].name,
    )

    # 2. limitation (art. 36)
    long_period = Circumstance.LIFE_HEALTH_FINANCE_HARM in circ
    limit_name = LIMITATION_LONG if long_period else LIMITATION
    limit_entry = _in_force(store, limit_name, found_on)
    if limit_entry is None:
        limitation = Limitation(
            checked=False,
            runs_from=case.conduct_end,
            discovered_on=found_on,
            reason=f"{limit_name} is not encoded for {found_on}: check the limitation by hand",
        )
        warnings.append(limitation.reason)
        steps.add("limitation period", limitation.reason, _ART36, limit_name)
    else:
        years = int(limit_entry.value)
        expires = add_years(case.conduct_end, years)
        expired = found_on > expires
        limitation = Limitation(
            checked=True,
            runs_from=case.conduct_end,
            discovered_on=found_on,
            years=years,
            expires_on=expires,
            expired=expired,
            reason=(
                f"{years} years from the end of the act ({case.conduct_end}) to "
                f"{expires}; discovered {found_on}: "
                + ("expired, no penalty" if expired else "within the period")
            ),
        )
        steps.add("limitation period", limitation.reason, limit_entry.citation, limit_name)

    # 3. no-penalty outcomes (art. 33)
    codes = {c.value for c in circ}
    no_entry, no_grounds = _terms(store, NO_PENALTY, case.decided_on)
    may_entry, may_grounds = _terms(store, MAY_EXEMPT, case.decided_on)
    barred = [g for g, terms in (no_grounds or {}).items() if set(terms) <= codes]
    waivable = [g for g, terms in (may_grounds or {}).items() if set(terms) <= codes]
    if barred:
        detail = f"no penalty: {', '.join(barred)} ({', '.join(no_grounds[barred[0]])})"
    elif waivable:
        detail = (
            f"the authority may decide not to impose a penalty: {', '.join(waivable)} "
            f"({', '.join(may_grounds[waivable[0]])})"
        )
    else:
        detail = "no ground for waiving the penalty applies"
    if no_entry is None:
        warnings.append(f"{NO_PENALTY} is not encoded for {case.decided_on}")
    grounds_entry = may_entry or no_entry
    steps.add(
        "no-penalty grounds",
        detail,
        grounds_entry.citation if grounds_entry is not None else _ART33,
        NO_PENALTY,
    )

    # 4. discretion band
    mit_entry, mit_terms = _terms(store, MITIGATING, case.decided_on)
    agg_entry, agg_terms = _terms(store, AGGRAVATING, case.decided_on)
    mand_entry, mand_terms = _terms(store, MANDATORY_MITIGATION, case.decided_on)
    mitigating = tuple(c for c in Circumstance if c in circ and c.value in (mit_terms or ()))
    aggravating = tuple(
        c
        for c in Circumstance
        if c in circ
        and c.value in (agg_terms or ())
        and not (c is Circumstance.SERIOUS and regime.tier == "serious")
    )
    mandatory = tuple(c for c in Circumstance if c in circ and c.value in (mand_terms or ()))
    if mandatory:
        band = Band.LIGHTER
        why = f"mandatory mitigation ({', '.join(c.value for c in mandatory)})"
    elif mitigating and not aggravating:
        band = Band.LIGHTER
        why = f"mitigating: {', '.join(c.value for c in mitigating)}"
    elif aggravating and not mitigating:
        band = Band.HEAVIER
        why = f"aggravating: {', '.join(c.value for c in aggravating)}"
    elif aggravating:
        band = Band.GENERAL
        why = (
            f"mitigating ({', '.join(c.value for c in mitigating)}) and aggravating "
            f"({', '.join(c.value for c in aggravating)}) circumstances offset"
        )
    else:
        band = Band.GENERAL
        why = "no mitigating or aggravating circumstance"
    if Circumstance.SERIOUS in circ and regime.tier == "ordinary" and prov.serious:
        warnings.append(
            f"{prov.key} has no serious tier in force on {regime.on}: 'serious' aggravates "
            "within the ordinary range"
        )
    if mandatory:
        steps.add(
            "mandatory mitigation",
            f"{', '.join(c.value for c in mandatory)}: the penalty must be lighter or reduced; "
            "a reduced fine below the statutory minimum is allowed",
            mand_entry.citation if mand_entry else _ART32,
            MANDATORY_MITIGATION,
        )
    bands_name = RANGE_BANDS if statutory.min_cny > 0 else MAX_ONLY_BANDS
    bands_entry = _entry(store, bands_name, case.decided_on)
    edges = (
        Fraction(str(bands_entry.value["lighter_max"])) / PERCENT,
        Fraction(str(bands_entry.value["heavier_min"])) / PERCENT,
    )
    bands = _band_ranges(statutory, edges)
    policy = mit_entry or agg_entry
    steps.add(
        "circumstances",
        f"{why}: {band.value} band",
        policy.citation if policy else _DISCRETION,
        MITIGATING if mitigating or mandatory else AGGRAVATING,
    )
    shape = "range" if statutory.min_cny > 0 else "maximum"
    steps.add(
        "discretion band",
        (
            f"{band.value} band of the {shape} (lighter up to "
            f"{_number(edges[0] * PERCENT)}%, heavier from {_number(edges[1] * PERCENT)}%): "
            f"{bands[band].text()}"
        ),
        bands_entry.citation,
        bands_name,
    )
    chosen = bands[band]

    # 5. AML art. 63 aggravation
    if Circumstance.ESPECIALLY_SERIOUS in circ and prov.aggravation:
        if regime.multiplier is not None and regime.multiplier_entry is not None:
            chosen = chosen.times(*regime.multiplier)
            low, high = regime.multiplier
            steps.add(
                "aggravation",
                f"especially serious: {_number(low)}x to {_number(high)}x the band: "
                f"{chosen.text()}",
                regime.multiplier_entry.citation,
                AGGRAVATION,
            )
        else:
            steps.add(
                "aggravation",
                f"no multiplier for especially serious cases under {regime.law}; the heavier "
                "band applies",
                conduct.citation,
            )

    # 6. leniency
    reduction: tuple[Fraction, Fraction] | None = None
    if case.leniency_rank is not None:
        if not prov.leniency:
            warnings.append(f"leniency applies to monopoly agreements, not to {prov.key}")
        else:
            rank = case.leniency_rank
            name = LENIENCY_BY_RANK[rank - 1] if rank <= len(LENIENCY_BY_RANK) else LENIENCY_LATER
            lenient = _in_force(store, name, case.decided_on)
            if lenient is None:
                warnings.append(f"{name} is not encoded for {case.decided_on}")
            else:
                reduction = _bounds(lenient.value)
                low, high = reduction
                chosen = Range(
                    chosen.min_cny * (1 - high / PERCENT),
                    chosen.max_cny * (1 - low / PERCENT),
                )
                waived = " (the penalty may be waived)" if high >= PERCENT else ""
                steps.add(
                    "leniency",
                    f"applicant rank {case.leniency_rank}: reduce by {_number(low)}-"
                    f"{_number(high)}%{waived}: {chosen.text()}",
                    lenient.citation,
                    name,
                )

    # 7. SAMR starting-fine benchmark for illegal concentrations without effect
    benchmark: Fraction | None = None
    if prov.benchmark:
        bench = _in_force(store, CONCENTRATION_BENCHMARK, case.decided_on)
        if bench is not None:
            key = {Band.LIGHTER: "mitigated", Band.GENERAL: "base", Band.HEAVIER: "aggravated"}
            start = Fraction(str(bench.value[key[band]]))
            if statutory.contains(start):
                benchmark = start
                steps.add(
                    "starting fine",
                    f"SAMR benchmark starting fine ({key[band]}): {_yuan(start)} CNY, then "
                    "adjusted",
                    bench.citation,
                    CONCENTRATION_BENCHMARK,
                )

    # 8. outcome
    recommended: Range | None = chosen
    if limitation.expired:
        outcome, recommended = Outcome.TIME_BARRED, None
        summary = "time-barred: no penalty"
        cite: Citation | str = limit_entry.citation if limit_entry else _ART36
    elif barred:
        outcome, recommended = Outcome.NO_PENALTY, None
        summary = f"no penalty ({', '.join(barred)})"
        cite = no_entry.citation if no_entry else _ART33
    elif waivable:
        outcome = Outcome.MAY_EXEMPT
        summary = f"may be exempted; otherwise {chosen.text()}"
        cite = may_entry.citation if may_entry else _ART33
    else:
        outcome = Outcome.PENALTY
        summary = f"fine within {chosen.text()}"
        if mandatory:
            summary += "; may be reduced below the statutory minimum"
        cite = regime.citation
    steps.add("result", summary, cite)
    for warning in warnings:
        logger.warning("penalty %s: %s", prov.key, warning)
    return PenaltyResult(
        case=case,
        provision=prov,
        outcome=outcome,
        regimes={"conduct": conduct, "decision": decision},
        applied=applied,
        statutory=statutory,
        bands=bands,
        band=band,
        mitigating=mitigating,
        aggravating=aggravating,
        mandatory_mitigation=mandatory,
        limitation=limitation,
        recommended=recommended,
        multiplier=regime.multiplier,
        leniency_reduction_pct=reduction,
        below_minimum_allowed=bool(mandatory),
        exemption_grounds=tuple(barred or waivable),
        benchmark_start_cny=benchmark,
        steps=tuple(steps.items),
        warnings=tuple(warnings),
    )
