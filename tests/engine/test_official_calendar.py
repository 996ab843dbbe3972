"""The official schedule comes from ``holidays``; it must agree with ``chinesecalendar`` (the
previous source) on every published year both know, and say which years are only estimated."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from engine import official_calendar


def test_the_published_years_agree_with_chinesecalendar_day_by_day():
    differ = []
    for year in range(2010, 2027):
        official = official_calendar.official_year(year)
        assert official.coverage == "official"
        day = date(year, 1, 1)
        while day.year == year:
            if official.is_working_day(day) != chinese_calendar.is_workday(day):
                differ.append(day)
            day += timedelta(days=1)
    assert differ == []


def test_2026_working_weekends_are_the_published_ones():
    assert sorted(official_calendar.official_year(2026).working_weekends) == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)]


def test_2027_is_estimated_with_the_statutory_holidays_but_no_working_weekends():
    year = official_calendar.official_year(2027)
    assert year.coverage == "estimated"
    assert year.working_weekends == {}
    assert {date(2027, 1, 1), date(2027, 2, 6), date(2027, 4, 5), date(2027, 10, 1)} <= set(year.days_off)
    assert year.days_off[date(2027, 10, 1)] == "国庆节"


def test_coverage_of_each_kind():
    assert official_calendar.coverage(2026) == "official"
    assert official_calendar.coverage(official_calendar.last_official_year() + 1) == "estimated"
    assert official_calendar.coverage(2101) == "unknown"
    assert official_calendar.official_year(2101).days_off == {}
