"""Linkage commands: link, explain, evaluate, train, replay, demo; and the ingest hook.

``caselink alerts`` and its triage verbs live in :mod:`caselink.commands.alerts`.

Each command is thin: parse and check options, open the store, call :mod:`caselink.linkage`, print.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from caselink.commands import ingest
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
    warn,
)
from caselink.store import CaseFilter, CaseStore

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Linkage model JSON, used as it is (default: $CASELINK_MODEL, else "
                              "the model shipped with caselink fitted to this store; docs/model.md).")
]
StartModelOption = Annotated[
    Path | None, typer.Option("--model", help="Linkage model JSON to start from (default: the model shipped with "
                              "caselink, as shipped).")
]


EngineOption = Annotated[
    str, typer.Option("--engine",
                      help="Where pairs are scored: duckdb (in this process) or spark (PySpark: local[2], or "
                           "$CASELINK_SPARK_MASTER; needs caselink[spark] and Java 17+). Same pairs either way.")
]


def _on_engine(engine: str, run: Callable[[], Any]) -> Any:
    """Run a scoring step; a Spark that is missing or fails is one line, never a Java stack trace."""
    from caselink.linkage.engines import ENGINES

    if engine not in ENGINES:
        fail(f"--engine: '{engine}' is not one of {', '.join(ENGINES)}", EXIT_BAD_INPUT)
    if engine != "spark":
        return run()
    from caselink.linkage.spark_engine import SparkUnavailable

    try:
        return run()
    except SparkUnavailable as exc:
        fail(str(exc))
    except Exception as exc:
        if not type(exc).__module__.startswith(("pyspark", "py4j", "splink")):
            raise  # caselink's own errors (no labelled series, ...) keep their message and exit code
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        fail(f"Spark failed: {first[:300]}; try again with --engine duckdb")


def _model(path: Path | None) -> Any:
    from caselink.linkage.model import ModelError, load_model

    try:
        return load_model(path)
    except ModelError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def _store_model(store: CaseStore, path: Path | None, stored: Any = None) -> Any:
    """The model this command uses on ``store``: ``--model`` or ``$CASELINK_MODEL`` as it is, else the
    shipped model with the prior fitted to this store (``linkage/store_prior.py``; said on stderr when
    this command fitted it)."""
    from caselink.linkage.model import ModelError
    from caselink.linkage.store_prior import model_for_store

    try:
        return _noted(model_for_store(store, path, stored))
    except ModelError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def _noted(chosen: Any) -> Any:
    """The chosen model, saying on stderr when the command has just fitted its prior to the store."""
    note = chosen.note()
    if note:
        typer.echo(f"caselink: note: {note}", err=True)
    return chosen.model


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        fail(f"{option}: '{value}' is not a date; use YYYY-MM-DD", EXIT_BAD_INPUT)


def _frame(store: CaseStore) -> Any:
    from caselink.linkage.incremental import stored_frame

    frame = stored_frame(store)
    if frame.empty:
        fail("the store has no cases; import some with 'caselink ingest FILE' first", EXIT_BAD_INPUT)
    return frame


def calibration_hint(model: Any, n_cases: int) -> str | None:
    """What to try when a store of some size links nothing under a prior nobody fitted to it.

    Why a hint and not silence: on records that say less than the model's (no narratives, few
    scene flags) every pair carries less evidence and none reaches the threshold, although the
    ranking is right (BENCHMARKS.md, "Another generator"); an analyst seeing "0 series" cannot tell
    that from a store with nothing in it.
    """
    from caselink.linkage.calibration import MIN_CASES

    if n_cases < MIN_CASES or "shifted" in str(model.provenance.get("prior", "")):
        return None
    return (f"nothing linked among {n_cases} cases at threshold {model.series_threshold}. If your records say "
            f"less than the model was fitted on (no narratives, few scene flags), fit its prior to this store: "
            f"'caselink train --alert-budget 1 --out model.json', then --model model.json (docs/model.md)")


def link_command(
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Use only cases found on or before this date.")] = None,
    model_path: ModelOption = None,
    threshold: Annotated[float | None, typer.Option("--threshold", min=0.01, max=0.9999,
                                                     help="Pair probability that links two cases.")] = None,
    officer: OfficerOption = None,
    engine: EngineOption = "duckdb",
    as_json: JsonOption = False,
) -> None:
    """Score candidate pairs, group linked cases into series with stable ids, and save them."""
    from caselink.linkage import incremental
    from caselink.linkage.pipeline import link, pairs_json

    _model(model_path)  # a bad --model fails before the store is opened
    cutoff = _date(as_of, "--as-of")
    store = open_store(db)
    stored = _frame(store)
    model = _store_model(store, model_path, stored)
    if cutoff is not None and not (stored["found_at"].dt.date <= cutoff).any():
        fail(f"--as-of {cutoff}: no case was found on or before that date; choose a later date", EXIT_BAD_INPUT)
    with store.engine.connect() as connection:
        previous = incremental.load_state(connection)
    result = _on_engine(engine, lambda: link(stored, model, previous, cutoff, threshold, engine=engine))
    who = officer_name(officer)
    views = {s["series_id"]: s for s in result.series}
    with store.engine.begin() as connection:
        # An as-of view links cases as much as today's (DPA 2018 s.62 "combination": logged either way),
        # but only the present view is saved: an as-of view must not rewrite today's series.
        run_id = incremental.start_run(connection, "link", who, model, as_of=result.as_of if cutoff else None)
        if cutoff is None:
            incremental.save_series(connection, views, result.merged, result.pairs, run_id, replace_all=True)
        incremental.finish_run(connection, run_id, n_cases=result.n_cases, n_pairs=len(result.pairs),
                               n_series=len(result.series), details={"threshold": threshold})
        incremental.record_audit(connection, who, sorted({c for s in result.series for c in s["case_ids"]}),
                                 {"kind": "linkage_link", "run_id": run_id, "series": len(result.series),
                                  **({"as_of": result.as_of} if cutoff else {})})
    as_of_text = result.as_of or stored["found_at"].max().date().isoformat()
    if as_json:
        print_json({"as_of": as_of_text, "n_cases": result.n_cases, "series": result.series,
                    "pairs": pairs_json(result.pairs, model)})
    else:
        typer.echo(f"{result.n_cases} case(s) as of {as_of_text}: {len(result.series)} series, "
                   f"{len(result.pairs)} linked pair(s)")
        hint = None if result.series else calibration_hint(model, result.n_cases)
        if hint:
            warn(hint)
        for view in result.series:
            typer.echo(f"{view['series_id']}  {len(view['case_ids'])} cases  score {view['score']:.2f}  "
                       f"{view['first_found_at']} .. {view['last_found_at']}")
            for reason in view["reasons"]:
                typer.echo(f"    - {reason}")
    store.close()


def replay_command(
    db: DbOption = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Report alerts from this date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Stop after this date.")] = None,
    model_path: ModelOption = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Feed the store through linkage in found order, as if live, and list the alerts it would have raised."""
    from caselink.linkage import incremental
    from caselink.linkage.pipeline import replay

    _model(model_path)  # a bad --model fails before the store is opened
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    if start and end and start > end:
        fail(f"--from {start} is after --to {end}; swap them", EXIT_BAD_INPUT)
    store = open_store(db)
    stored = _frame(store)
    days = stored["found_at"].dt.date
    if not ((days >= (start or date.min)) & (days <= (end or date.max))).any():
        fail("no case was found in the given date range; widen --from/--to", EXIT_BAD_INPUT)
    model = _store_model(store, model_path, stored)
    alerts = replay(stored, model, start, end)
    with store.engine.begin() as connection:
        run_id = incremental.start_run(connection, "replay", officer_name(officer), model,
                                       as_of=end.isoformat() if end else None)
        incremental.finish_run(connection, run_id, n_cases=len(stored), n_series=len({a["series_id"] for a in alerts}),
                               details={"alerts": len(alerts), "from": str(start), "to": str(end)})
        incremental.record_audit(connection, officer_name(officer), sorted({c for a in alerts for c in a["case_ids"]}),
                                 {"kind": "linkage_replay", "run_id": run_id, "alerts": len(alerts)})
    store.close()
    if as_json:
        print_json({"alerts": alerts})
        return
    if not alerts:
        typer.echo("no alerts would have been raised")
        hint = calibration_hint(model, len(stored))
        if hint:
            warn(hint)
    for alert in alerts:
        typer.echo(alert_line(alert))


