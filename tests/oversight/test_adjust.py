"""The adjusted ratios fitted on cells must equal the same regressions fitted case by case.

The cells are only a shortcut: point estimates *and* intervals must be those of the case-level
quasi-Poisson and least-squares fits the docs describe, and a group whose effect cannot be told
apart from a covariate's (every member in one stratum, the reference in another) has no adjusted
ratio at all.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from caselink.oversight.adjust import adjusted_hours_ratio, adjusted_rate_ratio
from caselink.oversight.stats import Z95


def _case_design(in_group: np.ndarray, codes: np.ndarray) -> np.ndarray:
    columns = [np.ones(len(in_group)), in_group.astype(float)]
    for j in range(codes.shape[1]):
        levels = np.unique(codes[:, j])
        columns.extend((codes[:, j] == level).astype(float) for level in levels[1:])
    return np.column_stack(columns)


def _data(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    in_group = rng.random(n) < 0.4
    codes = np.column_stack([rng.integers(0, 3, n), rng.integers(0, 2, n)])
    return in_group, codes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adjusted_rate_interval_is_the_case_level_quasi_poisson_one(seed: int) -> None:
    in_group, codes = _data(seed)
    rng = np.random.default_rng(seed + 10)
    events = (rng.random(len(in_group)) < np.where(in_group, 0.5, 0.25)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(events, _case_design(in_group, codes), family=sm.families.Poisson()).fit(scale="X2")
    coefficient, se = float(fit.params[1]), float(fit.bse[1])
    ratio, (low, high) = adjusted_rate_ratio(events, in_group, codes)  # type: ignore[misc]
    np.testing.assert_allclose(ratio, np.exp(coefficient), rtol=1e-6)
    np.testing.assert_allclose([low, high], np.exp([coefficient - Z95 * se, coefficient + Z95 * se]), rtol=1e-4)


@pytest.mark.parametrize("seed", [1, 2])
def test_adjusted_hours_interval_is_the_case_level_least_squares_one(seed: int) -> None:
    in_group, codes = _data(seed)
    rng = np.random.default_rng(seed + 20)
    hours = np.exp(rng.normal(np.where(in_group, 3.0, 2.0), 0.7))
    fit = sm.OLS(np.log(hours), _case_design(in_group, codes)).fit()
    coefficient, se = float(fit.params[1]), float(fit.bse[1])
    ratio, (low, high) = adjusted_hours_ratio(hours, in_group, codes)  # type: ignore[misc]
    np.testing.assert_allclose(ratio, np.exp(coefficient), rtol=1e-6)
    np.testing.assert_allclose([low, high], np.exp([coefficient - Z95 * se, coefficient + Z95 * se]), rtol=1e-4)


def test_a_group_confounded_with_a_covariate_has_no_adjusted_ratio() -> None:
    # Every member of the group is 25-34 and every reference case 45-54: holding age fixed leaves
    # nothing to compare, so any number printed would be an artefact of the solver.
    in_group = np.array([True] * 9 + [False] * 10)
    age_band = np.where(in_group, 0, 1)
    codes = np.column_stack([age_band, np.zeros(len(in_group), dtype=int)])
    hours = np.array([41, 42, 43, 44, 45, 46, 47, 48, 49, *range(2, 12)], dtype=float)
    events = np.array([1] * 7 + [0] * 2 + [1] * 2 + [0] * 8, dtype=float)
    assert adjusted_hours_ratio(hours, in_group, codes) is None
    assert adjusted_rate_ratio(events, in_group, codes) is None
