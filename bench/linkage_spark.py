"""Splink on Spark against Splink on DuckDB: the scoring step of ``caselink link`` at growing sizes.

Both engines get the same features (built once, on the driver) and the shipped model; each scores
every blocked pair and returns those at or above the model's series threshold, as ``link`` does.
The pairs must be identical; the times say what Spark's overhead costs on one machine (``local[2]``:
this machine's two cores), which is the price of being able to run on a cluster
(``CASELINK_SPARK_MASTER``).  Spark's start-up (the JVM) is timed apart.

    .venv/bin/python bench/linkage_spark.py            # 10,000 cases
    .venv/bin/python bench/linkage_spark.py --full     # 10,000 and 100,000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from caselink.linkage.features import build_features  # noqa: E402
from caselink.linkage.model import load_model  # noqa: E402
from caselink.linkage.scoring import Scorer  # noqa: E402
from caselink.linkage.spark_engine import SparkScorer, spark_session  # noqa: E402
from linkage import synthetic  # noqa: E402  (the speed benchmark's synthetic national-density store)


def run(n: int) -> None:
    model = load_model(None)
    features = build_features(synthetic(n))
    threshold = model.series_threshold
    t0 = time.perf_counter()
    duck = Scorer(model, features)
    expected = duck.predict_all(threshold=0.0)
    duck.close()
    t_duck = time.perf_counter() - t0
    t0 = time.perf_counter()
    spark = SparkScorer(model, features)
    got = spark.predict_all(threshold=0.0)
    spark.close()
    t_spark = time.perf_counter() - t0
    same = sorted(zip(expected["unique_id_l"], expected["unique_id_r"], strict=True)) == \
        sorted(zip(got["unique_id_l"], got["unique_id_r"], strict=True))
    linked = int((expected["match_probability"] >= threshold).sum())
    print(f"n={n:,}: every blocked pair scored and collected ({len(expected):,} pairs, {linked} at the series "
          f"threshold): DuckDB {t_duck:.1f}s, Spark local[2] {t_spark:.1f}s; same pairs: {same}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also 100,000 cases")
    args = parser.parse_args()
    t0 = time.perf_counter()
    spark_session()
    print(f"Spark session start (JVM): {time.perf_counter() - t0:.1f}s", flush=True)
    for n in (10_000, 100_000) if args.full else (10_000,):
        run(n)


if __name__ == "__main__":
    main()
