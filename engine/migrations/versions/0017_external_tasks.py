"""External tasks: service tasks whose topic has no Python handler wait for an external worker
(Camunda 7's external task protocol under /engine-rest); the group ``external_worker`` for their
accounts.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('external_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=200), nullable=True),
    sa.Column('lock_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retries', sa.Integer(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_details', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('external_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_tasks_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_tasks_topic'), ['topic'], unique=False)
    groups = sa.table('groups', sa.column('id', sa.String), sa.column('name_zh', sa.String),
                      sa.column('name_en', sa.String), sa.column('active', sa.Boolean),
                      sa.column('created_at', sa.DateTime(timezone=True)))
    have = op.get_bind().execute(sa.select(groups.c.id).where(groups.c.id == 'external_worker')).first()
    if have is None:
        op.bulk_insert(groups, [{"id": "external_worker", "name_zh": "外部任务程序", "name_en": "External worker",
                                 "active": True, "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    with op.batch_alter_table('external_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_tasks_topic'))
        batch_op.drop_index(batch_op.f('ix_external_tasks_instance_id'))
    op.drop_table('external_tasks')
    op.execute("DELETE FROM groups WHERE id = 'external_worker' AND NOT EXISTS "
               "(SELECT 1 FROM user_groups WHERE group_id = 'external_worker')")
