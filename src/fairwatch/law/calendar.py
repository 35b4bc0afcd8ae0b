"""China's official working-day calendar, as cited data.

Deadlines "in working days" (the algorithm filing deadline, procedural time limits)
count the days the State Council's holiday arrangements leave as working days: Monday
to Friday, minus the public holidays, plus the weekend days worked in exchange
(make-up working days, 调休). The arrangement changes every year, so it is data: one
file per year in ``packs/cn/_calendar/<year>.yaml``, each holiday citing the notice of
the General Office of the State Council that arranged it (title, issuer, publication
date, URL, ``verified``). The folder starts with ``_`` so the parameter loader skips it;
this module loads it with its own strict loader (unknown keys, bad or quoted dates,
make-up days that are not weekend days, overlapping holidays, notices that do not exist
or a gap between years are :class:`~fairwatch.errors.DefinitionError` naming the file
and line).

A day is a China local calendar day (``datetime.date``). Asking about a day whose year
the data does not cover raises :class:`~fairwatch.errors.ParameterLookupError`: the
calendar never guesses.

>>> from datetime import date
>>> is_working_day(date(2025, 1, 26))  # a Sunday worked before the Spring Festival
True
>>> add_working_days(date(2025, 1, 24), 10)
datetime.date(2025, 2, 13)
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from fairwatch.errors import DefinitionError, ParameterLookupError
from fairwatch.law.schema import YamlDate
from fairwatch.law.yamlpos import LineMap, read_yaml

#: Where the shipped calendar lives.
CALENDAR_DIR = Path(__file__).parent / "packs" / "cn" / "_calendar"

_SATURDAY = 5


# --- file schema ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoticeEntry(_Strict):
    """The State Council General Office notice that arranged (part of) a year's holidays."""

    title: StrictStr
    title_en: StrictStr | None = None
    issuer: StrictStr
    published_on: YamlDate
    url: StrictStr | None = None
    verified: StrictBool
    note: StrictStr | None = None


class HolidayEntry(_Strict):
    """One holiday: the days off (first and last, inclusive) and the weekend days worked."""

    name: StrictStr = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: StrictStr
    days_off: list[YamlDate] = Field(min_length=2, max_length=2)
    working_days: list[YamlDate]
    notices: list[StrictStr] = Field(min_length=1)
    verified: StrictBool
    note: StrictStr | None = None


class CalendarFile(_Strict):
    """One year's file."""

    year: StrictInt
    reviewed_on: YamlDate
    notices: dict[StrictStr, NoticeEntry] = Field(min_length=1)
    holidays: list[HolidayEntry] = Field(min_length=1)


# --- resolved model --------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A holiday-arrangement notice, as cited by a :class:`Holiday`."""

    title: str
    issuer: str
    published_on: dt.date
    verified: bool
    title_en: str | None = None
    url: str | None = None
    note: str | None = None

    def label(self) -> str:
        return f"{self.title} ({self.issuer}, {self.published_on.isoformat()})"


@dataclass(frozen=True)
class Holiday:
    """A public holiday of one year's arrangement (``first``..``last`` are days off)."""

    year: int
    name: str
    name_zh: str
    first: dt.date
    last: dt.date
    working_days: tuple[dt.date, ...]
    notices: tuple[Notice, ...]
    verified: bool
    note: str | None = None

    @property
    def days(self) -> int:
        """Consecutive days off, weekends included."""
        return (self.last - self.first).days + 1

    def days_off(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]


