"""The Barking demo and the other backgrounds the linkage targets are measured on.

A scenario is a place, a window, a size, a mix of causes and drugs, and the planted series hidden
in it.  Sizes follow from each area's death reports per day (see ``docs/demo.md``), so the window
and the count are consistent: a background is never denser than its place would really be.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from caselink.demo import rates
from caselink.demo.background import allocate, generate_background
from caselink.demo.confounders import plant_confounders
from caselink.demo.places import Region
from caselink.demo.port_series import load_port_series
from caselink.demo.records import Entities, assign_case_ids
from caselink.demo.regions import BALTIMORE, EAST_LONDON, GLASGOW, GREATER_MANCHESTER, LONDON, NORFOLK
from caselink.demo.scene import Context
from caselink.demo.series import KINDS as SERIES_KINDS

LONDON_DRUGS = dict(rates.DRUG_PROFILES)


@dataclass(frozen=True)
class Scenario:
    """One background and its planted series (``(kind, size)`` pairs, kinds from series.KINDS)."""

    name: str
    description: str
    region: Region
    start: str
    end: str
    n_background: int
    mix: rates.CauseMix
    series: tuple[tuple[str, int], ...]
    drug_profiles: dict[str, float] = field(default_factory=lambda: LONDON_DRUGS)
    homicide_causes: dict[str, float] = field(default_factory=lambda: dict(rates.HOMICIDE_CAUSES))


_CATALOGUE = (
    Scenario(
        "east_london", "The demo's place and window with other offenders: a strangler of sex workers and "
        "an arsonist of homeless people's sleeping places.",
        EAST_LONDON, rates.DEMO_START, rates.DEMO_END, 5000, rates.LONDON_MIX,
        (("sex_worker_strangler", 4), ("homeless_arsonist", 4)),
    ),
    Scenario(
        "london_2022", "All of London at the 2022 rate HMICFRS reported (30 a day, 20,000 reports), with four "
        "series: a GHB poisoner, a care worker poisoning clients across London over two years, a "
        "badly recorded spiking robber and a strangler.",
        LONDON, "2022-01-01", "2023-10-27", 20000, rates.LONDON_MIX,
        (("ghb_poisoner", 5), ("care_poisoner", 6), ("spiking_robber", 4), ("sex_worker_strangler", 3)),
    ),
    Scenario(
        "manchester_chemsex", "Greater Manchester 2016-18, a chemsex-heavy area (GHB four times London's share) "
        "with a spice epidemic, a GHB poisoner and a spiking robber.",
        GREATER_MANCHESTER, "2016-01-01", "2018-04-30", 8000,
        rates.CauseMix(homicide=0.013, suicide=0.075, drug=0.035, ghb=4 * rates.GHB_SHARE_OF_REPORTS),
        (("ghb_poisoner", 4), ("spiking_robber", 4)),
        drug_profiles={"heroin": 0.35, "spice": 0.12, "cocaine": 0.10, "methadone": 0.10, "prescription": 0.28,
                       "stimulant_party": 0.05},
    ),
    Scenario(
        "glasgow_opioid", "Greater Glasgow in 2019, a heavy opioid and street-benzodiazepine year, with an "
        "arsonist and a strangler.",
        GLASGOW, "2019-01-01", "2019-12-31", 2500,
        rates.CauseMix(homicide=0.008, suicide=0.06, drug=0.13, ghb=0.0004),
        (("homeless_arsonist", 4), ("sex_worker_strangler", 4)),
        drug_profiles={"benzodiazepine_street": 0.35, "heroin": 0.30, "methadone": 0.20, "cocaine": 0.10,
                       "prescription": 0.05},
    ),
    Scenario(
        "norfolk_rural", "Norfolk 2016-18, a rural county with an older population: a care poisoner spread over "
        "the county and three years, and a strangler.",
        NORFOLK, "2016-01-01", "2018-09-26", 3000,
        rates.CauseMix(homicide=0.008, suicide=0.08, drug=0.04, ghb=0.0004, fall=0.06),
        (("care_poisoner", 5), ("sex_worker_strangler", 5)),
    ),
    Scenario(
        "baltimore_opioid", "Baltimore City 2017-18, fentanyl and gun homicide: a strangler, an arsonist and a "
        "badly recorded spiking robber.",
        BALTIMORE, "2017-01-01", "2018-06-30", 4000,
        rates.CauseMix(homicide=0.12, suicide=0.03, drug=0.25, ghb=0.0003),
        (("sex_worker_strangler", 4), ("homeless_arsonist", 3), ("spiking_robber", 5)),
        drug_profiles={"fentanyl": 0.60, "heroin": 0.15, "cocaine": 0.15, "prescription": 0.07,
                       "benzodiazepine_street": 0.03},
        homicide_causes={"gunshot": 0.80, "sharp_force": 0.10, "blunt_force": 0.06, "asphyxia": 0.02,
                         "undetermined": 0.02},
    ),
)

SCENARIO_CATALOGUE: dict[str, Scenario] = {scenario.name: scenario for scenario in _CATALOGUE}
SCENARIOS: tuple[str, ...] = tuple(SCENARIO_CATALOGUE)


def _build(scenario: Scenario, seed: int, n_background: int, reserved: tuple[str, ...] = ()
           ) -> list[dict[str, Any]]:
    # A string seed is hashed with SHA-512 by random.seed, so the stream is the same on every
    # platform and Python version and independent of PYTHONHASHSEED.
    rng = random.Random(f"caselink-demo:{scenario.name}:{seed}")
    ctx = Context(rng, scenario.region, Entities(scenario.region, rng, reserved),
                  date.fromisoformat(scenario.start), date.fromisoformat(scenario.end),
                  dict(scenario.drug_profiles), dict(scenario.homicide_causes))
    counts = allocate(n_background, scenario.mix.shares())
    records = plant_confounders(ctx, counts, n_background)
    records += generate_background(ctx, counts)
    for index, (kind, size) in enumerate(scenario.series, start=1):
        records += SERIES_KINDS[kind](ctx, f"{scenario.name}-{kind}-{index}", size)
    return records


def build_from(scenario: Scenario, seed: int, *, with_port_series: bool = False) -> list[dict[str, Any]]:
    """Records for a scenario defined by the caller (a small example file, a custom benchmark),
    optionally with the four Barking deaths added unchanged."""
    port = load_port_series() if with_port_series else []
    reserved = tuple(entity for record in port for entity in record["entities"])
    records = _build(scenario, seed, scenario.n_background, reserved) + port
    return assign_case_ids(records, scenario.region.id_prefix)


def build_scenario(name: str, seed: int, *, n_background: int | None = None) -> list[dict[str, Any]]:
    """The records of scenario ``name`` (one of SCENARIOS) for ``seed``: the background (series_id
    None, hard confounders included) plus the planted series (series_id set), sorted by found_at,
    with ids ``<agency prefix>-<year>-<nnnnn>``.  ``n_background`` overrides the size (benchmarks)."""
    if name not in SCENARIO_CATALOGUE:
        raise ValueError(f"unknown scenario '{name}'; choose one of {', '.join(SCENARIOS)}")
    scenario = SCENARIO_CATALOGUE[name]
    size = scenario.n_background if n_background is None else n_background
    return assign_case_ids(_build(scenario, seed, size), scenario.region.id_prefix)


DEMO = Scenario(
    "barking_demo", "The four Barking deaths in a background of East London death reports, mid-2013 to "
    "October 2015.", EAST_LONDON, rates.DEMO_START, rates.DEMO_END, 5000, rates.LONDON_MIX, (),
)


def build_demo_records(seed: int = 2014, n_background: int = 5000) -> list[dict[str, Any]]:
    """The Barking demo: the four deaths of port-series.csv exactly as published (series_id
    "port") and ``n_background`` seeded East London death reports, sorted by found_at."""
    return build_from(replace(DEMO, n_background=n_background), seed, with_port_series=True)
