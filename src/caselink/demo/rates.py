"""Every rate the demo generator uses, each with its public source or marked as an estimate.

The background must look like what a police force actually receives, or a linkage model tuned on
it would be tuned on a fiction: so the daily volume, the mix of causes, who dies of what and where
are taken from published statistics (see ``docs/demo.md`` for the full citations and how each
London figure was scaled to the seven East London boroughs).  A figure marked *estimate* has no
single published source and was set by reasoning stated beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Volume -------------------------------------------------------------------------------------

# HMICFRS (27 April 2023), "An inspection of the Metropolitan Police Service's response to lessons
# from the Stephen Port murders": in 2022 the MPS received 10,978 death reports, "30 per day", just
# over 21% of deaths registered in London.
MET_DEATH_REPORTS_2022 = 10_978
MET_DEATH_REPORTS_PER_DAY = MET_DEATH_REPORTS_2022 / 365
LONDON_POPULATION = 8_800_000  # ONS Census 2021 (8,799,800); the Met area excludes only the City

# Death reports per 1,000 residents per year, used to size other areas (estimate: the London figure
# applied elsewhere; Scotland and US cities are adjusted in places.Region.report_rate_per_1000).
REPORTS_PER_1000_PER_YEAR = MET_DEATH_REPORTS_2022 / LONDON_POPULATION * 1000  # about 1.25

# ONS mid-year population estimates 2014 (rounded), the boroughs of the demo's background.
EAST_LONDON_POPULATION = {
    "Barking and Dagenham": 198_000,
    "Newham": 324_000,
    "Tower Hamlets": 284_000,
    "Hackney": 264_000,
    "Waltham Forest": 268_000,
    "Redbridge": 293_000,
    "Havering": 245_000,
}
LONDON_POPULATION_2014 = 8_540_000  # ONS mid-2014 estimate
EAST_LONDON_SHARE = sum(EAST_LONDON_POPULATION.values()) / LONDON_POPULATION_2014  # about 0.22

# Window of the Barking demo: mid-2013 to the end of October 2015 (the series was linked in
# October 2015), 853 days.
DEMO_START = "2013-07-01"
DEMO_END = "2015-10-31"

# At the Met's rate scaled by population share, the seven boroughs would see about 6.6 reports a
# day, about 5,600 over the window; the demo's default of 5,000 is slightly below that (the 2022
# rate applied to 2013-15, when London's population was ~3% smaller and reporting practice older).
EAST_LONDON_REPORTS_PER_DAY = MET_DEATH_REPORTS_PER_DAY * EAST_LONDON_SHARE

# --- GHB ----------------------------------------------------------------------------------------

# After the Port convictions the Met reviewed 58 GHB-related deaths across London between June 2011
# and October 2015 (Evening Standard, Nov 2016; MPS "Review of GHB deaths (2011-15)", final report
# 2019): 58 over 4.33 years = 13.4 a year, 0.12% of the Met's annual death reports.
MET_GHB_DEATHS_REVIEWED = 58
MET_GHB_REVIEW_YEARS = 4.33
GHB_SHARE_OF_REPORTS = MET_GHB_DEATHS_REVIEWED / MET_GHB_REVIEW_YEARS / MET_DEATH_REPORTS_2022

# --- Homicide -----------------------------------------------------------------------------------

# Met homicide dashboard via the stCEG package (shared/data/met-homicides): the seven East London
# boroughs recorded 80 homicides in 2013-2015 (26.7 a year); London 84-112 a year in 2013-2015 and
# 106 in 2022; ONS "Homicide in England and Wales" gives the same order (100-150 a year in London).
EAST_LONDON_HOMICIDES_PER_YEAR = 80 / 3
# Method mix of those 80 (knife 62.5%, physical assault 15%, shooting 7.5%, other 7.5%, not known
# 5%, blunt implement 2.5%), mapped to the cause vocabulary; "other" split between asphyxia and
# ligature (estimate; ONS puts strangulation/asphyxia at ~7% nationally).
HOMICIDE_CAUSES = {
    "sharp_force": 0.625, "blunt_force": 0.175, "gunshot": 0.075, "ligature": 0.04, "asphyxia": 0.035,
    "undetermined": 0.05,
}
HOMICIDE_MALE = 0.64  # same source: 63.8% male victims
HOMICIDE_DOMESTIC = 0.36  # same source: 36.2% flagged domestic abuse

# --- Suicide ------------------------------------------------------------------------------------

# ONS "Suicides in the UK: 2015 registrations": London about 650 a year (rate ~7.5 per 100,000);
# three quarters male; hanging/strangulation/suffocation 56%, poisoning 21% (women 36%), falls and
# jumps 4-5%, drowning 4%, other (incl. railway and sharp instrument) the rest.  Share of police
# death reports = 650 / 10,978.
SUICIDES_LONDON_PER_YEAR = 650
SUICIDE_MALE = 0.75
SUICIDE_METHODS = {
    "hanging": 0.56, "drug_toxicity": 0.21, "fall": 0.07, "drowning": 0.04, "other": 0.07,
    "sharp_force": 0.03, "asphyxia": 0.02,
}
SUICIDE_NOTE_FOUND = 0.25  # estimate: studies of coroners' records find notes in 25-30% of suicides

# --- Drug poisoning ------------------------------------------------------------------------------

# ONS "Deaths related to drug poisoning in England and Wales: 2015 registrations": London about 330
# drug-poisoning deaths a year (incl. suicides by poisoning, counted here under suicide, so ~250 of
# misuse/accident); about 70% male; most at ages 30-49.  Substance mentions: heroin/morphine ~33%,
# methadone ~12%, cocaine ~9%, benzodiazepines ~10%, antidepressants ~13%, tramadol ~6%.
DRUG_MISUSE_LONDON_PER_YEAR = 250
DRUG_MALE = 0.70
# Toxicology profiles of accidental drug deaths (weights from the ONS mentions above, estimate for
# how they combine); each profile lists the main drug(s) and optional co-substances.
DRUG_PROFILES = {
    "heroin": 0.38, "methadone": 0.10, "cocaine": 0.12, "prescription": 0.28, "stimulant_party": 0.07,
    "spice": 0.05,
}
ALCOHOL_WITH_DRUGS = 0.35  # estimate: alcohol is present in roughly a third of drug-poisoning deaths
DRUG_PARAPHERNALIA = 0.45  # estimate: share of drug deaths with paraphernalia noted at the scene

# --- Other causes (shares of all death reports) ---------------------------------------------------

# Estimates anchored where a figure exists: alcohol-specific deaths found in the community (ONS
# alcohol-specific deaths ~650 a year in London, about a third outside hospital); accidental falls
# of older people at home; London Fire Brigade ~50 fire deaths a year (0.45%); accidental drowning
# (RoSPA/WAID ~25 a year in London); "other" accidents such as choking, carbon monoxide or
# hypothermia; and deaths left undetermined (decomposed or unascertained).
OTHER_SHARES = {
    "alcohol": 0.022, "fall": 0.040, "fire": 0.0045, "drowning": 0.0025, "accident_other": 0.008,
    "undetermined": 0.015,
}


@dataclass(frozen=True)
class CauseMix:
    """Shares of death reports by kind; ``natural`` takes whatever the others leave."""

    homicide: float
    suicide: float
    drug: float
    ghb: float
    alcohol: float = OTHER_SHARES["alcohol"]
    fall: float = OTHER_SHARES["fall"]
    fire: float = OTHER_SHARES["fire"]
    drowning: float = OTHER_SHARES["drowning"]
    accident_other: float = OTHER_SHARES["accident_other"]
    undetermined: float = OTHER_SHARES["undetermined"]

    def shares(self) -> dict[str, float]:
        """Every kind's share, natural last, summing to 1."""
        named = {k: float(v) for k, v in self.__dict__.items()}
        named["natural"] = 1.0 - sum(named.values())
        if named["natural"] < 0.3:
            raise ValueError("cause mix leaves less than 30% natural deaths; check the shares")
        return named


