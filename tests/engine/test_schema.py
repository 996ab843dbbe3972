"""Schema migrations: the revisions build exactly the models' schema, upgrades keep data, and an
out-of-date database is refused with the command that fixes it."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

import handlers
from engine import case_search, company_calendar, deployments, schema
from engine.db import make_engine
from engine.errors import SchemaOutdated
from engine.models import Base
from engine.wiring import build
from handlers.numbers import next_number
from tests.conftest import PROCESSES
from web.cli import main

baseline = importlib.import_module("engine.migrations.versions.0001_baseline")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _differences(db) -> list:
    with db.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                      "include_name": case_search.foreign_to_models}), Base.metadata)


def test_the_revisions_build_exactly_the_models(database_url):
    db = make_engine(database_url)
    schema.upgrade(db)
    assert schema.status(db) == "current"
    assert _differences(db) == []
    with db.connect() as conn:  # the search index (engine/case_search.py) is outside the models
        assert case_search.installed(conn)
    db.dispose()


def test_create_all_and_the_revisions_agree(database_url):
    """``ensure`` makes an empty database in one go; it must be what upgrading would have made."""
    db = make_engine(database_url)
    schema.ensure(db)
    assert (schema.status(db), schema.current(db)) == ("current", schema.head())
    assert _differences(db) == []
    with db.connect() as conn:
        assert case_search.installed(conn)
    db.dispose()


def test_data_made_at_the_baseline_survives_the_upgrade_to_head(database_url):
    db = make_engine(database_url)
    schema.upgrade(db, "0001")
    repair = (PROCESSES / "repair.bpmn").read_bytes()
    t = baseline.SNAPSHOT.tables
    with db.begin() as conn:
        conn.execute(t["deployments"].insert().values(id=1, deployed_at=NOW, deployed_by="admin", comment="go-live",
                                                      source="cli"))
        conn.execute(t["definitions"].insert().values(
            id=1, key="repair", version=1, kind="bpmn", name="Repair", filename="repair.bpmn", xml=repair,
            content_hash="h", deployment_id=1, deployed_at=NOW, deployed_by="admin", comment="go-live"))
        conn.execute(t["counters"].insert().values(prefix="RX", day="20261123", last=7))
        conn.execute(t["closed_days"].insert().values(day=date(2026, 11, 25), reason="stocktaking", added_by="admin",
                                                      added_at=NOW))
    schema.upgrade(db)
    assert schema.status(db) == "current"
    db.dispose()

    _engine, sessions, db = build(handlers.default_registry(), database_url)
    with sessions() as s:
        assert deployments.get_definition(s, "repair").xml == repair
        # the day's case numbers go on where they were before the upgrade
        assert next_number(s, "repair", NOW) == "RX-20261123-0008"
        # the company closed day is one in the working calendar now (revision 0002)
        assert [(d.day, d.kind, d.reason) for d in company_calendar.company_days(s)] == [
            (date(2026, 11, 25), "closed", "stocktaking")]
        s.commit()
    db.dispose()


def _legacy_database(url: str):
    """A database as ``create_all`` made it before migrations existed, two commits before the baseline:
    no ``alembic_version`` and no ``deployments.git_commit``."""
    db = make_engine(url)
    baseline.SNAPSHOT.create_all(db)
    with db.begin() as conn:
        conn.execute(sa.text("ALTER TABLE deployments DROP COLUMN git_commit"))
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(sa.text("INSERT INTO counters (prefix, day, last) VALUES ('RX', '20261123', 3)"))
    return db


def test_a_database_made_before_migrations_is_refused_then_upgraded(database_url, monkeypatch, tmp_path):
    db = _legacy_database(database_url)
    assert schema.status(db) == "legacy"
    with pytest.raises(SchemaOutdated, match="run `aftersales db upgrade`"):
        build(handlers.default_registry(), database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    refused = runner.invoke(main, ["serve", "--port", "0"])
    assert refused.exit_code == 1
    assert "made before schema migrations existed; run `aftersales db upgrade`" in refused.output

    upgraded = runner.invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"schema at revision {schema.head()} (found legacy)" in upgraded.output
    assert schema.status(db) == "current"
    assert _differences(db) == []
    deployed = runner.invoke(main, ["deploy", str(PROCESSES)])
    assert deployed.exit_code == 0, deployed.output
    assert "repair v1 (new)" in deployed.output
    _engine, sessions, db2 = build(handlers.default_registry(), database_url)
    with sessions() as s:
        assert next_number(s, "repair", NOW) == "RX-20261123-0004"
        s.commit()
    db2.dispose()
    db.dispose()


def test_a_database_newer_than_the_code_is_refused(database_url):
    db = make_engine(database_url)
    schema.ensure(db)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    assert schema.status(db) == "ahead"
    with pytest.raises(SchemaOutdated, match="newer than this code knows"):
        schema.ensure(db)
    db.dispose()


def test_r23_revision_0015_seeds_the_regional_manager_and_keeps_members_both_ways(database_url):
    """A database made before the regional manager (R23) gets the group and ``users.region``; going
    back removes both and keeps everyone else's groups."""
    from alembic import command

    db = make_engine(database_url)
    schema.upgrade(db, "0014")
    with db.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM groups WHERE id = 'regional_manager'")).scalar() == 0
        conn.execute(sa.text("INSERT INTO users (id, username, display_name, password_hash, active, created_at, "
                             "session_epoch) VALUES (1, 'finance', '财务', 'x', :t, :now, 0)"), {"t": True, "now": NOW})
        conn.execute(sa.text("INSERT INTO user_groups (user_id, group_id) VALUES (1, 'finance')"))
    schema.upgrade(db)
    with db.begin() as conn:
        assert conn.execute(sa.text("SELECT name_zh, name_en, active FROM groups WHERE id = 'regional_manager'")).one() \
            == ("区域经理", "Regional manager", True)
        assert conn.execute(sa.text("SELECT region FROM users")).scalars().all() == [None]
    cfg = schema.config()
    with db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
    with db.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM groups WHERE id = 'regional_manager'")).scalar() == 0
        assert conn.execute(sa.text("SELECT user_id, group_id FROM user_groups")).all() == [(1, "finance")]
        assert "region" not in [c["name"] for c in sa.inspect(conn).get_columns("users")]
    db.dispose()
