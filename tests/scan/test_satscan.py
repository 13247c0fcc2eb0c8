"""Golden numbers: SaTScan 10.3.2's own results on its NYC fever sample and on a 20,015-case benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caselink.scan.cylinders import latlon_to_xyz
from caselink.scan.permutation import SpaceTimePermutationScan
from caselink.scan.satscan_io import read_coordinates, read_satscan


def _folder(shared_data: Path, name: str) -> Path:
    folder = shared_data / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


def _fit(prm: Path, permutations: int, **extra: object) -> tuple[SpaceTimePermutationScan, object]:
    data = read_satscan(prm)
    scan = SpaceTimePermutationScan(max_radius_km=data.max_radius_km, max_days=data.max_days,
                                    max_share=data.max_share, prospective=data.prospective,
                                    min_cases=data.min_cases, permutations=permutations, seed=2005, n_jobs=1)
    scan.fit(lat=data.c1, lon=data.c2, day=data.day, case_id=data.location, start=data.start, end=data.end,
             **extra)
    return scan, data


def _zips_within(geo: object, centre: tuple[float, float], radius: float) -> set[str]:
    points = latlon_to_xyz(geo.c1.to_numpy(), geo.c2.to_numpy())  # type: ignore[attr-defined]
    here = latlon_to_xyz(np.array([centre[0]]), np.array([centre[1]]))
    inside = np.linalg.norm(points - here, axis=1) <= radius * (1 + 1e-12)
    return set(geo.location[inside])  # type: ignore[attr-defined]


def test_nyc_fever_prospective_matches_satscan(shared_data: Path) -> None:
    folder = _folder(shared_data, "satscan-nycfever")
    geo = read_coordinates(folder / "NYCfever.geo")
    # SaTScan centres circles on every coordinates-file location, with or without cases
    scan, _ = _fit(folder / "NYCSpaceTimePermutation.prm", 999, centres=geo[["c1", "c2"]].to_numpy())
    top, second, third = scan.clusters_[:3]
    assert _zips_within(geo, top.center, top.radius_km) == {
        "11418", "11415", "11419", "11435", "11416", "11421", "11451", "11375", "11417"}
    assert top.center == (40.69924, -73.83176) and round(top.radius_km, 2) == 2.90
    assert (str(top.start), str(top.end), top.observed) == ("2001-11-22", "2001-11-24", 4)
    assert round(top.expected, 2) == 0.67
    assert top.llr == pytest.approx(3.845418, abs=1e-6)
    assert (second.center, second.radius_km, second.observed) == ((40.75146, -73.88307), 0.0, 2)
    assert (str(second.start), str(second.end), round(second.expected, 2)) == ("2001-11-24", "2001-11-24", 0.16)
    assert second.llr == pytest.approx(3.164201, abs=1e-6)
    assert (third.center, str(third.start), str(third.end)) == ((40.82996, -73.86464), "2001-11-23", "2001-11-24")
    assert (third.observed, round(third.expected, 2)) == (2, 0.29)
    assert third.llr == pytest.approx(2.137259, abs=1e-6)
    # SaTScan: 0.242, 0.575, 0.966 from 207 sequential replicates; allow ~3 standard errors of both
    for cluster, satscan_p in zip((top, second, third), (0.242, 0.575, 0.966), strict=True):
        assert cluster.p_value == pytest.approx(satscan_p, abs=3 * np.sqrt(satscan_p * (1 - satscan_p) / 207) + 0.02)


def test_synthetic_retrospective_matches_satscan(shared_data: Path) -> None:
    folder = _folder(shared_data, "satscan-synthetic")
    scan, data = _fit(folder / "synretro99.prm", 0)
    expected = [  # llr, centre, start, end, observed, expected, locations (SaTScan's synretro99.txt)
        (31.459295, (40.79109, -73.75795), "2020-12-26", "2020-12-30", 16, 0.87, 5),
        (15.285699, (40.83034, -74.08249), "2020-03-16", "2020-03-17", 9, 0.65, 10),
        (13.354591, (40.71905, -73.79889), "2020-11-24", "2020-11-29", 23, 6.20, 36),
        (12.450862, (40.86983, -73.79944), "2020-09-02", "2020-09-03", 8, 0.68, 14),
        (12.132965, (40.80311, -73.79606), "2020-11-20", "2020-11-25", 26, 8.24, 47),
        (11.786416, (40.82579, -73.82212), "2020-03-27", "2020-03-31", 23, 6.82, 49),
        (11.664075, (40.75573, -74.06399), "2020-06-04", "2020-06-04", 3, 0.023, 1),
    ]
    got = scan.clusters_[:7]
    for cluster, (llr, centre, start, end, observed, mu, n_loc) in zip(got, expected, strict=True):
        assert cluster.llr == pytest.approx(llr, abs=1e-6)
        assert cluster.center == centre and (str(cluster.start), str(cluster.end)) == (start, end)
        assert (cluster.observed, cluster.n_locations) == (observed, n_loc)
        assert cluster.expected == pytest.approx(mu, abs=0.005 if mu < 0.1 else 0.005 * 2)
    assert set(got[0].case_ids) <= {"0", "858", "23", "1179", "431"}