class WorkingCalendar:
    """Working days of the covered years (see the module docstring)."""

    def __init__(self, holidays: Iterable[Holiday], years: Sequence[int], source: str) -> None:
        self.holidays = tuple(sorted(holidays, key=lambda h: h.first))
        self.years = tuple(sorted(years))
        self.source = source
        self._off = frozenset(d for h in self.holidays for d in h.days_off())
        self._worked = frozenset(d for h in self.holidays for d in h.working_days)
        # every working day of the covered years, sorted, for counting by bisection
        first, last = dt.date(self.years[0], 1, 1), dt.date(self.years[-1], 12, 31)
        days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        self._working = [d for d in days if self._is_working(d)]

    def __repr__(self) -> str:
        return f"WorkingCalendar(years={self.years[0]}..{self.years[-1]}, source={self.source!r})"

    # -- lookups ---------------------------------------------------------------------------

    def covers(self, day: dt.date) -> bool:
        """Whether the data covers ``day``'s year."""
        return self.years[0] <= day.year <= self.years[-1]

    def _check(self, day: dt.date) -> None:
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise TypeError(f"expected a date, got {type(day).__name__}")
        if not self.covers(day):
            raise ParameterLookupError(
                f"the working-day calendar has no data for {day.year} (it covers "
                f"{self.years[0]}-{self.years[-1]}: {self.source}); add that year's "
                "holiday arrangement to ask about "
                f"{day.isoformat()}"
            )

    def _is_working(self, day: dt.date) -> bool:
        if day in self._worked:
            return True
        return day.weekday() < _SATURDAY and day not in self._off

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day in China."""
        self._check(day)
        return self._is_working(day)

    def is_holiday(self, day: dt.date) -> bool:
        """Whether ``day`` is a day off of a public holiday (weekends around it included)."""
        self._check(day)
        return day in self._off

    def holiday_of(self, day: dt.date) -> Holiday | None:
        """The holiday ``day`` is a day off of, or a make-up working day for."""
        self._check(day)
        for h in self.holidays:
            if h.first <= day <= h.last or day in h.working_days:
                return h
        return None

    def holidays_in(self, year: int) -> list[Holiday]:
        """The holidays of ``year``'s arrangement."""
        self._check(dt.date(year, 1, 1))
        return [h for h in self.holidays if h.year == year]

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (``n`` < 0: before it; 0: ``day`` itself).

        ``day`` itself need not be a working day: the count starts on the next day, so a
        deadline of 10 working days after a Friday start ends on the 10th working day
        after that Friday.
        """
        self._check(day)
        if n == 0:
            return day
        if n > 0:
            index = bisect_right(self._working, day) + n - 1
            if index >= len(self._working):
                self._check(dt.date(self.years[-1] + 1, 1, 1))
        else:
            index = bisect_left(self._working, day) + n
            if index < 0:
                self._check(dt.date(self.years[0] - 1, 12, 31))
        return self._working[index]

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if earlier).

        It is ``F(end) - F(start)`` with ``F(d)`` the working days up to ``d``, so counts
        add up (``(a, b) + (b, c) == (a, c)``) and it inverts :meth:`add_working_days`:
        ``working_days_between(d, add_working_days(d, n)) == n`` for ``n >= 0`` (and for
        ``n < 0`` when ``d`` is a working day).
        """
        self._check(start)
        self._check(end)
        if end < start:
            return -self.working_days_between(end, start)
        return bisect_right(self._working, end) - bisect_right(self._working, start)


# --- loading ----------------------------------------------------------------------------------


def load_calendar(folder: Path | None = None) -> WorkingCalendar:
    """Load and check every ``<year>.yaml`` in ``folder`` (default: the shipped calendar)."""
    base = Path(folder) if folder is not None else CALENDAR_DIR
    files = sorted(base.glob("*.yaml"))
    if not files:
        raise DefinitionError("no calendar files (<year>.yaml)", str(base))
    holidays: list[Holiday] = []
    years: list[int] = []
    seen: dict[dt.date, str] = {}
    for path in files:
        for holiday, where in _load_year(path):
            for day in (*holiday.days_off(), *holiday.working_days):
                if day in seen:
                    raise DefinitionError(
                        f"{day.isoformat()} is already given by {seen[day]}", where
                    )
                seen[day] = f"{path.name} ({holiday.name})"
            holidays.append(holiday)
        years.append(int(path.stem))
    for a, b in itertools.pairwise(years):
        if b != a + 1:
            raise DefinitionError(f"years {a} and {b} are not consecutive: add {a + 1}", str(base))
    return WorkingCalendar(holidays, years, str(base))


