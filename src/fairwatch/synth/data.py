"""Planting module: cross-border data transfers (table ``data_exports``).

Family ``data.cross_border_mechanism`` (subject ``entity_year`` = ``entity_id:year``).

Each row cumulates an entity's transfers abroad in one calendar year (counts since
1 January). Exporters are platform operators and merchants' companies; a series starts in
2023, 2024 or 2025 and runs to the last year of the market period. A year without a row
means no transfer that year (assumption: the standard's table is complete per entity).

Required mechanism (legal assumptions, to become law-store parameters):

Rows of 2024 and later -- CAC Provisions on Promoting and Regulating Cross-border Data
Flows, in force 2024-03-22 (applied to the whole of 2024 as the lighter law, Administrative
Penalty Law art. 37):

- security assessment: CIIO exporting any personal information or important data; any
  entity exporting important data; non-CIIO exporting PI of >= 1,000,000 individuals
  (non-sensitive) or sensitive PI of >= 10,000 individuals;
- standard contract or certification: non-CIIO with PI of 100,000..999,999 individuals or
  sensitive PI of 1..9,999 individuals;
- nothing (``exempt`` with reason ``below_100k_non_sensitive``, or ``none``): non-CIIO,
  < 100,000 individuals, no sensitive PI, no important data; or no PI at all
  (``no_personal_information``);
- exempt whatever the counts (art. 5): ``contract_necessity`` (cross-border shopping,
  delivery, payment, bookings), ``cross_border_hr``, ``emergency_life_health`` -- used
  here only for non-CIIO rows without sensitive PI or important data.

Rows of 2023 -- Security Assessment Measures (in force 2022-09-01) and Standard Contract
Measures (in force 2023-06-01): assessment for important data, CIIOs, or >= 100,000
individuals' PI / >= 10,000 individuals' sensitive PI (cumulated since 1 January of the
previous year: the 2023 count, series starting in 2023); any other PI export needs a
standard contract or certification (PIPL art. 38): no de-minimis exemption existed.

Rows are judged under the rules of their year unless the current (2024) rules are lighter
(Administrative Penalty Law art. 37, as in DESIGN): the 2024 rules are lighter in every
respect, so a 2023 row is a violation only when it breaches both regimes. A stronger
mechanism than required is compliant (assessment where a contract would do).
``mechanism_valid_from`` is set before the year's transfers (2023 contracts: during the
Standard Contract Measures' grace period, by 2023-11-30).

Planted (strength: how far the counts exceed the relevant threshold, or 0.5-1 for a
categorical mismatch): non-CIIO with >= 1 M individuals under a standard contract or
certification (a fifth just at 1.00-1.05 M); CIIO exporting PI under a contract;
>= 10 k sensitive individuals without an assessment; ``none`` where a contract was
required; important data under a contract; ``exempt`` citing the 100 k threshold for
counts above it or with sensitive PI; 2023 rows breaching both regimes (>= 1 M under a
contract, >= 10 k sensitive under a contract, ``none`` for >= 100 k).

Look-alikes: 80,000-99,999 individuals exempt (99,999 often); 900,000-999,999 under a
standard contract; 9,000-9,999 sensitive individuals under a contract; large counts
exempt for contract necessity / HR / emergency; 2024 rows of 100 k-1 M under a contract
(lawful since 2024-03-22, not before); ``none`` without any PI or important data; 2023
rows unlawful under the 2022 regime but lawful under the lighter current rules (100 k-1 M
under a contract; < 100 k marked ``exempt``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

FAMILY = "data.cross_border_mechanism"
SUBJECT = "entity_year"
NEW_REGIME_FROM = date(2024, 3, 22)
FIRST_YEAR = 2023

ASSESSMENT = "security_assessment"
CONTRACT = "standard_contract"
CERTIFICATION = "certification"
EXEMPT = "exempt"
NONE = "none"
THRESHOLD_EXEMPTION = "below_100k_non_sensitive"
NO_PI_EXEMPTION = "no_personal_information"
ART5_EXEMPTIONS = ("contract_necessity", "cross_border_hr", "emergency_life_health")


@dataclass(frozen=True)
class Row:
    is_ciio: bool
    pi: int
    sensitive: int
    important: bool


def required(year: int, row: Row, exemption: str | None = None) -> str:
    """The weakest mechanism the law requires: ``assessment``, ``contract`` or ``nothing``.

    ``contract`` means a standard contract or certification. ``exemption`` is the reason
    given for an ``exempt`` row (art. 5 reasons apply from 2024-03-22 on).
    """
    if year >= NEW_REGIME_FROM.year:
        if row.important or (row.is_ciio and row.pi + row.sensitive > 0):
            return "assessment"
        if exemption in ART5_EXEMPTIONS and not row.is_ciio:
            return "nothing"
        if row.pi >= 1_000_000 or row.sensitive >= 10_000:
            return "assessment"
        if row.pi >= 100_000 or row.sensitive > 0:
            return "contract"
        return "nothing"
    if row.important or (row.is_ciio and row.pi + row.sensitive > 0):
        return "assessment"
    if row.pi >= 100_000 or row.sensitive >= 10_000:
        return "assessment"
    if row.pi + row.sensitive > 0:
        return "contract"
    return "nothing"


def compliant(year: int, row: Row, mechanism: str, exemption: str | None) -> bool:
    """Whether a row is lawful as judged now: under the rules of its year, or under the
    lighter current rules (Administrative Penalty Law art. 37)."""
    return compliant_under(year, row, mechanism, exemption) or compliant_under(
        max(year, NEW_REGIME_FROM.year), row, mechanism, exemption
    )


def compliant_under(year: int, row: Row, mechanism: str, exemption: str | None) -> bool:
    """Whether the declared mechanism satisfies the rules in force for ``year``."""
    need = required(year, row, exemption if mechanism == EXEMPT else None)
    if need == "assessment":
        return mechanism == ASSESSMENT
    if need == "contract":
        return mechanism in (ASSESSMENT, CONTRACT, CERTIFICATION)
    if mechanism == EXEMPT:
        valid = (
            (*ART5_EXEMPTIONS, THRESHOLD_EXEMPTION, NO_PI_EXEMPTION)
            if year >= NEW_REGIME_FROM.year
            else (NO_PI_EXEMPTION,)
        )
        if exemption not in valid:
            return False
        if exemption == THRESHOLD_EXEMPTION:
            return row.pi < 100_000 and row.sensitive == 0 and not row.important
        if exemption == NO_PI_EXEMPTION:
            return row.pi + row.sensitive == 0 and not row.important
    return True


def _exporters(world: World) -> list[str]:
    entities = world.frame("entities")
    if entities.empty:
        return []
    ids: list[str] = []
    platforms = world.frame("platforms")
    if not platforms.empty:
        ids += list(platforms["operator_id"].dropna())
    merchants = world.frame("merchants")
    if not merchants.empty:
        ids += list(merchants["entity_id"].dropna())
    companies = set(entities.loc[entities["kind"] == "company", "entity_id"])
    seen: set[str] = set()
    out = []
    for e in ids:
        if e in companies and e not in seen:
            seen.add(e)
            out.append(str(e))
    return out


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``data_exports`` with planted mismatches and look-alikes."""
    rng = world.rng_for("data")
    last_year = (world.end - timedelta(days=1)).year
    years = list(range(FIRST_YEAR, last_year + 1))
    pool = _exporters(world)
    if not pool or not years:
        log.warning("data: no exporting entity or year, nothing planted")
        return
    platforms = world.frame("platforms")
    operators = set(platforms["operator_id"]) if not platforms.empty else set()
    n = min(len(pool), max(12, round(len(pool) * rng.uniform(0.3, 0.45))))
    chosen = [pool[i] for i in rng.choice(len(pool), n, replace=False)]
    ciio = {e: bool(rng.random() < (0.5 if e in operators else 0.04)) for e in chosen}
    if not any(ciio.values()):
        ciio[chosen[0]] = True
    cells: list[tuple[str, int]] = []
    for e in chosen:
        first = int(rng.choice(years, p=_first_year_weights(years)))
        cells += [(e, y) for y in range(first, last_year + 1)]

    role: dict[tuple[str, int], str] = {}

    def assign(kind: str, k: int, ok: Callable[[tuple[str, int]], bool]) -> None:
        free = [c for c in cells if c not in role and ok(c)]
        for j in rng.permutation(len(free))[:k]:
            role[free[int(j)]] = kind

    def new(c: tuple[str, int]) -> bool:
        return c[1] >= NEW_REGIME_FROM.year

    def non_ciio(c: tuple[str, int]) -> bool:
        return not ciio[c[0]]

    def is_2023(c: tuple[str, int]) -> bool:
        return c[1] == 2023 and non_ciio(c)

    def is_2024(c: tuple[str, int]) -> bool:
        return c[1] == 2024 and non_ciio(c)

    def new_non_ciio(c: tuple[str, int]) -> bool:
        return new(c) and non_ciio(c)

    mult = max(1, len(cells) // 60)
    if world.violations:
        assign(
            "v_million_contract", mult * int(rng.integers(1, 3)), lambda c: new(c) and non_ciio(c)
        )
        assign("v_ciio_contract", mult * int(rng.integers(1, 3)), lambda c: new(c) and ciio[c[0]])
        assign("v_sensitive", mult * int(rng.integers(1, 3)), lambda c: new(c) and non_ciio(c))
        assign("v_none", mult * int(rng.integers(1, 3)), lambda c: new(c) and non_ciio(c))
        assign("v_important", mult * int(rng.integers(1, 2)), lambda c: new(c) and non_ciio(c))
        assign("v_bad_exemption", mult * int(rng.integers(1, 2)), lambda c: new(c) and non_ciio(c))
        assign("v_2023", mult * int(rng.integers(1, 3)), lambda c: c[1] == 2023 and non_ciio(c))
    for kind in (
        "l_99999",
        "l_999999",
        "l_sensitive_9999",
        "l_art5",
        "l_boundary_2024",
        "l_none_no_pi",
        "l_2023_lighter_law",
    ):
        pred = {"l_boundary_2024": is_2024, "l_2023_lighter_law": is_2023}.get(kind, new_non_ciio)
        assign(kind, mult * int(rng.integers(1, 3)), pred)

    rows: list[dict[str, Any]] = []
    for e, y in cells:
        kind = role.get((e, y), "")
        rec = _row(rng, kind, e, y, ciio[e])
        r = Row(
            rec["is_ciio"],
            rec["pi_individuals"],
            rec["sensitive_pi_individuals"],
            rec["important_data"],
        )
        ok = compliant(y, r, rec["mechanism"], rec["exemption"])
        subject = f"{e}:{y}"
        if kind.startswith("v_"):
            assert not ok, (kind, rec)
            truth.add(
                FAMILY,
                SUBJECT,
                subject,
                strength=_strength(kind, y, r, rng),
                note=f"{kind[2:]}: {rec['mechanism']} declared, "
                f"{required(y, r, rec['exemption'])} required",
            )
        else:
            assert ok, (kind, rec)
            if kind:
                truth.lookalike(FAMILY, SUBJECT, subject, note=kind[2:])
        rows.append(rec)
    frame = pd.DataFrame(rows).sort_values(["entity_id", "year"], kind="stable")
    out.write("data_exports", frame.reset_index(drop=True))
    log.info(
        "data: %d entity-years, %d planted",
        len(frame),
        sum(1 for k in role.values() if k.startswith("v_")),
    )


def _first_year_weights(years: list[int]) -> np.ndarray:
    w = np.array([3.0 if y == years[0] else 1.0 for y in years])
    return w / w.sum()


def _strength(kind: str, year: int, r: Row, rng: np.random.Generator) -> float:
    def ratio(x: float, t: float) -> float:
        return float(np.clip(0.2 + 0.8 * np.log(max(x / t, 1.0)) / np.log(6.0), 0.2, 1.0))

    if kind == "v_million_contract":
        return ratio(r.pi, 1_000_000)
    if kind == "v_sensitive":
        return ratio(r.sensitive, 10_000)
    if kind == "v_2023":
        return (
            max(ratio(r.pi, 1_000_000), ratio(r.sensitive, 10_000))
            if r.sensitive or r.pi >= 1_000_000
            else float(rng.uniform(0.5, 1.0))
        )
    return float(rng.uniform(0.5, 1.0))


def _valid_from(rng: np.random.Generator, year: int, mechanism: str) -> date | None:
    if mechanism in (EXEMPT, NONE):
        return None
    if year < NEW_REGIME_FROM.year:
        if mechanism == ASSESSMENT:
            lo, hi = date(2022, 9, 1), date(2023, 2, 28)
        else:
            lo, hi = date(2023, 6, 1), date(2023, 11, 30)
    else:
        lo, hi = date(year - 1, 3, 1), date(year - 1, 12, 31)
    return lo + timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))


