"""Service levels count working days on the working calendar: China's official schedule (published
or estimated), imported years, company days, and the configured working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.working_days import SHANGHAI, WorkingCalendar, WorkingHours, time_zone


def local(*args, tz=SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=tz)


def utc(*args) -> datetime:
    return local(*args).astimezone(UTC)


def test_national_day_is_skipped():
    cal = WorkingCalendar()
    # Wednesday 30 Sep 2026, 16:00: the last working day before the National Day holiday (1-7 Oct)
    assert cal.add_working_days(local(2026, 9, 30, 16), 1) == utc(2026, 10, 8, 16)
    assert cal.add_working_days(local(2026, 9, 30, 16), 3) == utc(2026, 10, 10, 16)  # Sat 10 Oct is worked


def test_outside_working_time_starts_at_the_next_working_morning():
    cal = WorkingCalendar()
    assert cal.add_working_days(local(2026, 10, 3, 10), 1) == utc(2026, 10, 9, 9)
    assert cal.add_working_days(local(2026, 11, 23, 20), 1) == utc(2026, 11, 25, 9)


def test_working_hours_roll_over_to_the_next_working_day():
    cal = WorkingCalendar()
    assert cal.add_working_hours(local(2026, 9, 30, 16), 4) == utc(2026, 10, 8, 11)
    assert cal.add_working_hours(local(2026, 11, 23, 9, 30), 1) == utc(2026, 11, 23, 10, 30)


def test_company_closed_days():
    cal = WorkingCalendar([date(2026, 11, 24)])
    assert not cal.is_working_day(date(2026, 11, 24))
    assert cal.day(date(2026, 11, 24)).source == "company"
    assert cal.add_working_days(local(2026, 11, 23, 10), 1) == utc(2026, 11, 25, 10)
    assert cal.working_days_between(local(2026, 11, 20, 10), local(2026, 11, 27, 10)) == 4


def test_a_company_working_saturday_counts():
    saturday = date(2026, 11, 28)
    plain, shifted = WorkingCalendar(), WorkingCalendar(working_days=[saturday])
    assert plain.add_working_days(local(2026, 11, 27, 10), 1) == utc(2026, 11, 30, 10)  # Fri → Mon
    assert shifted.add_working_days(local(2026, 11, 27, 10), 1) == utc(2026, 11, 28, 10)  # Fri → the working Sat
    assert shifted.day(saturday) == (True, "company", "")


def test_new_year_2026_to_2027():
    cal = WorkingCalendar()
    # Thu 31 Dec 2026 16:00 + 1 working day: Fri 1 Jan 2027 is New Year's Day → Mon 4 Jan.
    assert cal.add_working_days(local(2026, 12, 31, 16), 1) == utc(2027, 1, 4, 16)
    assert cal.add_working_hours(local(2026, 12, 31, 17), 2) == utc(2027, 1, 4, 10)
    assert cal.coverage(2026) == "official" and cal.coverage(2027) == "estimated"
    assert cal.day(date(2027, 1, 1)) == (False, "estimated", "元旦")


def test_spring_festival_2027():
    cal = WorkingCalendar()
    # The case: Thursday 4 Feb 2027 18:00 (after hours). 5–10 Feb are the Spring Festival
    # holiday as the library estimates it, so two working days from the next working morning
    # (Thu 11 Feb 09:00) is Mon 15 Feb 09:00 — not Tue 9 Feb, as plain Monday–Friday counted.
    assert cal.add_working_days(local(2027, 2, 4, 18), 2) == utc(2027, 2, 15, 9)
    assert [d for d in range(5, 11) if cal.is_working_day(date(2027, 2, d))] == []
    assert cal.is_working_day(date(2027, 2, 11))


def test_lunch_break_and_other_hours():
    hours = WorkingHours.parse("08:30-12:00,13:30-17:30")
    cal = WorkingCalendar(hours=hours)
    assert str(hours) == "08:30-12:00,13:30-17:30"
    assert cal.add_working_hours(local(2026, 11, 23, 11), 2) == utc(2026, 11, 23, 14, 30)  # 1 h before, 1 h after lunch
    assert cal.add_working_hours(local(2026, 11, 23, 12, 30), 1) == utc(2026, 11, 23, 14, 30)  # from lunch: starts 13:30
    assert cal.add_working_hours(local(2026, 11, 23, 17), 1) == utc(2026, 11, 24, 9)  # 0.5 h today, 0.5 h tomorrow
    assert cal.add_working_days(local(2026, 11, 23, 7), 1) == utc(2026, 11, 24, 8, 30)
    assert cal.add_working_days(local(2026, 11, 23, 12, 15), 1) == utc(2026, 11, 24, 13, 30)


def test_another_time_zone():
    berlin = time_zone("Europe/Berlin")
    cal = WorkingCalendar(tz=berlin)
    start = local(2026, 11, 23, 17, tz=berlin)
    assert cal.add_working_hours(start, 2) == local(2026, 11, 24, 10, tz=berlin).astimezone(UTC)


@pytest.mark.parametrize("text", ["9-18", "09:00-08:00", "08:00-12:00,11:00-17:00", "25:00-26:00", ""])
def test_bad_working_hours_are_refused(text):
    with pytest.raises(ValueError, match="working hours"):
        WorkingHours.parse(text)


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        time_zone("Mars/Olympus")


def test_an_imported_year_replaces_the_library():
    sunday = date(2027, 2, 7)
    cal = WorkingCalendar(imported={sunday: (True, "春节调休上班"), date(2027, 2, 11): (False, "春节")},
                          imported_years=[2027])
    assert cal.coverage(2027) == "imported" and cal.covers(2027)
    assert cal.day(sunday) == (True, "imported", "春节调休上班")
    assert cal.is_working_day(date(2027, 2, 9))  # the library's estimated day off is not in the import
    assert not cal.is_working_day(date(2027, 2, 11))


def test_years_nobody_knows_are_monday_to_friday():
    cal = WorkingCalendar()
    assert cal.coverage(2150) == "unknown" and not cal.covers(2150)
    assert cal.day(date(2150, 1, 5)) == (True, "weekday", "")  # a Monday
    assert not cal.is_working_day(date(2150, 1, 3))


def test_a_calendar_without_working_days_is_a_clear_error():
    cal = WorkingCalendar([date(2026, 12, 1) + timedelta(days=i) for i in range(3700)])
    with pytest.raises(ValueError, match="no working day within ten years"):
        cal.add_working_days(local(2026, 11, 30, 10), 1)


def test_moment_of_a_bare_date_is_the_working_morning():
    cal = WorkingCalendar(hours=WorkingHours.parse("08:30-17:30"), tz=ZoneInfo("Asia/Shanghai"))
    assert cal.moment("2026-11-23") == local(2026, 11, 23, 8, 30)


def test_r8_r1_rules_counted_from_a_recorded_moment_follow_a_calendar_change():
    """``working_hours_from(reported_at, 1)`` counts from the moment given, whatever the step's now;
    stored with its rule, it is counted again from the same moment when a day is closed."""
    from engine import due_dates
    from engine.working_days import RULES

    now = utc(2026, 11, 24, 9, 20)
    cal = WorkingCalendar()
    reported = local(2026, 11, 23, 17, 30).isoformat()
    assert RULES["working_hours_from"](cal, now, reported, 1) == utc(2026, 11, 24, 9, 30)
    assert RULES["working_days_from"](cal, now, reported, 1) == utc(2026, 11, 24, 17, 30)
    rule = {"fn": "working_days_from", "args": [reported, 1], "from": now.isoformat()}
    closed = WorkingCalendar([date(2026, 11, 24)])  # Tuesday closed for stocktaking
    assert due_dates.recount(rule, closed) == utc(2026, 11, 25, 17, 30)
