"""What management measures (R25): the dashboard's figures, computed in SQL from case rows.

The figures and where they come from (so that retention, which deletes old history, keeps them):

- **complaint rate** = complaint cases ÷ repair cases (service cases), both counted by the day they
  were reported (``instances.started_at``, ``instances.key``).
- **on-time repair rate** = work orders whose deadlines were all met ÷ work orders, over repair cases
  finished in the period (``instances.ended_at``, ``work_orders``, ``work_orders_late``). A work order
  is a dispatch (its deadline: taken within 1 working hour, R8) or a depot repair (done within 5
  working days, R3); ``work_orders_late`` counts those with a task completed after its due date.
- **first-time fix rate** = repairs that passed the quality check and the customer's sign-off the
  first time (no rework, no escalation) ÷ finished repairs that reached the quality check
  (``instances.first_time_fix``).
- **satisfaction** = the mean follow-up score (1–5: quality, timeliness, attitude) of finished repairs
  (``instances.satisfaction``).
- **SLA breaches per rule** (R2, R3, R4, R8, R19) = tasks completed late in the period
  (``late_tasks.completed_at``) plus open tasks overdue now whose due date lies in the period
  (``open_tasks.due_at``); rules by process and task in ``SLA_RULES``.
- **open cases by age** = repair, complaint and return cases running (or in error) now, by days since
  they were reported (``instances.state``, ``started_at``).

The case-row columns are written by the step that completes the case (:func:`note_finished`, from the
case's variables and its history while it still exists), product and region while the case runs;
``late_tasks`` rows by the step that completes a task late (:func:`note_late`). Nothing here loads a
workflow. Grouped by month or week (local time), the technician's group (``team``), technician,
product model or region (the province of the customer's address, ``engine/regions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, DateTime, Select, and_, bindparam, case, cast, func, literal, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from .db import as_utc
from .errors import InvalidRequest
from .models import HistoryEntry, Instance, LateTask, Membership, OpenTask, User

DIMENSIONS = ("month", "week", "group", "technician", "product", "region")
RULES = ("R2", "R3", "R4", "R8", "R19")
# (process key, task) -> the service level its due date stands for (domain.md, "Service levels")
SLA_RULES: dict[tuple[str, str], str] = {
    ("repair", "check_scope"): "R2",  # confirmed within 2 working days
    ("repair", "depot_repair"): "R3",  # repaired within 5 working days of receiving the goods
    **{("return_exchange", t): "R4" for t in ("review", "inspect", "refund", "ship_exchange")},
    ("repair", "accept_work_order"): "R8",  # work order taken within 1 working hour
    ("dispatch", "accept_work_order"): "R8",
    **{("complaint", t): "R19" for t in ("forward", "verify", "plan", "reply")},
}
WORK_ORDER_TASKS = ("accept_work_order", "depot_repair")  # one per work order: a dispatch or a depot repair
AGES = (("0-1", 0, 1), ("1-3", 1, 3), ("3-7", 3, 7), ("7-30", 7, 30), ("30+", 30, None))  # days since reported
SERVICE_KEY, COMPLAINT_KEY = "repair", "complaint"
OPEN_KEYS = ("repair", "complaint", "return_exchange")  # cases a customer waits on (not the R15 visit calendar)
METRICS = ("service_cases", "complaints", "work_orders", "work_orders_on_time", "work_orders_late",
           "repairs_checked", "first_time_fixes", "not_first_time", "rated_cases",
           *(f"breach_{r}" for r in RULES), *(f"open_{a[0]}" for a in AGES))
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """Local days ``start`` … ``end`` (both included) in ``tz``; ``lo``/``hi`` the UTC bounds [lo, hi)."""

    start: date
    end: date
    tz: ZoneInfo

    @property
    def lo(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time(), self.tz).astimezone(UTC)

    @property
    def hi(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time(), self.tz).astimezone(UTC)


def _day(name: str, text: str | None) -> date | None:
    if text in (None, ""):
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InvalidRequest(f"{name}: '{str(text)[:40]}' is not a date (YYYY-MM-DD)") from None


def period(text_from: str | None, text_to: str | None, now: datetime, tz: ZoneInfo) -> Period:
    """The period asked for: ``to`` defaults to today, ``from`` to the first day of the month five months
    earlier (six calendar months). Bad dates, ``from`` after ``to`` or more than three years → InvalidRequest."""
    end = _day("to", text_to) or as_utc(now).astimezone(tz).date()  # type: ignore[union-attr]
    start = _day("from", text_from)
    if start is None:
        month = end.year * 12 + end.month - 1 - 5
        start = date(month // 12, month % 12 + 1, 1)
    if start > end:
        raise InvalidRequest(f"from: {start.isoformat()} is after to ({end.isoformat()})")
    if (end - start).days > MAX_DAYS:
        raise InvalidRequest(f"from: the period may span at most {MAX_DAYS} days")
    return Period(start, end, tz)


def dimension(text: str | None) -> str:
    by = text or "month"
    if by not in DIMENSIONS:
        raise InvalidRequest(f"by: '{by[:40]}' is not one of {', '.join(DIMENSIONS)}")
    return by


def metric(text: str | None) -> str:
    if text not in METRICS:
        raise InvalidRequest(f"metric: '{str(text)[:40]}' is not one of {', '.join(METRICS)}")
    return text  # type: ignore[return-value]


# --- writing the figures (called by the step) ----------------------------------------------------


def sla_rule(process_key: str, element_id: str) -> str | None:
    return SLA_RULES.get((process_key, element_id))


def note_late(session: Session, instance: Instance, task: OpenTask, by: str, now: datetime) -> None:
    """Record a task completed after its due date (one INSERT, only when late)."""
    if task.due_at is None or as_utc(now) <= as_utc(task.due_at):  # type: ignore[operator]
        return
    session.add(LateTask(instance_id=instance.id, element_id=task.element_id,
                         rule=sla_rule(instance.key, task.element_id), candidate_groups=task.candidate_groups,
                         product_model=instance.product_model, region=instance.region,
                         completed_by=by, due_at=as_utc(task.due_at), completed_at=as_utc(now)))


def _score(variables: dict) -> float | None:
    if isinstance(variables.get("satisfaction"), int | float) and not isinstance(variables["satisfaction"], bool):
        return float(variables["satisfaction"])
    scores = [v for k in ("satisfaction_quality", "satisfaction_timeliness", "satisfaction_attitude")
              if isinstance(v := variables.get(k), int | float) and not isinstance(v, bool)]
    return round(sum(scores) / len(scores), 2) if scores else None


def note_finished(session: Session, instance: Instance, variables: dict) -> None:
    """Write a completed repair case's figures onto its row (one read of its own rows)."""
    if instance.key != SERVICE_KEY:
        return
    technician = variables.get("technician")
    instance.technician = str(technician)[:80] if technician else None
    orders, qc, redone, late, team = session.execute(_finished_figures(), {
        "instance_id": instance.id, "technician": instance.technician}).one()
    orders = orders or 0
    # this step's own late row is not flushed yet
    late += sum(1 for obj in session.new if isinstance(obj, LateTask) and obj.instance_id == instance.id
                and obj.element_id in WORK_ORDER_TASKS)
    instance.work_orders = orders or None
    instance.work_orders_late = min(late, orders) if orders else None
    instance.first_time_fix = not redone if qc else None
    instance.satisfaction = _score(variables)
    instance.team = team  # the technician's first group (by id; groups are data, engine/groups.py); None without one


