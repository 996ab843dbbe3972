"""Lists that page and search by index (issue 17): open tasks in (created_at, id) order, and the
case search index — SQLite FTS5 trigram table with its triggers, PostgreSQL pg_trgm GIN indexes
(engine/case_search.py), filled from the cases already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:15:00
"""

from __future__ import annotations

from alembic import op

from engine import case_search

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_open_tasks_created', ['created_at', 'id'], unique=False)
    case_search.install(op.get_bind())


def downgrade() -> None:
    case_search.uninstall(op.get_bind())
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_open_tasks_created')
