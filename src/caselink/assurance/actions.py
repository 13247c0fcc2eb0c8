"""Actions: the state machine every checklist step moves through.

``for_allocation → allocated → completed → resulted → filed``, or ``referred`` (from either of the
first two).  Re-allocating an allocated action to another officer is allowed and recorded.  Every
transition writes an ``action_events`` row and an ``action_transition`` audit entry in the same
transaction, so the timeline and the log cannot disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from caselink.assurance.conditions import utc_naive
from caselink.assurance.errors import IllegalTransition, MissingField, UnknownAction, UnknownCase
from caselink.assurance.models import ActionEventRow, ActionRow
from caselink.audit import record_event
from caselink.store.models import CaseRow

ACTIONS: Table = ActionRow.__table__  # type: ignore[assignment]
EVENTS: Table = ActionEventRow.__table__  # type: ignore[assignment]

STATES = ("for_allocation", "allocated", "completed", "resulted", "filed", "referred")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "for_allocation": ("allocated", "referred"),
    "allocated": ("allocated", "completed", "referred"),
    "completed": ("resulted",),
    "resulted": ("filed",),
    "filed": (),
    "referred": (),
}
#: CLI verbs and the state each moves an action to.
VERBS = {"allocate": "allocated", "complete": "completed", "result": "resulted", "file": "filed",
         "refer": "referred"}
#: States in which the step is still outstanding, so it can be overdue.
OPEN_STATES = ("for_allocation", "allocated")


def _as_dict(row: Any, now: datetime) -> dict[str, Any]:
    action = dict(row)
    action["overdue"] = action["state"] in OPEN_STATES and action["due_at"] < now
    for key in ("due_at", "created_at", "updated_at", "completed_at"):
        if action[key] is not None:
            action[key] = action[key].isoformat() + "Z"
    return action


def get_action(connection: Connection, action_id: int, now: datetime | None = None) -> dict[str, Any]:
    row = connection.execute(select(ACTIONS).where(ACTIONS.c.id == action_id)).mappings().first()
    if row is None:
        raise UnknownAction(f"no action {action_id}; `caselink actions list` shows the ids")
    return _as_dict(row, utc_naive(now))


def list_actions(connection: Connection, case_id: str | None = None, overdue: bool | None = None,
                 now: datetime | None = None, state: str | None = None) -> list[dict[str, Any]]:
    """Actions by due time; ``overdue=True`` only outstanding steps past due, ``False`` only the rest.

    Times in the result are ISO 8601 UTC strings; each action has a boolean ``overdue``.
    """
    moment = utc_naive(now)
    query = select(ACTIONS).order_by(ACTIONS.c.due_at, ACTIONS.c.case_id, ACTIONS.c.step_id)
    if case_id is not None:
        exists = connection.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first()
        if exists is None:
            raise UnknownCase(f"no case '{case_id}' in the store; `caselink cases list` shows the ids")
        query = query.where(ACTIONS.c.case_id == case_id)
    if state is not None:
        if state not in STATES:
            raise IllegalTransition(f"unknown state '{state}'; states are {', '.join(STATES)}")
        query = query.where(ACTIONS.c.state == state)
    if overdue is True:
        query = query.where(ACTIONS.c.state.in_(OPEN_STATES), ACTIONS.c.due_at < moment)
    actions = [_as_dict(row, moment) for row in connection.execute(query).mappings()]
    if overdue is False:
        actions = [a for a in actions if not a["overdue"]]
    return actions


def transition_action(connection: Connection, action_id: int, to_state: str, officer: str,
                      note: str | None = None, owner: str | None = None,
                      now: datetime | None = None) -> dict[str, Any]:
    """Move an action to ``to_state`` (IllegalTransition if the machine forbids it) and log it.

    ``owner`` is who the action is allocated to (default: ``officer``); it only applies to
    ``allocated``.  Returns the action as :func:`list_actions` shows it.
    """
    if not officer or not officer.strip():
        raise MissingField("an officer is required: pass --officer NAME (or set CASELINK_USER)")
    if to_state not in STATES:
        raise IllegalTransition(f"unknown state '{to_state}'; states are {', '.join(STATES)}")
    moment = utc_naive(now)
    current = connection.execute(select(ACTIONS).where(ACTIONS.c.id == action_id)).mappings().first()
    if current is None:
        raise UnknownAction(f"no action {action_id}; `caselink actions list` shows the ids")
    from_state = current["state"]
    if to_state not in TRANSITIONS[from_state]:
        allowed = ", ".join(TRANSITIONS[from_state]) or "nothing (it is closed)"
        raise IllegalTransition(f"action {action_id} is {from_state}; it cannot become {to_state} "
                                f"(from {from_state} it can become: {allowed})")
    officer = officer.strip()
    # A blank owner is no owner (the officer takes it), never an 'allocated' step nobody holds.
    new_owner = ((owner or "").strip() or officer.strip()) if to_state == "allocated" else current["owner"]
    values: dict[str, Any] = {"state": to_state, "updated_at": moment, "owner": new_owner}
    if to_state == "completed":
        values["completed_at"] = moment
    if note:
        values["note"] = note
    seq = record_event(connection, action="action_transition", officer=officer, case_ids=[current["case_id"]],
                       details={"action_id": action_id, "step_id": current["step_id"],
                                "checklist": current["checklist"], "from": from_state, "to": to_state,
                                "owner": new_owner, "note": note})
    connection.execute(ACTIONS.update().where(ACTIONS.c.id == action_id).values(**values))
    connection.execute(EVENTS.insert().values(action_id=action_id, from_state=from_state, to_state=to_state,
                                              officer=officer, owner=new_owner, note=note, at=moment,
                                              audit_seq=seq))
    return get_action(connection, action_id, moment)


def action_history(connection: Connection, action_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(select(EVENTS).where(EVENTS.c.action_id == action_id).order_by(EVENTS.c.id))
    return [dict(r) for r in rows.mappings()]
