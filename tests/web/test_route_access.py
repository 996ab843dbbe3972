"""Every route of the app × every group + anonymous, against one table of expected answers.

A route added without a row here fails ``test_every_route_has_a_row``. Requests that would change
something are aimed so that the answer is fixed whatever runs before (a cancelled case to cancel
again, an unclaimed task to release, a user who is not a candidate to assign).
"""

from __future__ import annotations

import base64

import pytest

from tests.conftest import process_files

ACTORS = ["anonymous", "customer_service", "tech_support", "technician", "warehouse", "supervisor", "finance",
          "logistics", "marketing", "emergency_team", "regional_manager", "admin", "owner"]
STAFF = ACTORS[1:]
SEE_ALL_CASES = ("customer_service", "supervisor", "admin")
OWNERS = ("admin", "owner")
REQUEST = {"customer_name": "张三", "customer_phone": "13800138000", "customer_address": "上海市浦东新区世纪大道1号",
           "product_model": "KX-200", "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}


def E(default: int, anonymous: int, **by_actor: int) -> dict[str, int]:
    """Expected status per actor: ``default`` for staff not named, ``anonymous`` without login."""
    return {a: by_actor.get(a, default) for a in STAFF} | {"anonymous": anonymous}


def some(status: int, others: int, anonymous: int, who) -> dict[str, int]:
    return E(others, anonymous, **dict.fromkeys(who, status))


API_ANON, PAGE_ANON = 401, 302
REST_ANON = 415  # /engine-rest: a state-changing call without an Authorization header (web/guards.py)

# (endpoint, method) -> (path, body, expected); {A}, {B}, {C} … are filled from the scenario below.
TABLE: dict[tuple[str, str], tuple[str, object, dict[str, int]]] = {
    # --- JSON API -------------------------------------------------------------------------------
    ("api.access_log.customer_data_reads", "GET"): ("/api/access-log", None, some(200, 403, API_ANON, ["admin"])),
    ("api.calendar.list_closed_days", "GET"): ("/api/calendar/closed-days", None, E(200, API_ANON)),
    ("api.calendar.add_closed_day", "POST"): ("/api/calendar/closed-days", {}, some(400, 403, API_ANON, ["admin"])),
    ("api.calendar.remove_closed_day", "DELETE"): ("/api/calendar/closed-days/2030-01-02", None,
                                                   some(404, 403, API_ANON, ["admin"])),
    ("api.retention.show", "GET"): ("/api/retention", None, some(200, 403, API_ANON, ["admin"])),
    ("api.retention.change_settings", "POST"): ("/api/retention/settings", {"window": "bad"},
                                                some(422, 403, API_ANON, ["admin"])),
    ("api.retention.due", "GET"): ("/api/retention/due?what=held", None, some(200, 403, API_ANON, ["admin"])),
    ("api.retention.legal_hold", "POST"): ("/api/process-instances/{A}/legal-hold", {"reason": ""},
                                           some(422, 403, API_ANON, ["admin"])),
    ("api.calendar.year", "GET"): ("/api/calendar?year=2030", None, E(200, API_ANON)),
    ("api.calendar.changes", "GET"): ("/api/calendar/changes", None, E(200, API_ANON)),
    ("api.calendar.add_day", "POST"): ("/api/calendar/days", {}, some(400, 403, API_ANON, ["admin"])),
    ("api.calendar.remove_day", "DELETE"): ("/api/calendar/days/2030-01-02", None, some(404, 403, API_ANON, ["admin"])),
    ("api.calendar.import_schedule", "POST"): ("/api/calendar/import", {}, some(400, 403, API_ANON, ["admin"])),
    ("api.definitions.deploy", "POST"): ("/api/deployments", {}, some(400, 403, API_ANON, OWNERS)),
    ("api.incidents.list_incidents", "GET"): ("/api/incidents", None, some(200, 403, API_ANON, ["supervisor", "admin"])),
    ("api.incidents.correct", "POST"): ("/api/process-instances/{B}/variables", {"variables": {"x": 1}, "reason": "r"},
                                        some(409, 403, API_ANON, ["supervisor", "admin"])),
    ("api.kpis.figures", "GET"): ("/api/kpis", None, some(200, 403, API_ANON, ["supervisor", "admin"])),
    ("api.kpis.cases", "GET"): ("/api/kpis/cases?metric=complaints", None,
                                some(200, 403, API_ANON, ["supervisor", "admin"])),
    ("api.tokens.me", "GET"): ("/api/me", None, E(200, API_ANON)),
    ("api.openapi.document", "GET"): ("/api/openapi.json", None, E(200, API_ANON)),
    ("api.messages.correlate", "POST"): ("/api/messages", {"name": "nothing_waits"}, E(404, API_ANON)),
    ("api.definitions.list_definitions", "GET"): ("/api/process-definitions", None, E(200, API_ANON)),
    ("api.definitions.get_definition", "GET"): ("/api/process-definitions/repair", None, E(200, API_ANON)),
    ("api.versions.compare", "GET"): ("/api/process-definitions/repair/diff?from=1&to=1", None,
                                      some(200, 403, API_ANON, OWNERS)),
    ("api.versions.history", "GET"): ("/api/process-definitions/repair/history", None, some(200, 403, API_ANON, OWNERS)),
    ("api.versions.migrate", "POST"): ("/api/process-definitions/repair/migrations",
                                       {"from_version": 1, "to_version": 1}, some(200, 403, API_ANON, OWNERS)),
    ("api.versions.rollback", "POST"): ("/api/process-definitions/repair/rollback", {"version": 99},
                                        some(404, 403, API_ANON, ["admin"])),
    ("api.definitions.start", "POST"): ("/api/process-definitions/repair/start", {}, E(422, API_ANON)),
    ("api.definitions.get_xml", "GET"): ("/api/process-definitions/repair/xml", None, E(200, API_ANON)),
    ("api.instances.list_instances", "GET"): ("/api/process-instances", None, E(200, API_ANON)),
    ("api.instances.get_instance", "GET"): ("/api/process-instances/{A}", None,
                                            some(200, 403, API_ANON, SEE_ALL_CASES)),
    ("api.instances.cancel", "POST"): ("/api/process-instances/{B}/cancel", None,
                                       some(409, 403, API_ANON, ["supervisor", "admin"])),
    ("api.instances.history", "GET"): ("/api/process-instances/{A}/history", None,
                                       some(200, 403, API_ANON, SEE_ALL_CASES)),
    ("api.instances.documents", "GET"): ("/api/process-instances/{A}/documents", None,
                                         some(200, 403, API_ANON, SEE_ALL_CASES)),
    ("api.instances.archive_pdf", "GET"): ("/api/process-instances/{A}/archive.pdf", None,  # A: its repair request
                                           some(200, 403, API_ANON, SEE_ALL_CASES)),
    ("api.instances.retry", "POST"): ("/api/process-instances/{B}/retry", None, some(409, 403, API_ANON, SEE_ALL_CASES)),
    ("api.tasks.list_tasks", "GET"): ("/api/tasks", None, E(200, API_ANON)),
    ("api.tasks.get_task", "GET"): ("/api/tasks/{TA}", None, some(200, 403, API_ANON, ["customer_service", "admin"])),
    ("api.tasks.assign", "POST"): ("/api/tasks/{TA}/assign", {"user": "warehouse"},
                                   some(400, 403, API_ANON, ["customer_service", "admin"])),
    ("api.tasks.claim", "POST"): ("/api/tasks/{TC}/claim", None, some(200, 403, API_ANON, ["customer_service"])),
    ("api.tasks.complete", "POST"): ("/api/tasks/{TA}/complete", {"variables": "none"},
                                     some(422, 403, API_ANON, ["customer_service"])),
    ("api.tasks.unclaim", "POST"): ("/api/tasks/{TA}/unclaim", None,
                                    E(403, API_ANON, customer_service=409, admin=200)),
    ("api.tokens.issue", "POST"): ("/api/tokens", {"label": "matrix"}, E(201, API_ANON)),
    ("api.tokens.list_tokens", "GET"): ("/api/tokens", None, E(200, API_ANON)),
    ("api.tokens.revoke", "DELETE"): ("/api/tokens/{ADMIN_TOKEN}", None, some(204, 404, API_ANON, ["admin"])),
    ("api.people.list_groups", "GET"): ("/api/groups", None, some(200, 403, API_ANON, ["admin"])),
    ("api.people.add_group", "POST"): ("/api/groups", {}, some(400, 403, API_ANON, ["admin"])),
    ("api.people.list_users", "GET"): ("/api/users", None, some(200, 403, API_ANON, ["admin"])),
    ("api.people.add_user", "POST"): ("/api/users", {}, some(400, 403, API_ANON, ["admin"])),
    ("api.people.change_user", "PUT"): ("/api/users/nobody-here", {}, some(404, 403, API_ANON, ["admin"])),
    # --- Camunda 7's REST (/engine-rest): a change without an Authorization header is 415 ---------
    ("engine_rest.deployment.version", "GET"): ("/engine-rest/version", None, E(200, API_ANON)),
    ("engine_rest.deployment.deployments", "GET"): ("/engine-rest/deployment?maxResults=0", None,
                                                    some(200, 403, API_ANON, OWNERS)),
    ("engine_rest.deployment.create", "POST"): ("/engine-rest/deployment/create", {}, some(400, 403, REST_ANON, OWNERS)),
    # external tasks: the group external_worker (its row is in tests/web/test_engine_rest.py) and admins
    ("engine_rest.external_task.fetch_and_lock", "POST"): ("/engine-rest/external-task/fetchAndLock", {},
                                                           some(400, 403, REST_ANON, ["admin"])),
    ("engine_rest.external_task.complete", "POST"): ("/engine-rest/external-task/nope/complete", {},
                                                     some(400, 403, REST_ANON, ["admin"])),
    ("engine_rest.external_task.failure", "POST"): ("/engine-rest/external-task/nope/failure", {},
                                                    some(400, 403, REST_ANON, ["admin"])),
    ("engine_rest.external_task.bpmn_error", "POST"): ("/engine-rest/external-task/nope/bpmnError", {},
                                                       some(400, 403, REST_ANON, ["admin"])),
    ("engine_rest.external_task.extend_lock", "POST"): ("/engine-rest/external-task/nope/extendLock", {},
                                                        some(400, 403, REST_ANON, ["admin"])),
    ("engine_rest.external_task.unlock", "POST"): ("/engine-rest/external-task/nope/unlock", {},
                                                   some(404, 403, REST_ANON, ["admin"])),
    ("engine_rest.process.start_by_key", "POST"): ("/engine-rest/process-definition/key/nope/start", {},
                                                   E(404, REST_ANON)),
    ("engine_rest.process.start_by_id", "POST"): ("/engine-rest/process-definition/nope:1/start", {}, E(404, REST_ANON)),
    ("engine_rest.process.correlate", "POST"): ("/engine-rest/message", {}, E(400, REST_ANON)),
    ("engine_rest.process.list_tasks", "GET"): ("/engine-rest/task", None, E(200, API_ANON)),
    ("engine_rest.process.complete_task", "POST"): ("/engine-rest/task/{TA}/complete", {},
                                                    some(400, 403, REST_ANON, ["customer_service"])),
    # --- pages ----------------------------------------------------------------------------------
    ("inbox.inbox", "GET"): ("/", None, E(200, PAGE_ANON)),
    ("account.account", "GET"): ("/account", None, E(200, PAGE_ANON)),
    ("account.change_password", "POST"): ("/account/password", {"password": "not-it", "new_password": "x" * 9,
                                                                "repeat_password": "x" * 9}, E(401, PAGE_ANON)),
    ("account.new_token", "POST"): ("/account/tokens", {"label": "page"}, E(200, PAGE_ANON)),
    ("account.revoke_token", "POST"): ("/account/tokens/999999/revoke", {}, E(404, PAGE_ANON)),
    ("calendar_page.show", "GET"): ("/admin/calendar/", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("calendar_page.add_day", "POST"): ("/admin/calendar/days", {}, some(302, 403, PAGE_ANON, OWNERS)),
    ("calendar_page.remove_day", "POST"): ("/admin/calendar/days/2030-01-02/delete", {},
                                           some(302, 403, PAGE_ANON, OWNERS)),
    ("retention_page.show", "GET"): ("/admin/retention/", None, some(200, 403, PAGE_ANON, ["admin"])),
    ("retention_page.save", "POST"): ("/admin/retention/settings", {"window": "bad"}, some(422, 403, PAGE_ANON, ["admin"])),
    ("retention_page.hold", "POST"): ("/admin/retention/hold/{A}", {"reason": ""}, some(302, 403, PAGE_ANON, ["admin"])),
    ("calendar_page.import_schedule", "POST"): ("/admin/calendar/import", {}, some(302, 403, PAGE_ANON, OWNERS)),
    ("admin.definitions", "GET"): ("/admin/", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.access_log", "GET"): ("/admin/access-log", None, some(200, 403, PAGE_ANON, ["admin"])),
    ("admin.definition", "GET"): ("/admin/definitions/repair", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.xml", "GET"): ("/admin/definitions/repair/1.xml", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.diff", "GET"): ("/admin/definitions/repair/diff", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.migrate", "GET"): ("/admin/definitions/repair/migrate", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.migrate", "POST"): ("/admin/definitions/repair/migrate", {"from_version": "1", "to_version": "1",
                                                                      "action": "check"},
                                some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.rollback", "POST"): ("/admin/definitions/repair/rollback", {"version": "99"},
                                 E(403, PAGE_ANON, admin=404)),
    ("admin.deploy", "GET"): ("/admin/deploy", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.deploy", "POST"): ("/admin/deploy", {"action": "validate"}, some(400, 403, PAGE_ANON, OWNERS)),
    ("admin.modeler", "GET"): ("/admin/modeler", None, some(200, 403, PAGE_ANON, OWNERS)),
    ("admin.modeler_check", "POST"): ("/admin/modeler/check", {"action": "validate"}, some(400, 403, PAGE_ANON, OWNERS)),
    ("dashboard.show", "GET"): ("/dashboard", None, some(200, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("dashboard.drill_down", "GET"): ("/dashboard/cases?metric=complaints", None,
                                      some(200, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("dashboard.export_csv", "GET"): ("/dashboard/export.csv", None, some(200, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("dashboard.export_xlsx", "GET"): ("/dashboard/export.xlsx", None, some(200, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("people.show", "GET"): ("/admin/people/", None, some(200, 403, PAGE_ANON, ["admin"])),
    ("people.add_group", "POST"): ("/admin/people/groups", {}, some(400, 403, PAGE_ANON, ["admin"])),
    ("people.add_user", "POST"): ("/admin/people/users", {}, some(400, 403, PAGE_ANON, ["admin"])),
    ("people.change_user", "POST"): ("/admin/people/users/nobody-here", {}, some(404, 403, PAGE_ANON, ["admin"])),
    ("incidents.show", "GET"): ("/incidents", None, some(200, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("incidents.correct_and_retry", "POST"): ("/incidents/{B}", {}, some(409, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("receiving.show", "GET"): ("/receiving", None, some(200, 403, PAGE_ANON, ["warehouse", "supervisor", "admin"])),
    ("receiving.record", "POST"): ("/cases/{B}/messages/goods_received", {},  # B waits for nothing: told so
                                   some(302, 403, PAGE_ANON, ["warehouse", "supervisor", "admin"])),
    ("cases.show", "GET"): ("/cases/{A}", None, some(200, 403, PAGE_ANON, SEE_ALL_CASES)),
    ("cases.cancel", "POST"): ("/cases/{B}/cancel", {}, some(409, 403, PAGE_ANON, ["supervisor", "admin"])),
    ("cases.diagram", "GET"): ("/cases/{A}/diagram.xml", None, some(200, 403, PAGE_ANON, SEE_ALL_CASES)),
    ("cases.document", "GET"): ("/cases/{A}/documents/{DOC}", None, some(200, 403, PAGE_ANON, SEE_ALL_CASES)),
    ("cases.archive_pdf", "GET"): ("/cases/{A}/archive.pdf", None, some(200, 403, PAGE_ANON, SEE_ALL_CASES)),
    ("inbox.save_filter", "POST"): ("/inbox/filters", {"name": "mine", "query": "tab=mine"}, E(302, PAGE_ANON)),
    ("inbox.delete_filter", "POST"): ("/inbox/filters/999999/delete", {}, E(404, PAGE_ANON)),
    ("login.language", "GET"): ("/lang/en", None, E(302, 302)),
    ("login.login", "GET"): ("/login", None, E(200, 200)),
    ("login.login", "POST"): ("/login", "WRONG_LOGIN", E(401, 401)),
    ("login.logout", "POST"): ("/logout", {}, E(302, PAGE_ANON)),
    ("cases.search", "GET"): ("/search?q=RX", None, E(200, PAGE_ANON)),
    ("cases.pick", "GET"): ("/start", None, E(200, PAGE_ANON)),
    ("cases.start", "GET"): ("/start/repair", None, E(200, PAGE_ANON)),
    ("cases.start", "POST"): ("/start/repair", {}, E(422, PAGE_ANON)),
    ("static", "GET"): ("/static/app.css", None, E(200, 200)),
    ("favicon", "GET"): ("/favicon.ico", None, E(200, 200)),
    ("tasks.show", "GET"): ("/tasks/{TA}", None, some(200, 403, PAGE_ANON, ["customer_service", "admin"])),
    ("tasks.complete", "POST"): ("/tasks/{TA}", {}, some(422, 403, PAGE_ANON, ["customer_service"])),
    ("inbox.assign", "POST"): ("/tasks/{TA}/assign", {"user": "warehouse"},
                               some(400, 403, PAGE_ANON, ["customer_service", "admin"])),
    ("inbox.claim", "POST"): ("/tasks/{TC}/claim", {}, some(302, 403, PAGE_ANON, ["customer_service"])),
    ("inbox.unclaim", "POST"): ("/tasks/{TA}/unclaim", {}, E(403, PAGE_ANON, customer_service=409, admin=302)),
    ("cases.vendor", "GET"): ("/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js", None, E(200, 200)),
    ("health.health", "GET"): ("/health", None, E(200, 200)),
    ("health.metrics", "GET"): ("/metrics", None, E(200, 200)),
}


def _routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


@pytest.fixture
def matrix_app(database_url, clock):
    from tests.conftest import seed
    from web import create_app

    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "TOKENS_PER_HOUR": 1000, "LOGIN_FAILURES_PER_ADDRESS": 1000})
    seed(app.extensions["aftersales"]["sessions"], clock.now())
    yield app
    app.extensions["aftersales"]["db"].dispose()


def _basic(user: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:demo".encode()).decode()}


def _scenario(client) -> dict[str, str]:
    """Case A waits at check_scope (customer service, unclaimed); case B is cancelled; case C's
    check_scope is claimed by customer_service."""
    import io

    admin, cs = _basic("admin"), _basic("customer_service")
    data = {"file": [(io.BytesIO(c), n) for n, c in process_files().items()]}
    assert client.post("/api/deployments", headers={**admin, "X-Requested-With": "test"}, data=data, content_type="multipart/form-data").status_code == 201
    ids = {}
    for name in ("A", "B", "C"):
        r = client.post("/api/process-definitions/repair/start", headers=cs, json={"variables": REQUEST})
        assert r.status_code == 201, r.json
        ids[name] = r.json["id"]
    assert client.post(f"/api/process-instances/{ids['B']}/cancel", headers=_basic("supervisor"), json={}).status_code == 200
    tasks = {t["instance_id"]: t["id"] for t in client.get("/api/tasks", headers=cs).json["items"]}
    assert client.post(f"/api/tasks/{tasks[ids['C']]}/claim", headers=cs, json={}).status_code == 200
    docs = client.get(f"/api/process-instances/{ids['A']}/documents", headers=cs).json
    token = client.post("/api/tokens", headers=admin, json={"label": "to revoke"}).json["id"]
    return {"A": str(ids["A"]), "B": str(ids["B"]), "TA": tasks[ids["A"]], "TC": tasks[ids["C"]],
            "DOC": docs[0]["number"], "ADMIN_TOKEN": str(token)}


def test_every_route_has_a_row(matrix_app):
    missing = sorted(_routes(matrix_app) - set(TABLE))
    stale = sorted(set(TABLE) - _routes(matrix_app))
    assert missing == [] and stale == [], f"routes without a rule: {missing}; rows without a route: {stale}"


def test_every_route_answers_every_group_as_the_policy_says(matrix_app, clock):
    setup = matrix_app.test_client()
    values = _scenario(setup)
    wrong = []
    # logout last: it ends the session the other page requests use
    order = sorted(TABLE, key=lambda k: k == ("login.logout", "POST"))
    for n, actor in enumerate(ACTORS):
        client = matrix_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        if actor != "anonymous":
            r = client.post("/login", data={"username": actor, "password": "demo"})
            assert r.status_code == 302, (actor, r.status_code)
        for endpoint, method in order:
            path, body, expected = TABLE[(endpoint, method)]
            url = path.format(**values)
            api = url.startswith(("/api/", "/engine-rest/"))
            headers = _basic(actor) if api and actor != "anonymous" else {}
            if body == "WRONG_LOGIN":
                body = {"username": f"nobody-{actor}", "password": "wrong"}
            if api:
                r = client.open(url, method=method, headers=headers,
                                json=body if body is not None or method == "GET" else {})
            else:
                r = client.open(url, method=method, data=body)
            if r.status_code != expected[actor]:
                wrong.append(f"{actor} {method} {url}: {r.status_code}, expected {expected[actor]}")
            clock.advance(seconds=61)  # past the pause a wrong password (two rows above) asks for
    assert wrong == []
