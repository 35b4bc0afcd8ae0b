"""PostgreSQL for the storage tests: is a server reachable, and a throw-away database.

The tests talk to the server this machine runs at 127.0.0.1:5432 (trust auth). Where
none is reachable, PostgreSQL-parametrised tests skip with the reason.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

PG_HOST = "127.0.0.1:5432"
PG_SERVER = f"postgresql+psycopg://postgres@{PG_HOST}"
PG_ADMIN = f"{PG_SERVER}/postgres"


@functools.cache
def postgres_unavailable() -> str | None:
    """Why no PostgreSQL test database can be made, or None when one can."""
    engine = sa.create_engine(
        PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # whatever stops the connection: skip, saying why
        text = str(exc).strip()
        return f"no PostgreSQL at {PG_HOST}: {text.splitlines()[0] if text else repr(exc)}"
    finally:
        engine.dispose()
    return None


@contextmanager
def fresh_database(prefix: str = "fw_test") -> Iterator[str]:
    """A new, empty database (its URL), dropped afterwards even if still in use."""
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
