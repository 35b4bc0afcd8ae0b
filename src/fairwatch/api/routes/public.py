"""What the public sees and does: disclosures, credit profiles, complaints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fairwatch.api.deps import Ctx, CurrentActor, Day, endpoint
from fairwatch.api.schemas import ComplaintIn, ComplaintOut, CreditProfileOut, DisclosureOut

router = APIRouter(prefix="/api", tags=["public"])

EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")]


@router.get("/disclosures", response_model=list[DisclosureOut], **endpoint("read_disclosures"))
def disclosures(ctx: Ctx, actor: CurrentActor) -> list[DisclosureOut]:
    """Published decisions, newest first (no sign-in needed)."""
    return [DisclosureOut.model_validate(d) for d in ctx.service.disclosures(actor)]


@router.get("/credit/{entity_id}", response_model=CreditProfileOut, **endpoint("read_disclosures"))
def credit(
    entity_id: EntityId,
    ctx: Ctx,
    actor: CurrentActor,
    at: Annotated[Day | None, Query(description="Date of the profile; default today.")] = None,
) -> CreditProfileOut:
    """An entity's credit records, score, risk class and serious-dishonesty listing."""
    profile = ctx.service.credit_profile(actor, entity_id, at)
    return CreditProfileOut.model_validate(profile.to_dict())


@router.post(
    "/complaints", response_model=ComplaintOut, status_code=201, **endpoint("file_complaint")
)
def file_complaint(body: ComplaintIn, ctx: Ctx, actor: CurrentActor) -> ComplaintOut:
    """File a complaint (no sign-in needed; identify yourself by an opaque token only)."""
    complaint = ctx.service.file_complaint(
        actor, body.complainant, body.category, body.text, body.platform_id
    )
    return ComplaintOut.model_validate(complaint)


@router.get("/complaints", response_model=list[ComplaintOut], **endpoint("read_complaints"))
def complaints(ctx: Ctx, actor: CurrentActor) -> list[ComplaintOut]:
    """Complaints received, newest first."""
    return [ComplaintOut.model_validate(c) for c in ctx.service.complaints(actor)]
