"""Space-time cylinders for the permutation scan: nested zones, exact scoring and a pruning filter.

A cylinder is a zone (a centre and its k nearest locations) times a window of consecutive time
intervals.  Under date permutation the zone totals C_z and the interval totals C_d never change, so the
expected count mu = C_z * W / C of every cylinder is fixed; only the observed count c moves.  That is
what makes the pruning exact: for a log-likelihood threshold T every cylinder has a fixed minimum count
c*(mu) it needs to reach T, and a block of nested zones can only reach T if the count of its largest
zone reaches the threshold of its smallest.  Cylinders in blocks that cannot are never scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

# SaTScan converts latitude/longitude to 3-D points on a sphere of this radius and uses straight-line
# (chord) distances between them; matching it is what makes radii and zones identical.
EARTH_RADIUS_KM = 6367.0
_EXACT_CHUNK = 4_000_000  # cells (windows x neighbours) scored per numpy batch


def latlon_to_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on SaTScan's sphere (km), so Euclidean distance is SaTScan's distance."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.column_stack([EARTH_RADIUS_KM * np.cos(lo) * np.cos(la),
                            EARTH_RADIUS_KM * np.sin(lo) * np.cos(la),
                            EARTH_RADIUS_KM * np.sin(la)])


def poisson_llr(c: np.ndarray, mu: np.ndarray, total: int, min_cases: int = 2) -> np.ndarray:
    """Kulldorff's Poisson GLR for high rates; 0 where c <= mu or c < min_cases."""
    c = np.asarray(c, float)
    mu = np.asarray(mu, float)
    rest = total - c
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = c * np.log(c / mu)
        outside = np.where(rest > 0, rest * np.log(np.where(rest > 0, rest, 1.0) / (total - mu)), 0.0)
    keep = (c > mu) & (c >= min_cases)
    return np.where(keep, inside + outside, 0.0)


@dataclass
class Zones:
    """Nested zones about each centre: ``neighbours[i, :size[i]]`` are location indices by distance."""

    neighbours: np.ndarray  # (n_centres, k_max) int; padded with n_locations (an empty location)
    size: np.ndarray  # (n_centres,) number of zones (nested circles) about each centre
    cum_cases: np.ndarray  # (n_centres, k_max) cases over the whole period in the first k+1 locations
    distance: np.ndarray  # (n_centres, k_max) km from the centre to the k-th neighbour


def build_zones(location_xyz: np.ndarray, location_cases: np.ndarray, centre_xyz: np.ndarray,
                max_radius_km: float, max_cases: float) -> Zones:
    """Circles about each centre grown one location at a time, as SaTScan grows them.

    Locations are ordered by distance, ties broken by the lesser coordinate (SaTScan's rule), and a
    circle stops before it passes ``max_radius_km`` or holds more than ``max_cases`` cases.
    """
    n_loc = len(location_xyz)
    tree = cKDTree(location_xyz)
    radius = max_radius_km if np.isfinite(max_radius_km) else np.inf
    if np.isfinite(radius):
        pairs = cKDTree(centre_xyz).sparse_distance_matrix(tree, radius * (1 + 1e-12), output_type="ndarray")
        centre, loc, dist = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64), pairs["v"]
        # include the centre's own location even at distance 0 (sparse matrices drop zeros)
        own_d, own = tree.query(centre_xyz, k=1)
        zero = own_d == 0
        centre = np.concatenate([centre, np.flatnonzero(zero)])
        loc = np.concatenate([loc, own[zero]])
        dist = np.concatenate([dist, own_d[zero]])
        # (the matrix may or may not list zero distances: keep each pair once)
        pair = np.unique(centre * n_loc + loc)
        centre, loc = pair // n_loc, pair % n_loc
    else:
        centre = np.repeat(np.arange(len(centre_xyz)), n_loc)
        loc = np.tile(np.arange(n_loc), len(centre_xyz))
        dist = np.linalg.norm(centre_xyz[centre] - location_xyz[loc], axis=1)
    # exact distances (sparse_distance_matrix may use another summation order)
    dist = np.sqrt(((centre_xyz[centre] - location_xyz[loc]) ** 2).sum(axis=1))
    keep = dist <= radius
    centre, loc, dist = centre[keep], loc[keep], dist[keep]
    xyz = location_xyz[loc]
    order = np.lexsort((xyz[:, 2], xyz[:, 1], xyz[:, 0], dist, centre))
    centre, loc, dist = centre[order], loc[order], dist[order]
    starts = np.searchsorted(centre, np.arange(len(centre_xyz) + 1))
    rank = np.arange(len(centre)) - starts[centre]
    cum = np.cumsum(location_cases[loc].astype(np.int64))
    cum -= np.concatenate([[0], cum])[starts[centre]]
    within = cum <= max_cases + 1e-9
    # a circle is cut at the first location that breaks the share limit
    first_bad = np.full(len(centre_xyz), np.iinfo(np.int64).max)
    np.minimum.at(first_bad, centre[~within], rank[~within])
    keep = rank < first_bad[centre]
    centre, loc, dist, rank, cum = centre[keep], loc[keep], dist[keep], rank[keep], cum[keep]
    size = np.bincount(centre, minlength=len(centre_xyz))
    k_max = max(int(size.max(initial=0)), 1)
    neighbours = np.full((len(centre_xyz), k_max), n_loc, dtype=np.int64)
    cum_cases = np.full((len(centre_xyz), k_max), np.inf)
    distance = np.full((len(centre_xyz), k_max), np.inf)
    neighbours[centre, rank] = loc
    cum_cases[centre, rank] = cum
    distance[centre, rank] = dist
    return Zones(neighbours, size, cum_cases, distance)


