"""Linkage feature cache: each case's features, sealed token counts, blocking keys, cache state.

Revision ID: 0006_linkage_cache
Revises: 0002_linkage
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_linkage_cache"
down_revision = "0002_linkage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_features",
        sa.Column("case_id", sa.String(200), primary_key=True),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
    )
    op.create_index("ix_linkage_features_day", "linkage_features", ["day"])
    op.create_table(
        "linkage_token_counts",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("token", sa.Text(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "linkage_block_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rule", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("found_day", sa.Float(), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
    )
    op.create_index("ix_linkage_block_keys_lookup", "linkage_block_keys", ["rule", "key", "found_day"])
    op.create_index("ix_linkage_block_keys_case_id", "linkage_block_keys", ["case_id"])
    op.create_table(
        "linkage_cache_state",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("linkage_cache_state")
    op.drop_table("linkage_block_keys")
    op.drop_table("linkage_token_counts")
    op.drop_table("linkage_features")
