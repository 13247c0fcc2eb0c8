"""Disparity analysis: does investigative effort differ between victim groups?

For each metric of effort and each victim group against a reference group: the rate or median in
both, their ratio with a 95% interval, an exact or permutation p-value, a Benjamini–Hochberg
q-value across every comparison made, and the ratio adjusted for cause, place type and age.
A comparison is flagged when its q-value is below ``alpha``.  Groups (and references) with fewer
than :data:`MIN_CELL` cases for a metric are suppressed: never printed, only counted.

The JSON form (contract, issue 7): ``{"metrics": [{"metric", "group", "reference", "n_group",
"n_reference", "value_group", "value_reference", "ratio", "ci", "p_value", "q_value",
"adjusted_ratio", "flag"}]}``; each row also carries ``statistic`` and ``adjusted_ci``, and the
document ``by``, ``period``, ``alpha``, ``n_suppressed`` and ``n_erased`` (cases left out of every group
because the field grouped by was erased).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from caselink.oversight.adjust import adjusted_hours_ratio, adjusted_rate_ratio, encode_covariates
from caselink.oversight.errors import OversightError
from caselink.oversight.measures import Measures
from caselink.oversight.stats import Comparison, benjamini_hochberg, compare_means, compare_medians, compare_rates
from caselink.schema import PERSONAL_FIELDS

MIN_CELL = 5
GROUPINGS = ("victim_tags", "victim_ethnicity", "victim_sex", "age_band")
NO_TAG = "none"
UNRECORDED = "unrecorded"
COVARIATES = ("cause", "place_type", "age_band")
#: Groupings drawn from fields erasure blanks: an erased case's value is unknown, not "none"/"unrecorded".
ERASED_GROUPINGS = tuple(name for name in GROUPINGS if name in PERSONAL_FIELDS)


@dataclass(frozen=True)
class Metric:
    name: str
    statistic: str  # rate, median or mean
    column: str
    unit: str  # cases or alerts
    label: str


METRICS = (
    Metric("first_classified_not_suspicious", "rate", "not_suspicious_first", "cases",
           "Share first classified unexpected, not suspicious"),
    Metric("hours_to_first_classification", "median", "hours_to_classification", "cases",
           "Median hours from report to first classification"),
    Metric("steps_completed_on_time", "mean", "on_time_share", "cases",
           "Share of checklist steps completed on time (mean per case)"),
    Metric("referred_to_homicide_team", "rate", "referred", "cases", "Share referred to the homicide team"),
    Metric("alerts_dismissed", "rate", "dismissed", "alerts", "Share of linkage alerts dismissed"),
    Metric("hours_to_next_of_kin", "median", "hours_to_next_of_kin", "cases",
           "Median hours from report to informing the next of kin"),
)


def group_masks(cases: pd.DataFrame, by: str) -> dict[str, np.ndarray]:
    """Each group's members as a boolean mask over ``cases`` (a case has every tag it carries).

    Erased cases (column ``erased``) are in no group of a grouping drawn from an erased field: their blank
    tags or ethnicity were removed, not unrecorded, and counting them as 'none' would swell the reference.
    """
    masks = _group_masks(cases, by)
    if by in ERASED_GROUPINGS and "erased" in cases:
        kept = ~cases["erased"].to_numpy(dtype=bool)
        masks = {name: mask & kept for name, mask in masks.items()}
        masks = {name: mask for name, mask in masks.items() if mask.any()}
    return masks


def n_erased(cases: pd.DataFrame, by: str) -> int:
    """How many cases :func:`group_masks` leaves out of every group because they were erased."""
    return int(cases["erased"].sum()) if by in ERASED_GROUPINGS and "erased" in cases else 0


def _group_masks(cases: pd.DataFrame, by: str) -> dict[str, np.ndarray]:
    if by not in GROUPINGS:
        raise OversightError(f"--by: '{by}' is not a grouping field; use one of {', '.join(GROUPINGS)}")
    if by == "victim_tags":
        tags = cases["victim_tags"].map(lambda value: tuple(value or ()))
        masks = {NO_TAG: tags.map(len).eq(0).to_numpy()}
        for tag in sorted({t for row in tags for t in row}):
            masks[tag] = tags.map(lambda row, tag=tag: tag in row).to_numpy()
        return masks
    values = cases[by].astype("object").where(cases[by].notna(), UNRECORDED).astype(str)
    return {name: (values == name).to_numpy() for name in sorted(values.unique())}


def default_reference(masks: dict[str, np.ndarray], by: str) -> str:
    """No tag for ``victim_tags``; otherwise the largest recorded group."""
    if by == "victim_tags":
        return NO_TAG
    recorded = {name: int(mask.sum()) for name, mask in masks.items() if name != UNRECORDED} or \
        {name: int(mask.sum()) for name, mask in masks.items()}
    return max(sorted(recorded), key=lambda name: recorded[name])


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def analyse(measures: Measures, by: str = "victim_tags", reference: str | None = None, *, alpha: float = 0.05,
            permutations: int = 1999, seed: int = 0, adjust: bool = True) -> dict[str, Any]:
    """The disparity table for ``measures`` grouped by ``by``; OversightError on a bad request."""
    cases = measures.cases
    masks = group_masks(cases, by)
    reference = reference if reference is not None else default_reference(masks, by)
    shown = sorted(name for name, mask in masks.items() if mask.sum() >= MIN_CELL)
    # "none" is also the tag grouping's reference group, so an empty choice is said in words.
    choices = f"choose one of: {', '.join(shown)}" if shown else \
        f"no group has {MIN_CELL} or more cases in this period; widen --from/--to"
    if reference not in masks or masks[reference].sum() == 0:
        raise OversightError(f"--reference: group '{reference}' has no cases in the period "
                             f"{measures.period.describe()}; {choices}")
    if masks[reference].sum() < MIN_CELL:
        raise OversightError(f"--reference: group '{reference}' has fewer than {MIN_CELL} cases in the period "
                             f"(suppressed); {choices}")
    rng = np.random.default_rng(seed)
    alert_rows = measures.alerts.merge(cases[["case_id"]].reset_index(), on="case_id", how="inner")
    alert_case_index = alert_rows["index"].to_numpy()
    covariates = [c for c in COVARIATES if c != by]
    case_codes = encode_covariates(cases[covariates]) if adjust else np.zeros((len(cases), 0), dtype=int)
    rows: list[dict[str, Any]] = []
    n_suppressed = 0
    for metric in METRICS:
        if metric.unit == "cases":
            values = cases[metric.column].to_numpy(dtype=float)
            codes = case_codes
            unit_masks = masks
        else:
            values = alert_rows[metric.column].to_numpy(dtype=float)
            codes = case_codes[alert_case_index]
            unit_masks = {name: mask[alert_case_index] for name, mask in masks.items()}
        present = ~np.isnan(values)
        for group in sorted(masks):
            if group == reference:
                continue
            in_group = unit_masks[group] & present
            in_reference = unit_masks[reference] & ~unit_masks[group] & present
            n_group, n_reference = int(in_group.sum()), int(in_reference.sum())
            if n_group < MIN_CELL or n_reference < MIN_CELL:
                n_suppressed += 1
                continue
            comparison = _compare(metric, values[in_group], values[in_reference], permutations, rng)
            adjusted = None
            if adjust:
                both = in_group | in_reference
                fit = adjusted_hours_ratio if metric.statistic == "median" else adjusted_rate_ratio
                adjusted = fit(values[both], in_group[both], codes[both])
            rows.append({
                "metric": metric.name, "group": group, "reference": reference, "n_group": n_group,
                "n_reference": n_reference, "value_group": _round(comparison.value_group),
                "value_reference": _round(comparison.value_reference), "ratio": _round(comparison.ratio),
                "ci": [_round(comparison.ci[0]), _round(comparison.ci[1])] if comparison.ci else None,
                "p_value": comparison.p_value, "q_value": None,
                "adjusted_ratio": _round(adjusted[0]) if adjusted else None,
                "adjusted_ci": [_round(adjusted[1][0]), _round(adjusted[1][1])] if adjusted else None,
                "statistic": metric.statistic, "flag": False,
            })
    q_values = benjamini_hochberg([row["p_value"] for row in rows])
    for row, q_value in zip(rows, q_values, strict=True):
        row["q_value"] = _round(q_value, 6)
        row["p_value"] = _round(row["p_value"], 6)
        row["flag"] = bool(q_value < alpha)
    return {"by": by, "reference": reference, "period": measures.period.describe(), "alpha": alpha,
            "n_cases": int(len(cases)), "n_suppressed": n_suppressed, "n_erased": n_erased(cases, by),
            "metrics": rows}


def _compare(metric: Metric, group: np.ndarray, reference: np.ndarray, permutations: int,
             rng: np.random.Generator) -> Comparison:
    if metric.statistic == "rate":
        return compare_rates(int(group.sum()), len(group), int(reference.sum()), len(reference))
    if metric.statistic == "median":
        return compare_medians(group, reference)
    return compare_means(group, reference, permutations, rng)


def metric_label(name: str) -> str:
    return next((m.label for m in METRICS if m.name == name), name)
