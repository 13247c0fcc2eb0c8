"""Vocabularies of the case record and the synonyms that fold into them.

Vocabularies are *open*: a value outside the list is kept and compared as a string, because
a force's export will always hold a place type or drug nobody anticipated, and dropping it
would lose a link.  The ingest reports each unknown value once so an analyst can add a synonym.
Synonyms exist so that the same fact spelt two ways ("G", "gina", "GHB") compares as equal.
"""

from __future__ import annotations

import re

INCIDENT_TYPES = ("death", "non_fatal", "missing_person")

PLACE_TYPES = (
    "residence", "hostel_hotel", "street", "park_open_space", "churchyard_cemetery", "waterway",
    "woodland", "vehicle", "workplace", "public_toilet", "transport", "other",
)

CAUSES = (
    "drug_toxicity", "asphyxia", "ligature", "blunt_force", "sharp_force", "gunshot", "drowning",
    "hanging", "fall", "fire", "natural", "undetermined", "other",
)

CLASSIFICATIONS = (
    "expected", "unexpected_not_suspicious", "unexpected_under_investigation", "homicide",
)

VICTIM_SEXES = ("F", "M", "X", "U")

ENTITY_KINDS = ("person", "phone", "account", "vehicle", "address", "email")

KNOWN_SUBSTANCES = (
    "ghb", "gbl", "alcohol", "cocaine", "heroin", "mephedrone", "methamphetamine", "ketamine",
    "benzodiazepine", "mdma", "fentanyl", "methadone", "cannabis", "amphetamine", "opioid",
    "tramadol", "pregabalin", "gabapentin", "spice", "paracetamol", "antidepressant", "insulin",
    "lsd", "nitrous_oxide", "xylazine", "nitazene", "codeine", "morphine", "oxycodone", "poppers",
)

KNOWN_MO = (
    "body_posed", "body_moved", "propped_sitting", "bedding_cover", "note_found", "phone_missing",
    "property_missing", "clothing_disturbed", "restraint", "sexual_assault_indicators",
    "drug_paraphernalia", "no_id", "injuries_minor", "forced_entry", "fire_set", "wrapped_body",
    "concealed", "staged_scene",
)

KNOWN_VICTIM_TAGS = (
    "gay_bisexual_men", "sex_worker", "homeless", "student", "migrant", "drug_user",
    "disabled", "elderly", "trans", "mental_health", "care_leaver", "lone_worker",
)

PLACE_TYPE_SYNONYMS = {
    "home": "residence", "house": "residence", "flat": "residence", "dwelling": "residence",
    "private_residence": "residence", "apartment": "residence",
    "hotel": "hostel_hotel", "hostel": "hostel_hotel", "b&b": "hostel_hotel", "b_and_b": "hostel_hotel",
    "road": "street", "pavement": "street", "alley": "street", "roadside": "street",
    "park": "park_open_space", "open_space": "park_open_space", "common": "park_open_space",
    "churchyard": "churchyard_cemetery", "cemetery": "churchyard_cemetery",
    "graveyard": "churchyard_cemetery",
    "river": "waterway", "canal": "waterway", "lake": "waterway", "dock": "waterway",
    "woods": "woodland", "forest": "woodland", "car": "vehicle", "van": "vehicle",
    "toilet": "public_toilet", "public_convenience": "public_toilet",
    "station": "transport", "railway": "transport", "bus": "transport", "train": "transport",
}

