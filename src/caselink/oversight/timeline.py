"""One case's timeline: every event in order, the view an investigator of police conduct starts from.

Sources, each read where it is most complete:

* the case record: when the death was found (and its estimated window);
* ``actions`` and ``action_events``: each checklist step created, every state change, and each due
  time that passed with the step still outstanding (``step_missed``);
* ``decisions`` and ``signoffs``: the policy file, with rationale and alternatives;
* ``escalations``: raised and resolved;
* ``alerts``: linkage alerts naming the case and what became of them;
* ``audit_log``: collection and alteration by imports, linkage runs that combined the case
  (``combination``), and every consultation and disclosure with who, when and why.

Decisions, sign-offs, transitions and escalations are also in the audit log; they are taken from
their own tables (which hold the historic time of an imported decision), not twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, cast, or_, select

from caselink.assurance.models import ActionEventRow, ActionRow, DecisionRow, EscalationRow, SignoffRow
from caselink.audit import read_entries
from caselink.linkage.models import AlertRow
from caselink.oversight.errors import OversightError
from caselink.oversight.measures import utc_naive
from caselink.store.models import CaseRow

CASES = CaseRow.__table__
ACTIONS = ActionRow.__table__
EVENTS = ActionEventRow.__table__
DECISIONS = DecisionRow.__table__
SIGNOFFS = SignoffRow.__table__
ESCALATIONS = EscalationRow.__table__
ALERTS = AlertRow.__table__
FROM_TABLES = ("decision", "signoff", "action_transition", "escalation")
AUDIT_KINDS = {"collection": "ingest", "alteration": "altered", "combination": "linkage",
               "consultation": "consultation", "disclosure": "disclosure", "erasure": "erasure"}


def iso(moment: datetime | None) -> str | None:
    """Naive UTC as ISO 8601 with a Z, the form every timeline time takes."""
    return None if moment is None else moment.isoformat() + "Z"


def _audit_time(text: str) -> str:
    return text.replace("+00:00", "Z")


def _event(at: str | None, kind: str, summary: str, officer: str | None = None, **details: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, "officer": officer, "summary": summary,
            "details": {k: v for k, v in details.items() if v is not None}}


def case_timeline(connection: Connection, case_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Every event of ``case_id`` in time order; OversightError when the case is unknown."""
    case = connection.execute(select(CASES).where(CASES.c.case_id == case_id)).mappings().first()
    if case is None:
        raise OversightError(f"no case '{case_id}' in the store; `caselink cases list` shows the ids")
    moment = utc_naive(now)
    events = [_event(iso(case["found_at"]), "found", f"death reported ({case['cause'] or 'cause unknown'}, "
                     f"{case['place_type'] or 'place unknown'})", classification=case["classification"])]
    if case["died_from"] is not None:
        events.append(_event(iso(case["died_from"]), "died_window", "start of the estimated window of death",
                             died_to=iso(case["died_to"])))
    events += _action_events(connection, case_id, moment)
    events += _decision_events(connection, case_id)
    events += _escalation_events(connection, case_id)
    events += _alert_events(connection, case_id)
    events += _audit_events(connection, case_id)
    order = {kind: i for i, kind in enumerate(("found", "died_window", "ingest", "altered", "action_created"))}
    events.sort(key=lambda e: (e["at"] or "", order.get(e["kind"], 99)))
    return {"case_id": case_id, "as_of": iso(moment), "n_events": len(events), "events": events}


def _action_events(connection: Connection, case_id: str, moment: datetime) -> list[dict[str, Any]]:
    actions = {row["id"]: row for row in connection.execute(
        select(ACTIONS).where(ACTIONS.c.case_id == case_id)).mappings()}
    events = []
    for action in actions.values():
        events.append(_event(iso(action["created_at"]), "action_created", f"step {action['step_id']} created, "
                             f"due {iso(action['due_at'])}", step_id=action["step_id"], action_id=action["id"],
                             checklist=action["checklist"]))
        done = action["completed_at"]
        late = done is not None and done > action["due_at"]
        outstanding = done is None and action["state"] in ("for_allocation", "allocated") and action["due_at"] < moment
        if late or outstanding:
            what = "completed late" if late else f"still {action['state']}"
            events.append(_event(iso(action["due_at"]), "step_missed", f"step {action['step_id']} passed its due "
                                 f"time ({what})", step_id=action["step_id"], action_id=action["id"],
                                 owner=action["owner"]))
    if actions:
        rows = connection.execute(select(EVENTS).where(EVENTS.c.action_id.in_(list(actions)))
                                  .order_by(EVENTS.c.at, EVENTS.c.id)).mappings()
        for row in rows:
            step = actions[row["action_id"]]["step_id"]
            events.append(_event(iso(row["at"]), "action_transition", f"step {step}: {row['from_state']} -> "
                                 f"{row['to_state']}", row["officer"], step_id=step, action_id=row["action_id"],
                                 owner=row["owner"], note=row["note"]))
    return events


