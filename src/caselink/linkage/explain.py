"""Plain-language reasons for a series, and the waterfall of one pair's match weight.

Reasons are sentences an analyst can read aloud to a supervisor; each names a fact about the members
(distance, days, shared drug and how rare it is in this store, victim profile, scene flags, shared
people) rather than a model internal.  The waterfall is the model internal, for those who ask.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from caselink.linkage.duplicates import alike
from caselink.linkage.features import KM_PER_DEG_LAT, KM_PER_DEG_LON_EQUATOR
from caselink.linkage.model import LinkageModel
from caselink.linkage.scoring import contributions

SEX_WORDS = {"M": ("man", "men"), "F": ("woman", "women"), "X": ("person", "people")}


def _words(token: str) -> str:
    return token.replace("_", " ")


def _count_phrase(k: int, n: int) -> str:
    return ("both" if n == 2 else f"all {n}") if k == n else f"{k} of {n}"


def _all(n: int) -> str:
    """"all" said of the members: "both" of two ("all 2" is not English)."""
    return "both" if n == 2 else "all"


def _km_up(distance: float) -> str:
    """A distance as a bound to one decimal, rounded up: 0.15 km is "within 0.2 km", never 0.1.

    Up to 10 m over is forgiven (0.402 km is "within 0.4 km"): coordinates to four decimals are not
    recorded more closely than that.
    """
    return f"{max(math.ceil((distance - 0.01) * 10), 1) / 10:.1f}"


# How each kind of place is said after "found"; others (including open-vocabulary values) are named.
PLACE_PHRASES = {
    "residence": "at a residence", "hostel_hotel": "at a hostel or hotel", "street": "in a street",
    "park_open_space": "in a park or open space", "churchyard_cemetery": "in a churchyard or cemetery",
    "waterway": "in or by a waterway", "woodland": "in woodland", "vehicle": "in a vehicle",
    "workplace": "at a workplace", "public_toilet": "in a public toilet", "transport": "on transport",
}


def _place_phrase(place: str) -> str:
    return PLACE_PHRASES.get(place, f"at the same kind of place ({_words(place)})")


def _percent(share: float) -> str:
    value = share * 100
    if 0 < value < 0.1:  # three in 100,000 is "0.003%", never "0.0%" of a store that holds them
        return f"{value:.1g}%"
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


BLUR_WORTH_SAYING_KM = 0.25


def _distances_km(members: pd.DataFrame) -> np.ndarray:
    """Every pair's distance between the recorded points, as a square matrix."""
    lat = members["lat"].to_numpy(dtype=float)
    lon = members["lon"].to_numpy(dtype=float)
    x = lon * KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))
    y = lat * KM_PER_DEG_LAT
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    return np.sqrt(dx * dx + dy * dy)


def _blur_km(members: pd.DataFrame) -> np.ndarray:
    """Each member's location precision in km (0 where not given)."""
    precision = members.get("location_precision_m", pd.Series([None] * len(members), dtype=float))
    return pd.to_numeric(precision, errors="coerce").fillna(0).to_numpy(dtype=float) / 1000


def series_reasons(members: pd.DataFrame, substance_share: dict[str, float], mo_share: dict[str, float],
                   noun: str = "deaths") -> list[str]:
    """Sentences describing what the members of a series have in common.

    ``members`` holds stored columns of the series' cases; the shares are each token's share of the
    cases in the store (as of the moment the reasons are for).
    """
    n = len(members)
    reasons: list[str] = []
    found = pd.to_datetime(members["found_at"])
    span_days = int(round((found.max() - found.min()) / pd.Timedelta(days=1)))
    distance = float(_distances_km(members).max()) if n > 1 else 0.0
    where = f"within {_km_up(distance)} km"
    blur_km = float(_blur_km(members).max(initial=0.0))
    if blur_km >= BLUR_WORTH_SAYING_KM and blur_km > 2 * float(_km_up(distance)):
        # Said aloud, "within 0.1 km" of three grid-cell centres would claim a closeness nobody knows.
        where += f" as recorded (some locations known only to {blur_km:.1f} km)"
    span = "on one day" if span_days == 0 else f"over {span_days} day{'s' if span_days != 1 else ''}"
    reasons.append(f"{n} {noun} {where} {span}")

    def shared(column: str) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for value in members[column]:
            counts.update(set(value or ()))
        return [(token, k) for token, k in counts.items() if k >= 2]

    substances = sorted(shared("substances"), key=lambda tk: (substance_share.get(tk[0], 0.0), -tk[1]))
    for token, k in substances[:3]:
        share = substance_share.get(token)
        rarity = f" ({_percent(share)} of {noun} in this store)" if share is not None else ""
        name = token.upper() if len(token) <= 4 else token
        reasons.append(f"{name} in {_count_phrase(k, n)}{rarity}")

    sexes = [s for s in members.get("victim_sex", pd.Series(dtype=object)) if isinstance(s, str)]
    ages = [int(a) for a in members.get("victim_age", pd.Series(dtype=float)) if a is not None and not pd.isna(a)]
    if len(sexes) == n and len(set(sexes)) == 1 and sexes[0] in SEX_WORDS:
        people = SEX_WORDS[sexes[0]][1]
        if len(ages) == n:
            low, high = min(ages), max(ages)
            reasons.append(f"{_all(n)} {people} aged {low}" + (f"–{high}" if high != low else ""))
        else:
            reasons.append(f"{_all(n)} {people}")
    elif len(ages) == n and n > 1:
        reasons.append(f"{_all(n)} aged {min(ages)}–{max(ages)}")

    flags = sorted(shared("mo"), key=lambda tk: (-tk[1], mo_share.get(tk[0], 0.0)))
    for token, k in flags[:4]:
        body_flag = token in ("propped_sitting", "body_posed", "body_moved")
        if body_flag and k == n:
            reasons.append(f"{_all(n)} found {_words(token)}")
        else:  # "phone missing in all 3", not "all phone missing"
            reasons.append(f"{'found ' if body_flag else ''}{_words(token)} in {_count_phrase(k, n)}")

    for token, k in sorted(shared("entities"), key=lambda tk: -tk[1])[:3]:
        kind, _, value = token.partition(":")
        label = "finder" if "finder" in value else kind
        reasons.append(f"the same {label} in {k} ({token})")

    places = [p for p in members.get("place_type", pd.Series(dtype=object)) if isinstance(p, str)]
    if len(places) == n and len(set(places)) == 1:
        reasons.append(f"{_all(n)} found {_place_phrase(places[0])}")
    tags = shared("victim_tags")
    common_tags = [t for t, k in tags if k == n]
    if common_tags:
        # "victims all " is read by web.pseudonym and audit.erasure (sensitive tags): keep it, even for two.
        reasons.append("victims all " + ", ".join(_words(t) for t in sorted(common_tags)))
    reasons.extend(_possible_duplicates(members))
    return reasons


