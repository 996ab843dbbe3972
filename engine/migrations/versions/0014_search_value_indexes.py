"""The search's whole-value look-ups read the newest cases with a value off one index: the one-column
indexes on case number, customer name, phone and serial become (column, id) (issue 10/17).

``WHERE customer_name = :v ORDER BY id DESC LIMIT n`` had PostgreSQL either walk the primary key
backwards through every case (5.8 s at a million cases: a name column has few distinct values, so it
expects thousands of matches) or fetch every match from the heap; with ``(column, id)`` it reads the
newest matches straight off the index. SQLite's indexes end in the rowid anyway; the rename keeps one
schema for both. On PostgreSQL each ``CREATE INDEX`` holds writes to ``instances`` for a few seconds at
a million cases.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:45:00
"""

from __future__ import annotations

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

COLUMNS = ("business_key", "customer_name", "customer_phone", "serial_no")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_instances_{column}_id", "instances", [column, "id"], unique=False)
        op.drop_index(f"ix_instances_{column}", table_name="instances")


def downgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_instances_{column}", "instances", [column], unique=False)
        op.drop_index(f"ix_instances_{column}_id", table_name="instances")
