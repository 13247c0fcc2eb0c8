"""Engine glue: the case table held in DuckDB, scored by Splink with a caselink model.

One :class:`Scorer` keeps the history resident (a DuckDB table) so that scoring a new case is one
Splink ``predict_between`` of a one-row table against it: Splink's own blocking and comparison SQL,
generated from the model's settings, with no per-case reload of the history.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from caselink.linkage.comparisons import live_blocking_rules
from caselink.linkage.features import FEATURE_COLUMNS
from caselink.linkage.live_index import IndexUnavailable, LiveIndex
from caselink.linkage.model import LinkageModel

PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Scorer:
    """Splink on DuckDB over a resident history table.  Not thread-safe; one per command."""

    def __init__(self, model: LinkageModel, history: pd.DataFrame, keep_labels: bool = False,
                 live_index: bool = True) -> None:
        from splink import DuckDBAPI, Linker

        _quiet_splink()
        self.model = model
        self.connection = duckdb.connect(":memory:")
        self._run("SET threads TO 2")
        # Its progress bar is drawn on stdout, in front of a command's --json output: never draw it.
        self._run("SET enable_progress_bar = false")
        self.api = DuckDBAPI(connection=self.connection)
        self._counter = 0
        self._compiled: list[str] | None = None
        self._steps: list[tuple[str, str]] = []
        self._live_index: LiveIndex | None = None
        self._live_scan = not live_index  # scan the whole history per live case (benchmarks compare)
        self._own_blocking = True  # blocked pairs from the index (False: Splink's blocking SQL)
        self.last_candidates: int | None = None  # history rows copied for the last live call (None: scan)
        self._create("cl_history", history, keep_labels)
        self.history = self.api.register("cl_history", table_name="cl_history_in")
        self.linker = Linker(self.history, model.splink_settings, log_level=None, validate_settings=False)
        self.comparison_levels = level_labels(model)

    def _run(self, sql: str) -> None:
        """Execute and drain: DuckDB refuses further work while a result is unfinished."""
        self.connection.execute(sql).fetchall()

    def _create(self, name: str, frame: pd.DataFrame, keep_labels: bool = False, via_arrow: bool = False) -> None:
        # series_id (ground truth) is dropped unless training asks for it: no comparison may see it.
        features: Any = frame[[*FEATURE_COLUMNS, "series_id"] if keep_labels else FEATURE_COLUMNS]
        if via_arrow:
            # A few live rows: Arrow's conversion costs less than DuckDB sampling each object column.
            try:
                features = pa.Table.from_pandas(features, preserve_index=False)
            except (pa.ArrowException, ValueError, TypeError):
                pass  # mixed types Arrow refuses: DuckDB's own pandas scan reads them
        self.connection.register("cl_incoming_view", features)
        self._run(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM cl_incoming_view")
        self.connection.unregister("cl_incoming_view")

    def n_history(self) -> int:
        rows = self.connection.execute("SELECT count(*) FROM cl_history").fetchall()
        return int(rows[0][0]) if rows else 0

    def predict_all(self, threshold: float | None = None, exhaustive: bool = False) -> pd.DataFrame:
        """Every blocked pair of the history, scored (``caselink link`` and evaluation).

        ``exhaustive`` scores every pair regardless of blocking: only for evaluating the model on a
        small labelled set, where the question is how well it ranks pairs, not what blocking keeps.
        """
        if exhaustive:
            result = self.linker.inference.predict_within(
                self.history, blocking_rules_to_generate_predictions=["1=1"],
                threshold_match_probability=threshold, warning_mode="never")
            return self._collect(result)
        result = self.linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        return self._collect(result)

    def predict_new(self, new: pd.DataFrame, threshold: float | None = None) -> pd.DataFrame:
        """Pairs between ``new`` cases and the history, plus pairs among the new cases themselves."""
        if new.empty:
            return pd.DataFrame(columns=PAIR_COLUMNS)
        self._counter += 1
        name = f"cl_new_{self._counter}"
        self._create(name, new)
        new_sdf = self.api.register(name, table_name=f"{name}_in")
        frames = []
        if self.n_history():
            between = self.linker.inference.predict_between(
                self.history, new_sdf, threshold_match_probability=threshold, warning_mode="never")
            frames.append(self._collect(between))
        if len(new) > 1:
            within = self.linker.inference.predict_within(
                new_sdf, threshold_match_probability=threshold, warning_mode="never")
            frames.append(self._collect(within))
        self._run(f"DROP TABLE IF EXISTS {name}")
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PAIR_COLUMNS)

    def score_live(self, new: pd.DataFrame) -> pd.DataFrame:
        """Score new cases against the history with Splink's own comparison SQL for this model.

        The resident candidate index (``live_index.py``, derived from the model's blocking rules)
        gives the blocked pairs directly, each under the rule Splink would list it under; only those
        history rows are copied into a small ``cl_candidates`` table, so no call scans the history.

        The first call goes through Splink (``predict_between`` of the candidates and the new cases,
        Splink's own blocking included) while the SQL it executes is recorded, and checks that the
        index's blocked pairs give the same result.  Later calls execute the recorded pair query
        with the index's blocked pairs inline in place of the blocking statement's table, saving
        Splink's per-call planning and a blocking query.  Pairs and scores are exactly
        ``predict_between``'s (tests pin it).
        """
        self._create("cl_live", new, via_arrow=True)
        pairs = self._fill_candidates(new)
        if self._compiled is None:
            frame = self._record_live_sql()
            if pairs is not None and not _same_scores(frame, self._replay(pairs)):
                logging.getLogger(__name__).warning("live scoring runs Splink's blocking SQL: the index disagreed")
                self._own_blocking = False
            return self._trim(frame)
        return self._trim(self._replay(pairs))

    def _replay(self, pairs: list[tuple[str, str, str]] | None) -> pd.DataFrame:
        """Execute the recorded statements (``replay_steps``); the pair table is the last fetch.

        With the index's pairs, the blocking statement's table is not written at all: the pair
        query reads the same rows inline, ``(VALUES ...)`` in place of the table's name.
        """
        inline = pairs is not None and self._own_blocking
        blocked_name = next((m[1] for kind, sql in self._steps if kind == "blocked"
                             and (m := _BLOCKED_PAIRS.match(sql))), None) if inline else None
        frame = pd.DataFrame()
        for kind, sql in self._steps:
            if blocked_name is not None and (kind == "blocked" or _drops(sql, blocked_name)):
                continue
            if kind == "fetch":
                if blocked_name is not None:
                    sql = sql.replace(blocked_name, _pairs_subquery(pairs or []))
                frame = self.connection.execute(sql).fetchdf()
            else:
                self._run(sql)
        return frame

    def _fill_candidates(self, new: pd.DataFrame) -> list[tuple[str, str, str]] | None:
        """(Re)create ``cl_candidates`` and return the blocked (match_key, history id, new id) pairs,
        or None when the history is scanned instead (``cl_candidates`` is then a view of it)."""
        if self._live_index is None and not self._live_scan:
            self._build_live_index()
        if self._live_index is None:
            self._run("CREATE VIEW IF NOT EXISTS cl_candidates AS SELECT * FROM cl_history")
            return None
        ids = self._live_index.ids
        pairs = [(str(rule), str(ids[position]), new_id)
                 for rule, position, new_id in self._live_index.blocked_pairs(new)]
        wanted = sorted({left for _, left, _ in pairs})
        self.last_candidates = len(wanted)
        # Literal ids, not a list parameter: DuckDB turns a literal IN list into an index scan on the
        # unique_id index (ART), a parameter list into a scan of the whole table.
        where = f"unique_id IN ({', '.join(_quote(i) for i in wanted)})" if wanted else "false"
        self._run(f"CREATE OR REPLACE TABLE cl_candidates AS SELECT * FROM cl_history WHERE {where}")
        return pairs

    def _build_live_index(self) -> None:
        """Index the resident history by every blocking key, or fall back to scanning it."""
        rules = self.model.splink_settings["blocking_rules_to_generate_predictions"]
        try:
            self._live_index = LiveIndex.from_table(self.connection, "cl_history", rules)
        except IndexUnavailable as exc:
            logging.getLogger(__name__).warning("live scoring scans the history: %s", exc)
            self._live_scan = True
            return
        self._run("CREATE INDEX IF NOT EXISTS cl_history_unique_id ON cl_history(unique_id)")

    def _record_live_sql(self) -> pd.DataFrame:
        """Run Splink's ``predict_between`` of candidates and new cases, keeping the SQL it ran."""
        rules = live_blocking_rules(self.model.splink_settings["blocking_rules_to_generate_predictions"])
        candidates = self.api.register("cl_candidates", table_name="cl_candidates_in")
        live = self.api.register("cl_live", table_name="cl_live_in")
        statements: list[str] = []
        original = self.api._execute_sql_against_backend

        def record(sql: str, *args: Any, **kwargs: Any) -> Any:
            if "information_schema" not in sql:
                statements.append(sql)
            return original(sql, *args, **kwargs)

        self.api._execute_sql_against_backend = record  # type: ignore[method-assign,assignment]
        try:
            result = self.linker.inference.predict_between(
                candidates, live, blocking_rules_to_generate_predictions=list[Any](rules), warning_mode="never")
            frame = result.as_pandas_dataframe()
            result.drop_table_from_database_and_remove_from_cache()
        finally:
            self.api._execute_sql_against_backend = original  # type: ignore[method-assign,assignment]
        self._compiled = statements
        self._steps = replay_steps(statements)
        return frame

    @staticmethod
    def _trim(frame: pd.DataFrame) -> pd.DataFrame:
        keep = [c for c in frame.columns if c in PAIR_COLUMNS or c.startswith(("mw_", "gamma_"))]
        return frame[keep]

    def add_to_history(self, new: pd.DataFrame) -> None:
        """Append scored cases so the next case is compared with them too."""
        self.connection.register("cl_append_view", new[FEATURE_COLUMNS])
        try:
            self._type_history_like("cl_append_view")
            self._run("INSERT INTO cl_history SELECT * FROM cl_append_view")
        finally:
            self.connection.unregister("cl_append_view")
        if self._live_index is not None:
            self._live_index.add(new)

    def _type_history_like(self, view: str) -> None:
        """Give the history's untyped columns the type the appended rows bring.

        A list column empty in every case so far (no finder recorded yet) is typed ``"NULL"[]`` by
        DuckDB, and the first real value cannot be cast to it.  DuckDB will not alter an indexed
        table, so the ``unique_id`` index is dropped and rebuilt around the (rare) change.
        """
        have = dict(self.connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'cl_history'").fetchall())
        describe = f"DESCRIBE SELECT * FROM {view}"  # nosec B608 - our own view's name, no values
        incoming = {row[0]: row[1] for row in self.connection.execute(describe).fetchall()}
        changes = [(column, kind) for column, kind in incoming.items()
                   if '"NULL"' in have.get(column, "") and '"NULL"' not in kind]
        if not changes:
            return
        indexed = self._live_index is not None
        if indexed:
            self._run("DROP INDEX IF EXISTS cl_history_unique_id")
        for column, kind in changes:
            self._run(f'ALTER TABLE cl_history ALTER COLUMN "{column}" SET DATA TYPE {kind}')
        if indexed:
            self._run("CREATE INDEX IF NOT EXISTS cl_history_unique_id ON cl_history(unique_id)")

    def _collect(self, result: Any) -> pd.DataFrame:
        frame = result.as_pandas_dataframe()
        result.drop_table_from_database_and_remove_from_cache()
        keep = [c for c in frame.columns if c in PAIR_COLUMNS or c.startswith(("mw_", "gamma_"))]
        return frame[keep]

    def close(self) -> None:
        self.connection.close()


_BLOCKED_PAIRS = re.compile(r"\s*create table (__splink__blocked_id_pairs\w*) as\b", re.IGNORECASE)


_CREATE_AS = re.compile(r"\s*create table (\w+) as\s", re.IGNORECASE)
_SELECT_ALL = re.compile(r"\s*select \* from (\w+)\s*$", re.IGNORECASE)
_DROP = re.compile(r"\s*drop table if exists (\w+)\s*$", re.IGNORECASE)


def replay_steps(statements: list[str]) -> list[tuple[str, str]]:
    """Splink's recorded statements as (kind, sql) steps for a live call.

    ``blocked``: the blocking statement (the index may write its table instead).  ``fetch``: a
    ``CREATE TABLE t AS q`` whose table is only read back by ``select * from t`` runs ``q`` and
    fetches it directly, skipping a table write, a read and a drop per case.  ``run``: the rest.
    """
    fetched: set[str] = set()
    for sql in statements:
        create = _CREATE_AS.match(sql)
        if not create or _BLOCKED_PAIRS.match(sql):
            continue
        name = create[1]
        others = [o for o in statements if o is not sql and name in o
                  and not (_SELECT_ALL.match(o) or _DROP.match(o))]
        if not others and any((m := _SELECT_ALL.match(o)) and m[1] == name for o in statements):
            fetched.add(name)
    steps: list[tuple[str, str]] = []
    for sql in statements:
        create, select, drop = _CREATE_AS.match(sql), _SELECT_ALL.match(sql), _DROP.match(sql)
        if create and _BLOCKED_PAIRS.match(sql):
            steps.append(("blocked", sql))
        elif create and create[1] in fetched:
            steps.append(("fetch", sql[create.end():]))
        elif (select and select[1] in fetched) or (drop and drop[1] in fetched):
            continue
        elif select:
            steps.append(("fetch", sql))
        else:
            steps.append(("run", sql))
    return steps


def _drops(sql: str, table: str) -> bool:
    drop = _DROP.match(sql)
    return drop is not None and drop[1] == table


def _pairs_subquery(pairs: list[tuple[str, str, str]]) -> str:
    """Splink's blocked-pairs table (match_key, join_key_l, join_key_r) as an inline subquery."""
    if not pairs:
        return ("(SELECT NULL::VARCHAR AS match_key, NULL::VARCHAR AS join_key_l, NULL::VARCHAR AS join_key_r "
                "WHERE false)")
    values = ", ".join(f"({_quote(k)}, {_quote(left)}, {_quote(right)})" for k, left, right in pairs)
    return f"(SELECT * FROM (VALUES {values}) AS pairs(match_key, join_key_l, join_key_r))"


def _same_scores(mine: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Whether two pair tables hold the same pairs with the same weights (order aside)."""
    key = ["unique_id_r", "unique_id_l"]
    if len(mine) != len(theirs) or sorted(mine.columns) != sorted(theirs.columns):
        return False
    mine, theirs = mine.sort_values(key).reset_index(drop=True), theirs.sort_values(key).reset_index(drop=True)
    if not (mine[key].astype(str).equals(theirs[key].astype(str))):
        return False
    weights = [c for c in mine.columns if c.startswith("mw_") or c in ("match_weight", "match_probability")]
    return all(np.allclose(mine[c].astype(float), theirs[c].astype(float), equal_nan=True) for c in weights)


def _quote(value: str) -> str:
    """A DuckDB string literal (standard SQL: a quote is doubled, backslashes are plain)."""
    return "'" + value.replace("'", "''") + "'"


def level_labels(model: LinkageModel) -> dict[str, list[tuple[float, str]]]:
    """For each comparison, (match weight, label) of every level, to name the level a pair fell in.

    The pair table keeps only each comparison's weight (``mw_*``), not its input columns, so that a
    million-pair result stays small; a level is recovered from its weight.
    """
    labels: dict[str, list[tuple[float, str]]] = {}
    for comparison in model.splink_settings["comparisons"]:
        rows = []
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                rows.append((0.0, level.get("label_for_charts") or "not recorded"))
                continue
            weight = math.log2(level["m_probability"] / level["u_probability"])
            rows.append((weight, level.get("label_for_charts", "")))
        labels[comparison["output_column_name"]] = rows
    return labels


def level_for(weight: float, levels: list[tuple[float, str]]) -> str:
    """The label of the level whose weight is ``weight`` (the first, if two levels share a weight)."""
    best = min(levels, key=lambda row: abs(row[0] - weight))
    return best[1]


def contributions(pair: pd.Series | dict[str, Any], labels: dict[str, list[tuple[float, str]]]) -> list[dict[str, Any]]:
    """Each comparison's level and match weight for one scored pair (the waterfall's rows)."""
    rows = []
    for name, levels in labels.items():
        weight = pair.get(f"mw_{name}")
        if weight is None or pd.isna(weight):
            continue
        rows.append({"comparison": name, "level": level_for(float(weight), levels),
                     "weight": round(float(weight), 3)})
    return rows
