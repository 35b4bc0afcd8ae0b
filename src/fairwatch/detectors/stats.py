"""Statistics on small per-subject summaries.

Detectors aggregate in the engine to sufficient statistics (counts, sums, sums of
squares per subject and group) and test here. Many subjects are tested at once, so
p-values are turned into Benjamini–Hochberg q-values and a finding needs both a small
q and an effect large enough to matter (both thresholds are law-store parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats


def bh_qvalues(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order.

    ``q_(i) = min_{j >= i} p_(j) * m / j`` over the p-values sorted ascending, capped at 1.
    NaN p-values are ignored (their q is NaN) and do not count towards ``m``.
    """
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok], kind="mergesort")
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    values = np.empty(m)
    values[order] = np.minimum(ranked, 1.0)
    q[ok] = values
    return q


@dataclass(frozen=True)
class Anova:
    """One-way ANOVA computed from per-group sufficient statistics."""

    f: float
    pvalue: float
    df_between: int
    df_within: int
    grand_mean: float
    means: NDArray[np.float64]


def anova_from_sums(n: ArrayLike, total: ArrayLike, total_sq: ArrayLike) -> Anova:
    """One-way ANOVA F-test from each group's count, sum and sum of squares.

    Exact when the groups' within-group variance is zero: a difference in means with no
    noise at all is certain (p = 0), no difference is p = 1.
    """
    n_ = np.asarray(n, dtype=float)
    s = np.asarray(total, dtype=float)
    ss = np.asarray(total_sq, dtype=float)
    k = len(n_)
    big_n = n_.sum()
    means = s / n_
    grand = s.sum() / big_n
    ss_between = float((n_ * (means - grand) ** 2).sum())
    ss_within = float(max((ss - n_ * means**2).sum(), 0.0))
    df1, df2 = k - 1, int(big_n - k)
    if k < 2 or df2 <= 0:
        return Anova(float("nan"), float("nan"), df1, df2, grand, means)
    # Relative tolerance: sums of squares of values that are all equal are not exactly
    # zero in floating point.
    scale = float((ss).sum()) or 1.0
    if ss_within <= 1e-12 * scale:
        if ss_between <= 1e-12 * scale:
            return Anova(0.0, 1.0, df1, df2, grand, means)
        return Anova(float("inf"), 0.0, df1, df2, grand, means)
    f = (ss_between / df1) / (ss_within / df2)
    return Anova(float(f), float(stats.f.sf(f, df1, df2)), df1, df2, grand, means)


def anova_by_group(
    cells: pd.DataFrame, by: str | list[str], n: str = "n", s: str = "s", ss: str = "ss"
) -> pd.DataFrame:
    """:func:`anova_from_sums` for many subjects at once.

    ``cells`` has one row per (subject, group) with the group's count, sum and sum of
    squares; the result has one row per subject (index ``by``) with ``groups``, ``f``,
    ``pvalue``, ``df_between`` and ``df_within``. Subjects with fewer than two groups, or
    no within-group degrees of freedom, get NaN.
    """
    frame = cells.assign(_between=cells[s] ** 2 / cells[n])
    g = frame.groupby(by, sort=True)
    out = pd.DataFrame(
        {
            "groups": g.size(),
            "N": g[n].sum(),
            "S": g[s].sum(),
            "SS": g[ss].sum(),
            "B": g["_between"].sum(),
        }
    )
    ss_between = (out["B"] - out["S"] ** 2 / out["N"]).clip(lower=0.0)
    ss_within = (out["SS"] - out["B"]).clip(lower=0.0)
    df1 = out["groups"] - 1
    df2 = out["N"] - out["groups"]
    valid = (df1 >= 1) & (df2 >= 1)
    scale = out["SS"].abs().where(out["SS"].abs() > 0, 1.0)
    quiet = ss_within <= 1e-12 * scale
    separated = ss_between > 1e-12 * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (ss_between / df1.where(valid)) / (ss_within / df2.where(valid))
    pvalue = pd.Series(stats.f.sf(f.to_numpy(dtype=float), df1, df2), index=out.index)
    f = f.where(~quiet, np.where(separated, np.inf, 0.0))
    pvalue = pvalue.where(~quiet, np.where(separated, 0.0, 1.0))
    return pd.DataFrame(
        {
            "groups": out["groups"],
            "f": f.where(valid),
            "pvalue": pvalue.where(valid),
            "df_between": df1,
            "df_within": df2,
        }
    )
