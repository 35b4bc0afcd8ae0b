"""Pages of a platform account: its warnings and deadlines, rectification reports, and
data batches (submitted through the same checks as ``POST /api/platform/batches``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from fairwatch.cases.service import Actor
from fairwatch.errors import FairwatchError, InvalidBatch, Problem, UsageError
from fairwatch.web.app import (
    check_same_origin,
    lake_of,
    page,
    require_page,
    service_of,
)
from fairwatch.web.pages.public import KIND_LABELS, tr

router = APIRouter(include_in_schema=False)

TITLE = "My platform"
#: case statuses as the platform sees them (msgids)
CASE_STATUS = {
    "pending_approval": "Pending approval",
    "open": "Under investigation",
    "decision_proposed": "Decision proposed",
    "decided": "Decided",
    "rectification": "Rectification ordered",
    "review": "Under review",
    "closed": "Closed",
}
#: a rectification report's length limit (the API's free-text limit)
MAX_REPORT = 20_000


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# ---------------------------------------------------------------------- warnings


@dataclass
class OwnWarning:
    """One case of the account's platforms with its decision and rectification orders."""

    case_id: int
    case_number: str
    platform_id: str | None
    status: str
    decision: str
    fine_cny: float | None
    orders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open_order(self) -> dict[str, Any] | None:
        """The order awaiting the platform's report (the case is in rectification)."""
        if self.status != "rectification":
            return None
        waiting = [o for o in self.orders if o["status"] == "ordered"]
        return waiting[-1] if waiting else None

    @property
    def overdue(self) -> bool:
        return any(o["overdue"] for o in self.orders)


def _warnings(request: Request, actor: Actor) -> list[OwnWarning]:
    service = service_of(request)
    today: dt.date = service.today()
    out = []
    for w in service.own_warnings(actor):
        orders = []
        for o in w["rectification"]:
            due = dt.date.fromisoformat(o["due_on"])
            orders.append(
                {
                    **o,
                    "due": due,
                    "overdue": o["status"] == "ordered" and due < today,
                    "days_left": (due - today).days,
                }
            )
        out.append(
            OwnWarning(
                case_id=w["case_id"],
                case_number=w["case_number"],
                platform_id=w["platform_id"],
                status=w["status"],
                decision=w["decision"],
                fine_cny=w["fine_cny"],
                orders=orders,
            )
        )
    # overdue first, then the nearest open deadline, then the rest by case
    return sorted(
        out,
        key=lambda w: (
            not w.overdue,
            w.open_order is None,
            w.open_order["due"] if w.open_order else dt.date.max,
            w.case_id,
        ),
    )