CAUSE_SYNONYMS = {
    "overdose": "drug_toxicity", "drug_overdose": "drug_toxicity", "poisoning": "drug_toxicity",
    "drug_poisoning": "drug_toxicity", "toxicity": "drug_toxicity", "od": "drug_toxicity",
    "strangulation": "ligature", "suffocation": "asphyxia", "smothering": "asphyxia",
    "stabbing": "sharp_force", "knife": "sharp_force", "stab_wound": "sharp_force",
    "shooting": "gunshot", "firearm": "gunshot", "gun": "gunshot",
    "assault": "blunt_force", "beating": "blunt_force", "head_injury": "blunt_force",
    "burns": "fire", "arson": "fire", "hanged": "hanging", "drowned": "drowning",
    "natural_causes": "natural", "unknown": "undetermined", "unascertained": "undetermined",
    # As medical examiners and coroners write them (US and UK exports).
    "gunshot_wound": "gunshot", "gunshot_wounds": "gunshot", "gsw": "gunshot", "shot": "gunshot",
    "shotgun_wound": "gunshot", "firearms": "gunshot",
    "stab_wounds": "sharp_force", "multiple_stab_wounds": "sharp_force", "stabbed": "sharp_force",
    "sharp_force_injury": "sharp_force", "sharp_force_injuries": "sharp_force", "incised_wound": "sharp_force",
    "blunt_force_trauma": "blunt_force", "blunt_trauma": "blunt_force", "blunt_force_injury": "blunt_force",
    "blunt_force_injuries": "blunt_force", "blunt_head_injury": "blunt_force",
    "drug_intoxication": "drug_toxicity", "acute_drug_intoxication": "drug_toxicity",
    "mixed_drug_toxicity": "drug_toxicity", "multiple_drug_toxicity": "drug_toxicity",
    "acute_intoxication": "drug_toxicity", "drug_related": "drug_toxicity", "drug_related_death": "drug_toxicity",
    "asphyxiation": "asphyxia", "smothered": "asphyxia", "strangled": "ligature", "ligature_strangulation": "ligature",
    "manual_strangulation": "asphyxia", "neck_compression": "asphyxia",
    "hanged_himself": "hanging", "hanged_herself": "hanging", "suspension": "hanging",
    "drowned_in_water": "drowning", "immersion": "drowning",
    "burns_and_smoke_inhalation": "fire", "smoke_inhalation": "fire", "thermal_injuries": "fire",
    "fall_from_height": "fall", "fell": "fall", "falls": "fall",
    "natural_disease": "natural", "disease": "natural", "pending": "undetermined", "open": "undetermined",
    # The Met's published "method of killing" (homicides 2003-2023).
    "knife_or_sharp_implement": "sharp_force", "blunt_implement": "blunt_force",
    "physical_assault_no_weapon": "blunt_force", "physical_assault,_no_weapon": "blunt_force",
    "other_methods_of_killing": "other",
}

CLASSIFICATION_SYNONYMS = {
    "not_suspicious": "unexpected_not_suspicious", "non_suspicious": "unexpected_not_suspicious",
    "non-suspicious": "unexpected_not_suspicious", "unexplained_not_suspicious": "unexpected_not_suspicious",
    "under_investigation": "unexpected_under_investigation", "suspicious": "unexpected_under_investigation",
    "unexplained": "unexpected_under_investigation", "murder": "homicide", "manslaughter": "homicide",
    "expected_death": "expected",
}

INCIDENT_TYPE_SYNONYMS = {
    "fatal": "death", "died": "death", "nonfatal": "non_fatal", "non-fatal": "non_fatal",
    "missing": "missing_person",
}

SEX_SYNONYMS = {
    "f": "F", "female": "F", "woman": "F", "w": "F", "m": "M", "male": "M", "man": "M",
    "x": "X", "other": "X", "nonbinary": "X", "non-binary": "X", "non_binary": "X",
    "u": "U", "unknown": "U", "not_known": "U", "not known": "U", "n/k": "U", "n.k.": "U", "unk": "U",
}

# Street names and spellings seen in toxicology and police reports.  GBL is kept distinct from GHB:
# it is a precursor with its own supply chain, and a series may hinge on which one was used.
SUBSTANCE_SYNONYMS = {
    "g": "ghb", "gina": "ghb", "liquid_ecstasy": "ghb", "liquid_e": "ghb", "liquid_x": "ghb",
    "gamma_hydroxybutyrate": "ghb", "gamma_hydroxybutyric_acid": "ghb", "sodium_oxybate": "ghb",
    "gamma_butyrolactone": "gbl", "ethanol": "alcohol", "etoh": "alcohol", "alcohol_ethanol": "alcohol",
    "coke": "cocaine", "crack": "cocaine", "crack_cocaine": "cocaine", "benzoylecgonine": "cocaine",
    "diamorphine": "heroin", "smack": "heroin", "6_mam": "heroin", "6-mam": "heroin",
    "meth": "methamphetamine", "crystal_meth": "methamphetamine", "crystal": "methamphetamine",
    "tina": "methamphetamine", "ice": "methamphetamine",
    "mcat": "mephedrone", "m_cat": "mephedrone", "meow_meow": "mephedrone", "4_mmc": "mephedrone",
    "4-mmc": "mephedrone", "k": "ketamine", "special_k": "ketamine", "ket": "ketamine",
    "ecstasy": "mdma", "molly": "mdma", "benzo": "benzodiazepine", "benzos": "benzodiazepine",
    "benzodiazepines": "benzodiazepine", "speed": "amphetamine", "weed": "cannabis",
    "thc": "cannabis", "synthetic_cannabinoid": "spice", "synthetic_cannabinoids": "spice",
    "opiate": "opioid", "opiates": "opioid", "opioids": "opioid", "laughing_gas": "nitrous_oxide",
    # As toxicology reports name them.
    "ethyl_alcohol": "alcohol", "blood_alcohol": "alcohol", "cocaine_metabolite": "cocaine",
    "morphine_(heroin)": "heroin", "diacetylmorphine": "heroin", "fentanyl_analog": "fentanyl",
    "fentanyl_analogue": "fentanyl", "illicit_fentanyl": "fentanyl", "diazepam": "benzodiazepine",
    "alprazolam": "benzodiazepine", "etizolam": "benzodiazepine", "clonazepam": "benzodiazepine",
    "lorazepam": "benzodiazepine", "temazepam": "benzodiazepine", "street_benzodiazepine": "benzodiazepine",
    "methylamphetamine": "methamphetamine", "3,4_methylenedioxymethamphetamine": "mdma",
    "synthetic_cannabinoid_receptor_agonist": "spice", "scra": "spice", "gamma_hydroxybutyrate_(ghb)": "ghb",
    "3,4_mdma": "mdma", "3,4_methylenedioxy_methamphetamine": "mdma",
}

