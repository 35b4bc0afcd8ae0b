"""The reporting standard as a Python model around YAML data (one file per table).

The YAML files in ``schemas/`` are the single source of truth: ``_standard.yaml`` holds
the version and the order of the tables, ``<table>.yaml`` defines one table. The loader is
strict (followthemoney's ``InvalidModel``): an unknown key, an unknown type, or a key,
check or reference naming a missing column or table is a :class:`DefinitionError` naming
the file. :data:`STANDARD` is loaded once, at import.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import yaml

from fairwatch.errors import DefinitionError

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).with_name("schemas")
INDEX_FILE = "_standard.yaml"

#: The column types of the standard and their canonical Arrow types.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "money": pa.float64(),
    "pct": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "string_list": pa.list_(pa.string()),
    "period": pa.string(),
    "region_code": pa.string(),
    "uscc": pa.string(),
}
#: What each type means, for the generated docs.
TYPE_MEANINGS: dict[str, str] = {
    "string": "text",
    "int": "64-bit integer",
    "float": "floating-point number",
    "money": "yuan, two decimals (Parquet decimal(18,2) or double; stored as double)",
    "pct": "percentage 0..100",
    "bool": "boolean (CSV/JSONL text: true/false/1/0)",
    "date": "calendar date (`YYYY-MM-DD`)",
    "timestamp": "instant, stored in UTC (CSV/JSONL: ISO 8601 with offset)",
    "string_list": 'list of strings (CSV: a JSON array such as `["a","b"]`)',
    "period": "`YYYY` or `YYYY-MM`",
    "region_code": "6-digit administrative division code (GB/T 2260)",
    "uscc": "18-character Unified Social Credit Code with a valid check character",
}
NUMERIC_TYPES = frozenset({"int", "float", "money", "pct"})
ORDERED_TYPES = frozenset({"date", "timestamp"})
PERIOD_FORMATS: tuple[str, ...] = ("YYYY", "YYYY-MM")
CHECK_RULES = frozenset({"date_order"})

_INDEX_KEYS = {"version", "title", "sections"}
_SECTION_KEYS = {"name", "tables"}
_TABLE_KEYS = {"table", "description", "key", "checks", "columns"}
_COLUMN_KEYS = {
    "name",
    "type",
    "required",
    "description",
    "enum",
    "pseudonym",
    "references",
    "range",
    "period_formats",
}
_CHECK_KEYS = {"rule", "columns", "strict"}
_RANGE_KEYS = {"min", "max"}


class Range(NamedTuple):
    """Inclusive bounds of a numeric column; ``None`` = unbounded on that side."""

    min: float | None
    max: float | None

    def __str__(self) -> str:
        lo = "" if self.min is None else _num(self.min)
        hi = "" if self.max is None else _num(self.max)
        if self.max is None:
            return f"≥ {lo}"
        if self.min is None:
            return f"≤ {hi}"
        return f"{lo}..{hi}"


class Reference(NamedTuple):
    """A foreign key target: ``table.column``."""

    table: str
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class Column:
    """One column of a table of the standard."""

    name: str
    type: str
    required: bool
    description: str
    enum: tuple[str, ...] | None = None
    pseudonym: bool = False
    references: Reference | None = None
    range: Range | None = None
    period_formats: tuple[str, ...] = PERIOD_FORMATS

    @property
    def arrow_type(self) -> pa.DataType:
        """The canonical Arrow type of the column."""
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class Check:
    """A table-level check. ``date_order``: the non-null values of ``columns`` are in
    non-decreasing order (increasing when ``strict``), pair by pair."""

    rule: str
    columns: tuple[str, ...]
    strict: bool = False

    def pairs(self) -> list[tuple[str, str]]:
        """The (earlier, later) column pairs the check compares."""
        cols = self.columns
        return [(cols[i], cols[j]) for i in range(len(cols)) for j in range(i + 1, len(cols))]


@dataclass(frozen=True)
class TableSchema:
    """One table of the standard: its columns, key and checks."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    checks: tuple[Check, ...] = ()
    section: str = ""

    def column(self, name: str) -> Column:
        """The column called ``name`` (``KeyError`` when there is none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns, in schema order."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def references(self) -> list[tuple[str, str, str]]:
        """Foreign keys as ``(column, referenced table, referenced column)``."""
        return [
            (c.name, c.references.table, c.references.column)
            for c in self.columns
            if c.references is not None
        ]

    def arrow_schema(self) -> pa.Schema:
        """The canonical Arrow schema: every column, in order, with its canonical type."""
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


@dataclass(frozen=True)
class Standard:
    """The reporting standard: a version and its tables, in the spec's order."""

    version: str
    title: str
    tables: dict[str, TableSchema]

    def table(self, name: str) -> TableSchema:
        """The schema of table ``name`` (``KeyError`` naming the known tables otherwise)."""
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(self.tables)
            raise KeyError(
                f"{name!r} is not a table of reporting standard v{self.version} (tables: {known})"
            ) from None

    def names(self) -> list[str]:
        """The table names, in the spec's order."""
        return list(self.tables)

    def __contains__(self, name: object) -> bool:
        return name in self.tables


