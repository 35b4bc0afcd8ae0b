"""FW103's general movement: each seller counts once, a shared rise is the movement."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from fairwatch.detectors.pricing.FW103 import _general_movement

DAYS = [date(2025, 4, 1) + timedelta(days=i) for i in range(10)]
EMERGENCY = DAYS[5:]


def _rise(per_offer: list[float]) -> pd.DataFrame:
    """Offers flat before day 5 and up by ``r`` (log) from day 5."""
    rows = [[0.0] * 5 + [r] * 5 for r in per_offer]
    return pd.DataFrame(rows, columns=DAYS)


def test_a_seller_with_many_offers_does_not_set_the_movement() -> None:
    # one seller with four offers up 20 %, three sellers with one flat offer each
    rise = _rise([0.18, 0.18, 0.18, 0.18, 0.0, 0.0, 0.0])
    sellers = np.array(["M1", "M1", "M1", "M1", "M2", "M3", "M4"])
    movement, _ = _general_movement(
        rise, np.ones(7, dtype=bool), EMERGENCY, np.log1p(0.10), sellers
    )
    assert movement[EMERGENCY].abs().max() < 1e-12


def test_a_rise_shared_by_most_sellers_is_the_general_movement() -> None:
    rise = _rise([0.18, 0.18, 0.19, 0.0])
    sellers = np.array(["M1", "M2", "M3", "M4"])
    movement, kept = _general_movement(
        rise, np.ones(4, dtype=bool), EMERGENCY, np.log1p(0.10), sellers
    )
    assert movement[EMERGENCY].min() > 0.17
    assert kept.tolist() == [True, True, True, True]
