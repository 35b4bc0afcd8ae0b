"""Pages: deal screening (the capital traffic light), the law browser, the detector
catalogue and platform profiles. Every page needs a console role (``read_alerts``).

The lake's structural tables are read once per lake and kept until the lake changes
(its manifest, or a table folder, gets a newer modification time).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from fairwatch.cases.service import Actor
from fairwatch.errors import FairwatchError
from fairwatch.law.format import format_value
from fairwatch.web.app import check_same_origin, lake_of, page, require_page, service_of
from fairwatch.web.lake import LakeData, all_lights, lake_data, traffic_light

router = APIRouter(include_in_schema=False)
OPERATION = "read_alerts"
#: page titles (English msgids; "Deal screening" is the navigation's, in base.po)
TITLES = ("Deal screen", "Legal parameters", "Detector catalogue", "Platforms", "Platform profile")


def _open_lake(request: Request) -> tuple[LakeData | None, str | None]:
    """The lake's data, or the error that prevents reading it (both None: no lake)."""
    lake = lake_of(request)
    if lake is None:
        return None, None
    try:
        return lake_data(lake), None
    except FairwatchError as exc:
        return None, str(exc)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _day(text: str | None, default: date | None = None) -> date | None:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# --- formatting --------------------------------------------------------------------------


def money(value: float | None) -> str:
    if value is None:
        return "n/a"
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.2f} {unit} yuan"
    return f"{value:,.2f} yuan"


def number(value: Any) -> str:
    """A figure as the CLI shows it: money in yuan units, small numbers to 4 digits."""
    if value is None:
        return "n/a"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 1e6:
        return money(value)
    return f"{value:,.4g}"


def figure_value(value: Any, unit: str) -> str:
    """A grading figure or threshold (numbers, ``{year: number}``, lists)."""
    if value is None:
        return "n/a"
    if isinstance(value, Mapping):
        if all(isinstance(v, int | float) for v in value.values()):
            return "; ".join(f"{k}: {figure_value(v, unit)}" for k, v in value.items())
        return format_value(dict(value), unit)
    if isinstance(value, float) and (value.is_integer() or unit in _WHOLE_UNITS):
        value = round(value)
    return format_value(value, unit)


_WHOLE_UNITS = ("cny", "eur", "usd", "count")


def citation(law: Any, key: str | None) -> dict[str, Any]:
    """A citation key with its label and whether it is verified (unknown keys as they are)."""
    if not key:
        return {"key": "", "label": "", "verified": True}
    if law.has_citation(key):
        cite = law.citation(key)
        return {"key": key, "label": cite.label(), "verified": cite.verified}
    return {"key": key, "label": key, "verified": True}


