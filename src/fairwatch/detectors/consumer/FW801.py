"""FW801 consumer.complaint_surge."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.stats import bh_qvalues
from fairwatch.engine import local_date

WINDOW = "cn.detection.consumer.surge_window_days"
MIN_RATIO = "cn.detection.consumer.min_surge_ratio"
MIN_EXCESS = "cn.detection.consumer.min_surge_excess_complaints"
MIN_BASELINE = "cn.detection.consumer.min_baseline_days"
SERIAL = "cn.detection.consumer.serial_min_merchants"
TEMPLATE_N = "cn.detection.consumer.template_min_complaints"
TEMPLATE_PER_ID = "cn.detection.consumer.template_min_complaints_per_id"
BANDS = "cn.detection.consumer.severity_surge_ratio"
FDR = "cn.detection.consumer.surge_fdr_q"

#: Replications are run in growing batches and stop once this many have reached the
#: observed statistic (Besag and Clifford's sequential Monte Carlo p-value = hits /
#: replications), so clearly unremarkable merchants cost about a hundred replications;
#: at most 99,999 replications (as SaTScan offers), p-values down to 1 / 100,000, fine
#: enough for the family's strict FDR level in a market of thousands of merchants.
MC_STOP_HITS = 10
MC_BATCHES = (99, 900, 9_000, 90_000)
#: Replications simulated at once (bounds memory: a chunk × the period's days).
MC_CHUNK = 10_000
#: Added to the complaints outside a window when estimating the merchant's rate
#: (Jeffreys' estimate of a Poisson rate).
JEFFREYS = 0.5
#: Days of the centred window over which the sector's daily index is taken.
SECTOR_INDEX_DAYS = 3
#: Sector of merchants missing from ``merchants`` (they form one sector).
NO_SECTOR = "(unknown)"


@dataclass
class _Window:
    """A merchant's most significant material window (start and length in days)."""

    start: int
    length: int
    observed: int
    expected: float
    pvalue: float
    multiplier: float


@dataclass
class _Result:
    """A scanned merchant: its best window, windows tested and final p-value."""

    row: int
    best: _Window | None
    windows: int
    pvalue: float = 1.0
    method: str = "none"


