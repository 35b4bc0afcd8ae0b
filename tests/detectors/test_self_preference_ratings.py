"""FW202's rating calibration: posterior variances that match the ratings' real errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairwatch.detectors.conduct.FW202 import STARS, _covariates


def _market(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One platform: stores of one to four offers, each rated by 8 to 30 reviews whose
    stars are the offer's latent rating plus noise, rounded and censored at 1 and 5."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for s in range(150):
        store_effect = rng.normal(0.0, 0.3)
        own = s < 15
        for k in range(int(rng.integers(1, 5))):
            latent = 4.0 + store_effect + rng.normal(0.0, 0.3) + (0.2 if own else 0.0)
            n = int(rng.integers(8, 31))
            stars = np.clip(np.round(latent + rng.normal(0.0, 0.9, n)), 1, 5).astype(int)
            counts = np.bincount(stars, minlength=6)[1:]
            row = {
                "sku_id": f"S{s:03d}-{k}",
                "platform_id": "P1",
                "merchant_id": f"M{s:03d}",
                "category": "tea",
                "self_operated": own,
                "price": 10.0,
                "sales": 5,
            }
            for j, star in enumerate(STARS):
                row[f"r_a{star}"] = row[f"r_v{star}"] = counts[j]
            rows.append(row)
            truth.append(latent)
    frame = pd.DataFrame(rows)
    for kind in "av":  # the store's counts: all its offers' reviews
        for star in STARS:
            col = f"r_{kind}{star}"
            frame[f"m_{kind}{star}"] = frame.groupby("merchant_id")[col].transform("sum")
    return frame, np.array(truth)


def test_posterior_variance_matches_the_real_error() -> None:
    # an offer's own reviews must not also centre its prior (through its store's rating):
    # counted twice, they make the posterior look surer than it is, and the delta method
    # then understates the uncertainty self_operated inherits from the ratings
    z = []
    for seed in range(4):
        frame, truth = _market(seed)
        out = _covariates(frame)
        z.append((out["rating"].to_numpy() - truth) / np.sqrt(out["rating_var"].to_numpy()))
    z = np.concatenate(z)
    assert abs(z.mean()) < 0.15
    assert 0.85 < z.std() < 1.15
