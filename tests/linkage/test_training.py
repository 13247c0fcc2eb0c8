"""Training details that keep the model defensible: monotone levels, rarity tiers as of each case."""

from __future__ import annotations

import math

import numpy as np

from caselink.linkage.comparisons import ORDERED
from caselink.linkage.features import rarity_tiers
from caselink.linkage.model import load_model
from caselink.linkage.training import monotone


def _weights(levels: list[dict[str, float]]) -> list[float]:
    return [math.log2(lv["m_probability"] / lv["u_probability"]) for lv in levels]


def test_monotone_pools_levels_that_break_the_order() -> None:
    levels = [{"m_probability": 0.2, "u_probability": 0.01},   # 4.32 bits
              {"m_probability": 0.4, "u_probability": 0.01},   # 5.32: closer level weighs less
              {"m_probability": 0.1, "u_probability": 0.5}]
    monotone(levels, [1.0, 3.0, 1.0])
    w = _weights(levels)
    assert w[0] == w[1] and w[1] > w[2]
    assert abs(w[0] - (4.3219 * 1 + 5.3219 * 3) / 4) < 1e-3  # pooled by evidence
    assert levels[0]["u_probability"] == 0.01  # u is kept


def test_monotone_leaves_ordered_levels_alone() -> None:
    levels = [{"m_probability": 0.5, "u_probability": 0.01}, {"m_probability": 0.5, "u_probability": 0.99}]
    before = _weights(levels)
    monotone(levels, [5.0, 5.0])
    assert np.allclose(_weights(levels), before)


