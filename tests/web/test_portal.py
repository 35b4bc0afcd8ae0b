"""The platform view (warnings, rectification reports, data batches) and the public portal
(decisions, the dishonesty list, platform grades, algorithm filings, complaints)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from fairwatch.api import create_app
from fairwatch.cases.auth import create_user
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.models import Complaint, CreditEntry, DataBatch
from fairwatch.cases.service import Actor, CaseService
from fairwatch.web.pages.public import SlidingWindow, normalise_contact
from tests.helpers import reference_tables

TODAY = dt.date(2025, 6, 2)  # a Monday
PASSWORD = "correct horse battery"
BUREAU = "ZJAMR"
SECRET = "s" * 32
HTMX = {"HX-Request": "true"}

USERS = [
    ("analyst", "analyst", BUREAU, None),
    ("officer", "case_officer", BUREAU, None),
    ("supervisor", "supervisor", BUREAU, None),
    ("platform", "platform", None, ["p0", "p1"]),
    ("platform2", "platform", None, ["p9"]),
]


@pytest.fixture(scope="module")
def market_lake(web_lake: Path) -> Path:
    """The shared read-only market lake (tests/web/conftest.py)."""
    return web_lake


class World:
    def __init__(self, store: Store, lake: Path | None) -> None:
        self.store = store
        self.service = CaseService(store, today=lambda: TODAY)
        self.service.seed()
        self.actors: dict[str, Actor] = {}
        for username, role, bureau, platforms in USERS:
            user = create_user(
                store, username, PASSWORD, role, bureau_id=bureau, platform_ids=platforms
            )
            self.actors[username] = Actor.of(user)
        self.app: FastAPI = create_app(
            store, self.service, session_secret=SECRET, webhook_interval=None, lake_dir=lake
        )

    def decided_case(
        self, n: int, platform: str = "p0", kind: str = "warning", order: bool = True
    ) -> tuple[int, str]:
        """A case on ``platform`` decided (and ordered to rectify); its id and number."""
        svc, a = self.service, self.actors
        fed = svc.ingest_findings(
            Actor.system("analyst"),
            [
                {
                    "finding_id": f"f{n}",
                    "rule": "FW101",
                    "family": "pricing.personalized_discrimination",
                    "subject_type": "sku",
                    "subject_id": f"s{n}",
                    "platform_id": platform,
                    "period_start": "2025-03-01",
                    "period_end": "2025-03-31",
                    "severity": "high",
                    "score": 0.9,
                    "legal_basis": ["cn.pipl.art24"],
                }
            ],
            run_id="run-1",
        )
        lead = svc.triage(a["analyst"], fed.created[0], "lead")
        svc.verify_lead(a["officer"], lead.id, "checked")
        case = svc.propose_case(a["officer"], lead.id, entity_id=f"E-{platform}-{n}")
        svc.approve_case(a["supervisor"], case.id)
        svc.propose_decision(a["officer"], case.id, kind=kind)
        svc.approve_decision(a["supervisor"], case.id)
        if order:
            svc.order_rectification(a["officer"], case.id, "stop the price discrimination")
        return case.id, svc.case(a["supervisor"], case.id).number


def _world(tmp_path: Path, lake: Path | None) -> Iterator[World]:
    store = open_store(f"sqlite:///{tmp_path / 'cases.db'}", tmp_path / "evidence")
    try:
        yield World(store, lake)
    finally:
        store.dispose()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A store and an app whose lake is a fresh (empty) folder: batches go there."""
    yield from _world(tmp_path, tmp_path / "lake")


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as c:
        yield c


def sign_in(client: TestClient, username: str) -> None:
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


BAD_QUOTES = (
    "quote_id,ts,platform_id,sku_id,user_id,quoted_price,list_price\n"
    "q1,2025-03-01T00:00:00Z,p0,s1,u_0123456789ab,12.5,12.5\n"
    "q2,2025-03-01T00:07:00Z,p0,s1,u_0123456789ab,cheap,12.5\n"
    "q3,not-a-time,p0,s1,u_0123456789ab,12.5,12.5\n"
)


