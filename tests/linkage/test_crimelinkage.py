"""The crimelinkage benchmark data as case records, its crime-disjoint split, and the model on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from caselink.linkage.comparison_sets import BURGLARY, DEFAULT, base_model, training_options
from caselink.linkage.crimelinkage import crime_disjoint_split, hide_labels, load_crimelinkage
from caselink.linkage.evaluate import pairwise_metrics
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.scoring import Scorer
from caselink.linkage.training import train


def test_records_series_and_split(shared_data: Path) -> None:
    records = load_crimelinkage(shared_data / "crimelinkage")
    assert len(records) == 490
    assert sum(1 for r in records if r["series_id"]) == 390  # solved crimes (package vignette)
    train_records, test_records = crime_disjoint_split(records, seed=1)
    train_series = {r["series_id"] for r in train_records if r["series_id"]}
    test_series = {r["series_id"] for r in test_records}
    assert test_series and not train_series & test_series
    assert len(train_records) + len(test_records) == 490
    hidden = hide_labels(records, {r["case_id"] for r in test_records})
    assert {r["series_id"] for r in hidden if r["series_id"]} == train_series
    assert all(r["series_id"] for r in test_records)  # the original records are not modified


@pytest.mark.parametrize("comparison_set", [DEFAULT, BURGLARY])
def test_model_trained_on_one_half_ranks_the_other_halfs_links(shared_data: Path, comparison_set: str) -> None:
    records = load_crimelinkage(shared_data / "crimelinkage")
    _, test_records = crime_disjoint_split(records, seed=2)
    test_ids = {r["case_id"] for r in test_records}
    model = train(records_to_frame(hide_labels(records, test_ids)), base_model(comparison_set),
                  **training_options(comparison_set))
    features = build_features(records_to_frame(records))
    scorer = Scorer(model, features)
    try:
        pairs = scorer.predict_all()
    finally:
        scorer.close()
    labels = {c: (s if c in test_ids else None) for c, s in zip(features["unique_id"], features["series_id"],
                                                                strict=True)}
    result = pairwise_metrics(pairs, labels, "exclude")
    # Pairs blocking never proposes count as the lowest score; chance is 0.5.
    assert result["roc_auc"] > 0.85
    assert result["linked_pairs_missed_by_blocking"] < 0.2 * result["n_linked"]
