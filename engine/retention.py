"""Retention (issue 17): what the service keeps, for how long, and the cleanup that removes the rest.

Three periods, each counted from when a case finished (``ended_at``) or a notice was delivered:

- delivered notifications are deleted after ``notifications_days``;
- a finished case's **history, documents and workflow state** are removed after its process
  version's ``camunda:historyTimeToLive`` (read at deploy time into ``definitions.history_ttl_days``),
  else ``history_days``. The case row stays, with what KPIs count: process key and version, started
  and ended times, state, the end event it reached (``outcome``), completions per element
  (``figures``) and its numeric/yes-no variables (satisfaction scores, amounts);
- the customer's **personal data** in a finished case (the access policy's contact fields:
  name, phone, address, e-mail, contact person, a document's addressee) is anonymised after
  ``personal_data_days``, everywhere it is kept: the case row and its search columns, final
  variables, history entries, documents (their structure stays, the values become empty) and the
  case's notifications. :func:`anonymise_case` is the one function that does it; other stores
  (a search index) hook into it with :func:`on_anonymise`.

A case is **held** — kept whole whatever the periods say — while an admin has set its legal hold
(:func:`set_legal_hold`, recorded in its history with who and why) or while a complaint about the
same customer (phone) or the same unit (serial number) is still open (domain.md: a complaint names
the customer and serial number of the case it is about).

The periods, the night window (local time, ``01:00-05:00`` Asia/Shanghai by default) and the batch
size are settings an admin edits (``settings`` table; :data:`DEFAULTS` where no row exists). The
cleanup itself runs in small batches, each its own short transaction at the caller's edge
(``web/jobs.py``): :func:`next_batch` does one and says whether anything is left; it reads on from the
run's cursor through an index, so a batch costs the same at the first and the millionth row, and logs
itself as one ``retention_batches`` row beside the run's running totals (the runs are
:mod:`engine.retention_runs`). A run counts every
period from one moment fixed when it starts (``as_of``), so it removes exactly what :func:`plan` /
:func:`due_cases` reported for that moment, and a second run finds nothing more to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from .access import DOCUMENT_CONTACT_FIELDS
from .db import as_utc
from .errors import FormInvalid, InvalidRequest, NotFound, NotPermitted
from .models import Definition, HistoryEntry, Instance, Notification, Setting
from .users import Actor

FINISHED = ("completed", "cancelled")
COMPLAINT_KEYS = ("complaint",)
OPEN = ("running", "error")
PREFIX = "retention."

# PIPL art. 19: kept no longer than the purpose needs. Choices are explained in the README.
DEFAULTS: dict[str, Any] = {
    "notifications_days": 30,
    "history_days": 1825,
    "personal_data_days": 1095,
    "window": "01:00-05:00",
    "timezone": "Asia/Shanghai",
    "batch_size": 50,
    "enabled": True,
}
_LIMITS = {"notifications_days": (1, 36500), "history_days": (1, 36500), "personal_data_days": (1, 36500),
           "batch_size": (1, 5000)}
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_TTL = re.compile(r"^\s*(?:P(\d{1,6})D|(\d{1,6}))\s*$")


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    notifications_days: int
    history_days: int
    personal_data_days: int
    window: str
    timezone: str
    batch_size: int
    enabled: bool

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window_times(self) -> tuple[time, time]:
        m = _WINDOW.match(self.window)
        assert m is not None  # checked when saved
        return time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))

    def to_dict(self) -> dict:
        return asdict(self)


def load(session: Session) -> Settings:
    stored = {row.name[len(PREFIX):]: row.value for row in
              session.scalars(select(Setting).where(Setting.name.startswith(PREFIX)))}
    values = {k: stored.get(k, v) for k, v in DEFAULTS.items()}
    try:
        return Settings(**_checked(values))
    except FormInvalid:  # a row edited by hand into nonsense: the defaults, not a crash
        return Settings(**DEFAULTS)


def _checked(values: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, (low, high) in _LIMITS.items():
        value = values.get(name)
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 7:
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = f"must be a whole number from {low} to {high}"
        else:
            out[name] = value
    window = values.get("window")
    if not isinstance(window, str) or not _WINDOW.match(window.strip()) or window.strip()[:5] == window.strip()[6:]:
        errors["window"] = "must be a time range like 01:00-05:00 (24-hour clock, start and end differ)"
    else:
        out["window"] = window.strip()
    tz = values.get("timezone")
    try:
        if not isinstance(tz, str) or not tz or len(tz) > 60:
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
        out["timezone"] = tz
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "must be a time zone name like Asia/Shanghai"
    enabled = values.get("enabled")
    if isinstance(enabled, str) and enabled in ("0", "1", "true", "false", "on", "off"):
        enabled = enabled in ("1", "true", "on")
    if not isinstance(enabled, bool):
        errors["enabled"] = "must be true or false"
    else:
        out["enabled"] = enabled
    if errors:
        raise FormInvalid(errors)
    return out


def save(session: Session, actor: Actor, changes: dict, now: datetime) -> Settings:
    """Change some settings (admins). Every value is checked first; nothing is stored if one is wrong."""
    if not actor.is_admin:
        raise NotPermitted("only admins change the retention settings")
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise FormInvalid({name: "is not a retention setting" for name in unknown[:20]})
    values = {**load(session).to_dict(), **changes}
    checked = _checked(values)
    for name in changes:
        row = session.get(Setting, PREFIX + name)
        if row is None:
            session.add(Setting(name=PREFIX + name, value=checked[name], changed_by=actor.username, changed_at=now))
        elif row.value != checked[name]:
            row.value, row.changed_by, row.changed_at = checked[name], actor.username, now
    session.flush()
    return Settings(**checked)


def changed(session: Session) -> dict[str, tuple[str, datetime]]:
    """Who last changed each setting that is not at its default, and when."""
    return {row.name[len(PREFIX):]: (row.changed_by, row.changed_at) for row in
            session.scalars(select(Setting).where(Setting.name.startswith(PREFIX)))}


# --- the diagram's historyTimeToLive ------------------------------------------------------------


def parse_ttl(text: str | None) -> int | None:
    """Camunda's ``historyTimeToLive``: ``P30D`` or a plain number of days; None when absent.
    ValueError for anything else (Camunda refuses such a diagram too)."""
    if text is None or not text.strip():
        return None
    m = _TTL.match(text)
    if not m:
        raise ValueError(f"historyTimeToLive '{text[:40]}' is not a number of days (P30D or 30)")
    return int(m[1] or m[2])


def ttl_of(root, key: str) -> tuple[str | None, int | None]:
    """(the attribute as written, its line) of process ``key`` in a parsed diagram."""
    for process in root.xpath("//*[local-name()='process'][@id=$key]", key=key):
        for name, value in process.attrib.items():
            if name.endswith("}historyTimeToLive") or name == "historyTimeToLive":
                return str(value), process.sourceline
    return None, None


# --- the night window ---------------------------------------------------------------------------


def in_window(settings: Settings, now: datetime) -> bool:
    start, end = settings.window_times()
    t = now.astimezone(settings.tz).time()
    return start <= t < end if start < end else (t >= start or t < end)


def night_of(settings: Settings, now: datetime) -> date:
    """The local date on which the window containing ``now`` opened."""
    start, end = settings.window_times()
    local = now.astimezone(settings.tz)
    if start > end and local.time() < end:
        return local.date() - timedelta(days=1)
    return local.date()


def next_window(settings: Settings, now: datetime) -> datetime:
    """When the next run starts: now, inside the window; else the window's next opening."""
    if in_window(settings, now):
        return now
    start, _end = settings.window_times()
    local = now.astimezone(settings.tz)
    opening = datetime.combine(local.date(), start, tzinfo=settings.tz)
    if opening <= local:
        opening = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=settings.tz)
    return opening.astimezone(now.tzinfo)


