"""Statistics helpers against reference implementations."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from fairwatch.detectors.stats import anova_from_sums, bh_qvalues


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=60))
def test_bh_matches_statsmodels(pvalues: list[float]) -> None:
    ours = bh_qvalues(pvalues)
    _, theirs, _, _ = multipletests(pvalues, method="fdr_bh")
    assert np.allclose(ours, theirs)


def test_bh_ignores_nan() -> None:
    q = bh_qvalues([0.01, float("nan"), 0.04])
    assert np.isnan(q[1])
    assert np.allclose(q[[0, 2]], [0.02, 0.04])


def test_anova_from_sums_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    groups = [rng.normal(mu, 1.0, size=n) for mu, n in [(0, 30), (0.4, 50), (0.1, 40)]]
    result = anova_from_sums(
        [len(g) for g in groups], [g.sum() for g in groups], [(g**2).sum() for g in groups]
    )
    ref = stats.f_oneway(*groups)
    assert np.isclose(result.f, ref.statistic)
    assert np.isclose(result.pvalue, ref.pvalue)


def test_anova_without_noise_is_exact() -> None:
    assert anova_from_sums([10, 10], [0.0, 1.0], [0.0, 0.1]).pvalue == 0.0
    assert anova_from_sums([10, 10], [0.0, 0.0], [0.0, 0.0]).pvalue == 1.0
    assert np.isnan(anova_from_sums([10], [1.0], [0.2]).pvalue)


def test_anova_by_group_matches_per_subject_anova() -> None:
    import pandas as pd

    from fairwatch.detectors.stats import anova_by_group

    rng = np.random.default_rng(7)
    rows = []
    for subject in range(40):
        for group in range(int(rng.integers(1, 5))):
            x = rng.normal(rng.normal(0, 0.05), 0.02, size=int(rng.integers(3, 50)))
            if subject % 7 == 0:
                x = np.full_like(x, 0.1 * group)  # no noise: exact p-values
            rows.append(
                {"sku": f"s{subject}", "g": group, "n": len(x), "s": x.sum(), "ss": (x**2).sum()}
            )
    cells = pd.DataFrame(rows)
    together = anova_by_group(cells, "sku")
    for sku, part in cells.groupby("sku"):
        one = anova_from_sums(part["n"], part["s"], part["ss"])
        got = together.loc[sku]
        if np.isnan(one.pvalue):
            assert np.isnan(got["pvalue"])
        else:
            assert np.isclose(got["pvalue"], one.pvalue, rtol=1e-9, atol=1e-300), sku
            assert got["f"] == one.f or np.isclose(got["f"], one.f), sku
