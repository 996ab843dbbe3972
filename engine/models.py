"""Tables of the engine: users, deployments, definitions, instances, open tasks, history, timers.

Handlers keep their own tables (``handlers/records.py``) on the same metadata.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the province a member of staff works in (R23: a technician settling a case in another region)
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Raised by logout, password change and disable: a session cookie carrying an older epoch is dead.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin",
                                                         cascade="all, delete-orphan")

    @property
    def group_list(self) -> list[str]:
        """The user's groups that are active (a disabled group gives its members nothing)."""
        return sorted(m.group_id for m in self.memberships if m.group.active)

    @property
    def all_groups(self) -> list[str]:
        return sorted(m.group_id for m in self.memberships)


class Group(Base):
    """A staff group: BPMN candidate groups and lanes name its id (engine/groups.py seeds the domain's)."""

    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Membership(Base):
    """A user in a group."""

    __tablename__ = "user_groups"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True)
    user: Mapped[User] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuthEvent(Base):
    """Logins, failed passwords, lockouts, logouts, token and account changes.

    Failed attempts in the last window are also what the lockout counts (engine/login_guard.py).
    """

    __tablename__ = "auth_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(20))  # login|basic|token|session|cli
    outcome: Mapped[str] = mapped_column(String(30))  # ok|failed|locked|disabled|logout|password_changed|...

    __table_args__ = (Index("ix_auth_events_user", "username", "at"), Index("ix_auth_events_address", "address", "at"))