def _index(
    request: Request,
    actor: Actor,
    *,
    notice: str | None = None,
    error: str | None = None,
    outcome: BatchOutcome | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        warnings = _warnings(request, actor)
        load_error = None
    except FairwatchError as exc:
        warnings, load_error = [], str(exc)
    return page(
        request,
        "platform/index.html",
        TITLE,
        status_code=status_code,
        actor=actor,
        warnings=warnings,
        load_error=load_error,
        today=service_of(request).today(),
        has_lake=lake_of(request) is not None,
        notice=notice,
        error=error,
        outcome=outcome,
        kind_labels=KIND_LABELS,
        status_labels=CASE_STATUS,
    )


@router.get("/platform", response_class=HTMLResponse)
def platform_home(request: Request) -> Response:
    actor = require_page(request, "read_own_warnings")
    if not isinstance(actor, Actor):
        return actor
    return _index(request, actor)


@router.post("/platform/cases/{case_id}/rectification", response_class=HTMLResponse)
def report_rectification(
    request: Request,
    case_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    report: Annotated[str, Form()] = "",
) -> Response:
    """Report a rectification; the answer is the form's replacement (htmx) or the page."""
    actor = require_page(request, "report_rectification")
    if not isinstance(actor, Actor):
        return actor
    text = report.strip()
    done = None
    error = None
    keep_form = True
    try:
        check_same_origin(request)
        if not text:
            raise UsageError(tr(request, "Write the report before submitting it."))
        if len(text) > MAX_REPORT or "\x00" in text:
            raise UsageError(tr(request, "The report is too long (at most 20,000 characters)."))
        done = service_of(request).report_rectification(actor, case_id, text)
    except FairwatchError as exc:
        from fairwatch.cases.service import ConflictError, NotFoundError

        if isinstance(exc, ConflictError | NotFoundError):
            # a second submit (double click, another tab) or a stale page: nothing to redo
            keep_form = False
            error = tr(request, "This order has no open report to submit (already reported?).")
            error += f" ({exc})"
        else:
            error = str(exc)
    if not _is_htmx(request):
        if done is not None:
            return _index(request, actor, notice=_reported_text(request, done.reported_on))
        return _index(request, actor, error=error)
    return page(
        request,
        "platform/_rectification.html",
        TITLE,
        actor=actor,
        case_id=case_id,
        done=done,
        error=error,
        keep_form=keep_form,
        report=text,
        reported=_reported_text(request, done.reported_on) if done is not None else None,
    )


def _reported_text(request: Request, on: dt.date | None) -> str:
    return tr(
        request,
        "Report received on %(day)s: the case is now under review.",
        day=on.isoformat() if on else "",
    )


# ---------------------------------------------------------------------- batches


@dataclass
class BatchOutcome:
    """What became of a submitted batch, for the page."""

    status: str  # accepted | rejected | error
    message: str = ""
    submission_id: int | None = None
    batch_id: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    already_present: bool = False
    ignored_tables: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _submit(request: Request, actor: Actor, files: Sequence[StarletteUpload]) -> BatchOutcome:
    from fairwatch.api import batches
    from fairwatch.api.deps import context

    ctx = context(request)
    chosen = [f for f in files if f.filename]
    if not chosen:
        return BatchOutcome(
            "error", tr(request, "Choose at least one file named <table>.csv, .jsonl or .parquet.")
        )
    total = 0
    for upload in chosen:
        upload.file.seek(0, 2)
        total += upload.file.tell()
        upload.file.seek(0)
    if total > ctx.max_upload_bytes:
        return BatchOutcome(
            "error",
            tr(request, "A batch is limited to %(n)s bytes.", n=f"{ctx.max_upload_bytes:,}"),
        )
    try:
        done = batches.submit(
            ctx.store, actor, lake_of(request), [(f.filename or "", f.file) for f in chosen]
        )
    except InvalidBatch as exc:
        return BatchOutcome("rejected", str(exc).splitlines()[0], problems=list(exc.problems))
    except FairwatchError as exc:
        return BatchOutcome("error", str(exc))
    return BatchOutcome(
        "accepted",
        submission_id=done.submission_id,
        batch_id=done.batch_id,
        rows=done.rows,
        already_present=done.already_present,
        ignored_tables=done.ignored_tables,
    )


@router.post("/platform/batches", response_class=HTMLResponse)
def submit_batch(
    request: Request,
    files: Annotated[list[UploadFile | str] | None, File()] = None,
) -> Response:
    """Submit a data batch from the browser: the API's checks, validation and append."""
    actor = require_page(request, "submit_batch")
    if not isinstance(actor, Actor):
        return actor
    try:
        check_same_origin(request)
        # an empty file input arrives as an empty text field: skip it
        uploads = [f for f in files or [] if isinstance(f, StarletteUpload)]
        outcome = _submit(request, actor, uploads)
    except FairwatchError as exc:
        outcome = BatchOutcome("error", str(exc))
    if _is_htmx(request):
        # 200 either way: htmx swaps the outcome into the page (a rejection is an answer)
        return page(request, "platform/_batch_result.html", TITLE, actor=actor, outcome=outcome)
    return _index(request, actor, outcome=outcome)


@router.get("/platform/batches", response_class=HTMLResponse)
def batch_history(request: Request) -> Response:
    actor = require_page(request, "submit_batch")
    if not isinstance(actor, Actor):
        return actor
    from fairwatch.api import batches

    try:
        rows = batches.submissions(service_of(request).store, actor)
        error = None
    except FairwatchError as exc:
        rows, error = [], str(exc)
    return page(
        request,
        "platform/batches.html",
        "My data batches",
        actor=actor,
        submissions=rows,
        error=error,
    )
