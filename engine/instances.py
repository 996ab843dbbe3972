"""The engine's public face: deploy, start, work tasks, deliver messages, fire timers.

Every method takes the caller's SQLAlchemy session and only flushes; the caller commits (one
request, one job, one CLI command). Everything the engine needs from outside — clock, handler
registry, settings — comes in through the constructor (see ``engine/wiring.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Row,
    Table,
    bindparam,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, defer

from . import (
    access,
    async_runs,
    calendar_follow,
    case_summary,
    company_calendar,
    deployments,
    forms,
    incidents,
    kpis,
    limits,
    live,
    messages,
    schedules,
    state,
    task_queries,
    versions,
)
from .clock import Clock, use_clock
from .db import as_utc
from .errors import Conflict, FormInvalid, InvalidRequest, NotFound, NotPermitted
from .models import (
    Definition,
    HistoryEntry,
    Instance,
    OpenTask,
    ScheduledStart,
    Timer,
)
from .savepoints import optimistically
from .service_tasks import HandlerRegistry
from .specs import ProcessSpecs, SpecCache, current_all
from .state import clean_data
from .steps import Step, StepScriptEngine, element_id
from .task_lists import Audience
from .users import SYSTEM, Actor
from .working_days import SHANGHAI, WorkingCalendar

INSTANCE_STATES = ("running", "completed", "error", "cancelled")

# The statements of a click, built once with bound parameters (building one costs more than running it).
_OPEN_TASK_TABLE = cast(Table, OpenTask.__table__)
# The workflow blob is left out: a hot case's step finds its workflow in memory (engine/live.py), and
# only a miss reads the blob.
_TASK_AND_INSTANCE = (select(OpenTask, Instance).join(Instance, Instance.id == OpenTask.instance_id)
                      .where(OpenTask.id == bindparam("task_id")).options(defer(Instance.workflow)))
_DONE_BEFORE = select(HistoryEntry.id).where(
    HistoryEntry.instance_id == bindparam("instance_id"), HistoryEntry.element_id == bindparam("element_id"),
    HistoryEntry.kind == "UserTask").limit(1)
_OPEN_TASKS_OF = (select(_OPEN_TASK_TABLE).where(_OPEN_TASK_TABLE.c.instance_id == bindparam("instance_id"))
                  .order_by(_OPEN_TASK_TABLE.c.created_at, _OPEN_TASK_TABLE.c.id))


class ProcessEngine:
    def __init__(self, *, clock: Clock, handlers: HandlerRegistry, settings: dict[str, Any] | None = None):
        self.clock = clock
        self.handlers = handlers
        self.settings = dict(settings or {})
        self.specs = SpecCache()
        self.live = live.LiveWorkflows(int(self.settings.get("live_workflows", 256)))
        self.calendars = company_calendar.CalendarCache()

    def calendar(self, session: Session) -> WorkingCalendar:
        return company_calendar.cached(session, self.calendars, self.settings)

    def today(self) -> date:
        """The local day (configured time zone) that forms' relative date bounds count from."""
        return self.clock.now().astimezone(self.settings.get("time_zone", SHANGHAI)).date()

    # --- the calendar: every change counts rule-based due dates again, in the same transaction ---

    def add_calendar_day(self, session: Session, actor: Actor, day: Any, kind: Any, reason: Any = "") -> dict:
        change = company_calendar.add_day(session, actor, day, kind, reason, self.clock.now(), self.calendar(session))
        return self._follow_calendar(session, actor, change)

    def remove_calendar_day(self, session: Session, actor: Actor, day: str, kind: str | None = None) -> dict:
        change = company_calendar.remove_day(session, actor, day, self.clock.now(), kind)
        return self._follow_calendar(session, actor, change)

    def import_calendar(self, session: Session, actor: Actor, filename: str, content: bytes,
                        year: int | None = None) -> dict:
        change = company_calendar.import_schedule(session, actor, filename, content, self.clock.now(), year)
        return self._follow_calendar(session, actor, change)

    def _follow_calendar(self, session: Session, actor: Actor, change) -> dict:
        what = {"add_day": f"{change.day} {(change.detail or {}).get('kind')}",
                "remove_day": f"{change.day} removed", "import": f"{change.year} imported"}[change.action]
        moved = calendar_follow.follow_calendar(self, session, actor, f"calendar: {what}")
        change.detail = {**(change.detail or {}), "moved": moved}
        session.flush()
        return {"action": change.action, "day": change.day.isoformat() if change.day else None,
                "year": change.year, "detail": change.detail}

    # --- definitions ---------------------------------------------------------------------

    def deploy(self, session: Session, files: dict[str, bytes], actor: Actor, comment: str = "",
               source: str = "api", git_commit: str | None = None, dry_run: bool = False,
               java_as_external: bool = False) -> deployments.DeployResult:
        """Validate, then store a version per changed key; ``dry_run`` validates and stores nothing;
        ``java_as_external`` runs a service task naming Java with no Python handler as an external task."""
        access.require(access.may(actor, "deploy"), "only admin and process_owner may deploy")
        if dry_run:
            return deployments.preview(session, files, topics=self.handlers.topics, java_as_external=java_as_external)
        return deployments.deploy(session, files, user=actor.username, now=self.clock.now(),
                                  topics=self.handlers.topics, comment=comment, source=source, git_commit=git_commit,
                                  java_as_external=java_as_external)

    def spec_for(self, session: Session, instance: Instance) -> ProcessSpecs:
        cached = self.specs.cached(instance.definition_id, instance.bindings or {})
        if cached is not None:
            return cached
        definition = session.get(Definition, instance.definition_id)
        if definition is None:
            raise NotFound(f"definition of instance {instance.id} is gone")
        return self.specs.get(session, definition, instance.bindings or {})

    def start_form(self, session: Session, key: str) -> list[forms.FormField]:
        definition = deployments.get_definition(session, key)
        return self._start_fields(self.specs.get(session, definition, self.specs.bind(session, definition)))

    # --- instances -----------------------------------------------------------------------

    def start(self, session: Session, key: str, actor: Actor, business_key: str | None = None,
              variables: dict | None = None) -> Instance:
        return optimistically(session, lambda: self._start(session, key, actor, business_key, variables))

    def _start(self, session: Session, key: str, actor: Actor, business_key: str | None,
               variables: dict | None) -> Instance:
        current_now = current_all(session)
        definition = current_now.get(key) or deployments.get_definition(session, key)
        if definition.kind != "bpmn":
            raise InvalidRequest(f"'{key}' is a decision table, not a process")
        if variables is not None and not isinstance(variables, dict):
            raise FormInvalid({"variables": "must be an object"})
        bindings = self.specs.bind(session, definition, current_now)
        specs = self.specs.get(session, definition, bindings)
        start_fields = self._start_fields(specs)
        values = forms.validate(start_fields, variables or {}, checks=self.handlers.field_checks(session),
                                today=self.today()) \
            if start_fields else dict(variables or {})
        now = self.clock.now()
        instance = Instance(
            definition_id=definition.id, key=key, version=definition.version, business_key=business_key or None,
            state="running", bindings=bindings, started_by=actor.username, started_at=now,
        )
        session.add(instance)
        session.flush()
        step = Step(self, session, instance, actor)
        wf = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=StepScriptEngine(step))
        values.setdefault("initiator", actor.username)
        with use_clock(self.clock):
            start_task = wf.get_next_task(state=TaskState.READY)
            start_task.data.update(clean_data(values))
        step.advance(wf)
        step.save(wf)
        return instance

    @staticmethod
    def _start_fields(specs: ProcessSpecs) -> list[forms.FormField]:
        """The form of the process's plain start event (message and timer starts have none)."""
        for ts in specs.spec.start.outputs:
            fields = getattr(ts, "form_fields", None)
            if fields:
                return list(fields)
        return []

    def get_instance(self, session: Session, instance_id: int) -> Instance:
        instance = session.get(Instance, instance_id) if limits.valid_id(instance_id) else None
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    # One page of a list in one query: the columns a list shows (never the workflow), ``limit + 1`` rows
    # read to say whether more follow. Keyset cursors: a row completed meanwhile is simply gone and
    # shifts no other row from its page (issue 17).
    INSTANCE_COLUMNS = (Instance.id, Instance.key, Instance.version, Instance.business_key, Instance.state,
                        Instance.started_at, Instance.started_by, Instance.ended_at, Instance.customer_name,
                        Instance.customer_phone, Instance.serial_no)

    def instance_page(self, session: Session, actor: Actor, *, key: str | None = None, state: str | None = None,
                      business_key: str | None = None, where: ColumnElement[bool] | None = None,
                      after: int | None = None, limit: int = 50) -> tuple[list[Row], bool]:
        """Cases the actor may see (the access policy in the SQL), newest first, ids below ``after``."""
        if state and state not in INSTANCE_STATES:
            raise InvalidRequest(f"state must be one of {', '.join(INSTANCE_STATES)}")
        q = access.visible(select(*self.INSTANCE_COLUMNS).order_by(Instance.id.desc()).limit(limit + 1), actor)
        if key:
            q = q.where(Instance.key == key)
        if state:
            q = q.where(Instance.state == state)
        if business_key:
            q = q.where(Instance.business_key == business_key)
        if where is not None:
            q = q.where(where)
        if after is not None:
            q = q.where(Instance.id < after)
        rows = list(session.execute(q))
        return rows[:limit], len(rows) > limit

    def task_page(self, session: Session, actor: Actor, *, mine: bool = False, group: str | None = None,
                  instance_id: int | None = None, where: ColumnElement[bool] | None = None,
                  audience: Audience | None = None, after: tuple[datetime, str] | None = None,
                  limit: int = 50) -> tuple[list[Row], bool]:
        """Open tasks for the actor, oldest first, a page after ``after``: see engine.task_queries."""
        return task_queries.page(session, actor, mine=mine, group=group, instance_id=instance_id, where=where,
                                 audience=audience, after=after, limit=limit)

    def count_tasks(self, session: Session, actor: Actor, *, mine: bool = False) -> int:
        return task_queries.count(session, actor, mine=mine)

    def variables(self, session: Session, instance: Instance) -> dict:
        saved = live.pending(session, instance.id, instance.revision)
        if saved is not None:  # what this session's step just saved (the blob is not even read)
            return self._live_variables(saved)
        if instance.workflow is None:
            return dict(instance.variables or {})
        return self._live_variables(self._read(session, instance))

    def _read(self, session: Session, instance: Instance):
        """The workflow for reading only: what this session's step just saved (no second load), else the blob."""
        saved = live.pending(session, instance.id, instance.revision)
        if saved is not None:
            return saved
        specs = self.spec_for(session, instance)
        return state.load(cast(bytes, instance.workflow), specs.spec, specs.subprocess_specs,
                          StepScriptEngine(Step(self, session, instance, SYSTEM)))

    _live_variables = staticmethod(state.live_variables)

    def history(self, session: Session, instance_id: int, after: int | None = None,
                limit: int | None = None, latest: int | None = None) -> list[HistoryEntry]:
        """The case's history, oldest first; ``after`` an entry id and ``limit`` give one page,
        ``latest`` the last so many entries."""
        if latest is not None:
            q = select(HistoryEntry).where(HistoryEntry.instance_id == instance_id) \
                .order_by(HistoryEntry.id.desc()).limit(latest)
            return list(reversed(session.scalars(q).all()))
        q = select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id)
        if after is not None:
            q = q.where(HistoryEntry.id > after)
        if limit is not None:
            q = q.limit(limit)
        return list(session.scalars(q))

    def history_elements(self, session: Session, instance_id: int) -> set[str]:
        """Every element the case has passed (one row per element, however long the case ran)."""
        return set(session.scalars(select(HistoryEntry.element_id).where(HistoryEntry.instance_id == instance_id)
                                   .distinct()))

    def open_tasks(self, session: Session, instance_id: int, revision: int | None = None) -> list[Any]:
        """The case's open tasks as plain rows (a view reads them, nothing changes them): one Core read, or
        none when this transaction's step at ``revision`` wrote every one of them (the answer to a click)."""
        if revision is not None and (saved := live.open_tasks_saved(session, instance_id, revision)) is not None:
            return saved
        return list(session.execute(_OPEN_TASKS_OF, {"instance_id": instance_id}))

    def _running(self, session: Session, instance: Instance, actor: Actor) -> tuple[Step, Any]:
        if instance.state != "running":
            raise Conflict(f"instance {instance.id} is {instance.state}")
        step = Step(self, session, instance, actor)
        return step, step.load()

    def cancel(self, session: Session, instance_id: int, actor: Actor) -> Instance:
        access.require(access.may(actor, "cancel"), "only supervisors and admins may cancel a case")
        instance = self.get_instance(session, instance_id)
        if instance.state not in ("running", "error"):
            raise Conflict(f"instance {instance_id} is {instance.state}")
        step = Step(self, session, instance, actor)
        wf = step.load()
        variables = self._live_variables(wf)
        wf.cancel()
        instance.state = "cancelled"
        instance.ended_at = step.now
        instance.variables = variables
        step.note("cancelled", "cancel", actor.username)
        step.save(wf)
        return instance

    def retry(self, session: Session, instance_id: int, actor: Actor) -> Instance:
        instance = self.get_instance(session, instance_id)
        access.require(access.may_retry(actor, instance), "only supervisors, admins or who started the case may retry it")
        if instance.state != "error":
            raise Conflict(f"instance {instance_id} is {instance.state}, not error")
        self._bind_late(session, instance)
        step = Step(self, session, instance, actor)
        wf = step.load()
        step.advance(wf)
        step.save(wf)
        return instance

    def _bind_late(self, session: Session, instance: Instance) -> None:
        """A decision table deployed since the case started (it stopped at the task naming it): bound now."""
        definition = session.get(Definition, instance.definition_id)
        late = self.specs.late_bindings(session, definition, instance.bindings or {}) if definition else {}
        if late:
            instance.bindings = {**(instance.bindings or {}), **late}
            live.take(session, self.live, instance.id, instance.revision)  # its copy runs on the old spec

    def correct_variables(self, session: Session, instance_id: int, actor: Actor, changes: Any,
                          reason: Any) -> dict:
        """A supervisor's correction of a case in error, recorded with who and why (engine/incidents.py)."""
        access.require(access.supervises(actor), "only supervisors and admins correct a case")
        return incidents.correct_case(self, session, self.get_instance(session, instance_id), actor, changes, reason)

    def case_summary(self, session: Session, task: OpenTask, actor: Actor) -> dict:
        """What the task page shows above the form (engine/case_summary.py), as the policy allows:
        ``rows`` of ``{"id", "label", "type", "value"}`` (an enum's value as its option's name) and
        ``contact_hidden`` when contact data was withheld. Contact data shown is logged as read."""
        instance = self.get_instance(session, task.instance_id)
        specs = self.spec_for(session, instance)
        start = self._start_fields(specs)
        known = {f.id: f for f in start}
        for name, f in incidents.fields_by_id(specs).items():
            known.setdefault(name, f)
        variables = self.task_data(session, task) or self.variables(session, instance)
        rows, shown, hidden = case_summary.build(actor, instance.key, variables, [f.id for f in start],
                                                 access.may_see_case(session, actor, instance))
        if shown:
            access.log_read(session, actor, instance.id, self.clock.now(), "page:task-summary")
        out = []
        for name, value in rows:
            field = known.get(name)
            if field is not None and field.type == "enum":
                value = next((o["name"] for o in field.options if o["id"] == value), value)
            out.append({"id": name, "label": field.label if field is not None else name,
                        "type": field.type if field is not None else "string", "value": value})
        return {"rows": out, "contact_hidden": hidden}

    def correction_form(self, session: Session, instance: Instance) -> tuple[str, list[forms.FormField], dict]:
        """For a case in error: what a supervisor may correct (engine/incidents.py)."""
        return incidents.correction_form(self, session, instance)

    # --- tasks -----------------------------------------------------------------------------

    may_act = staticmethod(access.may_act)

    def get_task(self, session: Session, task_id: str, actor: Actor) -> OpenTask:
        return self._task_and_instance(session, task_id, actor, join=False)[0]

    def _task_and_instance(self, session: Session, task_id: str, actor: Actor,
                           join: bool = True) -> tuple[OpenTask, Instance | None]:
        """The open task if the actor may open it; with ``join`` its instance too, read in the same
        statement, as a step needs both."""
        instance = None
        if join:
            row = session.execute(_TASK_AND_INSTANCE, {"task_id": task_id}).first()
            task, instance = (row[0], row[1]) if row is not None else (None, None)
        else:
            task = session.get(OpenTask, task_id)
        if task is None:
            if session.scalars(select(HistoryEntry.id).where(HistoryEntry.task_id == task_id)).first():
                raise Conflict(f"task {task_id} is no longer open")
            raise NotFound(f"no task {task_id}")
        if not access.may_open_task(task, actor):
            raise NotPermitted(f"task {task_id} is not for {actor.username}")
        return task, instance

    @staticmethod
    def completed_task(session: Session, task_id: str) -> HistoryEntry | None:
        """The history entry of a task that is no longer open (who completed it, when, in which case)."""
        return session.scalars(select(HistoryEntry).where(HistoryEntry.task_id == task_id)
                               .order_by(HistoryEntry.id.desc()).limit(1)).first()

    def task_form(self, session: Session, task: OpenTask) -> list[forms.FormField]:
        instance = self.get_instance(session, task.instance_id)
        ts = self.spec_for(session, instance).task_specs_by_element.get(task.element_id)
        return list(getattr(ts, "form_fields", []) or [])

    def field_options(self, session: Session, fields: list[forms.FormField]) -> dict[str, list[dict]]:
        """For each field whose values come from the database (a parts picker): what may be picked."""
        out: dict[str, list[dict]] = {}
        for f in fields:
            source = self.handlers.field_source(f.type)
            if source is not None:
                out[f.id] = source.options(session)
        return out

    def field_labels(self, session: Session, instance: Instance) -> dict[str, str]:
        """Variable name -> the label the diagram's forms give it (for timelines)."""
        labels: dict[str, str] = {}
        specs = self.spec_for(session, instance)
        start = self._start_fields(specs)
        for ts in [*specs.task_specs_by_element.values()]:
            for f in getattr(ts, "form_fields", None) or []:
                labels.setdefault(f.id, f.label)
        for f in start:
            labels.setdefault(f.id, f.label)
        from .staff_messages import MESSAGES

        for message in MESSAGES.values():  # what staff record on a page (goods received)
            for f in message.fields:
                labels.setdefault(f.id, f.label)
        return labels

    @staticmethod
    def repeated_round(session: Session, task: OpenTask) -> bool:
        """Whether this task's element was completed before in the case (a rejection loop, rework)."""
        return session.scalars(_DONE_BEFORE, {"instance_id": task.instance_id, "element_id": task.element_id}
                               ).first() is not None

    def task_data(self, session: Session, task: OpenTask) -> dict:
        """The variables as the task sees them (form defaults, read-only fields)."""
        instance = self.get_instance(session, task.instance_id)
        if instance.workflow is None:
            return {}
        wf = self._read(session, instance)
        found = next((t for t in wf.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task.id), None)
        return clean_data(found.data) if found is not None else {}

    def list_tasks(self, session: Session, actor: Actor, *, mine: bool = False, group: str | None = None,
                   instance_id: int | None = None, limit: int = 500) -> list[OpenTask]:
        """The actor's open tasks, soonest due first: see engine.task_queries."""
        return task_queries.listing(session, actor, mine=mine, group=group, instance_id=instance_id, limit=limit)

    def claim(self, session: Session, task_id: str, actor: Actor) -> OpenTask:
        task = self.get_task(session, task_id, actor)
        if not self.may_act(task, actor):
            raise NotPermitted(f"task {task_id} is not for {actor.username}")
        return self._set_assignee(session, task, actor.username, expect=(None, actor.username))

    def unclaim(self, session: Session, task_id: str, actor: Actor) -> OpenTask:
        task = self.get_task(session, task_id, actor)
        if access.supervises(actor):
            return self._set_assignee(session, task, None, expect=(task.assignee,))
        return self._set_assignee(session, task, None, expect=(actor.username,))

    def assign(self, session: Session, task_id: str, actor: Actor, user: Actor) -> OpenTask:
        task = self.get_task(session, task_id, actor)
        if not access.may_be_given(task, user):
            raise InvalidRequest(f"{user.username} is not a candidate for task {task_id}")
        if access.supervises(actor):
            return self._set_assignee(session, task, user.username, expect=(task.assignee,))
        if not self.may_act(task, actor):
            raise NotPermitted(f"task {task_id} is not for {actor.username}")
        return self._set_assignee(session, task, user.username, expect=(None, actor.username))

    @staticmethod
    def _set_assignee(session: Session, task: OpenTask, assignee: str | None, expect: tuple) -> OpenTask:
        """Compare-and-set, so that of two people claiming at once exactly one gets the task."""
        column = _OPEN_TASK_TABLE.c.assignee
        allowed = [column.is_(None) if e is None else column == e for e in expect]
        result = cast(CursorResult, session.execute(
            update(_OPEN_TASK_TABLE).where(_OPEN_TASK_TABLE.c.id == task.id, or_(*allowed)).values(assignee=assignee)
        ))
        if result.rowcount != 1:
            session.expire(task)
            current = session.get(OpenTask, task.id)
            holder = current.assignee if current is not None else None
            raise Conflict(f"task {task.id} is " + (f"claimed by {holder}" if holder else "no longer open"))
        session.expire(task)
        live.forget_open_tasks(session, task.instance_id)
        fresh = session.get(OpenTask, task.id)
        if fresh is None:
            raise Conflict(f"task {task.id} is no longer open")
        return fresh

    def complete_task(self, session: Session, task_id: str, actor: Actor, variables: dict | None) -> Instance:
        return optimistically(session, lambda: self._complete_task(session, task_id, actor, variables))

    def _complete_task(self, session: Session, task_id: str, actor: Actor, variables: dict | None) -> Instance:
        task, joined = self._task_and_instance(session, task_id, actor)
        if not self.may_act(task, actor):
            raise NotPermitted(f"task {task_id} is not for {actor.username}")
        holder = access.held_by_other(task, actor)
        if holder:
            raise Conflict(f"task {task_id} is claimed by {holder}")
        instance = joined or self.get_instance(session, task.instance_id)
        step, wf = self._running(session, instance, actor)
        spiff_task = next((t for t in wf.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task_id), None)
        if spiff_task is None:
            raise Conflict(f"task {task_id} is no longer open")
        fields = list(getattr(spiff_task.task_spec, "form_fields", []) or [])
        values = forms.validate(fields, variables or {}, spiff_task.data, checks=self.handlers.field_checks(session),
                                today=self.today())
        # a loop: last round's decision is not carried on (asked only when a left-out field holds a value)
        left_out = [f for f in fields if not f.readonly and f.id not in values
                    and spiff_task.data.get(f.id) not in (None, "", [])]
        if left_out and self.repeated_round(session, task):
            for f in left_out:
                values[f.id] = {"string": "", "parts": []}.get(f.type)
        spiff_task.data.update(clean_data(values))
        limits.check_case_size(spiff_task.data, str(instance.business_key or instance.id))
        if task.assignee:  # a claim since it opened runs the task's assignment listeners (engine/camunda_extras.py)
            spiff_task.internal_data["assignee_now"] = task.assignee
        if step.complete_manual(wf, spiff_task):
            step.record(spiff_task, "UserTask", actor.username, values)
            kpis.note_late(session, instance, task, actor.username, step.now)
            step.advance(wf)
        step.save(wf)
        return instance

    def run_job(self, session: Session, job_id: int) -> str:
        """Run a claimed asynchronous job (engine/async_runs.py): done | retry | incident | gone."""
        return async_runs.run(self, session, job_id)

    def check_migration(self, session: Session, instance: Instance, target: Definition,
                        mapping: dict[str, str] | None = None, apply: bool = False, actor: Actor = SYSTEM):
        """Whether ``instance`` can move to ``target`` (and, with ``apply``, move it): see engine.versions."""
        return versions.check_migration(self, session, instance, target, mapping, apply, actor)

    # --- events ----------------------------------------------------------------------------

    def correlate_message(self, session: Session, name: str, correlation: dict | None, variables: dict | None,
                          actor: Actor, message_id: str | None = None,
                          business_key: str | None = None) -> tuple[list[Instance], bool]:
        """Deliver a message to the running cases waiting for it that match: see engine.messages."""
        return messages.correlate(self, session, name, correlation, variables, actor, message_id, business_key)

    def record_message(self, session: Session, instance_id: int, name: str, actor: Actor,
                       values: dict | None) -> Instance:
        """Staff record a message on a page for one case: see engine.messages."""
        return messages.record(self, session, instance_id, name, actor, values)

    def due_timers(self, session: Session, limit: int = 100) -> list[int]:
        now = self.clock.now()
        # strictly past: SpiffWorkflow fires a timer once its moment has passed
        rows = session.scalars(due_timers_query(now).order_by(Timer.due_at).limit(limit))
        return sorted(set(rows))

    def next_timer_due(self, session: Session) -> datetime | None:
        row = session.scalars(select(Timer.due_at).order_by(Timer.due_at).limit(1)).first()
        return as_utc(row)

    def due_starts(self, session: Session) -> list[ScheduledStart]:
        return schedules.due(session, self.clock.now())

    def start_scheduled(self, session: Session, row: ScheduledStart) -> Instance | None:
        """Start the case a timer start event asks for; None when another worker claimed it first."""
        if not schedules.claim(session, row, self.clock.now()):
            return None
        return self.start(session, row.key, SYSTEM)

    def fire_timers(self, session: Session, instance_id: int) -> bool:
        """Advance one instance whose timer is due. False when another worker got there first."""
        instance = session.get(Instance, instance_id)
        if instance is None or instance.state != "running":
            return False
        still_due = session.scalars(select(Timer.id).where(Timer.instance_id == instance_id,
                                                           Timer.due_at < self.clock.now())).first()
        if still_due is None:
            return False  # fired by another worker in the meantime
        step = Step(self, session, instance, SYSTEM)
        wf = step.load()
        step.advance(wf)
        step.save(wf)
        return True


def due_timers_query(now: datetime):
    """Timers past due of running cases (a case in error keeps its timer, not read every round). Read
    from the due end of the ``timers.due_at`` index, each case checked by its key: a join would let
    SQLite's planner start from the 100,000 running cases instead."""
    running = exists(select(Instance.id).where(Instance.id == Timer.instance_id, Instance.state == "running"))
    return select(Timer.instance_id).where(Timer.due_at < now, running)


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


__all__ = ["ProcessEngine", "element_id", "iso"]
