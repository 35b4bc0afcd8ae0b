"""Generate the parameter reference (``docs/reference/parameters.md``) from the packs.

Regenerate with::

    python -m fairwatch.law.docs > docs/reference/parameters.md

The output depends only on the pack files (never on today's date), so a test can
compare the committed file with a fresh render.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from fairwatch.law.format import citation_notes, format_citation, format_value
from fairwatch.law.loader import load_store
from fairwatch.law.model import Parameter
from fairwatch.law.store import LawStore

REGENERATE = "python -m fairwatch.law.docs > docs/reference/parameters.md"

JURISDICTIONS: dict[str, str] = {
    "cn": "China (national)",
    "cn_zj": "Zhejiang province (pack id `cn-zj`, name prefix `cn_zj.`)",
    "eu": "European Union (comparator)",
    "us": "United States (comparator)",
}

AREAS: dict[str, str] = {
    "advertising": "Advertising",
    "algorithm": "Algorithms",
    "aml": "Anti-monopoly",
    "aucl": "Unfair competition",
    "credit": "Credit",
    "data_export": "Cross-border data",
    "detection": "Detection (policy)",
    "ecommerce": "E-commerce",
    "labour": "New forms of employment",
    "penalty": "Penalties: discretion and limitation",
    "pipl": "Personal information",
    "platform": "Platforms: categories, grades, duties",
    "price": "Prices",
    "procedure": "Case procedure",
    "traffic_light": "Capital traffic light (policy)",
    "dma": "Digital Markets Act",
    "dsa": "Digital Services Act",
    "merger": "Merger guidelines",
    "hsr": "Hart-Scott-Rodino",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _render_parameter(parameter: Parameter) -> list[str]:
    latest = parameter.latest
    flag = "" if latest.citation.verified else " — **unverified**"
    lines = [
        f"#### `{parameter.name}`",
        "",
        parameter.description,
        "",
        f"- Kind: **{parameter.kind.value}** · unit: `{parameter.unit}` · "
        f"reviewed on {parameter.reviewed_on.isoformat()} · "
        f"file: `{parameter.name.replace('.', '/')}.yaml`",
        f"- Latest value: **{_cell(format_value(latest.value, parameter.unit))}** "
        f"(from {latest.start.isoformat()}){flag}",
    ]
    if parameter.notes:
        lines.append(f"- Notes: {parameter.notes}")
    lines += [
        "",
        "| from | value | citation | verified |",
        "| --- | --- | --- | --- |",
    ]
    for dated in parameter.values:
        lines.append(
            f"| {dated.start.isoformat()} | {_cell(format_value(dated.value, parameter.unit))} "
            f"| {_cell(format_citation(dated.citation))} "
            f"| {'yes' if dated.citation.verified else '**no**'} |"
        )
    lines.append("")
    return lines


def render_markdown(store: LawStore | None = None) -> str:
    """The whole parameter reference as Markdown (default: all shipped packs)."""
    store = store or load_store()
    names = store.names()
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in names:
        jurisdiction, area = name.split(".")[:2]
        grouped[jurisdiction][area].append(name)
    parameters = [store.parameter(n) for n in names]
    unverified = sum(1 for p in parameters if any(not d.citation.verified for d in p.values))
    policies = sum(1 for p in parameters if p.kind.value == "policy")

    out: list[str] = [
        "# Legal and policy parameters",
        "",
        "<!-- Generated from src/fairwatch/law/packs; do not edit by hand. Regenerate with:",
        f"     {REGENERATE} -->",
        "",
        f"{len(names)} parameters ({policies} policy), {len(store.citations())} citation keys. "
        f"{unverified} parameters have at least one value marked **unverified**.",
        "",
        "Each parameter is one YAML file under `src/fairwatch/law/packs/`, its path the dotted "
        "name (`cn/aml/merger_thresholds/global_combined_cny.yaml` is "
        "`cn.aml.merger_thresholds.global_combined_cny`). *statute* values come from a law, "
        "regulation, rule or official guideline; *policy* values are screening or detection "
        "thresholds the law leaves to the regulator, published and editable by it. A value "
        "applies from its date until the next one; `repealed` means the parameter is no "
        "longer in force and looking it up fails. *Unverified* marks facts the reference "
        "file tags [unverified] or [src, conflict], facts added beyond it, and every "
        "fairwatch policy.",
        "",
        "## Contents",
        "",
    ]
    for jurisdiction, areas in grouped.items():
        title = JURISDICTIONS.get(jurisdiction, jurisdiction)
        count = sum(len(v) for v in areas.values())
        out.append(f"- [{jurisdiction}]({_anchor(jurisdiction, title)}): {title} ({count})")
        for area, members in areas.items():
            out.append(f"  - {jurisdiction}.{area}: {AREAS.get(area, area)} ({len(members)})")
    out.append("")
    for jurisdiction, areas in grouped.items():
        out += [f"## {jurisdiction} — {JURISDICTIONS.get(jurisdiction, jurisdiction)}", ""]
        for area, members in areas.items():
            out += [f"### {jurisdiction}.{area} — {AREAS.get(area, area)}", ""]
            for name in members:
                out += _render_parameter(store.parameter(name))
    out += [
        "## Citation registry",
        "",
        "Reusable keys from each pack's `_citations.yaml`, cited by parameters and by "
        "detectors' legal basis.",
        "",
        "| key | instrument | article | issuer | published | effective | verified | summary "
        "| notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, citation in store.citations().items():
        published = citation.published_on.isoformat() if citation.published_on else "unknown"
        out.append(
            f"| `{key}` | {_cell(citation.instrument)} | {citation.article or '–'} "
            f"| {_cell(citation.issuer)} | {published} | {citation.effective_on.isoformat()} "
            f"| {'yes' if citation.verified else '**no**'} | {_cell(citation.summary or '')} "
            f"| {_cell(citation_notes(citation) or '–')} |"
        )
    out.append("")
    return "\n".join(out)


def _anchor(jurisdiction: str, title: str) -> str:
    text = f"{jurisdiction} — {title}".lower()
    kept = "".join(c for c in text if c.isalnum() or c in " -_")
    return "#" + kept.replace(" ", "-")


def main() -> None:
    """Write the reference to standard output."""
    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
