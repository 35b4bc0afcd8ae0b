"""The credit engine: an entity's credit records, list status, repair dates and risk class.

From an entity's penalty decisions, :func:`credit_profile` derives, at a date and from
law-store parameters only:

* **Credit records** (AML 2022 art. 64; SAMR publicity rules): each penalty (fine or
  warning) is published for the publicity term (3 years) from its decision date. Credit
  repair may be requested once the penalty is fulfilled and the minimum publicity period
  has passed (6 months; 12 for the sectors listed in ``longer_repair_sectors``: food,
  drugs, special equipment). A decision not to penalise is recorded but not published.
* **The list of seriously illegal and dishonest entities** (SAMR Order No. 44): a
  decision puts the entity on the list when the violation was found serious
  (``Decision.serious``) and the penalty takes one of the heavier forms the parameter
  ``heavier_penalty_forms`` names (a fine in the heavier discretion band, licence
  revoked, operations restricted, business suspended, ban). The normal term is 3 years
  from the decision; early removal may be requested after 1 year if the penalties are
  fulfilled, the harm is removed and no new heavier penalty followed.
* **A credit-risk class** A (low) to D (high), fairwatch's published policy: each
  decision scores points by outcome and discretion band, plus points per heavier measure;
  its points fade linearly from the decision date to zero after ``lookback_years``;
  being on the list adds its own points. The class is the highest whose minimum score
  (``risk_class.min_score``) the total reaches.

Every parameter is read through :func:`_entry`, which refuses a name missing from
:data:`PARAMETERS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from fairwatch.errors import DefinitionError, UsageError
from fairwatch.law.declared import Declared
from fairwatch.law.format import format_value
from fairwatch.law.loader import default_store
from fairwatch.law.model import Citation
from fairwatch.law.penalty import Band, Step, add_months, add_years
from fairwatch.law.store import LawStore

logger = logging.getLogger(__name__)

LIST_TERM = "cn.credit.serious_illegal_list.term_years"
LIST_EARLY_REMOVAL = "cn.credit.serious_illegal_list.early_removal_min_years"
LIST_FORMS = "cn.credit.serious_illegal_list.heavier_penalty_forms"
PUBLICITY_TERM = "cn.credit.penalty_publicity.term_years"
REPAIR_MONTHS = "cn.credit.penalty_publicity.repair_min_months"
REPAIR_MONTHS_LONGER = "cn.credit.penalty_publicity.repair_min_months_food_drugs_special_equipment"
LONGER_REPAIR_SECTORS = "cn.credit.penalty_publicity.longer_repair_sectors"
SCORE_WEIGHTS = "cn.credit.risk_score.weights"
SCORE_LOOKBACK = "cn.credit.risk_score.lookback_years"
CLASS_MIN_SCORE = "cn.credit.risk_class.min_score"

#: Every parameter this module reads; :func:`_entry` refuses any other name.
PARAMETERS: tuple[str, ...] = (
    LIST_TERM,
    LIST_EARLY_REMOVAL,
    LIST_FORMS,
    PUBLICITY_TERM,
    REPAIR_MONTHS,
    REPAIR_MONTHS_LONGER,
    LONGER_REPAIR_SECTORS,
    SCORE_WEIGHTS,
    SCORE_LOOKBACK,
    CLASS_MIN_SCORE,
)

#: Risk classes, lowest risk first; the cut-offs name the lowest score of each but A.
RISK_CLASSES = ("A", "B", "C", "D")


_READ = Declared(PARAMETERS, __name__)
_entry = _READ.entry
_meta = _READ.parameter
_in_force = _READ.in_force


class DecisionOutcome(StrEnum):
    """What a decision imposed."""

    FINE = "fine"
    WARNING = "warning"
    NO_PENALTY = "no_penalty"


class Measure(StrEnum):
    """Heavier measures a decision may carry besides a fine (codes of the list parameter)."""

    FINE_HEAVIER_BAND = "fine_heavier_band"
    LICENCE_REVOKED = "licence_revoked"
    OPERATIONS_RESTRICTED = "operations_restricted"
    BUSINESS_SUSPENDED = "business_suspended"
    BANNED = "banned"


@dataclass(frozen=True)
class Decision:
    """One penalty decision against an entity.

    ``band`` is the discretion band the fine was set in (a fine without one counts as
    general). ``serious``: the authority found the violation serious (bad in nature,
    serious circumstances, great social harm), the first condition for the list.
    ``fulfilled_on``: when the penalty was fully carried out (``None``: not yet).
    ``harm_removed``: the harm has been removed (a condition for early removal).
    """

    entity_id: str
    decided_on: date
    provision: str
    outcome: DecisionOutcome
    fine_cny: Fraction | None = None
    band: Band | None = None
    sector: str = "other"
    licence_revoked: bool = False
    business_suspended: bool = False
    operations_restricted: bool = False
    banned: bool = False
    serious: bool = False
    harm_removed: bool = False
    fulfilled_on: date | None = None
    decision_id: str | None = None

    @property
    def measures(self) -> tuple[Measure, ...]:
        """The heavier measures this decision carries."""
        found: list[Measure] = []
        if self.outcome is DecisionOutcome.FINE and self.band is Band.HEAVIER:
            found.append(Measure.FINE_HEAVIER_BAND)
        flags = {
            Measure.LICENCE_REVOKED: self.licence_revoked,
            Measure.OPERATIONS_RESTRICTED: self.operations_restricted,
            Measure.BUSINESS_SUSPENDED: self.business_suspended,
            Measure.BANNED: self.banned,
        }
        found.extend(m for m, on in flags.items() if on)
        return tuple(found)

    @property
    def label(self) -> str:
        return self.decision_id or f"{self.provision} of {self.decided_on.isoformat()}"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "decision") -> Decision:
        """A decision from a JSON / YAML mapping (dates as ISO text or dates).

        ``outcome`` is ``fine``, ``warning``, ``no_penalty`` or a number (a fine of that
        amount). Unknown keys and bad values are a :class:`UsageError` naming ``where``.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
        missing = [k for k in ("entity_id", "decided_on", "provision", "outcome") if k not in data]
        if missing:
            raise UsageError(f"{where}: missing keys {missing}")
        values = dict(data)
        outcome = values["outcome"]
        if isinstance(outcome, int | float | Decimal) and not isinstance(outcome, bool):
            values["fine_cny"] = outcome
            outcome = DecisionOutcome.FINE
        try:
            values["outcome"] = DecisionOutcome(str(outcome))
        except ValueError:
            choices = [o.value for o in DecisionOutcome]
            raise UsageError(
                f"{where}: outcome {outcome!r} is none of {choices} or an amount"
            ) from None
        for key in ("decided_on", "fulfilled_on"):
            values[key] = _date(values.get(key), f"{where}.{key}")
        if values["decided_on"] is None:
            raise UsageError(f"{where}: decided_on is required")
        if values.get("fine_cny") is not None:
            try:
                values["fine_cny"] = Fraction(str(values["fine_cny"]))
            except (ValueError, ZeroDivisionError):
                raise UsageError(
                    f"{where}: fine_cny {values['fine_cny']!r} is not a number"
                ) from None
        if values.get("band") is not None:
            try:
                values["band"] = Band(str(values["band"]))
            except ValueError:
                raise UsageError(
                    f"{where}: band {values['band']!r} is none of {[b.value for b in Band]}"
                ) from None
        for key in (
            "licence_revoked",
            "business_suspended",
            "operations_restricted",
            "banned",
            "serious",
            "harm_removed",
        ):
            if key in values and not isinstance(values[key], bool):
                raise UsageError(f"{where}: {key} must be true or false")
        for key in ("entity_id", "provision", "sector", "decision_id"):
            if key in values and values[key] is not None:
                values[key] = str(values[key])
        decision = cls(**values)
        if decision.fulfilled_on is not None and decision.fulfilled_on < decision.decided_on:
            raise UsageError(f"{where}: fulfilled_on is before decided_on")
        return decision


