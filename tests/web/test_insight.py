"""The insight pages: deal screening, the law browser, the detector catalogue and
platform profiles, over a tiny synthetic market (generated once for the module)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fairwatch.api import create_app
from fairwatch.cases.auth import create_user
from fairwatch.cases.db import Store, open_store
from fairwatch.cases.service import Actor, CaseService

PASSWORD = "insight-pages-pass"
ROLES = ("analyst", "case_officer", "supervisor", "platform")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairwatch.lake import ingest
    from fairwatch.synth.core import Scale
    from fairwatch.synth.generate import generate_market

    root = tmp_path_factory.mktemp("insight-lake")
    scale = Scale("web", quotes=20_000, platforms=4, merchants=30, skus=60, users=800, days=30)
    generate_market(root / "market", scale, seed=5)
    ingest(root / "market", root / "lake")
    return root / "lake"


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, cheap_password_hashing: None
) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("insight-store")
    opened = open_store(f"sqlite:///{root / 'cases.db'}", root / "evidence")
    service = CaseService(opened)
    service.seed()
    for role in ROLES:
        create_user(
            opened,
            role,
            PASSWORD,
            role,
            bureau_id="ZJAMR" if role != "platform" else None,
            platform_ids=["P01"] if role == "platform" else None,
        )
    findings = [
        {
            "finding_id": f"ins{n}",
            "rule": "FW101",
            "family": "pricing.personalized_discrimination",
            "subject_type": "sku",
            "subject_id": f"SKU{n}",
            "platform_id": platform,
            "period_start": "2025-03-01",
            "period_end": "2025-03-31",
            "severity": "high",
            "score": 0.5 + n / 100,
            "legal_basis": ["cn.pipl.art24"],
        }
        for n, platform in ((1, "P01"), (2, "P02"), (3, "P01"))
    ]
    service.ingest_findings(Actor.system("analyst"), findings, run_id="insight-run")
    try:
        yield opened
    finally:
        opened.dispose()


def _app(store: Store, lake: Path | None) -> FastAPI:
    return create_app(store, session_secret="s" * 32, webhook_interval=None, lake_dir=lake)


@pytest.fixture(scope="module")
def app(store: Store, lake: Path) -> FastAPI:
    return _app(store, lake)


def _client(app: FastAPI, role: str | None) -> TestClient:
    client = TestClient(app)
    if role is not None:
        r = client.post(
            "/login",
            data={"username": role, "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    return client


@pytest.fixture(scope="module")
def analyst(app: FastAPI) -> Iterator[TestClient]:
    with _client(app, "analyst") as c:
        yield c


PAGES = (
    "/console/deals",
    "/console/deals/DL20240011",
    "/console/law",
    "/console/detectors",
    "/console/platforms",
    "/console/platforms/P01",
)


def _title(html: str) -> str:
    m = re.search(r"<title>(.*?)</title>", html, re.S)
    assert m, "no <title>"
    return m.group(1)


def _labelled(html: str) -> None:
    """Every visible form control has a <label for> (or an aria-label)."""
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag or "aria-label=" in tag:
            continue
        m = re.search(r'\bid="([^"]+)"', tag)
        assert m and m.group(1) in labels, f"unlabelled control {tag}"


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_chinese_and_english(analyst: TestClient, path: str) -> None:
    en = analyst.get(path, params={"lang": "en"})
    assert en.status_code == 200, en.text
    assert '<html lang="en">' in en.text
    _labelled(en.text)
    zh = analyst.get(path, params={"lang": "zh"})
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    assert _title(zh.text) != _title(en.text)  # the title is translated
    _labelled(zh.text)


def test_chinese_by_default(app: FastAPI) -> None:
    with _client(app, "analyst") as c:
        html = c.get("/console/deals").text
    assert '<html lang="zh-CN">' in html
    assert "审查拟议交易" in html and "收购方主体编号" in html


def test_catalogue_covers_every_message() -> None:
    """Every msgid of the templates and of the label tables has a Chinese translation."""
    from fairwatch.web import i18n
    from fairwatch.web.pages import insight

    folder = Path(insight.__file__).parents[1] / "templates" / "insight"
    ids = set()
    for template in folder.glob("*.html"):
        ids |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', template.read_text()))
    for table in (
        insight.REASON_LABELS,
        insight.STATUS_LABELS,
        insight.DOMINANCE_LABELS,
        insight.EU_BANDS,
    ):
        ids |= set(table.values())
    ids |= set(insight.TITLES) | {"super platform", "large platform", "small or medium platform"}
    ids |= {"undetermined", "What it detects", "Why it matters", "Method", "Known limitations"}
    zh = i18n.translations("zh")
    missing = sorted(i for i in ids if zh.gettext(i) == i)
    assert not missing


@pytest.mark.parametrize("path", PAGES)
def test_roles(app: FastAPI, path: str) -> None:
    with _client(app, None) as public:
        r = public.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    with _client(app, "platform") as platform:
        assert platform.get(path).status_code == 403
    for role in ("case_officer", "supervisor"):
        with _client(app, role) as c:
            assert c.get(path).status_code == 200


def test_deals_page_lists_the_lake_deals_with_colours(analyst: TestClient) -> None:
    html = analyst.get("/console/deals", params={"lang": "en"}).text
    assert 'data-testid="deal-form"' in html
    assert 'hx-post="/console/deals/screen"' in html
    table = html.split('data-testid="lake-deals"')[1]
    assert '<a href="/console/deals/DL20240011">DL20240011</a>' in table
    assert "notification_missing" in table and "dominance_large_delta" in table
    assert 'data-colour="red"' in table and 'data-colour="green"' in table
    assert '<datalist id="entity-ids">' in html


def test_lake_deal_detail(analyst: TestClient) -> None:
    html = analyst.get("/console/deals/DL20240011", params={"lang": "en"}).text.replace("<wbr>", "")
    light = html.split('data-testid="deal-light"')[1]
    assert 'data-colour="red"' in html
    assert 'data-code="notification_missing"' in light
    assert 'data-code="dominance_large_delta"' in light
    assert 'data-testid="market-effects"' in light  # HHI pre/post, delta, shares
    assert "HHI delta" in light and "Dominance presumption" in light
    assert "cn.aml.merger_thresholds" in light  # the parameters behind the figures


def test_unknown_lake_deal_is_a_404_page(analyst: TestClient) -> None:
    r = analyst.get("/console/deals/NOPE", params={"lang": "en"})
    assert r.status_code == 404
    assert "no deal &#39;NOPE&#39; in the lake" in r.text


def _propose(client: TestClient, htmx: bool, **fields: str) -> tuple[int, str]:
    form = {
        "acquirer_id": "E000011",
        "target_id": "E000025",
        "signed_on": "2025-03-01",
        "stake_after_pct": "100",
        "control": "yes",
        "consideration_cny": "5000000000",
        **fields,
    }
    headers = {"HX-Request": "true"} if htmx else {}
    r = client.post("/console/deals/screen?lang=en", data=form, headers=headers)
    return r.status_code, r.text.replace("<wbr>", "")  # break hints in dotted names


def test_screen_a_proposal_with_htmx(analyst: TestClient) -> None:
    status, html = _propose(analyst, htmx=True)
    assert status == 200
    assert "<html" not in html  # a fragment
    assert 'data-testid="deal-light"' in html
    assert 'data-colour="yellow"' in html
    for code in ("notification_due", "killer_acquisition_draft_test"):
        assert f'data-code="{code}"' in html
    figures = html.split('data-testid="notification-figures"')[0]
    assert "China turnover FY2024" in figures
    assert "met" in figures and "cn.aml.merger_thresholds.each_party_china_cny" in figures


def test_screen_without_htmx_renders_the_whole_page(analyst: TestClient) -> None:
    status, html = _propose(analyst, htmx=False, control="no", stake_after_pct="10")
    assert status == 200
    assert "<html" in html and 'data-testid="deal-light"' in html
    assert 'value="E000011"' in html  # the form keeps what was entered
    assert 'data-code="killer_acquisition_draft_test"' not in html  # no control, no merger


def test_screen_errors_are_shown(analyst: TestClient) -> None:
    status, html = _propose(analyst, htmx=True, acquirer_id="E999999")
    assert status == 200 and 'role="alert"' in html
    assert "unknown entity E999999" in html
    status, html = _propose(analyst, htmx=True, stake_after_pct="150")
    assert 'role="alert"' in html and "between 0" in html
    status, html = _propose(analyst, htmx=False, signed_on="tomorrow")
    assert status == 422 and "is not a date" in html and 'data-testid="deal-form"' in html


def test_screen_refuses_another_origin(analyst: TestClient) -> None:
    r = analyst.post(
        "/console/deals/screen",
        data={"acquirer_id": "E000011", "target_id": "E000025"},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403


def test_law_page_groups_by_area_and_marks_unverified(analyst: TestClient) -> None:
    html = analyst.get("/console/law", params={"lang": "en", "at": "2024-06-01"}).text
    html = html.replace("<wbr>", "")
    assert 'data-area="cn.aml"' in html and 'data-area="cn.detection"' in html
    assert "cn.aml.merger_thresholds.global_combined_cny" in html
    assert "12,000,000,000 CNY" in html  # the 2024 threshold (decree 773)
    assert "unverified" in html and "policy" in html and "statute" in html


def test_law_page_filters_by_prefix_and_date(analyst: TestClient) -> None:
    html = analyst.get(
        "/console/law",
        params={"lang": "en", "at": "2020-01-01", "prefix": "cn.aml.merger_thresholds"},
    ).text
    assert "cn.detection" not in html
    assert "10,000,000,000 CNY" in html  # the thresholds before 2024
    bad = analyst.get("/console/law", params={"lang": "en", "at": "someday"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text


def test_law_diff(analyst: TestClient) -> None:
    params = {"d1": "2020-01-01", "d2": "2025-01-01", "prefix": "cn.aml.merger_thresholds"}
    fragment = analyst.get(
        "/console/law/diff", params={**params, "lang": "en"}, headers={"HX-Request": "true"}
    ).text.replace("<wbr>", "")
    assert "<html" not in fragment
    assert 'data-testid="law-diff"' in fragment
    assert "cn.aml.merger_thresholds.global_combined_cny" in fragment
    assert "10,000,000,000 CNY" in fragment and "12,000,000,000 CNY" in fragment
    full = analyst.get("/console/law/diff", params={**params, "lang": "en"}).text
    assert "<html" in full and 'data-testid="law-diff"' in full
    same = analyst.get(
        "/console/law/diff",
        params={"d1": "2025-01-01", "d2": "2025-01-01", "lang": "en"},
        headers={"HX-Request": "true"},
    ).text
    assert "No parameter changed" in same
    bad = analyst.get(
        "/console/law/diff", params={"d1": "x", "d2": ""}, headers={"HX-Request": "true"}
    ).text
    assert 'role="alert"' in bad


def test_detector_catalogue(analyst: TestClient) -> None:
    from fairwatch.detectors.registry import registry

    html = analyst.get("/console/detectors", params={"lang": "en"}).text
    assert html.count('data-testid="detector"') == len(registry())
    assert 'id="FW101"' in html and "What it detects" in html and "Known limitations" in html
    assert "<code>list_price</code>" in html  # ``list_price`` rendered as code
    assert "<li>" in html  # bullet lists
    assert "<script" not in html.split("<main")[1]  # docstrings are escaped text


def test_prose_escapes_and_structures() -> None:
    from fairwatch.web.pages.insight import prose

    out = str(prose("A <b>x</b> and ``code``.\n\n- *one*\n  more\n- two"))
    assert "&lt;b&gt;" in out and "<code>code</code>" in out
    assert "<ul><li><em>one</em> more</li><li>two</li></ul>" in out


def test_platform_profile(analyst: TestClient) -> None:
    html = analyst.get("/console/platforms/P01", params={"lang": "en"}).text
    assert 'data-testid="platform-grade" data-grade="large"' in html
    assert 'value="2025-12-31"' in html  # graded on the latest annual figures (2024)
    assert 'data-test="super"' in html and 'data-test="large"' in html
    obligations = html.split('data-testid="obligations"')[1].split("</table>")[0]
    assert obligations.count("<tr>") > 2
    assert 'data-testid="filings"' in html
    alerts = html.split('data-testid="platform-alerts"')[1]
    assert "SKU1" in alerts and "SKU3" in alerts and "SKU2" not in alerts
    assert 'data-testid="credit"' in html and "E000011" in html
    # an earlier date grades on earlier figures
    early = analyst.get("/console/platforms/P01", params={"lang": "en", "at": "2024-06-01"})
    assert early.status_code == 200 and "figures of 2023" in early.text


def test_platform_list_and_unknown_platform(analyst: TestClient) -> None:
    html = analyst.get("/console/platforms", params={"lang": "en"}).text
    for pid in ("P01", "P02", "P03", "P04"):
        assert f'href="/console/platforms/{pid}"' in html
    r = analyst.get("/console/platforms/PX", params={"lang": "en"})
    assert r.status_code == 404 and "no platform &#39;PX&#39;" in r.text


def test_pages_without_a_lake(store: Store) -> None:
    app = _app(store, None)
    with _client(app, "analyst") as c:
        for path in ("/console/deals", "/console/platforms", "/console/platforms/P01"):
            r = c.get(path, params={"lang": "en"})
            assert r.status_code == 200
            assert 'data-testid="no-lake"' in r.text
        # the store's alerts still show on a platform profile
        assert "SKU1" in c.get("/console/platforms/P01").text
        _, html = _propose(c, htmx=True)
        assert 'role="alert"' in html and "without a lake" in html
        assert c.get("/console/law").status_code == 200
        assert c.get("/console/detectors").status_code == 200


def test_lake_cache_follows_the_lake(lake: Path) -> None:
    from fairwatch.web.lake import lake_data

    first = lake_data(lake)
    assert lake_data(lake) is first
    manifest = lake / "_manifest.json"
    stamp = manifest.stat().st_mtime_ns + 1_000_000_000
    import os

    os.utime(manifest, ns=(stamp, stamp))
    assert lake_data(lake) is not first


def test_default_grading_day() -> None:
    import pandas as pd

    from fairwatch.web.pages.insight import default_grading_day

    today = dt.date(2026, 11, 24)
    metrics = pd.DataFrame({"period": ["2023", "2024", "2025-01"]})
    assert default_grading_day({"platform_metrics": metrics}, today) == dt.date(2025, 12, 31)
    assert default_grading_day({}, today) == today
    assert default_grading_day({"platform_metrics": metrics}, dt.date(2025, 3, 1)) == dt.date(
        2025, 3, 1
    )
