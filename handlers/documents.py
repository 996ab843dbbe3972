"""The documents of a case (domain.md, "Documents"): created by handlers, archived together (R13)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.service_tasks import HandlerContext

from .numbers import next_number
from .records import Document

REPAIR_REQUEST_FIELDS = (
    "customer_name", "customer_phone", "customer_address", "product_model", "serial_no", "purchase_date",
    "purchase_proof", "channel", "fault_description",
)


def create(ctx: HandlerContext, kind: str, data: dict, number: str | None = None) -> Document:
    doc = Document(instance_id=ctx.instance_id, kind=kind, number=number or next_number(ctx.session, kind, ctx.now),
                   data=data, created_at=ctx.now)
    ctx.session.add(doc)
    ctx.session.flush()
    return doc


def of_case(session: Session, instance_id: int) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.instance_id == instance_id).order_by(Document.id)))


def find(session: Session, instance_id: int, kind: str) -> Document | None:
    return session.scalars(select(Document).where(Document.instance_id == instance_id, Document.kind == kind)
                           .order_by(Document.id.desc())).first()
