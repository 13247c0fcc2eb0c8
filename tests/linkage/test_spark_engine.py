"""Splink on Spark must score exactly the pairs DuckDB scores, with the same levels and weights.

The model's SQL is written in DuckDB's dialect and translated for Spark (``spark_engine.to_spark_sql``);
a translation that changed a level's meaning would silently move match weights, so the engines are
compared pair by pair on a store that reaches every comparison's levels.
"""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from caselink.linkage.comparison_sets import BURGLARY, base_model
from caselink.linkage.features import FEATURE_COLUMNS, build_features, records_to_frame
from caselink.linkage.model import load_model
from caselink.linkage.scoring import Scorer
from caselink.linkage.spark_engine import spark_settings, to_spark_sql
from tests.linkage.test_live_index import store_records

needs_spark = pytest.mark.skipif(importlib.util.find_spec("pyspark") is None,
                                 reason="PySpark is not installed: pip install 'caselink[spark]' (make test does)")

# DuckDB functions Spark does not have (or has with another meaning): none may survive translation.
DUCKDB_ONLY = re.compile(r"\b(len|list_\w+|array_length)\s*\(|&&|\[", re.IGNORECASE)


def test_list_functions_are_translated_to_spark_equivalents() -> None:
    assert to_spark_sql("len(mo_l) = 0") == "SIZE(mo_l) = 0"
    assert to_spark_sql("list_has_any(sub_vrare_l, substances_r)") == "ARRAYS_OVERLAP(sub_vrare_l, substances_r)"
    assert to_spark_sql("len(list_intersect(a_l, a_r)) > 0") == "SIZE(ARRAY_INTERSECT(a_l, a_r)) > 0"
    # DuckDB lists are 1-based; so is element_at, whereas Spark's a[i] is 0-based.
    summed = to_spark_sql("coalesce(list_sum(list_transform(list_intersect(a_l, a_r), "
                          "lambda t: w_l[list_position(a_l, t)])), 0) >= 8")
    assert summed == ("COALESCE(AGGREGATE(TRANSFORM(ARRAY_INTERSECT(a_l, a_r), t -> ELEMENT_AT(w_l, "
                      "CAST(ARRAY_POSITION(a_l, t) AS INT))), CAST(0 AS DOUBLE), (acc, v) -> acc + v), 0) >= 8")
    assert to_spark_sql("ELSE") == "ELSE"


@pytest.mark.parametrize("model", [load_model(None), base_model(BURGLARY)], ids=["default", "burglary"])
def test_no_duckdb_function_survives_in_a_models_spark_settings(model: Any) -> None:
    settings = spark_settings(model)
    conditions = [rule["blocking_rule"] for rule in settings["blocking_rules_to_generate_predictions"]]
    conditions += [level["sql_condition"] for comparison in settings["comparisons"]
                   for level in comparison["comparison_levels"]]
    assert conditions
    assert [c for c in conditions if DUCKDB_ONLY.search(c)] == []
    assert all(rule["sql_dialect"] == "spark" for rule in settings["blocking_rules_to_generate_predictions"])


def every_level_records() -> list[dict[str, Any]]:
    """``store_records`` plus what it lacks: narratives, blurred locations, windows of death, a kind
    of place, rare causes and the same person seen at two places."""
    records = store_records(n=120, seed=11)
    start = datetime(2014, 6, 19, 7, 0)
    narratives = ["found propped sitting against the churchyard wall, phone missing",
                  "young man found sitting against the wall of the churchyard, phone not recovered",
                  "elderly woman found at home after a fall", ""]
    for i in range(24):
        found = start + timedelta(days=9 * i)
        records.append({
            "case_id": f"W{i:02d}", "found_at": found.isoformat(timespec="minutes"),
            "died_from": (found - timedelta(days=[0, 2, 40, 400][i % 4])).date().isoformat(),
            "lat": 51.535 + 0.002 * (i % 5), "lon": 0.075 + 0.003 * (i % 3),
            "location_precision_m": [0, 250, 3000, 20000][i % 4],
            "place_type": ["churchyard_cemetery", "residence", "street"][i % 3],
            "cause": ["drug_toxicity", "ligature", "asphyxia", "undetermined"][i % 4],
            "substances": ["ghb"] if i % 2 == 0 else ["alcohol", "cocaine"],
            "mo": ["propped_sitting", "phone_missing"] if i % 3 == 0 else ["note_found"],
            "victim_sex": "M", "victim_age": 21 + i % 6, "victim_tags": ["gay_bisexual_men"] if i % 2 else [],
            "entities": ["person:dog-walker-1"] if i % 5 == 0 else [],
            "narrative": narratives[i % 4],
        })
    return records


