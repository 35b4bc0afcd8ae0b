"""Alerts (monitoring findings merged per subject) and leads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from fairwatch.api.deps import MAX_ID, Ctx, CurrentActor, endpoint
from fairwatch.api.schemas import (
    AlertDetail,
    AlertOut,
    AssignIn,
    CaseOut,
    CloseLeadIn,
    FindingOut,
    FindingsIn,
    IngestOut,
    LeadOut,
    LeadStatus,
    ProposeCaseIn,
    TriageIn,
    TriageOut,
    VerifyIn,
)
from fairwatch.cases.models import Lead

router = APIRouter(prefix="/api", tags=["alerts and leads"])

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
LeadId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/findings", response_model=IngestOut, status_code=201, **endpoint("ingest_findings"))
def ingest_findings(body: FindingsIn, ctx: Ctx, actor: CurrentActor) -> IngestOut:
    """Receive a monitoring run's findings: new alerts, or merged into open ones."""
    findings = [f.model_dump(mode="json") for f in body.findings]
    result = ctx.service.ingest_findings(actor, findings, body.run_id)
    return IngestOut(created=result.created, merged=result.merged, skipped=result.skipped)


@router.get("/alerts", response_model=list[AlertOut], **endpoint("read_alerts"))
def list_alerts(
    ctx: Ctx,
    actor: CurrentActor,
    status: Annotated[Literal["open", "lead", "dismissed", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AlertOut]:
    """Alerts by descending score (``status=all`` for every status)."""
    rows = ctx.service.alerts(actor, None if status == "all" else status, limit, offset)
    return [AlertOut.model_validate(a) for a in rows]


@router.get("/alerts/{alert_id}", response_model=AlertDetail, **endpoint("read_alerts"))
def get_alert(alert_id: AlertId, ctx: Ctx, actor: CurrentActor) -> AlertDetail:
    """An alert with every finding merged into it."""
    alert, findings = ctx.service.alert(actor, alert_id)
    return AlertDetail.model_validate(
        {
            **AlertOut.model_validate(alert).model_dump(),
            "findings": [FindingOut.model_validate(f) for f in findings],
        }
    )


@router.post("/alerts/{alert_id}/triage", response_model=TriageOut, **endpoint("triage"))
def triage(alert_id: AlertId, body: TriageIn, ctx: Ctx, actor: CurrentActor) -> TriageOut:
    """Turn an open alert into a lead (routed to the competent bureau) or dismiss it."""
    result = ctx.service.triage(actor, alert_id, body.action, body.reason, body.note)
    if isinstance(result, Lead):
        return TriageOut(alert_id=alert_id, outcome="lead", lead=LeadOut.model_validate(result))
    return TriageOut(alert_id=alert_id, outcome="dismissed")


@router.post("/alerts/{alert_id}/assign", response_model=AlertOut, **endpoint("assign"))
def assign_alert(alert_id: AlertId, body: AssignIn, ctx: Ctx, actor: CurrentActor) -> AlertOut:
    """Assign an alert to a user."""
    return AlertOut.model_validate(ctx.service.assign(actor, "alert", alert_id, body.user_id))


@router.get("/leads", response_model=list[LeadOut], **endpoint("read_leads"))
def list_leads(
    ctx: Ctx, actor: CurrentActor, status: Annotated[LeadStatus | None, Query()] = None
) -> list[LeadOut]:
    """Leads (of the caller's bureau, for bureau staff other than analysts)."""
    return [LeadOut.model_validate(lead) for lead in ctx.service.leads(actor, status)]


@router.post("/leads/{lead_id}/assign", response_model=LeadOut, **endpoint("assign"))
def assign_lead(lead_id: LeadId, body: AssignIn, ctx: Ctx, actor: CurrentActor) -> LeadOut:
    """Assign a lead to a user."""
    return LeadOut.model_validate(ctx.service.assign(actor, "lead", lead_id, body.user_id))


@router.post("/leads/{lead_id}/verify", response_model=LeadOut, **endpoint("verify_lead"))
def verify_lead(lead_id: LeadId, body: VerifyIn, ctx: Ctx, actor: CurrentActor) -> LeadOut:
    """Record that a new lead was checked and holds up."""
    return LeadOut.model_validate(ctx.service.verify_lead(actor, lead_id, body.note))


@router.post("/leads/{lead_id}/close", response_model=LeadOut, **endpoint("close_lead"))
def close_lead(lead_id: LeadId, body: CloseLeadIn, ctx: Ctx, actor: CurrentActor) -> LeadOut:
    """Close a lead without a case, with a reason."""
    return LeadOut.model_validate(ctx.service.close_lead(actor, lead_id, body.reason))


@router.post(
    "/leads/{lead_id}/case", response_model=CaseOut, status_code=201, **endpoint("propose_case")
)
def propose_case(lead_id: LeadId, body: ProposeCaseIn, ctx: Ctx, actor: CurrentActor) -> CaseOut:
    """Propose opening a case on a verified lead (a supervisor approves it)."""
    case = ctx.service.propose_case(actor, lead_id, sector=body.sector, entity_id=body.entity_id)
    return CaseOut.model_validate(case)
