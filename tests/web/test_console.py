"""The console's case work pages: cockpit, alert queue, leads, cases and the case page.

Served by the real app over a SQLite case store; the cockpit's deal screening and the
case review read a small synthetic market ingested into a managed lake once per module.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fairwatch.api import create_app
from fairwatch.cases.auth import create_user
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.models import Alert, Case, Lead
from fairwatch.cases.service import Actor, CaseService

TODAY = dt.date(2025, 6, 2)  # a Monday
PASSWORD = "console-test-pass"
BUREAU = "ZJAMR"
HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def lake(web_lake: Path) -> Path:
    """The shared read-only market lake (tests/web/conftest.py)."""
    return web_lake


def finding(n: int, platform: str = "p0", **extra: Any) -> dict[str, Any]:
    return {
        "finding_id": f"f{n}",
        "rule": "FW101",
        "family": "pricing.personalized_discrimination",
        "subject_type": "sku",
        "subject_id": f"s{n}",
        "platform_id": platform,
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "severity": "high",
        "score": 0.5 + n / 100,
        "statistics": {"price_gap_pct": 12.5, "users": 40},
        "evidence": [{"table": "price_quotes", "ids": [f"q{n}a", f"q{n}b"]}],
        "legal_basis": ["cn.pipl.art24"],
        **extra,
    }


class World:
    def __init__(self, store: Store, service: CaseService, lake: Path | None) -> None:
        self.store, self.service, self.lake = store, service, lake
        self.alerts: list[int] = []
        self._clients: list[TestClient] = []
        self.app = create_app(
            store, service, lake_dir=lake, session_secret="s" * 32, webhook_interval=None
        )

    def client(self, user: str | None = None) -> TestClient:
        c = TestClient(self.app)
        self._clients.append(c)
        if user is not None:
            r = c.post(
                "/login", data={"username": user, "password": PASSWORD}, follow_redirects=False
            )
            assert r.status_code == 303, r.text
        return c

    def close(self) -> None:
        for c in self._clients:
            c.close()


def _world(tmp_path: Path, lake: Path | None) -> World:
    store = open_store(f"sqlite:///{tmp_path / 'cases.db'}", tmp_path / "evidence")
    service = CaseService(store, today=lambda: TODAY)
    service.seed()
    for name, role in (
        ("ana", "analyst"),
        ("olly", "case_officer"),
        ("sue", "supervisor"),
        ("plat", "platform"),
    ):
        create_user(
            store,
            name,
            PASSWORD,
            role,
            bureau_id=None if role == "platform" else BUREAU,
            platform_ids=["p0"] if role == "platform" else None,
        )
    w = World(store, service, lake)
    result = service.ingest_findings(
        Actor.system("analyst"),
        [finding(1), finding(2, "p1"), finding(3), finding(4, "p9", severity="medium")],
        run_id="run-1",
    )
    w.alerts = result.created
    return w


@pytest.fixture
def world(tmp_path: Path, lake: Path) -> Iterator[World]:
    w = _world(tmp_path, lake)
    try:
        yield w
    finally:
        w.close()
        w.store.dispose()


def _lead_for(w: World, alert_id: int) -> int:
    with w.store.read() as s:
        lead = s.query(Lead).filter(Lead.alert_id == alert_id).one()
        return lead.id


def _case_for(w: World, lead_id: int) -> Case:
    with w.store.read() as s:
        return s.query(Case).filter(Case.lead_id == lead_id).one()


def _open_case(w: World) -> int:
    """A case opened on the first alert (through the service), its id."""
    ana, olly, sue = (Actor.system(r) for r in ("analyst", "case_officer", "supervisor"))
    lead = w.service.triage(ana, w.alerts[0], "lead")
    w.service.verify_lead(olly, lead.id, "checked")
    case = w.service.propose_case(olly, lead.id, sector="retail")
    w.service.approve_case(sue, case.id)
    return int(case.id)


# ---------------------------------------------------------------------- access


def test_console_pages_need_a_staff_role(world: World) -> None:
    public = world.client()
    for path in ("/console", "/console/alerts", "/console/leads", "/console/cases"):
        r = public.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    plat = world.client("plat")
    assert plat.get("/console/cases").status_code == 403
    r = plat.post("/console/alerts/1/triage", data={"action": "lead"}, headers=HTMX)
    assert r.status_code == 403
    assert world.service.alerts(Actor.system("analyst"))[0].status == "open"


# ---------------------------------------------------------------------- cockpit


def test_cockpit_in_chinese_and_english_with_deal_lights(world: World) -> None:
    ana = world.client("ana")
    r = ana.get("/console")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="zh-CN">' in html and "按监测类别统计的发现" in html
    assert "/static/vendor/echarts-5.6.0.min.js" in html and 'id="chart-family"' in html
    assert "pricing.personalized_discrimination" in html
    # deals of the synthetic market by colour: every deal counted once
    counts = {
        c: int(m.group(1))
        for c in ("red", "yellow", "green")
        if (m := re.search(rf'data-testid="deals-{c}">(\d+)<', html))
    }
    assert set(counts) == {"red", "yellow", "green"} and sum(counts.values()) == 15
    assert counts["red"] > 0
    en = ana.get("/console?lang=en").text
    assert "Findings by family" in en and "Alerts by severity and week" in en
    assert 'data-testid="open-alerts">4<' in en
    # the weekly table: four alerts in the week of 2025-02-24 (conduct from 2025-03-01)
    assert "2025-02-24" in en


def test_cockpit_without_lake_and_overdue_work(tmp_path: Path) -> None:
    w = _world(tmp_path, None)
    try:
        lead = w.service.triage(Actor.system("analyst"), w.alerts[1], "lead")
        w.service.today = lambda: TODAY + dt.timedelta(days=60)
        html = w.client("sue").get("/console?lang=en").text
        assert "No lake" in html
        assert f'href="/console/leads#lead-{lead.id}"' in html
        assert 'data-testid="open-leads">1<' in html
    finally:
        w.close()
        w.store.dispose()


# ---------------------------------------------------------------------- alerts


def test_alert_queue_triage_to_lead_and_dismiss(world: World) -> None:
    ana = world.client("ana")
    html = ana.get("/console/alerts?lang=en").text
    for alert_id in world.alerts:
        assert f'data-testid="triage-lead-{alert_id}"' in html
    assert "Make lead" in html and "false_positive" in html
    first, second = world.alerts[0], world.alerts[1]
    r = ana.post(f"/console/alerts/{first}/triage", data={"action": "lead"}, headers=HTMX)
    assert r.status_code == 200
    assert r.text.lstrip().startswith("<tr") and f'id="alert-{first}"' in r.text
    assert 'role="status"' in r.text and f'data-testid="triaged-{first}"' in r.text
    lead_id = _lead_for(world, first)
    assert f"Lead {lead_id}" in r.text and BUREAU in r.text
    r = ana.post(
        f"/console/alerts/{second}/triage",
        data={"action": "dismiss", "reason": "duplicate"},
        headers=HTMX,
    )
    assert "duplicate" in r.text and 'role="status"' in r.text
    # a second triage is refused, shown in the row
    r = ana.post(f"/console/alerts/{first}/triage", data={"action": "lead"}, headers=HTMX)
    assert r.status_code == 200 and 'role="alert"' in r.text and "already lead" in r.text
    # dismissing needs one of the reasons
    third = world.alerts[2]
    r = ana.post(
        f"/console/alerts/{third}/triage",
        data={"action": "dismiss", "reason": "bored"},
        headers=HTMX,
    )
    assert 'role="alert"' in r.text
    with world.store.read() as s:
        assert s.get(Alert, third).status == "open"
        assert s.get(Alert, second).dismiss_reason == "duplicate"
    # the Chinese queue translates reasons; filters by status
    zh = ana.get("/console/alerts?status=dismissed&lang=zh").text
    assert "重复" in zh and f'id="alert-{second}"' in zh and f'id="alert-{third}"' not in zh
    # without htmx the form posts and redirects back to the queue
    r = ana.post(f"/console/alerts/{third}/triage", data={"action": "lead"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/alerts"


def test_triage_controls_only_for_triaging_roles(world: World) -> None:
    olly = world.client("olly")
    html = olly.get("/console/alerts?lang=en").text
    assert "triage-lead-" not in html
    r = olly.post(f"/console/alerts/{world.alerts[0]}/triage", data={"action": "lead"})
    assert r.status_code == 403


def test_cross_site_post_is_refused(world: World) -> None:
    ana = world.client("ana")
    r = ana.post(
        f"/console/alerts/{world.alerts[0]}/triage",
        data={"action": "lead"},
        headers={**HTMX, "Origin": "https://evil.example"},
    )
    assert 'role="alert"' in r.text and "cross-origin" in r.text
    with world.store.read() as s:
        assert s.get(Alert, world.alerts[0]).status == "open"


def test_alert_detail_shows_findings(world: World) -> None:
    ana = world.client("ana")
    html = ana.get(f"/console/alerts/{world.alerts[0]}?lang=en").text
    assert "price_gap_pct" in html and "12.5" in html
    assert "price_quotes" in html and "q1a, q1b" in html
    assert "Personal Information Protection Law" in html
    assert f"<title>Alert {world.alerts[0]} · fairwatch</title>" in html
    r = ana.post(
        f"/console/alerts/{world.alerts[0]}/triage",
        data={"action": "lead", "view": "detail"},
        headers=HTMX,
    )
    assert r.text.lstrip().startswith('<div id="triage-box"') and 'role="status"' in r.text
    assert ana.get("/console/alerts/999999").status_code == 404
    assert ana.get("/console/alerts/99999999999999").status_code == 404


# ---------------------------------------------------------------------- leads


def test_lead_verify_propose_case_and_close(world: World) -> None:
    analyst = Actor.system("analyst")
    lead = world.service.triage(analyst, world.alerts[0], "lead")
    other = world.service.triage(analyst, world.alerts[2], "lead")
    olly = world.client("olly")
    html = olly.get("/console/leads?lang=en").text
    assert f'data-testid="lead-of-alert-{world.alerts[0]}"' in html
    assert f'data-lead-id="{lead.id}"' in html and f'data-testid="verify-{lead.id}"' in html
    r = olly.post(f"/console/leads/{lead.id}/verify", data={"note": "quotes checked"}, headers=HTMX)
    assert r.status_code == 200 and 'role="status"' in r.text
    assert "quotes checked" in r.text and f'data-testid="propose-case-{lead.id}"' in r.text
    assert 'value="sandbox"' in r.text
    # a bad entity id is refused and the lead stays verified
    r = olly.post(f"/console/leads/{lead.id}/case", data={"entity_id": "no spaces!"}, headers=HTMX)
    assert 'role="alert"' in r.text
    r = olly.post(
        f"/console/leads/{lead.id}/case",
        data={"sector": "sandbox", "entity_id": "ent-1"},
        headers=HTMX,
    )
    case = _case_for(world, lead.id)
    assert case.sector == "sandbox" and case.subject_entity_id == "ent-1"
    assert f'data-testid="case-link-{lead.id}"' in r.text
    assert f'href="/console/cases/{case.id}"' in r.text
    # closing needs a reason
    r = olly.post(f"/console/leads/{other.id}/close", data={"reason": " "}, headers=HTMX)
    assert 'role="alert"' in r.text
    r = olly.post(f"/console/leads/{other.id}/close", data={"reason": "no harm"}, headers=HTMX)
    assert 'role="status"' in r.text and "no harm" in r.text
    # the analyst reads leads but may not verify them
    ana = world.client("ana")
    assert "verify-" not in ana.get("/console/leads?status=new").text
    assert ana.post(f"/console/leads/{other.id}/verify", data={"note": "x"}).status_code == 403


# ---------------------------------------------------------------------- cases


def test_case_opening_decision_and_documents(world: World) -> None:
    olly_actor = Actor.system("case_officer")
    lead = world.service.triage(Actor.system("analyst"), world.alerts[0], "lead")
    world.service.verify_lead(olly_actor, lead.id, "ok")
    case_id = world.service.propose_case(olly_actor, lead.id).id
    sue, olly = world.client("sue"), world.client("olly")

    html = sue.get(f"/console/cases/{case_id}?lang=en").text
    assert 'data-testid="approve-case"' in html and "pending-" in html
    r = sue.post(f"/console/cases/{case_id}/approve", headers=HTMX)
    assert '<div id="case-body"' in r.text and 'role="status"' in r.text
    assert (
        'hx-swap-oob="innerHTML:main &gt; h1"' in r.text
        or 'hx-swap-oob="innerHTML:main > h1"' in r.text
    )
    number = _case_for(world, lead.id).number
    assert number.startswith(f"{BUREAU}-2025-") and number in r.text
    assert "case.opened" in r.text or "立案" in r.text  # timeline

    # the officer proposes a penalty, priced by the calculator
    html = olly.get(f"/console/cases/{case_id}?lang=en").text
    assert 'data-testid="propose-decision"' in html and "approve-case" not in html
    assert 'value="aml.abuse_of_dominance"' in html and 'id="circ-first_violation"' in html
    r = olly.post(
        f"/console/cases/{case_id}/decision",
        data={
            "kind": "penalty",
            "provision": "aml.abuse_of_dominance",
            "base_cny": "5000000000",
            "conduct_start": "2025-03-01",
            "conduct_end": "2025-03-31",
            "facts": "discriminatory prices",
        },
        headers=HTMX,
    )
    assert 'role="status"' in r.text, r.text
    assert 'data-testid="decision-explanation"' in r.text and "discretion band" in r.text
    assert "275,000,000.00" in r.text  # the middle of 185–365 million
    # the calculator's range binds the fine
    r = olly.post(
        f"/console/cases/{case_id}/decision",
        data={
            "kind": "penalty",
            "provision": "aml.abuse_of_dominance",
            "base_cny": "5e9",
            "fine_cny": "1",
        },
        headers=HTMX,
    )
    assert 'role="alert"' in r.text and "outside the range" in r.text
    r = olly.post(
        f"/console/cases/{case_id}/decision",
        data={"kind": "penalty", "provision": "aml.abuse_of_dominance", "base_cny": "lots"},
        headers=HTMX,
    )
    assert 'role="alert"' in r.text
    # a draft document exists before approval
    html = olly.get(f"/console/cases/{case_id}?lang=en").text
    assert f"{number}_penalty_decision.pdf" in html and ">draft<" in html

    r = sue.post(f"/console/cases/{case_id}/decision/approve", headers=HTMX)
    assert 'role="status"' in r.text
    assert re.search(r'data-testid="decision-status"><span class="badge green">approved<', r.text)
    sue_zh = sue.get(f"/console/cases/{case_id}?lang=zh").text
    assert "已批准" in sue_zh
    pdf = sue.get(f"/console/cases/{case_id}/documents/{number}_penalty_decision.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert sue.get(f"/console/cases/{case_id}/documents/nope.pdf").status_code == 404


def test_case_work_evidence_tasks_rectification_review_close(world: World) -> None:
    case_id = _open_case(world)
    olly, sue = world.client("olly"), world.client("sue")
    r = olly.post(
        f"/console/cases/{case_id}/evidence",
        files={"file": ("screenshot.txt", b"quoted prices", "text/plain")},
        headers=HTMX,
    )
    assert 'role="status"' in r.text and "screenshot.txt" in r.text
    r = olly.post(f"/console/cases/{case_id}/evidence", headers=HTMX)
    assert 'role="alert"' in r.text
    r = olly.post(
        f"/console/cases/{case_id}/tasks",
        data={"title": "interview the platform", "due_on": "2025-06-20"},
        headers=HTMX,
    )
    assert "interview the platform" in r.text and "complete-task-" in r.text
    task_id = int(re.search(r'data-testid="complete-task-(\d+)"', r.text).group(1))  # type: ignore[union-attr]
    r = olly.post(f"/console/cases/{case_id}/tasks/{task_id}/done", headers=HTMX)
    assert 'role="status"' in r.text and "complete-task-" not in r.text
    r = olly.post(
        f"/console/cases/{case_id}/tasks", data={"title": "x", "due_on": "soon"}, headers=HTMX
    )
    assert 'role="alert"' in r.text

    r = olly.post(
        f"/console/cases/{case_id}/decision",
        data={"kind": "warning", "facts": "first time"},
        headers=HTMX,
    )
    assert 'role="status"' in r.text
    world.service.approve_decision(Actor.system("supervisor"), case_id)
    r = olly.post(
        f"/console/cases/{case_id}/rectification",
        data={"text": "stop personalised prices", "working_days": "10"},
        headers=HTMX,
    )
    assert 'role="status"' in r.text and "rectification_notice_1.pdf" in r.text
    # closing needs a review showing the conduct stopped
    r = sue.post(f"/console/cases/{case_id}/close", data={"note": "done"}, headers=HTMX)
    assert 'role="alert"' in r.text and "review" in r.text
    r = olly.post(f"/console/cases/{case_id}/review", data={"as_of": "2025-06-01"}, headers=HTMX)
    assert 'role="status"' in r.text, r.text
    assert "conduct stopped" in r.text or "已停止" in r.text
    r = sue.post(f"/console/cases/{case_id}/close", data={"note": "done"}, headers=HTMX)
    assert 'role="status"' in r.text
    assert _case_for_id(world, case_id).status == "closed"
    # without htmx: the whole page, with the error status
    r = sue.post(f"/console/cases/{case_id}/close", data={"note": "again"})
    assert r.status_code == 409 and "<h1>" in r.text and 'role="alert"' in r.text


def _case_for_id(w: World, case_id: int) -> Case:
    with w.store.read() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case


def test_cases_list_highlights_overdue(world: World) -> None:
    case_id = _open_case(world)
    world.service.today = lambda: TODAY + dt.timedelta(days=400)
    ana = world.client("ana")
    html = ana.get("/console/cases?lang=en").text
    assert f'data-testid="case-{case_id}"' in html and "overdue" in html
    assert ana.get("/console/cases?status=closed&lang=en").text.count("case-row-") == 0
    # analysts read cases but have no actions
    page = ana.get(f"/console/cases/{case_id}?lang=en").text
    assert "propose-decision" not in page and "upload-evidence" not in page
    assert ana.get("/console/cases/424242").status_code == 404
