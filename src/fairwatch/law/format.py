"""Human-readable rendering of parameter values and citations (docs, CLI, reports)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from fairwatch.law.model import Citation

UNIT_LABELS: dict[str, str] = {
    "cny": "CNY",
    "eur": "EUR",
    "usd": "USD",
    "pct": "%",
    "ratio": "×",
    "hhi": "HHI points",
    "days": "days",
    "working_days": "working days",
    "months": "months",
    "years": "years",
    "count": "",
    "fraction": "",
    "terms": "",
    "text": "",
}


def _scalar(value: Any) -> str:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.10g}" if abs(value) >= 1000 else f"{value:.10g}"
    return str(value)


def format_value(value: Any, unit: str) -> str:
    """Render a value with its unit: ``10,000,000,000 CNY``, ``1–10 %``, ``2/3``.

    ``None`` (an explicit repeal) renders as ``repealed``.
    """
    if value is None:
        return "repealed"
    label = UNIT_LABELS.get(unit, unit)
    suffix = "%" if label == "%" else (f" {label}" if label else "")
    if isinstance(value, dict):
        if set(value) <= {"min", "max"}:
            low, high = value.get("min"), value.get("max")
            if low is not None and high is not None:
                body = f"{_scalar(low)}–{_scalar(high)}"
            elif high is not None:
                body = f"up to {_scalar(high)}"
            else:
                body = f"at least {_scalar(low)}"
            return body + suffix
        parts = []
        for key, item in value.items():
            shown = ", ".join(_scalar(x) for x in item) if isinstance(item, list) else _scalar(item)
            parts.append(f"{key}: {shown}")
        return "; ".join(parts) + (suffix if unit not in ("terms", "text") else "")
    if isinstance(value, list):
        return ", ".join(_scalar(x) for x in value) + suffix
    return _scalar(value) + suffix


def format_citation(citation: Citation, with_note: bool = True) -> str:
    """One-paragraph rendering of a citation."""
    parts = [citation.label(), citation.issuer]
    dates = []
    if citation.published_on:
        dates.append(f"published {citation.published_on.isoformat()}")
    else:
        dates.append("publication date unknown")
    dates.append(f"effective {citation.effective_on.isoformat()}")
    parts.append(", ".join(dates))
    if citation.key:
        parts.append(f"key {citation.key}")
    if citation.implements:
        parts.append("implements " + ", ".join(citation.implements))
    if citation.url:
        parts.append(citation.url)
    text = "; ".join(parts)
    if not citation.verified:
        text += " [UNVERIFIED]"
    if with_note and citation.note:
        text += f". Note: {citation.note}"
    return text


def citation_notes(citation: Citation) -> str:
    """The instrument's note and the citation's own note, joined."""
    return " ".join(n for n in (citation.instrument_note, citation.note) if n)
