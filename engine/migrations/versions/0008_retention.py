"""Retention (issue 17): settings an admin edits, the log of cleanup runs, each version's
camunda:historyTimeToLive, and on each case its outcome, legal hold, and when its personal data was
anonymised and its history removed. Finished cases get their outcome from their history, and deployed
versions their historyTimeToLive from their XML, so nothing deployed before is treated differently.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 17:05:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from engine import case_search

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_TTL = re.compile(r"^\s*(?:P(\d+)D|(\d+))\s*$")


def _ttl_days(xml: bytes, key: str) -> int | None:
    """The process's camunda:historyTimeToLive, read without the engine (a migration stays as written)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return None
    for value in root.xpath("//*[local-name()='process'][@id=$key]/@*[local-name()='historyTimeToLive']", key=key):
        match = _TTL.match(str(value))
        if match:
            return int(match.group(1) or match.group(2))
    return None


def upgrade() -> None:
    op.create_table('retention_runs',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('night', sa.Date(), nullable=True),
                    sa.Column('started_by', sa.String(length=80), nullable=False),
                    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('notifications', sa.Integer(), nullable=False),
                    sa.Column('removed', sa.Integer(), nullable=False),
                    sa.Column('anonymised', sa.Integer(), nullable=False),
                    sa.Column('batches', sa.JSON(), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('night'))
    op.create_table('settings',
                    sa.Column('name', sa.String(length=100), nullable=False),
                    sa.Column('value', sa.JSON(), nullable=True),
                    sa.Column('changed_by', sa.String(length=80), nullable=False),
                    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name'))
    with op.batch_alter_table('definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('history_ttl_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('legal_hold_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('history_removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))
        batch_op.create_index('ix_instances_history_due', ['history_removed_at', 'ended_at'], unique=False)
        batch_op.create_index('ix_instances_anonymise_due', ['anonymised_at', 'ended_at'], unique=False)

    bind = op.get_bind()
    definitions = sa.table('definitions', sa.column('id', sa.Integer), sa.column('key', sa.String),
                           sa.column('kind', sa.String), sa.column('xml', sa.LargeBinary),
                           sa.column('history_ttl_days', sa.Integer))
    for row in bind.execute(sa.select(definitions.c.id, definitions.c.key, definitions.c.xml)
                            .where(definitions.c.kind == 'bpmn')).all():
        days = _ttl_days(bytes(row.xml), row.key)
        if days is not None:
            bind.execute(definitions.update().where(definitions.c.id == row.id).values(history_ttl_days=days))
    # the end event each finished case reached: the last one its history recorded
    bind.execute(sa.text(
        "UPDATE instances SET outcome = (SELECT h.element_id FROM history h WHERE h.instance_id = instances.id "
        "AND h.kind = 'EndEvent' ORDER BY h.id DESC LIMIT 1) WHERE state = 'completed'"))
    # SQLite rebuilt the instances table above, which drops the case search triggers (revision 0007)
    case_search.uninstall(bind)
    case_search.install(bind)


def downgrade() -> None:
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_index('ix_instances_anonymise_due')
        batch_op.drop_index('ix_instances_history_due')
        batch_op.drop_column('figures')
        batch_op.drop_column('history_removed_at')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('legal_hold_reason')
        batch_op.drop_column('legal_hold')
        batch_op.drop_column('outcome')
    case_search.uninstall(op.get_bind())
    case_search.install(op.get_bind())
    with op.batch_alter_table('definitions', schema=None) as batch_op:
        batch_op.drop_column('history_ttl_days')
    op.drop_table('settings')
    op.drop_table('retention_runs')