def test_shipped_model_is_monotone_on_ordered_comparisons() -> None:
    for comparison in load_model(None).splink_settings["comparisons"]:
        if comparison["output_column_name"] not in ORDERED:
            continue
        w = _weights([lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")])
        # the file keeps m and u to 8 significant digits, so pooled levels agree to about 1e-7 bits
        assert all(a >= b - 1e-6 for a, b in zip(w, w[1:], strict=False)), comparison["output_column_name"]


def test_rarity_tier_uses_only_earlier_cases() -> None:
    # 300 natural deaths, then a fire: rare as of its day; a second fire later is still rare;
    # a case with no cause recorded has tier 0.
    values: list[str | None] = ["natural"] * 300 + ["fire", None, "fire"]
    days = np.arange(len(values), dtype=float)
    tiers = rarity_tiers(days, values)
    assert tiers[0] == 1  # nothing known yet: the weak prior (2%) makes it uncommon, not rare
    assert tiers[299] == 0 and tiers[300] == 2 and tiers[301] == 0 and tiers[302] == 2


def _burglaries(n: int, seed: int = 3) -> list[dict[str, object]]:
    """``n`` burglaries over a 10 km square and a year, every fifth pair of them one offender's."""
    rng = np.random.default_rng(seed)
    codes = ["mo1_23", "mo1_24", "mo2_a", "mo2_b", "mo3_j", "mo3_e"]
    return [{"case_id": f"B{i:03d}", "incident_type": "non_fatal", "agency": "test",
             "found_at": f"1993-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00",
             "lat": round(39.29 + rng.uniform(0, 0.09), 6), "lon": round(-76.61 + rng.uniform(0, 0.12), 6),
             "mo": ";".join(rng.choice(codes, size=2, replace=False)),
             "series_id": f"S{i // 2}" if i % 5 == 0 or i % 5 == 1 else None} for i in range(n)]


def test_exact_u_counts_every_pair_of_a_small_store() -> None:
    """Splink stops counting u once each level has 100 pairs; exact_u must count all of them."""
    from caselink.linkage.comparison_sets import BURGLARY, DISTANCE_EDGES_KM, base_model
    from caselink.linkage.features import build_features, records_to_frame
    from caselink.linkage.training import train

    stored = records_to_frame(_burglaries(150))
    model = train(stored, base_model(BURGLARY), exact_u=True)
    features = build_features(stored)
    x, y = features["x_km"].to_numpy(dtype=float), features["y_km"].to_numpy(dtype=float)
    left, right = np.triu_indices(len(features), 1)
    distance = np.hypot(x[left] - x[right], y[left] - y[right])
    edges = list(DISTANCE_EDGES_KM)
    expected = np.bincount(np.searchsorted(edges, distance, side="left"), minlength=len(edges) + 1) / len(distance)
    levels = next(c for c in model.splink_settings["comparisons"] if c["output_column_name"] == "distance")
    fitted = [lv["u_probability"] for lv in levels["comparison_levels"] if not lv.get("is_null_level")]
    for got, want in zip(fitted, expected, strict=True):
        assert abs(got - max(want, 1e-6)) < 1e-6 + 1e-5 * want
    assert model.provenance["comparison_set"] == BURGLARY and "u" in model.provenance


def test_prior_pairs_sets_how_far_m_is_shrunk() -> None:
    from caselink.linkage.training import _smooth

    def comparison(m: list[float], u: list[float]) -> dict[str, object]:
        # victim_tags is not in ORDERED, so no pooling moves m after the shrinkage
        return {"output_column_name": "victim_tags", "comparison_levels": [
            {"sql_condition": "x IS NULL", "is_null_level": True},
            {"sql_condition": "x", "m_probability": m[0], "u_probability": u[0]},
            {"sql_condition": "ELSE", "m_probability": m[1], "u_probability": u[1]}]}

    fitted = {"comparisons": [comparison([0.8, 0.2], [0.1, 0.9])]}
    base = {"comparisons": [comparison([0.3, 0.7], [0.1, 0.9])]}

    def shrunk(prior_pairs: float) -> float:
        import copy
        out = _smooth(copy.deepcopy(fitted), base, 10, prior_pairs)
        return float(out["comparisons"][0]["comparison_levels"][1]["m_probability"])

    assert abs(shrunk(10.0) - 0.55) < 1e-6  # 10 labelled pairs at 0.8, 10 pseudo-pairs at 0.3
    assert abs(shrunk(1e6) - 0.3) < 1e-4 and abs(shrunk(1e-6) - 0.8) < 1e-4


def test_kernel_smooth_spreads_a_spike_to_its_neighbours_and_keeps_the_mass() -> None:
    from caselink.linkage.training import kernel_smooth

    raw = [0.0, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0]
    smoothed = kernel_smooth(raw, n_pairs=50)
    assert abs(sum(smoothed) - 1.0) < 1e-9
    assert smoothed[4] > 0.05 and smoothed[2] > 0.0 and smoothed[6] > 0.0  # neighbours get mass
    assert abs(smoothed[2] - smoothed[6]) < 1e-9  # symmetric spike pair, symmetric result
    many = kernel_smooth(raw, n_pairs=10**9)  # Scott's rule: more labelled pairs, narrower kernel
    assert many[3] > smoothed[3] and many[4] < smoothed[4]
    assert kernel_smooth([0.0, 0.0], 10) == [0.0, 0.0]


def test_smoothed_training_changes_only_the_named_comparisons() -> None:
    from caselink.linkage.comparison_sets import BURGLARY, base_model
    from caselink.linkage.features import records_to_frame
    from caselink.linkage.training import train

    stored = records_to_frame(_burglaries(80))
    base = base_model(BURGLARY)
    plain = train(stored, base, exact_u=True)
    smooth = train(stored, base, exact_u=True, smooth_levels=("distance",))

    def levels(model: object, name: str) -> list[dict[str, float]]:
        comparisons = model.splink_settings["comparisons"]  # type: ignore[attr-defined]
        return next(c for c in comparisons if c["output_column_name"] == name)["comparison_levels"]

    assert levels(plain, "mo") == levels(smooth, "mo") and levels(plain, "time_gap") == levels(smooth, "time_gap")
    assert levels(plain, "distance") != levels(smooth, "distance")
    assert smooth.provenance["m_kernel_smoothed"] == ["distance"]
