"""The table reference, generated from the schema definitions.

Regenerate the committed copy with::

    python -m fairwatch.contract.docs > docs/reference/tables.md
"""

from __future__ import annotations

import sys

from fairwatch.contract.schema import ARROW_TYPES, STANDARD, TYPE_MEANINGS, Column, Standard

REGENERATE = "python -m fairwatch.contract.docs > docs/reference/tables.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _constraints(col: Column) -> str:
    parts: list[str] = []
    if col.enum is not None:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.enum))
    if col.range is not None:
        parts.append(f"range {col.range}")
    if col.type == "period" and len(col.period_formats) == 1:
        parts.append(f"`{col.period_formats[0]}` only")
    if col.references is not None:
        parts.append(f"→ `{col.references}`")
    if col.pseudonym:
        parts.append("pseudonym")
    return "; ".join(parts)


def render_markdown(standard: Standard = STANDARD) -> str:
    """The table reference of ``standard`` as Markdown."""
    lines = [
        f"# {standard.title}, v{standard.version}: table reference",
        "",
        "<!-- Generated from src/fairwatch/contract/schemas/*.yaml; do not edit.",
        f"     Regenerate: {REGENERATE} -->",
        "",
        "Required columns are marked **yes**. A table's key is unique across the whole lake.",
        "Foreign keys (→) are checked where the referenced table is present. Pseudonym",
        "columns must hold opaque tokens: a raw phone number or resident ID number is an error.",
        "",
        "## Types",
        "",
        "| type | Arrow type | meaning |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| `{name}` | `{ARROW_TYPES[name]}` | {_cell(TYPE_MEANINGS[name])} |"
        for name in ARROW_TYPES
    ]
    section = None
    for schema in standard.tables.values():
        if schema.section != section:
            section = schema.section
            lines += ["", f"## {section}"]
        key = ", ".join(f"`{k}`" for k in schema.key) if schema.key else "none"
        lines += ["", f"### `{schema.name}`", "", _cell(schema.description), "", f"Key: {key}"]
        for check in schema.checks:
            op = " < " if check.strict else " ≤ "
            order = op.join(f"`{c}`" for c in check.columns)
            lines += ["", f"Check (`{check.rule}`, where the values are present): {order}"]
        lines += [
            "",
            "| column | type | required | constraints | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{c.name}` | `{c.type}` | {'yes' if c.required else ''} | "
            f"{_cell(_constraints(c))} | {_cell(c.description)} |"
            for c in schema.columns
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
