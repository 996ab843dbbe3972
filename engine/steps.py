"""One step of one instance: load, advance, save — the unit that commits together.

A :class:`Step` owns what a step writes (workflow state, open-task rows, timers, message waits,
history) and writes it in a few prebuilt statements; the caller's session commit makes it durable. The
instance row carries a revision, checked by the step's one UPDATE of the row, so of two steps racing on
one instance exactly one writes and the other gets :class:`Conflict`. Writing handlers run without
savepoints unless one fails; the step then goes again with them (``engine/savepoints.py``).
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import isodate
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    ScriptTask,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, Table, bindparam, delete, insert, select, update
from sqlalchemy import inspect as orm_state
from sqlalchemy.orm.exc import StaleDataError

from . import (
    async_tasks,
    bpmn_errors,
    due_dates,
    expressions,
    external_tasks,
    kpis,
    live,
    notifications,
    savepoints,
    state,
    task_lists,
)
from .clock import use_clock
from .db import as_utc, database_error
from .errors import AftersalesError, BpmnError, Conflict, HandlerFailed
from .models import AsyncJob, HistoryEntry, Instance, MessageKey, MessageWait, Notification, OpenTask, Timer
from .regions import region_of
from .sandbox import SandboxEnvironment
from .service_tasks import HandlerContext
from .working_days import RULES, WorkingCalendar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .clock import Clock
    from .live import LiveWorkflows
    from .service_tasks import HandlerRegistry
    from .specs import ProcessSpecs, SpecCache
    from .users import Actor


class StepHost(Protocol):
    """What a step needs of the engine that runs it (the process engine of ``instances`` is the one host).

    Spelled out here so that this module, and the modules above it that run steps, depend on these
    few parts and not on the engine facade that imports them."""

    clock: Clock
    handlers: HandlerRegistry
    settings: dict[str, Any]
    live: LiveWorkflows
    specs: SpecCache

    def calendar(self, session: Session) -> WorkingCalendar: ...

    def spec_for(self, session: Session, instance: Instance) -> ProcessSpecs: ...

    def start(self, session: Session, key: str, actor: Actor, business_key: str | None = None,
              variables: dict | None = None) -> Instance: ...

_INSTANCES = cast(Table, Instance.__table__)
_OPEN_TASKS = cast(Table, OpenTask.__table__)
_HISTORY = cast(Table, HistoryEntry.__table__)
_TIMERS = cast(Table, Timer.__table__)
_MESSAGE_WAITS = cast(Table, MessageWait.__table__)
_MESSAGE_KEYS = cast(Table, MessageKey.__table__)
_NOTIFICATIONS = cast(Table, Notification.__table__)
_ASYNC_JOBS = cast(Table, AsyncJob.__table__)
# Statements every step runs, built once (bound parameters; the values come with each execution).
_INSERT_HISTORY = insert(_HISTORY)
_INSERT_OPEN_TASKS = insert(_OPEN_TASKS)
_INSERT_NOTIFICATIONS = insert(_NOTIFICATIONS)
_REPLACE_OPEN_TASK = update(_OPEN_TASKS).where(_OPEN_TASKS.c.id == bindparam("replaced_id"))
_RECORDED = (ScriptTask, BusinessRuleTask, IntermediateCatchEvent, BoundaryEvent, EndEvent)
_sandbox = SandboxEnvironment()
log = logging.getLogger(__name__)


def _missing_collection(task) -> str | None:
    """The variable a multi-instance task iterates over when the case does not hold it (SpiffWorkflow then
    fails with a bare ``TypeError``: 'NoneType' object is not iterable)."""
    name = getattr(getattr(getattr(task, "task_spec", None), "data_input", None), "bpmn_id", None)
    return name if name and task.data.get(name) is None else None


def _unexpected(exc: BaseException, instance_id: int, where: str) -> str:
    """Log an exception none of our code raised on purpose with its traceback; the case keeps the message."""
    log.error("unexpected error in instance %s at %s", instance_id, where, exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


_INSTANCE_COLUMNS = frozenset(c.key for c in _INSTANCES.columns) - {"id", "revision"}


@functools.cache
def _instance_update(keys: tuple[str, ...]):
    """The revision-checked UPDATE of these columns of one instance, built once per set of columns."""
    return (update(_INSTANCES)
            .where(_INSTANCES.c.id == bindparam("row_id"), _INSTANCES.c.revision == bindparam("old_revision"))
            .values({**{key: bindparam(f"new_{key}") for key in keys}, "revision": bindparam("new_revision")}))


class StepScriptEngine(PythonScriptEngine):
    """The script engine a loaded workflow runs with: sandboxed, and bound to its step."""

    def __init__(self, step: Step):
        super().__init__(environment=_sandbox)
        self.step = step

    def evaluate(self, task, expression, external_context=None):
        calls = self.step.calendar_calls
        first = len(calls)
        result = super().evaluate(task, expression, {**self.step.functions(), **(external_context or {})})
        if len(calls) > first and isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            # A working-time timer: keep its rule so a calendar change can count it again.
            rule = due_dates.rule_for(result, calls[first:], self.step.now)
            if rule:
                task._set_internal_data(due_rule=rule)
        return result

    def run_handler(self, task, topic: str) -> bool | None:
        return self.step.run_handler(task, topic)

    def bpmn_error(self, task, error: BpmnError) -> None:
        """A service task's handler raised ``error``: thrown once the task is STARTED (``Step.advance``)."""
        self.step.thrown.append((task, error))

    def call_service(self, task, **kwargs):  # SpiffWorkflow's own version refers to an undefined name
        raise HandlerFailed(task.task_spec.bpmn_id, "service task without a handler topic")