def _row(
    rng: np.random.Generator, kind: str, entity_id: str, year: int, is_ciio: bool
) -> dict[str, Any]:
    """One entity-year row of the given kind (``""`` = an ordinary, lawful row)."""
    pi = sens = 0
    important = False
    mechanism: str
    exemption: str | None = None

    def ui(lo: float, hi: float) -> int:
        return int(rng.integers(int(lo), int(hi) + 1))

    def contract() -> str:
        return CONTRACT if rng.random() < 0.8 else CERTIFICATION

    if kind == "v_million_contract":
        pi = ui(1_000_000, 1_050_000) if rng.random() < 0.2 else ui(1_050_001, 4_000_000)
        mechanism = contract()
    elif kind == "v_ciio_contract":
        pi = ui(5_000, 800_000)
        sens = ui(0, 5_000) if rng.random() < 0.3 else 0
        mechanism = contract()
    elif kind == "v_sensitive":
        sens = ui(10_000, 60_000)
        pi = ui(10_000, 900_000)
        mechanism = contract()
    elif kind == "v_none":
        if rng.random() < 0.6:
            pi = ui(100_000, 990_000)
        else:
            pi, sens = ui(1_000, 90_000), ui(1, 9_999)
        mechanism = NONE
    elif kind == "v_important":
        pi = ui(0, 500_000)
        important = True
        mechanism = contract()
    elif kind == "v_bad_exemption":
        if rng.random() < 0.5:
            pi = ui(100_000, 600_000)
        else:
            pi, sens = ui(5_000, 90_000), ui(1, 3_000)
        mechanism, exemption = EXEMPT, THRESHOLD_EXEMPTION
    elif kind == "v_2023":  # unlawful under the 2022 regime and the lighter 2024 one
        variant = rng.choice(["million", "sensitive", "none"])
        if variant == "million":
            pi, mechanism = ui(1_000_000, 3_000_000), contract()
        elif variant == "sensitive":
            pi, sens, mechanism = ui(10_000, 500_000), ui(10_000, 40_000), contract()
        else:
            pi, mechanism = ui(100_000, 900_000), NONE
    elif kind == "l_2023_lighter_law":  # unlawful in 2023, lawful under today's lighter rules
        if rng.random() < 0.5:
            pi, mechanism = ui(100_000, 999_999), contract()
        else:
            pi, mechanism, exemption = ui(1_000, 99_999), EXEMPT, THRESHOLD_EXEMPTION
    elif kind == "l_99999":
        pi = 99_999 if rng.random() < 0.4 else ui(80_000, 99_998)
        mechanism, exemption = EXEMPT, THRESHOLD_EXEMPTION
    elif kind == "l_999999":
        pi = 999_999 if rng.random() < 0.4 else ui(900_000, 999_998)
        mechanism = contract()
    elif kind == "l_sensitive_9999":
        sens = 9_999 if rng.random() < 0.4 else ui(9_000, 9_998)
        pi = ui(10_000, 900_000)
        mechanism = contract()
    elif kind == "l_art5":
        pi = ui(150_000, 3_000_000)
        mechanism = EXEMPT
        exemption = ART5_EXEMPTIONS[int(rng.integers(len(ART5_EXEMPTIONS)))]
    elif kind == "l_boundary_2024":
        pi = ui(100_000, 999_999)
        mechanism = contract()
    elif kind == "l_none_no_pi":
        mechanism = NONE
    else:
        pi, sens, important, mechanism, exemption = _ordinary(rng, year, is_ciio)
    return {
        "entity_id": entity_id,
        "year": year,
        "is_ciio": is_ciio,
        "pi_individuals": pi,
        "sensitive_pi_individuals": sens,
        "important_data": important,
        "mechanism": mechanism,
        "mechanism_valid_from": _valid_from(rng, year, mechanism),
        "exemption": exemption,
    }


