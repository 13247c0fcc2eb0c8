"""Which engine scores a store's blocked pairs: DuckDB in this process, or Spark (DESIGN §8).

Only the batch commands (``link``, ``evaluate``) choose; a live case scored at ingest or in replay
is one row against a resident history, which only the in-process DuckDB table answers in
milliseconds.  Both engines run the same model's SQL and give the same pairs (tests pin it).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from caselink.linkage.model import LinkageModel

ENGINES: tuple[str, ...] = ("duckdb", "spark")


def batch_scorer(engine: str, model: LinkageModel, features: pd.DataFrame) -> Any:
    """A scorer with ``predict_all(threshold)`` and ``close()`` on ``engine``."""
    if engine == "spark":
        from caselink.linkage.spark_engine import SparkScorer

        return SparkScorer(model, features)
    if engine != "duckdb":
        raise ValueError(f"unknown engine '{engine}': choose one of {', '.join(ENGINES)}")
    from caselink.linkage.scoring import Scorer

    return Scorer(model, features)
