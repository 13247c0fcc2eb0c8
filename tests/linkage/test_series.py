"""Stable series ids: kept as a series grows, the older kept on a merge, reconciled across runs."""

from __future__ import annotations

from caselink.linkage.series import SeriesState, connected_components, reconcile


def test_new_join_and_merge_keep_oldest_id() -> None:
    state = SeriesState()
    first = state.add_case("b", {"a": 0.95})
    assert first is not None and first.kind == "new_series" and first.series_id == "S-0001"
    joined = state.add_case("c", {"b": 0.97})
    assert joined is not None and joined.kind == "joined" and joined.series_id == "S-0001"
    other = state.add_case("e", {"d": 0.99})
    assert other is not None and other.series_id == "S-0002"
    merged = state.add_case("f", {"c": 0.92, "e": 0.93})
    assert merged is not None and merged.kind == "merged" and merged.series_id == "S-0001"
    assert merged.merged_ids == ["S-0002"]
    assert state.members["S-0001"] == {"a", "b", "c", "d", "e", "f"}
    assert state.add_case("g", {}) is None


def test_reconcile_keeps_ids_across_runs() -> None:
    previous = SeriesState.from_members([("S-0003", "a"), ("S-0003", "b"), ("S-0007", "x"), ("S-0007", "y")])
    components = connected_components([("a", "b"), ("b", "c"), ("p", "q"), ("y", "x"), ("x", "a")])
    order = {c: i for i, c in enumerate("abcpqxy")}
    groups, merged = reconcile(components, previous, order)
    assert groups["S-0003"] == {"a", "b", "c", "x", "y"}
    assert merged == {"S-0007": "S-0003"}
    assert groups["S-0008"] == {"p", "q"}
