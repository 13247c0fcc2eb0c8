"""The statistics behind the disparity table, pinned against independent computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from statsmodels.stats.multitest import multipletests

from caselink.oversight.stats import (
    benjamini_hochberg,
    compare_medians,
    compare_rates,
    mean_permutation_p,
    median_permutation_p,
)


def test_benjamini_hochberg_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    p_values = list(np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 30)]))
    expected = multipletests(p_values, method="fdr_bh")[1]
    assert_allclose(benjamini_hochberg(p_values), expected, rtol=1e-12)


def test_rate_comparison_is_fisher_with_katz_interval() -> None:
    result = compare_rates(30, 50, 40, 200)
    assert result.ratio == pytest.approx((30 / 50) / (40 / 200))
    assert result.p_value == pytest.approx(stats.fisher_exact([[30, 20], [40, 160]]).pvalue)
    se = np.sqrt(1 / 30 - 1 / 50 + 1 / 40 - 1 / 200)
    assert result.ci == pytest.approx((3.0 * np.exp(-1.959964 * se), 3.0 * np.exp(1.959964 * se)), rel=1e-5)


def _enumerated_median_p(group: np.ndarray, reference: np.ndarray) -> float:
    """Two-sided p of the group's lower median by enumerating every possible group."""
    pooled = np.concatenate([group, reference])
    k = (len(group) + 1) // 2
    observed = np.sort(group)[k - 1]
    medians = np.array([np.sort(pooled[list(idx)])[k - 1]
                        for idx in itertools.combinations(range(len(pooled)), len(group))])
    return min(1.0, 2 * min(np.mean(medians <= observed), np.mean(medians >= observed)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_median_p_equals_full_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 12, 5).astype(float)  # ties on purpose
    reference = rng.integers(0, 12, 9).astype(float) + seed - 2
    assert median_permutation_p(group, reference) == pytest.approx(_enumerated_median_p(group, reference))


def test_mean_permutation_p_agrees_with_enumeration() -> None:
    rng = np.random.default_rng(5)
    group = np.round(rng.uniform(0, 1, 6), 2)
    reference = np.round(rng.uniform(0.2, 1, 8), 2)
    pooled = np.concatenate([group, reference])
    expected_sum = len(group) * pooled.mean()
    observed = abs(group.sum() - expected_sum)
    sums = np.array([pooled[list(idx)].sum() for idx in itertools.combinations(range(len(pooled)), len(group))])
    exact = np.mean(np.abs(sums - expected_sum) >= observed - 1e-9)
    estimate = mean_permutation_p(group, reference, 4999, np.random.default_rng(0))
    assert estimate == pytest.approx(exact, abs=0.02)


def test_median_ratio_interval_covers_the_truth_and_shrinks_with_n() -> None:
    rng = np.random.default_rng(11)
    small = compare_medians(rng.lognormal(np.log(20), 0.5, 40), rng.lognormal(np.log(10), 0.5, 40))
    large = compare_medians(rng.lognormal(np.log(20), 0.5, 4000), rng.lognormal(np.log(10), 0.5, 4000))
    for result in (small, large):
        assert result.ci is not None and result.ci[0] < 2.0 < result.ci[1]
    assert large.ci is not None and small.ci is not None
    assert large.ci[1] - large.ci[0] < (small.ci[1] - small.ci[0]) / 3


def test_a_group_with_nothing_on_time_has_ratio_zero_like_a_rate() -> None:
    # No step of the group's done on time against some of the reference's: the ratio of means is 0,
    # the starkest disparity there is, and must read as 0 (as a rate of 0 does), not as "no ratio".
    from caselink.oversight.stats import compare_means

    reference = np.array([1 / 15] * 10 + [0.0, 0.0])
    means = compare_means(np.zeros(12), reference, 199, np.random.default_rng(0))
    assert means.ratio == 0.0 and means.value_group == 0.0
    assert compare_rates(0, 12, 5, 12).ratio == 0.0
    medians = compare_medians(np.zeros(6), np.array([2.0, 3, 4, 5, 6, 7]))
    assert medians.ratio == 0.0
    # Nothing to divide by: no ratio.
    assert compare_means(np.array([0.5] * 6), np.zeros(6), 199, np.random.default_rng(0)).ratio is None


def test_a_group_where_everyone_had_the_event_gets_a_corrected_interval() -> None:
    # 10 of 10 against 2,284 of 2,417: Katz's variance loses the group's term (1/a - 1/b = 0), so the
    # interval came out [1.048, 1.069] - as narrow as for 122 of 122, and excluding 1 while Fisher's
    # p is 1.0.  A zero cell in the 2x2 table (no non-events) takes Haldane's 0.5, as a zero event count does.
    result = compare_rates(10, 10, 2284, 2417)
    assert result.p_value == pytest.approx(1.0)
    assert result.ratio == pytest.approx(1.0 / (2284 / 2417))
    assert result.ci is not None and result.ci[0] < 1.0 < result.ci[1]
    a, b, c, d = 10.5, 11.0, 2284.5, 2418.0
    se = np.sqrt(1 / a - 1 / b + 1 / c - 1 / d)
    log_ratio = np.log((a / b) / (c / d))
    assert result.ci == pytest.approx((np.exp(log_ratio - 1.959964 * se), np.exp(log_ratio + 1.959964 * se)),
                                      rel=1e-5)