# --- which cases are due ------------------------------------------------------------------------


def _held() -> ColumnElement[bool]:
    complaint = aliased(Instance)
    open_complaint = exists(select(complaint.id).where(
        complaint.key.in_(COMPLAINT_KEYS), complaint.state.in_(OPEN), complaint.id != Instance.id,
        or_(and_(Instance.customer_phone.is_not(None), complaint.customer_phone == Instance.customer_phone),
            and_(Instance.serial_no.is_not(None), complaint.serial_no == Instance.serial_no))))
    return or_(Instance.legal_hold.is_(True), open_complaint)


def _finished() -> ColumnElement[bool]:
    return and_(Instance.state.in_(FINISHED), Instance.ended_at.is_not(None))


def _removal_terms(session: Session, settings: Settings, as_of: datetime) -> tuple[ColumnElement[bool], datetime]:
    """Which cases' history is due, and the latest ``ended_at`` any of them may have."""
    by_days: dict[int, list[int]] = {}
    default: list[int] = []
    for def_id, days in session.execute(select(Definition.id, Definition.history_ttl_days)
                                        .where(Definition.kind == "bpmn")):
        (by_days.setdefault(days, []) if days is not None else default).append(def_id)
    parts = [and_(Instance.definition_id.in_(ids), Instance.ended_at <= as_of - timedelta(days=days))
             for days, ids in sorted(by_days.items())]
    cutoff = as_of - timedelta(days=settings.history_days)
    parts.append(and_(Instance.definition_id.not_in(sum(by_days.values(), [])) if by_days else Instance.id.is_not(None),
                      Instance.ended_at <= cutoff))
    loosest = as_of - timedelta(days=min([settings.history_days, *by_days]))
    # (history_removed_at, ended_at) is indexed: a batch reads the due rows' range, not every case
    return and_(Instance.history_removed_at.is_(None), Instance.ended_at <= loosest, _finished(), or_(*parts)), loosest


