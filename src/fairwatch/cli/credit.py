"""``fairwatch credit show``: an entity's credit records, list status and risk class."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fairwatch.errors import FairwatchError, UsageError
from fairwatch.law.credit import CreditProfile, credit_profile, load_decisions


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def read_decisions_file(path: Path) -> list[Any]:
    """The list of decisions in a JSON or YAML file (a :class:`UsageError` otherwise)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{path} is not valid JSON/YAML: {exc}") from None
    if not isinstance(data, list):
        raise UsageError(f"{path} must hold a list of decisions, got {type(data).__name__}")
    return data


def _day(value: date | None) -> str:
    return value.isoformat() if value else "–"


def render(profile: CreditProfile) -> Table:
    """The records as a rich table, one row per decision."""
    table = Table(
        title=(
            f"{profile.entity_id} on {profile.at}: class {profile.risk_class}, score "
            f"{profile.to_dict()['score']}, {'LISTED' if profile.listed else 'not listed'}"
        ),
        title_justify="left",
    )
    for column in ("decided", "decision", "outcome", "published until", "repair from"):
        table.add_column(column, overflow="fold")
    table.add_column("list", overflow="fold")
    table.add_column("points", justify="right")
    for record in profile.records:
        d = record.decision
        outcome = d.outcome.value
        if d.fine_cny is not None:
            outcome += f" {round(d.fine_cny):,} CNY"
        if d.band is not None:
            outcome += f" ({d.band.value})"
        listing = record.listing_note
        if record.listing is not None:
            early = record.listing.early_removal_from
            listing += (
                f"; early removal from {early}"
                if early
                else (
                    "; early removal blocked: " + ", ".join(record.listing.early_removal_blockers)
                )
            )
        table.add_row(
            d.decided_on.isoformat(),
            escape(d.label),
            escape(outcome),
            _day(record.publicity_until),
            _day(record.repair_from) if record.repair_from else escape(record.repair_note),
            escape(listing),
            record.to_dict()["points"],
        )
    return table


def _rules(profile: CreditProfile) -> Table:
    table = Table(title="rules applied", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    for step in profile.steps:
        cited = escape(step.citation_label)
        if step.citation_key:
            cited += f" [dim]{escape(step.citation_key)}[/]"
        if not step.verified:
            cited += " [bold yellow]unverified[/]"
        table.add_row(escape(step.title), escape(step.detail), cited)
    return table


def credit(
    entity_id: Annotated[str, typer.Argument(help="The entity whose credit to show.")],
    decisions_file: Annotated[
        Path,
        typer.Argument(help="JSON or YAML file with a list of decisions (any entities)."),
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="Date YYYY-MM-DD (default: today).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the profile as JSON instead of tables.")
    ] = False,
) -> None:
    """Show an entity's credit records, list status, repair dates and risk class (A-D).

    Each decision needs entity_id, decided_on, provision and outcome (fine, warning,
    no_penalty or an amount); optional: fine_cny, band, sector, serious, licence_revoked,
    business_suspended, operations_restricted, banned, harm_removed, fulfilled_on,
    decision_id.

    Example: fairwatch credit show shop-42 decisions.yaml --at 2024-06-01
    """
    try:
        when = date.fromisoformat(at) if at else date.today()
    except ValueError:
        _fail(f"--at: {at!r} is not a date; write YYYY-MM-DD, e.g. 2024-06-01")
    try:
        decisions = load_decisions(read_decisions_file(decisions_file))
        profile = credit_profile(entity_id, decisions, when)
    except FairwatchError as exc:
        _fail(str(exc))
    console = Console(highlight=False)
    if json_out:
        console.print_json(json.dumps(profile.to_dict(), ensure_ascii=False))
        return
    if not profile.records:
        console.print(f"no decisions for {escape(entity_id)} up to {when}")
    console.print(render(profile))
    console.print(_rules(profile))
    for warning in profile.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
