"""``caselink actions|decide|decisions|signoff|escalations|checklists``: the assurance verbs.

Each command is a thin shell over :mod:`caselink.assurance`: open the store, run one function in
one transaction, print text or ``--json``.  Assurance errors become the one-line error contract
(exit 2 for bad input, 1 otherwise) with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer

from caselink import assurance
from caselink.audit import AuditError, record_event
from caselink.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    DbOption,
    JsonOption,
    OfficerOption,
    fail,
    officer_name,
    open_store,
    print_json,
    require_officer,
    require_rationale,
    warn,
)
from caselink.commands.ingest import AFTER_INGEST
from caselink.schema import DEFAULT_TZ, parse_when
from caselink.store import CaseStore, IngestResult

T = TypeVar("T")

actions_app = typer.Typer(help="Checklist steps as actions: list them and move them on.", no_args_is_help=True)
checklists_app = typer.Typer(help="Checklists of basic steps: list, check and apply them.", no_args_is_help=True)

ChecklistsOption = Annotated[
    list[Path] | None,
    typer.Option("--checklists", help="A folder of extra checklist YAML files (also $CASELINK_CHECKLISTS)."),
]
NowOption = Annotated[str | None, typer.Option(
    "--now", help=f"Evaluate as of this ISO 8601 time (default: now); without an offset, {DEFAULT_TZ} time.")]


def parse_now(value: str | None) -> datetime | None:
    """``--now`` as a UTC instant; a time without an offset is London time, as in imported files and
    in ``caselink oversight ... --now`` (the same words must mean the same moment everywhere)."""
    if value is None:
        return None
    try:
        return parse_when(value, ZoneInfo(DEFAULT_TZ))[0]
    except ValueError:
        fail(f"--now: '{value}' is not an ISO 8601 time (e.g. 2014-09-20T12:00)", EXIT_BAD_INPUT)


def run_in_transaction(db: str | None, work: Callable[[Any], T]) -> T:
    """Run ``work(connection)`` in one transaction; assurance/audit errors become one-line errors."""
    store = open_store(db)
    try:
        with store.engine.begin() as connection:
            return work(connection)
    except assurance.AssuranceError as exc:
        fail(str(exc), EXIT_BAD_INPUT if exc.bad_input else EXIT_FAILURE)
    except AuditError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()


@actions_app.command("list")
def list_command(
    db: DbOption = None,
    case: Annotated[str | None, typer.Option("--case", help="Only this case's actions.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only outstanding steps past their due time.")] = False,
    state: Annotated[str | None, typer.Option("--state", help="Only actions in this state.")] = None,
    now: NowOption = None,
    justification: Annotated[str | None, typer.Option(
        help="Why you are reading this case's actions (logged with --case; default 'actions list').")] = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """List actions by due time.

    One case's actions carry the notes of what was done on it, so ``--case`` is logged as a
    consultation of that case (DESIGN §6: every access).
    """
    moment = parse_now(now)
    actions = run_in_transaction(db, lambda c: assurance.list_actions(
        c, case_id=case, overdue=True if overdue else None, now=moment, state=state))
    if case is not None and actions:
        from caselink.commands.cases import log_case_view

        log_case_view(db, case, officer, justification, "actions list")
    if as_json:
        print_json({"actions": actions})
        return
    for action in actions:
        flag = " OVERDUE" if action["overdue"] else ""
        typer.echo(f"{action['id']:>6}  {action['case_id']:<20} {action['step_id']:<28} {action['state']:<15} "
                   f"due {action['due_at']}  owner {action['owner'] or '-'}{flag}")
    typer.echo(f"{len(actions)} action(s)")


def _transition_command(verb: str, to_state: str) -> Callable[..., None]:
    def command(
        action_id: Annotated[int, typer.Argument(help="The action's id (from `caselink actions list`).")],
        officer: OfficerOption = None,
        note: Annotated[str | None, typer.Option("--note", help="What was done, or why.")] = None,
        to: Annotated[str | None, typer.Option("--to", help="Allocate to this officer (default: --officer).")]
        = None,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        who = require_officer(officer)
        if to is not None and to_state != "allocated":
            fail("--to applies only to `actions allocate`", EXIT_BAD_INPUT)
        action = run_in_transaction(db, lambda c: assurance.transition_action(
            c, action_id, to_state, who, note=note, owner=to))
        if as_json:
            print_json(action)
        else:
            typer.echo(f"action {action_id} ({action['step_id']}, case {action['case_id']}) is now {to_state}"
                       + (f", owner {action['owner']}" if action["owner"] else ""))
    command.__doc__ = f"Move an action to '{to_state}' ({verb}); illegal transitions are refused."
    return command


for _verb, _state in assurance.VERBS.items():
    actions_app.command(_verb)(_transition_command(_verb, _state))


def decide_command(
    case_id: Annotated[str, typer.Argument(help="The case the decision is about.")],
    kind: Annotated[str, typer.Option("--kind", help="classification, referral, closure or line_of_enquiry.")],
    value: Annotated[str, typer.Option("--value", help="The decision (a classification: one of the four).")],
    rationale: Annotated[str | None, typer.Option("--rationale", help="Why (required).")] = None,
    officer: OfficerOption = None,
    alternatives: Annotated[str | None, typer.Option("--alternatives", help="Alternatives considered.")] = None,
    supersedes: Annotated[int | None, typer.Option("--supersedes", help="The decision this one replaces.")]
    = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a decision in the case's policy file (never edited; superseded by a later one)."""
    who = require_officer(officer)
    reason = require_rationale(rationale)

    def work(connection: Any) -> dict[str, Any]:
        decision_id = assurance.decide(connection, case_id, kind, value, who, reason, alternatives, supersedes)
        return next(d for d in assurance.list_decisions(connection, case_id) if d["id"] == decision_id)

    decision = run_in_transaction(db, work)
    if as_json:
        print_json(decision)
        return
    pending = " - pending supervisor sign-off" if decision["status"] == "pending_signoff" else ""
    typer.echo(f"decision {decision['id']} recorded for case {case_id}: {kind} = {decision['value']}{pending}")


