"""One writer per database inside this process (as datasette does); reads use the pool freely.

SQLite allows one writer at a time and makes the others sleep in its busy handler, which under
fifty concurrent clients turns into seconds of waiting.  Queueing writers on a lock in the process
keeps SQLite from ever seeing the contention; PostgreSQL loses little, since every audit append
locks the one chain-head row anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

_LOCKS: dict[int, threading.RLock] = {}
_GUARD = threading.Lock()


def _lock_for(engine: Engine) -> threading.RLock:
    with _GUARD:
        return _LOCKS.setdefault(id(engine), threading.RLock())


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()`` behind this process's writer lock for ``engine``."""
    with _lock_for(engine), engine.begin() as connection:
        yield connection
