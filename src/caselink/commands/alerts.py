"""``caselink alerts``: list linkage alerts, read one, and triage them from the terminal.

``caselink alerts [--json]`` lists the open alerts as it always has (issue 3, contract); the verbs
``show``, ``acknowledge``, ``assign`` and ``dismiss`` act through :mod:`caselink.linkage.triage`,
the same code as the web app, so the state rules and audit entries cannot differ between them.
Listing and showing log a consultation of the cases named (DPA 2018 s.62), as the web inbox does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy import Connection

from caselink.commands import cases
from caselink.commands.common import (
    EXIT_BAD_INPUT,
    DbOption,
    JsonOption,
    OfficerOption,
    fail,
    open_store,
    print_json,
    require_officer,
)
from caselink.commands.linkage import alert_line

alerts_app = typer.Typer(help="Linkage alerts.  Without a command, list them: open ones by default, oldest first, "
                              "logged as a consultation; options --status open|acknowledged|assigned|dismissed|all, "
                              "--officer NAME (who is reading), --db URL, --json.  The commands show one alert and "
                              "triage it.", invoke_without_command=True)

STATUS_CHOICES = ("open", "acknowledged", "assigned", "dismissed", "all")
_MAX_ID = 2**63 - 1
AlertId = Annotated[str, typer.Argument(metavar="ID", help="The alert's id (the 'id' of 'caselink alerts --json').")]


def _alert_id(text: str) -> int:
    """The id as an integer, refused in one line (Typer's own message for a bad int is a box)."""
    try:
        alert_id = int(text.strip())
    except ValueError:
        fail(f"alert id '{text}' is not a number; 'caselink alerts --status all' lists the ids", EXIT_BAD_INPUT)
    if not 1 <= alert_id <= _MAX_ID:
        fail(f"no alert {alert_id}; 'caselink alerts --status all' lists the ids", EXIT_BAD_INPUT)
    return alert_id


def _status_note(alert: dict[str, Any]) -> str:
    status = alert.get("status", "open")
    if status == "assigned":
        return f"alert {alert['id']}, assigned to {alert['assigned_to']}"
    return f"alert {alert['id']}" + ("" if status == "open" else f", {status}")


@alerts_app.callback()
def alerts_command(
    ctx: typer.Context,
    db: DbOption = None,
    status: Annotated[str, typer.Option(
        "--status", help="Which alerts: open (default), acknowledged, assigned, dismissed or all.")] = "open",
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """List alerts (open ones by default), oldest first: cases that started, joined or merged a series
    when they were ingested.  Listing is logged as a consultation of the cases named."""
    if ctx.invoked_subcommand is not None:
        return
    from caselink.linkage import triage

    chosen = status.strip().lower()
    if chosen not in STATUS_CHOICES:
        fail(f"--status: '{status}' is not one of {', '.join(STATUS_CHOICES)}", EXIT_BAD_INPUT)
    store = open_store(db)
    alerts = triage.list_alerts(store.engine, None if chosen == "all" else chosen, None, newest_first=False)
    cases.log_consultation(store, sorted({c for a in alerts for c in a["case_ids"]}), officer, "alerts list",
                           {"view": "alerts", "status": chosen, "n_alerts": len(alerts)})
    store.close()
    if as_json:
        print_json({"alerts": alerts})
        return
    if not alerts:
        typer.echo(f"no {'' if chosen == 'all' else chosen + ' '}alerts")
    for alert in alerts:
        head, _, reasons = alert_line(alert).partition("\n")
        typer.echo(f"{head}  ({_status_note(alert)})" + (f"\n{reasons}" if reasons else ""))


@alerts_app.command("show")
def show_command(
    alert_id: AlertId,
    db: DbOption = None,
    justification: Annotated[str, typer.Option(
        "--justification", help="Why you are reading it (logged, DPA 2018 s.62).")] = "alert review",
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one alert: its state, its reasons and the cases it names (logged as a consultation)."""
    from caselink.linkage import triage

    number = _alert_id(alert_id)
    if not justification.strip() or "\x00" in justification:
        fail("--justification: give a reason without NUL characters (logged, DPA 2018 s.62)", EXIT_BAD_INPUT)
    store = open_store(db)
    try:
        with store.engine.connect() as connection:
            alert = triage.get_alert(connection, number)
            alert["cases"] = triage.case_summaries(connection, alert["case_ids"])
    except triage.TriageError as exc:
        store.close()
        fail(str(exc), EXIT_BAD_INPUT)
    cases.log_consultation(store, sorted(set(alert["case_ids"])), officer, justification.strip(),
                           {"view": "alert", "alert_id": number})
    store.close()
    if as_json:
        print_json(alert)
        return
    typer.echo(alert_line(alert))
    state = alert["status"] + (f" to {alert['assigned_to']}" if alert["status"] == "assigned" else "")
    if alert.get("decision_id"):
        state += f" (decision {alert['decision_id']} in the policy file of {alert['new_case_id']})"
    typer.echo(f"  alert {number}: {state}; raised {alert['raised_at']}")
    for case in alert["cases"]:
        typer.echo(f"  {case['case_id']}  found {case['found_at'][:10]}  {case['area'] or ''}  "
                   f"{case['place_type'] or ''}  {case['cause'] or ''}  "
                   f"{case['victim_age'] if case['victim_age'] is not None else ''} {case['victim_sex'] or ''}")


def _triage(db: str | None, act: Callable[[Connection], dict[str, Any]]) -> dict[str, Any]:
    """Run one triage step in one transaction; a refusal is one line, exit 2, nothing written."""
    from caselink.linkage.triage import TriageError

    store = open_store(db)
    try:
        with store.engine.begin() as connection:
            return act(connection)
    except TriageError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()


def _done(alert: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        print_json(alert)
    else:
        typer.echo(line)


@alerts_app.command("acknowledge")
def acknowledge_command(alert_id: AlertId, db: DbOption = None, officer: OfficerOption = None,
                        as_json: JsonOption = False) -> None:
    """Mark an open alert as seen (logged as an alteration)."""
    from caselink.linkage import triage

    number, who = _alert_id(alert_id), require_officer(officer)
    alert = _triage(db, lambda c: triage.acknowledge(c, number, who, channel="cli"))
    _done(alert, as_json, f"alert {number} ({alert['series_id']}, {alert['new_case_id']}) acknowledged by {who}")


@alerts_app.command("assign")
def assign_command(
    alert_id: AlertId,
    to: Annotated[str | None, typer.Option("--to", help="The officer who should review the alert.")] = None,
    db: DbOption = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give an alert to an officer to review; assigning again moves it on (logged as an alteration)."""
    from caselink.linkage import triage

    number, who = _alert_id(alert_id), require_officer(officer)
    if to is None:
        fail("--to NAME is required: the officer who should review the alert", EXIT_BAD_INPUT)
    alert = _triage(db, lambda c: triage.assign(c, number, who, to, channel="cli"))
    _done(alert, as_json, f"alert {number} ({alert['series_id']}, {alert['new_case_id']}) assigned to "
                          f"{alert['assigned_to']} by {who}")


@alerts_app.command("dismiss")
def dismiss_command(
    alert_id: AlertId,
    reason: Annotated[str | None, typer.Option(
        "--reason", help="Why the case is not part of the series (at least 5 characters; goes in the policy file).")
    ] = None,
    db: DbOption = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dismiss an alert: a line_of_enquiry decision in the new case's policy file, with your reason."""
    from caselink.linkage import triage

    number, who = _alert_id(alert_id), require_officer(officer)
    if reason is None:
        fail("--reason TEXT is required: why the case is not part of the series (goes in the policy file)",
             EXIT_BAD_INPUT)
    alert = _triage(db, lambda c: triage.dismiss(c, number, who, reason))
    _done(alert, as_json, f"alert {number} ({alert['series_id']}, {alert['new_case_id']}) dismissed by {who}: "
                          f"decision {alert['decision_id']} in the policy file of {alert['new_case_id']}")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
