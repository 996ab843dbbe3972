"""China's official holiday schedule as far as a maintained library knows it.

The source is the ``holidays`` package (monthly releases): its ``China`` calendar carries the
State Council's published schedules — days off and the adjusted working weekends (调休上班) — and
computes the statutory holidays by rule for other years. So each year is one of

- ``official``  — the published schedule is in the library (days off and working weekends);
- ``estimated`` — the library knows the statutory holidays by rule only: lunar dates right, but
  no adjusted working weekends and its own guess at the bridge days;
- ``unknown``   — nothing is known; plain Monday to Friday.

An admin may import a year's published schedule (``engine/calendar_import.py``) where the library
is behind; an imported year then replaces the library for that year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

import holidays
from holidays.countries.china import China, ChinaStaticHolidays

Coverage = Literal["official", "estimated", "unknown"]

_OFFICIAL_YEARS = range(min(ChinaStaticHolidays.special_public_holidays),
                        max(ChinaStaticHolidays.special_public_holidays) + 1)
_RULE_YEARS = range(China.start_year, China.end_year + 1)
SOURCE = f"holidays {holidays.__version__}"


@dataclass(frozen=True)
class OfficialYear:
    year: int
    coverage: Coverage
    days_off: dict[date, str] = field(default_factory=dict)  # weekdays and weekends off, with names
    working_weekends: dict[date, str] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.days_off


def coverage(year: int) -> Coverage:
    if year in _OFFICIAL_YEARS:
        return "official"
    if year in _RULE_YEARS:
        return "estimated"
    return "unknown"


def last_official_year() -> int:
    return _OFFICIAL_YEARS[-1]


@lru_cache(maxsize=64)
def official_year(year: int) -> OfficialYear:
    kind = coverage(year)
    if kind == "unknown":
        return OfficialYear(year, kind)
    # Neighbouring years too: a schedule may move a working day across New Year.
    cal = China(years=[y for y in (year - 1, year, year + 1) if y in _RULE_YEARS], language="zh_CN")
    days_off = {d: str(name) for d, name in cal.items() if d.year == year}
    working = {d: "调休上班" for d in cal.weekend_workdays if d.year == year}
    return OfficialYear(year, kind, days_off, working)
