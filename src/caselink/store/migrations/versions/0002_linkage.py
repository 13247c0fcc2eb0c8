"""Linkage: runs, series with stable ids, members, links and alerts.

Revision ID: 0002_linkage
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_linkage"
down_revision = "0001"
branch_labels = ("linkage",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("officer", sa.String(200)),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("as_of", sa.String(30)),
        sa.Column("n_cases", sa.Integer(), nullable=False),
        sa.Column("n_pairs", sa.Integer(), nullable=False),
        sa.Column("n_series", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_table(
        "series",
        sa.Column("series_id", sa.String(20), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("merged_into", sa.String(20)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("n_cases", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("first_found_at", sa.String(30)),
        sa.Column("last_found_at", sa.String(30)),
        sa.Column("reasons", sa.JSON(), nullable=False),
    )
    op.create_table(
        "series_members",
        sa.Column("series_id", sa.String(20), primary_key=True),
        sa.Column("case_id", sa.String(200), primary_key=True),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_series_members_case_id", "series_members", ["case_id"])
    op.create_table(
        "series_links",
        sa.Column("case_a", sa.String(200), primary_key=True),
        sa.Column("case_b", sa.String(200), primary_key=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("run_id", sa.Integer()),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("at", sa.String(30), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("new_case_id", sa.String(200), nullable=False),
        sa.Column("series_id", sa.String(20), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_id", sa.Integer()),
        sa.Column("details", sa.Text()),
    )
    op.create_index("ix_alerts_new_case_id", "alerts", ["new_case_id"])
    op.create_index("ix_alerts_series_id", "alerts", ["series_id"])
    op.create_index("ix_alerts_status", "alerts", ["status"])


def downgrade() -> None:
    for index, table in (("ix_alerts_status", "alerts"), ("ix_alerts_series_id", "alerts"),
                         ("ix_alerts_new_case_id", "alerts"), ("ix_series_members_case_id", "series_members")):
        op.drop_index(index, table_name=table)
    for table in ("alerts", "series_links", "series_members", "series", "linkage_runs"):
        op.drop_table(table)
