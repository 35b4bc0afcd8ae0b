"""Platform category and grade, the EU DMA / DSA tests, and the obligations that follow.

**SAMR grading** (draft guidelines of 2021-10-29, never finalised; fairwatch uses their
thresholds as a published screen, ``cn.platform.grading.*``). On a date ``D`` a platform
is graded on the previous year (``D.year - 1``):

- *super*: annual active users in China >= ``super.min_annual_active_users``, core
  business in >= ``super.min_core_business_categories`` categories, market value at the
  end of the previous year >= ``super.min_market_value_cny``, and a very strong ability
  to restrict merchants' access to consumers;
- *large*: users >= ``large.min_annual_active_users``, a prominent main business, market
  value >= ``large.min_market_value_cny``, and a strong ability to restrict;
- *small / medium*: the rest.

How the figures are read (fairwatch's readings of the draft, published here):

- **Group.** The platform's operator is resolved to its group: the ultimate controller
  on ``D`` (:mod:`fairwatch.structure.ownership`). The group's platforms are the
  ``platforms`` rows whose operator is a group member (platforms launched after ``D``
  left out).
- **Users** are the ``platform_metrics`` row of period ``YYYY`` (annual active users in
  China). Monthly rows are never turned into an annual figure (monthly actives do not
  add up to annual actives): a platform with only monthly rows is *not assessed*, and
  the result says so. Grading a platform uses its own users; grading a group uses its
  largest platform's (users of different platforms overlap and cannot be de-duplicated
  from reported totals, so the sum would overstate them). When some of the group's
  platforms report no annual figure, the largest reported one can still pass a
  threshold, but cannot fail it.
- **Business breadth** is a test of the undertaking: the union of the categories of the
  group's platforms, whether a platform or its group is graded. Every category a
  platform lists counts as core business (the reporting standard has no "core" flag).
  Categories are checked against ``cn.platform.categories``.
- **Market value** is the group's ``financials.market_value_cny`` for the previous fiscal
  year (the ultimate controller's consolidated row; see
  :meth:`~fairwatch.structure.ownership.OwnershipGraph.group_financials`).
- **The ability to restrict merchants' access to consumers** and **a prominent main
  business** are qualitative: reported as *not assessed*; the grade rests on the
  quantitative tests and says so.

A criterion whose figure is missing is *not assessed*, with the reason, never a silent
pass or fail. A test passes when all its quantitative criteria pass, fails when one
fails, and is otherwise not assessed. The grade is the highest test passed; a grade
below a not-assessed higher test is *provisional*; when the large test can be neither
passed nor failed the grade is *undetermined*.

**EU comparators.** The reporting standard holds no EU figures, so callers pass them
(:class:`EUFigures`). DMA gatekeeper presumption (art. 3(2)): (EU turnover >= threshold in
each of the last ``qualifying_years`` financial years *or* average market cap >=
threshold) *and* the service in >= ``min_member_states`` member states *and*, in each of
those years, >= ``min_monthly_active_end_users`` and >= ``min_yearly_active_business_users``.
DSA very large online platform: average monthly active recipients in the EU >=
``eu.dsa.vlop.min_monthly_active_recipients``. Without figures each test is "not assessed:
no EU figures reported".

**Obligations.** Every platform: the draft responsibility guidelines' arts. 10-34
(``cn.platform.responsibility.all_platform_duties``, the draft cited as a whole). Super
platforms also arts. 1-9 (``super_large_duties``, one id per article: each cites its
article where the registry has it). The grades listed in
``cn.platform.responsibility.pipl_art58_grades`` (a fairwatch policy) carry PIPL art. 58
(``pipl_art58_duties``). A passed DMA or DSA test adds the articles of
``eu.dma.gatekeeper.obligation_articles`` / ``eu.dsa.vlop.obligation_articles``; both bind
only after designation by the Commission.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairwatch.errors import DataError, FairwatchError, ParameterLookupError, UsageError
from fairwatch.law.format import format_value
from fairwatch.law.model import Citation, DatedValue
from fairwatch.law.store import LawStore
from fairwatch.structure._values import opt_float
from fairwatch.structure.ownership import OwnershipGraph, Snapshot, empty_ownership

Status = Literal["pass", "fail", "not_assessed"]
PASS: Status = "pass"
FAIL: Status = "fail"
NOT_ASSESSED: Status = "not_assessed"

CATEGORIES = "cn.platform.categories"
SUPER_USERS = "cn.platform.grading.super.min_annual_active_users"
SUPER_CATEGORIES = "cn.platform.grading.super.min_core_business_categories"
SUPER_VALUE = "cn.platform.grading.super.min_market_value_cny"
LARGE_USERS = "cn.platform.grading.large.min_annual_active_users"
LARGE_VALUE = "cn.platform.grading.large.min_market_value_cny"
SUPER_DUTIES = "cn.platform.responsibility.super_large_duties"
ALL_DUTIES = "cn.platform.responsibility.all_platform_duties"
PIPL_DUTIES = "cn.platform.responsibility.pipl_art58_duties"
PIPL_GRADES = "cn.platform.responsibility.pipl_art58_grades"
DMA_TURNOVER = "eu.dma.gatekeeper.min_eu_turnover_eur"
DMA_MARKET_CAP = "eu.dma.gatekeeper.min_avg_market_cap_eur"
DMA_STATES = "eu.dma.gatekeeper.min_member_states"
DMA_END_USERS = "eu.dma.gatekeeper.min_monthly_active_end_users"
DMA_BUSINESS_USERS = "eu.dma.gatekeeper.min_yearly_active_business_users"
DMA_YEARS = "eu.dma.gatekeeper.qualifying_years"
DMA_DUTIES = "eu.dma.gatekeeper.obligation_articles"
DSA_RECIPIENTS = "eu.dsa.vlop.min_monthly_active_recipients"
DSA_DUTIES = "eu.dsa.vlop.obligation_articles"

#: Every law-store parameter this module reads.
PARAMETERS = (
    CATEGORIES,
    SUPER_USERS,
    SUPER_CATEGORIES,
    SUPER_VALUE,
    LARGE_USERS,
    LARGE_VALUE,
    SUPER_DUTIES,
    ALL_DUTIES,
    PIPL_DUTIES,
    PIPL_GRADES,
    DMA_TURNOVER,
    DMA_MARKET_CAP,
    DMA_STATES,
    DMA_END_USERS,
    DMA_BUSINESS_USERS,
    DMA_YEARS,
    DMA_DUTIES,
    DSA_RECIPIENTS,
    DSA_DUTIES,
)

#: Grade ids (as in the parameter names ``cn.platform.grading.<grade>``) and labels.
GRADES: dict[str, str] = {
    "super": "super platform",
    "large": "large platform",
    "small_medium": "small or medium platform",
    "undetermined": "undetermined",
}
NO_EU_FIGURES = "no EU figures reported"
_QUALITATIVE = "qualitative criterion: fairwatch does not assess it"


# --- results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One test criterion: the figure, the threshold in force, and the outcome.

    ``figure`` is a number, a ``{year: number}`` mapping for per-year tests, or
    ``None`` when not reported; ``threshold`` is the parameter's value at the date
    (``None`` for a qualitative criterion or a threshold not in force). ``reason``
    explains the outcome in words, including why a criterion is not assessed.
    """

    id: str
    name: str
    figure: Any
    threshold: Any
    unit: str
    status: Status
    reason: str
    parameter: str | None
    citation_key: str | None
    citation_label: str
    verified: bool
    qualitative: bool = False

    def to_dict(self) -> dict[str, Any]:
        figure = self.figure
        if isinstance(figure, Mapping):
            figure = {str(k): v for k, v in figure.items()}
        return {
            "id": self.id,
            "name": self.name,
            "figure": figure,
            "threshold": self.threshold,
            "unit": self.unit,
            "status": self.status,
            "reason": self.reason,
            "parameter": self.parameter,
            "citation_key": self.citation_key,
            "citation_label": self.citation_label,
            "verified": self.verified,
            "qualitative": self.qualitative,
        }


