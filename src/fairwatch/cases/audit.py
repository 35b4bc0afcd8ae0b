"""The audit trail: an append-only, hash-chained log of every change.

Entry ``n`` stores ``hash_n = SHA-256(hash_{n-1} || canonical JSON of its fields)``
with ``hash_0`` a fixed genesis value, and ``seq`` numbers without gaps. The single
``audit_head`` row holds the last ``seq`` and hash; appending locks it (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite serialises writers anyway), so concurrent transactions
chain in commit order and a rolled-back change leaves no entry.

:func:`verify` recomputes the chain: an edited entry breaks its own hash, a deleted one
leaves a gap (or a head pointing past the end), a reordered one breaks the links. Each
problem names the entry's ``seq``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairwatch.cases.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes an entry's hash covers (sorted keys, no whitespace, UTF-8)."""
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(fields)).hexdigest()


def _fields(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": _utc(at).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "payload": payload,
    }


def _utc(at: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; they were stored as UTC
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def append(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: Any,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (committed with the change it records)."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        # the first append of a store: racing first appends both insert the head, so
        # insert it in a savepoint and, when another transaction's insert won, lock theirs
        try:
            with session.begin_nested():
                session.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS))
        except IntegrityError:
            pass
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one()
    at = dt.datetime.now(dt.UTC)
    body = json.loads(json.dumps(payload or {}, default=str))  # what JSON storage returns
    seq = head.last_seq + 1
    fields = _fields(seq, at, actor, action, object_type, str(object_id), body)
    digest = entry_hash(head.last_hash, fields)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=body,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(event)
    head.last_seq, head.last_hash = seq, digest
    session.flush()
    return event


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.message}"


def verify(session: Session, batch: int = 5000) -> list[Problem]:
    """Every break in the chain, first to last (empty: the log is intact)."""
    problems: list[Problem] = []
    prev_hash, expected = GENESIS, 1
    for event in _events(session, batch):
        if event.seq != expected:
            missing = f"{expected}" if event.seq == expected + 1 else f"{expected}..{event.seq - 1}"
            problems.append(Problem(expected, f"missing (deleted?): entries {missing} are absent"))
        if event.prev_hash != prev_hash:
            problems.append(
                Problem(event.seq, "does not link to the entry before it (reordered or deleted)")
            )
        fields = _fields(
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.object_type,
            event.object_id,
            event.payload,
        )
        if entry_hash(event.prev_hash, fields) != event.hash:
            problems.append(Problem(event.seq, "its content does not match its hash (edited)"))
        prev_hash, expected = event.hash, event.seq + 1
    head = session.get(AuditHead, 1)
    last = expected - 1
    if head is not None and (head.last_seq != last or (last and head.last_hash != prev_hash)):
        problems.append(
            Problem(
                max(last + 1, 1),
                f"the head records entry {head.last_seq} but the log ends "
                f"at {last} (the last entries were deleted or edited)",
            )
        )
    return problems


def _events(session: Session, batch: int) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def timeline(session: Session, object_type: str, object_ids: list[str]) -> list[AuditEvent]:
    """The events of some objects, in order (a case's timeline gathers its related ids)."""
    return list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(object_ids))
            .order_by(AuditEvent.seq)
        ).scalars()
    )
