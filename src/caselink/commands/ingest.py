"""``caselink ingest``: validated, all-or-nothing import of case files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from caselink.commands.common import (
    EXIT_BAD_INPUT,
    DbOption,
    JsonOption,
    OfficerOption,
    TzOption,
    check_tz,
    fail,
    is_terminal,
    officer_name,
    open_store,
    print_json,
    warn,
)
from caselink.io import open_source
from caselink.io.phones import DEFAULT_PHONE_COUNTRY, country_code, with_phone_country
from caselink.schema import DEFAULT_TZ
from caselink.store import CaseStore, IngestError, IngestResult, SourceError
from caselink.store.ingest import MAX_REPORTED_PROBLEMS

# Steps that run after an import commits (linkage scoring, the audit record).  Each takes the store
# and the result; areas append to this list from their command module so ingest stays unaware of them.
AFTER_INGEST: list = []
# Checks that run before anything is read or written (say, that the linkage model the after-steps
# need can be loaded); each takes no argument and calls ``fail`` to refuse the import.
BEFORE_INGEST: list = []


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="CSV, JSONL, Parquet or GeoJSON files.")],
    db: DbOption = None,
    tz: TzOption = DEFAULT_TZ,
    officer: OfficerOption = None,
    phone_country: Annotated[str, typer.Option(
        "--phone-country", help="Country (ISO code, e.g. US) of phones written without their country code; "
                                "GB keeps the UK's national form (docs/ingest.md).")] = DEFAULT_PHONE_COUNTRY,
    as_json: JsonOption = False,
) -> None:
    """Import case files in one transaction: every row lands, or none does."""
    check_tz(tz)
    try:
        country = country_code(phone_country)
    except ValueError as exc:
        fail(f"--phone-country: {exc}", EXIT_BAD_INPUT)
    for check in BEFORE_INGEST:
        check()
    try:
        sources = with_phone_country([open_source(p) for p in paths], country)
    except SourceError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    store = open_store(db)
    try:
        result = _run(store, sources, tz, officer_name(officer))
    except SourceError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except IngestError as exc:
        for source in sources:  # a column that was not read ("Latitude") is often why a field is missing
            for message in source.warnings():
                warn(message)
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        if exc.n_total > MAX_REPORTED_PROBLEMS:
            typer.echo(f"... and {exc.n_total - len(exc.problems)} more problem(s)", err=True)
        typer.echo(f"caselink: error: {exc.n_total} problem(s) found; nothing was imported", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for message in result.warnings:
        warn(message)
    extra = run_after_ingest(store, result)
    summary = {"import_id": result.import_id, "n_rows": result.n_rows, "n_new": result.n_new,
               "n_updated": result.n_updated, "n_unchanged": result.n_unchanged, **extra}
    if as_json:
        print_json(summary)
    else:
        typer.echo(f"imported {result.n_rows} row(s) from {len(sources)} file(s): {result.n_new} new, "
                   f"{result.n_updated} updated, {result.n_unchanged} unchanged")
    store.close()


def run_after_ingest(store: CaseStore, result: IngestResult) -> dict[str, Any]:
    """The steps every import gets once it has committed (linkage scoring and its alerts, checklists),
    for the CLI and the Python API alike; their summaries merged, and kept on ``result.after``."""
    import caselink.cli  # noqa: F401  (registers every area's steps)

    extra: dict[str, Any] = {}
    for step in AFTER_INGEST:
        extra.update(step(store, result) or {})
    result.after = extra
    return extra


def _run(store: CaseStore, sources: list, tz: str, officer: str) -> IngestResult:
    if not is_terminal():
        return store.ingest(sources, tz=tz, officer=officer)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task("importing", total=None)
        return store.ingest(sources, tz=tz, officer=officer,
                            progress=lambda n: progress.update(task, completed=n))


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