_INLINE = [
    (re.compile(r"``(.+?)``"), r"<code>\1</code>"),
    (re.compile(r":[a-z]+:`~?(.+?)`"), r"<code>\1</code>"),
    (re.compile(r"`(.+?)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
]
_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s+")


def _inline(text: str) -> str:
    out = html.escape(" ".join(text.split()), quote=False)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def prose(text: str) -> Markup:
    """Docstring text as safe HTML: escaped paragraphs and bullet lists, inline code.

    Only what the detector docstrings use: blank-line paragraphs, ``-`` / ``*`` items
    (continued by indented lines), double or single backticks, Sphinx roles,
    ``*emphasis*`` and ``**strong**``. Everything else is escaped text.
    """
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        para: list[str] = []
        items: list[list[str]] = []
        for line in lines:
            if _ITEM.match(line):
                items.append([_ITEM.sub("", line, count=1)])
            elif items:
                items[-1].append(line)
            else:
                para.append(line)
        if para:
            parts.append(f"<p>{_inline(' '.join(para))}</p>")
        if items:
            parts.append(
                "<ul>" + "".join(f"<li>{_inline(' '.join(i))}</li>" for i in items) + "</ul>"
            )
    return Markup("\n".join(parts))


# --- deal screening ----------------------------------------------------------------------

#: labels of the traffic light's reason codes and the notification statuses (msgids)
REASON_LABELS = {
    "prohibited_market_access": "Prohibited market access",
    "unlicensed_financial_business": "Unlicensed financial business",
    "notification_missing": "Notification missing",
    "dominance_large_delta": "Dominance with a large HHI increase",
    "notification_due": "Notification due",
    "turnover_missing": "Turnover missing",
    "cross_sector_expansion": "Cross-sector expansion",
    "serial_acquisitions": "Serial acquisitions",
    "killer_acquisition_draft_test": "Killer acquisition (draft threshold)",
    "killer_acquisition_pattern": "Killer acquisition pattern",
    "concentration_warning_band": "Concentration warning band",
    "call_in_candidate": "Call-in candidate",
}
STATUS_LABELS = {
    "no_control": "no acquisition of control",
    "intra_group": "within the group",
    "turnover_missing": "turnover not reported",
    "below_thresholds": "below the thresholds",
    "notified": "notified",
    "notified_after_closing": "notified after closing",
    "notification_due": "notification due",
    "unnotified": "not notified",
}
DOMINANCE_LABELS = {
    "single_firm": "single firm (AML art. 24(1)(1))",
    "two_firms": "two firms (AML art. 24(1)(2))",
    "three_firms": "three firms (AML art. 24(1)(3))",
}
EU_BANDS = {
    "safe": "below the safe level",
    "mid_band_safe": "middle band, small increase",
    "high_band_safe": "high band, small increase",
    "outside_safe_harbour": "outside the safe harbour",
}


def _figure(law: Any, f: Any) -> dict[str, Any]:
    return {
        "name": f.name,
        "value": number(f.value),
        "threshold": "" if f.threshold is None else number(f.threshold),
        "passed": f.passed,
        "parameter": f.parameter or "",
        "citation": citation(law, f.citation),
        "note": f.note,
    }


def light_view(light: Any, law: Any) -> dict[str, Any]:
    """What the deal templates show of a :class:`~fairwatch.structure.traffic_light.Light`."""
    s = light.screen
    shown = {id(f) for r in light.reasons for f in r.figures}
    return {
        "deal_id": light.deal_id,
        "colour": light.colour,
        "reasons": [
            {
                "code": r.code,
                "label": REASON_LABELS.get(r.code, r.code),
                "colour": r.colour,
                "text": r.text,
                "figures": [_figure(law, f) for f in r.figures],
                "citations": [citation(law, c) for c in r.citations],
            }
            for r in light.reasons
        ],
        "acquirer_id": s.acquirer_id,
        "acquirer_group": getattr(s, "acquirer_group", ""),
        "target_id": s.target_id,
        "announced_on": s.announced_on,
        "closed_on": s.closed_on,
        "notified_on": s.notified_on,
        "control": s.control_acquired,
        "stake_after": s.stake_after_pct,
        "consideration": None if s.consideration_cny is None else money(s.consideration_cny),
        "fiscal_year": s.fiscal_year,
        "status": s.status,
        "status_label": STATUS_LABELS.get(s.status, s.status),
        "notification_reason": s.reason,
        "notification_citations": [citation(law, c) for c in s.citations],
        "notification_figures": [_figure(law, f) for f in s.figures],
        "notification_shown": bool(s.figures) and all(id(f) in shown for f in s.figures),
        "exemption": None if s.exemption is None else s.exemption.text,
        "parties": [
            {
                "role": p.role,
                "entity_id": p.entity_id,
                "undertaking_id": p.undertaking_id,
                "counted_as": p.counted_as,
                "china": money(p.figures.china_turnover_cny),
                "world": money(p.figures.global_turnover_cny),
            }
            for p in s.parties
        ],
        "effects": [
            {
                "market_id": e.market_id,
                "market_name": e.market_name,
                "period": e.period,
                "acquirer_share": f"{e.acquirer_share:.1f}",
                "target_share": f"{e.target_share:.1f}",
                "combined_share": f"{e.combined_share:.1f}",
                "hhi_pre": f"{e.hhi_pre:.0f}",
                "hhi_post": f"{e.hhi_post:.0f}",
                "delta": f"{e.delta:.0f}",
                "firms": e.firms,
                "dominance": e.dominance,
                "dominance_label": DOMINANCE_LABELS.get(e.dominance or "", e.dominance or ""),
                "simple_case": e.simple_case,
                "eu_band": e.eu_band,
                "eu_band_label": EU_BANDS.get(e.eu_band, e.eu_band),
                "us_presumption": e.us_presumption,
            }
            for e in s.effects
        ],
    }


FORM_FIELDS = (
    "acquirer_id",
    "target_id",
    "signed_on",
    "stake_after_pct",
    "control",
    "consideration_cny",
)


def _deals_context(request: Request, actor: Actor) -> dict[str, Any]:
    law = service_of(request).law
    data, error = _open_lake(request)
    rows: list[dict[str, Any]] = []
    entities: list[tuple[str, str]] = []
    has_deals = False
    if data is not None:
        ents = data.tables.get("entities")
        if ents is not None:
            entities = [
                (str(e), str(_plain(n) or ""))
                for e, n in zip(ents["entity_id"], ents["name"], strict=True)
            ]
        has_deals = "deals" in data.tables and "financials" in data.tables
        if has_deals:
            try:
                for light in all_lights(data, law):
                    s = light.screen
                    rows.append(
                        {
                            "deal_id": light.deal_id,
                            "colour": light.colour,
                            "announced_on": s.announced_on,
                            "acquirer_id": s.acquirer_id,
                            "target_id": s.target_id,
                            "status": s.status,
                            "status_label": STATUS_LABELS.get(s.status, s.status),
                            "codes": [r.code for r in light.reasons],
                        }
                    )
            except FairwatchError as exc:
                error = str(exc)
    return {
        "actor": actor,
        "has_lake": lake_of(request) is not None,
        "lake_error": error,
        "has_deals": has_deals,
        "deals": rows,
        "entities": entities,
        "today": date.today().isoformat(),
        "form": dict.fromkeys(FORM_FIELDS, ""),
        "result": None,
        "error": None,
    }


@router.get("/console/deals", response_class=HTMLResponse)
def deals(request: Request) -> Response:
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    return page(request, "insight/deals.html", "Deal screening", **_deals_context(request, actor))


@router.post("/console/deals/screen", response_class=HTMLResponse)
def screen_deal(
    request: Request,
    acquirer_id: Annotated[str, Form()] = "",
    target_id: Annotated[str, Form()] = "",
    signed_on: Annotated[str, Form()] = "",
    stake_after_pct: Annotated[str, Form()] = "100",
    control: Annotated[str, Form()] = "yes",
    consideration_cny: Annotated[str, Form()] = "",
) -> Response:
    check_same_origin(request)
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    form = {
        "acquirer_id": acquirer_id.strip(),
        "target_id": target_id.strip(),
        "signed_on": signed_on,
        "stake_after_pct": stake_after_pct,
        "control": control,
        "consideration_cny": consideration_cny,
    }
    result, error, status = None, None, 200
    try:
        result = _screen(request, form)
    except FairwatchError as exc:
        error, status = str(exc), 422
    if _is_htmx(request):
        # htmx swaps only 2xx answers by default: errors come back as 200 with role=alert
        return page(
            request,
            "insight/_deal_result.html",
            "Deal screening",
            actor=actor,
            result=result,
            error=error,
        )
    context = _deals_context(request, actor)
    context.update(form=form, result=result, error=error)
    return page(request, "insight/deals.html", "Deal screening", status_code=status, **context)


def _screen(request: Request, form: Mapping[str, str]) -> dict[str, Any]:
    from fairwatch.errors import UsageError

    lake = lake_of(request)
    if lake is None:
        raise UsageError(
            "the server was started without a lake: there is nothing to screen against"
        )
    if not form["acquirer_id"] or not form["target_id"]:
        raise UsageError("give the acquirer's and the target's entity ids")
    if form["acquirer_id"] == form["target_id"]:
        raise UsageError("the acquirer and the target are the same entity")
    day = _day(form["signed_on"], date.today())
    if day is None:
        raise UsageError(f"signing date {form['signed_on']!r} is not a date (YYYY-MM-DD)")
    try:
        stake = float(form["stake_after_pct"] or 100)
        consideration = float(form["consideration_cny"]) if form["consideration_cny"] else None
    except ValueError:
        raise UsageError("the stake and the consideration must be numbers") from None
    if not 0 < stake <= 100:
        raise UsageError(f"stake after {stake:g} % is not between 0 (excluded) and 100")
    if consideration is not None and consideration < 0:
        raise UsageError("the consideration cannot be negative")
    data = lake_data(lake)
    if "financials" not in data.tables or "ownership" not in data.tables:
        raise UsageError("the lake has no ownership or financials table: nothing to screen")
    law = service_of(request).law
    tl = traffic_light(data, law)
    snap = tl.graph.at(day)
    unknown = [e for e in (form["acquirer_id"], form["target_id"]) if snap.node(e) is None]
    if unknown:
        raise UsageError(
            f"unknown entity {', '.join(unknown)}: it appears neither in entities nor in ownership"
        )
    light = tl.proposal(
        form["acquirer_id"],
        form["target_id"],
        day,
        control=form["control"] != "no",
        stake_after_pct=stake,
        consideration_cny=consideration,
    )
    return light_view(light, law)


@router.get("/console/deals/{deal_id}", response_class=HTMLResponse)
def deal(request: Request, deal_id: str) -> Response:
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    law = service_of(request).law
    data, error = _open_lake(request)
    result, status = None, 200
    if data is not None:
        try:
            if "deals" not in data.tables:
                from fairwatch.errors import UsageError

                raise UsageError("the lake has no deals table")
            lights = {light.deal_id: light for light in all_lights(data, law)}
            light = lights.get(deal_id) or traffic_light(data, law).deal(deal_id)
            result = light_view(light, law)
        except FairwatchError as exc:
            error, status = str(exc), 404
    return page(
        request,
        "insight/deal.html",
        "Deal screen",
        status_code=status,
        actor=actor,
        has_lake=lake_of(request) is not None,
        deal_id=deal_id,
        result=result,
        error=error,
    )


# --- the law -----------------------------------------------------------------------------


def _area(name: str) -> str:
    return ".".join(name.split(".")[:2])


@router.get("/console/law", response_class=HTMLResponse)
def law_page(
    request: Request,
    at: str = "",
    prefix: str = "",
    d1: str = "",
    d2: str = "",
) -> Response:
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    law = service_of(request).law
    errors: list[str] = []
    day = _day(at, date.today())
    if day is None:
        errors.append(f"{at!r} is not a date (YYYY-MM-DD); showing today")
        day = date.today()
    prefix = prefix.strip()
    areas: dict[str, list[dict[str, Any]]] = {}
    names = law.names(prefix or None)
    for name in names:
        parameter = law.parameter(name)
        row: dict[str, Any] = {
            "name": name,
            "unit": parameter.unit,
            "kind": parameter.kind.value,
            "description": parameter.description,
        }
        try:
            entry = law.entry(name, day)
        except FairwatchError as exc:
            row.update(in_force=False, why=str(exc).split(" (")[0])
        else:
            row.update(
                in_force=True,
                value=format_value(entry.value, parameter.unit),
                start=entry.start,
                citation=entry.citation.label(),
                citation_key=entry.citation.key or "",
                verified=entry.citation.verified,
            )
        areas.setdefault(_area(name), []).append(row)
    diff = _diff(law, d1, d2, prefix) if d1 or d2 else None
    return page(
        request,
        "insight/law.html",
        "Legal parameters",
        actor=actor,
        at=day.isoformat(),
        prefix=prefix,
        areas=sorted(areas.items()),
        count=len(names),
        open_all=bool(prefix),
        errors=errors,
        d1=d1,
        d2=d2,
        diff=diff,
    )


def _diff(law: Any, d1: str, d2: str, prefix: str) -> dict[str, Any]:
    first, second = _day(d1), _day(d2)
    if first is None or second is None:
        return {"error": "give two dates (YYYY-MM-DD) to compare", "changes": []}
    changes = law.diff(first, second)
    if prefix:
        changes = [c for c in changes if c.name.startswith(prefix)]
    rows = []
    for change in changes:
        unit = law.parameter(change.name).unit
        cells: list[dict[str, Any] | None] = []
        for dated in (change.before, change.after):
            if dated is None:
                cells.append(None)
            else:
                cells.append(
                    {
                        "value": format_value(dated.value, unit),
                        "repealed": dated.repealed,
                        "citation": dated.citation.label(),
                        "verified": dated.citation.verified,
                    }
                )
        rows.append({"name": change.name, "status": change.status, "cells": cells})
    return {"error": None, "d1": first, "d2": second, "changes": rows}


@router.get("/console/law/diff", response_class=HTMLResponse)
def law_diff(request: Request, d1: str = "", d2: str = "", prefix: str = "") -> Response:
    """The diff as an htmx fragment (the full page shows it too, for no-script use)."""
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    if not _is_htmx(request):
        return law_page(request, d1=d1, d2=d2, prefix=prefix)
    law = service_of(request).law
    return page(
        request,
        "insight/_law_diff.html",
        "Legal parameters",
        actor=actor,
        diff=_diff(law, d1, d2, prefix.strip()),
    )


# --- the detector catalogue --------------------------------------------------------------


@router.get("/console/detectors", response_class=HTMLResponse)
def detectors(request: Request) -> Response:
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    from fairwatch.detectors.base import SECTIONS
    from fairwatch.detectors.registry import registry

    law = service_of(request).law
    error = None
    items: list[dict[str, Any]] = []
    try:
        for cls in registry():
            sections = cls.sections()
            items.append(
                {
                    "code": cls.code,
                    "name": cls.name,
                    "family": cls.family,
                    "summary": cls.summary(),
                    "intro": prose(sections.get("", "")),
                    "legal_basis": [citation(law, k) for k in cls.legal_basis],
                    "parameters": list(cls.parameters),
                    "inputs": [(t, list(c)) for t, c in cls.inputs.items()],
                    "aliases": list(cls.aliases),
                    "sections": [(title, prose(sections.get(title, ""))) for title in SECTIONS],
                }
            )
    except FairwatchError as exc:
        error = str(exc)
    return page(
        request,
        "insight/detectors.html",
        "Detector catalogue",
        actor=actor,
        detectors=items,
        error=error,
    )


# --- platforms ---------------------------------------------------------------------------


def _records(frame: Any) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    out = []
    for row in frame.to_dict("records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    """Table cells for display: dates as dates, missing as None, arrays as lists."""
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "tolist") and not isinstance(value, str):
        return value.tolist()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


@router.get("/console/platforms", response_class=HTMLResponse)
def platforms(request: Request) -> Response:
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    data, error = _open_lake(request)
    rows = _records(data.tables.get("platforms")) if data is not None else []
    return page(
        request,
        "insight/platforms.html",
        "Platforms",
        actor=actor,
        has_lake=lake_of(request) is not None,
        lake_error=error,
        has_table=data is not None and "platforms" in data.tables,
        platforms=rows,
    )


def default_grading_day(tables: Mapping[str, Any], today: date) -> date:
    """The last day graded on the lake's latest annual user figures (never after today).

    A platform is graded on the year before the grading date; with annual figures up
    to year ``Y`` the latest date they decide is 31 December of ``Y + 1``.
    """
    metrics = tables.get("platform_metrics")
    if metrics is None or metrics.empty:
        return today
    years = [int(p) for p in metrics["period"].astype(str) if re.fullmatch(r"\d{4}", p)]
    if not years:
        return today
    return min(today, date(max(years) + 1, 12, 31))


@router.get("/console/platforms/{platform_id}", response_class=HTMLResponse)
def platform_profile(request: Request, platform_id: str, at: str = "") -> Response:
    actor = require_page(request, OPERATION)
    if not isinstance(actor, Actor):
        return actor
    from sqlalchemy import select

    from fairwatch.cases.models import Alert
    from fairwatch.structure.grading import grade_platform

    service = service_of(request)
    law = service.law
    data, lake_error = _open_lake(request)
    context: dict[str, Any] = {
        "actor": actor,
        "platform_id": platform_id,
        "has_lake": lake_of(request) is not None,
        "lake_error": lake_error,
        "grading": None,
        "grading_error": None,
        "platform": None,
        "filings": [],
        "has_filings": False,
        "credit": None,
        "credit_error": None,
        "at": at,
    }
    status = 200
    if data is not None:
        pl = data.tables.get("platforms")
        mine = pl[pl["platform_id"].astype(str) == platform_id] if pl is not None else None
        if mine is None or mine.empty:
            context["lake_error"] = f"no platform {platform_id!r} in the lake's platforms table"
            status = 404
        else:
            context["platform"] = _records(mine)[0]
            day = _day(at) if at else default_grading_day(data.tables, date.today())
            if day is None:
                context["grading_error"] = f"{at!r} is not a date (YYYY-MM-DD)"
                day = default_grading_day(data.tables, date.today())
            context["at"] = day.isoformat()
            try:
                context["grading"] = _grading_view(
                    grade_platform(data.tables, platform_id, day, law)
                )
            except FairwatchError as exc:
                context["grading_error"] = str(exc)
            filings = data.tables.get("algorithm_filings")
            context["has_filings"] = filings is not None
            if filings is not None:
                own = filings[filings["platform_id"].astype(str) == platform_id]
                context["filings"] = sorted(
                    _records(own), key=lambda r: str(r.get("filed_on") or ""), reverse=True
                )
            operator = str(context["platform"].get("operator_id") or "")
            if operator:
                try:
                    context["credit"] = service.credit_profile(actor, operator).to_dict()
                except FairwatchError as exc:
                    context["credit_error"] = str(exc)
    with service.store.read() as s:
        alerts = s.execute(
            select(Alert)
            .where(Alert.platform_id == platform_id)
            .order_by(Alert.score.desc(), Alert.id)
            .limit(200)
        ).scalars()
        context["alerts"] = [
            {
                "id": a.id,
                "rule": a.rule,
                "subject": f"{a.subject_type} {a.subject_id}",
                "period": f"{a.period_start} – {a.period_end}",
                "severity": a.severity,
                "score": f"{a.score:.2f}",
                "status": a.status,
            }
            for a in alerts
        ]
    return page(request, "insight/platform.html", "Platform profile", status_code=status, **context)


def _grading_view(result: Any) -> dict[str, Any]:
    def criterion(c: Any) -> dict[str, Any]:
        return {
            "name": c.name,
            "figure": figure_value(c.figure, c.unit),
            "threshold": "" if c.threshold is None else figure_value(c.threshold, c.unit),
            "status": c.status,
            "reason": c.reason,
            "parameter": c.parameter or "",
            "citation": c.citation_label,
            "citation_key": c.citation_key or "",
            "verified": c.verified,
            "qualitative": c.qualitative,
        }

    def test(t: Any) -> dict[str, Any]:
        return {
            "id": t.id,
            "name": t.name,
            "status": t.status,
            "rule": t.rule,
            "note": t.note,
            "criteria": [criterion(c) for c in t.criteria],
        }

    return {
        "at": result.at,
        "prior_year": result.prior_year,
        "grade": result.grade,
        "grade_label": result.grade_label,
        "provisional": result.provisional,
        "operator_id": result.operator_id,
        "operator_name": result.operator_name,
        "group": result.group.entity_id,
        "group_name": result.group.name,
        "group_members": result.group.members,
        "group_platforms": list(result.group.platforms),
        "categories": list(result.categories),
        "group_categories": list(result.group_categories),
        "tests": [test(t) for t in result.tests],
        "eu_tests": [test(t) for t in result.eu_tests],
        "obligations": [
            {
                "id": o.id,
                "text": o.text,
                "because": o.applies_because,
                "citation": o.citation_label,
                "citation_key": o.citation_key or "",
                "verified": o.verified,
                "note": o.note,
            }
            for o in result.obligations
        ],
        "notes": list(result.notes),
    }
