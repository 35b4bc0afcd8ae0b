"""Deal screening pieces not covered by the FW701 golden cases: price evidence."""

from __future__ import annotations

import pytest

from fairwatch.structure import merger_sim
from fairwatch.structure.deals import MarketEffect, PriceEvidence, price_effects

SHARES = {"A": 40.0, "T": 20.0, "R1": 25.0, "R2": 15.0}
EFFECT = MarketEffect(
    market_id="M",
    market_name="m",
    period="2023",
    acquirer_share=40.0,
    target_share=20.0,
    combined_share=60.0,
    hhi_pre=0.0,
    hhi_post=0.0,
    delta=0.0,
    firms=4,
    dominance=None,
    simple_case=False,
    eu_band="outside_safe_harbour",
    us_presumption=True,
)
PRICES = {"A": 10.0, "T": 8.0, "R1": 9.0, "R2": 12.0}


def test_guppi_and_upp_from_given_margins_and_diversion() -> None:
    ev = PriceEvidence(PRICES, {"A": 0.4, "T": 0.25}, {("A", "T"): 0.3, ("T", "A"): 0.5})
    out = price_effects(EFFECT, SHARES, "A", "T", ev)
    assert out.guppi["A"] == pytest.approx(0.3 * 8.0 * 0.25 / 10.0)
    assert out.guppi["T"] == pytest.approx(0.5 * 10.0 * 0.4 / 8.0)
    assert out.upp["A"] == pytest.approx(0.3 * 8.0 * 0.25)


def test_logit_simulation_is_calibrated_on_the_acquirers_margin() -> None:
    ev = PriceEvidence(PRICES, {"A": 0.4}, outside_share=0.25)
    out = price_effects(EFFECT, SHARES, "A", "T", ev)
    ids = sorted(SHARES)
    direct = merger_sim.simulate_logit_merger(
        [PRICES[i] for i in ids],
        [SHARES[i] / 100 * 0.75 for i in ids],
        ids,
        {"T": "A"},
        margin=0.4,
        margin_index=ids.index("A"),
    )
    assert out.calibrated_from == "A"
    assert out.logit_mean_price_change_pct == pytest.approx(
        100 * direct.mean_relative_price_change, rel=1e-6
    )
    # the merging parties raise prices more than the market does on average
    parties = out.logit_parties_price_change_pct
    assert min(parties.values()) > 0
    assert sum(parties.values()) / 2 > out.logit_mean_price_change_pct > 0
    assert "GUPPI" in " ".join(out.notes)  # no diversion ratios given


def test_missing_prices_or_margin_are_named_not_guessed() -> None:
    partial = price_effects(EFFECT, SHARES, "A", "T", PriceEvidence({"A": 10.0, "T": 8.0}))
    assert partial.logit_mean_price_change_pct is None
    assert any("every undertaking" in n for n in partial.notes)
    no_margin = price_effects(EFFECT, SHARES, "A", "T", PriceEvidence(PRICES))
    assert no_margin.logit_mean_price_change_pct is None
    assert any("one margin" in n for n in no_margin.notes)
