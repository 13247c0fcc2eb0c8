"""Appending to the hash chain and reading it back.

Each entry's hash is SHA-256 over the canonical JSON of its fields plus the previous entry's hash,
so changing, deleting or reordering any entry breaks every later link.  Appends run inside the
caller's transaction: an event is logged exactly when the change it describes commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import Connection, Table, func, select

from caselink.audit.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow

LOG: Table = AuditEntryRow.__table__  # type: ignore[assignment]
HEAD: Table = AuditHeadRow.__table__  # type: ignore[assignment]
HEAD_ID = 1

#: DPA 2018 s.62 operations plus caselink's own accountable events.
ACTIONS = (
    "collection", "alteration", "consultation", "disclosure", "combination", "erasure",
    "decision", "signoff", "action_transition", "escalation", "checkpoint",
)
#: s.62(2): consultation and disclosure must carry a justification.
NEEDS_JUSTIFICATION = ("consultation", "disclosure")

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
#: The (C-accelerated) string encoder _CANONICAL itself uses for str values with ensure_ascii=False.
_quote = encode_basestring


class AuditError(Exception):
    """An event that cannot be logged (unknown action, missing officer or justification)."""


def canonical(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8): the exact text that is hashed."""
    try:
        return _CANONICAL.encode(value)
    except TypeError as exc:
        raise AuditError(f"audit details must be plain JSON values: {exc}") from exc


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(seq: int, at: str, action: str, officer: str, case_ids_json: str,
               justification_sha256: str | None, details_sha256: str, prev_hash: str) -> str:
    """The hash of one entry.  ``case_ids_json`` is the stored canonical array text, used verbatim.

    Written out by hand (keys in sorted order) rather than through ``json.dumps`` of a dict because
    verification calls this a million times; ``tests/audit`` pins it equal to the canonical form.
    """
    body = (
        '{"action":' + _quote(action) + ',"at":' + _quote(at) + ',"case_ids":' + case_ids_json
        + ',"details_sha256":' + _quote(details_sha256)
        + ',"justification_sha256":' + ("null" if justification_sha256 is None else _quote(justification_sha256))
        + ',"officer":' + _quote(officer) + ',"prev_hash":' + _quote(prev_hash) + ',"seq":' + str(seq) + "}"
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _driver_sql(connection: Connection, sql: str) -> str:
    """``sql`` with ``?`` placeholders rewritten to the driver's own (psycopg uses ``%s``)."""
    return sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


# Fixed SQL for the append path, run on the driver's cursor.
_LOCK_SQL = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, entry_hash"  # id 1 is HEAD_ID
_INSERT_SQL = (
    "INSERT INTO audit_log (seq, at, action, officer, case_ids, justification, justification_sha256, details, "
    "details_sha256, prev_hash, entry_hash, redacted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
)
_SET_HEAD_SQL = "UPDATE audit_head SET entry_hash = ? WHERE id = 1"  # id 1 is HEAD_ID
# PostgreSQL does both writes in one round trip (a data-modifying CTE); SQLite has no such CTEs.
_INSERT_AND_SET_HEAD_PG = (
    "WITH appended AS (INSERT INTO audit_log (seq, at, action, officer, case_ids, justification, "
    "justification_sha256, details, details_sha256, prev_hash, entry_hash, redacted_by) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL) RETURNING entry_hash) "
    "UPDATE audit_head SET entry_hash = (SELECT entry_hash FROM appended) WHERE id = 1"
)


def _lock_head(connection: Connection, cursor: Any) -> tuple[int, str]:
    """Take the append lock and reserve the next sequence number.

    The first statement is a write to the single head row: PostgreSQL row-locks it until commit
    and SQLite takes its one writer lock, so two writers can never read the same head and fork
    the chain.  The primary key on ``seq`` is the backstop.
    """
    cursor.execute(_LOCK_SQL)
    row = cursor.fetchone()
    if row is not None:
        return int(row[0]), str(row[1])
    # No head row (a table created outside the migration): rebuild it from the log itself.
    last = connection.execute(select(LOG.c.seq, LOG.c.entry_hash).order_by(LOG.c.seq.desc()).limit(1)).first()
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS_HASH)
    connection.execute(HEAD.insert().values(id=HEAD_ID, seq=seq, entry_hash=prev))
    return seq, prev


