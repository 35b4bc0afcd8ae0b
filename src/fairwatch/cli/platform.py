"""``fairwatch platform``: a platform's category and grade, EU status and obligations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fairwatch.errors import FairwatchError
from fairwatch.structure.grading import Criterion, EUFigures, GradingResult, TestResult

_STATUS = {
    "pass": "[bold green]pass[/]",
    "fail": "[red]fail[/]",
    "not_assessed": "[yellow]not assessed[/]",
}
_GRADE_STYLE = {
    "super": "bold red",
    "large": "bold yellow",
    "small_medium": "bold green",
    "undetermined": "bold",
}


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def _date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"--at: {text!r} is not a date; write YYYY-MM-DD, e.g. 2025-06-01")


def _amount(text: str, option: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        _fail(f"{option}: {text!r} is not a number (e.g. 7.5e9)")
    if value < 0:
        _fail(f"{option}: {text!r} is negative")
    return value


def _per_year(items: list[str] | None, option: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for item in items or []:
        for part in item.split(","):
            year, sep, amount = part.partition("=")
            if not sep or not year.strip().isdigit():
                _fail(f"{option}: {part!r} is not YEAR=AMOUNT (e.g. 2024=8e9)")
            out[int(year)] = _amount(amount.strip(), option)
    return out


def _money(value: Any, currency: str) -> str:
    if value is None:
        return "–"
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "M")):
        if abs(value) >= size:
            return f"{value / size:,.2f} {unit} {currency}"
    return f"{value:,.0f} {currency}"


def _count(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _shown(value: Any, unit: str) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{year}: {_shown(v, unit)}" for year, v in value.items())
    if unit in ("cny", "eur", "usd"):
        return _money(value, unit.upper())
    if unit == "text":
        return "–" if value is None else str(value)
    return _count(value)


def _cited(key: str | None, label: str, verified: bool, parameter: str | None = None) -> str:
    text = escape(key or label or "–")
    if parameter:
        text += f"\n[dim]{escape(parameter)}[/]"
    if not verified:
        text += "\n[bold yellow]unverified[/]"
    return text


def _criteria_table(title: str, tests: tuple[TestResult, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("test", style="bold")
    table.add_column("criterion", overflow="fold")
    table.add_column("figure", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("result")
    table.add_column("citation", overflow="fold")
    for test in tests:
        head = f"{escape(test.name)}\n{_STATUS[test.status]}"
        for number, c in enumerate(test.criteria):
            table.add_row(
                head if number == 0 else "",
                _criterion_text(c),
                _shown(c.figure, c.unit),
                "–" if c.threshold is None else _shown(c.threshold, c.unit),
                _STATUS[c.status],
                _cited(c.citation_key, c.citation_label, c.verified, c.parameter),
            )
        if test.note:
            table.add_row("", f"[dim]{escape(test.note)}[/]", "", "", "", "")
        table.add_section()
    return table


def _criterion_text(c: Criterion) -> str:
    return f"{escape(c.name)}\n[dim]{escape(c.reason)}[/]"


def render(result: GradingResult, console: Console) -> None:
    """Print a grading result for a person: subject, group, grade, EU tests, obligations."""
    g = result.group
    if result.subject == "platform":
        console.print(
            f"[bold]{escape(result.platform_id or '')}[/] {escape(result.platform_name or '')} "
            f"on {result.at} (graded on {result.prior_year})"
        )
        console.print(
            f"operator {escape(result.operator_id or '')} {escape(result.operator_name or '')}"
            f" → group [bold]{escape(g.entity_id)}[/] {escape(g.name or '')}"
        )
    else:
        console.print(
            f"group [bold]{escape(g.entity_id)}[/] {escape(g.name or '')} (from "
            f"{escape(result.subject_id)}) on {result.at} (graded on {result.prior_year})"
        )
    if g.chain:
        steps = [escape(g.chain[0].owned)]
        steps += [f"←({escape(link.how)}) {escape(link.owner)}" for link in g.chain]
        console.print("control chain: " + " ".join(steps))
    console.print(f"group of {g.members} entities; platforms: {', '.join(g.platforms) or 'none'}")
    own = ", ".join(result.categories) or "none"
    line = f"categories: {escape(own)}"
    if result.subject == "platform":
        line += f"; group's categories: {escape(', '.join(result.group_categories) or 'none')}"
    console.print(line)
    style = _GRADE_STYLE[result.grade]
    grade = f"grade: [{style}]{escape(result.grade_label)}[/]"
    if result.provisional:
        grade += " [yellow](provisional)[/]"
    console.print(grade)
    console.print(_criteria_table(f"SAMR draft grading on {result.at}", result.tests))
    console.print(_criteria_table("EU comparators", result.eu_tests))
    table = Table(title=f"obligations ({len(result.obligations)})", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("duty", overflow="fold")
    table.add_column("applies because", overflow="fold")
    table.add_column("citation", overflow="fold")
    for number, ob in enumerate(result.obligations, start=1):
        table.add_row(
            str(number),
            f"{escape(ob.text)}\n[dim]{escape(ob.id)}[/]",
            escape(ob.applies_because),
            _cited(ob.citation_key, ob.citation_label, ob.verified),
        )
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


def platform(
    subject_id: Annotated[
        str, typer.Argument(help="A platform_id (or, with --group, an entity_id).")
    ],
    lake: Annotated[
        Path, typer.Option("--lake", help="The lake with platforms, platform_metrics etc.")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Grade on this date (YYYY-MM-DD); default today."),
    ] = None,
    group: Annotated[
        bool,
        typer.Option("--group", help="Treat the id as an entity and grade its whole group."),
    ] = False,
    eu_turnover: Annotated[
        list[str] | None,
        typer.Option(
            "--eu-turnover-eur",
            help="EU turnover of a financial year, YEAR=EUR (repeat or comma-separate).",
        ),
    ] = None,
    eu_market_cap: Annotated[
        str | None,
        typer.Option("--eu-market-cap-eur", help="Average market capitalisation, EUR."),
    ] = None,
    eu_member_states: Annotated[
        int | None,
        typer.Option(
            "--eu-member-states", help="Member states where the core platform service runs."
        ),
    ] = None,
    eu_end_users: Annotated[
        list[str] | None,
        typer.Option(
            "--eu-end-users", help="Monthly active end users in the EU of a year, YEAR=N."
        ),
    ] = None,
    eu_business_users: Annotated[
        list[str] | None,
        typer.Option("--eu-business-users", help="Yearly active business users in the EU, YEAR=N."),
    ] = None,
    eu_recipients: Annotated[
        str | None,
        typer.Option("--eu-recipients", help="DSA: average monthly active recipients in the EU."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON instead of tables.")
    ] = False,
) -> None:
    """Grade a platform (SAMR draft), test the EU DMA / DSA thresholds, list its obligations.

    The platform's operator is resolved to its group on --at; the grade uses the previous
    year: the platform's annual active users, the categories of the group's platforms
    and the group's market value (the criteria of the SAMR draft, each with the cited
    parameter in force). A missing figure is "not assessed", never a pass or fail. The
    reporting standard has no EU figures: pass them with the --eu-* options.

    Example: fairwatch platform P01 --lake lakes/small-1 --at 2025-06-01 --eu-recipients 5e7
    """
    from fairwatch.law import default_store
    from fairwatch.structure.data import load_tables
    from fairwatch.structure.grading import grade_group, grade_platform

    day = _date(at)
    eu = EUFigures(
        turnover_eur=_per_year(eu_turnover, "--eu-turnover-eur"),
        avg_market_cap_eur=(
            _amount(eu_market_cap, "--eu-market-cap-eur") if eu_market_cap else None
        ),
        member_states=eu_member_states,
        monthly_active_end_users=_per_year(eu_end_users, "--eu-end-users"),
        yearly_active_business_users=_per_year(eu_business_users, "--eu-business-users"),
        monthly_active_recipients=(
            _amount(eu_recipients, "--eu-recipients") if eu_recipients else None
        ),
    )
    if not lake.exists():
        _fail(f"--lake: {lake} does not exist")
    try:
        tables = load_tables(lake)
        grade = grade_group if group else grade_platform
        result = grade(tables, subject_id, day, default_store(), eu=None if eu.is_empty() else eu)
    except FairwatchError as exc:
        _fail(str(exc))
    console = Console(highlight=False)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    render(result, console)
