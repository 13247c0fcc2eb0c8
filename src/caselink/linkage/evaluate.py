"""Evaluation on labelled data: pairwise ranking quality, alert timing per series, false series.

Pairs the blocking never proposes are scored as the lowest possible (the system would never see
them), so blocking losses count against the model rather than being hidden.  Cases without a
``series_id`` count as unrelated to every other case (``unlabelled="negative"``, right for a store of
deaths with a few known series) or are left out of pairwise scores (``"exclude"``, right for
crime data where unsolved means unknown).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from caselink.linkage.engines import batch_scorer
from caselink.linkage.features import build_features
from caselink.linkage.model import LinkageModel
from caselink.linkage.pipeline import Corroboration, events_in_order
from caselink.linkage.series import SeriesState


class EvaluationError(Exception):
    """Evaluation needs labelled series; the message says what is missing."""


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray, fpr_target: float) -> float:
    fpr, tpr, _ = roc_curve(labels, scores, sample_weight=weights)
    return float(np.interp(fpr_target, fpr, tpr))


def pairwise_metrics(pairs: pd.DataFrame, labels: dict[str, str | None],
                     unlabelled: str = "negative") -> dict[str, Any]:
    """ROC AUC, average precision and TPR at 1%/5% FPR over all pairs of labelled cases."""
    ids = [c for c, s in labels.items() if s is not None or unlabelled == "negative"]
    label_of = {c: labels[c] for c in ids}
    a = pairs["unique_id_l"].map(label_of)
    b = pairs["unique_id_r"].map(label_of)
    known = pairs["unique_id_l"].isin(label_of) & pairs["unique_id_r"].isin(label_of)
    scored = pairs[known]
    truth = (a[known].notna() & (a[known] == b[known])).to_numpy(dtype=int)
    scores = scored["match_weight"].to_numpy(dtype=float)
    sizes = pd.Series([s for s in label_of.values() if s is not None]).value_counts()
    n_pos_total = int(sum(k * (k - 1) // 2 for k in sizes))
    n_total = len(ids) * (len(ids) - 1) // 2
    n_pos_missing = n_pos_total - int(truth.sum())
    n_neg_missing = (n_total - n_pos_total) - int(len(truth) - truth.sum())
    floor = (scores.min() if len(scores) else 0.0) - 100.0
    all_scores = np.concatenate([scores, [floor, floor]])
    all_labels = np.concatenate([truth, [1, 0]])
    weights = np.concatenate([np.ones(len(scores)), [max(n_pos_missing, 0), max(n_neg_missing, 0)]])
    keep = weights > 0
    all_scores, all_labels, weights = all_scores[keep], all_labels[keep], weights[keep]
    if n_pos_total == 0:
        raise EvaluationError("no labelled series with two or more cases: give cases a shared series_id")
    if len(set(all_labels)) < 2:
        raise EvaluationError("every pair is in the same series: evaluation needs unrelated cases too")
    return {
        "n_pairs": int(n_total), "n_linked": n_pos_total, "n_candidate_pairs": int(len(pairs)),
        "linked_pairs_missed_by_blocking": int(n_pos_missing),
        "roc_auc": round(float(roc_auc_score(all_labels, all_scores, sample_weight=weights)), 4),
        "average_precision": round(float(average_precision_score(all_labels, all_scores, sample_weight=weights)), 4),
        "tpr_at_1pct_fpr": round(tpr_at_fpr(all_labels, all_scores, weights, 0.01), 4),
        "tpr_at_5pct_fpr": round(tpr_at_fpr(all_labels, all_scores, weights, 0.05), 4),
    }


def series_timing(features: pd.DataFrame, pairs: pd.DataFrame, threshold: float,
                  corroboration: Corroboration | None = None) -> tuple[list[dict[str, Any]], int]:
    """Replay in found order: per labelled series, the member at which the first alert came; false series."""
    state = SeriesState()
    events = events_in_order(features, pairs, state, threshold, corroboration=corroboration)
    label_of = dict(zip(features["unique_id"], features["series_id"], strict=True))
    members: dict[str, list[str]] = {}
    for case_id, label in label_of.items():
        if label is not None and not pd.isna(label):
            members.setdefault(str(label), []).append(case_id)
    first_alert: dict[str, int] = {}
    for _, event in events:
        label = label_of.get(event.new_case_id)
        if label is None or pd.isna(label) or str(label) in first_alert:
            continue
        same = [c for c in event.case_ids if label_of.get(c) == label]
        if len(same) >= 2:
            first_alert[str(label)] = members[str(label)].index(event.new_case_id) + 1
    rows = [{"label": label, "n_cases": len(cases), "alerted_at_member": first_alert.get(label)}
            for label, cases in sorted(members.items()) if len(cases) >= 2]
    false_series = 0
    for cases in state.members.values():
        labels = [label_of.get(c) for c in cases]
        counts = pd.Series([lb for lb in labels if lb is not None and not pd.isna(lb)]).value_counts()
        if counts.empty or counts.max() < 2:
            false_series += 1
    return rows, false_series


def evaluate(stored: pd.DataFrame, model: LinkageModel, unlabelled: str = "negative",
             engine: str = "duckdb") -> dict[str, Any]:
    """The full report for ``caselink evaluate``; ``engine`` scores the pairs (``engines.batch_scorer``)."""
    if stored["series_id"].dropna().value_counts().max() < 2 if stored["series_id"].notna().any() else True:
        raise EvaluationError("no labelled series with two or more cases: give cases a shared series_id")
    features = build_features(stored)
    scorer = batch_scorer(engine, model, features)
    try:
        pairs = scorer.predict_all()
    finally:
        scorer.close()
    labels = {c: (None if s is None or pd.isna(s) else str(s))
              for c, s in zip(features["unique_id"], features["series_id"], strict=True)}
    pairwise = pairwise_metrics(pairs, labels, unlabelled)
    rows, false_series = series_timing(features, pairs, model.series_threshold, Corroboration.of(model))
    n = len(stored)
    return {"model": model.name, "n_cases": n, "pairwise": pairwise, "series": rows,
            "false_series": false_series, "false_series_per_1000": round(1000.0 * false_series / max(n, 1), 3)}
