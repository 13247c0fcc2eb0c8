"""Series: linked pairs grouped into series with stable ids, and the alerts a new case raises.

One state machine serves live ingest, replay and ``link``: a new case either starts a series (its
first link above the threshold), joins one, or merges several.  Ids are ``S-0001``, ``S-0002`` ... in
order of creation; a series keeps its id as it grows, and a merge keeps the oldest id, so an id an
analyst wrote in a policy file still finds the series later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


def series_number(series_id: str) -> int:
    try:
        return int(series_id.split("-", 1)[1])
    except (IndexError, ValueError):
        return 10**9


def format_series_id(number: int) -> str:
    return f"S-{number:04d}"


@dataclass
class SeriesEvent:
    """What one new case did to the series: the raw material of an alert."""

    kind: str                     # new_series, joined, merged
    new_case_id: str
    series_id: str
    case_ids: list[str]
    probability: float
    merged_ids: list[str] = field(default_factory=list)


@dataclass
class SeriesState:
    """Current membership.  ``members`` maps id → case ids; ``case_series`` the reverse."""

    members: dict[str, set[str]] = field(default_factory=dict)
    case_series: dict[str, str] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    next_number: int = 1

    @classmethod
    def from_members(cls, rows: Iterable[tuple[str, str]], merged: dict[str, str] | None = None) -> SeriesState:
        state = cls(merged_into=dict(merged or {}))
        for series_id, case_id in rows:
            state.members.setdefault(series_id, set()).add(case_id)
            state.case_series[case_id] = series_id
        numbers = [series_number(s) for s in [*state.members, *state.merged_into]]
        state.next_number = max([n for n in numbers if n < 10**9], default=0) + 1
        return state

    def _new_id(self) -> str:
        series_id = format_series_id(self.next_number)
        self.next_number += 1
        return series_id

    def add_case(self, case_id: str, partners: dict[str, float]) -> SeriesEvent | None:
        """Apply a new case's links (partner → probability, all above threshold)."""
        partners = {p: prob for p, prob in partners.items() if p != case_id}
        if not partners:
            return None
        probability = max(partners.values())
        touched = sorted({self.case_series[p] for p in partners if p in self.case_series}
                         | ({self.case_series[case_id]} if case_id in self.case_series else set()),
                         key=series_number)
        loose = [p for p in partners if p not in self.case_series]
        if not touched:
            series_id = self._new_id()
            self.members[series_id] = set()
            kind = "new_series"
            merged: list[str] = []
        else:
            series_id = touched[0]
            merged = touched[1:]
            was_member = case_id in self.members[series_id]
            kind = "merged" if merged else ("joined" if not was_member or loose else "")
            for other in merged:
                for member in self.members.pop(other):
                    self.members[series_id].add(member)
                    self.case_series[member] = series_id
                self.merged_into[other] = series_id
            if not kind:
                return None  # a link inside a series it already belongs to: nothing new to tell
        for member in [case_id, *loose]:
            self.members[series_id].add(member)
            self.case_series[member] = series_id
        return SeriesEvent(kind, case_id, series_id, sorted(self.members[series_id]), probability, merged)


def connected_components(edges: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Components of the graph of linked pairs (union-find with path halving)."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[str, set[str]] = {}
    for node in list(parent):
        groups.setdefault(find(node), set()).add(node)
    return list(groups.values())


def reconcile(components: list[set[str]], previous: SeriesState,
              found_order: dict[str, int]) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Give each component a stable id: the oldest id any of its members already had, else a new one.

    Returns (id → members, merged id → surviving id).  Components are numbered in order of their
    earliest case so that a fresh store gets S-0001 for the series that began first.
    """
    ordered = sorted(components, key=lambda c: min(found_order.get(m, 0) for m in c))
    result: dict[str, set[str]] = {}
    merged: dict[str, str] = {}
    next_number = previous.next_number
    for component in ordered:
        known = sorted({previous.case_series[m] for m in component if m in previous.case_series}
                       - set(result), key=series_number)
        if known:
            series_id = known[0]
            for other in known[1:]:
                merged[other] = series_id
        else:
            series_id = format_series_id(next_number)
            next_number += 1
        result[series_id] = set(component)
    return result, merged
