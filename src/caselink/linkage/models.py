"""Linkage tables: runs, series with stable ids, their members and links, and alerts.

``alerts`` is a contract name (issue 3).  Ids of series are strings (``S-0001``) because analysts
quote them; members and links are separate tables so "which series is this case in" is one indexed
lookup on either engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caselink.store.models import Base


class LinkageRunRow(Base):
    """One linkage computation (link, replay, ingest scoring, train): what ran, on what, by whom."""

    __tablename__ = "linkage_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    officer: Mapped[str | None] = mapped_column(String(200))
    model_name: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[str | None] = mapped_column(String(30))
    n_cases: Mapped[int] = mapped_column(Integer, default=0)
    n_pairs: Mapped[int] = mapped_column(Integer, default=0)
    n_series: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, object]] = mapped_column(JSON)


class SeriesRow(Base):
    """A series of cases believed to share an offender; the id is stable for the life of the store."""

    __tablename__ = "series"

    series_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active, merged, dissolved
    merged_into: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    n_cases: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    first_found_at: Mapped[str | None] = mapped_column(String(30))
    last_found_at: Mapped[str | None] = mapped_column(String(30))
    reasons: Mapped[list[str]] = mapped_column(JSON)


class SeriesMemberRow(Base):
    __tablename__ = "series_members"

    series_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_series_members_case_id", "case_id"),)


class SeriesLinkRow(Base):
    """A pair above the threshold: the evidence a series rests on."""

    __tablename__ = "series_links"

    case_a: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_b: Mapped[str] = mapped_column(String(200), primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    run_id: Mapped[int | None] = mapped_column(Integer)


class AlertRow(Base):
    """A case that started, joined or merged a series, raised when it arrived (contract name)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    at: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))
    new_case_id: Mapped[str] = mapped_column(String(200), index=True)
    series_id: Mapped[str] = mapped_column(String(20), index=True)
    case_ids: Mapped[list[str]] = mapped_column(JSON)
    probability: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[str | None] = mapped_column(Text)


class FeatureCacheRow(Base):
    """Each case's engine features as of its date, so live ingest need not rebuild them all.

    Derived data: ``feature_cache.py`` checks it against ``cases`` (record hashes) and rebuilds it
    when it no longer matches.  ``sealed`` cases are counted in ``linkage_token_counts``; the cases of
    the latest day are not yet, because a case arriving later that day must not see them.
    """

    __tablename__ = "linkage_features"

    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    record_hash: Mapped[str] = mapped_column(String(64))
    day: Mapped[int] = mapped_column(Integer, index=True)
    sealed: Mapped[bool] = mapped_column(Boolean)
    features: Mapped[str] = mapped_column(Text)


class TokenCountRow(Base):
    """How many sealed cases carry each token of each field (the as-of counts of later cases)."""

    __tablename__ = "linkage_token_counts"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class BlockKeyRow(Base):
    """Every blocking key of every cached case, so a new case's candidates are indexed lookups."""

    __tablename__ = "linkage_block_keys"
    __table_args__ = (Index("ix_linkage_block_keys_lookup", "rule", "key", "found_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(Text)
    found_day: Mapped[float] = mapped_column(Float)
    case_id: Mapped[str] = mapped_column(String(200), index=True)


class FeatureCacheStateRow(Base):
    """What the cache was built with: the feature code's hash, the blocking rules, the sealed day."""

    __tablename__ = "linkage_cache_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StoreModelRow(Base):
    """The shipped model fitted to this store (``store_prior.py``): one row a fit, the latest in use.

    Kept apart from the feature cache, which is wiped whenever it is rebuilt: a fit takes a replay
    of up to 10,000 cases, and every fit stays on record so a run's model name can be traced to it.
    """

    __tablename__ = "linkage_store_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fitted_at: Mapped[str] = mapped_column(String(40))
    model_digest: Mapped[str] = mapped_column(String(64))
    budget: Mapped[float] = mapped_column(Float)
    n_cases: Mapped[int] = mapped_column(Integer)
    fit: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