@dataclass(frozen=True)
class TestResult:
    """A grade test (``super``, ``large``) or an EU test (``dma_gatekeeper``, ``dsa_vlop``)."""

    id: str
    name: str
    status: Status
    rule: str
    criteria: tuple[Criterion, ...]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "rule": self.rule,
            "criteria": [c.to_dict() for c in self.criteria],
            "note": self.note,
        }


@dataclass(frozen=True)
class Obligation:
    """One duty that follows from the grade or an EU test, with its citation."""

    id: str
    text: str
    applies_because: str
    parameter: str
    citation_key: str | None
    citation_label: str
    verified: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "applies_because": self.applies_because,
            "parameter": self.parameter,
            "citation_key": self.citation_key,
            "citation_label": self.citation_label,
            "verified": self.verified,
            "note": self.note,
        }


@dataclass(frozen=True)
class ChainLink:
    """``owner`` controls ``owned`` (``how``: the control kind or the vote share)."""

    owned: str
    owner: str
    how: str

    def to_dict(self) -> dict[str, str]:
        return {"owned": self.owned, "owner": self.owner, "how": self.how}


@dataclass(frozen=True)
class GroupInfo:
    """The group a platform's operator belongs to on the grading date."""

    entity_id: str
    name: str | None
    members: int
    chain: tuple[ChainLink, ...]
    platforms: tuple[str, ...]
    ownership_known: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "name": self.name,
            "members": self.members,
            "control_chain": [link.to_dict() for link in self.chain],
            "platforms": list(self.platforms),
            "ownership_known": self.ownership_known,
        }


