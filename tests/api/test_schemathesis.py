"""Schemathesis over the OpenAPI document, signed in as each role (and anonymously).

For every operation, Hypothesis generates requests from the document: valid ones with
random ids, valid ones aimed at the objects of a prepared store (cases in every state,
so decisions, rectification and review run for real), and invalid ones. Every response
must not be a server error, must have a documented status code and must match its
documented schema. The budget is small (``MAX_EXAMPLES`` per operation and caller).

On PostgreSQL (when reachable) the same runs for the roles that change things, with a
smaller budget: it is the database that refuses what SQLite lets through (overlong
strings, NUL characters, out-of-range integers).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (  # type: ignore[attr-defined]
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from fairwatch.cases.auth import create_user
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.service import ROLES, Actor
from tests.api.conftest import PASSWORD, World, build_world, make_app

#: examples per operation and caller; FAIRWATCH_FUZZ_EXAMPLES=200 for a deep (and, unlike
#: the default run, randomised) run
MAX_EXAMPLES = int(os.environ.get("FAIRWATCH_FUZZ_EXAMPLES", "8"))
DERANDOMIZE = "FAIRWATCH_FUZZ_EXAMPLES" not in os.environ
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def prepare(world: World) -> dict[str, int]:
    """Objects in every state for the fuzzer to aim at; returns ids by path parameter."""
    svc, uid = world.service, world.user_ids
    analyst = Actor(uid["analyst"], "analyst", "analyst")
    officer = Actor(uid["case_officer"], "case_officer", "case_officer", "ZJAMR")
    supervisor = Actor(uid["supervisor"], "supervisor", "supervisor", "ZJAMR")
    cases = []
    for alert_id in world.alerts[:3]:
        lead = svc.triage(analyst, alert_id, "lead")
        svc.verify_lead(officer, lead.id, "checked")
        case = svc.propose_case(officer, lead.id)
        svc.approve_case(supervisor, case.id)
        cases.append(case.id)
    svc.propose_decision(officer, cases[1], kind="warning")
    svc.approve_decision(supervisor, cases[1])
    svc.order_rectification(officer, cases[1], "stop it")
    svc.propose_decision(officer, cases[2], kind="warning")
    task = svc.add_task(officer, cases[0], "look into it")
    evidence = svc.add_evidence(officer, cases[0], b"evidence", "e.txt", "text/plain")
    from fairwatch.api.webhooks import register

    hook, _ = register(world.store, supervisor, "https://receiver.test/h", [])
    svc.file_complaint(analyst, "anon-1234", "pricing", "charged more")
    create_user(world.store, "fuzzer", PASSWORD, "public")
    return {
        "alert_id": world.alerts[3],
        "lead_id": 1,
        "case_id": cases[0],
        "task_id": task.id,
        "evidence_id": evidence.id,
        "webhook_id": hook.id,
        "entity_id": 0,  # placeholder: entity ids are strings
    }


def _fuzz_world(store: Store, lake: Path) -> tuple[World, dict[str, int]]:
    lake.mkdir(exist_ok=True)
    world = build_world(store, lake)
    return world, prepare(world)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict]]:
    base = tmp_path_factory.mktemp("fuzz")
    store = open_store(f"sqlite:///{base / 'cases.db'}", base / "evidence")
    try:
        yield _fuzz_world(store, base / "lake")
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def pg_world(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict]]:
    base = tmp_path_factory.mktemp("fuzz-pg")
    store = open_store(pg_url, base / "evidence")
    with store.engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    try:
        yield _fuzz_world(store, base / "lake")
    finally:
        store.dispose()


def fuzz(world: World, targets: dict[str, int], caller: str, max_examples: int) -> None:
    app = make_app(world)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {} if caller == "anonymous" else world.auth(caller)
    failures: list[str] = []
    started = time.perf_counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        names = re.findall(r"\{(\w+)\}", operation.path)
        aimed = {n: targets[n] for n in names if n != "entity_id"}
        if "entity_id" in names:
            aimed["entity_id"] = "p0"  # type: ignore[assignment]
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
            operation.as_strategy(
                GenerationMode.POSITIVE, headers=headers, path_parameters=aimed or None
            ),
            operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
        )

        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=DERANDOMIZE,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # collect every operation's failures, report them all
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:3000]}")
    elapsed = time.perf_counter() - started
    assert not failures, f"{len(failures)} operation(s) failed as {caller}:\n\n" + "\n\n".join(
        failures
    )
    assert elapsed < 60 * max(1, max_examples / 8), f"fuzzing as {caller} took {elapsed:.0f} s"


@pytest.mark.parametrize("caller", [*ROLES, "anonymous"])
def test_openapi_conformance(sqlite_world: tuple[World, dict[str, int]], caller: str) -> None:
    fuzz(*sqlite_world, caller, MAX_EXAMPLES)


@pytest.mark.parametrize("caller", ["case_officer", "supervisor", "platform", "public"])
def test_openapi_conformance_postgresql(
    pg_world: tuple[World, dict[str, int]], caller: str
) -> None:
    fuzz(*pg_world, caller, MAX_EXAMPLES // 2)
