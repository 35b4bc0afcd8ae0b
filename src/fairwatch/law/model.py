"""The law's data model: citations, dated values, parameters and changes.

These are the resolved, immutable objects a :class:`~fairwatch.law.store.LawStore`
hands out. The YAML schema they are loaded from lives in :mod:`fairwatch.law.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from fairwatch.errors import DefinitionError, ParameterLookupError


class Kind(StrEnum):
    """Where a parameter's value comes from."""

    STATUTE = "statute"
    """Fixed by a law, regulation, rule or official guideline."""

    POLICY = "policy"
    """A screening or detection threshold the law leaves to the regulator, published by it."""


class UnknownParameterError(ParameterLookupError, LookupError):
    """No parameter of that name is in the loaded rule packs."""


class UnknownCitationError(DefinitionError, LookupError):
    """No citation of that key is in the loaded rule packs' registries."""


@dataclass(frozen=True)
class Citation:
    """Where a value comes from: an instrument, an article, its issuer and dates.

    ``key`` is the registry key when the citation came from a pack's
    ``_citations.yaml`` (``None`` for a citation written inline in a parameter file).
    ``verified`` is false for facts tagged [unverified] or [src, conflict] in the
    reference facts file, and for every regulator-editable policy.
    ``implements`` lists the registry keys of the legal levers a policy implements.
    ``note`` is specific to the article or the dated value; ``instrument_note`` applies
    to the whole instrument (for instance a conflict about its effective date).
    """

    instrument: str
    article: str | None
    issuer: str
    published_on: date | None
    effective_on: date
    verified: bool
    url: str | None = None
    key: str | None = None
    summary: str | None = None
    note: str | None = None
    implements: tuple[str, ...] = ()
    instrument_note: str | None = None

    def label(self) -> str:
        """A short human label: ``instrument, art. N``."""
        return f"{self.instrument}, art. {self.article}" if self.article else self.instrument


@dataclass(frozen=True)
class DatedValue:
    """One entry of a parameter's ``values:`` list.

    ``start`` is the entry's ``from`` date; ``until`` the next entry's ``from`` (exclusive)
    or ``None`` when it is the latest. A ``repealed`` entry (``value: null`` in YAML) has
    ``value`` ``None`` and marks the date from which the parameter is no longer in force.
    """

    name: str
    start: date
    value: Any
    citation: Citation
    until: date | None = None
    line: int | None = None

    @property
    def repealed(self) -> bool:
        """True for an explicit repeal (``value: null``)."""
        return self.value is None


@dataclass(frozen=True)
class Parameter:
    """One legal or policy parameter: a dotted name and its dated values."""

    name: str
    description: str
    kind: Kind
    unit: str
    reviewed_on: date
    values: tuple[DatedValue, ...]
    source: str
    notes: str | None = None

    @property
    def jurisdiction(self) -> str:
        """The name's first segment (``cn``, ``cn_zj``, ``eu``, ``us``)."""
        return self.name.split(".", 1)[0]

    @property
    def latest(self) -> DatedValue:
        """The entry with the latest ``from`` date (possibly a repeal)."""
        return self.values[-1]

    def entry_at(self, at: date) -> DatedValue | None:
        """The entry whose period contains ``at``, or ``None`` before the first ``from``.

        Unlike :meth:`entry`, this returns repeal entries as they are; it is for code that
        needs to tell "not yet" from "repealed" (such as the diff).
        """
        found: DatedValue | None = None
        for dated in self.values:
            if dated.start <= at:
                found = dated
            else:
                break
        return found

    def entry(self, at: date) -> DatedValue:
        """The entry in force at ``at``; raises if none is or if it was repealed."""
        dated = self.entry_at(at)
        if dated is None:
            raise ParameterLookupError(
                f"{self.name} is not in force on {at.isoformat()}: its first value applies "
                f"from {self.values[0].start.isoformat()} ({self.source})"
            )
        if dated.repealed:
            raise ParameterLookupError(
                f"{self.name} is not in force on {at.isoformat()}: repealed from "
                f"{dated.start.isoformat()} by {dated.citation.label()} ({self.source})"
            )
        return dated


@dataclass(frozen=True)
class Change:
    """A parameter whose value differs between two dates.

    ``before`` / ``after`` are the entries in effect at the first / second date: a
    repeal entry when the parameter was repealed, ``None`` when the date is before its
    first value. ``status`` is ``changed`` (in force at both), ``added`` (in force only
    at the second date) or ``removed`` (in force only at the first date).
    """

    name: str
    before: DatedValue | None
    after: DatedValue | None
    status: Literal["changed", "added", "removed"] = "changed"
