"""Words the pages show for engine data: document titles, document fields, form errors."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, current_app, g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from engine.db import as_utc
from engine.diagram_labels import Words
from engine.models import Definition
from engine.users import SYSTEM
from engine.working_days import SHANGHAI

DOC_TITLES = {
    "repair_request": _l("Repair request"), "work_order": _l("Work order"), "outbound_slip": _l("Parts outbound slip"),
    "follow_up": _l("Follow-up record"), "return_request": _l("Return/exchange request"), "gift": _l("Gift"),
    "coupon": _l("Coupon"), "complaint_record": _l("Complaint record"), "settlement_agreement": _l("Settlement agreement"),
    "fee_settlement": _l("Fee settlement"),  # not a stored document: the case archive reads it from the history
    "compensation_shipment": _l("Compensation shipment"), "replenishment_request": _l("Replenishment request"),
    "consultation_record": _l("Consultation record"), "travel_expense_claim": _l("Travel expense claim"),
    "stock_report": _l("Stock count and consumption report"),
}

FIELD_LABELS = {
    "customer_name": _l("Customer name"), "customer_phone": _l("Phone"), "customer_address": _l("Address"),
    "product_model": _l("Product model"), "serial_no": _l("Serial no."), "purchase_date": _l("Purchase date"),
    "purchase_proof": _l("Proof of purchase"), "channel": _l("Channel"), "fault_description": _l("Fault description"),
    "reported_at": _l("Reported at"), "registered_by": _l("Registered by"), "case_no": _l("Case no."),
    "fault": _l("Fault"), "plan": _l("Plan"), "issued_at": _l("Issued at"), "dispatch_deadline": _l("Dispatch deadline"),
    "visit": _l("Visit"), "technician": _l("Technician"), "appointment": _l("Appointment"),
    "travel_mode": _l("Travel mode"), "repair_steps": _l("Repair steps"), "result": _l("Result"),
    "tested_ok": _l("Tested OK"), "customer_signed": _l("Customer signed"), "work_order_no": _l("Work order no."),
    "lines": _l("Parts"), "status": _l("Status"), "issued_by": _l("Issued by"), "drawn_by": _l("Drawn by"),
    "used": _l("Used"), "unused_returned": _l("Unused, returned"), "old_parts_returned": _l("Old parts returned"),
    "reconciled_at": _l("Reconciled at"), "satisfaction_quality": _l("Satisfaction: quality"),
    "satisfaction_timeliness": _l("Satisfaction: timeliness"), "satisfaction_attitude": _l("Satisfaction: attitude"),
    "comments": _l("Comments"), "further_needs": _l("Further needs"), "called_by": _l("Called by"),
    "called_at": _l("Called at"), "month": _l("Month"),
    # the case summary above task forms (engine/case_summary.py)
    "fault_cause": _l("Fault cause"), "solution": _l("Proposed solution"), "estimated_amount": _l("Estimated amount (yuan)"),
    "parts_needed": _l("Parts needed"), "appointment_date": _l("Appointment date"), "rma_no": _l("RMA no."),
    "order_no": _l("Order no."), "product": _l("Product"), "quantity": _l("Quantity"), "request_type": _l("Refund or exchange"),
    "reason": _l("Reason"), "price_difference": _l("Price difference (yuan)"), "refund_amount": _l("Refund amount (yuan)"),
    "contact_name": _l("Contact"), "contact_phone": _l("Phone"), "complaint_no": _l("Complaint no."),
    "severity": _l("Severity"), "complaint_text": _l("Complaint"), "responsible": _l("Responsible department"),
    "accepted_at": _l("Accepted at"), "goods_received_note": _l("Receipt note"),
    # variables the engine and the handlers set (no form names them)
    "initiator": _l("Started by"), "needs_finance": _l("Finance approval needed"), "finance_approved": _l("Finance approved"),
    "parts_short": _l("Parts short"), "parts_cost": _l("Parts cost (yuan)"), "procurement_no": _l("Procurement no."),
    "shortage": _l("Shortage"), "slip_no": _l("Slip no."), "parts_issued": _l("Parts issued"),
    "parts_reconciled": _l("Parts reconciled"), "fee_amount": _l("Fee (yuan)"), "fee_basis": _l("Fee basis"),
    "archived_documents": _l("Archived documents"), "satisfaction": _l("Satisfaction (mean)"),
    "follow_up_instance": _l("Follow-up case"), "recorded_by": _l("Recorded by"), "recorded_at": _l("Recorded at"),
    "rounds": _l("Rounds"), "days_since_purchase": _l("Days since purchase"), "eligible": _l("Eligible"),
    "eligibility_reason": _l("Eligibility"), "customer_pays_shipping": _l("Customer pays return shipping"),
    "shipping_fee": _l("Shipping fee (yuan)"), "price_difference_due": _l("Price difference due (yuan)"),
    "compensation_shipment_no": _l("Compensation shipment no."), "compensation_shipped": _l("Compensation shipped"),
    "gift_no": _l("Gift no."), "gift_sent": _l("Gift sent"), "coupon_no": _l("Coupon no."),
    "work_order_late": _l("Work order taken late"), "escalations": _l("Escalations"),
    # the fee settlement of the case archive (handlers/case_archive.py)
    "settled_by": _l("Settled by"), "settled_at": _l("Settled at"),
    # compensation shipments and gifts (handlers/complaints.py, handlers/returns.py)
    "goods": _l("Goods"), "agreed_goods": _l("Goods agreed"), "tracking_no": _l("Tracking no."), "by": _l("By"),
    "to": _l("To"), "sent_at": _l("Sent at"), "with_tracking_no": _l("Tracking no. of the shipment"),
    "dispatch_clock_from": _l("Work order clock starts"), "escalated_at": _l("Escalated at"), "escalated": _l("Escalated"),
    # consultations (R1, R30)
    "consultation_no": _l("Consultation no."), "asked_at": _l("Asked at"), "answered_at": _l("Answered at"),
    "answered_by": _l("Answered by"), "question": _l("Question"), "first_response": _l("First response"),
    "answer": _l("Answer"),
    # travel expense claims (R24)
    "claim_no": _l("Claim no."), "case_valid": _l("Repair case valid"), "case_problem": _l("Problem with the repair case"),
    "total_amount": _l("Total (yuan)"), "repair_request_no": _l("Repair request attached"), "paid_at": _l("Paid at"),
    "paid_by": _l("Paid by"), "filed_at": _l("Filed at"), "trip_date": _l("Trip date"), "destination": _l("Destination"),
    "transport_cost": _l("Transport (yuan)"), "lodging_cost": _l("Lodging (yuan)"), "allowance": _l("Allowance (yuan)"),
    "expense_note": _l("Note"), "approval_comment": _l("Approval comment"), "payment_ref": _l("Payment voucher no."),
    # the monthly stock report (R22)
    "report_no": _l("Report no."), "report_month": _l("Month reported"),
    "consumption_by_product": _l("Parts used per product model"),
    "consumption_by_technician": _l("Parts used per technician"), "consumption_total": _l("Parts used in all"),
    "stock_on_hand": _l("Stock on the books"), "parts": _l("Parts"), "produced_at": _l("Produced at"),
    "count_matches": _l("Count matches the books"), "count_differences": _l("Differences found"),
    "counted_by": _l("Counted by"), "counted_at": _l("Counted at"),
    # cross-region settlement (R23)
    "case_region": _l("Case region"), "technician_region": _l("Technician's region"),
    "cross_region": _l("Cross-region settlement"),
    # a BPMN error's history entry (engine/bpmn_errors.py) and an external worker's reports
    "error_code": _l("Business error code"), "error_message": _l("Business error message"),
    "worker": _l("External worker"),
}

# Values the handlers write (no diagram lists them as choices).
VALUE_LABELS = {
    ("fee_basis", "out_of_warranty"): _l("out of warranty: standard rates"),
    ("fee_basis", "free_quality"): _l("free: quality defect"),
    ("fee_basis", "free_installation"): _l("free: installation problem"),
    ("fee_basis", "misuse"): _l("misuse: standard rates"),
    ("fee_basis", "accident_negotiated"): _l("accident: negotiated fee"),
    ("case_problem", "unknown_case"): _l("no repair case has this number"),
    ("case_problem", "not_your_case"): _l("you did not work on this repair case"),
    ("status", "filed"): _l("filed"), ("status", "approved"): _l("approved"), ("status", "refused"): _l("refused"),
    ("status", "paid"): _l("paid"), ("status", "to_count"): _l("to be counted"), ("status", "counted"): _l("counted"),
}

_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*[\u3000-\u9fff\uff00-\uffef][^A-Za-z]*?)\s+(?P<en>[A-Za-z][^\u3000-\u9fff\uff00-\uffef]*)$")


def _chinese() -> bool:
    """Whether words are wanted in Chinese: the page's language, or the one a document is made in
    (``flask_babel.force_locale``, the case archive)."""
    return str(get_locale() or "").startswith("zh")


def words() -> Words:
    """The Chinese and English words of every deployed diagram (``engine/diagram_labels.py``), read
    again only when something new was deployed; asked once per request."""
    if "diagram_words" in g:
        return g.diagram_words
    from ..context import db

    ext = current_app.extensions["aftersales"]
    latest = db().scalar(select(func.max(Definition.id)))
    cached = ext.get("diagram_words")
    if cached is None or cached[0] != latest:
        found = Words()
        for xml in db().scalars(select(Definition.xml).where(Definition.kind == "bpmn").order_by(Definition.id)):
            found.add(xml)
        cached = ext["diagram_words"] = (latest, found)
    g.diagram_words = cached[1]
    return cached[1]


def one_language(text, element_id: str | None = None) -> str:
    """A diagram's name (a task, a timeline entry, a process) in the page's language only: the
    Chinese ``name`` on zh-CN pages, its ``label_en`` on English ones, the other one where a
    language is missing. A name stored before the convention ("客户姓名 Customer name") is split;
    a name with its own ``label_en`` never is ("登记 RMA" is Chinese, "Register RMA" its English)."""
    if not isinstance(text, str):
        return show(text)
    w = words()
    en = w.element_en.get((element_id or "", text)) or w.name_en.get(text)
    m = None if en else _BILINGUAL.match(text)
    if _chinese():
        return m["zh"].strip() if m else text
    if m:
        return m["en"].strip()
    return en or text


def field_label(name: str, diagram_label: str | None = None) -> str:
    """A form field's (a variable's) label in the page's language; never the variable's name while
    any diagram or the pages' own list names it."""
    if name in FIELD_LABELS and not diagram_label:
        return str(FIELD_LABELS[name])
    w = words()
    zh = diagram_label or w.field_zh.get(name)
    m = None if w.field_en.get(name) else _BILINGUAL.match(zh or "")  # its own English: not "中文 English"
    if _chinese():
        if m:
            return m["zh"].strip()
        return zh or (str(FIELD_LABELS[name]) if name in FIELD_LABELS else w.field_en.get(name) or name)
    if m:
        return m["en"].strip()
    return w.field_en.get(name) or (str(FIELD_LABELS[name]) if name in FIELD_LABELS else zh or name)