def alert_line(alert: dict[str, Any]) -> str:
    """An alert as ingest, replay and ``caselink alerts`` print it: one head line, then its reasons."""
    verb = {"new_series": "new series", "joined": "joined", "merged": "merged into"}.get(alert["kind"], alert["kind"])
    head = (f"{alert['at']}  ALERT {alert['series_id']} ({verb}): {alert['new_case_id']} "
            f"with {len(alert['case_ids']) - 1} earlier case(s), p={alert['probability']:.2f}")
    return head + "".join(f"\n    - {reason}" for reason in alert.get("reasons", []))


def explain_command(
    case_a: Annotated[str, typer.Argument(help="First case id.")],
    case_b: Annotated[str, typer.Argument(help="Second case id.")],
    db: DbOption = None,
    model_path: ModelOption = None,
    justification: Annotated[str | None, typer.Option(
        help="Why you are comparing these cases (logged; default 'explain').")] = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show why two cases are (or are not) linked: each comparison's level and weight, as a waterfall.

    The waterfall shows what both records hold, so it is logged as a consultation of both (DPA 2018 s.62)."""
    from caselink.linkage.explain import explain_cases

    _model(model_path)  # a bad --model fails before the store is opened
    if case_a == case_b:
        fail("give two different case ids", EXIT_BAD_INPUT)
    store = open_store(db)
    known = set(store.cases_frame(["case_id"], CaseFilter(case_ids=(case_a, case_b)))["case_id"])
    for case_id in (case_a, case_b):
        if case_id not in known:
            fail(f"unknown case id '{case_id}'; list ids with 'caselink cases list'", EXIT_BAD_INPUT)
    model = _store_model(store, model_path)
    result = explain_cases(store, model, case_a, case_b)
    if result is not None:
        from caselink.commands.cases import log_consultation

        log_consultation(store, [case_a, case_b], officer, (justification or "").strip() or "explain",
                         {"view": "explain"})
    store.close()
    if result is None:  # pragma: no cover - both ids were just found
        fail("the two cases could not be compared", 1)
    if as_json:
        print_json(result)
        return
    typer.echo(f"{result['case_a']} ~ {result['case_b']}: probability {result['probability']:.4f}, "
               f"match weight {result['match_weight']:+.2f} ({'linked' if result['linked'] else 'not linked'})")
    for step in result["steps"]:
        bar = ("+" if step["weight"] >= 0 else "-") * min(40, int(round(abs(step["weight"]))))
        typer.echo(f"  {step['comparison']:<12} {step['level']:<44} {step['weight']:+7.2f}  "
                   f"{step['cumulative']:+7.2f}  {bar}")


def train_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the model JSON.")],
    db: DbOption = None,
    labels: Annotated[str, typer.Option("--labels", help="Column holding known series (ground truth).")] = "series_id",
    model_path: StartModelOption = None,
    name: Annotated[str | None, typer.Option("--name", help="Name recorded in the model.")] = None,
    comparisons: Annotated[str | None, typer.Option(
        "--comparisons", help="Start from a named comparison set instead of --model: 'default' (the shipped "
        "model's, for deaths) or 'burglary' (distance 50 m-13 km and hours-half a year on fine levels "
        "with kernel-smoothed m, MO codes by information; docs/model.md).")] = None,
    alert_budget: Annotated[float | None, typer.Option(
        "--alert-budget", min=0.0, help="Also fit the prior to this store: shift it as far as a replay of the "
        "store keeps to at most this many false series per 1,000 cases (without labels every series "
        "counts as false); docs/model.md.")] = None,
) -> None:
    """Fit u from random pairs of this store and m from its labelled series; write a model file.

    A store without labelled series still gives u (m and the prior stay the starting model's), and
    with ``--alert-budget`` the prior too, which is what a new deployment needs before going live.
    """
    from caselink.linkage.calibration import CalibrationError, calibrate
    from caselink.linkage.comparison_sets import ComparisonSetError, base_model, training_options
    from caselink.linkage.training import TrainingError, train, train_u

    if labels != "series_id":
        fail(f"--labels {labels}: only 'series_id' holds ground truth in the case schema", EXIT_BAD_INPUT)
    if comparisons is not None and model_path is not None:
        fail("--comparisons and --model both name a starting model; give one of them", EXIT_BAD_INPUT)
    options: dict[str, Any] = {}
    if comparisons is not None:
        try:
            base, options = base_model(comparisons), training_options(comparisons)
        except ComparisonSetError as exc:
            fail(f"--comparisons: {exc}", EXIT_BAD_INPUT)
    else:
        base = _model(model_path)
    store = open_store(db)
    refuse_out_over_store(store, out, "model")
    stored = _frame(store)
    store.close()
    model_name = name or f"trained-on-{Path(out).stem}"
    labelled = bool(stored["series_id"].dropna().duplicated().any())
    try:
        if labelled:
            model = train(stored, base, name=model_name, **options)
        else:
            model = train_u(stored, base, name=model_name, exact_u=bool(options.get("exact_u", False)))
        shift = None
        if alert_budget is not None:
            model, _rows, shift = calibrate(stored, model, alert_budget)
    except (TrainingError, CalibrationError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        model.save(out)
    except OSError as exc:
        fail(f"--out {out}: cannot write ({exc.strerror}); choose a writable path", EXIT_BAD_INPUT)
    m_from = (f"m from {model.provenance.get('n_labelled_pairs')} labelled pair(s) in "
              f"{model.provenance.get('n_series')} series" if labelled
              else f"m kept from {base.name} (no labelled series)")
    prior = ("" if shift is None else
             f", prior shifted {shift.shift_bits:+g} bits to {shift.prior:.3g} ({shift.series} series in a replay "
             f"of this store at threshold {model.series_threshold}; budget {alert_budget:g} false per 1,000)")
    typer.echo(f"wrote {out}: {m_from}, u from {model.provenance.get('u_pairs_sampled')} random pair(s){prior}")


def evaluate_command(
    db: DbOption = None,
    model_path: ModelOption = None,
    engine: EngineOption = "duckdb",
    as_json: JsonOption = False,
) -> None:
    """Measure the model on this store's labelled series: ROC AUC, precision, alert timing, false series."""
    from caselink.linkage.evaluate import EvaluationError, evaluate

    _model(model_path)  # a bad --model fails before the store is opened
    store = open_store(db)
    stored = _frame(store)
    model = _store_model(store, model_path, stored)
    store.close()
    try:
        report = _on_engine(engine, lambda: evaluate(stored, model, engine=engine))
    except EvaluationError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    if as_json:
        print_json(report)
        return
    pairwise = report["pairwise"]
    typer.echo(f"pairs: {pairwise['n_pairs']} labelled ({pairwise['n_linked']} linked); ROC AUC "
               f"{pairwise['roc_auc']:.3f}, average precision {pairwise['average_precision']:.3f}, "
               f"TPR {pairwise['tpr_at_1pct_fpr']:.2f} at 1% FPR, {pairwise['tpr_at_5pct_fpr']:.2f} at 5% FPR")
    for row in report["series"]:
        when = f"alerted at member {row['alerted_at_member']}" if row["alerted_at_member"] else "never alerted"
        typer.echo(f"  {row['label']}: {row['n_cases']} cases, {when}")
    typer.echo(f"false series: {report['false_series']} ({report['false_series_per_1000']:.2f} per 1,000 cases)")


def demo_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Build the Barking demo store, replay it, and tell when caselink would have raised the alarm."""
    from caselink.linkage.demo_story import DemoError, run_demo

    try:
        story = run_demo(db)
    except DemoError as exc:
        fail(str(exc))
    if story["ingested"] is not None:
        stored_alerts = _settle_demo_store(story["store"], story["ingested"])
        story["lines"].insert(-1, f"Stored as if imported live: {stored_alerts} open alert(s) to triage "
                                  f"('caselink alerts --db {story['store']}', or the web app's inbox), "
                                  "and the basic-steps checklist of every unexplained death.")
    if as_json:
        print_json({"alerts": story["alerts"]})
        return
    for line in story["lines"]:
        typer.echo(line)


def _settle_demo_store(path: str, result: Any) -> int:
    """Run on the new demo store what every import gets (``caselink ingest``'s after-steps), so that
    ``caselink alerts``, the web inbox and the checklists show the demo as a user's store would.

    The linkage step records its alerts without printing them: the story already tells them.
    Returns the number of alerts stored.
    """
    from caselink.linkage.incremental import score_new_cases
    from caselink.linkage.model import load_model

    store = CaseStore.open(path)
    try:
        alerts: list[dict[str, Any]] = []
        for step in ingest.AFTER_INGEST:
            if step is after_ingest:
                alerts = score_new_cases(store, load_model(None), store.case_ids_changed_by(result.import_id),
                                         "caselink-demo")
            else:
                step(store, result)
    finally:
        store.close()
    return len(alerts)


def before_ingest() -> None:
    """Refuse an import whose cases could not be scored: with an unusable $CASELINK_MODEL (or
    $CASELINK_ALERT_BUDGET) they would land unscored, and no alert would ever be raised for them."""
    from caselink.linkage.model import ModelError, load_model
    from caselink.linkage.store_prior import budget_from_env

    for variable, check in (("$CASELINK_MODEL", lambda: load_model(None)), ("$CASELINK_ALERT_BUDGET", budget_from_env)):
        try:
            check()
        except ModelError as exc:
            fail(f"{exc}; nothing was imported (new cases could not be scored for alerts): fix or unset "
                 f"{variable}", EXIT_BAD_INPUT)


def _ingest_model(store: CaseStore) -> Any:
    """The model ingest scores with: $CASELINK_MODEL, else the shipped one with this store's prior."""
    from caselink.linkage.store_prior import model_for_store

    return _noted(model_for_store(store))


def after_ingest(store: CaseStore, result: Any) -> dict[str, Any] | None:
    """Score the cases an import created or changed; print and record any alert."""
    from caselink.linkage.incremental import score_new_cases
    from caselink.linkage.model import ModelError

    new_ids = store.case_ids_changed_by(result.import_id)
    if not new_ids:
        return {"alerts": [], "possible_duplicates": []}
    try:
        model = _ingest_model(store)
    except ModelError as exc:  # $CASELINK_MODEL or $CASELINK_ALERT_BUDGET cannot be used (library imports)
        warn(f"linkage skipped: the {len(new_ids)} new or changed case(s) were imported but not scored, so "
             f"no alert was raised: {exc}; fix $CASELINK_MODEL or $CASELINK_ALERT_BUDGET, then run 'caselink link' "
             "to see their series")
        return None
    alerts = score_new_cases(store, model, new_ids, result.officer or officer_name(None))
    for alert in alerts:
        typer.echo(alert_line(alert), err=True)
    if not alerts and len(new_ids) >= 500:
        # A first bulk import that links nothing: say what to try, as link and replay do.
        from sqlalchemy import func, select

        from caselink.linkage.incremental import SERIES

        with store.engine.connect() as connection:
            no_series = not connection.execute(select(func.count()).select_from(SERIES)).scalar_one()
        hint = calibration_hint(model, store.count()) if no_series else None
        if hint:
            warn(hint)
    from caselink.linkage.duplicates import possible_duplicates_in_store

    duplicates = possible_duplicates_in_store(store, new_ids)
    for new_id, other_id in duplicates:
        warn(f"{new_id} may be the same death as {other_id} (found within a day at the same place, the "
             "victims alike): check whether one death was recorded twice before reading any series it joins")
    return {"alerts": alerts, "possible_duplicates": [{"case_id": a, "same_death_as": b} for a, b in duplicates]}


def register(app: typer.Typer) -> None:
    app.command("link")(link_command)
    app.command("replay")(replay_command)
    app.command("explain")(explain_command)
    app.command("train")(train_command)
    app.command("evaluate")(evaluate_command)
    app.command("demo")(demo_command)
    if after_ingest not in ingest.AFTER_INGEST:
        ingest.AFTER_INGEST.append(after_ingest)
    if before_ingest not in ingest.BEFORE_INGEST:
        ingest.BEFORE_INGEST.append(before_ingest)