def _load_year(path: Path) -> list[tuple[Holiday, str]]:
    data, lines = read_yaml(path)
    model = _validate(data, lines)
    year = model.year
    if path.stem != str(year):
        raise DefinitionError(
            f"file is named {path.name} but holds year {year}", lines.where(data, ("year",))
        )
    notices = {
        key: Notice(
            title=n.title,
            issuer=n.issuer,
            published_on=n.published_on,
            verified=n.verified,
            title_en=n.title_en,
            url=n.url,
            note=n.note,
        )
        for key, n in model.notices.items()
    }
    lo, hi = dt.date(year - 1, 12, 1), dt.date(year, 12, 31)
    out: list[tuple[Holiday, str]] = []
    names: set[str] = set()
    for index, entry in enumerate(model.holidays):
        where = lines.where(data, ("holidays", index))
        first, last = entry.days_off
        if entry.name in names:
            raise DefinitionError(f"holiday {entry.name!r} appears twice", where)
        names.add(entry.name)
        if last < first:
            raise DefinitionError(
                f"days_off ends ({last.isoformat()}) before it starts ({first.isoformat()})",
                lines.where(data, ("holidays", index, "days_off")),
            )
        for day in (first, last, *entry.working_days):
            if not lo <= day <= hi:
                raise DefinitionError(
                    f"{day.isoformat()} is outside the {year} arrangement "
                    f"({lo.isoformat()}..{hi.isoformat()})",
                    where,
                )
        for j, day in enumerate(entry.working_days):
            at = lines.where(data, ("holidays", index, "working_days", j))
            if day.weekday() < _SATURDAY:
                raise DefinitionError(
                    f"make-up working day {day.isoformat()} is a weekday, not a weekend day", at
                )
            if first <= day <= last:
                raise DefinitionError(f"{day.isoformat()} is both a day off and worked", at)
        cited = []
        for j, key in enumerate(entry.notices):
            if key not in notices:
                raise DefinitionError(
                    f"unknown notice {key!r}; this file's notices: {', '.join(sorted(notices))}",
                    lines.where(data, ("holidays", index, "notices", j)),
                )
            if notices[key].published_on > last:
                raise DefinitionError(
                    f"notice {key!r} is published after the holiday it arranges", where
                )
            cited.append(notices[key])
        out.append(
            (
                Holiday(
                    year=year,
                    name=entry.name,
                    name_zh=entry.name_zh,
                    first=first,
                    last=last,
                    working_days=tuple(sorted(entry.working_days)),
                    notices=tuple(cited),
                    verified=entry.verified,
                    note=entry.note,
                ),
                where,
            )
        )
    return out


def _validate(data: Any, lines: LineMap) -> CalendarFile:
    if not isinstance(data, dict):
        raise DefinitionError("expected a mapping at the top of the file", f"{lines.source}:1")
    try:
        return CalendarFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"]
        what = (
            f"unknown key `{loc[-1]}`"
            if error["type"] == "extra_forbidden"
            else f"{'.'.join(str(p) for p in loc) or '(top)'}: {error['msg']}"
        )
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise DefinitionError(what + more, lines.where(data, loc)) from None


# --- the shipped calendar ------------------------------------------------------------------------


@cache
def default_calendar() -> WorkingCalendar:
    """The shipped calendar (``packs/cn/_calendar``), loaded once per process."""
    return load_calendar()


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day in China (shipped calendar)."""
    return default_calendar().is_working_day(day)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` (shipped calendar; see
    :meth:`WorkingCalendar.add_working_days`)."""
    return default_calendar().add_working_days(day, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (shipped calendar)."""
    return default_calendar().working_days_between(start, end)