def label_for(name: str, diagram_label: str | None = None) -> str:
    return str(FIELD_LABELS[name]) if name in FIELD_LABELS else field_label(name, diagram_label)


def option_label(field_id: str, value, diagram_name: str | None = None) -> str:
    """An enum value (``quality``) as its field's choice reads in the page's language (质量缺陷)."""
    if not isinstance(value, str):
        return show(value)
    if (field_id, value) in VALUE_LABELS and not diagram_name:
        return str(VALUE_LABELS[(field_id, value)])
    w = words()
    zh = diagram_name or w.option_zh.get((field_id, value)) or value  # a value may itself be "中文 English"
    m = None if w.option_en.get((field_id, value)) else _BILINGUAL.match(zh)
    if not m and zh == value and value in _group_names():  # a group a handler named (shipped by the warehouse)
        return group_name(value)
    if _chinese():
        return (m["zh"].strip() if m else zh) or w.option_en.get((field_id, value)) or value
    return w.option_en.get((field_id, value)) or (m["en"].strip() if m else zh) or value


def process_name(key: str) -> str:
    """A process key (``return_exchange``) as its diagram names it in the page's language."""
    w = words()
    zh, en = w.process_zh.get(key, ""), w.process_en.get(key, "")
    m = None if en else _BILINGUAL.match(zh)
    if m:
        zh, en = m["zh"].strip(), en or m["en"].strip()
    return ((zh or en) if _chinese() else (en or zh)) or key


