"""Issue 11, plain language: the case diagram and the diff diagrams are readable on a tablet — drawn no
smaller than labels stay legible, the open task (the first change) centred in view on load, and
zoom buttons in the page's language that work from the keyboard."""

from __future__ import annotations

from playwright.sync_api import expect

from engine.users import Actor
from tests.conftest import DATA, Api
from tests.web.test_repair_flow import start

TABLET = (820, 1180)
ZOOM = "sel => document.querySelector(sel).aftersalesViewer.get('canvas').zoom()"


def inside(page, element: str, box: str) -> bool:
    e, b = page.locator(element).bounding_box(), page.locator(box).bounding_box()
    return (b["x"] <= e["x"] and e["x"] + e["width"] <= b["x"] + b["width"]
            and b["y"] <= e["y"] and e["y"] + e["height"] <= b["y"] + b["height"])


def test_case_diagram_shows_the_open_task_legibly_and_zooms(people, live_app):
    case = start(Api(live_app.test_client()))
    cs = people("customer_service", viewport=TABLET)
    page = cs.go(f"/cases/{case['id']}")
    expect(page.locator("#diagram[data-ready='1']")).to_have_count(1)
    task = "#diagram .djs-element.open[data-element-id='check_scope']"
    expect(page.locator(task)).to_have_count(1)
    assert inside(page, task, "#diagram")
    loaded = page.evaluate(ZOOM, "#diagram")
    assert loaded >= 0.75  # labels stay legible: 12 px text drawn at 9 px or more
    # centred: the task's middle is near the box's middle
    e, b = page.locator(task).bounding_box(), page.locator("#diagram").bounding_box()
    assert abs((e["x"] + e["width"] / 2) - (b["x"] + b["width"] / 2)) < 40
    tools = page.locator(".diagram-tools[data-for='diagram']")
    expect(tools.locator("button")).to_have_text(["＋ 放大", "－ 缩小", "显示全图"])
    tools.locator("button[data-zoom='in']").click()
    assert page.evaluate(ZOOM, "#diagram") > loaded * 1.2
    out = tools.locator("button[data-zoom='out']")
    out.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.evaluate(ZOOM, "#diagram") < loaded
    tools.locator("button[data-zoom='fit']").click()
    for element in ("start", "end", "check_scope"):  # the whole diagram in the box
        assert inside(page, f"#diagram .djs-element[data-element-id='{element}']", "#diagram")
    assert cs.axe() == []
    cs.shot("14-case-diagram-820")

    english = people("customer_service", locale="en-US", viewport=TABLET)
    page = english.go(f"/cases/{case['id']}")
    expect(page.locator(".diagram-tools[data-for='diagram'] button")).to_have_text(["＋ Zoom in", "－ Zoom out", "Whole diagram"])


def test_diff_diagrams_centre_the_change_and_zoom(people, live_app):
    ext = live_app.extensions["aftersales"]
    v1 = (DATA / "warranty_claim.bpmn").read_bytes()
    admin_actor = Actor("admin", frozenset({"admin"}))
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"warranty_claim.bpmn": v1}, admin_actor)
        ext["engine"].deploy(s, {"warranty_claim.bpmn": v1.replace(b'name="Pay out"', b'name="Pay the customer"')},
                             admin_actor)
        s.commit()
    admin = people("admin", viewport=TABLET)
    page = admin.go("/admin/definitions/warranty_claim/diff?from=1&to=2")
    expect(page.locator(".diagram[data-ready='1']")).to_have_count(2)
    for side in ("old", "new"):
        changed = f"#diagram-{side} .djs-element.diff-changed[data-element-id='Activity_pay']"
        assert inside(page, changed, f"#diagram-{side}")
        assert page.evaluate(ZOOM, f"#diagram-{side}") >= 0.75
    before = page.evaluate(ZOOM, "#diagram-new")
    page.locator(".diagram-tools[data-for='diagram-new'] button[data-zoom='in']").click()
    assert page.evaluate(ZOOM, "#diagram-new") > before
    assert page.evaluate(ZOOM, "#diagram-old") == before
    assert admin.axe() == []
