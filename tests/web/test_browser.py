"""The console and portal in a real browser: Debian's Chromium driven by Playwright.

One journey across the roles, as the issue asks: an analyst triages an alert into a
lead; a case officer verifies it and proposes a case; a supervisor approves the case;
the officer proposes a penalty; the supervisor approves it; the public finds the
decision on the portal; a platform submits a malformed data batch and sees the
row-and-column errors. Any browser console error fails the test. Every page visited is
checked for a title, labelled form controls and no horizontal scrolling at 390 px, and
screenshotted at 1280 px and 390 px into ``test-artifacts/screenshots/`` (or
``$FAIRWATCH_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("FAIRWATCH_ARTIFACTS", "test-artifacts")) / "screenshots"
PASSWORD = "browser-test-pass"
WIDTHS = (1280, 390)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served console over a synthetic market whose findings are alerts."""
    import uvicorn

    from fairwatch.api import create_app
    from fairwatch.cases.auth import create_user
    from fairwatch.cases.db import open_store
    from fairwatch.cases.regions import lake_region_resolver
    from fairwatch.cases.service import Actor, CaseService
    from fairwatch.detectors.run import scan
    from fairwatch.lake import ingest
    from fairwatch.synth.core import Scale
    from fairwatch.synth.generate import generate_market

    root = tmp_path_factory.mktemp("browser")
    market, lake = root / "market", root / "lake"
    scale = Scale("web", quotes=20_000, platforms=4, merchants=30, skus=60, users=800, days=30)
    generate_market(market, scale, seed=5)
    ingest(market, lake)
    run = scan(lake, None, select=["FW101", "FW102"])
    store = open_store(f"sqlite:///{root / 'cases.db'}", evidence_dir=root / "evidence")
    service = CaseService(store)
    service.seed()
    service.ingest_findings(
        Actor.system("analyst"), run.findings, run.run_id, region_of=lake_region_resolver(lake)
    )
    platform = sorted({str(f["platform_id"]) for f in run.findings})[0]
    for name, role in (
        ("ana", "analyst"),
        ("olly", "case_officer"),
        ("sue", "supervisor"),
        ("plat", "platform"),
    ):
        create_user(
            store, name, PASSWORD, role, platform_ids=[platform] if role == "platform" else None
        )
    app = create_app(store, lake_dir=lake, session_secret="b" * 32, webhook_interval=None)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.1)
    assert srv.started, "the console did not start"
    try:
        yield {"url": f"http://127.0.0.1:{port}", "platform": platform, "store": store}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        store.dispose()


