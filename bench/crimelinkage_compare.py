"""Crimelinkage: training recipes compared on 3 crime-disjoint splits, chosen by the training side only.

    .venv/bin/python bench/crimelinkage_compare.py          # every recipe, 3 splits, CV on the training side
    .venv/bin/python bench/crimelinkage_compare.py --quick  # the shipped recipe and the burglary set only

"store" protocol (as ``bench/linkage.py``): all 490 crimes are in the store, the held-out series'
labels are hidden from training, and pairs among held-out crimes are scored.  Each recipe is a
comparison set (``linkage/comparison_sets.py``) plus training options.  The choice among recipes is
made per split by grouped 3-fold cross-validation over the *training* series (each fold's labels
hidden in turn, the model trained on the rest and scored on the fold's pairs), so no test label
informs it; the test half is read once per recipe, for the report.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from caselink.linkage.comparison_sets import BURGLARY, DEFAULT, base_model
from caselink.linkage.crimelinkage import crime_disjoint_split, hide_labels, load_crimelinkage
from caselink.linkage.evaluate import pairwise_metrics, tpr_at_fpr
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.scoring import Scorer
from caselink.linkage.training import train

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "crimelinkage"
CV_FOLDS = 3
SEASON_DAYS = 180


@dataclass(frozen=True)
class Recipe:
    name: str
    comparison_set: str
    exact_u: bool = False
    prior_pairs: float = 10.0
    smooth_levels: tuple[str, ...] = ()
    season_blocking: bool = False  # the two 12 km grids over SEASON_DAYS instead of 30 days


SMOOTHED = ("distance", "time_gap")
RECIPES = [
    Recipe("shipped recipe (default set)", DEFAULT),
    Recipe("default set, exact u", DEFAULT, exact_u=True),
    Recipe("burglary levels, raw m", BURGLARY, exact_u=True),
    Recipe("burglary set (smoothed m)", BURGLARY, exact_u=True, smooth_levels=SMOOTHED),
    Recipe("burglary set, shrink 100", BURGLARY, exact_u=True, smooth_levels=SMOOTHED, prior_pairs=100.0),
    Recipe("burglary set, season-wide blocking", BURGLARY, exact_u=True, smooth_levels=SMOOTHED,
           season_blocking=True),
]


def scored_pairs(recipe: Recipe, fit_on: list[dict[str, Any]], features: pd.DataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(blocked pairs, every pair) of the store, scored by a model trained on ``fit_on``."""
    base = base_model(recipe.comparison_set)
    if recipe.season_blocking:
        base.splink_settings["blocking_rules_to_generate_predictions"] = [
            *base.splink_settings["blocking_rules_to_generate_predictions"],
            *({"blocking_rule": f"l.{cell} = r.{cell} AND abs(l.found_day - r.found_day) <= {SEASON_DAYS}"}
              for cell in ("wide_a", "wide_b"))]
    model = train(records_to_frame(fit_on), base, name=recipe.name,
                  exact_u=recipe.exact_u, prior_pairs=recipe.prior_pairs, smooth_levels=recipe.smooth_levels)
    scorer = Scorer(model, features)
    try:
        return scorer.predict_all(), scorer.predict_all(exhaustive=True)
    finally:
        scorer.close()


def _labels(features: pd.DataFrame, keep: set[str]) -> dict[str, str | None]:
    return {c: (s if c in keep and isinstance(s, str) else None)
            for c, s in zip(features["unique_id"], features["series_id"], strict=True)}


def cross_validate(recipe: Recipe, records: list[dict[str, Any]], train_ids: set[str], features: pd.DataFrame,
                   seed: int) -> tuple[float, float]:
    """Pooled out-of-fold (blocked) AUC and TPR@5% over the training series only."""
    series = sorted({r["series_id"] for r in records if r["case_id"] in train_ids and r["series_id"]})
    random.Random(seed).shuffle(series)
    truth: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    floor = -1000.0
    for fold in range(CV_FOLDS):
        fold_series = set(series[fold::CV_FOLDS])
        fold_ids = {r["case_id"] for r in records if r["series_id"] in fold_series}
        hidden = fold_ids | {r["case_id"] for r in records if r["case_id"] not in train_ids}
        blocked, _ = scored_pairs(recipe, hide_labels(records, hidden), features)
        label_of = _labels(features, fold_ids)
        ids = sorted(c for c, s in label_of.items() if s)
        weight = dict(zip(zip(blocked["unique_id_l"], blocked["unique_id_r"], strict=True),
                          blocked["match_weight"], strict=True))
        for a_index, a in enumerate(ids):
            for b in ids[a_index + 1:]:
                truth.append(np.array([label_of[a] == label_of[b]]))
                scores.append(np.array([weight.get((a, b), weight.get((b, a), floor))]))
    y, s = np.concatenate(truth).astype(int), np.concatenate(scores)
    return float(roc_auc_score(y, s)), tpr_at_fpr(y, s, np.ones(len(y)), 0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the shipped recipe and the burglary set")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation on the training side")
    parser.add_argument("--only", type=int, nargs="*", help="run only these recipes (0-based positions)")
    args = parser.parse_args()
    if not FOLDER.is_dir():
        print("crimelinkage: shared data absent, skipped")
        return
    recipes = [RECIPES[0], RECIPES[3]] if args.quick else RECIPES
    if args.only:
        recipes = [RECIPES[k] for k in args.only]
    records = load_crimelinkage(FOLDER)
    features = build_features(records_to_frame(records))
    chosen: dict[int, tuple[float, Recipe]] = {}
    for seed in (1, 2, 3):
        train_records, test_records = crime_disjoint_split(records, seed)
        test_ids = {r["case_id"] for r in test_records}
        train_ids = {r["case_id"] for r in train_records}
        for recipe in recipes:
            blocked, every = scored_pairs(recipe, hide_labels(records, test_ids), features)
            labels = _labels(features, test_ids)
            cells = [f"candidate pairs {len(blocked):,} of {len(every):,}"]
            for pairs in (blocked, every):
                r = pairwise_metrics(pairs, labels, "exclude")
                cells.append(f"AUC {r['roc_auc']:.3f} TPR@5% {r['tpr_at_5pct_fpr']:.3f}")
            cv = ""
            if not args.no_cv:
                cv_auc, cv_tpr = cross_validate(recipe, records, train_ids, features, seed)
                cv = f" | training-side CV (blocked): AUC {cv_auc:.3f} TPR@5% {cv_tpr:.3f}"
                if seed not in chosen or cv_auc + cv_tpr > chosen[seed][0]:
                    chosen[seed] = (cv_auc + cv_tpr, recipe)
            print(f"split {seed} | {recipe.name:<36} | {cells[0]} | blocked: {cells[1]} | all pairs: {cells[2]}{cv}",
                  flush=True)
    for seed, (_, recipe) in sorted(chosen.items()):
        print(f"split {seed}: cross-validation on the training side chooses '{recipe.name}'")


if __name__ == "__main__":
    main()
