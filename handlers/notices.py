"""Notices through the outbox: to customers (SMS or e-mail, e.g. the reminder to ship goods back) and
to staff groups (e.g. the supervisor when a work order is not taken within the hour, R8)."""

from __future__ import annotations

from engine import notifications
from engine.service_tasks import HandlerContext, HandlerRegistry

TEMPLATES = {
    "remind_customer": ("请寄回退换商品 Please send the goods back",
                        "您的退换申请 {case} 已通过审核，请尽快寄回商品并提供运单号。Your return {case} was approved; "
                        "please ship the goods back and tell us the tracking number."),
}
DEFAULT = ("售后服务通知 After-sales notice", "关于您的售后案件 {case}。About your after-sales case {case}.")


def notify_customer(ctx: HandlerContext) -> dict:
    v = ctx.variables
    phone = v.get("contact_phone") or v.get("customer_phone")
    email = v.get("contact_email") or v.get("customer_email")
    if not (phone or email):
        raise LookupError("the case has no customer phone or e-mail to notify")
    subject, body = TEMPLATES.get(ctx.element_id, DEFAULT)
    case = ctx.business_key or ctx.instance_id
    notifications.queue(ctx.session, kind="customer", recipient=f"email:{email}" if email else f"phone:{phone}",
                        subject=subject, body=body.format(case=case), now=ctx.now, instance_id=ctx.instance_id,
                        dedupe_key=f"customer:{ctx.instance_id}:{ctx.element_id}:{ctx.now.isoformat()}")
    return {"customer_notified_at": ctx.now.isoformat()}


STAFF_TEMPLATES = {
    "notify_supervisor": ("supervisor", "派工超时 Work order not taken within 1 working hour (R8)"),
    "notify_first_late": ("supervisor", "咨询首次答复超时 Question not responded to within 1 working hour (R1)"),
    "notify_answer_late": ("supervisor", "咨询解答超时 Question not answered within 24 hours (R1)"),
}


def notify_staff(ctx: HandlerContext) -> dict:
    group, subject = STAFF_TEMPLATES.get(ctx.element_id, ("supervisor", f"督办 Attention: {ctx.element_id}"))
    case = ctx.variables.get("case_no") or ctx.business_key or ctx.instance_id
    notifications.queue(ctx.session, kind="staff", recipient=f"group:{group}", subject=f"{subject}: {case}",
                        body=f"案件 Case {case} · 工单 {ctx.variables.get('work_order_no') or '-'}", now=ctx.now,
                        instance_id=ctx.instance_id, dedupe_key=f"staff:{ctx.instance_id}:{ctx.element_id}:{ctx.now.isoformat()}")
    return {}


def register(registry: HandlerRegistry) -> None:
    registry.register("notify.customer", notify_customer)
    registry.register("notify.staff", notify_staff)
