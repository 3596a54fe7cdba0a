"""Names per language, the line's counter, the device and lifting of login failures.

The columns added since release 219c1b2: names per language for the site, the centre and the
desks, the line's counter (issue 14), the login failure's device and lifted lockout, and an audit
event's detail as unbounded text.

Revision ID: 0002_names_line_lockouts
Revises: 0001_release_219c1b2
Created: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_names_line_lockouts"
down_revision = "0001_release_219c1b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_names", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("centre_names", sa.Text(), nullable=True))

    with op.batch_alter_table("desk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("names", sa.Text(), nullable=True))

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column(
            "detail", existing_type=sa.VARCHAR(length=200), type_=sa.Text(), existing_nullable=True
        )

    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cleared_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("line_seq")

    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("cleared_at")
        batch_op.drop_column("device")

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column(
            "detail", existing_type=sa.Text(), type_=sa.VARCHAR(length=200), existing_nullable=True
        )

    with op.batch_alter_table("desk", schema=None) as batch_op:
        batch_op.drop_column("names")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("centre_names")
        batch_op.drop_column("site_names")
