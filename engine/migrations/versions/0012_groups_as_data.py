"""Users and groups are data: table groups (seeded with the domain's), members in user_groups;
users.groups (",g1,g2,") moves there (issue 13).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The domain's groups as of this revision (engine/groups.py DOMAIN_GROUPS may grow later).
DOMAIN = {
    "customer_service": ("客服中心", "Customer service"),
    "tech_support": ("技术支持", "Tech support"),
    "technician": ("维修工程师", "Technician"),
    "warehouse": ("配件管理员", "Warehouse"),
    "supervisor": ("售后主管", "Supervisor"),
    "finance": ("财务部", "Finance"),
    "logistics": ("商务部门", "Logistics"),
    "marketing": ("市场部", "Marketing"),
    "emergency_team": ("应急响应小组", "Emergency team"),
    "admin": ("管理员", "Administrator"),
    "process_owner": ("流程负责人", "Process owner"),
}


def upgrade() -> None:
    groups = op.create_table(
        'groups',
        sa.Column('id', sa.String(length=80), nullable=False),
        sa.Column('name_zh', sa.String(length=120), nullable=False),
        sa.Column('name_en', sa.String(length=120), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    members = op.create_table(
        'user_groups',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'group_id'),
    )
    with op.batch_alter_table('user_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_groups_group_id'), ['group_id'], unique=False)

    now = datetime.now(UTC)
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, groups FROM users")).all()
    named = {g for _id, text in rows for g in (text or "").split(",") if g}
    op.bulk_insert(groups, [{"id": gid, "name_zh": zh, "name_en": en, "active": True, "created_at": now}
                            for gid, (zh, en) in DOMAIN.items()]
                   + [{"id": gid, "name_zh": gid, "name_en": gid, "active": True, "created_at": now}
                      for gid in sorted(named - set(DOMAIN))])
    # the column goes first: on SQLite the batch copies and drops ``users``, which would cascade to members
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('groups')
    op.bulk_insert(members, [{"user_id": uid, "group_id": g} for uid, text in rows
                             for g in dict.fromkeys(p for p in (text or "").split(",") if p)])


def downgrade() -> None:
    conn = op.get_bind()
    by_user: dict[int, list[str]] = {}  # read first: the batch below may copy ``users`` (cascading)
    for uid, gid in conn.execute(sa.text("SELECT user_id, group_id FROM user_groups ORDER BY group_id")).all():
        by_user.setdefault(uid, []).append(gid)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('groups', sa.String(length=500), nullable=False, server_default=''))
    for uid, gids in by_user.items():
        conn.execute(sa.text("UPDATE users SET groups = :g WHERE id = :id"), {"g": "," + ",".join(gids) + ",", "id": uid})
    with op.batch_alter_table('user_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_groups_group_id'))
    op.drop_table('user_groups')
    op.drop_table('groups')
