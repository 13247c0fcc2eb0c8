"""What every command shares: the --db option, JSON output, and the one-line error contract."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from caselink.identity import acting_officer
from caselink.store import CaseStore, StoreError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite file path (default: $CASELINK_DB, else ./caselink.db)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]
OfficerOption = Annotated[
    str | None, typer.Option("--officer", help="Who is acting (default: $CASELINK_USER, else the login name).")
]


TzOption = Annotated[str, typer.Option("--tz", help="Time zone of dates and times written without an offset.")]


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print one line to stderr and exit: errors never print a traceback."""
    typer.echo(f"caselink: error: {message}", err=True)
    raise typer.Exit(code)


def check_tz(tz: str) -> None:
    """Refuse an unknown time zone name before anything is read or written."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds for a bad name
        fail(f"--tz: unknown time zone '{tz}' (use an IANA name such as Europe/London)", EXIT_BAD_INPUT)


def warn(message: str) -> None:
    typer.echo(f"caselink: warning: {message}", err=True)


def open_store(db: str | None) -> CaseStore:
    try:
        return CaseStore.open(db)
    except StoreError as exc:
        fail(str(exc))


def refuse_out_over_store(store: CaseStore, out: Path, writing: str) -> None:
    """Refuse ``--out`` naming the SQLite file of ``store`` (or its journal), before anything is written.

    Why: ``--out caselink.db``, meant as ``--db``, replaced the store and its audit log with an export,
    a report, a model or a checkpoint, exit 0.  The store is closed before failing.
    """
    database = store.engine.url.database if store.engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        return
    stored = Path(database).resolve()
    if out.resolve() in {stored, *(stored.with_name(stored.name + s) for s in ("-wal", "-shm", "-journal"))}:
        store.close()
        fail(f"--out: {out} is the store itself (--db); writing the {writing} there would replace every case "
             "and the audit log: name another file", EXIT_BAD_INPUT)


def require_officer(officer: str | None) -> str:
    """The accountable identity: ``--officer`` or ``$CASELINK_USER``; never guessed from the login.

    For acts that must name who did them (decisions, transitions, erasure, consultation); compare
    :func:`officer_name`, which falls back to the login for records of routine work.
    """
    name = (officer or os.environ.get("CASELINK_USER") or "").strip()
    if not name:
        fail("an officer is required: pass --officer NAME or set CASELINK_USER", EXIT_BAD_INPUT)
    return name


def require_rationale(rationale: str | None, what: str = "") -> str:
    """A non-blank ``--rationale``; ``what`` says what the rationale should give, for the message."""
    if not rationale or not rationale.strip():
        fail(f"a rationale is required: pass --rationale TEXT{f' ({what})' if what else ''}", EXIT_BAD_INPUT)
    return rationale


def officer_name(officer: str | None) -> str:
    """The acting identity: explicit option, then $CASELINK_USER, then the operating-system login."""
    return acting_officer(officer)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=_default, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def is_terminal() -> bool:
    return sys.stderr.isatty()