@dataclass(frozen=True)
class EUFigures:
    """EU figures of a platform (or its undertaking), which the reporting standard lacks.

    Per-year figures are keyed by financial year. ``member_states`` is how many member
    states the same core platform service is provided in; ``monthly_active_recipients``
    is the DSA's average monthly active recipients in the EU.
    """

    turnover_eur: Mapping[int, float] = field(default_factory=dict)
    avg_market_cap_eur: float | None = None
    member_states: int | None = None
    monthly_active_end_users: Mapping[int, float] = field(default_factory=dict)
    yearly_active_business_users: Mapping[int, float] = field(default_factory=dict)
    monthly_active_recipients: float | None = None

    def is_empty(self) -> bool:
        return (
            not self.turnover_eur
            and self.avg_market_cap_eur is None
            and self.member_states is None
            and not self.monthly_active_end_users
            and not self.yearly_active_business_users
            and self.monthly_active_recipients is None
        )

    def to_dict(self) -> dict[str, Any]:
        def years(m: Mapping[int, float]) -> dict[str, float]:
            return {str(k): v for k, v in sorted(m.items())}

        return {
            "turnover_eur": years(self.turnover_eur),
            "avg_market_cap_eur": self.avg_market_cap_eur,
            "member_states": self.member_states,
            "monthly_active_end_users": years(self.monthly_active_end_users),
            "yearly_active_business_users": years(self.yearly_active_business_users),
            "monthly_active_recipients": self.monthly_active_recipients,
        }


@dataclass(frozen=True)
class GradingResult:
    """The category, grade, EU status and obligations of a platform or group on a date.

    ``categories`` are the platform's own (for a group: the union over its platforms);
    ``group_categories`` the union over the group's platforms, which the breadth test
    uses. ``grade`` is a key of :data:`GRADES`.
    """

    subject: Literal["platform", "group"]
    subject_id: str
    at: date
    prior_year: int
    platform_id: str | None
    platform_name: str | None
    operator_id: str | None
    operator_name: str | None
    group: GroupInfo
    categories: tuple[str, ...]
    group_categories: tuple[str, ...]
    grade: str
    provisional: bool
    tests: tuple[TestResult, ...]
    eu_tests: tuple[TestResult, ...]
    obligations: tuple[Obligation, ...]
    notes: tuple[str, ...] = ()
    eu_figures: EUFigures | None = None

    @property
    def grade_label(self) -> str:
        return GRADES[self.grade]

    def test(self, test_id: str) -> TestResult:
        for t in (*self.tests, *self.eu_tests):
            if t.id == test_id:
                return t
        raise KeyError(test_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "subject_id": self.subject_id,
            "at": self.at.isoformat(),
            "prior_year": self.prior_year,
            "platform_id": self.platform_id,
            "platform_name": self.platform_name,
            "operator_id": self.operator_id,
            "operator_name": self.operator_name,
            "group": self.group.to_dict(),
            "categories": list(self.categories),
            "group_categories": list(self.group_categories),
            "grade": self.grade,
            "grade_label": self.grade_label,
            "provisional": self.provisional,
            "tests": [t.to_dict() for t in self.tests],
            "eu_tests": [t.to_dict() for t in self.eu_tests],
            "eu_figures": self.eu_figures.to_dict() if self.eu_figures else None,
            "obligations": [o.to_dict() for o in self.obligations],
            "notes": list(self.notes),
        }


# --- entry points -------------------------------------------------------------------


def grade_platform(
    tables: Mapping[str, pd.DataFrame],
    platform_id: str,
    at: date,
    law: LawStore,
    eu: EUFigures | None = None,
) -> GradingResult:
    """Grade one platform on ``at``: its own users, its group's breadth and market value."""
    ctx = _Context.build(tables, at, law)
    row = ctx.platform_row(platform_id)
    operator = str(row["operator_id"])
    group = ctx.group_of(operator)
    platforms = ctx.group_platforms(group.entity_id, always=(str(platform_id),))
    group = _with_platforms(group, platforms)
    own = ctx.categories_of(str(platform_id))
    users = ctx.users([str(platform_id)])
    return _grade(
        ctx,
        subject="platform",
        subject_id=str(platform_id),
        platform_id=str(platform_id),
        platform_name=_text(row.get("name")),
        operator_id=operator,
        group=group,
        categories=own,
        group_categories=ctx.union_categories(platforms),
        users=users,
        eu=eu,
    )


def grade_group(
    tables: Mapping[str, pd.DataFrame],
    entity_id: str,
    at: date,
    law: LawStore,
    eu: EUFigures | None = None,
) -> GradingResult:
    """Grade the group of ``entity_id`` on ``at``: its largest platform's users, the union
    of its platforms' categories, and its market value."""
    ctx = _Context.build(tables, at, law)
    if not ctx.knows_entity(str(entity_id)):
        raise UsageError(
            f"unknown entity id {entity_id!r}: it is in none of the lake's entities, "
            "ownership or platforms (operator_id) tables"
        )
    group = ctx.group_of(str(entity_id))
    platforms = ctx.group_platforms(group.entity_id)
    if not platforms:
        raise UsageError(
            f"the group of {entity_id!r} (ultimate controller {group.entity_id} on {at}) "
            "operates no platform in the lake's platforms table: nothing to grade"
        )
    group = _with_platforms(group, platforms)
    categories = ctx.union_categories(platforms)
    return _grade(
        ctx,
        subject="group",
        subject_id=str(entity_id),
        platform_id=None,
        platform_name=None,
        operator_id=None,
        group=group,
        categories=categories,
        group_categories=categories,
        users=ctx.users(platforms),
        eu=eu,
    )


