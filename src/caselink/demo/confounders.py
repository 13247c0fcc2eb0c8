"""Hard confounders: unrelated deaths that share a place, a drug or a finder, as real ones do.

A linkage model that only ever sees scattered background deaths learns that "same place, same
drug" means "same offender".  Real death reports are full of groups that share far more than that
and have no offender at all: overdoses in one hostel found by its manager, suicides from one
bridge, a cluster of chemsex GHB deaths in one gay scene, two natural deaths in one household,
street drinkers dying in the park where they drink.  Each group below is built from the same
``make_death`` as the rest of the background and counts against the same per-kind budget, so the
documented rates still hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from caselink.demo.background import make_death
from caselink.demo.places import Site, jitter, offset_point
from caselink.demo.scene import Context, area_of_point, place_at_site, spaced_days


def _site(ctx: Context, kind: str) -> Site | None:
    sites = ctx.region.sites_of(kind)
    return ctx.rng.choice(sites) if sites else None


def hostel_overdoses(ctx: Context) -> list[dict[str, Any]]:
    """Three heroin deaths in one hostel over the window, two found by the same manager."""
    site = _site(ctx, "hostel")
    if site is None:
        return []
    manager = ctx.entities.pooled("hostel-staff", site.name, 2)
    records = []
    for index, day in enumerate(spaced_days(ctx, 3, 60, 300)):
        at = place_at_site(ctx, site)
        finder = ("the hostel manager", manager) if index < 2 else ("another resident", None)
        records.append(make_death(ctx, "drug", day=day, at=at, site=site, finder=finder,
                                  sex="M", age=ctx.rng.randint(28, 55),
                                  substances=["heroin"] + (["benzodiazepine"] if index == 1 else [])
                                  + (["alcohol"] if ctx.rng.random() < 0.5 else []),
                                  tags=("homeless", "drug_user"), mo=("drug_paraphernalia",)))
    return records


def bridge_suicides(ctx: Context) -> list[dict[str, Any]]:
    """Three or four suicides from one bridge, different people, different finders, months apart."""
    site = _site(ctx, "bridge")
    if site is None:
        return []
    records = []
    for day in spaced_days(ctx, ctx.rng.choice((3, 4)), 30, 250):
        at = place_at_site(ctx, site)
        records.append(make_death(ctx, "suicide", day=day, at=at, site=site,
                                  cause=ctx.rng.choice(("fall", "drowning")), substances=[]))
    return records


def chemsex_cluster(ctx: Context, count: int = 3) -> list[dict[str, Any]]:
    """GHB deaths of gay men at private chemsex parties within ~2 km of the scene's venues, weeks
    to months apart: same rare drug, same victim profile, no offender."""
    sauna = _site(ctx, "sauna")
    centre = (sauna.lat, sauna.lon) if sauna else (ctx.region.neighbourhoods[0].lat,
                                                    ctx.region.neighbourhoods[0].lon)
    records = []
    for index, day in enumerate(spaced_days(ctx, count, 20, 200)):
        if index == count - 1 and sauna is not None:
            at = place_at_site(ctx, sauna)
            finder: tuple[str, str | None] = ("staff at the venue", ctx.entities.pooled("venue-staff", sauna.name, 3))
        else:
            lat, lon = jitter(ctx.rng, *centre, sd_km=0.9, max_km=2.5)
            at = {"lat": round(lat, 5), "lon": round(lon, 5), "place_type": "residence",
                  "area": area_of_point(ctx, lat, lon)}
            finder = (ctx.rng.choice(("the host of the party", "a friend", "his partner")),
                      ctx.entities.unique("finder-friend"))
        records.append(make_death(ctx, "ghb", day=day, at=at, finder=finder, sex="M",
                                  age=ctx.rng.randint(24, 48), tags=("gay_bisexual_men",),
                                  substances=["ghb"] + ctx.rng.sample(["mephedrone", "methamphetamine",
                                                                       "alcohol", "ketamine"], 2)))
    return records


def household_natural(ctx: Context) -> list[dict[str, Any]]:
    """An elderly couple who die of natural causes at the same address months apart, both found
    by the same daughter; the address is an entity on both reports."""
    first = make_death(ctx, "natural", age=ctx.rng.randint(78, 92), sex="M")
    if first["place_type"] != "residence":
        first = make_death(ctx, "natural", age=ctx.rng.randint(78, 92), sex="M",
                           at={"lat": first["lat"], "lon": first["lon"], "place_type": "residence",
                               "area": first["area"]})
    address, daughter = ctx.entities.address(), ctx.entities.unique("finder-family")
    first["entities"] = [address, daughter]
    day = date.fromisoformat(first["found_at"][:10]) + timedelta(days=ctx.rng.randint(60, 300))
    if day > ctx.end:
        day = date.fromisoformat(first["found_at"][:10]) - timedelta(days=ctx.rng.randint(60, 300))
    at = {k: first[k] for k in ("lat", "lon", "place_type", "area", "location_precision_m")}
    second = make_death(ctx, "natural", day=max(day, ctx.start), at=at, finder=("her daughter", daughter),
                        age=max(70, first["victim_age"] - ctx.rng.randint(0, 5)), sex="F")
    second["entities"].append(address)
    return [first, second]


def park_drinkers(ctx: Context) -> list[dict[str, Any]]:
    """Two or three street drinkers dying in the park where they drink, found by its keepers."""
    site = _site(ctx, "park")
    if site is None:
        return []
    records = []
    for day in spaced_days(ctx, ctx.rng.choice((2, 3)), 40, 300):
        at = place_at_site(ctx, site)
        keeper = ctx.entities.pooled("park-keeper", site.name, 2)
        records.append(make_death(ctx, "alcohol", day=day, at=at, site=site, finder=("a park keeper", keeper),
                                  tags=("homeless",), age=ctx.rng.randint(38, 66)))
    return records


def flat_block_falls(ctx: Context) -> list[dict[str, Any]]:
    """Two falls from one tower block a year apart: one accident, one suicide, the same spot."""
    lat, lon = offset_point(ctx.region.neighbourhoods[1].lat, ctx.region.neighbourhoods[1].lon,
                            ctx.rng.uniform(0.2, 0.8), ctx.rng.uniform(0, 6.28))
    at = {"lat": round(lat, 5), "lon": round(lon, 5), "place_type": "street",
          "area": area_of_point(ctx, lat, lon)}
    first, second = spaced_days(ctx, 2, 200, 400)
    return [make_death(ctx, "fall", day=first, at=at, age=ctx.rng.randint(20, 60)),
            make_death(ctx, "suicide", day=second, at=at, cause="fall", substances=[])]


# Each group, the kind it draws from, and how many groups per 5,000 background deaths.
GROUPS: tuple[tuple[Callable[[Context], list[dict[str, Any]]], str, float], ...] = (
    (hostel_overdoses, "drug", 1.0),
    (bridge_suicides, "suicide", 1.0),
    (chemsex_cluster, "ghb", 1.0),
    (household_natural, "natural", 2.0),
    (park_drinkers, "alcohol", 1.0),
    (flat_block_falls, "fall", 0.5),
)


def plant_confounders(ctx: Context, counts: dict[str, int], n_total: int) -> list[dict[str, Any]]:
    """Build the confounder groups for a background of ``n_total`` and take their deaths out of
    ``counts`` (mutated), so the background plus the confounders still hold the documented mix.
    A group is skipped when its kind's budget cannot pay for it (a tiny background)."""
    records: list[dict[str, Any]] = []
    for build, kind, per_5000 in GROUPS:
        groups = int(n_total / 5000 * per_5000 + 0.5) or (1 if n_total >= 1000 else 0)
        for _ in range(groups):
            if counts.get(kind, 0) < 4:
                break
            group = build(ctx)
            counts[kind] -= len(group)
            if kind == "fall":  # the second of the pair is a suicide
                counts["fall"] += 1
                counts["suicide"] -= 1
            records.extend(group)
    return records
