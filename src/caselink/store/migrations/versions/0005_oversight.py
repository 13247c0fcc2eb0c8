"""Oversight: the secret behind the keyed-hash pseudonyms of research exports.

Revision ID: 0005_oversight
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_oversight"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pseudonym_secrets",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hex", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_pseudonym_secrets"),
    )


def downgrade() -> None:
    op.drop_table("pseudonym_secrets")
