"""Words the pages show for engine data: document titles, document fields, form errors."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _l

from engine.db import as_utc
from engine.working_days import SHANGHAI

DOC_TITLES = {
    "repair_request": _l("Repair request"), "work_order": _l("Work order"), "outbound_slip": _l("Parts outbound slip"),
    "follow_up": _l("Follow-up record"), "return_request": _l("Return/exchange request"), "gift": _l("Gift"),
    "coupon": _l("Coupon"), "complaint_record": _l("Complaint record"), "settlement_agreement": _l("Settlement agreement"),
    "compensation_shipment": _l("Compensation shipment"), "replenishment_request": _l("Replenishment request"),
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
}

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
]


def translate_error(message: str) -> str:
    for pattern, render in _ERRORS:
        match = pattern.match(message)
        if match:
            return str(render(match))
    return message


def local(value) -> str:
    """A stored moment as Shanghai wall-clock time."""
    if value in (None, ""):
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")  # type: ignore[union-attr]


def show(value) -> str:
    """A variable's value as people read it."""
    if value is True:
        return "✔"
    if value is False:
        return "✘"
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    return str(value)


def init(app: Flask) -> None:
    app.jinja_env.filters["show"] = show
    app.jinja_env.filters["translate_error"] = translate_error
    app.jinja_env.filters["local"] = local
    app.jinja_env.globals["doc_titles"] = DOC_TITLES
    app.jinja_env.globals["field_labels"] = FIELD_LABELS
