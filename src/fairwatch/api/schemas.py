"""Request and response bodies (pydantic), so the OpenAPI document describes every route."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from fairwatch.api.deps import MAX_ID, Day, Identifier, Name, Note, RequiredNote, Title
from fairwatch.cases.service import DECISION_KINDS, DISMISS_REASONS, ROLES
from fairwatch.detectors.families import FAMILIES, SEVERITIES
from fairwatch.law.penalty import PROVISIONS, Circumstance


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they are stored as UTC
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


#: an instant, always with its UTC offset in responses
Instant = Annotated[dt.datetime, AfterValidator(_utc)]
UserId = Annotated[int, Field(ge=1, le=MAX_ID)]

AlertStatus = Literal["open", "lead", "dismissed"]
LeadStatus = Literal["new", "verified", "case", "closed"]
CaseStatus = Literal[
    "pending_approval", "open", "decision_proposed", "decided", "rectification", "review", "closed"
]
if TYPE_CHECKING:
    DecisionKind: TypeAlias = str
    DismissReason: TypeAlias = str
    Role: TypeAlias = str
    Provision: TypeAlias = str
    CircumstanceCode: TypeAlias = str
    Family: TypeAlias = str
    Severity: TypeAlias = str
    WebhookEvent: TypeAlias = str
else:
    # enums from the domain's own vocabularies, so the OpenAPI document lists them
    DecisionKind = Literal[DECISION_KINDS]
    DismissReason = Literal[DISMISS_REASONS]
    Role = Literal[ROLES]
    Provision = Literal[tuple(sorted(PROVISIONS))]
    CircumstanceCode = Literal[tuple(c.value for c in Circumstance)]
    Family = Literal[tuple(FAMILIES)]
    Severity = Literal[SEVERITIES]

#: the status-change events the service writes to the outbox (webhook subscriptions)
WEBHOOK_EVENTS = (
    "alert.dismissed",
    "lead.created",
    "lead.closed",
    "case.opened",
    "decision.approved",
    "rectification.ordered",
    "rectification.reported",
    "case.closed",
)
if not TYPE_CHECKING:
    WebhookEvent = Literal[WEBHOOK_EVENTS]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------------- session


class Credentials(BaseModel):
    username: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Me(BaseModel):
    """Who the caller is (the public when not signed in)."""

    authenticated: bool
    username: str
    role: Role
    bureau_id: str | None = None
    platform_ids: list[str] = Field(default_factory=list)
    operations: list[str] = Field(description="Operations this role may perform.")


# ---------------------------------------------------------------------- alerts, leads


class AlertOut(Out):
    id: int
    rule: str
    family: str
    subject_type: str
    subject_id: str
    platform_id: str | None
    region_code: str
    period_start: dt.date
    period_end: dt.date
    severity: str
    score: float
    status: AlertStatus
    dismiss_reason: str | None
    dismiss_note: str | None
    assignee_id: int | None
    legal_basis: list[str]
    version: int
    created_at: Instant
    updated_at: Instant


class FindingOut(Out):
    finding_id: str
    run_id: str
    payload: dict[str, Any]
    received_at: Instant


class AlertDetail(AlertOut):
    findings: list[FindingOut]


_CODE = r"^[A-Za-z0-9_\-.:]+$"


class FindingIn(BaseModel):
    """A finding as a monitoring run reports it (``findings.jsonl`` of ``fairwatch scan``)."""

    finding_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_CODE)]
    rule: Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=_CODE)]
    family: Family
    subject_type: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=_CODE)]
    subject_id: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_CODE)]
    platform_id: Identifier | None = None
    period_start: Day
    period_end: Day
    severity: Severity
    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    statistics: dict[str, Any] = Field(default_factory=dict)
    evidence: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    legal_basis: list[
        Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_CODE)]
    ] = Field(default_factory=list, max_length=50)
    as_of: Day | None = None

    @model_validator(mode="after")
    def _period(self) -> FindingIn:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class FindingsIn(BaseModel):
    run_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_CODE)]
    findings: list[FindingIn] = Field(max_length=10_000)


class IngestOut(BaseModel):
    created: list[int] = Field(description="Ids of new alerts.")
    merged: list[int] = Field(description="Ids of open alerts the findings merged into.")
    skipped: int = Field(description="Findings received before (by finding_id).")


class TriageIn(BaseModel):
    action: Literal["lead", "dismiss"]
    reason: DismissReason | None = Field(None, description="Required when dismissing.")
    note: Note | None = None


class LeadOut(Out):
    id: int
    alert_id: int
    bureau_id: str
    status: LeadStatus
    found_on: dt.date
    deadline: dt.date
    assignee_id: int | None
    verification_note: str | None
    close_reason: str | None
    version: int
    created_at: Instant


class TriageOut(BaseModel):
    alert_id: int
    outcome: Literal["lead", "dismissed"]
    lead: LeadOut | None = None


class AssignIn(BaseModel):
    user_id: UserId


class VerifyIn(BaseModel):
    note: Note = ""


class CloseLeadIn(BaseModel):
    reason: RequiredNote


class ProposeCaseIn(BaseModel):
    sector: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")] = "other"
    entity_id: Identifier | None = None


# ---------------------------------------------------------------------- cases


class CaseOut(Out):
    id: int
    number: str
    lead_id: int
    bureau_id: str
    status: CaseStatus
    platform_id: str | None
    subject_entity_id: str | None
    sector: str
    officer_id: int | None
    approved_by: int | None
    opened_on: dt.date | None
    deadline: dt.date | None
    joint_bureaus: list[str]
    closed_on: dt.date | None
    close_note: str | None
    version: int
    created_at: Instant


class TaskIn(BaseModel):
    title: Title
    due_on: Day | None = None
    assignee_id: UserId | None = None


class TaskOut(Out):
    id: int
    case_id: int
    title: str
    due_on: dt.date | None
    assignee_id: int | None
    done: bool


class EvidenceOut(Out):
    id: int
    case_id: int
    sha256: str
    filename: str
    media_type: str
    size: int
    added_by: int
    added_at: Instant


class DecisionIn(BaseModel):
    """A proposed decision; a penalty is priced by the penalty calculator."""

    kind: DecisionKind | None = Field(
        None, description="Default: the sector's observation-period measure, else penalty."
    )
    facts: Note = ""
    provision: Provision | None = Field(None, description="The violated provision (penalties).")
    conduct_start: Day | None = None
    conduct_end: Day | None = None
    base_cny: float | None = Field(
        None, ge=0, le=1e16, allow_inf_nan=False, description="Fine base the provision names."
    )
    circumstances: list[CircumstanceCode] = Field(default_factory=list, max_length=20)
    fine_cny: float | None = Field(None, ge=0, le=1e16, allow_inf_nan=False)
    serious: bool = False


class DecisionOut(Out):
    id: int
    case_id: int
    kind: DecisionKind
    provision: str | None
    fine_cny: float | None
    band: str | None
    facts: str
    legal_basis: list[str]
    explanation: dict[str, Any]
    serious: bool
    proposed_by: int
    approved_by: int | None
    decided_on: dt.date | None
    status: Literal["proposed", "approved"]


class JointBureauIn(BaseModel):
    bureau_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,32}$")]


class RectificationIn(BaseModel):
    text: RequiredNote
    working_days: int | None = Field(None, ge=1, le=365)


class RectificationReportIn(BaseModel):
    report: RequiredNote


class RectificationOut(Out):
    id: int
    case_id: int
    order_text: str
    ordered_on: dt.date
    due_on: dt.date
    report_text: str | None
    reported_on: dt.date | None
    status: Literal["ordered", "reported"]


class ReviewIn(BaseModel):
    as_of: Day


class ReviewOut(Out):
    id: int
    case_id: int
    as_of: dt.date
    run_id: str
    rule: str
    stopped: bool
    findings: list[str]
    reviewed_at: Instant


class CloseCaseIn(BaseModel):
    note: Note = ""


class CaseDetail(CaseOut):
    tasks: list[TaskOut]
    evidence: list[EvidenceOut]
    decision: DecisionOut | None
    rectifications: list[RectificationOut]
    reviews: list[ReviewOut]


class AuditEventOut(Out):
    seq: int
    at: Instant
    actor: str
    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any]
    hash: str


class OverdueOut(BaseModel):
    leads: list[int]
    cases: list[int]


# ---------------------------------------------------------------------- public


class DisclosureOut(Out):
    id: int
    case_id: int
    case_number: str
    title: str
    body: dict[str, Any]
    published_on: dt.date


class ComplaintIn(BaseModel):
    complainant: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-:.]{4,64}$")] = Field(
        description="An opaque token the complainant chose; never a name or phone."
    )
    category: Name
    text: RequiredNote
    platform_id: Identifier | None = None


class ComplaintOut(Out):
    id: int
    complainant: str
    platform_id: str | None
    category: str
    text: str
    received_at: Instant


class CreditProfileOut(BaseModel):
    """The credit engine's profile of an entity (see ``fairwatch credit show``)."""

    entity_id: str
    at: dt.date
    listed: bool
    score: str
    risk_class: str
    class_min_score: dict[str, str]
    records: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    warnings: list[str]