# --- the context: tables, graph and law at one date ----------------------------------


@dataclass(frozen=True)
class _Users:
    """The largest reported annual active users among some platforms."""

    value: float | None
    year: int
    source: str | None  # the platform the value is from
    missing: tuple[tuple[str, str], ...]  # (platform, why) for platforms without a figure


@dataclass
class _Context:
    tables: Mapping[str, pd.DataFrame]
    at: date
    law: LawStore
    platforms: pd.DataFrame
    graph: OwnershipGraph
    snapshot: Snapshot
    categories: Mapping[str, str]
    categories_citation: Citation
    notes: list[str]

    @classmethod
    def build(cls, tables: Mapping[str, pd.DataFrame], at: date, law: LawStore) -> _Context:
        platforms = tables.get("platforms")
        if platforms is None:
            raise DataError("the lake has no `platforms` table: there is no platform to grade")
        missing = [c for c in ("platform_id", "operator_id", "categories") if c not in platforms]
        if missing:
            raise DataError(f"the `platforms` table lacks column(s) {', '.join(missing)}")
        platforms = platforms.assign(
            platform_id=platforms["platform_id"].astype(str),
            operator_id=platforms["operator_id"].astype(str),
        ).drop_duplicates("platform_id")
        try:
            cat_entry = law.entry(CATEGORIES, at)
        except ParameterLookupError as exc:
            raise UsageError(
                f"no SAMR platform categories and grades are in force on {at}: {exc}"
            ) from None
        notes: list[str] = []
        ownership = tables.get("ownership")
        if ownership is None:
            notes.append(
                "the lake has no `ownership` table: each operator is treated as its own group"
            )
            ownership = empty_ownership()
        graph = OwnershipGraph(
            ownership,
            entities=tables.get("entities"),
            financials=tables.get("financials"),
            law=law,
        )
        return cls(
            tables=tables,
            at=at,
            law=law,
            platforms=platforms,
            graph=graph,
            snapshot=graph.at(at),
            categories=dict(cat_entry.value),
            categories_citation=cat_entry.citation,
            notes=notes,
        )

    @property
    def prior_year(self) -> int:
        return self.at.year - 1

    def platform_row(self, platform_id: str) -> pd.Series:
        hit = self.platforms[self.platforms["platform_id"] == str(platform_id)]
        if hit.empty:
            known = sorted(self.platforms["platform_id"])
            shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
            raise UsageError(
                f"unknown platform id {platform_id!r}; the platforms table has: {shown or 'none'}"
            )
        return hit.iloc[0]

    def knows_entity(self, entity_id: str) -> bool:
        if self.snapshot.node(entity_id) is not None:
            return True
        return bool((self.platforms["operator_id"] == entity_id).any())

    def group_of(self, entity_id: str) -> GroupInfo:
        snap = self.snapshot
        top = snap.ultimate_controller(entity_id)
        chain = tuple(
            ChainLink(owned=link.owned, owner=link.owner, how=link.describe())
            for link in snap.control_chain(entity_id)
        )
        return GroupInfo(
            entity_id=top,
            name=self.graph.name(top),
            members=len(snap.group_members(entity_id)),
            chain=chain,
            platforms=(),
            ownership_known="ownership" in self.tables,
        )

    def group_platforms(self, top: str, always: Sequence[str] = ()) -> list[str]:
        """The platforms run by members of ``top``'s group (launched by the date)."""
        members = set(self.snapshot.group_members(top))
        plats = self.platforms
        ours = plats[plats["operator_id"].isin(members)]
        if "launched_on" in ours:
            launched = pd.to_datetime(ours["launched_on"], errors="coerce")
            ours = ours[launched.isna() | (launched <= pd.Timestamp(self.at))]
        ids = set(ours["platform_id"]) | set(always)
        return sorted(ids)

    def categories_of(self, platform_id: str) -> tuple[str, ...]:
        row = self.platform_row(platform_id)
        cats = _as_list(row["categories"])
        unknown = [c for c in cats if c not in self.categories]
        if unknown:
            raise DataError(
                f"platform {platform_id} lists categories {', '.join(unknown)} that are not "
                f"among {CATEGORIES} in force on {self.at} ({', '.join(self.categories)})"
            )
        return tuple(c for c in self.categories if c in cats)  # the parameter's order

    def union_categories(self, platform_ids: Iterable[str]) -> tuple[str, ...]:
        found: set[str] = set()
        for pid in platform_ids:
            found.update(self.categories_of(pid))
        return tuple(c for c in self.categories if c in found)

    def users(self, platform_ids: Sequence[str]) -> _Users:
        year = self.prior_year
        metrics = self.tables.get("platform_metrics")
        if metrics is None:
            why = "the lake has no `platform_metrics` table"
            return _Users(None, year, None, tuple((p, why) for p in platform_ids))
        metrics = metrics.assign(
            platform_id=metrics["platform_id"].astype(str), period=metrics["period"].astype(str)
        )
        best: tuple[float, str] | None = None
        missing: list[tuple[str, str]] = []
        for pid in platform_ids:
            rows = metrics[metrics["platform_id"] == pid]
            annual = rows[rows["period"] == str(year)]
            value = opt_float(annual["active_users"].iloc[0]) if not annual.empty else None
            if value is not None:
                if best is None or value > best[0]:
                    best = (value, pid)
                continue
            if not annual.empty:
                missing.append((pid, f"{pid}'s {year} row reports no active_users"))
                continue
            months = rows["period"].str.startswith(f"{year}-").sum()
            if months:
                missing.append(
                    (
                        pid,
                        f"{pid} reports only monthly active users for {year} ({months} "
                        "month(s)); annual active users are not derived from monthly figures",
                    )
                )
            else:
                missing.append((pid, f"{pid} reports no platform_metrics for {year}"))
        return _Users(
            value=best[0] if best else None,
            year=year,
            source=best[1] if best else None,
            missing=tuple(missing),
        )

    def entry(self, name: str) -> DatedValue | None:
        """The entry in force at the date, or ``None`` when the parameter is not in force."""
        try:
            return self.law.entry(name, self.at)
        except ParameterLookupError:
            return None


