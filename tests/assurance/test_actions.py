"""The action state machine: every legal move works and is logged; every illegal one is refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection

from caselink.assurance import (
    STATES,
    TRANSITIONS,
    IllegalTransition,
    MissingField,
    UnknownAction,
    action_history,
    apply_checklists,
    list_actions,
    transition_action,
)
from caselink.audit import read_entries, verify

PATH_TO = {
    "for_allocation": [],
    "allocated": ["allocated"],
    "completed": ["allocated", "completed"],
    "resulted": ["allocated", "completed", "resulted"],
    "filed": ["allocated", "completed", "resulted", "filed"],
    "referred": ["referred"],
}


def _action_in(connection: Connection, state: str, index: int) -> int:
    actions = list_actions(connection, case_id="d1")
    action_id = actions[index]["id"]
    for step in PATH_TO[state]:
        transition_action(connection, action_id, step, "DS Walk")
    return int(action_id)


@pytest.mark.parametrize("from_state", STATES)
def test_every_transition_from_each_state(connection: Connection, from_state: str) -> None:
    apply_checklists(connection, ["d1"])
    for index, to_state in enumerate(STATES):
        action_id = _action_in(connection, from_state, index)
        if to_state in TRANSITIONS[from_state]:
            moved = transition_action(connection, action_id, to_state, "DS Move", note="done")
            assert moved["state"] == to_state
        else:
            with pytest.raises(IllegalTransition, match=f"is {from_state}; it cannot become {to_state}"):
                transition_action(connection, action_id, to_state, "DS Move")
            assert list_actions(connection, case_id="d1")[index]["state"] == from_state


def test_transitions_are_logged_and_keep_history(connection: Connection) -> None:
    apply_checklists(connection, ["d1"])
    action_id = list_actions(connection, case_id="d1")[0]["id"]
    transition_action(connection, action_id, "allocated", "DS Boss", owner="DC Doer")
    done = transition_action(connection, action_id, "completed", "DC Doer", note="classified with reason")
    assert done["owner"] == "DC Doer" and done["completed_at"] is not None and not done["overdue"]
    assert [(e["from_state"], e["to_state"], e["officer"]) for e in action_history(connection, action_id)] == [
        ("for_allocation", "allocated", "DS Boss"), ("allocated", "completed", "DC Doer")]
    logged = [e for e in read_entries(connection, action="action_transition")]
    assert [(e.officer, e.details["to"]) for e in logged] == [("DS Boss", "allocated"), ("DC Doer", "completed")]
    assert verify(connection).ok


def test_unknown_action_and_missing_officer(connection: Connection) -> None:
    apply_checklists(connection, ["d1"])
    with pytest.raises(UnknownAction, match="no action 999"):
        transition_action(connection, 999, "allocated", "DS A")
    with pytest.raises(MissingField):
        transition_action(connection, 1, "allocated", "  ")
    with pytest.raises(IllegalTransition, match="unknown state"):
        transition_action(connection, 1, "lost", "DS A")


def test_cli_actions(cli: object, assurance_db: object) -> None:
    url = assurance_db.url  # type: ignore[attr-defined]
    with assurance_db.engine.begin() as connection:  # type: ignore[attr-defined]
        apply_checklists(connection, ["d1"])
    listed = cli("actions", "list", "--db", url, "--case", "d1", "--json")  # type: ignore[operator]
    actions = json.loads(listed.stdout)["actions"]
    assert len(actions) == 16 and all(a["overdue"] for a in actions)  # 2014 is long past
    first = str(actions[0]["id"])
    ok = cli("actions", "allocate", first, "--officer", "DS A", "--to", "DC B", "--db", url)  # type: ignore[operator]
    assert ok.exit_code == 0 and "owner DC B" in ok.stdout
    illegal = cli("actions", "file", first, "--officer", "DS A", "--db", url)  # type: ignore[operator]
    assert illegal.exit_code == 2 and illegal.stderr.startswith("caselink: error: action") and illegal.stdout == ""
    nobody = cli("actions", "complete", first, "--db", url, env={"CASELINK_USER": ""})  # type: ignore[operator]
    assert nobody.exit_code == 2 and "--officer" in nobody.stderr
    unknown = cli("actions", "refer", "4242", "--officer", "DS A", "--db", url)  # type: ignore[operator]
    assert unknown.exit_code == 2 and "no action 4242" in unknown.stderr
    env_user = cli("actions", "complete", first, "--db", url, "--note", "done", env={"CASELINK_USER": "DC B"})  # type: ignore[operator]
    assert env_user.exit_code == 0
    overdue = cli("actions", "list", "--db", url, "--overdue", "--json")  # type: ignore[operator]
    assert first not in {str(a["id"]) for a in json.loads(overdue.stdout)["actions"]}
    unknown_case = cli("actions", "list", "--db", url, "--case", "zz")  # type: ignore[operator]
    assert unknown_case.exit_code == 2 and "no case 'zz'" in unknown_case.stderr


def test_now_without_an_offset_is_london_time_as_everywhere_else(cli: object, assurance_db: object) -> None:
    """``--now 2014-06-19T10:30`` means 10:30 in London (09:30 UTC in summer), as it does for
    ``oversight missed --now`` and for times in imported files: d1 was found at 08:00 UTC, so its
    two-hour step (due 10:00 UTC) is not yet overdue then."""
    url = assurance_db.url  # type: ignore[attr-defined]
    assert cli("checklists", "apply", "--db", url, "--case", "d1").exit_code == 0  # type: ignore[operator]

    def overdue_steps(now: str) -> set[str]:
        shown = cli("actions", "list", "--db", url, "--case", "d1", "--overdue", "--now", now,  # type: ignore[operator]
                    "--json")
        assert shown.exit_code == 0, shown.stderr
        return {a["step_id"] for a in json.loads(shown.stdout)["actions"]}

    assert "S01_CLASSIFY" not in overdue_steps("2014-06-19T10:30")
    assert overdue_steps("2014-06-19T10:30") == overdue_steps("2014-06-19T09:30:00+00:00")
    assert "S01_CLASSIFY" in overdue_steps("2014-06-19T11:30")
    escalated = cli("escalations", "--db", url, "--json", "--now", "2014-06-19T10:30")  # type: ignore[operator]
    assert "S01_CLASSIFY" not in escalated.stdout


def test_allocating_to_a_blank_name_is_not_an_allocation_to_nobody(connection: Connection) -> None:
    """``--to "   "`` left the step 'allocated' with an empty owner: nobody was accountable for it, yet it no
    longer counted as never allocated.  A blank owner means the same as none: the officer takes it."""
    apply_checklists(connection, ["d1"])
    action_id = list_actions(connection, case_id="d1")[0]["id"]
    moved = transition_action(connection, action_id, "allocated", "DS Walk", owner="   ")
    assert moved["owner"] == "DS Walk"
    assert next(a for a in list_actions(connection, case_id="d1") if a["id"] == action_id)["owner"] == "DS Walk"
