"""The monthly stock count and consumption report (R22): a timer starts it on the 1st of each month for
the month before; parts used per product model and per technician come from the stock movements of
the month's repairs; the warehouse counts and confirms."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.schedules import parse
from handlers.stock_reports import month_before
from tests.web.test_repair_flow import diagnose, start, through_dispatch

DEC_1_9 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 1 December, 09:00 Shanghai


def repair_with_parts(api, technician, product, needed, used):
    iid = start(api, product_model=product)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, parts_needed=needed)
    api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    if technician == "technician":
        return through_dispatch(api, iid, parts_used=used, old=1)
    api.complete(technician, iid, "accept_work_order", appointment_date="2026-11-26", travel_mode="company_car")
    api.complete("warehouse", iid, "issue_parts", parts_handed_over=True)
    return api.complete(technician, iid, "onsite_repair", repair_steps="更换温控器", repair_result="恢复",
                        tested_ok=True, parts_used=used, old_parts_returned=1)


def test_r22_monthly_report_counts_parts_used_per_product_and_technician(running, clock):
    api = running
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    repair_with_parts(api, "technician", "KX-200 冷柜", "P-100:2", "P-100:1")  # one back to stock
    clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    repair_with_parts(api, "technician2", "KX-300 冰箱", "P-200:3", "P-200:3")

    clock.set(datetime(2026, 12, 1, 0, 59, 59, tzinfo=UTC))  # 08:59:59 Shanghai: not yet
    api.scheduler.run_once()  # (the Friday parts top-up of 27 November falls due meanwhile)
    assert api.get("admin", "/api/process-instances?key=stock_report").json["items"] == []
    clock.set(DEC_1_9.replace(second=1))
    assert api.scheduler.run_once() == 1
    assert api.scheduler.run_once() == 0  # once a month
    (report,) = api.get("admin", "/api/process-instances?key=stock_report").json["items"]
    inst = api.get("warehouse", f"/api/process-instances/{report['id']}").json
    assert inst["state"] == "running", inst["error"]
    assert inst["business_key"] == "SR-20261201-0001"
    v = inst["variables"]
    assert v["report_month"] == "2026-11"
    assert v["consumption_by_product"] == [
        {"product_model": "KX-200 冷柜", "parts": [{"part_no": "P-100", "name": "Compressor board", "quantity": 1}]},
        {"product_model": "KX-300 冰箱", "parts": [{"part_no": "P-200", "name": "Thermostat", "quantity": 3}]}]
    assert v["consumption_by_technician"] == [
        {"technician": "technician", "parts": [{"part_no": "P-100", "name": "Compressor board", "quantity": 1}]},
        {"technician": "technician2", "parts": [{"part_no": "P-200", "name": "Thermostat", "quantity": 3}]}]
    assert v["stock_on_hand"] == [{"part_no": "P-100", "name": "Compressor board", "quantity": 9},
                                  {"part_no": "P-200", "name": "Thermostat", "quantity": 47},
                                  {"part_no": "P-400", "name": "Inverter module", "quantity": 0}]
    (task,) = inst["tasks"]
    assert (task["element_id"], task["candidate_groups"]) == ("confirm_count", ["warehouse"])
    assert task["due_at"] == "2026-12-04T01:00:01+00:00"  # reported within 3 working days of the cut-off
    (doc,) = api.get("warehouse", f"/api/process-instances/{report['id']}/documents").json
    assert (doc["kind"], doc["data"]["consumption_total"]) == ("stock_report", [
        {"part_no": "P-100", "name": "Compressor board", "quantity": 1},
        {"part_no": "P-200", "name": "Thermostat", "quantity": 3}])

    done = api.complete("warehouse", report["id"], "confirm_count", count_matches=False,
                        count_differences="P-200 实盘 46，盘亏 1")
    assert done["state"] == "completed"
    (doc,) = api.get("warehouse", f"/api/process-instances/{report['id']}/documents").json
    assert (doc["data"]["status"], doc["data"]["count_matches"], doc["data"]["count_differences"],
            doc["data"]["counted_by"]) == ("counted", False, "P-200 实盘 46，盘亏 1", "warehouse")

    # the next month's report counts December only: nothing used
    clock.set(datetime(2027, 1, 1, 1, 0, 1, tzinfo=UTC))
    api.scheduler.run_once()  # (and the Friday top-up of 4 December)
    latest, _first = api.get("admin", "/api/process-instances?key=stock_report").json["items"]
    v = api.get("warehouse", f"/api/process-instances/{latest['id']}").json["variables"]
    assert (v["report_month"], v["consumption_by_product"], v["consumption_by_technician"]) == ("2026-12", [], [])


def test_r22_the_report_covers_the_calendar_month_before_in_local_time():
    assert month_before(datetime(2027, 1, 1, 1, 0, tzinfo=UTC)) == (
        date(2026, 12, 1), datetime(2026, 11, 30, 16, 0, tzinfo=UTC), datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    # 1 March 07:00 Shanghai is still 28 February in UTC: the month before is February
    assert month_before(datetime(2027, 2, 28, 23, 0, tzinfo=UTC))[0] == date(2027, 2, 1)


def test_r22_a_monthly_cycle_keeps_to_the_day_of_the_month():
    """``P1M`` is a calendar month (30, 31, 28 days), not 31 days."""
    schedule = parse("timeCycle", "R/2026-12-01T09:00:00+08:00/P1M")
    anchor = datetime(2026, 11, 1, tzinfo=UTC)
    due, _ = schedule.next_after(datetime(2027, 1, 1, 2, 0, tzinfo=UTC), anchor)
    assert due == datetime(2027, 2, 1, 1, 0, tzinfo=UTC)
    due, _ = schedule.next_after(due, anchor)
    assert due == datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


def test_r22_count_page_shows_the_report_in_words_and_people_by_name(running, clock, app):
    from engine.models import User
    from tests.web.test_pages import login

    api = running
    with api.sessions() as s:
        s.query(User).filter_by(username="technician2").one().display_name = "李工"
        s.commit()
    clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    repair_with_parts(api, "technician2", "KX-300 冰箱", "P-200:3", "P-200:2")
    clock.set(DEC_1_9.replace(second=1))
    api.scheduler.run_once()
    (report,) = api.get("admin", "/api/process-instances?key=stock_report").json["items"]
    (task,) = api.get("warehouse", f"/api/process-instances/{report['id']}").json["tasks"]
    page = login(app, "warehouse").get(f"/tasks/{task['id']}").data.decode()
    assert "按技术员的配件消耗" in page and "维修工程师: 李工; 配件: P-200 × 2" in page
    assert "按产品型号的配件消耗" in page and "产品型号: KX-300 冰箱; 配件: P-200 × 2" in page
    assert "technician2" not in page  # a person by name, never the login