def _with_platforms(group: GroupInfo, platforms: Sequence[str]) -> GroupInfo:
    return GroupInfo(
        entity_id=group.entity_id,
        name=group.name,
        members=group.members,
        chain=group.chain,
        platforms=tuple(platforms),
        ownership_known=group.ownership_known,
    )


# --- grading -------------------------------------------------------------------------


def _grade(
    ctx: _Context,
    *,
    subject: Literal["platform", "group"],
    subject_id: str,
    platform_id: str | None,
    platform_name: str | None,
    operator_id: str | None,
    group: GroupInfo,
    categories: tuple[str, ...],
    group_categories: tuple[str, ...],
    users: _Users,
    eu: EUFigures | None,
) -> GradingResult:
    notes = list(ctx.notes)
    figures = ctx.graph.group_financials(group.entity_id, ctx.prior_year, ctx.at)
    value, value_why = _market_value(ctx, group.entity_id, figures)
    breadth = len(group_categories)
    breadth_what = (
        f"categories of the group's platforms ({', '.join(group.platforms)}): "
        f"{', '.join(group_categories) or 'none'}"
    )
    users_name = f"annual active users in China, {users.year}" + (
        " (largest platform of the group)" if subject == "group" else f" ({platform_id})"
    )
    value_name = f"market value at the end of {ctx.prior_year} (group {group.entity_id})"

    super_test = _combine_test(
        "super",
        "super platform (SAMR draft)",
        (
            _users_criterion(ctx, "users", users_name, users, SUPER_USERS),
            _threshold_criterion(
                ctx,
                "categories",
                "core business categories",
                breadth,
                SUPER_CATEGORIES,
                breadth_what,
            ),
            _threshold_criterion(ctx, "market_value", value_name, value, SUPER_VALUE, value_why),
            _qualitative(
                ctx,
                "restrict_ability",
                "very strong ability to restrict merchants' access to consumers",
            ),
        ),
    )
    large_test = _combine_test(
        "large",
        "large platform (SAMR draft)",
        (
            _users_criterion(ctx, "users", users_name, users, LARGE_USERS),
            _qualitative(ctx, "main_business", "a prominent main business"),
            _threshold_criterion(ctx, "market_value", value_name, value, LARGE_VALUE, value_why),
            _qualitative(
                ctx, "restrict_ability", "strong ability to restrict merchants' access to consumers"
            ),
        ),
    )
    if super_test.status == PASS:
        grade, provisional = "super", False
    elif large_test.status == PASS:
        grade, provisional = "large", super_test.status == NOT_ASSESSED
    elif large_test.status == FAIL:
        grade, provisional = "small_medium", super_test.status == NOT_ASSESSED
    else:
        grade, provisional = "undetermined", False
    if provisional:
        notes.append(
            f"provisional: the {GRADES[grade]} grade holds, but the super-platform test could "
            "not be fully assessed; the super-platform duties may also apply"
        )
    if grade == "undetermined":
        notes.append(
            "the large-platform test could be neither passed nor failed: only the duties of "
            "every platform are listed"
        )
    notes.append(
        "qualitative criteria (ability to restrict merchants' access to consumers, a "
        "prominent main business) are not assessed: the grade rests on the quantitative tests"
    )
    eu_tests = (_dma(ctx, eu), _dsa(ctx, eu))
    obligations = _obligations(ctx, grade, eu_tests, notes)
    return GradingResult(
        subject=subject,
        subject_id=subject_id,
        at=ctx.at,
        prior_year=ctx.prior_year,
        platform_id=platform_id,
        platform_name=platform_name,
        operator_id=operator_id,
        operator_name=ctx.graph.name(operator_id) if operator_id else None,
        group=group,
        categories=categories,
        group_categories=group_categories,
        grade=grade,
        provisional=provisional,
        tests=(super_test, large_test),
        eu_tests=eu_tests,
        obligations=tuple(obligations),
        notes=tuple(notes),
        eu_figures=eu,
    )


