"""Benchmark the space-time permutation scan against SaTScan 10.3.2 (../shared/data/satscan-synthetic).

    .venv/bin/python bench/scan.py                 # the headline: 999 replicates, as SaTScan's analysis
    .venv/bin/python bench/scan.py --scaling       # also: how time grows with cases, locations, days

Prints one JSON object per measurement (wall and CPU seconds); results go to BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from caselink.scan.permutation import SpaceTimePermutationScan
from caselink.scan.satscan_io import read_satscan

SHARED = Path(os.environ.get("CASELINK_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
SATSCAN_MLC = {"llr": 31.459295, "center": (40.79109, -73.75795), "start": "2020-12-26", "end": "2020-12-30",
               "observed": 16}


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(lat: np.ndarray, lon: np.ndarray, day: np.ndarray, permutations: int, label: str, **extra: object) -> dict:
    scan = SpaceTimePermutationScan(max_radius_km=3.0, max_days=7, permutations=permutations, seed=2020,
                                    n_jobs=2)
    wall, cpu = time.perf_counter(), _cpu()
    scan.fit(lat=lat, lon=lon, day=day, **extra)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    top = scan.clusters_[0]
    out = {"run": label, "cases": len(day), "locations": scan.n_locations_, "permutations": permutations,
           "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "mlc_llr": round(top.llr, 6),
           "mlc": [top.center, str(top.start), str(top.end), top.observed], "p_value": top.p_value,
           "threshold": round(scan.threshold_, 3)}
    print(json.dumps(out), flush=True)
    return out


def synthetic(n_cases: int, n_locations: int, n_days: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Uniform background in the benchmark's box, no planted cluster."""
    rng = np.random.default_rng(seed)
    site_lat, site_lon = rng.uniform(40.6, 40.9, n_locations), rng.uniform(-74.1, -73.75, n_locations)
    site = rng.integers(0, n_locations, n_cases)
    day = np.datetime64("2020-01-01") + rng.integers(0, n_days, n_cases).astype("timedelta64[D]")
    return site_lat[site], site_lon[site], day


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--scaling-permutations", type=int, default=99)
    args = parser.parse_args()
    prm = SHARED / "satscan-synthetic" / "synretro99.prm"
    if not prm.is_file():
        print(f"{prm} is absent (set CASELINK_SHARED_DATA)", file=sys.stderr)
        return 2
    data = read_satscan(prm)
    out = run(data.c1, data.c2, data.day, args.permutations, "satscan-synthetic", start=data.start, end=data.end)
    same = (abs(out["mlc_llr"] - SATSCAN_MLC["llr"]) < 1e-6 and tuple(out["mlc"][0]) == SATSCAN_MLC["center"]
            and out["mlc"][1:] == [SATSCAN_MLC["start"], SATSCAN_MLC["end"], SATSCAN_MLC["observed"]])
    print(json.dumps({"same_most_likely_cluster_as_satscan": same}), flush=True)
    if args.scaling:
        r = args.scaling_permutations
        for n in (5_000, 10_000, 20_000, 40_000):
            run(*synthetic(n, 2000, 365), r, f"cases={n}")
        for n in (500, 1000, 2000, 4000):
            run(*synthetic(20_000, n, 365), r, f"locations={n}")
        for n in (91, 182, 365, 730):
            run(*synthetic(20_000, 2000, n), r, f"days={n}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
