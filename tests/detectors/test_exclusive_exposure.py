"""FW201's exposure difference in differences: the single-homers' trend it nets out."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fairwatch.detectors.conduct.FW201 import _exposure_did


def _row(store: str, query: str, before: float, after: float) -> dict[str, object]:
    """A (store, query) pair shown ``before`` and ``after`` times in 100 searches each."""
    return {
        "merchant_id": store,
        "query": query,
        "a_pre": before,
        "q_pre": 100.0,
        "a_post": after,
        "q_post": 100.0,
        "pos_pre": 0.0,
        "pos_post": 0.0,
    }


def _change(before: float, after: float) -> float:
    return math.log((after + 0.5) / 100) - math.log((before + 0.5) / 100)


def test_a_stayer_is_netted_of_its_querys_single_homers() -> None:
    ex = pd.DataFrame(
        [
            _row("stay", "tea", 40, 10),
            _row("s1", "tea", 40, 30),
            _row("s2", "tea", 40, 30),
            _row("s3", "rice", 40, 40),
        ]
    )
    did = _exposure_did(ex, {"stay"}, {"s1", "s2", "s3"})
    assert did is not None
    stayers, _ = did
    assert stayers["stay"] == pytest.approx(_change(40, 10) - _change(40, 30))


def test_a_stayer_in_a_query_without_single_homers_is_netted_of_all_of_them() -> None:
    # the stayer sells only in "oil", where no single-homer does: it is compared with
    # the platform's single-homers as a whole instead of being left out
    ex = pd.DataFrame(
        [
            _row("stay", "oil", 40, 10),
            _row("s1", "tea", 40, 30),
            _row("s2", "rice", 40, 20),
        ]
    )
    did = _exposure_did(ex, {"stay"}, {"s1", "s2"})
    assert did is not None
    stayers, singles = did
    platform = (_change(40, 30) + _change(40, 20)) / 2
    assert stayers["stay"] == pytest.approx(_change(40, 10) - platform)
    # each single-homer alone in its query is netted of the other one
    assert singles["s1"] == pytest.approx(_change(40, 30) - _change(40, 20))
    assert singles["s2"] == pytest.approx(_change(40, 20) - _change(40, 30))


def test_no_single_homer_to_compare_with_gives_nothing() -> None:
    ex = pd.DataFrame([_row("stay", "oil", 40, 10), _row("s1", "tea", 40, 30)])
    assert _exposure_did(ex, {"stay"}, {"s1"}) is not None
    assert _exposure_did(ex[ex["merchant_id"] == "stay"], {"stay"}, {"s1"}) is None
