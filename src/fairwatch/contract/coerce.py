"""Converting a table as read to the standard's canonical Arrow types.

Vectorised with ``pyarrow.compute``: text is checked with regular expressions and cast
in bulk; a value that cannot be parsed becomes null and is reported as a ``type``
problem with its 1-based rows. Only ``string_list`` text is parsed in Python, once per
*distinct* value.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from fairwatch.contract._report import mask_problem, sort_problems
from fairwatch.contract.schema import ARROW_TYPES, STANDARD, Column
from fairwatch.errors import Problem

log = logging.getLogger(__name__)

Arr: TypeAlias = pa.ChunkedArray
#: (rows that failed, the message of the ``type`` problem).
Failure = tuple[Any, str]

_INT_RE = r"^[+-]?\d{1,18}(\.0*)?$"
_FLOAT_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_TIME = r"[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?"
_TS_RE = r"^\d{4}-\d{2}-\d{2}" + _TIME + r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$"
_NAIVE_TS_RE = r"^\d{4}-\d{2}-\d{2}(" + _TIME + r")?$"

EXPECTED = {
    "int": "an integer",
    "float": "a finite number",
    "money": "a finite number (yuan)",
    "pct": "a finite number",
    "bool": "true/false/1/0",
    "date": "a date YYYY-MM-DD",
    "timestamp": "an ISO 8601 timestamp with offset, e.g. 2024-05-01T08:30:00+08:00",
    "string_list": 'a JSON array of strings, e.g. ["a","b"]',
    "string": "text",
    "period": "text",
    "region_code": "text",
    "uscc": "text",
}


def _msg(kind: str) -> str:
    return f"cannot read as {kind}: expected {EXPECTED[kind]}"


def _nulls(n: int, type_: pa.DataType) -> Arr:
    return pa.chunked_array([pa.nulls(n, type_)], type=type_)


def _chunked(arr: pa.Array | pa.ChunkedArray) -> Arr:
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _keep(cond: Any, values: Arr, type_: pa.DataType) -> Arr:
    """``values`` where ``cond`` is true, null elsewhere."""
    return _chunked(pc.if_else(pc.fill_null(cond, False), values, pa.scalar(None, type_)))


def _bad(source: Arr, good: Any) -> Any:
    """Rows with a value in ``source`` that is not ``good``."""
    return pc.and_(pc.is_valid(source), pc.invert(pc.fill_null(good, False)))


def _valid_dates(text: Arr) -> tuple[Any, Arr]:
    """(is a real calendar date, parsed timestamp[s]) for ``YYYY-MM-DD`` text."""
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text)
    ok = pc.and_(pc.fill_null(pc.match_substring_regex(text, _DATE_RE), False), same)
    return pc.fill_null(ok, False), parsed


# ------------------------------------------------------------------------- from text


def _text_int(s: Arr) -> tuple[Arr, list[Failure]]:
    ok = pc.match_substring_regex(s, _INT_RE)
    clean = pc.replace_substring_regex(pc.replace_substring_regex(s, r"\.0*$", ""), r"^\+", "")
    out = pc.cast(_keep(ok, clean, pa.string()), pa.int64())
    return out, [(_bad(s, ok), _msg("int"))]


def _text_float(s: Arr, kind: str) -> tuple[Arr, list[Failure]]:
    ok = pc.match_substring_regex(s, _FLOAT_RE)
    out = pc.cast(_keep(ok, s, pa.string()), pa.float64())
    finite = pc.is_finite(out)
    return _keep(finite, out, pa.float64()), [(_bad(s, finite), _msg(kind))]


def _text_bool(s: Arr) -> tuple[Arr, list[Failure]]:
    low = pc.utf8_lower(s)
    true = pc.is_in(low, value_set=pa.array(["true", "1"]))
    false = pc.is_in(low, value_set=pa.array(["false", "0"]))
    ok = pc.or_(true, false)
    return _keep(ok, true, pa.bool_()), [(_bad(s, ok), _msg("bool"))]


def _text_date(s: Arr) -> tuple[Arr, list[Failure]]:
    ok, parsed = _valid_dates(s)
    out = pc.cast(_keep(ok, parsed, parsed.type), pa.date32())
    return out, [(_bad(s, ok), _msg("date"))]


def _text_timestamp(s: Arr) -> tuple[Arr, list[Failure]]:
    up = pc.utf8_upper(s)
    shape = pc.fill_null(pc.match_substring_regex(up, _TS_RE), False)
    day_ok, _ = _valid_dates(pc.utf8_slice_codeunits(up, 0, 10))
    ok = pc.and_(shape, day_ok)
    # Arrow parses at most microseconds: drop further fractional digits.
    text = pc.replace_substring_regex(up, r"(\.\d{6})\d+", r"\1")
    target = ARROW_TYPES["timestamp"]
    out = _cast_text_timestamps(_keep(ok, text, pa.string()), target)
    naive = pc.and_(pc.fill_null(pc.match_substring_regex(up, _NAIVE_TS_RE), False), pc.invert(ok))
    other = pc.and_(_bad(s, ok), pc.invert(naive))
    return out, [
        (naive, "timestamp without offset: the standard requires ISO 8601 with offset"),
        (other, _msg("timestamp")),
    ]


def _cast_text_timestamps(text: Arr, target: pa.DataType) -> Arr:
    chunks = []
    for chunk in text.chunks:
        try:
            chunks.append(pc.cast(chunk, target))
        except pa.ArrowInvalid:  # pragma: no cover - shapes are pre-checked; belt and braces
            values = [_parse_iso(v) for v in chunk.to_pylist()]
            chunks.append(pa.array(values, type=target))
    return pa.chunked_array(chunks, type=target)


def _parse_iso(value: str | None) -> dt.datetime | None:  # pragma: no cover - fallback
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else None


def _parse_list(text: str) -> tuple[bool, list[str | None] | None]:
    try:
        value = json.loads(text)
    except ValueError:
        return False, None
    if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
        return False, None
    return True, value


def _text_list(s: Arr) -> tuple[Arr, list[Failure]]:
    target = ARROW_TYPES["string_list"]
    uniq = pc.unique(s).drop_null()
    parsed = [_parse_list(t) for t in uniq.to_pylist()]
    ok_u = pa.array([ok for ok, _ in parsed], type=pa.bool_())
    val_u = pa.array([v for _, v in parsed], type=target)
    idx = pc.index_in(s, value_set=uniq)
    out = _chunked(pc.take(val_u, idx)) if len(uniq) else _nulls(len(s), target)
    ok = pc.take(ok_u, idx) if len(uniq) else pa.nulls(len(s), pa.bool_())
    return out, [(_bad(s, ok), _msg("string_list"))]


def _from_text(s: Arr, col: Column) -> tuple[Arr, list[Failure]]:
    s = _keep(pc.not_equal(s, ""), s, pa.string())  # "" is null, as in CSV
    kind = col.type
    if ARROW_TYPES[kind] == pa.string():
        return s, []
    trimmed = pc.utf8_trim_whitespace(s)
    trimmed = _keep(pc.not_equal(trimmed, ""), trimmed, pa.string())
    parsers: dict[str, Callable[[Arr], tuple[Arr, list[Failure]]]] = {
        "int": _text_int,
        "bool": _text_bool,
        "date": _text_date,
        "timestamp": _text_timestamp,
        "string_list": _text_list,
    }
    if kind in parsers:
        return parsers[kind](trimmed)
    return _text_float(trimmed, kind)


# -------------------------------------------------------------------- from typed data


def _cast_checked(arr: Arr, target: pa.DataType) -> tuple[Arr, Any]:
    """Cast, turning values that do not survive the round trip into nulls (and bad rows)."""
    try:
        return _chunked(pc.cast(arr, target)), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    unsafe = pc.cast(arr, target, safe=False)
    back = pc.cast(unsafe, arr.type, safe=False)
    bad = pc.fill_null(pc.not_equal(back, arr), False)
    return _keep(pc.invert(bad), unsafe, target), bad


def _all_bad(arr: Arr, target: pa.DataType, message: str) -> tuple[Arr, list[Failure]]:
    return _nulls(len(arr), target), [(pc.is_valid(arr), message)]


def _from_typed(arr: Arr, col: Column) -> tuple[Arr, list[Failure]]:
    t = arr.type
    target = ARROW_TYPES[col.type]
    expected = f"{_msg(col.type)} (got Arrow type {t})"
    if t == target:
        return arr, []
    kind = col.type
    numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    if target == pa.string():
        if pa.types.is_integer(t):
            return _chunked(pc.cast(arr, pa.string())), []
        return _all_bad(arr, target, expected)
    if kind == "int" and numeric:
        out, bad = _cast_checked(arr, target)
        return out, [] if bad is None else [(bad, _msg("int"))]
    if kind in ("float", "money", "pct") and numeric:
        out = _chunked(pc.cast(arr, target, safe=False))
        finite = pc.is_finite(out)
        return _keep(finite, out, target), [(_bad(out, finite), _msg(kind))]
    if kind == "bool" and pa.types.is_integer(t):
        ok = pc.is_in(arr, value_set=pa.array([0, 1], type=t))
        return _keep(ok, pc.not_equal(arr, 0), target), [(_bad(arr, ok), _msg("bool"))]
    if kind == "date":
        if pa.types.is_date(t):
            return _chunked(pc.cast(arr, target)), []
        if pa.types.is_timestamp(t) and t.tz is None:
            day = pc.cast(pc.floor_temporal(arr, unit="day"), target)
            ok = pc.equal(pc.floor_temporal(arr, unit="day"), arr)
            return _keep(ok, day, target), [(_bad(arr, ok), "a date column holds a time of day")]
        return _all_bad(arr, target, expected)
    if kind == "timestamp" and pa.types.is_timestamp(t):
        if t.tz is None:
            return _all_bad(
                arr, target, "timestamp without time zone: Parquet timestamps must be UTC-aware"
            )
        return _chunked(pc.cast(arr, target, safe=False)), []
    if kind == "string_list" and (
        pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    ):
        value_type = t.value_type
        if (
            pa.types.is_string(value_type)
            or pa.types.is_large_string(value_type)
            or (pa.types.is_null(value_type))
        ):
            return _chunked(pc.cast(arr, target)), []
    return _all_bad(arr, target, expected)


def _normalise(arr: Arr) -> Arr:
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = _chunked(pc.cast(arr, t.value_type))
        t = arr.type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        arr = _chunked(pc.cast(arr, pa.string()))
    return arr


def convert_column(arr: pa.Array | pa.ChunkedArray, col: Column) -> tuple[Arr, list[Failure]]:
    """``arr`` converted to ``col``'s canonical type, and the failures (mask, message)."""
    arr = _normalise(_chunked(arr))
    if pa.types.is_null(arr.type):
        return _nulls(len(arr), col.arrow_type), []
    if pa.types.is_string(arr.type):
        return _from_text(arr, col)
    return _from_typed(arr, col)


