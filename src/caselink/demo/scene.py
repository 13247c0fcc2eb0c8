"""Where a death happened and who found it: the parts of a record that tie it to a place.

Shared by the background, the confounders and the planted series, so that a planted death is
placed and found by exactly the same rules as an unrelated one; only what the offender shares
(his neighbourhood, his method, sometimes himself as finder) sets a series apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from caselink.demo import narratives, rates
from caselink.demo.places import Neighbourhood, Region, Site, blur, home_point, jitter, nearest_neighbourhood
from caselink.demo.records import Entities, random_day

# How far a point is scattered around a site of each kind (km, about 1 sd): a hostel is one
# building, a park or a canal towpath is large.
SITE_SCATTER_KM = {
    "hostel": 0.005, "bridge": 0.02, "park": 0.2, "cemetery": 0.1, "waterway": 0.35, "station": 0.06,
    "sauna": 0.005,
}
SITE_KIND_FOR_PLACE = {
    "hostel_hotel": "hostel", "park_open_space": "park", "churchyard_cemetery": "cemetery",
    "waterway": "waterway", "transport": "station", "woodland": "park",
}


@dataclass
class Context:
    """Everything a record builder needs: the seeded generator, the region, the entity allocator,
    the time window, the drug mix and the homicide method mix (which differ between places)."""

    rng: random.Random
    region: Region
    entities: Entities
    start: date
    end: date
    drug_profiles: dict[str, float]
    homicide_causes: dict[str, float]


def area_name(hood: Neighbourhood) -> str:
    return hood.name if hood.name == hood.district else f"{hood.name}, {hood.district}"


def place_at_site(ctx: Context, site: Site) -> dict[str, Any]:
    """Coordinates scattered around a named site, with the site's place type and name as area."""
    lat, lon = jitter(ctx.rng, site.lat, site.lon, SITE_SCATTER_KM.get(site.kind, 0.1))
    return {"lat": round(lat, 5), "lon": round(lon, 5), "place_type": site.place_type, "area": site.name}


def place(ctx: Context, place_type: str, hood: Neighbourhood | None = None) -> tuple[dict[str, Any], Site | None]:
    """Location fields for a death of ``place_type``: at one of the region's sites for hostels,
    parks, cemeteries, waterways and stations (half the time for parks and stations, which are
    also local), otherwise around where people live."""
    rng = ctx.rng
    site_kind = SITE_KIND_FOR_PLACE.get(place_type)
    sites = ctx.region.sites_of(site_kind) if site_kind else []
    if place_type == "waterway":
        sites += ctx.region.sites_of("bridge")
    use_site = bool(sites) and (place_type in ("hostel_hotel", "waterway", "churchyard_cemetery")
                                or rng.random() < 0.5)
    if use_site:
        site = rng.choice(sites)
        fields = place_at_site(ctx, site)
        fields["place_type"] = place_type
        return fields, site
    lat, lon, chosen = home_point(rng, ctx.region, hood)
    return {"lat": lat, "lon": lon, "place_type": place_type, "area": area_name(chosen)}, None


def record_precision(ctx: Context, fields: dict[str, Any]) -> None:
    """Most reports give the spot; some only a street or postcode centroid (rates.BLURRED_LOCATION)."""
    rng = ctx.rng
    if rng.random() < rates.BLURRED_LOCATION:
        precision = rng.choice((100, 250, 500, 1000))
        fields["lat"], fields["lon"] = blur(rng, fields["lat"], fields["lon"], precision)
        fields["location_precision_m"] = precision
    elif fields["place_type"] in ("street", "park_open_space", "waterway") and rng.random() < 0.2:
        fields["location_precision_m"] = rng.choice((10, 25, 50))


def finder(ctx: Context, place_type: str, age: int | None, site: Site | None, tags: list[str],
           area: str) -> tuple[str | None, str | None]:
    """(role, entity) of whoever found the body.  Carers, hostel staff, outreach workers, park
    keepers and station staff come from small pools per place, so unrelated deaths in one place
    share a finder as they do in life; everyone else is unique.  About one report in seven
    omits the finder's details (HMICFRS 2023 found basic details missing; estimate)."""
    rng = ctx.rng
    if place_type == "residence":
        if age is not None and age >= 70:
            options = {"carer": 20, "family": 40, "neighbour": 12, "welfare": 15, "landlord": 3,
                       "paramedic": 10}
        else:
            options = {"family": 30, "partner": 15, "housemate": 10, "friend": 15, "neighbour": 8,
                       "welfare": 12, "landlord": 5, "paramedic": 5}
    elif place_type == "hostel_hotel":
        options = {"hostel-staff": 75, "resident": 25}
    else:
        options = {"passer-by": 45, "refuse-worker": 5, "anonymous-999-caller": 2, "paramedic": 8}
        if place_type in ("street", "park_open_space", "churchyard_cemetery", "woodland", "waterway"):
            options["dog-walker"] = 15
        if "homeless" in tags:
            options["outreach-worker"] = 12
        if place_type in ("park_open_space", "churchyard_cemetery", "woodland"):
            options["park-keeper"] = 10
        if place_type == "transport":
            options["station-staff"] = 40
    role = rng.choices(list(options), weights=list(options.values()))[0]
    if role in ("welfare", "paramedic") or rng.random() < 0.15:
        return role, None
    pools = {"carer": (area, 3), "hostel-staff": (site.name if site else area, 2),
             "outreach-worker": (ctx.region.key, 6), "park-keeper": (site.name if site else area, 2),
             "station-staff": (site.name if site else area, 4)}
    if role in pools:
        place_name, size = pools[role]
        return role, ctx.entities.pooled(role, place_name, size)
    if role == "anonymous-999-caller":
        return role, "person:anonymous-999-caller"
    return role, ctx.entities.unique(f"finder-{role}")


def add_finder(ctx: Context, record: dict[str, Any], site: Site | None, caller_phone: float = 0.06) -> str:
    """Set the finder entity (and sometimes the caller's phone) on ``record``; returns the phrase
    the narrative uses for the finder."""
    role, entity = finder(ctx, record["place_type"], record["victim_age"], site, record["victim_tags"],
                          record["area"] or "")
    if entity:
        record["entities"].append(entity)
    if ctx.rng.random() < caller_phone:
        phone = ctx.entities.phone()
        if phone:
            record["entities"].append(phone)
    return narratives.finder_phrase(ctx.rng, role)


def area_of_point(ctx: Context, lat: float, lon: float) -> str:
    return area_name(nearest_neighbourhood(ctx.region, lat, lon))


def spaced_days(ctx: Context, count: int, min_gap: int, max_gap: int) -> list[date]:
    """``count`` distinct days in the window, gaps drawn in [min_gap, max_gap] and the first day at
    random among those that leave room for the rest.  Gaps that cannot fit the window (a long
    series in a short scenario) are shrunk in proportion, never piled up on the last day."""
    span = (ctx.end - ctx.start).days
    gaps = [ctx.rng.randint(min_gap, max_gap) for _ in range(count - 1)]
    if sum(gaps) > span * 0.9:
        factor = span * 0.9 / sum(gaps)
        gaps = [max(1, int(gap * factor)) for gap in gaps]
    day = random_day(ctx.rng, ctx.start, ctx.end - timedelta(days=sum(gaps)))
    days = [day]
    for gap in gaps:
        day += timedelta(days=gap)
        days.append(day)
    return days
