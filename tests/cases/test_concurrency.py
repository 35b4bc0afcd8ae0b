"""Racing calls on PostgreSQL: one lead per alert, no lost assignment, an intact chain.

Fifty threads (one pooled connection each: the store's pool holds 10 + 40) wait at a
barrier and call the service at once. Every call either succeeds or gets a
:class:`ConflictError`; the audit log records every success, in the order the database
serialised them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from fairwatch.cases import audit
from fairwatch.cases.db import Store
from fairwatch.cases.models import Alert, AuditEvent, Lead
from fairwatch.cases.service import Actor, CaseService, ConflictError
from tests.cases.conftest import finding

THREADS = 50
ALERTS = 3


@pytest.fixture(autouse=True)
def _postgresql_only(database: str) -> None:
    if database == "sqlite":
        pytest.skip(
            "row-lock races are a PostgreSQL matter: SQLite serialises every write "
            "transaction (BEGIN IMMEDIATE), so its calls cannot interleave"
        )


@pytest.fixture
def staff(service: CaseService, actors: dict[str, Actor]) -> list[int]:
    """Ids of users the races assign work to."""
    ids = [a.user_id for a in actors.values() if a.role in ("analyst", "case_officer")]
    return [i for i in ids if i is not None]


def race(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run the calls at once, each in its own thread: ("ok", result) or ("error", exc)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> tuple[str, Any]:
        barrier.wait(timeout=30)
        try:
            return "ok", call()
        except Exception as exc:  # collected: the test checks every failure's type
            return "error", exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def new_alerts(service: CaseService, analyst: Actor, tag: str, n: int = ALERTS) -> list[int]:
    fed = service.ingest_findings(
        analyst, [finding(f"{tag}{i}", subject_id=f"{tag}{i}") for i in range(n)], f"run-{tag}"
    )
    assert len(fed.created) == n
    return fed.created


def only_conflicts(results: list[tuple[str, Any]]) -> None:
    errors = [r for kind, r in results if kind == "error"]
    assert all(type(e) is ConflictError for e in errors), [repr(e) for e in errors]


def events(service: CaseService, action: str, object_id: int | None = None) -> list[AuditEvent]:
    with service.store.session() as s:
        q = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        if object_id is not None:
            q = q.where(AuditEvent.object_id == str(object_id))
        return list(s.execute(q).scalars())


def chain_intact(service: CaseService) -> None:
    with service.store.session() as s:
        assert audit.verify(s) == []


def test_racing_triage_makes_one_lead_per_alert(
    service: CaseService, actors: dict[str, Actor]
) -> None:
    analyst, supervisor = actors["analyst"], actors["supervisor"]
    alerts = new_alerts(service, analyst, "T")
    callers = (analyst, supervisor)
    results = race(
        [
            partial(service.triage, callers[i % 2], alerts[i % ALERTS], "lead")
            for i in range(THREADS)
        ]
    )
    only_conflicts(results)
    leads = [r for kind, r in results if kind == "ok"]
    assert sorted(lead.alert_id for lead in leads) == sorted(alerts)
    with service.store.session() as s:
        stored = s.execute(select(Lead.alert_id)).scalars().all()
        statuses = s.execute(select(Alert.status).where(Alert.id.in_(alerts))).scalars().all()
    assert sorted(stored) == sorted(alerts)
    assert statuses == ["lead"] * ALERTS
    assert len(events(service, "lead.created")) == ALERTS
    assert len(events(service, "alert.triaged")) == ALERTS
    chain_intact(service)


@pytest.mark.parametrize("kind", ["alert", "lead"])
def test_racing_assignments_lose_no_update(
    service: CaseService, actors: dict[str, Actor], staff: list[int], kind: str
) -> None:
    analyst = actors["analyst"]
    (alert_id,) = new_alerts(service, analyst, "A", 1)
    target = alert_id
    if kind == "lead":
        lead = service.triage(analyst, alert_id, "lead")
        assert isinstance(lead, Lead)
        target = lead.id
    results = race(
        [
            partial(service.assign, analyst, kind, target, staff[i % len(staff)])
            for i in range(THREADS)
        ]
    )
    only_conflicts(results)
    successes = [r for k, r in results if k == "ok"]
    assert successes, "every assignment failed"
    logged = events(service, f"{kind}.assigned", target)
    assert len(logged) == len(successes)  # every success is in the log, nothing else
    # serialised: each assignment saw the one before it (no update was lost)
    previous = [None] + [e.payload["to"] for e in logged[:-1]]
    assert [e.payload["from"] for e in logged] == previous
    with service.store.session() as s:
        row = s.get(Alert, target) if kind == "alert" else s.get(Lead, target)
        assert row is not None and row.assignee_id == logged[-1].payload["to"]
        changes = sum(e.payload["from"] != e.payload["to"] for e in logged)
        assert row.version == 1 + changes  # a new version per real change
    chain_intact(service)


def test_racing_triage_and_assignment_on_the_same_alerts(
    service: CaseService, actors: dict[str, Actor], staff: list[int]
) -> None:
    analyst = actors["analyst"]
    alerts = new_alerts(service, analyst, "M")
    calls: list[Callable[[], Any]] = []
    for i in range(THREADS):
        alert_id = alerts[i % ALERTS]
        if i % 2:
            calls.append(partial(service.triage, analyst, alert_id, "lead"))
        else:
            user = staff[i % len(staff)]
            calls.append(partial(service.assign, analyst, "alert", alert_id, user))
    results = race(calls)
    only_conflicts(results)
    with service.store.session() as s:
        leads = {lead.alert_id: lead for lead in s.execute(select(Lead)).scalars()}
    assert sorted(leads) == sorted(alerts)
    assert len(events(service, "lead.created")) == ALERTS
    assigned = [r for k, r in results if k == "ok" and isinstance(r, Alert)]
    for alert_id in alerts:
        logged = events(service, "alert.assigned", alert_id)
        assert len(logged) == sum(1 for a in assigned if a.id == alert_id)
        previous = [None] + [e.payload["to"] for e in logged[:-1]]
        assert [e.payload["from"] for e in logged] == previous
        # the lead took the alert's assignee as it was when the lead was made
        (made,) = events(service, "lead.created", leads[alert_id].id)
        before = [e.payload["to"] for e in logged if e.seq < made.seq]
        assert leads[alert_id].assignee_id == (before[-1] if before else None)
        with service.store.session() as s:
            alert = s.get(Alert, alert_id)
            assert alert is not None
            assert alert.assignee_id == (logged[-1].payload["to"] if logged else None)
    chain_intact(service)


def test_racing_first_appends_on_a_fresh_store(store: Store) -> None:
    """The very first audit entries of a store: all calls succeed (no head row yet)."""
    service = CaseService(store)
    analyst = Actor.system("analyst")
    results = race(
        [
            partial(service.file_complaint, analyst, f"tok-{i:04d}", "pricing", "text")
            for i in range(THREADS)
        ]
    )
    assert [kind for kind, _ in results] == ["ok"] * THREADS, [r for k, r in results if k != "ok"]
    assert len(events(service, "complaint.filed")) == THREADS
    chain_intact(service)
