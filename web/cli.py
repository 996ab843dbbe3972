"""The ``aftersales`` command: db upgrade / init-db, deploy, users and groups, serve, demo."""

from __future__ import annotations

import logging
import os
import pathlib
import sys

import click

import handlers
from engine.clock import SystemClock
from engine.errors import AftersalesError, DiagramInvalid, SchemaOutdated
from engine.groups import DOMAIN_GROUPS, STAFF_GROUPS
from engine.users import SYSTEM, add_user
from engine.wiring import build

REPO = pathlib.Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "demo"  # demo users only; printed at start so nobody mistakes it for a secret
# the province each demo member of staff works in (R23: settling a case in another region needs the
# regional manager); the demo cases' addresses are in 浙江 too
DEMO_REGIONS = {"technician": "浙江", "regional_manager": "浙江"}
DEMO_PARTS = [
    ("P-100", "压缩机主板 Compressor board", 20, 30, 300),
    ("P-200", "温控传感器 Thermostat sensor", 50, 60, 45),
    ("P-300", "密封圈 Door seal", 5, 40, 20),
    ("P-400", "变频模块 Inverter module", 0, 10, 800),
]


def _processes_dir() -> pathlib.Path:
    for candidate in (pathlib.Path.cwd() / "processes", REPO / "processes"):
        if candidate.is_dir():
            return candidate
    raise click.ClickException("no processes/ folder found; give the paths to deploy")


