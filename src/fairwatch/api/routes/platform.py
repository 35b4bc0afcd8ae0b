"""What a platform account does: read its own warnings, submit data batches."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse

from fairwatch.api import batches, idempotency
from fairwatch.api.deps import Ctx, CurrentActor, endpoint
from fairwatch.api.errors import PayloadTooLarge, request_id
from fairwatch.api.schemas import BatchOut, SubmissionOut, WarningOut

router = APIRouter(prefix="/api/platform", tags=["platform"])


@router.get("/warnings", response_model=list[WarningOut], **endpoint("read_own_warnings"))
def warnings(ctx: Ctx, actor: CurrentActor) -> list[WarningOut]:
    """Decisions and rectification orders about the caller's own platforms."""
    return [WarningOut.model_validate(w) for w in ctx.service.own_warnings(actor)]


@router.post(
    "/batches",
    response_model=BatchOut,
    status_code=201,
    **endpoint("submit_batch", 413),
)
def submit_batch(
    files: Annotated[
        list[UploadFile],
        File(
            description="One file per table, named <table>.csv, <table>.jsonl or <table>.parquet."
        ),
    ],
    request: Request,
    ctx: Ctx,
    actor: CurrentActor,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> JSONResponse:
    """Submit a data batch: validated against the reporting standard and appended to the
    lake atomically, or rejected whole (422 with every problem by table, column and
    rows). Rows must belong to the caller's platforms (403 otherwise). Idempotent."""
    total = 0
    digests = []
    for upload in files:
        h = hashlib.sha256()
        upload.file.seek(0)
        while chunk := upload.file.read(1 << 20):
            total += len(chunk)
            if total > ctx.max_upload_bytes:
                raise PayloadTooLarge(f"a batch is limited to {ctx.max_upload_bytes} bytes")
            h.update(chunk)
        upload.file.seek(0)
        digests.append([upload.filename or "", h.hexdigest()])
    route = "submit_batch"

    def work() -> tuple[int, dict[str, object]]:
        done = batches.submit(
            ctx.store, actor, ctx.lake_dir, [(f.filename or "", f.file) for f in files]
        )
        out = BatchOut(
            submission_id=done.submission_id,
            status="accepted",
            batch_id=done.batch_id,
            rows=done.rows,
            already_present=done.already_present,
            ignored_tables=done.ignored_tables,
        )
        return 201, out.model_dump(mode="json")

    return idempotency.run_once(
        ctx.store,
        actor,
        idempotency_key,
        route,
        idempotency.fingerprint(route, sorted(digests)),
        request_id(request),
        work,
    )


@router.get("/batches", response_model=list[SubmissionOut], **endpoint("submit_batch"))
def submissions(ctx: Ctx, actor: CurrentActor) -> list[SubmissionOut]:
    """The caller's own batch submissions (accepted and rejected), newest first."""
    return [SubmissionOut.model_validate(b) for b in batches.submissions(ctx.store, actor)]
