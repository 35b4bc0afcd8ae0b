"""The public portal: published decisions, the serious-dishonesty list, platform grades,
algorithm filings, and the complaint form. Open to everyone (signed in or not).

A complainant's contact (phone or e-mail) is never stored: it is normalised and turned
into ``c_`` + the first 24 hex digits of HMAC-SHA256 under a key derived from the
server's session secret, so complaints from the same person share a token that nobody
can turn back into the contact without the secret.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from fairwatch.cases.service import Actor
from fairwatch.errors import FairwatchError
from fairwatch.web import i18n
from fairwatch.web.app import (
    check_same_origin,
    lake_of,
    language,
    page,
    require_page,
    service_of,
)
from fairwatch.web.lake import cached, lake_data

router = APIRouter(include_in_schema=False)

# ---------------------------------------------------------------------- labels (msgids)

#: decision kinds (``fairwatch.cases.service.DECISION_KINDS``)
KIND_LABELS = {
    "penalty": "Administrative penalty",
    "warning": "Warning",
    "guidance": "Administrative guidance",
    "interview": "Regulatory interview",
    "no_penalty": "No penalty",
}
#: platform categories of the reporting standard (``platforms.categories``)
CATEGORY_LABELS = {
    "online_sales": "Online sales",
    "life_services": "Life services",
    "social_entertainment": "Social and entertainment",
    "information": "Information",
    "financial_services": "Financial services",
    "computing_applications": "Computing applications",
}
ALGORITHM_TYPES = {
    "generation_synthesis": "Generation and synthesis",
    "personalized_push": "Personalised push",
    "ranking_selection": "Ranking and selection",
    "search_filtering": "Search and filtering",
    "dispatch_decision": "Dispatch and decision-making",
}
FILING_STATUS = {
    "filed": "Filed",
    "pending": "Pending",
    "rejected": "Rejected",
    "deregistered": "Deregistered",
}
#: heavier measures that put an entity on the list (``fairwatch.law.credit.Measure``)
MEASURE_LABELS = {
    "fine_heavier_band": "Fine in the heavier band",
    "licence_revoked": "Licence revoked",
    "operations_restricted": "Operations restricted",
    "business_suspended": "Business suspended",
    "banned": "Ban from the trade",
}
#: what the public may complain about (the form's fixed list)
COMPLAINT_CATEGORIES = {
    "price": "Prices and price discrimination",
    "algorithm": "Algorithms and personalised treatment",
    "platform_rules": "Platform rules, fees and exclusivity",
    "quality": "Product or service quality",
    "delivery": "Delivery",
    "refund": "Refunds and returns",
    "fraud": "Fraud or false advertising",
    "privacy": "Personal information",
    "other": "Other",
}

TEXT_MIN, TEXT_MAX = 10, 5000
#: complaints per client address and window
RATE_LIMIT, RATE_WINDOW = 5, 600.0

_SEARCH_MAX = 200


def tr(request: Request, msgid: str, **params: Any) -> str:
    """``msgid`` in the language of ``request`` (before a page sets it), with ``params``."""
    text = i18n.translations(language(request)).gettext(msgid)
    return text % params if params else text


def _param(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:_SEARCH_MAX]


def _tabs_context(request: Request) -> dict[str, Any]:
    return {"current": request.url.path}


def _csv(rows: Iterable[Sequence[Any]], header: Sequence[str], filename: str) -> Response:
    """A CSV download (UTF-8 with a byte-order mark for spreadsheets; no formulas)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(header)
    for row in rows:
        out.writerow([_cell(v) for v in row])
    return Response(
        "\ufeff" + buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet must not run it as a formula
    return value


def _query(filters: dict[str, str]) -> str:
    kept = {k: v for k, v in filters.items() if v}
    return "?" + urllib.parse.urlencode(kept) if kept else ""


# ---------------------------------------------------------------------- decisions

DECISION_COLUMNS = (
    "case_number",
    "title",
    "subject",
    "platform_id",
    "kind",
    "fine_cny",
    "decided_on",
    "legal_basis",
)


def _citation_labels(law: Any, keys: Iterable[str]) -> dict[str, str]:
    labels = {}
    for key in set(keys):
        try:
            labels[key] = law.citation(key).label()
        except (FairwatchError, KeyError, AttributeError):
            labels[key] = key
    return labels


def _decisions(request: Request, actor: Actor) -> list[dict[str, Any]]:
    service = service_of(request)
    rows = []
    for d in service.disclosures(actor):
        body = d.body or {}
        decided = str(body.get("decided_on") or d.published_on.isoformat())
        rows.append(
            {
                "case_number": d.case_number,
                "title": d.title,
                "subject": str(body.get("subject") or ""),
                "platform_id": str(body.get("platform_id") or ""),
                "kind": str(body.get("kind") or ""),
                "fine_cny": body.get("fine_cny"),
                "decided_on": decided,
                "legal_basis": [str(k) for k in body.get("legal_basis") or []],
            }
        )
    return rows


def _decision_filters(request: Request) -> dict[str, str]:
    return {name: _param(request, name) for name in ("q", "kind", "platform", "year")}


def _filter_decisions(rows: list[dict[str, Any]], f: dict[str, str]) -> list[dict[str, Any]]:
    q = f["q"].casefold()
    out = []
    for r in rows:
        if q and not any(
            q in str(r[k]).casefold() for k in ("case_number", "title", "subject", "platform_id")
        ):
            continue
        if f["kind"] and r["kind"] != f["kind"]:
            continue
        if f["platform"] and r["platform_id"] != f["platform"]:
            continue
        if f["year"] and not r["decided_on"].startswith(f["year"]):
            continue
        out.append(r)
    return out


def _reader(request: Request) -> Actor | Response:
    return require_page(request, "read_disclosures")


@router.get("/public", response_class=HTMLResponse)
def decisions(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    filters = _decision_filters(request)
    try:
        every = _decisions(request, actor)
        error = None
    except FairwatchError as exc:
        every, error = [], str(exc)
    shown = _filter_decisions(every, filters)
    basis = _citation_labels(service_of(request).law, (k for r in shown for k in r["legal_basis"]))
    return page(
        request,
        "public/decisions.html",
        "Published decisions",
        actor=actor,
        rows=shown,
        total=len(every),
        filters=filters,
        query=_query(filters),
        kinds=KIND_LABELS,
        platforms=sorted({r["platform_id"] for r in every if r["platform_id"]}),
        years=sorted({r["decided_on"][:4] for r in every}, reverse=True),
        basis=basis,
        error=error,
        **_tabs_context(request),
    )


@router.get("/public/decisions.csv")
def decisions_csv(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    rows = _filter_decisions(_decisions(request, actor), _decision_filters(request))
    return _csv(([r[c] for c in DECISION_COLUMNS] for r in rows), DECISION_COLUMNS, "decisions.csv")


@router.get("/public/decisions.json")
def decisions_json(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    rows = _filter_decisions(_decisions(request, actor), _decision_filters(request))
    return JSONResponse([{c: r[c] for c in DECISION_COLUMNS} for r in rows])


# ---------------------------------------------------------------------- dishonesty list

LISTING_COLUMNS = (
    "entity_id",
    "decision",
    "decided_on",
    "listed_on",
    "until",
    "grounds",
    "early_removal_from",
    "citation",
)


def _listed(request: Request, actor: Actor) -> tuple[list[dict[str, Any]], list[str]]:
    """Entities on the list today, per the credit engine over the store's credit entries."""
    from fairwatch.cases.models import CreditEntry
    from fairwatch.law.credit import LIST_FORMS, LIST_TERM

    service = service_of(request)
    with service.store.read() as s:
        entities = sorted(s.execute(select(CreditEntry.entity_id).distinct()).scalars())
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for entity in entities:
        try:
            profile = service.credit_profile(actor, entity)
        except FairwatchError as exc:
            problems.append(f"{entity}: {exc}")
            continue
        if not profile.listed:
            continue
        cited = {st.parameter: st.citation_label for st in profile.steps}
        citation = cited.get(LIST_FORMS) or cited.get(LIST_TERM) or ""
        for record in profile.records:
            listing = record.listing
            if listing is None or not listing.active(profile.at):
                continue
            rows.append(
                {
                    "entity_id": entity,
                    "decision": record.decision.label,
                    "decided_on": record.decision.decided_on.isoformat(),
                    "listed_on": listing.listed_on.isoformat(),
                    "until": listing.until.isoformat(),
                    "grounds": list(listing.grounds),
                    "early_removal_from": listing.early_removal_from.isoformat()
                    if listing.early_removal_from
                    else None,
                    "citation": citation,
                }
            )
    rows.sort(key=lambda r: (r["listed_on"], r["entity_id"]), reverse=True)
    return rows, problems


def _filter_listed(rows: list[dict[str, Any]], q: str) -> list[dict[str, Any]]:
    q = q.casefold()
    return [
        r for r in rows if not q or q in r["entity_id"].casefold() or q in r["decision"].casefold()
    ]


@router.get("/public/dishonest", response_class=HTMLResponse)
def dishonest(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    q = _param(request, "q")
    try:
        rows, problems = _listed(request, actor)
        error = None
    except FairwatchError as exc:
        rows, problems, error = [], [], str(exc)
    return page(
        request,
        "public/dishonest.html",
        "Serious dishonesty list",
        actor=actor,
        rows=_filter_listed(rows, q),
        total=len(rows),
        q=q,
        query=_query({"q": q}),
        measures=MEASURE_LABELS,
        problems=problems,
        error=error,
        today=service_of(request).today(),
        **_tabs_context(request),
    )


@router.get("/public/dishonest.csv")
def dishonest_csv(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    rows = _filter_listed(_listed(request, actor)[0], _param(request, "q"))
    return _csv(([r[c] for c in LISTING_COLUMNS] for r in rows), LISTING_COLUMNS, "dishonest.csv")


@router.get("/public/dishonest.json")
def dishonest_json(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    rows = _filter_listed(_listed(request, actor)[0], _param(request, "q"))
    return JSONResponse(rows)


# ---------------------------------------------------------------------- the lake's views


def _lake(request: Request) -> Path | None:
    lake = lake_of(request)
    return lake if lake is not None and lake.is_dir() else None


def _grades(lake: Path, day: Any, law: Any) -> tuple[list[dict[str, Any]], str | None]:
    from fairwatch.structure.grading import grade_platform

    tables = lake_data(lake).tables
    platforms = tables.get("platforms")
    if platforms is None or platforms.empty:
        return [], "no platforms"
    rows: list[dict[str, Any]] = []
    for pid in sorted(str(p) for p in platforms["platform_id"].dropna().unique()):
        try:
            r = grade_platform(tables, pid, day, law)
        except FairwatchError as exc:
            rows.append(
                {
                    "platform_id": pid,
                    "name": None,
                    "grade": None,
                    "categories": [],
                    "error": str(exc),
                }
            )
            continue
        rows.append(
            {
                "platform_id": pid,
                "name": r.platform_name,
                "operator": r.operator_name or r.operator_id,
                "grade": r.grade,
                "grade_label": r.grade_label,
                "provisional": r.provisional,
                "categories": list(r.categories),
                "error": None,
            }
        )
    return rows, None


@router.get("/public/platforms", response_class=HTMLResponse)
def platforms(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    lake = _lake(request)
    service = service_of(request)
    day = service.today()
    rows: list[dict[str, Any]] = []
    note = None
    error = None
    if lake is not None:
        try:
            rows, note = cached(
                "grades", lake, day.isoformat(), lambda: _grades(lake, day, service.law)
            )
        except (FairwatchError, OSError) as exc:
            error = str(exc)
    return page(
        request,
        "public/platforms.html",
        "Platform grades",
        actor=actor,
        has_lake=lake is not None,
        rows=rows,
        note=note,
        error=error,
        day=day,
        categories=CATEGORY_LABELS,
        **_tabs_context(request),
    )


def _filings(lake: Path) -> list[dict[str, Any]]:
    import pandas as pd

    tables = lake_data(lake).tables
    filings = tables.get("algorithm_filings")
    if filings is None:
        return []
    names: dict[str, str] = {}
    if "platforms" in tables:
        p = tables["platforms"]
        names = {str(k): str(v) for k, v in zip(p["platform_id"], p["name"], strict=True)}

    def text(v: Any) -> str:
        return "" if v is None or (not isinstance(v, list | tuple) and pd.isna(v)) else str(v)

    rows = []
    for f in filings.to_dict("records"):
        filed = f.get("filed_on")
        pid = text(f.get("platform_id"))
        rows.append(
            {
                "filing_id": text(f.get("filing_id")),
                "platform_id": pid,
                "platform_name": names.get(pid, ""),
                "algorithm_name": text(f.get("algorithm_name")),
                "algorithm_type": text(f.get("algorithm_type")),
                "status": text(f.get("status")),
                "filed_on": "" if filed is None or pd.isna(filed) else str(filed)[:10],
                "public_summary": text(f.get("public_summary")),
            }
        )
    rows.sort(key=lambda r: (r["platform_id"], r["filed_on"], r["filing_id"]))
    return rows


@router.get("/public/algorithms", response_class=HTMLResponse)
def algorithms(request: Request) -> Response:
    actor = _reader(request)
    if not isinstance(actor, Actor):
        return actor
    lake = _lake(request)
    rows: list[dict[str, Any]] = []
    error = None
    if lake is not None:
        try:
            rows = cached("filings", lake, "", lambda: _filings(lake))
        except (FairwatchError, OSError) as exc:
            error = str(exc)
    return page(
        request,
        "public/algorithms.html",
        "Algorithm filings",
        actor=actor,
        has_lake=lake is not None,
        rows=rows,
        error=error,
        types=ALGORITHM_TYPES,
        statuses=FILING_STATUS,
        **_tabs_context(request),
    )


# ---------------------------------------------------------------------- complaints

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,24}$")
_PLATFORM = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")


def normalise_contact(contact: str) -> str | None:
    """The canonical form of a phone number or e-mail address; None if it is neither."""
    value = contact.strip()
    if "@" in value:
        value = value.casefold()
        return value if len(value) <= 254 and _EMAIL.match(value) else None
    if not _PHONE.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        digits = "+" + digits
    elif digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+86"):
        digits = digits[3:]  # a mainland number, written with or without the country code
    return digits if 7 <= len(digits.lstrip("+")) <= 15 else None


def pseudonym(request: Request, contact: str) -> str:
    """``c_`` + HMAC-SHA256(key from the session secret, normalised contact)[:24]."""
    from fairwatch.api.deps import context

    secret = context(request).signer._key
    key = hashlib.sha256(b"fairwatch-complainant:" + secret).digest()
    return "c_" + hmac.new(key, contact.encode(), hashlib.sha256).hexdigest()[:24]


class SlidingWindow:
    """At most ``limit`` events per key within ``seconds`` (in memory, one process)."""

    def __init__(self, limit: int, seconds: float, max_keys: int = 10_000) -> None:
        self.limit, self.seconds, self.max_keys = limit, seconds, max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, now: float | None = None) -> float | None:
        """Count an event; None if allowed, else the seconds until the next is."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= self.max_keys:
                    self._prune(now)
                events = self._events[key] = deque()
            while events and events[0] <= now - self.seconds:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.seconds - now
            events.append(now)
            return None

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.seconds]:
            del self._events[key]
        while len(self._events) >= self.max_keys:  # still full: forget the oldest keys
            del self._events[next(iter(self._events))]


_limiter_lock = threading.Lock()


def _limiter(request: Request) -> SlidingWindow:
    state = request.app.state
    with _limiter_lock:
        limiter = getattr(state, "complaint_limiter", None)
        if limiter is None:
            limiter = state.complaint_limiter = SlidingWindow(RATE_LIMIT, RATE_WINDOW)
    assert isinstance(limiter, SlidingWindow)
    return limiter


def _complaint_form(
    request: Request,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "public/complaint.html",
        "File a complaint",
        status_code=status_code,
        actor=actor,
        values=values or {"category": "", "platform_id": "", "text": ""},
        errors=errors or {},
        message=message,
        categories=COMPLAINT_CATEGORIES,
        text_min=TEXT_MIN,
        text_max=TEXT_MAX,
        **_tabs_context(request),
    )


@router.get("/public/complaint", response_class=HTMLResponse)
def complaint_form(request: Request) -> Response:
    actor = require_page(request, "file_complaint")
    if not isinstance(actor, Actor):
        return actor
    return _complaint_form(request, actor)


@router.post("/public/complaint", response_class=HTMLResponse)
def file_complaint(
    request: Request,
    category: Annotated[str, Form()] = "",
    platform_id: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
) -> Response:
    actor = require_page(request, "file_complaint")
    if not isinstance(actor, Actor):
        return actor
    # the contact is never echoed back, not even in a form with errors
    values = {"category": category, "platform_id": platform_id.strip(), "text": text.strip()}
    try:
        check_same_origin(request)
    except FairwatchError as exc:
        return _complaint_form(request, actor, values=values, message=str(exc), status_code=403)
    errors: dict[str, str] = {}
    if category not in COMPLAINT_CATEGORIES:
        errors["category"] = tr(request, "Choose a category from the list.")
    if values["platform_id"] and not _PLATFORM.match(values["platform_id"]):
        errors["platform_id"] = tr(
            request, "A platform id has at most 64 letters, digits or the signs _ - . :"
        )
    body = values["text"]
    if not TEXT_MIN <= len(body) <= TEXT_MAX or "\x00" in body:
        errors["text"] = tr(
            request,
            "Describe the problem in %(min)s to %(max)s characters.",
            min=TEXT_MIN,
            max=TEXT_MAX,
        )
    normalised = normalise_contact(contact)
    if normalised is None:
        errors["contact"] = tr(request, "Give a phone number or an e-mail address.")
    if errors:
        return _complaint_form(request, actor, values=values, errors=errors)
    assert normalised is not None
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).acquire(client)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        message = tr(
            request,
            "Too many complaints from your address. Please try again in %(n)s minutes.",
            n=minutes,
        )
        response = _complaint_form(request, actor, values=values, message=message, status_code=429)
        response.headers["Retry-After"] = str(max(1, int(wait)))
        return response
    try:
        complaint = service_of(request).file_complaint(
            actor,
            pseudonym(request, normalised),
            category,
            body,
            values["platform_id"] or None,
        )
    except FairwatchError as exc:
        return _complaint_form(request, actor, values=values, message=str(exc))
    return page(
        request,
        "public/complaint_done.html",
        "Complaint received",
        actor=actor,
        number=complaint.id,
        category=COMPLAINT_CATEGORIES[category],
        received=complaint.received_at,
        **_tabs_context(request),
    )
