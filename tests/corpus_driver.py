"""Deploy a real diagram from another tool and drive it to its end, as a process owner would through
the JSON API (issues 13 and 16). Used by ``tests/engine/test_corpus.py`` and ``benchmarks/corpus_report.py``.

Each file gets an empty database of its own: its set's DMN tables deployed first, then the processes
it calls (companions, from the same set), then the file. Driving it, the driver

- answers every user task with values its form accepts (``camunda:formData`` types, enum values,
  min/max/length constraints) and, where a gateway tests a variable, the value the condition tests for;
  a task round that comes back gets the other answer (a loop is left, not ridden forever);
- acts as the task's assignee, candidate user or a member of its candidate group — creating that user
  and group through ``POST /api/groups`` and ``/api/users`` as the company's admin would;
- runs a generic **external worker**: where the app answers Camunda's external task protocol
  (``GET /engine-rest/version``), the real ``camunda-external-task-client-python3`` fetches and locks the
  file's topics over HTTP (the app served on a free port) and completes them; else every ``camunda:topic``
  of the file is registered as an in-process handler. Either way the worker reports the gateway variables not set yet (what a
  real worker would). With ``bridge_java`` it also registers the Java class, bean and expression names
  the file calls as in-process handlers, for an engine that bridges Java delegates to handlers; with
  ``java_as_external`` it deploys with that option instead and serves those names as external topics;
- fires due timers with the injected clock, runs due asynchronous jobs, and sends each message a case
  waits for (``POST /api/messages``).

It stops at the end, at an error, at a refusal of the API, or after ``MAX_ACTIONS`` actions, and says
where and why. Every answer of HTTP 500 (or exception the app let through) is a server error.
"""

from __future__ import annotations

import io
import pathlib
import re
import tempfile
import traceback
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from engine import users
from engine.clock import ManualClock
from engine.forms import date_bound
from engine.models import MessageWait
from tests.corpus_facts import read, read_dmn
from web import jobs

MAX_ACTIONS = 40
ADMIN = "corpus_admin"
PASSWORD = "corpus-Driver-2026"
# What no Python service could honour (refused rightly) vs what aftersales should run (issue 13).
UNSUPPORTABLE = {"java_code": "Java class/bean/expression, no handler registered",
                 "script_format": "script in a language other than Python or JavaScript (Groovy)"}


@dataclass
class Outcome:
    file: str
    java: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    deployed: bool = False
    deploy_status: int = 0
    problems: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    key: str | None = None
    started: bool = False
    ran_to_end: bool = False
    state: str = "not started"
    stopped_at: str = ""
    why: str = ""
    actions: int = 0
    server_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run showed the engine ignored

    @property
    def refusal_kinds(self) -> list[str]:
        return sorted({p.get("code") or _unclassified(p.get("message", "")) for p in self.problems})

    @property
    def refused_rightly(self) -> bool:
        """Refused only for what no Python service could run."""
        return bool(self.problems) and all(p.get("code") in UNSUPPORTABLE for p in self.problems)

    @property
    def unlocated(self) -> list[dict]:
        """Refusals that name neither element nor line (a whole-file problem names the file only)."""
        return [p for p in self.problems if not p.get("element_id") and not p.get("line")]


def _unclassified(message: str) -> str:
    """A refusal without a code, named by what its message says (ids left out)."""
    for needle, kind in (("is not executable", "process not executable"),
                         ("Data Store", "data store without implementation")):
        if needle in message:
            return f"unclassified: {kind}"
    return f"unclassified: {' '.join(message.split()[:8])}"


@dataclass
class CorpusSet:
    name: str
    files: list[pathlib.Path]
    dmn: dict[str, bytes]

    @classmethod
    def at(cls, name: str, root: pathlib.Path) -> CorpusSet:
        files = sorted((root / "files").glob("*.bpmn")) if root.is_dir() else []
        dmn = {p.name: p.read_bytes() for p in sorted((root / "dmn").glob("*.dmn"))} if root.is_dir() else {}
        return cls(name, files, dmn)


