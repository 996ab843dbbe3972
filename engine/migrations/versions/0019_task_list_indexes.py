"""Task lists read each way a task can be someone's through its own index (issue 17,
``engine/task_lists.py``): the assignee's index gains (created_at, id), one group's tasks get
(candidate_groups, created_at, id), and two partial indexes hold only the tasks naming several groups
or any user. A group with few tasks (finance) no longer reads every open task for its first page.
A task naming nobody was stored as ``,,``, which the access policy's "names nobody" (``,``) never
matched: such rows are rewritten to ``,``.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None

SEVERAL_GROUPS_SQL = "candidate_groups LIKE '%,%,%,%'"  # as engine/models.py
NAMES_USERS_SQL = "candidate_users LIKE ',_%'"


def upgrade() -> None:
    for column in ('candidate_groups', 'candidate_users'):
        op.execute(f"UPDATE open_tasks SET {column} = ',' WHERE {column} IN (',,', '')")
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_open_tasks_assignee')
        batch_op.create_index('ix_open_tasks_assignee_created', ['assignee', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_open_tasks_group_created', ['candidate_groups', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_open_tasks_several_groups', ['created_at', 'id'], unique=False,
                              sqlite_where=sa.text(SEVERAL_GROUPS_SQL), postgresql_where=sa.text(SEVERAL_GROUPS_SQL))
        batch_op.create_index('ix_open_tasks_naming_users', ['created_at', 'id'], unique=False,
                              sqlite_where=sa.text(NAMES_USERS_SQL), postgresql_where=sa.text(NAMES_USERS_SQL))


def downgrade() -> None:
    with op.batch_alter_table('open_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_open_tasks_naming_users')
        batch_op.drop_index('ix_open_tasks_several_groups')
        batch_op.drop_index('ix_open_tasks_group_created')
        batch_op.drop_index('ix_open_tasks_assignee_created')
        batch_op.create_index('ix_open_tasks_assignee', ['assignee'], unique=False)
