"""``caselink cases list|show``, ``caselink export`` and ``caselink stats``: reading the store."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from caselink.commands.common import (
    EXIT_BAD_INPUT,
    DbOption,
    JsonOption,
    OfficerOption,
    fail,
    officer_name,
    open_store,
    print_json,
    refuse_out_over_store,
    require_officer,
)
from caselink.io import FORMATS, write
from caselink.schema import stored_to_raw
from caselink.store import CaseFilter

cases_app = typer.Typer(help="List and show cases in the store.", no_args_is_help=True)

# Hooks called as hook(store, action, case_ids, details) after a read or export; the audit area
# registers the DPA s.62 consultation/disclosure record here.
AFTER_READ: list = []


def log_consultation(store: Any, case_ids: list[str], officer: str | None, justification: str,
                     details: dict[str, Any]) -> None:
    """Log a read of these cases from the terminal (DPA 2018 s.62) through the AFTER_READ hooks, in the
    name of ``officer`` (else $CASELINK_USER or the login); nothing when no case was shown."""
    if case_ids:
        for hook in AFTER_READ:
            hook(store, "consultation", case_ids,
                 {"justification": justification, "officer": officer_name(officer), "channel": "cli", **details})


def log_case_view(db: str | None, case_id: str, officer: str | None, justification: str | None, view: str) -> None:
    """Log a terminal view of one case's records that did not otherwise open the store (its audit
    trail, its actions): a consultation of that case whose justification defaults to the view's name."""
    store = open_store(db)
    try:
        log_consultation(store, [case_id], officer, (justification or "").strip() or view, {"view": view})
    finally:
        store.close()


def require_justification(justification: str | None, officer: str | None) -> None:
    """DPA 2018 s.62 (issue 4): consultation and disclosure carry a justification and an identity."""
    if not justification or not justification.strip():
        fail("--justification TEXT is required: say why you are consulting or disclosing these records "
             "(logged, DPA 2018 s.62)", EXIT_BAD_INPUT)
    require_officer(officer)


def parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not an ISO 8601 date (e.g. 2014-06-19)", EXIT_BAD_INPUT)


def _stored_instant(value: str | None, option: str) -> datetime | None:
    """A --from/--to bound as the store keeps times (naive UTC), read as ingest reads a record's date:
    London local unless it carries an offset.  A death dated 2014-06-20 in summer is stored as
    2014-06-19 23:00 UTC, so a bound of 2014-06-20 read as UTC would leave it out."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    from caselink.schema import DEFAULT_TZ, parse_when

    try:
        return parse_when(value.strip(), ZoneInfo(DEFAULT_TZ))[0]
    except ValueError as exc:  # a week, a year outside 1800..2200: ingest's own rules, its own words
        fail(f"{option}: {exc}", EXIT_BAD_INPUT)


# The furthest a local time is from UTC (UTC+14 at Kiribati, UTC-12): a day bound widened by this in
# SQL holds every case whose own local day is inside it.
_WIDEST_OFFSET = timedelta(hours=14)


def _local_day(value: str | None, option: str) -> datetime | None:
    """A --from/--to given as a day alone (``2014-06-19``), as midnight; None for a time, or no bound.

    A day is compared with each case's own day, as its agency wrote it: read as a London day, a
    Chicago death at 20:00 on the 18th (01:00 UTC on the 19th) fell after ``--to 2014-06-19``."""
    if value is None:
        return None
    from caselink.schema import DEFAULT_TZ, parse_when

    try:
        instant, offset_min, precision = parse_when(value.strip(), ZoneInfo(DEFAULT_TZ))
    except ValueError as exc:
        fail(f"{option}: {exc}", EXIT_BAD_INPUT)
    return _found_day({"found_at": instant, "found_at_offset_min": offset_min}) if precision == "date" else None


def _found_day(stored: dict[str, Any]) -> datetime:
    """Midnight of the day a stored case was found, in its agency's own zone."""
    local = stored["found_at"] + timedelta(minutes=stored["found_at_offset_min"] or 0)
    return datetime(local.year, local.month, local.day)


