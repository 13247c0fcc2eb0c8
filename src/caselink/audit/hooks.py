"""The audit record of an import: collection (new cases) and alteration (changed cases).

Called by :meth:`caselink.store.CaseStore.ingest` inside the import's own transaction, so the data
and its log entry commit together or not at all.  Entries carry case ids, field names and record
hashes, never the values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from caselink.audit.chain import record_event
from caselink.store.ingest import CASE_COLUMNS, IngestResult
from caselink.store.models import CaseRow, CaseVersionRow

CASES: Table = CaseRow.__table__  # type: ignore[assignment]
VERSIONS: Table = CaseVersionRow.__table__  # type: ignore[assignment]
IDS_PER_ENTRY = 10_000
NOT_COMPARED = ("record_hash",)


def erased_case_ids(connection: Connection) -> frozenset[str]:
    """Cases erased under retention (``caselink erase``): an import must not put their personal data back."""
    from caselink.audit.chain import read_entries

    return frozenset(c for entry in read_entries(connection, action="erasure") for c in entry.case_ids)


def record_ingest(connection: Connection, result: IngestResult, officer: str | None) -> list[int]:
    """Log what ``result``'s import collected and altered; return the entries' sequence numbers."""
    who = officer or "unknown"
    summary = {"import_id": result.import_id, "n_rows": result.n_rows, "n_new": result.n_new,
               "n_updated": result.n_updated, "n_unchanged": result.n_unchanged}
    new_ids = list(connection.execute(
        select(CASES.c.case_id).where(CASES.c.import_id == result.import_id, CASES.c.version == 1)
        .order_by(CASES.c.case_id)).scalars())
    seqs: list[int] = []
    for start in range(0, max(len(new_ids), 1), IDS_PER_ENTRY):
        chunk = new_ids[start:start + IDS_PER_ENTRY]
        if chunk or not result.n_updated:
            seqs.append(record_event(connection, action="collection", officer=who, case_ids=chunk,
                                     details={**summary, "part": start // IDS_PER_ENTRY + 1}))
    previous = connection.execute(
        select(VERSIONS.c.case_id, VERSIONS.c.record).where(VERSIONS.c.superseded_by_import == result.import_id)
        .order_by(VERSIONS.c.case_id)).all()
    changes: dict[str, dict[str, Any]] = {}
    for start in range(0, len(previous), 500):
        versions = previous[start:start + 500]
        current = {row["case_id"]: row for row in connection.execute(
            select(CASES).where(CASES.c.case_id.in_([c for c, _ in versions]))).mappings()}
        for case_id, record in versions:
            now = current[case_id]
            before = dict(record)
            fields = [name for name in CASE_COLUMNS if name not in NOT_COMPARED
                      and _comparable(before.get(name)) != _comparable(now[name])]
            changes[case_id] = {"fields": fields, "old_record_hash": before.get("record_hash"),
                                "new_record_hash": now["record_hash"]}
    ids = list(changes)
    for start in range(0, len(ids), IDS_PER_ENTRY):
        chunk = ids[start:start + IDS_PER_ENTRY]
        seqs.append(record_event(connection, action="alteration", officer=who, case_ids=chunk,
                                 details={**summary, "changes": {c: changes[c] for c in chunk}}))
    return seqs


def _comparable(value: Any) -> Any:
    # Superseded versions are stored as JSON (times as ISO text); compare on that footing.
    return value.isoformat() if hasattr(value, "isoformat") else value
