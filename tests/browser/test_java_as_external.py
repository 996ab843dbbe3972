"""Issue 16 in a real browser: the modeler's "Java 按外部任务运行" box. A diagram calling a Java class with
no Python handler is refused when validated without it, and passes with it, warning that the class runs
as an external task topic."""

from __future__ import annotations

from playwright.sync_api import expect

from engine.users import Actor
from tests.conftest import DATA


def test_the_modeler_box_runs_a_java_class_as_an_external_task(people, live_app):
    ext = live_app.extensions["aftersales"]
    with ext["sessions"]() as s:
        ext["engine"].deploy(s, {"stock.bpmn": (DATA / "java_check_stock.bpmn").read_bytes()},
                             Actor("admin", frozenset({"admin"})), java_as_external=True)
        s.commit()
    admin = people("admin")
    page = admin.go("/admin/modeler?key=stock_check")
    expect(page.locator("#canvas[data-ready='1']")).to_have_count(1)
    status = page.locator("#modeler-status")
    page.click("#validate")
    expect(status.locator("li[data-problem='java_code']")).to_have_text(
        "Check stock（第 8 行）：这里不能运行 Java 代码（camunda:class“com.acme.CheckStock”）：没有以该名称注册的 "
        "Python 处理程序。请注册一个，或勾选“Java 按外部任务运行”后部署，由外部工作程序处理。")
    page.check("#java-as-external")
    page.click("#validate")
    expect(status.locator(".status-title")).to_have_text("校验通过。")
    expect(status.locator("ul.warnings li")).to_have_text(
        "Check stock（第 8 行）：“com.acme.CheckStock”在 Camunda 中是 Java 代码：在以该名称注册 Python 处理程序之前，"
        "它作为外部任务（主题“com.acme.CheckStock”）运行，由外部工作程序处理。")