# ---------------------------------------------------------------------- platform


class RectificationDue(BaseModel):
    due_on: dt.date
    status: str
    order: str


class WarningOut(BaseModel):
    case_id: int
    case_number: str
    platform_id: str | None
    status: CaseStatus
    decision: DecisionKind
    fine_cny: float | None
    rectification: list[RectificationDue]


class BatchOut(BaseModel):
    """An accepted data batch."""

    submission_id: int
    status: Literal["accepted"]
    batch_id: str
    rows: dict[str, int]
    already_present: bool = Field(description="The same content was in the lake already.")
    ignored_tables: list[str]


class SubmissionOut(Out):
    id: int
    platform_id: str
    status: Literal["accepted", "rejected"]
    batch_id: str | None
    problems: list[dict[str, Any]]
    rows: dict[str, Any]
    received_at: Instant


# ---------------------------------------------------------------------- webhooks, audit


class WebhookIn(BaseModel):
    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s\x00]+$")] = (
        Field(description="Where to POST events (http or https).")
    )
    events: list[WebhookEvent] = Field(
        default_factory=list, description="Events to receive; empty: every event."
    )


class WebhookOut(Out):
    id: int
    url: str
    events: list[str]
    active: bool


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The HMAC key of X-Fairwatch-Signature; shown only once.")


class AuditProblemOut(BaseModel):
    seq: int
    message: str


class AuditVerifyOut(BaseModel):
    intact: bool
    entries: int
    problems: list[AuditProblemOut]


class Health(BaseModel):
    status: Literal["ok"]
    database: str
