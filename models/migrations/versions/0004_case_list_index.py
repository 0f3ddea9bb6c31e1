"""case list index: one stage, newest first (the filtered case list's keyset order)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_stage_opened", "cases", ["stage", "opened_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cases_stage_opened", table_name="cases")
