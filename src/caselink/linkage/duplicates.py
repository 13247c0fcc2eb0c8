"""Two records of one death: found within a day at the same spot, the victims alike.

Why this is checked at import: one death is often recorded twice under two case ids (the local force
and British Transport Police, a force and a neighbouring one, a re-keyed legacy record).  To the
linkage model such a pair is either overwhelming evidence of a series or, with little recorded, no
evidence at all; either way an analyst must merge or explain it before reading any series it joins.
Nothing is merged here: which id survives is a decision for a person (and the audit log).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

SAME_SPOT_KM = 0.25      # found this close (plus each record's blur)...
MAX_BLUR_KM = 0.25       # ...when each location is known this well; coarser records are not checked
SAME_TIME_DAYS = 1.0     # ...and found within a day of each other
IDS_PER_QUERY = 500      # more new cases than this: read the store's few columns whole
COLUMNS = ["case_id", "found_at", "lat", "lon", "location_precision_m", "victim_sex", "victim_age", "cause"]


def _known(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "U":
        return None
    return value


def alike(sexes: tuple[Any, Any], ages: tuple[Any, Any], causes: tuple[Any, Any]) -> bool:
    """Whether two victims may be one person: sex or age known on both, and nothing recorded differs.

    Sex or age must be known on both, so two victims of one fire, of whom nothing else is recorded,
    are not called one death; an age one year apart is a birthday or a rounding.
    """
    sexes, ages, causes = ((_known(a), _known(b)) for a, b in (sexes, ages, causes))
    sex_known, age_known, cause_known = (None not in pair for pair in (sexes, ages, causes))
    if not (sex_known or age_known):
        return False
    if sex_known and sexes[0] != sexes[1]:
        return False
    if age_known and abs(float(ages[0]) - float(ages[1])) > 1:
        return False
    return not (cause_known and causes[0] != causes[1])


def possible_duplicates(cases: pd.DataFrame, new_ids: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs (new case, other case) that may be one death recorded twice, each pair once.

    ``cases`` holds :data:`COLUMNS` for the new cases and every case that could match them (found
    within a day).  Candidates come from a grid join on (day, cell), so the work grows with the
    number of new cases, not with the store.
    """
    wanted = set(new_ids)
    blur = pd.to_numeric(cases["location_precision_m"], errors="coerce").fillna(0).to_numpy(float) / 1000.0
    checked = (blur <= MAX_BLUR_KM) & cases["lat"].notna().to_numpy() & cases["lon"].notna().to_numpy()
    frame, blur = cases.loc[checked, COLUMNS].reset_index(drop=True), blur[checked]
    if frame.empty or not wanted & set(frame["case_id"]):
        return []
    lat, lon = frame["lat"].to_numpy(float), frame["lon"].to_numpy(float)
    y = lat * 110.574
    x = lon * 111.320 * np.cos(np.radians(lat))
    days = (pd.to_datetime(frame["found_at"]) - pd.Timestamp("1800-01-01")) / pd.Timedelta(days=1)
    day = days.to_numpy(float)
    reach = SAME_SPOT_KM + 2 * MAX_BLUR_KM  # the farthest two matching records can be
    keys = pd.DataFrame({"row": np.arange(len(frame)), "d": np.floor(day).astype(np.int64),
                         "cx": np.floor(x / reach).astype(np.int64), "cy": np.floor(y / reach).astype(np.int64)})
    probes = keys[frame["case_id"].isin(wanted).to_numpy()]
    shifted = [probes.assign(d=probes["d"] + dd, cx=probes["cx"] + dx, cy=probes["cy"] + dy)
               for dd in (-1, 0, 1) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    pairs = pd.concat(shifted, ignore_index=True).merge(keys, on=["d", "cx", "cy"], suffixes=("_new", ""))
    pairs = pairs[pairs["row_new"] != pairs["row"]]
    a, b = pairs["row_new"].to_numpy(), pairs["row"].to_numpy()
    close = (np.hypot(x[a] - x[b], y[a] - y[b]) <= SAME_SPOT_KM + blur[a] + blur[b]) \
        & (np.abs(day[a] - day[b]) <= SAME_TIME_DAYS)
    found: dict[frozenset[str], tuple[str, str]] = {}
    ids = frame["case_id"].to_numpy()
    columns = {c: frame[c].to_numpy(object) for c in ("victim_sex", "victim_age", "cause")}
    for i, j in zip(a[close], b[close], strict=True):
        key = frozenset((ids[i], ids[j]))
        if key in found or not alike(*((columns[c][i], columns[c][j]) for c in ("victim_sex", "victim_age", "cause"))):
            continue
        found[key] = (str(ids[i]), str(ids[j]))
    return sorted(found.values())


def possible_duplicates_in_store(store: Any, new_ids: list[str]) -> list[tuple[str, str]]:
    """:func:`possible_duplicates` for cases just imported, against the store they landed in.

    Only the days around the new cases are read; an import of many cases (a historical load) reads
    the store's few columns whole rather than send thousands of ids as query parameters.
    """
    from caselink.store import CaseFilter

    if not new_ids:
        return []
    where = CaseFilter()
    if len(new_ids) <= IDS_PER_QUERY:
        new = store.cases_frame(["found_at"], CaseFilter(case_ids=tuple(new_ids)))
        if new.empty:
            return []
        pad = pd.Timedelta(days=SAME_TIME_DAYS + 1)  # stored instants are UTC; a day either side covers any zone
        where = CaseFilter(found_from=(new["found_at"].min() - pad).to_pydatetime(),
                           found_to=(new["found_at"].max() + pad).to_pydatetime())
    return possible_duplicates(store.cases_frame(COLUMNS, where, local_times=True), new_ids)
