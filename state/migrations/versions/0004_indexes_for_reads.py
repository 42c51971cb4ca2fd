"""Indexes for what pages and commands read per campaign: a campaign's contributions in time order (the
analysis's frame, the KPIs), and a campaign's rows kept aside by key (each ingestion asks for them).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_contribution_campaign_time", "contribution", ["campaign_id", "submitted_at"])
    op.create_index("ix_quarantined_row_campaign_key", "quarantined_row", ["campaign_id", "row_key"])


def downgrade() -> None:
    op.drop_index("ix_quarantined_row_campaign_key", table_name="quarantined_row")
    op.drop_index("ix_contribution_campaign_time", table_name="contribution")
