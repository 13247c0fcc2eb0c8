"""Fit a model's prior to *this* store, from how many series each prior would raise.

Why: a match probability is only as calibrated as the world its m, u and prior were fitted in.  The
shipped model's 0.90 was chosen on ``caselink.demo``'s stores, whose records carry narratives and
scene flags; on records that say less (no narrative, few flags) every pair carries less evidence, the
ranking stays right but no pair reaches 0.90, and nothing is ever alerted (BENCHMARKS.md, "Another
generator").  The prior (the share of pairs that are linked) is the one parameter no unlabelled store can
estimate, and what an analyst can afford is a number of alerts.  So the prior is set by an *alert
budget*: shifted, in whole bits of log-odds, as far as a replay of the store in found order keeps to
at most ``budget`` false series per 1,000 cases at the model's own threshold.  The threshold keeps its
meaning (0.90 is still "90% probable under this store's prior").  Without labels every series counts
as false, which over-counts (the store's real series are in it too), so the prior is never shifted
past what the budget allows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from caselink.linkage.evaluate import series_timing
from caselink.linkage.features import build_features
from caselink.linkage.model import LinkageModel
from caselink.linkage.pipeline import Corroboration
from caselink.linkage.scoring import Scorer

# Shifts of the prior tried, in bits of log-odds (+ alerts more, - alerts less).
SHIFTS = tuple(float(b) for b in range(-8, 17))
MIN_CASES = 500  # below this a count per 1,000 cases says too little to move anything


class CalibrationError(Exception):
    """The store cannot calibrate the prior; the message says why and what to do."""


@dataclass(frozen=True)
class ShiftRow:
    shift_bits: float
    prior: float
    series: int
    false_series: int
    per_1000: float


def _logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))


def _inverse_logit2(x: float) -> float:
    return 1.0 / (1.0 + 2.0 ** -x)


def shift_table(stored: pd.DataFrame, model: LinkageModel, labelled: bool,
                shifts: Sequence[float] = SHIFTS) -> list[ShiftRow]:
    """Replay the store once per prior shift: series raised, and those false (all of them unless
    ``labelled``) per 1,000.

    Shifting the prior by Δ bits moves every pair's log-odds by Δ, which is the same as moving the
    series threshold the other way; scoring runs once, down to the lowest threshold any shift reads.
    """
    features = build_features(stored)
    logit_threshold = _logit2(model.series_threshold)
    floor = _inverse_logit2(logit_threshold - max(shifts))
    scorer = Scorer(model, features, keep_labels=labelled)
    try:
        pairs = scorer.predict_all(threshold=floor)
    finally:
        scorer.close()
    if not labelled:
        features = features.assign(series_id=None)
    corroboration = Corroboration.of(model)
    rows = []
    for shift in sorted(shifts):
        threshold = _inverse_logit2(logit_threshold - shift)
        rule = None if corroboration is None else Corroboration(
            _inverse_logit2(_logit2(corroboration.threshold) - shift), corroboration.prior_weight)
        timing, false_series = series_timing(features, pairs, threshold, rule)
        true_series = sum(1 for r in timing if r["alerted_at_member"])
        rows.append(ShiftRow(shift, _inverse_logit2(model.prior_weight + shift), false_series + true_series,
                             false_series, round(1000.0 * false_series / len(features), 3)))
    return rows


def choose_shift(rows: list[ShiftRow], budget: float, labelled: bool) -> ShiftRow:
    """The largest shift within budget, with every smaller shift within it too.

    Why "every smaller shift": false series do not always grow with the shift (two false pairs can
    merge into one series), and a shift that only happens to sit in such a dip would not stay within
    budget as the store grows.  Without labels the shift is never negative: every series counts as
    false there, the store's real ones included, and raising the bar on that count could silence them.
    """
    ordered = sorted(rows, key=lambda r: r.shift_bits)
    start = 0 if labelled else next(i for i, r in enumerate(ordered) if r.shift_bits == 0.0)
    chosen = None
    for row in ordered[start:]:
        if row.per_1000 > budget:
            if chosen is None and labelled:
                continue  # still above budget: try a smaller raise of the bar
            break
        chosen = row
    if chosen is None:
        if not labelled:
            return ordered[start]
        raise CalibrationError(f"even {abs(ordered[0].shift_bits):g} bits against a link this store raises "
                               f"{ordered[0].per_1000} false series per 1,000 cases, over the budget of "
                               f"{budget}; raise --alert-budget")
    return chosen


def calibrate(stored: pd.DataFrame, model: LinkageModel, budget: float, shifts: Sequence[float] = SHIFTS
              ) -> tuple[LinkageModel, list[ShiftRow], ShiftRow]:
    """``model`` with the prior this store's alert budget allows, the table behind it, and its chosen row."""
    if len(stored) < MIN_CASES:
        raise CalibrationError(f"{len(stored)} cases: an alert budget per 1,000 cases needs at least "
                               f"{MIN_CASES}; calibrate on a larger history, or keep the model's prior")
    labelled = "series_id" in stored and bool(stored["series_id"].notna().any())
    rows = shift_table(stored, model, labelled, shifts)
    chosen = choose_shift(rows, budget, labelled)
    settings = json.loads(json.dumps(model.splink_settings))
    settings["probability_two_random_records_match"] = chosen.prior
    provenance = dict(model.provenance)
    started = provenance.get("prior", "the starting model's")
    provenance["prior"] = (f"{started}, then shifted {chosen.shift_bits:+g} bits: "
                           f"the largest shift at which replaying these {len(stored)} cases in found order "
                           f"raises at most {budget} false series per 1,000 cases at threshold "
                           f"{model.series_threshold}"
                           + ("" if labelled else " (no labelled series: every series counted as false, "
                              "and the prior never lowered)"))
    return model.model_copy(update={"splink_settings": settings, "provenance": provenance}), rows, chosen