def _removal_due(session: Session, settings: Settings, as_of: datetime) -> ColumnElement[bool]:
    return _removal_terms(session, settings, as_of)[0]


def _anonymise_due(settings: Settings, as_of: datetime) -> ColumnElement[bool]:
    return and_(Instance.anonymised_at.is_(None), Instance.ended_at <= as_of - timedelta(days=settings.personal_data_days),
                _finished())


def _notifications_due(settings: Settings, as_of: datetime) -> ColumnElement[bool]:
    return and_(Notification.sent_at.is_not(None), Notification.sent_at <= as_of - timedelta(days=settings.notifications_days))


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Plan:
    as_of: datetime
    notifications: int
    remove: int  # cases whose history, documents and state go (their personal data too)
    anonymise: int  # further cases whose personal data is anonymised
    held: int  # cases due for either but kept (legal hold, open complaint)

    def to_dict(self) -> dict:
        return {"as_of": iso(self.as_of), "notifications": self.notifications, "remove": self.remove,
                "anonymise": self.anonymise, "held": self.held}


def _count(session: Session, where) -> int:
    return session.scalar(select(func.count()).select_from(Instance).where(where)) or 0


def plan(session: Session, settings: Settings, as_of: datetime) -> Plan:
    """What a run counting from ``as_of`` does (a dry run: nothing changes)."""
    removal = _removal_due(session, settings, as_of)
    anonymise = _anonymise_due(settings, as_of)
    held = _held()
    return Plan(
        as_of=as_of,
        notifications=session.scalar(select(func.count()).select_from(Notification)
                                     .where(_notifications_due(settings, as_of))) or 0,
        remove=_count(session, and_(removal, ~held)),
        anonymise=_count(session, and_(anonymise, ~removal, ~held)),
        held=_count(session, and_(or_(removal, anonymise), held)),
    )


def _due_clause(session: Session, settings: Settings, as_of: datetime, what: str) -> ColumnElement[bool]:
    removal = _removal_due(session, settings, as_of)
    if what == "remove":
        return and_(removal, ~_held())
    if what == "anonymise":
        return and_(_anonymise_due(settings, as_of), ~removal, ~_held())
    if what == "held":
        return and_(or_(removal, _anonymise_due(settings, as_of)), _held())
    raise InvalidRequest(f"what must be remove, anonymise or held, not '{what[:40]}'")


