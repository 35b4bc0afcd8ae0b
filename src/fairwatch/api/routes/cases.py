"""Cases: approval, tasks, evidence, decisions, rectification, review, closing, timeline."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from fairwatch.api import idempotency
from fairwatch.api.deps import MAX_ID, ApiContext, Ctx, CurrentActor, endpoint
from fairwatch.api.errors import PayloadTooLarge, request_id
from fairwatch.api.schemas import (
    AuditEventOut,
    CaseDetail,
    CaseOut,
    CaseStatus,
    CloseCaseIn,
    DecisionIn,
    DecisionOut,
    EvidenceOut,
    JointBureauIn,
    OverdueOut,
    RectificationIn,
    RectificationOut,
    RectificationReportIn,
    ReviewIn,
    ReviewOut,
    TaskIn,
    TaskOut,
)
from fairwatch.cases.models import Case, Decision, Evidence, Rectification, Review, Task, User
from fairwatch.cases.service import ConflictError, NotFoundError

router = APIRouter(prefix="/api", tags=["cases"])

CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
EvidenceId = Annotated[int, Path(ge=1, le=MAX_ID)]
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,48}/[A-Za-z0-9][\w.+-]{0,48}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@router.get("/cases", response_model=list[CaseOut], **endpoint("read_cases"))
def list_cases(
    ctx: Ctx, actor: CurrentActor, status: Annotated[CaseStatus | None, Query()] = None
) -> list[CaseOut]:
    """Cases, oldest first."""
    return [CaseOut.model_validate(c) for c in ctx.service.cases(actor, status)]


@router.get("/cases/{case_id}", response_model=CaseDetail, **endpoint("read_cases"))
def get_case(case_id: CaseId, ctx: Ctx, actor: CurrentActor) -> CaseDetail:
    """A case with its tasks, evidence, decision, rectification orders and reviews."""
    return _detail(ctx, ctx.service.case(actor, case_id))


def _detail(ctx: ApiContext, case: Case) -> CaseDetail:
    # read-only companions of a case the caller may read (the service checked that)
    with ctx.store.session() as s:

        def rows(model: Any, order: Any) -> list[Any]:
            where = model.case_id == case.id
            return list(s.execute(select(model).where(where).order_by(order)).scalars())

        decision = s.execute(
            select(Decision).where(Decision.case_id == case.id)
        ).scalar_one_or_none()
        return CaseDetail.model_validate(
            {
                **CaseOut.model_validate(case).model_dump(),
                "tasks": [TaskOut.model_validate(t) for t in rows(Task, Task.id)],
                "evidence": [EvidenceOut.model_validate(e) for e in rows(Evidence, Evidence.id)],
                "decision": DecisionOut.model_validate(decision) if decision else None,
                "rectifications": [
                    RectificationOut.model_validate(r)
                    for r in rows(Rectification, Rectification.id)
                ],
                "reviews": [ReviewOut.model_validate(r) for r in rows(Review, Review.id)],
            }
        )


@router.post("/cases/{case_id}/approve", response_model=CaseOut, **endpoint("approve_case"))
def approve_case(case_id: CaseId, ctx: Ctx, actor: CurrentActor) -> CaseOut:
    """Approve opening a proposed case: it gets its number and conclusion deadline."""
    return CaseOut.model_validate(ctx.service.approve_case(actor, case_id))


@router.post("/cases/{case_id}/joint-bureaus", response_model=CaseOut, **endpoint("approve_case"))
def add_joint_bureau(
    case_id: CaseId, body: JointBureauIn, ctx: Ctx, actor: CurrentActor
) -> CaseOut:
    """Handle a case jointly with another bureau."""
    return CaseOut.model_validate(ctx.service.add_joint_bureau(actor, case_id, body.bureau_id))


@router.post(
    "/cases/{case_id}/tasks", response_model=TaskOut, status_code=201, **endpoint("work_case")
)
def add_task(case_id: CaseId, body: TaskIn, ctx: Ctx, actor: CurrentActor) -> TaskOut:
    """Add a task to an open case."""
    if body.assignee_id is not None:
        # the service lets the foreign key fail (a 500); say which user is unknown instead
        with ctx.store.session() as s:
            if s.get(User, body.assignee_id) is None:
                raise NotFoundError(f"no user {body.assignee_id}")
    task = ctx.service.add_task(actor, case_id, body.title, body.due_on, body.assignee_id)
    return TaskOut.model_validate(task)


@router.post("/tasks/{task_id}/complete", response_model=TaskOut, **endpoint("work_case"))
def complete_task(task_id: TaskId, ctx: Ctx, actor: CurrentActor) -> TaskOut:
    """Mark a task done."""
    return TaskOut.model_validate(ctx.service.complete_task(actor, task_id))


@router.post(
    "/cases/{case_id}/evidence",
    response_model=EvidenceOut,
    status_code=201,
    **endpoint("work_case", 413),
)
def add_evidence(case_id: CaseId, file: UploadFile, ctx: Ctx, actor: CurrentActor) -> EvidenceOut:
    """Upload a file as evidence: stored by its SHA-256, its custody recorded."""
    content = file.file.read(ctx.max_upload_bytes + 1)
    if len(content) > ctx.max_upload_bytes:
        raise PayloadTooLarge(f"evidence files are limited to {ctx.max_upload_bytes} bytes")
    media_type = file.content_type or ""
    if not _MEDIA_TYPE.fullmatch(media_type):
        media_type = "application/octet-stream"
    filename = _CONTROL.sub("", file.filename or "") or "file"
    ev = ctx.service.add_evidence(actor, case_id, content, filename, media_type)
    return EvidenceOut.model_validate(ev)


@router.get(
    "/evidence/{evidence_id}",
    response_class=Response,
    **endpoint(
        "work_case",
        responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."}},
    ),
)
def download_evidence(evidence_id: EvidenceId, ctx: Ctx, actor: CurrentActor) -> Response:
    """Download an evidence file, checked against its hash (the read is recorded)."""
    ev, data = ctx.service.read_evidence(actor, evidence_id)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(ev.filename)}",
            "X-Content-Type-Options": "nosniff",
            "X-Evidence-Media-Type": ev.media_type,
            "X-Evidence-SHA256": ev.sha256,
        },
    )


@router.get(
    "/evidence/{evidence_id}/custody",
    response_model=list[AuditEventOut],
    **endpoint("read_audit"),
)
def custody(evidence_id: EvidenceId, ctx: Ctx, actor: CurrentActor) -> list[AuditEventOut]:
    """The chain of custody of an evidence file (every addition and read)."""
    return [AuditEventOut.model_validate(e) for e in ctx.service.custody(actor, evidence_id)]


@router.post(
    "/cases/{case_id}/decision",
    response_model=DecisionOut,
    status_code=201,
    **endpoint("propose_decision"),
)
def propose_decision(
    case_id: CaseId, body: DecisionIn, ctx: Ctx, actor: CurrentActor
) -> DecisionOut:
    """Propose a decision; a penalty's fine must lie in the range the calculator allows."""
    decision = ctx.service.propose_decision(
        actor,
        case_id,
        kind=body.kind,
        facts=body.facts,
        provision=body.provision,
        conduct_start=body.conduct_start,
        conduct_end=body.conduct_end,
        base_cny=body.base_cny,
        circumstances=body.circumstances,
        fine_cny=body.fine_cny,
        serious=body.serious,
    )
    return DecisionOut.model_validate(decision)


