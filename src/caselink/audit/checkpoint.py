"""Signed checkpoints of the chain head (Ed25519).

A checkpoint is exported to the oversight body: it signs the head entry's number and hash plus a
thin ladder of *anchors* (about a thousand earlier entries' hashes), so a chain rewritten by someone
without the private key is caught, and the anchors narrow down where the rewrite began.  The
signature covers the canonical JSON of every field except ``signature``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, select

from caselink.audit.chain import LOG, AuditError, canonical
from caselink.audit.models import GENESIS_HASH

FORMAT = "caselink-audit-checkpoint/1"
MAX_ANCHORS = 1000


class CheckpointError(AuditError):
    """A checkpoint or key that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    anchors: list[tuple[int, str]]
    body: dict[str, Any]
    signature: bytes


def generate_key() -> tuple[bytes, bytes]:
    """A new key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def write_key_pair(out: Path) -> Path:
    """Write the private key to ``out`` (mode 0600, never overwritten) and the public key beside it."""
    private_pem, public_pem = generate_key()
    public_path = out.with_name(out.name + ".pub")
    for path in (out, public_path):
        if path.exists():
            raise CheckpointError(f"{path} already exists; choose another --out (keys are never overwritten)")
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    return public_path


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"not an unencrypted PEM private key ({exc.__class__.__name__})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the private key is not an Ed25519 key; make one with `caselink audit keygen`")
    return key


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """A public key from PEM, or from its 32 raw bytes."""
    try:
        if len(data) == 32:
            return Ed25519PublicKey.from_public_bytes(data)
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"not an Ed25519 public key in PEM form ({exc.__class__.__name__})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the public key is not an Ed25519 key")
    return key


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def anchor_seqs(head_seq: int) -> list[int]:
    """Which entries' hashes a checkpoint of ``head_seq`` also signs: evenly spaced, at most ~1000."""
    if head_seq <= 0:
        return []
    step = max(1, -(-head_seq // MAX_ANCHORS))
    return list(range(step, head_seq, step))


def make_checkpoint(connection: Connection, private_key_pem: bytes) -> dict[str, Any]:
    """Sign the current head.  The caller should verify the chain first (the CLI does)."""
    key = load_private_key(private_key_pem)
    last = connection.execute(select(LOG.c.seq, LOG.c.entry_hash).order_by(LOG.c.seq.desc()).limit(1)).first()
    head_seq, head_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)
    wanted = anchor_seqs(head_seq)
    anchors: list[list[Any]] = []
    if wanted:
        rows = connection.execute(select(LOG.c.seq, LOG.c.entry_hash).where(LOG.c.seq.in_(wanted))
                                  .order_by(LOG.c.seq)).all()
        anchors = [[int(s), str(h)] for s, h in rows]
    body: dict[str, Any] = {
        "format": FORMAT, "algorithm": "Ed25519", "seq": head_seq, "entry_hash": head_hash,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "anchors": anchors,
        "public_key_sha256": hashlib.sha256(_raw_public(key.public_key())).hexdigest(),
    }
    signature = key.sign(canonical(body).encode())
    return {**body, "signature": base64.b64encode(signature).decode()}


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def parse_checkpoint(checkpoint: Any) -> Checkpoint:
    """Check a checkpoint's shape; raise CheckpointError naming the first bad field."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError("checkpoint is malformed: expected a JSON object")
    if checkpoint.get("format") != FORMAT or checkpoint.get("algorithm") != "Ed25519":
        raise CheckpointError(f"checkpoint is malformed: format must be '{FORMAT}' with algorithm Ed25519")
    seq = checkpoint.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise CheckpointError("checkpoint is malformed: 'seq' must be a whole number >= 0")
    if not _is_hash(checkpoint.get("entry_hash")):
        raise CheckpointError("checkpoint is malformed: 'entry_hash' must be 64 lower-case hex digits")
    raw_anchors = checkpoint.get("anchors", [])
    if not isinstance(raw_anchors, list):
        raise CheckpointError("checkpoint is malformed: 'anchors' must be a list")
    anchors: list[tuple[int, str]] = []
    for item in raw_anchors:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)
                and not isinstance(item[0], bool) and 0 < item[0] < seq and _is_hash(item[1])):
            raise CheckpointError("checkpoint is malformed: each anchor must be [seq, hash] below the head")
        anchors.append((item[0], item[1]))
    try:
        signature = base64.b64decode(str(checkpoint.get("signature", "")), validate=True)
    except ValueError as exc:
        raise CheckpointError("checkpoint is malformed: 'signature' is not base64") from exc
    body = {k: v for k, v in checkpoint.items() if k != "signature"}
    return Checkpoint(seq, checkpoint["entry_hash"], anchors, body, signature)


def check_signature(checkpoint: Checkpoint, public_key: bytes) -> None:
    """Raise CheckpointError unless ``public_key`` signed exactly this checkpoint."""
    key = load_public_key(public_key)
    try:
        key.verify(checkpoint.signature, canonical(checkpoint.body).encode())
    except InvalidSignature:
        raise CheckpointError("the checkpoint's signature is not valid for this public key: the checkpoint "
                              "was altered or signed with another key") from None
