"""Supervision of the system itself: webhooks and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from fairwatch.api import webhooks
from fairwatch.api.deps import MAX_ID, Ctx, CurrentActor, endpoint
from fairwatch.api.schemas import (
    AuditProblemOut,
    AuditVerifyOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from fairwatch.cases.service import require

router = APIRouter(prefix="/api", tags=["administration"])

WebhookId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/webhooks", response_model=list[WebhookOut], **endpoint("manage_webhooks"))
def list_webhooks(ctx: Ctx, actor: CurrentActor) -> list[WebhookOut]:
    """Registered webhooks (without their secrets)."""
    return [WebhookOut.model_validate(h) for h in webhooks.webhooks(ctx.store, actor)]


@router.post(
    "/webhooks", response_model=WebhookCreated, status_code=201, **endpoint("manage_webhooks")
)
def register_webhook(body: WebhookIn, ctx: Ctx, actor: CurrentActor) -> WebhookCreated:
    """Register a URL for status-change events; the response shows its secret once."""
    hook, secret = webhooks.register(ctx.store, actor, body.url, list(body.events))
    return WebhookCreated.model_validate(
        {**WebhookOut.model_validate(hook).model_dump(), "secret": secret}
    )


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut, **endpoint("manage_webhooks"))
def deactivate_webhook(webhook_id: WebhookId, ctx: Ctx, actor: CurrentActor) -> WebhookOut:
    """Stop delivering to a webhook."""
    return WebhookOut.model_validate(webhooks.deactivate(ctx.store, actor, webhook_id))


@router.get("/audit/verify", response_model=AuditVerifyOut, **endpoint("read_audit"))
def verify_audit(ctx: Ctx, actor: CurrentActor) -> AuditVerifyOut:
    """Recompute the audit log's hash chain; name every edited, deleted or moved entry."""
    from sqlalchemy import func, select

    from fairwatch.cases import audit
    from fairwatch.cases.models import AuditEvent

    require(actor, "read_audit")
    with ctx.store.session() as s:
        problems = audit.verify(s)
        count = s.execute(select(func.count(AuditEvent.seq))).scalar_one()
    return AuditVerifyOut(
        intact=not problems,
        entries=count,
        problems=[AuditProblemOut(seq=p.seq, message=p.message) for p in problems],
    )
