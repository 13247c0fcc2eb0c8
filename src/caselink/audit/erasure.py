"""Erasure under retention rules: remove a case's personal data, keep the log verifiable.

The case row keeps its non-personal facts (time, place, cause: what linkage and oversight need);
its personal fields are blanked in the current record and every superseded version, and its
entity index rows are deleted.  Audit entries naming the case have their free text (justification,
details) blanked while the hashes they were chained with stay, and each blanked entry points at the
erasure entry that did it, so ``verify`` can tell an erasure from an attacker's deletion.  An entry
that also names other cases (an import, a list read, an export, an alert) is their history too: it
is blanked only when it holds this case's personal data (one of its erased values, or an entity's
hash); otherwise it is kept whole and listed as kept.  The hash covers an entry's text as a whole,
so a shared entry is blanked whole or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, MetaData, Table, inspect, select

from caselink.audit.chain import LOG, AuditError, canonical, read_entries, record_event, sha256_text
from caselink.schema import PERSONAL_FIELDS, record_hash
from caselink.store.ingest import CASE_COLUMNS
from caselink.store.models import CaseEntityRow, CaseRow, CaseVersionRow

#: Derived data that may hold a case's personal fields (linkage's feature cache: narrative words,
#: entities, tags): emptied on erasure; the next import rebuilds it from the blanked store.
DERIVED_TABLES = ("linkage_block_keys", "linkage_features", "linkage_token_counts", "linkage_cache_state")
#: Tables whose ``reasons`` sentences can quote a case's entities ("the same finder in 2 (person:...)").
REASON_TABLES = ("alerts", "series")
ERASED = "[erased]"

CASES: Table = CaseRow.__table__  # type: ignore[assignment]
VERSIONS: Table = CaseVersionRow.__table__  # type: ignore[assignment]
ENTITIES: Table = CaseEntityRow.__table__  # type: ignore[assignment]


class ErasureError(AuditError):
    """An erasure refused before anything was written (unknown case, missing officer or rationale)."""


@dataclass(frozen=True)
class ErasureResult:
    case_id: str
    audit_seq: int
    erased_fields: list[str]
    n_versions: int
    n_entities: int
    n_redacted_entries: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def erase_case(connection: Connection, case_id: str, officer: str, rationale: str) -> ErasureResult:
    """Blank ``case_id``'s personal data inside the caller's transaction and log it as an erasure."""
    if not officer or not officer.strip():
        raise ErasureError("erasure needs the accountable officer: pass --officer NAME")
    if not rationale or not rationale.strip():
        raise ErasureError("erasure needs a rationale (the retention rule that applies): pass --rationale TEXT")
    current = connection.execute(select(CASES).where(CASES.c.case_id == case_id)).mappings().first()
    if current is None:
        raise ErasureError(f"no case '{case_id}' in the store; `caselink cases list` shows the ids")
    # Field names only: a SHA-256 of an erased ethnicity, tag or phone number is the value itself to
    # anyone who hashes the few candidates (an erasure that leaves the value recoverable is none).
    erased = sorted(name for name in PERSONAL_FIELDS if current[name] not in (None, [], ""))
    stored = {name: current[name] for name in CASE_COLUMNS if name != "record_hash"}
    stored.update(PERSONAL_FIELDS)
    now = datetime.now(UTC).replace(tzinfo=None)
    connection.execute(CASES.update().where(CASES.c.case_id == case_id).values(
        **PERSONAL_FIELDS, record_hash=record_hash(stored), updated_at=now))
    versions = connection.execute(select(VERSIONS.c.id, VERSIONS.c.record)
                                  .where(VERSIONS.c.case_id == case_id)).all()
    for version_id, record in versions:
        connection.execute(VERSIONS.update().where(VERSIONS.c.id == version_id).values(
            record={**dict(record), **PERSONAL_FIELDS}))
    n_entities = connection.execute(ENTITIES.delete().where(ENTITIES.c.case_id == case_id)).rowcount
    _purge_derived(connection, case_id, [str(e) for e in current["entities"] or []])
    markers = _personal_markers(current)
    for _, record in versions:  # a value since corrected may be what an older entry quotes
        markers |= _personal_markers(dict(record))
    to_redact: list[int] = []
    kept_shared: list[int] = []
    for entry in read_entries(connection, case_id=case_id):
        if entry.action == "erasure" or entry.redacted_by is not None \
                or (entry.justification is None and entry.details is None):
            continue
        if len(entry.case_ids) > 1 and not _mentions(entry, markers):
            kept_shared.append(entry.seq)  # the other cases' history, holding nothing of this case's
        else:
            to_redact.append(entry.seq)
    seq = record_event(connection, action="erasure", officer=officer, case_ids=[case_id],
                       justification=rationale,
                       details={"erased_fields": erased,
                                "n_versions": len(versions), "redacted_seqs": to_redact,
                                "kept_shared_seqs": kept_shared})
    for start in range(0, len(to_redact), 500):
        connection.execute(LOG.update().where(LOG.c.seq.in_(to_redact[start:start + 500]))
                           .values(justification=None, details=None, redacted_by=seq))
    return ErasureResult(case_id, seq, sorted(erased), len(versions), int(n_entities or 0), len(to_redact))


def _personal_markers(current: Any) -> set[str]:
    """Lower-cased texts whose presence in an entry means it holds the case's personal data.

    Each personal value as stored, a tag also with spaces for underscores (as reasons print it), an
    entity also without its kind, and an entity's SHA-256 (what escalations log instead of the entity).
    """
    markers: set[str] = set()
    for name in PERSONAL_FIELDS:
        value = current.get(name)
        for item in value if isinstance(value, list) else [value]:
            text = str(item).strip().lower() if item is not None else ""
            if not text:
                continue
            markers.update({text, text.replace("_", " ")})
            if name == "entities":
                markers.add(sha256_text(str(item)))
                bare = text.partition(":")[2].strip()
                if bare:
                    markers.add(bare)
    return markers


def _mentions(entry: Any, markers: set[str]) -> bool:
    """Whether the entry's free text or details contain any of ``markers`` (case-insensitively)."""
    texts = [entry.justification or "", canonical(entry.details) if entry.details is not None else ""]
    haystack = "\n".join(texts).lower()
    # canonical() keeps non-ASCII as is but escapes quotes and backslashes; match the escaped form too.
    return any(marker in haystack or canonical(marker)[1:-1] in haystack for marker in markers)


