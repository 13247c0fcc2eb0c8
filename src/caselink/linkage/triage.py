"""Triage of linkage alerts: list, read, acknowledge, assign to an officer, dismiss with a reason.

One place for the web app and the CLI, so a state rule or an audit entry cannot differ between
them.  Each state change runs inside the caller's transaction (``with engine.begin() as
connection``) together with its audit entry, and is refused with a :class:`TriageError` before
anything is written when the alert is unknown, the input is bad or the alert's state forbids it.

States and what each verb does from them (a dismissal is final: it is an accountable decision in
the policy file of the alert's new case, kind ``line_of_enquiry``)::

    verb         open   acknowledged   assigned                   dismissed
    acknowledge  ->ack  refused        refused (keeps assignee)   refused
    assign       ->asg  ->asg          ->asg (another officer)    refused
    dismiss      ->dis  ->dis          ->dis                      refused
"""

from __future__ import annotations

import json
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, String, Table, bindparam, select

from caselink.assurance import AssuranceError, UnknownCase, decide
from caselink.assurance.facts import ALERT_DISMISSAL
from caselink.audit import record_event
from caselink.linkage.models import AlertRow
from caselink.store.models import CaseRow

ALERTS = cast(Table, AlertRow.__table__)
CASES = cast(Table, CaseRow.__table__)

STATUSES = ("open", "acknowledged", "assigned", "dismissed")
RATIONALE_MIN, RATIONALE_MAX, ASSIGNEE_MAX, OFFICER_MAX = 5, 5000, 100, 200
# The states each verb may start from (see the module docstring).
ALLOWED_FROM = {"acknowledge": ("open",), "assign": ("open", "acknowledged", "assigned"),
                "dismiss": ("open", "acknowledged", "assigned")}
PAST = {"acknowledge": "acknowledged", "assign": "assigned", "dismiss": "dismissed"}


class TriageError(Exception):
    """Refused before anything was written; ``str(exc)`` is the one-line message.

    ``kind`` tells a front end what went wrong: ``not_found`` (HTTP 404), ``conflict`` (the alert's
    state forbids it, 409) or ``invalid`` (bad input, 422).  The CLI exits 2 for all three.
    """

    def __init__(self, message: str, kind: Literal["not_found", "conflict", "invalid"]) -> None:
        super().__init__(message)
        self.kind = kind


# The columns an alert is shown with, in the order alert_dict unpacks them.
ALERT_COLUMNS = (ALERTS.c.id, ALERTS.c.at, ALERTS.c.kind, ALERTS.c.new_case_id, ALERTS.c.series_id,
                 ALERTS.c.case_ids, ALERTS.c.probability, ALERTS.c.reasons, ALERTS.c.status, ALERTS.c.details,
                 ALERTS.c.raised_at)
# Statements of the inbox are built once (the bound values are parameters): it is a hot page.
_NEWEST_FIRST = (select(*ALERT_COLUMNS).order_by(ALERTS.c.at.desc(), ALERTS.c.id.desc())
                 .limit(bindparam("limit")).offset(bindparam("offset")))
_NEWEST_FIRST_BY_STATUS = _NEWEST_FIRST.where(ALERTS.c.status == bindparam("status", type_=String))
_OLDEST_FIRST = (select(*ALERT_COLUMNS).order_by(ALERTS.c.at, ALERTS.c.id)
                 .limit(bindparam("limit")).offset(bindparam("offset")))
_OLDEST_FIRST_BY_STATUS = _OLDEST_FIRST.where(ALERTS.c.status == bindparam("status", type_=String))
_ONE_ALERT = select(*ALERT_COLUMNS).where(ALERTS.c.id == bindparam("alert_id"))
_CASE_SUMMARIES = (select(CASES.c.case_id, CASES.c.found_at, CASES.c.area, CASES.c.place_type, CASES.c.cause,
                          CASES.c.victim_age, CASES.c.victim_sex)
                   .where(CASES.c.case_id.in_(bindparam("case_ids", expanding=True))).order_by(CASES.c.found_at))