class ComplaintSurge(Detector):
    """A merchant's complaints rise far above its own seasonal baseline and its sector's.

    **What it detects**

    Merchants whose independent complaints over a few days to two weeks are several
    times what their own history, the day of the week and the movement of their whole
    sector in those days predict: a sudden quality, delivery, refund or fraud problem at
    one store. Complaints that say little about the merchant are set aside and reported
    separately: complaints by serial complainants (one id complaining about many
    merchants), templated complaints (the same text again and again from a few ids
    against one merchant), and repeat complaints of one complainant about one merchant.

    **Why it matters**

    Market regulators must hear consumers' complaints and investigate them promptly
    (Consumer Rights Protection Law arts. 32, 46); e-commerce operators must handle
    complaints through an effective mechanism and platforms must help consumers
    against their merchants (E-Commerce Law arts. 59, 61). A surge at one merchant is an
    early sign of harm to many consumers that complaint handling case by case misses;
    a campaign by one serial or templated source is not, and must not trigger action
    against the merchant.

    **Method**

    Complaints with a ``merchant_id`` are assigned to China local days. A complainant
    who complained about at least ``cn.detection.consumer.serial_min_merchants``
    merchants is *serial*; complaints with the same trimmed ``text`` against one
    merchant form a *templated* cluster when there are at least
    ``cn.detection.consumer.template_min_complaints`` of them and at least
    ``cn.detection.consumer.template_min_complaints_per_id`` per complainant id. The
    other complaints count once per (merchant, complainant): the first one. The engine
    returns per merchant and day the counted, serial, templated and repeat complaints,
    with the merchant's sector (``merchants.category``) and open dates.

    A merchant's *exposure* on a day is: open (``opened_on`` ≤ day < ``closed_on``) ×
    the market's weekday factor (median complaints per open merchant on that weekday
    over the median day) × its sector's index that day (the other merchants of the
    sector, over three days around it, against their weekday-weighted level over the
    period; the count taken at its lower one-standard-error bound so that a few
    merchants' chance ups and downs are not common movement, and never below 1). Under
    no surge the merchant's complaints are spread over its days in proportion to its
    exposure, whatever its rate. For every window of
    ``cn.detection.consumer.surge_window_days`` days (3 to 14, every start) the window's
    count ``x`` out of the merchant's total ``n`` is tested against its exposure share
    ``π`` with the binomial tail ``P(X ≥ x)`` — the exact conditional test for a rise in
    a Poisson rate, valid for stores with a handful of complaints. The window's
    expected count is ``(complaints outside + ½) × exposure in / exposure outside``
    (the Jeffreys estimate of the merchant's rate times the window's weekday and sector
    weight); the window is material when ``x`` is at least
    ``cn.detection.consumer.min_surge_ratio`` times and
    ``cn.detection.consumer.min_surge_excess_complaints`` more than expected, and the
    merchant was open ``cn.detection.consumer.min_baseline_days`` days outside it.

    The merchant's statistic is the smallest tail probability over its material
    windows; its p-value for the whole scan is that minimum times the number of windows
    (Bonferroni) or, for merchants that could be among the discoveries and are not
    already below the simulation's resolution, a sequential Monte Carlo p-value
    (Besag–Clifford, up to 99,999 replications as in SaTScan: the merchant's ``n``
    complaints redistributed over its days by exposure, seeded by the merchant id so
    runs repeat exactly). Benjamini–Hochberg q-values are taken across all scanned
    merchants; a merchant is reported when q is at most
    ``cn.detection.consumer.surge_fdr_q`` (stricter than the general FDR level: a
    market has few true surges, so each chance cluster costs much of the precision),
    with its most significant window as the period. Severity follows
    ``cn.detection.consumer.severity_surge_ratio``. The statistics give the window's
    counts, expected count, sector multiplier, top complaint category, and the
    merchant's excluded serial, templated and repeat complaints (with the serial
    complainants' ids); evidence lists the counted complaints in the window and,
    separately, the excluded ones.

    **Known limitations**

    Only the most significant window of a merchant is reported; a second, separate surge
    of the same merchant is in the statistics of neither. Complaints are counted, not
    read: a surge of unfounded complaints by many genuine ids looks like a real one, and
    serial and templated complaints are only reported on merchants that also have a
    surge (the run log counts them all). The null model is a Poisson process at a
    constant weekday-adjusted rate; a store whose complaints follow its own promotions
    more than its sector's can show clusters that are not a change in conduct. Sectors
    are product categories; a shock that hits only some merchants of a sector (one city,
    one supplier) is not common movement and may be reported for each of them. Surges
    of a few complaints at small stores cannot be told from chance clusters in a large
    market and are not reported.
    """

    code = "FW801"
    name = "consumer.complaint_surge"
    family = "consumer.complaint_surge"
    legal_basis = (
        "cn.crpl.art32",
        "cn.crpl.art46",
        "cn.ecommerce_law.art59",
        "cn.ecommerce_law.art61",
    )
    parameters = (
        WINDOW,
        MIN_RATIO,
        MIN_EXCESS,
        MIN_BASELINE,
        SERIAL,
        TEMPLATE_N,
        TEMPLATE_PER_ID,
        BANDS,
        FDR,
    )
    inputs = {
        "complaints": (
            "complaint_id",
            "ts",
            "complainant_id",
            "platform_id",
            "merchant_id",
            "category",
            "text",
        ),
        "merchants": ("merchant_id", "platform_id", "category", "opened_on", "closed_on"),
    }
    cost = 4.5

    # -- engine ------------------------------------------------------------------------

    def _complaints(self, ctx: Context) -> ir.Table:
        """Complaints with a merchant, flagged serial / templated / first."""
        c = ctx.table("complaints")
        c = c.filter(c.merchant_id.notnull(), c.complainant_id.notnull())
        c = c.mutate(day=local_date(c.ts), text_key=c.text.strip())
        per_id = c.group_by("complainant_id").aggregate(merchants=c.merchant_id.nunique())
        serial = per_id.filter(per_id.merchants >= int(ctx.param(SERIAL))).select(
            serial_id=per_id.complainant_id
        )
        texts = c.filter(c.text_key.notnull() & (c.text_key.length() > 0))
        per_text = texts.group_by(["merchant_id", "text_key"]).aggregate(
            n=texts.count(), ids=texts.complainant_id.nunique()
        )
        templated = per_text.filter(
            per_text.n >= int(ctx.param(TEMPLATE_N)),
            per_text.n >= float(ctx.param(TEMPLATE_PER_ID)) * per_text.ids,
        ).select(t_merchant=per_text.merchant_id, t_text=per_text.text_key)
        j = c.left_join(serial, c.complainant_id == serial.serial_id)
        j = j.left_join(
            templated, [j.merchant_id == templated.t_merchant, j.text_key == templated.t_text]
        )
        j = j.mutate(
            is_serial=j.serial_id.notnull(),
            is_templated=j.t_merchant.notnull(),
            order=ibis.row_number().over(
                group_by=[j.merchant_id, j.complainant_id], order_by=[j.ts, j.complaint_id]
            ),
        )
        return j.mutate(
            counted=~j.is_serial & ~j.is_templated & (j.order == 0),
            is_repeat=~j.is_serial & ~j.is_templated & (j.order > 0),
        )

    def summarize(self, ctx: Context) -> ir.Table:
        c = self._complaints(ctx)
        daily = c.group_by(["merchant_id", "day"]).aggregate(
            platform_id=c.platform_id.max(),
            complaints=c.count(),
            counted=c.counted.sum(),
            serial=c.is_serial.sum(),
            templated=c.is_templated.sum(),
            repeat=c.is_repeat.sum(),
        )
        m = ctx.table("merchants")
        m = m.select(
            m_id=m.merchant_id,
            m_platform=m.platform_id,
            m_category=m.category,
            opened_on=m.opened_on,
            closed_on=m.closed_on,
        )
        j = daily.left_join(m, daily.merchant_id == m.m_id)
        return j.select(
            "merchant_id",
            "day",
            platform_id=ibis.coalesce(j.m_platform, j.platform_id),
            complaints=j.complaints,
            counted=j.counted,
            serial=j.serial,
            templated=j.templated,
            repeat=j.repeat,
            sector=ibis.coalesce(j.m_category, ibis.literal(NO_SECTOR)),
            opened_on=j.opened_on,
            closed_on=j.closed_on,
        )

    # -- statistics --------------------------------------------------------------------

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty or summary["counted"].sum() == 0:
            return []
        frame = summary.assign(day=pd.to_datetime(summary["day"]).dt.date)
        first, last = min(frame["day"]), max(frame["day"])
        n_days = (last - first).days + 1
        merchants = (
            frame.groupby("merchant_id", sort=True)
            .agg(
                platform_id=("platform_id", "first"),
                sector=("sector", "first"),
                opened_on=("opened_on", "first"),
                closed_on=("closed_on", "first"),
                counted=("counted", "sum"),
                serial=("serial", "sum"),
                templated=("templated", "sum"),
                repeat=("repeat", "sum"),
            )
            .reset_index()
        )
        position = {m: i for i, m in enumerate(merchants["merchant_id"])}
        day_idx = np.array([(d - first).days for d in frame["day"]])
        rows = frame["merchant_id"].map(position).to_numpy()
        counts = np.zeros((len(merchants), n_days))
        np.add.at(counts, (rows, day_idx), frame["counted"].to_numpy(dtype=float))
        open_ = _open_mask(merchants, first, n_days) | (counts > 0)
        weekday = _weekday_factors(counts, open_, first)
        days_w = weekday[[(first + timedelta(days=t)).weekday() for t in range(n_days)]]

        lo, hi = (int(v) for v in (ctx.param(WINDOW)["min"], ctx.param(WINDOW)["max"]))
        min_ratio = float(ctx.param(MIN_RATIO))
        min_excess = float(ctx.param(MIN_EXCESS))
        min_baseline = int(ctx.param(MIN_BASELINE))
        sectors = merchants["sector"].astype(str).to_numpy()
        scanner = _Scanner(
            list(range(lo, min(hi, n_days) + 1)), min_ratio, min_excess, min_baseline
        )
        exposures = np.zeros_like(counts)
        plains = days_w * open_
        for sector in np.unique(sectors):
            members = np.flatnonzero(sectors == sector)
            totals = counts[members].sum(axis=0)
            opened = open_[members].sum(axis=0)
            for i in members:
                level = _sector_index(totals - counts[i], days_w * (opened - open_[i]))
                exposures[i] = days_w * open_[i] * level
        results = [
            _Result(int(i), *scanner.scan(counts[i], exposures[i], open_[i], plains[i]))
            for i in np.flatnonzero(counts.sum(axis=1) >= min_excess)
        ]
        q_max = float(ctx.param(FDR))
        _finalise_pvalues(results, counts, exposures, open_, scanner, merchants, q_max)
        ctx.log.info(
            "%d merchants scanned, %d with a material window, %d Monte Carlo scan tests; "
            "excluded %d serial, %d templated and %d repeat complaints",
            len(results),
            sum(r.best is not None for r in results),
            sum(r.method == "monte_carlo" for r in results),
            int(merchants["serial"].sum()),
            int(merchants["templated"].sum()),
            int(merchants["repeat"].sum()),
        )
        q = bh_qvalues(np.array([r.pvalue for r in results]))
        chosen = [
            (r, float(qv))
            for r, qv in zip(results, q, strict=True)
            if r.best is not None and qv <= q_max
        ]
        if not chosen:
            return []
        bands = ctx.param(BANDS)
        info = merchants.set_index("merchant_id")
        ids = [str(merchants["merchant_id"].iloc[r.row]) for r, _ in chosen]
        details = self._details(ctx, ids)
        findings = []
        for (result, qv), merchant in zip(chosen, ids, strict=True):
            r = result.best
            assert r is not None
            start = first + timedelta(days=r.start)
            end = start + timedelta(days=r.length - 1)
            ratio = r.observed / r.expected if r.expected > 0 else math.inf
            m = info.loc[merchant]
            rows_m = details[details["merchant_id"] == merchant]
            in_window = rows_m[(rows_m["day"] >= start) & (rows_m["day"] <= end)]
            counted = in_window[in_window["counted"]].sort_values(["ts", "complaint_id"])
            excluded = in_window[~in_window["counted"]].sort_values(["ts", "complaint_id"])
            top = counted["category"].value_counts()
            serial_ids = sorted(rows_m.loc[rows_m["is_serial"], "complainant_id"].unique())
            findings.append(
                self.finding(
                    ctx,
                    subject_id=merchant,
                    platform_id=None if pd.isna(m["platform_id"]) else str(m["platform_id"]),
                    period_start=start,
                    period_end=end,
                    severity=severity_from_bands(ratio, bands),
                    score=round((1 - float(qv)) * (1 - 1 / max(ratio, 1.0)), 6),
                    statistics={
                        "window_days": r.length,
                        "complaints_in_window": r.observed,
                        "expected_in_window": r.expected,
                        "ratio": ratio,
                        "excess_complaints": r.observed - r.expected,
                        "sector": str(m["sector"]),
                        "sector_multiplier": r.multiplier,
                        "p_value_window": r.pvalue,
                        "windows_scanned": result.windows,
                        "p_value": result.pvalue,
                        "p_value_method": result.method,
                        "q_value": qv,
                        "test": "scan of conditional binomial tests of the window's share of "
                        "the merchant's complaints (weekday- and sector-adjusted); "
                        "scan p-value by Monte Carlo or Bonferroni; BH across merchants",
                        "top_category": None if top.empty else str(top.index[0]),
                        "top_category_share_pct": None
                        if top.empty
                        else float(top.iloc[0] / top.sum() * 100),
                        "counted_complaints_total": int(m["counted"]),
                        "excluded_serial": int(m["serial"]),
                        "excluded_templated": int(m["templated"]),
                        "excluded_repeat": int(m["repeat"]),
                        "serial_complainants": serial_ids[:20],
                    },
                    evidence=[
                        Evidence(
                            "complaints",
                            counted["complaint_id"].astype(str).head(50).tolist(),
                            note="independent complaints in the surge window",
                        ),
                        Evidence(
                            "complaints",
                            excluded["complaint_id"].astype(str).head(50).tolist(),
                            note="complaints in the window not counted: serial "
                            "complainants, templated texts, repeats",
                        ),
                    ],
                )
            )
        return findings

    def _details(self, ctx: Context, merchant_ids: list[str]) -> pd.DataFrame:
        c = self._complaints(ctx)
        c = c.filter(c.merchant_id.isin(sorted(merchant_ids))).select(
            "complaint_id",
            "merchant_id",
            "ts",
            "day",
            "complainant_id",
            "category",
            "counted",
            "is_serial",
        )
        frame = ctx.execute(c)
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
        return frame