def case_filter(cause: str | None = None, substance: str | None = None, place_type: str | None = None,
                sex: str | None = None, min_age: int | None = None, max_age: int | None = None,
                found_from: str | None = None, found_to: str | None = None, agency: str | None = None,
                classification: str | None = None) -> CaseFilter:
    """A CaseFilter from CLI option values, folded with the same vocabulary rules as ingest."""
    from caselink import vocab

    return CaseFilter(
        cause=vocab.fold(cause, vocab.CAUSE_SYNONYMS) if cause else None,
        substance=vocab.fold(substance, vocab.SUBSTANCE_SYNONYMS) if substance else None,
        place_type=vocab.fold(place_type, vocab.PLACE_TYPE_SYNONYMS) if place_type else None,
        victim_sex=vocab.SEX_SYNONYMS.get(sex.lower(), sex) if sex else None,
        min_age=min_age, max_age=max_age,
        found_from=parse_day(found_from, "--from"), found_to=parse_day(found_to, "--to"),
        agency=agency,
        classification=vocab.fold(classification, vocab.CLASSIFICATION_SYNONYMS) if classification else None,
    )


@cases_app.command("list")
def list_cases(
    db: DbOption = None,
    cause: Annotated[str | None, typer.Option(help="Only this cause.")] = None,
    substance: Annotated[str | None, typer.Option(help="Only cases with this substance.")] = None,
    place_type: Annotated[str | None, typer.Option("--place-type", help="Only this place type.")] = None,
    sex: Annotated[str | None, typer.Option(help="Only this victim sex (F, M, X, U).")] = None,
    min_age: Annotated[int | None, typer.Option("--min-age")] = None,
    max_age: Annotated[int | None, typer.Option("--max-age")] = None,
    found_from: Annotated[str | None, typer.Option("--from", help="Found on or after this date.")] = None,
    found_to: Annotated[str | None, typer.Option("--to", help="Found before this date.")] = None,
    agency: Annotated[str | None, typer.Option(help="Only this agency.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many cases.", min=1)] = 100,
    justification: Annotated[str | None, typer.Option(
        help="Why you are consulting these cases (logged; default 'case list').")] = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """List cases in found_at order, with optional filters.

    Listing shows case fields, so it is a consultation and is logged (DPA 2018 s.62), as the web's
    case search is; the justification defaults so that existing scripts keep working.
    """
    where = case_filter(cause, substance, place_type, sex, min_age, max_age, found_from, found_to, agency)
    from_day, to_day = _local_day(found_from, "--from"), _local_day(found_to, "--to")
    where = dataclasses.replace(
        where,
        found_from=from_day - _WIDEST_OFFSET if from_day else _stored_instant(found_from, "--from"),
        found_to=to_day + _WIDEST_OFFSET if to_day else _stored_instant(found_to, "--to"))
    store = open_store(db)
    if from_day is None and to_day is None:
        total = store.count(where)
        rows = [stored_to_raw(r) for r in store.iter_stored(where, limit=limit)]
    else:  # the SQL bounds are a day wider on each side; each case's own day decides
        total, rows = 0, []
        for stored in store.iter_stored(where):
            day = _found_day(stored)
            if (from_day is None or day >= from_day) and (to_day is None or day < to_day):
                total += 1
                if len(rows) < limit:
                    rows.append(stored_to_raw(stored))
    log_consultation(store, [row["case_id"] for row in rows], officer, (justification or "").strip() or "case list",
                     {"view": "cases list"})
    store.close()
    if as_json:
        print_json({"n_matching": total, "cases": rows})
        return
    table = Table("case_id", "found_at", "cause", "place_type", "area", "age", "sex")
    for row in rows:
        table.add_row(row["case_id"], row["found_at"], row["cause"] or "", row["place_type"] or "",
                      row["area"] or "", str(row["victim_age"] or ""), row["victim_sex"] or "")
    Console(width=160).print(table)
    typer.echo(f"{len(rows)} of {total} matching case(s)")


@cases_app.command("show")
def show_case(
    case_id: Annotated[str, typer.Argument(help="The case to show.")],
    db: DbOption = None,
    justification: Annotated[str | None, typer.Option(
        "--justification", help="Why you are consulting this record (logged, DPA 2018 s.62).")] = None,
    officer: Annotated[str | None, typer.Option("--officer", help="Who is reading (default $CASELINK_USER).")] = None,
    history: Annotated[bool, typer.Option("--history", help="Also show superseded versions.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show one case in full."""
    require_justification(justification, officer)
    store = open_store(db)
    stored = store.get_stored(case_id)
    if stored is None:
        store.close()
        fail(f"no case '{case_id}' in the store; `caselink cases list` shows the ids", EXIT_BAD_INPUT)
    for hook in AFTER_READ:
        hook(store, "consultation", [case_id], {"justification": justification, "officer": officer})
    record: dict[str, Any] = stored_to_raw(stored)
    record["version"] = stored["version"]
    if history:
        record["previous_versions"] = store.versions(case_id)
    store.close()
    if as_json:
        print_json(record)
        return
    for key, value in record.items():
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        typer.echo(f"{key:>22}: {'' if value is None else value}")


def export_command(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl, parquet or geojson.")] = "csv",
    db: DbOption = None,
    justification: Annotated[str | None, typer.Option(
        "--justification", help="Why the data leaves the store (logged, DPA 2018 s.62).")] = None,
    recipient: Annotated[str | None, typer.Option("--recipient", help="Who receives the export.")] = None,
    officer: Annotated[str | None, typer.Option("--officer", help="Who exports (default $CASELINK_USER).")] = None,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Research export: keyed-hash ids, weeks, "
                                               "grid cells, no free text, small cells suppressed.")] = False,
) -> None:
    """Write every case to a file that re-imports to identical records (or, pseudonymised, that cannot)."""
    from caselink.oversight import pseudonymise as pseudonymised

    if pseudonymise and (fmt not in pseudonymised.FORMATS or not (recipient or "").strip()):
        fail(f"--pseudonymise needs --recipient NAME (it is a disclosure) and --format one of "
             f"{', '.join(pseudonymised.FORMATS)}", EXIT_BAD_INPUT)
    if fmt not in FORMATS:
        fail(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}", EXIT_BAD_INPUT)
    if not out.parent.exists():
        fail(f"--out: folder {out.parent} does not exist", EXIT_BAD_INPUT)
    if out.is_dir():
        fail(f"--out: {out} is a folder; name the file to write (e.g. {out / ('cases.' + fmt)})", EXIT_BAD_INPUT)
    require_justification(justification, officer)
    store = open_store(db)
    refuse_out_over_store(store, out, "export")
    partial = out.with_name(out.name + ".partial")
    exported_ids: list[str] = []

    def rows() -> Any:
        for row in store.iter_stored():
            exported_ids.append(row["case_id"])
            yield row

    try:
        if pseudonymise:
            count = pseudonymised.write_pseudonymised(store.engine, rows(), partial, fmt, recipient or "")
        else:
            count = write(rows(), partial, fmt)
    except OSError as exc:  # a full disk, no permission: nothing was disclosed, so nothing is logged
        if partial.is_file():
            partial.unlink()
        store.close()
        fail(f"--out: cannot write {partial}: {exc.strerror or exc}; nothing was exported", 1)
    try:
        # Logged before the file takes its real name: no disclosure without its audit entry (issue 4).
        for hook in AFTER_READ:
            hook(store, "disclosure" if recipient else "consultation", exported_ids,
                 {"justification": justification, "officer": officer, "recipient": recipient,
                  "out": out.name, "format": fmt, "n_cases": count, "pseudonymised": pseudonymise})
    except BaseException:
        partial.unlink(missing_ok=True)
        store.close()
        raise
    partial.replace(out)  # never leave a half-written export under the real name
    store.close()
    typer.echo(f"exported {count} case(s) to {out}")


def stats_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Volumes: how many cases, over which dates, by cause."""
    store = open_store(db)
    stats = store.stats()
    store.close()
    if as_json:
        print_json(stats)
        return
    typer.echo(f"cases: {stats['n_cases']}")
    typer.echo(f"found: {stats['first_found_at'] or '-'} to {stats['last_found_at'] or '-'}")
    for key in ("by_cause", "by_incident_type", "by_classification"):
        typer.echo(key.replace("_", " ") + ":")
        for name, n in sorted(stats[key].items(), key=lambda kv: -kv[1]):
            typer.echo(f"  {name:<32} {n}")


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")
    app.command("export")(export_command)
    app.command("stats")(stats_command)