def _purge_derived(connection: Connection, case_id: str, entities: list[str]) -> None:
    """Remove the case's personal data from what was derived from it, in the same transaction.

    Why here: the erasure must not leave a finder's name in a cached feature row, a token count or a
    series reason after the case itself was blanked.  Tables are found by name so that the audit
    area does not depend on the linkage area; a store without them has nothing to purge.
    """
    present = set(inspect(connection).get_table_names())
    for name in DERIVED_TABLES:
        if name in present:
            connection.execute(Table(name, MetaData(), autoload_with=connection).delete())
    members = Table("series_members", MetaData(), autoload_with=connection) if "series_members" in present else None
    for name in REASON_TABLES:
        if name not in present:
            continue
        table = Table(name, MetaData(), autoload_with=connection)
        key = table.c.id if name == "alerts" else table.c.series_id
        if name == "alerts":
            rows = [(k, r) for k, ids, r in connection.execute(select(key, table.c.case_ids, table.c.reasons))
                    if case_id in _as_list(ids)]
        elif members is not None:
            rows = list(connection.execute(select(key, table.c.reasons).where(key.in_(
                select(members.c.series_id).where(members.c.case_id == case_id)))))
        else:
            continue
        for row_key, reasons in rows:
            old = _as_list(reasons)
            new = [_redact(str(reason), entities) for reason in old]
            if new != old:
                connection.execute(table.update().where(key == row_key).values(reasons=new))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return list(value or [])


def _redact(reason: str, entities: list[str]) -> str:
    if reason.startswith("victims all "):  # from the victims' tags, a personal field
        return f"victims all {ERASED}"
    for entity in sorted(entities, key=len, reverse=True):
        reason = reason.replace(entity, ERASED)
    return reason