def _open_mask(merchants: pd.DataFrame, first: date, n_days: int) -> np.ndarray:
    """Days each merchant was open (all days when its dates are unknown)."""
    days = np.array([first + timedelta(days=t) for t in range(n_days)])
    mask = np.ones((len(merchants), n_days), dtype=bool)
    for i, (opened, closed) in enumerate(
        zip(merchants["opened_on"], merchants["closed_on"], strict=True)
    ):
        if opened is not None and not pd.isna(opened):
            mask[i] &= days >= pd.Timestamp(opened).date()
        if closed is not None and not pd.isna(closed):
            mask[i] &= days < pd.Timestamp(closed).date()
    return mask


def _weekday_factors(counts: np.ndarray, open_: np.ndarray, first: date) -> np.ndarray:
    """Market-wide complaints per open merchant by weekday, relative to all days.

    Medians over the weeks (robust to one surge or festival), or means when a weekday's
    median is zero (a market too small for medians); weekdays never seen get factor 1.
    """
    per_day = counts.sum(axis=0) / np.maximum(open_.sum(axis=0), 1)
    weekdays = np.array([(first + timedelta(days=t)).weekday() for t in range(counts.shape[1])])
    seen = [wd for wd in range(7) if (weekdays == wd).any()]
    factors = np.ones(7)
    for centre in (np.median, np.mean):
        overall = float(centre(per_day))
        levels = {wd: float(centre(per_day[weekdays == wd])) for wd in seen}
        if overall > 0 and all(v > 0 for v in levels.values()):
            for wd, v in levels.items():
                factors[wd] = v / overall
            return factors
    return factors