def decisions_command(
    case_id: Annotated[str, typer.Argument(help="The case whose policy file to show.")],
    db: DbOption = None,
    justification: Annotated[str | None, typer.Option(
        help="Why you are reading the policy file (logged; default 'policy file').")] = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a case's policy file: every decision, who made it, why, and its status.

    The policy file is case data, so reading it is a consultation and is logged (DPA 2018 s.62),
    in the same transaction as the read."""
    who = officer_name(officer)

    def read(connection: Any) -> list[dict[str, Any]]:
        decisions = assurance.list_decisions(connection, case_id)
        if decisions:
            record_event(connection, action="consultation", officer=who, case_ids=[case_id],
                         justification=(justification or "").strip() or "policy file",
                         details={"view": "decisions", "channel": "cli"})
        return decisions

    decisions = run_in_transaction(db, read)
    if as_json:
        print_json({"case_id": case_id, "decisions": decisions})
        return
    for d in decisions:
        typer.echo(f"{d['id']:>5}  {d['made_at']}  {d['kind']:<16} {d['value']:<32} {d['officer']:<20} {d['status']}")
        typer.echo(f"       rationale: {d['rationale']}")
        if d["alternatives"]:
            typer.echo(f"       alternatives: {d['alternatives']}")
    typer.echo(f"{len(decisions)} decision(s)")


def signoff_command(
    decision_id: Annotated[int, typer.Argument(help="The decision to sign off.")],
    officer: OfficerOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A supervisor signs off a decision (not their own)."""
    who = require_officer(officer)
    signoff_id = run_in_transaction(db, lambda c: assurance.signoff(c, decision_id, who))
    if as_json:
        print_json({"signoff_id": signoff_id, "decision_id": decision_id, "officer": who})
    else:
        typer.echo(f"decision {decision_id} signed off by {who}")


def escalations_command(
    db: DbOption = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Rule file (default: packaged rules, "
                                                                 "or $CASELINK_ESCALATION_RULES).")] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the escalation rules now, and list every open escalation."""
    moment = parse_now(now)

    def work(connection: Any) -> list[dict[str, Any]]:
        return assurance.evaluate_escalations(connection, now=moment, rules=assurance.load_rules(rules))

    open_escalations = run_in_transaction(db, work)
    if as_json:
        print_json({"escalations": open_escalations})
        return
    for e in open_escalations:
        mark = "NEW " if e["new"] else "    "
        typer.echo(f"{mark}{e['id']:>5}  {e['rule_id']:<28} -> {e['escalate_to']:<30} {e['message']}")
    typer.echo(f"{len(open_escalations)} open escalation(s), {sum(e['new'] for e in open_escalations)} new")


@checklists_app.command("list")
def checklists_list(checklists: ChecklistsOption = None, as_json: JsonOption = False) -> None:
    """Show the checklists in force (defaults plus --checklists folders)."""
    try:
        loaded = assurance.load_checklists(checklists or [])
    except assurance.ConfigFileError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    if as_json:
        print_json({"checklists": [{"name": c.name, "source": c.source, "applies_to": c.applies_to,
                                    "steps": [s.__dict__ for s in c.steps]} for c in loaded]})
        return
    for checklist in loaded:
        typer.echo(f"{checklist.name} ({len(checklist.steps)} steps) from {checklist.source}")
        for step in checklist.steps:
            typer.echo(f"  {step.id:<28} due {step.due_hours:g} h  {step.title}")


@checklists_app.command("check")
def checklists_check(path: Annotated[Path, typer.Argument(help="A checklist or escalation-rule YAML file.")]) -> None:
    """Validate a checklist or rule file; errors name the line."""
    from caselink.assurance.yamlfile import load_located

    try:
        document = load_located(path).data
        if isinstance(document, dict) and "rules" in document:
            found = f"{len(assurance.parse_rules(path))} rule(s)"
        else:
            found = f"{len(assurance.parse_checklist(path).steps)} step(s)"
    except assurance.ConfigFileError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    typer.echo(f"{path}: ok, {found}")


@checklists_app.command("apply")
def checklists_apply(
    db: DbOption = None,
    case: Annotated[list[str] | None, typer.Option("--case", help="Only these cases (default: all).")] = None,
    checklists: ChecklistsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create the missing actions for cases (idempotent)."""
    try:
        loaded = assurance.load_checklists(checklists or [])
    except assurance.ConfigFileError as exc:
        fail(str(exc), EXIT_BAD_INPUT)

    def work(connection: Any) -> int:
        from sqlalchemy import select

        from caselink.store.models import CaseRow
        ids = case or list(connection.execute(select(CaseRow.case_id).order_by(CaseRow.case_id)).scalars())
        return assurance.apply_checklists(connection, ids, loaded)

    created = run_in_transaction(db, work)
    if as_json:
        print_json({"n_actions_created": created})
    else:
        typer.echo(f"{created} action(s) created")


def apply_checklists_after_ingest(store: CaseStore, result: IngestResult) -> dict[str, Any]:
    """AFTER_INGEST hook: every new or changed case gets the steps its checklists now require."""
    try:
        checklists = assurance.load_checklists()
        changed = store.case_ids_changed_by(result.import_id)
        with store.engine.begin() as connection:
            created = assurance.apply_checklists(connection, changed, checklists)
    except assurance.AssuranceError as exc:
        warn(f"checklists were not applied: {exc}")
        return {"n_actions_created": 0}
    return {"n_actions_created": created}


def register(app: typer.Typer) -> None:
    app.add_typer(actions_app, name="actions")
    app.add_typer(checklists_app, name="checklists")
    app.command("decide")(decide_command)
    app.command("decisions")(decisions_command)
    app.command("signoff")(signoff_command)
    app.command("escalations")(escalations_command)
    if apply_checklists_after_ingest not in AFTER_INGEST:
        AFTER_INGEST.append(apply_checklists_after_ingest)
