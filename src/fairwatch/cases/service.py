"""The closed loop: findings -> alerts -> leads -> cases -> decisions -> rectification -> review.

Every operation takes the calling :class:`Actor`, checks its role against
:data:`PERMISSIONS` (the API checks the same matrix per route), runs in one database
transaction and appends an audit event for each change in that transaction, so a change
and its audit entry commit or roll back together.

Concurrency: operations that must not race (triage, assignment, approvals) lock the row
they change (``SELECT ... FOR UPDATE`` on PostgreSQL, the database write lock on SQLite)
and re-check its state after locking; versioned rows also carry an optimistic-locking
counter, so a lost update is impossible and a stale one is a :class:`ConflictError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from fairwatch.cases import audit
from fairwatch.cases.db import Store
from fairwatch.cases.models import (
    Alert,
    AlertFinding,
    Bureau,
    Case,
    Complaint,
    CreditEntry,
    Decision,
    Disclosure,
    Evidence,
    JurisdictionRule,
    Lead,
    Outbox,
    Rectification,
    Review,
    Task,
    User,
)
from fairwatch.errors import AuthorizationError, FairwatchError, UsageError

DATA = Path(__file__).parent / "data"
LEAD_DEADLINE = "cn.procedure.lead_decision_working_days"
CASE_DEADLINE = "cn.procedure.case_conclusion_days"
OBSERVATION_SECTORS = "cn.procedure.observation_sectors"
OBSERVATION_MEASURE = "cn.procedure.observation_default_measure"
RECTIFICATION_DAYS = "cn.procedure.rectification_working_days"

ROLES = ("analyst", "case_officer", "supervisor", "platform", "public")
DISMISS_REASONS = ("false_positive", "duplicate", "no_jurisdiction", "below_materiality")
DECISION_KINDS = ("penalty", "warning", "guidance", "interview", "no_penalty")

#: operation -> roles allowed (the domain's half of the role x endpoint matrix)
PERMISSIONS: dict[str, frozenset[str]] = {
    "ingest_findings": frozenset({"analyst", "supervisor"}),
    "read_alerts": frozenset({"analyst", "case_officer", "supervisor"}),
    "triage": frozenset({"analyst", "supervisor"}),
    "assign": frozenset({"analyst", "supervisor"}),
    "read_leads": frozenset({"analyst", "case_officer", "supervisor"}),
    "verify_lead": frozenset({"case_officer", "supervisor"}),
    "close_lead": frozenset({"case_officer", "supervisor"}),
    "propose_case": frozenset({"case_officer"}),
    "approve_case": frozenset({"supervisor"}),
    "read_cases": frozenset({"case_officer", "supervisor", "analyst"}),
    "work_case": frozenset({"case_officer"}),
    "propose_decision": frozenset({"case_officer"}),
    "approve_decision": frozenset({"supervisor"}),
    "order_rectification": frozenset({"case_officer"}),
    "report_rectification": frozenset({"platform"}),
    "review": frozenset({"case_officer"}),
    "close_case": frozenset({"supervisor"}),
    "read_own_warnings": frozenset({"platform"}),
    "submit_batch": frozenset({"platform"}),
    "read_disclosures": frozenset(ROLES),
    "file_complaint": frozenset({"public", "platform", "analyst"}),
    "read_complaints": frozenset({"analyst", "supervisor"}),
    "read_audit": frozenset({"supervisor", "case_officer"}),
    "manage_webhooks": frozenset({"supervisor"}),
    "read_overdue": frozenset({"analyst", "case_officer", "supervisor"}),
}


class ConflictError(FairwatchError):
    """The object changed under the caller, or is not in a state that allows the operation."""


class NotFoundError(FairwatchError):
    """No such object (or the caller may not see it)."""


@dataclass(frozen=True)
class Actor:
    """Who calls: a user of the case store, or the system (CLI, scheduled scans)."""

    user_id: int | None
    username: str
    role: str
    bureau_id: str | None = None
    platform_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.role, user.bureau_id, tuple(user.platform_ids))

    @classmethod
    def system(cls, role: str = "supervisor") -> Actor:
        return cls(None, "system", role)

    @property
    def label(self) -> str:
        return f"{self.role}:{self.username}"


def require(actor: Actor, operation: str) -> None:
    allowed = PERMISSIONS[operation]
    if actor.role not in allowed:
        raise AuthorizationError(
            f"{actor.label} may not {operation.replace('_', ' ')} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def fingerprint(rule: str, subject_type: str, subject_id: str) -> str:
    """Same detector and subject: the same fingerprint (periods decide merging)."""
    return hashlib.sha256(f"{rule}|{subject_type}|{subject_id}".encode()).hexdigest()


RegionOf = Callable[[Mapping[str, Any]], str | None]


@dataclass
class IngestResult:
    created: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    skipped: int = 0  # findings already received


class CaseService:
    """The domain operations over one :class:`~fairwatch.cases.db.Store`."""

    def __init__(
        self,
        store: Store,
        law: Any = None,
        *,
        today: Callable[[], dt.date] | None = None,
        default_region: str = "330000",
    ) -> None:
        from fairwatch.law import default_store

        self.store = store
        self.law = law or default_store()
        self.today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self.default_region = default_region

    # ------------------------------------------------------------------ reference data

    def seed(self, path: Path | None = None) -> None:
        """Load bureaus and the jurisdiction table (idempotent; from ``data/``)."""
        spec = yaml.safe_load((path or DATA / "jurisdictions.yaml").read_text(encoding="utf-8"))
        with self.store.session() as s:
            for b in spec["bureaus"]:
                if s.get(Bureau, b["id"]) is None:
                    s.add(Bureau(**b))
            s.flush()
            if not s.execute(select(JurisdictionRule).limit(1)).first():
                for r in spec["rules"]:
                    s.add(JurisdictionRule(**r))
            s.flush()

    # ------------------------------------------------------------------ alerts

    def ingest_findings(
        self,
        actor: Actor,
        findings: Iterable[Mapping[str, Any]],
        run_id: str,
        region_of: RegionOf | None = None,
    ) -> IngestResult:
        """Findings become alerts; the same detector, subject and an overlapping (or
        adjacent) period merge into the open alert, which records every finding."""
        require(actor, "ingest_findings")
        result = IngestResult()
        with self.store.session() as s:
            for f in findings:
                fid = str(f["finding_id"])
                if s.execute(select(AlertFinding.id).where(AlertFinding.finding_id == fid)).first():
                    result.skipped += 1
                    continue
                start = dt.date.fromisoformat(str(f["period_start"]))
                end = dt.date.fromisoformat(str(f["period_end"]))
                fp = fingerprint(str(f["rule"]), str(f["subject_type"]), str(f["subject_id"]))
                alert = (
                    s.execute(
                        select(Alert)
                        .where(
                            Alert.fingerprint == fp,
                            Alert.status.in_(("open", "lead")),
                            Alert.period_start <= end + dt.timedelta(days=1),
                            Alert.period_end >= start - dt.timedelta(days=1),
                        )
                        .order_by(Alert.id)
                        .with_for_update()
                    )
                    .scalars()
                    .first()
                )
                if alert is None:
                    region = (region_of(f) if region_of else None) or _region_from(f)
                    alert = Alert(
                        fingerprint=fp,
                        rule=str(f["rule"]),
                        family=str(f["family"]),
                        subject_type=str(f["subject_type"]),
                        subject_id=str(f["subject_id"]),
                        platform_id=f.get("platform_id"),
                        region_code=region or self.default_region,
                        period_start=start,
                        period_end=end,
                        severity=str(f["severity"]),
                        score=float(f["score"]),
                        legal_basis=list(f.get("legal_basis") or []),
                    )
                    s.add(alert)
                    s.flush()
                    result.created.append(alert.id)
                    audit.append(
                        s,
                        actor.label,
                        "alert.created",
                        "alert",
                        alert.id,
                        {
                            "finding_id": fid,
                            "rule": alert.rule,
                            "subject": f"{alert.subject_type}:{alert.subject_id}",
                        },
                    )
                else:
                    alert.period_start = min(alert.period_start, start)
                    alert.period_end = max(alert.period_end, end)
                    alert.score = max(alert.score, float(f["score"]))
                    alert.severity = _max_severity(alert.severity, str(f["severity"]))
                    alert.updated_at = dt.datetime.now(dt.UTC)
                    result.merged.append(alert.id)
                    audit.append(
                        s, actor.label, "alert.merged", "alert", alert.id, {"finding_id": fid}
                    )
                s.add(
                    AlertFinding(alert_id=alert.id, finding_id=fid, run_id=run_id, payload=_json(f))
                )
                s.flush()
        return result

    def alerts(
        self, actor: Actor, status: str | None = "open", limit: int = 100, offset: int = 0
    ) -> list[Alert]:
        require(actor, "read_alerts")
        with self.store.read() as s:
            q = select(Alert).order_by(Alert.score.desc(), Alert.id)
            if status:
                q = q.where(Alert.status == status)
            return list(s.execute(q.limit(limit).offset(offset)).scalars())

    def alert(self, actor: Actor, alert_id: int) -> tuple[Alert, list[AlertFinding]]:
        require(actor, "read_alerts")
        with self.store.read() as s:
            a = _get(s, Alert, alert_id)
            return a, list(a.findings)

    def triage(
        self,
        actor: Actor,
        alert_id: int,
        action: str,
        reason: str | None = None,
        note: str | None = None,
    ) -> Lead | Alert:
        """Turn an open alert into a lead (routed to its bureau) or dismiss it with a reason.

        Safe under concurrency: the alert row is locked and its state re-checked, and a
        lead is unique per alert, so racing calls create one lead; the others get a
        :class:`ConflictError`.
        """
        require(actor, "triage")
        if action not in ("lead", "dismiss"):
            raise UsageError(f"triage action must be 'lead' or 'dismiss', not {action!r}")
        if action == "dismiss" and reason not in DISMISS_REASONS:
            raise UsageError(
                f"dismissing needs a reason, one of {', '.join(DISMISS_REASONS)} (got {reason!r})"
            )
        try:
            with self.store.session() as s:
                alert = _locked(s, Alert, alert_id)
                if alert.status != "open":
                    raise ConflictError(f"alert {alert_id} is already {alert.status}")
                if action == "dismiss":
                    alert.status, alert.dismiss_reason, alert.dismiss_note = (
                        "dismissed",
                        reason,
                        note,
                    )
                    audit.append(
                        s,
                        actor.label,
                        "alert.dismissed",
                        "alert",
                        alert_id,
                        {"reason": reason, "note": note},
                    )
                    self._event(s, "alert.dismissed", {"alert_id": alert_id, "reason": reason})
                    return alert
                bureau = self.route(s, alert.region_code, alert.family)
                found = self.today()
                lead = Lead(
                    alert_id=alert_id,
                    bureau_id=bureau,
                    found_on=found,
                    deadline=self._working_deadline(found, LEAD_DEADLINE),
                    assignee_id=alert.assignee_id,
                )
                s.add(lead)
                alert.status = "lead"
                s.flush()
                audit.append(
                    s, actor.label, "alert.triaged", "alert", alert_id, {"lead_id": lead.id}
                )
                audit.append(
                    s,
                    actor.label,
                    "lead.created",
                    "lead",
                    lead.id,
                    {
                        "alert_id": alert_id,
                        "bureau_id": bureau,
                        "deadline": lead.deadline.isoformat(),
                    },
                )
                self._event(
                    s,
                    "lead.created",
                    {"lead_id": lead.id, "alert_id": alert_id, "bureau_id": bureau},
                )
                return lead
        except (IntegrityError, StaleDataError) as exc:
            raise ConflictError(f"alert {alert_id} was triaged by someone else") from exc

    def assign(self, actor: Actor, kind: str, object_id: int, user_id: int) -> Alert | Lead:
        """Assign an alert or a lead to a user (no update is lost: the row is locked)."""
        require(actor, "assign")
        model = {"alert": Alert, "lead": Lead}.get(kind)
        if model is None:
            raise UsageError(f"can assign an alert or a lead, not {kind!r}")
        try:
            with self.store.session() as s:
                if s.get(User, user_id) is None:
                    raise NotFoundError(f"no user {user_id}")
                row = _locked(s, model, object_id)
                before = row.assignee_id
                row.assignee_id = user_id
                audit.append(
                    s,
                    actor.label,
                    f"{kind}.assigned",
                    kind,
                    object_id,
                    {"from": before, "to": user_id},
                )
                return row
        except StaleDataError as exc:
            raise ConflictError(f"{kind} {object_id} changed concurrently; retry") from exc

    def route(self, s: Session, region_code: str, family: str) -> str:
        """The competent bureau: longest region prefix, then family prefix, then priority."""
        rules = s.execute(select(JurisdictionRule)).scalars().all()
        fits = [
            r
            for r in rules
            if region_code.startswith(r.region_prefix) and family.startswith(r.family_prefix)
        ]
        if not fits:
            raise UsageError(f"no bureau is competent for region {region_code} and {family}")
        best = max(fits, key=lambda r: (len(r.family_prefix) > 0, r.priority, len(r.region_prefix)))
        return best.bureau_id

    # ------------------------------------------------------------------ leads

    def leads(self, actor: Actor, status: str | None = None) -> list[Lead]:
        require(actor, "read_leads")
        with self.store.read() as s:
            q = select(Lead).order_by(Lead.id)
            if status:
                q = q.where(Lead.status == status)
            if actor.bureau_id and actor.role != "analyst":
                q = q.where(Lead.bureau_id == actor.bureau_id)
            return list(s.execute(q).scalars())

    def verify_lead(self, actor: Actor, lead_id: int, note: str) -> Lead:
        require(actor, "verify_lead")
        with self.store.session() as s:
            lead = _locked(s, Lead, lead_id)
            self._same_bureau(actor, lead.bureau_id)
            if lead.status != "new":
                raise ConflictError(f"lead {lead_id} is {lead.status}, not new")
            lead.status, lead.verification_note = "verified", note
            audit.append(s, actor.label, "lead.verified", "lead", lead_id, {"note": note})
            return lead

    def close_lead(self, actor: Actor, lead_id: int, reason: str) -> Lead:
        require(actor, "close_lead")
        if not reason.strip():
            raise UsageError("closing a lead needs a reason")
        with self.store.session() as s:
            lead = _locked(s, Lead, lead_id)
            self._same_bureau(actor, lead.bureau_id)
            if lead.status in ("case", "closed"):
                raise ConflictError(f"lead {lead_id} is already {lead.status}")
            lead.status, lead.close_reason = "closed", reason
            audit.append(s, actor.label, "lead.closed", "lead", lead_id, {"reason": reason})
            self._event(s, "lead.closed", {"lead_id": lead_id})
            return lead

    def propose_case(
        self, actor: Actor, lead_id: int, *, sector: str = "other", entity_id: str | None = None
    ) -> Case:
        """Ask to open a case on a verified lead (a supervisor approves it)."""
        require(actor, "propose_case")
        try:
            with self.store.session() as s:
                lead = _locked(s, Lead, lead_id)
                self._same_bureau(actor, lead.bureau_id)
                if lead.status != "verified":
                    raise ConflictError(f"lead {lead_id} must be verified first ({lead.status})")
                alert = _get(s, Alert, lead.alert_id)
                case = Case(
                    number=f"pending-{lead_id}",
                    lead_id=lead_id,
                    bureau_id=lead.bureau_id,
                    platform_id=alert.platform_id,
                    subject_entity_id=entity_id or alert.platform_id,
                    sector=sector,
                    officer_id=actor.user_id,
                )
                s.add(case)
                lead.status = "case"
                s.flush()
                audit.append(
                    s,
                    actor.label,
                    "case.proposed",
                    "case",
                    case.id,
                    {"lead_id": lead_id, "sector": sector},
                )
                return case
        except IntegrityError as exc:
            raise ConflictError(f"lead {lead_id} already has a case") from exc

    def approve_case(self, actor: Actor, case_id: int) -> Case:
        require(actor, "approve_case")
        with self.store.session() as s:
            case = self._case_for(s, actor, case_id, lock=True)
            if case.status != "pending_approval":
                raise ConflictError(f"case {case_id} is {case.status}, not pending approval")
            opened = self.today()
            # numbering is per bureau and year: lock the bureau row so concurrent
            # approvals take numbers one after the other
            s.execute(select(Bureau).where(Bureau.id == case.bureau_id).with_for_update())
            year_count = s.execute(
                select(func.count(Case.id)).where(
                    Case.number.like(f"{case.bureau_id}-{opened.year}-%")
                )
            ).scalar_one()
            case.number = f"{case.bureau_id}-{opened.year}-{year_count + 1:05d}"
            case.status, case.opened_on, case.approved_by = "open", opened, actor.user_id
            days = int(self.law.value(CASE_DEADLINE, opened))
            case.deadline = opened + dt.timedelta(days=days)
            audit.append(
                s,
                actor.label,
                "case.opened",
                "case",
                case_id,
                {"number": case.number, "deadline": case.deadline.isoformat()},
            )
            self._event(s, "case.opened", {"case_id": case_id, "number": case.number})
            return case

    def add_joint_bureau(self, actor: Actor, case_id: int, bureau_id: str) -> Case:
        """Handle a case jointly with another bureau (joint enforcement)."""
        require(actor, "approve_case")
        with self.store.session() as s:
            case = self._case_for(s, actor, case_id, lock=True)
            if s.get(Bureau, bureau_id) is None:
                raise NotFoundError(f"no bureau {bureau_id!r}")
            if bureau_id != case.bureau_id and bureau_id not in case.joint_bureaus:
                case.joint_bureaus = [*case.joint_bureaus, bureau_id]
                audit.append(
                    s,
                    actor.label,
                    "case.joint_bureau_added",
                    "case",
                    case_id,
                    {"bureau_id": bureau_id},
                )
            return case

    # ------------------------------------------------------------------ case work

    def cases(self, actor: Actor, status: str | None = None) -> list[Case]:
        require(actor, "read_cases")
        with self.store.read() as s:
            q = select(Case).order_by(Case.id)
            if status:
                q = q.where(Case.status == status)
            return list(s.execute(q).scalars())

    def case(self, actor: Actor, case_id: int) -> Case:
        require(actor, "read_cases")
        with self.store.read() as s:
            return _get(s, Case, case_id)

    def add_task(
        self,
        actor: Actor,
        case_id: int,
        title: str,
        due_on: dt.date | None = None,
        assignee_id: int | None = None,
    ) -> Task:
        require(actor, "work_case")
        with self.store.session() as s:
            case = self._open_case(s, actor, case_id)
            if assignee_id is not None and s.get(User, assignee_id) is None:
                raise NotFoundError(f"no user {assignee_id}")
            task = Task(case_id=case.id, title=title, due_on=due_on, assignee_id=assignee_id)
            s.add(task)
            s.flush()
            audit.append(
                s, actor.label, "task.added", "case", case_id, {"task_id": task.id, "title": title}
            )
            return task

    def complete_task(self, actor: Actor, task_id: int) -> Task:
        require(actor, "work_case")
        with self.store.session() as s:
            task = _locked(s, Task, task_id)
            task.done = True
            audit.append(s, actor.label, "task.done", "case", task.case_id, {"task_id": task_id})
            return task

    def add_evidence(
        self,
        actor: Actor,
        case_id: int,
        content: bytes,
        filename: str,
        media_type: str = "application/octet-stream",
    ) -> Evidence:
        """Store a file content-addressed (SHA-256) and record its custody."""
        require(actor, "work_case")
        digest = hashlib.sha256(content).hexdigest()
        path = self.evidence_path(digest)
        with self.store.session() as s:
            self._open_case(s, actor, case_id)
            if not path.exists():  # the file first, durably; then the row that names it
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.part")
                with open(tmp, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
                tmp.replace(path)
            existing = s.execute(
                select(Evidence).where(Evidence.case_id == case_id, Evidence.sha256 == digest)
            ).scalar_one_or_none()
            if existing is not None:
                return existing
            ev = Evidence(
                case_id=case_id,
                sha256=digest,
                filename=_safe_name(filename),
                media_type=media_type,
                size=len(content),
                added_by=actor.user_id,
            )
            s.add(ev)
            s.flush()
            audit.append(
                s,
                actor.label,
                "evidence.added",
                "evidence",
                ev.id,
                {
                    "case_id": case_id,
                    "sha256": digest,
                    "size": len(content),
                    "filename": ev.filename,
                },
            )
            return ev

    def evidence_path(self, digest: str) -> Path:
        return self.store.evidence_dir / digest[:2] / digest

    def read_evidence(self, actor: Actor, evidence_id: int) -> tuple[Evidence, bytes]:
        """The file, checked against its hash; reading is recorded (chain of custody)."""
        require(actor, "work_case")
        with self.store.session() as s:
            ev = _get(s, Evidence, evidence_id)
            self._case_for(s, actor, ev.case_id)
            data = self.evidence_path(ev.sha256).read_bytes()
            if hashlib.sha256(data).hexdigest() != ev.sha256:
                raise ConflictError(f"evidence {evidence_id}: stored file does not match its hash")
            audit.append(
                s, actor.label, "evidence.read", "evidence", evidence_id, {"sha256": ev.sha256}
            )
            return ev, data

    def custody(self, actor: Actor, evidence_id: int) -> list[audit.AuditEvent]:
        require(actor, "read_audit")
        with self.store.read() as s:
            return audit.timeline(s, "evidence", [str(evidence_id)])

    # ------------------------------------------------------------------ decisions

    def default_measure(self, sector: str, day: dt.date) -> str | None:
        """The measure for a business form in an observation period or sandbox, if any."""
        sectors = self.law.value(OBSERVATION_SECTORS, day)
        return str(self.law.value(OBSERVATION_MEASURE, day)) if sector in sectors else None

    def propose_decision(
        self,
        actor: Actor,
        case_id: int,
        *,
        kind: str | None = None,
        facts: str = "",
        provision: str | None = None,
        conduct_start: dt.date | None = None,
        conduct_end: dt.date | None = None,
        base_cny: float | str | None = None,
        circumstances: Sequence[str] = (),
        fine_cny: float | None = None,
        serious: bool = False,
    ) -> Decision:
        """Propose a decision. A penalty is priced by the penalty calculator and must lie
        in the range it allows; without ``kind`` a case in an observation-period or
        sandbox sector defaults to that sector's measure (an interview by default)."""
        require(actor, "propose_decision")
        from fairwatch.law.penalty import PenaltyCase, calculate

        with self.store.session() as s:
            case = self._case_for(s, actor, case_id, lock=True)
            if case.status not in ("open", "decision_proposed"):
                raise ConflictError(f"case {case_id} is {case.status}: no decision can be proposed")
            today = self.today()
            kind = kind or self.default_measure(case.sector, today) or "penalty"
            if kind not in DECISION_KINDS:
                raise UsageError(f"decision kind must be one of {', '.join(DECISION_KINDS)}")
            alert = s.execute(
                select(Alert).join(Lead, Lead.alert_id == Alert.id).where(Lead.id == case.lead_id)
            ).scalar_one()
            explanation: dict[str, Any] = {}
            band = None
            legal_basis = list(alert.legal_basis)
            if kind == "penalty":
                if provision is None:
                    raise UsageError(
                        "a penalty needs the violated provision (see fairwatch penalty --help)"
                    )
                pcase = PenaltyCase.build(
                    provision,
                    conduct_start or alert.period_start,
                    conduct_end or alert.period_end,
                    today,
                    base_cny=base_cny,
                    circumstances=circumstances,
                )
                result = calculate(pcase, self.law, today=today)
                explanation = result.to_dict()
                if result.recommended is None:
                    raise ConflictError(
                        f"the calculator allows no penalty here ({result.outcome.value}); "
                        "propose no_penalty or a warning"
                    )
                rec = result.recommended
                fine = (
                    Fraction(str(fine_cny))
                    if fine_cny is not None
                    else (rec.min_cny + rec.max_cny) / 2
                )
                if not (
                    result.statutory.min_cny <= fine <= max(result.statutory.max_cny, rec.max_cny)
                ):
                    low, high = float(result.statutory.min_cny), float(result.statutory.max_cny)
                    raise UsageError(
                        f"fine {float(fine):,.2f} is outside the range the law allows "
                        f"({low:,.2f} to {high:,.2f})"
                    )
                fine_cny = float(round(fine, 2))
                band_of = result.band_of(fine)
                band = band_of.value if band_of is not None else None
                legal_basis += sorted(
                    {
                        st.citation_key
                        for st in result.steps
                        if st.citation_key and _is_law(st.citation_key, self.law)
                    }
                )
            elif kind == "no_penalty":
                legal_basis.append("cn.apl.art33")
                fine_cny = None
            else:
                fine_cny = None
            existing = s.execute(
                select(Decision).where(Decision.case_id == case_id)
            ).scalar_one_or_none()
            if existing is not None:
                if existing.status == "approved":
                    raise ConflictError(f"case {case_id} already has an approved decision")
                s.delete(existing)
                s.flush()
            decision = Decision(
                case_id=case_id,
                kind=kind,
                provision=provision,
                fine_cny=fine_cny,
                band=band,
                facts=facts,
                legal_basis=list(dict.fromkeys(legal_basis)),
                explanation=_json(explanation),
                serious=serious,
                proposed_by=actor.user_id,
            )
            s.add(decision)
            case.status = "decision_proposed"
            s.flush()
            audit.append(
                s,
                actor.label,
                "decision.proposed",
                "case",
                case_id,
                {"decision_id": decision.id, "kind": kind, "fine_cny": fine_cny},
            )
            return decision

    def approve_decision(self, actor: Actor, case_id: int) -> Decision:
        """Approve the proposed decision: it takes effect, enters the credit record
        (penalties and warnings) and is published as a disclosure."""
        require(actor, "approve_decision")
        with self.store.session() as s:
            case = self._case_for(s, actor, case_id, lock=True)
            decision = s.execute(
                select(Decision).where(Decision.case_id == case_id)
            ).scalar_one_or_none()
            if case.status != "decision_proposed" or decision is None:
                raise ConflictError(f"case {case_id} has no proposed decision ({case.status})")
            today = self.today()
            decision.status, decision.approved_by, decision.decided_on = (
                "approved",
                actor.user_id,
                today,
            )
            case.status = "decided"
            audit.append(
                s,
                actor.label,
                "decision.approved",
                "case",
                case_id,
                {"decision_id": decision.id, "kind": decision.kind},
            )
            entity = case.subject_entity_id or case.platform_id or f"case-{case.id}"
            if decision.kind in ("penalty", "warning", "no_penalty"):
                outcome = {"penalty": "fine", "warning": "warning", "no_penalty": "no_penalty"}[
                    decision.kind
                ]
                record = {
                    "entity_id": entity,
                    "decided_on": today.isoformat(),
                    "provision": decision.provision or "unspecified",
                    "outcome": outcome,
                    "fine_cny": decision.fine_cny,
                    "band": decision.band,
                    "sector": case.sector,
                    "serious": decision.serious,
                    "decision_id": case.number,
                }
                s.add(CreditEntry(case_id=case_id, entity_id=entity, record=record))
                audit.append(
                    s, actor.label, "credit.recorded", "case", case_id, {"entity_id": entity}
                )
            title = {
                "penalty": "行政处罚决定",
                "warning": "警告",
                "guidance": "行政指导",
                "interview": "约谈",
                "no_penalty": "不予行政处罚决定",
            }[decision.kind]
            s.add(
                Disclosure(
                    case_id=case_id,
                    case_number=case.number,
                    title=f"{title} {case.number}",
                    body={
                        "kind": decision.kind,
                        "subject": entity,
                        "platform_id": case.platform_id,
                        "facts": decision.facts,
                        "legal_basis": decision.legal_basis,
                        "fine_cny": decision.fine_cny,
                        "decided_on": today.isoformat(),
                    },
                    published_on=today,
                )
            )
            audit.append(s, actor.label, "disclosure.published", "case", case_id, {})
            self._event(s, "decision.approved", {"case_id": case_id, "kind": decision.kind})
            return decision

    # ------------------------------------------------------------------ rectification, review

    def order_rectification(
        self, actor: Actor, case_id: int, text: str, working_days: int | None = None
    ) -> Rectification:
        require(actor, "order_rectification")
        with self.store.session() as s:
            case = self._case_for(s, actor, case_id, lock=True)
            if case.status not in ("decided", "review"):
                raise ConflictError(
                    f"case {case_id} is {case.status}: a rectification order needs a decided "
                    "case (or one under review whose conduct continues)"
                )
            today = self.today()
            n = (
                working_days
                if working_days is not None
                else int(self.law.value(RECTIFICATION_DAYS, today))
            )
            from fairwatch.law.calendar import add_working_days

            order = Rectification(
                case_id=case_id,
                order_text=text,
                ordered_on=today,
                due_on=add_working_days(today, n),
            )
            s.add(order)
            case.status = "rectification"
            s.flush()
            audit.append(
                s,
                actor.label,
                "rectification.ordered",
                "case",
                case_id,
                {"due_on": order.due_on.isoformat()},
            )
            self._event(
                s, "rectification.ordered", {"case_id": case_id, "platform_id": case.platform_id}
            )
            return order

    def report_rectification(self, actor: Actor, case_id: int, report: str) -> Rectification:
        """A platform reports its rectification (its own cases only)."""
        require(actor, "report_rectification")
        with self.store.session() as s:
            case = _locked(s, Case, case_id)
            if case.platform_id not in actor.platform_ids:
                raise NotFoundError(f"no case {case_id} for your platforms")
            order = (
                s.execute(
                    select(Rectification)
                    .where(Rectification.case_id == case_id)
                    .order_by(Rectification.id.desc())
                )
                .scalars()
                .first()
            )
            if order is None or case.status != "rectification":
                raise ConflictError(f"case {case_id} has no open rectification order")
            order.report_text, order.reported_on, order.status = report, self.today(), "reported"
            case.status = "review"
            audit.append(s, actor.label, "rectification.reported", "case", case_id, {})
            self._event(s, "rectification.reported", {"case_id": case_id})
            return order

    def review(self, actor: Actor, case_id: int, lake: Path, as_of: dt.date) -> Review:
        """Re-run the originating detector on later data: has the conduct stopped?

        The conduct continues when the detector again reports the same subject with a
        period reaching past the decision date. ``lake`` should hold the data reported
        since the decision (the platform's later batches): a detector whose finding spans
        the whole data (FW101 reports an SKU's whole quote span) would otherwise still
        reach past the decision on the old rows.
        """
        require(actor, "review")
        from fairwatch.detectors.run import scan

        with self.store.session() as s:
            case = self._case_for(s, actor, case_id)
            if case.status not in ("review", "rectification", "decided"):
                raise ConflictError(f"case {case_id} is {case.status}: nothing to review")
            alert = s.execute(
                select(Alert).join(Lead, Lead.alert_id == Alert.id).where(Lead.id == case.lead_id)
            ).scalar_one()
            decided = s.execute(
                select(Decision.decided_on).where(Decision.case_id == case_id)
            ).scalar_one()
            rule, subject_type, subject_id = alert.rule, alert.subject_type, alert.subject_id
        result = scan(lake, None, select=[rule], as_of=as_of)
        again = [
            f
            for f in result.findings
            if f["subject_type"] == subject_type
            and f["subject_id"] == subject_id
            and dt.date.fromisoformat(str(f["period_end"])) > (decided or as_of)
        ]
        with self.store.session() as s:
            rev = Review(
                case_id=case_id,
                as_of=as_of,
                run_id=result.run_id,
                rule=rule,
                stopped=not again,
                findings=[str(f["finding_id"]) for f in again],
            )
            s.add(rev)
            s.flush()
            audit.append(
                s,
                actor.label,
                "case.reviewed",
                "case",
                case_id,
                {"run_id": result.run_id, "stopped": rev.stopped, "findings": rev.findings},
            )
            return rev

    def close_case(self, actor: Actor, case_id: int, note: str = "") -> Case:
        """Close a decided case (after a rectification order: once a review shows it stopped)."""
        require(actor, "close_case")
        with self.store.session() as s:
            case = self._case_for(s, actor, case_id, lock=True)
            if case.status not in ("decided", "review", "rectification"):
                raise ConflictError(f"case {case_id} is {case.status}: it cannot be closed")
            ordered = s.execute(
                select(Rectification).where(Rectification.case_id == case_id)
            ).first()
            if ordered is not None:
                last = (
                    s.execute(
                        select(Review).where(Review.case_id == case_id).order_by(Review.id.desc())
                    )
                    .scalars()
                    .first()
                )
                if last is None or not last.stopped:
                    raise ConflictError(
                        f"case {case_id}: a review must confirm the conduct stopped before closing"
                    )
            case.status, case.closed_on, case.close_note = "closed", self.today(), note
            audit.append(s, actor.label, "case.closed", "case", case_id, {"note": note})
            self._event(s, "case.closed", {"case_id": case_id})
            return case

    # ------------------------------------------------------------------ lists

    def overdue(self, actor: Actor) -> dict[str, list[int]]:
        """Leads past their decision deadline and cases past their conclusion deadline."""
        require(actor, "read_overdue")
        today = self.today()
        with self.store.read() as s:
            leads = (
                s.execute(
                    select(Lead.id).where(
                        Lead.status.in_(("new", "verified")), Lead.deadline < today
                    )
                )
                .scalars()
                .all()
            )
            cases = (
                s.execute(
                    select(Case.id).where(
                        Case.status.notin_(("closed", "pending_approval")), Case.deadline < today
                    )
                )
                .scalars()
                .all()
            )
            return {"leads": list(leads), "cases": list(cases)}

    def disclosures(self, actor: Actor) -> list[Disclosure]:
        require(actor, "read_disclosures")
        with self.store.read() as s:
            return list(s.execute(select(Disclosure).order_by(Disclosure.id.desc())).scalars())

    def own_warnings(self, actor: Actor) -> list[dict[str, Any]]:
        """A platform's warnings: decisions and rectification orders on its own platforms."""
        require(actor, "read_own_warnings")
        with self.store.read() as s:
            rows = s.execute(
                select(Case, Decision)
                .join(Decision, Decision.case_id == Case.id)
                .where(Case.platform_id.in_(actor.platform_ids), Decision.status == "approved")
                .order_by(Case.id)
            ).all()
            out = []
            for case, decision in rows:
                orders = (
                    s.execute(select(Rectification).where(Rectification.case_id == case.id))
                    .scalars()
                    .all()
                )
                out.append(
                    {
                        "case_id": case.id,
                        "case_number": case.number,
                        "platform_id": case.platform_id,
                        "status": case.status,
                        "decision": decision.kind,
                        "fine_cny": decision.fine_cny,
                        "rectification": [
                            {
                                "due_on": o.due_on.isoformat(),
                                "status": o.status,
                                "order": o.order_text,
                            }
                            for o in orders
                        ],
                    }
                )
            return out

    def file_complaint(
        self,
        actor: Actor,
        complainant: str,
        category: str,
        text: str,
        platform_id: str | None = None,
    ) -> Complaint:
        require(actor, "file_complaint")
        if not re.fullmatch(r"[A-Za-z0-9_\-:.]{4,64}", complainant):
            raise UsageError("complainant must be an opaque token (4-64 letters, digits, _-:.)")
        from fairwatch.contract.identifiers import looks_like_phone

        if looks_like_phone(complainant):
            raise UsageError("complainant looks like a phone number: send a pseudonymous token")
        with self.store.session() as s:
            c = Complaint(
                complainant=complainant, category=category, text=text, platform_id=platform_id
            )
            s.add(c)
            s.flush()
            audit.append(
                s, actor.label, "complaint.filed", "complaint", c.id, {"category": category}
            )
            return c

    def complaints(self, actor: Actor) -> list[Complaint]:
        require(actor, "read_complaints")
        with self.store.read() as s:
            return list(s.execute(select(Complaint).order_by(Complaint.id.desc())).scalars())

    def credit_profile(self, actor: Actor, entity_id: str, at: dt.date | None = None) -> Any:
        """The credit engine's profile of an entity from the store's decisions."""
        require(actor, "read_disclosures")
        from fairwatch.law.credit import credit_profile, load_decisions

        with self.store.read() as s:
            records = (
                s.execute(select(CreditEntry.record).where(CreditEntry.entity_id == entity_id))
                .scalars()
                .all()
            )
        return credit_profile(entity_id, load_decisions(records), at or self.today(), self.law)

    def timeline(self, actor: Actor, case_id: int) -> list[audit.AuditEvent]:
        """Every audit event of a case, its lead and its alert, in order."""
        require(actor, "read_cases")
        with self.store.read() as s:
            case = _get(s, Case, case_id)
            lead = _get(s, Lead, case.lead_id)
            events = (
                audit.timeline(s, "case", [str(case_id)])
                + audit.timeline(s, "lead", [str(lead.id)])
                + audit.timeline(s, "alert", [str(lead.alert_id)])
            )
            ev_ids = [
                str(e)
                for e in s.execute(select(Evidence.id).where(Evidence.case_id == case_id)).scalars()
            ]
            events += audit.timeline(s, "evidence", ev_ids)
            return sorted(events, key=lambda e: e.seq)

    # ------------------------------------------------------------------ helpers

    def _working_deadline(self, start: dt.date, parameter: str) -> dt.date:
        from fairwatch.law.calendar import add_working_days

        return add_working_days(start, int(self.law.value(parameter, start)))

    def _open_case(self, s: Session, actor: Actor, case_id: int) -> Case:
        case = self._case_for(s, actor, case_id)
        if case.status in ("pending_approval", "closed"):
            raise ConflictError(f"case {case_id} is {case.status}")
        return case

    @staticmethod
    def _same_bureau(actor: Actor, bureau_id: str, joint: Sequence[str] = ()) -> None:
        """Staff act only on their own bureau's leads and cases (or joint cases)."""
        if actor.bureau_id is None or actor.role == "analyst":
            return
        if actor.bureau_id != bureau_id and actor.bureau_id not in joint:
            raise AuthorizationError(
                f"{actor.label} belongs to bureau {actor.bureau_id}, not {bureau_id}"
            )

    def _case_for(self, s: Session, actor: Actor, case_id: int, lock: bool = False) -> Case:
        case: Case = _locked(s, Case, case_id) if lock else _get(s, Case, case_id)
        self._same_bureau(actor, case.bureau_id, case.joint_bureaus)
        return case

    @staticmethod
    def _event(s: Session, event: str, payload: dict[str, Any]) -> None:
        s.add(Outbox(event=event, payload=payload))


