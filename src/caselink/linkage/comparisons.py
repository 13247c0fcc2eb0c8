"""The comparisons and blocking rules that matter for series of deaths, as Splink settings.

Each comparison is an ordered list of levels (null first, the most telling agreement next, "else"
last), each a DuckDB SQL predicate plus the label an analyst reads in an explanation.  Levels
that depend on rarity read the *later* case's as-of rarity lists (``features.py``), so a pair is
judged with what was known when the second case arrived.

The m and u values here are only starting points; ``training.py`` replaces them, and the shipped
``caselink/data/default_model.json`` holds the fitted ones.
"""

from __future__ import annotations

from typing import Any

MAX_GAP_DAYS = 730      # attribute rules (rare substance, flag, tag, entity-free)
NEAR_GAP_DAYS = 365     # the space-time rule: cases within 2 km and a year are always compared
WIDE_GAP_DAYS = 30      # the wider rule: cases in one 12 km cell within a month are compared too

_CENTRES_KM = "sqrt(pow(x_km_l - x_km_r, 2) + pow(y_km_l - y_km_r, 2))"
_BLUR_KM = "(prec_km_l + prec_km_r)"
# The distance a pair is judged at, honouring location_precision_m: the closest the two deaths can
# have been (centres less both blurs), but never closer than half the combined blur.  Why the floor:
# two points known to 50 km each are not "within 0.25 km" because their circles overlap; blurred
# points are, on average, about that far apart even when their recorded centres coincide.  Exact
# locations (precision 0) are judged at their distance.
DISTANCE_SQL = f"greatest({_CENTRES_KM} - {_BLUR_KM}, {_BLUR_KM} / 2)"
# The least the two deaths can have been apart: "elsewhere" (a kind of place or a person seen at two
# different spots) must be certain, so blurred points that may be one spot are not elsewhere.
APART_SQL = f"greatest(0, {_CENTRES_KM} - prec_km_l - prec_km_r)"
# Locations too coarse for any level to say anything: blurs that together pass COARSE_KM, unless the
# deaths were certainly further apart than that.  Compared as not recorded (no evidence either way).
COARSE_KM = 15
DISTANCE_NULL_SQL = (f"x_km_l IS NULL OR x_km_r IS NULL OR "
                     f"({_BLUR_KM} > {COARSE_KM} AND {_CENTRES_KM} - {_BLUR_KM} <= {COARSE_KM})")
# Days between the two death windows ([t_lo, t_hi]: died_from..died_to, else the day found).
OVERLAP_GAP_SQL = "greatest(0, greatest(t_lo_l, t_lo_r) - least(t_hi_l, t_hi_r))"
_WINDOWS_DAYS = "((t_hi_l - t_lo_l) + (t_hi_r - t_lo_r))"
# The gap a pair is judged at: as with blurred locations, two deaths known only to within wide windows
# are not "within 3 days" because the windows overlap; they are judged at no less than half the two
# windows together.  Deaths dated to a day (windows of 0) are judged at their gap.
GAP_SQL = f"greatest({OVERLAP_GAP_SQL}, {_WINDOWS_DAYS} / 2)"
# Windows too wide for any level to say anything (remains found years on, a placeholder died_from
# of 1900): compared as not recorded unless the deaths were certainly more than a year apart.
WIDE_WINDOWS_DAYS = 365
GAP_NULL_SQL = (f"t_lo_l IS NULL OR t_lo_r IS NULL OR "
                f"({_WINDOWS_DAYS} > {WIDE_WINDOWS_DAYS} AND {OVERLAP_GAP_SQL} <= {WIDE_WINDOWS_DAYS})")


def _later_has(rare_list: str, full_list: str) -> str:
    """Whether the later case's rare list shares a token with the earlier case's full list."""
    return (f"(CASE WHEN found_day_l >= found_day_r THEN list_has_any({rare_list}_l, {full_list}_r) "
            f"ELSE list_has_any({rare_list}_r, {full_list}_l) END)")


def _later_tier(column: str) -> str:
    """The later case's rarity tier of its own value (``features.rarity_tiers``)."""
    return f"(CASE WHEN found_day_l >= found_day_r THEN {column}_l ELSE {column}_r END)"


def _given_cause(same_cause_sql: str, otherwise_sql: str) -> str:
    """``same_cause_sql`` when the two cases share their cause, else ``otherwise_sql``.

    Why: a flag or a kind of place that usually comes with a cause (``fire_set`` with fire, a
    waterway with drowning) is no new evidence once the shared cause has been counted, so for
    same-cause pairs its rarity is taken among earlier cases of that cause (``mo_cbits``,
    ``place_ctier`` in ``features.py``).
    """
    return f"(CASE WHEN cause_l = cause_r THEN {same_cause_sql} ELSE {otherwise_sql} END)"


