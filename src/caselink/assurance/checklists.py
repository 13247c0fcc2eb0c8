"""Checklists as data: which basic steps every matching case gets, and applying them as actions.

The default (``caselink/data/checklists/*.yaml``) is the basic-steps checklist for an unexplained
death; users add their own folder (``--checklists DIR`` or ``$CASELINK_CHECKLISTS``).  Applying is
idempotent: a step already present for a case is left alone, so re-running after an update only
adds the steps a changed case now needs (say ``note_found`` appeared in its MO).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select

from caselink.assurance.conditions import holds, validate_condition
from caselink.assurance.errors import ConfigFileError, UnknownCase
from caselink.assurance.models import ActionRow
from caselink.assurance.yamlfile import load_located
from caselink.schema import SCHEMA_COLUMNS
from caselink.store.models import CaseRow

ACTIONS: Table = ActionRow.__table__  # type: ignore[assignment]
CASES: Table = CaseRow.__table__  # type: ignore[assignment]
CHECKLIST_KEYS = ("name", "description", "applies_to", "steps")
STEP_KEYS = ("id", "title", "due_hours", "when", "owner")
CASE_FACTS = tuple(SCHEMA_COLUMNS)
CHUNK = 500


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    due_hours: float
    when: dict[str, Any]
    owner: str | None = None


@dataclass(frozen=True)
class Checklist:
    name: str
    applies_to: dict[str, Any]
    steps: tuple[Step, ...]
    source: str

    def steps_for(self, case: dict[str, Any]) -> list[Step]:
        """The steps ``case`` needs, or none when the checklist does not apply to it."""
        if not holds(self.applies_to, case):
            return []
        return [step for step in self.steps if holds(step.when, case)]


def parse_checklist(path: Path | str, text: str | None = None) -> Checklist:
    """Load and validate one checklist file; ConfigFileError names the file and line."""
    doc = load_located(path, text)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a checklist is a mapping with name, applies_to and steps")
    for key in data:
        if key not in CHECKLIST_KEYS:
            raise doc.error((key,), f"unknown key '{key}'; a checklist has {', '.join(CHECKLIST_KEYS)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise doc.error(("name",), "every checklist needs a name (text)")
    applies_to = validate_condition(doc, ("applies_to",), data.get("applies_to"), CASE_FACTS)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise doc.error(("steps",), "steps must be a non-empty list")
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_steps):
        where = ("steps", index)
        if not isinstance(raw, dict):
            raise doc.error(where, "each step is a mapping with id, title and due_hours")
        for key in raw:
            if key not in STEP_KEYS:
                raise doc.error(where + (key,), f"unknown key '{key}'; a step has {', '.join(STEP_KEYS)}")
        step_id, title, due = raw.get("id"), raw.get("title"), raw.get("due_hours")
        if not isinstance(step_id, str) or not step_id.strip():
            raise doc.error(where + ("id",), "each step needs an id (text)")
        if step_id in seen:
            raise doc.error(where + ("id",), f"step id '{step_id}' is used twice")
        seen.add(step_id)
        if not isinstance(title, str) or not title.strip():
            raise doc.error(where + ("title",), f"step '{step_id}' needs a title (text)")
        if isinstance(due, bool) or not isinstance(due, int | float) or due <= 0:
            raise doc.error(where + ("due_hours",), f"step '{step_id}': due_hours must be a number above 0, "
                                                    f"not {due!r}")
        owner = raw.get("owner")
        if owner is not None and not isinstance(owner, str):
            raise doc.error(where + ("owner",), "owner must be text")
        when = validate_condition(doc, where + ("when",), raw.get("when"), CASE_FACTS)
        steps.append(Step(step_id, title.strip(), float(due), when, owner))
    return Checklist(name.strip(), applies_to, tuple(steps), doc.source)


def default_checklist_files() -> list[Path]:
    folder = resources.files("caselink") / "data" / "checklists"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_checklists(extra_dirs: Iterable[Path | str] = (), *, include_defaults: bool = True,
                    use_env: bool = True) -> list[Checklist]:
    """The default checklists plus every ``*.yaml`` in ``extra_dirs`` (and ``$CASELINK_CHECKLISTS``)."""
    files = default_checklist_files() if include_defaults else []
    dirs = [Path(d) for d in extra_dirs]
    if use_env and os.environ.get("CASELINK_CHECKLISTS"):
        dirs.append(Path(os.environ["CASELINK_CHECKLISTS"]))
    for folder in dirs:
        if not folder.is_dir():
            raise ConfigFileError(f"{folder}: not a folder of checklist files (*.yaml)")
        files.extend(sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")))
    checklists = [parse_checklist(path) for path in files]
    names: dict[str, str] = {}
    for checklist in checklists:
        if checklist.name in names:
            raise ConfigFileError(f"{checklist.source}:1: name: checklist '{checklist.name}' is already "
                                  f"defined in {names[checklist.name]}; give it another name")
        names[checklist.name] = checklist.source
    return checklists


def _case_rows(connection: Connection, case_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(case_ids), CHUNK):
        chunk = list(case_ids[start:start + CHUNK])
        for row in connection.execute(select(CASES).where(CASES.c.case_id.in_(chunk))).mappings():
            rows[row["case_id"]] = dict(row)
    return rows


def apply_checklists(connection: Connection, case_ids: Iterable[str],
                     checklists: Sequence[Checklist] | None = None, now: datetime | None = None) -> int:
    """Create the missing actions for ``case_ids``; return how many were created.

    Each step is due ``due_hours`` after the case's ``found_at`` (when it was reported).  Raises
    UnknownCase, before writing anything, when an id is not in the store.
    """
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        return 0
    checklists = load_checklists() if checklists is None else checklists
    cases = _case_rows(connection, wanted)
    missing = [c for c in wanted if c not in cases]
    if missing:
        raise UnknownCase(f"no case '{missing[0]}' in the store"
                          + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                          + "; `caselink cases list` shows the ids")
    created_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    new_rows: list[dict[str, Any]] = []
    for case_id, case in cases.items():
        for checklist in checklists:
            for step in checklist.steps_for(case):
                new_rows.append({
                    "case_id": case_id, "checklist": checklist.name, "step_id": step.id, "title": step.title,
                    "owner": None, "state": "for_allocation",
                    "due_at": case["found_at"] + timedelta(hours=step.due_hours),
                    "created_at": created_at, "updated_at": created_at, "completed_at": None, "note": None,
                })
    if not new_rows:
        return 0
    existing: set[tuple[str, str, str]] = set()
    keys = [(r["case_id"], r["checklist"], r["step_id"]) for r in new_rows]
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        existing.update(tuple(r) for r in connection.execute(
            select(ACTIONS.c.case_id, ACTIONS.c.checklist, ACTIONS.c.step_id).where(ACTIONS.c.case_id.in_(chunk))))
    fresh = [row for row, key in zip(new_rows, keys, strict=True) if key not in existing]
    for start in range(0, len(fresh), 5000):
        connection.execute(ACTIONS.insert(), fresh[start:start + 5000])
    return len(fresh)
