"""Tables of assurance: actions (checklist steps) and their history, the policy file, escalations.

Times are naive UTC, like the case store.  Nothing here is ever deleted: a decision is superseded
by a later one naming it, an action moves on through its states, an escalation is resolved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from caselink.store.models import Base


class ActionRow(Base):
    """One checklist step for one case: who owns it, when it is due, where it stands."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    checklist: Mapped[str] = mapped_column(String(200))
    step_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(40), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("case_id", "checklist", "step_id", name="uq_actions_case_step"),)


class ActionEventRow(Base):
    """Every state change of an action, for timelines and missed-step analysis."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(Integer, index=True)
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    officer: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)


class DecisionRow(Base):
    """An entry in a case's policy file.  Never updated except the one-way ``requires_signoff`` flag."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    officer: Mapped[str] = mapped_column(String(200))
    rationale: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[str | None] = mapped_column(Text)
    made_at: Mapped[datetime] = mapped_column(DateTime)
    supersedes: Mapped[int | None] = mapped_column(Integer, unique=True)
    requires_signoff: Mapped[bool] = mapped_column(Boolean, default=False)
    audit_seq: Mapped[int] = mapped_column(BigInteger)


class SignoffRow(Base):
    """A supervisor's sign-off of one decision."""

    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(Integer, unique=True)
    officer: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)


class EscalationRow(Base):
    """One rule level that fired for one subject; raised once, however often rules are evaluated."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(500))
    level: Mapped[int] = mapped_column(Integer)
    escalate_to: Mapped[str] = mapped_column(String(200))
    case_ids: Mapped[list[str]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("rule_id", "subject_type", "subject_id", "level", name="uq_escalations_rule_subject"),
    )
