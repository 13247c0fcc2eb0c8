"""Oversight's one table: the secret behind the pseudonyms of research exports.

A keyed hash is only a pseudonym while its key stays secret and stable: the key lives in the store
(never in an export), is made once, and every export to the same recipient derives its own key
from it, so one recipient's pseudonyms are stable over time but cannot be joined with another's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from caselink.store.models import Base


class PseudonymSecretRow(Base):
    __tablename__ = "pseudonym_secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    secret_hex: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