def process_about(key: str) -> str:
    """The diagram's one sentence on what a process is for, in the page's language (the other
    language where one is missing; empty when the diagram has none)."""
    w = words()
    zh, en = w.about_zh.get(key, ""), w.about_en.get(key, "")
    return (zh or en) if _chinese() else (en or zh)


_KINDS = {
    "userTask": _l("an unnamed task"), "serviceTask": _l("an unnamed automatic step"),
    "boundaryEvent": _l("an unnamed timer or event"), "intermediateCatchEvent": _l("an unnamed wait"),
    "receiveTask": _l("an unnamed wait for a message"), "callActivity": _l("an unnamed sub-flow"),
    "sendTask": _l("an unnamed automatic step"), "scriptTask": _l("an unnamed script step"),
    "businessRuleTask": _l("an unnamed decision step"), "manualTask": _l("an unnamed task"), "task": _l("an unnamed task"),
    "startEvent": _l("an unnamed start event"), "endEvent": _l("an unnamed end event"),
    "intermediateThrowEvent": _l("an unnamed event"), "exclusiveGateway": _l("an unnamed gateway"),
    "inclusiveGateway": _l("an unnamed gateway"), "parallelGateway": _l("an unnamed gateway"),
    "eventBasedGateway": _l("an unnamed gateway"), "complexGateway": _l("an unnamed gateway"),
    "subProcess": _l("an unnamed sub-process"), "transaction": _l("an unnamed sub-process"),
    "adHocSubProcess": _l("an unnamed sub-process"), "sequenceFlow": _l("an unnamed branch"),
    "process": _l("an unnamed flow"),
}


