"""Document and case numbers: PREFIX-YYYYMMDD-NNNN, a sequence per prefix and day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
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
}


def next_number(session: Session, kind: str, now: datetime) -> str:
    prefix = PREFIXES[kind]
    day = now.strftime("%Y%m%d")
    # An UPDATE first takes the row lock, so concurrent cases never share a number.
    bumped = session.execute(
        update(Counter).where(Counter.prefix == prefix, Counter.day == day).values(last=Counter.last + 1)
        .returning(Counter.last)
    ).scalar()
    if bumped is None:
        session.add(Counter(prefix=prefix, day=day, last=1))
        session.flush()
        bumped = 1
    return f"{prefix}-{day}-{bumped:04d}"
