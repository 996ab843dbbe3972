"""Messages to customers (SMS or e-mail) through the outbox, e.g. the reminder to ship goods back."""

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


def register(registry: HandlerRegistry) -> None:
    registry.register("notify.customer", notify_customer)
