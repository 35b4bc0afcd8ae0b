"""The committed table reference is generated from the schemas and cannot drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fairwatch.contract import STANDARD
from fairwatch.contract.docs import REGENERATE, render_markdown

TABLES_MD = Path(__file__).resolve().parents[2] / "docs" / "reference" / "tables.md"


def test_committed_reference_matches_the_schemas() -> None:
    assert TABLES_MD.read_text(encoding="utf-8") == render_markdown(), (
        f"docs/reference/tables.md is out of date; regenerate it with: {REGENERATE}"
    )


def test_reference_documents_every_table_and_column() -> None:
    text = render_markdown()
    for schema in STANDARD.tables.values():
        assert f"### `{schema.name}`" in text
        section = text.split(f"### `{schema.name}`", 1)[1].split("\n### ", 1)[0]
        assert schema.description in section
        for col in schema.columns:
            assert f"| `{col.name}` | `{col.type}` |" in section
        for _col, table, target in schema.references:
            assert f"→ `{table}.{target}`" in section


def test_the_module_prints_the_reference() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fairwatch.contract.docs"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout == render_markdown()
