"""The detector catalogue, generated from the detectors' docstrings and declarations."""

from __future__ import annotations

import textwrap

from fairwatch.detectors.base import SECTIONS, Detector
from fairwatch.detectors.families import FAMILIES


def render_detector(cls: type[Detector]) -> str:
    """Markdown for one detector: summary, declarations, docstring sections."""
    sections = cls.sections()
    lines = [f"## {cls.code} `{cls.name}`", "", sections[""], ""]
    lines += [
        f"- **Family:** `{cls.family}` (reports subject type `{FAMILIES[cls.family]}`)",
        f"- **Legal basis:** {', '.join(f'`{k}`' for k in cls.legal_basis)}",
        f"- **Parameters:** {', '.join(f'`{p}`' for p in cls.parameters) or 'none'}",
        "- **Inputs:** " + "; ".join(f"`{t}` ({', '.join(c)})" for t, c in cls.inputs.items()),
    ]
    if cls.optional_inputs:
        lines.append(
            "- **Used when present:** "
            + "; ".join(f"`{t}` ({', '.join(c)})" for t, c in cls.optional_inputs.items())
        )
    if cls.aliases:
        lines.append(f"- **Former codes:** {', '.join(cls.aliases)}")
    for title in SECTIONS:
        lines += ["", f"### {title}", "", textwrap.dedent(sections[title]).strip()]
    return "\n".join(lines) + "\n"


def render_catalogue() -> str:
    """The whole catalogue (docs/reference/detectors.md)."""
    from fairwatch.detectors.registry import registry

    reg = registry()
    head = [
        "# Detector catalogue",
        "",
        "Generated from the detectors' docstrings by `python -m fairwatch.detectors.docs`; "
        "do not edit by hand.",
        "",
        "| code | name | family | summary |",
        "| --- | --- | --- | --- |",
    ]
    head += [f"| {c.code} | `{c.name}` | `{c.family}` | {c.summary()} |" for c in reg]
    body = [render_detector(c) for c in reg]
    return "\n".join(head) + "\n\n" + "\n".join(body)


if __name__ == "__main__":
    print(render_catalogue(), end="")
