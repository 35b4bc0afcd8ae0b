"""``fairwatch serve``: run the HTTP API (FastAPI on uvicorn) over a case store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from fairwatch.errors import FairwatchError

SECRET_ENV = "FAIRWATCH_SESSION_SECRET"


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8000,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Case store URL (default: $FAIRWATCH_DB_URL or sqlite:///fairwatch-cases.db); "
            "e.g. postgresql+psycopg://user@host/cases.",
        ),
    ] = None,
    lake: Annotated[
        Path | None,
        typer.Option(
            "--lake",
            help="Managed lake that platform batches are appended to and case reviews scan "
            "(without it, those routes answer 409).",
        ),
    ] = None,
    evidence_dir: Annotated[
        Path | None,
        typer.Option("--evidence", help="Evidence folder (default: next to a SQLite store)."),
    ] = None,
    webhook_interval: Annotated[
        float,
        typer.Option(
            "--webhook-interval", help="Seconds between webhook delivery passes (0: none)."
        ),
    ] = 5.0,
) -> None:
    """Run the HTTP API: alerts, leads, cases, disclosures, complaints, platform batches.

    Opens (and migrates) the case store, loads the bureaus and jurisdiction table, and
    serves the API with its OpenAPI document at /docs and /openapi.json. Browser
    sessions are signed with $FAIRWATCH_SESSION_SECRET (at least 16 characters; without
    it a random secret is used and sessions end when the server stops; several servers
    behind one proxy must share it). Create users and API tokens with ``fairwatch users``.

    Example: fairwatch serve --db postgresql+psycopg://postgres@127.0.0.1/cases --lake lake/
    """
    import uvicorn

    from fairwatch.api import create_app
    from fairwatch.cases.db import open_store
    from fairwatch.cases.service import CaseService

    secret = os.environ.get(SECRET_ENV)
    if secret is not None and len(secret) < 16:
        _fail(f"${SECRET_ENV} must have at least 16 characters")
    if lake is not None and lake.exists() and not lake.is_dir():
        _fail(f"--lake {lake}: not a folder")
    try:
        store = open_store(db_url, evidence_dir)
        service = CaseService(store)
        service.seed()
    except FairwatchError as exc:
        _fail(str(exc))
    except Exception as exc:  # an unreachable database, a bad URL
        _fail(f"cannot open the case store: {type(exc).__name__}: {exc}")
    app = create_app(
        store,
        service,
        lake_dir=lake,
        session_secret=secret,
        webhook_interval=webhook_interval or None,
    )
    Console(stderr=True, highlight=False).print(
        f"fairwatch API on http://{host}:{port}  (store: {store.dialect}, "
        f"lake: {escape(str(lake)) if lake else 'none'})  docs: /docs"
    )
    try:
        # no access log: client addresses are personal data
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        store.dispose()