# Causes an offender's method can produce either of, depending on who records it: a strangling is
# "ligature" to one pathologist and "asphyxia" to another, and a staged hanging is "hanging".
CAUSE_FAMILIES = (("asphyxia", "ligature", "hanging"), ("blunt_force", "sharp_force"))


def _related_causes() -> str:
    families = [", ".join(f"'{c}'" for c in family) for family in CAUSE_FAMILIES]
    return "(" + " OR ".join(f"(cause_l IN ({f}) AND cause_r IN ({f}))" for f in families) + ")"


def _shared(column: str) -> str:
    return f"len(list_intersect({column}_l, {column}_r))"


NARRATIVE_COSINE_SQL = (
    # The weights are named outside the lambda too: Splink finds a level's input columns by parsing
    # its SQL and does not look inside lambda bodies.
    "(len(narr_weights_l) + len(narr_weights_r) > 0)::INT * "
    "coalesce(list_sum(list_transform(list_intersect(narr_terms_l, narr_terms_r), "
    "lambda t: narr_weights_l[list_position(narr_terms_l, t)] * narr_weights_r[list_position(narr_terms_r, t)])), 0)"
)


def _shared_bits(tokens: str, bits: str) -> str:
    """Total information of the shared tokens, Σ −log2(share), in the later case's view.

    Why a sum: propped_sitting and phone_missing together say far more than either alone, and a
    common flag adds almost nothing.  The bit lists are named outside the lambdas too, because
    Splink finds a level's input columns by parsing its SQL and does not look inside lambda bodies.
    """
    def total(side: str) -> str:
        return (f"coalesce(list_sum(list_transform(list_intersect({tokens}_l, {tokens}_r), "
                f"lambda t: {bits}_{side}[list_position({tokens}_{side}, t)])), 0)")
    return (f"(0 * (len({bits}_l) + len({bits}_r)) + CASE WHEN found_day_l >= found_day_r "
            f"THEN {total('l')} ELSE {total('r')} END)")


def _level(sql: str, label: str, m: float, u: float) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _null(sql: str, label: str = "not recorded") -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, "is_null_level": True}


def _else(m: float, u: float, label: str = "different") -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": label, "m_probability": m, "u_probability": u}


def _comparison(name: str, description: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"output_column_name": name, "comparison_description": description, "comparison_levels": levels}


