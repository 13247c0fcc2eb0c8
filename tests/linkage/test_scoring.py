"""Live scoring re-runs Splink's recorded SQL on indexed candidates: it must give exactly Splink's scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.model import LinkageModel, load_model
from caselink.linkage.scoring import _BLOCKED_PAIRS, Scorer
from tests.linkage.test_live_index import store_records


def _records() -> list[dict[str, object]]:
    records = []
    for i in range(40):
        records.append({"case_id": f"H{i:02d}", "found_at": f"2014-0{1 + i % 9}-1{i % 10}",
                        "lat": 51.53 + (i % 7) * 0.004, "lon": 0.07 + (i % 5) * 0.004,
                        "victim_age": 20 + i, "victim_sex": "M" if i % 2 else "F", "cause": "drug_toxicity",
                        "substances": "ghb" if i % 13 == 0 else "heroin", "mo": "phone_missing" if i % 3 else "",
                        "entities": "person:walker-1" if i % 17 == 0 else ""})
    return records


def _splink_between(scorer: Scorer, rows: pd.DataFrame) -> pd.DataFrame:
    """Splink's own predict_between with the model's (exploding) blocking rules, history side left."""
    pairs = scorer.predict_new(rows)
    new = set(rows["unique_id"])
    return pairs[~pairs["unique_id_l"].isin(new)]


def _assert_same(live: pd.DataFrame, splink: pd.DataFrame) -> None:
    live = live.sort_values(["unique_id_r", "unique_id_l"]).reset_index(drop=True)
    splink = splink.sort_values(["unique_id_r", "unique_id_l"]).reset_index(drop=True)
    assert list(zip(live["unique_id_l"], live["unique_id_r"], strict=True)) == \
        list(zip(splink["unique_id_l"], splink["unique_id_r"], strict=True))
    assert sorted(live.columns) == sorted(splink.columns)
    for column in live.columns:
        if column.startswith(("mw_", "gamma_")) or column in ("match_weight", "match_probability"):
            assert np.allclose(live[column].astype(float), splink[column].astype(float), equal_nan=True), column


def test_score_live_matches_splink_predict_between() -> None:
    features = build_features(records_to_frame(_records()))
    history, incoming = features.iloc[:36], features.iloc[36:]
    scorer = Scorer(load_model(None), history)
    try:
        for i in range(len(incoming)):
            row = incoming.iloc[i:i + 1]
            live = scorer.score_live(row)
            assert len(live) > 0
            _assert_same(live, _splink_between(scorer, row))
    finally:
        scorer.close()


def test_score_live_matches_splink_on_edges_shared_keys_and_growing_history() -> None:
    """Grid edges, window edges, shared finders, rare drugs, flags and tags, another region; cases
    scored one by one and then appended, as live ingest does, and a batch of several at once."""
    features = build_features(records_to_frame(store_records()))
    scorer = Scorer(load_model(None), features.iloc[:100])
    try:
        n_pairs = 0
        for i in range(100, 108):
            row = features.iloc[i:i + 1]
            live = scorer.score_live(row)
            _assert_same(live, _splink_between(scorer, row))
            n_pairs += len(live)
            scorer.add_to_history(row)
        batch = features.iloc[108:120]
        _assert_same(scorer.score_live(batch), _splink_between(scorer, batch))
        assert n_pairs > 25
    finally:
        scorer.close()


def test_a_case_with_no_candidates_scores_nothing() -> None:
    features = build_features(records_to_frame(store_records()))
    lonely = build_features(records_to_frame([{"case_id": "Z1", "found_at": "2030-01-01", "lat": 55.9,
                                               "lon": -3.2, "substances": ["heroin"]}]))
    scorer = Scorer(load_model(None), features.iloc[:-1])
    try:
        assert scorer.score_live(lonely).empty  # first call: Splink itself, on no candidates
        assert scorer.score_live(lonely).empty  # recorded SQL
        row = features.iloc[-1:]
        _assert_same(scorer.score_live(row), _splink_between(scorer, row))
    finally:
        scorer.close()


def test_a_rule_the_index_cannot_serve_falls_back_to_scanning_and_stays_exact() -> None:
    model = load_model(None)
    settings = dict(model.splink_settings)
    settings["blocking_rules_to_generate_predictions"] = [
        *settings["blocking_rules_to_generate_predictions"], {"blocking_rule": "abs(l.victim_age - r.victim_age) <= 0"}]
    odd = LinkageModel(**{**model.model_dump(), "splink_settings": settings})
    features = build_features(records_to_frame(store_records()))
    scorer = Scorer(odd, features.iloc[:120])
    try:
        for i in range(120, 123):
            row = features.iloc[i:i + 1]
            _assert_same(scorer.score_live(row), _splink_between(scorer, row))
        assert scorer._live_index is None and scorer._live_scan
    finally:
        scorer.close()


def test_blocked_pairs_from_the_index_are_splinks_own_with_the_same_match_keys() -> None:
    """Later calls write Splink's blocked-pairs table from the index: it must hold what Splink's
    blocking SQL computes, each pair under the first rule that blocks it."""
    features = build_features(records_to_frame(store_records(seed=11)))
    scorer = Scorer(load_model(None), features.iloc[:130])
    try:
        scorer.score_live(features.iloc[130:131])  # records Splink's SQL
        statement = next(sql for sql in scorer._compiled or [] if _BLOCKED_PAIRS.match(sql))
        table = _BLOCKED_PAIRS.match(statement)[1]  # type: ignore[index]
        checked, keys = 0, set()
        for i in range(131, len(features)):
            row = features.iloc[i:i + 1]
            scorer._create("cl_live", row)
            mine = scorer._fill_candidates(row)
            scorer._run(f"DROP TABLE IF EXISTS {table}")
            scorer._run(statement)
            splink = scorer.connection.execute(f"SELECT match_key, join_key_l, join_key_r FROM {table}").fetchall()
            assert sorted(mine or []) == sorted((str(k), str(a), str(b)) for k, a, b in splink)
            checked += len(splink)
            keys |= {str(k) for k, _, _ in splink}
        assert checked > 50 and len(keys) >= 4  # several rules, not only the first grid
    finally:
        scorer.close()


def test_case_ids_with_quotes_and_backslashes_are_scored_like_any_other() -> None:
    records = _records()
    for record, odd in zip(records[::6], ["O'Brien-1", "case\\2", "a''b\\1", "x' OR '1'='1", "\\n", "é'ü"],
                           strict=False):
        record["case_id"] = odd
    features = build_features(records_to_frame(records))
    scorer = Scorer(load_model(None), features.iloc[:30])
    try:
        for i in range(30, 33):
            row = features.iloc[i:i + 1]
            _assert_same(scorer.score_live(row), _splink_between(scorer, row))
        odd_ids = set(features["unique_id"].iloc[:30]) - {r["case_id"] for r in _records()}
        assert odd_ids and any(odd_ids & set(scorer.score_live(features.iloc[i:i + 1])["unique_id_l"])
                               for i in range(30, 40))
    finally:
        scorer.close()


def test_appending_a_case_with_the_first_entity_the_history_has_seen() -> None:
    """A history where no case had a finder or tag yet holds those list columns untyped; the first
    case with one must still append, and the next case sharing it must be paired."""
    records = [{**r, "entities": ""} for r in _records()]
    records[-2]["entities"] = "person:walker-9"
    records[-1]["entities"] = "person:walker-9"
    features = build_features(records_to_frame(records)).reset_index(drop=True)
    first = features.index[features["unique_id"] == records[-2]["case_id"]][0]
    second = features.index[features["unique_id"] == records[-1]["case_id"]][0]
    history = features.drop(index=[first, second])
    scorer = Scorer(load_model(None), history)
    try:
        scorer.score_live(features.iloc[[first]])
        scorer.add_to_history(features.iloc[[first]])
        live = scorer.score_live(features.iloc[[second]])
        _assert_same(live, _splink_between(scorer, features.iloc[[second]]))
        assert records[-2]["case_id"] in set(live["unique_id_l"])
    finally:
        scorer.close()


def test_duckdb_never_draws_a_progress_bar_on_stdout() -> None:
    """DuckDB draws a progress bar on stdout for queries over two seconds: on the demo store it landed
    in front of 'caselink demo --json' (and any large link or replay --json), which then did not parse."""
    scorer = Scorer(load_model(None), build_features(records_to_frame(store_records())))
    try:
        assert scorer.connection.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    finally:
        scorer.close()
