"""Indexes for what the polled queue pages ask, so that they answer in the same time whatever
the length of the queue (issue 18): a stage's line in its order and its counts, the next place
in a line, and a campaign's latest event (the version behind the pages' 304s).

Revision ID: 0005_queue_indexes
Revises: 0004_contact_consent
Created: 2026-12-03
"""

from alembic import op

revision = "0005_queue_indexes"
down_revision = "0004_contact_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_visit_line", "visit", ["campaign_id", "stage", "line_seq"])
    op.create_index("ix_visit_line_seq", "visit", ["line_seq"])
    op.create_index("ix_event_campaign", "event", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_event_campaign", table_name="event")
    op.drop_index("ix_visit_line_seq", table_name="visit")
    op.drop_index("ix_visit_line", table_name="visit")
