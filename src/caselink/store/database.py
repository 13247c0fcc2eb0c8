"""Where the store lives and how it is opened.

``--db URL`` beats ``CASELINK_DB`` beats ``caselink.db`` in the current folder; a bare path means a
SQLite file, so an analyst never has to learn URL syntax for the embedded default.  Opening a store
brings its schema up to date (Alembic ``upgrade heads``): each area of caselink adds its tables as
its own migration branch off the foundation, so they can evolve independently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

DEFAULT_DB = "sqlite:///caselink.db"
MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(Exception):
    """A store that cannot be opened or used; the message says what to do."""


def resolve_db_url(db: str | None = None) -> str:
    """The database URL to use, from the option, the environment, or the default."""
    value = db or os.environ.get("CASELINK_DB") or DEFAULT_DB
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().resolve())
    if value.startswith("postgresql://"):
        # psycopg 3 is the driver we ship in the [postgres] extra.
        value = "postgresql+psycopg://" + value[len("postgresql://"):]
    return value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL keeps readers (the web app) unblocked during an import; NORMAL is durable against a
    # killed process, which is the failure the all-or-nothing rule is about.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A 64 MB page cache (the default is 2 MB): index pages of a large import stay in memory instead
    # of being re-read for every row.  A fixed ceiling, so memory stays flat as files grow.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


READ_ONLY = "caselink_read_only"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings caselink relies on.

    ``hide_parameters``: a failed statement's error (and any SQL log) would otherwise carry its
    bound values, a narrative or a name, into server logs and tracebacks.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).parent.exists():
            raise StoreError(f"{path}: folder does not exist; create it or pass --db with another path")
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy own BEGIN so one `with engine.begin()` is one SQLite transaction.  IMMEDIATE
        # takes the write lock up front: nearly every transaction writes (even a read appends to the
        # audit log), and a deferred one that reads, then writes after another writer committed,
        # fails at once with "database is locked" instead of waiting its turn (busy_timeout).
        event.listen(engine, "connect", lambda conn, _rec: setattr(conn, "isolation_level", None))
        # A connection marked READ_ONLY (the store's pure reads) begins deferred instead: it never
        # writes, so it need not queue behind a long import or an audit append (WAL gives it a snapshot).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"))
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except Exception as exc:  # noqa: BLE001 - bad URLs raise many kinds
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision of every branch."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