def _market_value(ctx: _Context, top: str, figures: Any) -> tuple[float | None, str]:
    year = ctx.prior_year
    if "financials" not in ctx.tables:
        return None, "the lake has no `financials` table"
    if not figures.reported:
        return None, f"neither {top} nor any member of its group reports financials for {year}"
    if figures.market_value_cny is None:
        return (
            None,
            f"the {year} financials of {', '.join(figures.entities)} report no market value",
        )
    if figures.basis == "consolidated":
        return figures.market_value_cny, f"financials of {top}, FY{year} (consolidated)"
    return (
        figures.market_value_cny,
        f"sum over the topmost reporting members {', '.join(figures.entities)}, FY{year} "
        f"({top} itself reports none)",
    )


def _users_criterion(
    ctx: _Context, cid: str, name: str, users: _Users, parameter: str
) -> Criterion:
    entry = ctx.entry(parameter)
    if entry is None:
        return _not_in_force(ctx, cid, name, users.value, "count", parameter)
    threshold = entry.value
    src = f"platform_metrics {users.source}, {users.year}" if users.source else ""
    missing = "; ".join(why for _, why in users.missing)
    if users.value is not None and users.value >= threshold:
        status: Status = PASS
        reason = f"{_fmt(users.value, 'count')} >= {_fmt(threshold, 'count')} ({src})"
    elif users.missing:
        status = NOT_ASSESSED
        reason = missing
        if users.value is not None:
            reason = (
                f"largest reported figure {_fmt(users.value, 'count')} ({src}) is below "
                f"{_fmt(threshold, 'count')}, but {missing}"
            )
    else:
        status = FAIL
        reason = f"{_fmt(users.value, 'count')} < {_fmt(threshold, 'count')} ({src})"
    return _criterion(cid, name, users.value, threshold, "count", status, reason, parameter, entry)


def _threshold_criterion(
    ctx: _Context,
    cid: str,
    name: str,
    figure: float | int | None,
    parameter: str,
    source: str,
) -> Criterion:
    unit = ctx.law.parameter(parameter).unit
    entry = ctx.entry(parameter)
    if entry is None:
        return _not_in_force(ctx, cid, name, figure, unit, parameter)
    threshold = entry.value
    if figure is None:
        status: Status = NOT_ASSESSED
        reason = source
    elif figure >= threshold:
        status = PASS
        reason = f"{_fmt(figure, unit)} >= {_fmt(threshold, unit)} ({source})"
    else:
        status = FAIL
        reason = f"{_fmt(figure, unit)} < {_fmt(threshold, unit)} ({source})"
    return _criterion(cid, name, figure, threshold, unit, status, reason, parameter, entry)


def _qualitative(ctx: _Context, cid: str, name: str) -> Criterion:
    cite = ctx.categories_citation
    return Criterion(
        id=cid,
        name=name,
        figure=None,
        threshold=None,
        unit="text",
        status=NOT_ASSESSED,
        reason=_QUALITATIVE,
        parameter=None,
        citation_key=cite.key,
        citation_label=cite.label(),
        verified=cite.verified,
        qualitative=True,
    )


def _not_in_force(
    ctx: _Context, cid: str, name: str, figure: Any, unit: str, parameter: str
) -> Criterion:
    first = ctx.law.parameter(parameter).values[0].start
    return Criterion(
        id=cid,
        name=name,
        figure=_plain(figure),
        threshold=None,
        unit=unit,
        status=NOT_ASSESSED,
        reason=f"no threshold in force on {ctx.at} ({parameter} applies from {first})",
        parameter=parameter,
        citation_key=None,
        citation_label="",
        verified=False,
    )


def _criterion(
    cid: str,
    name: str,
    figure: Any,
    threshold: Any,
    unit: str,
    status: Status,
    reason: str,
    parameter: str,
    entry: DatedValue,
) -> Criterion:
    return Criterion(
        id=cid,
        name=name,
        figure=_plain(figure),
        threshold=_plain(threshold),
        unit=unit,
        status=status,
        reason=reason,
        parameter=parameter,
        citation_key=entry.citation.key,
        citation_label=entry.citation.label(),
        verified=entry.citation.verified,
    )