def _decision_events(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    decisions = [dict(r) for r in connection.execute(select(DECISIONS).where(DECISIONS.c.case_id == case_id)
                                                     .order_by(DECISIONS.c.made_at, DECISIONS.c.id)).mappings()]
    events = []
    for d in decisions:
        supersedes = f" (supersedes decision {d['supersedes']})" if d["supersedes"] else ""
        events.append(_event(iso(d["made_at"]), "decision", f"{d['kind']}: {d['value']}{supersedes}", d["officer"],
                             decision_id=d["id"], rationale=d["rationale"], alternatives=d["alternatives"],
                             requires_signoff=d["requires_signoff"] or None))
    ids = [d["id"] for d in decisions]
    if ids:
        for s in connection.execute(select(SIGNOFFS).where(SIGNOFFS.c.decision_id.in_(ids))).mappings():
            events.append(_event(iso(s["signed_at"]), "signoff", f"decision {s['decision_id']} signed off",
                                 s["officer"], decision_id=s["decision_id"]))
    return events


def _mentions(column: Any, case_id: str) -> Any:
    # JSON arrays of ids: a LIKE on the serialised text finds candidates on both dialects; the
    # caller confirms membership in Python (an id may be a prefix of another).
    # LIKE's wildcards are escaped: '%' and '_' are ordinary characters of a case id.
    pattern = json.dumps(case_id).replace("/", "//").replace("%", "/%").replace("_", "/_")
    return cast(column, Text).like("%" + pattern + "%", escape="/")


def _escalation_events(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    events = []
    for e in connection.execute(select(ESCALATIONS).where(_mentions(ESCALATIONS.c.case_ids, case_id))).mappings():
        if case_id not in (e["case_ids"] or []):
            continue
        events.append(_event(iso(e["raised_at"]), "escalation", f"{e['rule_id']} (level {e['level']}) -> "
                             f"{e['escalate_to']}: {e['message']}", escalation_id=e["id"], status=e["status"]))
        if e["resolved_at"] is not None:
            events.append(_event(iso(e["resolved_at"]), "escalation_resolved", f"{e['rule_id']} (level "
                                 f"{e['level']}) resolved", escalation_id=e["id"]))
    return events


def _alert_events(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    query = select(ALERTS).where(or_(ALERTS.c.new_case_id == case_id, _mentions(ALERTS.c.case_ids, case_id)))
    events = []
    for a in connection.execute(query.order_by(ALERTS.c.raised_at, ALERTS.c.id)).mappings():
        if a["new_case_id"] != case_id and case_id not in (a["case_ids"] or []):
            continue
        role = "raised by this case" if a["new_case_id"] == case_id else f"raised by {a['new_case_id']}"
        dismissal = _dismissal(connection, a["details"]) if a["status"] == "dismissed" else {}
        said = (f" by {dismissal['dismissed_by']} at {dismissal['dismissed_at']} (decision {dismissal['decision_id']}"
                f" in {dismissal['policy_file']}'s policy file): {dismissal['rationale']}") if dismissal else ""
        events.append(_event(iso(a["raised_at"]), "alert", f"linkage alert {a['id']} ({a['kind']}, series "
                             f"{a['series_id']}, p={a['probability']:.2f}) {role}; now {a['status']}{said}",
                             alert_id=a["id"], series_id=a["series_id"], status=a["status"], run_id=a["run_id"],
                             as_of=a["at"], **{k: v for k, v in dismissal.items() if k != "rationale"}))
    return events


def _dismissal(connection: Connection, stored: Any) -> dict[str, Any]:
    """Who dismissed an alert, when and why: the decision the dismissal wrote (in the new case's policy
    file), so the timelines of the alert's other cases can say it too, not only 'now dismissed'."""
    try:
        details = json.loads(stored) if isinstance(stored, str) else dict(stored or {})
        decision_id = int(details["decision_id"])
    except (ValueError, TypeError, KeyError):
        return {}
    decision = connection.execute(select(DECISIONS.c.case_id, DECISIONS.c.officer, DECISIONS.c.made_at,
                                         DECISIONS.c.rationale).where(DECISIONS.c.id == decision_id)).first()
    if decision is None:
        return {}
    return {"decision_id": decision_id, "dismissed_by": decision.officer, "dismissed_at": iso(decision.made_at),
            "policy_file": decision.case_id, "rationale": decision.rationale}


def _audit_events(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    events = []
    for entry in read_entries(connection, case_id=case_id):
        if entry.action in FROM_TABLES or entry.action not in AUDIT_KINDS:
            continue
        kind = AUDIT_KINDS[entry.action]
        details = entry.details or {}
        if kind in ("consultation", "disclosure"):
            recipient = details.get("recipient")
            summary = f"{entry.action} by {entry.officer}" + (f" to {recipient}" if recipient else "")
        elif kind == "ingest":
            summary = "collected" + (f" by import {details['import_id']}" if "import_id" in details else "")
        elif kind == "altered" and details.get("object") == "alert":
            # Alert triage is logged as an alteration of the alert, not of the case record.
            summary = f"alert {details.get('alert_id')} {details.get('status')}" + (
                f" to {details['assigned_to']}" if details.get("assigned_to") else "")
        elif kind == "altered":
            fields = (details.get("changes") or {}).get(case_id, {}).get("fields")
            summary = "record altered" + (f": {', '.join(fields)}" if fields else "")
        elif kind == "linkage":
            summary = "combined with other cases by linkage"
        else:
            summary = entry.action
        if entry.redacted_by is not None:
            # Blanked by an erasure (perhaps of another case the entry also names): say so, or a
            # consultation without its justification reads as a breach of s.62.
            summary += f" (justification and details erased by audit entry {entry.redacted_by})"
        events.append(_event(_audit_time(entry.at), kind, summary, entry.officer, audit_seq=entry.seq,
                             justification=entry.justification))
    return events
