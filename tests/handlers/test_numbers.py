"""Case and document numbers under load: 40 cases registered at the same moment, on SQLite and on
PostgreSQL, each get their own number of the day, none ends in error."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from engine.users import Actor
from handlers.numbers import next_number

CS = Actor("customer_service", frozenset({"customer_service"}))
REPAIR = {"customer_name": "张三", "customer_phone": "13800138000", "product_model": "KX-200",
          "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}


def _at_once(n, fn):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_forty_numbers_drawn_at_once_are_forty_different_numbers(core):
    _engine, sessions = core
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def draw(_i):
        with sessions() as s:
            number = next_number(s, "repair", now)
            s.commit()
            return number

    numbers = _at_once(40, draw)
    assert [r for r in numbers if not isinstance(r, str)] == []
    assert sorted(numbers) == [f"RX-20261123-{n:04d}" for n in range(1, 41)]


def test_forty_cases_registered_at_once_all_get_a_case_number(core, clock):
    engine, sessions = core

    def register(_i):
        with sessions() as s:
            inst = engine.start(s, "repair", CS, variables=dict(REPAIR))
            s.commit()
            return inst.id

    ids = _at_once(40, register)
    assert [r for r in ids if not isinstance(r, int)] == []
    with sessions() as s:
        cases = [engine.get_instance(s, i) for i in ids]
        assert [(c.state, c.error_message) for c in cases if c.state != "running"] == []
        day = clock.now().strftime("%Y%m%d")
        assert sorted(c.business_key for c in cases) == [f"RX-{day}-{n:04d}" for n in range(1, 41)]
