"""Small conversions shared by the structure modules (nulls, dates, JSON)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd


def opt_float(value: Any) -> float | None:
    """A float, or ``None`` for null, NaN and anything that is not a number."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def opt_day(value: Any) -> date | None:
    """A date from a date, timestamp or ISO string; ``None`` for null / NaT."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(value).date()


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: dates as ISO strings, tuples as lists, NaN as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
