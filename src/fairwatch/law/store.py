"""The law store: look up dated, cited parameters by dotted name and date."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from datetime import date
from difflib import get_close_matches
from typing import Any, Literal

from fairwatch.law.model import (
    Change,
    Citation,
    DatedValue,
    Parameter,
    UnknownCitationError,
    UnknownParameterError,
)


class LawStore:
    """Parameters and citations of the loaded rule packs.

    Lookups are by full dotted name, jurisdiction first
    (``cn.aml.merger_thresholds.global_combined_cny``). A lookup before a parameter's
    first date, or at/after an explicit repeal, raises
    :class:`~fairwatch.errors.ParameterLookupError`; nothing returns a silent ``None``.
    """

    def __init__(
        self,
        parameters: Mapping[str, Parameter],
        citations: Mapping[str, Citation],
        packs: tuple[str, ...] = (),
    ) -> None:
        self._parameters = dict(sorted(parameters.items()))
        self._citations = dict(sorted(citations.items()))
        self.packs = packs

    def __repr__(self) -> str:
        return (
            f"LawStore(packs={list(self.packs)}, parameters={len(self._parameters)}, "
            f"citations={len(self._citations)})"
        )

    # --- parameters ----------------------------------------------------------------

    def has(self, name: str) -> bool:
        """Whether a parameter of that name is loaded."""
        return name in self._parameters

    def names(self, prefix: str | None = None) -> list[str]:
        """All parameter names, sorted; with ``prefix``, only those starting with it."""
        if not prefix:
            return list(self._parameters)
        return [n for n in self._parameters if n.startswith(prefix)]

    def parameter(self, name: str) -> Parameter:
        """The parameter with its metadata and every dated value."""
        try:
            return self._parameters[name]
        except KeyError:
            close = get_close_matches(name, list(self._parameters), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownParameterError(
                f"unknown parameter {name!r}{hint} (packs loaded: {', '.join(self.packs)})"
            ) from None

    def entry(self, name: str, at: date) -> DatedValue:
        """The dated value (value and citation) in force at ``at``."""
        dated = self.parameter(name).entry(at)
        return dataclasses.replace(dated, value=copy.deepcopy(dated.value))

    def value(self, name: str, at: date) -> Any:
        """The value in force at ``at`` (a copy: mutating it does not touch the store)."""
        return copy.deepcopy(self.parameter(name).entry(at).value)

    # --- citations -----------------------------------------------------------------

    def has_citation(self, key: str) -> bool:
        """Whether a citation key is in a loaded registry."""
        return key in self._citations

    def citation(self, key: str) -> Citation:
        """The citation registered under ``key`` (e.g. ``cn.pipl.art24``)."""
        try:
            return self._citations[key]
        except KeyError:
            close = get_close_matches(key, list(self._citations), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownCitationError(
                f"unknown citation key {key!r}{hint} (packs loaded: {', '.join(self.packs)})"
            ) from None

    def citations(self) -> dict[str, Citation]:
        """Every registered citation, by key."""
        return dict(self._citations)

    # --- changes -------------------------------------------------------------------

    def diff(self, d1: date, d2: date) -> list[Change]:
        """Every parameter whose value in force differs between ``d1`` and ``d2``.

        A parameter not in force at one of the dates (not yet, or repealed) counts as
        changed when it is in force at the other; see :class:`Change`.
        """
        changes: list[Change] = []
        for name, parameter in self._parameters.items():
            before = parameter.entry_at(d1)
            after = parameter.entry_at(d2)
            in_before = before is not None and not before.repealed
            in_after = after is not None and not after.repealed
            if not in_before and not in_after:
                continue
            status: Literal["changed", "added", "removed"]
            if in_before and in_after:
                assert before is not None and after is not None
                if before.value == after.value:
                    continue
                status = "changed"
            else:
                status = "added" if in_after else "removed"
            changes.append(Change(name=name, before=before, after=after, status=status))
        return changes