def comparisons() -> list[dict[str, Any]]:
    """The comparison list, in the order explanations show it."""
    d = DISTANCE_SQL
    g = GAP_SQL
    mo_bits = _given_cause(_shared_bits("mo", "mo_cbits"), _shared_bits("mo", "mo_bits"))
    place_tier = _given_cause(_later_tier("place_ctier"), _later_tier("place_tier"))
    return [
        _comparison("distance", "distance between where found, less location blurring", [
            _null(DISTANCE_NULL_SQL, "not recorded, or too coarse to compare"),
            _level(f"{d} <= 0.25", "within 0.25 km", 0.25, 0.001),
            _level(f"{d} <= 0.5", "within 0.5 km", 0.15, 0.002),
            _level(f"{d} <= 1", "within 1 km", 0.15, 0.006),
            _level(f"{d} <= 2", "within 2 km", 0.15, 0.02),
            _level(f"{d} <= 3.5", "within 3.5 km", 0.1, 0.04),
            _level(f"{d} <= 6", "within 6 km", 0.1, 0.1),
            _level(f"{d} <= 15", "within 15 km", 0.07, 0.37),
            _else(0.03, 0.461, "more than 15 km"),
        ]),
        _comparison("time_gap", "days between the deaths (windows when known)", [
            _null(GAP_NULL_SQL, "not recorded, or the windows of death too wide to compare"),
            _level(f"{g} <= 3", "within 3 days", 0.08, 0.005),
            _level(f"{g} <= 10", "within 10 days", 0.1, 0.015),
            _level(f"{g} <= 30", "within a month", 0.2, 0.04),
            _level(f"{g} <= 60", "within 2 months", 0.17, 0.06),
            _level(f"{g} <= 120", "within 4 months", 0.2, 0.1),
            _level(f"{g} <= 365", "within a year", 0.15, 0.3),
            _else(0.1, 0.48, "more than a year"),
        ]),
        _comparison("place_type", "kind of place", [
            _null("place_type_l IS NULL OR place_type_r IS NULL"),
            # Only at different spots: two deaths at one hostel share its kind of place trivially, and
            # the distance comparison already counts that they are close.
            _level(f"place_type_l = place_type_r AND {place_tier} >= 2 AND {APART_SQL} > 0.5",
                   "same unusual kind of place, elsewhere (<2% of cases)", 0.2, 0.001),
            _level(f"place_type_l = place_type_r AND {place_tier} >= 1 AND {APART_SQL} > 0.5",
                   "same uncommon kind of place, elsewhere (<10% of cases)", 0.2, 0.01),
            _level("place_type_l = place_type_r", "same kind of place", 0.3, 0.29),
            _else(0.3, 0.7),
        ]),
        _comparison("cause", "cause of death", [
            _null("cause_l IS NULL OR cause_r IS NULL OR cause_l = 'undetermined' OR cause_r = 'undetermined'"),
            _level(f"cause_l = cause_r AND {_later_tier('cause_tier')} >= 2", "same rare cause (<2% of deaths)",
                   0.3, 0.0005),
            _level(f"cause_l = cause_r AND {_later_tier('cause_tier')} >= 1",
                   "same uncommon cause (<10% of deaths)", 0.2, 0.005),
            _level(f"cause_l <> cause_r AND {_related_causes()}",
                   "related causes (both neck or airway compression, or both blunt or sharp force)", 0.15, 0.01),
            _level("cause_l = cause_r", "same cause", 0.3, 0.245),
            _else(0.2, 0.75),
        ]),
        _comparison("substances", "toxicology, weighted by how rare the shared substance is", [
            _null("len(substances_l) = 0 OR len(substances_r) = 0"),
            _level(_later_has("sub_vrare", "substances"), "shared very rare substance (<3% of toxicology)", 0.6, 0.005),
            _level(_later_has("sub_rare", "substances"), "shared uncommon substance (<10% of toxicology)", 0.15, 0.03),
            _level(f"{_shared('substances')} > 0", "shared common substance", 0.1, 0.2),
            _else(0.15, 0.789, "no substance in common"),
        ]),
        _comparison("mo", "scene and behaviour flags: total information of those shared", [
            _null("len(mo_l) = 0 OR len(mo_r) = 0"),
            _level(f"{mo_bits} >= 16", "shared flags worth 16+ bits (several rare flags)", 0.2, 0.0001),
            _level(f"{mo_bits} >= 12", "shared flags worth 12-16 bits", 0.2, 0.0005),
            _level(f"{mo_bits} >= 8", "shared flags worth 8-12 bits (a very rare flag)", 0.2, 0.003),
            _level(f"{mo_bits} >= 5", "shared flags worth 5-8 bits (a rare flag)", 0.15, 0.02),
            _level(f"{mo_bits} >= 2.5", "shared flags worth 2.5-5 bits (an uncommon flag)", 0.1, 0.08),
            _level(f"{mo_bits} > 0", "shared common flags only", 0.1, 0.2),
            _else(0.05, 0.597, "no flag in common"),
        ]),
        _comparison("victim_sex", "sex of the victim", [
            _null("victim_sex_l IS NULL OR victim_sex_r IS NULL OR victim_sex_l = 'U' OR victim_sex_r = 'U'"),
            _level("victim_sex_l = victim_sex_r", "same sex", 0.95, 0.55),
            _else(0.05, 0.45),
        ]),
        _comparison("victim_age", "age gap between the victims", [
            _null("victim_age_l IS NULL OR victim_age_r IS NULL"),
            _level("abs(victim_age_l - victim_age_r) <= 3", "ages within 3 years", 0.5, 0.08),
            _level("abs(victim_age_l - victim_age_r) <= 10", "ages within 10 years", 0.3, 0.25),
            _else(0.2, 0.67, "ages more than 10 years apart"),
        ]),
        _comparison("victim_tags", "victim profile tags, weighted by rarity", [
            _null("len(victim_tags_l) = 0 OR len(victim_tags_r) = 0"),
            _level(_later_has("tags_rare", "victim_tags"), "a rare profile tag shared (<10% of cases)", 0.4, 0.01),
            _level(f"{_shared('victim_tags')} >= 2", "two or more profile tags shared", 0.2, 0.02),
            _level(f"{_shared('victim_tags')} > 0", "a common profile tag shared", 0.2, 0.2),
            _else(0.2, 0.77, "no profile tag in common"),
        ]),
        _comparison("entities", "people, phones, accounts, vehicles, addresses", [
            _null("len(entities_l) = 0 OR len(entities_r) = 0"),
            # The same finder at the same place is often just the place's own staff (a hostel, a park);
            # the same person at deaths far apart is a specific link.  Two levels keep that apart.
            _level(f"{_later_has('ent_rare', 'entities')} AND {APART_SQL} > 1",
                   "a shared person, phone, account or address, at different places", 0.2, 0.00005),
            _level(_later_has("ent_rare", "entities"), "a shared person, phone, account or address", 0.1, 0.0002),
            # An entity already in several cases at one spot is the spot's own (staff, a regular caller).
            _level(f"{_shared('entities')} > 0 AND {APART_SQL} > 1",
                   "a shared entity already in several cases, at different places", 0.05, 0.005),
            _else(0.65, 0.9948, "nothing shared, or only an entity already in several cases at this spot"),
        ]),
        _comparison("narrative", "narrative similarity (TF-IDF cosine, IDF as of the later case)", [
            _null("len(narr_terms_l) = 0 OR len(narr_terms_r) = 0 "
                  "OR len(narr_weights_l) = 0 OR len(narr_weights_r) = 0"),
            _level(f"{NARRATIVE_COSINE_SQL} >= 0.5", "narratives very similar", 0.2, 0.005),
            _level(f"{NARRATIVE_COSINE_SQL} >= 0.3", "narratives similar", 0.3, 0.03),
            _level(f"{NARRATIVE_COSINE_SQL} >= 0.15", "narratives somewhat similar", 0.3, 0.15),
            _else(0.2, 0.815, "narratives unalike"),
        ]),
    ]