def _details(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text and text != "{}" else {}


def alert_dict(row: Any) -> dict[str, Any]:
    """An alert as the API and ``caselink alerts --json`` give it, from a row of ALERT_COLUMNS
    (unpacked: cheaper than a mapping on the inbox's hot path)."""
    alert_id, at, kind, new_case_id, series_id, case_ids, probability, reasons, status, details, raised_at = row
    assigned_to = _details(details).get("assigned_to")
    return {"id": alert_id, "at": at, "kind": kind, "new_case_id": new_case_id, "series_id": series_id,
            "case_ids": list(case_ids), "probability": probability, "reasons": list(reasons), "status": status,
            "assigned_to": assigned_to, "raised_at": raised_at.isoformat(timespec="seconds")}


def list_alerts(target: Engine | Connection, status: str | None = "open", limit: int | None = 100, offset: int = 0,
                *, newest_first: bool = True) -> list[dict[str, Any]]:
    """Alerts in one state (all of them with ``status=None``); newest first unless ``newest_first=False``.

    ``limit=None`` returns every match (the CLI's listing has no page size).
    """
    if status is not None and status not in STATUSES:
        raise TriageError(f"unknown alert status '{status}'; use one of {', '.join(STATUSES)} or all", "invalid")
    if isinstance(target, Engine):
        with target.connect() as connection:
            return list_alerts(connection, status, limit, offset, newest_first=newest_first)
    if newest_first:
        query = _NEWEST_FIRST_BY_STATUS if status else _NEWEST_FIRST
    else:
        query = _OLDEST_FIRST_BY_STATUS if status else _OLDEST_FIRST
    params: dict[str, Any] = {"limit": -1 if limit is None and target.dialect.name == "sqlite" else limit,
                              "offset": offset}
    if status:
        params["status"] = status
    return [alert_dict(r) for r in target.execute(query, params)]


def get_alert(connection: Connection, alert_id: int) -> dict[str, Any]:
    """One alert (as :func:`alert_dict`), plus ``decision_id``: the dismissal's decision, if any."""
    row = connection.execute(_ONE_ALERT, {"alert_id": alert_id}).first()
    if row is None:
        raise TriageError(f"no alert {alert_id}; 'caselink alerts --status all' (or GET /api/alerts?status=all) "
                          "lists them", "not_found")
    alert = alert_dict(row)
    alert["decision_id"] = _details(row.details).get("decision_id")
    return alert


def case_summaries(connection: Connection, case_ids: list[str]) -> list[dict[str, Any]]:
    """The cases an alert names, in found order, summary fields only (no victim tags or entities)."""
    if not case_ids:
        return []
    rows = connection.execute(_CASE_SUMMARIES, {"case_ids": case_ids}).mappings().all()
    return [{**r, "found_at": r["found_at"].isoformat()} for r in rows]


def _clean(value: str | None, what: str, *, minimum: int, maximum: int) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise TriageError(f"{what} contains a NUL character (0x00); remove it", "invalid")
    if len(text) < minimum:
        raise TriageError(f"{what} is {'empty' if not text else 'too short'}: give at least {minimum} "
                          f"character{'s' if minimum > 1 else ''}", "invalid")
    if len(text) > maximum:
        raise TriageError(f"{what} is {len(text)} characters long; shorten it to at most {maximum}", "invalid")
    return text


def _refuse_state(alert: dict[str, Any], verb: str) -> None:
    """Raise ``conflict`` naming the alert's state, unless ``verb`` may start from it."""
    status = alert["status"]
    if status in ALLOWED_FROM[verb]:
        return
    alert_id, done = alert["id"], PAST[verb]
    if status == "dismissed":
        decision = f" (decision {alert['decision_id']})" if alert.get("decision_id") else ""
        raise TriageError(f"alert {alert_id} is already dismissed{decision}, a decision in the policy file of case "
                          f"'{alert['new_case_id']}'; a dismissal is final, so the alert cannot be {done}"
                          f"{' again' if verb == 'dismiss' else ''}; record any further decision in that "
                          "policy file", "conflict")
    if verb == "acknowledge" and status == "assigned":
        raise TriageError(f"alert {alert_id} is assigned to {alert['assigned_to']}, which already acknowledges it; "
                          "acknowledging would drop the assignment: assign it to someone else or dismiss it",
                          "conflict")
    raise TriageError(f"alert {alert_id} is already {status}", "conflict")


def _set_status(connection: Connection, alert: dict[str, Any], status: str, **details: Any) -> None:
    """Move the alert on only if its state is still the one read (a concurrent triage wins once)."""
    stored = connection.execute(select(ALERTS.c.details).where(ALERTS.c.id == alert["id"])).scalar_one()
    merged = {**_details(stored), **details}
    changed = connection.execute(ALERTS.update().where(ALERTS.c.id == alert["id"],
                                                       ALERTS.c.status == alert["status"])
                                 .values(status=status, details=json.dumps(merged)))
    if changed.rowcount != 1:
        raise TriageError(f"alert {alert['id']} was changed by someone else meanwhile; look at it again", "conflict")


def _alteration(connection: Connection, officer: str, alert: dict[str, Any], channel: str,
                **details: Any) -> int:
    return record_event(connection, action="alteration", officer=officer, case_ids=sorted(set(alert["case_ids"])),
                        details={"channel": channel, "object": "alert", "alert_id": alert["id"], **details})


def _officer(officer: str) -> str:
    return _clean(officer, "the acting officer", minimum=1, maximum=OFFICER_MAX)


def acknowledge(connection: Connection, alert_id: int, officer: str, *, channel: str) -> dict[str, Any]:
    """Mark an open alert as seen; returns the alert as it now is.  Audit: one ``alteration``."""
    officer = _officer(officer)
    alert = get_alert(connection, alert_id)
    _refuse_state(alert, "acknowledge")
    _set_status(connection, alert, "acknowledged")
    _alteration(connection, officer, alert, channel, status="acknowledged")
    return {**alert, "status": "acknowledged"}


def assign(connection: Connection, alert_id: int, officer: str, assignee: str, *, channel: str) -> dict[str, Any]:
    """Give an alert to ``assignee`` to review (re-assigning moves it on); one ``alteration`` entry."""
    officer = _officer(officer)
    assignee = _clean(assignee, "the officer to assign", minimum=1, maximum=ASSIGNEE_MAX)
    alert = get_alert(connection, alert_id)
    _refuse_state(alert, "assign")
    if alert["status"] == "assigned" and alert["assigned_to"] == assignee:
        raise TriageError(f"alert {alert_id} is already assigned to {assignee}", "conflict")
    _set_status(connection, alert, "assigned", assigned_to=assignee)
    _alteration(connection, officer, alert, channel, status="assigned", assigned_to=assignee)
    return {**alert, "status": "assigned", "assigned_to": assignee}


def dismiss(connection: Connection, alert_id: int, officer: str, rationale: str) -> dict[str, Any]:
    """Dismiss an alert: a ``line_of_enquiry`` decision in the new case's policy file (its own audit
    entry, ``decision``) and the status change, together.  Returns the alert with ``decision_id``."""
    officer = _officer(officer)
    reason = _clean(rationale, "the reason", minimum=RATIONALE_MIN, maximum=RATIONALE_MAX)
    alert = get_alert(connection, alert_id)
    _refuse_state(alert, "dismiss")
    try:
        decision_id = decide(
            connection, alert["new_case_id"], "line_of_enquiry",
            ALERT_DISMISSAL.format(alert_id=alert_id) + f": not part of series {alert['series_id']}",
            officer, reason, alternatives=f"keep alert {alert_id} open for review")
    except UnknownCase as exc:
        raise TriageError(str(exc), "not_found") from None
    except AssuranceError as exc:
        raise TriageError(str(exc), "invalid") from None
    _set_status(connection, alert, "dismissed", decision_id=decision_id)
    return {**alert, "status": "dismissed", "decision_id": decision_id}
