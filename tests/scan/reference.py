"""A deliberately plain space-time permutation scan: every cylinder, loops, no pruning.

It shares nothing with caselink.scan except the definitions (SaTScan's sphere, nested circles,
mu = C_z * C_w / C, the Poisson GLR), so agreement tests the vectorised code and the pruning.
"""

from __future__ import annotations

import math

import numpy as np


def xyz(lat: float, lon: float) -> tuple[float, float, float]:
    r = 6367.0
    la, lo = math.radians(lat), math.radians(lon)
    return (r * math.cos(lo) * math.cos(la), r * math.sin(lo) * math.cos(la), r * math.sin(la))


def llr(c: int, mu: float, total: int) -> float:
    if c < 2 or c <= mu:
        return 0.0
    rest = total - c
    return c * math.log(c / mu) + (rest * math.log(rest / (total - mu)) if rest > 0 else 0.0)


def brute_force_max(points: list[tuple[float, float]], days: list[int], max_km: float, max_days: int,
                    max_share: float = 0.5, prospective: bool = False) -> float:
    """The largest LLR over all cylinders centred on distinct case locations."""
    total = len(days)
    locations = sorted(set(points))
    where = [locations.index(p) for p in points]
    coords = [xyz(*p) for p in locations]
    first, last = min(days), max(days)
    per_day = {d: days.count(d) for d in range(first, last + 1)}
    best = 0.0
    for centre in coords:
        order = sorted(range(len(locations)), key=lambda j: (math.dist(centre, coords[j]), coords[j]))
        zone: list[int] = []
        for j in order:
            if math.dist(centre, coords[j]) > max_km:
                break
            zone_cases = sum(1 for w in where if w in zone or w == j)
            if zone_cases > max_share * total:
                break
            zone.append(j)
            for start in range(first, last + 1):
                for length in range(1, max_days + 1):
                    end = start + length - 1
                    if end > last or (prospective and end != last):
                        continue
                    window = sum(per_day[d] for d in range(start, end + 1))
                    c = sum(1 for w, d in zip(where, days, strict=True) if w in zone and start <= d <= end)
                    best = max(best, llr(c, zone_cases * window / total, total))
    return best


def random_cases(seed: int, n: int, n_sites: int, n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    site_lat = 51.5 + rng.uniform(0, 0.05, n_sites)
    site_lon = -0.1 + rng.uniform(0, 0.08, n_sites)
    site = rng.integers(0, n_sites, n)
    return site_lat[site], site_lon[site], rng.integers(0, n_days, n)