def _files(paths: tuple[str, ...]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for raw in paths or (str(_processes_dir()),):
        path = pathlib.Path(raw)
        if path.is_dir():
            for f in sorted([*path.glob("*.bpmn"), *path.glob("*.dmn")]):
                found[f.name] = f.read_bytes()
        elif path.is_file():
            found[path.name] = path.read_bytes()
        else:
            raise click.ClickException(f"{raw}: no such file or folder")
    if not found:
        raise click.ClickException("no .bpmn or .dmn files found")
    return found


def _build():
    try:
        return build(handlers.default_registry(), os.environ.get("DATABASE_URL"))
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from exc


def _upgrade(revision: str = "head") -> None:
    from engine import schema
    from engine.db import make_engine

    db = make_engine(os.environ.get("DATABASE_URL"))
    try:
        found = schema.upgrade(db, revision)
        click.echo(f"schema at revision {schema.current(db)} (found {found}) "
                   f"on {db.url.render_as_string(hide_password=True)}")
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()


def _git_commit(paths: tuple[str, ...]) -> str | None:
    """The commit the files come from, when they are in a git checkout ("+dirty" if changed)."""
    import subprocess

    where = pathlib.Path(paths[0] if paths else _processes_dir())
    where = where if where.is_dir() else where.parent
    try:
        commit = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (commit[:32] + "+dirty") if dirty else commit


def _deploy(sessions, engine, paths, comment: str, source: str, java_as_external: bool = False) -> None:
    commit = _git_commit(paths)
    with sessions() as session:
        try:
            result = engine.deploy(session, _files(paths), SYSTEM, comment=comment, source=source, git_commit=commit,
                                   java_as_external=java_as_external)
        except DiagramInvalid as exc:
            for p in exc.problems:
                click.echo(f"  {p}", err=True)
            raise click.ClickException(f"deployment refused: {len(exc.problems)} problem(s)") from exc
        session.commit()
    for d in result.definitions:
        click.echo(f"  {d.key} v{d.version} {'(new)' if d.changed else '(unchanged)'}")
    for w in result.warnings:
        where = w.file + (f":{w.line}" if w.line else "") + (f" [{w.element_id}]" if w.element_id else "")
        click.echo(f"  warning: {where}: {w.message}")


@click.group()
def main() -> None:
    """aftersales: BPMN-driven after-sales service (repair, dispatch, returns, complaints)."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema to the newest revision (idempotent)."""
    _upgrade()


@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema of DATABASE_URL to REVISION (default: the newest)."""
    _upgrade(revision)


@db.command("current")
def db_current() -> None:
    """Print the schema revision of DATABASE_URL and the newest this code knows."""
    from engine import schema
    from engine.db import make_engine

    engine = make_engine(os.environ.get("DATABASE_URL"))
    try:
        click.echo(f"{schema.status(engine)}: database at {schema.current(engine)}, code at {schema.head()}")
    finally:
        engine.dispose()


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the change is, e.g. 'add notes to parts'.")
def db_revision(message: str) -> None:
    """Write a new revision from the difference between the models and DATABASE_URL (at head)."""
    from alembic import command

    from engine import schema
    from engine.db import make_engine

    engine = make_engine(os.environ.get("DATABASE_URL"))
    try:
        schema.ensure(engine)
        cfg = schema.config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            script = command.revision(cfg, message=message, autogenerate=True)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    scripts = script if isinstance(script, list) else [script]
    for sc in scripts:
        if sc is not None:
            click.echo(f"wrote {sc.path}: review it, then run the tests")


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--comment", default="", help="Why this deployment (kept with each new version).")
@click.option("--java-as-external", is_flag=True,
              help="Run a service task naming Java code with no Python handler as an external task of that name.")
def deploy(paths: tuple[str, ...], comment: str, java_as_external: bool) -> None:
    """Deploy .bpmn/.dmn files (default: processes/). Unchanged files create no version."""
    engine, sessions, _db = _build()
    _deploy(sessions, engine, paths, comment, "cli", java_as_external)


@main.command()
@click.argument("folder", default="exported", type=click.Path(file_okay=False))
def export(folder: str) -> None:
    """Write the current version of every process and decision table to FOLDER."""
    from sqlalchemy import select

    from engine import deployments as deps
    from engine.models import Definition

    _engine, sessions, _db = _build()
    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with sessions() as session:
        keys = sorted(set(session.scalars(select(Definition.key))))
        written: dict[str, str] = {}
        for key in keys:
            d = deps.get_definition(session, key)
            name = export_name(d.filename, f"{key}.{d.kind}")
            if name in written and written[name] != d.content_hash:
                name = f"{key}.{d.kind}"
            (out / name).write_bytes(d.xml)
            written[name] = d.content_hash
            click.echo(f"  {out / name}  ({key} v{d.version})")


def export_name(filename: str, fallback: str) -> str:
    """The bare file name of an upload: an uploaded ``../../x.bpmn`` is written as ``x.bpmn`` inside the folder."""
    name = pathlib.PurePosixPath(filename.replace("\\", "/")).name
    if name in ("", ".", "..") or name.startswith(".") or "\x00" in name:
        return fallback
    return name


@main.group("retention")
def retention_group() -> None:
    """Retention: the cleanup of old notifications, case history and customers' personal data."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only say what a run now would remove and anonymise.")
@click.option("--list/--no-list", "listing", default=True, show_default=True,
              help="With --dry-run: list the case numbers.")
def retention_run(dry_run: bool, listing: bool) -> None:
    """Run the cleanup now (the nightly job runs it in its window by itself)."""
    from engine import retention

    from . import jobs

    engine, sessions, _db = _build()
    if dry_run:
        with sessions() as session:
            settings = retention.load(session)
            now = engine.clock.now()
            plan = retention.plan(session, settings, now)
            click.echo(f"as of {now.isoformat()}: {plan.notifications} delivered notifications deleted, "
                       f"{plan.remove} cases' history removed, {plan.anonymise} more cases anonymised, "
                       f"{plan.held} kept (held)")
            for what in ("remove", "anonymise", "held") if listing else ():
                after = None
                while True:
                    page, after = retention.due_cases(session, settings, now, what, after=after, limit=500)
                    for case in page:
                        click.echo(f"{what}\t{case.id}\t{case.business_key or ''}\t{case.key}")
                    if after is None:
                        break
        return
    run_id = jobs.retention_run(engine, sessions, "cli")
    with sessions() as session:
        from engine.models import RetentionRun

        run = session.get(RetentionRun, run_id)
        assert run is not None
        click.echo(f"retention run {run.id}: {run.notifications} notifications deleted, {run.removed} cases' "
                   f"history removed, {run.anonymised} cases anonymised, in {run.batch_count} batches")


@retention_group.command("vacuum")
@click.option("--full", is_flag=True, help="SQLite created before auto_vacuum=INCREMENTAL: one full VACUUM "
              "(rewrites the file, holds the write lock until done: a quiet hour or the service stopped).")
@click.option("--step-pages", default=2048, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Pages freed per short write transaction.")
def retention_vacuum(full: bool, step_pages: int) -> None:
    """Give the space that a cleanup freed back to the disk (SQLite; PostgreSQL reuses it by itself)."""
    from engine import free_space, retention

    _engine, _sessions, db = _build()
    before, after = free_space.reclaim(db, full=full, step_pages=step_pages, tables=retention.cleaned_tables())
    mb = lambda n: f"{n / 1e6:.1f} MB"  # noqa: E731
    if before.dialect != "sqlite":
        click.echo(f"{before.dialect}: {mb(before.size)} → {mb(after.size)}; VACUUM (ANALYZE) of "
                   f"{', '.join(retention.cleaned_tables())}: their free space is reused by new rows")
    elif before.auto_vacuum != "incremental" and not full:
        click.echo(f"sqlite, auto_vacuum={before.auto_vacuum}: {mb(before.size)}, of it {mb(before.free)} free "
                   "pages (reused by later writes). To return them to the disk once and from then on in small "
                   "steps: aftersales retention vacuum --full (rewrites the file; a quiet hour)")
    else:
        click.echo(f"sqlite: {mb(before.size)} → {mb(after.size)} ({mb(before.free)} free before, "
                   f"auto_vacuum={after.auto_vacuum})")


@main.group()
def users() -> None:
    """Manage users (admins do the same on 人员与组 / People and groups)."""


def _people(change) -> None:
    """Run ``change(session, now)`` in one transaction; engine errors become a clean CLI error."""
    _engine, sessions, _db = _build()
    with sessions() as session:
        try:
            message = change(session, SystemClock().now())
        except AftersalesError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(message)


@users.command("add")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="A group id (repeat for several); see `groups list`.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default=None, help="Where task notifications go.")
@click.option("--display-name", default="", help="The name staff see (default: the user name).")
@click.option("--region", default=None, help="The province the user works in, e.g. 浙江 (R23: cross-region settlement).")
def users_add(name: str, groups: tuple[str, ...], password: str, email: str | None, display_name: str,
              region: str | None) -> None:
    """Add a user to one or more groups (at least 8 characters of password)."""
    from engine import login_guard
    from engine.users import create_user

    def change(session, now):
        create_user(session, {"username": name, "password": password, "groups": list(groups), "email": email,
                              "display_name": display_name, "region": region}, now=now)
        login_guard.record(session, now, name, "", "cli", "created")
        return f"user {name} added to {', '.join(groups) or 'no group'}"

    _people(change)


@users.command("list")
def users_list() -> None:
    """Every user: name, active or disabled, groups."""
    from engine.users import all_users

    _people(lambda session, _now: "\n".join(
        f"{u.username}\t{'active' if u.active else 'disabled'}\t{','.join(u.all_groups)}"
        for u in all_users(session)) or "no users")


@users.command("groups")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="The user's groups from now on (repeat for several).")
def users_groups(name: str, groups: tuple[str, ...]) -> None:
    """Set a user's groups (replacing the ones they had)."""
    from engine.users import update_user

    def change(session, _now):
        update_user(session, name, {"groups": list(groups)})
        return f"user {name} is in {', '.join(groups) or 'no group'}"

    _people(change)


@users.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Disable an account: no more logins, sessions or API tokens (``enable`` undoes it)."""
    _set_active(name, False)


@users.command("enable")
@click.argument("name")
def users_enable(name: str) -> None:
    """Enable a disabled account again (its old sessions stay ended)."""
    _set_active(name, True)


def _set_active(name: str, active: bool) -> None:
    from engine import login_guard
    from engine.users import set_active

    def change(session, now):
        set_active(session, name, active)
        login_guard.record(session, now, name, "", "cli", "enabled" if active else "disabled")
        return f"user {name} {'enabled' if active else 'disabled'}"

    _people(change)


@users.command("passwd")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_passwd(name: str, password: str) -> None:
    """Reset a user's password (at least 8 characters); every session of that user ends."""
    from engine import login_guard
    from engine.users import update_user

    def change(session, now):
        update_user(session, name, {"password": password})
        login_guard.record(session, now, name, "", "cli", "password_reset")
        return f"password of {name} changed"

    _people(change)


users.add_command(users_passwd, "password")  # the older name


@main.group()
def groups() -> None:
    """Manage groups: BPMN candidate groups and lanes name a group's id."""


@groups.command("list")
def groups_list() -> None:
    """Every group: id, active or disabled, zh-CN and English name, members."""
    from engine import groups as group_table

    _people(lambda session, _now: "\n".join(
        f"{g.id}\t{'active' if g.active else 'disabled'}\t{g.name_zh}\t{g.name_en}\t"
        + ",".join(u.username for u in group_table.members(session, g.id))
        for g in group_table.all_groups(session)))


@groups.command("add")
@click.argument("group_id")
@click.option("--name-zh", required=True, help="The Chinese name staff see, e.g. 财务部.")
@click.option("--name-en", default="", help="The English name (default: the id).")
def groups_add(group_id: str, name_zh: str, name_en: str) -> None:
    """Create a group."""
    from engine import groups as group_table

    def change(session, now):
        group_table.add_group(session, group_id, name_zh, name_en, now=now)
        return f"group {group_id} added"

    _people(change)


@groups.command("add-member")
@click.argument("group_id")
@click.argument("usernames", nargs=-1, required=True)
def groups_add_member(group_id: str, usernames: tuple[str, ...]) -> None:
    """Put users into a group."""
    from engine import groups as group_table
    from engine.users import get_user

    def change(session, _now):
        for name in usernames:
            group_table.add_member(session, group_id, get_user(session, name))
        return f"{', '.join(usernames)} in group {group_id}"

    _people(change)


@groups.command("remove-member")
@click.argument("group_id")
@click.argument("usernames", nargs=-1, required=True)
def groups_remove_member(group_id: str, usernames: tuple[str, ...]) -> None:
    """Take users out of a group."""
    from engine import groups as group_table
    from engine.users import get_user

    def change(session, _now):
        for name in usernames:
            group_table.remove_member(session, group_id, get_user(session, name))
        return f"{', '.join(usernames)} no longer in group {group_id}"

    _people(change)


@groups.command("disable")
@click.argument("group_id")
def groups_disable(group_id: str) -> None:
    """Disable a group: its members get nothing through it; its tasks show as nobody can take them."""
    from engine import groups as group_table

    _people(lambda session, _now: group_table.update_group(session, group_id, active=False) and f"group {group_id} disabled")


@groups.command("enable")
@click.argument("group_id")
def groups_enable(group_id: str) -> None:
    """Enable a disabled group again."""
    from engine import groups as group_table

    _people(lambda session, _now: group_table.update_group(session, group_id, active=True) and f"group {group_id} enabled")


def _serve(host: str, port: int, workers: int = 1) -> None:
    from . import create_app
    from .celery_app import broker_url

    # With a broker the worker tier does the background work; without one, each web process does
    # (safe on several: every job goes through the instance revision or a lease).
    timers = broker_url() is None
    if workers > 1:
        from .gunicorn_app import WebProcesses

        click.echo(f"aftersales is serving at http://{host}:{port}/ with {workers} processes  (Ctrl+C stops)")
        WebProcesses(host, port, workers, timers=timers).run()
        return
    from waitress import serve

    app = create_app({"TIMERS": timers})
    click.echo(f"aftersales is serving at http://{host}:{port}/  (Ctrl+C stops)")
    # 16 threads: refused password attempts wait in at most 8 of them (web/auth.py), the rest serve
    serve(app, host=host, port=port, threads=16, ident="aftersales")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="Web processes: more than 1 runs gunicorn (Unix); 1 runs waitress.")
