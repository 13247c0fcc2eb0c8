"""The shared Monte Carlo engine and significance helper."""

from __future__ import annotations

import numpy as np
import pytest

from caselink.scan.engine import pseudo_p_value, simulate


def test_pseudo_p_value_is_m_plus_one_over_r_plus_one() -> None:
    simulated = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(pseudo_p_value([0.5, 2.0, 9.0], simulated), [5 / 5, 4 / 5, 1 / 5])


def _score(rng: np.random.Generator) -> float:
    return float(rng.permutation(10)[0])


@pytest.mark.parametrize("jobs", [1, 2])
def test_simulate_is_seeded_and_independent_of_workers(jobs: int) -> None:
    expected = simulate(_score, 25, seed=9, n_jobs=1)
    np.testing.assert_array_equal(simulate(_score, 25, seed=9, n_jobs=jobs), expected)
    assert len(expected) == 25 and not np.array_equal(expected, simulate(_score, 25, seed=10, n_jobs=1))
