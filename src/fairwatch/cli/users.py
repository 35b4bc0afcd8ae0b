"""``fairwatch users``: accounts of the case store and their API tokens."""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from fairwatch.errors import FairwatchError

users_app = typer.Typer(
    help="Accounts (analysts, officers, supervisors, platforms, public) and API tokens.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Case store URL (default: $FAIRWATCH_DB_URL or sqlite:///fairwatch-cases.db).",
    ),
]


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("--password-stdin: no password on standard input")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name (not a person's full name).")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="analyst, case_officer, supervisor, platform or public.",
            show_default=False,
        ),
    ],
    bureau: Annotated[
        str | None,
        typer.Option("--bureau", help="The bureau the account works for, e.g. ZJAMR."),
    ] = None,
    platforms: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            help="A platform the account speaks for (repeat; required for role platform).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input (else prompt)."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Create an account; the password (10+ characters) is stored as an argon2id hash.

    The password is never a command-line argument: it is prompted for, or read from
    standard input with --password-stdin.

    Example: fairwatch users add acme --role platform --platform P01 --password-stdin < pw.txt
    """
    from fairwatch.cases.auth import create_user
    from fairwatch.cases.db import open_store
    from fairwatch.cases.models import Bureau
    from fairwatch.cases.service import CaseService

    password = _read_password(password_stdin)
    store = open_store(db)
    try:
        CaseService(store).seed()
        if bureau is not None:
            with store.session() as s:
                if s.get(Bureau, bureau) is None:
                    _fail(f"no bureau {bureau!r} (see the jurisdiction table)")
        user = create_user(
            store, username, password, role, bureau_id=bureau, platform_ids=platforms or None
        )
    except FairwatchError as exc:
        _fail(str(exc))
    finally:
        store.dispose()
    Console(highlight=False).print(f"created user {escape(username)} (id {user.id}, {role})")


@users_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="The account to issue a token for.")],
    label: Annotated[
        str, typer.Option("--label", help="What the token is for, e.g. 'nightly upload'.")
    ] = "",
    db: DbOption = None,
) -> None:
    """Issue a new API token and print it once (only its hash is stored).

    Use it as ``Authorization: Bearer <token>``.

    Example: fairwatch users token acme-compliance --label "nightly upload"
    """
    from sqlalchemy import select

    from fairwatch.cases.auth import issue_token
    from fairwatch.cases.db import open_store
    from fairwatch.cases.models import User

    store = open_store(db)
    try:
        with store.session() as s:
            user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None or not user.active:
                _fail(f"no active user {username!r}")
            user_id = user.id
        secret = issue_token(store, user_id, label=label[:100])
    finally:
        store.dispose()
    typer.echo(secret)
