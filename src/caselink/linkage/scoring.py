"""Engine glue: the case table held in DuckDB, scored by Splink with a caselink model.

One :class:`Scorer` keeps the history resident (a DuckDB table) so that scoring a new case is one
Splink ``predict_between`` of a one-row table against it: Splink's own blocking and comparison SQL,
generated from the model's settings, with no per-case reload of the history.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import duckdb
import pandas as pd

from caselink.linkage.comparisons import live_blocking_rules
from caselink.linkage.features import FEATURE_COLUMNS
from caselink.linkage.model import LinkageModel

PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Scorer:
    """Splink on DuckDB over a resident history table.  Not thread-safe; one per command."""

    def __init__(self, model: LinkageModel, history: pd.DataFrame, keep_labels: bool = False) -> None:
        from splink import DuckDBAPI, Linker

        _quiet_splink()
        self.model = model
        self.connection = duckdb.connect(":memory:")
        self._run("SET threads TO 2")
        self.api = DuckDBAPI(connection=self.connection)
        self._counter = 0
        self._compiled: list[str] | None = None
        self._create("cl_history", history, keep_labels)
        self.history = self.api.register("cl_history", table_name="cl_history_in")
        self.linker = Linker(self.history, model.splink_settings, log_level=None, validate_settings=False)
        self.comparison_levels = level_labels(model)

    def _run(self, sql: str) -> None:
        """Execute and drain: DuckDB refuses further work while a result is unfinished."""
        self.connection.execute(sql).fetchall()

    def _create(self, name: str, frame: pd.DataFrame, keep_labels: bool = False) -> None:
        # series_id (ground truth) is dropped unless training asks for it: no comparison may see it.
        features = frame[[*FEATURE_COLUMNS, "series_id"] if keep_labels else FEATURE_COLUMNS]
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
        """Score new cases against the history by re-running Splink's own SQL for this model.

        The first call goes through Splink (``predict_between``) while the SQL it executes is
        recorded; later calls execute the same statements against a fresh ``cl_live`` table.  The
        SQL is Splink's, generated from the model's settings, so the scores are identical; what is
        saved is Splink's per-call planning and Python overhead, which dominates a one-row query.
        """
        self._create("cl_live", new)
        if self._compiled is None:
            rules = live_blocking_rules(self.model.splink_settings["blocking_rules_to_generate_predictions"])
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
                    self.history, live, blocking_rules_to_generate_predictions=list[Any](rules), warning_mode="never")
                frame = result.as_pandas_dataframe()
                result.drop_table_from_database_and_remove_from_cache()
            finally:
                self.api._execute_sql_against_backend = original  # type: ignore[method-assign,assignment]
            self._compiled = statements
            return self._trim(frame)
        frame = pd.DataFrame()
        for sql in self._compiled:
            if sql.lstrip().lower().startswith("select * from"):
                frame = self.connection.execute(sql).fetchdf()
            else:
                self._run(sql)
        return self._trim(frame)

    @staticmethod
    def _trim(frame: pd.DataFrame) -> pd.DataFrame:
        keep = [c for c in frame.columns if c in PAIR_COLUMNS or c.startswith(("mw_", "gamma_"))]
        return frame[keep]

    def add_to_history(self, new: pd.DataFrame) -> None:
        """Append scored cases so the next case is compared with them too."""
        self.connection.register("cl_append_view", new[FEATURE_COLUMNS])
        self._run("INSERT INTO cl_history SELECT * FROM cl_append_view")
        self.connection.unregister("cl_append_view")

    def _collect(self, result: Any) -> pd.DataFrame:
        frame = result.as_pandas_dataframe()
        result.drop_table_from_database_and_remove_from_cache()
        keep = [c for c in frame.columns if c in PAIR_COLUMNS or c.startswith(("mw_", "gamma_"))]
        return frame[keep]

    def close(self) -> None:
        self.connection.close()


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
                rows.append((0.0, "not recorded"))
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
