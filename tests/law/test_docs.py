"""The committed parameter reference equals a fresh render."""

from __future__ import annotations

from pathlib import Path

from fairwatch.law import default_store
from fairwatch.law.docs import REGENERATE, render_markdown

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "parameters.md"


def test_committed_reference_is_current() -> None:
    rendered = render_markdown()
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert committed == rendered, (
        f"{REFERENCE} is out of date with the rule packs; regenerate it with:\n    {REGENERATE}"
    )


def test_reference_lists_every_parameter_and_citation() -> None:
    rendered = render_markdown()
    store = default_store()
    for name in store.names():
        assert f"#### `{name}`" in rendered
    for key in store.citations():
        assert f"| `{key}` |" in rendered
    assert "**unverified**" in rendered


def test_render_is_deterministic() -> None:
    assert render_markdown() == render_markdown()
