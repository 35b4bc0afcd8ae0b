"""The standard's families as the report shows them (the table lives in ``detectors.families``)."""

from __future__ import annotations

from fairwatch.detectors.families import FAMILIES
from fairwatch.detectors.families import SEVERITIES as _ASCENDING

SEVERITIES: tuple[str, ...] = tuple(reversed(_ASCENDING))
"""Finding severities, most severe first (the order the report lists them in)."""


def required_subject_type(family: str) -> str | None:
    """The subject type a family must report on, or ``None`` for a family not in the standard."""
    return FAMILIES.get(family)


__all__ = ["FAMILIES", "SEVERITIES", "required_subject_type"]
