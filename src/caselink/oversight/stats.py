"""The tests behind the disparity table: each compares one group with a reference group.

Three kinds of metric, three exact (or permutation) tests, chosen so that the analysis of 100,000
cases stays fast and the false-flag rate on data without a difference stays at or below nominal:

* a **rate** (share of cases with an event): risk ratio with Katz's log interval, Fisher's exact
  test;
* a **median** (hours to something): ratio of medians with Bonett and Price's order-statistic
  interval, and an exact permutation test of the group's median computed from the hypergeometric
  distribution (no Monte Carlo: conditional on the pooled values, the chance that a random subset
  of the group's size has its median at or beyond the observed one is a hypergeometric tail);
* a **mean** of per-case shares: ratio of means with a delta-method interval, and a Monte Carlo
  permutation test (pseudo-p = (M + 1) / (R + 1)) that draws the permuted group's values as a
  multivariate hypergeometric sample over the distinct values, so its cost does not grow with n.

p-values across every comparison of one analysis are adjusted with Benjamini and Hochberg's
step-up procedure (:func:`benjamini_hochberg`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Comparison:
    """One group against its reference: the values, the ratio and how sure we are of it."""

    value_group: float | None
    value_reference: float | None
    ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def compare_rates(events_group: int, n_group: int, events_reference: int, n_reference: int) -> Comparison:
    """Share of the group with the event over the reference's share; Fisher's exact two-sided p."""
    rate_g = events_group / n_group
    rate_r = events_reference / n_reference
    table = [[events_group, n_group - events_group], [events_reference, n_reference - events_reference]]
    p_value = float(stats.fisher_exact(table).pvalue)
    if rate_r == 0 and rate_g == 0:
        return Comparison(rate_g, rate_r, None, None, p_value)
    # Katz log interval; with a zero cell of the 2x2 table add 0.5 to every cell (Haldane): with no
    # events the interval would not exist, with no non-events that side's variance term would vanish.
    a, b, c, d = float(events_group), float(n_group), float(events_reference), float(n_reference)
    if a == 0 or c == 0 or a == b or c == d:
        a, b, c, d = a + 0.5, b + 1.0, c + 0.5, d + 1.0
    log_ratio = math.log((a / b) / (c / d))
    se = math.sqrt(max(1 / a - 1 / b + 1 / c - 1 / d, 0.0))
    ratio = rate_g / rate_r if rate_r > 0 else None
    ci = (math.exp(log_ratio - Z95 * se), math.exp(log_ratio + Z95 * se))
    return Comparison(rate_g, rate_r, ratio, ci, p_value)


def _log_median_se(sorted_values: np.ndarray) -> float | None:
    """Bonett and Price (2002): the standard error of a log median from two order statistics."""
    n = len(sorted_values)
    c = max(1, int(round((n + 1) / 2 - math.sqrt(n))))
    lower, upper = sorted_values[c - 1], sorted_values[n - c]
    if lower <= 0 or upper <= 0:
        return None
    tail = 2 * stats.binom.cdf(c - 1, n, 0.5)
    z = stats.norm.ppf(1 - tail / 2) if tail < 1 else 0.0
    if z <= 0:
        return None
    return (math.log(upper) - math.log(lower)) / (2 * z)


def median_permutation_p(group: np.ndarray, reference: np.ndarray) -> float:
    """Exact two-sided permutation p-value of the group's (lower) median among the pooled values.

    Under the null the group is a random subset of the pooled cases; its lower median L is at or
    below x exactly when at least k = ceil(n/2) of its members are, a hypergeometric event.
    """
    pooled = np.sort(np.concatenate([group, reference]))
    total, size = len(pooled), len(group)
    k = (size + 1) // 2
    observed = np.sort(group)[k - 1]
    n_at_or_below = int(np.searchsorted(pooled, observed, side="right"))
    n_below = int(np.searchsorted(pooled, observed, side="left"))
    p_low = float(stats.hypergeom.sf(k - 1, total, n_at_or_below, size))   # P(L <= observed)
    p_high = float(stats.hypergeom.cdf(k - 1, total, n_below, size))       # P(L >= observed)
    return min(1.0, 2 * min(p_low, p_high))


def compare_medians(group: np.ndarray, reference: np.ndarray) -> Comparison:
    """Ratio of medians (hours): exact permutation p, Bonett–Price interval on the log scale."""
    group = np.sort(np.asarray(group, dtype=float))
    reference = np.sort(np.asarray(reference, dtype=float))
    median_g, median_r = float(np.median(group)), float(np.median(reference))
    p_value = median_permutation_p(group, reference)
    if median_g <= 0 or median_r <= 0:
        # A zero median against a positive one is a ratio of 0 (as for rates); its log interval does not exist.
        return Comparison(median_g, median_r, 0.0 if median_g == 0 < median_r else None, None, p_value)
    ratio = median_g / median_r
    se_g, se_r = _log_median_se(group), _log_median_se(reference)
    ci = None
    if se_g is not None and se_r is not None:
        half = Z95 * math.sqrt(se_g ** 2 + se_r ** 2)
        ci = (ratio * math.exp(-half), ratio * math.exp(half))
    return Comparison(median_g, median_r, ratio, ci, p_value)


def mean_permutation_p(group: np.ndarray, reference: np.ndarray, permutations: int,
                       rng: np.random.Generator) -> float:
    """Monte Carlo permutation p-value (two-sided) of the difference in means.

    The statistic is the group's sum (the pooled total is fixed).  Permuted sums are drawn as
    multivariate hypergeometric counts over the distinct pooled values, which is exactly a random
    subset of the group's size, at a cost of O(distinct values) per permutation.
    """
    pooled = np.concatenate([group, reference])
    distinct, counts = np.unique(pooled, return_counts=True)
    size = len(group)
    expected = size * pooled.mean()
    observed = abs(group.sum() - expected)
    exceed = 0
    done = 0
    chunk = max(1, min(permutations, 2_000_000 // max(len(distinct), 1)))
    while done < permutations:
        n_draws = min(chunk, permutations - done)
        if len(distinct) <= 5000:
            draws = rng.multivariate_hypergeometric(counts, size, size=n_draws)
            sums = draws @ distinct
        else:
            sums = np.array([pooled[rng.choice(len(pooled), size, replace=False)].sum() for _ in range(n_draws)])
        # A tolerance so that permuted sums equal to the observed one (up to rounding) count as extreme.
        exceed += int(np.count_nonzero(np.abs(sums - expected) >= observed - 1e-9 * max(1.0, observed)))
        done += n_draws
    return (exceed + 1) / (permutations + 1)


def compare_means(group: np.ndarray, reference: np.ndarray, permutations: int,
                  rng: np.random.Generator) -> Comparison:
    """Ratio of means of per-case shares: delta-method log interval, permutation p."""
    group = np.asarray(group, dtype=float)
    reference = np.asarray(reference, dtype=float)
    mean_g, mean_r = float(group.mean()), float(reference.mean())
    p_value = mean_permutation_p(group, reference, permutations, rng)
    if mean_g <= 0 or mean_r <= 0:
        # A zero mean against a positive one is a ratio of 0 (as for rates); its log interval does not exist.
        return Comparison(mean_g, mean_r, 0.0 if mean_g == 0 < mean_r else None, None, p_value)
    ratio = mean_g / mean_r
    var_log = (group.var(ddof=1) / (len(group) * mean_g ** 2) if len(group) > 1 else 0.0) + \
        (reference.var(ddof=1) / (len(reference) * mean_r ** 2) if len(reference) > 1 else 0.0)
    half = Z95 * math.sqrt(var_log)
    return Comparison(mean_g, mean_r, ratio, (ratio * math.exp(-half), ratio * math.exp(half)), p_value)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg q-values (step-up, monotone, capped at 1), in the input order."""
    m = len(p_values)
    if m == 0:
        return []
    order = np.argsort(p_values)
    ranked = np.asarray(p_values, dtype=float)[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q_values = np.empty(m)
    q_values[order] = np.minimum(ranked, 1.0)
    return [float(q) for q in q_values]
