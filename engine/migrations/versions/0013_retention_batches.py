"""Retention keeps up at scale: one row per batch in retention_batches instead of a JSON list on the
run that grew with every batch; the run keeps running totals, its phase and a cursor (where its next
batch reads on); delivered notifications get a partial index in delivery order, and the two due
indexes of instances end in id, the cursor's order (issue 17).

``instances`` is not touched (on SQLite a batch copy of it would drop the case search triggers).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:20:00
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

KINDS = (("notifications", "notifications"), ("removed", "remove"), ("anonymised", "anonymise"))


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or [])


def upgrade() -> None:
    # the old log is read first, and the runs table altered before retention_batches exists: on SQLite
    # the batch copies and drops retention_runs, which would cascade to rows referencing it
    conn = op.get_bind()
    old = conn.execute(sa.text("SELECT id, batches FROM retention_runs ORDER BY id")).all()
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('phase', sa.String(length=20), nullable=False, server_default='notifications'))
        batch_op.add_column(sa.Column('cursor_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cursor_id', sa.Integer(), nullable=True))
    for run_id, log in old:
        conn.execute(sa.text("UPDATE retention_runs SET batch_count = :n, phase = CASE WHEN ended_at IS NULL "
                             "THEN 'notifications' ELSE 'done' END WHERE id = :id"),
                     {"n": len(_json(log)), "id": run_id})
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.alter_column('batch_count', server_default=None)
        batch_op.alter_column('phase', server_default=None)
        batch_op.drop_column('batches')

    batches = op.create_table(
        'retention_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ms', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['retention_runs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_retention_batches_run', 'retention_batches', ['run_id', 'id'], unique=False)

    rows = []  # one per old batch: each did one kind of work; its time is all that is known of it
    for run_id, log in old:
        for b in _json(log):
            kind, count = next(((k, b.get(f, 0)) for f, k in KINDS if b.get(f)), ("notifications", 0))
            rows.append({"run_id": run_id, "kind": kind, "count": count, "ms": 0.0,
                         "started_at": datetime.fromisoformat(b["at"])})
    if rows:
        op.bulk_insert(batches, rows)

    # plain DROP/CREATE INDEX, no batch copy of a table (instances: the case search triggers stay)
    for name, marker in (('ix_instances_history_due', 'history_removed_at'), ('ix_instances_anonymise_due', 'anonymised_at')):
        op.drop_index(name, table_name='instances')
        op.create_index(name, 'instances', [marker, 'ended_at', 'id'], unique=False)
    op.create_index('ix_notifications_delivered', 'notifications', ['sent_at', 'id'], unique=False,
                    sqlite_where=sa.text('sent_at IS NOT NULL'), postgresql_where=sa.text('sent_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_notifications_delivered', table_name='notifications',
                  sqlite_where=sa.text('sent_at IS NOT NULL'), postgresql_where=sa.text('sent_at IS NOT NULL'))
    for name, marker in (('ix_instances_history_due', 'history_removed_at'), ('ix_instances_anonymise_due', 'anonymised_at')):
        op.drop_index(name, table_name='instances')
        op.create_index(name, 'instances', [marker, 'ended_at'], unique=False)
    conn = op.get_bind()
    logs: dict[int, list] = {}  # read first: the batch below copies and drops retention_runs (cascading)
    for run_id, kind, count, started in conn.execute(sa.text(
            "SELECT run_id, kind, count, started_at FROM retention_batches ORDER BY id")).all():
        at = started if isinstance(started, datetime) else datetime.fromisoformat(str(started))
        entry = {"at": at.isoformat(), "notifications": 0, "removed": 0, "anonymised": 0}
        entry[{k: f for f, k in KINDS}[kind]] = count
        logs.setdefault(run_id, []).append(entry)
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batches', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.drop_column('cursor_id')
        batch_op.drop_column('cursor_at')
        batch_op.drop_column('phase')
        batch_op.drop_column('batch_count')
    for run_id, log in logs.items():
        conn.execute(sa.text("UPDATE retention_runs SET batches = :log WHERE id = :id")
                     .bindparams(sa.bindparam("log", type_=sa.JSON)), {"log": log, "id": run_id})
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.alter_column('batches', server_default=None)
    op.drop_index('ix_retention_batches_run', table_name='retention_batches')
    op.drop_table('retention_batches')
