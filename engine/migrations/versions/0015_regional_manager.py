"""R23: the regional manager — a new domain group ``regional_manager`` (seeded for databases made
before it) and the region a member of staff works in (``users.region``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:10:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

GROUP = {"id": "regional_manager", "name_zh": "区域经理", "name_en": "Regional manager"}


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=60), nullable=True))
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM groups WHERE id = :id"), {"id": GROUP["id"]}).first() is None:
        conn.execute(sa.text("INSERT INTO groups (id, name_zh, name_en, active, created_at) "
                             "VALUES (:id, :name_zh, :name_en, :active, :created_at)"),
                     {**GROUP, "active": True, "created_at": datetime.now(UTC)})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM user_groups WHERE group_id = :id"), {"id": GROUP["id"]})
    conn.execute(sa.text("DELETE FROM groups WHERE id = :id"), {"id": GROUP["id"]})
    # on SQLite the batch copies and drops ``users``, which would cascade to the members: keep them
    members = conn.execute(sa.text("SELECT user_id, group_id FROM user_groups")).all()
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('region')
    conn.execute(sa.text("DELETE FROM user_groups"))
    if members:
        conn.execute(sa.text("INSERT INTO user_groups (user_id, group_id) VALUES (:u, :g)"),
                     [{"u": u, "g": g} for u, g in members])
