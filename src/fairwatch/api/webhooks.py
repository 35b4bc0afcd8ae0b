"""Webhooks: subscriptions to status changes, and delivery of the service's outbox.

The service writes an :class:`~fairwatch.cases.models.Outbox` row in the same
transaction as each status change (lead created, case opened, decision approved...).
:func:`deliver_outbox` posts each undelivered row to every active webhook subscribed to
its event, as JSON::

    {"id": 17, "event": "case.opened", "payload": {...}, "created_at": "..."}

with headers ``X-Fairwatch-Event``, ``X-Fairwatch-Delivery`` (the outbox id, for
de-duplication), ``X-Fairwatch-Timestamp`` (unix seconds) and ``X-Fairwatch-Signature:
sha256=<hex>``, the HMAC-SHA256 under the webhook's secret of ``<timestamp>.<body>``
(:func:`sign`, :func:`verify_signature`). A row is marked delivered when every target
answered 2xx; otherwise its attempt counter goes up and it is retried on the next pass,
up to ``max_attempts``. Delivery is at least once: a receiver de-duplicates on the
delivery id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from fairwatch.cases import audit
from fairwatch.cases.db import Store
from fairwatch.cases.models import Outbox, Webhook
from fairwatch.cases.service import Actor, NotFoundError, require

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Fairwatch-Signature"
TIMESTAMP_HEADER = "X-Fairwatch-Timestamp"
EVENT_HEADER = "X-Fairwatch-Event"
DELIVERY_HEADER = "X-Fairwatch-Delivery"
MAX_ATTEMPTS = 10


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a delivery."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, tolerance: int | None = 300
) -> bool:
    """Check a delivery as a receiver would (constant-time; optionally not too old)."""
    if tolerance is not None:
        try:
            if abs(time.time() - int(timestamp)) > tolerance:
                return False
        except ValueError:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# ---------------------------------------------------------------------- subscriptions


def register(store: Store, actor: Actor, url: str, events: list[str]) -> tuple[Webhook, str]:
    """A new webhook and its secret (returned once)."""
    require(actor, "manage_webhooks")
    secret = secrets.token_urlsafe(32)
    with store.session() as s:
        hook = Webhook(url=url, events=sorted(set(events)), secret=secret, active=True)
        s.add(hook)
        s.flush()
        audit.append(
            s, actor.label, "webhook.registered", "webhook", hook.id, {"events": hook.events}
        )
        return hook, secret


def webhooks(store: Store, actor: Actor) -> list[Webhook]:
    require(actor, "manage_webhooks")
    with store.session() as s:
        return list(s.execute(select(Webhook).order_by(Webhook.id)).scalars())


def deactivate(store: Store, actor: Actor, webhook_id: int) -> Webhook:
    require(actor, "manage_webhooks")
    with store.session() as s:
        hook = s.get(Webhook, webhook_id)
        if hook is None:
            raise NotFoundError(f"no webhook {webhook_id}")
        if hook.active:
            hook.active = False
            audit.append(s, actor.label, "webhook.deactivated", "webhook", webhook_id, {})
        return hook


# ---------------------------------------------------------------------- delivery


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    id: int
    url: str
    events: tuple[str, ...]
    secret: str


def deliver_outbox(
    store: Store, client: httpx.Client, *, limit: int = 100, max_attempts: int = MAX_ATTEMPTS
) -> DeliveryReport:
    """Post pending outbox events to their webhooks (one pass; see the module doc)."""
    report = DeliveryReport()
    with store.session() as s:
        targets = [
            _Target(h.id, h.url, tuple(h.events or ()), h.secret)
            for h in s.execute(select(Webhook).where(Webhook.active.is_(True))).scalars()
        ]
        pending = [
            (o.id, o.event, o.payload, o.created_at)
            for o in s.execute(
                select(Outbox)
                .where(Outbox.delivered.is_(False), Outbox.attempts < max_attempts)
                .order_by(Outbox.id)
                .limit(limit)
            ).scalars()
        ]
    for outbox_id, event, payload, created_at in pending:
        body = json.dumps(
            {
                "id": outbox_id,
                "event": event,
                "payload": payload,
                "created_at": _utc(created_at).isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        ok = True
        for target in targets:
            if target.events and event not in target.events:
                continue
            ok = _post(client, target, event, outbox_id, body) and ok
        with store.session() as s:
            row = s.get(Outbox, outbox_id)
            if row is None:
                continue
            if ok:
                row.delivered = True
                report.delivered.append(outbox_id)
            else:
                row.attempts += 1
                report.failed.append(outbox_id)
    return report


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _post(client: httpx.Client, target: _Target, event: str, outbox_id: int, body: bytes) -> bool:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(outbox_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(target.secret, timestamp, body),
    }
    try:
        response = client.post(target.url, content=body, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        log.warning("webhook %s: delivery %s failed: %s", target.id, outbox_id, type(exc).__name__)
        return False
    if not 200 <= response.status_code < 300:
        log.warning(
            "webhook %s: delivery %s answered %s", target.id, outbox_id, response.status_code
        )
        return False
    return True
