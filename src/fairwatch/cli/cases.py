"""``fairwatch audit``: verify and export the case store's hash-chained audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err = Console(stderr=True)

audit_app = typer.Typer(
    help="The case store's append-only, hash-chained audit log.", no_args_is_help=True
)
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Case store URL (default: $FAIRWATCH_DB_URL or sqlite:///fairwatch-cases.db)."
    ),
]


@audit_app.command("verify")
def verify(db: DbOption = None) -> None:
    """Recompute the audit chain: exit 1 and name every edited, deleted or reordered entry.

    Example: fairwatch audit verify --db postgresql+psycopg://postgres@127.0.0.1/cases
    """
    from sqlalchemy import func, select

    from fairwatch.cases import audit
    from fairwatch.cases.db import open_store
    from fairwatch.cases.models import AuditEvent

    store = open_store(db)
    try:
        with store.session() as s:
            problems = audit.verify(s)
            count = s.execute(select(func.count(AuditEvent.seq))).scalar_one()
    finally:
        store.dispose()
    if problems:
        for p in problems:
            err.print(f"[bold red]broken[/] {escape(str(p))}")
        raise typer.Exit(1)
    console.print(f"audit log intact: {count} entries, every hash and link checks out")


@audit_app.command("export")
def export(
    case_id: Annotated[int, typer.Argument(help="The case's id.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """A case's timeline from the audit log: its alert, lead, case and evidence events.

    Example: fairwatch audit export 12 --json > case-12-timeline.jsonl
    """
    from fairwatch.cases.db import open_store
    from fairwatch.cases.service import Actor, CaseService

    store = open_store(db)
    try:
        events = CaseService(store).timeline(Actor.system("supervisor"), case_id)
    finally:
        store.dispose()
    if as_json:
        for e in events:
            typer.echo(
                json.dumps(
                    {
                        "seq": e.seq,
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "object": f"{e.object_type}:{e.object_id}",
                        "payload": e.payload,
                        "hash": e.hash,
                    },
                    ensure_ascii=False,
                )
            )
        return
    table = Table(
        "seq", "at (UTC)", "actor", "action", "object", "details", title=f"case {case_id}"
    )
    for e in events:
        table.add_row(
            str(e.seq),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            f"{e.object_type}:{e.object_id}",
            escape(json.dumps(e.payload, ensure_ascii=False)),
        )
    console.print(table)