def _combine_test(test_id: str, name: str, criteria: tuple[Criterion, ...]) -> TestResult:
    quantitative = [c.status for c in criteria if not c.qualitative]
    return TestResult(
        id=test_id,
        name=name,
        status=_all(quantitative),
        rule="every quantitative criterion is met (qualitative criteria are not assessed)",
        criteria=criteria,
    )


def _all(statuses: Iterable[Status]) -> Status:
    s = list(statuses)
    if FAIL in s:
        return FAIL
    if s and all(x == PASS for x in s):
        return PASS
    return NOT_ASSESSED


def _any(statuses: Iterable[Status]) -> Status:
    s = list(statuses)
    if PASS in s:
        return PASS
    if s and all(x == FAIL for x in s):
        return FAIL
    return NOT_ASSESSED


# --- EU comparators ------------------------------------------------------------------


def _dma(ctx: _Context, eu: EUFigures | None) -> TestResult:
    no_figures = eu is None or eu.is_empty()
    years_entry = ctx.entry(DMA_YEARS)
    n_years = int(years_entry.value) if years_entry is not None else 0
    years = list(range(ctx.prior_year - n_years + 1, ctx.prior_year + 1))
    span = f"FY{years[0]}-{years[-1]}" if years else "the qualifying years"
    figs = eu or EUFigures()

    turnover = _eu_yearly(
        ctx,
        "eu_turnover",
        f"EU turnover in each of {span}",
        figs.turnover_eur,
        years,
        DMA_TURNOVER,
        no_figures,
    )
    cap = _eu_single(
        ctx,
        "avg_market_cap",
        "average market capitalisation, last financial year",
        figs.avg_market_cap_eur,
        DMA_MARKET_CAP,
        no_figures,
    )
    states = _eu_single(
        ctx,
        "member_states",
        "member states where the core platform service is provided",
        figs.member_states,
        DMA_STATES,
        no_figures,
    )
    end_users = _eu_yearly(
        ctx,
        "monthly_active_end_users",
        f"monthly active end users in the EU, each of {span}",
        figs.monthly_active_end_users,
        years,
        DMA_END_USERS,
        no_figures,
    )
    business = _eu_yearly(
        ctx,
        "yearly_active_business_users",
        f"yearly active business users in the EU, each of {span}",
        figs.yearly_active_business_users,
        years,
        DMA_BUSINESS_USERS,
        no_figures,
    )
    size = _any((turnover.status, cap.status))
    status = _all((size, states.status, end_users.status, business.status))
    note = "a presumption: the Commission designates gatekeepers, and the undertaking may rebut it"
    if years_entry is None:
        status, note = NOT_ASSESSED, f"the DMA gatekeeper rules are not in force on {ctx.at}"
    elif no_figures:
        note = f"not assessed: {NO_EU_FIGURES}"
    return TestResult(
        id="dma_gatekeeper",
        name="EU DMA gatekeeper presumption (art. 3(2))",
        status=status,
        rule="(EU turnover or market capitalisation) and member states and end users "
        "and business users",
        criteria=(turnover, cap, states, end_users, business),
        note=note,
    )


def _dsa(ctx: _Context, eu: EUFigures | None) -> TestResult:
    no_figures = eu is None or eu.is_empty()
    recipients = _eu_single(
        ctx,
        "monthly_active_recipients",
        "average monthly active recipients in the EU",
        (eu or EUFigures()).monthly_active_recipients,
        DSA_RECIPIENTS,
        no_figures,
    )
    note = "VLOP duties apply four months after designation by the Commission"
    if no_figures:
        note = f"not assessed: {NO_EU_FIGURES}"
    elif recipients.threshold is None:
        note = f"the DSA VLOP rules are not in force on {ctx.at}"
    return TestResult(
        id="dsa_vlop",
        name="EU DSA very large online platform",
        status=recipients.status,
        rule="average monthly active recipients in the EU at least the threshold",
        criteria=(recipients,),
        note=note,
    )


def _eu_single(
    ctx: _Context,
    cid: str,
    name: str,
    figure: float | int | None,
    parameter: str,
    no_figures: bool,
) -> Criterion:
    why = NO_EU_FIGURES if no_figures else "not reported"
    return _threshold_criterion(ctx, cid, name, figure, parameter, why)


def _eu_yearly(
    ctx: _Context,
    cid: str,
    name: str,
    figures: Mapping[int, float],
    years: Sequence[int],
    parameter: str,
    no_figures: bool,
) -> Criterion:
    unit = ctx.law.parameter(parameter).unit
    entry = ctx.entry(parameter)
    shown = {y: _plain(figures[y]) for y in (years or sorted(figures)) if y in figures}
    if entry is None or not years:
        return _not_in_force(ctx, cid, name, shown or None, unit, parameter)
    threshold = entry.value
    below = [y for y in years if y in figures and figures[y] < threshold]
    absent = [y for y in years if y not in figures]
    if below:
        status: Status = FAIL
        reason = "; ".join(
            f"{y}: {_fmt(figures[y], unit)} < {_fmt(threshold, unit)}" for y in below
        )
    elif absent:
        status = NOT_ASSESSED
        reason = (
            NO_EU_FIGURES if no_figures else f"not reported for {', '.join(str(y) for y in absent)}"
        )
    else:
        status = PASS
        reason = "; ".join(
            f"{y}: {_fmt(figures[y], unit)} >= {_fmt(threshold, unit)}" for y in years
        )
    return _criterion(cid, name, shown or None, threshold, unit, status, reason, parameter, entry)