def _ordinary(
    rng: np.random.Generator, year: int, is_ciio: bool
) -> tuple[int, int, bool, str, str | None]:
    """Plausible lawful transfers: counts drawn, then the mechanism the law requires."""
    size = rng.choice(["small", "mid", "large", "sensitive", "none"], p=[0.4, 0.3, 0.1, 0.12, 0.08])
    pi = sens = 0
    important = bool(rng.random() < (0.3 if is_ciio else 0.03))
    if size == "small":
        pi = int(rng.integers(500, 80_000))
    elif size == "mid":
        pi = int(rng.integers(120_000, 880_000))
    elif size == "large":
        pi = int(rng.integers(1_200_000, 20_000_000))
    elif size == "sensitive":
        pi = int(rng.integers(5_000, 500_000))
        sens = (
            int(rng.integers(100, 8_000))
            if rng.random() < 0.7
            else int(rng.integers(12_000, 80_000))
        )
    row = Row(is_ciio, pi, sens, important)
    need = required(year, row)
    exemption: str | None = None
    if need == "assessment":
        mechanism = ASSESSMENT
    elif need == "contract":
        mechanism = CONTRACT if rng.random() < 0.75 else CERTIFICATION
    elif pi + sens == 0 and not important:
        mechanism, exemption = EXEMPT, NO_PI_EXEMPTION
    else:
        mechanism, exemption = EXEMPT, THRESHOLD_EXEMPTION
    return pi, sens, important, mechanism, exemption