class CustomerDataRead(Base):
    """Who read a customer's contact data, when, in which case, through which route (R29)."""

    __tablename__ = "customer_data_reads"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    via: Mapped[str] = mapped_column(String(60))


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deployed_by: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(40), default="api")
    git_commit: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Definition(Base):
    """One version of one process (or DMN decision). ``xml`` is the file as it was uploaded."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="bpmn")
    name: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300))
    # Read only when a spec is built or the file is shown: a case start looks definitions up by key
    # and would otherwise carry the whole diagram for nothing.
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The diagram's camunda:historyTimeToLive in days (None: the retention setting's default).
    history_ttl_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deployed_by: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(Text, default="")


class Instance(Base):
    __tablename__ = "instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), index=True)  # running|completed|error|cancelled
    # Who the case is about, copied from its variables for the inbox filters and search.
    customer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_phone: Mapped[str | None] = mapped_column(String(60), nullable=True)
    serial_no: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # What the dashboard (engine/kpis.py) groups and counts by, kept on the case row so that the figures
    # need neither the workflow nor the history (which retention may delete): product and region are
    # copied while the case runs; the rest is written once when the case completes.
    product_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)  # province, from the address
    technician: Mapped[str | None] = mapped_column(String(80), nullable=True)
    team: Mapped[str | None] = mapped_column(String(80), nullable=True)  # the technician's group
    work_orders: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the case had none
    work_orders_late: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_time_fix: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: never reached QC
    satisfaction: Mapped[float | None] = mapped_column(Float, nullable=True)  # mean follow-up score 1-5
    # Versions of called processes, fixed when the case starts: {"dispatch": 3}.
    bindings: Mapped[dict] = mapped_column(JSON, default=dict)
    # The live workflow without its spec (specs come from ``definitions``); None once finished.
    workflow: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    variables: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # final variables once finished
    error_element: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The end event the case finished on: what KPIs count outcomes by, kept when its history goes.
    outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Retention (engine/retention.py): kept whatever the periods say while held (complaint, legal).
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    legal_hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the customer's personal data was anonymised, and when history/documents were removed.
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    history_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What the removed history said that KPIs read: completions per element ({"quality_check": 2}).
    figures: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    __mapper_args__ = {"version_id_col": revision}
    # covering (PostgreSQL INCLUDE): the dashboard's counts are index-only scans, never the wide rows;
    # the retention run reads the cases due, oldest first, through the last two (engine/retention.py)
    __table_args__ = (
        Index("ix_instances_key_started", "key", "started_at",
              postgresql_include=["product_model", "region", "technician", "team"]),
        Index("ix_instances_key_ended", "key", "ended_at",
              postgresql_include=["state", "work_orders", "work_orders_late", "first_time_fix", "satisfaction",
                                  "product_model", "region", "technician", "team"]),
        # the search's whole-value look-ups (engine/case_search.py) read the newest cases with a value off
        # the index, in id order; a one-column index left PostgreSQL to walk the primary key or the heap
        *[Index(f"ix_instances_{column}_id", column, "id")
          for column in ("business_key", "customer_name", "customer_phone", "serial_no")],
        # with id: a batch reads on from its cursor in (ended_at, id) order straight off the index, also on
        # PostgreSQL, which otherwise sorts every due row for it (revision 0013)
        Index("ix_instances_history_due", "history_removed_at", "ended_at", "id"),
        Index("ix_instances_anonymise_due", "anonymised_at", "ended_at", "id"),
    )


# Predicates of open_tasks' partial indexes, which queries repeat word for word (engine/task_lists.py)
SEVERAL_GROUPS_SQL = "candidate_groups LIKE '%,%,%,%'"  # ",a,b," and longer
NAMES_USERS_SQL = "candidate_users LIKE ',_%'"  # not "," or ""


class OpenTask(Base):
    """A human task waiting for someone; rows exist exactly while the task is open."""

    __tablename__ = "open_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    candidate_groups: Mapped[str] = mapped_column(String(500), default="")  # ",g1,g2,"
    candidate_users: Mapped[str] = mapped_column(String(500), default="")
    assignee: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    # When the overdue notice was queued: the round looks only at due, unnotified tasks (issue 17).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # How due_at was counted ({"fn": "working_days", "args": [2], "from": ISO}), so that a calendar
    # change can count it again; None for fixed dates and plain durations.
    due_rule: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    # Lists page in (created_at, id) order: oldest first, a cursor that moves never. The overdue
    # index holds only tasks not yet notified: the round's overdue look-up reads what is newly due,
    # however many overdue tasks were notified before (issue 17).
    # Each way a task can be someone's has its own index in that order too (engine/task_lists.py): the
    # assignee, exactly one group, and — partial, holding only those few rows — several groups or any user.
    __table_args__ = (
        Index("ix_open_tasks_created", "created_at", "id"),
        Index("ix_open_tasks_assignee_created", "assignee", "created_at", "id"),
        Index("ix_open_tasks_group_created", "candidate_groups", "created_at", "id"),
        Index("ix_open_tasks_several_groups", "created_at", "id", sqlite_where=text(SEVERAL_GROUPS_SQL),
              postgresql_where=text(SEVERAL_GROUPS_SQL)),
        Index("ix_open_tasks_naming_users", "created_at", "id", sqlite_where=text(NAMES_USERS_SQL),
              postgresql_where=text(NAMES_USERS_SQL)),
        Index("ix_open_tasks_overdue_due", "due_at", sqlite_where=text("overdue_notified_at IS NULL"),
              postgresql_where=text("overdue_notified_at IS NULL")),
    )


class HistoryEntry(Base):
    __tablename__ = "history"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    completed_by: Mapped[str] = mapped_column(String(80))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (Index("ix_history_instance", "instance_id", "id"),)


class LateTask(Base):
    """A human task completed after its due date: the SLA breaches of the dashboard (R2, R3, R4, R8,
    R19 by ``rule``; other deadlines with ``rule`` None). Written when the task is completed; open
    overdue tasks are read from ``open_tasks``. No customer data, so retention keeps it."""

    __tablename__ = "late_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(10), nullable=True)
    candidate_groups: Mapped[str] = mapped_column(String(500), default="")  # ",g1,g2,"
    completed_by: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the case's, when the task was completed: breaches by product and region without a join
    product_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)

    __table_args__ = (Index("ix_late_tasks_completed", "completed_at"),)


class Timer(Base):
    """A timer some instance waits on. Any worker may fire it; the instance revision decides who."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    due_rule: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # as on OpenTask


class MessageWait(Base):
    __tablename__ = "message_waits"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    # True when the case's correlation values are in ``message_keys``; waits stored before revision
    # 0005 are False and are matched by loading the case, as before.
    keyed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())

    __table_args__ = (Index("ix_message_waits_name_keyed", "name", "keyed"),)


class MessageKey(Base):
    """A scalar variable of a case waiting for a message, so that a message finds its case by name and
    correlation values through an index instead of loading every waiting case. Written while (and only
    while) the case waits for a message; rewritten when its variables change."""

    __tablename__ = "message_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(200))  # JSON of the value: "RMA-1" and 1 differ

    __table_args__ = (Index("ix_message_keys_key_value", "key", "value"),)


