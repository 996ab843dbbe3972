"""What the shipped diagrams computed in Python before their rules became decision tables
(``processes/repair_fee.dmn``, ``return_fee.dmn``, ``finance_approval.dmn``, issue 12).

Cases started on those earlier versions still call these topics — ``fees.calculate``,
``fees.return`` — and read ``needs_finance`` from the supervisor's approval; kept here, unchanged, so
that they finish as they began (the rates the customer was told when the case was registered). New
versions never call them: a process owner changes a fee in the tables. Moving a running case to the
current version (流程管理 → 迁移) makes it use the tables from there on.
"""

from __future__ import annotations

from engine.service_tasks import HandlerContext, HandlerRegistry

RATES = {"labour": 200, "travel": 80}  # yuan, as in force until the tables came
RETURN_SHIPPING = 15  # yuan
SELLER_FAULT = ("quality_defect", "wrong_item", "missing_parts")
FINANCE_THRESHOLD = 5000  # yuan; above it finance approved too (R23)


def calculate_fee(ctx: HandlerContext) -> dict:
    """R7 as it was: quality or installation defects free; misuse charged; accidents negotiated;
    out of warranty at standard rates."""
    v = ctx.variables
    rates = {**RATES, **ctx.settings.get("rates", {})}
    parts_cost = int(v.get("parts_cost", 0))
    standard = rates["labour"] + rates["travel"] * (1 if v.get("plan") == "onsite" else 0) + parts_cost
    nature = v.get("fault_nature")
    if not v.get("in_warranty"):
        basis, amount = "out_of_warranty", standard
    elif nature in ("quality", "installation"):
        basis, amount = "free_" + nature, 0
    elif nature == "misuse":
        basis, amount = "misuse", standard
    else:
        basis, amount = "accident_negotiated", int(v.get("negotiated_fee", standard))
    return {"fee_amount": amount, "fee_basis": basis}


def return_fees(ctx: HandlerContext) -> dict:
    """R6 as it was: the customer pays the return shipping and any price difference — unless the fault is ours."""
    v = ctx.variables
    customer_pays_shipping = v.get("reason") not in SELLER_FAULT
    difference = int(v.get("price_difference") or 0) if v.get("request_type") == "exchange" else 0
    return {"customer_pays_shipping": customer_pays_shipping,
            "shipping_fee": RETURN_SHIPPING if customer_pays_shipping else 0,
            "price_difference_due": difference}


def needs_finance(variables: dict) -> bool:
    """R23 as it was: an approved plan over the threshold needs finance too. The current repair diagram
    asks ``finance_approval.dmn`` after the approval and sets ``needs_finance`` itself."""
    return bool(variables.get("plan_approved")) and int(variables.get("estimated_amount") or 0) > FINANCE_THRESHOLD


def register(registry: HandlerRegistry) -> None:
    registry.register("fees.calculate", calculate_fee, writes=False)
    registry.register("fees.return", return_fees, writes=False)
