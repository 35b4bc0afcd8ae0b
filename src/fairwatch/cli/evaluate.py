"""``fairwatch evaluate``: score a monitoring run against a synthetic market's ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from fairwatch.synth.evaluate import evaluate as evaluate_run
from fairwatch.synth.evaluate import print_table


def evaluate(
    findings: Path = typer.Argument(
        ..., help="A run folder (from `fairwatch scan --out`) or its findings.jsonl."
    ),
    truth: Path = typer.Option(..., "--truth", help="The synthetic lake (from `fairwatch synth`)."),
    json_out: Path | None = typer.Option(
        None, "--json-out", help="Also write the evaluation as JSON to this file."
    ),
    min_precision: float | None = typer.Option(
        None,
        "--min-precision",
        min=0.0,
        max=1.0,
        help="Exit 1 if an evaluated family's precision is below this.",
    ),
    min_recall: float | None = typer.Option(
        None,
        "--min-recall",
        min=0.0,
        max=1.0,
        help="Exit 1 if an evaluated family's recall is below this.",
    ),
) -> None:
    """Score a run's findings against the planted violations, family by family.

    Counts a violation as found only on the subject type the standard requires for its
    family, and reports false positives that hit a lawful look-alike. Families whose
    detectors did not run are shown as not_run and never fail a threshold; nor does an
    undefined score (precision with no findings, recall with no truth).

    Example: fairwatch evaluate runs/tiny --truth lakes/tiny --min-recall 0.8 --json-out eval.json
    """
    console = Console()
    result = evaluate_run(findings, truth)
    print_table(console, result)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(result.to_json() + "\n", encoding="utf-8")
        console.print(f"evaluation written to {json_out}")
    failures = result.failures(min_precision, min_recall)
    if failures:
        for family, missed in failures.items():
            console.print(f"[red]FAIL[/red] {family}: {'; '.join(missed)}", highlight=False)
        raise typer.Exit(code=1)
