"""Reading only declared parameters.

A module that applies the law lists every parameter it reads in a ``PARAMETERS`` tuple
and reads them through a :class:`Declared` reader, so a meta-test can walk every
legal number the module uses and check each resolves to a cited parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fairwatch.errors import DefinitionError, ParameterLookupError
from fairwatch.law.model import DatedValue, Parameter
from fairwatch.law.store import LawStore


@dataclass(frozen=True)
class Declared:
    """Parameter access restricted to ``names``; ``owner`` names the module in errors."""

    names: tuple[str, ...]
    owner: str

    def _check(self, name: str) -> None:
        if name not in self.names:
            raise DefinitionError(
                f"reads parameter {name!r} without declaring it in PARAMETERS", self.owner
            )

    def entry(self, store: LawStore, name: str, at: date) -> DatedValue:
        """The dated value in force at ``at`` (raises if there is none)."""
        self._check(name)
        return store.entry(name, at)

    def parameter(self, store: LawStore, name: str) -> Parameter:
        """The parameter's metadata (unit, source file) for messages and display."""
        self._check(name)
        return store.parameter(name)

    def in_force(self, store: LawStore, name: str, at: date) -> DatedValue | None:
        """Like :meth:`entry`, but ``None`` when the parameter is not in force at ``at``."""
        try:
            return self.entry(store, name, at)
        except ParameterLookupError:
            return None