def _date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def load_decisions(items: Iterable[Mapping[str, Any]]) -> list[Decision]:
    """Decisions from a list of mappings (as read from a JSON or YAML file)."""
    out: list[Decision] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise UsageError(f"decision #{index + 1}: expected a mapping, got {item!r}")
        out.append(Decision.from_mapping(item, f"decision #{index + 1}"))
    return out


@dataclass(frozen=True)
class Listing:
    """A stay on the list of seriously illegal and dishonest entities."""

    listed_on: date
    until: date
    grounds: tuple[str, ...]
    early_removal_from: date | None
    early_removal_blockers: tuple[str, ...]

    def active(self, at: date) -> bool:
        return self.listed_on <= at < self.until

    def to_dict(self) -> dict[str, Any]:
        return {
            "listed_on": self.listed_on.isoformat(),
            "until": self.until.isoformat(),
            "grounds": list(self.grounds),
            "early_removal_from": None
            if self.early_removal_from is None
            else self.early_removal_from.isoformat(),
            "early_removal_blockers": list(self.early_removal_blockers),
        }


@dataclass(frozen=True)
class CreditRecord:
    """What one decision means for the entity's credit at the profile date."""

    decision: Decision
    publicity_until: date | None
    publicised: bool
    repair_from: date | None
    repair_note: str
    listing: Listing | None
    listing_note: str
    recency: Fraction
    severity: Fraction

    @property
    def points(self) -> Fraction:
        return self.recency * self.severity

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "decision": d.label,
            "decided_on": d.decided_on.isoformat(),
            "provision": d.provision,
            "outcome": d.outcome.value,
            "fine_cny": None if d.fine_cny is None else _number(d.fine_cny),
            "band": None if d.band is None else d.band.value,
            "sector": d.sector,
            "measures": [m.value for m in d.measures],
            "publicity_until": None
            if self.publicity_until is None
            else self.publicity_until.isoformat(),
            "publicised": self.publicised,
            "repair_from": None if self.repair_from is None else self.repair_from.isoformat(),
            "repair_note": self.repair_note,
            "listing": None if self.listing is None else self.listing.to_dict(),
            "listing_note": self.listing_note,
            "recency": _score(self.recency),
            "severity": _number(self.severity),
            "points": _score(self.points),
        }


