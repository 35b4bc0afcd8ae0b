"""Planting module: algorithm filings (``algorithm_filings``, ``algorithm_inventory``).

Family ``algorithm.unfiled`` (subject ``platform`` = ``platform_id``).

Algorithm Recommendation Provisions art. 24: providers with public-opinion attributes or
social-mobilisation capacity file within **10 working days** of starting the service.
Scope assumed here (to become a law-store parameter): every algorithm type run by an
``information`` or ``social_entertainment`` platform, and ``personalized_push``
(recommendation) on ``online_sales`` platforms; other algorithms (dispatch on
life-services platforms, computing, finance) are out of scope.

An in-scope inventory row (platform, algorithm type, ``in_use_from``) is compliant when a
filing of that platform and type has ``status`` ``filed`` (or ``deregistered`` once the
algorithm stopped, ``in_use_to`` set) and ``filed_on`` on or before the 10th working day
after ``in_use_from`` (China's official calendar: weekends, public holidays and the
adjusted working weekends, from the law store's :mod:`fairwatch.law.calendar`).

Planted (strength 0.3-1): no filing at all; only a ``pending`` or ``rejected`` filing
(possibly dated in time); a filing made 20-60 working days after the deadline.
Look-alikes: filings on working day 8-10 after a start just before the Spring Festival
or National Day holidays (15-20 calendar days later); filings deregistered after the
algorithm stopped; a rejected filing followed by a timely accepted one; out-of-scope
algorithms without filing. One service per platform and algorithm type.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from fairwatch.law import calendar
from fairwatch.synth.core import GroundTruth, TableWriter, World

log = logging.getLogger(__name__)

FAMILY = "algorithm.unfiled"
SUBJECT = "platform"
FILING_WORKING_DAYS = 10
IN_FORCE = date(2022, 3, 1)

#: Long holidays (>= 7 consecutive days off) offer the "filed across a holiday" look-alike.
LONG_HOLIDAY_DAYS = 7


def is_working_day(day: date) -> bool:
    """A China working day, from the law store's calendar (:mod:`fairwatch.law.calendar`)."""
    return calendar.is_working_day(day)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``n`` >= 0; 0 = ``day`` itself)."""
    return calendar.add_working_days(day, n)


def long_holidays() -> list[tuple[date, date]]:
    """The long holidays of the calendar: (first day off, last day off), in order."""
    return [
        (h.first, h.last)
        for h in calendar.default_calendar().holidays
        if h.days >= LONG_HOLIDAY_DAYS
    ]


def filing_deadline(in_use_from: date) -> date:
    return add_working_days(in_use_from, FILING_WORKING_DAYS)


_TYPES_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "information": (
        "personalized_push",
        "ranking_selection",
        "search_filtering",
        "generation_synthesis",
    ),
    "social_entertainment": ("personalized_push", "ranking_selection", "generation_synthesis"),
    "online_sales": ("personalized_push", "search_filtering", "ranking_selection"),
    "life_services": ("dispatch_decision", "personalized_push"),
    "financial_services": ("personalized_push",),
    "computing_applications": ("search_filtering", "ranking_selection"),
}
_SERVICES = {
    "personalized_push": ("首页推荐流", "猜你喜欢", "个性化资讯推送", "短视频推荐"),
    "ranking_selection": ("热榜排序", "商品综合排序", "热搜榜单"),
    "search_filtering": ("站内搜索", "内容审核过滤"),
    "generation_synthesis": ("智能创作助手", "AI 客服回复生成", "图片生成"),
    "dispatch_decision": ("骑手智能派单", "网约车派单"),
}


def in_scope(categories: list[str], algorithm_type: str) -> bool:
    """Whether art. 24 filing applies (see the module docstring)."""
    if {"information", "social_entertainment"} & set(categories):
        return True
    return "online_sales" in categories and algorithm_type == "personalized_push"


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``algorithm_inventory`` and ``algorithm_filings``."""
    rng = world.rng_for("algorithms")
    platforms = world.frame("platforms")
    if platforms.empty:
        log.warning("algorithms: no platforms, nothing planted")
        return
    last = world.end - timedelta(days=1)
    inventory: list[dict[str, Any]] = []
    filings: list[dict[str, Any]] = []
    cats = {str(r.platform_id): list(r.categories) for r in platforms.itertuples()}
    scoped = sorted(p for p, c in cats.items() if any(in_scope(c, t) for t in _types(c)))
    out_of_scope = sorted(p for p in cats if p not in scoped)
    order = [scoped[i] for i in rng.permutation(len(scoped))]
    n_viol = max(1, round(rng.uniform(0.3, 0.5) * len(order))) if world.violations else 0
    n_viol = min(n_viol, max(0, len(order) - 1)) if len(order) > 1 else n_viol
    violators = set(order[:n_viol])
    lookalikes = set(order[n_viol:])

    def filing(pid: str, atype: str, service: str, filed_on: date | None, status: str) -> None:
        filings.append(
            {
                "filing_id": "",
                "platform_id": pid,
                "algorithm_name": f"{service}算法",
                "algorithm_type": atype,
                "filed_on": filed_on,
                "status": status,
                "public_summary": f"{service}：基于用户行为与内容特征的{_label(atype)}服务，"
                "提供关闭个性化推荐的选项。",
            }
        )

    def start_day(lo: date, hi: date) -> date:
        return lo + timedelta(days=int(rng.integers(0, max(1, (hi - lo).days))))

    for pid in sorted(cats):
        types = _types(cats[pid])
        role = "v" if pid in violators else "l" if pid in lookalikes else "o"
        tricky_types = [t for t in types if in_scope(cats[pid], t)]
        bad = set()
        if role == "v":
            k = int(rng.integers(1, min(2, len(tricky_types)) + 1))
            bad = set(rng.choice(tricky_types, k, replace=False))
        tricky = set()
        if role == "l":
            k = int(rng.integers(1, len(tricky_types) + 1))
            tricky = set(rng.choice(tricky_types, k, replace=False))
        notes: list[str] = []
        strengths: list[float] = []
        for atype in types:
            service = _SERVICES[atype][int(rng.integers(len(_SERVICES[atype])))]
            scope = in_scope(cats[pid], atype)
            lo, hi = date(2022, 6, 1), last - timedelta(days=150)
            begin = start_day(lo, hi)
            until: date | None = None
            if atype in bad:
                mode = str(rng.choice(["none", "pending", "rejected", "late"]))
                if mode == "none":
                    strengths.append(float(rng.uniform(0.8, 1.0)))
                elif mode in ("pending", "rejected"):
                    when = add_working_days(begin, int(rng.integers(3, 11)))
                    filing(pid, atype, service, when, mode)
                    strengths.append(float(rng.uniform(0.55, 0.85)))
                else:
                    late = int(rng.integers(20, 61))
                    when = add_working_days(filing_deadline(begin), late)
                    filing(pid, atype, service, when, "filed")
                    strengths.append(float(np.clip(0.25 + late / 80, 0.3, 1.0)))
                notes.append(f"{atype}: {mode}")
            elif atype in tricky:
                mode = str(rng.choice(["holiday", "deregistered", "refiled"]))
                if mode == "holiday":
                    begin = _before_holiday(rng, lo, last - timedelta(days=40))
                    when = add_working_days(begin, int(rng.integers(8, 11)))
                    filing(pid, atype, service, when, "filed")
                    notes.append(
                        f"{atype}: filed {(when - begin).days} calendar days after start "
                        "across a holiday, within 10 working days"
                    )
                elif mode == "deregistered":
                    when = add_working_days(begin, int(rng.integers(1, 11)))
                    until = start_day(begin + timedelta(days=60), last - timedelta(days=30))
                    filing(pid, atype, service, when, "deregistered")
                    notes.append(f"{atype}: stopped {until}, filing deregistered")
                else:
                    first = add_working_days(begin, int(rng.integers(1, 4)))
                    filing(pid, atype, service, first, "rejected")
                    when = add_working_days(begin, int(rng.integers(6, 11)))
                    filing(pid, atype, service, when, "filed")
                    notes.append(f"{atype}: rejected, then filed within 10 working days")
            elif scope or rng.random() < 0.5:
                when = add_working_days(begin, int(rng.integers(0, 11)))
                if rng.random() < 0.2:
                    when = begin - timedelta(days=int(rng.integers(5, 60)))  # filed before launch
                filing(pid, atype, service, when, "filed")
            inventory.append(
                {
                    "platform_id": pid,
                    "service": service,
                    "algorithm_type": atype,
                    "in_use_from": begin,
                    "in_use_to": until,
                }
            )
        if role == "v":
            truth.add(
                FAMILY,
                SUBJECT,
                pid,
                platform_id=pid,
                strength=max(strengths),
                note="; ".join(notes),
            )
        elif role == "l" and notes:
            truth.lookalike(FAMILY, SUBJECT, pid, platform_id=pid, note="; ".join(notes))
    for pid in out_of_scope:
        unfiled = [
            r
            for r in inventory
            if r["platform_id"] == pid
            and not any(
                f["platform_id"] == pid and f["algorithm_type"] == r["algorithm_type"]
                for f in filings
            )
        ]
        if unfiled:
            truth.lookalike(
                FAMILY,
                SUBJECT,
                pid,
                platform_id=pid,
                note="out of scope (no public-opinion attributes): "
                + ", ".join(r["algorithm_type"] for r in unfiled)
                + " not filed",
            )
    frame = pd.DataFrame(filings)
    if not frame.empty:
        frame = frame.sort_values(["filed_on", "platform_id"], kind="stable", na_position="last")
        frame["filing_id"] = [
            f"ALG-{d.year if d else 0}-{i + 1:05d}" for i, d in enumerate(frame["filed_on"])
        ]
    out.write("algorithm_filings", frame.reset_index(drop=True))
    out.write("algorithm_inventory", pd.DataFrame(inventory))
    log.info(
        "algorithms: %d inventory rows, %d filings, %d violating platforms",
        len(inventory),
        len(filings),
        len(violators),
    )


def _types(categories: list[str]) -> list[str]:
    seen: list[str] = []
    for c in categories:
        for t in _TYPES_BY_CATEGORY.get(c, ()):
            if t not in seen:
                seen.append(t)
    return seen


def _label(atype: str) -> str:
    return {
        "personalized_push": "个性化推送",
        "ranking_selection": "排序精选",
        "search_filtering": "检索过滤",
        "generation_synthesis": "生成合成",
        "dispatch_decision": "调度决策",
    }[atype]


def _before_holiday(rng: np.random.Generator, lo: date, hi: date) -> date:
    """A working day 1-4 working days before a long holiday within ``[lo, hi]``."""
    options = [h for h in long_holidays() if lo < h[0] - timedelta(days=10) and h[1] < hi]
    if not options:
        return lo
    first_off, _ = options[int(rng.integers(len(options)))]
    day = first_off - timedelta(days=1)
    back = int(rng.integers(1, 5))
    while back > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            back -= 1
    return day
