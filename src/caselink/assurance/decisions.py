"""The policy file: every decision on a case, by a named officer, with rationale and alternatives.

Decisions are never edited.  A change of mind is a new decision that ``supersedes`` the old one;
a decision matched by a ``require_signoff`` escalation rule is pending until a supervisor (someone
other than its author) signs it off.  Each write is logged in the audit chain in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from caselink import vocab
from caselink.assurance.conditions import utc_naive
from caselink.assurance.errors import AssuranceError, MissingField, UnknownCase, UnknownDecision
from caselink.assurance.models import DecisionRow, EscalationRow, SignoffRow
from caselink.assurance.rules import Rule, evaluate_escalations, load_rules, signoff_rules_matching
from caselink.audit import record_event
from caselink.store.models import CaseRow

DECISIONS: Table = DecisionRow.__table__  # type: ignore[assignment]
SIGNOFFS: Table = SignoffRow.__table__  # type: ignore[assignment]
ESCALATIONS: Table = EscalationRow.__table__  # type: ignore[assignment]
KINDS = ("classification", "referral", "closure", "line_of_enquiry")


def _required(value: str | None, what: str, option: str) -> str:
    if value is None or not value.strip():
        raise MissingField(f"{what} is required: pass {option}")
    return _storable(value.strip(), what)


def _storable(value: str, what: str) -> str:
    # PostgreSQL cannot hold NUL in text (SQLite can): refused here, named, on both engines.
    if "\x00" in value:
        raise AssuranceError(f"{what} contains a NUL character (0x00); remove it")
    return value


def decide(connection: Connection, case_id: str, kind: str, value: str, officer: str, rationale: str,
           alternatives: str | None = None, supersedes: int | None = None,
           now: datetime | None = None, rules: Sequence[Rule] | None = None) -> int:
    """Record a decision in ``case_id``'s policy file and return its id."""
    officer = _required(officer, "the accountable officer", "--officer NAME (or set CASELINK_USER)")
    rationale = _required(rationale, "a rationale", "--rationale TEXT")
    value = _required(value, "a value", "--value VALUE")
    if kind not in KINDS:
        raise AssuranceError(f"--kind: '{kind}' is not one of {', '.join(KINDS)}")
    if kind == "classification":
        value = vocab.fold(value, vocab.CLASSIFICATION_SYNONYMS)
        if value not in vocab.CLASSIFICATIONS:
            raise AssuranceError(f"--value: '{value}' is not a classification; use one of "
                                 f"{', '.join(vocab.CLASSIFICATIONS)}")
    if connection.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first() is None:
        raise UnknownCase(f"no case '{case_id}' in the store; `caselink cases list` shows the ids")
    if supersedes is not None:
        old = connection.execute(select(DECISIONS).where(DECISIONS.c.id == supersedes)).mappings().first()
        if old is None:
            raise UnknownDecision(f"--supersedes: no decision {supersedes}; `caselink decisions {case_id}` "
                                  "lists them")
        if old["case_id"] != case_id:
            raise AssuranceError(f"--supersedes: decision {supersedes} belongs to case '{old['case_id']}', "
                                 f"not '{case_id}'")
        later = connection.execute(select(DECISIONS.c.id).where(DECISIONS.c.supersedes == supersedes)).first()
        if later is not None:
            raise AssuranceError(f"--supersedes: decision {supersedes} was already superseded by decision "
                                 f"{later[0]}; supersede that one instead")
        signed = connection.execute(select(SIGNOFFS.c.id).where(SIGNOFFS.c.decision_id == supersedes)).first()
        if old["requires_signoff"] and signed is None and old["kind"] != kind:
            # Otherwise superseding it with, say, a closure resolves its escalation and no supervisor
            # ever sees the decision that needed one.  A change of mind of the same kind is re-examined
            # by the same rules, so it stays possible.
            raise AssuranceError(f"--supersedes: decision {supersedes} ({old['kind']}) awaits sign-off; until a "
                                 f"supervisor signs it off only another {old['kind']} may replace it (record "
                                 f"the {kind} without --supersedes)")
        if old["kind"] == "classification" and kind != "classification":
            # A closure that superseded the classification left the death with none.  (A closure that
            # supersedes a line of enquiry is what closing that line means, so only this is refused.)
            raise AssuranceError(f"--supersedes: decision {supersedes} is a classification; a {kind} does not "
                                 f"replace it, or the death would have none (record the {kind} without "
                                 "--supersedes; a reclassification is a new classification that supersedes it)")
    rules = load_rules() if rules is None else rules
    moment = utc_naive(now)
    decision_id = int(connection.execute(DECISIONS.insert().values(
        case_id=case_id, kind=kind, value=value, officer=officer, rationale=rationale,
        alternatives=_storable(alternatives.strip(), "the alternatives") if alternatives else None, made_at=moment,
        supersedes=supersedes,
        requires_signoff=False, audit_seq=0,
    )).inserted_primary_key[0])  # type: ignore[index]
    pending_rules = signoff_rules_matching(connection, decision_id, rules)
    seq = record_event(connection, action="decision", officer=officer, case_ids=[case_id],
                       details={"decision_id": decision_id, "kind": kind, "value": value, "rationale": rationale,
                                "alternatives": alternatives, "supersedes": supersedes,
                                "requires_signoff": bool(pending_rules), "signoff_rules": pending_rules})
    connection.execute(DECISIONS.update().where(DECISIONS.c.id == decision_id)
                       .values(audit_seq=seq, requires_signoff=bool(pending_rules)))
    if supersedes is not None:
        _resolve_for_decision(connection, supersedes, moment, rules)
    if pending_rules:
        evaluate_escalations(connection, now=moment, rules=rules, only=("decision", str(decision_id)))
    return decision_id


