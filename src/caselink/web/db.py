"""Database access for the web app: one writer at a time per database, reads that take no lock.

Writers: SQLite allows one writer at a time and makes the others sleep in its busy handler, which
under fifty concurrent clients turns into seconds of waiting.  Queueing writers on a lock in the
process (as datasette does) keeps SQLite from seeing the contention; PostgreSQL loses little,
since every audit append locks the one chain-head row anyway.

Readers: the store's SQLite engine begins every transaction with ``BEGIN IMMEDIATE`` (right for
writes: nearly every CLI transaction writes), so a plain ``engine.connect()`` that only reads still
takes SQLite's one write lock and queues behind every writer, in this process and in every other
uvicorn worker.  :func:`reader` gives a second engine over the same file whose transactions are
deferred (the store's ``READ_ONLY`` option, as its own pure reads use) and read-only
(``PRAGMA query_only``), with a connection pool of its own: under WAL a reader sees one consistent
snapshot and never waits for a writer.

PostgreSQL: the hot pages wait for every round trip to the server on the event loop, so round
trips are what a request costs there.  The store's engine pings each connection it lends
(``pool_pre_ping``: an empty query) and psycopg opens every transaction with a ``BEGIN`` of its
own and the pool ends it with a ``ROLLBACK``: a token lookup was 4 round trips, a whole page 14.
:func:`writer` is an engine of the web app's own on the same database, without the ping, and
:func:`reader` is that engine in autocommit mode: a read is its one statement (on PostgreSQL's
default READ COMMITTED each statement takes its own snapshot anyway, so nothing is lost; a
streamed read, ``yield_per``, needs a transaction for its server-side cursor: use ``writer``).  A
page is then 7 round trips (token, page, and the audit append's ``BEGIN``, two statements,
``COMMIT``).  Without the ping, the first request on each pooled connection after a database
restart fails (500), and SQLAlchemy then replaces every pooled connection.  The pool is sized so
that the forty worker threads and the event loop cannot run it dry: a checkout that waited for a
free connection would stall the event loop and with it every request of the process.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from caselink.store.database import READ_ONLY, make_engine

_GUARD = threading.Lock()
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_PG_WRITERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
# Worker threads (Starlette's default limit) + the event loop, each holding at most one connection.
WORKER_THREADS = 40
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = WORKER_THREADS + 1 - PG_POOL_SIZE


def _writer_lock(engine: Engine) -> threading.RLock:
    with _GUARD:
        if engine not in _WRITERS:
            _WRITERS[engine] = threading.RLock()
        return _WRITERS[engine]


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()`` behind this process's writer lock for ``engine``."""
    with _writer_lock(engine), engine.begin() as connection:
        yield connection


def _sqlite_file(engine: Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def writer(engine: Engine) -> Engine:
    """The engine the web app writes through on the database of the store's ``engine``.

    ``engine`` itself, except on PostgreSQL: an engine of the web app's own, without the ping.
    """
    if engine.dialect.name != "postgresql":
        return engine
    with _GUARD:
        if engine not in _PG_WRITERS:
            _PG_WRITERS[engine] = create_engine(engine.url, pool_pre_ping=False, pool_size=PG_POOL_SIZE,
                                                max_overflow=PG_MAX_OVERFLOW)
        return _PG_WRITERS[engine]


def reader(engine: Engine) -> Engine:
    """An engine for read-only work on the same database as ``engine``.

    A SQLite file: a second engine with deferred, read-only transactions.  PostgreSQL:
    :func:`writer` in autocommit mode (same pool).  Anything else (SQLite in memory): ``engine``.
    """
    if engine.dialect.name == "postgresql":
        return writer(engine).execution_options(isolation_level="AUTOCOMMIT")
    if _sqlite_file(engine) is None:
        return engine
    with _GUARD:
        if engine not in _READERS:
            _READERS[engine] = _read_engine(engine)
        return _READERS[engine]


def dispose(engine: Engine) -> None:
    """Close the pooled connections of the web app's own engines for ``engine`` (app shutdown)."""
    with _GUARD:
        own = [e for e in (_READERS.pop(engine, None), _PG_WRITERS.pop(engine, None)) if e is not None]
    for one in own:
        one.dispose()


def _read_engine(engine: Engine) -> Engine:
    """The store's own SQLite engine (same pragmas) on a pool of its own, every transaction deferred
    (the store's READ_ONLY option) and every connection refusing writes."""
    read = make_engine(engine.url.render_as_string(hide_password=False))
    event.listen(read, "connect", _refuse_writes)
    return read.execution_options(**{READ_ONLY: True})


def _refuse_writes(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only=1")  # a write through this engine is a bug: refuse it