class CalendarDay(Base):
    """A company day on top of the official calendar: ``closed`` (stocktaking, company holiday) or
    ``working`` (a working Saturday, a company shift)."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # closed|working
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CalendarImport(Base):
    """A year's official schedule an admin imported; it replaces the library's data for the year."""

    __tablename__ = "calendar_imports"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImportedDay(Base):
    """One day of an imported schedule: a day off (``holiday``) or an adjusted working day."""

    __tablename__ = "imported_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_imports.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday|working
    name: Mapped[str] = mapped_column(String(200), default="")


class CalendarChange(Base):
    """Who changed the calendar when, and what moved because of it."""

    __tablename__ = "calendar_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    by: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))  # add_day|remove_day|import
    day: Mapped[date | None] = mapped_column(Date, nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Notification(Base):
    """The outbox: written in the step's transaction, delivered later by whichever worker runs.

    ``recipient`` is ``user:NAME``, ``group:ID`` (every member), ``phone:NUMBER`` or ``email:ADDRESS``.
    A row stays until delivered; failures are counted and retried with back-off, never dropped.
    """

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # task_assigned|task_overdue|customer
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Undelivered rows only: a claim reads the due ones through it and delivered rows (millions,
    # until retention prunes them) are never scanned again (issue 17).
    __table_args__ = (Index("ix_notifications_undelivered", "next_attempt_at", "id",
                            sqlite_where=text("sent_at IS NULL"), postgresql_where=text("sent_at IS NULL")),
                      # Delivered rows only, in delivery order: retention deletes the oldest through it,
                      # each batch from where the last one stopped (revision 0013).
                      Index("ix_notifications_delivered", "sent_at", "id",
                            sqlite_where=text("sent_at IS NOT NULL"), postgresql_where=text("sent_at IS NOT NULL")))


class ProcessedMessage(Base):
    """Messages applied, by the sender's id, so that a retried delivery is not applied twice."""

    __tablename__ = "processed_messages"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    instance_ids: Mapped[list] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScheduledStart(Base):
    """The next start of a process whose start event is a timer (one row per process key)."""

    __tablename__ = "scheduled_starts"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # timeCycle|timeDate|timeDuration
    expression: Mapped[str] = mapped_column(String(300))
    anchor: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    remaining: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SavedFilter(Base):
    """An inbox filter a user saved under a name."""

    __tablename__ = "saved_filters"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(120))
    query: Mapped[str] = mapped_column(String(1000))


class CurrentVersion(Base):
    """Which version of a process new cases start on (the newest, unless an admin rolled back)."""

    __tablename__ = "current_versions"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class VersionEvent(Base):
    """The record of deployments, roll-backs and migrations, per process key."""

    __tablename__ = "version_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # deploy|rollback|migrate
    from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_version: Mapped[int] = mapped_column(Integer)
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class AsyncJob(Base):
    """A service task marked ``camunda:asyncBefore``: its step committed, a worker runs the handler.

    ``next_attempt_at`` is also the lease: a worker that takes the job moves it into the future first,
    so two workers never run one job at once and a worker that dies leaves it due again."""

    __tablename__ = "async_jobs"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))  # SpiffWorkflow task id
    element_id: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    retry_seconds: Mapped[int] = mapped_column(Integer, default=10)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Setting(Base):
    """A setting an admin changes on a page (retention periods, the cleanup window): name -> JSON value.
    A name without a row has its default in code (``engine/retention.py`` ``DEFAULTS``)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RetentionRun(Base):
    """One cleanup run (the nightly job, or ``aftersales retention run``): what it removed, per batch.

    ``night`` is the local date of a scheduled run (unique: one per night however many workers try);
    None for a run started by hand."""

    __tablename__ = "retention_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    night: Mapped[date | None] = mapped_column(Date, nullable=True, unique=True)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the moment the periods are counted from, fixed for the whole run
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    anonymised: Mapped[int] = mapped_column(Integer, default=0)
    # one row per batch in ``retention_batches``; the run keeps only running totals and where it is
    # (revision 0013: the JSON list of batches it kept before grew with every batch)
    batch_count: Mapped[int] = mapped_column(Integer, default=0)
    # what the run works on (notifications → remove → anonymise → done) and the sort key of the last
    # row it looked at there, so each batch reads on from there through an index, never from the start
    phase: Mapped[str] = mapped_column(String(20), default="notifications")
    cursor_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cursor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RetentionBatch(Base):
    """One batch of a retention run: what it did (``kind``: notifications, remove, anonymise), how many
    rows or cases, when, and how long its statements took. Kept for the last runs only."""

    __tablename__ = "retention_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("retention_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ms: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_retention_batches_run", "run_id", "id"),)


class ExternalTask(Base):
    """A service task whose topic has no Python handler: it waits for an external worker (Camunda 7's
    external task protocol, ``engine/external_tasks.py``). Written by the step that reaches the task,
    deleted by the step that moves past it.

    A worker locks the task (``worker_id``, ``lock_expires_at``) with a conditional update; an expired
    lock returns it to the pool. A failure reported with retries left makes it fetchable again at
    ``next_attempt_at``; with none left the case is in ``error`` (an incident) and ``retries`` is 0
    until a supervisor retries the case."""

    __tablename__ = "external_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lock_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retries: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None until a worker reports a failure
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_details: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
