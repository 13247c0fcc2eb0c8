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
snapshot and never waits for a writer.  On PostgreSQL the store's engine already reads without
locks and is returned as it is.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event

from caselink.store.database import READ_ONLY, make_engine

_GUARD = threading.Lock()
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


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


def reader(engine: Engine) -> Engine:
    """An engine for read-only work on the same database as ``engine`` (itself unless a SQLite file)."""
    if _sqlite_file(engine) is None:
        return engine
    with _GUARD:
        if engine not in _READERS:
            _READERS[engine] = _read_engine(engine)
        return _READERS[engine]


def dispose_reader(engine: Engine) -> None:
    """Close the pooled connections of ``engine``'s reader (app shutdown)."""
    with _GUARD:
        read = _READERS.pop(engine, None)
    if read is not None:
        read.dispose()


def _read_engine(engine: Engine) -> Engine:
    """The store's own SQLite engine (same pragmas) on a pool of its own, every transaction deferred
    (the store's READ_ONLY option) and every connection refusing writes."""
    read = make_engine(engine.url.render_as_string(hide_password=False))
    event.listen(read, "connect", _refuse_writes)
    return read.execution_options(**{READ_ONLY: True})


def _refuse_writes(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only=1")  # a write through this engine is a bug: refuse it
