"""Reading an uploaded official schedule: both formats, and every problem with its line."""

from __future__ import annotations

from datetime import date

import pytest

from engine import calendar_import
from engine.errors import ScheduleInvalid
from tests.conftest import DATA

CAL = DATA / "calendar"


def kinds(schedule) -> dict[date, str]:
    return {d.day: d.kind for d in schedule.days}


def test_an_ics_feed_with_day_ranges_and_working_days():
    schedule = calendar_import.read("2027.ics", (CAL / "schedule_2027_test.ics").read_bytes())
    assert schedule.year == 2027
    found = kinds(schedule)
    assert [d for d, k in found.items() if k == "holiday" and d.month == 2] == [date(2027, 2, d) for d in range(5, 13)]
    assert found[date(2027, 2, 14)] == "working" and found[date(2027, 2, 20)] == "working"
    assert found[date(2027, 1, 3)] == "holiday" and date(2027, 1, 4) not in found  # DTEND is exclusive


def test_a_plain_table_with_header_comments_and_mixed_separators():
    schedule = calendar_import.read("2027.csv", (CAL / "schedule_2027_test.csv").read_bytes())
    found = kinds(schedule)
    assert schedule.year == 2027 and len(found) == 9
    assert found[date(2027, 2, 8)] == "holiday" and found[date(2027, 2, 14)] == "working"
    assert {d.name for d in schedule.days if d.day == date(2027, 2, 14)} == {"春节调休上班"}


def problems(content: bytes, name="x.csv") -> list[tuple[int | None, str]]:
    with pytest.raises(ScheduleInvalid) as info:
        calendar_import.read(name, content)
    return info.value.problems


def test_a_day_twice_names_both_lines():
    assert problems(b"2027-02-05,holiday\n2027-02-06,holiday\n2027-02-05,working\n") == [
        (3, "2027-02-05 is listed twice (first on line 1)")]


def test_bad_lines_are_all_reported_with_their_numbers():
    found = problems(b"2027-02-05,holiday\n2027-13-01,holiday\n2027-02-07,maybe\n1999-02-05,holiday\n")
    assert found == [(2, "'2027-13-01' is not a date (YYYY-MM-DD)"),
                     (3, "kind 'maybe' is neither holiday (休) nor working (班)"),
                     (4, "1999-02-05 is out of range (2000–2100)")]


def test_a_day_far_from_the_schedules_year():
    assert problems(b"2027-02-05,holiday\n2027-02-06,holiday\n2029-01-01,holiday\n") == [
        (3, "2029-01-01 is outside the schedule of 2027")]


def test_malformed_ics_and_non_text():
    broken = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2027xx01\nEND:VEVENT\nEND:VCALENDAR\n"
    assert problems(broken, "a.ics") == [(2, "DTSTART '2027xx01' is not a date")]
    unclosed = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nEND:VCALENDAR\n"
    assert problems(unclosed, "a.ics")[0][1].startswith("not a valid iCalendar file")
    assert problems(b"\xff\xfe\x00", "a.ics")[0][1] == "the file is not UTF-8 text"
    assert problems(b"", "a.csv") == [(None, "the file lists no days")]
