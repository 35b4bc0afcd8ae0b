"""The working-day calendar: holiday data per year, working-day arithmetic, strict loading."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairwatch.errors import DefinitionError, ParameterLookupError
from fairwatch.law import calendar
from fairwatch.law.calendar import WorkingCalendar, load_calendar

CAL = calendar.default_calendar()
FIRST, LAST = date(2019, 1, 1), date(2026, 12, 31)
days_in_range = st.dates(min_value=FIRST, max_value=LAST)


# --- the data: known days of several years -------------------------------------------------

# (day, working?) typed from the State Council General Office notices, independently of the
# data files: public holidays on weekdays, make-up weekend days worked, ordinary days.
KNOWN = [
    # 2019: Labour Day extended by the March notice (1-4 May, 28 April and 5 May worked)
    (date(2019, 2, 2), True),  # Saturday before the Spring Festival
    (date(2019, 2, 8), False),
    (date(2019, 4, 28), True),
    (date(2019, 5, 2), False),
    (date(2019, 5, 3), False),
    (date(2019, 5, 5), True),
    (date(2019, 10, 12), True),
    # 2020: Spring Festival extended to 2 February; Saturday 1 February no longer worked
    (date(2020, 1, 19), True),
    (date(2020, 1, 31), False),
    (date(2020, 2, 1), False),
    (date(2020, 2, 3), True),
    (date(2020, 6, 28), True),
    (date(2020, 10, 8), False),
    # 2021
    (date(2021, 2, 20), True),
    (date(2021, 9, 18), True),
    (date(2021, 9, 20), False),
    # 2022
    (date(2022, 1, 30), True),
    (date(2022, 4, 2), True),
    (date(2022, 9, 12), False),
    (date(2022, 10, 9), True),
    # 2023: New Year's holiday begins on 31 December 2022
    (date(2023, 1, 2), False),
    (date(2023, 6, 23), False),
    (date(2023, 6, 25), True),
    (date(2023, 9, 29), False),
    (date(2023, 10, 8), True),
    # 2024
    (date(2024, 2, 4), True),
    (date(2024, 2, 18), True),
    (date(2024, 4, 5), False),
    (date(2024, 5, 11), True),
    (date(2024, 10, 7), False),
    (date(2024, 10, 12), True),
    # 2025
    (date(2025, 1, 26), True),
    (date(2025, 1, 28), False),
    (date(2025, 2, 4), False),
    (date(2025, 2, 8), True),
    (date(2025, 4, 27), True),
    (date(2025, 6, 2), False),
    (date(2025, 10, 8), False),
    (date(2025, 10, 11), True),
    # 2026
    (date(2026, 1, 2), False),
    (date(2026, 1, 4), True),
    (date(2026, 2, 23), False),
    (date(2026, 2, 28), True),
    (date(2026, 5, 9), True),
    (date(2026, 9, 25), False),
    (date(2026, 10, 10), True),
]


@pytest.mark.parametrize(("day", "working"), KNOWN, ids=[d.isoformat() for d, _ in KNOWN])
def test_known_days(day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_ordinary_weekdays_and_weekends() -> None:
    assert calendar.is_working_day(date(2024, 3, 13))  # a Wednesday
    assert not calendar.is_working_day(date(2024, 3, 16))  # a Saturday
    assert not calendar.is_working_day(date(2024, 3, 17))  # a Sunday


def test_holiday_periods_and_citations() -> None:
    spring = {h.year: h for h in CAL.holidays if h.name == "spring_festival"}
    assert (spring[2024].first, spring[2024].last, spring[2024].days) == (
        date(2024, 2, 10),
        date(2024, 2, 17),
        8,
    )
    assert spring[2026].days == 9
    assert CAL.holiday_of(date(2025, 1, 26)) == spring[2025]  # a make-up day belongs to it
    for h in CAL.holidays:
        assert h.notices, h
        for notice in h.notices:
            assert "国务院办公厅" in notice.title and notice.published_on.year in (
                h.year - 1,
                h.year,
            )
    labour_2019 = next(h for h in CAL.holidays_in(2019) if h.name == "labour_day")
    assert [n.published_on for n in labour_2019.notices] == [date(2018, 12, 6), date(2019, 3, 22)]
    assert CAL.years == tuple(range(2019, 2027))


def test_each_year_has_the_seven_festivals() -> None:
    for year in CAL.years:
        names = " ".join(h.name for h in CAL.holidays_in(year))
        for festival in (
            "new_year",
            "spring_festival",
            "qingming",
            "labour_day",
            "dragon_boat",
            "mid_autumn",
            "national_day",
        ):
            assert festival in names, (year, festival)


def test_working_days_per_year_are_plausible() -> None:
    # the year's days minus weekends and 11 (13 from 2025) statutory holidays: about 250
    for year in CAL.years:
        first, last = date(year, 1, 1), date(year, 12, 31)
        n = sum(
            calendar.is_working_day(first + timedelta(days=i))
            for i in range((last - first).days + 1)
        )
        assert 246 <= n <= 251, (year, n)


# --- arithmetic ------------------------------------------------------------------------------


def test_add_working_days_examples() -> None:
    # ten working days after Friday 24 January 2025: 26 (Sunday, worked), 27, then after
    # the Spring Festival 5, 6, 7, 8 (Saturday, worked), 10, 11, 12, 13 February
    assert calendar.add_working_days(date(2025, 1, 24), 10) == date(2025, 2, 13)
    assert calendar.add_working_days(date(2025, 1, 24), 0) == date(2025, 1, 24)
    assert calendar.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert calendar.add_working_days(date(2025, 2, 5), -1) == date(2025, 1, 27)
    # a start on a holiday counts from the next working day
    assert calendar.add_working_days(date(2024, 10, 1), 1) == date(2024, 10, 8)
    assert calendar.working_days_between(date(2025, 1, 24), date(2025, 2, 13)) == 10
    assert calendar.working_days_between(date(2025, 2, 13), date(2025, 1, 24)) == -10
    assert calendar.working_days_between(date(2025, 1, 28), date(2025, 2, 4)) == 0


def test_outside_the_data_raises() -> None:
    for day in (date(2018, 12, 31), date(2027, 1, 1)):
        with pytest.raises(ParameterLookupError, match=str(day.year)):
            calendar.is_working_day(day)
    with pytest.raises(ParameterLookupError, match="2027"):
        calendar.add_working_days(date(2026, 12, 30), 5)
    with pytest.raises(ParameterLookupError, match="2018"):
        calendar.add_working_days(date(2019, 1, 3), -3)
    with pytest.raises(ParameterLookupError):
        calendar.working_days_between(date(2026, 6, 1), date(2027, 6, 1))
    # the last covered days still work
    assert calendar.add_working_days(date(2026, 12, 30), 1) == date(2026, 12, 31)


@given(days_in_range, st.integers(min_value=-40, max_value=40))
def test_add_then_count_is_the_identity(day: date, n: int) -> None:
    try:
        target = calendar.add_working_days(day, n)
    except ParameterLookupError:
        return  # ran past the covered years
    # counting is F(target) - F(day) with F the number of working days up to a day, so
    # going back from a day off lands one short of it
    if n >= 0 or calendar.is_working_day(day):
        assert calendar.working_days_between(day, target) == n
    if n != 0:
        assert calendar.is_working_day(target)
        assert (target > day) == (n > 0)


@given(days_in_range, days_in_range)
def test_count_matches_a_day_by_day_walk(a: date, b: date) -> None:
    lo, hi = min(a, b), max(a, b)
    if (hi - lo).days > 120:
        hi = lo + timedelta(days=120)
    walked = sum(
        calendar.is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1)
    )
    assert calendar.working_days_between(lo, hi) == walked


@given(days_in_range, days_in_range, days_in_range)
def test_counts_add_up(a: date, b: date, c: date) -> None:
    assert calendar.working_days_between(a, b) + calendar.working_days_between(
        b, c
    ) == calendar.working_days_between(a, c)


@given(days_in_range)
def test_weekdays_outside_holidays_are_working_days(day: date) -> None:
    if CAL.holiday_of(day) is None:
        assert calendar.is_working_day(day) == (day.weekday() < 5)
    if CAL.is_holiday(day):
        assert not calendar.is_working_day(day)


@given(days_in_range, st.integers(min_value=1, max_value=30))
def test_deadline_is_monotone(day: date, n: int) -> None:
    try:
        a = calendar.add_working_days(day, n)
        b = calendar.add_working_days(day + timedelta(days=1), n)
        c = calendar.add_working_days(day, n + 1)
    except ParameterLookupError:
        return
    assert a <= b and a < c
    assert (a - day).days >= n  # never fewer calendar days than working days


# --- strict loading --------------------------------------------------------------------------

GOOD = """\
year: {year}
reviewed_on: 2026-11-24
notices:
  main:
    title: 国务院办公厅关于{year}年部分节假日安排的通知
    issuer: General Office of the State Council
    published_on: {prev}-11-20
    verified: true
