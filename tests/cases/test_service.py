"""The case service's rules, one at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fairwatch.cases.models import Alert, AlertFinding, AuditEvent, CreditEntry, Lead
from fairwatch.cases.service import (
    DISMISS_REASONS,
    PERMISSIONS,
    ROLES,
    Actor,
    CaseService,
    ConflictError,
    NotFoundError,
    require,
)
from fairwatch.errors import AuthorizationError, UsageError
from fairwatch.law.calendar import add_working_days
from tests.cases.conftest import BUREAU, START, Clock, MakeActor, finding

Actors = dict[str, Actor]


def actions(service: CaseService, action: str) -> list[AuditEvent]:
    with service.store.session() as s:
        return list(
            s.execute(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )


def open_case(
    service: CaseService,
    actors: Actors,
    subject: str,
    *,
    platform: str = "P01",
    sector: str = "other",
) -> int:
    """A case opened on a new alert about ``subject`` (routed to ZJAMR); its id."""
    a, o, s = actors["analyst"], actors["case_officer"], actors["supervisor"]
    fed = service.ingest_findings(
        a, [finding(subject, subject_id=subject, platform_id=platform)], "run-1"
    )
    lead = service.triage(a, fed.created[0], "lead")
    assert isinstance(lead, Lead) and lead.bureau_id == BUREAU
    service.verify_lead(o, lead.id, "checked")
    case = service.propose_case(o, lead.id, sector=sector, entity_id=f"E-{platform}")
    return service.approve_case(s, case.id).id


# ---------------------------------------------------------------------------- alerts


def test_overlapping_and_adjacent_periods_merge_into_the_open_alert(
    service: CaseService, actors: Actors
) -> None:
    a = actors["analyst"]
    first = service.ingest_findings(a, [finding(1)], "run-1")
    assert len(first.created) == 1 and first.merged == []
    alert_id = first.created[0]
    overlapping = finding(2, period_start="2025-05-08", period_end="2025-05-15", score=0.7)
    adjacent = finding(3, period_start="2025-05-16", period_end="2025-05-20", severity="high")
    later = service.ingest_findings(a, [overlapping, adjacent], "run-2")
    assert later.created == [] and later.merged == [alert_id, alert_id]

    alert, findings = service.alert(a, alert_id)
    assert [f.finding_id for f in findings] == ["f-1", "f-2", "f-3"]
    assert [f.run_id for f in findings] == ["run-1", "run-2", "run-2"]
    assert (alert.period_start, alert.period_end) == (dt.date(2025, 5, 1), dt.date(2025, 5, 20))
    assert (alert.score, alert.severity) == (0.7, "high")
    merged = actions(service, "alert.merged")
    assert [(e.object_id, e.payload["finding_id"]) for e in merged] == [
        (str(alert_id), "f-2"),
        (str(alert_id), "f-3"),
    ]


def test_a_separate_period_or_a_dismissed_alert_gives_a_new_alert(
    service: CaseService, actors: Actors
) -> None:
    a = actors["analyst"]
    (first,) = service.ingest_findings(a, [finding(1)], "run-1").created
    gap = finding(2, period_start="2025-05-12", period_end="2025-05-20")  # a day between
    (second,) = service.ingest_findings(a, [gap], "run-1").created
    assert second != first
    other_rule = finding(3, rule="FW102", family="pricing.fictitious_original_price")
    assert service.ingest_findings(a, [other_rule], "run-1").created  # another detector
    service.triage(a, first, "dismiss", reason="false_positive", note="a published member price")
    again = service.ingest_findings(a, [finding(4, period_start="2025-05-05")], "run-2")
    assert len(again.created) == 1 and again.created[0] not in (first, second)
    assert service.alert(a, first)[0].status == "dismissed"


def test_a_finding_received_again_is_skipped(service: CaseService, actors: Actors) -> None:
    a = actors["analyst"]
    fed = service.ingest_findings(a, [finding(1), finding(1)], "run-1")
    assert (len(fed.created), fed.merged, fed.skipped) == (1, [], 1)
    again = service.ingest_findings(a, [finding(1)], "run-2")
    assert (again.created, again.merged, again.skipped) == ([], [], 1)
    with service.store.session() as s:
        assert s.execute(select(func.count(AlertFinding.id))).scalar_one() == 1
        assert s.execute(select(func.count(Alert.id))).scalar_one() == 1


def test_dismissing_needs_one_of_the_four_reasons(service: CaseService, actors: Actors) -> None:
    a = actors["analyst"]
    fed = service.ingest_findings(
        a, [finding(i, subject_id=f"S{i}") for i in range(len(DISMISS_REASONS))], "run-1"
    )
    for reason in (None, "", "not interesting"):
        with pytest.raises(UsageError, match="dismissing needs a reason"):
            service.triage(a, fed.created[0], "dismiss", reason=reason)
    assert service.alert(a, fed.created[0])[0].status == "open"
    for alert_id, reason in zip(fed.created, DISMISS_REASONS, strict=True):
        dismissed = service.triage(a, alert_id, "dismiss", reason=reason, note="n")
        assert isinstance(dismissed, Alert)
        assert (dismissed.status, dismissed.dismiss_reason) == ("dismissed", reason)
    logged = actions(service, "alert.dismissed")
    assert [e.payload["reason"] for e in logged] == list(DISMISS_REASONS)
    with pytest.raises(ConflictError, match="already dismissed"):
        service.triage(a, fed.created[0], "lead")


# ---------------------------------------------------------------------------- leads


@pytest.mark.parametrize(
    ("region", "fields", "bureau", "alert_region"),
    [
        ("330106", {}, "HZAMR", "330106"),  # Hangzhou, Xihu district: the city bureau
        ("330282", {}, "NBAMR", "330282"),
        (
            "330106",
            {
                "rule": "FW701",
                "family": "structure.unnotified_concentration",
                "subject_type": "deal",
                "subject_id": "D0001",
            },
            "SAMR",  # concentrations: SAMR, wherever they happen
            "330106",
        ),
        ("330106", {"family": "pricing.collusion"}, "ZJAMR", "330106"),  # the province (AML)
        (None, {}, "ZJAMR", "330000"),  # region unknown: the province's default region
        ("110105", {}, "ZJAMR", "110105"),  # outside the province: the fallback rule
        (None, {"subject_type": "platform_region", "subject_id": "P01:330302"}, "WZAMR", "330302"),
    ],
    ids=["hangzhou", "ningbo", "structure", "collusion", "unknown", "beijing", "platform_region"],
)
def test_leads_are_routed_by_region_and_family(
    service: CaseService,
    actors: Actors,
    region: str | None,
    fields: dict[str, Any],
    bureau: str,
    alert_region: str,
) -> None:
    a = actors["analyst"]
    fed = service.ingest_findings(a, [finding(1, **fields)], "run-1", region_of=lambda f: region)
    alert, _ = service.alert(a, fed.created[0])
    assert alert.region_code == alert_region
    lead = service.triage(a, alert.id, "lead")
    assert isinstance(lead, Lead) and lead.bureau_id == bureau
    (created,) = actions(service, "lead.created")
    assert created.payload["bureau_id"] == bureau


def test_lead_deadline_is_15_working_days_across_spring_festival(
    service: CaseService, actors: Actors, clock: Clock
) -> None:
    a = actors["analyst"]
    fed = service.ingest_findings(a, [finding(i, subject_id=f"S{i}") for i in (1, 2)], "run-1")
    clock.day = dt.date(2025, 1, 24)  # Friday before the Spring Festival
    lead = service.triage(a, fed.created[0], "lead")
    assert isinstance(lead, Lead) and lead.found_on == dt.date(2025, 1, 24)
    # Counted by hand: Sun 26 Jan and Mon 27 Jan are worked (1, 2), 28 Jan - 4 Feb is the
    # holiday, 5-7 Feb (3-5), Sat 8 Feb is worked (6), 10-14 Feb (7-11), 17-20 Feb (12-15).
    assert lead.deadline == dt.date(2025, 2, 20)
    clock.day = dt.date(2025, 9, 26)  # before the National Day holiday
    other = service.triage(a, fed.created[1], "lead")
    assert isinstance(other, Lead) and other.deadline == add_working_days(clock.day, 15)


def test_overdue_lists_leads_and_cases_past_their_deadlines(
    service: CaseService, actors: Actors, clock: Clock
) -> None:
    a, o = actors["analyst"], actors["case_officer"]
    fed = service.ingest_findings(a, [finding(i, subject_id=f"S{i}") for i in (1, 2, 3)], "r")
    waiting, verified, closed = (service.triage(a, i, "lead") for i in fed.created)
    assert isinstance(waiting, Lead) and isinstance(verified, Lead) and isinstance(closed, Lead)
    service.verify_lead(o, verified.id, "checked")
    service.close_lead(o, closed.id, "not our matter")
    case_id = open_case(service, actors, "S9")  # its lead was decided in time: a case
    assert service.overdue(a) == {"leads": [], "cases": []}
    clock.day = waiting.deadline
    assert service.overdue(a) == {"leads": [], "cases": []}  # due today: not late yet
    clock.advance()
    assert service.overdue(a) == {"leads": [waiting.id, verified.id], "cases": []}
    deadline = service.case(o, case_id).deadline
    assert deadline == START + dt.timedelta(days=90)  # opened on START: 90 calendar days
    clock.day = deadline
    assert service.overdue(o)["cases"] == []
    clock.advance()
    assert service.overdue(o)["cases"] == [case_id]


# ---------------------------------------------------------------------------- decisions


def test_a_sandbox_case_defaults_to_an_interview(service: CaseService, actors: Actors) -> None:
    o, s = actors["case_officer"], actors["supervisor"]
    case_id = open_case(service, actors, "S1", sector="sandbox")
    decision = service.propose_decision(o, case_id, facts="a new business form")
    assert (decision.kind, decision.fine_cny) == ("interview", None)
    service.approve_decision(s, case_id)
    with service.store.session() as sess:  # an interview is no sanction: no credit entry
        assert sess.execute(select(func.count(CreditEntry.id))).scalar_one() == 0
    (published,) = service.disclosures(actors["public"])
    assert published.body["kind"] == "interview"
    other = open_case(service, actors, "S2")  # outside the sandbox: a penalty by default
    with pytest.raises(UsageError, match="needs the violated provision"):
        service.propose_decision(o, other)


def test_no_penalty_cites_apl_article_33(service: CaseService, actors: Actors) -> None:
    o, s = actors["case_officer"], actors["supervisor"]
    case_id = open_case(service, actors, "S1")
    decision = service.propose_decision(o, case_id, kind="no_penalty", facts="first, minor")
    assert "cn.apl.art33" in decision.legal_basis and decision.fine_cny is None
    service.approve_decision(s, case_id)
    profile = service.credit_profile(actors["public"], "E-P01")
    assert [r.decision.outcome.value for r in profile.records] == ["no_penalty"]


def test_platforms_see_only_their_own_warnings(
    service: CaseService, actors: Actors, make_actor: MakeActor
) -> None:
    o, s = actors["case_officer"], actors["supervisor"]
    mine = open_case(service, actors, "S1", platform="P01")
    theirs = open_case(service, actors, "S2", platform="P02")
    for case_id in (mine, theirs):
        service.propose_decision(o, case_id, kind="warning", facts="hidden markups")
        service.approve_decision(s, case_id)
        service.order_rectification(o, case_id, "quote everyone the list price")
    p01, p02 = actors["platform"], make_actor("plat2", "platform", platform_ids=["P02"])
    assert [w["case_id"] for w in service.own_warnings(p01)] == [mine]
    (warning,) = service.own_warnings(p02)
    assert warning["case_id"] == theirs and warning["decision"] == "warning"
    assert warning["rectification"][0]["status"] == "ordered"
    with pytest.raises(NotFoundError):
        service.report_rectification(p01, theirs, "we fixed their platform")
    assert service.case(o, theirs).status == "rectification"
    order = service.report_rectification(p01, mine, "fixed")
    assert order.status == "reported" and service.case(o, mine).status == "review"


# ---------------------------------------------------------------------------- evidence


def test_evidence_is_content_addressed(
    service: CaseService, actors: Actors, store_evidence: Path
) -> None:
    o = actors["case_officer"]
    first, second = open_case(service, actors, "S1"), open_case(service, actors, "S2")
    content = b"quote screenshots, 2025-05-01"
    digest = hashlib.sha256(content).hexdigest()
    ev = service.add_evidence(o, first, content, "../../quotes.txt", "text/plain")
    assert (ev.sha256, ev.size, ev.filename) == (digest, len(content), "quotes.txt")
    assert service.add_evidence(o, first, content, "again.txt").id == ev.id  # same bytes
    elsewhere = service.add_evidence(o, second, content, "quotes.txt")
    assert elsewhere.id != ev.id and elsewhere.sha256 == digest
    path = store_evidence / digest[:2] / digest
    assert service.evidence_path(digest) == path and path.read_bytes() == content
    assert [p.name for p in store_evidence.rglob("*") if p.is_file()] == [digest]

    read, data = service.read_evidence(o, ev.id)
    assert (read.id, data) == (ev.id, content)
    custody = service.custody(o, ev.id)
    assert [e.action for e in custody] == ["evidence.added", "evidence.read"]
    path.write_bytes(b"quote screenshots, edited")
    with pytest.raises(ConflictError, match="does not match its hash"):
        service.read_evidence(o, ev.id)


@pytest.fixture
def store_evidence(service: CaseService) -> Path:
    return service.store.evidence_dir


# ---------------------------------------------------------------------------- roles

MISSING = 999_999
Call = Callable[[CaseService, Actor, Path], object]

#: operation -> calls that exercise it (an object that does not exist: the role check
#: comes first, so an allowed role gets past it to "not found")
CALLS: dict[str, list[Call]] = {
    "ingest_findings": [lambda svc, a, _: svc.ingest_findings(a, [], "run")],
    "read_alerts": [lambda svc, a, _: svc.alerts(a), lambda svc, a, _: svc.alert(a, MISSING)],
    "triage": [lambda svc, a, _: svc.triage(a, MISSING, "lead")],
    "assign": [lambda svc, a, _: svc.assign(a, "lead", MISSING, MISSING)],
    "read_leads": [lambda svc, a, _: svc.leads(a)],
    "verify_lead": [lambda svc, a, _: svc.verify_lead(a, MISSING, "ok")],
    "close_lead": [lambda svc, a, _: svc.close_lead(a, MISSING, "no")],
    "propose_case": [lambda svc, a, _: svc.propose_case(a, MISSING)],
    "approve_case": [
        lambda svc, a, _: svc.approve_case(a, MISSING),
        lambda svc, a, _: svc.add_joint_bureau(a, MISSING, "HZAMR"),
    ],
    "read_cases": [
        lambda svc, a, _: svc.cases(a),
        lambda svc, a, _: svc.case(a, MISSING),
        lambda svc, a, _: svc.timeline(a, MISSING),
    ],
    "work_case": [
        lambda svc, a, _: svc.add_task(a, MISSING, "call the platform"),
        lambda svc, a, _: svc.complete_task(a, MISSING),
        lambda svc, a, _: svc.add_evidence(a, MISSING, b"x", "x.txt"),
        lambda svc, a, _: svc.read_evidence(a, MISSING),
    ],
    "propose_decision": [lambda svc, a, _: svc.propose_decision(a, MISSING, kind="warning")],
    "approve_decision": [lambda svc, a, _: svc.approve_decision(a, MISSING)],
    "order_rectification": [lambda svc, a, _: svc.order_rectification(a, MISSING, "fix")],
    "report_rectification": [lambda svc, a, _: svc.report_rectification(a, MISSING, "done")],
    "review": [lambda svc, a, lake: svc.review(a, MISSING, lake, dt.date(2025, 6, 2))],
    "close_case": [lambda svc, a, _: svc.close_case(a, MISSING)],
    "read_own_warnings": [lambda svc, a, _: svc.own_warnings(a)],
    "submit_batch": [lambda svc, a, _: require(a, "submit_batch")],  # an API route
    "read_disclosures": [
        lambda svc, a, _: svc.disclosures(a),
        lambda svc, a, _: svc.credit_profile(a, "E-P01"),
    ],
    "file_complaint": [lambda svc, a, _: svc.file_complaint(a, "tok-0001", "pricing", "text")],
    "read_complaints": [lambda svc, a, _: svc.complaints(a)],
    "read_audit": [lambda svc, a, _: svc.custody(a, MISSING)],
    "manage_webhooks": [lambda svc, a, _: require(a, "manage_webhooks")],  # an API route
    "read_overdue": [lambda svc, a, _: svc.overdue(a)],
}


def test_every_operation_enforces_its_roles(
    service: CaseService, actors: Actors, tmp_path: Path
) -> None:
    assert set(CALLS) == set(PERMISSIONS), "every operation of the matrix needs a call here"
    wrong: list[str] = []
    for operation, calls in CALLS.items():
        for role in ROLES:
            allowed = role in PERMISSIONS[operation]
            for k, call in enumerate(calls):
                try:
                    call(service, actors[role], tmp_path)
                    outcome = "ok"
                except AuthorizationError:
                    outcome = "denied"
                except (NotFoundError, ConflictError, UsageError):
                    outcome = "ok"  # past the role check
                if outcome != ("ok" if allowed else "denied"):
                    wrong.append(f"{operation}[{k}] as {role}: {outcome}")
    assert wrong == []
    assert len(actions(service, "complaint.filed")) == len(PERMISSIONS["file_complaint"])


def test_officers_act_only_for_their_own_bureau(
    service: CaseService, actors: Actors, make_actor: MakeActor
) -> None:
    a = actors["analyst"]
    fed = service.ingest_findings(a, [finding(1)], "run-1", region_of=lambda f: "330106")
    lead = service.triage(a, fed.created[0], "lead")
    assert isinstance(lead, Lead) and lead.bureau_id == "HZAMR"
    with pytest.raises(AuthorizationError, match="belongs to bureau ZJAMR"):
        service.verify_lead(actors["case_officer"], lead.id, "checked")
    hangzhou = make_actor("hz", "case_officer", bureau_id="HZAMR")
    assert service.verify_lead(hangzhou, lead.id, "checked").status == "verified"
