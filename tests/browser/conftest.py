"""A live server and a real Chromium (Debian's package, driven by Playwright) for browser tests.

Screenshots go to ``test-artifacts/``. Without Chromium the tests are skipped on a developer's
machine but fail in CI (``CI`` set), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import threading
from datetime import UTC, datetime

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT, process_files, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def live_app(database_url, clock):
    from web import create_app

    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "SECRET_KEY": "test-only"})
    ext = app.extensions["aftersales"]
    seed(ext["sessions"], clock.now())
    from engine.users import Actor

    with ext["sessions"]() as s:
        ext["engine"].deploy(s, process_files(), Actor("admin", frozenset({"admin"})))
        s.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    ext["db"].dispose()


@pytest.fixture(scope="session")
def browser():
    if not pathlib.Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


class Person:
    """One member of staff in their own browser context (cookies, language)."""

    def __init__(self, browser, app, user: str, locale: str = "zh-CN", viewport: tuple[int, int] = (1280, 900)):
        self.user = user
        self.base = app.base_url
        self.context = browser.new_context(locale=locale, viewport={"width": viewport[0], "height": viewport[1]})
        self.page = self.context.new_page()
        self.page.set_default_timeout(10000)
        # Every page must work under the Content-Security-Policy: Chromium reports each refusal on the console.
        self.csp_violations: list[str] = []
        self.page.on("console", lambda msg: self.csp_violations.append(msg.text)
                     if "Content Security Policy" in msg.text else None)

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self):
        page = self.go("/login")
        page.fill("#username", self.user)
        page.fill("#password", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(self.base + "/")
        return self

    def axe(self) -> list[str]:
        """Serious and critical axe-core violations on the current page (axe-core from npm, run
        through the DevTools protocol, so the page's Content-Security-Policy is untouched)."""
        source = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
        self.page.evaluate(source + "\n;0")
        return self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(' | '));
        }""")

    def shot(self, name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def people(browser, live_app):
    made: list[Person] = []

    def person(user: str, locale: str = "zh-CN", viewport: tuple[int, int] = (1280, 900)) -> Person:
        p = Person(browser, live_app, user, locale, viewport).login()
        made.append(p)
        return p

    yield person
    violations = [v for p in made for v in p.csp_violations]
    for p in made:
        p.context.close()
    assert violations == [], violations