@lru_cache(maxsize=1)
def _finished_figures() -> Select:
    """A finished repair's work orders, quality checks, reworks and escalations (its history), its late
    work orders and its technician's first group, in one statement (built once)."""
    counted = (HistoryEntry.instance_id == bindparam("instance_id"),
               HistoryEntry.kind.in_(("UserTask", "ServiceTask")))

    def times(*elements: str):
        return select(func.count()).where(*counted, HistoryEntry.element_id.in_(elements)).scalar_subquery()

    late = select(func.count()).select_from(LateTask).where(
        LateTask.instance_id == bindparam("instance_id"), LateTask.element_id.in_(WORK_ORDER_TASKS))
    team = (select(Membership.group_id).join(User, User.id == Membership.user_id)
            .where(User.username == bindparam("technician")).order_by(Membership.group_id).limit(1))
    return select(times(*WORK_ORDER_TASKS), times("qc"), times("rework", "escalate"),
                  late.scalar_subquery(), team.scalar_subquery())


# --- reading them ---------------------------------------------------------------------------------


BEFORE, AFTER = "before", "after"  # open cases reported before / after the period, in rows by month or week


def time_buckets(span: Period, by: str) -> list[tuple[str, datetime]]:
    """Each local month (key YYYY-MM) or week (key: its Monday, YYYY-MM-DD) the period touches, with the
    UTC moment it starts (the first one at the period's start)."""
    cur = span.start.replace(day=1) if by == "month" else span.start - timedelta(days=span.start.weekday())
    found = []
    while cur <= span.end:
        begins = datetime.combine(cur, datetime.min.time(), span.tz).astimezone(UTC)
        found.append((cur.isoformat()[:7] if by == "month" else cur.isoformat(), max(begins, span.lo)))
        cur = (date(cur.year + cur.month // 12, cur.month % 12 + 1, 1) if by == "month" else cur + timedelta(days=7))
    return found


def _first_group(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.nullif(func.split_part(column, ",", 2), "")
    return func.nullif(func.substr(column, 2, func.instr(func.substr(column, 2), ",") - 1), "")


_CASE_DIMS = {"group": Instance.team, "technician": Instance.technician, "product": Instance.product_model,
              "region": Instance.region}
_LATE_DIMS = {"group": None, "technician": LateTask.completed_by, "product": LateTask.product_model,
              "region": LateTask.region}


class Query:
    """The selects behind each figure: counted with GROUP BY, or listed (drill-down) with the same WHERE.

    Each source answers ``(dimension, where, moment)``: rows by month or week are the index of the
    bucket ``moment`` falls in (PostgreSQL's ``width_bucket`` over the buckets' starts: no date
    arithmetic per row), turned into keys in Python; a drill-down by month or week is a range on ``moment``."""

    def __init__(self, session: Session, span: Period, by: str, now: datetime):
        self.session, self.span, self.by = session, span, by
        self.now: datetime = as_utc(now)  # type: ignore[assignment]
        self.timed = by in ("month", "week")
        self.buckets = time_buckets(span, by) if self.timed else []
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def time_dim(self, moment):
        starts = [*(start for _key, start in self.buckets), self.span.hi]  # the last index: after the period
        if self.postgres:
            return func.width_bucket(moment, cast(postgresql.array(starts), ARRAY(DateTime(timezone=True)))) - 1
        return case(*[(moment < start, literal(i - 1)) for i, start in enumerate(starts)], else_=literal(len(starts) - 1))

    def key_of(self, value: Any) -> str:
        if value is None:
            return ""
        if self.timed:
            index = int(value)
            return BEFORE if index < 0 else AFTER if index >= len(self.buckets) else self.buckets[index][0]
        return str(value)

    def matching(self, dim, moment, key: str | None) -> list:
        """The WHERE of one row: ``key`` None is every row, "" the unknown value."""
        if key is None:
            return []
        if self.timed:
            keys = [k for k, _start in self.buckets]
            if key == BEFORE:
                return [moment < self.buckets[0][1]]
            if key == AFTER:
                return [moment >= self.span.hi]
            if key not in keys:
                raise InvalidRequest(f"key: '{key[:40]}' is not a {self.by} of the period")
            i = keys.index(key)
            upper = [moment < (self.buckets[i + 1][1] if i + 1 < len(keys) else self.span.hi)]
            return [moment >= self.buckets[i][1], *upper]
        return [dim.is_(None)] if key == "" else [dim == key]

    def case_dim(self, moment):
        return self.time_dim(moment) if self.timed else _CASE_DIMS[self.by]

    def in_period(self, column):
        return and_(column >= self.span.lo, column < self.span.hi)

    def reported(self, key: str | None = None):
        keys = [Instance.key.in_((SERVICE_KEY, COMPLAINT_KEY)) if key is None else Instance.key == key]
        return self.case_dim(Instance.started_at), [*keys, self.in_period(Instance.started_at)], Instance.started_at

    def finished(self, *extra):
        return self.case_dim(Instance.ended_at), [Instance.key == SERVICE_KEY, Instance.state == "completed",
                                                  self.in_period(Instance.ended_at), *extra], Instance.ended_at

    def late(self, rule: str | None = None):
        if self.timed:
            dim = self.time_dim(LateTask.completed_at)
        elif self.by == "group":
            dim = _first_group(self.session, LateTask.candidate_groups)
        else:
            dim = _LATE_DIMS[self.by]
        where = [LateTask.rule.is_not(None) if rule is None else LateTask.rule == rule,
                 self.in_period(LateTask.completed_at)]
        return dim, where, LateTask.completed_at

    def rule_of_open(self):
        return case(*[(and_(Instance.key == k, OpenTask.element_id == e), literal(r)) for (k, e), r in SLA_RULES.items()],
                    else_=None)

    def overdue(self, rule: str | None = None):
        if self.timed:
            dim = self.time_dim(OpenTask.due_at)
        elif self.by == "group":
            dim = _first_group(self.session, OpenTask.candidate_groups)
        elif self.by == "technician":
            dim = OpenTask.assignee
        else:
            dim = _CASE_DIMS[self.by]
        ruled = self.rule_of_open()
        where = [OpenTask.due_at < self.now, self.in_period(OpenTask.due_at),
                 ruled.is_not(None) if rule is None else ruled == rule]
        return dim, where, OpenTask.due_at

    def open_cases(self, age: tuple[str, int, int | None] | None = None):
        dim = self.case_dim(Instance.started_at)
        where: list[Any] = [Instance.key.in_(OPEN_KEYS), Instance.state.in_(("running", "error"))]
        if age is not None:
            _name, low, high = age
            where.append(Instance.started_at <= self.now - timedelta(days=low))
            if high is not None:
                where.append(Instance.started_at > self.now - timedelta(days=high))
        return dim, where, Instance.started_at

    def age_bucket(self):
        whens = []
        for name, low, high in AGES:
            cond = Instance.started_at <= self.now - timedelta(days=low)
            if high is not None:
                cond = and_(cond, Instance.started_at > self.now - timedelta(days=high))
            whens.append((cond, literal(name)))
        return case(*whens, else_=literal(AGES[0][0]))


def _key(value: Any) -> str:
    return "" if value is None else str(value)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(session: Session, span: Period, by: str, now: datetime) -> dict:
    """Every figure per value of the dimension ``by`` and in total; keys are strings ("" = unknown)."""
    q = Query(session, span, by, now)
    rows: dict[str, dict] = {}

    def row(value: Any, raw: bool = True) -> dict:
        k = q.key_of(value) if raw else value
        if k not in rows:
            rows[k] = {"key": k, "service_cases": 0, "complaints": 0, "work_orders": 0, "work_orders_late": 0,
                       "repairs_checked": 0, "first_time_fixes": 0, "rated_cases": 0, "satisfaction_sum": 0.0,
                       "breaches": dict.fromkeys(RULES, 0), "open": {a[0]: 0 for a in AGES}}
        return rows[k]

    # 1. reported cases: service cases and complaints
    dim, where, _moment = q.reported()
    for key, services, complaints in session.execute(
            select(dim, func.sum(case((Instance.key == SERVICE_KEY, 1), else_=0)),
                   func.sum(case((Instance.key == COMPLAINT_KEY, 1), else_=0))).where(*where).group_by(dim)):
        r = row(key)
        r["service_cases"], r["complaints"] = int(services or 0), int(complaints or 0)
    # 2. finished repairs: work orders, first-time fixes, satisfaction
    dim, where, _moment = q.finished()
    for key, orders, late, checked, fixed, rated, score in session.execute(
            select(dim, func.coalesce(func.sum(Instance.work_orders), 0),
                   func.coalesce(func.sum(Instance.work_orders_late), 0), func.count(Instance.first_time_fix),
                   func.sum(case((Instance.first_time_fix.is_(True), 1), else_=0)),
                   func.count(Instance.satisfaction), func.coalesce(func.sum(Instance.satisfaction), 0))
            .where(*where).group_by(dim)):
        r = row(key)
        r.update(work_orders=int(orders), work_orders_late=int(late), repairs_checked=int(checked),
                 first_time_fixes=int(fixed or 0), rated_cases=int(rated), satisfaction_sum=float(score))
    # 3. breaches: late completions and open overdue tasks
    dim, where, _moment = q.late()
    for key, rule, n in session.execute(
            select(dim, LateTask.rule, func.count()).select_from(LateTask).where(*where).group_by(dim, LateTask.rule)):
        row(key)["breaches"][rule] += int(n)
    dim, where, _moment = q.overdue()
    ruled = q.rule_of_open()
    for key, rule, n in session.execute(
            select(dim, ruled, func.count()).select_from(OpenTask).join(Instance, Instance.id == OpenTask.instance_id)
            .where(*where).group_by(dim, ruled)):
        row(key)["breaches"][rule] += int(n)
    # 4. open cases by age (now)
    dim, where, _moment = q.open_cases()
    bucket = q.age_bucket()
    for key, age, n in session.execute(select(dim, bucket, func.count()).where(*where).group_by(dim, bucket)):
        row(key)["open"][age] += int(n)

    order = {BEFORE: -1, **{k: i for i, (k, _start) in enumerate(q.buckets)}, AFTER: len(q.buckets)}
    ordered = [rows[k] for k in sorted(rows, key=lambda k: (k == "", order.get(k, -1) if q.timed else 0, k))]
    total = row("__total__", raw=False)
    del rows["__total__"]
    for r in ordered:
        for name in ("service_cases", "complaints", "work_orders", "work_orders_late", "repairs_checked",
                     "first_time_fixes", "rated_cases", "satisfaction_sum"):
            total[name] += r[name]
        for rule in RULES:
            total["breaches"][rule] += r["breaches"][rule]
        for age in total["open"]:
            total["open"][age] += r["open"][age]
    total["key"] = None
    for r in [*ordered, total]:
        _derive(r)
    return {"from": span.start.isoformat(), "to": span.end.isoformat(), "by": by, "rows": ordered, "total": total}


def _derive(r: dict) -> None:
    r["complaint_rate"] = _rate(r["complaints"], r["service_cases"])
    r["work_orders_on_time"] = r["work_orders"] - r["work_orders_late"]
    r["on_time_rate"] = _rate(r["work_orders_on_time"], r["work_orders"])
    r["first_time_fix_rate"] = _rate(r["first_time_fixes"], r["repairs_checked"])
    total = r.pop("satisfaction_sum")
    r["satisfaction"] = round(total / r["rated_cases"], 2) if r["rated_cases"] else None
    r["breaches_total"] = sum(r["breaches"].values())
    r["open_total"] = sum(r["open"].values())


# --- drill-down: the cases behind one figure ---------------------------------------------------------


def cases_query(session: Session, span: Period, by: str, now: datetime, name: str, key: str | None) -> Select:
    """A select of the instance ids counted in figure ``name`` for dimension value ``key`` (None: all rows,
    "" the unknown value) — the same conditions the counts use."""
    q = Query(session, span, by, now)

    def ids(source, frm=None, join: bool = False) -> Select:
        dim, where, moment = source
        s = select(Instance.id) if frm is None else select(frm.instance_id).select_from(frm)
        if join:
            s = s.join(Instance, Instance.id == frm.instance_id)
        return s.where(*where, *q.matching(dim, moment, key))

    if name in ("service_cases", "complaints"):
        return ids(q.reported(SERVICE_KEY if name == "service_cases" else COMPLAINT_KEY))
    finished = {
        "work_orders": Instance.work_orders > 0,
        "work_orders_late": Instance.work_orders_late > 0,
        "work_orders_on_time": and_(Instance.work_orders > 0, Instance.work_orders > Instance.work_orders_late),
        "repairs_checked": Instance.first_time_fix.is_not(None),
        "first_time_fixes": Instance.first_time_fix.is_(True),
        "not_first_time": Instance.first_time_fix.is_(False),
        "rated_cases": Instance.satisfaction.is_not(None),
    }
    if name in finished:
        return ids(q.finished(finished[name]))
    if name.startswith("breach_"):
        rule = name.removeprefix("breach_")
        late = ids(q.late(rule), LateTask)
        overdue = ids(q.overdue(rule), OpenTask, join=True)
        return select(Instance.id).where(or_(Instance.id.in_(late), Instance.id.in_(overdue)))
    if name.startswith("open_"):
        age = next(a for a in AGES if a[0] == name.removeprefix("open_"))
        return ids(q.open_cases(age))
    raise InvalidRequest(f"metric: '{name}' is not one of {', '.join(METRICS)}")


def drill_down(session: Session, span: Period, by: str, now: datetime, name: str, key: str | None,
               limit: int = 500) -> tuple[list[Instance], int]:
    """The cases behind one figure (at most ``limit``, newest first) and how many there are."""
    ids = cases_query(session, span, by, now, name, key).subquery()
    count = session.scalar(select(func.count(func.distinct(ids.c[0])))) or 0
    found = list(session.scalars(select(Instance).where(Instance.id.in_(select(ids.c[0])))
                                 .order_by(Instance.started_at.desc(), Instance.id.desc()).limit(limit)))
    return found, int(count)
