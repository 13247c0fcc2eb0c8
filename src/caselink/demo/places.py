"""Geography for generated cases: where people live, and the few places where deaths recur.

Deaths reported to police happen mostly at home, so background points are drawn around
residential neighbourhood centres weighted by population, not uniformly over a bounding box
(uniform points would make every real cluster stand out and every blocking rule look good).
Sites are the named places where unrelated deaths genuinely repeat - a hostel, a bridge, a park
where street drinkers gather - and they are what makes the confounders hard.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

KM_PER_DEGREE_LAT = 111.2


@dataclass(frozen=True)
class Neighbourhood:
    """A residential centre: deaths at home are drawn around it, ``spread_km`` being about 2 sd."""

    name: str
    district: str
    lat: float
    lon: float
    weight: float
    spread_km: float = 1.2


@dataclass(frozen=True)
class Site:
    """A named place where several deaths may occur: ``kind`` is hostel, bridge, park, cemetery,
    waterway, station or sauna; ``place_type`` is the case vocabulary value."""

    kind: str
    name: str
    lat: float
    lon: float
    place_type: str


@dataclass(frozen=True)
class Region:
    """An area a background is generated for, with the agency that receives its death reports."""

    key: str
    name: str
    agency: str
    id_prefix: str
    tz: str
    neighbourhoods: tuple[Neighbourhood, ...]
    sites: tuple[Site, ...]
    ethnicity: dict[str, float]
    # Numbers reserved for drama and examples (Ofcom; 555-01xx in North America), so no generated
    # phone entity is anyone's real number.
    phone_prefixes: tuple[str, ...] = ("07700900",)
    phone_suffix_digits: int = 3

    def sites_of(self, kind: str) -> list[Site]:
        """The region's sites of one kind, in declaration order (so draws are reproducible)."""
        return [site for site in self.sites if site.kind == kind]


def offset_point(lat: float, lon: float, distance_km: float, bearing_rad: float) -> tuple[float, float]:
    """The point ``distance_km`` from (lat, lon) along ``bearing_rad``; flat-earth is ample at city scale."""
    dlat = distance_km * math.cos(bearing_rad) / KM_PER_DEGREE_LAT
    dlon = distance_km * math.sin(bearing_rad) / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def jitter(rng: random.Random, lat: float, lon: float, sd_km: float, max_km: float | None = None
           ) -> tuple[float, float]:
    """A point scattered around (lat, lon) with a Gaussian radius, truncated at ``max_km``
    (2.5 sd by default) so a residential point does not drift into the next town or the Thames."""
    limit = max_km if max_km is not None else 2.5 * sd_km
    distance = min(abs(rng.gauss(0.0, sd_km)) * math.sqrt(2), limit)
    return offset_point(lat, lon, distance, rng.uniform(0, 2 * math.pi))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance; used by tests and by the series planters to check their own spread."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def pick_neighbourhood(rng: random.Random, region: Region) -> Neighbourhood:
    """A neighbourhood drawn in proportion to its population weight."""
    return rng.choices(region.neighbourhoods, weights=[n.weight for n in region.neighbourhoods])[0]


def home_point(rng: random.Random, region: Region, near: Neighbourhood | None = None
               ) -> tuple[float, float, Neighbourhood]:
    """Where someone lives: around a population-weighted neighbourhood (or the one given)."""
    hood = near or pick_neighbourhood(rng, region)
    lat, lon = jitter(rng, hood.lat, hood.lon, hood.spread_km / 2)
    return round(lat, 5), round(lon, 5), hood


def nearest_neighbourhood(region: Region, lat: float, lon: float) -> Neighbourhood:
    """The neighbourhood whose centre is closest: names the ``area`` of a point placed elsewhere."""
    return min(region.neighbourhoods, key=lambda n: distance_km((lat, lon), (n.lat, n.lon)))


def blur(rng: random.Random, lat: float, lon: float, precision_m: int) -> tuple[float, float]:
    """A location as public or legacy data often holds it: moved up to ``precision_m`` and rounded,
    the way a street or postcode centroid replaces the spot."""
    moved_lat, moved_lon = jitter(rng, lat, lon, precision_m / 2000, max_km=precision_m / 1000)
    decimals = 3 if precision_m >= 500 else 4
    return round(moved_lat, decimals), round(moved_lon, decimals)