# The London mix: homicide share from East London's 26.7 a year against its ~2,400 reports a year.
LONDON_MIX = CauseMix(
    homicide=EAST_LONDON_HOMICIDES_PER_YEAR / (EAST_LONDON_REPORTS_PER_DAY * 365),
    suicide=SUICIDES_LONDON_PER_YEAR / MET_DEATH_REPORTS_2022,
    drug=DRUG_MISUSE_LONDON_PER_YEAR / MET_DEATH_REPORTS_2022,
    ghb=GHB_SHARE_OF_REPORTS,
)

# --- Who dies of what (ages as mean, sd, min, max; share male) -------------------------------------

# Natural sudden deaths in the community are mostly older people (ONS deaths registered: median age
# at death ~80; deaths reported to police skew younger, estimate mean 70); falls are older still;
# drug deaths peak at 30-49 (ONS); suicides peak at 45-54 (ONS); homicide victims are young adults
# (Met data above: 27.5% adolescent/young adult, 57.5% adult, 12.5% elderly).
AGES = {
    "natural": (70, 14, 25, 104), "suicide": (44, 15, 14, 92), "drug": (40, 10, 17, 75),
    "ghb": (33, 8, 18, 60), "alcohol": (54, 10, 28, 85), "fall": (80, 9, 40, 102),
    "fire": (62, 18, 5, 98), "drowning": (38, 18, 8, 90), "accident_other": (55, 22, 1, 98),
    "undetermined": (58, 16, 18, 95), "homicide": (33, 15, 0, 92),
}
MALE_SHARE = {
    "natural": 0.55, "suicide": SUICIDE_MALE, "drug": DRUG_MALE, "ghb": 0.85, "alcohol": 0.68,
    "fall": 0.45, "fire": 0.60, "drowning": 0.80, "accident_other": 0.62, "undetermined": 0.66,
    "homicide": HOMICIDE_MALE,
}

# --- Recording ------------------------------------------------------------------------------------

# Estimates of how complete a death report is: the inspection (HMICFRS 2023) found "basic details
# omitted or incorrectly recorded" in too many reports.
ETHNICITY_RECORDED = 0.45
PHONE_MISSING_BACKGROUND = 0.01  # a phone not found at the scene, for any reason
DEATH_WINDOW_RECORDED = 0.35  # share of reports with an estimated window of death (died_from/to)
BLURRED_LOCATION = 0.06  # share recorded to a street or postcode centroid rather than the spot
NATURAL_EXPECTED = 0.55  # estimate: a GP can certify, so the death is classed "expected"
WINTER_EXCESS = 0.15  # ONS excess winter mortality: ~15% more deaths December-March
