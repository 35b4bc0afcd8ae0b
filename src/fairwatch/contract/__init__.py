"""The platform data reporting standard (v1) as code.

* :data:`STANDARD` — the tables, loaded once from the YAML definitions in ``schemas/``
  (the single source of truth; ``docs/reference/tables.md`` is generated from them).
* :func:`discover` and :func:`read_table` — find and read a lake folder's tables.
* :func:`coerce` — convert a table as read to the canonical Arrow types.
* :func:`validate_batch` / :func:`check_batch` — every rule of the standard, including
  unique keys and references against the Parquet files already in the lake.
"""

from __future__ import annotations

from fairwatch.contract.coerce import coerce
from fairwatch.contract.io import discover, read_table
from fairwatch.contract.schema import (
    ARROW_TYPES,
    STANDARD,
    Check,
    Column,
    Range,
    Reference,
    Standard,
    TableSchema,
    load_standard,
    load_table_schema,
)
from fairwatch.contract.validate import check_batch, validate_batch

__all__ = [
    "ARROW_TYPES",
    "STANDARD",
    "Check",
    "Column",
    "Range",
    "Reference",
    "Standard",
    "TableSchema",
    "check_batch",
    "coerce",
    "discover",
    "load_standard",
    "load_table_schema",
    "read_table",
    "validate_batch",
]