class Driver:
    """One file, one empty database, one app."""

    def __init__(self, corpus: CorpusSet, path: pathlib.Path, database_url: str, bridge_java: bool = False,
                 java_as_external: bool = False):
        from web import create_app

        self.corpus, self.path, self.bridge_java, self.java_as_external = corpus, path, bridge_java, java_as_external
        self.clock = ManualClock()
        self.app = create_app({"DATABASE_URL": database_url, "CLOCK": self.clock, "TESTING": True})
        ext = self.app.extensions["aftersales"]
        self.engine, self.sessions = ext["engine"], ext["sessions"]
        with self.sessions() as s:
            users.add_user(s, ADMIN, PASSWORD, ["admin", "process_owner"], now=self.clock.now())
            s.commit()
        self.client = self.app.test_client()
        self.known_users: set[str] = {ADMIN}
        self.facts = read(path.read_bytes())
        for companion in self.companions():  # what the called processes' gateways test
            for name, values in read(companion.read_bytes()).gateway_values.items():
                self.facts.gateway_values.setdefault(name, values)
        for content in corpus.dmn.values():  # and what the decision tables read
            read_dmn(content, self.facts.gateway_values)
        self.facts.gateway_values = {k: v for k, v in self.facts.gateway_values.items() if v}
        # ``camunda:assignee="${reviewer}"``: the variable names a person — the driver itself.
        self.person_variables = {m for named in self.facts.people.values()
                                 if "assignee=" in named or "candidateUsers=" in named
                                 for m in re.findall(r"[$#]\{\s*([A-Za-z_]\w*)\s*\}", named)} - {"initiator"}
        self.outcome = Outcome(path.name, java=list(self.facts.java), scripts=sorted(set(self.facts.scripts)))
        self.rounds: dict[str, int] = {}
        self.httpd = None
        self.worker = None

    def close(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
        self.app.extensions["aftersales"]["db"].dispose()

    def worker_client(self):
        """The real camunda-external-task-client-python3, as a company's worker would run it, against this
        app served over HTTP (werkzeug, a free port, a thread) — started the first time a topic waits."""
        if self.worker is None:
            import threading

            from camunda.client.external_task_client import ExternalTaskClient
            from werkzeug.serving import make_server

            self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
            threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
            self.worker = ExternalTaskClient("corpus-worker", f"http://127.0.0.1:{self.httpd.server_port}/engine-rest", {
                "auth_basic": {"username": ADMIN, "password": PASSWORD}, "maxTasks": 10, "lockDuration": 60000,
                "asyncResponseTimeout": 0, "usePriority": True})
        return self.worker

    # --- HTTP, counting server errors ---------------------------------------------------------------

    def call(self, method: str, url: str, user: str = ADMIN, **kw) -> tuple[int, Any]:
        import base64

        token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "X-Requested-With": "corpus"}
        try:
            r = self.client.open(url, method=method, headers=headers, **kw)
        except Exception as exc:  # the app let an exception through: a server error with its traceback
            self.outcome.server_errors.append(f"{method} {url}: {''.join(traceback.format_exception(exc))[-1500:]}")
            return 500, {"error": f"{type(exc).__name__}: {exc}"}
        body = r.get_json(silent=True)
        if r.status_code >= 500:
            self.outcome.server_errors.append(f"{method} {url}: {r.status_code} {body}")
        return r.status_code, body

    def deploy(self, files: dict[str, bytes]) -> tuple[int, Any]:
        data = {"file": [(io.BytesIO(content), name) for name, content in files.items()], "comment": "corpus"}
        query = "?java_as_external=1" if self.java_as_external else ""
        return self.call("POST", f"/api/deployments{query}", data=data, content_type="multipart/form-data")

    # --- workers ------------------------------------------------------------------------------------

    def register_workers(self) -> None:
        """A generic worker for every topic the file names (stand-in for a real one): over
        ``/engine-rest`` when the app has it (``next_action``), else registered in-process."""
        registry = self.engine.handlers
        self.topics = set(self.facts.topics)
        for companion in self.companions():
            self.topics |= read(companion.read_bytes()).topics
        self.external = self.call("GET", "/engine-rest/version")[0] == 200
        names = set() if self.external else set(self.topics)
        if self.bridge_java or self.java_as_external:  # the called processes' Java names too
            java_names = set(self.facts.java_names)
            for companion in self.companions():
                java_names |= read(companion.read_bytes()).java_names
            bridged = set()
            for name in java_names:  # as written, and the text inside ${…}
                inner = re.match(r"^\s*[$#]\{\s*(.*?)\s*\}\s*$", name, re.S)
                bridged |= {name.strip(), inner.group(1) if inner else name.strip()}
            if self.java_as_external:  # the engine offers them as topics: the worker fetches them
                self.topics |= bridged
            else:
                names |= bridged
        wanted = {k: v[0] for k, v in self.facts.gateway_values.items()}

        def worker(ctx):
            return {k: v for k, v in wanted.items() if k not in ctx.variables}

        for name in names - registry.topics:
            registry.register(name, worker, writes=False)

    def companions(self) -> list[pathlib.Path]:
        """Files of the same set that define processes this file calls."""
        if not self.facts.called:
            return []
        out = []
        for other in self.corpus.files:
            if other != self.path and set(read(other.read_bytes()).process_ids) & self.facts.called:
                out.append(other)
        return out

    # --- deploy and run -----------------------------------------------------------------------------

    def run(self) -> Outcome:
        o = self.outcome
        self.register_workers()
        if self.corpus.dmn:
            self.deploy(dict(self.corpus.dmn))
        for companion in self.companions():
            status, body = self.deploy({companion.name: companion.read_bytes()})
            if status != 201:  # say so: the file's own refusal would only say "not found"
                o.problems = list((body or {}).get("errors") or [{"message": str(body)}])
                o.state = "refused"
                o.why = f"called {companion.name} refused: " + "; ".join(_problem_text(p) for p in o.problems)[:350]
                return o
        status, body = self.deploy({self.path.name: self.path.read_bytes()})
        o.deploy_status = status
        if status != 201:  # a new file in an empty database: stored, or refused
            o.problems = list((body or {}).get("errors") or [{"message": str(body)}])
            o.state, o.why = "refused", "; ".join(_problem_text(p) for p in o.problems)[:400]
            return o
        o.deployed = True
        o.warnings = [w.get("message", str(w)) for w in body.get("warnings") or []]
        key = self.main_key([d["key"] for d in body.get("definitions") or [] if d.get("kind") == "bpmn"])
        if key is None:
            o.state, o.why = "nothing to start", "the file defines no executable process"
            return o
        o.key = key
        self.drive(key)
        return o

    def main_key(self, keys: list[str]) -> str | None:
        """The process a user starts: one of this file's, not called by another of them."""
        if not keys:
            keys = [k for k in self.facts.executable]
            status, _ = self.call("GET", f"/api/process-definitions/{keys[0]}") if keys else (404, None)
            if status != 200:
                return None
        top = [k for k in keys if k not in self.facts.called]
        return (top or keys)[0]

    def drive(self, key: str) -> None:
        o = self.outcome
        status, definition = self.call("GET", f"/api/process-definitions/{key}")
        fields = ((definition or {}).get("start_form") or {}).get("fields") or [] if status == 200 else []
        values = self.form_values("start", fields) if fields else self.loose_values()
        status, body = self.call("POST", f"/api/process-definitions/{key}/start", json={"variables": values})
        if status != 201:
            o.state, o.stopped_at, o.why = f"start answered {status}", "start", _error_text(body)
            return
        o.started = True
        instance = body["id"]
        while o.actions < MAX_ACTIONS:
            status, summary = self.call("GET", f"/api/process-instances/{instance}")
            if status != 200:
                o.state, o.why = f"instance read answered {status}", _error_text(summary)
                return
            o.state = summary.get("state", "?")
            if o.state == "completed":
                o.ran_to_end = True
                return
            if o.state != "running":
                error = summary.get("error") or {}
                o.stopped_at = error.get("element_id") or ""
                o.why = error.get("message") or o.state
                return
            if not self.next_action(instance):
                o.state = "stuck"
                if not o.why:  # a refused action said why already
                    o.stopped_at, o.why = self.waiting_at(instance)
                return
            o.actions += 1
        o.state = "stuck"
        o.why = f"still running after {MAX_ACTIONS} actions (a loop?)"

    def next_action(self, instance: int) -> bool:
        status, tasks = self.call("GET", f"/api/tasks?instance={instance}")
        items = (tasks or {}).get("items") or [] if status == 200 else []
        if items:
            return self.complete(items[0])
        if self.external and self.topics and self.work_external_tasks():
            return True
        with self.sessions() as s:
            waits = sorted(set(s.scalars(select(MessageWait.name).where(MessageWait.instance_id == instance))))
        if waits:
            status, body = self.call("POST", "/api/messages",
                                     json={"name": waits[0], "variables": self.loose_values()})
            if status == 200:
                return True
            self.outcome.stopped_at, self.outcome.why = f"message {waits[0]}", _error_text(body)
            return False
        if jobs.run_due_async_jobs(self.engine, self.sessions):
            return True
        with self.sessions() as s:
            due = self.engine.next_timer_due(s)
        if due is not None:
            if due >= self.clock.now():
                self.clock.set(due + timedelta(seconds=1))
            return jobs.fire_due_timers(self.engine, self.sessions) > 0
        return False

    def work_external_tasks(self) -> bool:
        """One round of a generic external worker — camunda-external-task-client-python3 over HTTP: fetch and
        lock the file's topics, then complete each task with the gateway variables it does not hold yet."""
        import requests

        worker = self.worker_client()
        try:
            locked = worker.fetch_and_lock(sorted(self.topics))
            for task in locked:
                held = task.get("variables") or {}
                worker.complete(task["id"], {k: v[0] for k, v in self.facts.gateway_values.items() if k not in held})
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            body = exc.response.json() if exc.response is not None and exc.response.content else {}
            if status >= 500:
                self.outcome.server_errors.append(f"external worker: {status} {body}")
            self.outcome.stopped_at = "external task"
            self.outcome.why = f"external worker answered {status}: {_error_text(body)}"
            return False
        return bool(locked)

    def complete(self, item: dict) -> bool:
        o = self.outcome
        status, task = self.call("GET", f"/api/tasks/{item['id']}")
        if status != 200:
            o.stopped_at, o.why = item["element_id"], f"task read answered {status}: {_error_text(task)}"
            return False
        user = self.actor_for(task)
        element = task["element_id"]
        named = self.facts.people.get(element)
        if named and not (task.get("assignee") or task.get("candidate_users") or task.get("candidate_groups")):
            self._note(f"{element}: {named} not read (the task names nobody)")
        fields = task.get("form", {}).get("fields") or []
        if element in self.facts.form_properties and not fields:
            self._note(f"{element}: its formProperty form not read (the task asks nothing)")
        values = self.form_values(element, fields) if fields else self.loose_values(element)
        status, body = self.call("POST", f"/api/tasks/{task['id']}/complete", user=user, json={"variables": values})
        if status != 200:
            o.stopped_at, o.why = element, f"complete answered {status}: {_error_text(body)}"
            return False
        return True

    def waiting_at(self, instance: int) -> tuple[str, str]:
        """Where a case stands when nothing is left to do: the elements it waits in."""
        from SpiffWorkflow.util.task import TaskState

        with self.sessions() as s:
            inst = self.engine.get_instance(s, instance)
            try:
                wf = self.engine._read(s, inst)
                where = ", ".join(sorted({t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.WAITING)
                                          if getattr(t.task_spec, "bpmn_id", None)}))
            except Exception as exc:  # noqa: BLE001 - a report, not a decision
                where = f"? ({type(exc).__name__})"
        return where, "waits with no task, message, job or timer to act on"

    def _note(self, text: str) -> None:
        if text not in self.outcome.notes:
            self.outcome.notes.append(text)

    # --- who acts -----------------------------------------------------------------------------------

    def actor_for(self, task: dict) -> str:
        if task.get("assignee"):
            return self.ensure_user(task["assignee"], [])
        if task.get("candidate_users"):
            return self.ensure_user(task["candidate_users"][0], [])
        if task.get("candidate_groups"):
            group = task["candidate_groups"][0]
            self.call("POST", "/api/groups", json={"id": group, "name_zh": group, "name_en": group})
            return self.ensure_user(f"member.{group}"[:60], [group])
        return ADMIN

    def ensure_user(self, name: str, groups: list[str]) -> str:
        if name not in self.known_users:
            self.call("POST", "/api/users", json={"username": name, "password": PASSWORD, "groups": groups})
            self.known_users.add(name)
        return name

    # --- values -------------------------------------------------------------------------------------

    def loose_values(self, element: str | None = None) -> dict:
        """For a task or start without a form: the variables the gateways test — the first value each
        condition tests for, the next one each time the same task comes back."""
        n = self._round(element) if element else 0
        return {**{k: v[n % len(v)] for k, v in self.facts.gateway_values.items()},
                **{name: ADMIN for name in self.person_variables}}

    def _round(self, element: str) -> int:
        n = self.rounds.get(element, 0)
        self.rounds[element] = n + 1
        return n

    def form_values(self, element: str, fields: list[dict]) -> dict:
        n = self._round(element)
        today = self.engine.today()
        out: dict[str, Any] = {}
        for f in fields:
            if f.get("readonly"):
                continue
            tested = self.facts.gateway_values.get(f["id"]) or []
            value = _field_value(f, tested[n % len(tested)] if tested else None, today, n % 2 == 1 and not tested)
            if value is not None:
                out[f["id"]] = value
        return out


