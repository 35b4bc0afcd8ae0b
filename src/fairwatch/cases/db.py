"""Opening the case store: engine, migrations, sessions.

The store is a database URL: a SQLite file by default (``sqlite:///fairwatch-cases.db``,
embedded, nothing to run), PostgreSQL in production
(``postgresql+psycopg://user@host/db``). :func:`open_store` brings the schema to the
latest Alembic revision before use, so an old store is migrated in place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///fairwatch-cases.db"
ENV_URL = "FAIRWATCH_DB_URL"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``$FAIRWATCH_DB_URL``, else the SQLite default."""
    return url or os.environ.get(ENV_URL) or DEFAULT_URL


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass
class Store:
    """An opened case store: its engine, a session factory and the evidence folder."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    evidence_dir: Path

    read_sessions: sessionmaker[Session] | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only (on SQLite it does not take the write lock)."""
        with (self.read_sessions or self.sessions).begin() as session:
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_sessions is not None and self.read_sessions.kw["bind"] is not self.engine:
            self.read_sessions.kw["bind"].dispose()


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """An engine for ``url``; on SQLite, writers take the write lock at BEGIN and
    ``readonly`` engines use a deferred BEGIN (WAL lets them read while a writer works)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # SQLAlchemy's BEGIN below is the only one (pysqlite's implicit BEGIN off)
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an accepted change survives a crash
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # take the write lock at BEGIN so concurrent writers queue instead of failing
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=40, hide_parameters=True
    )


def migrate(engine: Engine, url: str) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_store(url: str | None = None, evidence_dir: Path | None = None) -> Store:
    """Open (and migrate) the case store at ``url``; see :func:`database_url`."""
    url = database_url(url)
    engine = make_engine(url)
    migrate(engine, url)
    if evidence_dir is None:
        base = (
            Path(url.removeprefix("sqlite:///")).parent
            if url.startswith("sqlite:///")
            else Path(".")
        )
        evidence_dir = base / "fairwatch-evidence"
    reader = make_engine(url, readonly=True) if url.startswith("sqlite") else engine
    return Store(
        url,
        engine,
        sessionmaker(engine, expire_on_commit=False),
        evidence_dir,
        sessionmaker(reader, expire_on_commit=False),
    )
