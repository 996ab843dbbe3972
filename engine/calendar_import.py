"""Reading a year's official holiday schedule from a file an admin uploads.

Two formats, told apart by their first line:

- iCalendar (``.ics``), as holiday feeds publish it: one all-day ``VEVENT`` per holiday or per
  range of days (``DTEND`` exclusive); a ``SUMMARY`` naming 班 / 上班 / 补班 / work marks the days
  as adjusted working days, anything else as days off;
- a plain table, one day per line: ``2027-02-07,working,春节调休`` (comma, tab or spaces between;
  kinds ``holiday``/``休``/``假`` or ``working``/``班``/``上班``); ``#`` starts a comment, a first
  line naming the columns is skipped.

Every problem is reported with its line; a file with any problem imports nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import ScheduleInvalid

MAX_BYTES = 512 * 1024
MAX_DAYS = 400
_WORKING = ("班", "work")
_KINDS = {
    "holiday": "holiday", "off": "holiday", "休": "holiday", "假": "holiday", "休息": "holiday", "放假": "holiday",
    "working": "working", "work": "working", "workday": "working", "班": "working", "上班": "working",
    "补班": "working",
}
_SPLIT = re.compile(r"\s*[,\t;]\s*|\s+")


@dataclass(frozen=True)
class ScheduledDay:
    day: date
    kind: str  # holiday|working
    name: str
    line: int


@dataclass(frozen=True)
class Schedule:
    year: int
    days: list[ScheduledDay]


def read(filename: str, content: bytes, year: int | None = None) -> Schedule:
    """The schedule in ``content``; ``year`` defaults to the year most of its days fall in."""
    if len(content) > MAX_BYTES:
        raise ScheduleInvalid(filename, [(None, f"the file is larger than {MAX_BYTES // 1024} KB")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        raise ScheduleInvalid(filename, [(line, "the file is not UTF-8 text")]) from None
    if "\x00" in text:
        raise ScheduleInvalid(filename, [(text[:text.index("\x00")].count("\n") + 1, "the file is not text")])
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    days, problems = (_read_ics(text) if first.upper() == "BEGIN:VCALENDAR" else _read_table(text))
    if not days and not problems:
        problems.append((None, "the file lists no days"))
    if len(days) > MAX_DAYS:
        problems.append((None, f"the file lists {len(days)} days; a year's schedule has far fewer"))
    if year is None and days:
        years = [d.day.year for d in days]
        year = max(set(years), key=years.count)
    seen: dict[date, int] = {}
    for d in days:
        if year is not None and abs(d.day.year - year) > 1:
            problems.append((d.line, f"{d.day} is outside the schedule of {year}"))
        elif d.day in seen:
            problems.append((d.line, f"{d.day} is listed twice (first on line {seen[d.day]})"))
        else:
            seen[d.day] = d.line
    if problems:
        raise ScheduleInvalid(filename, sorted(problems, key=lambda p: p[0] or 0))
    assert year is not None
    return Schedule(year, days)


def _in_range(value: date) -> bool:
    return 2000 <= value.year <= 2100


def _read_table(text: str) -> tuple[list[ScheduledDay], list[tuple[int | None, str]]]:
    days: list[ScheduledDay] = []
    problems: list[tuple[int | None, str]] = []
    header_allowed = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f for f in _SPLIT.split(line, maxsplit=2) if f != ""]
        try:
            day = date.fromisoformat(fields[0])
        except ValueError:
            if header_allowed and not re.match(r"^\d", fields[0]):
                header_allowed = False
                continue
            problems.append((number, f"'{fields[0]}' is not a date (YYYY-MM-DD)"))
            continue
        header_allowed = False
        if not _in_range(day):
            problems.append((number, f"{day} is out of range (2000–2100)"))
            continue
        kind = _KINDS.get(fields[1].lower()) if len(fields) > 1 else None
        if kind is None:
            given = fields[1] if len(fields) > 1 else ""
            problems.append((number, f"kind '{given}' is neither holiday (休) nor working (班)"))
            continue
        days.append(ScheduledDay(day, kind, fields[2].strip() if len(fields) > 2 else "", number))
    return days, problems


def _read_ics(text: str) -> tuple[list[ScheduledDay], list[tuple[int | None, str]]]:
    import icalendar

    lines = text.splitlines()
    event_lines = [i + 1 for i, ln in enumerate(lines) if ln.strip().upper() == "BEGIN:VEVENT"]
    try:
        cal = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as exc:
        message = str(exc).splitlines()[0].rstrip(": ")
        return [], [(_error_line(lines, str(exc)), f"not a valid iCalendar file ({message})")]
    days: list[ScheduledDay] = []
    problems: list[tuple[int | None, str]] = []
    for index, event in enumerate(cal.walk("VEVENT")):
        line = event_lines[index] if index < len(event_lines) else None
        summary = str(event.get("SUMMARY", "")).strip()
        try:
            start = event.decoded("DTSTART", None) if "DTSTART" in event else None
        except (ValueError, TypeError):
            start = None
        if not isinstance(start, date):
            raw = _raw_property(lines, line, "DTSTART")
            problems.append((line, f"DTSTART '{raw}' is not a date" if raw else "the event has no start date (DTSTART)"))
            continue
        start = start.date() if hasattr(start, "date") and callable(start.date) else start
        end = event.decoded("DTEND") if "DTEND" in event else start + timedelta(days=1)
        end = end.date() if hasattr(end, "date") and callable(end.date) else end
        if not (_in_range(start) and _in_range(end)):
            problems.append((line, f"{start} is out of range (2000–2100)"))
            continue
        if end <= start:
            problems.append((line, f"the event ends ({end}) before it starts ({start})"))
            continue
        if (end - start).days > 31:
            problems.append((line, f"the event spans {(end - start).days} days; a holiday spans at most a few"))
            continue
        kind = "working" if any(w in summary.lower() for w in _WORKING) else "holiday"
        day = start
        while day < end:
            days.append(ScheduledDay(day, kind, summary, line or 0))
            day += timedelta(days=1)
    return days, problems


def _raw_property(lines: list[str], from_line: int | None, name: str) -> str | None:
    """The raw value of ``name`` in the event starting at ``from_line`` (for the message)."""
    for line in lines[(from_line or 1) - 1:]:
        if line.upper().startswith(name):
            return line.split(":", 1)[-1].strip()
        if line.strip().upper() == "END:VEVENT":
            break
    return None


def _error_line(lines: list[str], message: str) -> int | None:
    """The first line icalendar's message quotes, when it quotes one."""
    for number, line in enumerate(lines, start=1):
        if line.strip() and line.strip() in message:
            return number
    return None
