"""The monthly stock count and consumption report (R22).

Started on the 1st of every month for the month before: what parts were used, per product model and
per technician, counted from the stock movements the parts handlers write (``handlers/parts.py``:
``issue`` when the warehouse hands parts over against an outbound slip, ``return_unused`` when the
job is reconciled) — used = issued − returned in the month —, and the stock on the books for the
warehouse to count against. The warehouse confirms the count (and says what differs).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.models import Instance
from engine.service_tasks import HandlerContext, HandlerRegistry
from engine.working_days import SHANGHAI

from . import documents
from .numbers import next_number
from .records import Document, Part, StockMovement

SIGN = {"issue": 1, "return_unused": -1}
UNKNOWN = "未知"


def month_before(moment: datetime, tz: ZoneInfo = SHANGHAI) -> tuple[date, datetime, datetime]:
    """The calendar month before ``moment`` (local time): its first day and its bounds in UTC."""
    end = moment.astimezone(tz).date().replace(day=1)
    start = end.replace(year=end.year - 1, month=12) if end.month == 1 else end.replace(month=end.month - 1)
    return start, datetime.combine(start, time(), tz).astimezone(UTC), datetime.combine(end, time(), tz).astimezone(UTC)


def _lines(counts: dict[str, int], names: dict[str, str]) -> list[dict]:
    return [{"part_no": p, "name": names.get(p, p), "quantity": q} for p, q in sorted(counts.items()) if q]


def consumption(session, start: datetime, end: datetime) -> tuple[list[dict], list[dict], dict[str, int]]:
    """Parts used from ``start`` to ``end``: per product model, per technician, and in all."""
    moves = session.execute(select(StockMovement.part_no, StockMovement.kind, StockMovement.quantity,
                                   StockMovement.slip_no, StockMovement.instance_id)
                            .where(StockMovement.kind.in_(list(SIGN)), StockMovement.at >= start, StockMovement.at < end)
                            ).all()
    slips = {m.slip_no for m in moves if m.slip_no}
    instances = {m.instance_id for m in moves if m.instance_id is not None}
    drawn_by = {number: (data or {}).get("drawn_by") for number, data in session.execute(
        select(Document.number, Document.data).where(Document.kind == "outbound_slip", Document.number.in_(slips)))}
    models = dict(session.execute(select(Instance.id, Instance.product_model).where(Instance.id.in_(instances))).all())
    by_product: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_technician: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    for m in moves:
        used = SIGN[m.kind] * m.quantity
        by_product[models.get(m.instance_id) or UNKNOWN][m.part_no] += used
        by_technician[drawn_by.get(m.slip_no) or UNKNOWN][m.part_no] += used
        total[m.part_no] += used
    names = dict(session.execute(select(Part.part_no, Part.name)).all())
    product_rows = [{"product_model": k, "parts": _lines(v, names)} for k, v in sorted(by_product.items())]
    technician_rows = [{"technician": k, "parts": _lines(v, names)} for k, v in sorted(by_technician.items())]
    return ([r for r in product_rows if r["parts"]], [r for r in technician_rows if r["parts"]],
            {p: q for p, q in sorted(total.items()) if q})


def monthly_report(ctx: HandlerContext) -> dict:
    """R22: the month's consumption and the stock to count, as a report for the warehouse."""
    first, start, end = month_before(ctx.now, ctx.settings.get("time_zone") or SHANGHAI)
    by_product, by_technician, total = consumption(ctx.session, start, end)
    stock = [{"part_no": p.part_no, "name": p.name, "quantity": p.on_hand}
             for p in ctx.session.scalars(select(Part).order_by(Part.part_no))]
    month = first.strftime("%Y-%m")
    number = next_number(ctx.session, "stock_report", ctx.now)
    ctx.set_business_key(number)
    names = {str(s["part_no"]): str(s["name"]) for s in stock}
    documents.create(ctx, "stock_report", {
        "report_month": month, "consumption_by_product": by_product, "consumption_by_technician": by_technician,
        "consumption_total": _lines(total, names), "stock_on_hand": stock, "status": "to_count",
        "produced_at": ctx.now.isoformat()}, number=number)
    return {"report_no": number, "report_month": month, "consumption_by_product": by_product,
            "consumption_by_technician": by_technician, "stock_on_hand": stock}


def confirm_count(ctx: HandlerContext) -> dict:
    """The warehouse's count goes onto the report: matching the books, or what differs."""
    doc = documents.find(ctx.session, ctx.instance_id, "stock_report")
    if doc is None:
        raise LookupError("no stock report to confirm")
    v = ctx.variables
    doc.data = {**doc.data, "status": "counted", "count_matches": bool(v.get("count_matches")),
                "count_differences": v.get("count_differences") or "", "counted_by": ctx.actor,
                "counted_at": ctx.now.isoformat()}
    return {"counted_at": ctx.now.isoformat()}


def register(registry: HandlerRegistry) -> None:
    registry.register("stock.monthly_report", monthly_report)
    registry.register("stock.count_confirmed", confirm_count)