def _possible_duplicates(members: pd.DataFrame) -> list[str]:
    """Pairs that may be one death reported twice (two agencies, a re-keyed record), not a series.

    Why: the same body found the same day at the same spot, with the same sex, age and cause, is
    overwhelming evidence to the model, and an analyst should check for a duplicate record before
    looking for an offender.  Sex or age must be known on both, so two victims of one fire are not
    called one death.
    """
    if len(members) < 2 or "case_id" not in members:
        return []
    rows = members.reset_index(drop=True)
    found = pd.to_datetime(rows["found_at"])
    distance = _distances_km(rows)
    blur = _blur_km(rows)

    def pair_of(column: str, i: int, j: int) -> tuple[Any, Any]:
        return (rows[column][i], rows[column][j]) if column in rows else (None, None)

    out = []
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            same_day = abs((found[j] - found[i]) / pd.Timedelta(days=1)) <= 1
            close = distance[i, j] <= 0.25 + blur[i] + blur[j]
            if not (same_day and close):
                continue
            if not alike(*(pair_of(c, i, j) for c in ("victim_sex", "victim_age", "cause"))):
                continue
            out.append(f"{rows['case_id'][i]} and {rows['case_id'][j]} may be one death recorded twice (found "
                       "within a day at the same place, same sex, age and cause): check before treating them "
                       "as a series")
    return out[:3]


def waterfall(pair: pd.Series | dict[str, Any], model: LinkageModel,
              labels: dict[str, list[tuple[float, str]]]) -> dict[str, Any]:
    """The prior and each comparison's weight, with the running total, for one scored pair."""
    prior = float(model.splink_settings["probability_two_random_records_match"])
    prior_weight = math.log2(prior / (1 - prior))
    steps = [{"comparison": "prior", "level": f"1 in {round(1 / prior):,} random pairs",
              "weight": round(prior_weight, 3), "cumulative": round(prior_weight, 3)}]
    running = prior_weight
    for row in contributions(pair, labels):
        running += row["weight"]
        steps.append({**row, "cumulative": round(running, 3)})
    return {
        "case_a": str(pair["unique_id_l"]),
        "case_b": str(pair["unique_id_r"]),
        "match_weight": round(float(pair["match_weight"]), 3),
        "probability": round(float(pair["match_probability"]), 4),
        "steps": steps,
    }


def pair_features(store: Any, model: LinkageModel, case_ids: list[str]) -> pd.DataFrame:
    """Cases' features as of their dates, in found order: from the feature cache when it is current
    (a few rows), else built from the whole store (every earlier case counts)."""
    from caselink.linkage.feature_cache import CacheUnavailable, FeatureCache
    from caselink.linkage.features import build_features
    from caselink.linkage.incremental import stored_frame

    try:
        cached = FeatureCache(store, model).features_for(case_ids)
    except CacheUnavailable:
        cached = None
    if cached is not None:
        return cached
    features = build_features(stored_frame(store))
    return features[features["unique_id"].isin(case_ids)].reset_index(drop=True)


def explain_cases(store: Any, model: LinkageModel, case_a: str, case_b: str) -> dict[str, Any] | None:
    """The waterfall of two stored cases, compared whatever the blocking rules say; None when either
    id is not in the store.  One function for ``caselink explain`` and the web app."""
    from caselink.linkage.scoring import Scorer, level_labels

    rows = pair_features(store, model, [case_a, case_b])
    if len(rows) != 2:
        return None
    scorer = Scorer(model, rows.iloc[0:1])
    try:
        scorer._create("cl_explain", rows.iloc[1:2])
        later = scorer.api.register("cl_explain", table_name="cl_explain_in")
        # Explanations must not depend on blocking: compare the pair whatever the rules say.
        pairs = scorer.linker.inference.predict_between(
            scorer.history, later, blocking_rules_to_generate_predictions=["1=1"], warning_mode="never")
        frame = scorer._collect(pairs)
    finally:
        scorer.close()
    result = waterfall(frame.iloc[0], model, level_labels(model))
    result["linked"] = result["probability"] >= model.series_threshold
    return result
