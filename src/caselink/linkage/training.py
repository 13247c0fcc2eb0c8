"""The training recipe: u from random pairs of the store, m from its labelled series, both by Splink.

m from labels is noisy when there are few solved series, and a level never seen among them would
get m = 0 (a weight of minus infinity: one missing agreement would veto any link).  So each m is
shrunk towards the starting model's value with the weight of ``PRIOR_PAIRS`` pseudo-pairs; the
provenance in the written model says how many labelled pairs there were, so the reader can judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from caselink.linkage.comparisons import ORDERED
from caselink.linkage.features import build_features
from caselink.linkage.model import FORMAT, FORMAT_VERSION, LinkageModel
from caselink.linkage.scoring import Scorer

PRIOR_PAIRS = 10.0
U_FLOOR = 1e-6
U_MAX_PAIRS = 2_000_000
SEED = 2014
SPLINK_MIN_COUNT = 100  # Splink's default: stop counting u for a comparison once each level has this many


class TrainingError(Exception):
    """Training cannot run on this data; the message says what is missing."""


def _labelled_pairs(stored: pd.DataFrame) -> int:
    sizes = stored["series_id"].dropna().value_counts()
    return int(sum(k * (k - 1) // 2 for k in sizes))


def _fit_raw(stored: pd.DataFrame, base: LinkageModel, seed: int, estimate_u: bool = True,
             exact_u: bool = False, estimate_m: bool = True) -> tuple[dict[str, Any], int]:
    """Splink's own estimates before shrinkage: (settings with fitted m [and u], labelled pairs).

    Splink stops counting u for a comparison once every level has 100 pairs, which on a small store
    can be a tenth of its pairs; ``exact_u`` counts every sampled pair (every pair of the store when
    it has at most ``U_MAX_PAIRS``).  Without ``estimate_m`` the settings keep the starting model's m.
    """
    n_pairs = _labelled_pairs(stored)
    if estimate_m and n_pairs == 0:
        raise TrainingError("no labelled series: at least two cases must share a series_id to estimate m")
    features = build_features(stored)
    scorer = Scorer(base, features, keep_labels=estimate_m)
    try:
        training = scorer.linker.training
        if estimate_u:
            training.estimate_u_using_random_sampling(
                max_pairs=U_MAX_PAIRS, seed=seed, min_count_per_level=None if exact_u else SPLINK_MIN_COUNT)
        if estimate_m:
            training.estimate_m_from_label_column("series_id")
        fitted = scorer.linker.misc.save_model_to_json()
    finally:
        scorer.close()
    return fitted, n_pairs


def _prior(stored: pd.DataFrame, n_pairs: int) -> float:
    n = len(stored)
    return min(max(n_pairs / max(n * (n - 1) / 2, 1.0), 1e-9), 0.5)


def train(stored: pd.DataFrame, base: LinkageModel, name: str = "trained", seed: int = SEED,
          exact_u: bool = False, prior_pairs: float = PRIOR_PAIRS, smooth_levels: Sequence[str] = ()
          ) -> LinkageModel:
    """Fit a model on ``stored`` (stored columns including ``series_id``).

    The defaults are the recipe the shipped model was fitted with (``bench/linkage_train_default.py``);
    ``exact_u``, ``prior_pairs`` and ``smooth_levels`` (comparisons whose m is smoothed across
    neighbouring levels, :func:`kernel_smooth`) are options measured on the crimelinkage data
    (docs/model.md; ``comparison_sets.training_options`` gives each set's).
    """
    fitted, n_pairs = _fit_raw(stored, base, seed, exact_u=exact_u)
    for comparison in fitted["comparisons"]:
        if comparison["output_column_name"] in smooth_levels:
            levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
            smoothed = kernel_smooth([_m_or_zero(lv.get("m_probability")) for lv in levels], n_pairs)
            for level, m in zip(levels, smoothed, strict=True):
                level["m_probability"] = m
    settings = _smooth(fitted, base.splink_settings, n_pairs, prior_pairs)
    n = len(stored)
    settings["probability_two_random_records_match"] = _prior(stored, n_pairs)
    provenance: dict[str, Any] = {
        "n_cases": n, "n_series": int((stored["series_id"].value_counts() >= 2).sum()),
        "n_labelled_pairs": n_pairs, "u_pairs_sampled": min(U_MAX_PAIRS, n * (n - 1) // 2), "seed": seed,
        "m_shrinkage_pseudo_pairs": prior_pairs, "prior": "labelled pairs / all pairs",
    }
    if exact_u:
        provenance["u"] = "every sampled pair counted (no early stop)"
    if smooth_levels:
        provenance["m_kernel_smoothed"] = list(smooth_levels)
    return _fitted_model(base, name, settings, provenance)


def _fitted_model(base: LinkageModel, name: str, settings: dict[str, Any],
                  provenance: dict[str, Any]) -> LinkageModel:
    """A model fitted from ``base``: its thresholds kept, and the comparison set it was started from named."""
    if base.provenance.get("comparison_set"):
        provenance["comparison_set"] = base.provenance["comparison_set"]
    return LinkageModel(format=FORMAT, format_version=FORMAT_VERSION, name=name,
                        series_threshold=base.series_threshold,
                        corroboration_threshold=base.corroboration_threshold, provenance=provenance,
                        splink_settings=settings)


def train_u(stored: pd.DataFrame, base: LinkageModel, name: str = "trained", seed: int = SEED,
            exact_u: bool = False) -> LinkageModel:
    """u from random pairs of ``stored``; m, the prior and the thresholds kept from ``base``.

    Why: a store with no solved series still knows how often two of *its* unrelated deaths fall
    within 0.5 km or share a substance, which is what u is (issue 3: "u from random pairs of the
    user's own store; m from labelled series where they exist").  m needs labels, so it stays.
    """
    if len(stored) < 2:
        raise TrainingError(f"{len(stored)} case(s): u needs random pairs, so at least two cases")
    fitted, _ = _fit_raw(stored, base, seed, exact_u=exact_u, estimate_m=False)
    # No labelled pairs: shrinkage returns the starting model's m exactly; u is floored and normalised.
    settings = _smooth(fitted, base.splink_settings, 0, prior_pairs=1.0)
    settings["probability_two_random_records_match"] = base.splink_settings["probability_two_random_records_match"]
    n = len(stored)
    provenance: dict[str, Any] = {
        "n_cases": n, "n_series": 0, "n_labelled_pairs": 0, "u_pairs_sampled": min(U_MAX_PAIRS, n * (n - 1) // 2),
        "seed": seed, "m": f"kept from {base.name} (no labelled series)", "prior": f"kept from {base.name}",
    }
    return _fitted_model(base, name, settings, provenance)


def train_pooled(u_store: pd.DataFrame, m_stores: list[pd.DataFrame], base: LinkageModel, name: str = "trained",
                 seed: int = SEED) -> LinkageModel:
    """u and the prior from ``u_store``; m from the labelled pairs of every store in ``m_stores``, pooled.

    Why separate stores, not one concatenated frame: rarity is judged as of each case within its
    own store, and mixing several places and years into one timeline would blur every share.
    Each store's m is weighted by its number of labelled pairs, then shrunk once.
    """
    fitted, _ = _fit_raw(u_store, base, seed)
    totals: dict[str, list[float]] = {}
    n_total = 0
    for store in m_stores:
        m_fit, n_pairs = _fit_raw(store, base, seed, estimate_u=False)
        n_total += n_pairs
        for comparison in m_fit["comparisons"]:
            row = totals.setdefault(comparison["output_column_name"], [0.0] * len(comparison["comparison_levels"]))
            for index, level in enumerate(comparison["comparison_levels"]):
                m = level.get("m_probability")
                if isinstance(m, int | float) and not math.isnan(m):
                    row[index] += float(m) * n_pairs
    for comparison in fitted["comparisons"]:
        row = totals[comparison["output_column_name"]]
        for index, level in enumerate(comparison["comparison_levels"]):
            if not level.get("is_null_level"):
                level["m_probability"] = row[index] / n_total
    settings = _smooth(fitted, base.splink_settings, n_total)
    settings["probability_two_random_records_match"] = _prior(u_store, _labelled_pairs(u_store))
    provenance: dict[str, Any] = {
        "n_cases_u": len(u_store), "n_m_stores": len(m_stores), "n_labelled_pairs": n_total, "seed": seed,
        "m_shrinkage_pseudo_pairs": PRIOR_PAIRS, "prior": "labelled pairs / all pairs of the u store",
    }
    return LinkageModel(format=FORMAT, format_version=FORMAT_VERSION, name=name,
                        series_threshold=base.series_threshold,
                        corroboration_threshold=base.corroboration_threshold, provenance=provenance,
                        splink_settings=settings)


def _m_or_zero(m: Any) -> float:
    return 0.0 if m is None or (isinstance(m, float) and math.isnan(m)) else float(m)


def kernel_smooth(m: list[float], n_pairs: int) -> list[float]:
    """m of ordered levels spread over neighbouring levels: a Gaussian kernel density on the level index.

    Why: fine levels (a burglar's 70 m against 100 m against 140 m) each hold a handful of labelled
    pairs, so their raw m is noise; coarse levels throw the resolution away.  Porter and Reich's
    naive Bayes smooths each marginal with a kernel for the same reason.  Levels spaced evenly on a
    log scale make the index a log distance, and the bandwidth is Scott's rule (σ = sd · n^(-1/5),
    in levels, from the labelled pairs themselves), so nothing is tuned by hand.  Mass that would
    spread past either end is renormalised into the levels, so total m is kept.
    """
    mass = np.nan_to_num(np.asarray(m, dtype=float))
    total = float(mass.sum())
    if total <= 0.0 or n_pairs < 2:
        return [float(v) for v in mass]
    index = np.arange(len(mass), dtype=float)
    share = mass / total
    mean = float((share * index).sum())
    sigma = math.sqrt(float((share * (index - mean) ** 2).sum())) * n_pairs ** -0.2
    if sigma <= 0.0:
        return [float(v) for v in mass]
    kernel = np.exp(-0.5 * ((index[:, None] - index[None, :]) / sigma) ** 2)
    kernel /= kernel.sum(axis=0, keepdims=True)
    return [float(v) for v in kernel @ mass]


def _smooth(fitted: dict[str, Any], base: dict[str, Any], n_pairs: int,
            prior_pairs: float = PRIOR_PAIRS) -> dict[str, Any]:
    base_levels = {c["output_column_name"]: c["comparison_levels"] for c in base["comparisons"]}
    out = {k: v for k, v in fitted.items() if k not in ("linker_uid", "sql_dialect")}
    for comparison in out["comparisons"]:
        starting = base_levels.get(comparison["output_column_name"], [])
        levels = comparison["comparison_levels"]
        for index, level in enumerate(levels):
            if level.get("is_null_level"):
                continue
            prior_m = starting[index].get("m_probability", 0.1) if index < len(starting) else 0.1
            # A level no labelled pair fell in has m = 0 before shrinkage, not the starting value.
            m = _m_or_zero(level.get("m_probability"))
            level["m_probability"] = (m * n_pairs + prior_m * prior_pairs) / (n_pairs + prior_pairs)
            level["_evidence"] = m * n_pairs + prior_m * prior_pairs
            u = level.get("u_probability")
            # u comes from up to millions of random pairs: a level none of them fell in is rare, not unknown.
            u = U_FLOOR if u is None or (isinstance(u, float) and math.isnan(u)) else float(u)
            level["u_probability"] = max(u, U_FLOOR)
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        evidence = [lv.pop("_evidence") for lv in non_null]
        if comparison["output_column_name"] in ORDERED:
            monotone(non_null, evidence)
        for key in ("m_probability", "u_probability"):
            total = sum(lv[key] for lv in non_null)
            for lv in non_null:
                # 8 significant digits, not 8 decimals: u can be 5e-5, where 8 decimals would move
                # the weight by 1e-4 bits and break the monotone order of pooled levels.
                lv[key] = max(float(f"{lv[key] / total:.8g}"), 1e-8)
    return out


def monotone(levels: list[dict[str, Any]], evidence: list[float]) -> None:
    """Make match weights non-increasing from the closest level to the least, in place.

    Why: with a few dozen labelled pairs, m is noisy enough that "within 0.25 km" can come out
    weighing less than "within 0.5 km", which no analyst could defend.  Adjacent levels that break
    the order are pooled (pool-adjacent-violators, weighted by the labelled pairs behind each level)
    and m is set so each level's weight is its pool's; u, fitted on millions of pairs, is kept.
    """
    weights = [math.log2(lv["m_probability"] / lv["u_probability"]) for lv in levels]
    blocks: list[list[float]] = []  # [weight, evidence, count]
    for weight, mass in zip(weights, evidence, strict=True):
        blocks.append([weight, max(mass, 1e-9), 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            last = blocks.pop()
            prev = blocks[-1]
            total = prev[1] + last[1]
            blocks[-1] = [(prev[0] * prev[1] + last[0] * last[1]) / total, total, prev[2] + last[2]]
    pooled = [weight for weight, _, count in blocks for _ in range(int(count))]
    for level, weight in zip(levels, pooled, strict=True):
        level["m_probability"] = level["u_probability"] * 2.0 ** weight