@dataclass
class Windows:
    """The time windows scanned: ``(start, length)`` in intervals, and interval totals."""

    n_intervals: int
    max_length: int
    prospective: bool
    cum_interval_cases: np.ndarray  # (n_intervals + 1,) running total of cases by interval

    def starts(self, length: int) -> np.ndarray:
        if self.prospective:
            return np.array([self.n_intervals - length]) if length <= self.n_intervals else np.array([], int)
        return np.arange(0, self.n_intervals - length + 1)

    def totals(self, start: np.ndarray, length: np.ndarray | int) -> np.ndarray:
        return self.cum_interval_cases[start + length] - self.cum_interval_cases[start]


def location_cumsum(location: np.ndarray, interval: np.ndarray, n_loc: int, n_int: int) -> np.ndarray:
    """(n_loc + 1, n_int + 1) running case counts by interval; the extra row is the empty location."""
    counts = np.bincount(location * n_int + interval, minlength=n_loc * n_int).reshape(n_loc, n_int)
    out = np.zeros((n_loc + 1, n_int + 1), dtype=np.int32)
    np.cumsum(counts, axis=1, out=out[:n_loc, 1:])
    return out


def score_windows(cum_counts: np.ndarray, zones: Zones, windows: Windows, total: int, min_cases: int,
                  centre: np.ndarray, start: np.ndarray, length: np.ndarray, mu_max: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best zone for each (centre, start, length): returns llr, zone index k, observed, expected.

    Logarithms are taken only for cells that can score: at least ``min_cases`` and more than
    expected, and, given ``mu_max`` (see :func:`min_count_table`), able to reach its threshold.
    """
    n = len(centre)
    best = np.zeros(n)
    best_k = np.zeros(n, dtype=np.int64)
    observed = np.zeros(n, dtype=np.int64)
    expected = np.zeros(n)
    k_max = zones.neighbours.shape[1]
    step = max(1, _EXACT_CHUNK // k_max)
    for lo in range(0, n, step):
        sl = slice(lo, min(n, lo + step))
        i, s, L = centre[sl], start[sl], length[sl]
        nb = zones.neighbours[i]
        c = np.cumsum(cum_counts[nb, (s + L)[:, None]] - cum_counts[nb, s[:, None]], axis=1)
        with np.errstate(invalid="ignore"):  # padding (inf cases) x an empty window (0) gives nan: no cylinder
            mu = zones.cum_cases[i] * (windows.totals(s, L) / total)[:, None]
            live = (c >= min_cases) & (c > mu)
            if mu_max is not None:
                live &= mu <= mu_max[np.minimum(c, len(mu_max) - 1)]
        llr = np.zeros(c.shape)
        llr[live] = poisson_llr(c[live], mu[live], total, min_cases)
        k = llr.argmax(axis=1)
        rows = np.arange(len(k))
        best[sl], best_k[sl] = llr[rows, k], k
        observed[sl], expected[sl] = c[rows, k], mu[rows, k]
    return best, best_k, observed, expected


def all_windows(zones: Zones, windows: Windows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (centre, start, length) worth scoring, as three flat arrays.

    Only windows whose first and last intervals hold cases: trimming empty intervals off a window
    changes neither its count nor its expected count, so no maximum is lost.
    """
    parts = []
    n_c = len(zones.size)
    busy = np.diff(windows.cum_interval_cases) > 0
    for length in range(1, windows.max_length + 1):
        st = windows.starts(length)
        st = st[busy[st] & busy[st + length - 1]]
        if len(st):
            parts.append((np.repeat(np.arange(n_c), len(st)), np.tile(st, n_c), np.full(n_c * len(st), length)))
    if not parts:
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def min_count_table(threshold: float, total: int, min_cases: int, c_max: int) -> np.ndarray:
    """mu_max[c]: the largest expected count at which c cases still reach ``threshold`` (c = 0..c_max).

    LLR(c, mu) falls as mu rises towards c, so each is found by bisection; the result is nudged up so
    that floating-point noise can only let more cylinders through the filter, never fewer.
    """
    counts = np.arange(c_max + 1, dtype=float)
    lo = np.zeros_like(counts)
    hi = counts.copy()
    for _ in range(80):
        mid = (lo + hi) / 2
        ok = poisson_llr(counts, np.maximum(mid, 1e-300), total, min_cases) >= threshold
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    mu_max = hi * (1 + 1e-9) + 1e-12
    mu_max[counts < min_cases] = 0.0
    return np.maximum.accumulate(mu_max)
