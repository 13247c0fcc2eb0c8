"""Kulldorff's space-time permutation scan statistic (Kulldorff et al. 2005, PLoS Medicine 2(3):e59).

No population is needed: the expected count of a cylinder (zone z x time window w) is
mu = C_z * C_w / C, the cases in the zone over the whole period times the cases in the window
anywhere, over all cases.  Cylinders are scored with the Poisson generalised likelihood ratio and
significance comes from permuting dates across cases.  Zones, radii, windows and secondary clusters
follow SaTScan 10.3.2 so that its answers are reproduced exactly (see docs/scan.md).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> lat = np.r_[51.5 + rng.uniform(0, .2, 200), np.full(6, 51.6)]
>>> lon = np.r_[-0.1 + rng.uniform(0, .3, 200), np.full(6, 0.05)]
>>> day = np.r_[rng.integers(0, 100, 200), np.full(6, 50)].astype("datetime64[D]")
>>> scan = SpaceTimePermutationScan(max_radius_km=1, max_days=3, permutations=99, seed=1, n_jobs=1)
>>> top = scan.fit(lat=lat, lon=lon, day=day).clusters_[0]
>>> top.observed, top.p_value < 0.05
(6, True)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from caselink.scan.cylinders import (
    Windows,
    Zones,
    all_windows,
    build_zones,
    latlon_to_xyz,
    location_cumsum,
    score_windows,
)
from caselink.scan.engine import pseudo_p_value, simulate
from caselink.scan.pruning import BlockFilter

__all__ = ["Cluster", "ScanInputError", "SpaceTimePermutationScan"]

_SMALL = 20_000_000  # cells (windows x neighbours) below which every cylinder is scored outright


class ScanInputError(ValueError):
    """The cases cannot be scanned (too few, one place, one time...); the message says why."""


@dataclass
class Cluster:
    """One reported cluster.  ``center`` is (lat, lon), or (x, y) for planar input."""

    center: tuple[float, float]
    radius_km: float
    start: date
    end: date
    observed: int
    expected: float
    llr: float
    p_value: float | None
    case_ids: list[str] = field(default_factory=list)
    n_locations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``caselink scan --json``."""
        out = asdict(self)
        out["center"] = [float(v) for v in self.center]
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        return out


@dataclass
class _Prepared:
    coords: np.ndarray  # distinct locations, as given (lat, lon) or (x, y)
    case_location: np.ndarray
    case_interval: np.ndarray
    case_ids: np.ndarray
    centres: np.ndarray
    zones: Zones
    windows: Windows
    interval_start: list[date]
    interval_end: list[date]


