"""Shared pieces for building raw case records: people and phones, times, victims, ids.

Everything takes an explicit ``random.Random`` so a build is a pure function of its seed; nothing
here reads the clock or global random state.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from caselink.demo import rates
from caselink.demo.places import Region


def slug(text: str) -> str:
    """A lower-case token for entity values built from place names ("King's Lynn" -> "kings-lynn")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


class Entities:
    """Allocates entity values so that repeats happen only where the generator means them to.

    ``unique`` gives a value nobody else holds (a family member, a passer-by); ``pooled`` gives one
    of a few values tied to a place (the carers of a neighbourhood, a hostel's managers), which is
    how unrelated deaths realistically come to share a finder.  Values already in use (the Barking
    records') are reserved so a background finder never collides with a real one by accident.
    """

    def __init__(self, region: Region, rng: random.Random, reserved: Iterable[str] = ()) -> None:
        self.region = region
        self.rng = rng
        self.reserved = {value.lower() for value in reserved}
        self.counters: dict[str, int] = {}
        prefixes = list(region.phone_prefixes)
        width = region.phone_suffix_digits
        self.phones = [f"{p}{i:0{width}d}" for p in prefixes for i in range(10 ** width)]
        rng.shuffle(self.phones)

    def unique(self, role: str) -> str:
        """``person:<role>-<region>-<n>``, never handed out twice in one build.  The region key keeps
        two scenarios (or a scenario and the Barking records) ingested into one store from sharing a
        finder by accident: a shared person is strong evidence, so it must only be there by design."""
        while True:
            self.counters[role] = self.counters.get(role, 0) + 1
            value = f"person:{role}-{self.region.key}-{self.counters[role]}"
            if value not in self.reserved:
                self.reserved.add(value)
                return value

    def pooled(self, role: str, place: str, pool_size: int) -> str:
        """One of ``pool_size`` people with ``role`` at ``place`` (e.g. a hostel's two managers)."""
        return f"person:{role}-{slug(place)}-{self.rng.randint(1, pool_size)}"

    def phone(self) -> str | None:
        """A drama-range number not yet used in this build, or None once the range is spent."""
        return f"phone:{self.phones.pop()}" if self.phones else None

    def address(self) -> str:
        """An address entity: pseudonymous, unique per household."""
        return self.unique("address").replace("person:", "address:", 1)


def format_time(moment: datetime, region: Region, date_only: bool = False) -> str:
    """A local time as the force writes it: naive for UK forces (the schema's default zone is
    Europe/London), with its UTC offset elsewhere; a date alone when only the day is known."""
    if date_only:
        return moment.date().isoformat()
    moment = moment.replace(second=0, microsecond=0)
    if region.tz == "Europe/London":
        return moment.isoformat()
    return moment.replace(tzinfo=ZoneInfo(region.tz)).isoformat()


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def random_day(rng: random.Random, start: date, end: date, winter_weighted: bool = False) -> date:
    """A day in [start, end]; with ``winter_weighted`` December-March are ~15% likelier, as ONS
    excess winter mortality shows for natural deaths."""
    span = (end - start).days
    while True:
        day = start + timedelta(days=rng.randint(0, span))
        if not winter_weighted or day.month in (12, 1, 2, 3) or rng.random() < 1 / (1 + rates.WINTER_EXCESS):
            return day


def at_hour(rng: random.Random, day: date, mean_hour: float, sd_hours: float) -> datetime:
    """A time on ``day`` around ``mean_hour`` (wrapping past midnight stays on the same day,
    because found_at is when the report was made, and reports are filed by day)."""
    hour_float = rng.gauss(mean_hour, sd_hours) % 24
    hour = int(hour_float)
    minute = int((hour_float - hour) * 60) // 5 * 5
    return datetime(day.year, day.month, day.day, hour, minute)


def victim_age(rng: random.Random, kind: str) -> int:
    """An age for a death of ``kind`` from rates.AGES (truncated normal)."""
    mean, sd, low, high = rates.AGES[kind]
    return int(min(high, max(low, round(rng.gauss(mean, sd)))))


def victim_sex(rng: random.Random, kind: str) -> str:
    return "M" if rng.random() < rates.MALE_SHARE[kind] else "F"


def ethnicity(rng: random.Random, region: Region) -> str | None:
    """Recorded in under half of reports (rates.ETHNICITY_RECORDED); drawn from the census mix."""
    if rng.random() >= rates.ETHNICITY_RECORDED:
        return None
    names = list(region.ethnicity)
    return rng.choices(names, weights=[region.ethnicity[n] for n in names])[0]


def death_window(rng: random.Random, found: datetime, max_hours: float) -> tuple[datetime, datetime] | None:
    """An estimated window of death ending before ``found``, for the share of reports that give one."""
    if rng.random() >= rates.DEATH_WINDOW_RECORDED:
        return None
    died_to = found - timedelta(minutes=rng.randint(10, 180))
    died_from = died_to - timedelta(hours=rng.uniform(1, max_hours))
    return died_from.replace(second=0, microsecond=0), died_to.replace(second=0, microsecond=0)


def blank_record(region: Region) -> dict[str, Any]:
    """The raw record's keys, in the order of port-series.csv, with the region's agency."""
    return {
        "case_id": None, "agency": region.agency, "incident_type": "death", "found_at": None,
        "died_from": None, "died_to": None, "lat": None, "lon": None, "location_precision_m": None,
        "place_type": None, "area": None, "victim_age": None, "victim_sex": None,
        "victim_ethnicity": None, "victim_tags": [], "cause": None, "substances": [], "mo": [],
        "entities": [], "narrative": None, "classification": None, "outcome": None, "series_id": None,
    }


def assign_case_ids(records: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Sort by found_at and number the records ``<prefix>-<year>-<nnnnn>`` in that order.

    Numbering after the sort means an id says nothing about how a record was generated (planted
    or background); records that already carry an id (the Barking four) keep it.
    """
    records.sort(key=lambda r: (r["found_at"][:16], r["case_id"] or "", r["lat"], r["lon"]))
    per_year: dict[str, int] = {}
    for record in records:
        if record["case_id"]:
            continue
        year = record["found_at"][:4]
        per_year[year] = per_year.get(year, 0) + 1
        record["case_id"] = f"{prefix}-{year}-{per_year[year]:05d}"
    return records
