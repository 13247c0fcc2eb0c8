"""Tables of the audit log.

``audit_log`` is a contract table name.  Free text that may hold personal data (a justification, the
details of an event) is committed to by its SHA-256 and kept beside it in clear, so erasure can
blank the clear text and the chain still verifies.  JSON values are stored as canonical JSON text
(not a JSON column) so that verification hashes exactly the bytes that were written, on every
dialect, without re-serialising a million rows.  ``audit_head`` is one row that serialises appends
(it is locked by the first statement of every append); verification never trusts it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caselink.store.models import Base

GENESIS_HASH = "0" * 64


class AuditEntryRow(Base):
    """One entry of the hash chain; ``seq`` runs 1, 2, 3 ... with no gaps."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    officer: Mapped[str] = mapped_column(String(200))
    case_ids: Mapped[str] = mapped_column(Text)
    justification: Mapped[str | None] = mapped_column(Text)
    justification_sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    details_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    redacted_by: Mapped[int | None] = mapped_column(BigInteger)


class AuditHeadRow(Base):
    """The newest entry's number and hash; locked by each append so concurrent writers queue."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
