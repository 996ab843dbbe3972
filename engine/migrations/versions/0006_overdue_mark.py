"""Overdue notices once per task: indexed open_tasks.due_at and an overdue_notified_at mark (issue 17).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_open_tasks_due_at'), ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_tasks_due_at'))
        batch_op.drop_column('overdue_notified_at')
