"""Facts about the subjects escalation rules look at: actions, decisions and shared entities.

This is the only code that knows what a subject is; rules (``escalation_rules.yaml``) combine the
facts named here with the condition language of :mod:`caselink.assurance.conditions`.  Case fields
appear as ``case.<field>`` on actions and decisions.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, inspect, select, text

from caselink.assurance.conditions import hours_between
from caselink.assurance.models import ActionRow, DecisionRow, SignoffRow
from caselink.schema import SCHEMA_COLUMNS
from caselink.store.models import CaseRow

ACTIONS: Table = ActionRow.__table__  # type: ignore[assignment]
DECISIONS: Table = DecisionRow.__table__  # type: ignore[assignment]
SIGNOFFS: Table = SignoffRow.__table__  # type: ignore[assignment]
CASES: Table = CaseRow.__table__  # type: ignore[assignment]
CHUNK = 500

CASE_FACTS = tuple(f"case.{name}" for name in SCHEMA_COLUMNS)
#: How the policy-file entry of a dismissed linkage alert begins (``linkage.triage`` writes it), so a
#: rule can ask for a supervisor's sign-off of the dismissal (``dismisses_alert``).
ALERT_DISMISSAL = "linkage alert {alert_id} dismissed"
SUBJECT_FACTS: dict[str, tuple[str, ...]] = {
    "action": ("id", "case_id", "checklist", "step_id", "title", "state", "owner", "open", "overdue",
               "hours_overdue", "due_at", "created_at", "updated_at", *CASE_FACTS),
    "decision": ("id", "case_id", "kind", "value", "officer", "made_at", "superseded", "signed_off",
                 "requires_signoff", "in_open_alert", "dismisses_alert", *CASE_FACTS),
    "entity": ("entity", "kind", "n_cases", "n_deaths", "case_ids", "first_found_at", "last_found_at"),
}
TIME_FACTS: dict[str, tuple[str, ...]] = {
    "action": ("due_at", "created_at", "updated_at", "case.found_at"),
    "decision": ("made_at", "case.found_at"),
    "entity": ("first_found_at", "last_found_at"),
}
DEFAULT_SINCE = {"action": "due_at", "decision": "made_at", "entity": "last_found_at"}
OPEN_STATES = ("for_allocation", "allocated")


def _cases(connection: Connection, case_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(dict.fromkeys(case_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = connection.execute(select(CASES).where(CASES.c.case_id.in_(wanted[start:start + CHUNK])))
        for row in rows.mappings():
            found[row["case_id"]] = {f"case.{k}": row[k] for k in SCHEMA_COLUMNS if k in row}
    return found


def cases_in_open_alerts(connection: Connection) -> set[str]:
    """Case ids named by an open linkage alert; empty when linkage's ``alerts`` table is absent.

    Open means not yet settled: ``open``, and also ``acknowledged`` or ``assigned`` (someone has seen
    it, or was asked to review it, but the series stands until the alert is dismissed).  Otherwise one
    click on "acknowledge" would lift the sign-off a "not suspicious" classification needs.
    """
    if not inspect(connection).has_table("alerts"):
        return set()
    in_alert: set[str] = set()
    rows = connection.execute(text("SELECT new_case_id, case_ids FROM alerts "
                                   "WHERE status IN ('open', 'acknowledged', 'assigned')"))
    for new_case_id, case_ids in rows:
        if isinstance(case_ids, str):
            case_ids = json.loads(case_ids)
        in_alert.update(str(c) for c in (case_ids or []))
        if new_case_id:
            in_alert.add(str(new_case_id))
    return in_alert


def action_facts(connection: Connection, now: datetime, only_ids: list[int] | None = None) -> list[dict[str, Any]]:
    query = select(ACTIONS)
    if only_ids is not None:
        query = query.where(ACTIONS.c.id.in_(only_ids))
    actions = [dict(r) for r in connection.execute(query).mappings()]
    cases = _cases(connection, (a["case_id"] for a in actions))
    facts = []
    for action in actions:
        is_open = action["state"] in OPEN_STATES
        late = hours_between(action["due_at"], now)
        facts.append({**cases.get(action["case_id"], {}), **action, "open": is_open,
                      "overdue": bool(is_open and late is not None and late > 0),
                      "hours_overdue": late if is_open else None})
    return facts


def decision_facts(connection: Connection, only_ids: list[int] | None = None) -> list[dict[str, Any]]:
    query = select(DECISIONS)
    if only_ids is not None:
        query = query.where(DECISIONS.c.id.in_(only_ids))
    decisions = [dict(r) for r in connection.execute(query).mappings()]
    superseded = {s for (s,) in connection.execute(select(DECISIONS.c.supersedes)
                                                   .where(DECISIONS.c.supersedes.is_not(None)))}
    signed = {d for (d,) in connection.execute(select(SIGNOFFS.c.decision_id))}
    in_alert = cases_in_open_alerts(connection)
    cases = _cases(connection, (d["case_id"] for d in decisions))
    return [{**cases.get(d["case_id"], {}), **d, "superseded": d["id"] in superseded,
             "signed_off": d["id"] in signed, "in_open_alert": d["case_id"] in in_alert,
             "dismisses_alert": _dismisses_alert(d)} for d in decisions]


_DISMISSAL = re.compile(re.escape(ALERT_DISMISSAL).replace(re.escape("{alert_id}"), r"\d+"))


def _dismisses_alert(decision: dict[str, Any]) -> bool:
    return decision.get("kind") == "line_of_enquiry" and bool(_DISMISSAL.match(str(decision.get("value") or "")))


def entity_facts(connection: Connection) -> list[dict[str, Any]]:
    """Entities (a finder, a caller, a phone) that appear in two or more cases."""
    rows = connection.execute(text(
        "SELECT e.entity, e.kind, e.case_id, c.incident_type, c.found_at FROM case_entities e "
        "JOIN cases c ON c.case_id = e.case_id WHERE e.entity IN "
        "(SELECT entity FROM case_entities GROUP BY entity HAVING COUNT(*) >= 2) ORDER BY e.entity, c.found_at"
    )).all()
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    facts = []
    for entity, members in grouped.items():
        found = [m[4] for m in members if m[4] is not None]
        found = [datetime.fromisoformat(f) if isinstance(f, str) else f for f in found]
        facts.append({"entity": entity, "kind": members[0][1], "n_cases": len(members),
                      "n_deaths": sum(1 for m in members if m[3] == "death"),
                      "case_ids": [m[2] for m in members],
                      "first_found_at": min(found) if found else None, "last_found_at": max(found) if found else None})
    return facts


def subject_id(subject: str, facts: dict[str, Any]) -> str:
    return str(facts["entity"] if subject == "entity" else facts["id"])


def subject_case_ids(subject: str, facts: dict[str, Any]) -> list[str]:
    return list(facts["case_ids"]) if subject == "entity" else [facts["case_id"]]