# ---------------------------------------------------------------------- platform view


def test_platform_pages_need_a_platform_account(client: TestClient) -> None:
    for path in ("/platform", "/platform/batches"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    r = client.post("/platform/batches", follow_redirects=False)
    assert r.status_code == 303
    sign_in(client, "analyst")
    assert client.get("/platform").status_code == 403
    assert client.post("/platform/cases/1/rectification", data={"report": "x"}).status_code == 403


def test_platform_sees_its_warnings_and_reports_a_rectification_once(
    world: World, client: TestClient
) -> None:
    case_id, number = world.decided_case(1, "p0")
    _, other = world.decided_case(2, "p9")  # another account's platform
    sign_in(client, "platform")
    page = client.get("/platform")
    assert page.status_code == 200
    html = page.text
    assert "<title>本平台" in html and "整改" in html  # Chinese by default
    assert number in html and other not in html
    assert f'data-testid="rectification-form-{case_id}"' in html
    assert f'<label for="report-{case_id}">' in html
    assert 'data-testid="batch-form"' in html and 'accept=".csv,.jsonl,.parquet"' in html
    english = client.get("/platform?lang=en").text
    assert "Warnings and deadlines" in english and "Rectification report" in english

    url = f"/platform/cases/{case_id}/rectification"
    empty = client.post(url, data={"report": "  "}, headers=HTMX)
    assert empty.status_code == 200 and 'role="alert"' in empty.text and "<textarea" in empty.text
    done = client.post(
        url, data={"report": "Prices are now the same for every user."}, headers=HTMX
    )
    assert done.status_code == 200 and 'role="status"' in done.text
    assert "<html" not in done.text  # a fragment
    again = client.post(url, data={"report": "once more"}, headers=HTMX)
    assert again.status_code == 200 and 'role="alert"' in again.text
    assert "<textarea" not in again.text
    assert world.service.case(world.actors["supervisor"], case_id).status == "review"
    # someone else's case: refused, as a message
    theirs = client.post(f"/platform/cases/{case_id + 1}/rectification", data={"report": "mine"})
    assert theirs.status_code == 200 and 'class="error"' in theirs.text
    # the report is listed as reported
    assert f'data-testid="rectification-form-{case_id}"' not in client.get("/platform").text


def test_an_overdue_order_is_highlighted(world: World, client: TestClient) -> None:
    world.decided_case(1, "p0")
    sign_in(client, "platform")
    assert 'class="deadline-overdue"' not in client.get("/platform?lang=en").text
    world.service.today = lambda: TODAY + dt.timedelta(days=60)
    html = client.get("/platform?lang=en").text
    assert 'class="deadline-overdue"' in html and "Overdue" in html


def test_a_malformed_batch_shows_every_problem_by_row_and_column(
    world: World, client: TestClient
) -> None:
    sign_in(client, "platform")
    files = [("files", ("price_quotes.csv", BAD_QUOTES.encode(), "text/csv"))]
    r = client.post("/platform/batches?lang=en", files=files, headers=HTMX)
    assert r.status_code == 200 and "<html" not in r.text
    assert 'data-testid="batch-errors"' in r.text
    table = r.text.split('data-testid="batch-errors"', 1)[1]
    rows = re.findall(r"<tr>\s*(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    by_column = {(c[0], c[1]): c for c in cells if c}
    assert by_column[("price_quotes", "quoted_price")][2].startswith("2")
    assert by_column[("price_quotes", "ts")][2].startswith("3")
    # without htmx: the whole page, with the same table
    full = client.post("/platform/batches", files=files)
    assert full.status_code == 200 and "<html" in full.text and "batch-errors" in full.text
    with world.store.read() as s:
        assert [b.status for b in s.execute(select(DataBatch)).scalars()] == [
            "rejected",
            "rejected",
        ]
    history = client.get("/platform/batches?lang=en").text
    assert history.count(">rejected<") == 2 and "quoted_price" in history


def test_a_valid_batch_is_accepted_and_listed(world: World, client: TestClient) -> None:
    sign_in(client, "platform")
    files = [
        ("files", (f"{name}.parquet", parquet(table), "application/octet-stream"))
        for name, table in reference_tables().items()
    ]
    r = client.post("/platform/batches?lang=en", files=files, headers=HTMX)
    assert r.status_code == 200 and 'data-testid="batch-accepted"' in r.text
    assert "platforms</td><td>2" in r.text.replace("\n", "").replace(" ", "")
    again = client.post("/platform/batches?lang=en", files=files, headers=HTMX)
    assert "already held this content" in again.text
    history = client.get("/platform/batches").text
    assert history.count('class="badge green"') == 2
    # rows of a platform the account does not speak for: refused with the reason
    client.post("/logout")
    sign_in(client, "platform2")
    theirs = client.post("/platform/batches", files=files, headers=HTMX)
    assert 'data-testid="batch-error"' in theirs.text and "p0" in theirs.text


def test_batch_form_errors_are_messages(client: TestClient) -> None:
    sign_in(client, "platform")
    none = client.post("/platform/batches?lang=en", headers=HTMX)
    assert none.status_code == 200 and "Choose at least one file" in none.text
    empty_input = client.post(
        "/platform/batches",
        files=[("files", ("", b"", "application/octet-stream"))],
        headers=HTMX,
    )
    assert 'data-testid="batch-error"' in empty_input.text
    bad_name = client.post(
        "/platform/batches",
        files=[("files", ("../../etc/passwd", b"x", "text/plain"))],
        headers=HTMX,
    )
    assert bad_name.status_code == 200 and "name it &lt;table&gt;" in bad_name.text
    foreign = client.post(
        "/platform/batches",
        files=[("files", ("price_quotes.csv", BAD_QUOTES.encode(), "text/csv"))],
        headers={**HTMX, "Origin": "https://elsewhere.example"},
    )
    assert 'data-testid="batch-error"' in foreign.text and "cross-origin" in foreign.text


def test_without_a_lake_batches_are_refused_with_a_message(tmp_path: Path) -> None:
    for world in _world(tmp_path, None):
        with TestClient(world.app) as client:
            sign_in(client, "platform")
            assert "no data lake" in client.get("/platform?lang=en").text
            files = [("files", ("price_quotes.csv", BAD_QUOTES.encode(), "text/csv"))]
            r = client.post("/platform/batches", files=files, headers=HTMX)
            assert r.status_code == 200 and "no lake configured" in r.text


# ---------------------------------------------------------------------- decisions


def test_decisions_are_public_searchable_and_exported(world: World, client: TestClient) -> None:
    _, first = world.decided_case(1, "p0", order=False)
    _, second = world.decided_case(2, "p1", kind="interview", order=False)
    page = client.get("/public")
    assert page.status_code == 200
    assert "<title>行政处罚信息公示" in page.text and 'data-testid="decisions"' in page.text
    table = page.text.split('data-testid="decisions"', 1)[1]
    assert first in table and second in table
    for label in ('for="q"', 'for="kind"', 'for="platform"', 'for="year"'):
        assert label in page.text
    en = client.get("/public?lang=en").text
    assert "Published decisions" in en and "Regulatory interview" in en

    only_warnings = client.get("/public", params={"kind": "warning"}).text
    assert first in only_warnings and second not in only_warnings
    assert 'href="/public/decisions.csv?kind=warning"' in only_warnings
    assert second in client.get("/public", params={"q": "p1"}).text
    assert first not in client.get("/public", params={"platform": "p1"}).text
    assert first not in client.get("/public", params={"year": "2019"}).text

    exported = client.get("/public/decisions.csv", params={"kind": "warning"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["case_number"] for r in rows] == [first]
    assert rows[0]["kind"] == "warning" and rows[0]["decided_on"] == TODAY.isoformat()
    assert rows[0]["legal_basis"] == "cn.pipl.art24"
    data = client.get("/public/decisions.json", params={"platform": "p1"}).json()
    assert [d["case_number"] for d in data] == [second] and data[0]["kind"] == "interview"
    assert len(client.get("/public/decisions.json").json()) == 2
    # signed-in staff see the same portal
    sign_in(client, "officer")
    assert first in client.get("/public").text


def test_the_dishonesty_list_shows_listed_entities(world: World, client: TestClient) -> None:
    world.decided_case(1, "p0", order=False)
    case_id, number = world.decided_case(2, "p1", order=False)
    assert 'data-testid="dishonest"' not in client.get("/public/dishonest").text
    with world.store.session() as s:
        entry = s.execute(select(CreditEntry).where(CreditEntry.case_id == case_id)).scalar_one()
        entry.record = {
            **entry.record,
            "outcome": "fine",
            "fine_cny": 500_000.0,
            "band": "heavier",
            "serious": True,
        }
    page = client.get("/public/dishonest?lang=en")
    assert page.status_code == 200 and "Serious dishonesty list" in page.text
    table = page.text.split('data-testid="dishonest"', 1)[1]
    assert "E-p1-2" in table and "E-p0-1" not in table and number in table
    assert "Fine in the heavier band" in table and "2028-06-02" in table  # three years
    assert "严重违法失信名单" in client.get("/public/dishonest?lang=zh").text
    rows = list(
        csv.DictReader(io.StringIO(client.get("/public/dishonest.csv").content.decode("utf-8-sig")))
    )
    assert [r["entity_id"] for r in rows] == ["E-p1-2"] and rows[0]["citation"]
    assert client.get("/public/dishonest.json", params={"q": "nobody"}).json() == []
    assert client.get("/public/dishonest.json", params={"q": "e-P1"}).json()[0]["until"] == (
        "2028-06-02"
    )


# ---------------------------------------------------------------------- the lake's views


def test_platform_grades_and_algorithm_filings_from_the_lake(
    tmp_path: Path, market_lake: Path
) -> None:
    for world in _world(tmp_path, market_lake):
        with TestClient(world.app) as client:
            grades = client.get("/public/platforms")
            assert grades.status_code == 200 and "<title>平台分级" in grades.text
            table = grades.text.split('data-testid="platform-grades"', 1)[1]
            assert "P01" in table and "云集购" in table and "网络销售类" in table
            assert "Online sales" in client.get("/public/platforms?lang=en").text
            filings = client.get("/public/algorithms?lang=en")
            assert filings.status_code == 200
            table = filings.text.split('data-testid="algorithm-filings"', 1)[1]
            assert "ALG-2022-00001" in table and "2022-08-23" in table
            assert "Dispatch and decision-making" in table


def test_lake_views_say_when_there_is_no_lake(client: TestClient, world: World) -> None:
    # the world's lake folder does not exist yet: nothing to read
    assert "no data lake" in client.get("/public/platforms?lang=en").text
    assert "no data lake" in client.get("/public/algorithms?lang=en").text


# ---------------------------------------------------------------------- complaints


def _complaint(**overrides: str) -> dict[str, str]:
    return {
        "category": "price",
        "platform_id": "P01",
        "text": "The same item cost me more than my neighbour.",
        "contact": "138 0013 8000",
        **overrides,
    }


def test_a_complaint_is_filed_under_a_pseudonym(world: World, client: TestClient) -> None:
    form = client.get("/public/complaint")
    assert form.status_code == 200 and "<title>投诉举报" in form.text
    for field in ("category", "platform_id", "text", "contact"):
        assert f'<label for="{field}">' in form.text
    done = client.post("/public/complaint", data=_complaint())
    assert done.status_code == 200 and 'data-testid="complaint-number"' in done.text
    number = int(re.search(r'data-testid="complaint-number">(\d+)<', done.text)[1])  # type: ignore[index]
    assert "13800138000" not in done.text and "138 0013 8000" not in done.text
    # the same phone written another way, and an e-mail address
    client.post("/public/complaint", data=_complaint(contact="+86-138-0013-8000"))
    client.post("/public/complaint", data=_complaint(contact=" Someone@Example.org "))
    with world.store.read() as s:
        stored = list(s.execute(select(Complaint).order_by(Complaint.id)).scalars())
    assert stored[0].id == number and stored[0].category == "price"
    tokens = [c.complainant for c in stored]
    assert all(re.fullmatch(r"c_[0-9a-f]{24}", t) for t in tokens)
    assert tokens[0] == tokens[1] != tokens[2]
    assert all("138" not in t and "example" not in t for t in tokens)


def test_complaint_fields_are_validated_and_the_contact_never_echoed(client: TestClient) -> None:
    r = client.post(
        "/public/complaint?lang=en",
        data=_complaint(category="gossip", text="short", contact="mail me 0013", platform_id="a b"),
    )
    assert r.status_code == 200
    for field in ("category", "platform_id", "text", "contact"):
        assert f'id="{field}-error"' in r.text
    assert "Give a phone number or an e-mail address." in r.text
    assert "mail me 0013" not in r.text
    zh = client.post("/public/complaint", data=_complaint(contact="someone@"))
    assert 'id="contact-error"' in zh.text and "someone@" not in zh.text
    assert 'id="text-error"' not in zh.text


def test_complaints_are_rate_limited_per_address(client: TestClient) -> None:
    for _ in range(5):
        assert "complaint-number" in client.post("/public/complaint", data=_complaint()).text
    r = client.post("/public/complaint?lang=en", data=_complaint())
    assert r.status_code == 429 and "Too many complaints" in r.text
    assert int(r.headers["retry-after"]) > 0


def test_who_may_file_a_complaint(client: TestClient) -> None:
    cross = client.post(
        "/public/complaint", data=_complaint(), headers={"Origin": "https://elsewhere.example"}
    )
    assert cross.status_code == 403 and "complaint-number" not in cross.text
    sign_in(client, "officer")
    assert client.get("/public/complaint").status_code == 403
    client.post("/logout")
    sign_in(client, "platform")
    assert "complaint-number" in client.post("/public/complaint", data=_complaint()).text


def test_contacts_normalise_and_the_window_slides() -> None:
    assert normalise_contact("+86 138-0013-8000") == normalise_contact("13800138000")
    assert normalise_contact("0086 13800138000") == "13800138000"
    assert normalise_contact("A@B.example") == "a@b.example"
    for bad in ("", "12", "hello", "a@b", "@b.cn", "1" * 30):
        assert normalise_contact(bad) is None
    window = SlidingWindow(2, 10.0)
    assert window.acquire("ip", 0.0) is None and window.acquire("ip", 1.0) is None
    assert window.acquire("ip", 2.0) == pytest.approx(8.0)
    assert window.acquire("other", 2.0) is None
    assert window.acquire("ip", 10.5) is None  # the first event left the window


def test_public_pages_render_in_both_languages(world: World, client: TestClient) -> None:
    for path in ("/public", "/public/dishonest", "/public/platforms", "/public/algorithms"):
        zh = client.get(path, params={"lang": "zh"})
        en = client.get(path, params={"lang": "en"})
        assert zh.status_code == en.status_code == 200
        assert '<html lang="zh-CN">' in zh.text and '<html lang="en">' in en.text
        assert zh.text.count("<h1>") == 1
    assert json.loads(client.get("/public/decisions.json").text) == []
