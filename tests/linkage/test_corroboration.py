"""Corroborated links: three cases that pair only moderately well, but all three ways, form a series."""

from __future__ import annotations

import math

import pandas as pd

from caselink.linkage.pipeline import Corroboration, events_in_order, linked_pairs
from caselink.linkage.series import SeriesState

# A prior of 2^-20: each pair's weight starts there; three pairs at p = 0.1 carry about 50 bits
# of evidence together against the 20 bits a two-link chain must overcome beyond one pair.
RULE = Corroboration(threshold=0.95, prior_weight=-20.0, floor=0.001)


def _features(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": ids, "found_day": [float(16000 + i) for i in range(len(ids))]})


def _pairs(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([(a, b, p, math.log2(p / (1 - p))) for a, b, p in rows],
                        columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight"])


def test_a_triangle_of_moderate_pairs_alerts_at_its_third_case() -> None:
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "b", 0.1), ("a", "c", 0.2), ("b", "c", 0.1)])
    assert events_in_order(features, pairs, SeriesState(), 0.95) == []
    events = events_in_order(features, pairs, SeriesState(), 0.95, corroboration=RULE)
    assert [(e.kind, e.new_case_id, e.case_ids) for _, e in events] == [("new_series", "c", ["a", "b", "c"])]


def test_a_triangle_of_weak_pairs_is_not_enough() -> None:
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "b", 0.002), ("a", "c", 0.002), ("b", "c", 0.002)])
    assert RULE.holds(*pairs["match_weight"]) is False
    assert events_in_order(features, pairs, SeriesState(), 0.95, corroboration=RULE) == []
    assert linked_pairs(pairs, 0.95, RULE).empty


def test_two_pairs_without_the_third_never_link() -> None:
    features = _features(["a", "b", "c", "d"])
    # c pairs with a and with b, but a and b do not pair at all: no triangle.
    pairs = _pairs([("a", "c", 0.5), ("b", "c", 0.5), ("c", "d", 0.6)])
    assert events_in_order(features, pairs, SeriesState(), 0.95, corroboration=RULE) == []
    assert linked_pairs(pairs, 0.95, RULE).empty


def test_a_moderate_link_to_two_members_of_a_series_joins_it() -> None:
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "b", 0.99), ("a", "c", 0.05), ("b", "c", 0.05)])
    events = events_in_order(features, pairs, SeriesState(), 0.95, corroboration=RULE)
    assert [(e.kind, e.new_case_id) for _, e in events] == [("new_series", "b"), ("joined", "c")]


def test_context_pairs_corroborate_but_raise_nothing_themselves() -> None:
    """Live ingest scores only the new case; the pair between its two partners comes as context."""
    features = _features(["a", "b", "c"])
    pairs = _pairs([("a", "c", 0.2), ("b", "c", 0.1)])
    context = _pairs([("a", "b", 0.1)])
    events = events_in_order(features, pairs, SeriesState(), 0.95, new_ids=["c"], corroboration=RULE,
                             context=context)
    assert [(e.kind, e.case_ids) for _, e in events] == [("new_series", ["a", "b", "c"])]
    assert events_in_order(features, pairs, SeriesState(), 0.95, new_ids=["c"], corroboration=RULE) == []


def test_batch_rule_agrees_with_the_replay_rule() -> None:
    pairs = _pairs([("a", "b", 0.1), ("a", "c", 0.2), ("b", "c", 0.1), ("c", "d", 0.2), ("x", "y", 0.97)])
    kept = linked_pairs(pairs, 0.95, RULE)
    assert sorted(zip(kept["unique_id_l"], kept["unique_id_r"], strict=True)) == [
        ("a", "b"), ("a", "c"), ("b", "c"), ("x", "y")]
    events = events_in_order(_features(["a", "b", "c", "d", "x", "y"]), pairs, SeriesState(), 0.95,
                             corroboration=RULE)
    assert sorted(tuple(e.case_ids) for _, e in events) == [("a", "b", "c"), ("x", "y")]
