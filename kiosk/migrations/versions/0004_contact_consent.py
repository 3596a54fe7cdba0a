"""The donor's separate consent to be phoned when they may give again (issue 16's recall).

Revision ID: 0004_contact_consent
Revises: 0003_trusted_venues
Created: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_contact_consent"
down_revision = "0003_trusted_venues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (with its default) on SQLite too: a batch copy of `donor` would have to
    # drop a table that visits refer to.
    for table in ("donor", "visit"):
        op.add_column(
            table,
            sa.Column("contact_consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        )


def downgrade() -> None:
    for table in ("visit", "donor"):
        op.drop_column(table, "contact_consent")  # SQLite 3.35 and later drop columns in place
