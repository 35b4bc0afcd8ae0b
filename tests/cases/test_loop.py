"""The whole closed loop on a synthetic market, on SQLite and PostgreSQL.

A small market (seed 2024) runs from 2025-03-01 to 2025-04-09 and plants personalised
price discrimination on a few SKUs. The monitoring scan sees the data up to a cut-off
(the "early" lake: quotes before 2025-03-21). Two of its findings are taken through
the loop: alert, lead (routed by the SKU's store's region), verification, case, evidence,
decision, rectification order. Then the platform rectifies one SKU (from the decision
date on every user is quoted the list price) and not the other, and the review scan on
the data after the decision (the "later" lake) tells them apart: the first case closes,
the second may not.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from fairwatch.cases import audit
from fairwatch.cases.models import Case, Lead
from fairwatch.cases.regions import lake_region_resolver
from fairwatch.cases.service import CaseService, ConflictError
from fairwatch.detectors.run import scan
from fairwatch.law.calendar import add_working_days
from fairwatch.law.penalty import PenaltyCase, calculate
from fairwatch.synth.core import Scale
from fairwatch.synth.generate import generate_market
from tests.cases.conftest import Clock, MakeActor

SCALE = Scale("loop", quotes=20_000, platforms=3, merchants=30, skus=60, users=1_500, days=40)
SEED = 2024
FAMILY = "pricing.personalized_discrimination"
CUT_OFF = dt.date(2025, 3, 21)  # the monitoring scan sees the quotes before this day
DECIDED = dt.date(2025, 3, 26)  # the decisions take effect; the later data starts here
REVIEWED = dt.date(2025, 4, 10)  # the day after the market's data ends
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
REFERENCE = ("entities", "platforms", "merchants", "products")
PROVISION = "aml.abuse_of_dominance"
BASE_CNY = 2_000_000_000  # prior-year sales
#: the case's timeline, in order (its alert, lead, case and evidence events)
TIMELINE = [
    "alert.created",
    "alert.triaged",
    "lead.created",
    "lead.verified",
    "case.proposed",
    "case.opened",
    "evidence.added",
    "evidence.read",
    "decision.proposed",
    "decision.approved",
    "credit.recorded",
    "disclosure.published",
    "rectification.ordered",
    "rectification.reported",
    "case.reviewed",
    "case.closed",
]


def local_midnight(day: dt.date) -> pa.Scalar:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(dt.UTC)
    return pa.scalar(start, pa.timestamp("us", tz="UTC"))


def write_lake(market: Path, out: Path, quotes: pa.Table) -> Path:
    """A lake of the market's reference tables and these price quotes."""
    out.mkdir(parents=True)
    for table in REFERENCE:
        shutil.copytree(market / table, out / table)
    (out / "price_quotes").mkdir()
    pq.write_table(quotes, out / "price_quotes" / "part-00000.parquet")
    return out


def list_price_for(quotes: pa.Table, sku: str) -> pa.Table:
    """Every quote of ``sku`` at the public list price: the discrimination stopped."""
    mine = pc.equal(quotes["sku_id"], sku)
    quoted = pc.if_else(mine, quotes["list_price"], quotes["quoted_price"])
    coupon = pc.if_else(mine, pa.scalar(None, pa.float64()), quotes["coupon_cny"])
    return quotes.set_column(
        quotes.schema.get_field_index("quoted_price"), "quoted_price", quoted
    ).set_column(quotes.schema.get_field_index("coupon_cny"), "coupon_cny", coupon)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("loop") / "market"
    summary = generate_market(out, SCALE, seed=SEED)
    assert summary["period"]["end"] == "2025-04-09"
    assert summary["truth"]["violations"][FAMILY] >= 2
    return out


@pytest.fixture(scope="module")
def quotes(market: Path) -> pa.Table:
    return ds.dataset(market / "price_quotes").to_table()


