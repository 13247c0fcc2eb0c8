"""Corroborated links: three cases that pair only moderately well, but all three ways, form a series."""

from __future__ import annotations

import pandas as pd

from caselink.linkage.pipeline import events_in_order, linked_pairs
from caselink.linkage.series import SeriesState


def _features(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": ids, "found_day": [float(16000 + i) for i in range(len(ids))]})


def _pairs(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_probability"])


def test_a_weak_triangle_alerts_at_its_third_case() -> None:
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "b", 0.4), ("a", "c", 0.5), ("b", "c", 0.3)])
    assert events_in_order(features, pairs, SeriesState(), 0.95) == []
    events = events_in_order(features, pairs, SeriesState(), 0.95, corroboration=0.2)
    assert [(e.kind, e.new_case_id, e.case_ids) for _, e in events] == [("new_series", "c", ["a", "b", "c"])]


def test_a_weak_pair_without_a_third_case_never_links() -> None:
    features = _features(["a", "b", "c", "d"])
    # c pairs weakly with a and with b, but a and b do not pair at all: no triangle.
    pairs = _pairs([("a", "c", 0.5), ("b", "c", 0.5), ("c", "d", 0.6)])
    assert events_in_order(features, pairs, SeriesState(), 0.95, corroboration=0.2) == []
    assert linked_pairs(pairs, 0.95, 0.2).empty


def test_a_weak_link_to_two_members_of_a_series_joins_it() -> None:
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "b", 0.99), ("a", "c", 0.3), ("b", "c", 0.25)])
    events = events_in_order(features, pairs, SeriesState(), 0.95, corroboration=0.2)
    assert [(e.kind, e.new_case_id) for _, e in events] == [("new_series", "b"), ("joined", "c")]


def test_context_pairs_corroborate_but_raise_nothing_themselves() -> None:
    """Live ingest scores only the new case; the pair between its two partners comes as context."""
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "c", 0.5), ("b", "c", 0.3)])
    context = _pairs([("a", "b", 0.4)])
    events = events_in_order(features, pairs, SeriesState(), 0.95, new_ids=["c"], corroboration=0.2,
                             context=context)
    assert [(e.kind, e.case_ids) for _, e in events] == [("new_series", ["a", "b", "c"])]
    assert events_in_order(features, pairs, SeriesState(), 0.95, new_ids=["c"], corroboration=0.2) == []


def test_batch_rule_agrees_with_the_replay_rule() -> None:
    pairs = _pairs([("a", "b", 0.4), ("a", "c", 0.5), ("b", "c", 0.3), ("c", "d", 0.5), ("x", "y", 0.97)])
    kept = linked_pairs(pairs, 0.95, 0.2)
    assert sorted(zip(kept["unique_id_l"], kept["unique_id_r"], strict=True)) == [
        ("a", "b"), ("a", "c"), ("b", "c"), ("x", "y")]
