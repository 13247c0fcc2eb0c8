"""The case store: cases, their superseded versions, the entity index and the import log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(200)),
        sa.Column("incident_type", sa.String(50), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("found_at_offset_min", sa.Integer(), nullable=False),
        sa.Column("found_at_precision", sa.String(10), nullable=False),
        sa.Column("died_from", sa.DateTime()),
        sa.Column("died_from_offset_min", sa.Integer()),
        sa.Column("died_from_precision", sa.String(10)),
        sa.Column("died_to", sa.DateTime()),
        sa.Column("died_to_offset_min", sa.Integer()),
        sa.Column("died_to_precision", sa.String(10)),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("location_precision_m", sa.Integer()),
        sa.Column("place_type", sa.String(100)),
        sa.Column("area", sa.Text()),
        sa.Column("victim_age", sa.Integer()),
        sa.Column("victim_sex", sa.String(1)),
        sa.Column("victim_ethnicity", sa.Text()),
        sa.Column("victim_tags", sa.JSON(), nullable=False),
        sa.Column("cause", sa.String(100)),
        sa.Column("substances", sa.JSON(), nullable=False),
        sa.Column("mo", sa.JSON(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("narrative", sa.Text()),
        sa.Column("classification", sa.String(100)),
        sa.Column("outcome", sa.String(100)),
        sa.Column("series_id", sa.String(200)),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
    )
    op.create_index("ix_cases_found_at", "cases", ["found_at"])
    op.create_index("ix_cases_cause", "cases", ["cause"])
    op.create_index("ix_cases_import_id", "cases", ["import_id"])
    op.create_table(
        "case_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_by_import", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_case_versions"),
    )
    op.create_index("ix_case_versions_case_id", "case_versions", ["case_id"])
    op.create_table(
        "case_entities",
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], ondelete="CASCADE",
                                name="fk_case_entities_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", "entity", name="pk_case_entities"),
    )
    op.create_index("ix_case_entities_entity", "case_entities", ["entity"])
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("officer", sa.String(200)),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("n_new", sa.Integer(), nullable=False),
        sa.Column("n_updated", sa.Integer(), nullable=False),
        sa.Column("n_unchanged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
    )


def downgrade() -> None:
    op.drop_table("imports")
    op.drop_table("case_entities")
    op.drop_table("case_versions")
    op.drop_table("cases")
