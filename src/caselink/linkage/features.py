"""The case table the engine compares: one row per case, every derived value computed as of its date.

Why derive here and not in SQL: rarity ("GHB is in 0.3% of deaths") and narrative term weights must
use only cases found *before* each case, so that replay and incremental scoring see exactly what a
live system would have seen.  A case's features depend only on the past, so one vectorised pass over
the whole store gives every case the features it had on the day it arrived; later arrivals never
change them (a late-reported case with an earlier date does, which is correct).

Pairwise comparison SQL (``comparisons.py``) reads the *later* case's rarity lists, so a pair's score
is also free of future information.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

EPOCH = datetime(1970, 1, 1)
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
CELL_KM = 4.0          # space blocking grid: pairs within CELL_KM/2 always share a cell in one of 4 grids
WIDE_CELL_KM = 12.0    # the wider space-time blocking grid (two grids, offset by half a cell diagonally)
REGION_KM = 50.0       # coarse cell for rare-substance / rare-MO blocking
# Rarity prior: an unseen token in an empty store counts as 2% (not "very rare") until history says otherwise.
PRIOR_COUNT = 2.0
PRIOR_N = 100.0
VERY_RARE = 0.03        # substances: share among earlier cases with toxicology recorded
RARE = 0.10
MO_VERY_RARE = 0.02     # scene flags: share among earlier cases with any flag recorded
MO_RARE = 0.10
ENTITY_RARE_MAX = 2
# Cause and kind of place: "burns" or "a park" says more than "natural" or "a residence".  A case's
# tier is 2 when its value was in under RARE_VALUE of earlier cases with the field recorded, 1 when
# under UNCOMMON_VALUE, else 0; comparisons read the later case's tier.
RARE_VALUE = 0.02
UNCOMMON_VALUE = 0.10
NARRATIVE_TOP_TERMS = 12
# Conditional rarity: a flag or kind of place is judged against earlier cases with the *same cause*,
# shrunk towards its overall share with the weight of CONDITIONAL_PRIOR cases, so that a cause with
# little history borrows the overall figure.
CONDITIONAL_PRIOR = 20.0

_TOKEN = re.compile(r"[a-z][a-z0-9]{2,}")
STOP_WORDS = frozenset("""
the and was were his her him with from that this for not had has have into onto their they them
then than who whom which what when where while are been being found body near after before also
its out over under one two three four five year years old aged man woman men women said say says
there here about upon very some any all our your you she into
""".split())

FEATURE_COLUMNS = [
    "unique_id", "found_day", "day", "t_lo", "t_hi", "x_km", "y_km", "prec_km",
    "cell_a", "cell_b", "cell_c", "cell_d", "wide_a", "wide_b", "region",
    "place_type", "place_tier", "cause", "cause_tier",
    "victim_sex", "victim_age",
    "substances", "sub_vrare", "sub_rare", "mo", "mo_bits", "mo_cbits", "place_ctier",
    "mo_vrare", "mo_rare", "victim_tags", "tags_rare",
    "entities",
    "ent_rare",
    "narr_terms", "narr_weights",
]


def _days(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values)
    return ((stamps - pd.Timestamp(EPOCH)) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _lists(values: Iterable[Any]) -> list[list[str]]:
    out: list[list[str]] = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.append([])
        else:
            out.append(sorted({str(v) for v in value}))
    return out


def narrative_tokens(text: str | None) -> list[str]:
    """Content words of a narrative, lower-cased, stop words dropped, crude plural folding."""
    if not isinstance(text, str) or not text:
        return []
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token in STOP_WORDS:
            continue
        if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


def frame_counts(day: np.ndarray, token_lists: list[list[str]]) -> list[dict[str, int]]:
    """For each case: how many cases of this frame found on earlier days carry each of its tokens.

    Same-day cases do not see each other: a batch arriving together is judged against what was
    known before that day.
    """
    n = len(token_lists)
    counts: list[dict[str, int]] = [{} for _ in range(n)]
    rows = [(i, t) for i, tokens in enumerate(token_lists) for t in set(tokens)]
    if not rows:
        return counts
    day_int = np.floor(day).astype(np.int64)
    exploded = pd.DataFrame(rows, columns=["case", "token"])
    exploded["day"] = day_int[exploded["case"].to_numpy()]
    exploded["count_before"] = (exploded.groupby("token")["day"].rank(method="min") - 1).astype(int)
    for case, token, value in zip(exploded["case"].to_numpy(), exploded["token"].to_numpy(),
                                  exploded["count_before"].to_numpy(), strict=True):
        counts[case][token] = int(value)
    return counts


def frame_before(day: np.ndarray, keys: list[str | None]) -> np.ndarray:
    """For each case with a key: how many cases of this frame with the same key came on earlier days.

    A case without a key (None) gets 0; callers only read the figure for cases that have one.
    """
    n = len(keys)
    out = np.zeros(n, dtype=np.int64)
    if not n:
        return out
    day_int = np.floor(day).astype(np.int64)
    members: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        if key is not None:
            members.setdefault(key, []).append(index)
    for indexes in members.values():
        positions = np.array(indexes)
        out[positions] = np.searchsorted(np.sort(day_int[positions]), day_int[positions], side="left")
    return out


class AsOf:
    """Where the as-of counts come from: by default, the frame being built and nothing else.

    Why a class: live ingest builds features for a handful of new cases only, and takes the counts
    of every earlier case from totals kept in the store (``feature_cache.py``) instead of reading a
    million cases back.  Every count ``build_features`` needs goes through ``counts`` or ``before``
    under a ``kind`` naming the field, so that one code path serves both and the cache can record
    what each case contributed.
    """

    def counts(self, kind: str, day: np.ndarray, token_lists: list[list[str]]) -> list[dict[str, int]]:
        return frame_counts(day, token_lists)

    def before(self, kind: str, day: np.ndarray, keys: list[str | None]) -> np.ndarray:
        return frame_before(day, keys)


FRAME_ONLY = AsOf()


def asof_counts(day: np.ndarray, token_lists: list[list[str]], nonempty_only: bool = False,
                counter: AsOf = FRAME_ONLY, kind: str = "tokens") -> tuple[list[dict[str, int]], np.ndarray]:
    """For each case: how many earlier cases carry each of its tokens, and how many earlier cases
    there were (all of them, or only those with at least one token).
    """
    counts = counter.counts(kind, day, token_lists)
    if nonempty_only:
        n_before = counter.before(f"{kind}#n", day, ["" if tokens else None for tokens in token_lists])
    else:
        n_before = counter.before("#all", day, [""] * len(token_lists))
    return counts, n_before


def asof_shares(day: np.ndarray, token_lists: list[list[str]], nonempty_only: bool = False,
                counter: AsOf = FRAME_ONLY, kind: str = "tokens") -> list[dict[str, float]]:
    """For each case, the share of earlier cases carrying each of its tokens.

    Smoothed with a weak prior (PRIOR_COUNT of PRIOR_N) so that an almost empty store does not call
    everything "very rare".  ``nonempty_only`` counts only earlier cases where the field was recorded
    (a substance's share among cases with toxicology, not among all deaths).
    """
    counts, n_before = asof_counts(day, token_lists, nonempty_only, counter, kind)
    return [{t: (c + PRIOR_COUNT) / (n_before[i] + PRIOR_N) for t, c in case_counts.items()}
            for i, case_counts in enumerate(counts)]


def _tier(share: float) -> int:
    return 2 if share < RARE_VALUE else 1 if share < UNCOMMON_VALUE else 0


def rarity_tiers(day: np.ndarray, values: list[str | None], counter: AsOf = FRAME_ONLY,
                 kind: str = "value") -> list[int]:
    """Each case's own value ranked by how rare it was among earlier cases: 2 rare, 1 uncommon, 0 common.

    Why a tier and not the share itself: a comparison level is a fixed SQL predicate whose m and u
    are fitted per level, so rarity enters as a few ordered levels, judged as of the later case.
    """
    lists = [[v] if v else [] for v in values]
    shares = asof_shares(day, lists, nonempty_only=True, counter=counter, kind=kind)
    return [_tier(share[v]) if v else 0 for v, share in zip(values, shares, strict=True)]


def asof_conditional_shares(day: np.ndarray, token_lists: list[list[str]], groups: list[str | None],
                            overall: list[dict[str, float]], counter: AsOf = FRAME_ONLY,
                            kind: str = "tokens") -> list[dict[str, float]]:
    """For each case, the share of its tokens among earlier cases *of its own group* (its cause).

    Why: evidence that follows from the cause is not new evidence.  Two fire deaths both flagged
    ``fire_set``, or two drownings both at a waterway, share the cause once; counting the flag or the
    place as rare again (it is rare among all deaths, not among fires) made unrelated deaths look like
    a series.  Shares are shrunk towards ``overall`` (the unconditional share) by CONDITIONAL_PRIOR
    pseudo-cases; a case with no group gets its overall shares back.  Only cases with at least one
    token count in a group's denominator, as in ``asof_shares(nonempty_only=True)``.
    """
    keyed = [[f"{group}\x1f{t}" for t in tokens] if group else [] for tokens, group in zip(token_lists, groups,
                                                                                           strict=True)]
    counts = counter.counts(f"{kind}|cause", day, keyed)
    n_group_before = counter.before(f"{kind}|cause#n", day, [group if group and tokens else None
                                                             for tokens, group in zip(token_lists, groups,
                                                                                      strict=True)])
    out: list[dict[str, float]] = []
    for index, (tokens, group) in enumerate(zip(token_lists, groups, strict=True)):
        if not group:
            out.append(dict(overall[index]))
            continue
        base = overall[index]
        keyed_counts = counts[index]
        out.append({t: (keyed_counts.get(f"{group}\x1f{t}", 0) + CONDITIONAL_PRIOR * base[t])
                    / (n_group_before[index] + CONDITIONAL_PRIOR) for t in tokens})
    return out


def _narrative_vectors(day: np.ndarray, narratives: list[str | None], areas: list[str | None],
                       counter: AsOf = FRAME_ONLY) -> tuple[list[list[str]], list[list[float]]]:
    """TF-IDF of each narrative with IDF as of its day; top terms kept, L2-normalised over all terms.

    Words of the case's own ``area`` are dropped: place names already count in the distance
    comparison, and counting them twice made deaths at one hostel look like a series.
    """
    token_lists = []
    for text, area in zip(narratives, areas, strict=True):
        place_words = set(narrative_tokens(area))
        token_lists.append([t for t in narrative_tokens(text) if t not in place_words])
    shares = asof_shares(day, [sorted(set(t)) for t in token_lists], counter=counter, kind="narrative")
    terms_out: list[list[str]] = []
    weights_out: list[list[float]] = []
    for tokens, share in zip(token_lists, shares, strict=True):
        if not tokens:
            terms_out.append([])
            weights_out.append([])
            continue
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        weights = {t: (1.0 + math.log(c)) * (1.0 - math.log(share[t])) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:NARRATIVE_TOP_TERMS]
        terms_out.append([t for t, _ in top])
        weights_out.append([round(w / norm, 5) for _, w in top])
    return terms_out, weights_out


def build_features(stored: pd.DataFrame, counter: AsOf = FRAME_ONLY) -> pd.DataFrame:
    """The engine's case table from stored rows (``CaseStore.cases_frame(local_times=True)`` columns).

    Times are the agency's wall clock, so a day is the calendar day the record says (a date found in
    London in summer is 23:00 UTC the day before).

    ``counter`` supplies the as-of counts; by default they come from ``stored`` alone, so ``stored``
    must then hold every earlier case.

    Returns a frame with FEATURE_COLUMNS plus ``series_id`` (kept for training and evaluation only;
    no comparison reads it).
    """
    if stored.empty:
        return pd.DataFrame(columns=[*FEATURE_COLUMNS, "series_id"])
    frame = stored.sort_values(["found_at", "case_id"], kind="stable").reset_index(drop=True)
    found_day = _days(frame["found_at"])
    died_from = _days(frame["died_from"]) if "died_from" in frame else np.full(len(frame), np.nan)
    died_to = _days(frame["died_to"]) if "died_to" in frame else np.full(len(frame), np.nan)
    t_lo = np.where(np.isnan(died_from), np.where(np.isnan(died_to), found_day, died_to), died_from)
    t_hi = np.where(np.isnan(died_to), found_day, died_to)
    lat = frame["lat"].to_numpy(dtype=float)
    lon = frame["lon"].to_numpy(dtype=float)
    x_km = lon * KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))
    y_km = lat * KM_PER_DEG_LAT
    precision = frame["location_precision_m"] if "location_precision_m" in frame else None
    prec_km = (pd.to_numeric(precision, errors="coerce").fillna(0).to_numpy(dtype=float) / 1000.0
               if precision is not None else np.zeros(len(frame)))
    half = CELL_KM / 2.0

    def grid(xs: np.ndarray, ys: np.ndarray, size: float) -> list[str]:
        return [f"{int(a)}:{int(b)}" for a, b in zip(np.floor(xs / size), np.floor(ys / size), strict=True)]

    substances = _lists(frame["substances"])
    place_type = _optional_text(frame, "place_type")
    cause = _optional_text(frame, "cause")
    mo = _lists(frame["mo"])
    sub_share = asof_shares(found_day, substances, True, counter, "substances")
    mo_share = asof_shares(found_day, mo, True, counter, "mo")
    cause_group = [None if c in (None, "undetermined") else c for c in cause]
    mo_cshare = asof_conditional_shares(found_day, mo, cause_group, mo_share, counter, "mo")
    place_lists = [[p] if p else [] for p in place_type]
    place_share = asof_shares(found_day, place_lists, True, counter, "place")
    place_cshare = asof_conditional_shares(found_day, place_lists, cause_group, place_share, counter,
                                           "place")
    tags = _lists(frame["victim_tags"]) if "victim_tags" in frame else [[] for _ in range(len(frame))]
    tag_share = asof_shares(found_day, tags, False, counter, "tags")
    entities = _lists(frame["entities"]) if "entities" in frame else [[] for _ in range(len(frame))]
    entity_counts = counter.counts("entities", found_day, entities)
    terms, weights = _narrative_vectors(
        found_day, list(frame["narrative"]) if "narrative" in frame else [None] * len(frame),
        list(frame["area"]) if "area" in frame else [None] * len(frame), counter)
    out = pd.DataFrame({
        "unique_id": frame["case_id"].astype(str),
        "found_day": found_day,
        "day": np.floor(found_day).astype(np.int64),
        "t_lo": t_lo,
        "t_hi": t_hi,
        "x_km": x_km,
        "y_km": y_km,
        "prec_km": prec_km,
        "cell_a": grid(x_km, y_km, CELL_KM),
        "cell_b": grid(x_km + half, y_km, CELL_KM),
        "cell_c": grid(x_km, y_km + half, CELL_KM),
        "cell_d": grid(x_km + half, y_km + half, CELL_KM),
        "wide_a": grid(x_km, y_km, WIDE_CELL_KM),
        "wide_b": grid(x_km + WIDE_CELL_KM / 2, y_km + WIDE_CELL_KM / 2, WIDE_CELL_KM),
        "region": grid(x_km, y_km, REGION_KM),
        "place_type": place_type,
        "place_tier": [_tier(share[p[0]]) if p else 0 for p, share in zip(place_lists, place_share, strict=True)],
        "cause": cause,
        "cause_tier": rarity_tiers(found_day, cause_group, counter, "cause"),
        "victim_sex": _optional_text(frame, "victim_sex"),
        "victim_age": pd.to_numeric(frame["victim_age"], errors="coerce").astype("Float64")
        if "victim_age" in frame else pd.Series([pd.NA] * len(frame), dtype="Float64"),
        "substances": substances,
        "sub_vrare": [[t for t in toks if share[t] < VERY_RARE] for toks, share in zip(substances, sub_share,
                                                                                       strict=True)],
        "sub_rare": [[t for t in toks if share[t] < RARE] for toks, share in zip(substances, sub_share, strict=True)],
        "mo": mo,
        # Information of each flag as of the case: -log2(share among earlier scenes with flags).
        "mo_bits": [[round(-math.log2(share[t]), 3) for t in toks] for toks, share in zip(mo, mo_share, strict=True)],
        # The same, among earlier cases of the same cause (read when the two cases share their cause).
        "mo_cbits": [[round(-math.log2(share[t]), 3) for t in toks] for toks, share in zip(mo, mo_cshare,
                                                                                         strict=True)],
        "place_ctier": [_tier(share[p[0]]) if p else 0 for p, share in zip(place_lists, place_cshare, strict=True)],
        "mo_vrare": [[t for t in toks if share[t] < MO_VERY_RARE] for toks, share in zip(mo, mo_share, strict=True)],
        "mo_rare": [[t for t in toks if share[t] < MO_RARE] for toks, share in zip(mo, mo_share, strict=True)],
        "victim_tags": tags,
        "tags_rare": [[t for t in toks if share[t] < RARE] for toks, share in zip(tags, tag_share, strict=True)],
        "entities": entities,
        # An entity already in several earlier cases (a hostel's staff, an anonymous 999 caller) links
        # little; one seen at most ENTITY_RARE_MAX times before is a specific link.
        "ent_rare": [[t for t in toks if counts[t] <= ENTITY_RARE_MAX] for toks, counts in zip(entities, entity_counts,
                                                                                            strict=True)],
        "narr_terms": terms,
        "narr_weights": weights,
        "series_id": frame["series_id"] if "series_id" in frame else None,
    })
    return out


def _optional_text(frame: pd.DataFrame, name: str) -> list[str | None]:
    if name not in frame:
        return [None] * len(frame)
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in frame[name]]


def rarity_table(stored: pd.DataFrame, column: str) -> dict[str, float]:
    """Share of all cases in ``stored`` carrying each token of list column ``column`` (for reasons)."""
    n = max(len(stored), 1)
    counts: dict[str, int] = {}
    for value in stored[column]:
        for token in set(value or ()):
            counts[token] = counts.get(token, 0) + 1
    return {token: count / n for token, count in counts.items()}


def records_to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Stored-form frame from raw records (tests, the demo, crimelinkage) without a database."""
    from caselink.schema import normalise_record

    rows = []
    for raw in records:
        result = normalise_record(raw)
        if result.record is None:
            problems = "; ".join(f"{e.field}: {e.message}" for e in result.errors)
            raise ValueError(f"record {raw.get('case_id')!r}: {problems}")
        rows.append(result.record)
    return pd.DataFrame(rows)
