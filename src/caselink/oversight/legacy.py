"""``caselink decisions import FILE``: past decisions and action records from a legacy export.

An inspection mostly looks backwards, at decisions made before caselink existed.  One CSV (header
line first) or JSONL file holds both kinds of row:

* a **decision**: ``case_id``, ``kind`` (classification, referral, closure, line_of_enquiry),
  ``value``, ``officer``, ``rationale``, ``decided_at``, optional ``alternatives``;
* an **action** (``kind`` = ``action``): ``case_id``, ``step_id``, ``state``, ``officer``, and the
  times ``due_at`` (default: the checklist's due hours after the death was reported),
  ``allocated_at``, ``completed_at`` (required for completed, resulted and filed), ``decided_at``
  (when the final state was recorded), optional ``owner``, ``checklist``, ``note``.

Times without an offset are local to ``tz`` (Europe/London), as in case files.  Like ingest, the
file is validated whole first and lands in one transaction or not at all; every problem names
``file:line: field``.  Each imported entry gets its own audit entry (officer: who imported; the
historic officer is in the details).  Re-importing the same file changes nothing: a decision
identical to one already in the policy file, or an action already in that state, is skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, select

from caselink import vocab
from caselink.assurance import KINDS, STATES, load_checklists
from caselink.assurance.actions import TRANSITIONS
from caselink.assurance.models import ActionEventRow, ActionRow, DecisionRow
from caselink.audit import record_event
from caselink.oversight.errors import OversightError
from caselink.schema import DEFAULT_TZ, parse_when
from caselink.store.models import CaseRow

CASES: Table = CaseRow.__table__  # type: ignore[assignment]
ACTIONS: Table = ActionRow.__table__  # type: ignore[assignment]
EVENTS: Table = ActionEventRow.__table__  # type: ignore[assignment]
DECISIONS: Table = DecisionRow.__table__  # type: ignore[assignment]
ACTION_KIND = "action"
DEFAULT_CHECKLIST = "unexplained_death"
DONE_STATES = ("completed", "resulted", "filed")
TIME_FIELDS = ("decided_at", "due_at", "allocated_at", "completed_at")
MAX_REPORTED = 20
CHUNK = 500


@dataclass
class LegacyEntry:
    line: int
    case_id: str
    kind: str
    officer: str
    values: dict[str, Any]


@dataclass
class ImportSummary:
    n_rows: int = 0
    n_decisions: int = 0
    n_actions: int = 0
    n_unchanged: int = 0
    audit_seqs: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "n_decisions": self.n_decisions, "n_actions": self.n_actions,
                "n_unchanged": self.n_unchanged, "n_audit_entries": len(self.audit_seqs)}


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OversightError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise OversightError(f"{path}: not UTF-8 text; save the export as UTF-8 CSV or JSONL") from None
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "case_id" not in reader.fieldnames or "kind" not in reader.fieldnames:
            raise OversightError(f"{path}:1: the header must name at least case_id and kind "
                                 "(see docs/oversight.md for the columns)")
        for row in reader:
            if None in row:
                raise OversightError(f"{path}:{reader.line_num}: more values than header columns")
            yield reader.line_num, {k: v for k, v in row.items() if v is not None and v.strip() != ""}
    elif suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise OversightError(f"{path}:{number}: not valid JSON ({exc})") from None
            if not isinstance(value, dict):
                raise OversightError(f"{path}:{number}: each line must be a JSON object")
            yield number, {k: v for k, v in value.items() if v is not None and str(v).strip() != ""}
    else:
        raise OversightError(f"{path}: unknown format '{suffix or 'none'}'; use .csv or .jsonl")


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[str] = []

    def add(self, line: int, column: str, message: str) -> None:
        self.messages.append(f"{self.path}:{line}: {column}: {message}")

    def raise_if_any(self) -> None:
        if self.messages:
            more = f" (and {len(self.messages) - 1} more problem(s))" if len(self.messages) > 1 else ""
            raise OversightError(f"{self.messages[0]}{more}; nothing was imported")


def _text(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    return None if value is None else str(value).strip() or None


def parse_legacy(path: Path, tz: str = DEFAULT_TZ, problems: _Problems | None = None) -> list[LegacyEntry]:
    """Every entry of the file, validated; OversightError naming file:line: field otherwise.

    With ``problems`` given, the rows' problems are added there and not raised, so the caller can
    add the store's own (unknown cases) and report one count of everything wrong with the file."""
    zone = ZoneInfo(tz)
    collect = problems is not None
    problems = _Problems(path) if problems is None else problems
    entries: list[LegacyEntry] = []
    for line, row in _rows(path):
        before = len(problems.messages)
        case_id, kind, officer = _text(row, "case_id"), _text(row, "kind"), _text(row, "officer")
        for name, value in (("case_id", case_id), ("kind", kind), ("officer", officer)):
            if value is None:
                problems.add(line, name, "is required")
        values: dict[str, Any] = {}
        for name in TIME_FIELDS:
            if row.get(name) is not None:
                try:
                    values[name] = parse_when(row[name], zone)[0]
                except ValueError as exc:
                    problems.add(line, name, str(exc))
        if kind is not None and kind != ACTION_KIND and kind not in KINDS:
            problems.add(line, "kind", f"'{kind}' is not one of {', '.join((*KINDS, ACTION_KIND))}")
        elif kind == ACTION_KIND:
            _check_action(row, values, line, problems)
        elif kind is not None:
            _check_decision(row, values, line, problems)
        if len(problems.messages) == before and case_id and kind and officer:
            entries.append(LegacyEntry(line, case_id, kind, officer, values))
        if len(problems.messages) >= MAX_REPORTED:
            break
    if not collect:
        problems.raise_if_any()
    if not entries and not problems.messages:
        raise OversightError(f"{path}: holds no decisions or actions; nothing was imported")
    return entries