@router.post(
    "/cases/{case_id}/decision/approve",
    response_model=DecisionOut,
    **endpoint("approve_decision"),
)
def approve_decision(case_id: CaseId, ctx: Ctx, actor: CurrentActor) -> DecisionOut:
    """Approve the proposed decision: it takes effect, enters the credit record and is
    published as a disclosure."""
    return DecisionOut.model_validate(ctx.service.approve_decision(actor, case_id))


@router.post(
    "/cases/{case_id}/rectification",
    response_model=RectificationOut,
    status_code=201,
    **endpoint("order_rectification"),
)
def order_rectification(
    case_id: CaseId, body: RectificationIn, ctx: Ctx, actor: CurrentActor
) -> RectificationOut:
    """Order the platform to rectify, with a due date in working days."""
    order = ctx.service.order_rectification(actor, case_id, body.text, body.working_days)
    return RectificationOut.model_validate(order)


@router.post(
    "/cases/{case_id}/rectification/report",
    response_model=RectificationOut,
    **endpoint("report_rectification"),
)
def report_rectification(
    case_id: CaseId,
    body: RectificationReportIn,
    request: Request,
    ctx: Ctx,
    actor: CurrentActor,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    """A platform reports its rectification (its own cases only; idempotent)."""
    route = "report_rectification"

    def work() -> tuple[int, dict[str, object]]:
        order = ctx.service.report_rectification(actor, case_id, body.report)
        return 200, RectificationOut.model_validate(order).model_dump(mode="json")

    return idempotency.run_once(
        ctx.store,
        actor,
        idempotency_key,
        route,
        idempotency.fingerprint(route, {"case_id": case_id, "body": body.model_dump()}),
        request_id(request),
        work,
    )


@router.post(
    "/cases/{case_id}/review", response_model=ReviewOut, status_code=201, **endpoint("review")
)
def review(case_id: CaseId, body: ReviewIn, ctx: Ctx, actor: CurrentActor) -> ReviewOut:
    """Re-run the originating detector on the lake as of a date: has the conduct stopped?"""
    if ctx.lake_dir is None:
        raise ConflictError("this server has no lake configured (fairwatch serve --lake)")
    return ReviewOut.model_validate(ctx.service.review(actor, case_id, ctx.lake_dir, body.as_of))


@router.post("/cases/{case_id}/close", response_model=CaseOut, **endpoint("close_case"))
def close_case(case_id: CaseId, body: CloseCaseIn, ctx: Ctx, actor: CurrentActor) -> CaseOut:
    """Close a decided case (after a review confirming a rectified conduct stopped)."""
    return CaseOut.model_validate(ctx.service.close_case(actor, case_id, body.note))


@router.get(
    "/cases/{case_id}/timeline", response_model=list[AuditEventOut], **endpoint("read_cases")
)
def timeline(case_id: CaseId, ctx: Ctx, actor: CurrentActor) -> list[AuditEventOut]:
    """Every audit event of the case, its lead, its alert and its evidence, in order."""
    return [AuditEventOut.model_validate(e) for e in ctx.service.timeline(actor, case_id)]


@router.get("/overdue", response_model=OverdueOut, **endpoint("read_overdue"))
def overdue(ctx: Ctx, actor: CurrentActor) -> OverdueOut:
    """Leads past their decision deadline and cases past their conclusion deadline."""
    return OverdueOut.model_validate(ctx.service.overdue(actor))
