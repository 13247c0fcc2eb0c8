"""The space-time permutation scan against a brute-force reference, and its bad-input contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselink.scan import permutation
from caselink.scan.permutation import ScanInputError, SpaceTimePermutationScan, _ReplicateScorer
from caselink.scan.pruning import BlockFilter
from tests.scan.reference import brute_force_max, random_cases


def _days(offsets: np.ndarray) -> np.ndarray:
    return np.datetime64("2020-01-01") + offsets.astype("timedelta64[D]")


@settings(max_examples=25)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 40), sites=st.integers(2, 8), n_days=st.integers(2, 12),
       max_km=st.sampled_from([0.5, 2.0, 6.0]), max_days=st.integers(1, 5), prospective=st.booleans())
def test_most_likely_cluster_matches_brute_force(seed: int, n: int, sites: int, n_days: int, max_km: float,
                                                 max_days: int, prospective: bool) -> None:
    lat, lon, day = random_cases(seed, n, sites, n_days)
    if len(np.unique(day)) < 2 or len(np.unique(np.c_[lat, lon], axis=0)) < 2:
        return
    expected = brute_force_max(list(zip(lat.tolist(), lon.tolist(), strict=True)), day.tolist(), max_km,
                               max_days, prospective=prospective)
    scan = SpaceTimePermutationScan(max_radius_km=max_km, max_days=max_days, permutations=0,
                                    prospective=prospective)
    scan.fit(lat=lat, lon=lon, day=_days(day))
    got = scan.clusters_[0].llr if scan.clusters_ else 0.0
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), threshold=st.floats(0.5, 6.0), n_blocks=st.sampled_from([8, 16]))
def test_pruning_is_exact_at_and_above_its_threshold(seed: int, threshold: float, n_blocks: int) -> None:
    """Replicate maxima with the block filter equal those from scoring every cylinder."""
    lat, lon, day = random_cases(seed, 120, 25, 30)
    scan = SpaceTimePermutationScan(max_radius_km=2.0, max_days=4, permutations=0)
    prep = scan._prepare(None, lat, lon, _days(day), None, None, None, None, None, None)
    total = len(day)
    block = BlockFilter(prep.zones, prep.windows, prep.case_location, total, 2, n_blocks=n_blocks)
    block.set_threshold(threshold)
    pruned = _ReplicateScorer(prep, total, 2, block)
    full = _ReplicateScorer(prep, total, 2, None)
    for rep in range(5):
        a, b = pruned(np.random.default_rng(rep)), full(np.random.default_rng(rep))
        if b >= threshold:
            assert a == pytest.approx(b, rel=1e-12)
        else:
            assert a <= b + 1e-12


def test_pruned_and_full_paths_find_the_same_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    lat, lon, day = random_cases(7, 400, 60, 60)
    lat, lon, day = np.r_[lat, [51.52] * 6], np.r_[lon, [-0.05] * 6], np.r_[day, [30] * 6]
    kwargs = dict(max_radius_km=1.5, max_days=5, permutations=49, seed=3, n_jobs=1, max_clusters=4)
    full = SpaceTimePermutationScan(**kwargs).fit(lat=lat, lon=lon, day=_days(day))
    monkeypatch.setattr(permutation, "_SMALL", 0)
    pruned = SpaceTimePermutationScan(**kwargs).fit(lat=lat, lon=lon, day=_days(day))
    assert [c.llr for c in pruned.clusters_] == pytest.approx([c.llr for c in full.clusters_], rel=1e-12)
    assert [c.p_value for c in pruned.clusters_] == [c.p_value for c in full.clusters_]
    assert pruned.threshold_ > 0 and full.threshold_ == 0


def test_planted_cluster_is_found_and_significant() -> None:
    lat, lon, day = random_cases(1, 300, 40, 90)
    lat, lon, day = np.r_[lat, [51.53] * 7], np.r_[lon, [-0.06] * 7], np.r_[day, [45, 45, 46, 46, 46, 47, 47]]
    ids = [f"c{i}" for i in range(len(day))]
    frame = pd.DataFrame({"case_id": ids, "lat": lat, "lon": lon, "found_at": pd.to_datetime(_days(day))})
    scan = SpaceTimePermutationScan(max_radius_km=1.0, max_days=3, permutations=199, seed=11, n_jobs=1)
    top = scan.fit(frame).clusters_[0]
    assert {f"c{i}" for i in range(300, 307)} <= set(top.case_ids)
    assert top.p_value is not None and top.p_value <= 0.01
    assert top.observed == len(top.case_ids)
    assert top.to_dict()["start"] == "2020-02-15"


def test_seed_makes_results_reproducible_whatever_the_workers() -> None:
    lat, lon, day = random_cases(2, 150, 20, 40)
    runs = [SpaceTimePermutationScan(max_radius_km=2.0, max_days=3, permutations=40, seed=5, n_jobs=jobs)
            .fit(lat=lat, lon=lon, day=_days(day)).simulated_llr_ for jobs in (1, 2, 1)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def test_weekly_aggregation_counts_whole_weeks_back_from_the_end() -> None:
    lat, lon, day = random_cases(4, 200, 30, 70)
    scan = SpaceTimePermutationScan(max_radius_km=2.0, max_days=14, permutations=0, time_aggregation="week")
    top = scan.fit(lat=lat, lon=lon, day=_days(day), end=np.datetime64("2020-03-10")).clusters_[0]
    assert (np.datetime64(top.end) - np.datetime64("2020-03-10")).astype(int) % 7 == 0
    assert (np.datetime64(top.end) - np.datetime64(top.start)).astype(int) in (6, 13)


def test_planar_coordinates_in_km() -> None:
    rng = np.random.default_rng(0)
    x, y, day = rng.uniform(0, 10, 200), rng.uniform(0, 10, 200), rng.integers(0, 50, 200)
    x, y, day = np.r_[x, [5.0] * 5], np.r_[y, [5.0] * 5], np.r_[day, [20] * 5]
    top = SpaceTimePermutationScan(max_radius_km=0.5, max_days=2, permutations=0).fit(
        x=x, y=y, day=_days(day)).clusters_[0]
    assert top.center == (5.0, 5.0) and top.observed >= 5


@pytest.mark.parametrize(("kwargs", "data", "message"), [
    ({"max_radius_km": 0}, None, "max_radius_km"),
    ({"max_days": 0}, None, "max_days"),
    ({}, ([51.5], [0.0], [0]), "too few cases"),
    ({}, ([51.5, 51.6, 51.7], [0.0, 0.1, 0.2], [3, 3, 3]), "one time interval"),
    ({}, ([51.5, 51.5, 51.5], [0.0, 0.0, 0.0], [1, 2, 3]), "one place"),
    ({"time_aggregation": "month"}, None, "time_aggregation"),
])
def test_bad_input_raises_one_clear_error(kwargs: dict, data: tuple | None, message: str) -> None:
    lat, lon, day = data or ([51.5, 51.6, 51.7], [0.0, 0.1, 0.2], [1, 2, 3])
    with pytest.raises(ScanInputError, match=message):
        SpaceTimePermutationScan(**kwargs).fit(lat=lat, lon=lon, day=_days(np.asarray(day)))
