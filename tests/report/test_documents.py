"""Case documents: cases driven through the service to decisions, rendered to PDF.

The text is checked on WeasyPrint's laid-out pages (what the PDF shows, page margins
included), and the PDF bytes are checked to be exactly those pages' PDF and to embed a
CJK font.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fairwatch.cases.auth import authenticate, create_user
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.service import Actor, CaseService, NotFoundError
from fairwatch.errors import UsageError
from fairwatch.law import default_store
from fairwatch.report.documents import (
    LABELS,
    case_documents,
    document_pdf,
    documents_for_case,
    layout_document,
    pdf_bytes,
    render_document,
)

TODAY = dt.date(2025, 7, 1)
PASSWORD = "correct-horse-battery"
UNKNOWN_KEY = "cn.not_a_law.art999"
AML57 = "Anti-Monopoly Law of the PRC (as amended 2022), art. 57"
EVIL = "<script>alert(1)</script>"
CJK_FONT = re.compile(
    rb"/(?:BaseFont|FontName)\s*/[A-Z]{6}\+([^\s/\]>]*(?:CJK|WenQuanYi)[^\s/\]>]*)"
)


STYLESHEET_CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei")


def cjk_font_missing() -> str | None:
    """Why none of the stylesheet's CJK fonts is installed here, or None when one is."""
    if shutil.which("fc-list") is None:
        return "fontconfig's fc-list is not installed, so no CJK font is known"
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    if not any(family in listed for family in STYLESHEET_CJK_FONTS):
        return (
            f"none of {', '.join(STYLESHEET_CJK_FONTS)} is installed "
            "(apt-get install fonts-noto-cjk; .ci/run does it)"
        )
    return None


NO_CJK_FONT = cjk_font_missing()


def laid_out_text(document: Any) -> str:
    """Every text fragment of WeasyPrint's laid-out pages (margin boxes included).

    Walks the layout tree (``page._page_box``, WeasyPrint's box model since its first
    versions): what is there is what the PDF draws. Fragments split at line and element
    boundaries, so compare with :func:`squash` (whitespace removed) on both sides.
    """
    parts: list[str] = []

    def walk(box: Any) -> None:
        text = getattr(box, "text", None)
        if isinstance(text, str):
            parts.append(text)
        for child in getattr(box, "children", None) or ():
            walk(child)

    for page in document.pages:
        walk(page._page_box)
        parts.append("\f")
    return " ".join(parts)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_shows(text: str, *expected: str) -> None:
    shown = squash(text)
    missing = [e for e in expected if squash(e) not in shown]
    assert not missing, f"not in the document: {missing}"


def embedded_fonts(pdf: bytes) -> set[str]:
    """Names of CJK fonts embedded in a PDF (its streams inflated: WeasyPrint compresses)."""
    chunks = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return {name.decode() for chunk in chunks for name in CJK_FONT.findall(chunk)}


Rendered = tuple[str, str, bytes]


@dataclass
class World:
    store: Store
    service: CaseService
    officer: Actor
    supervisor: Actor
    penalty: int
    warning: int
    no_penalty: int
    draft: int
    due_on: dt.date
    fine: float
    cache: dict[tuple[int, bool], dict[str, Rendered]] = field(default_factory=dict)