# Values that say "not recorded" rather than give a value, as exports write them (R's NA, SQL's NULL,
# pandas' nan, a dash typed in a spreadsheet), in their token form.  Kept as values they would match
# each other: two deaths with cause "n/a" would share a "rare cause", two with toxicology "none" a
# "very rare substance".  So they are read as empty, and the import says so.
MISSING_MARKERS = frozenset({
    "", "na", "n/a", "n_a", "n.a.", "#n/a", "null", "nil", "none", "nan", "missing", "unknown", "?", "??",
    "not_recorded", "not_known", "not_stated", "not_applicable", "not_available", "none_recorded", "tbc",
    "not_reported",
    # UK forms write "not known" as N/K; spreadsheets turn a typed dash into an en or em dash.
    "n/k", "n_k", "n.k.", "unk", "unk.", "\u2013", "\u2014", "\u2013\u2013", "\u2014\u2014",
    # pandas' missing value as ``astype(str)`` writes it in a nullable column.
    "<na>",
})
# pandas' missing time ("NaT") is a marker only in a time field: elsewhere it may be a name (Nat).
TIME_FIELDS = frozenset({"found_at", "died_from", "died_to"})
# Toxicology results that mean "nothing found" or "no result yet": no substance to compare.
NO_SUBSTANCE_MARKERS = frozenset({
    "none_detected", "nothing_detected", "negative", "not_tested", "not_done", "no_drugs_detected",
    "no_drugs", "nothing_found", "pending", "awaited", "awaiting_results", "awaiting_toxicology",
})

# Entity values that name nobody: shared by unrelated cases, each would be "the same person" (+17
# bits).  A phone needs at least MIN_PHONE_DIGITS digits ("withheld" has none, 999 is the call itself).
ENTITY_PLACEHOLDERS = frozenset({
    "anonymous", "anon", "withheld", "number_withheld", "private_number", "unidentified", "no_name",
    "not_given", "refused", "no_fixed_abode", "nfa", "no_fixed_address", "member_of_public",
    "member_of_the_public", "mop",
})
MIN_PHONE_DIGITS = 5

_SPACES = re.compile(r"[\s\-]+")


def token(value: str) -> str:
    """Fold a free-typed label to its comparable form: lower case, words joined by underscores."""
    return _SPACES.sub("_", value.strip().lower()).strip("_")


def is_missing_marker(value: str, field: str | None = None) -> bool:
    """Whether a raw value only says "not recorded" (``MISSING_MARKERS``; for substances also
    ``NO_SUBSTANCE_MARKERS``).  Long values are never markers, so narratives are not folded."""
    if len(value) > 24 or value[:1].isdigit():  # no marker starts with a digit: dates and numbers skip the fold
        return False
    folded = token(value)
    return (folded in MISSING_MARKERS or (field == "substances" and folded in NO_SUBSTANCE_MARKERS)
            or (field in TIME_FIELDS and folded == "nat"))


def is_placeholder_entity(entity: str) -> bool:
    """Whether a normalised ``kind:value`` names nobody (a missing marker, a placeholder, a phone
    number too short to be one)."""
    kind, _sep, value = entity.partition(":")
    if kind == "phone":
        return len(value.lstrip("+")) < MIN_PHONE_DIGITS
    folded = token(value)
    return folded in MISSING_MARKERS or folded in ENTITY_PLACEHOLDERS


def fold(value: str, synonyms: dict[str, str]) -> str:
    """Token form of ``value`` with a known synonym replaced by its canonical name."""
    folded = token(value)
    return synonyms.get(folded, folded)
