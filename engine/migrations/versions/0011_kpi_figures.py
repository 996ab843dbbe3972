"""The dashboard's figures (R25): KPI columns on instances, late_tasks, indexes by key and date.

Cases finished before this revision have no figures (their columns stay empty).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 17:01:46.843434
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine import case_search

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('late_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('rule', sa.String(length=10), nullable=True),
    sa.Column('candidate_groups', sa.String(length=500), nullable=False),
    sa.Column('completed_by', sa.String(length=80), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('product_model', sa.String(length=200), nullable=True),
    sa.Column('region', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('late_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_late_tasks_completed', ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_late_tasks_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_model', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('region', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('technician', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('team', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('work_orders', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('work_orders_late', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_time_fix', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sa.Float(), nullable=True))
        batch_op.create_index('ix_instances_key_ended', ['key', 'ended_at'], unique=False, postgresql_include=[
            'state', 'work_orders', 'work_orders_late', 'first_time_fix', 'satisfaction', 'product_model', 'region',
            'technician', 'team'])
        batch_op.create_index('ix_instances_key_started', ['key', 'started_at'], unique=False,
                              postgresql_include=['product_model', 'region', 'technician', 'team'])
    # SQLite rebuilt the instances table above, which drops the case search triggers (revision 0007)
    case_search.uninstall(op.get_bind())
    case_search.install(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_index('ix_instances_key_started')
        batch_op.drop_index('ix_instances_key_ended')
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('first_time_fix')
        batch_op.drop_column('work_orders_late')
        batch_op.drop_column('work_orders')
        batch_op.drop_column('team')
        batch_op.drop_column('technician')
        batch_op.drop_column('region')
        batch_op.drop_column('product_model')
    case_search.uninstall(op.get_bind())
    case_search.install(op.get_bind())

    with op.batch_alter_table('late_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_late_tasks_instance_id'))
        batch_op.drop_index('ix_late_tasks_completed')

    op.drop_table('late_tasks')