# --- obligations ---------------------------------------------------------------------


def _obligations(
    ctx: _Context, grade: str, eu_tests: Sequence[TestResult], notes: list[str]
) -> list[Obligation]:
    out: list[Obligation] = []
    if grade == "super":
        out += _super_duties(ctx)
    grades_entry = ctx.entry(PIPL_GRADES)
    pipl_entry = ctx.entry(PIPL_DUTIES)
    if grades_entry is not None and grade in grades_entry.value:
        if pipl_entry is None:
            notes.append(f"PIPL art. 58 is not in force on {ctx.at}")
        else:
            because = (
                f"{GRADES[grade]}: fairwatch treats it as a PIPL art. 58 platform "
                f"({PIPL_GRADES}, {grades_entry.citation.label()})"
            )
            out += _mapping_duties(pipl_entry, PIPL_DUTIES, because, prefix="pipl58")
    all_entry = ctx.entry(ALL_DUTIES)
    if all_entry is not None:
        out += _mapping_duties(
            all_entry,
            ALL_DUTIES,
            "every platform (draft responsibility guidelines, arts. 10-34)",
            prefix="all",
        )
    for test, parameter in zip(eu_tests, (DMA_DUTIES, DSA_DUTIES), strict=True):
        if test.status != PASS:
            continue
        entry = ctx.entry(parameter)
        if entry is None:
            continue
        because = f"{test.name} met (binds after designation by the Commission)"
        out += _article_duties(ctx, entry, parameter, because)
    return out


def _super_duties(ctx: _Context) -> list[Obligation]:
    entry = ctx.entry(SUPER_DUTIES)
    if entry is None:
        return []
    base = entry.citation
    out = []
    for article, duty in enumerate(entry.value, start=1):
        key = f"{base.key}.art{article}" if base.key else None
        cite = ctx.law.citation(key) if key and ctx.law.has_citation(key) else base
        text = cite.summary if cite is not base and cite.summary else duty.replace("_", " ")
        out.append(
            Obligation(
                id=f"super.{duty}",
                text=text,
                applies_because="super platform (draft responsibility guidelines, arts. 1-9)",
                parameter=SUPER_DUTIES,
                citation_key=cite.key,
                citation_label=cite.label(),
                verified=cite.verified and base.verified,
                note=cite.note if cite is not base else base.note,
            )
        )
    return out


def _mapping_duties(
    entry: DatedValue, parameter: str, because: str, *, prefix: str
) -> list[Obligation]:
    cite = entry.citation
    return [
        Obligation(
            id=f"{prefix}.{duty}",
            text=" ".join(str(text).split()),
            applies_because=because,
            parameter=parameter,
            citation_key=cite.key,
            citation_label=cite.label(),
            verified=cite.verified,
            note=cite.note,
        )
        for duty, text in entry.value.items()
    ]


def _article_duties(
    ctx: _Context, entry: DatedValue, parameter: str, because: str
) -> list[Obligation]:
    out = []
    for key in entry.value:
        if not ctx.law.has_citation(key):
            raise DataError(f"{parameter} lists {key!r}, which is not a registered citation key")
        cite = ctx.law.citation(key)
        out.append(
            Obligation(
                id=key.split(".", 1)[1],
                text=cite.summary or cite.label(),
                applies_because=because,
                parameter=parameter,
                citation_key=key,
                citation_label=cite.label(),
                verified=cite.verified,
                note=cite.note,
            )
        )
    return out


# --- small helpers -------------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, Iterable):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _plain(value: Any) -> Any:
    """Numbers as plain ints where integral (JSON- and reader-friendly)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fmt(value: Any, unit: str) -> str:
    value = _plain(value)
    if isinstance(value, float) and unit in ("cny", "eur", "usd", "count"):
        value = round(value)
    return format_value(value, unit)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def grade_lookup(tables: Mapping[str, Any], law: Any) -> Callable[[str, date], str | None] | None:
    """``grade_of(entity_id, day)``: the grade of the group an entity heads, for the
    traffic light's expansion tests (``None`` without platform data, or for a group that
    runs no platform or has no grading rules on that day)."""
    if "platforms" not in tables:
        return None

    def grade_of(entity_id: str, day: date) -> str | None:
        try:
            return grade_group(tables, entity_id, day, law).grade
        except FairwatchError:
            return None

    return grade_of
