"""Verifying the chain: recompute every link, then compare the head with a signed checkpoint.

Verification trusts nothing stored: not the head row, not the stored hashes.  It streams the log
once (constant memory apart from the few redacted entries) and stops at the first broken link,
which it names.  A checkpoint (signed by a key the attacker does not hold) is what catches the two
changes a chain alone cannot: a truncated tail and a chain recomputed from scratch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from caselink.audit.chain import HEAD, HEAD_ID, LOG, entry_hash, sha256_text
from caselink.audit.models import GENESIS_HASH

STREAM_ROWS = 20_000


@dataclass(frozen=True)
class VerifyResult:
    """``ok`` is True only when every check passed; ``first_bad_seq`` names the earliest bad entry.

    ``n_entries`` is how many entries the log holds and ``head_seq``/``head_hash`` its last one as stored;
    ``n_verified`` is how many entries, from entry 1, were verified before the first break (all of them
    when ``ok``).  On a broken chain the head is reported as found, not vouched for.
    """

    ok: bool
    first_bad_seq: int | None
    message: str
    n_entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    n_redacted: int = 0
    checkpoint_seq: int | None = None
    n_verified: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _bad(seq: int | None, message: str, **counts: Any) -> VerifyResult:
    n_verified = counts.get("n_verified", 0)
    where = f"entries 1..{n_verified} verified" if n_verified else "no entry verified"
    return VerifyResult(False, seq, f"{message} ({where}; the log holds {counts.get('n_entries', 0)})", **counts)


def _stored_tail(connection: Connection) -> dict[str, Any]:
    """The log's size and last entry as stored, for the counts of a chain that broke part-way."""
    n_rows = connection.execute(select(func.count()).select_from(LOG)).scalar_one()
    last = connection.execute(select(LOG.c.seq, LOG.c.entry_hash).order_by(LOG.c.seq.desc()).limit(1)).first()
    head_seq = last[0] if last is not None and isinstance(last[0], int) else 0
    head_hash = str(last[1]) if last is not None else GENESIS_HASH
    return {"n_entries": int(n_rows), "head_seq": head_seq, "head_hash": head_hash}


