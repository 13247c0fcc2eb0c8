"""Missed steps: checklist steps that were not done by their due time, per case and in total.

A step is *missed* when it is either

* ``not_done``: still outstanding (``for_allocation`` or ``allocated``) after its due time - of
  which ``never_allocated`` is the part nobody was ever given; or
* ``late``: completed, but after its due time.

Referred steps belong to another team and are not counted.  Totals are broken down by step, by
team (the officer's team from a ``--teams`` file, else the case's owning agency) and by officer
(the step's owner; ``unallocated`` when it never had one).  Counts run in SQL, so 100,000 cases
cost a few grouped queries; per-case detail is fetched only for the missed steps.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, case, exists, func, or_, select

from caselink.assurance.models import ActionEventRow, ActionRow
from caselink.oversight.errors import OversightError
from caselink.oversight.measures import Period, utc_naive
from caselink.oversight.timeline import iso
from caselink.store.models import CaseRow

CASES = CaseRow.__table__
ACTIONS = ActionRow.__table__
EVENTS = ActionEventRow.__table__
OPEN = ("for_allocation", "allocated")
UNALLOCATED = "unallocated"
COUNTS = ("n_steps", "n_due", "n_not_done", "n_never_allocated", "n_late", "n_missed")


def load_teams(path: Path) -> dict[str, str]:
    """officer,team rows (a header line first); OversightError naming the line when malformed."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: Excel's "CSV UTF-8" starts with a BOM
    except OSError as exc:
        raise OversightError(f"--teams: cannot read {path} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise OversightError(f"--teams: {path} is not UTF-8 text; save it as CSV (UTF-8) with the header "
                             "'officer,team'") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0]][:2] != ["officer", "team"]:
        raise OversightError(f"{path}:1: the first line must be the header 'officer,team'")
    teams: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise OversightError(f"{path}:{line}: each line needs an officer and a team")
        officer, team = row[0].strip(), row[1].strip()
        if teams.get(officer, team) != team:
            # Last-one-wins would quietly move this officer's missed steps to another team's row.
            raise OversightError(f"{path}:{line}: officer '{officer}' is already in team '{teams[officer]}' "
                                 f"(line {first_line[officer]}); give each officer one team")
        teams[officer] = team
        first_line.setdefault(officer, line)
    return teams


def _conditions(moment: datetime) -> dict[str, Any]:
    """Each count's condition as things stood at ``moment``.

    A completion or allocation after ``moment`` had not happened yet (``--now`` is there so that a
    report can be reproduced later, whatever was done since); allocation is read from the step's
    history (``action_events``).  Owner and referral are the step's current ones.
    """
    done = and_(ACTIONS.c.completed_at.is_not(None), ACTIONS.c.completed_at <= moment)
    due = or_(ACTIONS.c.due_at <= moment, done)
    counted = ACTIONS.c.state != "referred"
    outstanding = or_(ACTIONS.c.state.in_(OPEN), ACTIONS.c.completed_at > moment)
    not_done = and_(counted, outstanding, ACTIONS.c.due_at < moment)
    given_by_then = exists(select(EVENTS.c.id).where(
        EVENTS.c.action_id == ACTIONS.c.id, EVENTS.c.from_state == "for_allocation", EVENTS.c.at <= moment))
    late = and_(counted, done, ACTIONS.c.completed_at > ACTIONS.c.due_at)
    return {"n_steps": counted, "n_due": and_(counted, due), "n_not_done": not_done,
            "n_never_allocated": and_(not_done, or_(ACTIONS.c.state == "for_allocation", ~given_by_then)),
            "n_late": late, "n_missed": or_(not_done, late)}


