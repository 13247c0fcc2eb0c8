"""A resident candidate index for scoring one new case against a large history in milliseconds.

Why: every blocking rule of the model is an equi-join, optionally with a time window, so the history
rows a new case can be blocked with are exactly those sharing a key with it.  A dictionary from each
rule's key (a grid cell; a region and a rare token; an entity) to the history positions holding it
finds them without scanning the history, which is what made live scoring grow with n.

The index is derived from the model's blocking rules at run time (``parse_rule``), never written out
by hand, so a rule added or changed in ``comparisons.py`` is indexed as written, or refused with
:class:`UnsupportedRule` (the caller then scans, which is slower but still exact).  The index only
narrows the history: the scoring SQL re-applies every rule to the rows it returns, so the pairs are
Splink's own as long as the index returns a superset of them, which ``tests/linkage`` pins rule by rule.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_EQUAL = re.compile(r"^\(?\s*([lr])\.\"?(\w+)\"?\s*=\s*([lr])\.\"?(\w+)\"?\s*\)?$")
_WINDOW = re.compile(r"^abs\(\s*([lr])\.\"?(\w+)\"?\s*-\s*([lr])\.\"?(\w+)\"?\s*\)\s*(<=|<)\s*([0-9]+(?:\.[0-9]+)?)$",
                     re.IGNORECASE)
_EMPTY = np.zeros(0, dtype=np.int64)


class IndexUnavailable(ValueError):
    """The history cannot be indexed; the caller scans it instead."""


class UnsupportedRule(IndexUnavailable):
    """A blocking rule the index cannot serve (not an AND of equalities and time windows)."""


@dataclass(frozen=True)
class IndexedRule:
    """One blocking rule as the index sees it: equal key columns, and at most one window each."""

    sql: str
    keys: tuple[str, ...]
    exploded: frozenset[str]
    windows: tuple[tuple[str, float, bool], ...]  # column, limit, whether the limit itself is inside


def parse_rule(rule: Mapping[str, Any] | str) -> IndexedRule:
    """Read a Splink blocking rule (dict or SQL string) into key columns and time windows.

    Accepted: conjunctions of ``l.x = r.x`` and ``abs(l.t - r.t) <= N``, with ``arrays_to_explode``
    marking list columns whose elements are the keys.  Anything else raises UnsupportedRule.
    """
    sql = rule if isinstance(rule, str) else str(rule["blocking_rule"])
    arrays = frozenset(() if isinstance(rule, str) else (rule.get("arrays_to_explode") or ()))
    keys: list[str] = []
    windows: list[tuple[str, float, bool]] = []
    if re.search(r"\bor\b|\bnot\b", sql, re.IGNORECASE):
        raise UnsupportedRule(f"blocking rule {sql!r}: OR/NOT cannot be indexed")
    for part in _AND.split(sql.strip()):
        part = part.strip()
        equal = _EQUAL.match(part)
        window = _WINDOW.match(part)
        if equal and {equal[1], equal[3]} == {"l", "r"} and equal[2] == equal[4]:
            keys.append(equal[2])
        elif window and {window[1], window[3]} == {"l", "r"} and window[2] == window[4]:
            windows.append((window[2], float(window[6]), window[5] == "<="))
        else:
            raise UnsupportedRule(f"blocking rule {sql!r}: cannot index the condition {part!r}")
    if not keys:
        raise UnsupportedRule(f"blocking rule {sql!r}: no equality to index on")
    if not arrays <= set(keys):
        raise UnsupportedRule(f"blocking rule {sql!r}: exploded column not compared by equality")
    return IndexedRule(sql, tuple(keys), arrays, tuple(windows))


def parse_rules(rules: Iterable[Mapping[str, Any] | str]) -> list[IndexedRule]:
    return [parse_rule(rule) for rule in rules]


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _values(value: Any, exploded: bool) -> list[Any]:
    """The key values one cell contributes: its elements for a list column, else itself (NULL: none)."""
    if exploded:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return []
        return [v for v in value if not _is_missing(v)]
    return [] if _is_missing(value) else [value]


def row_keys(rule: IndexedRule, row: Mapping[Any, Any]) -> Iterator[tuple[Any, ...]]:
    """Every key of ``rule`` one row carries (several when a list column is exploded)."""
    parts = [_values(row[column], column in rule.exploded) for column in rule.keys]
    return itertools.product(*parts)


class LiveIndex:
    """Key → history positions, one dictionary per blocking rule, plus the columns windows need."""

    def __init__(self, rules: list[IndexedRule]) -> None:
        self.rules = rules
        self.window_columns = sorted({column for rule in rules for column, _, _ in rule.windows})
        self.ids = np.zeros(0, dtype=object)
        self.window_values = {column: np.zeros(0, dtype=float) for column in self.window_columns}
        self.maps: list[dict[tuple[Any, ...], np.ndarray]] = [{} for _ in rules]

    @property
    def columns(self) -> list[str]:
        """The history columns the index reads."""
        keys = {column for rule in self.rules for column in rule.keys}
        return sorted({"unique_id", *keys, *self.window_columns})

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        """Approximate memory held: position arrays, dictionary slots and keys, ids, window columns."""
        arrays = sum(a.nbytes for mapping in self.maps for a in mapping.values())
        slots = sum(sys.getsizeof(mapping) + sum(sys.getsizeof(k) + sys.getsizeof(a) for k, a in mapping.items())
                    for mapping in self.maps)
        ids = self.ids.nbytes + sum(sys.getsizeof(v) for v in self.ids)
        return arrays + slots + ids + sum(v.nbytes for v in self.window_values.values())

    @classmethod
    def from_table(cls, connection: duckdb.DuckDBPyConnection, table: str,
                   rules: Iterable[Mapping[str, Any] | str]) -> LiveIndex:
        """Build from a resident DuckDB table: grouping is done by DuckDB, positions are rowids."""
        index = cls(parse_rules(rules))
        # Identifiers only (our table; column names that matched \w+ in parse_rule), never values.
        sql = f"SELECT count(*), coalesce(max(rowid) + 1, 0) FROM {table}"  # nosec B608
        count, end = connection.execute(sql).fetchall()[0]
        if count != end:
            # Positions are rowids; a table that lost rows would point them at the wrong cases.
            raise IndexUnavailable(f"{table}: rowids are not 0..n-1 ({count} rows, last rowid {end - 1})")
        columns = ", ".join(["unique_id", *index.window_columns])
        base = connection.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchnumpy()  # nosec B608
        index.ids = np.asarray(base["unique_id"], dtype=object)
        for column in index.window_columns:
            index.window_values[column] = np.ma.filled(np.ma.asarray(base[column], dtype=float), np.nan)
        for number, rule in enumerate(index.rules):
            index.maps[number] = _grouped(connection, table, rule)
        return index

    def add(self, frame: pd.DataFrame) -> None:
        """Append rows (FEATURE_COLUMNS) in the order they were appended to the history table."""
        if frame.empty:
            return
        start = len(self.ids)
        self.ids = np.concatenate([self.ids, frame["unique_id"].to_numpy(dtype=object)])
        for column in self.window_columns:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            self.window_values[column] = np.concatenate([self.window_values[column], values])
        records = frame[[c for c in self.columns if c != "unique_id"]].to_dict("records")
        for mapping, rule in zip(self.maps, self.rules, strict=True):
            fresh: dict[tuple[Any, ...], list[int]] = {}
            for offset, record in enumerate(records):
                for key in set(row_keys(rule, record)):
                    fresh.setdefault(key, []).append(start + offset)
            for key, positions in fresh.items():
                mapping[key] = np.concatenate([mapping.get(key, _EMPTY), np.asarray(positions, dtype=np.int64)])

    def rule_candidates(self, frame: pd.DataFrame) -> list[np.ndarray]:
        """For each rule, the history positions it blocks with any row of ``frame`` (sorted)."""
        found: list[list[np.ndarray]] = [[] for _ in self.rules]
        for record in self._records(frame):
            for number in range(len(self.rules)):
                found[number].append(self._rule_positions(number, record))
        return [np.unique(np.concatenate(parts)) if parts else _EMPTY for parts in found]

    def blocked_pairs(self, frame: pd.DataFrame) -> list[tuple[int, int, str]]:
        """(rule number, history position, new case id) of every pair the rules block.

        Each pair is listed once, under the first rule that blocks it: the ``match_key`` Splink gives
        a pair when it unions its rules (rule k excludes pairs an earlier rule already found).
        """
        pairs: list[tuple[int, int, str]] = []
        for record in self._records(frame):
            claimed: set[int] = set()
            for number in range(len(self.rules)):
                for position in self._rule_positions(number, record).tolist():
                    if position not in claimed:
                        claimed.add(position)
                        pairs.append((number, position, str(record["unique_id"])))
        return pairs

    def candidates(self, frame: pd.DataFrame) -> np.ndarray:
        """History positions any rule blocks with any row of ``frame`` (sorted)."""
        per_rule = [p for p in self.rule_candidates(frame) if len(p)]
        return np.unique(np.concatenate(per_rule)) if per_rule else _EMPTY

    def _records(self, frame: pd.DataFrame) -> list[dict[Any, Any]]:
        return frame[self.columns].to_dict("records")

    def _rule_positions(self, number: int, record: Mapping[Any, Any]) -> np.ndarray:
        """Positions rule ``number`` blocks with one new row: a key in common, inside every window."""
        rule, mapping = self.rules[number], self.maps[number]
        hits = [mapping[key] for key in set(row_keys(rule, record)) if key in mapping]
        if not hits:
            return _EMPTY
        positions = hits[0] if len(hits) == 1 else np.unique(np.concatenate(hits))
        for column, limit, inclusive in rule.windows:
            mine = record[column]
            if _is_missing(mine):
                return _EMPTY  # abs(NULL - x) <= limit is never true
            # The same float64 arithmetic as the SQL's abs(l.t - r.t) <= limit: the window edge agrees.
            gap = np.abs(self.window_values[column][positions] - float(mine))
            positions = positions[gap <= limit] if inclusive else positions[gap < limit]
        return positions

    def candidate_ids(self, frame: pd.DataFrame) -> list[str]:
        return [str(v) for v in self.ids[self.candidates(frame)]]


def _grouped(connection: duckdb.DuckDBPyConnection, table: str, rule: IndexedRule) -> dict[tuple[Any, ...], np.ndarray]:
    """One rule's dictionary, grouped inside DuckDB (a million rows in well under a second)."""
    selects = []
    for number, column in enumerate(rule.keys):
        expression = f"unnest({column})" if column in rule.exploded else column
        selects.append(f"{expression} AS k{number}")
    key_names = [f"k{n}" for n in range(len(rule.keys))]
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in key_names)
    # DISTINCT: a token listed twice in one row is still one candidate.
    sql = (f"SELECT DISTINCT * FROM (SELECT rowid AS pos, {', '.join(selects)} FROM {table}) "  # nosec B608
           f"WHERE {not_null} ORDER BY pos")
    frame = connection.execute(sql).fetchdf()
    if frame.empty:
        return {}
    positions = frame["pos"].to_numpy(dtype=np.int64)
    groups = frame.groupby(key_names, sort=False).indices
    out: dict[tuple[Any, ...], np.ndarray] = {}
    for key, rows in groups.items():
        out[key if isinstance(key, tuple) else (key,)] = positions[rows]
    return out
