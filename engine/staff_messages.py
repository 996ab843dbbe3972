"""Messages staff record on a page — the warehouse confirming that returned goods arrived — besides
an outside system (a courier's scan) through ``POST /api/messages``. Who may record each is the
access policy's (``engine/access.py`` ``MESSAGE_RECORDERS``); here: what the message is matched by
(as an outside sender would match it), which case variables the "to receive" list shows, and the
small form the page asks (checked like any form)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import access
from .forms import FormField
from .models import Instance, MessageKey, MessageWait
from .users import Actor


@dataclass(frozen=True)
class StaffMessage:
    name: str
    correlate_on: str  # the case variable the message is matched by
    listed: tuple[str, ...]  # what the list of waiting cases shows of each
    fields: tuple[FormField, ...]


MESSAGES: dict[str, StaffMessage] = {
    "goods_received": StaffMessage(
        "goods_received", "rma_no", ("rma_no", "order_no", "product", "quantity", "request_type", "reason"),
        (FormField("goods_received_note", "收货说明 Receipt note", "string", constraints={"maxlength": 500}),)),
}


def awaiting(session: Session, actor: Actor, limit: int = 200) -> list[dict]:
    """The running cases waiting for a message the actor records, oldest first: ``{"instance",
    "message", "values"}`` with the listed variables, read from ``message_keys`` (no workflow load)."""
    names = sorted(access.messages_recorded_by(actor) & set(MESSAGES))
    if not names:
        return []
    rows = session.execute(
        select(Instance, MessageWait.name).join(MessageWait, MessageWait.instance_id == Instance.id)
        .where(MessageWait.name.in_(names), Instance.state == "running")
        .order_by(Instance.started_at, Instance.id).limit(limit)).all()
    wanted = sorted({k for n in names for k in MESSAGES[n].listed})
    values: dict[int, dict] = {}
    if rows:
        for instance_id, key, value in session.execute(
                select(MessageKey.instance_id, MessageKey.key, MessageKey.value)
                .where(MessageKey.instance_id.in_([i.id for i, _n in rows]), MessageKey.key.in_(wanted))):
            values.setdefault(instance_id, {})[key] = json.loads(value)
    return [{"instance": instance, "message": name,
             "values": access.redact(actor, values.get(instance.id, {})) or {}} for instance, name in rows]


def count(session: Session, actor: Actor) -> int:
    names = sorted(access.messages_recorded_by(actor) & set(MESSAGES))
    if not names:
        return 0
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(MessageWait).join(Instance, Instance.id == MessageWait.instance_id)
                          .where(MessageWait.name.in_(names), Instance.state == "running")) or 0


def waiting_for(session: Session, instance_id: int, actor: Actor) -> list[StaffMessage]:
    """The messages this case waits for that the actor records (the case page offers each)."""
    names = access.messages_recorded_by(actor) & set(MESSAGES)
    if not names:
        return []
    found = session.scalars(select(MessageWait.name).where(MessageWait.instance_id == instance_id,
                                                           MessageWait.name.in_(sorted(names))))
    return [MESSAGES[n] for n in sorted(set(found))]