def record_event(
    connection: Connection,
    *,
    action: str,
    officer: str,
    case_ids: Iterable[str] | None = None,
    justification: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry inside the caller's transaction and return its sequence number.

    Entries are kept for ever.  ``justification`` and ``details`` are the only fields erasure can
    blank, and only for entries naming the erased case: personal data about that case's subject may
    go there, personal data about anyone else never (log :func:`sha256_text` of it instead).
    """
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action '{action}'; use one of {', '.join(ACTIONS)}")
    if not officer or not str(officer).strip():
        raise AuditError(f"an officer is required for every '{action}' entry (--officer or CASELINK_USER)")
    if action in NEEDS_JUSTIFICATION and not (justification and justification.strip()):
        raise AuditError(f"{action} requires a justification (DPA 2018 s.62): pass --justification TEXT")
    ids_json = canonical(list(dict.fromkeys(str(c) for c in (case_ids or ()))))
    details_json = canonical(dict(details or {}))
    details_sha = sha256_text(details_json)
    justification_sha = sha256_text(justification) if justification is not None else None
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    officer = str(officer).strip()
    if not connection.in_transaction():
        connection.begin()  # what SQLAlchemy's autobegin would do; the caller commits
    # The DB-API cursor of the caller's own connection: same transaction, none of the statement
    # machinery (appends are the hot path: every read of a case is logged).
    cursor = connection.connection.cursor()
    try:
        seq, prev = _lock_head(connection, cursor)
        digest = entry_hash(seq, at, action, officer, ids_json, justification_sha, details_sha, prev)
        values = (seq, at, action, officer, ids_json, justification, justification_sha, details_json, details_sha,
                  prev, digest)
        if connection.dialect.name == "postgresql":
            cursor.execute(_INSERT_AND_SET_HEAD_PG, values)
        else:
            cursor.execute(_driver_sql(connection, _INSERT_SQL), values)
            cursor.execute(_driver_sql(connection, _SET_HEAD_SQL), (digest,))
    finally:
        cursor.close()
    return seq


@dataclass(frozen=True)
class AuditEntry:
    """One entry as read back; ``details`` is None when erasure blanked it."""

    seq: int
    at: str
    action: str
    officer: str
    case_ids: list[str]
    justification: str | None
    details: dict[str, Any] | None
    entry_hash: str
    redacted_by: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_entries(connection: Connection, *, case_id: str | None = None, action: str | None = None,
                 since_seq: int = 0, limit: int | None = None) -> Iterator[AuditEntry]:
    """Entries in order, optionally only those naming ``case_id`` or of one ``action``."""
    query = select(LOG).where(LOG.c.seq > since_seq).order_by(LOG.c.seq)
    if case_id is not None:
        # A pre-filter on the JSON text (exact membership is checked below); LIKE's wildcards in the
        # id are escaped, since '%' and '_' are ordinary characters of a case id.
        pattern = canonical(case_id).replace("/", "//").replace("%", "/%").replace("_", "/_")
        query = query.where(LOG.c.case_ids.like("%" + pattern + "%", escape="/"))
    if action is not None:
        query = query.where(LOG.c.action == action)
    if limit is not None:
        query = query.limit(limit)
    for row in connection.execute(query).mappings():
        ids = json.loads(row["case_ids"])
        if case_id is not None and case_id not in ids:
            continue
        yield AuditEntry(
            seq=int(row["seq"]), at=row["at"], action=row["action"], officer=row["officer"], case_ids=ids,
            justification=row["justification"],
            details=json.loads(row["details"]) if row["details"] is not None else None,
            entry_hash=row["entry_hash"], redacted_by=row["redacted_by"],
        )


def head(connection: Connection) -> tuple[int, str]:
    """The newest entry's (seq, hash) read from the log itself; (0, genesis) when empty."""
    last = connection.execute(select(LOG.c.seq, LOG.c.entry_hash).order_by(LOG.c.seq.desc()).limit(1)).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)


def count_entries(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(LOG)).scalar_one())