def _window_sums(values: np.ndarray, length: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(values)])
    return c[length:] - c[:-length]


def _sector_index(others: np.ndarray, others_exposure: np.ndarray) -> np.ndarray:
    """The sector's common movement per day, from the other merchants of the sector.

    Their complaints over a centred window of SECTOR_INDEX_DAYS days against their
    weekday-weighted open merchant-days, relative to the whole period. The window's
    count is taken at its lower one-standard-error bound (``o − sqrt(o)``), so the
    chance ups and downs of a few merchants are not taken for common movement while a
    sector-wide shift is; never below 1 (a quiet sector does not make a merchant look
    worse).
    """
    total, weight = others.sum(), others_exposure.sum()
    if total <= 0 or weight <= 0:
        return np.ones_like(others)
    kernel = np.ones(SECTOR_INDEX_DAYS)
    o = np.convolve(others, kernel, mode="same")
    w = np.convolve(others_exposure, kernel, mode="same")
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.maximum(o - np.sqrt(o), 0.0) / (w * total / weight)
    return np.maximum(1.0, np.nan_to_num(index, nan=1.0, posinf=1.0))


@dataclass
class _Scanner:
    """Scan windows of every length in ``lengths`` over one merchant's days.

    A merchant's expected complaints on day ``d`` are proportional to its exposure
    ``e_d`` (open, weekday factor, sector index). A window's share of the merchant's
    complaints under no surge is ``π = E_in / E_all``; its count is tested with the
    binomial tail ``P(X >= x | n, π)`` (conditional on the merchant's total ``n``). A
    window is *material* when ``x`` exceeds the count expected from the complaints
    outside it, ``(n − x) · E_in / E_out``, by the ratio and excess thresholds, and the
    merchant was open ``min_baseline`` days outside it.
    """

    lengths: list[int]
    min_ratio: float
    min_excess: float
    min_baseline: int

    def _windows(
        self, exposure: np.ndarray, open_: np.ndarray
    ) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Per length: valid window starts and their share of the exposure."""
        out = []
        total = exposure.sum()
        for length in self.lengths:
            if length > len(exposure) or total <= 0:
                continue
            e_in = _window_sums(exposure, length)
            open_out = open_.sum() - _window_sums(open_.astype(float), length)
            valid = np.flatnonzero((open_out >= self.min_baseline) & (e_in > 0) & (e_in < total))
            out.append((length, valid, e_in[valid] / total))
        return out

    def _material_min(self, n: float, share: np.ndarray) -> np.ndarray:
        """Smallest window count that is material, per window (``share`` = π).

        The expected count of a window with ``x`` complaints is
        ``(n − x + ½) · E_in / E_out`` (see :func:`_expected`); solved for ``x``.
        """
        a = share / (1 - share)
        base = n + JEFFREYS
        excess = (self.min_excess + base * a) / (1 + a)
        ratio = self.min_ratio * base * a / (1 + self.min_ratio * a)
        return np.ceil(np.maximum(excess, ratio) - 1e-9)

    def scan(
        self, counts: np.ndarray, exposure: np.ndarray, open_: np.ndarray, plain: np.ndarray
    ) -> tuple[_Window | None, int]:
        """The most significant material window and the number of windows tested.

        ``plain`` is the exposure without the sector index, to report the window's sector
        multiplier (``E_in / plain_in``).
        """
        n = float(counts.sum())
        best: _Window | None = None
        tested = 0
        for length, starts, share in self._windows(exposure, open_):
            tested += len(starts)
            x = _window_sums(counts, length)[starts]
            material = x >= self._material_min(n, share)
            if not material.any():
                continue
            idx = np.flatnonzero(material)
            pvalues = stats.binom.sf(x[idx] - 1, n, share[idx])
            j = int(idx[int(np.argmin(pvalues))])
            p = float(pvalues.min())
            if best is None or p < best.pvalue:
                e_in = share[j] * exposure.sum()
                expected = _expected(n - x[j], e_in, exposure.sum() - e_in)
                plain_in = _window_sums(plain, length)[starts[j]]
                best = _Window(
                    start=int(starts[j]),
                    length=length,
                    observed=int(x[j]),
                    expected=float(expected),
                    pvalue=p,
                    multiplier=float(e_in / plain_in) if plain_in > 0 else 1.0,
                )
        return best, max(tested, 1)

    def monte_carlo(
        self, counts: np.ndarray, exposure: np.ndarray, open_: np.ndarray, p_obs: float, seed: int
    ) -> float:
        """Monte Carlo p-value of the scan: the merchant's ``n`` complaints spread over its
        days in proportion to the exposure; a replication reaches the observed statistic
        when any of its windows is material with a tail probability at most ``p_obs``.
        Sequential (Besag–Clifford): stops after MC_STOP_HITS hits."""
        n = int(counts.sum())
        rng = np.random.default_rng(seed)
        limits = []
        for length, starts, share in self._windows(exposure, open_):
            if len(starts):
                k_p = stats.binom.isf(p_obs * (1 + 1e-9), n, share) + 1
                limits.append((length, starts, np.maximum(k_p, self._material_min(n, share))))
        hits = done = 0
        weights = exposure / exposure.sum()
        for batch in MC_BATCHES:
            for first in range(0, batch, MC_CHUNK):
                size = min(MC_CHUNK, batch - first)
                sims = rng.multinomial(n, weights, size=size)
                cum = np.concatenate([np.zeros((size, 1)), np.cumsum(sims, axis=1)], axis=1)
                hit = np.zeros(size, dtype=bool)
                for length, starts, threshold in limits:
                    hit |= (cum[:, starts + length] - cum[:, starts] >= threshold).any(axis=1)
                hits += int(hit.sum())
                done += size
                if hits >= MC_STOP_HITS:
                    return hits / done
        return (1 + hits) / (1 + done)


def _expected(outside: float, e_in: float, e_out: float) -> float:
    """Complaints expected in a window from the merchant's complaints outside it.

    The rate outside is the Jeffreys estimate ``(complaints + ½) / exposure``, so a store
    with no complaint outside the window is not taken to have a rate of exactly zero.
    """
    return (outside + JEFFREYS) * e_in / e_out


def _finalise_pvalues(
    results: list[_Result],
    counts: np.ndarray,
    exposures: np.ndarray,
    open_: np.ndarray,
    scanner: _Scanner,
    merchants: pd.DataFrame,
    q_max: float,
) -> None:
    """Each scanned merchant's p-value for the whole scan.

    Bonferroni over the windows tested (``min p × windows``) is valid but conservative,
    as overlapping windows are far from independent. Merchants that could be among the
    Benjamini–Hochberg discoveries (their best window's p-value alone passes the BH
    bound for the largest possible number of discoveries) get the Monte Carlo scan
    p-value instead, unless their Bonferroni p-value is already within reach of the
    simulation's resolution. Merchants without a material window have p = 1.
    """
    m = len(results)
    for r in results:
        if r.best is not None:
            r.pvalue = min(1.0, r.best.pvalue * r.windows)
            r.method = "bonferroni"
    nominal = np.array([r.best.pvalue if r.best is not None else 1.0 for r in results])
    bound = m
    while True:  # the largest R with #{p_min <= q R / m} >= R bounds the discoveries
        reach = int((nominal <= q_max * bound / max(m, 1)).sum())
        if reach >= bound:
            break
        bound = reach
    resolution = 1 / (1 + sum(MC_BATCHES))
    for r, p_min in zip(results, nominal, strict=True):
        if r.best is None or p_min > q_max * bound / max(m, 1) or r.pvalue <= resolution:
            continue
        merchant = str(merchants["merchant_id"].iloc[r.row])
        seed = int.from_bytes(hashlib.sha256(merchant.encode()).digest()[:8], "little")
        r.pvalue = scanner.monte_carlo(
            counts[r.row], exposures[r.row], open_[r.row], r.best.pvalue, seed
        )
        r.method = "monte_carlo"