def _check_decision(row: dict[str, Any], values: dict[str, Any], line: int, problems: _Problems) -> None:
    for name in ("value", "rationale"):
        values[name] = _text(row, name)
        if values[name] is None:
            problems.add(line, name, "is required for a decision")
    if "decided_at" not in values and row.get("decided_at") is None:
        problems.add(line, "decided_at", "is required for a decision (when it was made, ISO 8601)")
    values["alternatives"] = _text(row, "alternatives")
    if row.get("kind") == "classification" and values["value"]:
        folded = vocab.fold(values["value"], vocab.CLASSIFICATION_SYNONYMS)
        if folded not in vocab.CLASSIFICATIONS:
            problems.add(line, "value", f"'{values['value']}' is not a classification; use one of "
                         f"{', '.join(vocab.CLASSIFICATIONS)}")
        values["value"] = folded


def _check_action(row: dict[str, Any], values: dict[str, Any], line: int, problems: _Problems) -> None:
    values["step_id"], values["state"] = _text(row, "step_id"), _text(row, "state")
    values["owner"], values["note"] = _text(row, "owner"), _text(row, "note")
    values["checklist"] = _text(row, "checklist") or DEFAULT_CHECKLIST
    if values["step_id"] is None:
        problems.add(line, "step_id", "is required for an action")
    if values["state"] is None:
        problems.add(line, "state", "is required for an action")
    elif values["state"] not in STATES:
        problems.add(line, "state", f"'{values['state']}' is not one of {', '.join(STATES)}")
    elif values["state"] in DONE_STATES and "completed_at" not in values and row.get("completed_at") is None:
        problems.add(line, "completed_at", f"is required for an action in state {values['state']}")


def import_legacy(connection: Connection, path: Path, officer: str, tz: str = DEFAULT_TZ) -> ImportSummary:
    """Validate ``path`` and write it inside the caller's transaction; OversightError before writing."""
    problems = _Problems(path)
    entries = parse_legacy(path, tz, problems)
    case_ids = sorted({e.case_id for e in entries})
    found: dict[str, datetime] = {}
    for start in range(0, len(case_ids), CHUNK):
        chunk = case_ids[start:start + CHUNK]
        found.update(connection.execute(select(CASES.c.case_id, CASES.c.found_at)
                                        .where(CASES.c.case_id.in_(chunk))).all())
    steps = {(c.name, s.id): s for c in load_checklists() for s in c.steps}
    states = _action_states(connection, [e for e in entries if e.kind == ACTION_KIND and e.case_id in found])
    for entry in entries:
        if entry.case_id not in found:
            problems.add(entry.line, "case_id", f"no case '{entry.case_id}' in the store; ingest the cases first")
        elif entry.kind == ACTION_KIND and "due_at" not in entry.values and \
                (entry.values["checklist"], entry.values["step_id"]) not in steps:
            problems.add(entry.line, "due_at", f"step '{entry.values['step_id']}' is not in checklist "
                         f"'{entry.values['checklist']}', so its due time must be given")
        elif entry.kind == ACTION_KIND:
            key = (entry.case_id, entry.values["checklist"], entry.values["step_id"])
            current, wanted = states.get(key), entry.values["state"]
            if current is not None and wanted != current and wanted not in _REACHABLE[current]:
                # A historic record must not undo what was done since (in caselink or earlier in the file).
                problems.add(entry.line, "state", f"step {entry.values['step_id']} of case '{entry.case_id}' is "
                             f"already {current}; a historic record cannot move it back to {wanted} (drop the row)")
            else:
                states[key] = wanted
    problems.raise_if_any()
    summary = ImportSummary(n_rows=len(entries))
    source = {"source": "legacy_import", "file": path.name}
    for entry in entries:
        if entry.kind == ACTION_KIND:
            _write_action(connection, entry, found[entry.case_id], steps, officer, source, summary)
        else:
            _write_decision(connection, entry, officer, source, summary)
    return summary


def _reachable(state: str) -> frozenset[str]:
    seen: set[str] = set()
    todo = list(TRANSITIONS[state])
    while todo:
        nxt = todo.pop()
        if nxt not in seen:
            seen.add(nxt)
            todo.extend(TRANSITIONS[nxt])
    return frozenset(seen)


#: The states each state can still reach through the state machine (a historic record may move on, never back).
_REACHABLE = {state: _reachable(state) for state in STATES}


