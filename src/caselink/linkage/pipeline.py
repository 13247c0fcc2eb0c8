"""The linkage pipeline on a frame of stored cases: link everything, or replay it in time order.

Replay scores every blocked pair once and then feeds the pairs to the series state machine in
``found_at`` order, each pair arriving with its later case.  That is exactly what day-by-day
incremental scoring would produce, because a case's features and a pair's comparison use only
information from before the later case's day (``features.py``); it is the batching that makes
100,000 cases replay in minutes instead of hours.  The state machine is the one live ingest uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from caselink.linkage.explain import series_reasons
from caselink.linkage.features import build_features, rarity_table
from caselink.linkage.model import LinkageModel
from caselink.linkage.scoring import Scorer, contributions
from caselink.linkage.series import SeriesEvent, SeriesState, connected_components, reconcile

STORED_COLUMNS = [
    "case_id", "incident_type", "found_at", "died_from", "died_to", "lat", "lon", "location_precision_m",
    "place_type", "area", "victim_age", "victim_sex", "victim_tags", "cause", "substances", "mo", "entities",
    "narrative",
    "series_id",
]


@dataclass
class LinkResult:
    as_of: str | None
    n_cases: int
    pairs: pd.DataFrame
    series: list[dict[str, Any]]
    merged: dict[str, str] = field(default_factory=dict)
    n_candidate_pairs: int = 0


def noun_for(stored: pd.DataFrame) -> str:
    kinds = set(stored["incident_type"].dropna()) if "incident_type" in stored else {"death"}
    return "deaths" if kinds <= {"death"} else "cases"


def describe_series(series_id: str, members: set[str], stored: pd.DataFrame, pairs: pd.DataFrame,
                    substance_share: dict[str, float], mo_share: dict[str, float]) -> dict[str, Any]:
    """The contract view of one series (DESIGN §3)."""
    rows = stored[stored["case_id"].isin(members)].sort_values(["found_at", "case_id"])
    inside = pairs[pairs["unique_id_l"].isin(members) & pairs["unique_id_r"].isin(members)]
    score = float(inside["match_probability"].mean()) if len(inside) else 0.0
    return {
        "series_id": series_id,
        "case_ids": list(rows["case_id"]),
        "score": round(score, 4),
        "first_found_at": pd.Timestamp(rows["found_at"].min()).date().isoformat(),
        "last_found_at": pd.Timestamp(rows["found_at"].max()).date().isoformat(),
        "reasons": series_reasons(rows, substance_share, mo_share, noun_for(stored)),
    }


def link(stored: pd.DataFrame, model: LinkageModel, previous: SeriesState | None = None,
         as_of: date | None = None, threshold: float | None = None) -> LinkResult:
    """Score all blocked pairs, cluster those above the threshold, and give series stable ids."""
    threshold = model.series_threshold if threshold is None else threshold
    corroboration = model.corroboration_threshold
    floor = threshold if corroboration is None else min(threshold, corroboration)
    frame = stored
    if as_of is not None:
        frame = stored[pd.to_datetime(stored["found_at"]).dt.date <= as_of]
    features = build_features(frame)
    scorer = Scorer(model, features)
    try:
        pairs = scorer.predict_all(threshold=floor)
    finally:
        scorer.close()
    pairs = linked_pairs(pairs, threshold, corroboration)
    order = {case_id: i for i, case_id in enumerate(features["unique_id"])}
    components = connected_components(zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True))
    groups, merged = reconcile(components, previous or SeriesState(), order)
    substance_share = rarity_table(frame, "substances")
    mo_share = rarity_table(frame, "mo")
    series = [describe_series(sid, members, frame, pairs, substance_share, mo_share)
              for sid, members in groups.items()]
    series.sort(key=lambda s: (s["first_found_at"], s["series_id"]))
    return LinkResult(as_of.isoformat() if as_of else None, len(frame), pairs, series, merged)


def linked_pairs(pairs: pd.DataFrame, threshold: float, corroboration: float | None) -> pd.DataFrame:
    """The pairs that link: at or above ``threshold``, or at or above ``corroboration`` and in a triangle.

    The batch form of the rule ``events_in_order`` applies case by case: a moderately strong pair
    counts when both its cases are linked at least as strongly to a common third case.
    """
    strong = pairs["match_probability"] >= threshold
    if corroboration is None:
        return pairs[strong]
    weak = pairs[pairs["match_probability"] >= corroboration]
    neighbours: dict[str, set[str]] = {}
    for a, b in zip(weak["unique_id_l"], weak["unique_id_r"], strict=True):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    corroborated = pd.Series(
        [p >= corroboration and bool(neighbours.get(a, set()) & neighbours.get(b, set()))
         for a, b, p in zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"], strict=True)],
        index=pairs.index, dtype=bool)
    return pairs[strong | corroborated]


def pairs_json(pairs: pd.DataFrame, model: LinkageModel) -> list[dict[str, Any]]:
    from caselink.linkage.scoring import level_labels

    labels = level_labels(model)
    out = []
    for _, pair in pairs.sort_values("match_weight", ascending=False).iterrows():
        out.append({"case_a": pair["unique_id_l"], "case_b": pair["unique_id_r"],
                    "probability": round(float(pair["match_probability"]), 4),
                    "match_weight": round(float(pair["match_weight"]), 3),
                    "contributions": contributions(pair, labels)})
    return out


def events_in_order(features: pd.DataFrame, pairs: pd.DataFrame, state: SeriesState, threshold: float,
                    new_ids: list[str] | None = None, corroboration: float | None = None,
                    context: pd.DataFrame | None = None) -> list[tuple[str, SeriesEvent]]:
    """Feed cases in found order to the state machine; each sees its links to earlier cases only.

    A case's links are its pairs at or above ``threshold``, plus, when ``corroboration`` is given,
    every pair at or above that lower bar whose earlier case is corroborated: linked at that bar to
    another of the new case's partners.  Three deaths that each pair only moderately well, but all
    three ways, are a series a single pair cannot show.  ``context`` holds pairs among earlier cases
    that ``pairs`` may lack (live ingest scores only new cases against history); it is read only to
    corroborate, never fed to the state machine.  ``new_ids`` limits which cases raise events (the
    rest only build history).  Returns (found date, event) for every event raised.
    """
    floor = threshold if corroboration is None else min(threshold, corroboration)
    kept = pairs[pairs["match_probability"] >= floor]
    order = {case_id: i for i, case_id in enumerate(features["unique_id"])}
    partners: dict[str, dict[str, float]] = {}
    between: dict[frozenset[str], float] = {}
    for a, b, prob in zip(kept["unique_id_l"], kept["unique_id_r"], kept["match_probability"], strict=True):
        later, earlier = (a, b) if order.get(a, -1) > order.get(b, -1) else (b, a)
        partners.setdefault(later, {})[earlier] = max(float(prob), partners.get(later, {}).get(earlier, 0.0))
        between[frozenset((a, b))] = max(float(prob), between.get(frozenset((a, b)), 0.0))
    if context is not None and corroboration is not None:
        for a, b, prob in zip(context["unique_id_l"], context["unique_id_r"], context["match_probability"],
                              strict=True):
            key = frozenset((a, b))
            between[key] = max(float(prob), between.get(key, 0.0))
    wanted = set(new_ids) if new_ids is not None else None
    events = []
    days = dict(zip(features["unique_id"], features["found_day"], strict=True))
    for case_id in features["unique_id"]:
        links = partners.get(case_id)
        if not links:
            continue
        linked = {e: p for e, p in links.items() if p >= threshold}
        if corroboration is not None:
            weak = [e for e, p in links.items() if p >= corroboration]
            for earlier in weak:
                if earlier not in linked and any(
                        other != earlier and between.get(frozenset((earlier, other)), 0.0) >= corroboration
                        for other in weak):
                    linked[earlier] = links[earlier]
        if not linked:
            continue
        event = state.add_case(case_id, linked)
        if event is not None and (wanted is None or case_id in wanted):
            at = (pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(days[case_id]))).date().isoformat()
            events.append((at, event))
    return events


def replay(stored: pd.DataFrame, model: LinkageModel, date_from: date | None = None,
           date_to: date | None = None) -> list[dict[str, Any]]:
    """Alerts as a live system would have raised them, in found order (the replay contract)."""
    frame = stored
    if date_to is not None:
        frame = stored[pd.to_datetime(stored["found_at"]).dt.date <= date_to]
    features = build_features(frame)
    scorer = Scorer(model, features)
    try:
        pairs = scorer.predict_all(threshold=model.pair_threshold)
    finally:
        scorer.close()
    events = events_in_order(features, pairs, SeriesState(), model.series_threshold,
                             corroboration=model.corroboration_threshold)
    alerts = []
    found_dates = pd.to_datetime(frame["found_at"]).dt.date
    for at, event in events:
        if date_from is not None and date.fromisoformat(at) < date_from:
            continue
        known = frame[found_dates <= date.fromisoformat(at)]
        rows = frame[frame["case_id"].isin(event.case_ids)]
        reasons = series_reasons(rows, rarity_table(known, "substances"), rarity_table(known, "mo"), noun_for(frame))
        alerts.append({"at": at, "new_case_id": event.new_case_id, "series_id": event.series_id,
                       "kind": event.kind, "case_ids": event.case_ids,
                       "probability": round(event.probability, 4), "reasons": reasons})
    return alerts
