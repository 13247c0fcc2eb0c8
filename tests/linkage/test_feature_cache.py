"""The feature cache gives live ingest exactly what rebuilding the whole store gave, at a fraction of the cost."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from caselink.linkage import incremental
from caselink.linkage.feature_cache import CACHE, CacheUnavailable, FeatureCache, decode_rows, encode_rows
from caselink.linkage.features import build_features
from caselink.linkage.incremental import RUNS, score_new_cases, stored_frame
from caselink.linkage.model import LinkageModel, load_model
from caselink.linkage.scoring import Scorer
from caselink.store import CaseStore, RecordSource

SPLIT_DAY = "2014-08-01"


class Records(RecordSource):
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.path = "batch.csv"

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        yield from enumerate(self.records, start=2)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    from caselink.demo import build_demo_records  # type: ignore[attr-defined]

    return sorted(build_demo_records(seed=7, n_background=500), key=lambda r: (str(r["found_at"]), r["case_id"]))


def batches(records: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    later = [r for r in records if str(r["found_at"]) >= SPLIT_DAY]
    return [later[i:i + size] for i in range(0, len(later), size)]


def ingest(store: CaseStore, model: LinkageModel, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = store.ingest([Records(batch)])
    return score_new_cases(store, model, store.case_ids_changed_by(result.import_id), "tester")


def last_run(store: CaseStore) -> dict[str, Any]:
    with store.engine.connect() as connection:
        return dict(connection.execute(select(RUNS.c.details).order_by(RUNS.c.id.desc()).limit(1)).scalar_one())


def cached_features(store: CaseStore) -> pd.DataFrame:
    with store.engine.connect() as connection:
        return decode_rows(list(connection.execute(select(CACHE.c.features)).scalars()))


def whole_store_features(store: CaseStore) -> pd.DataFrame:
    features = build_features(stored_frame(store))
    return features.assign(series_id=None)


def without_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> FeatureCache:
        raise CacheUnavailable("off for this comparison")

    monkeypatch.setattr(incremental, "FeatureCache", refuse)


def alert_view(alerts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(a["at"], a["new_case_id"], a["series_id"], a["kind"], tuple(a["case_ids"]), a["probability"],
             tuple(a["reasons"])) for a in alerts]


def test_rows_round_trip_exactly(records: list[dict[str, Any]]) -> None:
    from caselink.linkage.features import records_to_frame

    features = build_features(records_to_frame(records[:300])).assign(series_id=None)
    pd.testing.assert_frame_equal(decode_rows(encode_rows(features)), features)


def test_batches_score_from_the_cache_as_from_the_whole_store(
        records: list[dict[str, Any]], any_db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(None)
    first = [r for r in records if str(r["found_at"]) < SPLIT_DAY]
    cached = CaseStore.open(any_db_url)
    plain = CaseStore.open(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        cached_alerts = ingest(cached, model, first)
        assert last_run(cached)["features_rebuilt"] is True  # an empty cache is built from the store
        for batch in batches(records, 40):
            cached_alerts += ingest(cached, model, batch)
            details = last_run(cached)
            assert details["features_rebuilt"] is False
        pd.testing.assert_frame_equal(cached_features(cached), whole_store_features(cached))
        with monkeypatch.context() as patch:
            without_cache(patch)
            plain_alerts = ingest(plain, model, first)
            for batch in batches(records, 40):
                plain_alerts += ingest(plain, model, batch)
        assert any(a["new_case_id"] == "MPS-2014-0828-K" for a in cached_alerts)
        assert alert_view(cached_alerts) == alert_view(plain_alerts)
    finally:
        cached.close()
        plain.close()


def test_candidates_give_the_pairs_of_the_whole_history(records: list[dict[str, Any]], sqlite_url: str) -> None:
    model = load_model(None)
    store = CaseStore.open(sqlite_url)
    try:
        ingest(store, model, records[:-1])
        result = store.ingest([Records(records[-1:])])
        new_ids = store.case_ids_changed_by(result.import_id)
        live = FeatureCache(store, model).prepare(new_ids)
        full = whole_store_features(store)
        is_new = full["unique_id"].isin(new_ids)
        pd.testing.assert_frame_equal(live.new, full[is_new].reset_index(drop=True))
        scorer = Scorer(model, live.history)
        mine = scorer.predict_new(live.new)
        scorer.close()
        scorer = Scorer(model, full[~is_new])
        theirs = scorer.predict_new(full[is_new])
        scorer.close()
        assert len(theirs) > 0
        assert len(live.history) < len(full) / 2  # a new case reads its candidates, not the whole history

        def key(frame: pd.DataFrame) -> list[tuple[str, str, float]]:
            return sorted((min(a, b), max(a, b), round(float(p), 10)) for a, b, p in
                          zip(frame["unique_id_l"], frame["unique_id_r"], frame["match_probability"], strict=True))

        assert key(mine) == key(theirs)
    finally:
        store.close()


def test_a_bulk_import_reads_the_whole_history_once(records: list[dict[str, Any]], sqlite_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from caselink.linkage import feature_cache

    model = load_model(None)
    store = CaseStore.open(sqlite_url)
    try:
        ingest(store, model, records[:-40])
        result = store.ingest([Records(records[-40:])])
        new_ids = store.case_ids_changed_by(result.import_id)
        looked_up = FeatureCache(store, model).prepare(new_ids)
        monkeypatch.setattr(feature_cache, "LOOKUP_MAX", 10)
        bulk = FeatureCache(store, model).prepare(new_ids)
        assert len(bulk.history) == len(records) - 40
        assert set(looked_up.history["unique_id"]) <= set(bulk.history["unique_id"])
        pd.testing.assert_frame_equal(looked_up.new, bulk.new)
    finally:
        store.close()


def test_a_late_report_or_an_edit_of_an_old_case_rebuilds(records: list[dict[str, Any]], sqlite_url: str) -> None:
    model = load_model(None)
    store = CaseStore.open(sqlite_url)
    try:
        ingest(store, model, records[:-10])
        ingest(store, model, records[-10:-5])
        assert last_run(store)["features_rebuilt"] is False
        # A death reported late, found a year before the latest: every later case's counts change.
        late = dict(records[40], case_id="LATE-1", series_id=None)
        ingest(store, model, [late])
        assert last_run(store)["features_rebuilt"] is True
        pd.testing.assert_frame_equal(cached_features(store), whole_store_features(store))
        # Toxicology added to an old case: its tokens were already counted for later cases.
        edited = dict(records[50], substances="ghb")
        ingest(store, model, [edited])
        assert last_run(store)["features_rebuilt"] is True
        # A new day's cases after that are served from the cache again, and still exact.
        ingest(store, model, records[-5:])
        assert last_run(store)["features_rebuilt"] is False
        pd.testing.assert_frame_equal(cached_features(store), whole_store_features(store))
    finally:
        store.close()



def test_an_unreadable_cache_falls_back_and_is_rebuilt_next_time(records: list[dict[str, Any]],
                                                                 sqlite_url: str) -> None:
    model = load_model(None)
    store = CaseStore.open(sqlite_url)
    try:
        ingest(store, model, records[:-10])
        with store.engine.begin() as connection:
            connection.execute(CACHE.update().values(features="not json"))
        alerts = ingest(store, model, records[-10:-5])
        assert last_run(store)["features_rebuilt"] is True  # scored from the whole store instead
        assert isinstance(alerts, list)
        ingest(store, model, records[-5:])
        assert last_run(store)["features_rebuilt"] is True  # the forgotten cache was rebuilt
        pd.testing.assert_frame_equal(cached_features(store), whole_store_features(store))
    finally:
        store.close()


def test_long_words_and_entities_are_stored_by_hash(records: list[dict[str, Any]], any_db_url: str) -> None:
    model = load_model(None)
    store = CaseStore.open(any_db_url)
    rng = random.Random(1)
    # One "word" of 3,201 random characters: over PostgreSQL's index entry limit even compressed.
    long_word = "z" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(3200))
    try:
        ingest(store, model, records[:-10])
        odd = [dict(r, narrative=f"{r.get('narrative') or ''} {long_word}", entities=f"person:{'y' * 450}")
               for r in records[-10:-8]]
        ingest(store, model, odd)
        assert last_run(store)["features_rebuilt"] is False
        ingest(store, model, records[-8:])  # the long tokens are sealed now, and counted for these
        assert last_run(store)["features_rebuilt"] is False
        pd.testing.assert_frame_equal(cached_features(store), whole_store_features(store))
    finally:
        store.close()


def test_two_imports_scoring_at_once_leave_the_cache_exact(records: list[dict[str, Any]], sqlite_url: str) -> None:
    model = load_model(None)
    store = CaseStore.open(sqlite_url)
    try:
        ingest(store, model, records[:-10])
        first = store.ingest([Records(records[-10:-6])])
        second = store.ingest([Records(records[-6:-3])])
        live_first = FeatureCache(store, model).prepare(store.case_ids_changed_by(first.import_id))
        live_second = FeatureCache(store, model).prepare(store.case_ids_changed_by(second.import_id))
        with store.engine.begin() as connection:
            live_first.write(connection)
        with store.engine.begin() as connection:
            live_second.write(connection)  # computed from the state before the first: must not count on top
        ingest(store, model, records[-3:])
        assert last_run(store)["features_rebuilt"] is True  # the loser dropped the state
        pd.testing.assert_frame_equal(cached_features(store), whole_store_features(store))
    finally:
        store.close()


def test_explain_reads_two_cached_rows_only_while_they_are_current(records: list[dict[str, Any]],
                                                                   sqlite_url: str, cli: Any) -> None:
    from caselink.linkage.feature_cache import forget_cache

    model = load_model(None)
    store = CaseStore.open(sqlite_url)
    try:
        ingest(store, model, records[:-10])
        pair = [records[-20]["case_id"], records[-30]["case_id"]]
        cached = FeatureCache(store, model).features_for(pair)
        assert cached is not None
        whole = whole_store_features(store)
        pd.testing.assert_frame_equal(cached, whole[whole["unique_id"].isin(pair)].reset_index(drop=True))
        from_cache = cli("explain", *pair, "--db", sqlite_url, "--json")
        forget_cache(store)
        assert FeatureCache(store, model).features_for(pair) is None
        from_store = cli("explain", *pair, "--db", sqlite_url, "--json")  # the whole-store path
        assert from_cache.exit_code == 0 and from_store.exit_code == 0, from_cache.stderr + from_store.stderr
        assert json.loads(from_cache.stdout) == json.loads(from_store.stdout)
        ingest(store, model, records[-10:-5])  # rebuilds the forgotten cache
        # A case imported without scoring, found after both: their rows are still current.
        store.ingest([Records(records[-5:])])
        assert FeatureCache(store, model).features_for(pair) is not None
        # One found before them changes what they saw: the cache must not answer.
        store.ingest([Records([dict(records[5], case_id="LATE-2", series_id=None)])])
        assert FeatureCache(store, model).features_for(pair) is None
    finally:
        store.close()
