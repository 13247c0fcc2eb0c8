"""The policy file: decisions with officer and rationale, superseded never edited, signed off by another."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection

from caselink.assurance import (
    AssuranceError,
    MissingField,
    UnknownCase,
    UnknownDecision,
    decide,
    list_decisions,
    signoff,
)
from caselink.audit import read_entries
from tests.assurance.alerts import open_alert


def test_decision_is_recorded_and_logged(connection: Connection) -> None:
    decision_id = decide(connection, "d2", "classification", "Homicide", "DI Grey", "two linked deaths",
                         alternatives="not suspicious: rejected, the scene was posed")
    (decision,) = list_decisions(connection, "d2")
    assert decision["id"] == decision_id and decision["value"] == "homicide" and decision["status"] == "final"
    assert decision["alternatives"].startswith("not suspicious")
    (entry,) = read_entries(connection, action="decision")
    assert entry.officer == "DI Grey" and entry.case_ids == ["d2"] and entry.details["decision_id"] == decision_id


def test_supersede_never_edits(connection: Connection) -> None:
    first = decide(connection, "d2", "line_of_enquiry", "trace the finder", "DS A", "finder knew both")
    second = decide(connection, "d2", "closure", "finder traced and eliminated", "DS A", "alibi", supersedes=first)
    decisions = {d["id"]: d for d in list_decisions(connection, "d2")}
    assert decisions[first]["status"] == "superseded" and decisions[first]["superseded_by"] == second
    assert decisions[first]["value"] == "trace the finder"  # untouched
    with pytest.raises(AssuranceError, match="already superseded by decision"):
        decide(connection, "d2", "closure", "x", "DS A", "y", supersedes=first)
    other = decide(connection, "d3", "referral", "homicide team", "DS A", "y")
    with pytest.raises(AssuranceError, match="belongs to case 'd3'"):
        decide(connection, "d2", "closure", "x", "DS A", "y", supersedes=other)
    with pytest.raises(UnknownDecision):
        decide(connection, "d2", "closure", "x", "DS A", "y", supersedes=999)


@pytest.mark.parametrize(("args", "error", "words"), [
    (("zz", "classification", "homicide", "DI A", "r"), UnknownCase, "no case 'zz'"),
    (("d1", "hunch", "x", "DI A", "r"), AssuranceError, "--kind"),
    (("d1", "classification", "probably fine", "DI A", "r"), AssuranceError, "is not a classification"),
    (("d1", "classification", "homicide", "", "r"), MissingField, "officer"),
    (("d1", "classification", "homicide", "DI A", " "), MissingField, "rationale"),
    (("d1", "classification", "homicide", "DI A", "seen \x00 here"), AssuranceError, "NUL"),
])
def test_bad_decisions_write_nothing(connection: Connection, args: tuple, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        decide(connection, *args)
    assert list(read_entries(connection, action="decision")) == []


def test_not_suspicious_in_open_alert_is_pending_until_signed_off(connection: Connection) -> None:
    open_alert(connection, ["d1", "d2"])
    decision_id = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS Quick",
                         "no third party involvement seen")
    assert list_decisions(connection, "d1")[0]["status"] == "pending_signoff"
    with pytest.raises(AssuranceError, match="a different officer"):
        signoff(connection, decision_id, "ds quick")
    signoff(connection, decision_id, "DI Super")
    decision = list_decisions(connection, "d1")[0]
    assert decision["status"] == "signed_off" and decision["signed_off_by"] == "DI Super"
    with pytest.raises(AssuranceError, match="already signed off"):
        signoff(connection, decision_id, "DCI Other")
    with pytest.raises(UnknownDecision):
        signoff(connection, 4242, "DI Super")


def test_not_suspicious_without_an_alert_is_final(connection: Connection) -> None:
    decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS Quick", "no third party")
    assert list_decisions(connection, "d1")[0]["status"] == "final"


def test_cli_decide_contract(cli: object, assurance_db: object) -> None:
    url = assurance_db.url  # type: ignore[attr-defined]
    made = cli("decide", "d3", "--kind", "referral", "--value", "homicide team", "--officer", "DS A",  # type: ignore[operator]
               "--rationale", "posed body", "--alternatives", "none", "--db", url, "--json")
    assert made.exit_code == 0, made.stderr
    decision = json.loads(made.stdout)
    assert decision["kind"] == "referral" and decision["status"] == "final"
    no_rationale = cli("decide", "d3", "--kind", "closure", "--value", "x", "--officer", "DS A", "--db", url)  # type: ignore[operator]
    assert no_rationale.exit_code == 2 and "--rationale" in no_rationale.stderr
    no_officer = cli("decide", "d3", "--kind", "closure", "--value", "x", "--rationale", "r", "--db", url,  # type: ignore[operator]
                     env={"CASELINK_USER": ""})
    assert no_officer.exit_code == 2 and "--officer" in no_officer.stderr
    policy = cli("decisions", "d3", "--db", url, "--json")  # type: ignore[operator]
    assert len(json.loads(policy.stdout)["decisions"]) == 1
    own = cli("signoff", str(decision["id"]), "--officer", "DS A", "--db", url)  # type: ignore[operator]
    assert own.exit_code == 2 and "different officer" in own.stderr
    signed = cli("signoff", str(decision["id"]), "--officer", "DI B", "--db", url)  # type: ignore[operator]
    assert signed.exit_code == 0


@pytest.mark.parametrize("status", ["acknowledged", "assigned"])
def test_an_alert_being_triaged_still_needs_the_signoff(connection: Connection, status: str) -> None:
    """Acknowledging an alert, or assigning it to someone to review, does not settle it: a 'not
    suspicious' classification of one of its cases still waits for a supervisor.  Only a dismissal
    (a decision of its own) ends the alert."""
    from sqlalchemy import text

    open_alert(connection, ["d1", "d2"])
    connection.execute(text("UPDATE alerts SET status = :status"), {"status": status})
    decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS Quick", "no third party")
    assert list_decisions(connection, "d1")[0]["status"] == "pending_signoff"
    connection.execute(text("UPDATE alerts SET status = 'dismissed'"))
    decide(connection, "d2", "classification", "unexpected_not_suspicious", "DS Quick", "no third party")
    assert list_decisions(connection, "d2")[0]["status"] == "final"


def test_a_superseded_decision_cannot_be_signed_off(connection: Connection) -> None:
    """A sign-off on a decision no longer in force would read, in the policy file and the timeline,
    as approval of what was decided; the officer is pointed at the decision that replaced it."""
    open_alert(connection, ["d1", "d2"])
    first = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS Quick", "no third party")
    second = decide(connection, "d1", "classification", "homicide", "DS Quick", "new evidence", supersedes=first)
    with pytest.raises(AssuranceError, match=f"superseded by decision {second}"):
        signoff(connection, first, "DI Super")
    assert [d["signed_off_by"] for d in list_decisions(connection, "d1")] == [None, None]


def test_a_decision_awaiting_signoff_cannot_be_escaped_by_another_kind(connection: Connection) -> None:
    """'Not suspicious' during an open alert waits for a supervisor.  Superseding it with a closure
    (or any other kind) resolved the escalation with no supervisor ever seeing it: refused, and the
    decision still waits.  A change of mind of the same kind is still allowed."""
    from caselink.assurance import evaluate_escalations

    open_alert(connection, ["d1", "d2"])
    first = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DC Quick", "overdose")
    with pytest.raises(AssuranceError, match="awaits sign-off"):
        decide(connection, "d1", "closure", "no further action", "DC Quick", "closing", supersedes=first)
    assert [d["status"] for d in list_decisions(connection, "d1")] == ["pending_signoff"]
    assert [e["rule_id"] for e in evaluate_escalations(connection)
            if e["subject_type"] == "decision"] == ["not_suspicious_in_open_alert"]
    second = decide(connection, "d1", "classification", "homicide", "DC Quick", "new evidence", supersedes=first)
    assert [d["status"] for d in list_decisions(connection, "d1")] == ["superseded", "final"]
    assert second


def test_expected_during_an_open_alert_also_needs_the_signoff(connection: Connection) -> None:
    """Classifying the death 'expected' says even less than 'not suspicious': it must not be the
    way around the supervisor, first-hand or as a change of mind."""
    open_alert(connection, ["d1", "d2"])
    first = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DC Quick", "overdose")
    decide(connection, "d1", "classification", "expected", "DC Quick", "GP will certify", supersedes=first)
    assert [d["status"] for d in list_decisions(connection, "d1")] == ["superseded", "pending_signoff"]
    decide(connection, "d2", "classification", "expected", "DC Quick", "known heart condition")
    assert [d["status"] for d in list_decisions(connection, "d2")] == ["pending_signoff"]


def test_only_a_classification_replaces_a_classification(connection: Connection) -> None:
    first = decide(connection, "d2", "classification", "unexpected_under_investigation", "DS A", "not yet known")
    with pytest.raises(AssuranceError, match="the death would have none"):
        decide(connection, "d2", "closure", "no further action", "DS A", "done", supersedes=first)
    assert [d["id"] for d in list_decisions(connection, "d2")] == [first]
    again = decide(connection, "d2", "classification", "homicide", "DI B", "ligature marks", supersedes=first)
    assert {d["id"]: d["status"] for d in list_decisions(connection, "d2")}[first] == "superseded" and again
