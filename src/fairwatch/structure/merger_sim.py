r"""Unilateral price effects of a merger: upward pricing pressure and logit merger simulation.

A merger of two sellers of substitutes gives the merged firm a reason to raise prices
that neither had alone: when product 1's price rises, some of the customers it loses
divert to product 2, whose margin the merged firm now keeps. This module measures that
pressure in three ways, from the least to the most demanding of data.

**Upward pricing pressure** (Farrell and Shapiro 2010). The merged firm's incentive to
raise the price of product 1 is the margin it recaptures on the sales diverted to
product 2, net of any marginal-cost efficiency ``E`` on product 1::

    UPP_1   = D_12 (P_2 - C_2) - E C_1
    GUPPI_1 = D_12 (P_2 - C_2) / P_1          (gross, as a fraction of P_1; Moresi 2010)

``D_12`` is the diversion ratio: the fraction of the sales product 1 loses on a price
rise that go to product 2. Neither needs a demand model; both screen, neither predicts
a price. See :func:`upp` and :func:`guppi`.

**Calibrated logit merger simulation** (Werden and Froeb 1994). With logit demand

.. math:: s_j = \frac{\exp(d_j - a p_j)}{1 + \sum_k \exp(d_k - a p_k)},

the only unknown besides the product qualities ``d_j`` is the price coefficient ``a``.
The qualities follow from the shares (``d_j = log(s_j / s_0) + a p_j`` with the outside
share ``s_0 = 1 - sum(s)``), and ``a`` follows from a single observed margin: under
Bertrand competition among multi-product firms every product of firm ``f`` carries the
same markup

.. math:: p_j - c_j = \frac{1}{a (1 - S_f)},

where ``S_f`` is the firm's total inside share. So one product's margin ``m = (p - c)/p``
gives ``a = 1 / (m p (1 - S_f))``; the same first-order conditions then give every
product's marginal cost. The merger changes the ownership (firm 2's products now belong
to firm 1); the post-merger Bertrand–Nash prices solve the first-order conditions under
the new ownership, found here by the zeta-markup fixed point of Morrow and Skerlos
(2011), the iteration pyblp uses. See :func:`simulate_logit_merger` (one market) and
:func:`simulate_markets` (many).

**Estimated logit** (Berry 1994; Nevo 2000). Where product-level panel data with
instruments exist, the price coefficient is estimated rather than calibrated: pyblp's
plain logit with product fixed effects, then pyblp's own cost recovery and post-merger
equilibrium. See :func:`simulate_with_pyblp`. On pyblp's bundled Nevo (2000) cereal
data both routes agree to numerical precision when the calibration margin is taken from
the estimated model, which the tests check.

Units: prices and costs in any one currency per unit; shares are quantity shares of the
whole market including the outside good (so they sum to less than 1); margins,
diversion ratios and efficiencies are fractions (0.25, not 25).

References
----------
- Werden, G. J. and L. M. Froeb (1994), "The Effects of Mergers in Differentiated
  Products Industries: Logit Demand and Merger Policy", *Journal of Law, Economics, &
  Organization* 10(2), 407-426.
- Farrell, J. and C. Shapiro (2010), "Antitrust Evaluation of Horizontal Mergers: An
  Economic Alternative to Market Definition", *The B.E. Journal of Theoretical
  Economics* 10(1), Article 9.
- Moresi, S. (2010), "The Use of Upward Price Pressure Indices in Merger Analysis",
  *The Antitrust Source* 9(3).
- Morrow, W. R. and S. J. Skerlos (2011), "Fixed-Point Approaches to Computing
  Bertrand-Nash Equilibrium Prices Under Mixed-Logit Demand", *Operations Research*
  59(2), 328-345.
- Berry, S. T. (1994), "Estimating Discrete-Choice Models of Product Differentiation",
  *RAND Journal of Economics* 25(2), 242-262.
- Nevo, A. (2000), "A Practitioner's Guide to Estimation of Random-Coefficients Logit
  Models of Demand", *Journal of Economics & Management Strategy* 9(4), 513-548.
- Conlon, C. and J. Gortmaker (2020), "Best Practices for Differentiated Products
  Demand Estimation with PyBLP", *RAND Journal of Economics* 51(4), 1108-1161.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pyblp

__all__ = [
    "LogitMergerResult",
    "PyblpMergerResult",
    "guppi",
    "simulate_logit_merger",
    "simulate_markets",
    "simulate_with_pyblp",
    "upp",
]

#: Damping factors tried in turn by the equilibrium solver: the plain zeta-markup
#: iteration first, then damped versions if it fails to converge.
_DAMPING = (1.0, 0.5, 0.25)


# --- upward pricing pressure -----------------------------------------------------------------


def _check_price(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite price > 0, got {value!r}")
    return v


def _check_fraction(name: str, value: float, *, upper_open: bool = False) -> float:
    v = float(value)
    ok = math.isfinite(v) and v >= 0.0 and (v < 1.0 if upper_open else v <= 1.0)
    if not ok:
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{name} must be a fraction in {bound}, got {value!r}")
    return v


def guppi(diversion_12: float, price_2: float, margin_2: float, price_1: float) -> float:
    """Gross upward pricing pressure index on product 1 (Moresi 2010; Farrell–Shapiro 2010).

    ``GUPPI_1 = D_12 * (P_2 - C_2) / P_1 = D_12 * m_2 * P_2 / P_1``: the value of the
    sales product 1 diverts to product 2, per unit of product 1's price. A GUPPI of a few
    percent is commonly read as a safe harbour (the 2010 US Horizontal Merger Guidelines,
    section 6.1, treat a small value-of-diverted-sales ratio as unlikely to harm).

    Parameters
    ----------
    diversion_12 : float
        Diversion ratio from product 1 to product 2, a fraction in [0, 1].
    price_2 : float
        Price of product 2 (currency per unit), > 0.
    margin_2 : float
        Product 2's margin as a fraction of its price, ``(P_2 - C_2) / P_2``, in [0, 1].
    price_1 : float
        Price of product 1 (same currency), > 0.

    Returns
    -------
    float
        GUPPI as a fraction of ``price_1`` (0.05 = 5 %).

    Raises
    ------
    ValueError
        Naming the argument that is out of range.
    """
    d = _check_fraction("diversion_12", diversion_12)
    p2 = _check_price("price_2", price_2)
    m2 = _check_fraction("margin_2", margin_2)
    p1 = _check_price("price_1", price_1)
    return d * m2 * p2 / p1


def upp(
    price_1: float,
    margin_1: float,
    diversion_12: float,
    price_2: float,
    margin_2: float,
    efficiency: float = 0.0,
) -> float:
    """Net upward pricing pressure on product 1 (Farrell and Shapiro 2010).

    ``UPP_1 = D_12 * (P_2 - C_2) - E * C_1`` with ``C_i = (1 - m_i) P_i``: the margin the
    merged firm recaptures on the sales diverted from product 1 to product 2, less the
    efficiency credit ``E`` (a fractional reduction of product 1's marginal cost). A
    positive value means the merger gives the merged firm an incentive to raise the
    price of product 1. Farrell and Shapiro suggest a standard credit such as
    ``E = 0.10``. Dividing by ``price_1`` with ``efficiency=0`` gives :func:`guppi`.

    Parameters
    ----------
    price_1 : float
        Price of product 1 (currency per unit), > 0.
    margin_1 : float
        Product 1's margin as a fraction of its price, in [0, 1]; only its cost
        ``(1 - margin_1) * price_1`` enters, through the efficiency credit.
    diversion_12 : float
        Diversion ratio from product 1 to product 2, in [0, 1].
    price_2 : float
        Price of product 2 (same currency), > 0.
    margin_2 : float
        Product 2's margin as a fraction of its price, in [0, 1].
    efficiency : float, default 0
        Merger-specific marginal-cost saving on product 1 as a fraction of ``C_1``,
        in [0, 1).

    Returns
    -------
    float
        UPP in currency per unit of product 1 (same unit as the prices).

    Raises
    ------
    ValueError
        Naming the argument that is out of range.
    """
    p1 = _check_price("price_1", price_1)
    m1 = _check_fraction("margin_1", margin_1)
    d = _check_fraction("diversion_12", diversion_12)
    p2 = _check_price("price_2", price_2)
    m2 = _check_fraction("margin_2", margin_2)
    e = _check_fraction("efficiency", efficiency, upper_open=True)
    return d * m2 * p2 - e * (1.0 - m1) * p1


# --- calibrated logit simulation -------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LogitMergerResult:
    """Outcome of a logit Bertrand merger simulation in one market.

    Arrays are per product, in input order. Firm-level dictionaries are keyed by
    **post-merger** firm id, so the merged firm's pre-merger entry is the parties'
    combined share.

    Attributes
    ----------
    product_ids : tuple
        Product identifiers (positions ``0..J-1`` when none were given).
    firm_ids_pre, firm_ids_post : tuple
        Owner of each product before and after the merger.
    prices_pre, prices_post : ndarray
        Observed prices and simulated post-merger equilibrium prices.
    shares_pre, shares_post : ndarray
        Observed and post-merger inside shares (fractions of the whole market).
    costs_pre : ndarray
        Marginal costs backed out of the pre-merger first-order conditions.
    costs_post : ndarray
        Marginal costs after merger efficiencies (equal to ``costs_pre`` without them).
    price_change : ndarray
        ``prices_post - prices_pre`` (currency per unit).
    relative_price_change : ndarray
        ``price_change / prices_pre`` (fraction; 0.05 = +5 %).
    firm_shares_pre, firm_shares_post : dict
        Total inside share of each post-merger firm's products before and after.
    outside_share_pre, outside_share_post : float
        Share of the outside good before and after.
    price_coefficient : float
        The logit price coefficient ``a > 0`` (utility falls by ``a`` per currency unit).
    mean_utilities : ndarray
        Price-independent utilities ``d_j`` (``v_j = d_j - a p_j``).
    consumer_surplus_change : float
        Change in consumer surplus, ``(log(1 + sum exp v_post) - log(1 + sum exp v_pre)) / a``,
        in currency, per consumer, or in total when ``market_size`` was given.
    market_size : float or None
        Number of consumers (potential buyers) in the market, when given.
    iterations : int
        Fixed-point iterations used by the post-merger equilibrium solver.
    converged : bool
        Whether the solver met its tolerance.
    calibration_index : int or None
        Position of the product whose margin calibrated ``a`` (None when ``a`` was given).
    """

    product_ids: tuple[Hashable, ...]
    firm_ids_pre: tuple[Hashable, ...]
    firm_ids_post: tuple[Hashable, ...]
    prices_pre: NDArray[np.float64]
    prices_post: NDArray[np.float64]
    shares_pre: NDArray[np.float64]
    shares_post: NDArray[np.float64]
    costs_pre: NDArray[np.float64]
    costs_post: NDArray[np.float64]
    price_change: NDArray[np.float64]
    relative_price_change: NDArray[np.float64]
    firm_shares_pre: dict[Hashable, float]
    firm_shares_post: dict[Hashable, float]
    outside_share_pre: float
    outside_share_post: float
    price_coefficient: float
    mean_utilities: NDArray[np.float64]
    consumer_surplus_change: float
    market_size: float | None
    iterations: int
    converged: bool
    calibration_index: int | None

    @property
    def firm_share_changes(self) -> dict[Hashable, float]:
        """Post-merger minus pre-merger inside share of each post-merger firm."""
        return {f: self.firm_shares_post[f] - self.firm_shares_pre[f] for f in self.firm_shares_pre}

    @property
    def mean_relative_price_change(self) -> float:
        """Unweighted mean of the per-product relative price changes."""
        return float(np.mean(self.relative_price_change))

    @property
    def share_weighted_price_change(self) -> float:
        """Mean relative price change weighted by pre-merger shares."""
        return float(np.average(self.relative_price_change, weights=self.shares_pre))

    def to_frame(self) -> pd.DataFrame:
        """Per-product table of the result (one row a product, input order)."""
        return pd.DataFrame(
            {
                "product_ids": list(self.product_ids),
                "firm_ids": list(self.firm_ids_pre),
                "merger_ids": list(self.firm_ids_post),
                "prices": self.prices_pre,
                "shares": self.shares_pre,
                "costs": self.costs_pre,
                "post_costs": self.costs_post,
                "post_prices": self.prices_post,
                "post_shares": self.shares_post,
                "price_change": self.price_change,
                "relative_price_change": self.relative_price_change,
            }
        )


def _float_vector(name: str, values: ArrayLike) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc
    if arr.ndim == 2 and 1 in arr.shape:  # a column or row vector, as pyblp returns
        arr = arr.reshape(-1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return arr


def _labels(values: ArrayLike | Sequence[Hashable]) -> list[Hashable]:
    out: list[Hashable] = np.asarray(values, dtype=object).reshape(-1).tolist()
    return out


def _apply_merger(firms: Sequence[Hashable], merger_firm_map: Mapping[Any, Any]) -> list[Hashable]:
    """Post-merger owner of each product: one simultaneous substitution, no chaining."""
    return [merger_firm_map.get(f, f) for f in firms]


def _logit_shares(utilities: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Inside shares and the log of ``1 + sum(exp(v))``, computed without overflow."""
    top = max(0.0, float(np.max(utilities)))
    ev = np.exp(utilities - top)
    denom = math.exp(-top) + float(ev.sum())
    return ev / denom, top + math.log(denom)


def _firm_codes(firms: Sequence[Hashable]) -> NDArray[np.intp]:
    codes, _ = pd.factorize(pd.Series(firms, dtype=object))
    return np.asarray(codes, dtype=np.intp)


def _solve_bertrand(
    mean_utilities: NDArray[np.float64],
    a: float,
    costs: NDArray[np.float64],
    owners: NDArray[np.intp],
    start: NDArray[np.float64],
    tol: float,
    max_iterations: int,
) -> tuple[NDArray[np.float64], int, bool]:
    """Bertrand–Nash prices under logit demand by the zeta-markup fixed point.

    Morrow and Skerlos (2011) write the first-order conditions as
    ``p = c + zeta(p)`` with ``zeta = Lambda^{-1} (H o Gamma)' (p - c) - Lambda^{-1} s``.
    For plain logit (``Lambda = -a diag(s)``, ``Gamma = -a s s'``) this is

        zeta_j(p) = 1/a + sum_{k owned with j} s_k(p) (p_k - c_k),

    the same iteration pyblp's ``compute_prices`` runs. Convergence: the largest change
    in one step is at most ``tol * max(1, |p|)``. If the plain iteration fails, damped
    steps ``p + lambda (c + zeta(p) - p)`` are tried with ``lambda`` in 0.5, 0.25.
    """
    n_firms = int(owners.max()) + 1
    total = 0
    p = start.copy()
    for damping in _DAMPING:
        p = start.copy()
        for _ in range(max_iterations):
            total += 1
            shares, _ = _logit_shares(mean_utilities - a * p)
            profits = np.bincount(owners, weights=shares * (p - costs), minlength=n_firms)
            target = costs + 1.0 / a + profits[owners]
            step = target - p
            if not np.all(np.isfinite(step)):
                break
            p = p + damping * step
            if float(np.max(np.abs(step) / np.maximum(1.0, np.abs(p)))) <= tol:
                return p, total, True
    return p, total, False


def simulate_logit_merger(
    prices: ArrayLike,
    shares: ArrayLike,
    firm_ids: ArrayLike | Sequence[Hashable],
    merger_firm_map: Mapping[Any, Any],
    *,
    margin: float | None = None,
    margin_index: int = 0,
    price_coefficient: float | None = None,
    product_ids: ArrayLike | Sequence[Hashable] | None = None,
    market_size: float | None = None,
    efficiencies: float | ArrayLike = 0.0,
    tol: float = 1e-12,
    max_iterations: int = 10_000,
) -> LogitMergerResult:
    """Simulate a merger in one market with logit demand calibrated to one margin.

    The method of Werden and Froeb (1994): logit demand and multi-product Bertrand
    pricing, calibrated so that the observed prices and shares are the pre-merger
    equilibrium.

    1. Outside share ``s_0 = 1 - sum(shares)``; mean utilities
       ``d_j = log(s_j / s_0) + a p_j`` reproduce the observed shares exactly.
    2. Price coefficient from the observed margin ``m`` of product ``k = margin_index``
       (owned by firm ``f`` with total inside share ``S_f``): the logit first-order
       condition ``p_k - c_k = 1 / (a (1 - S_f))`` gives ``a = 1 / (m p_k (1 - S_f))``.
       Alternatively pass ``price_coefficient`` directly (e.g. from an estimate).
    3. Marginal costs ``c_j = p_j - 1 / (a (1 - S_{f(j)}))`` under pre-merger ownership.
    4. Post-merger ownership from ``merger_firm_map`` and costs reduced by
       ``efficiencies``; the new Bertrand–Nash prices by the zeta-markup fixed point
       (Morrow and Skerlos 2011), starting from the pre-merger prices.

    Parameters
    ----------
    prices : array-like of float
        Pre-merger prices (currency per unit), all > 0.
    shares : array-like of float
        Pre-merger quantity shares of the whole market, each in (0, 1), summing to < 1
        (the rest is the outside good: buying none of these products).
    firm_ids : array-like
        Pre-merger owner of each product (any hashable ids).
    merger_firm_map : mapping
        Post-merger owner of a firm's products, e.g. ``{2: 1}`` when firm 1 takes over
        firm 2's products. Firms not in the mapping keep their products; the mapping is
        applied once, without chaining (like ``pandas.Series.replace`` with a dict).
    margin : float, optional
        Observed margin of product ``margin_index`` as a fraction of its price,
        ``(p - c) / p``, strictly between 0 and 1. Exactly one of ``margin`` and
        ``price_coefficient`` must be given.
    margin_index : int, default 0
        Position of the product whose margin is observed.
    price_coefficient : float, optional
        The logit price coefficient ``a > 0``, when known instead of a margin.
    product_ids : array-like, optional
        Product identifiers for the result (default: positions).
    market_size : float, optional
        Number of potential buyers; scales the consumer-surplus change to a total.
    efficiencies : float or array-like, default 0
        Fractional marginal-cost savings after the merger. A scalar applies to the
        products of the merging parties (pre-merger firms whose post-merger owner also
        owns another pre-merger firm's products); an array gives one value per product.
        Each in [0, 1).
    tol : float, default 1e-12
        Convergence tolerance of the equilibrium solver (largest price step, relative
        to ``max(1, |p|)``).
    max_iterations : int, default 10000
        Iteration cap of each solver attempt.

    Returns
    -------
    LogitMergerResult
        Pre- and post-merger prices, shares, costs, price changes, firm shares, the
        calibrated ``a``, the consumer-surplus change and solver diagnostics.

    Raises
    ------
    ValueError
        Naming the argument that is invalid: non-positive prices, shares outside (0, 1)
        or summing to 1 or more, a margin outside (0, 1), mismatched lengths, a margin
        that implies a non-positive price coefficient, and so on.

    Notes
    -----
    Logit demand imposes diversion in proportion to share (independence of irrelevant
    alternatives), so the simulated effects follow from shares and one margin alone;
    where substitution is known to be closer among some products, a nested or random
    coefficients model is needed. Backed-out costs can come out negative when the
    observed margin is large relative to the shares; check ``costs_pre``.
    """
    p = _float_vector("prices", prices)
    s = _float_vector("shares", shares)
    if s.size != p.size:
        raise ValueError(f"shares has {s.size} entries but prices has {p.size}")
    if np.any(p <= 0):
        raise ValueError(f"prices must all be > 0, got minimum {float(p.min())!r}")
    if np.any((s <= 0) | (s >= 1)):
        raise ValueError("shares must each lie strictly between 0 and 1")
    outside = 1.0 - float(s.sum())
    if outside <= 0:
        raise ValueError(
            f"shares must sum to less than 1 (outside share = 1 - sum(shares) > 0), "
            f"got sum {float(s.sum())!r}"
        )
    firms = _labels(firm_ids)
    if len(firms) != p.size:
        raise ValueError(f"firm_ids has {len(firms)} entries but prices has {p.size}")
    products = list(range(p.size)) if product_ids is None else _labels(product_ids)
    if len(products) != p.size:
        raise ValueError(f"product_ids has {len(products)} entries but prices has {p.size}")
    if market_size is not None and not (math.isfinite(market_size) and market_size > 0):
        raise ValueError(f"market_size must be a finite number > 0, got {market_size!r}")
    if not (tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations!r}")

    pre_codes = _firm_codes(firms)
    firm_share = np.bincount(pre_codes, weights=s)[pre_codes]  # S_f(j) for each product j

    calibration_index: int | None = None
    if margin is not None and price_coefficient is None:
        m = float(margin)
        if not (math.isfinite(m) and 0.0 < m < 1.0):
            raise ValueError(f"margin must lie strictly between 0 and 1, got {margin!r}")
        if not (-p.size <= margin_index < p.size):
            raise ValueError(f"margin_index {margin_index} is out of range for {p.size} products")
        k = margin_index % p.size
        a = 1.0 / (m * p[k] * (1.0 - firm_share[k]))
        calibration_index = k
    elif price_coefficient is not None and margin is None:
        a = float(price_coefficient)
        if not (math.isfinite(a) and a > 0):
            raise ValueError(f"price_coefficient must be a finite number > 0, got {a!r}")
    else:
        raise ValueError("give exactly one of margin and price_coefficient")

    delta = np.log(s) - math.log(outside) + a * p
    costs_pre = p - 1.0 / (a * (1.0 - firm_share))

    post_firms = _apply_merger(firms, merger_firm_map)
    post_codes = _firm_codes(post_firms)
    eff = _efficiencies(efficiencies, pre_codes, post_codes, p.size)
    costs_post = costs_pre * (1.0 - eff)

    p_post, iterations, converged = _solve_bertrand(
        delta, a, costs_post, post_codes, p.copy(), tol, max_iterations
    )
    s_post, log_inclusive_post = _logit_shares(delta - a * p_post)
    _, log_inclusive_pre = _logit_shares(delta - a * p)
    cs_change = (log_inclusive_post - log_inclusive_pre) / a
    if market_size is not None:
        cs_change *= market_size

    firm_pre: dict[Hashable, float] = {}
    firm_post: dict[Hashable, float] = {}
    for j, f in enumerate(post_firms):
        firm_pre[f] = firm_pre.get(f, 0.0) + float(s[j])
        firm_post[f] = firm_post.get(f, 0.0) + float(s_post[j])

    change = p_post - p
    return LogitMergerResult(
        product_ids=tuple(products),
        firm_ids_pre=tuple(firms),
        firm_ids_post=tuple(post_firms),
        prices_pre=p,
        prices_post=p_post,
        shares_pre=s,
        shares_post=s_post,
        costs_pre=costs_pre,
        costs_post=costs_post,
        price_change=change,
        relative_price_change=change / p,
        firm_shares_pre=firm_pre,
        firm_shares_post=firm_post,
        outside_share_pre=outside,
        outside_share_post=1.0 - float(s_post.sum()),
        price_coefficient=a,
        mean_utilities=delta,
        consumer_surplus_change=float(cs_change),
        market_size=None if market_size is None else float(market_size),
        iterations=iterations,
        converged=converged,
        calibration_index=calibration_index,
    )


def _efficiencies(
    efficiencies: float | ArrayLike,
    pre_codes: NDArray[np.intp],
    post_codes: NDArray[np.intp],
    n: int,
) -> NDArray[np.float64]:
    arr = np.asarray(efficiencies, dtype=np.float64)
    if arr.ndim == 0:
        value = float(arr)
        _check_fraction("efficiencies", value, upper_open=True)
        # Merging parties: pre-merger firms whose post-merger owner holds another firm's products.
        pairs = pd.DataFrame({"pre": pre_codes, "post": post_codes}).drop_duplicates()
        merged_posts = pairs.groupby("post")["pre"].nunique()
        merged = merged_posts[merged_posts > 1].index.to_numpy()
        return np.where(np.isin(post_codes, merged), value, 0.0)
    arr = arr.reshape(-1)
    if arr.size != n:
        raise ValueError(f"efficiencies has {arr.size} entries but prices has {n}")
    if not np.all(np.isfinite(arr) & (arr >= 0) & (arr < 1)):
        raise ValueError("efficiencies must each be a fraction in [0, 1)")
    return arr


# --- many markets ----------------------------------------------------------------------------


def simulate_markets(
    data: pd.DataFrame,
    merger_firm_map: Mapping[Any, Any],
    *,
    margin_column: str = "margins",
    market_column: str = "market_ids",
    firm_column: str = "firm_ids",
    price_column: str = "prices",
    share_column: str = "shares",
    product_column: str | None = "product_ids",
    market_size_column: str | None = None,
    efficiencies: float = 0.0,
    tol: float = 1e-12,
    max_iterations: int = 10_000,
) -> pd.DataFrame:
    """Run :func:`simulate_logit_merger` in every market of a product table.

    Each market is calibrated on its own: its price coefficient comes from the first
    row (in table order) of that market with a non-missing value in ``margin_column``;
    the other rows' margins are ignored, since a calibrated logit takes one margin.
    The same ``merger_firm_map`` applies in every market (a firm absent from a market
    simply has no products there).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per product and market, with market, firm, price and share columns.
    merger_firm_map : mapping
        Post-merger owner of each acquired firm, e.g. ``{2: 1}``.
    margin_column : str, default "margins"
        Observed margins as fractions of price; missing (NaN) where not observed.
    market_column, firm_column, price_column, share_column : str
        Column names of the market ids, pre-merger firm ids, prices and shares.
    product_column : str or None, default "product_ids"
        Column of product ids, copied to the output when present.
    market_size_column : str or None
        Column with each market's size (constant within a market); scales the
        consumer-surplus change to a total.
    efficiencies : float, default 0
        Fractional marginal-cost saving for the merging parties' products.
    tol, max_iterations
        Passed to the solver.

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``data``, with columns ``market_ids``,
        ``product_ids`` (when available), ``firm_ids``, ``merger_ids``, ``prices``,
        ``shares``, ``costs``, ``post_costs``, ``post_prices``, ``post_shares``,
        ``price_change``, ``relative_price_change``, ``calibration_product`` (the row
        whose margin calibrated the market) and the market-level ``price_coefficient``,
        ``consumer_surplus_change``, ``iterations`` and ``converged``.

    Raises
    ------
    ValueError
        When a column is missing, a market has no observed margin, or a market's data
        fail the checks of :func:`simulate_logit_merger` (the message names the market).
    """
    needed = [market_column, firm_column, price_column, share_column, margin_column]
    if market_size_column is not None:
        needed.append(market_size_column)
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(f"data lacks the column(s) {missing}")
    use_products = product_column is not None and product_column in data.columns

    frames: list[pd.DataFrame] = []
    positions = np.arange(len(data))
    for key, rows in data.groupby(market_column, sort=False).indices.items():
        market = key.item() if isinstance(key, np.generic) else key  # np.int64(2) -> 2
        block = data.iloc[rows]
        margins = pd.to_numeric(block[margin_column], errors="coerce").to_numpy(dtype=float)
        observed = np.flatnonzero(~np.isnan(margins))
        if observed.size == 0:
            raise ValueError(f"market {market!r}: no observed margin in column {margin_column!r}")
        size: float | None = None
        if market_size_column is not None:
            size = float(block[market_size_column].iloc[0])
        try:
            result = simulate_logit_merger(
                block[price_column].to_numpy(dtype=float),
                block[share_column].to_numpy(dtype=float),
                block[firm_column].tolist(),
                merger_firm_map,
                margin=float(margins[observed[0]]),
                margin_index=int(observed[0]),
                product_ids=block[product_column].tolist() if use_products else None,
                market_size=size,
                efficiencies=efficiencies,
                tol=tol,
                max_iterations=max_iterations,
            )
        except ValueError as exc:
            raise ValueError(f"market {market!r}: {exc}") from exc
        frame = result.to_frame()
        if not use_products:
            frame = frame.drop(columns="product_ids")
        frame.insert(0, "market_ids", market)
        frame["calibration_product"] = np.arange(len(block)) == observed[0]
        frame["price_coefficient"] = result.price_coefficient
        frame["consumer_surplus_change"] = result.consumer_surplus_change
        frame["iterations"] = result.iterations
        frame["converged"] = result.converged
        frame["_position"] = positions[rows]
        frames.append(frame)

    out = pd.concat(frames, ignore_index=True).sort_values("_position", kind="stable")
    out.index = data.index
    return out.drop(columns="_position")


# --- estimated logit through pyblp -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PyblpMergerResult:
    """Outcome of a merger simulation on demand estimated with pyblp.

    Attributes
    ----------
    products : pandas.DataFrame
        One row per product and market, in the order of ``product_data``, with
        ``market_ids``, ``product_ids`` (when present), ``firm_ids``, ``merger_ids``,
        ``prices``, ``shares``, ``costs``, ``post_prices``, ``post_shares``,
        ``price_change`` and ``relative_price_change`` (the columns of
        :func:`simulate_markets`).
    price_coefficient : float
        ``a = -beta_prices`` (positive when demand slopes down), or NaN when prices are
        not a linear characteristic of the formulation.
    consumer_surplus_change : pandas.Series
        Per-consumer change in consumer surplus by market (pyblp's
        ``compute_consumer_surpluses``, in currency per potential buyer).
    results : Any
        The ``pyblp.ProblemResults`` of the estimation, for further post-estimation.
    """

    products: pd.DataFrame
    price_coefficient: float
    consumer_surplus_change: pd.Series
    results: Any

    @property
    def mean_relative_price_change(self) -> float:
        """Unweighted mean over all products and markets of the relative price change."""
        return float(self.products["relative_price_change"].mean())


@contextmanager
def _quiet_pyblp() -> Iterator[Any]:
    import pyblp

    previous = pyblp.options.verbose
    pyblp.options.verbose = False
    try:
        yield pyblp
    finally:
        pyblp.options.verbose = previous


def simulate_with_pyblp(
    product_data: pd.DataFrame,
    merger_firm_map: Mapping[Any, Any],
    formulation: pyblp.Formulation | None = None,
    *,
    method: str = "1s",
) -> PyblpMergerResult:
    """Estimate demand with pyblp and simulate the merger with pyblp's own tools.

    The plain logit of Berry (1994) as in pyblp's tutorial on the Nevo (2000) cereal
    data: by default ``pyblp.Formulation('0 + prices', absorb='C(product_ids)')``, i.e.
    mean utility ``delta_jt = alpha p_jt + xi_j + Delta xi_jt`` with product fixed
    effects, prices instrumented by the ``demand_instruments*`` columns of
    ``product_data``. Then, following pyblp's post-estimation tutorial: marginal costs
    from the pre-merger first-order conditions (``results.compute_costs()``), the
    post-merger ownership ``merger_ids`` (``firm_ids`` with ``merger_firm_map``
    applied), post-merger equilibrium prices (``results.compute_prices(firm_ids=...,
    costs=...)``, the zeta-markup iteration) and the shares and consumer surplus at
    those prices. pyblp's progress output is silenced while it runs.

    Parameters
    ----------
    product_data : pandas.DataFrame
        pyblp product data: ``market_ids``, ``firm_ids``, ``shares``, ``prices``, the
        instruments and whatever the formulation uses (``product_ids`` by default).
    merger_firm_map : mapping
        Post-merger owner of each acquired firm, e.g. ``{2: 1}`` (pyblp's tutorial:
        ``product_data['firm_ids'].replace(2, 1)``).
    formulation : pyblp.Formulation, optional
        The linear demand formulation (X1). Default: the tutorial's logit with product
        fixed effects.
    method : str, default "1s"
        GMM method passed to ``Problem.solve`` (``"1s"`` or ``"2s"``).

    Returns
    -------
    PyblpMergerResult
        Per-product prices, costs and changes, the estimated price coefficient, the
        consumer-surplus change per market and pyblp's results object.

    Raises
    ------
    ValueError
        When ``product_data`` lacks ``market_ids``, ``firm_ids``, ``prices`` or
        ``shares``.
    """
    missing = [c for c in ("market_ids", "firm_ids", "prices", "shares") if c not in product_data]
    if missing:
        raise ValueError(f"product_data lacks the column(s) {missing}")
    data = product_data.copy()
    data["merger_ids"] = data["firm_ids"].map(lambda f: merger_firm_map.get(f, f))

    with _quiet_pyblp() as blp:
        if formulation is None:
            formulation = blp.Formulation("0 + prices", absorb="C(product_ids)")
        problem = blp.Problem(formulation, data)
        results = problem.solve(method=method)
        costs = results.compute_costs()
        post_prices = results.compute_prices(firm_ids=data["merger_ids"], costs=costs)
        post_shares = results.compute_shares(prices=post_prices)
        cs_pre = results.compute_consumer_surpluses()
        cs_post = results.compute_consumer_surpluses(prices=post_prices)

    labels = list(results.beta_labels)
    beta = np.asarray(results.beta, dtype=float).reshape(-1)
    a = -float(beta[labels.index("prices")]) if "prices" in labels else float("nan")

    prices = data["prices"].to_numpy(dtype=float)
    post = np.asarray(post_prices, dtype=float).reshape(-1)
    columns: dict[str, Any] = {"market_ids": data["market_ids"].to_numpy()}
    if "product_ids" in data:
        columns["product_ids"] = data["product_ids"].to_numpy()
    columns.update(
        {
            "firm_ids": data["firm_ids"].to_numpy(),
            "merger_ids": data["merger_ids"].to_numpy(),
            "prices": prices,
            "shares": data["shares"].to_numpy(dtype=float),
            "costs": np.asarray(costs, dtype=float).reshape(-1),
            "post_prices": post,
            "post_shares": np.asarray(post_shares, dtype=float).reshape(-1),
            "price_change": post - prices,
            "relative_price_change": (post - prices) / prices,
        }
    )
    products = pd.DataFrame(columns, index=data.index)
    cs_change = pd.Series(
        (np.asarray(cs_post, dtype=float) - np.asarray(cs_pre, dtype=float)).reshape(-1),
        index=pd.Index(problem.unique_market_ids.reshape(-1), name="market_ids"),
        name="consumer_surplus_change",
    )
    return PyblpMergerResult(
        products=products,
        price_coefficient=a,
        consumer_surplus_change=cs_change,
        results=results,
    )