def element_name(names: dict[str, tuple[str, str, str]], element_id: str) -> str:
    """A diagram element (``Activity_review``) as its diagram names it in the page's language
    (``names`` from ``engine.diagram_labels.element_names``); an element without a name reads as
    its kind ("未命名的任务"), never as its id."""
    zh, en, kind = names.get(element_id, ("", "", ""))
    m = None if en else _BILINGUAL.match(zh)
    if m:
        zh, en = m["zh"].strip(), en or m["en"].strip()
    return ((zh or en) if _chinese() else (en or zh)) or str(_KINDS.get(kind, _l("an unnamed step")))


_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# values that are a user's login name: shown as the person's display name
PERSON_FIELDS = frozenset({"technician", "registered_by", "recorded_by", "called_by", "issued_by", "drawn_by",
                           "answered_by", "paid_by", "counted_by"})


def value_for(field_id: str, value) -> str:
    """A variable's value as people read it: an enum id as its choice, a stored moment in local
    time, a record (a dict) field by field with labels, a list item by item."""
    if isinstance(value, str):
        if _MOMENT.match(value):
            try:
                return local(value)
            except ValueError:
                return value
        if field_id in PERSON_FIELDS:
            return person_name(value)
        return option_label(field_id, value)
    if isinstance(value, dict) and "part_no" not in value:
        return "; ".join(f"{field_label(k)}: {value_for(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(value_for(field_id, v) for v in value)
    return show(value)


def person_name(username: str | None) -> str:
    """A user's display name (王芳), not the login name, read once per request."""
    if not username:
        return ""
    if "person_names" not in g:
        from engine.models import User

        from ..context import db

        g.person_names = {u.username: u.display_name for u in db().scalars(select(User))}
    if username in g.person_names:
        return g.person_names[username] or username
    return str(_l("System")) if username == SYSTEM.username else username  # steps no person took


def _group_names() -> dict[str, tuple[str, str]]:
    if "group_names" not in g:
        from engine import groups

        from ..context import db

        g.group_names = groups.names(db())
    return g.group_names


def group_name(group_id: str) -> str:
    """A group's name in the page's language (groups are data, ``engine/groups.py``)."""
    zh, en = _group_names().get(group_id, ("", ""))
    return ((zh or en) if _chinese() else (en or zh)) or group_id


_ERRORS = [
    (re.compile(r"^is required$"), lambda m: _l("is required")),
    (re.compile(r"^unknown field$"), lambda m: _l("unknown field")),
    (re.compile(r"^is read-only$"), lambda m: _l("is read-only")),
    (re.compile(r"^must be a whole number$"), lambda m: _l("must be a whole number")),
    (re.compile(r"^must be true or false$"), lambda m: _l("must be true or false")),
    (re.compile(r"^must be a date \(YYYY-MM-DD\)$"), lambda m: _l("must be a date (YYYY-MM-DD)")),
    (re.compile(r"^must be text$"), lambda m: _l("must be text")),
    (re.compile(r"^must be at least (\S+) characters$"), lambda m: _l("must be at least %(n)s characters", n=m[1])),
    (re.compile(r"^must be at most (\S+) characters$"), lambda m: _l("must be at most %(n)s characters", n=m[1])),
    (re.compile(r"^must be at least (\S+)$"), lambda m: _l("must be at least %(n)s", n=m[1])),
    (re.compile(r"^must be at most (\S+)$"), lambda m: _l("must be at most %(n)s", n=m[1])),
    (re.compile(r"^'(.*)' is not one of: (.*)$"), lambda m: _l("“%(value)s” is not one of the choices", value=m[1])),
    (re.compile(r"^must be a mainland China phone number$"), lambda m: _l("must be a mainland China phone number")),
    (re.compile(r"^does not have the expected format$"), lambda m: _l("does not have the expected format")),
    (re.compile(r"^must be on or after (\S+)$"), lambda m: _l("must be on or after %(day)s", day=m[1])),
    (re.compile(r"^must be on or before (\S+)$"), lambda m: _l("must be on or before %(day)s", day=m[1])),
    (re.compile(r"^must be parts picked from stock$"), lambda m: _l("must be parts picked from stock")),
    (re.compile(r"^each quantity must be a whole number from 1$"), lambda m: _l("each quantity must be a whole number from 1")),
    (re.compile(r"^unknown part '(.*)'$"), lambda m: _l("not in stock's catalogue: %(parts)s", parts=m[1])),
    (re.compile(r"^cannot read parts line '(.*)' \(expected PART-NO:QUANTITY\)$"),
     lambda m: _l("“%(value)s” is not a part from stock", value=m[1])),
    (re.compile(r"^unknown part: (.*)$"), lambda m: _l("not in stock's catalogue: %(parts)s", parts=m[1])),
    # the working calendar (engine/company_calendar.py, engine/calendar_import.py)
    (re.compile(r"^'(.*)' is not a date \(YYYY-MM-DD\)$"), lambda m: _l("“%(value)s” is not a date (YYYY-MM-DD)", value=m[1])),
    (re.compile(r"^(\S+) is out of range \(2000–2100\)$"), lambda m: _l("%(day)s is out of range (2000–2100)", day=m[1])),
    (re.compile(r"^(\S+) is already a working day$"), lambda m: _l("%(day)s is already a working day", day=m[1])),
    (re.compile(r"^(\S+) is already a day off \((.*)\)$"),
     lambda m: _l("%(day)s is already a day off (%(name)s)", day=m[1], name=m[2] if m[2] != "weekend" else _l("weekend"))),
    (re.compile(r"^(\S+) is already a company (closed|working) day$"),
     lambda m: _l("%(day)s is already a company day", day=m[1])),
    (re.compile(r"^(\S+) is not a company (\S+ )?day$"), lambda m: _l("%(day)s is not a company day", day=m[1])),
    (re.compile(r"^kind must be 'closed' or 'working', not '(.*)'$"), lambda m: _l("choose closed or working")),
    (re.compile(r"^only admins change the company calendar$"), lambda m: _l("only admins change the calendar")),
    (re.compile(r"^the reason is longer than 200 characters$"), lambda m: _l("the reason is longer than 200 characters")),
    (re.compile(r"^(\S+) is listed twice \(first on line (\d+)\)$"),
     lambda m: _l("%(day)s is listed twice (first on line %(line)s)", day=m[1], line=m[2])),
    (re.compile(r"^kind '(.*)' is neither holiday \(休\) nor working \(班\)$"),
     lambda m: _l("“%(value)s” is neither a day off (休) nor a working day (班)", value=m[1])),
    (re.compile(r"^(\S+) is outside the schedule of (\d+)$"),
     lambda m: _l("%(day)s is outside the schedule of %(year)s", day=m[1], year=m[2])),
    (re.compile(r"^(\S+) belongs to the imported schedule of (\d+)$"),
     lambda m: _l("%(day)s belongs to the imported schedule of %(year)s", day=m[1], year=m[2])),
    (re.compile(r"^the file lists no days$"), lambda m: _l("the file lists no days")),
    (re.compile(r"^the file is not UTF-8 text$"), lambda m: _l("the file is not UTF-8 text")),
    (re.compile(r"^the file is not text$"), lambda m: _l("the file is not UTF-8 text")),
    (re.compile(r"^the file is larger than (\d+) KB$"), lambda m: _l("the file is larger than %(n)s KB", n=m[1])),
    (re.compile(r"^the file lists (\d+) days; .*$"), lambda m: _l("the file lists %(n)s days, far more than a year's schedule", n=m[1])),
    (re.compile(r"^not a valid iCalendar file \((.*)\)$"), lambda m: _l("not a valid iCalendar file")),
    (re.compile(r"^DTSTART '(.*)' is not a date$"), lambda m: _l("the start date “%(value)s” is not a date", value=m[1])),
    (re.compile(r"^the event has no start date \(DTSTART\)$"), lambda m: _l("the event has no start date")),
    (re.compile(r"^the event ends \((\S+)\) before it starts \((\S+)\)$"),
     lambda m: _l("the event ends (%(end)s) before it starts (%(start)s)", end=m[1], start=m[2])),
    (re.compile(r"^the event spans (\d+) days; .*$"), lambda m: _l("the event spans %(n)s days, longer than any holiday", n=m[1])),
    # retention settings (engine/retention.py)
    (re.compile(r"^must be a whole number from (\d+) to (\d+)$"),
     lambda m: _l("must be a whole number from %(low)s to %(high)s", low=m[1], high=m[2])),
    (re.compile(r"^must be a time range like 01:00-05:00 .*$"),
     lambda m: _l("must be a time range like 01:00-05:00 (24-hour clock, start and end differ)")),
    (re.compile(r"^must be a time zone name like Asia/Shanghai$"), lambda m: _l("must be a time zone name like Asia/Shanghai")),
    (re.compile(r"^must be true or false$"), lambda m: _l("must be true or false")),
    # the case archive (handlers/case_archive.py)
    (re.compile(r"^case (\S+) has no documents to archive yet"),
     lambda m: _l("Case %(case)s has no documents to archive yet (repair request, work order, fee settlement, follow-up record).",
                  case=m[1])),
    (re.compile(r"^case (\S+) has no archive: its documents were removed on (\S+)"),
     lambda m: _l("Case %(case)s has no archive: its documents were removed on %(when)s (retention period over).",
                  case=m[1], when=local(m[2]))),
    # a multi-instance over a variable the case does not hold (engine/steps.py)
    (re.compile(r"^multi-instance '(.*)': its collection '(.*)' is not set"),
     lambda m: _l("This step repeats for each item of “%(collection)s”, which the case does not hold: correct the "
                  "case's variables (a list), then retry.", collection=m[2])),
    # a call activity naming a process not deployed (SpiffWorkflow's words; engine/specs.py)
    (re.compile(r"^The called process '(.*)' was not found"),
     lambda m: _l("The called flow “%(flow)s” is not deployed: deploy it, then retry the case.", flow=m[1])),
    # decision tables and FEEL (engine/decisions.py, engine/feel.py): the FEEL text stays as written
    (re.compile(r"^decision table hit policy UNIQUE, but rules (\d+) and (\d+) both match", re.S),
     lambda m: _l("The decision table's hit policy is UNIQUE, but rules %(first)s and %(second)s both match.",
                  first=m[1], second=m[2])),
    (re.compile(r"^decision table rule (\d+): (.*)$", re.S),
     lambda m: _l("Rule %(rule)s of the decision table cannot be evaluated: %(reason)s", rule=m[1], reason=m[2])),
    (re.compile(r"^(?:FEEL|literal expression) '(.*?)': (.*)$", re.S),
     lambda m: _l("The FEEL expression “%(text)s” cannot be evaluated: %(reason)s", text=m[1], reason=m[2])),
    # a business rule task naming a decision table not deployed (engine/decisions.py)
    (re.compile(r"^decision table '(.*)' is not deployed: deploy it, then retry the case"),
     lambda m: _l("The decision table “%(decision)s” is not deployed: deploy it, then retry the case.", decision=m[1])),
    # external workers (engine/external_runs.py): the worker's own text stays as it sent it
    (re.compile(r"^external worker '(.*)' failed on topic '(.*)' with no retries left: (.*)$", re.S),
     lambda m: _l("The external worker %(worker)s failed on “%(topic)s” and has no retries left: %(reason)s",
                  worker=m[1], topic=m[2], reason=m[3])),
    # a BPMN error no error event catches (engine/bpmn_errors.py), from a handler or a worker alike
    (re.compile(r"^BPMN error '(.*?)' \((.*)\) at '.*': no error event catches it$", re.S),
     lambda m: _l("This step reported the business error “%(code)s” (%(reason)s), which no error event catches.",
                  code=m[1], reason=m[2])),
    (re.compile(r"^BPMN error '(.*?)' at '.*': no error event catches it$", re.S),
     lambda m: _l("This step reported the business error “%(code)s”, which no error event catches.", code=m[1])),
    # the same, as cases stopped before the two ways were one say it
    (re.compile(r"^BPMN error '(.*)' from external worker '(.*?)'.*, but no error boundary event on '.*' catches it$", re.S),
     lambda m: _l("The external worker %(worker)s reported the business error “%(code)s”, which no error event "
                  "of this step catches.", worker=m[2], code=m[1])),
]


def translate_error(message: str) -> str:
    for pattern, render in _ERRORS:
        match = pattern.match(message)
        if match:
            return str(render(match))
    return message


def field_messages(errors: dict[str, str], labels: dict[str, str]) -> dict[str, str]:
    """Each field's problem in the page's language, naming the field by its label ("联系电话：…")."""
    colon = "：" if _chinese() else ": "
    return {k: field_label(k, labels.get(k)) + colon + translate_error(v)
            for k, v in errors.items()}


def today():
    """The local day (the engine's clock in the configured zone): date inputs' relative bounds."""
    return current_app.extensions["aftersales"]["engine"].today()


def local(value) -> str:
    """A stored moment as wall-clock time in the configured zone (default Asia/Shanghai)."""
    if value in (None, ""):
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(moment).astimezone(time_zone()).strftime("%Y-%m-%d %H:%M")  # type: ignore[union-attr]


_HINTS = {
    ("min", False): _l("due in %(n)s min"), ("h", False): _l("due in %(n)s h"), ("d", False): _l("due in %(n)s days"),
    ("min", True): _l("overdue by %(n)s min"), ("h", True): _l("overdue by %(n)s h"), ("d", True): _l("overdue by %(n)s days"),
}


def _in_units(seconds: float) -> tuple[int, str]:
    """A span as a whole number of minutes (under an hour), hours (under two days) or days."""
    if seconds < 3600:
        return max(1, round(seconds / 60)), "min"
    if seconds < 48 * 3600:
        return round(seconds / 3600), "h"
    return round(seconds / 86400), "d"


def due_hint(due, now) -> str:
    """How far off a due date is, in words ("2 小时后到期", "已逾期 3 小时")."""
    if due in (None, ""):
        return ""
    moment = as_utc(datetime.fromisoformat(due) if isinstance(due, str) else due)
    seconds = (moment - as_utc(now)).total_seconds()  # type: ignore[operator]
    span = abs(seconds)
    n, unit = _in_units(span)
    return str(_HINTS[(unit, seconds < 0)]) % {"n": n}


_AGES = {"min": _l("%(n)s min ago"), "h": _l("%(n)s h ago"), "d": _l("%(n)s days ago")}


def age_hint(since, now) -> str:
    """How long ago a moment was, in words ("3 小时前"): how long a task has waited."""
    if since in (None, ""):
        return ""
    moment = as_utc(datetime.fromisoformat(since) if isinstance(since, str) else since)
    span = max(0.0, (as_utc(now) - moment).total_seconds())  # type: ignore[operator]
    n, unit = _in_units(span)
    return str(_AGES[unit]) % {"n": n}


def time_zone():
    return current_app.extensions["aftersales"]["engine"].settings.get("time_zone", SHANGHAI)


def show(value) -> str:
    """A variable's value as people read it."""
    if value is True:
        return "✔"
    if value is False:
        return "✘"
    if value is None:
        return ""
    if isinstance(value, dict) and "part_no" in value:  # a picked part
        return f"{value['part_no']} × {value.get('quantity', 1)}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    return str(value)


def init(app: Flask) -> None:
    app.jinja_env.filters["show"] = show
    app.jinja_env.filters["translate_error"] = translate_error
    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["one_language"] = one_language
    app.jinja_env.filters["group_name"] = group_name
    app.jinja_env.globals["label_for"] = label_for
    app.jinja_env.globals["field_label"] = field_label
    app.jinja_env.globals["option_label"] = option_label
    app.jinja_env.globals["value_for"] = value_for
    app.jinja_env.globals["process_name"] = process_name
    app.jinja_env.globals["element_name"] = element_name
    app.jinja_env.globals["person_name"] = person_name
    app.jinja_env.globals["due_hint"] = due_hint
    app.jinja_env.globals["age_hint"] = age_hint
    app.jinja_env.globals["group_name"] = group_name
    app.jinja_env.globals["today"] = today
    app.jinja_env.globals["field_messages"] = field_messages
    app.jinja_env.globals["doc_titles"] = DOC_TITLES
    app.jinja_env.globals["field_labels"] = FIELD_LABELS
