"""The HTML report: escaping, detector problems, summary counts, self-containment, the cap."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import fairwatch.law
from fairwatch.law import Citation
from fairwatch.report import render_html, write_report
from fairwatch.report.html import LABELS, format_value

EVIL = "<script>alert(1)</script>"


def finding(n: int, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "finding_id": f"f{n:05d}",
        "rule": "FW101",
        "family": "pricing.personalized_discrimination",
        "subject_type": "sku",
        "subject_id": f"sku{n}",
        "platform_id": "p1",
        "period_start": "2024-01-01",
        "period_end": "2024-01-31",
        "severity": "medium",
        "score": 0.5,
        "statistics": {"premium_pct": 12.345678, "n": 42, "q_value": 0.000123456, "ok": True},
        "evidence": [{"table": "price_quotes", "ids": [f"q{i}" for i in range(25)]}],
        "legal_basis": ["cn.pipl.art24"],
        "as_of": "2024-02-01",
    }
    base.update(over)
    return base


def detector(code: str, name: str, family: str, status: str, **extra: Any) -> dict[str, Any]:
    row = {"code": code, "name": name, "family": family, "status": status, "findings": 0,
           "seconds": 0.0, "error": None, "missing": []}  # fmt: skip
    row.update(extra)
    return row


RUN: dict[str, Any] = {
    "run_id": "run-42",
    "as_of": "2024-02-01",
    "engine": "duckdb",
    "lake": "/data/lake",
    "started_at": "2024-02-01T10:00:00+00:00",
    "finished_at": "2024-02-01T10:00:12.5+00:00",
    "detectors": [
        detector(
            "FW101",
            "pricing.loyalty_premium",
            "pricing.personalized_discrimination",
            "ok",
            findings=3,
            seconds=1.25,
        ),
        detector(
            "FW201",
            "conduct.exclusivity",
            "conduct.exclusive_dealing",
            "error",
            seconds=0.5,
            error="ZeroDivisionError: boom",
        ),
        detector(
            "FW301", "ads.unlabeled_ad", "ads.unlabeled", "skipped", missing=["ads", "ad_events"]
        ),
    ],
}

FINDINGS = [
    finding(1, severity="high", score=0.7, platform_id="p2"),
    finding(2, severity="critical", score=0.9, subject_id=EVIL),
    finding(3, severity="high", score=0.95),
    finding(4, family="integrity.fake_accounts", subject_type="account_cluster",
            subject_id="cluster:u1", platform_id=None, severity="low", score=0.2),
]  # fmt: skip


def summary_table(html: str, css: str) -> dict[str, int]:
    block = re.search(rf'<table class="{css}">(.*?)</table>', html, re.S)
    assert block is not None
    rows = re.findall(r'<tr><td>([^<]*)</td><td class="n">(\d+)</td>', block.group(1))
    return {k: int(v) for k, v in rows}


@pytest.fixture
def html() -> str:
    return render_html(FINDINGS, RUN, title="Test report")


def test_header_and_detectors(html: str) -> None:
    for text in ("run-42", "2024-02-01", "duckdb", "/data/lake", "12.5 s", "Test report"):
        assert text in html
    assert "ZeroDivisionError: boom" in html
    assert "missing: ads, ad_events" in html
    assert '<tr class="error">' in html and '<tr class="skipped">' in html


def test_values_are_escaped(html: str) -> None:
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_summary_counts(html: str) -> None:
    assert summary_table(html, "sum-family") == {
        "pricing.personalized_discrimination": 3,
        "integrity.fake_accounts": 1,
    }
    assert summary_table(html, "sum-severity") == {
        "critical": 1,
        "high": 2,
        "medium": 0,
        "low": 1,
        "info": 0,
    }
    assert summary_table(html, "sum-platform") == {"p1": 2, "p2": 1, LABELS["no_platform"]: 1}


def test_findings_order_and_details(html: str) -> None:
    order = [html.index(f"<code>f0000{n}</code>") for n in (2, 3, 1, 4)]
    assert order == sorted(order)  # critical, high 0.95, high 0.7, low
    assert "12.35" in html and "0.0001235" in html and "12.345678" not in html
    assert "q19" in html and "q20" not in html  # first 20 ids of 25
    assert "20 of 25 ids" in html
    assert "cn.pipl.art24" in html


class FakeStore:
    """The law store's citation interface, with one citation."""

    def has_citation(self, key: str) -> bool:
        return key == "cn.pipl.art24"

    def citation(self, key: str) -> Citation:
        return Citation(
            instrument="Personal Information Protection Law",
            article="24",
            issuer="NPCSC",
            published_on=None,
            effective_on=date(2021, 11, 1),
            verified=True,
            url="https://example.org/pipl",
            key=key,
        )


def no_store() -> None:
    raise RuntimeError("no store")


def test_self_contained_without_law(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fairwatch.law, "default_store", no_store)
    html = render_html(FINDINGS, RUN)
    assert "cn.pipl.art24" in html  # the key is shown even without the store
    assert "http" not in html
    assert "<link" not in html and "src=" not in html and "@import" not in html


def test_citations_from_law_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fairwatch.law, "default_store", FakeStore)
    html = render_html([finding(1, legal_basis=["cn.pipl.art24", "cn.unknown"])], RUN)
    assert "Personal Information Protection Law, art. 24" in html
    urls = re.findall(r'href="([^"]*)"', html)
    assert urls == ["https://example.org/pipl"]
    assert html.count("http") == 2  # the href and its text: no other external reference
    assert "cn.unknown" in html


def test_non_http_citation_url_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    class Store(FakeStore):
        def citation(self, key: str) -> Citation:
            return replace(super().citation(key), url="javascript:alert(1)")

    monkeypatch.setattr(fairwatch.law, "default_store", Store)
    html = render_html([finding(1)], RUN)
    assert "javascript" not in html and "href" not in html


def test_cap_on_rendered_findings() -> None:
    many = [finding(n, score=n / 10_000) for n in range(10_000)]
    start = time.perf_counter()
    html = render_html(many, RUN)
    elapsed = time.perf_counter() - start
    assert html.count("<details") == 2000
    assert "8000 lower-ranked findings are not shown" in html
    assert "findings.jsonl has them all" in html
    assert summary_table(html, "sum-severity")["medium"] == 10_000
    assert "f09999" in html and "f00000" not in html  # highest scores shown
    assert len(html) < 2000 * 2500
    assert elapsed < 20


def test_empty_run() -> None:
    html = render_html([], {})
    assert LABELS["no_findings"] in html and LABELS["no_detectors"] in html


def test_format_value() -> None:
    assert format_value(3.14159265) == "3.142"
    assert format_value(123456.0) == "1.235e+05"
    assert format_value(7) == "7"
    assert format_value(None) == "–"
    assert format_value(False) == "false"
    assert format_value({"a": 0.123456, "b": [1.0 / 3]}) == '{"a": 0.1235, "b": [0.3333]}'


def test_write_report(tmp_path: Path) -> None:
    (tmp_path / "findings.jsonl").write_text("".join(json.dumps(f) + "\n" for f in FINDINGS))
    (tmp_path / "run.json").write_text(json.dumps(RUN))
    path = write_report(tmp_path)
    assert path == tmp_path / "report.html"
    text = path.read_text(encoding="utf-8")
    assert "run-42" in text and "&lt;script&gt;" in text
    assert text.count("<details") == len(FINDINGS)
