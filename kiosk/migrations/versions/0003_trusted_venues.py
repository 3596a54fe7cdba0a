"""The regional centre's list of trusted venue keys.

Only bundles signed by a key listed here and not revoked are imported (`kiosk central trust`).

Revision ID: 0003_trusted_venues
Revises: 0002_names_line_lockouts
Created: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_trusted_venues"
down_revision = "0002_names_line_lockouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=24), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("public_key"),
    )


def downgrade() -> None:
    op.drop_table("trusted_venue")