def _field_value(f: dict, wanted: Any, today: date, flip: bool) -> Any:
    kind, c = f.get("type"), f.get("constraints") or {}
    if kind == "boolean":
        value = wanted if isinstance(wanted, bool) else True
        return (not value) if flip else value
    if kind == "enum":
        ids = [o["id"] for o in f.get("options") or []]
        if not ids:
            return None
        first = wanted if wanted in ids else ids[0]
        if flip and len(ids) > 1:
            return next(i for i in ids if i != first)
        return first
    if kind == "long":
        value = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else 1
        if "min" in c:
            value = max(value, int(float(c["min"])))
        if "max" in c:
            value = min(value, int(float(c["max"])))
        return value
    if kind == "date":
        day = today
        for bound in ("min", "max"):
            if bound in c:
                try:
                    day = date_bound(c[bound], today)
                except ValueError:
                    pass
        return day.isoformat()
    if kind == "string":
        if isinstance(wanted, str):
            return wanted
        if c.get("phone"):
            return "13800138000"
        text = "corpus value"
        if "minlength" in c:
            text = text.ljust(int(float(c["minlength"])), "x")
        if "maxlength" in c:
            text = text[: int(float(c["maxlength"]))] or "x"
        return text
    if f.get("default") not in (None, ""):
        return f["default"]
    return None if not f.get("required") else "corpus value"


def _error_text(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)[:300]
    detail = body.get("errors") or body.get("error") or body
    return str(detail)[:300]


def _problem_text(p: dict) -> str:
    where = p.get("element_id") or ""
    line = f":{p['line']}" if p.get("line") else ""
    code = f" ({p['code']})" if p.get("code") else ""
    return f"[{where}{line}]{code} {p.get('message', '')}"




def drive_set(corpus: CorpusSet, bridge_java: bool = False, database_url: str | None = None,
              java_as_external: bool = False) -> list[Outcome]:
    """Every file of the set, each in an empty database: a SQLite file of its own, or ``database_url``
    (PostgreSQL) emptied before each."""
    from tests.conftest import empty_database

    outcomes = []
    for path in corpus.files:
        with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
            url = empty_database(database_url) if database_url else f"sqlite:///{tmp}/corpus.db"
            driver = Driver(corpus, path, url, bridge_java=bridge_java, java_as_external=java_as_external)
            try:
                outcomes.append(driver.run())
            finally:
                driver.close()
    return outcomes