holidays:
  - name: national_day
    name_zh: 国庆节
    days_off: [{year}-10-01, {year}-10-07]
    working_days: [{working}]
    notices: [main]
    verified: true
"""


def _write(folder: Path, year: int, text: str | None = None, working: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = text if text is not None else GOOD.format(year=year, prev=year - 1, working=working)
    (folder / f"{year}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")


def test_loads_a_small_calendar(tmp_path: Path) -> None:
    _write(tmp_path, 2030, working="2030-09-29")  # a Sunday
    _write(tmp_path, 2031, working="2031-10-11")  # a Saturday
    cal = load_calendar(tmp_path)
    assert isinstance(cal, WorkingCalendar) and cal.years == (2030, 2031)
    assert cal.is_working_day(date(2030, 9, 29)) and not cal.is_working_day(date(2030, 10, 2))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("verified: true\nholidays", "verified: maybe\nholidays"), "bool"),
        (lambda t: t.replace("reviewed_on: 2026-11-24", "reviewed_on: '2026-11-24'"), "date"),
        (lambda t: t.replace("name_zh: 国庆节", "name_zh: 国庆节\n    colour: red"), "colour"),
        (lambda t: t.replace("notices: [main]", "notices: [other]"), "unknown notice"),
        (lambda t: t.replace("[2030-10-01, 2030-10-07]", "[2030-10-07, 2030-10-01]"), "before"),
        (lambda t: t.replace("working_days: []", "working_days: [2030-10-08]"), "weekday"),
        (lambda t: t.replace("working_days: []", "working_days: [2030-10-05]"), "both"),
        (lambda t: t.replace("working_days: []", "working_days: [2028-06-03]"), "outside"),
        (lambda t: t.replace("year: 2030", "year: 2031"), "named"),
        (lambda t: t.replace("2029-11-20", "2030-11-20"), "published after"),
    ],
)
def test_broken_files_are_definition_errors(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    text = mutate(GOOD.format(year=2030, prev=2029, working=""))
    _write(tmp_path, 2030, text)
    with pytest.raises(DefinitionError, match=message) as info:
        load_calendar(tmp_path)
    assert "2030.yaml" in str(info.value)


def test_gaps_and_overlaps_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "gap", 2030)
    _write(tmp_path / "gap", 2032)
    with pytest.raises(DefinitionError, match="consecutive"):
        load_calendar(tmp_path / "gap")
    _write(tmp_path / "dup", 2030)
    twice = GOOD.format(year=2030, prev=2029, working="").replace(
        "holidays:\n",
        "holidays:\n  - name: golden_week\n    name_zh: 黄金周\n"
        "    days_off: [2030-10-05, 2030-10-06]\n    working_days: []\n"
        "    notices: [main]\n    verified: true\n",
    )
    _write(tmp_path / "dup", 2030, twice)
    with pytest.raises(DefinitionError, match="already given"):
        load_calendar(tmp_path / "dup")
    with pytest.raises(DefinitionError, match="no calendar files"):
        load_calendar(tmp_path / "empty")