# --------------------------------------------------------------------------- loader


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"cannot read schema definition: {exc}", str(path)) from exc
    if not isinstance(data, dict):
        raise DefinitionError("a schema definition must be a mapping", str(path))
    return data


def _check_keys(data: Mapping[str, Any], allowed: set[str], what: str, src: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DefinitionError(f"{what}: unknown key(s) {unknown}; allowed: {sorted(allowed)}", src)


def _str(data: Mapping[str, Any], key: str, what: str, src: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{what}: {key!r} must be a non-empty string", src)
    return value.strip()


def _str_list(value: Any, what: str, src: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DefinitionError(f"{what} must be a list of strings", src)
    if len(set(value)) != len(value):
        raise DefinitionError(f"{what} has duplicates: {value}", src)
    return tuple(value)


def _bool(data: Mapping[str, Any], key: str, what: str, src: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise DefinitionError(f"{what}: {key!r} must be true or false", src)
    return value


def _range(value: Any, col_type: str, what: str, src: str) -> Range | None:
    if value is None:
        return Range(0, 100) if col_type == "pct" else None
    if col_type not in NUMERIC_TYPES:
        raise DefinitionError(f"{what}: a range needs a numeric type, not {col_type!r}", src)
    if not isinstance(value, dict) or not value:
        raise DefinitionError(f"{what}: range must be a mapping with min and/or max", src)
    _check_keys(value, _RANGE_KEYS, f"{what} range", src)
    bounds: list[float | None] = []
    for k in ("min", "max"):
        b = value.get(k)
        if b is not None and (isinstance(b, bool) or not isinstance(b, int | float)):
            raise DefinitionError(f"{what}: range {k} must be a number", src)
        bounds.append(None if b is None else float(b))
    lo, hi = bounds
    if lo is not None and hi is not None and lo > hi:
        raise DefinitionError(f"{what}: range min {lo} > max {hi}", src)
    if col_type == "pct" and ((lo is not None and lo < 0) or (hi is not None and hi > 100)):
        raise DefinitionError(f"{what}: a pct range must lie within 0..100", src)
    if col_type == "pct":
        lo = 0.0 if lo is None else lo
        hi = 100.0 if hi is None else hi
    return Range(lo, hi)


def _column(data: Any, index: int, src: str) -> Column:
    if not isinstance(data, dict):
        raise DefinitionError(f"column #{index + 1} must be a mapping", src)
    name = _str(data, "name", f"column #{index + 1}", src)
    what = f"column {name!r}"
    _check_keys(data, _COLUMN_KEYS, what, src)
    col_type = _str(data, "type", what, src)
    if col_type not in ARROW_TYPES:
        raise DefinitionError(
            f"{what}: unknown type {col_type!r}; known: {sorted(ARROW_TYPES)}", src
        )
    enum = None
    if "enum" in data:
        if col_type not in ("string", "string_list"):
            raise DefinitionError(f"{what}: enum needs type string or string_list", src)
        enum = _str_list(data["enum"], f"{what} enum", src)
    references = None
    if "references" in data:
        ref = data["references"]
        parts = ref.split(".") if isinstance(ref, str) else []
        if len(parts) != 2 or not all(parts):
            raise DefinitionError(f"{what}: references must be 'table.column', got {ref!r}", src)
        references = Reference(parts[0], parts[1])
    period_formats = PERIOD_FORMATS
    if "period_formats" in data:
        if col_type != "period":
            raise DefinitionError(f"{what}: period_formats needs type period", src)
        period_formats = _str_list(data["period_formats"], f"{what} period_formats", src)
        bad = sorted(set(period_formats) - set(PERIOD_FORMATS))
        if bad:
            raise DefinitionError(f"{what}: unknown period format(s) {bad}", src)
    pseudonym = _bool(data, "pseudonym", what, src)
    if pseudonym and col_type != "string":
        raise DefinitionError(f"{what}: a pseudonym column must have type string", src)
    return Column(
        name=name,
        type=col_type,
        required=_bool(data, "required", what, src),
        description=_str(data, "description", what, src),
        enum=enum,
        pseudonym=pseudonym,
        references=references,
        range=_range(data.get("range"), col_type, what, src),
        period_formats=period_formats,
    )


def _check(data: Any, columns: Mapping[str, Column], src: str) -> Check:
    if not isinstance(data, dict):
        raise DefinitionError("a check must be a mapping", src)
    _check_keys(data, _CHECK_KEYS, "check", src)
    rule = _str(data, "rule", "check", src)
    if rule not in CHECK_RULES:
        raise DefinitionError(f"check: unknown rule {rule!r}; known: {sorted(CHECK_RULES)}", src)
    cols = _str_list(data.get("columns"), f"check {rule} columns", src)
    if len(cols) < 2:
        raise DefinitionError(f"check {rule}: needs at least two columns", src)
    types = set()
    for c in cols:
        if c not in columns:
            raise DefinitionError(f"check {rule}: no column {c!r} in the table", src)
        types.add(columns[c].type)
    if len(types) != 1 or not types <= ORDERED_TYPES:
        raise DefinitionError(
            f"check {rule}: columns must all be dates or all timestamps, got {sorted(types)}", src
        )
    return Check(rule=rule, columns=cols, strict=_bool(data, "strict", f"check {rule}", src))


def load_table_schema(path: Path, section: str = "") -> TableSchema:
    """Load and check one table definition (``<table>.yaml``).

    Checks everything that can be checked within the file; references to other tables
    are checked by :func:`load_standard`.
    """
    src = str(path)
    data = _read_yaml(path)
    _check_keys(data, _TABLE_KEYS, "table", src)
    name = _str(data, "table", "table", src)
    if name != path.stem:
        raise DefinitionError(f"table {name!r} must be defined in {name}.yaml", src)
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise DefinitionError("'columns' must be a non-empty list", src)
    columns = [_column(c, i, src) for i, c in enumerate(raw_columns)]
    by_name: dict[str, Column] = {}
    for col in columns:
        if col.name in by_name:
            raise DefinitionError(f"column {col.name!r} is defined twice", src)
        by_name[col.name] = col
    if "key" not in data:
        raise DefinitionError("'key' is required (an empty list = no key)", src)
    key = () if data["key"] == [] else _str_list(data["key"], "key", src)
    for k in key:
        if k not in by_name:
            raise DefinitionError(f"key column {k!r} is not a column of the table", src)
        if not by_name[k].required:
            raise DefinitionError(f"key column {k!r} must be required", src)
    raw_checks = data.get("checks", [])
    if not isinstance(raw_checks, list):
        raise DefinitionError("'checks' must be a list", src)
    checks = tuple(_check(c, by_name, src) for c in raw_checks)
    return TableSchema(
        name=name,
        description=_str(data, "description", "table", src),
        key=key,
        columns=tuple(columns),
        checks=checks,
        section=section,
    )


def load_standard(folder: Path = SCHEMA_DIR) -> Standard:
    """Load the standard from ``folder`` (``_standard.yaml`` and one file per table)."""
    index_path = folder / INDEX_FILE
    src = str(index_path)
    index = _read_yaml(index_path)
    _check_keys(index, _INDEX_KEYS, "standard", src)
    version = index.get("version")
    if not isinstance(version, str) or not version:
        raise DefinitionError("'version' must be a non-empty string", src)
    sections = index.get("sections")
    if not isinstance(sections, list) or not sections:
        raise DefinitionError("'sections' must be a non-empty list", src)
    order: list[tuple[str, str]] = []
    for sec in sections:
        if not isinstance(sec, dict):
            raise DefinitionError("a section must be a mapping", src)
        _check_keys(sec, _SECTION_KEYS, "section", src)
        sec_name = _str(sec, "name", "section", src)
        order += [(t, sec_name) for t in _str_list(sec.get("tables"), f"{sec_name} tables", src)]
    listed = [t for t, _ in order]
    if len(set(listed)) != len(listed):
        raise DefinitionError("a table is listed twice", src)
    files = {p.stem for p in folder.glob("*.yaml") if not p.name.startswith(("_", "."))}
    unlisted = sorted(files - set(listed))
    if unlisted:
        raise DefinitionError(f"table file(s) not listed in a section: {unlisted}", src)
    missing = sorted(set(listed) - files)
    if missing:
        raise DefinitionError(f"listed table(s) without a definition file: {missing}", src)
    tables = {t: load_table_schema(folder / f"{t}.yaml", sec) for t, sec in order}
    for schema in tables.values():
        _check_references(schema, tables, str(folder / f"{schema.name}.yaml"))
    standard = Standard(version=version, title=_str(index, "title", "standard", src), tables=tables)
    log.debug("loaded reporting standard v%s: %d tables", version, len(tables))
    return standard


def _check_references(schema: TableSchema, tables: Mapping[str, TableSchema], src: str) -> None:
    for col in schema.columns:
        ref = col.references
        if ref is None:
            continue
        what = f"column {col.name!r} references {ref}"
        target = tables.get(ref.table)
        if target is None:
            raise DefinitionError(f"{what}: no table {ref.table!r} in the standard", src)
        if ref.column not in target.column_names:
            raise DefinitionError(f"{what}: table {ref.table!r} has no such column", src)
        if target.key != (ref.column,):
            raise DefinitionError(f"{what}: not the key of {ref.table!r} {target.key}", src)
        if target.column(ref.column).type != col.type:
            raise DefinitionError(f"{what}: types differ", src)


STANDARD: Standard = load_standard()
