"""Document and case numbers: PREFIX-YYYYMMDD-NNNN, a sequence per prefix and day."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam
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


def _bump(dialect):
    # One statement that inserts the day's first number or bumps the row: the database takes the row
    # lock, so concurrent cases queue for it instead of both inserting (read-then-write raced on PostgreSQL).
    # (on the table, not the mapped class: an ORM-enabled INSERT takes the ORM's bulk path, ten times slower)
    table = cast(Table, Counter.__table__)
    return dialect.insert(table).values(
        prefix=bindparam("for_prefix"), day=bindparam("for_day"), last=1,
    ).on_conflict_do_update(index_elements=[table.c.prefix, table.c.day], set_={"last": table.c.last + 1}
                            ).returning(table.c.last)


_BUMP = {"postgresql": _bump(postgresql), "sqlite": _bump(sqlite)}  # built once: building costs more than running


def next_number(session: Session, kind: str, now: datetime) -> str:
    prefix = PREFIXES[kind]
    day = now.strftime("%Y%m%d")
    statement = _BUMP["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    bumped = session.execute(statement, {"for_prefix": prefix, "for_day": day}).scalar_one()
    return f"{prefix}-{day}-{bumped:04d}"