def test_the_whole_loop(
    service: CaseService,
    make_actor: MakeActor,
    clock: Clock,
    market: Path,
    quotes: pa.Table,
    tmp_path: Path,
) -> None:
    # --- monitoring: the scan of the data before the cut-off, fed into the case store
    early = write_lake(
        market, tmp_path / "early", quotes.filter(pc.less(quotes["ts"], local_midnight(CUT_OFF)))
    )
    run = scan(early, tmp_path / "run", select=["FW101"], as_of=CUT_OFF, report=False)
    found = sorted(
        (f for f in run.findings if f["family"] == FAMILY), key=lambda f: -float(f["score"])
    )
    assert len(found) >= 2, run.findings
    assert all(f["period_end"] == "2025-03-20" for f in found)  # the day before the cut-off
    stops, goes_on = found[0], found[1]  # the platform rectifies the first SKU only

    clock.day = CUT_OFF
    analyst = make_actor("ana", "analyst")
    fed = service.ingest_findings(
        analyst, run.findings, run.run_id, region_of=lake_region_resolver(early)
    )
    assert (len(fed.created), fed.merged, fed.skipped) == (len(run.findings), [], 0)
    again = service.ingest_findings(analyst, run.findings, run.run_id)
    assert (again.created, again.skipped) == ([], len(run.findings))

    alerts = {a.subject_id: a for a in service.alerts(analyst)}
    assert len(alerts) == len(run.findings)
    targets = [alerts[str(stops["subject_id"])], alerts[str(goes_on["subject_id"])]]
    for alert in targets:
        assert alert.region_code.startswith("3301"), alert.region_code  # a Hangzhou store
        assert alert.family == FAMILY and alert.status == "open"

    # --- triage: leads routed to the Hangzhou bureau, due in 15 working days
    leads = [service.triage(analyst, a.id, "lead") for a in targets]
    for lead in leads:
        assert isinstance(lead, Lead)
        assert lead.bureau_id == "HZAMR"
        assert lead.deadline == add_working_days(CUT_OFF, 15)
    officer = make_actor("olly", "case_officer", bureau_id="HZAMR")
    supervisor = make_actor("sue", "supervisor", bureau_id="HZAMR")
    public = make_actor("pub", "public")

    # --- verification and cases, approved by the supervisor
    clock.day = dt.date(2025, 3, 24)
    operators = {
        row["platform_id"]: row["operator_id"]
        for row in pq.read_table(market / "platforms").to_pylist()
    }
    cases: list[Case] = []
    for alert, lead in zip(targets, leads, strict=True):
        service.verify_lead(officer, lead.id, "the quotes show a hidden markup for one group")
        proposed = service.propose_case(
            officer, lead.id, entity_id=operators[str(alert.platform_id)]
        )
        assert proposed.status == "pending_approval"
        cases.append(service.approve_case(supervisor, proposed.id))
    first, second = cases
    assert [c.number for c in cases] == ["HZAMR-2025-00001", "HZAMR-2025-00002"]
    assert first.status == "open" and first.opened_on == clock.day
    assert first.deadline == clock.day + dt.timedelta(days=90)
    entity = str(first.subject_entity_id)

    # --- evidence, content-addressed
    content = json.dumps(stops, sort_keys=True, ensure_ascii=False).encode()
    ev = service.add_evidence(officer, first.id, content, "finding.json", "application/json")
    assert service.read_evidence(officer, ev.id)[1] == content

    # --- decisions: a computed penalty for the first case, a warning for the second
    clock.day = DECIDED
    decision = service.propose_decision(
        officer,
        first.id,
        kind="penalty",
        provision=PROVISION,
        facts="members were quoted up to 15 % above the list price",
        base_cny=BASE_CNY,
    )
    expected = calculate(
        PenaltyCase.build(
            PROVISION, dt.date(2025, 3, 1), dt.date(2025, 3, 20), DECIDED, base_cny=BASE_CNY
        ),
        service.law,
        today=DECIDED,
    )
    assert expected.recommended is not None
    assert decision.fine_cny is not None and decision.fine_cny > 0
    fine = Fraction(str(decision.fine_cny))
    assert expected.recommended.min_cny <= fine <= expected.recommended.max_cny
    assert expected.statutory.min_cny <= fine <= expected.statutory.max_cny
    assert decision.band == expected.band.value
    steps = decision.explanation["steps"]
    assert steps and all(step["citation_label"] for step in steps)
    cited = {step["citation_key"] for step in steps if step["citation_key"]}
    assert "cn.aml2022.art57" in cited  # the article the fine rests on (AML 2022, art. 57)
    assert "cn.aml2022.art57" in decision.legal_basis
    assert "cn.apl.art33" not in decision.legal_basis  # a penalty, not a no-penalty decision
    assert "cn.pipl.art24" in decision.legal_basis  # the detector's legal basis comes along
    approved = service.approve_decision(supervisor, first.id)
    assert (approved.status, approved.decided_on) == ("approved", DECIDED)
    service.propose_decision(officer, second.id, kind="warning", facts="a hidden markup")
    service.approve_decision(supervisor, second.id)

    # --- rectification ordered, reported by the platform
    for case in cases:
        order = service.order_rectification(officer, case.id, "quote every user the list price")
        assert order.due_on == add_working_days(DECIDED, 15)
    accounts = {
        pid: make_actor(f"plat-{pid}", "platform", platform_ids=[pid])
        for pid in sorted({str(c.platform_id) for c in cases})
    }
    clock.day = dt.date(2025, 4, 3)
    for case in cases:
        account = accounts[str(case.platform_id)]
        service.report_rectification(account, case.id, "personalised pricing switched off")
        assert {w["case_number"]: w["status"] for w in service.own_warnings(account)} == {
            c.number: "review" for c in cases if c.platform_id == case.platform_id
        }

    # --- review: the detector again, on the data from the decision on
    later_quotes = quotes.filter(pc.greater_equal(quotes["ts"], local_midnight(DECIDED)))
    later = write_lake(
        market, tmp_path / "later", list_price_for(later_quotes, str(stops["subject_id"]))
    )
    clock.day = REVIEWED
    stopped = service.review(officer, first.id, later, as_of=REVIEWED)
    assert (stopped.rule, stopped.stopped, stopped.findings) == ("FW101", True, [])
    continuing = service.review(officer, second.id, later, as_of=REVIEWED)
    assert continuing.stopped is False and len(continuing.findings) == 1
    with pytest.raises(ConflictError, match="a review must confirm the conduct stopped"):
        service.close_case(supervisor, second.id)
    closed = service.close_case(supervisor, first.id, "the markup stopped")
    assert (closed.status, closed.closed_on) == ("closed", REVIEWED)
    assert service.case(officer, second.id).status == "review"

    # --- the credit record and the public disclosure
    profile = service.credit_profile(public, entity)
    records = {r.decision.decision_id: r.decision for r in profile.records}
    assert first.number in records
    recorded = records[first.number]
    assert (recorded.outcome.value, recorded.decided_on, recorded.provision) == (
        "fine",
        DECIDED,
        PROVISION,
    )
    assert recorded.fine_cny == fine
    disclosed = {d.case_number: d for d in service.disclosures(public)}
    assert set(disclosed) == {first.number, second.number}
    shown = disclosed[first.number]
    assert first.number in shown.title and shown.published_on == DECIDED
    assert (shown.body["kind"], shown.body["fine_cny"]) == ("penalty", decision.fine_cny)

    # --- the audit log: intact, and the case's timeline in order
    with service.store.session() as s:
        assert audit.verify(s) == []
    assert [e.action for e in service.timeline(supervisor, first.id)] == TIMELINE
    second_timeline = [e.action for e in service.timeline(supervisor, second.id)]
    assert second_timeline.count("case.reviewed") == 1 and "case.closed" not in second_timeline
