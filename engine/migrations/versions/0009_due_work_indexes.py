"""The background round reads only due rows: partial indexes on unnotified open tasks and on
undelivered outbox rows; the full index on notifications.next_attempt_at goes (issue 17).

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_next_attempt_at'))
        batch_op.create_index('ix_notifications_undelivered', ['next_attempt_at', 'id'], unique=False,
                              sqlite_where=sa.text('sent_at IS NULL'), postgresql_where=sa.text('sent_at IS NULL'))
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_open_tasks_overdue_due', ['due_at'], unique=False,
                              sqlite_where=sa.text('overdue_notified_at IS NULL'),
                              postgresql_where=sa.text('overdue_notified_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_open_tasks_overdue_due')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_undelivered')
        batch_op.create_index(batch_op.f('ix_notifications_next_attempt_at'), ['next_attempt_at'], unique=False)
