"""SQLAlchemy models of the case store.

Table names are a contract (DESIGN, issues): users query them directly.  Lists are JSON columns so
the same models serve SQLite and PostgreSQL; ``case_entities`` indexes entities separately so that
"the same finder in two deaths" is an indexed lookup rather than a scan of every record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CaseRow(Base):
    """The current version of each case.  Times are naive UTC plus the offset the agency used."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency: Mapped[str | None] = mapped_column(String(200))
    incident_type: Mapped[str] = mapped_column(String(50), default="death")
    found_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    found_at_offset_min: Mapped[int] = mapped_column(Integer)
    found_at_precision: Mapped[str] = mapped_column(String(10))
    died_from: Mapped[datetime | None] = mapped_column(DateTime)
    died_from_offset_min: Mapped[int | None] = mapped_column(Integer)
    died_from_precision: Mapped[str | None] = mapped_column(String(10))
    died_to: Mapped[datetime | None] = mapped_column(DateTime)
    died_to_offset_min: Mapped[int | None] = mapped_column(Integer)
    died_to_precision: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    location_precision_m: Mapped[int | None] = mapped_column(Integer)
    place_type: Mapped[str | None] = mapped_column(String(100))
    area: Mapped[str | None] = mapped_column(Text)
    victim_age: Mapped[int | None] = mapped_column(Integer)
    victim_sex: Mapped[str | None] = mapped_column(String(1))
    victim_ethnicity: Mapped[str | None] = mapped_column(Text)
    victim_tags: Mapped[list[str]] = mapped_column(JSON)
    cause: Mapped[str | None] = mapped_column(String(100), index=True)
    substances: Mapped[list[str]] = mapped_column(JSON)
    mo: Mapped[list[str]] = mapped_column(JSON)
    entities: Mapped[list[str]] = mapped_column(JSON)
    narrative: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(100))
    series_id: Mapped[str | None] = mapped_column(String(200))
    record_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    import_id: Mapped[int | None] = mapped_column(Integer, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class CaseVersionRow(Base):
    """Every superseded version of a case, whole, so an update never loses what was there."""

    __tablename__ = "case_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, object]] = mapped_column(JSON)
    record_hash: Mapped[str] = mapped_column(String(64))
    superseded_at: Mapped[datetime] = mapped_column(DateTime)
    superseded_by_import: Mapped[int | None] = mapped_column(Integer)


class CaseEntityRow(Base):
    """One row per (case, entity): the index behind shared-entity blocking and escalation."""

    __tablename__ = "case_entities"

    case_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("cases.case_id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(500), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))

    __table_args__ = (Index("ix_case_entities_entity", "entity"),)


class ImportRow(Base):
    """One row per ingest call: what came in, from where, and what it changed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    sources: Mapped[list[str]] = mapped_column(JSON)
    officer: Mapped[str | None] = mapped_column(String(200))
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    n_new: Mapped[int] = mapped_column(Integer, default=0)
    n_updated: Mapped[int] = mapped_column(Integer, default=0)
    n_unchanged: Mapped[int] = mapped_column(Integer, default=0)
