"""Tampering with the audit log in the database is caught by ``fairwatch audit verify``.

Each test writes a short log through the service, changes the ``audit_log`` table
behind the service's back (plain SQL, as someone with database access could), and runs
the command line: it must exit 1 and name the entry (``audit entry <seq>``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from fairwatch.cases import audit
from fairwatch.cases.db import Store
from fairwatch.cases.models import AuditEvent
from fairwatch.cases.service import Actor, CaseService
from fairwatch.cli.main import app

runner = CliRunner()
COMPLAINTS = 4
#: the log as plain SQL sees it (typed columns, so values round-trip on both databases)
AUDIT_LOG = sa.table(
    "audit_log",
    sa.column("seq"),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor"),
    sa.column("action"),
    sa.column("object_type"),
    sa.column("object_id"),
    sa.column("payload", sa.JSON),
    sa.column("prev_hash"),
    sa.column("hash"),
)
#: an entry's content: every column but its position
CONTENT = [c.name for c in AUDIT_LOG.columns if c.name != "seq"]


@pytest.fixture
def log(service: CaseService, actors: dict[str, Actor]) -> int:
    """A log of a few entries (the users' creation, complaints); its length."""
    for i in range(COMPLAINTS):
        service.file_complaint(actors["public"], f"tok-{i:04d}", "pricing", f"complaint {i}")
    with service.store.session() as s:
        assert audit.verify(s) == []
        return int(s.execute(sa.select(sa.func.max(AuditEvent.seq))).scalar_one())


def verify_cli(store: Store) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--db", store.url])
    return result.exit_code, " ".join(result.output.split())


def tamper(store: Store, change: Callable[[Connection], Any]) -> None:
    with store.engine.begin() as conn:
        change(conn)


def test_intact_log_exits_0(store: Store, log: int) -> None:
    code, out = verify_cli(store)
    assert code == 0, out
    assert f"audit log intact: {log} entries" in out


def test_edited_payload_is_named(store: Store, log: int) -> None:
    seq = log - 2
    tamper(
        store,
        lambda c: c.execute(
            sa.text("UPDATE audit_log SET payload = :p WHERE seq = :s").bindparams(
                sa.bindparam("p", type_=sa.JSON)
            ),
            {"p": {"category": "nothing to see"}, "s": seq},
        ),
    )
    code, out = verify_cli(store)
    assert code == 1, out
    assert f"audit entry {seq}: its content does not match its hash (edited)" in out
    assert out.count("audit entry") == 1, out  # the links still hold: only the edit shows


def test_edited_actor_is_named(store: Store, log: int) -> None:
    seq = 2
    tamper(
        store,
        lambda c: c.execute(sa.text(f"UPDATE audit_log SET actor = 'mallory' WHERE seq = {seq}")),
    )
    code, out = verify_cli(store)
    assert code == 1, out
    assert f"audit entry {seq}: its content does not match its hash (edited)" in out


def test_deleted_middle_entry_is_reported_missing(store: Store, log: int) -> None:
    seq = log // 2
    tamper(store, lambda c: c.execute(sa.text(f"DELETE FROM audit_log WHERE seq = {seq}")))
    code, out = verify_cli(store)
    assert code == 1, out
    assert f"audit entry {seq}: missing (deleted?)" in out
    assert f"audit entry {seq + 1}: does not link to the entry before it" in out


def test_deleted_last_entry_is_reported_by_the_head(store: Store, log: int) -> None:
    tamper(store, lambda c: c.execute(sa.text(f"DELETE FROM audit_log WHERE seq = {log}")))
    code, out = verify_cli(store)
    assert code == 1, out
    assert f"audit entry {log}: the head records entry {log} but the log ends at {log - 1}" in out


def test_swapped_entries_are_reported(store: Store, log: int) -> None:
    a, b = 3, 4

    def swap(conn: Connection) -> None:
        t = AUDIT_LOG
        rows = {r.seq: r for r in conn.execute(sa.select(t).where(t.c.seq.in_((a, b))))}
        for here, there in ((a, b), (b, a)):
            conn.execute(
                sa.update(t)
                .where(t.c.seq == here)
                .values({c: getattr(rows[there], c) for c in CONTENT})
            )

    tamper(store, swap)
    code, out = verify_cli(store)
    assert code == 1, out
    assert f"audit entry {a}: does not link to the entry before it" in out
    assert f"audit entry {b}: does not link to the entry before it" in out
    assert f"audit entry {b + 1}: does not link to the entry before it" in out


def test_empty_store_verifies(store: Store) -> None:
    """A store nobody wrote to yet (no entry, no head) is intact."""
    code, out = verify_cli(store)
    assert code == 0, out
    assert "audit log intact: 0 entries" in out
