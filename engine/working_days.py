"""The working calendar: service levels (R1–R4, R8, R19) count working days and hours.

Which days are worked, strongest first:

1. the company's own days — a closed day (stocktaking) or an extra working day (a working Saturday);
2. an imported official schedule, for a year an admin imported (it replaces the library's year);
3. China's official schedule from ``engine/official_calendar.py`` — published, or estimated by rule;
4. Monday to Friday.

Counting rule: "N working days after T" is the same time of day N working days later; a T outside
working time first moves to the start of the next working period. Working hours count only the
time inside the working periods (e.g. 08:30–12:00 and 13:30–17:30) of working days.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import official_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SEARCH_LIMIT = 3660  # days: a calendar without a working day in ten years is a data error


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of a working day, in the calendar's time zone."""

    periods: tuple[tuple[time, time], ...] = ((time(9, 0), time(18, 0)),)

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """``"08:30-12:00,13:30-17:30"``: ascending, non-overlapping periods within one day."""
        periods: list[tuple[time, time]] = []
        for part in (text or "").split(","):
            match = _PERIOD.match(part)
            if not match:
                raise ValueError(f"working hours '{text}': '{part.strip()}' is not HH:MM-HH:MM")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
                raise ValueError(f"working hours '{text}': '{part.strip()}' is not a time of day")
            start, end = time(h1, m1), time(h2, m2)
            if end <= start or (periods and start < periods[-1][1]):
                raise ValueError(f"working hours '{text}': periods must ascend and not overlap")
            periods.append((start, end))
        return cls(tuple(periods))

    def __str__(self) -> str:
        return ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.periods)

    @property
    def per_day(self) -> timedelta:
        return sum((datetime.combine(date.min, b) - datetime.combine(date.min, a) for a, b in self.periods),
                   timedelta())


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time zone '{name}' is unknown (e.g. Asia/Shanghai)") from None


class Day(NamedTuple):
    working: bool
    source: str  # company|imported|official|estimated|weekday
    name: str


class WorkingCalendar:
    def __init__(self, closed_days: Iterable[date] = (), *, working_days: Iterable[date] = (),
                 imported: Mapping[date, tuple[bool, str]] | None = None, imported_years: Iterable[int] = (),
                 tz: ZoneInfo = SHANGHAI, hours: WorkingHours | None = None,
                 company_reasons: Mapping[date, str] | None = None):
        self.company: dict[date, bool] = {d: False for d in closed_days} | {d: True for d in working_days}
        self.company_reasons = dict(company_reasons or {})
        self.imported = dict(imported or {})
        self.imported_years = frozenset(imported_years)
        self.tz = tz
        self.hours = hours or WorkingHours()

    @property
    def closed_days(self) -> frozenset[date]:
        return frozenset(d for d, working in self.company.items() if not working)

    @property
    def day_start(self) -> time:
        return self.hours.periods[0][0]

    @property
    def day_end(self) -> time:
        return self.hours.periods[-1][1]

    # --- which days are worked ------------------------------------------------------------

    def coverage(self, year: int) -> str:
        """``imported``, ``official``, ``estimated`` or ``unknown``: what the year's days rest on."""
        return "imported" if year in self.imported_years else official_calendar.coverage(year)

    def covers(self, year: int) -> bool:
        """Whether the year's holidays and working weekends are the published ones."""
        return self.coverage(year) in ("imported", "official")

    def day(self, day: date) -> Day:
        if day in self.company:
            return Day(self.company[day], "company", self.company_reasons.get(day, ""))
        if day in self.imported:
            working, name = self.imported[day]
            return Day(working, "imported", name)
        if day.year in self.imported_years:
            return Day(day.weekday() < 5, "imported", "")
        year = official_calendar.official_year(day.year)
        if year.coverage != "unknown":
            name = year.working_weekends.get(day) or year.days_off.get(day, "")
            return Day(year.is_working_day(day), year.coverage, name)
        return Day(day.weekday() < 5, "weekday", "")

    def is_working_day(self, day: date) -> bool:
        return self.day(day).working

    def _next_working_day(self, day: date) -> date:
        for _ in range(_SEARCH_LIMIT):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within ten years after {day}: check the calendar")

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        return [(datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)) for a, b in self.hours.periods]

    def _into_working_time(self, local: datetime) -> datetime:
        """The first working moment at or after ``local``."""
        if self.is_working_day(local.date()):
            for start, end in self._periods(local.date()):
                if local < start:
                    return start
                if local < end:
                    return local
        return self._periods(self._next_working_day(local.date()))[0][0]

    # --- counting ---------------------------------------------------------------------------

    def add_working_days(self, start: datetime, days: int) -> datetime:
        local = self._into_working_time(start.astimezone(self.tz))
        day = local.date()
        for _ in range(days):
            day = self._next_working_day(day)
        return datetime.combine(day, local.time(), self.tz).astimezone(UTC)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        local = self._into_working_time(start.astimezone(self.tz))
        while True:
            for period_start, period_end in self._periods(local.date()):
                if period_end <= local:
                    continue
                moment = max(local, period_start)
                if moment + remaining <= period_end:
                    return (moment + remaining).astimezone(UTC)
                remaining -= period_end - moment
            local = self._periods(self._next_working_day(local.date()))[0][0]

    def add_months(self, start: datetime, months: int) -> datetime:
        """Same day ``months`` later (the month's last day if shorter), moved into working time."""
        local = start.astimezone(self.tz)
        month0 = local.month - 1 + months
        year, month = local.year + month0 // 12, month0 % 12 + 1
        day = min(local.day, calendar.monthrange(year, month)[1])
        return self._into_working_time(local.replace(year=year, month=month, day=day)).astimezone(UTC)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Whole working days from ``start`` to ``end`` (for reports and overdue marks)."""
        a, b = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        count = 0
        while a < b:
            a += timedelta(days=1)
            count += self.is_working_day(a)
        return count

    def moment(self, value: object) -> datetime:
        """A date or date-time from a variable; a bare date means the start of that working day."""
        text = str(value)
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), self.day_start, self.tz)
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz)


# The calendar functions a diagram may call, by name: one table for evaluating a due date or timer
# and for recomputing it when the calendar changes (``engine/due_dates.py``).
RULES: dict[str, Callable[..., datetime]] = {
    "working_days": lambda cal, base, n: cal.add_working_days(base, int(n)),
    "working_hours": lambda cal, base, n: cal.add_working_hours(base, float(n)),
    "add_months": lambda cal, base, when, n: cal.add_months(cal.moment(when), int(n)),
    # counted from a moment the case recorded (a question asked, a fault reported: R1, R8), not from now
    "working_hours_from": lambda cal, base, when, n: cal.add_working_hours(cal.moment(when), float(n)),
    "working_days_from": lambda cal, base, when, n: cal.add_working_days(cal.moment(when), int(n)),
}
