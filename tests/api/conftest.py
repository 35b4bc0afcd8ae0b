"""Fixtures for the API tests: a case store (SQLite; PostgreSQL when one is reachable),
users of every role with API tokens, a few alerts, and the app with a test client.

PostgreSQL: a fresh database ``fw_test_<random>`` on 127.0.0.1:5432 per test session
(dropped at the end), emptied before each test; tests parametrised over ``backend``
skip the PostgreSQL case with the reason when no server answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from fairwatch.api import create_app
from fairwatch.cases.auth import create_user, issue_token
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.service import ROLES, Actor, CaseService
from tests.pg import fresh_database, postgres_unavailable

TODAY = dt.date(2025, 6, 2)  # a Monday
PASSWORD = "correct horse battery"
BUREAU = "ZJAMR"  # where alerts in region 330000 are routed


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (skips when none is reachable)."""
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    with fresh_database() as url:
        yield url


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The case store's database (modules can override this fixture to pin one)."""
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        opened = open_store(url, tmp_path / "evidence")
        with opened.engine.begin() as conn:
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        opened = open_store(f"sqlite:///{tmp_path / 'cases.db'}", tmp_path / "evidence")
    try:
        yield opened
    finally:
        opened.dispose()


@dataclass
class World:
    """A seeded store with one user (and token) per role and some open alerts."""

    store: Store
    service: CaseService
    lake: Path
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    alerts: list[int] = field(default_factory=list)

    def auth(self, user: str) -> dict[str, str]:
        """Headers signing in as ``user`` (a role name, or ``platform2``)."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def finding(n: int, platform: str = "p0", rule: str = "FW101", **extra: Any) -> dict[str, Any]:
    return {
        "finding_id": f"f{n}",
        "rule": rule,
        "family": "pricing.personalized_discrimination",
        "subject_type": "sku",
        "subject_id": f"s{n}",
        "platform_id": platform,
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "severity": "high",
        "score": 0.5 + n / 100,
        "legal_basis": ["cn.pipl.art24"],
        **extra,
    }


#: (user, role, bureau, platforms)
USERS = [
    ("analyst", "analyst", BUREAU, None),
    ("case_officer", "case_officer", BUREAU, None),
    ("supervisor", "supervisor", BUREAU, None),
    ("platform", "platform", None, ["p0", "p1"]),
    ("platform2", "platform", None, ["p9"]),
    ("public", "public", None, None),
]


def build_world(store: Store, lake: Path) -> World:
    """Seed ``store``: reference data, one user and token per role, four open alerts."""
    service = CaseService(store, today=lambda: TODAY)
    service.seed()
    w = World(store, service, lake)
    for username, role, bureau, platforms in USERS:
        user = create_user(
            store, username, PASSWORD, role, bureau_id=bureau, platform_ids=platforms
        )
        w.user_ids[username] = user.id
        w.tokens[username] = issue_token(store, user.id, label="tests")
    assert set(ROLES) <= set(w.tokens)
    result = service.ingest_findings(
        Actor.system("analyst"),
        [finding(1), finding(2, "p1"), finding(3), finding(4, "p9")],
        run_id="run-1",
    )
    w.alerts = result.created
    return w


@pytest.fixture
def world(store: Store, tmp_path: Path) -> World:
    return build_world(store, tmp_path / "lake")


def make_app(world: World) -> FastAPI:
    return create_app(
        world.store,
        world.service,
        lake_dir=world.lake,
        session_secret="test-session-secret-0123456789",
        webhook_interval=None,
    )


@pytest.fixture
def app(world: World) -> FastAPI:
    return make_app(world)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
