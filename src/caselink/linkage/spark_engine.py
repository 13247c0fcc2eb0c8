"""Splink on Spark: the same model's pairs, scored when one machine is not enough (DESIGN §8).

Why a second engine at all: DuckDB scores every blocked pair inside one process, which holds a
million cases on this 2-core machine (BENCHMARKS.md) but not a national archive on a laptop.  On
Spark the pair comparisons (the n-squared part) are spread over a cluster.  The case features are
still built on the driver by ``features.py``, exactly as for DuckDB (as-of rarity needs the found
order of every case), and handed to Spark as Parquet, so both engines read identical inputs.

The model's comparison and blocking SQL is written in DuckDB's dialect; :func:`to_spark_sql`
translates it (sqlglot, plus the few list functions sqlglot does not map), so both engines apply
the same levels.  ``tests/linkage/test_spark_engine.py`` pins that the two give the same pairs and
weights.  PySpark (the ``[spark]`` extra) and a Java runtime are imported and started only here,
lazily: ``import caselink`` and the DuckDB path never need them.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import uuid
from importlib import resources
from typing import Any

import pandas as pd

from caselink.linkage.features import FEATURE_COLUMNS
from caselink.linkage.model import LinkageModel

PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]

# Where to run: a Spark master URL (``local[2]`` uses this machine's two cores; ``spark://host:7077``
# or ``yarn`` a cluster) and, on a cluster, storage every executor can read for the features and
# Splink's intermediate tables (``hdfs://...``, ``s3a://...``).
MASTER_ENV = "CASELINK_SPARK_MASTER"
WORK_DIR_ENV = "CASELINK_SPARK_DIR"
MEMORY_ENV = "CASELINK_SPARK_MEMORY"  # the local JVM's heap (Spark's own default, 1g, is short at 100k cases)


class SparkUnavailable(RuntimeError):
    """PySpark or a Java runtime is missing: the message says what to install."""


def to_spark_sql(sql: str) -> str:
    """One DuckDB SQL condition of the model as Spark SQL with the same meaning.

    DuckDB lists are 1-based and so are Spark's ``element_at`` and ``array_position``; a DuckDB
    ``a[i]`` becomes ``element_at(a, i)`` rather than Spark's 0-based ``a[i]``.
    """
    import sqlglot
    from sqlglot import exp

    if sql.strip().upper() == "ELSE":
        return sql

    def spark_call(name: str, *args: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=list(args))

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Length):  # every len() in the model is a list's length
            return spark_call("size", node.this)
        if isinstance(node, exp.ArrayOverlaps):
            return spark_call("arrays_overlap", node.this, node.expression)
        if isinstance(node, exp.Bracket):
            index = exp.Cast(this=node.expressions[0], to=exp.DataType.build("INT"))
            return spark_call("element_at", node.this, index)
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            renamed = {"list_intersect": "array_intersect", "list_position": "array_position"}
            if name in renamed:
                return spark_call(renamed[name], *node.expressions)
            if name == "list_sum":
                total = sqlglot.parse_one("aggregate(x, CAST(0 AS DOUBLE), (acc, v) -> acc + v)", read="spark")
                total.this.replace(node.expressions[0])
                return total
        return node

    tree = sqlglot.parse_one(sql, read="duckdb")
    while True:  # a replaced node's children are not visited in the same pass
        before = tree.sql(dialect="spark")
        tree = tree.transform(rewrite)
        if tree.sql(dialect="spark") == before:
            return before


def spark_settings(model: LinkageModel) -> dict[str, Any]:
    """The model's Splink settings with every SQL condition in Spark's dialect."""
    settings = copy.deepcopy(model.splink_settings)
    for rule in settings["blocking_rules_to_generate_predictions"]:
        rule["blocking_rule"] = to_spark_sql(rule["blocking_rule"])
        rule["sql_dialect"] = "spark"
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = to_spark_sql(level["sql_condition"])
    return settings


def spark_session() -> Any:
    """The running Spark session, or a new one on ``$CASELINK_SPARK_MASTER`` (default ``local[2]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable("--engine spark needs PySpark: pip install 'caselink[spark]'") from exc
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise SparkUnavailable("--engine spark needs a Java runtime (17 or later): install one or set JAVA_HOME")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    local = MASTER_ENV not in os.environ
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of this machine's name
    log_config = resources.files("caselink") / "data" / "spark-log4j2.properties"
    builder = (SparkSession.builder.appName("caselink").master(os.environ.get(MASTER_ENV, "local[2]"))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}")
               # Splink's tables are temporary views; nothing is left in the working directory.
               .config("spark.sql.warehouse.dir", os.path.join(tempfile.gettempdir(), "caselink-spark-warehouse"))
               # The driver listens on loopback only unless a cluster master is given.
               .config("spark.driver.bindAddress", "127.0.0.1" if local else "0.0.0.0")  # nosec B104
               .config("spark.driver.host", "127.0.0.1" if local else _hostname()))
    if local:  # two cores: Spark's 200 shuffle partitions would be 200 tiny tasks per stage
        builder = (builder.config("spark.sql.shuffle.partitions", "2")
                   .config("spark.driver.memory", os.environ.get(MEMORY_ENV, "4g")))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: Java missing, too old, or no memory
        raise SparkUnavailable(f"Spark did not start: {str(exc).splitlines()[0]}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _hostname() -> str:
    import socket

    return socket.gethostname()


class SparkScorer:
    """Every blocked pair of a history, scored by Splink on Spark with a caselink model.

    The same ``predict_all`` as :class:`caselink.linkage.scoring.Scorer`, returning the same pair
    columns (ids, probability, weight, each comparison's ``mw_*``).  Batch only: a live case is one
    row against the history, which a resident DuckDB table answers in milliseconds and a Spark job
    in seconds, so ingest and replay stay on DuckDB.
    """

    def __init__(self, model: LinkageModel, features: pd.DataFrame) -> None:
        from splink import Linker
        from splink.backends.spark import SparkAPI

        self.model = model
        self.spark = spark_session()
        self.work_dir = _work_dir(self.spark)
        # A name of its own: an earlier scorer's view may still be registered in this session.
        self.history_view = f"cl_history_{uuid.uuid4().hex[:12]}"
        try:
            self.spark.sparkContext.setCheckpointDir(_join(self.work_dir, "checkpoints"))
            lineage = "persist" if _is_local(self.spark) else "parquet"  # in memory when Spark is in-process
            self.api = SparkAPI(spark_session=self.spark, break_lineage_method=lineage,
                                register_udfs_automatically=False)
            # Written by Spark itself, so the path may be any storage Spark reads (hdfs://, s3a://, a mount).
            path = _join(self.work_dir, "features.parquet")
            self.spark.createDataFrame(typed_features(features[FEATURE_COLUMNS])).write.mode("overwrite").parquet(path)
            history = self.api.register(self.spark.read.parquet(path), table_name=self.history_view)
            self.linker = Linker(history, spark_settings(model), log_level=None, validate_settings=False)
        except BaseException:
            self.close()  # no features left on disk from a run that did not start
            raise

    def predict_all(self, threshold: float | None = None) -> pd.DataFrame:
        """Every blocked pair, scored; only those at or above ``threshold`` are brought to the driver."""
        result = self.linker.inference.predict(threshold_match_probability=threshold)
        frame = result.as_pandas_dataframe()
        keep = [c for c in frame.columns if c in PAIR_COLUMNS or c.startswith(("mw_", "gamma_"))]
        return frame[keep]

    def close(self) -> None:
        """Drop Splink's tables; the session stays up for the next command in this process."""
        for name in [t.name for t in self.spark.catalog.listTables()
                     if t.name.startswith("__splink") or t.name == self.history_view]:
            self.spark.catalog.dropTempView(name)
        self.spark.catalog.clearCache()
        _delete(self.spark, self.work_dir)


def _work_dir(spark: Any) -> str:
    """A fresh folder for this run's features and Splink's checkpoints.

    Local mode uses the machine's temporary folder; on a cluster the executors cannot read the
    driver's disk, so ``$CASELINK_SPARK_DIR`` must name storage they all read.
    """
    base = os.environ.get(WORK_DIR_ENV)
    if base is None:
        if not _is_local(spark):
            raise SparkUnavailable(f"on a Spark cluster, set {WORK_DIR_ENV} to storage every executor can read "
                                   "(hdfs://..., s3a://..., or a shared mount)")
        # Readable by this user only: the features hold entities and narrative terms.
        return tempfile.mkdtemp(prefix="caselink-spark-")
    return _join(base, f"caselink-spark-{uuid.uuid4().hex[:12]}")


def _is_local(spark: Any) -> bool:
    """Whether Spark runs inside this process's JVM (persisting in memory is then enough)."""
    return str(spark.sparkContext.master).startswith("local")


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def _delete(spark: Any, path: str) -> None:
    """Remove a folder through Hadoop's file system API, which knows every scheme Spark writes to."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(hadoop_path, True)


def typed_features(features: pd.DataFrame) -> Any:
    """Features as an Arrow table, every column typed as ``features.py`` types it when it holds values.

    A column empty in every case (no narrative recorded anywhere) comes out of pandas as nulls,
    which Spark reads as ``void`` or ``array<void>`` and cannot compare or multiply; such columns
    take the type the same column has in a fully recorded case.
    """
    import pyarrow as pa

    table = pa.Table.from_pandas(features, preserve_index=False)
    reference = _reference_schema()
    fields = []
    for field in table.schema:
        kind = field.type
        untyped = pa.types.is_null(kind) or (pa.types.is_list(kind) and pa.types.is_null(kind.value_type))
        if untyped and field.name in reference.names:
            kind = reference.field(field.name).type
        if pa.types.is_null(kind):
            kind = pa.string()
        elif pa.types.is_list(kind) and pa.types.is_null(kind.value_type):
            kind = pa.list_(pa.string())
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def _reference_schema() -> Any:
    """The Arrow types of the feature columns of one case with every field recorded."""
    import pyarrow as pa

    from caselink.linkage.features import build_features, records_to_frame

    case = {"case_id": "reference", "found_at": "2014-06-19T07:00", "died_from": "2014-06-18", "died_to": "2014-06-19",
            "lat": 51.54, "lon": 0.08, "location_precision_m": 100, "place_type": "street", "cause": "drug_toxicity",
            "victim_age": 25, "victim_sex": "M", "victim_tags": ["student"], "substances": ["ghb"],
            "mo": ["propped_sitting"], "entities": ["person:finder"], "narrative": "found sitting by the wall"}
    frame = build_features(records_to_frame([case, dict(case, case_id="reference-2")]))
    return pa.Table.from_pandas(frame[FEATURE_COLUMNS], preserve_index=False).schema