class SpaceTimePermutationScan:
    """Space-time permutation scan; ``fit`` finds clusters and their Monte Carlo p-values.

    Parameters are stored unchanged.  ``max_share`` is SaTScan's maximum spatial cluster size as a
    share of all cases; ``min_cases`` its minimum cases in a high-rate cluster.  ``overlap`` picks
    secondary clusters: ``"space-time"`` (what SaTScan 10.3.2 reports under "no geographical
    overlap" for space-time scans: no shared location within overlapping windows) or ``"space"``.

    Fitted: ``clusters_`` (most likely first), ``simulated_llr_`` (replicate maxima, exact at or
    above ``threshold_``, a lower bound below it), ``threshold_``, ``n_cases_``, ``n_locations_``.
    """

    def __init__(self, max_radius_km: float = 3.0, max_days: int = 7, max_share: float = 0.5,
                 permutations: int = 999, seed: int | None = None, time_aggregation: str = "day",
                 prospective: bool = False, min_cases: int = 2, max_clusters: int = 10,
                 overlap: str = "space-time", n_jobs: int | None = None) -> None:
        self.max_radius_km = max_radius_km
        self.max_days = max_days
        self.max_share = max_share
        self.permutations = permutations
        self.seed = seed
        self.time_aggregation = time_aggregation
        self.prospective = prospective
        self.min_cases = min_cases
        self.max_clusters = max_clusters
        self.overlap = overlap
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ input
    def _check_params(self) -> None:
        if not self.max_radius_km > 0:
            raise ScanInputError("max_radius_km must be greater than 0")
        if int(self.max_days) <= 0:
            raise ScanInputError("max_days must be at least 1")
        if not 0 < self.max_share <= 1:
            raise ScanInputError("max_share must be in (0, 1]")
        if self.time_aggregation not in ("day", "week"):
            raise ScanInputError("time_aggregation must be 'day' or 'week'")
        if self.overlap not in ("space-time", "space"):
            raise ScanInputError("overlap must be 'space-time' or 'space'")
        if self.permutations < 0:
            raise ScanInputError("permutations must be 0 or more")

    def _prepare(self, cases: pd.DataFrame | None, lat: Any, lon: Any, day: Any, x: Any, y: Any,
                 case_id: Any, centres: Any, start: Any, end: Any) -> _Prepared:
        planar = False
        if cases is not None:
            planar = "lat" not in cases.columns and {"x", "y"} <= set(cases.columns)
            a = cases["x" if planar else "lat"].to_numpy(float)
            b = cases["y" if planar else "lon"].to_numpy(float)
            when = cases["found_at" if "found_at" in cases.columns else "day"]
            case_id = cases["case_id"].astype(str).to_numpy() if "case_id" in cases.columns else case_id
        else:
            planar = lat is None
            a = np.asarray(x if planar else lat, float)
            b = np.asarray(y if planar else lon, float)
            when = day
        days = pd.to_datetime(pd.Series(np.asarray(when))).dt.tz_localize(None).dt.normalize()
        if len(a) != len(b) or len(a) != len(days):
            raise ScanInputError("coordinates and dates must have one value per case")
        bad = np.isnan(a) | np.isnan(b) | days.isna().to_numpy()
        if bad.any():
            raise ScanInputError(f"{int(bad.sum())} cases lack a location or date")
        if len(a) < max(2, self.min_cases):
            raise ScanInputError(f"too few cases to scan ({len(a)}; at least {max(2, self.min_cases)} needed)")
        ids = np.asarray(case_id, dtype=str) if case_id is not None else np.arange(len(a)).astype(str)
        day_index: np.ndarray = days.to_numpy().astype("datetime64[D]")
        first: np.datetime64 = np.datetime64(start, "D") if start is not None else day_index.min()
        last: np.datetime64 = np.datetime64(end, "D") if end is not None else day_index.max()
        if ((day_index < first) | (day_index > last)).any():
            raise ScanInputError("some cases fall outside the study period")
        step = 7 if self.time_aggregation == "week" else 1
        n_int = int((last - first) // np.timedelta64(1, "D")) // step + 1
        interval = n_int - 1 - (np.asarray(last - day_index, dtype="timedelta64[D]").astype(np.int64) // step)
        if len(np.unique(interval)) < 2:
            raise ScanInputError("all cases fall in one time interval: there is no time to scan")
        coords, location = np.unique(np.column_stack([a, b]), axis=0, return_inverse=True)
        location = location.ravel()
        if len(coords) < 2:
            raise ScanInputError("all cases are at one place: there is no space to scan")
        xyz = _to_xyz(coords, planar)
        centre_coords = coords if centres is None else np.unique(
            np.vstack([coords, np.asarray(centres, float).reshape(-1, 2)]), axis=0)
        loc_cases = np.bincount(location, minlength=len(coords))
        zones = build_zones(xyz, loc_cases, _to_xyz(centre_coords, planar), float(self.max_radius_km),
                            self.max_share * len(a))
        per_interval = np.bincount(interval, minlength=n_int)
        max_len = max(1, int(self.max_days) // step)
        windows = Windows(n_int, min(max_len, n_int), bool(self.prospective),
                          np.concatenate([[0], np.cumsum(per_interval)]))
        last_day, first_day = _as_date(last), _as_date(first)
        ends = [last_day - timedelta(days=step * (n_int - 1 - j)) for j in range(n_int)]
        starts = [max(e - timedelta(days=step - 1), first_day) for e in ends]
        self._planar = planar
        return _Prepared(coords, location, interval, ids, centre_coords, zones, windows, starts, ends)

    # ------------------------------------------------------------------ fit
    def fit(self, cases: pd.DataFrame | None = None, *, lat: Any = None, lon: Any = None, day: Any = None,
            x: Any = None, y: Any = None, case_id: Any = None, centres: Any = None,
            start: Any = None, end: Any = None) -> SpaceTimePermutationScan:
        """Scan the cases: a DataFrame (case_id, lat, lon, found_at) or arrays (lat, lon, day).

        Planar input uses ``x``/``y`` in km instead of lat/lon.  ``centres`` adds circle centres
        (SaTScan centres on every coordinates-file location, including those without cases);
        ``start``/``end`` fix the study period (default: first and last case).
        """
        self._check_params()
        prep = self._prepare(cases, lat, lon, day, x, y, case_id, centres, start, end)
        total = len(prep.case_location)
        cum = location_cumsum(prep.case_location, prep.case_interval, len(prep.coords), prep.windows.n_intervals)
        # the filter counts in 16 bits: a window holding 32,767+ cases anywhere needs full scoring
        small = _cells(prep) <= _SMALL or _busiest_window(prep) >= np.iinfo(np.int16).max
        block = None if small else BlockFilter(prep.zones, prep.windows, prep.case_location, total,
                                               self.min_cases)
        best = self._observed(prep, cum, total, block)
        found = self._secondary(prep, best)
        threshold = min((c[4] for c in found), default=np.inf)
        # replicate maxima are exact at or above this (every cylinder is scored when the data are small)
        self.threshold_ = 0.0 if small else float(threshold)
        if block is not None and np.isfinite(threshold):
            block.set_threshold(threshold * (1 - 1e-9))
            if self.permutations >= 50:
                block = _fastest_filter(prep, total, self.min_cases, block)
        simulated = np.zeros(0)
        if self.permutations and found:
            score = _ReplicateScorer(prep, total, self.min_cases, block)
            simulated = simulate(score, int(self.permutations), self.seed, self.n_jobs)
        self.simulated_llr_ = simulated
        self.clusters_ = self._report(prep, cum, found, simulated)
        self.n_cases_ = total
        self.n_locations_ = len(prep.coords)
        return self

    def _observed(self, prep: _Prepared, cum: np.ndarray, total: int, block: BlockFilter | None) -> np.ndarray:
        """Best cylinder per centre (llr, k, start, length, observed, expected); exact down to the
        lowest cluster that will be reported."""
        if block is None:
            return _per_centre_best(prep, cum, total, self.min_cases, *all_windows(prep.zones, prep.windows))
        for threshold in (8.0, 4.0, 2.0, 0.0):
            if threshold == 0.0:
                return _per_centre_best(prep, cum, total, self.min_cases, *all_windows(prep.zones, prep.windows))
            block.set_threshold(threshold)
            best = _per_centre_best(prep, cum, total, self.min_cases, *block.survivors(prep.case_interval),
                                    mu_max=block.mu_max)
            best[best[:, 0] < threshold, 0] = 0.0
            if len(self._secondary(prep, best)) >= self.max_clusters:
                return best
        raise AssertionError("unreachable")

    def _secondary(self, prep: _Prepared, best: np.ndarray) -> list[tuple[int, int, int, int, float]]:
        """Most likely cluster, then each next best centre's cluster that overlaps none kept before."""
        order = np.argsort(-best[:, 0], kind="stable")
        kept: list[tuple[int, int, int, int, float]] = []
        masks: list[np.ndarray] = []
        n_loc = len(prep.coords)
        for i in order:
            llr = best[i, 0]
            if llr <= 0 or len(kept) >= self.max_clusters:
                break
            k, s, length = int(best[i, 1]), int(best[i, 2]), int(best[i, 3])
            members = np.zeros(n_loc + 1, dtype=bool)
            members[prep.zones.neighbours[i, :k + 1]] = True
            clash = False
            for (_, _, s2, l2, _), other in zip(kept, masks, strict=True):
                same_time = self.overlap == "space" or (s <= s2 + l2 - 1 and s2 <= s + length - 1)
                if same_time and (members & other)[:n_loc].any():
                    clash = True
                    break
            if not clash:
                kept.append((int(i), k, s, length, float(llr)))
                masks.append(members)
        return kept

    def _report(self, prep: _Prepared, cum: np.ndarray, found: list[tuple[int, int, int, int, float]],
                simulated: np.ndarray) -> list[Cluster]:
        total = len(prep.case_location)
        clusters = []
        p_values = pseudo_p_value(np.array([f[4] for f in found]), simulated) if len(simulated) else \
            [None] * len(found)
        for rank, ((i, k, s, length, llr), p) in enumerate(zip(found, p_values, strict=True)):
            if p is not None and rank > 0 and p >= 1.0:
                continue  # SaTScan reports a secondary cluster only when some replicate scored lower
            members = prep.zones.neighbours[i, :k + 1]
            inside = np.isin(prep.case_location, members) & (prep.case_interval >= s) & \
                (prep.case_interval < s + length)
            expected = prep.zones.cum_cases[i, k] * prep.windows.totals(np.array([s]), length)[0] / total
            clusters.append(Cluster(
                center=(float(prep.centres[i, 0]), float(prep.centres[i, 1])),
                radius_km=float(prep.zones.distance[i, k]),
                start=prep.interval_start[s], end=prep.interval_end[s + length - 1],
                observed=int(inside.sum()), expected=float(expected), llr=llr,
                p_value=None if p is None else float(p),
                case_ids=sorted(prep.case_ids[inside].tolist()), n_locations=int(k + 1)))
        return clusters


class _ReplicateScorer:
    """One replicate: permute the cases' intervals, keep the windows the filter lets through, score them."""

    def __init__(self, prep: _Prepared, total: int, min_cases: int, block: BlockFilter | None) -> None:
        self.prep, self.total, self.min_cases, self.block = prep, total, min_cases, block
        self.every = all_windows(prep.zones, prep.windows) if block is None else None

    def __call__(self, rng: np.random.Generator) -> float:
        prep = self.prep
        interval = rng.permutation(prep.case_interval)
        cum = location_cumsum(prep.case_location, interval, len(prep.coords), prep.windows.n_intervals)
        windows = self.every if self.block is None else self.block.survivors(interval)
        assert windows is not None
        if not len(windows[0]):
            return 0.0
        gate = None if self.block is None else self.block.mu_max
        llr = score_windows(cum, prep.zones, prep.windows, self.total, self.min_cases, *windows, mu_max=gate)[0]
        return float(llr.max())


def _fastest_filter(prep: _Prepared, total: int, min_cases: int, eight: BlockFilter) -> BlockFilter:
    """Eight blocks or sixteen, whichever scores two trial replicates faster on these data.

    Both are exact at and above the threshold; sixteen filter more tightly but cost twice as much,
    which pays when counts per window are large (many cases per day, dense locations).
    """
    sixteen = BlockFilter(prep.zones, prep.windows, prep.case_location, total, min_cases, n_blocks=16)
    sixteen.set_threshold(eight.threshold)
    cost = []
    for candidate in (eight, sixteen):
        score = _ReplicateScorer(prep, total, min_cases, candidate)
        started = time.process_time()
        for trial in range(2):
            score(np.random.default_rng(trial))
        cost.append(time.process_time() - started)
    return eight if cost[0] <= cost[1] else sixteen


def _per_centre_best(prep: _Prepared, cum: np.ndarray, total: int, min_cases: int, centre: np.ndarray,
                     start: np.ndarray, length: np.ndarray, mu_max: np.ndarray | None = None) -> np.ndarray:
    """Rows per centre: llr, zone index, start, length, observed, expected (zeros where nothing)."""
    out = np.zeros((len(prep.zones.size), 6))
    if not len(centre):
        return out
    llr, k, obs, exp = score_windows(cum, prep.zones, prep.windows, total, min_cases, centre, start, length,
                                     mu_max)
    # first maximum per centre in (length, start) order, as SaTScan keeps the first best it meets
    order = np.lexsort((start, length, -llr, centre))
    first = np.ones(len(order), dtype=bool)
    first[1:] = centre[order][1:] != centre[order][:-1]
    pick = order[first]
    out[centre[pick]] = np.column_stack([llr[pick], k[pick], start[pick], length[pick], obs[pick], exp[pick]])
    return out


def _busiest_window(prep: _Prepared) -> int:
    w = prep.windows
    return max(int(w.totals(w.starts(n), n).max(initial=0)) for n in range(1, w.max_length + 1))


def _cells(prep: _Prepared) -> int:
    per_centre = sum(len(prep.windows.starts(length)) for length in range(1, prep.windows.max_length + 1))
    return int(per_centre * prep.zones.neighbours.size)


def _as_date(value: Any) -> date:
    return date.fromisoformat(str(np.asarray(value, dtype="datetime64[D]")))


def _to_xyz(coords: np.ndarray, planar: bool) -> np.ndarray:
    if planar:
        return np.column_stack([coords[:, 0], coords[:, 1], np.zeros(len(coords))])
    return latlon_to_xyz(coords[:, 0], coords[:, 1])
