"""FW202's rating calibration: posterior variances that match the ratings' real errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairwatch.detectors.conduct.FW202 import STARS, _covariates


def _market(
    seed: int,
    stores: int = 150,
    offers: tuple[int, int] = (1, 4),
    reviews: tuple[int, int] = (8, 30),
) -> tuple[pd.DataFrame, np.ndarray]:
    """One platform: stores of ``offers`` offers (the first tenth self-operated), each
    rated by ``reviews`` reviews whose stars are the offer's latent rating (a store
    level plus the offer's own deviation, equal variances) plus noise, rounded and
    censored at 1 and 5."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for s in range(stores):
        store_effect = rng.normal(0.0, 0.3)
        own = s < stores // 10
        for k in range(int(rng.integers(offers[0], offers[1] + 1))):
            latent = 4.0 + store_effect + rng.normal(0.0, 0.3) + (0.2 if own else 0.0)
            n = int(rng.integers(reviews[0], reviews[1] + 1))
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


def test_a_small_store_centres_its_offers_by_its_reliability() -> None:
    # in a store of two offers the other offer's reviews measure the store level with
    # the other offer's own deviation in it: taken at face value they pull the prior
    # too far and the ratings come out too spread (the truth regressed on them has a
    # slope well under 1: 0.85 before the centre was weighted by its reliability)
    estimated, truth = [], []
    for seed in range(4):
        frame, latent = _market(seed, stores=200, offers=(2, 2), reviews=(6, 12))
        estimated.append(_covariates(frame)["rating"].to_numpy())
        truth.append(latent)
    slope = np.polyfit(np.concatenate(estimated), np.concatenate(truth), 1)[0]
    assert 0.92 < slope < 1.08
