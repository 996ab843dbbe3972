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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from .db import as_utc
from .errors import InvalidRequest
from .models import HistoryEntry, Instance, LateTask, OpenTask, User

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
                         completed_by=by, due_at=as_utc(task.due_at), completed_at=as_utc(now)))


def _score(variables: dict) -> float | None:
    if isinstance(variables.get("satisfaction"), int | float) and not isinstance(variables["satisfaction"], bool):
        return float(variables["satisfaction"])
    scores = [v for k in ("satisfaction_quality", "satisfaction_timeliness", "satisfaction_attitude")
              if isinstance(v := variables.get(k), int | float) and not isinstance(v, bool)]
    return round(sum(scores) / len(scores), 2) if scores else None


def note_finished(session: Session, instance: Instance, variables: dict) -> None:
    """Write a completed repair case's figures onto its row (two small reads of its own rows)."""
    if instance.key != SERVICE_KEY:
        return
    counted: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]
        select(HistoryEntry.element_id, func.count())
        .where(HistoryEntry.instance_id == instance.id,
               HistoryEntry.element_id.in_((*WORK_ORDER_TASKS, "qc", "rework", "escalate")),
               HistoryEntry.kind.in_(("UserTask", "ServiceTask")))
        .group_by(HistoryEntry.element_id)).all())
    late = session.scalar(select(func.count()).select_from(LateTask).where(
        LateTask.instance_id == instance.id, LateTask.element_id.in_(WORK_ORDER_TASKS))) or 0
    # this step's own late row is not flushed yet
    late += sum(1 for obj in session.new if isinstance(obj, LateTask) and obj.instance_id == instance.id
                and obj.element_id in WORK_ORDER_TASKS)
    orders = sum(counted.get(t, 0) for t in WORK_ORDER_TASKS)
    instance.work_orders = orders or None
    instance.work_orders_late = min(late, orders) if orders else None
    instance.first_time_fix = (counted.get("rework", 0) == 0 and counted.get("escalate", 0) == 0) \
        if counted.get("qc") else None
    instance.satisfaction = _score(variables)
    technician = variables.get("technician")
    instance.technician = str(technician)[:80] if technician else None
    if instance.technician:
        groups = session.scalar(select(User.groups).where(User.username == instance.technician)) or ""
        instance.team = next((g for g in groups.split(",") if g), None)


# --- reading them ---------------------------------------------------------------------------------


