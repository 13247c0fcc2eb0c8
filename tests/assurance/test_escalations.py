"""Each escalation rule, the engine's raise-once/resolve/reopen cycle, and rule files as data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from caselink.assurance import (
    ConfigFileError,
    apply_checklists,
    decide,
    evaluate_escalations,
    list_actions,
    list_decisions,
    parse_rules,
    signoff,
    transition_action,
)
from caselink.audit import read_entries, verify
from tests.assurance.alerts import close_alerts, open_alert

FOUND = datetime(2014, 6, 19, 8, 0)  # d1 found (UTC)


def _by_rule(escalations: list[dict], rule_id: str) -> list[dict]:
    return [e for e in escalations if e["rule_id"] == rule_id]


def _step(connection: Connection, case_id: str, step_id: str) -> dict:
    return next(a for a in list_actions(connection, case_id=case_id) if a["step_id"] == step_id)


def test_step_overdue_goes_to_supervisor_then_sio(connection: Connection) -> None:
    apply_checklists(connection, ["d1"])
    s01 = _step(connection, "d1", "S01_CLASSIFY")  # due 2 h after found
    assert _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=1)), "step_overdue") == []
    raised = _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=3)), "step_overdue")
    assert [(e["subject_id"], e["escalate_to"], e["new"]) for e in raised] == [(str(s01["id"]), "supervisor", True)]
    again = _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=4)), "step_overdue")
    assert [e["new"] for e in again] == [False]  # raised once, however often evaluated
    later = _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=27)), "step_overdue")
    s01_levels = sorted(e["escalate_to"] for e in later if e["subject_id"] == str(s01["id"]))
    assert s01_levels == ["senior_investigating_officer", "supervisor"]
    transition_action(connection, s01["id"], "allocated", "DS A", now=FOUND + timedelta(hours=28))
    transition_action(connection, s01["id"], "completed", "DS A", now=FOUND + timedelta(hours=28))
    after = evaluate_escalations(connection, now=FOUND + timedelta(hours=28))
    assert str(s01["id"]) not in {e["subject_id"] for e in _by_rule(after, "step_overdue")}
    events = [e.details["event"] for e in read_entries(connection, action="escalation")
              if e.details["subject_id"] == str(s01["id"])]
    assert events == ["raised", "raised", "resolved", "resolved"]
    assert verify(connection).ok


def test_overdue_steps_stop_escalating_once_the_death_is_classified_expected(connection: Connection) -> None:
    from sqlalchemy import update

    from caselink.store.models import CaseRow

    apply_checklists(connection, ["d1"])
    late = FOUND + timedelta(hours=30)
    assert _by_rule(evaluate_escalations(connection, now=late), "step_overdue")
    connection.execute(update(CaseRow.__table__).where(CaseRow.__table__.c.case_id == "d1")  # type: ignore[arg-type]
                       .values(classification="expected"))
    assert _by_rule(evaluate_escalations(connection, now=late), "step_overdue") == []
    assert list_actions(connection, case_id="d1")  # the steps stay on record (missed-steps reports read them)


def test_note_found_but_not_examined(connection: Connection) -> None:
    apply_checklists(connection, ["d1", "d2"])
    s07 = _step(connection, "d1", "S07_DOCUMENT_EXAMINATION")  # due 72 h
    assert _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=71)), "note_not_examined") == []
    raised = _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=73)), "note_not_examined")
    assert [(e["subject_id"], e["escalate_to"], e["case_ids"]) for e in raised] == [
        (str(s07["id"]), "senior_investigating_officer", ["d1"])]
    transition_action(connection, s07["id"], "allocated", "DS A")
    transition_action(connection, s07["id"], "completed", "DS A")
    assert _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=80)), "note_not_examined") == []


def test_not_suspicious_while_in_open_alert(connection: Connection) -> None:
    decision_id = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS Quick", "looks natural")
    assert _by_rule(evaluate_escalations(connection), "not_suspicious_in_open_alert") == []
    open_alert(connection, ["d1", "d2"])  # the alert arrives after the decision
    raised = _by_rule(evaluate_escalations(connection), "not_suspicious_in_open_alert")
    assert [(e["subject_id"], e["escalate_to"]) for e in raised] == [(str(decision_id), "supervisor")]
    assert list_decisions(connection, "d1")[0]["status"] == "pending_signoff"
    signoff(connection, decision_id, "DI Super")
    assert _by_rule(evaluate_escalations(connection), "not_suspicious_in_open_alert") == []
    assert list_decisions(connection, "d1")[0]["status"] == "signed_off"


def test_alert_closed_resolves_the_escalation_but_the_signoff_stays_required(connection: Connection) -> None:
    open_alert(connection, ["d1", "d2"])
    decision_id = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS Quick", "natural")
    assert len(_by_rule(evaluate_escalations(connection), "not_suspicious_in_open_alert")) == 1
    close_alerts(connection)
    assert _by_rule(evaluate_escalations(connection), "not_suspicious_in_open_alert") == []
    assert next(d for d in list_decisions(connection, "d1") if d["id"] == decision_id)["status"] == "pending_signoff"


def test_same_person_in_two_deaths(connection: Connection) -> None:
    raised = _by_rule(evaluate_escalations(connection), "shared_person_entity")
    assert sorted(tuple(e["case_ids"]) for e in raised) == [("d1", "d2"), ("d3", "e1")]
    dumped = json.dumps(raised) + json.dumps([e.as_dict() for e in read_entries(connection, action="escalation")])
    assert "finder one" not in dumped and "07700900123" not in dumped  # entities are personal data


def test_rules_are_data(connection: Connection, tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "rules:\n  - id: homicide_needs_referral\n    subject: decision\n"
        "    when: {kind: classification, value: homicide, superseded: false}\n"
        "    levels: [{escalate_to: homicide_team}]\n    message: 'case {case_id} classified {value}'\n",
        encoding="utf-8")
    rules = parse_rules(rules_file)
    decide(connection, "d3", "classification", "homicide", "DI A", "posed", rules=rules)
    (raised,) = evaluate_escalations(connection, rules=rules)
    assert raised["escalate_to"] == "homicide_team" and raised["message"] == "case d3 classified homicide"


BAD_RULES = [
    ("rules:\n  - id: a\n    subject: case\n    levels: [{escalate_to: x}]\n", 3, "subject"),
    ("rules:\n  - id: a\n    subject: action\n    when: {colour: red}\n    levels: [{escalate_to: x}]\n", 4, "unknown"),
    ("rules:\n  - id: a\n    subject: action\n    levels:\n      - {escalate_to: x, after_hours: -1}\n", 5,
     "after_hours"),
    ("rules:\n  - id: a\n    subject: action\n    require_signoff: true\n    levels: [{escalate_to: x}]\n", 4,
     "require_signoff"),
    ("rules:\n  - id: a\n    subject: action\n", 2, "levels"),
    ("rules:\n  - {id: a, subject: action, levels: [{escalate_to: x}]}\n  - {id: a, subject: action,"
     " levels: [{escalate_to: x}]}\n", 3, "used twice"),
    ("rules: {\n", 2, "not valid YAML"),
]


@pytest.mark.parametrize(("body", "line", "words"), BAD_RULES)
def test_malformed_rule_file_is_named_with_its_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        parse_rules(path)
    assert str(caught.value).startswith(f"{path}:{line}:"), str(caught.value)
    assert words in str(caught.value)


def test_cli_escalations(cli: object, assurance_db: object, tmp_path: Path) -> None:
    url = assurance_db.url  # type: ignore[attr-defined]
    shown = cli("escalations", "--db", url, "--json", "--now", "2014-10-01T12:00")  # type: ignore[operator]
    assert shown.exit_code == 0, shown.stderr
    assert {e["rule_id"] for e in json.loads(shown.stdout)["escalations"]} == {"shared_person_entity"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: a\n    subject: nope\n    levels: [{escalate_to: x}]\n")
    refused = cli("escalations", "--db", url, "--rules", str(bad))  # type: ignore[operator]
    assert refused.exit_code == 2 and f"{bad}:3:" in refused.stderr
    missing = cli("escalations", "--db", url, "--rules", str(tmp_path / "none.yaml"))  # type: ignore[operator]
    assert missing.exit_code == 2 and "no such rule file" in missing.stderr
    bad_now = cli("escalations", "--db", url, "--now", "yesterday")  # type: ignore[operator]
    assert bad_now.exit_code == 2 and "--now" in bad_now.stderr


def test_times_in_messages_say_they_are_utc(connection: Connection) -> None:
    """Due times are kept in UTC; a message that printed "due 2014-06-19 10:00:00" would be read
    as London time, an hour off in summer, so the zone is written out."""
    apply_checklists(connection, ["d1"])
    raised = _by_rule(evaluate_escalations(connection, now=FOUND + timedelta(hours=3)), "step_overdue")
    assert [e["message"] for e in raised] == [
        "case d1: step S01_CLASSIFY is overdue (state for_allocation, due 2014-06-19 10:00 UTC)"]


def test_looking_back_with_an_earlier_now_is_refused_not_a_rewrite(connection: Connection) -> None:
    """Escalations are live state.  An inspector running 'escalations --now' at a past moment
    resolved every escalation raised since (logging a 'resolved' for each, and a 'reopened' at the
    next run), so the supervisor's queue emptied and the log gained events that never happened."""
    from caselink.assurance import AssuranceError

    apply_checklists(connection, ["d1"])
    raised = evaluate_escalations(connection, now=FOUND + timedelta(hours=30))
    n_entries = len(list(read_entries(connection)))
    with pytest.raises(AssuranceError, match="only move forward") as caught:
        evaluate_escalations(connection, now=FOUND + timedelta(hours=3))
    assert caught.value.bad_input and "oversight" in str(caught.value)
    assert len(list(read_entries(connection))) == n_entries
    assert [e["id"] for e in evaluate_escalations(connection, now=FOUND + timedelta(hours=30))] == \
        [e["id"] for e in raised]
    with pytest.raises(AssuranceError, match="in the future"):  # it would block every real run until then
        evaluate_escalations(connection, now=datetime(2999, 1, 1))