@dataclass(frozen=True)
class CreditProfile:
    """An entity's credit position at a date; :meth:`to_dict` is JSON-serialisable."""

    entity_id: str
    at: date
    records: tuple[CreditRecord, ...]
    listed: bool
    score: Fraction
    risk_class: str
    class_min_score: dict[str, Fraction]
    steps: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def listings(self) -> tuple[Listing, ...]:
        return tuple(r.listing for r in self.records if r.listing is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "at": self.at.isoformat(),
            "listed": self.listed,
            "score": _score(self.score),
            "risk_class": self.risk_class,
            "class_min_score": {k: _number(v) for k, v in self.class_min_score.items()},
            "records": [r.to_dict() for r in self.records],
            "steps": [s.to_dict() for s in self.steps],
            "warnings": list(self.warnings),
        }


_RULE_STEPS = (
    ("penalty publicity", PUBLICITY_TERM),
    ("credit repair", REPAIR_MONTHS),
    ("credit repair, longer sectors", REPAIR_MONTHS_LONGER),
    ("credit repair sectors", LONGER_REPAIR_SECTORS),
    ("list inclusion", LIST_FORMS),
    ("list term", LIST_TERM),
    ("early removal from the list", LIST_EARLY_REMOVAL),
)


def _number(x: Fraction) -> str:
    if x.denominator == 1:
        return str(x.numerator)
    return format((Decimal(x.numerator) / Decimal(x.denominator)).normalize(), "f")


