"""Cross-region fee settlement (R23): when the technician who did the job works in another region
than the case's (the province of the customer's address, ``engine/regions.py``), the settlement
needs the regional manager's approval. The finance threshold on the plan stays as it is
(``handlers/approvals.py``)."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import User
from engine.regions import region_of
from engine.service_tasks import HandlerContext, HandlerRegistry

from .records import Approval


def check_region(ctx: HandlerContext) -> dict:
    """``cross_region`` when both regions are known and differ (an unknown one asks nobody extra)."""
    v = ctx.variables
    case_region = region_of(v.get("customer_address"))
    technician = v.get("technician")
    technician_region = ctx.session.scalar(select(User.region).where(User.username == technician)) if technician else None
    cross = bool(case_region and technician_region and case_region != technician_region)
    return {"case_region": case_region, "technician_region": technician_region, "cross_region": cross}


def regional_decision(ctx: HandlerContext) -> dict:
    """The regional manager's decision on a cross-region settlement, kept like every approval."""
    v = ctx.variables
    if "regional_approved" not in v:
        raise KeyError("variable 'regional_approved' (the decision) is missing")
    ctx.session.add(Approval(instance_id=ctx.instance_id, subject="cross_region_settlement", level="regional_manager",
                             approved=bool(v["regional_approved"]), decided_by=ctx.actor, decided_at=ctx.now,
                             comment=v.get("regional_comment") or "", amount=v.get("fee_amount")))
    return {}


def register(registry: HandlerRegistry) -> None:
    registry.register("settlement.region", check_region)
    registry.register("approval.regional", regional_decision)
