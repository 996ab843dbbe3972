"""Service levels count working days on the company calendar (China's official holidays and
adjusted working weekends from chinesecalendar, plus company closed days)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.working_days import SHANGHAI, WorkingCalendar


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_national_day_is_skipped():
    cal = WorkingCalendar()
    # Wednesday 30 Sep 2026, 16:00: the last working day before the National Day holiday (1-7 Oct)
    assert cal.add_working_days(local(2026, 9, 30, 16), 1) == local(2026, 10, 8, 16).astimezone(UTC)
    assert cal.add_working_days(local(2026, 9, 30, 16), 3) == local(2026, 10, 10, 16).astimezone(UTC)  # Sat 10 Oct is worked


def test_outside_working_time_starts_at_the_next_working_morning():
    cal = WorkingCalendar()
    assert cal.add_working_days(local(2026, 10, 3, 10), 1) == local(2026, 10, 9, 9).astimezone(UTC)
    assert cal.add_working_days(local(2026, 11, 23, 20), 1) == local(2026, 11, 25, 9).astimezone(UTC)


def test_working_hours_roll_over_to_the_next_working_day():
    cal = WorkingCalendar()
    assert cal.add_working_hours(local(2026, 9, 30, 16), 4) == local(2026, 10, 8, 11).astimezone(UTC)
    assert cal.add_working_hours(local(2026, 11, 23, 9, 30), 1) == local(2026, 11, 23, 10, 30).astimezone(UTC)


def test_company_closed_days():
    cal = WorkingCalendar([date(2026, 11, 24)])
    assert not cal.is_working_day(date(2026, 11, 24))
    assert cal.add_working_days(local(2026, 11, 23, 10), 1) == local(2026, 11, 25, 10).astimezone(UTC)
    assert cal.working_days_between(local(2026, 11, 20, 10), local(2026, 11, 27, 10)) == 4


def test_years_without_official_data_fall_back_to_weekdays():
    cal = WorkingCalendar()
    assert WorkingCalendar.covers(2026)
    if not WorkingCalendar.covers(2030):
        assert cal.is_working_day(date(2030, 1, 7)) and not cal.is_working_day(date(2030, 1, 5))