def finding(n: int, family: str, platform: str, legal_basis: list[str]) -> dict[str, Any]:
    return {
        "finding_id": f"f{n}",
        "rule": f"FW{300 + n}",
        "family": family,
        "subject_type": "platform",
        "subject_id": platform,
        "platform_id": platform,
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "severity": "high",
        "score": 0.9,
        "legal_basis": legal_basis,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("documents")
    store = open_store(f"sqlite:///{tmp}/c.db", evidence_dir=tmp / "ev")
    service = CaseService(store, today=lambda: TODAY)
    service.seed()
    for name, role in (("ana", "analyst"), ("off", "case_officer"), ("sup", "supervisor")):
        create_user(store, name, PASSWORD, role, bureau_id="ZJAMR")
    analyst, officer, supervisor = (authenticate(store, n, PASSWORD) for n in ("ana", "off", "sup"))
    findings = [
        finding(1, "conduct.self_preferencing", "P-0001", ["cn.pipl.art24", UNKNOWN_KEY]),
        finding(2, "pricing.personalized_discrimination", "P-0002", ["cn.pipl.art24"]),
        finding(3, "pricing.personalized_discrimination", "P-0003", ["cn.pipl.art24"]),
        finding(4, "conduct.self_preferencing", "P-0004", ["cn.pipl.art24"]),
    ]
    alerts = service.ingest_findings(analyst, findings, "run-1", region_of=lambda f: "330000")
    cases = []
    for alert_id in alerts.created:
        lead = service.triage(analyst, alert_id, "lead")
        service.verify_lead(officer, lead.id, "checked against the platform's records")
        case = service.propose_case(officer, lead.id, entity_id=f"E-{alert_id:04d}")
        cases.append(service.approve_case(supervisor, case.id).id)
    penalty, warning, no_penalty, draft = cases

    service.propose_decision(
        officer,
        penalty,
        kind="penalty",
        provision="aml.abuse_of_dominance",
        base_cny=5e9,
        facts=f"Rivals demoted in search ranking throughout 2024. {EVIL}",
    )
    decision = service.approve_decision(supervisor, penalty)
    order = service.order_rectification(officer, penalty, "Stop demoting rivals in ranking.")

    service.add_joint_bureau(supervisor, warning, "HZAMR")
    service.propose_decision(officer, warning, kind="warning", facts="Higher prices for old users.")
    service.approve_decision(supervisor, warning)

    service.propose_decision(officer, no_penalty, kind="no_penalty", facts="Corrected at once.")
    service.approve_decision(supervisor, no_penalty)

    service.propose_decision(
        officer, draft, kind="penalty", provision="aml.abuse_of_dominance", base_cny=1e9
    )
    assert decision.fine_cny is not None
    yield World(
        store,
        service,
        officer,
        supervisor,
        penalty,
        warning,
        no_penalty,
        draft,
        order.due_on,
        decision.fine_cny,
    )
    store.dispose()


def number(world: World, case_id: int) -> str:
    return world.service.case(world.supervisor, case_id).number


def rendered(world: World, case_id: int, drafts: bool = False) -> dict[str, Rendered]:
    """name -> (kind, laid-out text, PDF bytes) of the documents the case calls for."""
    if (case_id, drafts) not in world.cache:
        world.cache[case_id, drafts] = _render(world, case_id, drafts=drafts)
    return world.cache[case_id, drafts]


def _render(world: World, case_id: int, **kw: Any) -> dict[str, Rendered]:
    law = default_store()
    out = {}
    for name, (kind, context) in case_documents(world.store, case_id, law, **kw).items():
        document = layout_document(kind, context, law=law)
        out[name] = (kind, laid_out_text(document), pdf_bytes(document))
    return out


def test_the_same_document_gives_the_same_bytes_an_hour_later(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the embedded font subsets used to carry the time of writing
    kind, context = next(iter(case_documents(world.store, world.penalty, default_store()).values()))
    document = layout_document(kind, context, law=default_store())
    environment = os.environ.get("SOURCE_DATE_EPOCH")
    now = pdf_bytes(document)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert pdf_bytes(document) == now
    assert os.environ.get("SOURCE_DATE_EPOCH") == environment  # the process's is left as it was


def check_pdf(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_penalty_decision_and_rectification_notice(world: World) -> None:
    case_number = number(world, world.penalty)
    docs = rendered(world, world.penalty)
    assert sorted(docs) == [
        f"{case_number}_penalty_decision.pdf",
        f"{case_number}_rectification_notice_1.pdf",
    ]
    # documents_for_case gives exactly the PDFs of the pages whose text is checked here
    pdfs = documents_for_case(world.store, world.penalty)
    assert pdfs == {name: pdf for name, (_, _, pdf) in docs.items()}
    kind, text, pdf = docs[f"{case_number}_penalty_decision.pdf"]
    assert kind == "penalty_decision"
    fine = f"{world.fine:,.2f}"  # as the case store holds it: 275,000,000.00 today
    assert_shows(
        text,
        "行政处罚决定书",
        "Administrative penalty decision",
        case_number,
        fine,
        "2025年7月1日",
        "Zhejiang Administration for Market Regulation",
        "P-0001",
        "E-0001",  # the entity id given to propose_case
        AML57,  # a citation label, resolved through the law store
        "Fine for abuse of dominance",  # ...and its summary
        "FW301",
        "conduct.self_preferencing",
        "2024-01-01 – 2024-12-31",
        "Rivals demoted in search ranking",
        EVIL,  # data shows as text (escaped in the HTML)
        f"{UNKNOWN_KEY} {LABELS['unknown_citation']['zh']}",  # unknown key: raw, marked
        "第 1 页 / 共",  # page numbers from the @page counters
    )
    # the calculator's explanation, step by step, each with its citation
    context = case_documents(world.store, world.penalty)[f"{case_number}_penalty_decision.pdf"][1]
    steps = context["decision"]["explanation"]["steps"]
    assert len(steps) >= 5
    for step in steps:
        assert_shows(text, step["title"], step["detail"], step["citation_label"])
    # an unverified citation is marked where it is shown (steps citing screening policy)
    assert any(not step.get("verified", True) for step in steps)
    assert_shows(text, "未核实 · unverified")
    check_pdf(pdf)

    kind, text, pdf = docs[f"{case_number}_rectification_notice_1.pdf"]
    assert kind == "rectification_notice"
    due = world.due_on  # working days counted by the service
    assert_shows(
        text,
        "责令整改通知书",
        case_number,
        "Stop demoting rivals in ranking.",
        f"{due.year}年{due.month}月{due.day}日",
        due.isoformat(),
        AML57,
    )
    check_pdf(pdf)


def test_warning_letter(world: World) -> None:
    case_number = number(world, world.warning)
    docs = rendered(world, world.warning)
    assert list(docs) == [f"{case_number}_warning_letter.pdf"]
    kind, text, pdf = docs[f"{case_number}_warning_letter.pdf"]
    assert kind == "warning_letter"
    assert_shows(
        text,
        "警示函",
        "Warning letter",
        case_number,
        "警告",
        "Higher prices for old users.",
        "Personal Information Protection Law of the PRC, art. 24",
        "Hangzhou Administration for Market Regulation",  # the joint bureau
        "P-0002",
    )
    assert "罚款" not in squash(text)
    check_pdf(pdf)


def test_no_penalty_decision(world: World) -> None:
    case_number = number(world, world.no_penalty)
    docs = rendered(world, world.no_penalty)
    assert list(docs) == [f"{case_number}_penalty_decision.pdf"]
    _, text, pdf = docs[f"{case_number}_penalty_decision.pdf"]
    assert_shows(
        text,
        "不予行政处罚决定书",
        "Decision not to impose an administrative penalty",
        case_number,
        "Administrative Penalty Law of the PRC (revised 2021), art. 33",
        "Corrected at once.",
    )
    assert squash("罚款 Fine") not in squash(text)
    check_pdf(pdf)


def test_proposed_decision_gives_a_document_only_as_a_marked_draft(world: World) -> None:
    assert documents_for_case(world.store, world.draft) == {}
    docs = rendered(world, world.draft, drafts=True)
    [(_, text, _)] = docs.values()
    assert_shows(text, LABELS["draft"]["zh"], LABELS["draft"]["en"], LABELS["not_decided"]["en"])


@pytest.mark.skipif(NO_CJK_FONT is not None, reason=str(NO_CJK_FONT))
def test_pdfs_embed_a_cjk_font(world: World) -> None:
    cases = (world.penalty, world.warning, world.no_penalty)
    pdfs = [pdf for case_id in cases for _, _, pdf in rendered(world, case_id).values()]
    assert len(pdfs) == 4
    for pdf in pdfs:
        fonts = embedded_fonts(pdf)
        assert fonts, "the PDF embeds no CJK font: Chinese would not render"
        assert any(f.startswith(("Noto-Sans-CJK", "Noto-Serif-CJK", "WenQuanYi")) for f in fonts)


def test_unknown_case(world: World) -> None:
    with pytest.raises(NotFoundError):
        documents_for_case(world.store, 999)


CONTEXT: dict[str, Any] = {
    "bureau": {"id": "ZJAMR", "name": "Zhejiang Administration for Market Regulation"},
    "case_number": "ZJAMR-2025-00099",
    "date": "2025-07-01",
    "addressee": {"platform_id": "P-9", "entity_id": None},
    "facts": f'{EVIL}<img src="https://example.com/x.png"> <link href="http://example.com/a.css">',
    "legal_basis": ["cn.pipl.art24", UNKNOWN_KEY],
    "measure": "guidance",
}


def test_html_is_escaped_and_self_contained() -> None:
    html = render_document("warning_letter", CONTEXT)
    assert EVIL not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "<link" not in html
    without_data = html.replace("https://example.com/x.png", "").replace(
        "http://example.com/a.css", ""
    )
    for remote in ("http://", "https://", "url(", "@import", "<script"):
        assert remote not in without_data, remote
    assert '<html lang="zh-CN">' in html and "counter(pages)" in html
    assert '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif' in html


def test_bad_context_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="document kind"):
        render_document("summons", CONTEXT)
    with pytest.raises(UsageError, match="measure"):
        render_document("warning_letter", {**CONTEXT, "measure": "fine"})
    with pytest.raises(UsageError, match="lacks decision"):
        render_document("penalty_decision", CONTEXT)
    with pytest.raises(UsageError, match="lacks order"):
        document_pdf("rectification_notice", CONTEXT)
    incomplete = {k: v for k, v in CONTEXT.items() if k != "legal_basis"}
    with pytest.raises(UsageError, match="legal_basis"):
        render_document("warning_letter", incomplete)