def _score(x: Fraction) -> str:
    """A score for people: four decimals (the exact fraction stays in the API)."""
    return str((Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.0001")))


def _step(title: str, detail: str, citation: Citation, parameter: str | None) -> Step:
    label = citation.label()
    if citation.implements:
        label += f" (implements {', '.join(citation.implements)})"
    return Step(title, detail, citation.key, label, parameter, citation.verified)


def _publicity(
    store: LawStore, decision: Decision, at: date, notes: list[str]
) -> tuple[date | None, date | None, str]:
    """Publicity end, earliest repair date and a note for one decision."""
    if decision.outcome is DecisionOutcome.NO_PENALTY:
        return None, None, "no penalty: not published, nothing to repair"
    term = _in_force(store, PUBLICITY_TERM, decision.decided_on)
    if term is None:
        notes.append(f"{PUBLICITY_TERM} is not encoded for {decision.decided_on}")
        until = None
    else:
        until = add_years(decision.decided_on, int(term.value))
    sectors = _in_force(store, LONGER_REPAIR_SECTORS, decision.decided_on)
    longer = sectors is not None and decision.sector in sectors.value
    months_entry = _in_force(
        store, REPAIR_MONTHS_LONGER if longer else REPAIR_MONTHS, decision.decided_on
    )
    if months_entry is None:
        return until, None, f"repair rules are not encoded for {decision.decided_on}"
    months = int(months_entry.value)
    earliest = add_months(decision.decided_on, months)
    fulfilled = decision.fulfilled_on
    if fulfilled is None and decision.outcome is DecisionOutcome.WARNING:
        fulfilled = decision.decided_on  # a warning is carried out when it is given
    if fulfilled is None:
        return until, None, f"after the penalty is fulfilled, at the earliest {earliest}"
    repair_from = max(earliest, fulfilled)
    return until, repair_from, f"{months} months of publicity ({decision.sector}) and fulfilled"


def _listing(
    store: LawStore, decision: Decision, later: list[Decision], at: date
) -> tuple[Listing | None, str]:
    forms_entry = _in_force(store, LIST_FORMS, decision.decided_on)
    term_entry = _in_force(store, LIST_TERM, decision.decided_on)
    early_entry = _in_force(store, LIST_EARLY_REMOVAL, decision.decided_on)
    if forms_entry is None or term_entry is None or early_entry is None:
        return None, f"list rules are not encoded for {decision.decided_on}"
    forms = set(forms_entry.value)
    grounds = tuple(m.value for m in decision.measures if m.value in forms)
    if not grounds:
        return None, "no heavier penalty: not listed"
    if not decision.serious:
        return None, f"heavier penalty ({', '.join(grounds)}) but not found serious: not listed"
    listed_on = decision.decided_on
    until = add_years(listed_on, int(term_entry.value))
    blockers: list[str] = []
    if decision.fulfilled_on is None:
        blockers.append("penalty not fulfilled")
    if not decision.harm_removed:
        blockers.append("harm not removed")
    for other in later:
        if listed_on < other.decided_on <= at and any(m.value in forms for m in other.measures):
            blockers.append(f"new heavier penalty on {other.decided_on.isoformat()}")
    early: date | None = None
    if not blockers:
        assert decision.fulfilled_on is not None
        early = max(add_years(listed_on, int(early_entry.value)), decision.fulfilled_on)
    listing = Listing(listed_on, until, grounds, early, tuple(blockers))
    return listing, f"serious violation with {', '.join(grounds)}: listed until {until}"


def _recency(decided_on: date, at: date, years: int) -> Fraction:
    """1 on the decision date, falling linearly to 0 after ``years``."""
    end = add_years(decided_on, years)
    if at >= end:
        return Fraction(0)
    return Fraction((end - at).days, (end - decided_on).days)


def _severity(decision: Decision, weights: Mapping[str, Any]) -> Fraction:
    if decision.outcome is DecisionOutcome.FINE:
        key = f"fine_{(decision.band or Band.GENERAL).value}"
    else:
        key = decision.outcome.value
    try:
        total = Fraction(str(weights[key]))
        for measure in decision.measures:
            if measure is not Measure.FINE_HEAVIER_BAND:
                total += Fraction(str(weights[measure.value]))
    except KeyError as exc:
        raise DefinitionError(f"{SCORE_WEIGHTS} has no weight for {exc}") from None
    return total


def credit_profile(
    entity_id: str,
    decisions: Iterable[Decision],
    at: date,
    store: LawStore | None = None,
) -> CreditProfile:
    """The credit position of ``entity_id`` at ``at`` from its decisions (see module doc).

    Decisions of other entities, and decisions after ``at``, are ignored.
    """
    store = store or default_store()
    own = sorted(
        (d for d in decisions if d.entity_id == entity_id and d.decided_on <= at),
        key=lambda d: (d.decided_on, d.label),
    )
    logger.info("credit profile of %s at %s from %d decisions", entity_id, at, len(own))
    notes: list[str] = []
    weights_entry = _entry(store, SCORE_WEIGHTS, at)
    lookback_entry = _entry(store, SCORE_LOOKBACK, at)
    classes_entry = _entry(store, CLASS_MIN_SCORE, at)
    weights = weights_entry.value
    lookback = int(lookback_entry.value)
    records: list[CreditRecord] = []
    for decision in own:
        until, repair_from, repair_note = _publicity(store, decision, at, notes)
        listing, listing_note = _listing(store, decision, own, at)
        records.append(
            CreditRecord(
                decision=decision,
                publicity_until=until,
                publicised=until is not None and at < until,
                repair_from=repair_from,
                repair_note=repair_note,
                listing=listing,
                listing_note=listing_note,
                recency=_recency(decision.decided_on, at, lookback),
                severity=_severity(decision, weights),
            )
        )
    listed = any(r.listing is not None and r.listing.active(at) for r in records)
    score = sum((r.points for r in records), Fraction(0))
    if listed:
        score += Fraction(str(weights["listed"]))
    cutoffs = {k.upper(): Fraction(str(v)) for k, v in classes_entry.value.items()}
    if sorted(cutoffs) != list(RISK_CLASSES[1:]) or list(cutoffs.values()) != sorted(
        cutoffs[c] for c in RISK_CLASSES[1:]
    ):
        raise DefinitionError(
            f"{CLASS_MIN_SCORE} must give increasing minimum scores for b, c and d",
            _meta(store, CLASS_MIN_SCORE).source,
        )
    risk_class = RISK_CLASSES[0]
    for name in RISK_CLASSES[1:]:
        if score >= cutoffs[name]:
            risk_class = name

    steps: list[Step] = []
    for title, name in _RULE_STEPS:
        entry = _in_force(store, name, at)
        if entry is not None:
            value = format_value(entry.value, _meta(store, name).unit)
            steps.append(_step(title, f"{name} = {value}", entry.citation, name))
    listed_text = "on the list" if listed else "not on the list"
    steps.append(
        _step(
            "risk score",
            f"{len(records)} decision(s), {listed_text}: score {_score(score)} "
            f"(points fade to 0 over {lookback} years)",
            weights_entry.citation,
            SCORE_WEIGHTS,
        )
    )
    shown = ", ".join(f"{k} from {_number(v)}" for k, v in cutoffs.items())
    steps.append(
        _step(
            "risk class",
            f"class {risk_class} ({shown})",
            classes_entry.citation,
            CLASS_MIN_SCORE,
        )
    )
    for note in dict.fromkeys(notes):
        logger.warning("credit %s: %s", entity_id, note)
    return CreditProfile(
        entity_id=entity_id,
        at=at,
        records=tuple(records),
        listed=listed,
        score=score,
        risk_class=risk_class,
        class_min_score=cutoffs,
        steps=tuple(steps),
        warnings=tuple(dict.fromkeys(notes)),
    )
