"""Case-store fixtures: every test runs on SQLite and on PostgreSQL.

``store`` is parametrized over both databases: a SQLite file in ``tmp_path``, and a
fresh PostgreSQL database per test (created on the server at 127.0.0.1:5432 and dropped
afterwards, ``WITH (FORCE)``). Where no PostgreSQL is reachable its parameters skip with
the reason. Users of each role are made through :func:`fairwatch.cases.auth.create_user`
and :func:`~fairwatch.cases.auth.authenticate`, as a deployment makes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from fairwatch.cases import auth
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.service import ROLES, Actor, CaseService
from tests.pg import fresh_database, postgres_unavailable

DATABASES = ("sqlite", "postgresql")
#: the day the service's clock starts on (a Monday)
START = dt.date(2025, 6, 2)
PASSWORD = "test-password-1"
#: the bureau of the default officer and supervisor
BUREAU = "ZJAMR"
#: the platform the default platform account speaks for
PLATFORM = "P01"


def finding(n: int | str, **fields: Any) -> dict[str, Any]:
    """A finding as ``fairwatch scan`` reports it (FW101 on one SKU by default)."""
    return {
        "finding_id": f"f-{n}",
        "rule": "FW101",
        "family": "pricing.personalized_discrimination",
        "subject_type": "sku",
        "subject_id": "S0001",
        "platform_id": "P01",
        "period_start": "2025-05-01",
        "period_end": "2025-05-10",
        "severity": "medium",
        "score": 0.5,
        "legal_basis": ["cn.pipl.art24"],
        **fields,
    }


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """The database kind a test runs on (``sqlite`` or ``postgresql``)."""
    if request.param == "postgresql" and (reason := postgres_unavailable()) is not None:
        pytest.skip(reason)
    return str(request.param)


@pytest.fixture
def db_url(database: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if database == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.db'}"
        return
    with fresh_database("fw") as url:
        yield url


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    """An opened (migrated) case store; disposed before its database is dropped."""
    opened = open_store(db_url, evidence_dir=tmp_path / "evidence")
    try:
        yield opened
    finally:
        opened.dispose()


@dataclass
class Clock:
    """The service's ``today``: a date the test sets and advances."""

    day: dt.date = START

    def __call__(self) -> dt.date:
        return self.day

    def advance(self, days: int = 1) -> dt.date:
        self.day += dt.timedelta(days=days)
        return self.day


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(store: Store, clock: Clock) -> CaseService:
    """A service over ``store`` with bureaus and jurisdiction rules loaded."""
    svc = CaseService(store, today=clock)
    svc.seed()
    return svc


class MakeActor(Protocol):
    def __call__(
        self,
        username: str,
        role: str,
        *,
        bureau_id: str | None = None,
        platform_ids: list[str] | None = None,
    ) -> Actor: ...


@pytest.fixture
def make_actor(service: CaseService) -> MakeActor:
    """Create a user (``create_user``) and log in as it (``authenticate``)."""

    def make(
        username: str,
        role: str,
        *,
        bureau_id: str | None = None,
        platform_ids: list[str] | None = None,
    ) -> Actor:
        auth.create_user(
            service.store,
            username,
            PASSWORD,
            role,
            bureau_id=bureau_id,
            platform_ids=platform_ids,
        )
        return auth.authenticate(service.store, username, PASSWORD)

    return make


@pytest.fixture
def actors(make_actor: MakeActor) -> dict[str, Actor]:
    """One user of each role: officer and supervisor in ZJAMR, a platform account of P01."""
    made = {
        "analyst": make_actor("ana", "analyst"),
        "case_officer": make_actor("olly", "case_officer", bureau_id=BUREAU),
        "supervisor": make_actor("sue", "supervisor", bureau_id=BUREAU),
        "platform": make_actor("plat", "platform", platform_ids=[PLATFORM]),
        "public": make_actor("pub", "public"),
    }
    assert set(made) == set(ROLES)
    return made