def verify(connection: Connection, checkpoint: dict[str, Any] | None = None,
           public_key: bytes | None = None) -> VerifyResult:
    """Check the whole log; with ``checkpoint`` also its head, and with ``public_key`` its signature."""
    from caselink.audit.chain import AuditError
    from caselink.audit.checkpoint import check_signature, parse_checkpoint

    anchors: dict[int, str] = {}
    checkpoint_seq: int | None = None
    if checkpoint is not None:
        try:
            parsed = parse_checkpoint(checkpoint)
            if public_key is not None:
                check_signature(parsed, public_key)
        except AuditError as exc:
            return _bad(None, str(exc), **_stored_tail(connection))
        checkpoint_seq = parsed.seq
        anchors = dict(parsed.anchors)
        anchors[parsed.seq] = parsed.entry_hash

    columns = (LOG.c.seq, LOG.c.at, LOG.c.action, LOG.c.officer, LOG.c.case_ids, LOG.c.justification,
               LOG.c.justification_sha256, LOG.c.details, LOG.c.details_sha256, LOG.c.prev_hash,
               LOG.c.entry_hash, LOG.c.redacted_by)
    rows = connection.execution_options(yield_per=STREAM_ROWS).execute(select(*columns).order_by(LOG.c.seq))
    expected = 1
    prev = GENESIS_HASH
    redacted: list[tuple[int, int | None, str]] = []
    erasures: dict[int, tuple[set[int], set[str]]] = {}
    anchor_ok_seq = 0
    problem: tuple[int, str] | None = None
    for (seq, at, action, officer, ids_json, justification, justification_sha, details, details_sha,
         prev_hash, stored_hash, redacted_by) in rows:
        if not isinstance(seq, int) or seq < expected:
            problem = (expected, f"entry {expected} was changed: its number is no longer {expected}")
            break
        if seq != expected:
            problem = (expected, f"entry {expected} is missing: entries {expected}..{seq - 1} were deleted")
            break
        if redacted_by is not None and (not isinstance(redacted_by, int) or isinstance(redacted_by, bool)):
            problem = (seq, f"entry {seq} was changed: its erasure mark is not an entry number")
            break
        blanked = False
        if justification is not None:
            if sha256_text(justification) != justification_sha:
                problem = (seq, f"entry {seq} was changed: its justification does not match its hash")
                break
        elif justification_sha is not None:
            blanked = True
        if details is not None:
            if sha256_text(details) != details_sha:
                problem = (seq, f"entry {seq} was changed: its details do not match their hash")
                break
        else:
            blanked = True
        if blanked or redacted_by is not None:
            redacted.append((seq, redacted_by, ids_json))
        if not isinstance(at, str) or not isinstance(action, str) or not isinstance(officer, str) \
                or not isinstance(prev_hash, str) or not isinstance(ids_json, str) \
                or not isinstance(details_sha, str) or not isinstance(justification_sha, str | None) \
                or entry_hash(seq, at, action, officer, ids_json, justification_sha, details_sha, prev_hash) \
                != stored_hash:
            problem = (seq, f"entry {seq} was changed, moved or replaced: its contents no longer match its hash")
            break
        if prev_hash != prev:
            # The entry is whole but does not follow its predecessor: the predecessor was rewritten
            # (hash recomputed) after this entry was chained to it.
            problem = (seq - 1, f"entry {seq} does not link to entry {seq - 1}: entry {seq - 1} was rewritten")
            break
        if action == "erasure" and details is not None:
            try:
                erased = json.loads(details)
                erasures[seq] = ({int(s) for s in erased.get("redacted_seqs", [])}, set(json.loads(ids_json)))
            except (ValueError, TypeError, AttributeError):
                problem = (seq, f"entry {seq}: an erasure entry whose details cannot be read")
                break
        if seq in anchors:
            if stored_hash == anchors[seq]:
                anchor_ok_seq = seq
            elif problem is None:
                problem = (anchor_ok_seq + 1,
                           f"entries {anchor_ok_seq + 1}..{seq} differ from the signed checkpoint: "
                           f"the chain was rewritten from entry {anchor_ok_seq + 1} at the latest up to {seq}")
                break
        prev = stored_hash
        expected += 1
    rows.close()
    n_entries = expected - 1
    counts: dict[str, Any] = {"n_entries": n_entries, "head_seq": n_entries, "head_hash": prev,
                              "n_redacted": len(redacted), "checkpoint_seq": checkpoint_seq}

    stop = problem[0] if problem is not None else n_entries + 1
    for seq, by, ids_json in redacted:
        if seq >= stop:
            break
        if problem is not None and by is not None and by >= stop:
            continue  # its erasure entry lies beyond the break, so it cannot be judged
        erasure = erasures.get(by) if by is not None else None
        if erasure is None or by is None or by <= seq or seq not in erasure[0] \
                or not erasure[1] & set(json.loads(ids_json)):
            problem = (seq, f"entry {seq} was blanked without a matching erasure entry")
            break
    if problem is not None:
        return _bad(problem[0], problem[1], **{**counts, **_stored_tail(connection),
                                              "n_verified": max(0, problem[0] - 1)})
    counts["n_verified"] = n_entries

    if checkpoint_seq is not None and checkpoint_seq > n_entries:
        return _bad(n_entries + 1, f"the log ends at entry {n_entries} but the checkpoint signed entry "
                                   f"{checkpoint_seq}: entries {n_entries + 1}..{checkpoint_seq} were removed",
                    **counts)
    head_row = connection.execute(select(HEAD.c.seq, HEAD.c.entry_hash).where(HEAD.c.id == HEAD_ID)).first()
    if head_row is None and n_entries > 0:
        # The migration makes the head row and every append keeps it, so a log with entries and no
        # head row was tampered with - the way to hide a removed tail from the check below.
        return _bad(n_entries + 1, f"the head record is missing (the log ends at entry {n_entries}): the tail "
                                   "may have been removed; verify against a signed checkpoint", **counts)
    if head_row is not None and (head_row[0], head_row[1]) != (n_entries, prev):
        if isinstance(head_row[0], int) and head_row[0] > n_entries:
            return _bad(n_entries + 1, f"the log ends at entry {n_entries} but its head records entry "
                                       f"{head_row[0]}: the tail was removed", **counts)
        return _bad(n_entries, f"the head record does not match entry {n_entries}", **counts)
    where = f" up to the signed checkpoint at entry {checkpoint_seq}" if checkpoint_seq is not None else ""
    signed = " (signature valid)" if checkpoint is not None and public_key is not None else ""
    return VerifyResult(True, None, f"{n_entries} entries intact{where}{signed}", **counts)
