"""``caselink oversight timeline|missed|disparity|report`` and ``caselink decisions import FILE``.

Thin shells over :mod:`caselink.oversight`: parse options, run one function, print text or
``--json``.  Oversight errors become the one-line error contract (exit 2) with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from typer.core import TyperGroup

from caselink.audit import AuditError, record_event
from caselink.commands.common import (
    EXIT_BAD_INPUT,
    DbOption,
    JsonOption,
    OfficerOption,
    TzOption,
    check_tz,
    fail,
    officer_name,
    open_store,
    print_json,
    refuse_out_over_store,
)
from caselink.oversight import OversightError, Period
from caselink.schema import DEFAULT_TZ, parse_when
from caselink.store import CaseStore

T = TypeVar("T")

oversight_app = typer.Typer(help="Oversight: case timelines, missed steps, disparity analysis, the inspection "
                                 "report.", no_args_is_help=True)

FromOption = Annotated[str | None, typer.Option("--from", help="Cases found on or after this date (ISO 8601).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Cases found before this date (ISO 8601).")]
NowOption = Annotated[str | None, typer.Option("--now", help="Judge due times as of this ISO 8601 time "
                                                             "(default: now).")]


def _when(value: str | None, option: str, tz: str = DEFAULT_TZ) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value, ZoneInfo(tz))[0]
    except ValueError:
        fail(f"{option}: '{value}' is not an ISO 8601 date or time (e.g. 2014-06-19)", EXIT_BAD_INPUT)


def _period(found_from: str | None, found_to: str | None) -> Period:
    period = Period(_when(found_from, "--from"), _when(found_to, "--to"))
    if period.start and period.end and period.start >= period.end:
        fail(f"--from {found_from} is not before --to {found_to}; the period is empty", EXIT_BAD_INPUT)
    return period


def _run(db: str | None, work: Callable[[CaseStore], T]) -> T:
    """Run ``work(store)``; oversight and audit errors become the one-line error, exit 2."""
    store = open_store(db)
    try:
        return work(store)
    except (OversightError, AuditError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()


@oversight_app.command("timeline")
def timeline_command(
    case_id: Annotated[str, typer.Argument(help="The case whose timeline to show.")],
    db: DbOption = None,
    justification: Annotated[str, typer.Option(
        "--justification", help="Why you are looking (logged as a consultation, DPA 2018 s.62).")]
    = "oversight review of the case timeline",
    officer: OfficerOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every event of one case in order: found, ingest, actions, decisions, sign-offs, escalations, alerts,
    linkage, and every consultation (who looked, when, why)."""
    from caselink.oversight.timeline import case_timeline

    moment = _when(now, "--now")
    who = officer_name(officer)

    def work(store: CaseStore) -> dict[str, Any]:
        with store.engine.begin() as connection:
            timeline = case_timeline(connection, case_id, moment)
            record_event(connection, action="consultation", officer=who, case_ids=[case_id],
                         justification=justification, details={"view": "oversight timeline"})
        return timeline

    timeline = _run(db, work)
    if as_json:
        print_json(timeline)
        return
    for event in timeline["events"]:
        typer.echo(f"{event['at'] or '-':<28} {event['kind']:<20} {event['officer'] or '':<24} {event['summary']}")
        for key in ("rationale", "justification"):
            if event["details"].get(key):
                typer.echo(f"{'':<49}{key}: {event['details'][key]}")
    typer.echo(f"{timeline['n_events']} event(s) for case {case_id}")


@oversight_app.command("missed")
def missed_command(
    db: DbOption = None,
    found_from: FromOption = None,
    found_to: ToOption = None,
    teams: Annotated[Path | None, typer.Option("--teams", help="CSV officer,team: count by team (default: the "
                                                               "case's agency).")] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Checklist steps overdue, never done or done late: per case and in total, by step, team and officer."""
    from caselink.oversight.missed import load_teams, missed_steps

    period = _period(found_from, found_to)
    moment = _when(now, "--now")
    team_map = None
    if teams is not None:
        try:
            team_map = load_teams(teams)
        except OversightError as exc:
            fail(str(exc), EXIT_BAD_INPUT)
    result = _run(db, lambda store: missed_steps(store.engine, period, moment, team_map))
    if as_json:
        print_json(result)
        return
    t = result["totals"]
    typer.echo(f"period {result['period']}, as of {result['as_of']}: {t['n_cases']} case(s), {t['n_due']} step(s) "
               f"due, {t['n_missed']} missed ({t['n_not_done']} not done, of which {t['n_never_allocated']} never "
               f"allocated; {t['n_late']} done late) in {t['n_cases_with_missed_steps']} case(s)")
    for title, key, rows in (("by step", "step_id", result["by_step"]), ("by team", "team", result["by_team"]),
                             ("by officer", "officer", result["by_officer"][:20])):
        typer.echo(f"\n{title}:")
        for row in rows:
            share = f"{row['missed_share']:.0%}" if row["missed_share"] is not None else "-"
            typer.echo(f"  {str(row[key]):<32} missed {row['n_missed']:>7} of {row['n_due']:>7} due ({share}); "
                       f"not done {row['n_not_done']}, late {row['n_late']}")
    typer.echo("\ncases with the most missed steps:")
    for entry in result["cases"][:20]:
        steps = ", ".join(f"{s['step_id']} ({s['status']})" for s in entry["steps"])
        typer.echo(f"  {entry['case_id']:<24} {entry['n_missed']:>3}: {steps}")


@oversight_app.command("disparity")
def disparity_command(
    db: DbOption = None,
    by: Annotated[str, typer.Option("--by", help="victim_tags, victim_ethnicity, victim_sex or age_band.")]
    = "victim_tags",
    reference: Annotated[str | None, typer.Option("--reference", help="The group others are compared with "
                                                  "(default: no tag, else the largest group).")] = None,
    found_from: FromOption = None,
    found_to: ToOption = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0001, max=0.5, help="Flag when the BH q-value is "
                                                                              "below this.")] = 0.05,
    permutations: Annotated[int, typer.Option("--permutations", min=99, help="Permutations for the "
                                              "share-of-steps test.")] = 1999,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the permutation test.")] = 0,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Does effort differ between victim groups? Ratios, exact/permutation p, BH q, adjusted ratios."""
    from caselink.oversight.disparity import GROUPINGS, analyse, metric_label
    from caselink.oversight.measures import load_measures

    if by not in GROUPINGS:
        fail(f"--by: '{by}' is not a grouping field; use one of {', '.join(GROUPINGS)}", EXIT_BAD_INPUT)
    period = _period(found_from, found_to)
    moment = _when(now, "--now")
    result = _run(db, lambda store: analyse(load_measures(store.engine, period, moment), by, reference,
                                            alpha=alpha, permutations=permutations, seed=seed))
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result['n_cases']} unexpected death(s), {result['period']}; groups by {by} against "
               f"'{result['reference']}'; flag when q < {alpha}")
    current = None
    for row in result["metrics"]:
        if row["metric"] != current:
            current = row["metric"]
            typer.echo(f"\n{metric_label(current)}:")
        ci = f"[{row['ci'][0]:.2f}, {row['ci'][1]:.2f}]" if row["ci"] else "-"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        adjusted = f"{row['adjusted_ratio']:.2f}" if row["adjusted_ratio"] is not None else "-"
        typer.echo(f"  {'FLAG ' if row['flag'] else '     '}{row['group']:<24} n={row['n_group']:<7} "
                   f"{row['value_group']!s:<9} vs {row['value_reference']!s:<9} ratio {ratio:<6} {ci:<15} "
                   f"p={row['p_value']:.4g} q={row['q_value']:.4g} adjusted {adjusted}")
    if result["n_suppressed"]:
        typer.echo(f"\n{result['n_suppressed']} comparison(s) suppressed (fewer than 5 cases)")
    if result.get("n_erased"):
        typer.echo(f"{result['n_erased']} erased case(s) left out: their {by} was erased, so they are in no group")


