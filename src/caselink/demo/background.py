"""The background: deaths reported to police that belong to no series.

Counts per kind come from a :class:`~caselink.demo.rates.CauseMix` by largest remainder, so a
build of n deaths holds exactly the documented shares (to within one death per kind); each death
is then drawn with the age, sex, place, finder, toxicology and scene flags of its kind.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from caselink.demo import narratives as text
from caselink.demo import rates
from caselink.demo.places import Site
from caselink.demo.records import (
    at_hour,
    blank_record,
    death_window,
    ethnicity,
    format_time,
    random_day,
    victim_age,
    victim_sex,
)
from caselink.demo.scene import Context, add_finder, place, record_precision

KINDS = ("natural", "suicide", "drug", "ghb", "alcohol", "fall", "fire", "drowning", "accident_other",
         "undetermined", "homicide")

# Toxicology profiles: the main drug(s), then optional co-substances each with its own chance.
DRUG_PROFILE_SUBSTANCES: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "heroin": (("heroin",), {"benzodiazepine": 0.3, "methadone": 0.15, "cocaine": 0.2, "pregabalin": 0.1}),
    "methadone": (("methadone",), {"benzodiazepine": 0.35, "heroin": 0.2, "pregabalin": 0.1}),
    "cocaine": (("cocaine",), {"heroin": 0.15, "mdma": 0.05}),
    "prescription": (("antidepressant",), {"tramadol": 0.3, "codeine": 0.25, "paracetamol": 0.2,
                                           "benzodiazepine": 0.35, "pregabalin": 0.2, "gabapentin": 0.1}),
    "stimulant_party": (("mdma",), {"ketamine": 0.3, "amphetamine": 0.3, "cocaine": 0.3, "mephedrone": 0.1}),
    "spice": (("spice",), {"heroin": 0.2}),
    "fentanyl": (("fentanyl",), {"heroin": 0.45, "cocaine": 0.35, "xylazine": 0.15, "benzodiazepine": 0.1}),
    "benzodiazepine_street": (("benzodiazepine",), {"heroin": 0.5, "methadone": 0.3, "gabapentin": 0.15}),
}


def allocate(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``n`` into whole counts proportional to ``shares`` (largest remainder, ties by name)."""
    exact = {kind: n * share for kind, share in shares.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    leftover = n - sum(counts.values())
    by_remainder = sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))
    for kind in by_remainder[:leftover]:
        counts[kind] += 1
    return counts


def substances_for(ctx: Context, profile: str) -> list[str]:
    main, extras = DRUG_PROFILE_SUBSTANCES[profile]
    found = list(main) + [name for name, chance in extras.items() if ctx.rng.random() < chance]
    if ctx.rng.random() < rates.ALCOHOL_WITH_DRUGS:
        found.append("alcohol")
    return found


def _pick(ctx: Context, weights: dict[str, float]) -> str:
    return ctx.rng.choices(list(weights), weights=list(weights.values()))[0]


