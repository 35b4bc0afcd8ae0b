"""``fairwatch synth``: generate a synthetic platform market with planted violations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fairwatch.errors import FairwatchError


def synth(
    scale: Annotated[
        str, typer.Option("--scale", help="tiny, small, medium, large, xlarge, or a quote count.")
    ] = "small",
    seed: Annotated[
        int,
        typer.Option("--seed", help="Random seed: the same seed and scale give the same files."),
    ] = 0,
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the market (lake) into.")
    ] = Path("market"),
    clean: Annotated[
        bool, typer.Option("--clean", help="Plant no violations (lawful look-alikes only).")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.")
    ] = False,
) -> None:
    """Generate a synthetic Zhejiang platform market with planted violations and ground truth.

    Writes every table of the reporting standard that the market has, plus
    ground_truth.parquet (planted violations), ground_truth_lookalikes.parquet (lawful
    cases a naive detector would flag) and _synth.json (seed, scale, period, row counts).

    Example: fairwatch synth --scale small --seed 1 --out lakes/small-1
    """
    from fairwatch.synth.generate import generate_market

    console = Console()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        with progress:
            task = progress.add_task("starting", total=None)

            def step(message: str, done: int | None = None, total: int | None = None) -> None:
                progress.update(task, description=message, completed=done or 0, total=total)

            summary = generate_market(
                out, scale, seed, violations=not clean, progress=step, overwrite=overwrite
            )
    except FairwatchError as exc:
        Console(stderr=True).print(f"[bold red]error[/]: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    table = Table(
        "table", "rows", title=f"market {out} (seed {seed}, scale {summary['scale']['name']})"
    )
    for name, rows in summary["rows"].items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    truth = summary["truth"]
    console.print(
        f"planted violations: {sum(truth['violations'].values())}, "
        f"look-alikes: {sum(truth['lookalikes'].values())}; period "
        f"{summary['period']['start']} to {summary['period']['end']}"
    )
    if summary["modules"]["skipped"]:
        skipped = ", ".join(summary["modules"]["skipped"])
        console.print(f"[yellow]skipped modules[/] (not written yet): {skipped}")
