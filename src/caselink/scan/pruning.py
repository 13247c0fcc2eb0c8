"""An exact filter that skips the space-time cylinders that cannot reach a log-likelihood threshold.

Scoring every cylinder (SaTScan's way) costs centres x zones x windows per replicate: 274 million for
20,000 cases at 2,000 locations with 3 km circles and 7-day windows.  Only the maximum matters, and
almost every cylinder is far below it.  The zones about each centre are cut into a few blocks at
breakpoints (k = 1, 2, 3, then each time the zone's case total doubles); for a window, a block can hold
a cylinder scoring at least ``threshold`` only if the count in its largest zone reaches the minimum
count c*(mu) needed at the expected count of its smallest zone.  Both mu and c* are fixed under date
permutation, so the thresholds are computed once and each replicate costs a few integer array
comparisons per (centre, window, block); the surviving windows are then scored exactly.
"""

from __future__ import annotations

import numpy as np

from caselink.scan.cylinders import Windows, Zones, min_count_table

__all__ = ["BlockFilter"]

_NEVER = np.iinfo(np.int16).max


class BlockFilter:
    """Per-replicate survivors of the block bound for one data set and one threshold."""

    def __init__(self, zones: Zones, windows: Windows, case_location: np.ndarray, total: int,
                 min_cases: int, n_blocks: int = 8) -> None:
        """``n_blocks`` (a multiple of 8: eight booleans are one uint64 word) trades filter cost for
        tightness: more blocks, fewer windows left to score exactly."""
        if n_blocks < 8 or n_blocks % 8:
            raise ValueError("n_blocks must be a multiple of 8")
        self.zones, self.windows, self.total, self.min_cases = zones, windows, total, min_cases
        n_c = len(zones.size)
        self.breaks, self.lows = _breakpoints(zones, n_blocks)
        self.n_blocks = self.breaks.shape[1]
        self.n_centres = n_c
        self._entries(case_location)
        self.thresholds: dict[int, np.ndarray] = {}
        self.threshold = np.nan
        self.mu_max = np.zeros(0)
        self._counts: np.ndarray | None = None
        self._key_base: tuple[int, np.ndarray] | None = None
        self._window = np.zeros(0, dtype=np.int16)

    def _entries(self, case_location: np.ndarray) -> None:
        """One entry per (case, centre whose circles reach it): the block the case's location joins."""
        zones = self.zones
        k_max = zones.neighbours.shape[1]
        rank = np.arange(k_max)
        valid = rank[None, :] < zones.size[:, None]
        centre, k = np.nonzero(valid)
        loc = zones.neighbours[centre, k]
        block = (self.breaks[centre] < k[:, None]).sum(axis=1)  # first breakpoint >= k
        order = np.argsort(loc, kind="stable")
        inc_loc, inc_block = loc[order], (centre * self.n_blocks + block)[order]
        n_loc = zones.neighbours.max() + 1
        per_loc = np.bincount(inc_loc, minlength=n_loc)
        offset = np.concatenate([[0], np.cumsum(per_loc)])
        reps = per_loc[case_location]
        case = np.repeat(np.arange(len(case_location)), reps)
        within = np.arange(len(case)) - np.repeat(np.cumsum(reps) - reps, reps)
        self.entry_case = case
        self.entry_block = inc_block[offset[case_location[case]] + within].astype(np.int64)

    def set_threshold(self, threshold: float) -> None:
        """Precompute, for every (centre, block, window), the count its largest zone must reach."""
        if threshold == self.threshold:
            return
        zones, windows = self.zones, self.windows
        low_cases = np.take_along_axis(zones.cum_cases, self.lows, axis=1)  # (n_c, B)
        finite = low_cases[np.isfinite(low_cases)]
        top_share = max(float(windows.totals(windows.starts(length), length).max(initial=0)) / self.total
                        for length in range(1, windows.max_length + 1) if len(windows.starts(length)))
        biggest_mu = (float(finite.max()) if len(finite) else 0.0) * top_share
        # counts beyond the one that reaches the threshold at the largest expected count never matter
        c_max = 16
        while True:
            mu_max = min_count_table(threshold, self.total, self.min_cases, min(c_max, self.total))
            if mu_max[-1] >= biggest_mu or c_max >= min(self.total, _NEVER - 1):
                break
            c_max *= 2
        self.mu_max = mu_max
        # zone totals repeat across centres: solve once per distinct (total, window) and gather
        never = (self.lows > self.breaks) | ~np.isfinite(low_cases)
        distinct, which = np.unique(np.where(never, 0.0, low_cases), return_inverse=True)
        which = which.reshape(low_cases.shape)
        self.thresholds = {}
        for length in range(1, windows.max_length + 1):
            starts = windows.starts(length)
            if not len(starts):
                continue
            share = windows.totals(starts, length) / self.total
            mu = distinct[:, None] * share[None, :]
            table = np.minimum(np.searchsorted(mu_max, mu, side="left"), _NEVER).astype(np.int16)
            table[:, share == 0] = _NEVER  # an empty window holds nothing
            need = table[which[:, None, :], np.arange(len(starts))[None, :, None]]  # (n_c, n_s, B)
            need[np.broadcast_to(never[:, None, :], need.shape)] = _NEVER
            self.thresholds[length] = need
        self.threshold = threshold

    def survivors(self, case_interval: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(centre, start, length) of the windows that may hold a cylinder at or above the threshold."""
        windows = self.windows
        n_int, n_c, n_b = windows.n_intervals, self.n_centres, self.n_blocks
        if self._key_base is None or self._key_base[0] != n_int:
            centre_of, block_of = np.divmod(self.entry_block, n_b)
            small = n_c * n_int * n_b < np.iinfo(np.int32).max  # 32-bit keys sort twice as fast
            self._key_base = (n_int, (centre_of * n_int * n_b + block_of).astype(
                np.int32 if small else np.int64))
        base = self._key_base[1]
        keys = base + case_interval[self.entry_case].astype(base.dtype) * n_b
        keys.sort()
        # counting by sorting into a reused 16-bit buffer beats bincount's fresh 64-bit array
        if self._counts is None:
            self._counts = np.zeros(n_c * n_int * n_b, dtype=np.int16)
            self._window = np.zeros((n_c, n_int, n_b), dtype=np.int16)
            self._flags = np.zeros((n_c, n_int, n_b), dtype=bool)
        flat = self._counts
        flat[:] = 0
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        flat[keys[first]] = np.diff(np.append(first, len(keys)))
        counts = flat.reshape(n_c, n_int, n_b)
        for b in range(1, n_b):  # counts of the nested zone ending at each breakpoint
            counts[:, :, b] += counts[:, :, b - 1]
        out_c, out_s, out_l = [], [], []
        if windows.prospective:
            # windows all end at the last interval: running sums backwards from it
            tail = np.cumsum(counts[:, ::-1, :], axis=1, dtype=np.int16)
        window = self._window  # counts in windows of the current length, by start
        np.copyto(window, counts)
        for length in range(1, windows.max_length + 1):
            if length > 1 and not windows.prospective:
                valid = n_int - length + 1
                np.add(window[:, :valid], counts[:, length - 1:], out=window[:, :valid])
            need = self.thresholds.get(length)
            if need is None:
                continue
            starts = windows.starts(length)
            n_s = len(starts)
            view = tail[:, length - 1:length] if windows.prospective else window[:, :n_s]
            flags = self._flags[:, :n_s]
            np.greater_equal(view, need, out=flags)
            words = flags.view(np.uint64)  # eight blocks per word: any block hot <=> word nonzero
            hot = words[..., 0] != 0
            for j in range(1, words.shape[-1]):
                hot |= words[..., j] != 0
            centre, idx = np.nonzero(hot)
            out_c.append(centre)
            out_s.append(starts[idx])
            out_l.append(np.full(len(centre), length))
        if not out_c:
            empty = np.array([], dtype=np.int64)
            return empty, empty, empty
        return np.concatenate(out_c), np.concatenate(out_s), np.concatenate(out_l)


def _breakpoints(zones: Zones, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Block ends (zone indices) per centre: zones 1, 2, 3, then geometric steps of the case total up to
    the whole circle, so each block's smallest and largest zones differ by a similar factor."""
    n_c, k_max = len(zones.size), zones.neighbours.shape[1]
    last = np.maximum(zones.size - 1, 0)
    cum = np.where(np.isfinite(zones.cum_cases), zones.cum_cases, np.inf)
    total = np.take_along_axis(cum, last[:, None], axis=1)[:, 0]
    third = np.minimum(2, last)
    base = np.maximum(np.take_along_axis(cum, third[:, None], axis=1)[:, 0], 1.0)
    steps = n_blocks - 3
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > base, (total / base) ** (1.0 / steps), 1.0)
    cols = [np.minimum(k, last) for k in (0, 1, 2)]
    for j in range(1, steps):
        target = base * ratio**j
        k = (cum <= target[:, None]).sum(axis=1) - 1  # last zone whose total stays within target
        cols.append(np.clip(k, third, last))
    cols.append(last)
    breaks = np.sort(np.column_stack(cols), axis=1).astype(np.int64)
    lows = np.concatenate([np.zeros((n_c, 1), dtype=np.int64), breaks[:, :-1] + 1], axis=1)
    return breaks, np.minimum(lows, k_max - 1)
