"""The case summary shown above every task form: what staff need to do the task without asking.

Defined once per process key (``SUMMARY``); a process not listed shows its start form's fields.
Contact data (``access.CONTACT_FIELDS``) is shown only to whom the access policy lets see it —
and only when the actor may see the case at all (a technician's pool task: after claiming it).
"""

from __future__ import annotations

from typing import Any

from . import access
from .users import Actor

# variable names, in the order shown; ``repair`` covers its ``dispatch`` call activity as well
SUMMARY: dict[str, list[str]] = {
    "repair": ["case_no", "customer_name", "customer_phone", "customer_address", "product_model", "serial_no",
               "purchase_date", "fault_description", "fault_cause", "solution", "plan", "estimated_amount",
               "parts_needed", "appointment_date"],
    "return_exchange": ["rma_no", "order_no", "product", "quantity", "request_type", "reason", "purchase_date",
                        "channel", "price_difference", "refund_amount", "contact_name", "contact_phone"],
    "complaint": ["complaint_no", "customer_name", "customer_phone", "product_model", "serial_no", "severity",
                  "complaint_text", "responsible_department"],
    "follow_up": ["case_no", "customer_name", "customer_phone", "product_model", "serial_no", "accepted_at"],
    "consultation": ["consultation_no", "customer_name", "customer_phone", "product_model", "channel", "question",
                     "asked_at", "first_response_text"],
    "travel_expense": ["claim_no", "case_no", "repair_request_no", "trip_date", "destination", "transport_cost",
                       "lodging_cost", "allowance", "total_amount", "expense_note", "case_problem", "approval_comment"],
    "stock_report": ["report_no", "report_month", "consumption_by_product", "consumption_by_technician",
                     "stock_on_hand"],
}


def fields_for(process_key: str, start_field_ids: list[str]) -> list[str]:
    return SUMMARY.get(process_key) or list(start_field_ids)


def build(actor: Actor, process_key: str, variables: dict[str, Any], start_field_ids: list[str],
          may_see_case: bool) -> tuple[list[tuple[str, Any]], bool, bool]:
    """``(rows, contact_shown, contact_hidden)``: the (name, value) pairs to show, in order, skipping
    empty ones; whether contact data is among them (to be logged) and whether some was withheld."""
    show_contact = may_see_case and access.sees_contact(actor)
    rows: list[tuple[str, Any]] = []
    shown = hidden = False
    for name in fields_for(process_key, start_field_ids):
        value = variables.get(name)
        if value in (None, "", []):
            continue
        if name in access.CONTACT_FIELDS:
            if not show_contact:
                hidden = True
                continue
            shown = True
        rows.append((name, value))
    return rows, shown, hidden