def element_id(task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def element_name(task) -> str:
    return getattr(task.task_spec, "bpmn_name", None) or element_id(task)


def evaluate(expression: str, data: dict, functions: dict | None = None) -> Any:
    return _sandbox.evaluate(expressions.juel_to_python(expression), data, functions)


def _resolve(text: str | None, data: dict) -> str | None:
    """A literal, or an expression over the variables. An expression naming a variable that is
    not set yet leaves the task to its candidate groups instead of stopping the case."""
    if not text:
        return None
    if expressions.is_juel(text):
        try:
            value = evaluate(text, data)
        except NameError:
            return None
        return None if value is None else str(value)
    return text


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _fixed_due(value: Any, text: str, created: datetime) -> datetime:
    if isinstance(value, datetime):
        return cast(datetime, as_utc(value))
    if isinstance(value, str):
        if expressions.ISO_DURATION.match(value):
            duration = isodate.parse_duration(value)
            return created + (duration if isinstance(duration, timedelta) else duration.totimedelta(start=created))
        return cast(datetime, as_utc(datetime.fromisoformat(value)))
    raise ValueError(f"due date '{text}' is neither a date nor a duration")


class Step:
    def __init__(self, engine: StepHost, session: Session, instance: Instance, actor: Actor):
        self.engine = engine
        self.session = session
        self.instance = instance
        self.actor = actor
        self.now = engine.clock.now()
        self.history: list[dict] = []
        # What the database holds for this instance as of the last save; only differences are written.
        self._open_before: set[str] = set()
        self._waits_before: frozenset = frozenset()
        self._keys_before: frozenset = frozenset()
        self._external_before: frozenset[str] = frozenset()  # tasks waiting for an external worker
        self._functions: dict[str, Any] | None = None
        self._calendar: WorkingCalendar | None = None
        self.calendar_calls: list[due_dates.Call] = []  # what the calendar functions answered this step
        self.thrown: list[tuple[Any, BpmnError]] = []  # BPMN errors handlers raised, to throw at their tasks
        self._open_rows: list[dict] | None = None  # the open-task rows the last save left, when it wrote them all

    # --- loading and running ------------------------------------------------------------

    def functions(self) -> dict[str, Any]:
        """Date helpers a diagram may call in due dates, timers and conditions."""
        if self._functions is None:
            now = self.now
            self._functions = {name: self._calendar_function(name) for name in RULES}
            self._functions["now"] = lambda: now.isoformat()
            self._functions["cron_cycle"] = lambda text: expressions.cron_cycle(text, now)
        return self._functions

    def _calendar_function(self, name: str):
        def call(*args):
            args = [a if isinstance(a, int | float) else str(a) for a in args]
            result = RULES[name](self.calendar(), self.now, *args).isoformat()
            self.calendar_calls.append((name, args, result))
            return result
        return call

    def due(self, text: str | None, data: dict, task=None) -> tuple[datetime | None, dict | None]:
        """A task's due date, and the rule to count it again by when it came from the calendar.

        A due date the diagram cannot compute (a variable not set, a value that is neither a date
        nor a duration) must not block the person completing the task before it: the task opens
        without a deadline and the case history says why, for the process owner to fix."""
        if not text:
            return None, None
        value: Any = text.strip()
        rule = None
        try:
            if expressions.is_juel(value):
                first = len(self.calendar_calls)
                value = evaluate(value, data, self.functions())
                rule = due_dates.rule_for(value, self.calendar_calls[first:], self.now)
            return _fixed_due(value, text, self.now), rule
        except (AftersalesError, SpiffWorkflowException, ArithmeticError, LookupError, NameError, TypeError,
                ValueError, isodate.ISO8601Error) as exc:
            where = element_id(task) if task is not None else "?"
            log.warning("instance %s: due date %r of %s could not be computed: %s", self.instance.id, text, where, exc)
            if task is not None:
                self.record(task, "due_date_failed", "system", {"expression": text, "error": _short(exc)})
            return None, None

    def calendar(self) -> WorkingCalendar:
        if self._calendar is None:
            self._calendar = self.engine.calendar(self.session)  # closed days are read only when needed
        return self._calendar

    def specs(self):
        return self.engine.spec_for(self.session, self.instance)

    def load(self):
        """The instance's workflow: this process's live copy when it is at the stored revision, else the blob."""
        inst = self.instance
        wf = live.take(self.session, self.engine.live, inst.id, inst.revision)
        if wf is not None:
            wf.script_engine = StepScriptEngine(self)
        else:
            specs = self.specs()
            wf = state.load(inst.workflow, specs.spec, specs.subprocess_specs, StepScriptEngine(self))
        self.remember(wf)
        return wf

    def remember(self, wf) -> None:
        """Note what the last save wrote for ``wf``: open tasks and waits are derived from it."""
        self._open_before = set(self._open_ids(wf))
        self._waits_before = frozenset(self._waits(wf))
        self._keys_before = self._keys(wf, self._waits_before)
        self._external_before = frozenset(str(t.id) for t in external_tasks.waiting(wf, self.engine.handlers.topics))

    def record(self, task, kind: str, by: str, data: dict | None = None) -> None:
        self.history.append({
            "instance_id": self.instance.id, "task_id": str(task.id), "element_id": element_id(task),
            "name": element_name(task), "kind": kind, "completed_by": by, "completed_at": self.now, "data": data,
        })

    def note(self, name: str, kind: str, by: str) -> None:
        self.history.append({"instance_id": self.instance.id, "task_id": None, "element_id": "", "name": name,
                             "kind": kind, "completed_by": by, "completed_at": self.now, "data": None})

    def _engine_task_done(self, task) -> None:
        if isinstance(task.task_spec, BusinessRuleTask):
            # what the decision decided goes into the history (the case archive reads the fee from it)
            before = task.parent.data if task.parent is not None else {}
            decided = {k: v for k, v in task.data.items() if k not in before or before[k] != v}
            self.record(task, "BusinessRuleTask", "system", state.clean_data(decided) or None)
        elif isinstance(task.task_spec, _RECORDED):
            self.record(task, type(task.task_spec).__name__, "system")

    def run_handler(self, task, topic: str) -> bool | None:
        """True when the topic's handler ran; None for a topic without one: the task waits (STARTED)
        for an external worker, which ``Step.save`` offers through ``external_tasks``."""
        try:
            handler = self.engine.handlers.get(topic)
        except KeyError:
            return None
        ctx = HandlerContext(
            session=self.session, now=self.now, instance_id=self.instance.id, process_key=self.instance.key,
            business_key=self.instance.business_key, element_id=element_id(task), variables=task.data,
            actor=self.actor.username, settings=self.engine.settings, start_process=self._start_process,
        )
        try:
            result = savepoints.run_handler(self.session, topic, handler, ctx, self.engine.handlers.writes(topic))
        except BpmnError:  # a business error for the diagram to catch: its writes are rolled back
            raise
        except Exception as exc:
            if database_error(exc) is not None:
                raise
            message = str(exc) if isinstance(exc, AftersalesError) else _unexpected(exc, self.instance.id, element_id(task))
            raise HandlerFailed(element_id(task), message) from exc
        if result:
            task.data.update(result)
        if ctx.new_business_key and not self.instance.business_key:
            self.instance.business_key = ctx.new_business_key
        self.record(task, "ServiceTask", "system", result or None)
        return True

    def _start_process(self, key: str, variables: dict, business_key: str | None = None) -> int:
        """Start another case in this same transaction (e.g. follow-up visits when a repair ends)."""
        started = self.engine.start(self.session, key, self.actor, business_key=business_key, variables=variables)
        if started.state == "error":
            raise RuntimeError(f"'{key}' started in error at {started.error_element}: {started.error_message}")
        return started.id

    def advance(self, wf) -> None:
        """Run everything that needs no person; a failure parks the instance in ``error``."""
        try:
            with use_clock(self.engine.clock):
                while True:
                    wf.do_engine_steps(did_complete_task=self._engine_task_done)
                    if self.thrown:
                        self._throw(*self.thrown.pop(0))
                        continue
                    if not any(not t.task_spec.manual for t in wf.get_tasks(state=TaskState.READY)):
                        break
        except (AftersalesError, SpiffWorkflowException, Exception) as exc:  # noqa: B014
            self.stopped(wf, exc)
            return
        self.instance.state = "running"
        self.instance.error_element = None
        self.instance.error_message = None

    def _throw(self, task, error: BpmnError) -> None:
        """Throw a handler's BPMN error at its task, as an external worker's is thrown (engine/bpmn_errors.py).
        Uncaught, the task is left READY: the case stops in ``error`` and *retry* runs the handler again."""
        try:
            bpmn_errors.throw(self, task, error.code, error.message, error.variables, "system")
        except bpmn_errors.UncaughtBpmnError:
            task._set_state(TaskState.READY)
            raise

    def complete_manual(self, wf, task) -> bool:
        """Complete a person's task. When what runs as it completes fails — a task or execution listener,
        an output mapping — the case stops in ``error`` there and the task stays open with the values
        given (as Camunda rolls the completion back); False then. Never an unhandled error to the caller."""
        try:
            with use_clock(self.engine.clock):
                task.run()
        except (AftersalesError, SpiffWorkflowException, Exception) as exc:  # noqa: B014
            task._set_state(TaskState.READY)
            self.stopped(wf, exc, task)
            return False
        return True

    def stopped(self, wf, exc: Exception, task=None) -> None:
        """Park the instance in ``error`` where ``exc`` stopped it (a database error is raised as such)."""
        database = database_error(exc)
        if database is not None:
            raise database from None
        failed = wf.get_tasks(state=TaskState.ERROR)
        for each in failed:
            each._set_state(TaskState.READY)
        task = getattr(exc, "task", None) or task or (failed[0] if failed else None)
        where = getattr(exc, "element_id", None) or (element_id(task) if task is not None else "?")
        if isinstance(exc, HandlerFailed):
            message = exc.message
        elif isinstance(exc, TypeError) and (looping := next((t for t in wf.get_tasks(
                state=TaskState.READY | TaskState.STARTED | TaskState.WAITING) if _missing_collection(t)), None)):
            where = element_id(looping)
            message = (f"multi-instance '{where}': its collection '{_missing_collection(looping)}' is not set "
                       "(it needs a list)")
        elif isinstance(exc, AftersalesError | SpiffWorkflowException):
            message = str(exc)
            log.info("instance %s stopped at %s: %s", self.instance.id, where, message)
        else:
            message = _unexpected(exc, self.instance.id, where)
        self.instance.state = "error"
        self.instance.error_element = where
        self.instance.error_message = message or type(exc).__name__
        notifications.case_in_error(self.session, self.instance, where, self.instance.error_message, self.now)

    # --- saving --------------------------------------------------------------------------

    def save(self, wf) -> None:
        inst = self.instance
        state.compact(wf)
        finished = False
        if inst.state == "cancelled":
            inst.workflow = None
            finished = True
        elif inst.state != "error" and wf.is_completed():
            inst.state = "completed"
            inst.ended_at = self.now
            inst.variables = state.clean_data(wf.data or self._last_data(wf))
            inst.workflow = None
            # the end event reached: KPIs count outcomes by it, and it stays when the history goes
            inst.outcome = next((h["element_id"] for h in reversed(self.history) if h["kind"] == "EndEvent"),
                                inst.outcome)
            finished = True
        else:
            inst.workflow = state.dump(wf)
        self._note_customer(wf, inst.variables if finished else None)
        if finished and inst.state == "completed":
            with self.session.no_autoflush:
                kpis.note_finished(self.session, inst, inst.variables or {})
        self._write_instance()  # first: a later statement's autoflush would write the row through the ORM
        self._sync_open_tasks(wf, finished)
        self._sync_waits(wf, finished)
        self._sync_jobs(wf, finished)
        self._external_before = external_tasks.sync(self.session, inst, wf, finished, self.now,
                                                    self.engine.handlers.topics, self._external_before)
        if self.history:
            self.session.execute(_INSERT_HISTORY, self.history)
            self.history = []
        try:
            self.session.flush()
        except StaleDataError as exc:
            raise Conflict(f"instance {inst.id} was changed by someone else; reload and try again") from exc
        live.saved_open_tasks(self.session, inst.id, inst.revision, self._open_rows)
        if not finished:
            live.offer(self.session, self.engine.live, inst.id, inst.revision, wf)

    def _write_instance(self) -> None:
        """The instance row's changed columns in one revision-checked UPDATE (Core: the ORM's flush of the
        same row costs more than the statement). Of two steps racing on the case, the second matches no
        row and gets :class:`Conflict`; the row's new values are then the session's committed state."""
        inst = self.instance
        seen = orm_state(inst)
        if seen.pending:
            return  # not inserted yet: the flush writes it whole
        # the attributes set since the row was read (their old values are kept there), the revision aside
        changed = {key: seen.dict.get(key) for key in seen.committed_state if key in _INSTANCE_COLUMNS}
        if not changed:
            return
        revision = inst.revision + 1
        with self.session.no_autoflush:  # else the flush would write the row first, and this match nothing
            result = cast(CursorResult, self.session.execute(_instance_update(tuple(sorted(changed))), {
                **{f"new_{key}": value for key, value in changed.items()},
                "row_id": inst.id, "old_revision": inst.revision, "new_revision": revision}))
        if result.rowcount != 1:
            raise Conflict(f"instance {inst.id} was changed by someone else; reload and try again")
        # the row now holds these values: what the ORM does after its own flush (Instance maps only columns),
        # so the session has nothing of the instance left to write or to look at when it next flushes
        seen.dict["revision"] = revision
        seen._commit_all(seen.dict, seen.session.identity_map if seen.session else None)

    def _sync_jobs(self, wf, finished: bool) -> None:
        """A job row for each task waiting in front of an asynchronous handler (none while in error)."""
        inst = self.instance
        waiting = [] if finished or inst.state == "error" else [
            t for t in async_tasks.waiting(wf) if t.task_spec.topic in self.engine.handlers.topics]
        if finished and async_tasks.in_diagram(wf):
            # (a diagram without asynchronous tasks has no job rows; a row a migration left behind is
            # deleted by the worker when it finds its case ended, engine/async_runs.py)
            self.session.execute(delete(_ASYNC_JOBS).where(_ASYNC_JOBS.c.instance_id == inst.id))
        if not waiting:
            return
        have = set(self.session.scalars(select(AsyncJob.task_id).where(AsyncJob.instance_id == inst.id)))
        rows = async_tasks.job_rows([t for t in waiting if str(t.id) not in have], inst.id, self.now)
        if rows:
            self.session.execute(insert(_ASYNC_JOBS), rows)

    _CUSTOMER = {"customer_name": ("customer_name", "contact_name"), "customer_phone": ("customer_phone", "contact_phone"),
                 "serial_no": ("serial_no",), "product_model": ("product_model",)}

    def _note_customer(self, wf, final: dict | None) -> None:
        """Copy who the case is about onto the instance row (inbox filters, search)."""
        data = final
        if data is None:
            live = wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
            data = live[0].data if live else {}
        for column, names in self._CUSTOMER.items():
            value = next((data[n] for n in names if data.get(n)), None)
            if value is not None and getattr(self.instance, column) != str(value):
                setattr(self.instance, column, str(value)[:200])
        region = region_of(data.get("customer_address"))
        if region is not None and self.instance.region != region:
            self.instance.region = region

    @staticmethod
    def _last_data(wf) -> dict:
        ends = [t for t in wf.get_tasks(state=TaskState.COMPLETED)]
        return ends[-1].data if ends else {}

    @staticmethod
    def _open_ids(wf) -> dict:
        return {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}

    def _sync_open_tasks(self, wf, finished: bool) -> None:
        inst = self.instance
        ready = {} if finished else self._open_ids(wf)
        gone = sorted(tid for tid in self._open_before if tid not in ready)
        rows = []
        for task_id, task in ready.items():
            if task_id in self._open_before:
                continue
            a = getattr(task.task_spec, "assignment", None)
            groups = [_resolve(g, task.data) for g in (a.candidate_groups if a else [])]
            users = [_resolve(u, task.data) for u in (a.candidate_users if a else [])]
            due_at, due_rule = self.due(a.due_date, task.data, task) if a else (None, None)
            rows.append({
                "id": task_id, "instance_id": inst.id, "element_id": element_id(task), "name": element_name(task),
                "candidate_groups": task_lists.stored(groups),
                "candidate_users": task_lists.stored(users),
                # a task listener's task.setAssignee(…) (engine/camunda_extras.py) before the diagram's assignee
                "assignee": task.internal_data.get("assignee") or (_resolve(a.assignee, task.data) if a else None),
                "created_at": self.now, "due_at": due_at, "due_rule": due_rule,
                "overdue_notified_at": None,  # a replaced row must not keep the closed task's overdue mark
            })
        fresh = list(rows)
        if gone and fresh:
            # The usual click closes one task and opens the next: one row changes into the other in a
            # single UPDATE (the id included); it matches only while the closed task is still open.
            replaced = cast(CursorResult, self.session.execute(_REPLACE_OPEN_TASK, {**fresh[0], "replaced_id": gone[0]}))
            if replaced.rowcount != 1:
                raise Conflict(f"instance {inst.id} was changed by someone else; reload and try again")
            gone, fresh = gone[1:], fresh[1:]
        if gone:
            result = cast(CursorResult, self.session.execute(delete(_OPEN_TASKS).where(_OPEN_TASKS.c.id.in_(gone))))
            if result.rowcount != len(gone):
                raise Conflict(f"instance {inst.id} was changed by someone else; reload and try again")
        if fresh:
            self.session.execute(_INSERT_OPEN_TASKS, fresh)
        if rows and self.engine.settings.get("notify_tasks", True):
            notices = notifications.task_rows_opened(rows, inst.business_key, self.now)
            if notices:  # a task that names nobody has no one to tell
                self.session.execute(_INSERT_NOTIFICATIONS, notices)
        self._open_before = set(ready)
        # the case's open tasks as the table now holds them, when every one of them was written here (the
        # usual click): the answer to the click lists them without reading them back (engine/live.py)
        self._open_rows = [] if finished else (
            sorted(rows, key=lambda r: r["id"]) if len(rows) == len(ready) else None)

    def _waits(self, wf) -> list[tuple]:
        waits: list[tuple] = []
        for task in wf.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            if isinstance(definition, TimerEventDefinition):
                value = definition.details(task).value
                if value is None and not hasattr(definition, "cycle_complete"):
                    with use_clock(self.engine.clock):
                        definition.has_fired(task)
                    value = definition.details(task).value
                if isinstance(value, str):
                    waits.append(("timer", element_id(task), value, due_dates.dumps(task._get_internal_data("due_rule"))))
            elif isinstance(definition, MessageEventDefinition):
                waits.append(("message", element_id(task), definition.name))
        return waits

    @staticmethod
    def _keys(wf, waits: frozenset) -> frozenset:
        """What ``message_keys`` holds for a case waiting for a message: its scalar variables."""
        if not any(w[0] == "message" for w in waits):
            return frozenset()
        return state.message_keys(state.live_variables(wf))

    def _sync_waits(self, wf, finished: bool) -> None:
        inst = self.instance
        waits = frozenset() if finished else frozenset(self._waits(wf))
        keys = frozenset() if finished else self._keys(wf, waits)
        if keys != self._keys_before:
            if self._keys_before:
                self.session.execute(delete(_MESSAGE_KEYS).where(_MESSAGE_KEYS.c.instance_id == inst.id))
            if keys:
                self.session.execute(insert(_MESSAGE_KEYS), [{"instance_id": inst.id, "key": k, "value": v}
                                                             for k, v in sorted(keys)])
            self._keys_before = keys
        if waits == self._waits_before:
            return
        if any(w[0] == "timer" for w in self._waits_before):
            self.session.execute(delete(_TIMERS).where(_TIMERS.c.instance_id == inst.id))
        if any(w[0] == "message" for w in self._waits_before):
            self.session.execute(delete(_MESSAGE_WAITS).where(_MESSAGE_WAITS.c.instance_id == inst.id))
        timers = [{"instance_id": inst.id, "element_id": w[1], "due_at": as_utc(datetime.fromisoformat(w[2])),
                   "due_rule": json.loads(w[3]) if w[3] else None} for w in waits if w[0] == "timer"]
        messages = [{"instance_id": inst.id, "name": w[2], "element_id": w[1], "keyed": True}
                    for w in waits if w[0] == "message"]
        if timers:
            self.session.execute(insert(_TIMERS), timers)
        if messages:
            self.session.execute(insert(_MESSAGE_WAITS), messages)
        self._waits_before = waits