def serve_cmd(host: str, port: int, workers: int) -> None:
    """Serve the API against DATABASE_URL (and do the background work when no CELERY_BROKER_URL is set)."""
    _build()
    _serve(host, port, workers)


def _celery_or_exit():
    from .celery_app import broker_url, celery

    if broker_url() is None:
        raise click.ClickException("set CELERY_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//) to run "
                                   "the worker tier; without it `aftersales serve` does the background work")
    return celery


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--beat/--no-beat", default=False, help="Also send the relay schedule (or run `aftersales beat`).")
@click.option("--queue", default=None, help="Queue name (default AFTERSALES_QUEUE or 'aftersales').")
def worker(concurrency: int, beat: bool, queue: str | None) -> None:
    """Run a Celery worker for timers, scheduled starts and the outbox against DATABASE_URL."""
    import tempfile

    if queue:
        os.environ["AFTERSALES_QUEUE"] = queue
    from . import celery_app

    celery = _celery_or_exit()
    celery.conf.task_default_queue = celery_app.queue_name()
    _build()  # refuses an outdated schema
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "-Q", celery_app.queue_name(),
            "--without-gossip", "--without-mingle", f"--hostname=aftersales-{os.getpid()}@%h"]
    if beat:
        argv += ["--beat", f"--schedule={tempfile.gettempdir()}/aftersales-beat-{celery_app.queue_name()}"]
    celery.worker_main(argv)