def _action_states(connection: Connection, entries: list[LegacyEntry]) -> dict[tuple[str, str, str], str]:
    """The current state of every action the file's action rows name, keyed by (case, checklist, step)."""
    states: dict[tuple[str, str, str], str] = {}
    case_ids = sorted({e.case_id for e in entries})
    for start in range(0, len(case_ids), CHUNK):
        rows = connection.execute(select(ACTIONS.c.case_id, ACTIONS.c.checklist, ACTIONS.c.step_id, ACTIONS.c.state)
                                  .where(ACTIONS.c.case_id.in_(case_ids[start:start + CHUNK])))
        for case_id, checklist, step_id, state in rows:
            states[(case_id, checklist, step_id)] = state
    return states


def _write_decision(connection: Connection, entry: LegacyEntry, importer: str, source: dict[str, Any],
                    summary: ImportSummary) -> None:
    v = entry.values
    same = connection.execute(select(DECISIONS.c.id).where(
        DECISIONS.c.case_id == entry.case_id, DECISIONS.c.kind == entry.kind, DECISIONS.c.value == v["value"],
        DECISIONS.c.officer == entry.officer, DECISIONS.c.made_at == v["decided_at"])).first()
    if same is not None:
        summary.n_unchanged += 1
        return
    decision_id = int(connection.execute(DECISIONS.insert().values(
        case_id=entry.case_id, kind=entry.kind, value=v["value"], officer=entry.officer, rationale=v["rationale"],
        alternatives=v["alternatives"], made_at=v["decided_at"], supersedes=None, requires_signoff=False,
        audit_seq=0)).inserted_primary_key[0])  # type: ignore[index]
    seq = record_event(connection, action="decision", officer=importer, case_ids=[entry.case_id], details={
        **source, "line": entry.line, "decision_id": decision_id, "kind": entry.kind, "value": v["value"],
        "decided_by": entry.officer, "decided_at": v["decided_at"].isoformat() + "Z",
        "rationale": v["rationale"], "alternatives": v["alternatives"]})
    connection.execute(DECISIONS.update().where(DECISIONS.c.id == decision_id).values(audit_seq=seq))
    summary.n_decisions += 1
    summary.audit_seqs.append(seq)


def _write_action(connection: Connection, entry: LegacyEntry, found_at: datetime, steps: dict[tuple[str, str], Any],
                  importer: str, source: dict[str, Any], summary: ImportSummary) -> None:
    v = entry.values
    step = steps.get((v["checklist"], v["step_id"]))
    due_at = v.get("due_at") or found_at + timedelta(hours=step.due_hours if step else 0)
    completed_at = v.get("completed_at") if v["state"] in DONE_STATES else None
    recorded_at = v.get("decided_at") or completed_at or v.get("allocated_at") or due_at
    owner = v["owner"] or (entry.officer if v["state"] != "for_allocation" else None)
    current = connection.execute(select(ACTIONS).where(
        ACTIONS.c.case_id == entry.case_id, ACTIONS.c.checklist == v["checklist"],
        ACTIONS.c.step_id == v["step_id"])).mappings().first()
    if current is not None and current["state"] == v["state"] and current["completed_at"] == completed_at:
        summary.n_unchanged += 1
        return
    values = {"state": v["state"], "owner": owner, "due_at": due_at, "updated_at": recorded_at,
              "completed_at": completed_at, "note": v["note"]}
    if current is None:
        action_id = int(connection.execute(ACTIONS.insert().values(
            case_id=entry.case_id, checklist=v["checklist"], step_id=v["step_id"],
            title=step.title if step else v["step_id"], created_at=v.get("allocated_at") or found_at, **values,
        )).inserted_primary_key[0])  # type: ignore[index]
        from_state = "for_allocation"
    else:
        action_id, from_state = int(current["id"]), current["state"]
        connection.execute(ACTIONS.update().where(ACTIONS.c.id == action_id).values(**values))
    seq = record_event(connection, action="action_transition", officer=importer, case_ids=[entry.case_id], details={
        **source, "line": entry.line, "action_id": action_id, "step_id": v["step_id"], "checklist": v["checklist"],
        "from": from_state, "to": v["state"], "owner": owner, "recorded_by": entry.officer,
        "recorded_at": recorded_at.isoformat() + "Z"})
    # The historic path through the state machine, each at the time the export gives for it.
    path: list[tuple[str, datetime]] = []
    if v.get("allocated_at") is not None and from_state == "for_allocation" and v["state"] != "for_allocation":
        path.append(("allocated", v["allocated_at"]))
    if completed_at is not None and from_state not in DONE_STATES:
        path.append(("completed", completed_at))
    if not path or path[-1][0] != v["state"]:
        path.append((v["state"], recorded_at))
    previous = from_state
    for state, at in path:
        connection.execute(EVENTS.insert().values(action_id=action_id, from_state=previous, to_state=state,
                                                  officer=entry.officer, owner=owner, note=v["note"], at=at,
                                                  audit_seq=seq))
        previous = state
    summary.n_actions += 1
    summary.audit_seqs.append(seq)
