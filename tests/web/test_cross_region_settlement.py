"""Cross-region fee settlement (R23): a technician from another region than the case's (the province
of the customer's address) needs the regional manager's approval before the customer settles; the
finance threshold on the plan stays as well."""

from __future__ import annotations

import pytest

from engine.models import User
from handlers.records import Approval
from tests.web.test_repair_flow import diagnose, start, through_dispatch


@pytest.fixture
def regions(deployed, app):
    sessions = app.extensions["aftersales"]["sessions"]

    def set_region(username, region):
        with sessions() as s:
            s.query(User).filter_by(username=username).one().region = region
            s.commit()

    def approvals(iid):
        with sessions() as s:
            return [(a.level, a.approved) for a in s.query(Approval).filter_by(instance_id=iid).order_by(Approval.id)]

    set_region.approvals = approvals
    return set_region


def to_settlement(api, **plan):
    """A chargeable repair (misuse) in 杭州 (浙江) up to its fee: the open tasks then."""
    iid = start(api)["id"]
    api.complete("customer_service", iid, "check_scope", identity_confirmed=True, in_scope=True, in_warranty=True)
    diagnose(api, iid, fault_nature="misuse", parts_needed="", **plan)
    inst = api.complete("supervisor", iid, "approve_plan", plan_approved=True)
    if [t["element_id"] for t in inst["tasks"]] == ["finance_approve"]:
        api.complete("finance", iid, "finance_approve", finance_approved=True)
    through_dispatch(api, iid, parts_used="", old=0)
    api.complete("supervisor", iid, "qc", qc_passed=True)
    return iid, api.complete("customer_service", iid, "sign_off", customer_signed=True, solved=True)


def test_r23_technician_from_another_region_needs_the_regional_manager(deployed, regions):
    api = deployed
    regions("technician", "江苏")
    iid, inst = to_settlement(api, estimated_amount=8000)  # over the finance threshold as well
    v = inst["variables"]
    assert (v["case_region"], v["technician_region"], v["cross_region"]) == ("浙江", "江苏", True)
    assert v["fee_amount"] > 0
    assert [(t["element_id"], t["candidate_groups"]) for t in inst["tasks"]] == [
        ("approve_cross_region", ["regional_manager"])]
    assert api.get("customer_service", f"/api/tasks?instance={iid}").json["items"] == []  # not settled before
    seen = api.get("regional_manager", f"/api/process-instances/{iid}")  # the case to approve: amounts, no customer
    assert seen.status_code == 200 and "customer_phone" not in seen.json["variables"]
    inst = api.complete("regional_manager", iid, "approve_cross_region", regional_approved=True,
                        regional_comment="江苏网点支援，按浙江标准结算")
    assert [t["element_id"] for t in inst["tasks"]] == ["settle_fee"]
    api.complete("customer_service", iid, "settle_fee", fee_settled=True)
    # the plan went through supervisor and finance (threshold), the settlement through the regional manager
    assert regions.approvals(iid) == [("supervisor", True), ("finance", True), ("regional_manager", True)]


def test_r23_refused_cross_region_settlement_is_resolved_by_the_supervisor_then_decided_again(deployed, regions):
    api = deployed
    regions("technician", "江苏")
    iid, _ = to_settlement(api)
    inst = api.complete("regional_manager", iid, "approve_cross_region", regional_approved=False,
                        regional_comment="应由浙江网点结算")
    assert [(t["element_id"], t["candidate_groups"]) for t in inst["tasks"]] == [("resolve_cross_region", ["supervisor"])]
    inst = api.complete("supervisor", iid, "resolve_cross_region", resolution_note="已与浙江网点协调，由其结算")
    assert [t["element_id"] for t in inst["tasks"]] == ["approve_cross_region"]
    inst = api.complete("regional_manager", iid, "approve_cross_region", regional_approved=True)
    assert [t["element_id"] for t in inst["tasks"]] == ["settle_fee"]
    assert regions.approvals(iid)[-2:] == [("regional_manager", False), ("regional_manager", True)]


@pytest.mark.parametrize("technician_region", ["浙江", None])
def test_r23_same_or_unknown_region_settles_without_the_regional_manager(deployed, regions, technician_region):
    api = deployed
    regions("technician", technician_region)
    iid, inst = to_settlement(api)
    assert inst["variables"]["cross_region"] is False
    assert [t["element_id"] for t in inst["tasks"]] == ["settle_fee"]
    assert api.get("regional_manager", "/api/tasks?group=regional_manager").json["items"] == []


def test_r23_demo_has_a_regional_manager_and_says_where_staff_work(database_url):
    import handlers
    from engine.users import authenticate
    from engine.wiring import build
    from web.cli import seed_demo

    engine, sessions, db = build(handlers.default_registry(), database_url)
    try:
        assert "regional_manager" in seed_demo(engine, sessions)
        assert seed_demo(engine, sessions) == []  # idempotent
        with sessions() as s:
            user = s.query(User).filter_by(username="regional_manager").one()
            assert (user.display_name, user.group_list, user.region) == ("区域经理", ["regional_manager"], "浙江")
            assert s.query(User).filter_by(username="technician").one().region == "浙江"
            assert authenticate(s, "regional_manager", "demo") is not None
    finally:
        db.dispose()
