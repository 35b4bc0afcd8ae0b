"""Tests of fairwatch.structure.merger_sim: UPP/GUPPI, calibrated logit simulation, pyblp."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, root

from fairwatch.structure.merger_sim import (
    LogitMergerResult,
    guppi,
    simulate_logit_merger,
    simulate_markets,
    simulate_with_pyblp,
    upp,
)

# --- acceptance: our calibrated logit against pyblp's estimated logit on Nevo's cereal data ---


@pytest.fixture(scope="module")
def nevo() -> dict[str, Any]:
    """pyblp's Nevo logit and merger (firm 2's products to firm 1), and ours on the same data.

    The calibration margin: in each market, the first product (in file order) whose
    margin ``(p - c) / p`` under pyblp's recovered costs lies in (0, 1). That is the one
    observed margin a reviewer would have. "First product" alone does not do: in market
    C49Q1 the plain logit backs out a negative cost for the first product (margin
    1.013), a margin no one observes; every other market's first product qualifies.
    """
    pyblp = pytest.importorskip("pyblp")
    products = pd.read_csv(pyblp.data.NEVO_PRODUCTS_LOCATION)
    verbose_before = pyblp.options.verbose
    theirs = simulate_with_pyblp(products, {2: 1})
    verbose_after = pyblp.options.verbose

    margins = (theirs.products["prices"] - theirs.products["costs"]) / theirs.products["prices"]
    usable = (margins > 0) & (margins < 1)
    first_usable = usable & (usable.groupby(products["market_ids"]).cumsum() == 1)
    data = products.assign(margins=margins.where(first_usable))
    ours = simulate_markets(data, {2: 1})
    return {
        "products": products,
        "theirs": theirs,
        "ours": ours,
        "first_usable": first_usable,
        "verbose": (verbose_before, verbose_after),
    }


def test_nevo_mean_price_change_matches_pyblp_within_one_percent(nevo: dict[str, Any]) -> None:
    ours = float(nevo["ours"]["relative_price_change"].mean())
    theirs = nevo["theirs"].mean_relative_price_change
    assert theirs > 0.01  # a merger of the two largest cereal makers raises prices
    assert ours == pytest.approx(theirs, rel=0.01)
    # The maths is the same, so the agreement is far tighter than the acceptance bound.
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_nevo_agrees_product_by_product(nevo: dict[str, Any]) -> None:
    ours: pd.DataFrame = nevo["ours"]
    theirs: pd.DataFrame = nevo["theirs"].products
    assert len(ours) == len(theirs) == 2256
    assert ours.index.equals(theirs.index)
    assert (ours["market_ids"] == theirs["market_ids"]).all()
    assert (ours["merger_ids"] == theirs["merger_ids"]).all()
    assert bool(ours["converged"].all())
    np.testing.assert_allclose(ours["post_prices"], theirs["post_prices"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(ours["costs"], theirs["costs"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(ours["post_shares"], theirs["post_shares"], rtol=1e-6, atol=0)
    # Price changes are small relative to prices: compare them with an absolute tolerance
    # one millionth of the typical change.
    np.testing.assert_allclose(
        ours["relative_price_change"], theirs["relative_price_change"], rtol=0, atol=1e-8
    )


def test_nevo_calibration_recovers_the_estimated_price_coefficient(nevo: dict[str, Any]) -> None:
    ours: pd.DataFrame = nevo["ours"]
    a = nevo["theirs"].price_coefficient
    assert a == pytest.approx(30.0978, rel=1e-4)  # pyblp tutorial: logit alpha = -30.1
    np.testing.assert_allclose(ours["price_coefficient"], a, rtol=1e-9)
    assert (ours["calibration_product"] == nevo["first_usable"]).all()
    assert int(ours["calibration_product"].sum()) == 94  # one per market


def test_nevo_consumer_surplus_change_matches_pyblp(nevo: dict[str, Any]) -> None:
    ours = nevo["ours"].groupby("market_ids")["consumer_surplus_change"].first()
    theirs = nevo["theirs"].consumer_surplus_change
    assert (theirs < 0).all()
    np.testing.assert_allclose(ours.loc[theirs.index], theirs, rtol=1e-6, atol=0)


def test_simulate_with_pyblp_restores_verbosity_and_leaves_input_alone(
    nevo: dict[str, Any],
) -> None:
    before, after = nevo["verbose"]
    assert before == after
    assert "merger_ids" not in nevo["products"].columns


# --- calibrated logit: closed forms and properties ------------------------------------------------


def _logit_shares(delta: np.ndarray, a: float, prices: np.ndarray) -> np.ndarray:
    e = np.exp(delta - a * prices)
    return e / (1.0 + e.sum())


def test_symmetric_duopoly_merger_matches_the_closed_form() -> None:
    share, price, margin = 0.3, 1.0, 0.4
    res = simulate_logit_merger(
        [price, price], [share, share], ["A", "B"], {"B": "A"}, margin=margin
    )
    a = 1.0 / (margin * price * (1.0 - share))  # single-product FOC p - c = 1/(a(1 - s))
    assert res.price_coefficient == pytest.approx(a, rel=1e-14)
    cost = price - 1.0 / (a * (1.0 - share))
    np.testing.assert_allclose(res.costs_pre, [cost, cost], rtol=1e-14)
    assert cost == pytest.approx(price * (1 - margin), rel=1e-14)

    assert res.converged
    p_post, s_post = res.prices_post, res.shares_post
    assert p_post[0] == pytest.approx(p_post[1], rel=1e-13)
    joint = float(s_post.sum())
    # The merged firm's FOC with its joint share.
    np.testing.assert_allclose(p_post - res.costs_pre, 1.0 / (a * (1.0 - joint)), rtol=1e-10)

    # Independent check: the symmetric post-merger price solves one scalar equation.
    d = math.log(share / (1 - 2 * share)) + a * price

    def foc(p: float) -> float:
        e = math.exp(d - a * p)
        s = e / (1 + 2 * e)
        return p - cost - 1.0 / (a * (1.0 - 2 * s))

    expected = brentq(foc, price, 10 * price, xtol=1e-15)
    np.testing.assert_allclose(p_post, [expected, expected], rtol=1e-10)
    assert res.firm_shares_pre == {"A": pytest.approx(0.6)}
    assert res.firm_shares_post["A"] == pytest.approx(joint)
    assert res.firm_share_changes["A"] < 0  # higher prices lose customers to the outside good


def test_asymmetric_equilibrium_solves_the_first_order_conditions() -> None:
    prices = np.array([2.0, 2.5, 1.8, 3.0, 2.2])
    shares = np.array([0.15, 0.10, 0.20, 0.05, 0.12])
    firms = [1, 1, 2, 3, 3]
    res = simulate_logit_merger(prices, shares, firms, {3: 2}, margin=0.35, margin_index=3)
    a, c = res.price_coefficient, res.costs_post
    owner = np.array(res.firm_ids_post)
    same = owner[:, None] == owner[None, :]

    def focs(p: np.ndarray) -> np.ndarray:
        # s_j + sum_{k same owner} (p_k - c_k) ds_k/dp_j, ds_k/dp_j = -a s_k (1{k=j} - s_j)
        s = _logit_shares(res.mean_utilities, a, p)
        jac = -a * (np.diag(s) - np.outer(s, s))  # jac[k, j] = ds_k/dp_j
        return s + (same * jac).T @ (p - c)

    assert np.max(np.abs(focs(res.prices_post))) < 1e-12
    independent = root(focs, prices, tol=1e-14)
    assert independent.success
    np.testing.assert_allclose(res.prices_post, independent.x, rtol=1e-9)
    # Pre-merger: the observed prices are an equilibrium under the old ownership.
    owner_pre = np.array(firms)
    s0 = _logit_shares(res.mean_utilities, a, prices)
    jac0 = -a * (np.diag(s0) - np.outer(s0, s0))
    pre_focs = s0 + ((owner_pre[:, None] == owner_pre[None, :]) * jac0).T @ (prices - res.costs_pre)
    assert np.max(np.abs(pre_focs)) < 1e-13
    np.testing.assert_allclose(_logit_shares(res.mean_utilities, a, prices), shares, rtol=1e-13)
    # The calibration margin is reproduced.
    assert (prices[3] - res.costs_pre[3]) / prices[3] == pytest.approx(0.35, rel=1e-13)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(min_value=2, max_value=8),
    inside=st.floats(min_value=0.05, max_value=0.9),
    margin=st.floats(min_value=0.05, max_value=0.7),
)
def test_prices_never_fall_after_a_merger_without_efficiencies(
    data: st.DataObject, n: int, inside: float, margin: float
) -> None:
    weights = np.array(data.draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n)))
    prices = np.array(data.draw(st.lists(st.floats(0.5, 50.0), min_size=n, max_size=n)))
    firms = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    shares = inside * weights / weights.sum()
    acquirer, target = firms[0], data.draw(st.sampled_from(firms))
    index = data.draw(st.integers(0, n - 1))
    res = simulate_logit_merger(
        prices, shares, firms, {target: acquirer}, margin=margin, margin_index=index
    )
    assert res.converged
    assert np.all(res.prices_post >= prices * (1 - 1e-12))
    assert res.consumer_surplus_change <= 1e-12
    merged = np.isin(firms, [acquirer, target])
    if target != acquirer:
        assert np.all(res.prices_post[merged] > prices[merged])
        assert res.consumer_surplus_change < 0


@pytest.mark.parametrize("mapping", [{}, {2: 2}, {9: 1}])
def test_a_merger_that_changes_nothing_leaves_prices_unchanged(mapping: dict[int, int]) -> None:
    prices = [1.0, 1.4, 0.9, 2.0]
    shares = [0.2, 0.1, 0.25, 0.05]
    res = simulate_logit_merger(prices, shares, [1, 1, 2, 3], mapping, margin=0.3)
    assert res.converged
    np.testing.assert_allclose(res.prices_post, prices, rtol=1e-13)
    np.testing.assert_allclose(res.shares_post, shares, rtol=1e-12)
    assert np.max(np.abs(res.relative_price_change)) < 1e-13
    assert abs(res.consumer_surplus_change) < 1e-13
    assert res.firm_ids_post == res.firm_ids_pre


def test_price_coefficient_route_equals_margin_route() -> None:
    prices, shares, firms = [1.0, 1.4, 0.9], [0.2, 0.1, 0.25], ["a", "b", "c"]
    by_margin = simulate_logit_merger(prices, shares, firms, {"b": "a"}, margin=0.3)
    by_a = simulate_logit_merger(
        prices, shares, firms, {"b": "a"}, price_coefficient=by_margin.price_coefficient
    )
    np.testing.assert_allclose(by_a.prices_post, by_margin.prices_post, rtol=1e-14)
    assert by_margin.calibration_index == 0
    assert by_a.calibration_index is None


def test_efficiencies_can_offset_the_price_rise_and_apply_to_the_parties_only() -> None:
    prices, shares, firms = [1.0, 1.0, 1.0], [0.25, 0.25, 0.25], [1, 2, 3]
    plain = simulate_logit_merger(prices, shares, firms, {2: 1}, margin=0.3)
    saving = simulate_logit_merger(prices, shares, firms, {2: 1}, margin=0.3, efficiencies=0.3)
    np.testing.assert_allclose(saving.costs_post[:2], plain.costs_pre[:2] * 0.7, rtol=1e-14)
    assert saving.costs_post[2] == plain.costs_pre[2]
    assert np.all(saving.prices_post[:2] < prices[:2])  # a 30 % cost saving beats the merger
    assert saving.prices_post[2] < prices[2]  # the rival follows prices down
    assert saving.consumer_surplus_change > 0 > plain.consumer_surplus_change
    per_product = simulate_logit_merger(
        prices, shares, firms, {2: 1}, margin=0.3, efficiencies=[0.3, 0.3, 0.0]
    )
    np.testing.assert_allclose(per_product.prices_post, saving.prices_post, rtol=1e-14)


def test_consumer_surplus_scales_with_market_size_and_matches_the_logsum() -> None:
    prices, shares, firms = [1.0, 1.2], [0.3, 0.2], [1, 2]
    per_head = simulate_logit_merger(prices, shares, firms, {2: 1}, margin=0.4)
    total = simulate_logit_merger(prices, shares, firms, {2: 1}, margin=0.4, market_size=1e6)
    assert total.consumer_surplus_change == pytest.approx(1e6 * per_head.consumer_surplus_change)
    a = per_head.price_coefficient
    # log(1 + sum exp v) = -log(s0) for logit.
    expected = (-math.log(per_head.outside_share_post) + math.log(per_head.outside_share_pre)) / a
    assert per_head.consumer_surplus_change == pytest.approx(expected, rel=1e-12)
    assert per_head.outside_share_post > per_head.outside_share_pre


def test_result_frame_and_summaries() -> None:
    res = simulate_logit_merger(
        [1.0, 2.0], [0.2, 0.3], [1, 2], {2: 1}, margin=0.5, product_ids=["x", "y"]
    )
    assert isinstance(res, LogitMergerResult)
    frame = res.to_frame()
    assert frame["product_ids"].tolist() == ["x", "y"]
    assert frame["merger_ids"].tolist() == [1, 1]
    assert res.mean_relative_price_change == pytest.approx(res.relative_price_change.mean())
    w = np.array([0.2, 0.3])
    expected = float((res.relative_price_change * w).sum() / w.sum())
    assert res.share_weighted_price_change == pytest.approx(expected)


def test_solver_reports_non_convergence() -> None:
    res = simulate_logit_merger(
        [1.0, 1.0], [0.3, 0.3], [1, 2], {2: 1}, margin=0.4, max_iterations=1
    )
    assert not res.converged
    assert res.iterations == 3  # one step with each damping factor


# --- many markets ----------------------------------------------------------------------------


def test_simulate_markets_keeps_row_order_and_matches_single_market_runs() -> None:
    data = pd.DataFrame(
        {
            "market_ids": ["m1", "m1", "m1", "m2", "m2"],
            "product_ids": ["a", "b", "c", "a", "b"],
            "firm_ids": [1, 2, 3, 1, 2],
            "prices": [1.0, 1.5, 2.0, 1.1, 1.4],
            "shares": [0.2, 0.15, 0.1, 0.3, 0.3],
            "margins": [np.nan, 0.4, 0.5, 0.35, np.nan],
            "size": [100.0, 100.0, 100.0, 50.0, 50.0],
        },
        index=[10, 11, 12, 13, 14],
    ).iloc[[3, 0, 4, 2, 1]]
    out = simulate_markets(data, {2: 1}, market_size_column="size")
    assert out.index.tolist() == [13, 10, 14, 12, 11]
    assert out["product_ids"].tolist() == data["product_ids"].tolist()
    m1 = data[data["market_ids"] == "m1"]
    single = simulate_logit_merger(
        m1["prices"], m1["shares"], m1["firm_ids"], {2: 1}, margin=0.5, margin_index=1,
        market_size=100.0,
    )  # fmt: skip
    got = out.loc[m1.index]
    np.testing.assert_allclose(got["post_prices"], single.prices_post, rtol=1e-14)
    assert got["calibration_product"].tolist() == [False, True, False]  # row 12 comes first
    assert got["consumer_surplus_change"].iloc[0] == pytest.approx(single.consumer_surplus_change)
    assert out.loc[13, "calibration_product"]


def test_simulate_markets_names_the_market_without_a_margin() -> None:
    data = pd.DataFrame(
        {
            "market_ids": [1, 1, 2, 2],
            "firm_ids": [1, 2, 1, 2],
            "prices": [1.0, 1.0, 1.0, 1.0],
            "shares": [0.2, 0.2, 0.2, 0.2],
            "margins": [0.3, np.nan, np.nan, np.nan],
        }
    )
    with pytest.raises(ValueError, match="market 2: no observed margin"):
        simulate_markets(data, {2: 1})
    with pytest.raises(ValueError, match="lacks the column"):
        simulate_markets(data.drop(columns="shares"), {2: 1})
    data.loc[2, "margins"] = 1.2
    with pytest.raises(ValueError, match="market 2: margin must"):
        simulate_markets(data, {2: 1})


# --- UPP and GUPPI ---------------------------------------------------------------------------


def test_guppi_hand_computed() -> None:
    # D12 = 0.2, P2 = 10, m2 = 0.4 -> P2 - C2 = 4; P1 = 8: 0.2 * 4 / 8 = 0.1.
    assert guppi(0.2, 10.0, 0.4, 8.0) == pytest.approx(0.1, rel=1e-15)
    assert guppi(diversion_12=0.0, price_2=10.0, margin_2=0.4, price_1=8.0) == 0.0


def test_upp_hand_computed() -> None:
    # D12 (P2 - C2) - E C1 = 0.2 * 4 - 0.1 * (0.75 * 8) = 0.8 - 0.6 = 0.2.
    assert upp(8.0, 0.25, 0.2, 10.0, 0.4, efficiency=0.1) == pytest.approx(0.2, rel=1e-12)
    assert upp(8.0, 0.25, 0.2, 10.0, 0.4) == pytest.approx(0.8, rel=1e-15)
    assert upp(8.0, 0.25, 0.2, 10.0, 0.4) / 8.0 == pytest.approx(guppi(0.2, 10.0, 0.4, 8.0))
    # A large enough efficiency credit turns the pressure negative.
    assert upp(8.0, 0.25, 0.2, 10.0, 0.4, efficiency=0.2) < 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"diversion_12": 1.2}, "diversion_12"),
        ({"diversion_12": -0.1}, "diversion_12"),
        ({"price_2": 0.0}, "price_2"),
        ({"price_1": -3.0}, "price_1"),
        ({"margin_2": 1.5}, "margin_2"),
        ({"margin_2": float("nan")}, "margin_2"),
    ],
)
def test_guppi_rejects_bad_inputs(kwargs: dict[str, float], name: str) -> None:
    args = {"diversion_12": 0.2, "price_2": 10.0, "margin_2": 0.4, "price_1": 8.0} | kwargs
    with pytest.raises(ValueError, match=name):
        guppi(**args)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"price_1": 0.0}, "price_1"),
        ({"margin_1": -0.5}, "margin_1"),
        ({"efficiency": 1.0}, "efficiency"),
        ({"efficiency": -0.1}, "efficiency"),
        ({"diversion_12": 2.0}, "diversion_12"),
    ],
)
def test_upp_rejects_bad_inputs(kwargs: dict[str, float], name: str) -> None:
    args = {
        "price_1": 8.0,
        "margin_1": 0.25,
        "diversion_12": 0.2,
        "price_2": 10.0,
        "margin_2": 0.4,
    } | kwargs
    with pytest.raises(ValueError, match=name):
        upp(**args)


# --- bad inputs to the simulation --------------------------------------------------------------


_GOOD: dict[str, Any] = {
    "prices": [1.0, 1.2, 0.8],
    "shares": [0.2, 0.3, 0.1],
    "firm_ids": [1, 2, 3],
    "merger_firm_map": {2: 1},
    "margin": 0.3,
}


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"shares": [0.4, 0.4, 0.2]}, r"shares must sum to less than 1"),
        ({"shares": [0.5, 0.4, 0.3]}, r"shares must sum to less than 1"),
        ({"shares": [0.2, 0.0, 0.1]}, r"shares must each lie"),
        ({"prices": [1.0, -1.2, 0.8]}, r"prices must all be > 0"),
        ({"prices": [1.0, 0.0, 0.8]}, r"prices must all be > 0"),
        ({"prices": [1.0, float("nan"), 0.8]}, r"prices must be finite"),
        ({"margin": 0.0}, r"margin must lie strictly between 0 and 1"),
        ({"margin": 1.0}, r"margin must lie strictly between 0 and 1"),
        ({"margin": 1.3}, r"margin must lie strictly between 0 and 1"),
        ({"margin": -0.2}, r"margin must lie strictly between 0 and 1"),
        ({"margin": None}, r"exactly one of margin and price_coefficient"),
        ({"price_coefficient": 3.0}, r"exactly one of margin and price_coefficient"),
        ({"margin": None, "price_coefficient": -1.0}, r"price_coefficient must be"),
        ({"firm_ids": [1, 2]}, r"firm_ids has 2 entries"),
        ({"shares": [0.2, 0.3]}, r"shares has 2 entries"),
        ({"margin_index": 3}, r"margin_index 3 is out of range"),
        ({"market_size": 0.0}, r"market_size must be"),
        ({"efficiencies": 1.0}, r"efficiencies must be a fraction"),
        ({"efficiencies": [0.1, 0.1]}, r"efficiencies has 2 entries"),
    ],
)
def test_simulation_rejects_bad_inputs(change: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        simulate_logit_merger(**(_GOOD | change))


def test_simulate_with_pyblp_checks_columns() -> None:
    with pytest.raises(ValueError, match="product_data lacks the column"):
        simulate_with_pyblp(pd.DataFrame({"market_ids": [1], "prices": [1.0]}), {2: 1})
