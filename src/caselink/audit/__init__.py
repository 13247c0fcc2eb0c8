"""The audit log: one hash-chained, append-only record of every decision, alteration and access.

Public interface (other areas and the web app code against these):

* :func:`record_event` appends one entry inside the caller's transaction and returns its number;
* :func:`verify` checks the chain (and a signed checkpoint) and names the first bad entry;
* :func:`make_checkpoint`, :func:`generate_key` sign and key the head for the oversight body;
* :func:`erase_case` removes a case's personal data and keeps the chain verifiable;
* :func:`read_entries` reads entries back (optionally for one case).
"""

from caselink.audit.chain import (
    ACTIONS,
    NEEDS_JUSTIFICATION,
    AuditEntry,
    AuditError,
    canonical,
    count_entries,
    entry_hash,
    head,
    read_entries,
    record_event,
    sha256_text,
)
from caselink.audit.checkpoint import CheckpointError, generate_key, make_checkpoint, write_key_pair
from caselink.audit.erasure import PERSONAL_FIELDS, ErasureError, ErasureResult, erase_case
from caselink.audit.verify import VerifyResult, verify

__all__ = [
    "ACTIONS", "NEEDS_JUSTIFICATION", "PERSONAL_FIELDS", "AuditEntry", "AuditError", "CheckpointError",
    "ErasureError", "ErasureResult", "VerifyResult", "canonical", "count_entries", "entry_hash", "erase_case",
    "generate_key", "head", "make_checkpoint", "read_entries", "record_event", "sha256_text", "verify",
    "write_key_pair",
]