def _get(s: Session, model: Any, object_id: Any) -> Any:
    row = s.get(model, object_id)
    if row is None:
        raise NotFoundError(f"no {model.__tablename__.rstrip('s')} {object_id}")
    return row


def _locked(s: Session, model: Any, object_id: Any) -> Any:
    pk = model.__mapper__.primary_key[0]
    row = s.execute(select(model).where(pk == object_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no {model.__tablename__.rstrip('s')} {object_id}")
    return row


_SEVERITY = ("info", "low", "medium", "high", "critical")


def _max_severity(a: str, b: str) -> str:
    return max((a, b), key=lambda x: _SEVERITY.index(x) if x in _SEVERITY else -1)


def _region_from(f: Mapping[str, Any]) -> str | None:
    subject = str(f.get("subject_id", ""))
    if f.get("subject_type") == "platform_region" and ":" in subject:
        region = subject.rsplit(":", 1)[1]
        return region if re.fullmatch(r"\d{6}", region) else None
    return None


def _is_law(key: str, law: Any) -> bool:
    """Whether a citation is a statute's article a penalty rests on (not screening policy,
    not the no-penalty article)."""
    if key.endswith("fairwatch_policy") or key == "cn.apl.art33":
        return False
    try:
        return not law.citation(key).implements
    except FairwatchError:
        return False


def _safe_name(name: str) -> str:
    return Path(name).name[:300] or "file"


def _json(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