def missed_steps(engine: Engine, period: Period, now: datetime | None = None, teams: dict[str, str] | None = None,
                 include_cases: bool = True) -> dict[str, Any]:
    """Missed-step totals for cases found in ``period``; OversightError when no case has a step."""
    moment = utc_naive(now)
    conditions = _conditions(moment)
    in_period = and_(ACTIONS.c.case_id == CASES.c.case_id, *period.conditions(CASES.c.found_at))
    columns = [func.sum(case((condition, 1), else_=0)).label(name) for name, condition in conditions.items()]
    with engine.connect() as connection:
        n_cases = int(connection.execute(select(func.count(func.distinct(ACTIONS.c.case_id))).where(in_period))
                      .scalar_one())
        if n_cases == 0:
            raise OversightError(f"no case found in the period {period.describe()} has checklist steps; widen "
                                 "--from/--to, or apply checklists (`caselink checklists apply`)")
        grouped = pd.DataFrame([tuple(row) for row in connection.execute(
            select(ACTIONS.c.step_id, func.min(ACTIONS.c.title), CASES.c.agency, ACTIONS.c.owner, *columns)
            .where(in_period).group_by(ACTIONS.c.step_id, CASES.c.agency, ACTIONS.c.owner)
        ).all()], columns=["step_id", "title", "agency", "owner", *COUNTS])
        detail: list[Any] = []
        if include_cases:
            detail = list(connection.execute(
                select(ACTIONS.c.case_id, ACTIONS.c.step_id, ACTIONS.c.state, ACTIONS.c.owner, ACTIONS.c.due_at,
                       ACTIONS.c.completed_at, case((conditions["n_late"], 1), else_=0),
                       case((conditions["n_never_allocated"], 1), else_=0))
                .where(in_period, conditions["n_missed"]).order_by(ACTIONS.c.case_id, ACTIONS.c.due_at)).all())
    grouped[list(COUNTS)] = grouped[list(COUNTS)].fillna(0).astype(int)
    grouped["officer"] = grouped["owner"].fillna(UNALLOCATED)
    team_of = teams or {}
    grouped["team"] = [team_of.get(o) or a or "unknown" for o, a in zip(grouped["owner"].fillna(""),
                                                                        grouped["agency"], strict=True)]
    totals = {name: int(grouped[name].sum()) for name in COUNTS}
    totals["n_cases"] = n_cases
    result: dict[str, Any] = {
        "period": period.describe(), "as_of": iso(moment), "totals": totals,
        "by_step": _breakdown(grouped, ["step_id", "title"], "step_id"),
        "by_team": _breakdown(grouped, ["team"], "team"),
        "by_officer": _breakdown(grouped, ["officer"], "officer"),
    }
    if include_cases:
        result["cases"] = _per_case(detail, moment)
        totals["n_cases_with_missed_steps"] = len(result["cases"])
    return result


def _breakdown(grouped: pd.DataFrame, keys: list[str], sort_key: str) -> list[dict[str, Any]]:
    table = grouped.groupby(keys, dropna=False)[list(COUNTS)].sum().reset_index()
    table = table.sort_values(["n_missed", sort_key], ascending=[False, True])
    rows = []
    for record in table.to_dict("records"):
        row = {str(k): (int(v) if k in COUNTS else v) for k, v in record.items()}
        row["missed_share"] = round(row["n_missed"] / row["n_due"], 4) if row["n_due"] else None
        rows.append(row)
    return rows


def _per_case(detail: list[Any], moment: datetime) -> list[dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for case_id, step_id, state, owner, due_at, completed_at, late, never_allocated in detail:
        entry = cases.setdefault(case_id, {"case_id": case_id, "n_missed": 0, "steps": []})
        if late:
            status, hours = "late", (completed_at - due_at).total_seconds() / 3600
        else:
            completed_at = None  # if it was completed at all, that was after the moment judged
            status = "never_allocated" if never_allocated else "not_done"
            hours = (moment - due_at).total_seconds() / 3600
        entry["n_missed"] += 1
        entry["steps"].append({"step_id": step_id, "status": status, "state": state, "owner": owner,
                               "due_at": iso(due_at), "completed_at": iso(completed_at),
                               "hours_past_due": round(hours, 1)})
    return sorted(cases.values(), key=lambda c: (-c["n_missed"], c["case_id"]))
