"""Pages: the console's case work (analysts, case officers, supervisors).

The cockpit (charts of the case store's alerts and findings, open and overdue work, the
traffic light of the lake's deals), the alert queue with triage, an alert's merged
findings, the leads (verify, propose a case, close), the cases and the case page with
every step of a case: approval, evidence, tasks, the decision with the penalty
calculator's explanation, rectification, review, closing and the case documents (PDF).

Every action is an htmx ``POST`` answering with the HTML of what it changed (a queue
row, a lead card, the case body) and a message (``role="status"`` on success,
``role="alert"`` on failure, with status 200 so htmx swaps it in). Without JavaScript
the same forms post normally: the answer is then the whole page (or a redirect).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from fairwatch.cases.models import (
    Alert,
    AlertFinding,
    Bureau,
    Case,
    Decision,
    Evidence,
    Lead,
    Rectification,
    Review,
    Task,
    User,
)
from fairwatch.cases.service import (
    DECISION_KINDS,
    DISMISS_REASONS,
    OBSERVATION_SECTORS,
    Actor,
    NotFoundError,
)
from fairwatch.errors import FairwatchError, UsageError
from fairwatch.web import i18n
from fairwatch.web.app import (
    allowed,
    check_same_origin,
    gettext,
    lake_of,
    language,
    page,
    require_page,
    service_of,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_ID = 2**31 - 1
ALERT_STATUSES = ("open", "lead", "dismissed")
LEAD_STATUSES = ("new", "verified", "case", "closed")
CASE_STATUSES = (
    "pending_approval",
    "open",
    "decision_proposed",
    "decided",
    "rectification",
    "review",
    "closed",
)
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
SEVERITY_BADGE = {"critical": "red", "high": "red", "medium": "yellow", "low": "green"}
CASE_BADGE = {
    "pending_approval": "yellow",
    "decision_proposed": "yellow",
    "rectification": "yellow",
    "review": "yellow",
    "decided": "green",
    "closed": "green",
}
LEAD_BADGE = {"new": "yellow", "verified": "green", "closed": ""}
#: sectors a case can be filed under (the credit rules and observation periods read them)
BASE_SECTORS = ("other", "retail", "food_delivery", "food", "drugs", "special_equipment")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")
_SECTOR = re.compile(r"^[a-z_]{1,32}$")
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,48}/[A-Za-z0-9][\w.+-]{0,48}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------- helpers


def _tr(request: Request, message: str, **params: Any) -> str:
    """``message`` in the page's language, formatted with ``params``."""
    text = i18n.translations(language(request)).gettext(message)
    return text % params if params else text


def _code(request: Request, code: str) -> str:
    """A vocabulary code in the page's language (see :func:`label`)."""
    text = _tr(request, code)
    return text.replace("_", " ") if text == code else text


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _ok(text: str, section: str = "") -> dict[str, str]:
    return {"kind": "ok", "text": text, "section": section}


def _err(text: str, section: str = "") -> dict[str, str]:
    return {"kind": "error", "text": text, "section": section}


def _failure(request: Request, exc: FairwatchError) -> str:
    from fairwatch.api.errors import classify

    status, _kind, message = classify(exc)
    if status >= 500:
        log.exception("console action failed", exc_info=exc)
    return _tr(request, "Not done: %(reason)s", reason=message)


def _status_of(exc: FairwatchError) -> int:
    from fairwatch.api.errors import classify

    return classify(exc)[0]


def _error_page(request: Request, actor: Actor, exc: FairwatchError) -> Response:
    return page(
        request,
        "error.html",
        "Not done",
        status_code=_status_of(exc),
        actor=actor,
        message=_failure(request, exc),
    )


def _check_id(value: int, what: str) -> None:
    if not 1 <= value <= MAX_ID:
        raise NotFoundError(f"no {what} {value}")


def _clean(text: str, limit: int = 20_000) -> str:
    """Free text as the store takes it: no NUL (PostgreSQL refuses it), bounded."""
    text = text.replace("\x00", "").strip()
    if len(text) > limit:
        raise UsageError(f"text is limited to {limit} characters")
    return text


def _date(value: str, what: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what} must be a date (YYYY-MM-DD), not {value[:40]!r}") from None
    if not dt.date(1980, 1, 1) <= day <= dt.date(2199, 12, 31):
        raise UsageError(f"{what} must lie between 1980-01-01 and 2199-12-31")
    return day


