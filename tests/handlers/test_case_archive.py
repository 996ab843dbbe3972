"""Which documents make a case's archive (R13), in what order, and why a case has none
(``handlers/case_archive.py``; the PDF itself: ``tests/web/test_archive_pdf.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from engine.errors import Conflict
from engine.models import HistoryEntry
from engine.users import Actor
from handlers import case_archive
from handlers.records import Document

CS = Actor("customer_service", frozenset({"customer_service"}))
REPAIR = {"customer_name": "张三", "customer_phone": "13800138000", "product_model": "KX-200",
          "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}


def test_a_new_repair_case_archives_its_repair_request_with_fields_in_reading_order(core):
    engine, sessions = core
    with sessions() as s:
        case = engine.start(s, "repair", CS, variables=REPAIR)
        s.commit()
        found = case_archive.collect(s, case)
        assert [(d.kind, d.number) for d in found] == [("repair_request", case.business_key)]
        names = [k for k, _v in case_archive.rows("repair_request", found[0].data)]
        assert names == ["customer_name", "customer_phone", "product_model", "serial_no", "channel",
                         "fault_description", "reported_at", "registered_by"]  # empty ones left out


def test_the_fee_settlement_is_the_newest_fee_with_its_settlement(core):
    engine, sessions = core
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with sessions() as s:
        case = engine.start(s, "repair", CS, variables=REPAIR)
        for n, data in enumerate([{"fee_amount": 280, "fee_basis": "out_of_warranty"}, {"fee_settled": True},
                                  {"fee_amount": 0, "fee_basis": "free_quality"}]):
            s.add(HistoryEntry(instance_id=case.id, element_id=f"e{n}", name="", kind="ServiceTask",
                               completed_by="customer_service", completed_at=at, data=data))
        s.flush()
        fee = [d for d in case_archive.collect(s, case) if d.kind == "fee_settlement"]
        # a fee calculated again after the first was settled: the new one, not yet settled
        assert [d.data["fee_basis"] for d in fee] == ["free_quality"] and "fee_settled" not in fee[0].data
        assert fee[0].data["customer_name"] == "张三" and fee[0].data["case_no"] == case.business_key


def test_a_case_with_none_of_the_documents_says_why(core):
    engine, sessions = core
    with sessions() as s:
        case = engine.start(s, "repair", CS, variables=REPAIR)
        s.execute(delete(Document).where(Document.instance_id == case.id))
        with pytest.raises(Conflict) as none_yet:
            case_archive.collect(s, case)
        assert str(none_yet.value) == (f"case {case.business_key} has no documents to archive yet "
                                       "(repair request, work order, fee settlement, follow-up record)")
        case.history_removed_at = datetime(2031, 11, 23, 18, 0, tzinfo=UTC)
        with pytest.raises(Conflict) as removed:
            case_archive.collect(s, case)
        assert str(removed.value) == (f"case {case.business_key} has no archive: its documents were removed "
                                      "on 2031-11-23T18:00:00+00:00 (retention period over)")