def due_cases(session: Session, settings: Settings, as_of: datetime, what: str, *, after: int | None = None,
              limit: int = 50) -> tuple[list[Instance], int | None]:
    """One page of the cases a run counting from ``as_of`` removes / anonymises / keeps because held,
    by id; the second value is the ``after`` of the next page (None: last page)."""
    query = select(Instance).where(_due_clause(session, settings, as_of, what)).order_by(Instance.id).limit(limit + 1)
    if after is not None:
        query = query.where(Instance.id > after)
    rows = list(session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


# --- removing and anonymising -------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecords:
    """A handler table holding a case's records (documents, approvals): rows go with the history;
    ``json_column`` (if any) holds contact fields anonymised with the case."""

    table: Table
    json_column: str | None = None


_RECORDS: list[CaseRecords] = []
_ANONYMISE_HOOKS: list[Callable[[Session, Instance], None]] = []


def register_case_records(table: Table, json_column: str | None = None) -> None:
    if all(r.table is not table for r in _RECORDS):
        _RECORDS.append(CaseRecords(table, json_column))


def cleaned_tables() -> tuple[str, ...]:
    """The tables a run deletes rows from (``aftersales retention vacuum`` on PostgreSQL vacuums them)."""
    return (Notification.__tablename__, HistoryEntry.__tablename__, Instance.__tablename__,
            *(r.table.name for r in _RECORDS))


def on_anonymise(hook: Callable[[Session, Instance], None]) -> None:
    """Call ``hook(session, instance)`` whenever a case is anonymised (e.g. to clear a search index)."""
    if hook not in _ANONYMISE_HOOKS:
        _ANONYMISE_HOOKS.append(hook)


ANONYMISED: None = None  # what a contact field holds once anonymised (the key stays)


def scrub(data: Any, fields: frozenset[str] = DOCUMENT_CONTACT_FIELDS) -> Any:
    """``data`` with every contact field's value emptied, at any depth; the structure stays."""
    if isinstance(data, dict):
        return {k: (ANONYMISED if k in fields else scrub(v, fields)) for k, v in data.items()}
    if isinstance(data, list):
        return [scrub(v, fields) for v in data]
    return data


def _has_contact(data: Any, fields: frozenset[str] = DOCUMENT_CONTACT_FIELDS) -> bool:
    if isinstance(data, dict):
        return any((k in fields and v not in (None, "")) or _has_contact(v, fields) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_contact(v, fields) for v in data)
    return False


def anonymise_case(session: Session, instance: Instance, now: datetime) -> None:
    """Remove the customer's personal data from one case wherever it is kept; the case's structure,
    numbers and figures stay. Safe to call twice. (:func:`anonymise_cases` for a batch.)"""
    anonymise_cases(session, [instance], now)


def anonymise_cases(session: Session, instances: list[Instance], now: datetime, *, keep_records: bool = True) -> None:
    """:func:`anonymise_case` for a batch, a few statements whatever its size. ``keep_records=False``:
    the history and records are deleted next (:func:`remove_cases_history`), so they are not rewritten."""
    if not instances:
        return
    ids = [i.id for i in instances]
    for instance in instances:
        instance.customer_name = None
        instance.customer_phone = None
        if _has_contact(instance.variables):
            instance.variables = scrub(instance.variables)
    if keep_records:
        for entry in session.scalars(select(HistoryEntry).where(HistoryEntry.instance_id.in_(ids),
                                                                HistoryEntry.data.is_not(None))):
            if _has_contact(entry.data):
                entry.data = scrub(entry.data)
        for records in _RECORDS:
            if records.json_column is None:
                continue
            table, column = records.table, records.table.c[records.json_column]
            for row_id, data in session.execute(select(table.c.id, column).where(table.c.instance_id.in_(ids))):
                if _has_contact(data):
                    session.execute(update(table).where(table.c.id == row_id).values({records.json_column: scrub(data)}))
    # a customer's notices carry their phone or e-mail and name: none is kept once anonymised
    session.execute(delete(Notification).where(Notification.instance_id.in_(ids))
                    .execution_options(synchronize_session=False))
    for instance in instances:
        if instance.anonymised_at is None:
            instance.anonymised_at = now
        for hook in _ANONYMISE_HOOKS:
            hook(session, instance)


def _kept_variables(variables: dict | None) -> dict | None:
    """What stays of a case's variables once its history goes: numbers and yes/no answers only."""
    if variables is None:
        return None
    return {k: v for k, v in variables.items() if k not in DOCUMENT_CONTACT_FIELDS
            and (isinstance(v, bool) or (isinstance(v, int | float) and not isinstance(v, bool)))}


def remove_case_history(session: Session, instance: Instance, now: datetime) -> None:
    """Remove a finished case's history, documents and workflow state, keeping the row with its figures."""
    remove_cases_history(session, [instance], now)


def remove_cases_history(session: Session, instances: list[Instance], now: datetime) -> None:
    """:func:`remove_case_history` for a batch, a few statements whatever its size."""
    if not instances:
        return
    ids = [i.id for i in instances]
    counts: dict[int, dict[str, int]] = {}
    for iid, element, n in session.execute(select(HistoryEntry.instance_id, HistoryEntry.element_id, func.count())
                                           .where(HistoryEntry.instance_id.in_(ids))
                                           .group_by(HistoryEntry.instance_id, HistoryEntry.element_id)):
        counts.setdefault(iid, {})[element] = n
    ends: dict[int, str] = {}
    for iid, element in session.execute(select(HistoryEntry.instance_id, HistoryEntry.element_id).where(
            HistoryEntry.instance_id.in_(ids), HistoryEntry.kind == "EndEvent").order_by(HistoryEntry.id)):
        ends[iid] = element  # the last one wins
    anonymise_cases(session, instances, now, keep_records=False)
    for instance in instances:
        if instance.outcome is None and instance.state == "completed":
            instance.outcome = ends.get(instance.id)
        if instance.figures is None:
            instance.figures = {"completed": counts.get(instance.id, {})}
        instance.variables = _kept_variables(instance.variables)
        instance.workflow = None
        instance.history_removed_at = now
    session.execute(delete(HistoryEntry).where(HistoryEntry.instance_id.in_(ids))
                    .execution_options(synchronize_session=False))
    for records in _RECORDS:
        session.execute(delete(records.table).where(records.table.c.instance_id.in_(ids)))


# --- legal hold ---------------------------------------------------------------------------------


def set_legal_hold(session: Session, actor: Actor, instance_id: int, hold: bool, reason: str,
                   now: datetime) -> Instance:
    """Set or release a case's legal hold (admins); recorded in its history with who and why."""
    if not actor.is_admin:
        raise NotPermitted("only admins set or release a legal hold")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise FormInvalid({"reason": "say why (a complaint number, a court case, …)"})
    if len(reason) > 500:
        raise FormInvalid({"reason": "at most 500 characters"})
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"no case {instance_id}")
    instance.legal_hold = bool(hold)
    instance.legal_hold_reason = reason if hold else None
    session.add(HistoryEntry(instance_id=instance.id, task_id=None, element_id="legal_hold",
                             name="法律保留 Legal hold" if hold else "解除法律保留 Legal hold released",
                             kind="LegalHold" if hold else "LegalHoldReleased", completed_by=actor.username,
                             completed_at=now, data={"legal_hold": bool(hold), "reason": reason}))
    session.flush()
    return instance


def held_cases(session: Session, *, limit: int = 100) -> list[Instance]:
    return list(session.scalars(select(Instance).where(Instance.legal_hold.is_(True)).order_by(Instance.id).limit(limit)))


def kpi_figures(rows: Iterable[Instance]) -> dict:
    """What a KPI reads from finished case rows alone (counts per process, mean duration, outcomes);
    the retention tests compare it before and after a run."""
    per_key: dict[str, dict[str, Any]] = {}
    for i in rows:
        if i.state not in FINISHED or i.ended_at is None:
            continue
        k = per_key.setdefault(i.key, {"finished": 0, "seconds": 0.0, "outcomes": {}})
        k["finished"] += 1
        k["seconds"] += (i.ended_at - i.started_at).total_seconds()
        k["outcomes"][i.outcome or i.state] = k["outcomes"].get(i.outcome or i.state, 0) + 1
    return {key: {"finished": v["finished"], "mean_seconds": v["seconds"] / v["finished"], "outcomes": v["outcomes"]}
            for key, v in sorted(per_key.items())}
