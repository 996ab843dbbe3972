"""Notifications through an outbox: a task assigned to a user or group, a task overdue, a message
to a customer. Rows are written in the step's transaction (so they exist exactly when the step
committed) and delivered afterwards by a pluggable :class:`Sender`; a sender that is down loses
nothing — the row is retried with back-off."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Notification, OpenTask, User

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)


class Sender(Protocol):
    def send(self, address: str, subject: str, body: str) -> None:
        """Deliver one message to an e-mail address or ``phone:NUMBER``; raise on failure."""


class ConsoleSender:
    """The demo's sender: writes each message to the log."""

    def send(self, address: str, subject: str, body: str) -> None:
        log.info("notification to %s: %s\n%s", address, subject, body)


class SmtpSender:
    def __init__(self, host: str, port: int = 25, *, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, address: str, subject: str, body: str) -> None:
        if address.startswith("phone:"):
            raise RuntimeError("no SMS gateway configured for phone numbers")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, address, subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)


def queue(session: Session, *, kind: str, recipient: str, subject: str, body: str, now: datetime,
          instance_id: int | None = None, dedupe_key: str | None = None) -> None:
    if dedupe_key and session.scalars(select(Notification.id).where(Notification.dedupe_key == dedupe_key)).first():
        return
    session.add(Notification(kind=kind, recipient=recipient, subject=subject, body=body, dedupe_key=dedupe_key,
                             instance_id=instance_id, created_at=now, next_attempt_at=now))


def task_rows_opened(rows: Iterable[dict], business_key: str | None, now: datetime) -> list[dict]:
    """Outbox rows for freshly opened tasks: the assignee if any, else the candidates."""
    out = []
    for row in rows:
        users = [u for u in row["candidate_users"].split(",") if u]
        groups = [g for g in row["candidate_groups"].split(",") if g]
        recipients = [f"user:{row['assignee']}"] if row["assignee"] else \
            [f"user:{u}" for u in users] + [f"group:{g}" for g in groups]
        due = f" · 截止 due {row['due_at'].isoformat()}" if row["due_at"] else ""
        for r in recipients:  # the subject says it all; kept short, as the outbox is kept for a while
            out.append({"kind": "task_assigned", "recipient": r, "instance_id": row["instance_id"],
                        "subject": f"新任务 New task: {row['name']} ({business_key or row['instance_id']}){due}",
                        "body": "", "dedupe_key": None, "created_at": now, "next_attempt_at": now, "attempts": 0})
    return out


def queue_overdue(session: Session, now: datetime) -> int:
    """One notice per overdue task, to its assignee or candidates and to the supervisors."""
    overdue = session.scalars(select(OpenTask).where(OpenTask.due_at < now)).all()
    count = 0
    for task in overdue:
        key = f"overdue:{task.id}"
        if session.scalars(select(Notification.id).where(Notification.dedupe_key == key)).first():
            continue
        recipient = f"user:{task.assignee}" if task.assignee else \
            ",".join([f"group:{g}" for g in task.candidate_groups.split(",") if g] or ["group:supervisor"])
        queue(session, kind="task_overdue", recipient=recipient, now=now, instance_id=task.instance_id, dedupe_key=key,
              subject=f"任务已超时 Task overdue: {task.name}", body=f"任务 Task {task.name} was due {task.due_at}")
        count += 1
    return count


def _addresses(session: Session, recipient: str) -> list[str]:
    found: list[str] = []
    for part in recipient.split(","):
        kind, _, value = part.partition(":")
        if kind in ("email", "phone"):
            found.append(value if kind == "email" else part)
        elif kind == "user":
            user = session.scalars(select(User).where(User.username == value)).first()
            found += [user.email] if user is not None and user.email else []
        elif kind == "group":
            members = session.scalars(select(User).where(User.groups.contains(f",{value},"), User.active.is_(True)))
            found += [u.email for u in members if u.email]
    return found


def deliver(session: Session, sender: Sender, now: datetime, limit: int = 50) -> tuple[int, int]:
    """Send what is due; returns (sent, failed). The caller commits."""
    rows = session.scalars(select(Notification).where(Notification.sent_at.is_(None), Notification.next_attempt_at <= now)
                           .order_by(Notification.id).limit(limit)).all()
    sent = failed = 0
    for row in rows:
        addresses = _addresses(session, row.recipient)
        try:
            if not addresses:
                raise LookupError(f"no address for {row.recipient}")
            for address in addresses:
                sender.send(address, row.subject, row.body or row.subject)
        except Exception as exc:  # a sender failure must not lose the row
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"
            row.next_attempt_at = now + min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** min(row.attempts, 10)))
            failed += 1
            continue
        row.sent_at = now
        row.attempts += 1
        sent += 1
    session.flush()
    return sent, failed