def _kind_details(ctx: Context, kind: str, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Place type and the kind-specific fields; returns (place_type, details) where details holds
    cause, substances, mo, tags, narrative pool and opening verb, classification and outcome."""
    rng = ctx.rng
    age, sex = record["victim_age"], record["victim_sex"]
    d: dict[str, Any] = {"substances": [], "mo": [], "tags": [], "extra": [], "hour": (10, 4),
                         "classification": "unexpected_not_suspicious"}
    if kind == "natural":
        place_type = _pick(ctx, {"residence": 88, "street": 4, "hostel_hotel": 2, "park_open_space": 1,
                                 "workplace": 1, "transport": 1, "vehicle": 1, "other": 2})
        d.update(cause="natural", pool=text.NATURAL, hour=(11, 4),
                 classification="expected" if rng.random() < rates.NATURAL_EXPECTED
                 else "unexpected_not_suspicious")
        if age >= 80 and rng.random() < 0.3:
            d["tags"].append("elderly")
    elif kind == "suicide":
        method = _pick(ctx, rates.SUICIDE_METHODS)
        place_type = {"hanging": _pick(ctx, {"residence": 78, "woodland": 8, "park_open_space": 8, "other": 6}),
                      "drug_toxicity": _pick(ctx, {"residence": 85, "hostel_hotel": 10, "vehicle": 5}),
                      "fall": _pick(ctx, {"street": 60, "transport": 20, "waterway": 20}),
                      "drowning": "waterway", "other": "transport",
                      "sharp_force": "residence", "asphyxia": _pick(ctx, {"residence": 80, "vehicle": 20})}[method]
        d.update(cause=method, pool=text.SUICIDE, hour=(12, 6))
        if method == "drug_toxicity":
            d["substances"] = substances_for(ctx, "prescription")
        if rng.random() < rates.SUICIDE_NOTE_FOUND:
            d["mo"].append("note_found")
            d["extra"].append("A note was found.")
        if rng.random() < 0.3:
            d["tags"].append("mental_health")
        if rng.random() < 0.08:
            d["classification"] = "unexpected_under_investigation"
    elif kind in ("drug", "ghb"):
        if kind == "drug":
            place_type = _pick(ctx, {"residence": 60, "hostel_hotel": 15, "street": 8, "park_open_space": 5,
                                     "public_toilet": 5, "other": 7})
            d["substances"] = substances_for(ctx, _pick(ctx, ctx.drug_profiles))
            d.update(pool=text.DRUG, hour=(10, 4))
            if rng.random() < 0.4:
                d["tags"].append("drug_user")
        else:
            place_type = _pick(ctx, {"residence": 80, "hostel_hotel": 8, "other": 7, "street": 5})
            d["substances"] = ["ghb"] + [s for s, p in (("mephedrone", 0.4), ("methamphetamine", 0.35),
                                                        ("alcohol", 0.4), ("ketamine", 0.15)) if rng.random() < p]
            d.update(pool=text.GHB, hour=(9, 3))
            if sex == "M" and rng.random() < 0.75:
                d["tags"].append("gay_bisexual_men")
        d["cause"] = "drug_toxicity"
        if place_type in ("hostel_hotel", "street", "park_open_space", "public_toilet") and rng.random() < 0.5:
            d["tags"].append("homeless")
        if rng.random() < rates.DRUG_PARAPHERNALIA:
            d["mo"].append("drug_paraphernalia")
        if place_type in ("street", "park_open_space") and rng.random() < 0.15:
            d["mo"].append("propped_sitting")
            d["extra"].append("Found slumped in a sitting position.")
        if rng.random() < 0.15:
            d["classification"] = "unexpected_under_investigation"
    elif kind == "alcohol":
        place_type = _pick(ctx, {"residence": 75, "street": 10, "park_open_space": 10, "hostel_hotel": 5})
        d.update(cause="natural" if rng.random() < 0.7 else "drug_toxicity", substances=["alcohol"],
                 pool=text.ALCOHOL)
        if place_type != "residence" and rng.random() < 0.6:
            d["tags"].append("homeless")
        if rng.random() < 0.3:
            d["mo"].append("injuries_minor")
    elif kind == "fall":
        place_type = _pick(ctx, {"residence": 90, "street": 10})
        d.update(cause="fall", pool=text.FALL)
        if rng.random() < 0.5:
            d["mo"].append("injuries_minor")
    elif kind == "fire":
        place_type = _pick(ctx, {"residence": 95, "vehicle": 3, "other": 2})
        d.update(cause="fire", pool=text.FIRE, hour=(4, 4))
        if rng.random() < 0.3:
            d["substances"] = ["alcohol"]
        if rng.random() < 0.15:
            d["classification"] = "unexpected_under_investigation"
    elif kind == "drowning":
        place_type = _pick(ctx, {"waterway": 90, "residence": 10})
        d.update(cause="drowning", pool=text.UNDETERMINED + text.ALCOHOL, hour=(10, 4))
        if rng.random() < 0.4:
            d["substances"] = ["alcohol"]
    elif kind == "accident_other":
        place_type = _pick(ctx, {"residence": 60, "workplace": 20, "street": 10, "vehicle": 10})
        d.update(cause=_pick(ctx, {"asphyxia": 40, "other": 60}), pool=text.ACCIDENT)
    elif kind == "undetermined":
        place_type = _pick(ctx, {"residence": 80, "waterway": 10, "woodland": 5, "park_open_space": 5})
        d.update(cause="undetermined", pool=text.UNDETERMINED,
                 classification="unexpected_under_investigation" if rng.random() < 0.7
                 else "unexpected_not_suspicious")
    else:  # homicide
        cause = _pick(ctx, ctx.homicide_causes)
        domestic = rng.random() < rates.HOMICIDE_DOMESTIC
        place_type = "residence" if domestic else _pick(ctx, {"street": 60, "residence": 15,
                                                               "park_open_space": 10, "vehicle": 5,
                                                               "transport": 5, "other": 5})
        d.update(cause=cause, pool=text.HOMICIDE.get(cause, text.HOMICIDE["undetermined"]), hour=(1, 5),
                 classification="homicide")
        for flag, chance in (("phone_missing", 0.1), ("property_missing", 0.15), ("body_moved", 0.05),
                             ("clothing_disturbed", 0.08), ("bedding_cover", 0.05 if domestic else 0.0),
                             ("restraint", 0.03), ("forced_entry", 0.04), ("concealed", 0.03)):
            if rng.random() < chance:
                d["mo"].append(flag)
        if sex == "F" and rng.random() < 0.08:
            d["mo"].append("sexual_assault_indicators")
    return place_type, d


def outcome_for(ctx: Context, classification: str) -> str:
    """What the record says happened next: homicides mostly solved (Met data: 95% in 2013-15)."""
    rng = ctx.rng
    if classification == "homicide":
        return _pick(ctx, {"convicted": 70, "charged": 25, "open": 5})
    if classification == "unexpected_under_investigation":
        return _pick(ctx, {"open": 40, "no_further_action": 45, "referred_to_coroner": 15})
    return "no_further_action" if rng.random() < 0.7 else "referred_to_coroner"


def make_death(ctx: Context, kind: str, *, day: date | None = None, at: dict[str, Any] | None = None,
               site: Site | None = None, finder: tuple[str, str | None] | None = None,
               age: int | None = None, sex: str | None = None, cause: str | None = None,
               substances: list[str] | None = None, tags: tuple[str, ...] = (), mo: tuple[str, ...] = (),
               extra: tuple[str, ...] = (), classification: str | None = None,
               pool: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One death of ``kind`` (see KINDS), as a raw record without a case id.

    The keyword arguments pin what a confounder or a planted series needs fixed (the day, the spot,
    the finder as (phrase, entity), the victim, the method); everything else is drawn exactly as for
    any background death, so pinned records cannot be told apart by how they were made.
    """
    rng = ctx.rng
    record = blank_record(ctx.region)
    record["victim_age"] = age if age is not None else victim_age(rng, kind)
    record["victim_sex"] = sex or victim_sex(rng, kind)
    place_type, d = _kind_details(ctx, kind, record)
    if at is None:
        at, site = place(ctx, place_type)
        record.update(at)
        record_precision(ctx, record)
    else:
        record.update(at)
    record["victim_tags"] = list(dict.fromkeys(d["tags"] + list(tags)
                                               + (["migrant"] if rng.random() < 0.04 else [])))
    record["victim_ethnicity"] = ethnicity(rng, ctx.region)
    record["cause"] = cause or d["cause"]
    if kind == "homicide":  # the sentences must fit the method actually recorded
        d["pool"] = text.HOMICIDE.get(record["cause"], text.HOMICIDE["undetermined"])
    record["substances"] = list(substances) if substances is not None else d["substances"]
    record["mo"] = list(dict.fromkeys(d["mo"] + list(mo)))
    if rng.random() < rates.PHONE_MISSING_BACKGROUND and "phone_missing" not in record["mo"]:
        record["mo"].append("phone_missing")
    if record["place_type"] != "residence" and rng.random() < 0.1:
        record["mo"].append("no_id")
    if record["place_type"] != "residence":  # nobody forces entry to a street
        record["mo"] = [flag for flag in record["mo"] if flag != "forced_entry"]
    record["mo"] = list(dict.fromkeys(record["mo"]))
    if day is None:
        day = random_day(rng, ctx.start, ctx.end, winter_weighted=kind in ("natural", "fall", "fire"))
    found = at_hour(rng, day, *d["hour"])
    record["found_at"] = format_time(found, ctx.region)
    window = death_window(rng, found, 72 if record["place_type"] == "residence" else 12)
    if window:
        record["died_from"], record["died_to"] = (format_time(t, ctx.region) for t in window)
    if finder is None:
        finder_words = add_finder(ctx, record, site)
    else:
        finder_words = finder[0]
        if finder[1]:
            record["entities"].append(finder[1])
    record["classification"] = classification or d["classification"]
    record["outcome"] = outcome_for(ctx, record["classification"])
    opening = (f"{text.who(record['victim_age'], record['victim_sex'])} found "
               f"{text.where(rng, record['place_type'], record['area'])} by {finder_words}.")
    record["narrative"] = text.compose(rng, opening, pool if pool is not None else d["pool"],
                                       d["extra"] + list(extra),
                                       k=rng.choice((1, 1, 2)))
    if rng.random() < 0.04:  # reports with no narrative at all
        record["narrative"] = None
    return record


def generate_background(ctx: Context, counts: dict[str, int]) -> list[dict[str, Any]]:
    """``counts[kind]`` deaths of each kind, in KINDS order (so a seed gives one sequence)."""
    return [make_death(ctx, kind) for kind in KINDS for _ in range(counts.get(kind, 0))]