@oversight_app.command("report")
def report_command(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write (self-contained).")],
    db: DbOption = None,
    found_from: FromOption = None,
    found_to: ToOption = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print it to PDF (OUT with .pdf) with headless "
                                                    "Chromium.")] = False,
    by: Annotated[str, typer.Option("--by", help="Grouping of the disparity table.")] = "victim_tags",
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """The inspection report: volumes, classifications, missed steps, alerts, disparity; small numbers
    suppressed."""
    from caselink.oversight.report import build_report, print_pdf, write_html

    if not out.parent.exists():
        fail(f"--out: folder {out.parent} does not exist", EXIT_BAD_INPUT)
    period = _period(found_from, found_to)
    moment = _when(now, "--now")
    checked = open_store(db)
    refuse_out_over_store(checked, out, "report")
    checked.close()
    report = _run(db, lambda store: build_report(store.engine, period, moment, by=by))
    write_html(report, out)
    written = {"html": str(out)}
    if pdf:
        target = out.with_suffix(".pdf")
        try:
            print_pdf(out, target)
        except OversightError as exc:
            fail(str(exc))
        written["pdf"] = str(target)
    if as_json:
        print_json({"n_cases": report.n_cases, "period": period.describe(), **written})
    else:
        typer.echo(f"report of {report.n_cases} case(s), {period.describe()}, written to "
                   + " and ".join(written.values()))


def import_decisions_command(
    path: Annotated[Path, typer.Argument(help="Legacy export: CSV or JSONL of decisions and actions.")],
    db: DbOption = None,
    tz: TzOption = DEFAULT_TZ,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import past decisions and action records (all or nothing; each entry logged)."""
    from caselink.oversight.legacy import import_legacy

    check_tz(tz)
    who = officer_name(officer)

    def work(store: CaseStore) -> dict[str, Any]:
        with store.engine.begin() as connection:
            return import_legacy(connection, path, who, tz).as_dict()

    summary = _run(db, work)
    if as_json:
        print_json(summary)
    else:
        typer.echo(f"imported {summary['n_rows']} row(s) from {path}: {summary['n_decisions']} decision(s), "
                   f"{summary['n_actions']} action(s), {summary['n_unchanged']} unchanged")


class DecisionsGroup(TyperGroup):
    """``decisions CASE_ID`` (the policy file, as before) and ``decisions import FILE`` side by side:
    a first argument that is not a sub-command is a case id for ``show``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


def install_decisions_import(app: typer.Typer) -> None:
    """Add ``import`` under ``decisions``, keeping the assurance area's ``decisions CASE_ID`` working.

    The assurance module (registered first) defines ``decisions`` as a single command; it becomes
    the ``show`` sub-command of a group that also holds ``import``.
    """
    for group in app.registered_groups:
        if group.name == "decisions" and group.typer_instance is not None:
            group.typer_instance.command("import")(import_decisions_command)
            return
    existing = next((c for c in app.registered_commands if c.name == "decisions"), None)
    decisions_app = typer.Typer(cls=DecisionsGroup, no_args_is_help=True,
                                help="A case's policy file (decisions CASE_ID), and importing historic decisions.")
    if existing is not None and existing.callback is not None:
        app.registered_commands.remove(existing)
        decisions_app.command("show")(existing.callback)
    decisions_app.command("import")(import_decisions_command)
    app.add_typer(decisions_app, name="decisions")


def register(app: typer.Typer) -> None:
    app.add_typer(oversight_app, name="oversight")
    install_decisions_import(app)
