"""Case documents as PDF: the warning letter, the rectification notice, the penalty decision.

Each document is a Jinja2 template in ``templates/documents/`` rendered to HTML (one
self-contained page: inline CSS, no script, no remote asset) and laid out to an A4 PDF
by WeasyPrint. Everything from the data is escaped (Jinja2 autoescape), and WeasyPrint
is given a URL fetcher that refuses every URL, so a document never reaches the network.

Every document carries the issuing bureau, the case number, the date, the addressee
(pseudonymous platform and entity ids only), the facts (the decision's facts and the
monitoring finding behind the case) and the legal basis, each citation resolved through
the law store: its label and summary, a visible mark when it is unverified, and the raw
key when the store does not know it (never an error). The penalty decision adds the fine
and the penalty calculator's explanation step by step; the rectification notice adds
the order and its due date.

Chinese text needs a CJK font: the stylesheet asks for Noto Sans/Serif CJK SC, then
WenQuanYi Zen Hei (Debian: ``apt-get install fonts-noto-cjk``). WeasyPrint subsets the
font with HarfBuzz when ``libharfbuzz-subset0`` is installed (milliseconds); without it,
fontTools takes seconds per CJK face.

The *context* of a document is plain data close to the case store; see
:func:`render_document` for its keys. :func:`case_documents` builds the contexts of a
case from the database and :func:`documents_for_case` renders them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from fairwatch.errors import UsageError

if TYPE_CHECKING:
    from fairwatch.cases.db import Store
    from fairwatch.law.store import LawStore

log = logging.getLogger(__name__)

KINDS = ("warning_letter", "rectification_notice", "penalty_decision")
"""The document kinds, each a template ``templates/documents/<kind>.html``."""

WARNING_MEASURES = ("warning", "guidance", "interview")
"""Decision kinds that produce a warning letter."""

PENALTY_KINDS = ("penalty", "no_penalty")
"""Decision kinds that produce a penalty decision (``no_penalty``: APL art. 33)."""

NO_PENALTY_BASIS = "cn.apl.art33"
"""The citation a decision not to impose a penalty rests on."""

_TEMPLATES = Path(__file__).parent / "templates" / "documents"
_CSS = "documents.css"

LABELS: dict[str, dict[str, str]] = {
    # titles
    "warning_letter": {"zh": "警示函", "en": "Warning letter"},
    "rectification_notice": {"zh": "责令整改通知书", "en": "Notice of a rectification order"},
    "penalty_decision": {"zh": "行政处罚决定书", "en": "Administrative penalty decision"},
    "no_penalty_decision": {
        "zh": "不予行政处罚决定书",
        "en": "Decision not to impose an administrative penalty",
    },
    # header
    "bureau": {"zh": "发文机关", "en": "Issuing bureau"},
    "joint_bureaus": {"zh": "联合办理", "en": "Handled jointly with"},
    "case_number": {"zh": "案号", "en": "Case number"},
    "date": {"zh": "日期", "en": "Date"},
    "addressee": {"zh": "当事人", "en": "Addressee"},
    "platform_id": {"zh": "平台编号", "en": "Platform id"},
    "entity_id": {"zh": "主体编号", "en": "Entity id"},
    "not_decided": {"zh": "尚未决定", "en": "not yet decided"},
    "draft": {"zh": "草稿 · 未经批准，不得送达", "en": "DRAFT · not approved, not to be served"},
    # facts
    "facts": {"zh": "案件事实", "en": "Facts"},
    "no_facts": {"zh": "（未填写）", "en": "(none recorded)"},
    "finding": {"zh": "监测发现", "en": "Monitoring finding"},
    "rule": {"zh": "检测规则", "en": "Detector"},
    "family": {"zh": "问题类别", "en": "Family"},
    "subject": {"zh": "对象", "en": "Subject"},
    "period": {"zh": "期间", "en": "Period"},
    "severity": {"zh": "严重程度", "en": "Severity"},
    # legal basis
    "legal_basis": {"zh": "法律依据", "en": "Legal basis"},
    "no_legal_basis": {"zh": "（无）", "en": "(none)"},
    "unverified": {"zh": "未核实", "en": "unverified"},
    "unknown_citation": {"zh": "法规库中无此条目", "en": "not in the law store"},
    # warning letter
    "measure": {"zh": "措施", "en": "Measure"},
    "warning": {"zh": "警告", "en": "warning"},
    "guidance": {"zh": "行政指导", "en": "administrative guidance"},
    "interview": {"zh": "约谈", "en": "interview"},
    "warning_intro": {
        "zh": "经查，你方存在下列问题。本局现向你方发出本函，请立即依法规范经营行为。",
        "en": "Our review found the matters below. The bureau sends you this letter; bring "
        "your conduct into line with the law without delay.",
    },
    "warning_measure_warning": {"zh": "本函为警示。", "en": "This letter is a warning."},
    "warning_measure_guidance": {
        "zh": "本函为行政指导。",
        "en": "This letter gives administrative guidance.",
    },
    "warning_measure_interview": {
        "zh": "本局将就上述问题对你方进行约谈。",
        "en": "The bureau will hold an interview with you on these matters.",
    },
    # penalty decision
    "decision": {"zh": "处理决定", "en": "Decision"},
    "penalty_intro": {
        "zh": "本局决定对你方作出如下行政处罚：",
        "en": "The bureau imposes the following administrative penalty:",
    },
    "fine": {"zh": "罚款", "en": "Fine"},
    "yuan": {"zh": "元", "en": "CNY"},
    "no_fine": {"zh": "（未定）", "en": "(not set)"},
    "no_penalty_intro": {
        "zh": "依据下列规定，本局决定不予行政处罚：",
        "en": "Under the provision below, the bureau decides not to impose a penalty:",
    },
    "provision": {"zh": "违反的规定", "en": "Provision violated"},
    "applied_law": {"zh": "适用法律", "en": "Law applied"},
    "statutory": {"zh": "法定罚款幅度", "en": "Statutory range"},
    "band": {"zh": "裁量档次", "en": "Discretion band"},
    "lighter": {"zh": "从轻", "en": "lighter"},
    "general": {"zh": "一般", "en": "general"},
    "heavier": {"zh": "从重", "en": "heavier"},
    "recommended": {"zh": "建议罚款幅度", "en": "Recommended range"},
    "of_base": {"zh": "基数", "en": "of the base"},
    "explanation": {"zh": "罚款计算说明", "en": "How the fine was calculated"},
    "step": {"zh": "步骤", "en": "Step"},
    "parameter": {"zh": "参数", "en": "Parameter"},
    "calculator_warnings": {"zh": "计算提示", "en": "Calculator notes"},
    "no_explanation": {
        "zh": "（无计算说明）",
        "en": "(no calculator explanation was recorded)",
    },
    # rectification notice
    "order": {"zh": "整改要求", "en": "Rectification required"},
    "ordered_on": {"zh": "下达日期", "en": "Ordered on"},
    "due_on": {"zh": "整改期限", "en": "Due date"},
    "order_instruction": {
        "zh": "请于上述期限前完成整改，并通过平台接口报送整改情况。",
        "en": "Complete the rectification by the due date and report it through the "
        "platform interface.",
    },
    # closing
    "remedies": {"zh": "救济途径", "en": "Remedies"},
    "remedies_text": {
        "zh": "如不服本决定，可以依法申请行政复议或者提起行政诉讼。",
        "en": "If you disagree with this decision, you may apply for administrative "
        "reconsideration or bring an administrative lawsuit according to law.",
    },
    "seal": {"zh": "（印章）", "en": "(seal)"},
    "generated": {"zh": "由 fairwatch 生成", "en": "generated by fairwatch"},
}
"""Every fixed text of the documents, by key, in Chinese and English."""


# -- rendering ---------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cn_date"] = _cn_date
    env.filters["iso_date"] = _iso_date
    env.filters["cny"] = _cny
    return env


def render_document(kind: str, context: Mapping[str, Any], *, law: LawStore | None = None) -> str:
    """The document as one self-contained HTML page.

    ``context`` keys, for every kind:

    - ``bureau``: ``{"id", "name"}``; ``joint_bureaus`` (optional): a list of the same;
    - ``case_number``; ``date`` (a ``date``, ISO text or ``None``); ``draft`` (optional);
    - ``addressee``: ``{"platform_id", "entity_id"}`` (pseudonymous ids);
    - ``facts``: text; ``finding`` (optional): the alert's ``rule``, ``family``,
      ``subject_type``, ``subject_id``, ``period_start``, ``period_end``, ``severity``;
    - ``legal_basis``: citation keys (resolved through ``law``, default store) or
      already-resolved mappings with ``label``.

    Then ``measure`` (warning letter: warning, guidance or interview); ``decision``
    (penalty decision: ``kind`` penalty or no_penalty, ``fine_cny``, ``band``,
    ``provision``, ``explanation`` as the calculator's ``to_dict()``); ``order``
    (rectification notice: ``text``, ``ordered_on``, ``due_on``).
    """
    if kind not in KINDS:
        raise UsageError(f"document kind must be one of {', '.join(KINDS)}, not {kind!r}")
    view = _view(kind, context, law)
    try:
        return _environment().get_template(f"{kind}.html").render(**view)
    except jinja2.UndefinedError as exc:
        raise UsageError(f"the context of a {kind} lacks a value: {exc}") from exc


def layout_document(kind: str, context: Mapping[str, Any], *, law: LawStore | None = None) -> Any:
    """The document laid out in pages (a ``weasyprint.Document``; ``.write_pdf()``)."""
    import weasyprint

    html = render_document(kind, context, law=law)
    return weasyprint.HTML(string=html, url_fetcher=_refuse_url).render()


def document_pdf(kind: str, context: Mapping[str, Any], *, law: LawStore | None = None) -> bytes:
    """The document as PDF bytes (A4; see :func:`render_document` for ``context``)."""
    return pdf_bytes(layout_document(kind, context, law=law))


#: The time stamp written into the documents' embedded font subsets (fontTools reads
#: ``SOURCE_DATE_EPOCH``, the reproducible-builds convention): with the time of writing
#: there, the same document gave different bytes from one second to the next.
_FONT_EPOCH = "0"
_FONT_EPOCH_LOCK = threading.Lock()


def pdf_bytes(document: Any) -> bytes:
    """A laid-out document (:func:`layout_document`) as PDF bytes: the same document
    gives the same bytes whenever it is written (archived copies can be compared)."""
    with _FONT_EPOCH_LOCK:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = _FONT_EPOCH
        try:
            pdf = document.write_pdf()
        finally:
            if before is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before
    assert isinstance(pdf, bytes)
    return pdf


def _refuse_url(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: documents are self-contained, nothing is fetched."""
    raise ValueError(f"case documents load no external resource (refused {url[:200]!r})")


# -- view model --------------------------------------------------------------------------


def _require(context: Mapping[str, Any], kind: str, *keys: str) -> None:
    missing = [k for k in keys if k not in context]
    if missing:
        raise UsageError(f"the context of a {kind} lacks {', '.join(missing)}")


def _view(kind: str, context: Mapping[str, Any], law: LawStore | None) -> dict[str, Any]:
    _require(context, kind, "bureau", "case_number", "addressee", "legal_basis")
    if law is None:
        from fairwatch.law import default_store

        law = default_store()
    bureau = dict(context["bureau"])
    addressee = context["addressee"]
    finding = context.get("finding")
    title = LABELS[kind]
    view: dict[str, Any] = {
        "t": LABELS,
        "kind": kind,
        "css": Markup((_TEMPLATES / _CSS).read_text(encoding="utf-8")),
        "bureau": {"id": str(bureau.get("id", "")), "name": str(bureau.get("name") or "")},
        "joint_bureaus": [
            {"id": str(b.get("id", "")), "name": str(b.get("name") or "")}
            for b in context.get("joint_bureaus") or []
        ],
        "case_number": str(context["case_number"]),
        "date": context.get("date"),
        "draft": bool(context.get("draft", False)),
        "addressee": {
            "platform_id": addressee.get("platform_id"),
            "entity_id": addressee.get("entity_id"),
        },
        "facts": str(context.get("facts") or ""),
        "finding": _finding_view(finding) if finding else None,
        "legal_basis": [citation_view(c, law) for c in context["legal_basis"]],
    }
    if kind == "warning_letter":
        _require(context, kind, "measure")
        measure = str(context["measure"])
        if measure not in WARNING_MEASURES:
            raise UsageError(
                f"a warning letter's measure is one of {', '.join(WARNING_MEASURES)}, "
                f"not {measure!r}"
            )
        view["measure"] = measure
    elif kind == "penalty_decision":
        _require(context, kind, "decision")
        view["decision"] = _decision_view(context["decision"], law)
        if view["decision"]["kind"] == "no_penalty":
            title = LABELS["no_penalty_decision"]
            if not any(c["key"] == NO_PENALTY_BASIS for c in view["legal_basis"]):
                view["legal_basis"].append(citation_view(NO_PENALTY_BASIS, law))
            view["no_penalty_basis"] = citation_view(NO_PENALTY_BASIS, law)
    else:
        _require(context, kind, "order")
        order = context["order"]
        view["order"] = {
            "text": str(order.get("text") or ""),
            "ordered_on": order.get("ordered_on"),
            "due_on": order.get("due_on"),
        }
    view["title"] = title
    return view


def citation_view(citation: str | Mapping[str, Any], law: LawStore) -> dict[str, Any]:
    """A citation key resolved through the law store, for display.

    ``label`` is the store's label (``instrument, art. N``), ``summary`` its summary,
    ``verified`` its flag; a key the store does not know is shown as the key itself with
    ``known`` false (and counts as unverified). A mapping is taken as already resolved.
    """
    if isinstance(citation, Mapping):
        key = str(citation.get("key") or citation.get("label") or "")
        return {
            "key": key,
            "label": str(citation.get("label") or key),
            "summary": str(citation.get("summary") or ""),
            "verified": bool(citation.get("verified", False)),
            "known": bool(citation.get("known", True)),
            "url": _http_url(citation.get("url")),
        }
    key = str(citation)
    try:
        found = law.citation(key) if law.has_citation(key) else None
    except Exception as exc:  # a document never fails on a citation
        log.warning("citation %s could not be resolved: %s", key, exc)
        found = None
    if found is None:
        return {
            "key": key,
            "label": key,
            "summary": "",
            "verified": False,
            "known": False,
            "url": "",
        }
    return {
        "key": key,
        "label": found.label(),
        "summary": found.summary or "",
        "verified": bool(found.verified),
        "known": True,
        "url": _http_url(found.url),
    }


def _http_url(url: Any) -> str:
    text = str(url or "")
    return text if text.split(":", 1)[0].lower() in ("http", "https") else ""


def _finding_view(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule": str(finding.get("rule") or ""),
        "family": str(finding.get("family") or ""),
        "subject": f"{finding.get('subject_type') or ''}:{finding.get('subject_id') or ''}",
        "period_start": finding.get("period_start"),
        "period_end": finding.get("period_end"),
        "severity": str(finding.get("severity") or ""),
    }


def _decision_view(decision: Mapping[str, Any], law: LawStore) -> dict[str, Any]:
    kind = str(decision.get("kind") or "")
    if kind not in PENALTY_KINDS:
        raise UsageError(
            f"a penalty decision's kind is one of {', '.join(PENALTY_KINDS)}, not {kind!r}"
        )
    explanation = decision.get("explanation") or {}
    if not isinstance(explanation, Mapping):
        explanation = {}
    band = decision.get("band") or explanation.get("band")
    steps = []
    for step in explanation.get("steps") or []:
        if not isinstance(step, Mapping):
            continue
        key = step.get("citation_key")
        resolved = citation_view(str(key), law) if key else None
        steps.append(
            {
                "title": str(step.get("title") or ""),
                "detail": str(step.get("detail") or ""),
                "parameter": str(step.get("parameter") or ""),
                # the label and flag as the calculator recorded them; the summary from the store
                "citation": {
                    "key": str(key or ""),
                    "label": str(step.get("citation_label") or key or ""),
                    "summary": resolved["summary"] if resolved else "",
                    "verified": bool(step.get("verified", False)),
                    "known": resolved["known"] if resolved else True,
                    "url": resolved["url"] if resolved else "",
                },
            }
        )
    fine = decision.get("fine_cny")
    return {
        "kind": kind,
        "fine_cny": None if fine is None else float(fine),
        "band": str(band) if band else "",
        "provision": str(decision.get("provision") or explanation.get("provision") or ""),
        "provision_title": str(explanation.get("provision_title") or ""),
        "law": str(explanation.get("law") or ""),
        "statutory": _range_text(explanation.get("statutory")),
        "recommended": _range_text(explanation.get("recommended")),
        "steps": steps,
        "warnings": [str(w) for w in explanation.get("warnings") or []],
    }


def _range_text(value: Any) -> str:
    """``50,000,000–500,000,000`` plus ``(1–10%`` of the base``)`` from ``Range.to_dict``."""
    if not isinstance(value, Mapping):
        return ""
    try:
        text = f"{int(value['min_yuan']):,}–{int(value['max_yuan']):,}"
    except (KeyError, TypeError, ValueError):
        return ""
    unit = value.get("rate_unit")
    if unit and value.get("rate_min") is not None and value.get("rate_max") is not None:
        sign = "%" if unit == "pct" else "×"
        text += f" ({value['rate_min']}–{value['rate_max']}{sign})"
    return text


# -- filters -----------------------------------------------------------------------------


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    return None


def _cn_date(value: Any) -> str:
    """``2025年7月1日``; ``–`` for no date; the text itself when it is not a date."""
    day = _as_date(value)
    if day is None:
        return str(value) if value else "–"
    return f"{day.year}年{day.month}月{day.day}日"


def _iso_date(value: Any) -> str:
    day = _as_date(value)
    if day is None:
        return str(value) if value else "–"
    return day.isoformat()


def _cny(value: Any) -> str:
    """``275,000,000.00``: yuan with two decimals and thousands separators."""
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return str(value)


# -- from the case store -----------------------------------------------------------------


def case_documents(
    store: Store, case_id: int, law: LawStore | None = None, *, drafts: bool = False
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The documents a case calls for, by file name: ``(kind, context)`` each.

    An approved decision of kind warning, guidance or interview gives a warning letter;
    penalty or no_penalty gives a penalty decision; every rectification order gives a
    rectification notice. A decision that is only proposed gives a document (marked as a
    draft) only with ``drafts``. File names start with the case number:
    ``ZJAMR-2025-00001_penalty_decision.pdf``,
    ``ZJAMR-2025-00001_rectification_notice_1.pdf``.
    """
    from sqlalchemy import select

    from fairwatch.cases.models import Alert, Bureau, Case, Decision, Lead, Rectification
    from fairwatch.cases.service import NotFoundError

    with store.session() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFoundError(f"no case {case_id}")
        lead = s.get(Lead, case.lead_id)
        alert = s.get(Alert, lead.alert_id) if lead is not None else None
        decision = s.execute(
            select(Decision).where(Decision.case_id == case_id)
        ).scalar_one_or_none()
        orders = (
            s.execute(
                select(Rectification)
                .where(Rectification.case_id == case_id)
                .order_by(Rectification.id)
            )
            .scalars()
            .all()
        )

        def bureau(bureau_id: str) -> dict[str, str]:
            row = s.get(Bureau, bureau_id)
            return {"id": bureau_id, "name": row.name if row is not None else ""}

        base: dict[str, Any] = {
            "bureau": bureau(case.bureau_id),
            "joint_bureaus": [bureau(str(b)) for b in case.joint_bureaus or []],
            "case_number": case.number,
            "addressee": {"platform_id": case.platform_id, "entity_id": case.subject_entity_id},
            "facts": decision.facts if decision is not None else "",
            "finding": None
            if alert is None
            else {
                "rule": alert.rule,
                "family": alert.family,
                "subject_type": alert.subject_type,
                "subject_id": alert.subject_id,
                "period_start": alert.period_start,
                "period_end": alert.period_end,
                "severity": alert.severity,
            },
            "legal_basis": list(
                decision.legal_basis
                if decision is not None
                else (alert.legal_basis if alert is not None else [])
            ),
        }
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        if decision is not None and (decision.status == "approved" or drafts):
            draft = decision.status != "approved"
            common = {**base, "date": decision.decided_on, "draft": draft}
            if decision.kind in WARNING_MEASURES:
                out[f"{case.number}_warning_letter.pdf"] = (
                    "warning_letter",
                    {**common, "measure": decision.kind},
                )
            elif decision.kind in PENALTY_KINDS:
                out[f"{case.number}_penalty_decision.pdf"] = (
                    "penalty_decision",
                    {
                        **common,
                        "decision": {
                            "kind": decision.kind,
                            "fine_cny": decision.fine_cny,
                            "band": decision.band,
                            "provision": decision.provision,
                            "explanation": dict(decision.explanation or {}),
                        },
                    },
                )
            else:
                log.warning("case %s: no document for decision kind %r", case_id, decision.kind)
        for n, order in enumerate(orders, start=1):
            out[f"{case.number}_rectification_notice_{n}.pdf"] = (
                "rectification_notice",
                {
                    **base,
                    "date": order.ordered_on,
                    "order": {
                        "text": order.order_text,
                        "ordered_on": order.ordered_on,
                        "due_on": order.due_on,
                    },
                },
            )
        return out


def documents_for_case(
    store: Store, case_id: int, law: LawStore | None = None, *, drafts: bool = False
) -> dict[str, bytes]:
    """The case's documents as PDF bytes, by file name (see :func:`case_documents`)."""
    if law is None:
        from fairwatch.law import default_store

        law = default_store()
    return {
        name: document_pdf(kind, context, law=law)
        for name, (kind, context) in case_documents(store, case_id, law, drafts=drafts).items()
    }
