"""The case archive as one PDF (R13; issue 12 part 4): the repair request, work order, fee settlement and
follow-up record of a case, an A4 page each, read back with poppler's ``pdftotext`` as a reader sees them.

Without poppler-utils the tests are skipped on a developer's machine and fail in CI (``CI`` set), where
``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update

from engine.models import Instance, User
from handlers.records import Document
from tests.web.test_pages import login
from tests.web.test_repair_flow import diagnose, follow_up, start, through_dispatch
from tests.web.test_return_exchange import REQUEST as RETURN_REQUEST

NAMES = {"customer_service": "王芳", "technician": "李强", "tech_support": "赵敏", "supervisor": "陈主管",
         "warehouse": "孙库管"}
TITLES = ["设备报修单", "设备维修单（派工单）", "费用结算单", "回访单"]
# what a reader must never meet: variable names, enum ids, login names, UTC/ISO moments
RAW = ["customer_name", "customer_phone", "fee_basis", "fee_amount", "fee_settled", "out_of_warranty", "company_car",
       "satisfaction_quality", "registered_by", "called_by", "settled_by", "repair_request", "work_order",
       "follow_up", "customer_service", "technician", "tech_support", "+00:00", "T09:00", "UTC", "True", "False"]


@pytest.fixture
def pdftotext():
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext not found; .ci/run installs Debian's poppler-utils")
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils)")

    def read(pdf: bytes, tmp_path) -> tuple[str, str, str]:
        path = tmp_path / "archive.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                              text=True).stdout
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
        return text, info, fonts

    return read


@pytest.fixture
def named(app):
    """Staff with display names, as in the demo: the archive names people by them."""
    with app.extensions["aftersales"]["sessions"]() as s:
        for username, name in NAMES.items():
            s.execute(update(User).where(User.username == username).values(display_name=name))
        s.commit()


def repair_to_the_end(api) -> tuple[int, str]:
    """Out of warranty, so charged: every one of the four documents exists (R7, R13)."""
    inst = start(api)
    iid = inst["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=False)
    diagnose(api, iid, fault_nature="misuse", parts_needed="P-100:1")
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    through_dispatch(api, iid)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)
    api.complete("customer_service", iid, "settle_fee", fee_settled=True)
    assert follow_up(api, iid)["state"] == "completed"
    return iid, inst["business_key"]


def archive(api, user, iid):
    return api.get(user, f"/api/process-instances/{iid}/archive.pdf")


def test_the_archive_holds_the_four_documents_in_chinese_an_a4_page_each(deployed, named, pdftotext, tmp_path):
    api = deployed
    iid, case_no = repair_to_the_end(api)
    r = archive(api, "customer_service", iid)
    assert r.status_code == 200 and r.content_type == "application/pdf"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{case_no}-archive.pdf"'
    assert r.headers["Cache-Control"] == "no-store"
    text, info, fonts = pdftotext(r.data, tmp_path)
    assert re.search(r"^Pages:\s+4$", info, re.M) and "(A4)" in info
    assert "Noto-Sans-CJK-SC" in fonts  # Debian's fonts-noto-cjk, embedded
    # in order, one a page; each page's footer: the case number and the page number
    pages = text.split("\f")[:4]
    assert [next(t for t in TITLES if t in page) for page in pages] == TITLES
    assert all(case_no in page and f"第 {n} 页，共 4 页" in page for n, page in enumerate(pages, 1))
    request, order, settlement, call = pages
    # contact data for customer service; values by their choice names; local times (09:00 UTC = 17:00 Shanghai)
    assert "张三" in request and "13800138000" in request and "杭州市西湖区文三路 1 号" in request
    assert "电话" in request and "报修时间" in request and "2026-11-23 17:00" in request
    assert "登记人" in request and "王芳" in request
    assert "公司车辆" in order and "维修工程师" in order and "李强" in order and "测试合格" in order
    assert "保修期外：按标准收费" in settlement and "580" in settlement and "客户已签字结算" in settlement
    assert "结算经办人" in settlement and "王芳" in settlement
    assert "满意度：质量" in call and "回访人" in call and "王芳" in call
    assert [raw for raw in RAW if raw in text] == []
    log = api.get("admin", f"/api/access-log?instance={iid}").json
    assert (log[0]["user"], log[0]["via"]) == ("customer_service", "api:archive")


def test_the_warehouse_gets_the_archive_without_contact_data(deployed, named, pdftotext, tmp_path):
    api = deployed
    iid, case_no = repair_to_the_end(api)  # the warehouse issued its parts: the case is theirs to see
    before = api.get("admin", f"/api/access-log?instance={iid}").json
    r = archive(api, "warehouse", iid)
    assert r.status_code == 200
    text, _info, _fonts = pdftotext(r.data, tmp_path)
    assert case_no in text and all(title in text for title in TITLES)
    assert "张三" not in text and "13800138000" not in text and "文三路" not in text
    assert "客户姓名" not in text and "联系电话" not in text  # left out, as the documents API leaves them out
    assert "KX-200 冷柜" in text and "580" in text
    assert api.get("admin", f"/api/access-log?instance={iid}").json == before  # nothing read, nothing logged


def test_a_running_case_archives_what_it_has_so_far(deployed, named, pdftotext, tmp_path):
    api = deployed
    inst = start(api)
    r = archive(api, "supervisor", inst["id"])
    assert r.status_code == 200
    text, info, _fonts = pdftotext(r.data, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M)
    assert "设备报修单" in text and "费用结算单" not in text and "第 1 页，共 1 页" in text
    assert api.get("technician", f"/api/process-instances/{inst['id']}/archive.pdf").status_code == 403


def test_a_case_without_any_of_the_documents_has_no_archive_and_says_why(deployed, app):
    api = deployed
    r = api.post("customer_service", "/api/process-definitions/return_exchange/start",
                 {"variables": RETURN_REQUEST})  # its documents are a return request, no repair's
    assert r.status_code == 201, r.json
    iid, rma = r.json["id"], r.json["business_key"]
    r = archive(api, "customer_service", iid)
    assert r.status_code == 409
    assert r.json["error"] == (f"case {rma} has no documents to archive yet "
                               "(repair request, work order, fee settlement, follow-up record)")
    page = login(app, "customer_service")
    page.set_cookie("lang", "zh_CN")
    assert "data-archive-pdf" not in page.get(f"/cases/{iid}").get_data(as_text=True)
    r = page.get(f"/cases/{iid}/archive.pdf")
    assert r.status_code == 409
    assert f"案件 {rma} 还没有可归档的单据（设备报修单、设备维修单、费用结算单、回访单）。" in r.get_data(as_text=True)


def test_a_case_whose_documents_retention_removed_says_when(deployed, app):
    api = deployed
    inst = start(api)
    with app.extensions["aftersales"]["sessions"]() as s:  # as a retention run leaves it (engine/retention.py)
        s.execute(delete(Document).where(Document.instance_id == inst["id"]))
        s.execute(update(Instance).where(Instance.id == inst["id"])
                  .values(history_removed_at=datetime(2031, 11, 23, 18, 0, tzinfo=UTC)))
        s.commit()
    r = archive(api, "supervisor", inst["id"])
    assert r.status_code == 409
    assert r.json["error"] == (f"case {inst['business_key']} has no archive: its documents were removed on "
                               "2031-11-23T18:00:00+00:00 (retention period over)")
    page = login(app, "supervisor")
    page.set_cookie("lang", "zh_CN")
    r = page.get(f"/cases/{inst['id']}/archive.pdf")
    assert r.status_code == 409
    assert f"案件 {inst['business_key']} 没有档案：其单据已于 2031-11-24 02:00 按保留期限删除。" in r.get_data(as_text=True)


def test_the_case_page_offers_the_archive(deployed, app, pdftotext, tmp_path):
    api = deployed
    iid = start(api)["id"]
    page = login(app, "supervisor")
    for lang, link in (("zh_CN", "案件档案（PDF）"), ("en", "Case archive (PDF)")):
        page.set_cookie("lang", lang)
        html = page.get(f"/cases/{iid}").get_data(as_text=True)
        assert re.search(rf'<a href="/cases/{iid}/archive.pdf" data-archive-pdf download>{re.escape(link)}</a>', html)
    r = page.get(f"/cases/{iid}/archive.pdf")  # from an English page too, the archive is in Chinese
    assert r.status_code == 200 and r.content_type == "application/pdf"
    text, _info, _fonts = pdftotext(r.data, tmp_path)
    assert "设备报修单" in text and "Repair request" not in text
