"""Withdrawn batches: each contribution and quarantined row carries the withdrawal that took its batch out of
the count (0 while it counts); one row counts per key, and a response may be kept aside again by a later file.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `withdrawn` to both tables and widen their unique keys by it (contributions) or the batch (quarantine)."""
    with op.batch_alter_table("contribution") as batch:
        batch.add_column(sa.Column("withdrawn", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_contribution_key", type_="unique")
        batch.create_unique_constraint("uq_contribution_key", ["campaign_id", "row_key", "withdrawn"])
    with op.batch_alter_table("quarantined_row") as batch:
        batch.add_column(sa.Column("withdrawn", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_quarantined_key", type_="unique")
        batch.create_unique_constraint("uq_quarantined_key", ["campaign_id", "batch", "row_key"])


def downgrade() -> None:
    """Back to one row per key: only possible while no batch was withdrawn and no response was kept aside twice."""
    with op.batch_alter_table("quarantined_row") as batch:
        batch.drop_constraint("uq_quarantined_key", type_="unique")
        batch.create_unique_constraint("uq_quarantined_key", ["campaign_id", "row_key"])
        batch.drop_column("withdrawn")
    with op.batch_alter_table("contribution") as batch:
        batch.drop_constraint("uq_contribution_key", type_="unique")
        batch.create_unique_constraint("uq_contribution_key", ["campaign_id", "row_key"])
        batch.drop_column("withdrawn")
