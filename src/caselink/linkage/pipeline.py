"""The linkage pipeline on a frame of stored cases: link everything, or replay it in time order.

Replay scores every blocked pair once and then feeds the pairs to the series state machine in
``found_at`` order, each pair arriving with its later case.  That is exactly what day-by-day
incremental scoring would produce, because a case's features and a pair's comparison use only
information from before the later case's day (``features.py``); it is the batching that makes
100,000 cases replay in minutes instead of hours.  The state machine is the one live ingest uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from caselink.linkage.engines import batch_scorer
from caselink.linkage.explain import series_reasons
from caselink.linkage.features import build_features, rarity_table
from caselink.linkage.model import CORROBORATION_FLOOR, LinkageModel
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
                    substance_share: dict[str, float], mo_share: dict[str, float],
                    noun: str | None = None) -> dict[str, Any]:
    """The contract view of one series (DESIGN §3).

    ``noun`` ("deaths" or "cases") describes the whole store; without it, ``stored`` is taken to be
    the whole store.
    """
    rows = stored[stored["case_id"].isin(members)].sort_values(["found_at", "case_id"])
    inside = pairs[pairs["unique_id_l"].isin(members) & pairs["unique_id_r"].isin(members)]
    score = float(inside["match_probability"].mean()) if len(inside) else 0.0
    return {
        "series_id": series_id,
        "case_ids": list(rows["case_id"]),
        "score": round(score, 4),
        "first_found_at": pd.Timestamp(rows["found_at"].min()).date().isoformat(),
        "last_found_at": pd.Timestamp(rows["found_at"].max()).date().isoformat(),
        "reasons": series_reasons(rows, substance_share, mo_share, noun or noun_for(stored)),
    }


def link(stored: pd.DataFrame, model: LinkageModel, previous: SeriesState | None = None,
         as_of: date | None = None, threshold: float | None = None, engine: str = "duckdb") -> LinkResult:
    """Score all blocked pairs, cluster those above the threshold, and give series stable ids.

    ``engine`` scores the pairs (``engines.batch_scorer``); everything after scoring is the same code.
    """
    threshold = model.series_threshold if threshold is None else threshold
    corroboration = Corroboration.of(model)
    floor = threshold if corroboration is None else min(threshold, corroboration.floor)
    frame = stored
    if as_of is not None:
        frame = stored[pd.to_datetime(stored["found_at"]).dt.date <= as_of]
    features = build_features(frame)
    scorer = batch_scorer(engine, model, features)
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
    # DESIGN §3: as_of is always a date, the day of the last case when none was asked for.
    last = pd.to_datetime(frame["found_at"]).max() if len(frame) else None
    as_of_text = as_of.isoformat() if as_of else (last.date().isoformat() if last is not None else None)
    return LinkResult(as_of_text, len(frame), pairs, series, merged)


def linked_pairs(pairs: pd.DataFrame, threshold: float, corroboration: Corroboration | None) -> pd.DataFrame:
    """The pairs that link: at or above ``threshold``, or in a triangle whose combined evidence holds.

    The batch form of the rule ``events_in_order`` applies case by case.
    """
    strong = pairs["match_probability"] >= threshold
    if corroboration is None:
        return pairs[strong]
    usable = pairs[pairs["match_probability"] >= corroboration.floor]
    weights: dict[frozenset[str], float] = {}
    neighbours: dict[str, set[str]] = {}
    for a, b, weight in zip(usable["unique_id_l"], usable["unique_id_r"], usable["match_weight"], strict=True):
        weights[frozenset((a, b))] = float(weight)
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)

    def in_triangle(a: str, b: str, weight: float) -> bool:
        return any(corroboration.holds(weight, weights[frozenset((a, c))], weights[frozenset((b, c))])
                   for c in neighbours.get(a, set()) & neighbours.get(b, set()))

    corroborated = pd.Series(
        [p >= corroboration.floor and in_triangle(a, b, float(w))
         for a, b, p, w in zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"],
                               pairs["match_weight"], strict=True)],
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


@dataclass(frozen=True)
class Corroboration:
    """The rule that three cases pairing with each other can form a series no single pair shows.

    Their evidence is combined: each pair's match weight is the prior's log-odds plus the evidence
    of its comparisons, so the three together weigh ``w_ab + w_ac + w_bc − prior``: the evidence of all
    three pairs against the prior of a two-link chain.  This treats the three pairs' evidence as
    independent, which it is not quite (each case appears in two pairs), so the threshold is
    calibrated on stores with planted series rather than read as a true probability.
    """

    threshold: float
    prior_weight: float
    floor: float = CORROBORATION_FLOOR

    @classmethod
    def of(cls, model: LinkageModel, threshold: float | None = None) -> Corroboration | None:
        """The model's own rule, or the rule at ``threshold`` under the model's prior (calibration
        tries several); None when there is no corroboration threshold."""
        chosen = model.corroboration_threshold if threshold is None else threshold
        return None if chosen is None else cls(chosen, model.prior_weight)

    def holds(self, *weights: float) -> bool:
        joint = sum(weights) - self.prior_weight
        return joint >= math.log2(self.threshold / (1.0 - self.threshold))


def events_in_order(features: pd.DataFrame, pairs: pd.DataFrame, state: SeriesState, threshold: float,
                    new_ids: list[str] | None = None, corroboration: Corroboration | None = None,
                    context: pd.DataFrame | None = None) -> list[tuple[str, SeriesEvent]]:
    """Feed cases in found order to the state machine; each sees its links to earlier cases only.

    A case's links are its pairs at or above ``threshold``, plus, under ``corroboration``, its pairs
    with two earlier cases that also pair with each other when the three pairs' combined evidence
    holds.  ``context`` holds pairs among earlier cases that ``pairs`` may lack (live ingest scores
    only new cases against history); it is read only to corroborate, never fed to the state machine.
    ``new_ids`` limits which cases raise events (the rest only build history).  Returns (found date,
    event) for every event raised.
    """
    floor = threshold if corroboration is None else min(threshold, corroboration.floor)
    kept = pairs[pairs["match_probability"] >= floor]
    order = {case_id: i for i, case_id in enumerate(features["unique_id"])}
    partners: dict[str, dict[str, tuple[float, float]]] = {}
    between: dict[frozenset[str], float] = {}
    for a, b, prob, weight in zip(kept["unique_id_l"], kept["unique_id_r"], kept["match_probability"],
                                  kept["match_weight"], strict=True):
        later, earlier = (a, b) if order.get(a, -1) > order.get(b, -1) else (b, a)
        partners.setdefault(later, {})[earlier] = (float(prob), float(weight))
        between[frozenset((a, b))] = float(weight)
    if context is not None and corroboration is not None:
        usable = context[context["match_probability"] >= corroboration.floor]
        for a, b, weight in zip(usable["unique_id_l"], usable["unique_id_r"], usable["match_weight"], strict=True):
            between.setdefault(frozenset((a, b)), float(weight))
    wanted = set(new_ids) if new_ids is not None else None
    events = []
    days = dict(zip(features["unique_id"], features["found_day"], strict=True))
    for case_id in features["unique_id"]:
        links = partners.get(case_id)
        if not links:
            continue
        linked = {e: p for e, (p, _) in links.items() if p >= threshold}
        if corroboration is not None and len(links) >= 2:
            linked.update(_corroborated(links, between, corroboration))
        if not linked:
            continue
        event = state.add_case(case_id, linked)
        if event is not None and (wanted is None or case_id in wanted):
            at = (pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(days[case_id]))).date().isoformat()
            events.append((at, event))
    return events


def _corroborated(links: dict[str, tuple[float, float]], between: dict[frozenset[str], float],
                  rule: Corroboration) -> dict[str, float]:
    """The earlier cases a new case links to through a triangle whose combined evidence holds."""
    found: dict[str, float] = {}
    earlier = sorted(links)
    for i, a in enumerate(earlier):
        for b in earlier[i + 1:]:
            weight_ab = between.get(frozenset((a, b)))
            if weight_ab is not None and rule.holds(links[a][1], links[b][1], weight_ab):
                found[a] = links[a][0]
                found[b] = links[b][0]
    return found


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
                             corroboration=Corroboration.of(model))
    alerts = []
    found_dates = pd.to_datetime(frame["found_at"]).dt.date
    for at, event in events:
        if date_from is not None and date.fromisoformat(at) < date_from:
            continue
        known = frame[found_dates <= date.fromisoformat(at)]
        rows = frame[frame["case_id"].isin(event.case_ids)].sort_values(["found_at", "case_id"], kind="stable")
        # Only cases known by then choose the noun: a later non-fatal case must not reword an old alert.
        reasons = series_reasons(rows, rarity_table(known, "substances"), rarity_table(known, "mo"), noun_for(known))
        alerts.append({"at": at, "new_case_id": event.new_case_id, "series_id": event.series_id,
                       "kind": event.kind, "case_ids": list(rows["case_id"]),  # found order, as ingest gives
                       "probability": round(event.probability, 4), "reasons": reasons})
    return alerts