def assert_same_pairs(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    key = ["unique_id_l", "unique_id_r"]
    duck, spark = duck.sort_values(key).reset_index(drop=True), spark.sort_values(key).reset_index(drop=True)
    assert list(zip(duck["unique_id_l"], duck["unique_id_r"], strict=True)) == \
        list(zip(spark["unique_id_l"], spark["unique_id_r"], strict=True))
    weights = [c for c in duck.columns if c.startswith(("mw_", "gamma_")) or c in ("match_weight", "match_probability")]
    assert set(weights) <= set(spark.columns)
    for column in weights:
        assert np.allclose(duck[column].astype(float), spark[column].astype(float), equal_nan=True), column


@needs_spark
@pytest.mark.xdist_group("spark")
def test_spark_scores_every_blocked_pair_as_duckdb_does() -> None:
    from caselink.linkage.spark_engine import SparkScorer

    features = build_features(records_to_frame(every_level_records()))
    model = load_model(None)
    duck = Scorer(model, features)
    try:
        expected = duck.predict_all()
    finally:
        duck.close()
    spark = SparkScorer(model, features)
    try:
        got = spark.predict_all()
    finally:
        spark.close()
    assert len(expected) > 1000
    # Every comparison reaches more than one level here, so a mistranslated level would show.
    for column in [c for c in expected.columns if c.startswith("gamma_")]:
        assert expected[column].nunique() >= 2, column
    assert_same_pairs(expected, got)


def test_features_empty_in_every_case_keep_their_recorded_type() -> None:
    """No narrative anywhere: Spark would read the weights as array<void> and refuse to multiply them."""
    from caselink.linkage.spark_engine import typed_features

    records = [{"case_id": f"N{i}", "found_at": f"2014-06-1{i}", "lat": 51.5, "lon": 0.07} for i in range(3)]
    schema = typed_features(build_features(records_to_frame(records))[FEATURE_COLUMNS]).schema
    assert str(schema.field("narr_weights").type.value_type) == "double"
    assert str(schema.field("narr_terms").type.value_type) == "string"
    assert str(schema.field("victim_age").type) == "double"
    assert not [f.name for f in schema if "null" in str(f.type)]


def _store_of(records: list[dict[str, Any]], cli: Any, sqlite_url: str, tmp_path: Any) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = cli("ingest", str(path), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr


@needs_spark
@pytest.mark.xdist_group("spark")
def test_link_and_evaluate_on_spark_print_what_duckdb_prints(cli: Any, sqlite_url: str, tmp_path: Any) -> None:
    """The contract JSON of ``link`` and ``evaluate`` is the same on either engine; a second Spark
    command in the same process reuses the session."""
    records = every_level_records()
    for i, record in enumerate(records):  # labelled series for evaluate: the churchyard cases
        if record["case_id"].startswith("W") and i % 2 == 0:
            record["series_id"] = "churchyard"
    _store_of(records, cli, sqlite_url, tmp_path)
    outputs = {}
    for engine in ("duckdb", "spark"):
        linked = cli("link", "--db", sqlite_url, "--engine", engine, "--json")
        assert linked.exit_code == 0, linked.stderr
        evaluated = cli("evaluate", "--db", sqlite_url, "--engine", engine, "--json")
        assert evaluated.exit_code == 0, evaluated.stderr
        outputs[engine] = (json.loads(linked.stdout), json.loads(evaluated.stdout))
    (link_duck, eval_duck), (link_spark, eval_spark) = outputs["duckdb"], outputs["spark"]
    assert link_duck["series"], "the store must link something for the comparison to mean anything"
    assert link_spark["series"] == link_duck["series"]
    key = lambda p: (p["case_a"], p["case_b"])  # noqa: E731
    assert sorted(link_spark["pairs"], key=key) == sorted(link_duck["pairs"], key=key)
    assert eval_spark == eval_duck


def test_a_missing_spark_is_one_line_and_exit_1(cli: Any, sqlite_url: str, tmp_path: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from caselink.linkage import spark_engine

    _store_of(store_records(n=12, seed=3), cli, sqlite_url, tmp_path)

    def missing() -> None:
        raise spark_engine.SparkUnavailable("--engine spark needs PySpark: pip install 'caselink[spark]'")

    monkeypatch.setattr(spark_engine, "spark_session", missing)
    result = cli("link", "--db", sqlite_url, "--engine", "spark")
    assert result.exit_code == 1
    assert result.stderr.strip() == "caselink: error: --engine spark needs PySpark: pip install 'caselink[spark]'"
    assert result.stdout == ""
    unknown = cli("link", "--db", sqlite_url, "--engine", "sqlite")
    assert unknown.exit_code == 2


def test_caselinks_own_errors_keep_their_exit_code_on_spark(cli: Any, sqlite_url: str, tmp_path: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A store without labels is bad input (exit 2) whichever engine was asked for."""
    from caselink.linkage import spark_engine

    _store_of(store_records(n=12, seed=3), cli, sqlite_url, tmp_path)
    monkeypatch.setattr(spark_engine, "SparkScorer", lambda *a, **k: pytest.fail("no scoring before the check"))
    result = cli("evaluate", "--db", sqlite_url, "--engine", "spark")
    assert result.exit_code == 2
    assert "no labelled series" in result.stderr