def _amount(value: str, what: str) -> float | None:
    value = value.strip().replace(",", "").replace("_", "")
    if not value:
        return None
    try:
        amount = float(value)
    except ValueError:
        raise UsageError(f"{what} must be a number of yuan, not {value[:40]!r}") from None
    if not 0 <= amount <= 1e16:
        raise UsageError(f"{what} must lie between 0 and 1e16")
    return amount


def _int(value: str, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 1_000_000))
    except (TypeError, ValueError):
        return default


def _plain(value: Any) -> str:
    """A statistic's value as short text."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return f"{int(value):,}"
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)[:500]
    return "—" if value is None else str(value)


def _citation(law: Any, key: str) -> dict[str, Any]:
    try:
        c = law.citation(key)
    except FairwatchError:
        return {"key": key, "label": key, "verified": True, "url": None}
    return {"key": key, "label": c.label(), "verified": c.verified, "url": c.url}


def _sectors(service: Any) -> list[str]:
    try:
        observed = [str(s) for s in service.law.value(OBSERVATION_SECTORS, service.today())]
    except FairwatchError:
        observed = ["sandbox"]
    return list(dict.fromkeys([*BASE_SECTORS, *observed, "sandbox"]))


def label(code: str) -> str:
    """A vocabulary code (status, reason, kind...) in the page's language: its translation,
    else the code with spaces for underscores (English)."""
    text = gettext(code)
    return text.replace("_", " ") if text == code else text


def _page(request: Request, template: str, title: str, **context: Any) -> HTMLResponse:
    return page(request, template, title, label=label, **context)


def _can(actor: Actor) -> Callable[[str], bool]:
    return lambda operation: allowed(actor, operation)


def _money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.2f}"


# ---------------------------------------------------------------------- the cockpit


def deal_colours(lake: Path, law: Any) -> dict[str, int]:
    """Deals of the lake by traffic-light colour (the deal pages' cached lights)."""
    from fairwatch.web.lake import all_lights, lake_data

    counts = Counter(str(light.colour) for light in all_lights(lake_data(lake), law))
    return {colour: counts.get(colour, 0) for colour in ("red", "yellow", "green")}


def _ranked(rows: Iterable[tuple[Any, int, int]], limit: int = 20) -> list[dict[str, Any]]:
    ranked = sorted(("—" if k is None else str(k), int(f), int(a)) for k, f, a in rows)
    ranked.sort(key=lambda r: (-r[1], -r[2]))
    return [{"label": k, "findings": f, "alerts": a} for k, f, a in ranked[:limit]]


def _counts(s: Any, model: Any) -> dict[str, int]:
    """Rows of ``model`` by status."""
    q = select(model.status, func.count(model.id)).group_by(model.status)
    return {str(status): int(n) for status, n in s.execute(q)}


def _cockpit_counts(store: Any) -> dict[str, Any]:
    found = func.count(AlertFinding.id)
    alerts = func.count(func.distinct(Alert.id))

    def by(column: Any) -> list[dict[str, Any]]:
        q = (
            select(column, found, alerts)
            .select_from(Alert)
            .outerjoin(AlertFinding, AlertFinding.alert_id == Alert.id)
            .group_by(column)
        )
        return _ranked((k, f, a) for k, f, a in s.execute(q))

    with store.read() as s:
        family, platform, region = by(Alert.family), by(Alert.platform_id), by(Alert.region_code)
        weekly_rows = s.execute(
            select(Alert.period_start, Alert.severity, func.count(Alert.id)).group_by(
                Alert.period_start, Alert.severity
            )
        ).all()
        weekly: dict[dt.date, Counter[str]] = defaultdict(Counter)
        for start, severity, n in weekly_rows:
            monday = start - dt.timedelta(days=start.weekday())
            weekly[monday][str(severity)] += int(n)
        statuses = _counts(s, Alert)
        case_statuses = _counts(s, Case)
    weeks = sorted(weekly)
    if weeks and (weeks[-1] - weeks[0]).days <= 7 * 156:  # fill the empty weeks between
        weeks = [
            weeks[0] + dt.timedelta(days=7 * i) for i in range((weeks[-1] - weeks[0]).days // 7 + 1)
        ]
    severities = [sev for sev in SEVERITY_ORDER if any(weekly[w][sev] for w in weeks)]
    return {
        "family": family,
        "platform": platform,
        "region": region,
        "weeks": [
            {"week": w.isoformat(), "counts": {sev: weekly[w][sev] for sev in severities}}
            for w in weeks
        ],
        "severities": severities,
        "alert_statuses": {k: int(statuses.get(k, 0)) for k in ALERT_STATUSES},
        "case_statuses": {k: int(case_statuses.get(k, 0)) for k in CASE_STATUSES},
    }


@router.get("/console", response_class=HTMLResponse)
def cockpit(request: Request) -> Response:
    actor = require_page(request, "read_alerts")
    if not isinstance(actor, Actor):
        return actor
    service = service_of(request)
    counts = _cockpit_counts(service.store)
    leads = service.leads(actor)
    open_leads = sum(1 for lead in leads if lead.status in ("new", "verified"))
    overdue = service.overdue(actor)
    lake = lake_of(request)
    deals: dict[str, int] | None = None
    deals_error = ""
    if lake is not None:
        if not Path(lake).is_dir():
            deals_error = _tr(request, "The lake folder %(path)s does not exist.", path=lake)
        else:
            try:
                deals = deal_colours(Path(lake), service.law)
            except Exception as exc:  # the cockpit stays usable when screening fails
                log.exception("screening the lake's deals failed")
                deals_error = _tr(request, "Screening the deals failed: %(reason)s", reason=exc)

    def series(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {"labels": [r["label"] for r in rows], "values": [r["findings"] for r in rows]}

    chart_data = {
        "findings": _tr(request, "Findings"),
        "family": series(counts["family"]),
        "platform": series(counts["platform"]),
        "region": series(counts["region"]),
        "weekly": {
            "weeks": [w["week"] for w in counts["weeks"]],
            "series": [
                {
                    "name": _code(request, sev),
                    "key": sev,
                    "data": [w["counts"][sev] for w in counts["weeks"]],
                }
                for sev in counts["severities"]
            ],
        },
        "deals": None
        if not deals
        else [
            {"name": _code(request, colour), "key": colour, "value": n}
            for colour, n in deals.items()
        ],
    }
    return _page(
        request,
        "console/cockpit.html",
        "Cockpit",
        actor=actor,
        counts=counts,
        chart_data=chart_data,
        open_leads=open_leads,
        overdue=overdue,
        has_lake=lake is not None,
        deals=deals,
        deals_error=deals_error,
        severity_badge=SEVERITY_BADGE,
    )


# ---------------------------------------------------------------------- alerts


def _leads_of(store: Any, alert_ids: list[int]) -> dict[int, Lead]:
    if not alert_ids:
        return {}
    with store.read() as s:
        rows = s.execute(select(Lead).where(Lead.alert_id.in_(alert_ids))).scalars()
        return {lead.alert_id: lead for lead in rows}


def _alert_context(actor: Actor) -> dict[str, Any]:
    return {
        "can": _can(actor),
        "reasons": DISMISS_REASONS,
        "severity_badge": SEVERITY_BADGE,
    }


@router.get("/console/alerts", response_class=HTMLResponse)
def alert_queue(request: Request, status: str = "open") -> Response:
    actor = require_page(request, "read_alerts")
    if not isinstance(actor, Actor):
        return actor
    status = status if status in ALERT_STATUSES else "open"
    number = _int(request.query_params.get("page", "1"))
    service = service_of(request)
    rows = service.alerts(actor, status, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    with service.store.read() as s:
        totals = _counts(s, Alert)
    return _page(
        request,
        "console/alerts.html",
        "Alerts",
        actor=actor,
        alerts=rows,
        leads=_leads_of(service.store, [a.id for a in rows]),
        status=status,
        statuses=ALERT_STATUSES,
        totals={k: int(totals.get(k, 0)) for k in ALERT_STATUSES},
        page_no=number,
        more=more,
        page_size=PAGE_SIZE,
        message=None,
        **_alert_context(actor),
    )


@router.post("/console/alerts/{alert_id}/triage", response_class=HTMLResponse)
def triage(
    request: Request,
    alert_id: int,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "row",
) -> Response:
    actor = require_page(request, "triage")
    if not isinstance(actor, Actor):
        return actor
    service = service_of(request)
    try:
        check_same_origin(request)
        _check_id(alert_id, "alert")
        result = service.triage(actor, alert_id, action, reason or None, _clean(note) or None)
        if isinstance(result, Lead):
            message = _ok(
                _tr(
                    request,
                    "Lead %(lead)s created and routed to bureau %(bureau)s.",
                    lead=result.id,
                    bureau=result.bureau_id,
                )
            )
        else:
            message = _ok(
                _tr(request, "Alert dismissed: %(reason)s.", reason=_code(request, reason))
            )
    except FairwatchError as exc:
        if not _htmx(request):
            return _error_page(request, actor, exc)
        message = _err(_failure(request, exc))
    if not _htmx(request):
        target = f"/console/alerts/{alert_id}" if view == "detail" else "/console/alerts"
        return RedirectResponse(target, status_code=303)
    try:
        alert, _findings = service.alert(actor, alert_id)
    except FairwatchError:
        return _page(request, "console/_message.html", "Alerts", actor=actor, message=message)
    return _page(
        request,
        "console/_triage_box.html" if view == "detail" else "console/_alert_row.html",
        "Alerts",
        actor=actor,
        alert=alert,
        lead=_leads_of(service.store, [alert.id]).get(alert.id),
        message=message,
        **_alert_context(actor),
    )


@router.get("/console/alerts/{alert_id}", response_class=HTMLResponse)
def alert_detail(request: Request, alert_id: int) -> Response:
    actor = require_page(request, "read_alerts")
    if not isinstance(actor, Actor):
        return actor
    service = service_of(request)
    try:
        _check_id(alert_id, "alert")
        alert, findings = service.alert(actor, alert_id)
    except FairwatchError as exc:
        return _error_page(request, actor, exc)
    views = []
    for f in findings:
        payload = dict(f.payload or {})
        stats = payload.get("statistics") or {}
        evidence = payload.get("evidence") or []
        views.append(
            {
                "finding_id": f.finding_id,
                "run_id": f.run_id,
                "received_at": f.received_at,
                "period": f"{payload.get('period_start', '?')} – {payload.get('period_end', '?')}",
                "severity": str(payload.get("severity", "")),
                "score": payload.get("score"),
                "as_of": payload.get("as_of"),
                "statistics": [(str(k), _plain(v)) for k, v in dict(stats).items()]
                if isinstance(stats, dict)
                else [("value", _plain(stats))],
                "evidence": [
                    {
                        "table": str(e.get("table", "")),
                        "ids": [str(i) for i in (e.get("ids") or [])[:20]],
                        "more": max(0, len(e.get("ids") or []) - 20),
                        "note": e.get("note") or "",
                    }
                    if isinstance(e, dict)
                    else {"table": "", "ids": [_plain(e)], "more": 0, "note": ""}
                    for e in evidence
                ],
                "legal_basis": [
                    _citation(service.law, str(k)) for k in payload.get("legal_basis") or []
                ],
            }
        )
    lead = _leads_of(service.store, [alert.id]).get(alert.id)
    case_id = None
    if lead is not None:
        with service.store.read() as s:
            case_id = s.execute(select(Case.id).where(Case.lead_id == lead.id)).scalar()
    return _page(
        request,
        "console/alert.html",
        _tr(request, "Alert %(id)s", id=alert.id),
        actor=actor,
        alert=alert,
        lead=lead,
        case_id=case_id,
        findings=views,
        legal_basis=[_citation(service.law, str(k)) for k in alert.legal_basis or []],
        message=None,
        **_alert_context(actor),
    )


# ---------------------------------------------------------------------- leads


def _lead_extras(store: Any, leads: list[Lead]) -> tuple[dict[int, Alert], dict[int, Case]]:
    if not leads:
        return {}, {}
    with store.read() as s:
        alerts = {
            a.id: a
            for a in s.execute(
                select(Alert).where(Alert.id.in_([lead.alert_id for lead in leads]))
            ).scalars()
        }
        cases = {
            c.lead_id: c
            for c in s.execute(
                select(Case).where(Case.lead_id.in_([lead.id for lead in leads]))
            ).scalars()
        }
    return alerts, cases


def _lead_context(request: Request, actor: Actor, leads: list[Lead]) -> dict[str, Any]:
    service = service_of(request)
    alerts, cases = _lead_extras(service.store, leads)
    return {
        "alerts": alerts,
        "cases": cases,
        "can": _can(actor),
        "today": service.today(),
        "sectors": _sectors(service),
        "lead_badge": LEAD_BADGE,
    }


@router.get("/console/leads", response_class=HTMLResponse)
def leads_page(request: Request, status: str = "") -> Response:
    actor = require_page(request, "read_leads")
    if not isinstance(actor, Actor):
        return actor
    status = status if status in LEAD_STATUSES else ""
    leads = service_of(request).leads(actor, status or None)
    return _page(
        request,
        "console/leads.html",
        "Leads",
        actor=actor,
        leads=leads,
        status=status,
        statuses=LEAD_STATUSES,
        message=None,
        **_lead_context(request, actor, leads),
    )


def _lead_action(
    request: Request,
    lead_id: int,
    operation: str,
    work: Callable[[Actor], str],
) -> Response:
    actor = require_page(request, operation)
    if not isinstance(actor, Actor):
        return actor
    service = service_of(request)
    try:
        check_same_origin(request)
        _check_id(lead_id, "lead")
        message = _ok(work(actor))
    except FairwatchError as exc:
        if not _htmx(request):
            return _error_page(request, actor, exc)
        message = _err(_failure(request, exc))
    if not _htmx(request):
        return RedirectResponse("/console/leads", status_code=303)
    with service.store.read() as s:
        lead = s.get(Lead, lead_id)
    if lead is None:
        return _page(request, "console/_message.html", "Leads", actor=actor, message=message)
    return _page(
        request,
        "console/_lead.html",
        "Leads",
        actor=actor,
        lead=lead,
        message=message,
        **_lead_context(request, actor, [lead]),
    )


@router.post("/console/leads/{lead_id}/verify", response_class=HTMLResponse)
def verify_lead(request: Request, lead_id: int, note: Annotated[str, Form()] = "") -> Response:
    def work(actor: Actor) -> str:
        service_of(request).verify_lead(actor, lead_id, _clean(note))
        return _tr(request, "Lead %(id)s verified.", id=lead_id)

    return _lead_action(request, lead_id, "verify_lead", work)


@router.post("/console/leads/{lead_id}/case", response_class=HTMLResponse)
def propose_case(
    request: Request,
    lead_id: int,
    sector: Annotated[str, Form()] = "other",
    entity_id: Annotated[str, Form()] = "",
) -> Response:
    def work(actor: Actor) -> str:
        if not _SECTOR.fullmatch(sector):
            raise UsageError("sector must be lower-case letters and _ (at most 32)")
        entity = entity_id.strip()
        if entity and not _IDENTIFIER.fullmatch(entity):
            raise UsageError("entity id: 1-64 letters, digits and _-.: only")
        case = service_of(request).propose_case(
            actor, lead_id, sector=sector, entity_id=entity or None
        )
        return _tr(
            request,
            "Case %(id)s proposed; a supervisor approves its opening.",
            id=case.id,
        )

    return _lead_action(request, lead_id, "propose_case", work)


@router.post("/console/leads/{lead_id}/close", response_class=HTMLResponse)
def close_lead(request: Request, lead_id: int, reason: Annotated[str, Form()] = "") -> Response:
    def work(actor: Actor) -> str:
        service_of(request).close_lead(actor, lead_id, _clean(reason))
        return _tr(request, "Lead %(id)s closed.", id=lead_id)

    return _lead_action(request, lead_id, "close_lead", work)


# ---------------------------------------------------------------------- cases


@router.get("/console/cases", response_class=HTMLResponse)
def cases_page(request: Request, status: str = "") -> Response:
    actor = require_page(request, "read_cases")
    if not isinstance(actor, Actor):
        return actor
    status = status if status in CASE_STATUSES else ""
    service = service_of(request)
    cases = service.cases(actor, status or None)
    with service.store.read() as s:
        totals = _counts(s, Case)
    return _page(
        request,
        "console/cases.html",
        "Cases",
        actor=actor,
        cases=cases,
        status=status,
        statuses=CASE_STATUSES,
        totals={k: int(totals.get(k, 0)) for k in CASE_STATUSES},
        today=service.today(),
        case_badge=CASE_BADGE,
    )


def _case_context(
    request: Request, actor: Actor, case_id: int, message: dict[str, str] | None = None
) -> dict[str, Any]:
    """Everything the case body shows (raises NotFoundError for an unknown case)."""
    from fairwatch.law.penalty import CIRCUMSTANCE_HELP, PROVISIONS
    from fairwatch.report.documents import case_documents

    service = service_of(request)
    _check_id(case_id, "case")
    case = service.case(actor, case_id)
    with service.store.read() as s:

        def rows(model: Any) -> list[Any]:
            q = select(model).where(model.case_id == case_id).order_by(model.id)
            return list(s.execute(q).scalars())

        lead = s.get(Lead, case.lead_id)
        alert = s.get(Alert, lead.alert_id) if lead is not None else None
        decision = s.execute(
            select(Decision).where(Decision.case_id == case_id)
        ).scalar_one_or_none()
        tasks, evidence = rows(Task), rows(Evidence)
        rectifications, reviews = rows(Rectification), rows(Review)
        bureaus = {b.id: b.name for b in s.execute(select(Bureau)).scalars()}
        user_ids = {case.officer_id, case.approved_by}
        if decision is not None:
            user_ids |= {decision.proposed_by, decision.approved_by}
        user_ids |= {e.added_by for e in evidence}
        user_ids.discard(None)
        users = {
            u.id: u.username for u in s.execute(select(User).where(User.id.in_(user_ids))).scalars()
        }
    timeline = service.timeline(actor, case_id)
    documents: list[tuple[str, bool]] = []
    if case.status != "pending_approval":
        docs = case_documents(service.store, case_id, service.law, drafts=True)
        documents = [(name, bool(context.get("draft"))) for name, (_k, context) in docs.items()]
    today = service.today()
    explanation = dict(decision.explanation or {}) if decision is not None else {}
    return {
        "case": case,
        "lead": lead,
        "alert": alert,
        "decision": decision,
        "explanation": explanation,
        "decision_basis": [_citation(service.law, str(k)) for k in decision.legal_basis]
        if decision is not None
        else [],
        "provision_title": PROVISIONS[decision.provision].title
        if decision is not None and decision.provision in PROVISIONS
        else "",
        "tasks": tasks,
        "evidence": evidence,
        "rectifications": rectifications,
        "reviews": reviews,
        "bureaus": bureaus,
        "users": users,
        "timeline": timeline,
        "documents": documents,
        "today": today,
        "overdue": case.deadline is not None
        and case.deadline < today
        and case.status not in ("closed", "pending_approval"),
        "default_kind": service.default_measure(case.sector, today) or "penalty",
        "kinds": DECISION_KINDS,
        "provisions": sorted((k, p.title) for k, p in PROVISIONS.items()),
        "circumstances": [(c.value, text) for c, text in CIRCUMSTANCE_HELP.items()],
        "has_lake": lake_of(request) is not None,
        "can": _can(actor),
        "message": message,
        "case_badge": CASE_BADGE,
        "money": _money,
        "payload_text": _payload_text,
    }


def _payload_text(payload: Any) -> str:
    if not isinstance(payload, dict):
        return _plain(payload)
    return "; ".join(f"{k}: {_plain(v)}" for k, v in payload.items() if v not in (None, ""))


@router.get("/console/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int) -> Response:
    actor = require_page(request, "read_cases")
    if not isinstance(actor, Actor):
        return actor
    try:
        context = _case_context(request, actor, case_id)
    except FairwatchError as exc:
        return _error_page(request, actor, exc)
    return _case_response(request, actor, context, fragment=False)


def _case_response(
    request: Request, actor: Actor, context: dict[str, Any], *, fragment: bool, status: int = 200
) -> Response:
    case = context["case"]
    if case.status == "pending_approval":
        title = _tr(request, "Proposed case %(id)s", id=case.id)
    else:
        title = _tr(request, "Case %(number)s", number=case.number)
    template = "console/_case_fragment.html" if fragment else "console/case.html"
    return _page(request, template, title, status_code=status, actor=actor, **context)


def _case_action(
    request: Request,
    case_id: int,
    operation: str,
    section: str,
    work: Callable[[Actor], str],
) -> Response:
    """Run ``work`` and answer with the case body (htmx) or the case page."""
    actor = require_page(request, operation)
    if not isinstance(actor, Actor):
        return actor
    status = 200
    try:
        check_same_origin(request)
        _check_id(case_id, "case")
        message = _ok(work(actor), section)
    except FairwatchError as exc:
        message = _err(_failure(request, exc), section)
        status = 200 if _htmx(request) else _status_of(exc)
    try:
        context = _case_context(request, actor, case_id, message)
    except FairwatchError as exc:
        if _htmx(request):
            return _page(
                request,
                "console/_message.html",
                "Cases",
                actor=actor,
                message=_err(_failure(request, exc)),
            )
        return _error_page(request, actor, exc)
    return _case_response(request, actor, context, fragment=_htmx(request), status=status)


@router.post("/console/cases/{case_id}/approve", response_class=HTMLResponse)
def approve_case(request: Request, case_id: int) -> Response:
    def work(actor: Actor) -> str:
        case = service_of(request).approve_case(actor, case_id)
        return _tr(
            request,
            "Case opened as %(number)s; conclude by %(deadline)s.",
            number=case.number,
            deadline=case.deadline,
        )

    return _case_action(request, case_id, "approve_case", "facts", work)


@router.post("/console/cases/{case_id}/evidence", response_class=HTMLResponse)
def add_evidence(
    request: Request, case_id: int, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    from fairwatch.api.deps import context

    def work(actor: Actor) -> str:
        if file is None or not (file.filename or "").strip():
            raise UsageError("choose a file to upload")
        limit = context(request).max_upload_bytes
        content = file.file.read(limit + 1)
        if len(content) > limit:
            raise UsageError(f"evidence files are limited to {limit} bytes")
        media_type = file.content_type or ""
        if not _MEDIA_TYPE.fullmatch(media_type):
            media_type = "application/octet-stream"
        name = _CONTROL.sub("", file.filename or "") or "file"
        ev = service_of(request).add_evidence(actor, case_id, content, name, media_type)
        return _tr(
            request, "Evidence %(name)s stored (SHA-256 %(sha)s).", name=ev.filename, sha=ev.sha256
        )

    return _case_action(request, case_id, "work_case", "evidence", work)


@router.post("/console/cases/{case_id}/tasks", response_class=HTMLResponse)
def add_task(
    request: Request,
    case_id: int,
    title: Annotated[str, Form()] = "",
    due_on: Annotated[str, Form()] = "",
) -> Response:
    def work(actor: Actor) -> str:
        text = _clean(title, 300)
        if not text:
            raise UsageError("a task needs a title")
        service_of(request).add_task(actor, case_id, text, _date(due_on, "due date"))
        return _tr(request, "Task added.")

    return _case_action(request, case_id, "work_case", "tasks", work)


@router.post("/console/cases/{case_id}/tasks/{task_id}/done", response_class=HTMLResponse)
def complete_task(request: Request, case_id: int, task_id: int) -> Response:
    def work(actor: Actor) -> str:
        _check_id(task_id, "task")
        service = service_of(request)
        with service.store.read() as s:
            task = s.get(Task, task_id)
            if task is None or task.case_id != case_id:
                raise NotFoundError(f"no task {task_id} in case {case_id}")
        service.complete_task(actor, task_id)
        return _tr(request, "Task done.")

    return _case_action(request, case_id, "work_case", "tasks", work)


@router.post("/console/cases/{case_id}/decision", response_class=HTMLResponse)
def propose_decision(
    request: Request,
    case_id: int,
    kind: Annotated[str, Form()] = "",
    facts: Annotated[str, Form()] = "",
    provision: Annotated[str, Form()] = "",
    conduct_start: Annotated[str, Form()] = "",
    conduct_end: Annotated[str, Form()] = "",
    base_cny: Annotated[str, Form()] = "",
    fine_cny: Annotated[str, Form()] = "",
    serious: Annotated[str, Form()] = "",
    circumstances: Annotated[list[str] | None, Form()] = None,
) -> Response:
    from fairwatch.law.penalty import PROVISIONS, Circumstance

    def work(actor: Actor) -> str:
        if kind and kind not in DECISION_KINDS:
            raise UsageError(f"decision kind must be one of {', '.join(DECISION_KINDS)}")
        if provision and provision not in PROVISIONS:
            raise UsageError(f"unknown provision {provision[:64]!r}")
        known = {c.value for c in Circumstance}
        chosen = [c for c in circumstances or [] if c]
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise UsageError(f"unknown circumstance {unknown[0][:40]!r}")
        decision = service_of(request).propose_decision(
            actor,
            case_id,
            kind=kind or None,
            facts=_clean(facts),
            provision=provision or None,
            conduct_start=_date(conduct_start, "conduct start"),
            conduct_end=_date(conduct_end, "conduct end"),
            base_cny=_amount(base_cny, "base"),
            circumstances=chosen[:20],
            fine_cny=_amount(fine_cny, "fine"),
            serious=serious in ("on", "true", "1"),
        )
        if decision.fine_cny is not None:
            return _tr(
                request,
                "Decision proposed: %(kind)s, fine %(fine)s CNY. A supervisor approves it.",
                kind=_code(request, decision.kind),
                fine=_money(decision.fine_cny),
            )
        return _tr(
            request,
            "Decision proposed: %(kind)s. A supervisor approves it.",
            kind=_code(request, decision.kind),
        )

    return _case_action(request, case_id, "propose_decision", "decision", work)


@router.post("/console/cases/{case_id}/decision/approve", response_class=HTMLResponse)
def approve_decision(request: Request, case_id: int) -> Response:
    def work(actor: Actor) -> str:
        decision = service_of(request).approve_decision(actor, case_id)
        return _tr(
            request,
            "Decision approved (%(kind)s); it is published and recorded.",
            kind=_code(request, decision.kind),
        )

    return _case_action(request, case_id, "approve_decision", "decision", work)


@router.post("/console/cases/{case_id}/rectification", response_class=HTMLResponse)
def order_rectification(
    request: Request,
    case_id: int,
    text: Annotated[str, Form()] = "",
    working_days: Annotated[str, Form()] = "",
) -> Response:
    def work(actor: Actor) -> str:
        order_text = _clean(text)
        if not order_text:
            raise UsageError("a rectification order needs its text")
        days = None
        if working_days.strip():
            try:
                days = int(working_days)
            except ValueError:
                raise UsageError("working days must be a whole number") from None
            if not 1 <= days <= 365:
                raise UsageError("working days must lie between 1 and 365")
        order = service_of(request).order_rectification(actor, case_id, order_text, days)
        return _tr(request, "Rectification ordered, due %(due)s.", due=order.due_on)

    return _case_action(request, case_id, "order_rectification", "rectification", work)


@router.post("/console/cases/{case_id}/review", response_class=HTMLResponse)
def review(request: Request, case_id: int, as_of: Annotated[str, Form()] = "") -> Response:
    def work(actor: Actor) -> str:
        lake = lake_of(request)
        if lake is None:
            raise UsageError("this server has no lake (start it with fairwatch serve --lake)")
        service = service_of(request)
        day = _date(as_of, "as of") or service.today()
        result = service.review(actor, case_id, Path(lake), day)
        if result.stopped:
            return _tr(request, "Review as of %(day)s: the conduct stopped.", day=day)
        return _tr(
            request,
            "Review as of %(day)s: the conduct continues (%(n)s findings).",
            day=day,
            n=len(result.findings),
        )

    return _case_action(request, case_id, "review", "review", work)


@router.post("/console/cases/{case_id}/close", response_class=HTMLResponse)
def close_case(request: Request, case_id: int, note: Annotated[str, Form()] = "") -> Response:
    def work(actor: Actor) -> str:
        service_of(request).close_case(actor, case_id, _clean(note))
        return _tr(request, "Case closed.")

    return _case_action(request, case_id, "close_case", "close", work)


@router.get("/console/cases/{case_id}/documents/{name}")
def case_document(request: Request, case_id: int, name: str) -> Response:
    """A case document as PDF (a proposed decision's document is marked as a draft)."""
    from fairwatch.report.documents import case_documents, document_pdf

    actor = require_page(request, "read_cases")
    if not isinstance(actor, Actor):
        return actor
    service = service_of(request)
    try:
        _check_id(case_id, "case")
        service.case(actor, case_id)
        docs = case_documents(service.store, case_id, service.law, drafts=True)
        if name not in docs:
            raise NotFoundError(f"case {case_id} has no document {name[:200]!r}")
        kind, context = docs[name]
        pdf = document_pdf(kind, context, law=service.law)
    except FairwatchError as exc:
        return _error_page(request, actor, exc)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
