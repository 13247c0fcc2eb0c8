"""The one Monte Carlo engine every scan statistic uses, and the one significance helper.

A statistic hands over a function that scores one replicate given a random generator; the engine
runs it ``permutations`` times, reproducibly for a seed whatever the number of worker processes
(each replicate gets its own generator, spawned from ``numpy.random.default_rng(seed)``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

__all__ = ["pseudo_p_value", "simulate"]

ReplicateScore = Callable[[np.random.Generator], float]

_SCORE: ReplicateScore | None = None  # the function forked workers run (set before the pool starts)


def pseudo_p_value(observed: float | np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """(M + 1) / (R + 1), M = replicates scoring at least ``observed`` (a relative 1e-10 tie band)."""
    simulated = np.asarray(simulated, dtype=float)
    obs = np.atleast_1d(np.asarray(observed, dtype=float))
    cutoff = obs - 1e-10 * np.abs(obs)
    at_least = (simulated[None, :] >= cutoff[:, None]).sum(axis=1)
    return (at_least + 1) / (len(simulated) + 1)


def _replicate_seeds(permutations: int, seed: int | None) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(permutations) if seed is not None else \
        np.random.SeedSequence().spawn(permutations)


def _run_chunk(seeds: list[np.random.SeedSequence]) -> list[float]:
    assert _SCORE is not None
    return [float(_SCORE(np.random.default_rng(s))) for s in seeds]


def simulate(score: ReplicateScore, permutations: int, seed: int | None = None,
             n_jobs: int | None = None) -> np.ndarray:
    """Scores of ``permutations`` replicates, in replicate order.

    ``n_jobs`` > 1 forks worker processes (on platforms that can fork); the answer does not depend on it.
    """
    global _SCORE
    if permutations <= 0:
        return np.zeros(0)
    seeds = _replicate_seeds(permutations, seed)
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    jobs = max(1, min(jobs, permutations))
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return np.array([float(score(np.random.default_rng(s))) for s in seeds])
    # contiguous chunks, several per worker, so a slow chunk does not leave a core idle
    n_chunks = jobs * 4
    bounds = np.linspace(0, permutations, n_chunks + 1).astype(int)
    chunks = [seeds[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    _SCORE = score
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_run_chunk, chunks))
    finally:
        _SCORE = None
    return np.array([value for chunk in results for value in chunk])