def coerce(table: str, data: pa.Table) -> tuple[pa.Table, list[Problem]]:
    """Convert ``data`` (a table of the standard as read) to the canonical types.

    Declared columns come first, in schema order; declared optional columns that are
    absent become null columns; required columns that are absent stay absent (they are
    reported by validation as ``missing_column``); extra columns follow unchanged.
    Values that cannot be parsed become null and are reported as ``type`` problems.
    """
    schema = STANDARD.table(table)
    n = data.num_rows
    names: list[str] = []
    arrays: list[Arr] = []
    problems: list[Problem] = []
    for col in schema.columns:
        if col.name not in data.column_names:
            if not col.required:
                names.append(col.name)
                arrays.append(_nulls(n, col.arrow_type))
            continue
        source = data.column(col.name)
        out, failures = convert_column(source, col)
        for mask, message in failures:
            problem = mask_problem(
                table,
                col.name,
                "type",
                message,
                mask,
                source,
                personal=col.pseudonym,
            )
            if problem is not None:
                problems.append(problem)
        names.append(col.name)
        arrays.append(out)
    declared = set(schema.column_names)
    for name in data.column_names:
        if name not in declared:
            names.append(name)
            arrays.append(data.column(name))
    result = pa.Table.from_arrays(arrays, names=names)
    if problems:
        log.info("coerce %s: %d type problem(s)", table, len(problems))
    return result, sort_problems(problems)