def _resolve_for_decision(connection: Connection, decision_id: int, moment: datetime,
                          rules: Sequence[Rule]) -> None:
    evaluate_escalations(connection, now=moment, rules=rules, only=("decision", str(decision_id)))


def signoff(connection: Connection, decision_id: int, officer: str, now: datetime | None = None,
            rules: Sequence[Rule] | None = None) -> int:
    """A supervisor signs a decision off; returns the sign-off id.  The author cannot sign their own."""
    officer = _required(officer, "the signing officer", "--officer NAME (or set CASELINK_USER)")
    decision = connection.execute(select(DECISIONS).where(DECISIONS.c.id == decision_id)).mappings().first()
    if decision is None:
        raise UnknownDecision(f"no decision {decision_id}; `caselink decisions CASE_ID` lists a case's decisions")
    if decision["officer"].casefold() == officer.casefold():
        raise AssuranceError(f"decision {decision_id} was made by {decision['officer']}; a different officer "
                             "(a supervisor) must sign it off")
    later = connection.execute(select(DECISIONS.c.id).where(DECISIONS.c.supersedes == decision_id)).first()
    if later is not None:
        # Signed off now, it would read as approval of a decision no longer in force.
        raise AssuranceError(f"decision {decision_id} was superseded by decision {later[0]}; sign off that one "
                             "if it needs it")
    done = connection.execute(select(SIGNOFFS).where(SIGNOFFS.c.decision_id == decision_id)).mappings().first()
    if done is not None:
        raise AssuranceError(f"decision {decision_id} was already signed off by {done['officer']}")
    moment = utc_naive(now)
    seq = record_event(connection, action="signoff", officer=officer, case_ids=[decision["case_id"]],
                       details={"decision_id": decision_id, "kind": decision["kind"], "value": decision["value"]})
    signoff_id = int(connection.execute(SIGNOFFS.insert().values(
        decision_id=decision_id, officer=officer, signed_at=moment, audit_seq=seq,
    )).inserted_primary_key[0])  # type: ignore[index]
    _resolve_for_decision(connection, decision_id, moment, load_rules() if rules is None else rules)
    return signoff_id


def list_decisions(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    """The case's policy file in the order decisions were made, each with its current ``status``.

    ``status`` is ``superseded`` (a later decision names it), ``pending_signoff``, ``signed_off`` or
    ``final``.
    """
    if connection.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first() is None:
        raise UnknownCase(f"no case '{case_id}' in the store; `caselink cases list` shows the ids")
    rows = [dict(r) for r in connection.execute(
        select(DECISIONS).where(DECISIONS.c.case_id == case_id).order_by(DECISIONS.c.made_at, DECISIONS.c.id)
    ).mappings()]
    ids = [r["id"] for r in rows]
    signed = {r["decision_id"]: r for r in connection.execute(
        select(SIGNOFFS).where(SIGNOFFS.c.decision_id.in_(ids))).mappings()} if ids else {}
    superseded_by = {r["supersedes"]: r["id"] for r in rows if r["supersedes"] is not None}
    for row in rows:
        sign = signed.get(row["id"])
        row["signed_off_by"] = sign["officer"] if sign else None
        row["signed_off_at"] = sign["signed_at"].isoformat() + "Z" if sign else None
        row["superseded_by"] = superseded_by.get(row["id"])
        row["made_at"] = row["made_at"].isoformat() + "Z"
        if row["superseded_by"] is not None:
            row["status"] = "superseded"
        elif sign:
            row["status"] = "signed_off"
        elif row["requires_signoff"]:
            row["status"] = "pending_signoff"
        else:
            row["status"] = "final"
    return rows
