"""Tables the handlers keep: stock, movements, procurement, approvals, documents, case numbers."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine import retention
from engine.models import Base


class Part(Base):
    __tablename__ = "parts"
    part_no: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    quota: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[int] = mapped_column(Integer, default=0)  # yuan

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(Base):
    __tablename__ = "stock_movements"
    id: Mapped[int] = mapped_column(primary_key=True)
    part_no: Mapped[str] = mapped_column(ForeignKey("parts.part_no"))
    kind: Mapped[str] = mapped_column(String(30))  # reserve|issue|return_unused|old_part|receipt
    quantity: Mapped[int] = mapped_column(Integer)
    slip_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Procurement(Base):
    __tablename__ = "procurements"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    lines: Mapped[list] = mapped_column(JSON)  # [{"part_no", "quantity"}]
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested|received|rejected
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Approval(Base):
    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    subject: Mapped[str] = mapped_column(String(60))  # repair_plan, ...
    level: Mapped[str] = mapped_column(String(30))  # supervisor|finance
    approved: Mapped[bool]
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Document(Base):
    """A document a case produces (repair request, work order, outbound slip, follow-up record…)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Counter(Base):
    """Daily sequence per prefix, for numbers like RX-20261123-0007."""

    __tablename__ = "counters"
    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# Retention (engine/retention.py): a case's documents and approvals go with its history; documents'
# contact fields (customer, addressee) are anonymised with the case.
retention.register_case_records(cast(Table, Document.__table__), "data")
retention.register_case_records(cast(Table, Approval.__table__))
