"""LawStore lookups, the step-function property, diff and citation integrity."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairwatch.errors import DefinitionError, FairwatchError, ParameterLookupError
from fairwatch.law import (
    Citation,
    DatedValue,
    Kind,
    LawStore,
    Parameter,
    UnknownCitationError,
    UnknownParameterError,
    default_store,
    load_store,
)

STORE = default_store()
D = dt.date

#: Keys other modules (detectors, cases) are promised.
REQUIRED_CITATIONS = [
    "cn.pipl.art24",
    "cn.algorithm_provisions.art21",
    "cn.crpl_regulations.art9",
    "cn.price_fraud_provisions.art19",
    "cn.price_law.art14",
    "cn.ecommerce_law.art34",
    "cn.ecommerce_law.art17",
    "cn.ecommerce_law.art35",
    "cn.aml2022.art22",
    "cn.aml2022.art26",
    "cn.aml2022.art19",
    "cn.aucl2019.art8",
    "cn.advertising_law.art9",
    "cn.advertising_law.art14",
    "cn.advertising_law.art44",
    "cn.algorithm_provisions.art24",
    "cn.platform_price_rules",
]

#: Policy parameters the first detectors read: name -> value from 2019-01-01.
DETECTION_POLICY = {
    "cn.detection.fdr_q": 0.05,
    "cn.detection.pricing.min_premium_pct": 1.0,
    "cn.detection.pricing.min_group_quotes": 20,
    "cn.detection.pricing.tenure_bucket_edges_days": [30, 180, 365],
    "cn.detection.pricing.price_tolerance_cny": 0.01,
}


def test_value_and_entry() -> None:
    name = "cn.aml.merger_thresholds.global_combined_cny"
    assert STORE.value(name, D(2024, 1, 22)) == 12_000_000_000
    entry = STORE.entry(name, D(2024, 1, 22))
    assert isinstance(entry, DatedValue)
    assert entry.start == D(2024, 1, 22)
    assert entry.until is None
    assert entry.citation.key == "cn.notification_thresholds.decree773"
    assert entry.citation.verified is False  # [src, conflict] on the effective date
    assert "2024-01-26" in (entry.citation.instrument_note or "")
    previous = STORE.entry(name, D(2024, 1, 21))
    assert previous.until == D(2024, 1, 22)
    assert previous.citation.key == "cn.notification_thresholds.decree703"


def test_fraction_values_are_exact() -> None:
    share = STORE.value("cn.aml.dominance.two_firms_share", D(2023, 1, 1))
    assert share == Fraction(2, 3)
    assert 0.6667 >= share > 0.6666


def test_before_first_date_raises() -> None:
    with pytest.raises(ParameterLookupError, match="first value applies from 2022-08-01"):
        STORE.value("cn.aml.fines.aggravation_multiplier", D(2021, 4, 10))
    with pytest.raises(ParameterLookupError):
        STORE.entry("cn.aml.fines.aggravation_multiplier", D(2022, 7, 31))


def test_after_repeal_raises() -> None:
    name = "cn.aml.fines.illegal_concentration.with_effect_max_cny"
    assert STORE.value(name, D(2022, 7, 31)) == 500_000
    for when in (D(2022, 8, 1), D(2030, 1, 1)):
        with pytest.raises(ParameterLookupError, match="repealed from 2022-08-01"):
            STORE.value(name, when)


def test_unknown_parameter() -> None:
    with pytest.raises(UnknownParameterError, match="did you mean") as info:
        STORE.value("cn.aml.merger_thresholds.global_combined", D(2024, 1, 1))
    assert isinstance(info.value, FairwatchError)
    assert isinstance(info.value, LookupError)
    assert not STORE.has("cn.aml.merger_thresholds.global_combined")


def test_unknown_citation() -> None:
    pattern = r"unknown citation key 'cn\.pipl\.art25'"
    with pytest.raises(UnknownCitationError, match=pattern) as info:
        STORE.citation("cn.pipl.art25")
    assert isinstance(info.value, DefinitionError)
    assert isinstance(info.value, LookupError)
    assert not STORE.has_citation("cn.pipl.art25")


def test_values_are_copies() -> None:
    name = "cn.detection.pricing.tenure_bucket_edges_days"
    edges = STORE.value(name, D(2024, 1, 1))
    edges.append(9999)
    STORE.entry(name, D(2024, 1, 1)).value.append(9999)
    assert STORE.value(name, D(2024, 1, 1)) == [30, 180, 365]


def test_names_and_parameter() -> None:
    names = STORE.names()
    assert names == sorted(names)
    assert len(names) >= 120
    assert STORE.names("cn.aml.merger_thresholds.") == [
        "cn.aml.merger_thresholds.china_combined_cny",
        "cn.aml.merger_thresholds.each_party_china_cny",
        "cn.aml.merger_thresholds.global_combined_cny",
        "cn.aml.merger_thresholds.min_parties_above_each_party",
    ]
    parameter = STORE.parameter("cn.price.original_price_lookback_days")
    assert parameter.kind is Kind.STATUTE
    assert parameter.unit == "days"
    assert parameter.reviewed_on <= dt.date.today()
    assert parameter.values[0].citation.key == "cn.price_fraud_provisions.art19"
    assert parameter.jurisdiction == "cn"


@pytest.mark.parametrize(("name", "expected"), DETECTION_POLICY.items())
def test_detection_policy_parameters(name: str, expected: object) -> None:
    parameter = STORE.parameter(name)
    assert parameter.kind is Kind.POLICY
    assert parameter.values[0].start == D(2019, 1, 1)
    assert STORE.value(name, D(2019, 1, 1)) == expected
    citation = parameter.values[0].citation
    assert citation.instrument == "fairwatch screening policy"
    assert citation.issuer == "fairwatch maintainers (regulator-editable)"
    assert citation.verified is False


def test_policy_citations_are_unverified_or_from_a_named_lever() -> None:
    for name in STORE.names():
        parameter = STORE.parameter(name)
        if parameter.kind is not Kind.POLICY:
            continue
        for dated in parameter.values:
            citation = dated.citation
            if citation.key == "cn.fairwatch_policy":
                assert not citation.verified, name


def test_packs_load_alone_with_either_id() -> None:
    for pack_id in ("cn-zj", "cn_zj"):
        store = load_store([pack_id])
        assert store.packs == ("cn_zj",)
        assert store.names() == [n for n in STORE.names() if n.startswith("cn_zj.")]
    assert load_store(["eu", "us"]).has("us.hsr.size_of_transaction_usd")


def test_every_citation_key_referenced_resolves() -> None:
    referenced: set[str] = set(REQUIRED_CITATIONS)
    for name in STORE.names():
        for dated in STORE.parameter(name).values:
            if dated.citation.key:
                referenced.add(dated.citation.key)
            referenced.update(dated.citation.implements)
    missing = sorted(k for k in referenced if not STORE.has_citation(k))
    assert not missing, f"unresolved citation keys: {missing}"
    for key in referenced:
        citation = STORE.citation(key)
        assert isinstance(citation, Citation)
        assert citation.summary, key


def test_registry_citations_are_complete() -> None:
    citations = STORE.citations()
    assert len(citations) >= 80
    for key, citation in citations.items():
        assert citation.key == key
        assert key.split(".")[0] in ("cn", "cn_zj", "eu", "us")
        assert citation.instrument and citation.issuer and citation.summary
        if citation.article is None:
            assert (
                "not given" in citation.summary
                or "as a whole" in citation.summary
                or "draft" in citation.summary
                or "(not law)" in citation.summary
            ), f"{key}: say why the article is missing"
        if citation.published_on is not None:
            assert citation.published_on <= citation.effective_on or key.startswith(
                "cn.notification_thresholds.decree773"
            ), key


def test_conflicts_and_unverified_facts_are_flagged() -> None:
    """Facts tagged [unverified] or [src, conflict] are never marked verified."""
    flagged = {
        ("cn.aml.merger_thresholds.global_combined_cny", D(2024, 1, 22)),
        ("cn.credit.serious_illegal_list.term_years", D(2021, 9, 1)),
        ("cn.credit.penalty_publicity.term_years", D(2021, 9, 1)),
        ("cn.procedure.lead_decision_working_days", D(2019, 4, 1)),
        ("cn.procedure.case_conclusion_days", D(2019, 4, 1)),
        ("cn_zj.labour.minimum_wage.monthly_cny", D(2025, 1, 1)),
        ("cn_zj.labour.minimum_wage.hourly_cny", D(2025, 1, 1)),
        ("us.merger.share.presumption_min_pct", D(2023, 12, 18)),
        ("us.merger.share.presumption_min_delta", D(2023, 12, 18)),
        ("cn.platform.responsibility.super_large_duties", D(2021, 10, 29)),
    }
    for name, when in flagged:
        assert STORE.entry(name, when).citation.verified is False, name
    assert STORE.entry("cn_zj.labour.minimum_wage.monthly_cny", D(2021, 8, 1)).citation.verified


def test_diff_2021_to_2026() -> None:
    changes = {c.name: c for c in STORE.diff(D(2021, 1, 1), D(2026, 6, 1))}
    for name in (
        "cn.aml.merger_thresholds.global_combined_cny",
        "cn.aml.merger_thresholds.china_combined_cny",
        "cn.aml.merger_thresholds.each_party_china_cny",
        "cn.aml.fines.monopoly_agreement.not_implemented_max_cny",
        "cn.aml.fines.illegal_concentration.without_effect_max_cny",
        "cn.aml.fines.monopoly_agreement.trade_association_max_cny",
        "cn.aucl.fines.online_conduct.ordinary_cny",
    ):
        assert changes[name].status == "changed", name
    for name in (
        "cn.aml.fines.aggravation_multiplier",
        "cn.aml.fines.illegal_concentration.with_effect_max_pct_of_prior_year_sales",
        "cn.data_export.assessment.exported_pi_individuals",
        "cn.data_export.counting_window_start",
        "cn.data_export.standard_contract.min_pi_individuals",
    ):
        assert changes[name].status == "added", name
    for name in (
        "cn.aml.fines.illegal_concentration.with_effect_max_cny",
        "cn.aucl.fines.false_publicity.ordinary_cny",
    ):
        assert changes[name].status == "removed", name
    merger = changes["cn.aml.merger_thresholds.global_combined_cny"]
    assert merger.before is not None and merger.after is not None
    assert (merger.before.value, merger.after.value) == (10_000_000_000, 12_000_000_000)
    assert merger.before.citation.key == "cn.notification_thresholds.decree703"
    assert merger.after.citation.key == "cn.notification_thresholds.decree773"
    # unchanged values with a new citation are not changes
    assert "cn.aml.dominance.single_firm_share" not in changes


def test_diff_cross_border_regimes() -> None:
    changes = {c.name: c for c in STORE.diff(D(2023, 1, 1), D(2024, 6, 1))}
    assert changes["cn.data_export.assessment.exported_pi_individuals"].status == "changed"
    assert changes["cn.data_export.assessment.processor_pi_individuals"].status == "removed"
    removed = changes["cn.data_export.assessment.processor_pi_individuals"].after
    assert removed is not None and removed.repealed
    assert "cn.data_export.assessment.exported_sensitive_pi_individuals" not in changes


def test_diff_same_date_is_empty() -> None:
    assert STORE.diff(D(2024, 1, 1), D(2024, 1, 1)) == []


# --- the step-function property ---------------------------------------------------


def _expected(parameter: Parameter, when: dt.date) -> tuple[bool, object]:
    applicable = [d for d in parameter.values if d.start <= when]
    if not applicable or applicable[-1].value is None:
        return False, None
    return True, applicable[-1].value


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(STORE.names()),
    when=st.dates(min_value=D(2000, 1, 1), max_value=D(2035, 12, 31)),
)
def test_lookup_is_a_step_function_over_shipped_packs(name: str, when: dt.date) -> None:
    in_force, value = _expected(STORE.parameter(name), when)
    if in_force:
        assert STORE.value(name, when) == value
    else:
        with pytest.raises(ParameterLookupError):
            STORE.value(name, when)


CITE = Citation(
    instrument="Test",
    article=None,
    issuer="Tester",
    published_on=None,
    effective_on=D(1990, 1, 1),
    verified=True,
)


@settings(max_examples=200, deadline=None)
@given(
    starts=st.lists(
        st.dates(min_value=D(1990, 1, 1), max_value=D(2040, 1, 1)),
        min_size=1,
        max_size=8,
        unique=True,
    ).map(sorted),
    values=st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=8, max_size=8),
    probes=st.lists(st.dates(min_value=D(1985, 1, 1), max_value=D(2045, 1, 1)), max_size=10),
)
def test_lookup_is_a_step_function_for_any_schedule(
    starts: list[dt.date], values: list[int | None], probes: list[dt.date]
) -> None:
    entries = []
    for index, start in enumerate(starts):
        value = values[index] if index else (values[0] if values[0] is not None else 0)
        until = starts[index + 1] if index + 1 < len(starts) else None
        entries.append(DatedValue("cn.t", start, value, CITE, until))
    parameter = Parameter(
        "cn.t", "test", Kind.STATUTE, "count", D(2026, 1, 1), tuple(entries), "test"
    )
    store = LawStore({"cn.t": parameter}, {})
    for when in [*probes, *starts, *(s - dt.timedelta(days=1) for s in starts)]:
        in_force, expected = _expected(parameter, when)
        if in_force:
            assert store.value("cn.t", when) == expected
            assert store.entry("cn.t", when).start <= when
        else:
            with pytest.raises(ParameterLookupError):
                store.value("cn.t", when)
