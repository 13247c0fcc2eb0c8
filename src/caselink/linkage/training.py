"""The training recipe: u from random pairs of the store, m from its labelled series, both by Splink.

m from labels is noisy when there are few solved series, and a level never seen among them would
get m = 0 (a weight of minus infinity: one missing agreement would veto any link).  So each m is
shrunk towards the starting model's value with the weight of ``PRIOR_PAIRS`` pseudo-pairs; the
provenance in the written model says how many labelled pairs there were, so the reader can judge.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from caselink.linkage.features import build_features
from caselink.linkage.model import FORMAT, FORMAT_VERSION, LinkageModel
from caselink.linkage.scoring import Scorer

PRIOR_PAIRS = 10.0
U_FLOOR = 1e-6
U_MAX_PAIRS = 2_000_000
SEED = 2014


class TrainingError(Exception):
    """Training cannot run on this data; the message says what is missing."""


def _labelled_pairs(stored: pd.DataFrame) -> int:
    sizes = stored["series_id"].dropna().value_counts()
    return int(sum(k * (k - 1) // 2 for k in sizes))


def train(stored: pd.DataFrame, base: LinkageModel, name: str = "trained", seed: int = SEED) -> LinkageModel:
    """Fit a model on ``stored`` (stored columns including ``series_id``)."""
    n_pairs = _labelled_pairs(stored)
    if n_pairs == 0:
        raise TrainingError("no labelled series: at least two cases must share a series_id to estimate m")
    features = build_features(stored)
    scorer = Scorer(base, features, keep_labels=True)
    try:
        training = scorer.linker.training
        training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
        training.estimate_m_from_label_column("series_id")
        fitted = scorer.linker.misc.save_model_to_json()
    finally:
        scorer.close()
    settings = _smooth(fitted, base.splink_settings, n_pairs)
    n = len(stored)
    prior = min(max(n_pairs / max(n * (n - 1) / 2, 1.0), 1e-9), 0.5)
    settings["probability_two_random_records_match"] = prior
    provenance: dict[str, Any] = {
        "n_cases": n, "n_series": int((stored["series_id"].value_counts() >= 2).sum()),
        "n_labelled_pairs": n_pairs, "u_pairs_sampled": min(U_MAX_PAIRS, n * (n - 1) // 2), "seed": seed,
        "m_shrinkage_pseudo_pairs": PRIOR_PAIRS, "prior": "labelled pairs / all pairs",
    }
    return LinkageModel(format=FORMAT, format_version=FORMAT_VERSION, name=name,
                        series_threshold=base.series_threshold, provenance=provenance, splink_settings=settings)


def _smooth(fitted: dict[str, Any], base: dict[str, Any], n_pairs: int) -> dict[str, Any]:
    base_levels = {c["output_column_name"]: c["comparison_levels"] for c in base["comparisons"]}
    out = {k: v for k, v in fitted.items() if k not in ("linker_uid", "sql_dialect")}
    for comparison in out["comparisons"]:
        starting = base_levels.get(comparison["output_column_name"], [])
        levels = comparison["comparison_levels"]
        for index, level in enumerate(levels):
            if level.get("is_null_level"):
                continue
            prior_m = starting[index].get("m_probability", 0.1) if index < len(starting) else 0.1
            m = level.get("m_probability")
            # A level no labelled pair fell in has m = 0 before shrinkage, not the starting value.
            m = 0.0 if m is None or (isinstance(m, float) and math.isnan(m)) else float(m)
            level["m_probability"] = (m * n_pairs + prior_m * PRIOR_PAIRS) / (n_pairs + PRIOR_PAIRS)
            u = level.get("u_probability")
            # u comes from up to millions of random pairs: a level none of them fell in is rare, not unknown.
            u = U_FLOOR if u is None or (isinstance(u, float) and math.isnan(u)) else float(u)
            level["u_probability"] = max(u, U_FLOOR)
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        for key in ("m_probability", "u_probability"):
            total = sum(lv[key] for lv in non_null)
            for lv in non_null:
                lv[key] = round(lv[key] / total, 8)
                lv[key] = max(lv[key], 1e-8)
    return out