@main.command()
def beat() -> None:
    """Send the relay (due timers, scheduled starts, outbox) to the workers every second; run one per site."""
    import tempfile

    from . import celery_app

    celery = _celery_or_exit()
    _build()
    celery.start(["beat", "--loglevel=INFO", f"--schedule={tempfile.gettempdir()}/aftersales-beat-{celery_app.queue_name()}"])


def seed_demo(engine, sessions) -> list[str]:
    """Demo users (one per group, plus admin) and a small parts stock; idempotent."""
    from sqlalchemy import select

    from engine.groups import ensure_domain
    from engine.models import User
    from handlers.records import Part

    created = []
    now = SystemClock().now()
    with sessions() as session:
        ensure_domain(session, now)
        existing = set(session.scalars(select(User.username)))
        for group in STAFF_GROUPS:
            if group not in existing:
                user = add_user(session, group, DEMO_PASSWORD, [group], now=now, display_name=DOMAIN_GROUPS[group][0])
                user.email = f"{group}@demo.local"
                created.append(group)
        for username, region in DEMO_REGIONS.items():  # R23: who works where
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is not None and user.region is None:
                user.region = region
        if "admin" not in existing:
            add_user(session, "admin", DEMO_PASSWORD, ["admin", "process_owner"], now=now,
                     display_name="管理员").email = "admin@demo.local"
            created.append("admin")
        if "worker" not in existing:  # an external task worker's account (/engine-rest/external-task)
            add_user(session, "worker", DEMO_PASSWORD, ["external_worker"], now=now, display_name="外部任务程序")
            created.append("worker")
        for part_no, name, on_hand, quota, price in DEMO_PARTS:
            if session.get(Part, part_no) is None:
                session.add(Part(part_no=part_no, name=name, on_hand=on_hand, quota=quota, unit_price=price))
        session.commit()
    return created


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Create the schema, deploy processes/, add demo users and stock, and serve."""
    from engine.db import database_url

    if database_url(os.environ.get("DATABASE_URL")).startswith("sqlite"):
        _upgrade()  # a demo on its own file keeps itself current; a shared database is upgraded on purpose
    engine, sessions, db = _build()
    click.echo(f"database: {db.url.render_as_string(hide_password=True)}")
    _deploy(sessions, engine, (), "demo", "demo")
    created = seed_demo(engine, sessions)
    click.echo(f"demo users (password '{DEMO_PASSWORD}'): admin, {', '.join(STAFF_GROUPS)}, worker (external tasks)"
               + (f"  [new: {', '.join(created)}]" if created else ""))
    _serve(host, port)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