def _bucket(session: Session, column, by: str, tz: ZoneInfo, now: datetime):
    """The SQL text of a moment's local month (YYYY-MM) or week (its Monday, YYYY-MM-DD)."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(tz.key, column)
        return func.to_char(func.date_trunc(by, local), "YYYY-MM" if by == "month" else "YYYY-MM-DD")
    offset = as_utc(now).astimezone(tz).utcoffset() or timedelta()  # type: ignore[union-attr]
    shift = f"{int(offset.total_seconds()) // 60:+d} minutes"
    if by == "month":
        return func.strftime("%Y-%m", column, shift)
    return func.date(column, shift, "weekday 0", "-6 days")


def _first_group(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.nullif(func.split_part(column, ",", 2), "")
    return func.nullif(func.substr(column, 2, func.instr(func.substr(column, 2), ",") - 1), "")


_CASE_DIMS = {"group": Instance.team, "technician": Instance.technician, "product": Instance.product_model,
              "region": Instance.region}


class Query:
    """The selects behind each figure: counted with GROUP BY, or listed (drill-down) with the same WHERE."""

    def __init__(self, session: Session, span: Period, by: str, now: datetime):
        self.session, self.span, self.by, self.now = session, span, by, as_utc(now)

    def case_dim(self, moment):
        if self.by in ("month", "week"):
            return _bucket(self.session, moment, self.by, self.span.tz, self.now)  # type: ignore[arg-type]
        return _CASE_DIMS[self.by]

    def in_period(self, column):
        return and_(column >= self.span.lo, column < self.span.hi)

    # each source: (dimension expression, FROM/WHERE select of instance ids)
    def reported(self, key: str):
        return self.case_dim(Instance.started_at), [Instance.key == key, self.in_period(Instance.started_at)]

    def finished(self, *extra):
        return self.case_dim(Instance.ended_at), [Instance.key == SERVICE_KEY, Instance.state == "completed",
                                                  self.in_period(Instance.ended_at), *extra]

    def late(self, rule: str | None = None):
        if self.by in ("month", "week"):
            dim = _bucket(self.session, LateTask.completed_at, self.by, self.span.tz, self.now)  # type: ignore[arg-type]
        elif self.by == "group":
            dim = _first_group(self.session, LateTask.candidate_groups)
        elif self.by == "technician":
            dim = LateTask.completed_by
        else:
            dim = _CASE_DIMS[self.by]
        where = [LateTask.rule.is_not(None) if rule is None else LateTask.rule == rule,
                 self.in_period(LateTask.completed_at)]
        return dim, where

    def rule_of_open(self):
        return case(*[(and_(Instance.key == k, OpenTask.element_id == e), literal(r)) for (k, e), r in SLA_RULES.items()],
                    else_=None)

    def overdue(self, rule: str | None = None):
        if self.by in ("month", "week"):
            dim = _bucket(self.session, OpenTask.due_at, self.by, self.span.tz, self.now)  # type: ignore[arg-type]
        elif self.by == "group":
            dim = _first_group(self.session, OpenTask.candidate_groups)
        elif self.by == "technician":
            dim = OpenTask.assignee
        else:
            dim = _CASE_DIMS[self.by]
        ruled = self.rule_of_open()
        where = [OpenTask.due_at < self.now, self.in_period(OpenTask.due_at),
                 ruled.is_not(None) if rule is None else ruled == rule]
        return dim, where

    def open_cases(self, age: tuple[str, int, int | None] | None = None):
        dim = self.case_dim(Instance.started_at)
        where = [Instance.key.in_(OPEN_KEYS), Instance.state.in_(("running", "error"))]
        if age is not None:
            _name, low, high = age
            where.append(Instance.started_at <= self.now - timedelta(days=low))
            if high is not None:
                where.append(Instance.started_at > self.now - timedelta(days=high))
        return dim, where

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

    def row(key: Any) -> dict:
        k = _key(key)
        if k not in rows:
            rows[k] = {"key": k, "service_cases": 0, "complaints": 0, "work_orders": 0, "work_orders_late": 0,
                       "repairs_checked": 0, "first_time_fixes": 0, "rated_cases": 0, "satisfaction_sum": 0.0,
                       "breaches": dict.fromkeys(RULES, 0), "open": {a[0]: 0 for a in AGES}}
        return rows[k]

    # 1. reported cases: service cases and complaints
    dim = q.case_dim(Instance.started_at)
    for key, services, complaints in session.execute(
            select(dim, func.sum(case((Instance.key == SERVICE_KEY, 1), else_=0)),
                   func.sum(case((Instance.key == COMPLAINT_KEY, 1), else_=0)))
            .where(Instance.key.in_((SERVICE_KEY, COMPLAINT_KEY)), q.in_period(Instance.started_at))
            .group_by(dim)):
        r = row(key)
        r["service_cases"], r["complaints"] = int(services or 0), int(complaints or 0)
    # 2. finished repairs: work orders, first-time fixes, satisfaction
    dim, where = q.finished()
    for key, orders, late, checked, fixed, rated, score in session.execute(
            select(dim, func.coalesce(func.sum(Instance.work_orders), 0), func.coalesce(func.sum(Instance.work_orders_late), 0),
                   func.count(Instance.first_time_fix),
                   func.sum(case((Instance.first_time_fix.is_(True), 1), else_=0)),
                   func.count(Instance.satisfaction), func.coalesce(func.sum(Instance.satisfaction), 0))
            .where(*where).group_by(dim)):
        r = row(key)
        r.update(work_orders=int(orders), work_orders_late=int(late), repairs_checked=int(checked),
                 first_time_fixes=int(fixed or 0), rated_cases=int(rated), satisfaction_sum=float(score))
    # 3. breaches: late completions and open overdue tasks
    dim, where = q.late()
    needs_case = by in ("product", "region")
    late_q = select(dim, LateTask.rule, func.count()).select_from(LateTask).where(*where)
    if needs_case:
        late_q = late_q.join(Instance, Instance.id == LateTask.instance_id)
    for key, rule, n in session.execute(late_q.group_by(dim, LateTask.rule)):
        row(key)["breaches"][rule] += int(n)
    dim, where = q.overdue()
    ruled = q.rule_of_open()
    for key, rule, n in session.execute(
            select(dim, ruled, func.count()).select_from(OpenTask).join(Instance, Instance.id == OpenTask.instance_id)
            .where(*where).group_by(dim, ruled)):
        row(key)["breaches"][rule] += int(n)
    # 4. open cases by age (now)
    dim, where = q.open_cases()
    bucket = q.age_bucket()
    for key, age, n in session.execute(select(dim, bucket, func.count()).where(*where).group_by(dim, bucket)):
        row(key)["open"][age] += int(n)

    ordered = [rows[k] for k in sorted(rows, key=lambda k: (k == "", k))]
    total = row("__total__")
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

    def where_key(dim) -> list:
        if key is None:
            return []
        return [dim.is_(None)] if key == "" else [dim == key]

    def ids(dim, where, frm=None, join=None) -> Select:
        s = select(Instance.id) if frm is None else select(frm.instance_id).select_from(frm)
        if join is not None:
            s = s.join(Instance, Instance.id == join.instance_id)
        return s.where(*where, *where_key(dim))

    if name in ("service_cases", "complaints"):
        dim, where = q.reported(SERVICE_KEY if name == "service_cases" else COMPLAINT_KEY)
        return ids(dim, where)
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
        dim, where = q.finished(finished[name])
        return ids(dim, where)
    if name.startswith("breach_"):
        rule = name.removeprefix("breach_")
        dim, where = q.late(rule)
        late = ids(dim, where, LateTask, LateTask if by in ("product", "region") else None)
        dim, where = q.overdue(rule)
        overdue = ids(dim, where, OpenTask, OpenTask)
        return select(Instance.id).where(or_(Instance.id.in_(late), Instance.id.in_(overdue)))
    if name.startswith("open_"):
        age = next(a for a in AGES if a[0] == name.removeprefix("open_"))
        dim, where = q.open_cases(age)
        return ids(dim, where)
    raise InvalidRequest(f"metric: '{name}' is not one of {', '.join(METRICS)}")


def drill_down(session: Session, span: Period, by: str, now: datetime, name: str, key: str | None,
               limit: int = 500) -> tuple[list[Instance], int]:
    """The cases behind one figure (at most ``limit``, newest first) and how many there are."""
    ids = cases_query(session, span, by, now, name, key).subquery()
    count = session.scalar(select(func.count(func.distinct(ids.c[0])))) or 0
    found = list(session.scalars(select(Instance).where(Instance.id.in_(select(ids.c[0])))
                                 .order_by(Instance.started_at.desc(), Instance.id.desc()).limit(limit)))
    return found, int(count)
