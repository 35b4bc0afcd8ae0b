"""``fairwatch penalty``: the fine the law allows for a case, explained step by step."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fairwatch.errors import FairwatchError
from fairwatch.law.penalty import (
    CIRCUMSTANCE_HELP,
    PROVISIONS,
    PenaltyCase,
    PenaltyResult,
    calculate,
)


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{what}: {text!r} is not a date; write YYYY-MM-DD, e.g. 2021-04-10")


def render(result: PenaltyResult) -> Table:
    """The explanation as a rich table: one row per step, with its citation."""
    table = Table(
        title=f"{result.provision.key}: {result.outcome.value}",
        title_justify="left",
        show_lines=False,
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("step", style="bold")
    table.add_column("explanation", overflow="fold")
    table.add_column("citation", overflow="fold")
    for number, step in enumerate(result.steps, start=1):
        cited = step.citation_label + (
            f"\n[dim]{step.citation_key}[/]" if step.citation_key else ""
        )
        if step.parameter:
            cited += f"\n[dim]{escape(step.parameter)}[/]"
        if not step.verified:
            cited += "\n[bold yellow]unverified[/]"
        table.add_row(str(number), escape(step.title), escape(step.detail), cited)
    return table


_PROVISIONS_HELP = "Violated provision: " + ", ".join(sorted(PROVISIONS)) + "."
_CIRCUMSTANCES_HELP = (
    "A circumstance of the case (repeat the option): "
    + "; ".join(f"{c.value} ({text})" for c, text in CIRCUMSTANCE_HELP.items())
    + "."
)


def penalty(
    provision: Annotated[str, typer.Argument(help=_PROVISIONS_HELP)],
    conduct_start: Annotated[str, typer.Argument(help="First day of the conduct, YYYY-MM-DD.")],
    conduct_end: Annotated[
        str, typer.Argument(help="Last day of the conduct (a continuing act ends here).")
    ],
    decided_on: Annotated[str, typer.Argument(help="Date of the penalty decision, YYYY-MM-DD.")],
    base_cny: Annotated[
        str | None,
        typer.Option(
            "--base-cny",
            "-b",
            help="Fine base the provision names (prior-year sales, turnover, ad fee, gains).",
        ),
    ] = None,
    circumstances: Annotated[
        list[str] | None,
        typer.Option("--circumstance", "-c", help=_CIRCUMSTANCES_HELP),
    ] = None,
    leniency_rank: Annotated[
        int | None,
        typer.Option("--leniency-rank", help="Leniency applicant rank (monopoly agreements)."),
    ] = None,
    discovered_on: Annotated[
        str | None,
        typer.Option(
            "--discovered-on", help="When the violation was discovered (default: decided_on)."
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON instead of a table.")
    ] = False,
) -> None:
    """Work out the fine range for a violation: applicable law, band, exemptions, limitation.

    Applies the law at the time of the conduct unless the law at the decision date is
    lighter (Administrative Penalty Law art. 37), the limitation period (art. 36), the
    no-penalty grounds (art. 33), mandatory mitigation (art. 32), the discretion band
    implied by the circumstances, AML art. 63 aggravation and leniency. Every number
    comes from a cited law-store parameter.

    Example: fairwatch penalty aml.abuse_of_dominance 2018-01-01 2021-10-08 2021-10-08 -b 1e11
    """
    try:
        case = PenaltyCase.build(
            provision=provision,
            conduct_start=_date(conduct_start, "conduct_start"),
            conduct_end=_date(conduct_end, "conduct_end"),
            decided_on=_date(decided_on, "decided_on"),
            base_cny=base_cny,
            circumstances=circumstances or (),
            leniency_rank=leniency_rank,
            discovered_on=_date(discovered_on, "--discovered-on") if discovered_on else None,
        )
        result = calculate(case)
    except FairwatchError as exc:
        _fail(str(exc))
    console = Console(highlight=False)
    if json_out:
        console.print_json(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    console.print(escape(result.provision.title))
    if result.provision.note:
        console.print(f"[dim]{escape(result.provision.note)}[/]")
    console.print(render(result))
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
