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
