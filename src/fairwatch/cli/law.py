"""``fairwatch law``: look up dated, cited legal parameters from the command line."""

from __future__ import annotations

from datetime import date
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fairwatch.errors import FairwatchError
from fairwatch.law import Citation, LawStore, Parameter, default_store
from fairwatch.law.docs import render_markdown
from fairwatch.law.format import citation_notes, format_citation, format_value

app = typer.Typer(
    name="law",
    help="Legal and policy parameters: values in force, citations, changes between dates.",
    no_args_is_help=True,
    add_completion=False,
)


def _out() -> Console:
    # built per call so the width follows the terminal (or COLUMNS) of this invocation
    return Console(highlight=False)


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def _store() -> LawStore:
    try:
        return default_store()
    except FairwatchError as exc:
        _fail(str(exc))


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: {text!r} is not a date; write YYYY-MM-DD, e.g. 2024-06-01")


def _verified(citation: Citation) -> str:
    return "[green]yes[/]" if citation.verified else "[bold yellow]NO (unverified)[/]"


def _citation_table(citation: Citation, title: str | None = None) -> Table:
    table = Table(show_header=False, title=title, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows = [
        ("key", citation.key or "(inline)"),
        ("instrument", citation.instrument),
        ("article", citation.article or "– (not given)"),
        ("issuer", citation.issuer),
        (
            "published on",
            citation.published_on.isoformat() if citation.published_on else "unknown",
        ),
        ("effective on", citation.effective_on.isoformat()),
        ("url", citation.url or "–"),
        ("summary", citation.summary or "–"),
        ("implements", ", ".join(citation.implements) or "–"),
        ("note", citation_notes(citation) or "–"),
    ]
    for label, value in rows:
        table.add_row(label, escape(value))
    table.add_row("verified", _verified(citation))
    return table


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Full dotted parameter name.")],
    at: Annotated[
        str | None, typer.Option("--at", help="Date YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Show the value of a parameter in force at a date, with its citation.

    Example: fairwatch law show cn.aml.merger_thresholds.global_combined_cny --at 2024-06-01
    """
    store = _store()
    console = _out()
    when = _parse_date(at, "--at") if at else date.today()
    try:
        parameter = store.parameter(name)
        dated = store.entry(name, when)
    except FairwatchError as exc:
        _fail(str(exc))
    until = dated.until.isoformat() if dated.until else "until further notice"
    console.print(f"[bold]{name}[/] on {when.isoformat()}")
    console.print(parameter.description, markup=False)
    console.print(
        f"value: [bold cyan]{escape(format_value(dated.value, parameter.unit))}[/]  "
        f"(kind {parameter.kind.value}, unit {parameter.unit}; in force from "
        f"{dated.start.isoformat()}, {until})"
    )
    console.print(_citation_table(dated.citation, title="citation"))


@app.command()
def diff(
    date1: Annotated[str, typer.Argument(help="Earlier date YYYY-MM-DD.")],
    date2: Annotated[str, typer.Argument(help="Later date YYYY-MM-DD.")],
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Only names under this prefix, e.g. cn.aml.")
    ] = None,
) -> None:
    """List every parameter whose value differs between two dates, with both citations.

    Example: fairwatch law diff 2021-01-01 2026-06-01 --prefix cn.aml
    """
    store = _store()
    console = _out()
    d1, d2 = _parse_date(date1, "DATE1"), _parse_date(date2, "DATE2")
    changes = store.diff(d1, d2)
    if prefix:
        wanted = set(store.names(prefix))
        changes = [c for c in changes if c.name in wanted]
    if not changes:
        console.print(f"No parameter changed between {d1.isoformat()} and {d2.isoformat()}.")
        return
    table = Table(title=f"Changes {d1.isoformat()} → {d2.isoformat()} ({len(changes)})")
    table.add_column("parameter", overflow="fold")
    table.add_column("status")
    table.add_column(f"on {d1.isoformat()}", overflow="fold")
    table.add_column(f"on {d2.isoformat()}", overflow="fold")
    for change in changes:
        unit = store.parameter(change.name).unit
        cells = []
        for dated in (change.before, change.after):
            if dated is None:
                cells.append("not yet in force")
            else:
                value = format_value(dated.value, unit)
                text = f"{value}\n({format_citation(dated.citation, with_note=False)})"
                cells.append(escape(text))
        table.add_row(change.name, change.status, *cells)
    console.print(table)


@app.command()
def cite(
    key: Annotated[str, typer.Argument(help="A citation key or a parameter name.")],
) -> None:
    """Show a citation by key, or every citation of a parameter's dated values.

    Example: fairwatch law cite cn.pipl.art24
    """
    store = _store()
    console = _out()
    if store.has_citation(key):
        console.print(_citation_table(store.citation(key), title=key))
        return
    if store.has(key):
        parameter: Parameter = store.parameter(key)
        for dated in parameter.values:
            title = f"{key} from {dated.start.isoformat()}: " + format_value(
                dated.value, parameter.unit
            )
            console.print(_citation_table(dated.citation, title=escape(title)))
        return
    try:
        store.citation(key)  # raises with suggestions
    except FairwatchError as exc:
        _fail(f"{exc}; it is not a parameter name either")


@app.command("list")
def list_(
    prefix: Annotated[str | None, typer.Argument(help="Only names under this prefix.")] = None,
) -> None:
    """List parameters (name, kind, unit, latest value and its date).

    Example: fairwatch law list cn.aml.merger_thresholds
    """
    store = _store()
    console = _out()
    names = store.names(prefix)
    if not names:
        _fail(f"no parameter under {prefix!r}")
    table = Table(title=f"{len(names)} parameters" + (f" under {prefix}" if prefix else ""))
    table.add_column("parameter", overflow="fold")
    table.add_column("kind")
    table.add_column("latest value", overflow="fold")
    table.add_column("from")
    table.add_column("verified")
    for name in names:
        parameter = store.parameter(name)
        latest = parameter.latest
        table.add_row(
            name,
            parameter.kind.value,
            escape(format_value(latest.value, parameter.unit)),
            latest.start.isoformat(),
            "yes" if latest.citation.verified else "[yellow]no[/]",
        )
    console.print(table)


@app.command()
def docs() -> None:
    """Print the generated parameter reference (Markdown).

    Example: fairwatch law docs > docs/reference/parameters.md
    """
    try:
        text = render_markdown(_store())
    except FairwatchError as exc:
        _fail(str(exc))
    typer.echo(text, nl=False)
