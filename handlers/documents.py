"""The documents of a case (domain.md, "Documents"): created by handlers, archived together (R13)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine.service_tasks import HandlerContext

from .numbers import next_number
from .records import Document

REPAIR_REQUEST_FIELDS = (
    "customer_name", "customer_phone", "customer_address", "product_model", "serial_no", "purchase_date",
    "purchase_proof", "channel", "fault_description",
)


_DOCUMENTS = cast(Table, Document.__table__)
# Built once with bound parameters: a handler's statement costs more to build than to run.
_INSERT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
_OF_CASE = select(Document).where(Document.instance_id == bindparam("instance_id")).order_by(Document.id)
_FIND = (select(Document).where(Document.instance_id == bindparam("instance_id"), Document.kind == bindparam("kind"))
         .order_by(Document.id.desc()).limit(1))
_ARCHIVE = (update(_DOCUMENTS).where(_DOCUMENTS.c.instance_id == bindparam("case_id"))
            .values(archived_at=bindparam("now")).returning(_DOCUMENTS.c.id, _DOCUMENTS.c.number))


def create(ctx: HandlerContext, kind: str, data: dict, number: str | None = None) -> Document:
    """Write a new document of the case (one INSERT) and answer it as written. To change it later,
    ``find`` it: the answer is not tracked by the session."""
    row = {"instance_id": ctx.instance_id, "kind": kind, "number": number or next_number(ctx.session, kind, ctx.now),
           "data": data, "created_at": ctx.now, "archived_at": None}
    doc_id = ctx.session.execute(_INSERT, row).scalar_one()
    return Document(id=doc_id, **row)


def of_case(session: Session, instance_id: int) -> list[Document]:
    return list(session.scalars(_OF_CASE, {"instance_id": instance_id}))


def find(session: Session, instance_id: int, kind: str) -> Document | None:
    return session.scalars(_FIND, {"instance_id": instance_id, "kind": kind}).first()


def archive(session: Session, instance_id: int, now: datetime) -> list[str]:
    """R13: every document of the case archived together, in one statement; their numbers, in order."""
    return [number for _, number in sorted(session.execute(_ARCHIVE, {"case_id": instance_id, "now": now}).all())]