class Browser:
    """A Playwright page that records console errors and checks every page it visits."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.shots = 0
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.check(path)

    def check(self, label: str) -> None:
        """Title, labels, no horizontal scrolling at 390 px; screenshots at both widths."""
        page = self.page
        page.wait_for_load_state("networkidle")
        assert page.title().strip(), f"{label}: no title"
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden')
                .filter(e => !(e.id && document.querySelector(`label[for="${e.id}"]`))
                             && !e.getAttribute('aria-label') && !e.closest('label'))
                .map(e => e.name || e.outerHTML.slice(0, 80))"""
        )
        assert not unlabelled, f"{label}: controls without a label: {unlabelled}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_") or "home"
        self.shots += 1
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            if width == 390:
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                assert overflow <= 1, f"{label}: {overflow} px of horizontal scrolling at 390 px"
            page.screenshot(
                path=str(ARTIFACTS / f"{self.shots:02d}_{name}_{width}.png"), full_page=True
            )
        page.set_viewport_size({"width": 1280, "height": 900})

    def login(self, user: str) -> None:
        page = self.page
        page.goto(self.base + "/login?lang=en")
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    def logout(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_load_state("networkidle")


def test_the_journey_across_roles(server: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            b = Browser(chromium.new_page(viewport={"width": 1280, "height": 900}), server["url"])
            # the public portal opens in Chinese by default
            b.go("/public")
            assert b.page.locator("html").get_attribute("lang") == "zh-CN"

            b.go("/login")
            # analyst: triage the first open alert into a lead
            b.login("ana")
            b.go("/console")
            b.go("/console/alerts")
            first = b.page.locator("[data-testid^='triage-lead-']").first
            alert_id = int((first.get_attribute("data-testid") or "").rsplit("-", 1)[1])
            first.click()
            expect(b.page.locator(f"[data-testid='triaged-{alert_id}']")).to_be_visible()
            b.check("alerts_after_triage")
            b.go(f"/console/alerts/{alert_id}")
            b.logout()

            # case officer: verify the lead and propose a case
            b.login("olly")
            b.go("/console/leads")
            row = b.page.locator(f"[data-testid='lead-of-alert-{alert_id}']")
            lead_id = int(row.get_attribute("data-lead-id") or "0")
            b.page.locator(f"[data-testid='verify-{lead_id}'] textarea").fill("quotes checked")
            b.page.locator(f"[data-testid='verify-{lead_id}'] button").click()
            b.page.wait_for_load_state("networkidle")
            b.page.locator(f"[data-testid='propose-case-{lead_id}'] button").click()
            case_link = b.page.locator(f"[data-testid='case-link-{lead_id}']")
            expect(case_link).to_be_visible()
            case_path = case_link.get_attribute("href") or ""
            b.check("leads_after_case")
            b.logout()

            # supervisor: approve opening the case
            b.login("sue")
            b.go(case_path)
            b.page.locator("[data-testid='approve-case'] button").click()
            expect(b.page.locator("[data-testid='case-number']")).not_to_contain_text("pending")
            case_number = b.page.locator("[data-testid='case-number']").inner_text().strip()
            b.check("case_opened")
            b.logout()

            # case officer: propose a penalty, priced by the calculator
            b.login("olly")
            b.go(case_path)
            form = b.page.locator("[data-testid='propose-decision']")
            form.get_by_label("Decision").select_option("penalty")
            form.get_by_label("Provision").select_option("aml.abuse_of_dominance")
            form.get_by_label("Fine base (yuan)").fill("5000000000")
            form.locator("button[type=submit]").click()
            expect(b.page.locator("[data-testid='decision-explanation']")).to_be_visible()
            b.check("decision_proposed")
            b.logout()

            # supervisor: approve the decision
            b.login("sue")
            b.go(case_path)
            b.page.locator("[data-testid='approve-decision'] button").click()
            expect(b.page.locator("[data-testid='decision-status']")).to_contain_text("approved")
            b.check("decision_approved")
            b.logout()

            # the public finds the decision
            b.go("/public?lang=en")
            expect(b.page.locator("[data-testid='decisions']")).to_contain_text(case_number)

            # a platform submits a malformed batch and sees row-and-column errors
            b.login("plat")
            b.go("/platform")
            bad = (
                "quote_id,ts,platform_id,sku_id,user_id,quoted_price\n"
                f"q1,2025-03-01T10:00:00+00:00,{server['platform']},s1,u1,not-a-price\n"
            ).encode()
            form = b.page.locator("[data-testid='batch-form']")
            form.locator("input[type=file]").set_input_files(
                [{"name": "price_quotes.csv", "mimeType": "text/csv", "buffer": bad}]
            )
            form.locator("button[type=submit]").click()
            errors = b.page.locator("[data-testid='batch-errors']")
            expect(errors).to_contain_text("price_quotes")
            expect(errors).to_contain_text("quoted_price")
            b.check("platform_batch_rejected")
            for path in (
                "/platform/batches",
                "/public/dishonest",
                "/public/platforms",
                "/public/algorithms",
                "/public/complaint",
            ):
                b.go(path)
            b.logout()
            b.login("ana")
            for path in (
                "/console/cases",
                "/console/deals",
                "/console/law",
                "/console/detectors",
                "/console/platforms",
                f"/console/platforms/{server['platform']}",
                case_path,
            ):
                b.go(path)
        finally:
            chromium.close()
    assert not b.errors, f"browser console errors: {b.errors}"
