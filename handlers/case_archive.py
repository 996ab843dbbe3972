"""The case archive (R13): the four documents of a repair case — repair request, work order, fee
settlement, follow-up record — in that order, each with its fields in the order a reader expects.

Three of them are rows of ``documents`` (``handlers/documents.py``). The fee settlement is not: the
fee is calculated by a service task and settled on a user task (``processes/repair.bpmn``
``calc_fee``, ``settle_fee``), so its page is read from the case's history — the newest entry that
calculated a fee (``fee_basis``) and the newest that settled it (``fee_settled``), with who and when.

What may be shown to whom is not decided here: the web layer passes these documents through the
access policy (``engine/access.py`` ``document_data``) like the documents API does, and renders them
(``web/archive_pdf.py``). A case with none of the four yet has no archive: ``Conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.models import HistoryEntry, Instance

from . import documents

# The archive's documents, in order. A repair after an escalation has a work order per visit: each is a page.
KINDS = ("repair_request", "work_order", "fee_settlement", "follow_up")

# Each document's fields in the order shown; fields a document holds beyond these follow in stored order.
FIELDS: dict[str, tuple[str, ...]] = {
    "repair_request": (*documents.REPAIR_REQUEST_FIELDS, "reported_at", "registered_by"),
    "work_order": ("case_no", "visit", "customer_name", "customer_address", "product_model", "serial_no", "fault",
                   "plan", "issued_at", "dispatch_deadline", "technician", "appointment", "travel_mode",
                   "repair_steps", "result", "tested_ok", "customer_signed"),
    "fee_settlement": ("case_no", "customer_name", "customer_phone", "product_model", "serial_no", "fee_basis",
                       "fee_amount", "fee_settled", "settled_by", "settled_at"),
    "follow_up": ("case_no", "satisfaction_quality", "satisfaction_timeliness", "satisfaction_attitude",
                  "comments", "further_needs", "called_by", "called_at"),
}

# Fields that name a person by login name: shown by their display name.
PEOPLE = frozenset({"registered_by", "technician", "settled_by", "called_by"})

# Fields of the repair request the fee settlement repeats (who pays for which unit).
_SETTLEMENT_FROM_REQUEST = ("customer_name", "customer_phone", "product_model", "serial_no")


@dataclass
class ArchiveDocument:
    """One page of the archive. ``data`` as stored (the caller redacts it for the reader)."""

    kind: str
    number: str | None
    created_at: datetime
    archived_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


def collect(session: Session, instance: Instance) -> list[ArchiveDocument]:
    """The case's archive documents in ``KINDS`` order (within a kind, oldest first); ``Conflict``
    naming why when it has none."""
    stored = [d for d in documents.of_case(session, instance.id) if d.kind in KINDS]
    found = [ArchiveDocument(d.kind, d.number, d.created_at, d.archived_at, dict(d.data or {})) for d in stored]
    request = next((d.data for d in found if d.kind == "repair_request"), {})
    settlement = fee_settlement(session, instance, request)
    if settlement is not None:
        settlement.archived_at = next((d.archived_at for d in found if d.archived_at), None)
        found.append(settlement)
    if not found:
        case = instance.business_key or str(instance.id)
        if instance.history_removed_at is not None:
            raise Conflict(f"case {case} has no archive: its documents were removed "
                           f"on {_moment(instance.history_removed_at)} (retention period over)")
        raise Conflict(f"case {case} has no documents to archive yet "
                       "(repair request, work order, fee settlement, follow-up record)")
    order = {kind: n for n, kind in enumerate(KINDS)}
    return sorted(found, key=lambda d: order[d.kind])  # stable: each kind keeps its creation order


def fee_settlement(session: Session, instance: Instance, request: dict) -> ArchiveDocument | None:
    """The fee settlement from the history: None until a fee was calculated. Reads the history
    newest first and stops at the newest calculation (a settlement found before it is that fee's),
    so a long case reads only its last entries. Its archive time is the case's (``collect``)."""
    calculated = settled = None
    entries = session.execute(select(HistoryEntry.completed_by, HistoryEntry.completed_at, HistoryEntry.data)
                              .where(HistoryEntry.instance_id == instance.id)
                              .order_by(HistoryEntry.id.desc()).execution_options(yield_per=100))
    for entry in entries:
        written = entry.data if isinstance(entry.data, dict) else {}
        if settled is None and "fee_settled" in written:
            settled = entry
        if "fee_basis" in written:
            calculated = entry
            break
    entries.close()
    if calculated is None:
        return None
    data: dict[str, Any] = {"case_no": instance.business_key,
                            **{k: request[k] for k in _SETTLEMENT_FROM_REQUEST if k in request},
                            "fee_basis": calculated.data["fee_basis"], "fee_amount": calculated.data.get("fee_amount")}
    if settled is not None:
        data |= {"fee_settled": settled.data["fee_settled"], "settled_by": settled.completed_by,
                 "settled_at": _moment(settled.completed_at)}
    return ArchiveDocument("fee_settlement", None, calculated.completed_at, None, data)


def _moment(value: datetime) -> str:
    """A stored moment as ISO text with its offset (SQLite hands back naive UTC)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def rows(kind: str, data: dict[str, Any]) -> list[tuple[str, Any]]:
    """A document's (field, value) pairs in reading order, empty ones left out: the fields of
    ``FIELDS[kind]`` first, then any other the document holds."""
    order = FIELDS.get(kind, ())
    names = [k for k in order if k in data] + [k for k in data if k not in order]
    return [(k, data[k]) for k in names if data[k] not in (None, "", [], {})]