# Comparisons whose levels run from the closest agreement to the least: a closer level must never
# weigh less, so training pools any level that would (``training.monotone``).  Victim tags mix
# "how many" with "how rare" and have no single order.
ORDERED = ("distance", "time_gap", "place_type", "cause", "substances", "mo", "victim_age", "entities", "narrative")


def blocking_rules() -> list[dict[str, Any]]:
    """Candidate pairs: near in space and time, or sharing an entity, or a rare substance or flag.

    Four grids offset by half a cell guarantee that cases within CELL_KM/2 (2 km) share a cell in at
    least one; two coarser grids (WIDE_CELL_KM) add cases a few km apart found within a month;
    every rule is an equi-join (never a cross product), so pairs grow with local density,
    not n².  Series spread wider in space or time are found through what they share.
    """
    near_in_time = f"abs(l.found_day - r.found_day) <= {MAX_GAP_DAYS}"
    within_a_year = f"abs(l.found_day - r.found_day) <= {NEAR_GAP_DAYS}"
    rules: list[dict[str, Any]] = [
        {"blocking_rule": f"l.{cell} = r.{cell} AND {within_a_year}"}
        for cell in ("cell_a", "cell_b", "cell_c", "cell_d")
    ]
    # A series moving a few km between close-together deaths (a burglar's or a strangler's patch):
    # two 12 km grids offset diagonally by half a cell, within a month.
    within_a_month = f"abs(l.found_day - r.found_day) <= {WIDE_GAP_DAYS}"
    rules.extend({"blocking_rule": f"l.{cell} = r.{cell} AND {within_a_month}"} for cell in ("wide_a", "wide_b"))
    rules.append({"blocking_rule": "l.entities = r.entities", "arrays_to_explode": ["entities"]})
    rules.append({"blocking_rule": f"l.sub_vrare = r.sub_vrare AND l.region = r.region AND {near_in_time}",
                  "arrays_to_explode": ["sub_vrare"]})
    rules.append({"blocking_rule": f"l.mo_rare = r.mo_rare AND l.region = r.region AND {near_in_time}",
                  "arrays_to_explode": ["mo_rare"]})
    rules.append({"blocking_rule": f"l.tags_rare = r.tags_rare AND l.region = r.region AND {near_in_time}",
                  "arrays_to_explode": ["tags_rare"]})
    return rules


def live_blocking_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same candidate pairs for a handful of new cases, without exploding the history's lists.

    ``l.x = r.x`` over exploded lists means "the lists share an element", i.e. ``list_has_any``; with
    one new row that is a single scan of the history instead of exploding a million lists per call.
    """
    live = []
    for rule in rules:
        arrays = rule.get("arrays_to_explode") or []
        sql = rule["blocking_rule"]
        for column in arrays:
            sql = sql.replace(f"l.{column} = r.{column}", f"list_has_any(l.{column}, r.{column})")
        live.append({"blocking_rule": sql})
    return live


def base_settings(prior: float = 1e-4) -> dict[str, Any]:
    """A complete Splink settings dictionary with the starting parameters."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": blocking_rules(),
        "comparisons": comparisons(),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
    }
