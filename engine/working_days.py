"""The company calendar: service levels (R1–R4, R8, R19) count working days and hours.

Official holidays and the adjusted working weekends come from ``chinesecalendar`` (the State
Council schedule); an admin adds company-specific closed days. For years the library does not
know yet, Monday to Friday are working days — ``covers(year)`` tells, so the API can warn.

Counting rule: a deadline "N working days after T" is the same time of day N working days
later; a T outside working time first moves to the start of the next working period. Working
hours count only the time between ``day_start`` and ``day_end`` on working days.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


class WorkingCalendar:
    def __init__(self, closed_days: Iterable[date] = (), *, tz: ZoneInfo = SHANGHAI,
                 day_start: time = time(9, 0), day_end: time = time(18, 0)):
        self.closed_days = frozenset(closed_days)
        self.tz = tz
        self.day_start = day_start
        self.day_end = day_end

    @staticmethod
    def covers(year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: date) -> bool:
        if day in self.closed_days:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _into_working_time(self, local: datetime) -> datetime:
        """The first working moment at or after ``local``."""
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.day_start:
                return datetime.combine(day, self.day_start, self.tz)
            if local.time() < self.day_end:
                return local
        return datetime.combine(self._next_working_day(day), self.day_start, self.tz)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        local = self._into_working_time(start.astimezone(self.tz))
        day = local.date()
        for _ in range(days):
            day = self._next_working_day(day)
        return datetime.combine(day, local.timetz()).astimezone(UTC)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        local = self._into_working_time(start.astimezone(self.tz))
        while True:
            end_of_day = datetime.combine(local.date(), self.day_end, self.tz)
            if local + remaining <= end_of_day:
                return (local + remaining).astimezone(UTC)
            remaining -= end_of_day - local
            local = datetime.combine(self._next_working_day(local.date()), self.day_start, self.tz)

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
