"""Live linkage: score cases as they are ingested, keep series in the store, record alerts.

Everything here reads and writes the linkage tables in one transaction per call, so an alert is
never recorded without the series change it announces (and the audit entry, when the audit area
is installed, is written in the same transaction).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from caselink.linkage.explain import series_reasons
from caselink.linkage.feature_cache import (
    CacheUnavailable,
    FeatureCache,
    LiveInputs,
    forget_cache,
    stored_rows,
    whole_store_inputs,
)
from caselink.linkage.features import build_features
from caselink.linkage.model import LinkageModel
from caselink.linkage.models import AlertRow, LinkageRunRow, SeriesLinkRow, SeriesMemberRow, SeriesRow
from caselink.linkage.pipeline import STORED_COLUMNS, Corroboration, describe_series, events_in_order
from caselink.linkage.scoring import Scorer
from caselink.linkage.series import SeriesState
from caselink.store import CaseStore
from caselink.store.models import CaseRow

ALERTS = cast(Table, AlertRow.__table__)
SERIES = cast(Table, SeriesRow.__table__)
MEMBERS = cast(Table, SeriesMemberRow.__table__)
LINKS = cast(Table, SeriesLinkRow.__table__)
RUNS = cast(Table, LinkageRunRow.__table__)
CASES = cast(Table, CaseRow.__table__)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load_state(connection: Connection) -> SeriesState:
    rows = connection.execute(
        select(MEMBERS.c.series_id, MEMBERS.c.case_id).join(SERIES, SERIES.c.series_id == MEMBERS.c.series_id)
        .where(SERIES.c.status == "active")).all()
    merged = dict(connection.execute(
        select(SERIES.c.series_id, SERIES.c.merged_into).where(SERIES.c.status != "active")).all())
    return SeriesState.from_members(((s, c) for s, c in rows), {k: v or "" for k, v in merged.items()})


def stored_frame(store: CaseStore) -> pd.DataFrame:
    """Every case's stored columns, times as the agency's wall clock: a death found "2014-08-28" in
    London is stored as 27 August 23:00 UTC, and alerts, windows and as-of days must say the 28th."""
    return store.cases_frame(STORED_COLUMNS, local_times=True)


def record_audit(connection: Connection, officer: str, case_ids: list[str], details: dict[str, Any]) -> bool:
    """Write a 'combination' audit entry if the audit area is installed; report whether it was."""
    try:
        from caselink.audit import record_event  # type: ignore[attr-defined]
    except ImportError:
        return False
    record_event(connection, action="combination", officer=officer, case_ids=case_ids,
                 justification=None, details=details)
    return True


def start_run(connection: Connection, kind: str, officer: str, model: LinkageModel, as_of: str | None = None) -> int:
    result = connection.execute(insert(RUNS).values(
        kind=kind, started_at=now(), officer=officer, model_name=model.name, as_of=as_of,
        n_cases=0, n_pairs=0, n_series=0, details={}))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_run(connection: Connection, run_id: int, **values: Any) -> None:
    connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(finished_at=now(), **values))


def save_series(connection: Connection, groups: dict[str, dict[str, Any]], merged: dict[str, str],
                pairs: pd.DataFrame, run_id: int, replace_all: bool) -> None:
    """Persist series views (id → contract dict) and their links; merged ids point at survivors."""
    stamp = now()
    existing = set(connection.execute(select(SERIES.c.series_id)).scalars())
    if replace_all:
        connection.execute(delete(MEMBERS))
        connection.execute(update(SERIES).where(SERIES.c.status == "active")
                           .values(status="dissolved", updated_at=stamp))
    for series_id, view in groups.items():
        values = dict(status="active", merged_into=None, updated_at=stamp, n_cases=len(view["case_ids"]),
                      score=view["score"], first_found_at=view["first_found_at"],
                      last_found_at=view["last_found_at"], reasons=view["reasons"])
        if series_id in existing:
            connection.execute(update(SERIES).where(SERIES.c.series_id == series_id).values(**values))
        else:
            connection.execute(insert(SERIES).values(series_id=series_id, created_at=stamp, **values))
        have = set(connection.execute(select(MEMBERS.c.case_id).where(MEMBERS.c.series_id == series_id)).scalars())
        fresh = [c for c in view["case_ids"] if c not in have]
        if fresh:
            connection.execute(insert(MEMBERS), [{"series_id": series_id, "case_id": c, "joined_at": stamp}
                                                 for c in fresh])
    for old, survivor in merged.items():
        while survivor in merged:  # merged again later in the same run: point at the final survivor
            survivor = merged[survivor]
        connection.execute(delete(MEMBERS).where(MEMBERS.c.series_id == old))
        if old in existing:
            connection.execute(update(SERIES).where(SERIES.c.series_id == old)
                               .values(status="merged", merged_into=survivor, updated_at=stamp))
        else:
            # Started and merged within one run: its alert names it, so the table must say where it
            # went, and its number must never be given to another series.
            connection.execute(insert(SERIES).values(
                series_id=old, status="merged", merged_into=survivor, created_at=stamp, updated_at=stamp,
                n_cases=0, score=0.0, reasons=[]))
    if len(pairs):
        keys = set(map(tuple, connection.execute(select(LINKS.c.case_a, LINKS.c.case_b)).all()))
        rows = []
        for a, b, prob, weight in zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"],
                                      pairs["match_weight"], strict=True):
            a, b = sorted((str(a), str(b)))
            if (a, b) not in keys:
                keys.add((a, b))
                rows.append({"case_a": a, "case_b": b, "probability": float(prob),
                             "match_weight": float(weight), "run_id": run_id})
        if rows:
            connection.execute(insert(LINKS), rows)


def corroborating_pairs(model: LinkageModel, features: pd.DataFrame, pairs: pd.DataFrame,
                        new_ids: set[str]) -> pd.DataFrame | None:
    """Pairs among the earlier cases the new ones link to, which the corroboration rule reads.

    Live scoring compares new cases with history only; whether two of a new case's partners are
    themselves linked is a history-history pair, scored here on just those partners (the blocking
    rules are pairwise, so the pairs found are the ones a full run would find among them).
    """
    if model.corroboration_threshold is None or pairs.empty:
        return None
    partners = set(pairs["unique_id_l"]) | set(pairs["unique_id_r"])
    earlier = features[features["unique_id"].isin(partners - new_ids)]
    if len(earlier) < 2:
        return None
    scorer = Scorer(model, earlier)
    try:
        return scorer.predict_all(threshold=model.pair_threshold)
    finally:
        scorer.close()


def live_inputs(store: CaseStore, model: LinkageModel, new_ids: list[str]) -> LiveInputs:
    """Features of the new cases and of their candidate partners: from the feature cache when the
    model's blocking rules can be looked up by key, else by rebuilding every case's features."""
    try:
        return FeatureCache(store, model).prepare(new_ids)
    except CacheUnavailable:
        pass
    except (ValueError, KeyError, TypeError, SQLAlchemyError) as exc:
        # Derived data must never stop an import from being scored: score from the whole store, and
        # forget the cache so that the next import rebuilds it.
        logging.getLogger(__name__).warning("feature cache unusable (%s); scoring against the whole store", exc)
        forget_cache(store)
    stored = stored_frame(store)
    return whole_store_inputs(stored, build_features(stored), new_ids)


def score_new_cases(store: CaseStore, model: LinkageModel, new_ids: list[str], officer: str,
                    kind: str = "ingest") -> list[dict[str, Any]]:
    """Score ``new_ids`` against the rest of the store; record and return the alerts they raise."""
    if not new_ids:
        return []
    live = live_inputs(store, model, new_ids)
    scorer = Scorer(model, live.history)
    try:
        pairs = scorer.predict_new(live.new, threshold=model.pair_threshold)
    finally:
        scorer.close()
    features = pd.concat([live.history, live.new], ignore_index=True) \
        .sort_values(["found_day", "unique_id"], kind="stable").reset_index(drop=True)
    wanted = set(new_ids)
    context = corroborating_pairs(model, features, pairs, wanted)
    alerts: list[dict[str, Any]] = []
    with store.engine.begin() as connection:
        live.write(connection)
        run_id = start_run(connection, kind, officer, model)
        state = load_state(connection)
        events = events_in_order(features, pairs, state, model.series_threshold, new_ids,
                                 corroboration=Corroboration.of(model), context=context)
        touched = {e.series_id for _, e in events}
        stored = stored_rows(store, {c for _, e in events for c in e.case_ids}
                             | {c for s in touched for c in state.members.get(s, set())})
        views: dict[str, dict[str, Any]] = {}
        merged: dict[str, str] = {}
        for at, event in events:
            rows = stored[stored["case_id"].isin(event.case_ids)]
            reasons = series_reasons(rows, live.substance_share, live.mo_share, live.noun)
            alert = {"at": at, "new_case_id": event.new_case_id, "series_id": event.series_id, "kind": event.kind,
                     "case_ids": list(rows.sort_values(["found_at", "case_id"])["case_id"]),
                     "probability": round(event.probability, 4), "reasons": reasons}
            alerts.append(alert)
            connection.execute(insert(ALERTS).values(
                raised_at=now(), status="open", run_id=run_id, details=json.dumps({"merged": event.merged_ids}),
                **{k: alert[k] for k in ("at", "kind", "new_case_id", "series_id", "case_ids", "probability",
                                         "reasons")}))
            merged.update({m: event.series_id for m in event.merged_ids})
        # Only pairs inside one series are links; weaker pairs scored for corroboration are not.
        series_of = state.case_series
        inside = pairs[[series_of.get(a) is not None and series_of.get(a) == series_of.get(b)
                        for a, b in zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)]] \
            if len(pairs) else pairs
        for series_id in touched:
            members = state.members.get(series_id, set())
            if not members:
                continue  # started and merged into an older series within this import: saved as merged
            views[series_id] = describe_series(series_id, members, stored, inside, live.substance_share,
                                               live.mo_share, live.noun)
        save_series(connection, views, merged, inside, run_id, replace_all=False)
        finish_run(connection, run_id, n_cases=count_cases(connection), n_pairs=len(pairs), n_series=len(views),
                   details={"new_case_ids": len(new_ids), "alerts": len(alerts), "candidates": len(live.history),
                            "features_rebuilt": live.rebuilt})
        if alerts:
            record_audit(connection, officer, sorted({c for a in alerts for c in a["case_ids"]}),
                         {"kind": f"linkage_{kind}", "run_id": run_id, "alerts": len(alerts)})
    return alerts


def count_cases(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(CASES)).scalar_one())


def open_alerts(store: CaseStore) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(ALERTS).where(ALERTS.c.status == "open")
                                  .order_by(ALERTS.c.at, ALERTS.c.id)).mappings().all()
    return [{"id": r["id"], "at": r["at"], "kind": r["kind"], "new_case_id": r["new_case_id"],
             "series_id": r["series_id"], "case_ids": list(r["case_ids"]), "probability": r["probability"],
             "reasons": list(r["reasons"]), "raised_at": r["raised_at"].isoformat(timespec="seconds")}
            for r in rows]
