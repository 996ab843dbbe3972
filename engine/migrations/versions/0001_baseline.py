"""Baseline: the schema as it was when migrations were introduced (engine and handlers tables).

The tables are a snapshot here, never imported from the models, so this revision stays what it is
when the models move on. A database made before migrations existed (tables, no ``alembic_version``)
is brought to this baseline too: missing tables, columns and indexes are added, nothing is dropped.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SNAPSHOT = sa.MetaData()


def _table(name: str, *items, **kw) -> sa.Table:
    return sa.Table(name, SNAPSHOT, *items, **kw)


def _index(table: str, name: str, columns: list[str], unique: bool = False) -> None:
    t = SNAPSHOT.tables[table]
    sa.Index(name, *(t.c[c] for c in columns), unique=unique)


_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('level', sa.String(length=30), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
)
_index('approvals', 'ix_approvals_instance_id', ['instance_id'], unique=False)
_table('closed_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day')
)
_table('counters',
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'day')
)
_table('current_versions',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
)
_table('deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deployed_by', sa.String(length=80), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('git_commit', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id')
)
_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
)
_index('documents', 'ix_documents_instance_id', ['instance_id'], unique=False)
_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
)
_index('notifications', 'ix_notifications_instance_id', ['instance_id'], unique=False)
_index('notifications', 'ix_notifications_next_attempt_at', ['next_attempt_at'], unique=False)
_table('parts',
    sa.Column('part_no', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('part_no')
)
_table('processed_messages',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('instance_ids', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
)
_table('procurements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
)
_index('procurements', 'ix_procurements_instance_id', ['instance_id'], unique=False)
_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.PrimaryKeyConstraint('id')
)
_index('saved_filters', 'ix_saved_filters_username', ['username'], unique=False)
_table('scheduled_starts',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('expression', sa.String(length=300), nullable=False),
    sa.Column('anchor', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remaining', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('key')
)
_index('scheduled_starts', 'ix_scheduled_starts_next_due', ['next_due'], unique=False)
_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('groups', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
)
_table('version_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=True),
    sa.Column('to_version', sa.Integer(), nullable=False),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
)
_index('version_events', 'ix_version_events_key', ['key'], unique=False)
_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
)
_table('definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deployed_by', sa.String(length=80), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'version')
)
_index('definitions', 'ix_definitions_key', ['key'], unique=False)
_table('stock_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('part_no', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('slip_no', sa.String(length=40), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['part_no'], ['parts.part_no'], ),
    sa.PrimaryKeyConstraint('id')
)
_index('stock_movements', 'ix_stock_movements_instance_id', ['instance_id'], unique=False)
_table('instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('business_key', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=True),
    sa.Column('customer_phone', sa.String(length=60), nullable=True),
    sa.Column('serial_no', sa.String(length=120), nullable=True),
    sa.Column('bindings', sa.JSON(), nullable=False),
    sa.Column('workflow', sa.LargeBinary(), nullable=True),
    sa.Column('variables', sa.JSON(), nullable=True),
    sa.Column('error_element', sa.String(length=200), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('started_by', sa.String(length=80), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['definitions.id'], ),
    sa.PrimaryKeyConstraint('id')
)
_index('instances', 'ix_instances_business_key', ['business_key'], unique=False)
_index('instances', 'ix_instances_customer_name', ['customer_name'], unique=False)
_index('instances', 'ix_instances_customer_phone', ['customer_phone'], unique=False)
_index('instances', 'ix_instances_definition_id', ['definition_id'], unique=False)
_index('instances', 'ix_instances_key', ['key'], unique=False)
_index('instances', 'ix_instances_serial_no', ['serial_no'], unique=False)
_index('instances', 'ix_instances_state', ['state'], unique=False)
_table('history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('completed_by', sa.String(length=80), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
)
_index('history', 'ix_history_instance', ['instance_id', 'id'], unique=False)
_index('history', 'ix_history_task_id', ['task_id'], unique=False)
_table('message_waits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
)
_index('message_waits', 'ix_message_waits_instance_id', ['instance_id'], unique=False)
_index('message_waits', 'ix_message_waits_name', ['name'], unique=False)
_table('open_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('candidate_groups', sa.String(length=500), nullable=False),
    sa.Column('candidate_users', sa.String(length=500), nullable=False),
    sa.Column('assignee', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
)
_index('open_tasks', 'ix_open_tasks_assignee', ['assignee'], unique=False)
_index('open_tasks', 'ix_open_tasks_instance_id', ['instance_id'], unique=False)
_table('timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
)
_index('timers', 'ix_timers_due_at', ['due_at'], unique=False)
_index('timers', 'ix_timers_instance_id', ['instance_id'], unique=False)


def _added_column(column: sa.Column) -> sa.Column:
    """A copy of ``column`` that can be added to a table with rows in it."""
    copy = column._copy()
    copy.nullable = True  # old rows have no value; the application always writes one
    return copy


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for table in SNAPSHOT.sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        # Made before migrations existed: add what later commits added.
        have = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in have]
        if missing:
            with op.batch_alter_table(table.name) as batch:
                for column in missing:
                    batch.add_column(_added_column(column))
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                op.create_index(index.name, table.name, [c.name for c in index.columns], unique=index.unique)


def downgrade() -> None:
    SNAPSHOT.drop_all(op.get_bind())
