"""``caselink scan``: space-time clusters of deaths (Kulldorff) or clearance clusters (MAP).

Filters are typed options turned into bound query parameters by the store's CaseFilter, or a
``--where`` condition parsed and evaluated on the cases read (``scan/where.py``); no text from the
user ever becomes SQL.  Bad input ends with one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from caselink.commands.cases import case_filter
from caselink.commands.common import EXIT_BAD_INPUT, DbOption, JsonOption, fail, open_store, print_json

_COLUMNS = ["case_id", "found_at", "lat", "lon", "area", "victim_sex", "cause", "outcome"]


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def scan(
    db: DbOption = None,
    cause: Annotated[str | None, typer.Option(help="Only this cause.")] = None,
    substance: Annotated[str | None, typer.Option(help="Only cases with this substance.")] = None,
    place_type: Annotated[str | None, typer.Option("--place-type", help="Only this place type.")] = None,
    sex: Annotated[str | None, typer.Option(help="Only this victim sex (F, M, X, U).")] = None,
    min_age: Annotated[int | None, typer.Option("--min-age", help="Victims at least this old.")] = None,
    max_age: Annotated[int | None, typer.Option("--max-age", help="Victims at most this old.")] = None,
    found_from: Annotated[str | None, typer.Option("--from", help="Found on or after this date.")] = None,
    found_to: Annotated[str | None, typer.Option("--to", help="Found before this date.")] = None,
    where_text: Annotated[str | None, typer.Option(
        "--where", help="A condition on case columns, e.g. \"cause = 'drug_toxicity' AND victim_age < 30\" "
                        "(comparisons, IN, BETWEEN, IS NULL, AND/OR/NOT; read, never run as SQL).")] = None,
    max_radius_km: Annotated[float, typer.Option("--max-radius-km", help="Largest circle radius.")] = 3.0,
    max_days: Annotated[int, typer.Option("--max-days", help="Longest time window, in days.")] = 7,
    permutations: Annotated[int, typer.Option(help="Monte Carlo replicates for p-values.")] = 999,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed, same p-values).")] = None,
    prospective: Annotated[bool, typer.Option("--prospective",
                                              help="Only windows ending on the last day (surveillance).")] = False,
    time_aggregation: Annotated[str, typer.Option("--time-aggregation", help="day or week.")] = "day",
    clearance: Annotated[bool, typer.Option("--clearance",
                                            help="Clearance clusters (area x sex x cause) instead.")] = False,
    min_cases: Annotated[int, typer.Option("--min-cases", help="--clearance: smallest group flagged.")] = 5,
    threshold: Annotated[float, typer.Option(help="--clearance: flag at or below this clearance rate.")] = 0.33,
    as_json: JsonOption = False,
) -> None:
    """Find unusual concentrations of deaths in space and time (or poorly cleared groups)."""
    if time_aggregation not in ("day", "week"):
        fail("--time-aggregation must be 'day' or 'week'", EXIT_BAD_INPUT)
    if not clearance and (max_radius_km <= 0 or max_days <= 0):
        fail("--max-radius-km and --max-days must be greater than 0", EXIT_BAD_INPUT)
    if not clearance and permutations < 0:
        fail("--permutations must be 0 or more", EXIT_BAD_INPUT)
    if clearance and (not 0 <= threshold <= 1 or min_cases < 1):
        fail("--threshold must be between 0 and 1 and --min-cases at least 1", EXIT_BAD_INPUT)
    where = case_filter(cause, substance, place_type, sex, min_age, max_age, found_from, found_to)
    # The dates are calendar days as the agency wrote them; the store keeps UTC instants, so a death found
    # "2014-08-28" in London summer is 27 August 23:00 UTC.  Filter the wall-clock times instead.
    day_from, day_to = (t.replace(tzinfo=None) if t is not None else None for t in (where.found_from, where.found_to))
    where = dataclasses.replace(where, found_from=day_from, found_to=day_to)
    _check_filter(where, sex, found_from, found_to)
    where = dataclasses.replace(where, found_from=None, found_to=None)
    from caselink.scan.where import WhereError, apply_where, columns_of

    try:
        extra = [c for c in columns_of(where_text) if c not in _COLUMNS] if where_text is not None else []
    except WhereError as exc:
        fail(f"--where: {exc}", EXIT_BAD_INPUT)
    store = open_store(db)
    try:
        cases = store.cases_frame(_COLUMNS + extra, where=where, local_times=True)
    finally:
        store.close()
    if where_text is not None:
        try:
            cases = apply_where(cases, where_text)
        except WhereError as exc:
            fail(f"--where: {exc}", EXIT_BAD_INPUT)
    if day_from is not None:
        cases = cases[cases["found_at"] >= day_from]
    if day_to is not None:
        cases = cases[cases["found_at"] < day_to]
    if cases.empty:
        fail("no cases match the filters", EXIT_BAD_INPUT)
    if clearance:
        _clearance(cases, threshold, min_cases, as_json)
    else:
        _space_time(cases, max_radius_km, max_days, permutations, seed, prospective, time_aggregation, as_json)


def _check_filter(where: Any, sex: str | None, found_from: str | None, found_to: str | None) -> None:
    """Filters that can match nothing by mistake get their own message, not "no cases match"."""
    if sex is not None and where.victim_sex not in ("F", "M", "X", "U"):
        fail(f"--sex '{sex}': give F, M, X or U", EXIT_BAD_INPUT)
    if where.min_age is not None and where.max_age is not None and where.min_age > where.max_age:
        fail(f"--min-age {where.min_age} is above --max-age {where.max_age}; swap them", EXIT_BAD_INPUT)
    if where.found_from is not None and where.found_to is not None and where.found_from > where.found_to:
        fail(f"--from {found_from} is after --to {found_to}; swap them", EXIT_BAD_INPUT)


def _clearance(cases: Any, threshold: float, min_cases: int, as_json: bool) -> None:
    from caselink.scan.clearance import clearance_clusters

    groups = clearance_clusters(cases, threshold=threshold, min_cases=min_cases)
    if as_json:
        print_json({"n_cases": len(cases), "threshold": threshold, "min_cases": min_cases,
                    "groups": [g.to_dict() for g in groups]})
        return
    if not groups:
        typer.echo(f"no group of {min_cases}+ deaths has clearance at or below {threshold:.0%} "
                   f"({len(cases)} cases)")
    for g in groups:
        typer.echo(f"{g.area} | {g.victim_sex} | {g.cause}: {g.cases} deaths, {g.solved} solved "
                   f"({g.clearance_rate:.0%})")


def _space_time(cases: Any, max_radius_km: float, max_days: int, permutations: int, seed: int | None,
                prospective: bool, time_aggregation: str, as_json: bool) -> None:
    from caselink.scan.permutation import ScanInputError, SpaceTimePermutationScan

    located = cases.dropna(subset=["lat", "lon", "found_at"])
    if len(located) < len(cases):
        typer.echo(f"caselink: warning: {len(cases) - len(located)} cases without a location or date "
                   "are left out", err=True)
    estimator = SpaceTimePermutationScan(max_radius_km=max_radius_km, max_days=max_days,
                                         permutations=permutations, seed=seed, prospective=prospective,
                                         time_aggregation=time_aggregation)
    try:
        estimator.fit(located[["case_id", "lat", "lon", "found_at"]])
    except ScanInputError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    clusters = [c.to_dict() for c in estimator.clusters_]
    for c in clusters:
        c.pop("n_locations", None)
    why = f"no space-time cluster: no cylinder holds more cases than expected ({len(located)} cases)"
    if as_json:
        print_json({"clusters": clusters, "n_cases": len(located), **({} if clusters else {"reason": why})})
        return
    if not clusters:
        typer.echo(why)
    for rank, c in enumerate(clusters, start=1):
        p = "n/a" if c["p_value"] is None else f"{c['p_value']:.3g}"
        typer.echo(f"{rank}. {c['start']}..{c['end']} within {c['radius_km']:.2f} km of "
                   f"({c['center'][0]:.5f}, {c['center'][1]:.5f}): {c['observed']} observed, "
                   f"{c['expected']:.2f} expected, LLR {c['llr']:.3f}, p = {p}")
        typer.echo(f"   cases: {', '.join(c['case_ids'])}")
