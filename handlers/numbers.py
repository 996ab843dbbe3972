"""Document and case numbers: PREFIX-YYYYMMDD-NNNN, a sequence per prefix and day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .records import Counter

PREFIXES = {
    "repair": "RX",  # 报修单 / case number
    "return": "RMA",
    "complaint": "CP",
    "coupon": "CPN",
    "replenishment_request": "RP",
    "work_order": "WO",
    "outbound_slip": "OS",
    "procurement": "PR",
    "follow_up": "FU",
    "consultation": "CQ",  # 咨询登记
    "travel_expense": "TE",  # 差旅费报销单
    "stock_report": "SR",  # 月度盘点与配件消耗报表
}


def next_number(session: Session, kind: str, now: datetime) -> str:
    prefix = PREFIXES[kind]
    day = now.strftime("%Y%m%d")
    # One statement that inserts the day's first number or bumps the row: the database takes the row
    # lock, so concurrent cases queue for it instead of both inserting (read-then-write raced on PostgreSQL).
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Counter).values(prefix=prefix, day=day, last=1).on_conflict_do_update(
        index_elements=[Counter.prefix, Counter.day], set_={"last": Counter.last + 1}
    ).returning(Counter.last)
    bumped = session.execute(statement).scalar_one()
    return f"{prefix}-{day}-{bumped:04d}"

