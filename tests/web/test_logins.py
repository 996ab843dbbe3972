"""Logins, lockout, sessions and tokens: what a user (or an attacker) notices."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.models import AuthEvent


def _english(client):
    client.set_cookie("lang", "en")
    return client


def _basic(user: str, password: str = "demo") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _login(client, user: str, password: str = "demo"):
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    return client.post("/login", data={"username": user, "password": password, "csrf_token": token})


def _csrf(client, path: str = "/account") -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', client.get(path).data).group(1).decode()


def _events(app, username: str) -> list[tuple[str, str]]:
    with app.extensions["aftersales"]["sessions"]() as s:
        rows = s.scalars(select(AuthEvent).where(AuthEvent.username == username).order_by(AuthEvent.id))
        return [(r.channel, r.outcome) for r in rows]


@pytest.fixture
def strict_app(database_url, clock):
    """Lockout after 5 failures per user, 8 per address (production: 10 and 30)."""
    from tests.conftest import seed
    from web import create_app

    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True,
                      "LOGIN_FAILURES_PER_USER": 5, "LOGIN_FAILURES_PER_ADDRESS": 8, "LOGIN_TARPIT_SECONDS": 0})
    seed(app.extensions["aftersales"]["sessions"], clock.now())
    yield app
    app.extensions["aftersales"]["db"].dispose()


def test_wrong_passwords_pause_then_lock_the_user_out_with_a_clear_message(strict_app, clock):
    client = _english(strict_app.test_client())
    answers = []
    for i in range(5):
        if i:
            clock.advance(seconds=61)  # wait out each pause
        answers.append(client.get("/api/me", headers=_basic("supervisor", "guess")).status_code)
    assert answers == [401, 401, 401, 401, 401]
    # locked now: even the right password is refused, without being checked, for the whole window
    r = client.get("/api/me", headers=_basic("supervisor"))
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "900"
    assert r.json["error"] == "Too many wrong passwords for this user: locked for 15 minutes. Ask an admin if it was not you."
    client.set_cookie("lang", "zh_CN")
    page = _login(client, "supervisor")
    assert page.status_code == 429
    assert "该用户密码错误次数过多，已锁定 15 分钟。" in page.get_data(as_text=True)
    # other users elsewhere are not affected; after the window the user can log in again
    assert client.get("/api/me", headers=_basic("finance"), environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200
    clock.advance(minutes=16)
    strict_app.extensions["aftersales"]["guard"].unlock("user", "supervisor")  # a fresh process knows no lock
    assert client.get("/api/me", headers=_basic("supervisor")).status_code == 200
    assert _events(strict_app, "supervisor").count(("basic", "failed")) == 5
    assert ("basic", "locked") in _events(strict_app, "user:supervisor")


def test_after_three_wrong_passwords_each_next_try_must_wait_and_costs_no_password_check(strict_app, clock):
    client = _english(strict_app.test_client())
    assert [client.get("/api/me", headers=_basic("warehouse", "guess")).status_code for _ in range(3)] == [401] * 3
    r = client.get("/api/me", headers=_basic("warehouse", "demo"))
    assert (r.status_code, r.headers["Retry-After"]) == (429, "1")
    assert r.json["error"] == "Too many wrong passwords: wait 1 seconds before the next try."
    clock.advance(seconds=1)
    assert client.get("/api/me", headers=_basic("warehouse", "guess")).status_code == 401
    r = client.get("/api/me", headers=_basic("warehouse", "demo"))
    assert (r.status_code, r.headers["Retry-After"]) == (429, "2")  # 1, 2, 4 … 60 s
    assert _events(strict_app, "warehouse").count(("basic", "failed")) == 4  # refused tries are not counted
    clock.advance(seconds=2)
    assert client.get("/api/me", headers=_basic("warehouse")).status_code == 200


def test_one_address_trying_many_users_is_locked_out(strict_app, clock):
    client = _english(strict_app.test_client())
    for i in range(8):
        if i:
            clock.advance(seconds=61)
        assert client.get("/api/me", headers=_basic(f"nobody{i}", "x")).status_code == 401
    r = client.get("/api/me", headers=_basic("finance"))
    assert r.status_code == 429
    assert r.json["error"] == "Too many wrong passwords from this computer: locked for 15 minutes."
    other = client.get("/api/me", headers=_basic("finance"), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_lockout_counts_in_redis_when_configured(database_url, clock):
    from tests.conftest import seed
    from web import create_app

    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "LOGIN_FAILURES_PER_USER": 3})
    seed(app.extensions["aftersales"]["sessions"], clock.now())
    client = app.test_client()
    name = f"ghost-{uuid.uuid4().hex[:8]}"  # counts live in Redis across test runs: a fresh name
    answers = []
    for _ in range(3):
        answers.append(client.get("/api/me", headers=_basic(name, "x")).status_code)
        clock.advance(seconds=61)
    assert answers == [401, 401, 401]
    assert client.get("/api/me", headers=_basic(name, "x")).status_code == 429
    assert app.extensions["aftersales"]["guard"].counter.failures(None, "user", name, clock.now()) == 3
    app.extensions["aftersales"]["db"].dispose()


def test_a_copied_session_cookie_stops_working_after_logout(app):
    browser = app.test_client()
    assert _login(browser, "customer_service").status_code == 302
    cookie = browser.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/").status_code == 200
    token = _csrf(browser, "/")
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    r = thief.get("/")
    assert (r.status_code, r.headers["Location"]) == (302, "/login?next=%2F")
    assert _events(app, "customer_service") == [("login", "ok"), ("session", "logout")]


def test_changing_the_password_ends_other_sessions_and_the_old_password(app):
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop, "finance")
    _login(phone, "finance")
    r = laptop.post("/account/password", data={"csrf_token": _csrf(laptop), "password": "demo",
                                               "new_password": "a-longer-secret", "repeat_password": "a-longer-secret"})
    assert r.status_code == 302
    assert laptop.get("/account").status_code == 200  # this browser stays in
    assert phone.get("/account").status_code == 302
    assert app.test_client().get("/api/me", headers=_basic("finance")).status_code == 401
    assert app.test_client().get("/api/me", headers=_basic("finance", "a-longer-secret")).status_code == 200


def test_the_basic_check_remembered_is_dropped_when_the_password_changes(app):
    from engine import users

    client = app.test_client()
    assert client.get("/api/me", headers=_basic("marketing")).status_code == 200
    with app.extensions["aftersales"]["sessions"]() as s:
        users.set_password(s, users.get_user(s, "marketing"), "new-secret")
        s.commit()
    assert client.get("/api/me", headers=_basic("marketing")).status_code == 401
    assert client.get("/api/me", headers=_basic("marketing", "new-secret")).status_code == 200


def test_tokens_expire_after_90_days_and_can_be_listed_and_revoked(app, clock):
    client = app.test_client()
    first = client.post("/api/tokens", headers=_basic("logistics"), json={"label": "courier scans"}).json
    second = client.post("/api/tokens", headers=_basic("logistics"), json={"label": "short", "days": 1}).json
    assert first["expires_at"] == (clock.now() + timedelta(days=90)).isoformat()
    bearer = {"Authorization": f"Bearer {first['token']}"}
    listed = client.get("/api/tokens", headers=bearer).json
    assert [(t["id"], t["label"], t["revoked_at"]) for t in listed] == [(second["id"], "short", None),
                                                                         (first["id"], "courier scans", None)]
    assert "token" not in listed[0]  # the secret is shown once, at creation
    # someone else's token: as if it did not exist
    assert client.delete(f"/api/tokens/{first['id']}", headers=_basic("finance"), json={}).status_code == 404
    assert client.delete(f"/api/tokens/{second['id']}", headers=bearer).status_code == 204
    r = client.get("/api/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert (r.status_code, r.json["error"]) == (401, "invalid, expired or revoked token")
    assert client.get("/api/me", headers=bearer).status_code == 200
    clock.advance(days=90, seconds=1)
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert _events(app, "logistics") == [("token", "token_issued"), ("token", "token_issued"),
                                         ("token", "token_revoked")]


def test_the_account_page_lists_and_revokes_tokens(app):
    browser = app.test_client()
    _login(browser, "tech_support")
    page = browser.post("/account/tokens", data={"csrf_token": _csrf(browser), "label": "laptop script"},
                        headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    secret = re.search(r"<code data-new-token>([^<]+)</code>", html).group(1)
    assert "新令牌（仅显示这一次，请复制保存）" in html and "laptop script" in html
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    token_id = re.search(r'data-token="(\d+)"', html).group(1)
    assert browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(browser)}).status_code == 302
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "已吊销" in browser.get("/account", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def test_a_disabled_user_can_use_no_password_session_or_token(app, database_url, monkeypatch):
    from web.cli import main

    client, browser = _english(app.test_client()), app.test_client()
    token = client.post("/api/tokens", headers=_basic("emergency_team"), json={}).json["token"]
    _login(browser, "emergency_team")
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["users", "disable", "emergency_team"])
    assert result.exit_code == 0, result.output
    assert result.output == "user emergency_team disabled\n"
    r = client.get("/api/me", headers=_basic("emergency_team"))
    assert (r.status_code, r.json["error"]) == (401, "This account is disabled.")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert browser.get("/").status_code == 302
    page = _login(_english(app.test_client()), "emergency_team")
    assert page.status_code == 401 and "This account is disabled." in page.get_data(as_text=True)
    assert ("cli", "disabled") in _events(app, "emergency_team")


def test_cookies_are_secure_when_served_over_https(database_url, clock, monkeypatch):
    from tests.conftest import seed
    from web import create_app

    monkeypatch.setenv("AFTERSALES_HTTPS", "1")
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True})
    seed(app.extensions["aftersales"]["sessions"], clock.now())
    client = app.test_client()
    r = _login(client, "customer_service")
    assert "Secure" in r.headers["Set-Cookie"]
    app.extensions["aftersales"]["db"].dispose()
