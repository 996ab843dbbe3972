"""Issue 11, plain language: the inbox's assign control offers the group's other members; when nobody
else is in the group it says so instead of showing an empty list."""

from __future__ import annotations

import re

from engine import users
from tests.web.test_pages import login, site  # noqa: F401  (fixture)
from tests.web.test_repair_flow import REQUEST


def test_assign_says_when_nobody_else_is_in_the_group(site, api):  # noqa: F811
    api.post("customer_service", "/api/process-definitions/repair/start", {"variables": REQUEST})
    cs = login(site, "customer_service")
    page = cs.get("/?tab=group", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert page.count('data-task="check_scope"') == 1
    assert "组内没有其他同事" in page and not re.search(r'<select id="assign_', page)
    english = cs.get("/?tab=group", headers={"Accept-Language": "en"}).data.decode()
    assert "No colleague in this group" in english

    ext = site.extensions["aftersales"]
    with ext["sessions"]() as s:
        users.add_user(s, "cs2", "demo", ["customer_service"], display_name="李娜", now=ext["engine"].clock.now())
        s.commit()
    page = cs.get("/?tab=group", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert "组内没有其他同事" not in page
    options = re.search(r'<select id="assign_[^"]*" name="user">(.*?)</select>', page, re.S)[1]
    assert re.findall(r'<option value="([^"]+)">([^<]*)<', options) == [("cs2", "李娜")]
