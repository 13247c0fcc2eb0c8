"""Linkage: the shipped model fitted to each store (u from its pairs, prior by an alert budget).

Revision ID: 0007_linkage_store_models
Revises: 0006_linkage_cache
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_linkage_store_models"
down_revision = "0006_linkage_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_store_models",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fitted_at", sa.String(40), nullable=False),
        sa.Column("model_digest", sa.String(64), nullable=False),
        sa.Column("budget", sa.Float(), nullable=False),
        sa.Column("n_cases", sa.Integer(), nullable=False),
        sa.Column("fit", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("linkage_store_models")
