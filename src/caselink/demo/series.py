"""Planted series: deaths caused by one offender, labelled with ``series_id`` as ground truth.

Each kind is modelled on patterns from real cases and shares only what such a series shares: the
offender's territory (not one spot), his method (not every flag every time), his victims' profile,
and now and then himself, as the "finder" or as a number in the victims' phones.  Records are made
by the same ``make_death`` as the background, then pinned; the outcome is what was recorded at the
time (usually no further action), never the later conviction, so nothing but ``series_id`` marks a
planted death.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caselink.demo.background import make_death
from caselink.demo.places import blur, jitter, pick_neighbourhood
from caselink.demo.scene import Context, area_of_point, spaced_days


def _spot(ctx: Context, centre: tuple[float, float], sd_km: float, max_km: float, place_type: str
          ) -> dict[str, Any]:
    lat, lon = jitter(ctx.rng, *centre, sd_km=sd_km, max_km=max_km)
    return {"lat": round(lat, 5), "lon": round(lon, 5), "place_type": place_type,
            "area": area_of_point(ctx, lat, lon)}


def _flags(ctx: Context, chances: dict[str, float]) -> tuple[str, ...]:
    return tuple(flag for flag, chance in chances.items() if ctx.rng.random() < chance)


def ghb_poisoner(ctx: Context, series_id: str, size: int) -> list[dict[str, Any]]:
    """A man who drugs young gay men he meets online with GHB and leaves them in public places
    near his home, propped up, phones taken (the Barking pattern, not the Barking facts): deaths
    3-12 weeks apart within ~1 km, the same passer-by finding two of them."""
    rng = ctx.rng
    hood = pick_neighbourhood(rng, ctx.region)
    home = jitter(rng, hood.lat, hood.lon, sd_km=0.4)
    repeat_finder = ctx.entities.unique("finder-dog-walker")
    records = []
    for index, day in enumerate(spaced_days(ctx, size, 20, 85)):
        place_type = rng.choice(("street", "park_open_space", "churchyard_cemetery", "street"))
        role = rng.choice(("passer-by", "refuse-worker"))
        finder = (("a dog walker", repeat_finder) if index in (1, 2)
                  else (f"a {role.replace('-', ' ')}", ctx.entities.unique(f"finder-{role}")))
        record = make_death(
            ctx, "ghb", day=day, at=_spot(ctx, home, 0.35, 0.9, place_type), finder=finder, sex="M",
            age=rng.randint(19, 31), substances=["ghb"] + (["alcohol"] if rng.random() < 0.3 else []),
            tags=("gay_bisexual_men",) + (("migrant",) if rng.random() < 0.25 else ()),
            mo=_flags(ctx, {"propped_sitting": 0.75, "phone_missing": 0.8, "body_moved": 0.3,
                            "drug_paraphernalia": 0.35, "bedding_cover": 0.15}),
            extra=("Had arranged to meet a man online the night before.",) if rng.random() < 0.4 else (),
            classification="unexpected_not_suspicious")
        records.append(record)
    return _label(records, series_id)


def sex_worker_strangler(ctx: Context, series_id: str, size: int) -> list[dict[str, Any]]:
    """Women selling sex strangled and left in parks, lay-bys and streets within ~3 km of one
    red-light area, 2-13 weeks apart; one punter's number in two victims' phones."""
    rng = ctx.rng
    hood = pick_neighbourhood(rng, ctx.region)
    punter = ctx.entities.phone()
    records = []
    for index, day in enumerate(spaced_days(ctx, size, 14, 90)):
        place_type = rng.choices(("street", "park_open_space", "vehicle", "other", "residence", "woodland"),
                                 weights=(30, 25, 10, 15, 10, 10))[0]
        record = make_death(
            ctx, "homicide", day=day, at=_spot(ctx, (hood.lat, hood.lon), 1.2, 3.5, place_type),
            sex="F", age=rng.randint(19, 42), cause=rng.choice(("ligature", "ligature", "asphyxia")),
            substances=rng.choice(([], ["cocaine"], ["heroin"], ["heroin", "cocaine"])),
            tags=("sex_worker",) + (("drug_user",) if rng.random() < 0.5 else ())
            + (("migrant",) if rng.random() < 0.3 else ()),
            mo=_flags(ctx, {"clothing_disturbed": 0.8, "phone_missing": 0.5, "property_missing": 0.4,
                            "sexual_assault_indicators": 0.4, "body_moved": 0.3, "restraint": 0.2}),
            classification=rng.choice(("homicide", "homicide", "unexpected_under_investigation")))
        if punter and index in (1, 2):
            record["entities"].append(punter)
        records.append(record)
    return _label(records, series_id)


def homeless_arsonist(ctx: Context, series_id: str, size: int) -> list[dict[str, Any]]:
    """Fires set in the sleeping places of homeless people around one town centre, 1-8 weeks
    apart at night; most first put down to candles or cigarettes."""
    rng = ctx.rng
    hood = pick_neighbourhood(rng, ctx.region)
    records = []
    for day in spaced_days(ctx, size, 7, 55):
        place_type = rng.choices(("street", "park_open_space", "transport", "other"), weights=(50, 20, 15, 15))[0]
        record = make_death(
            ctx, "fire", day=day, at=_spot(ctx, (hood.lat, hood.lon), 0.6, 1.5, place_type),
            sex="M" if rng.random() < 0.85 else "F", age=rng.randint(32, 66),
            substances=["alcohol"] if rng.random() < 0.6 else [], tags=("homeless",),
            mo=_flags(ctx, {"fire_set": 0.6, "property_missing": 0.2, "no_id": 0.5}),
            extra=(rng.choice(("Sleeping bag and bedding burnt.", "Found in a burnt-out doorway.",
                               "Witness saw someone running from the fire.")),),
            classification=rng.choice(("unexpected_not_suspicious", "unexpected_not_suspicious",
                                       "unexpected_under_investigation")))
        records.append(record)
    return _label(records, series_id)


def spiking_robber(ctx: Context, series_id: str, size: int) -> list[dict[str, Any]]:
    """Older men drugged with sedatives and alcohol by someone they brought home, and robbed:
    found dead at home or in a hotel within ~4 km, 3-14 weeks apart.  Recorded badly (see
    :func:`partial_records`): blurred locations, toxicology and finders missing."""
    rng = ctx.rng
    hood = pick_neighbourhood(rng, ctx.region)
    records = []
    for day in spaced_days(ctx, size, 20, 100):
        place_type = "residence" if rng.random() < 0.7 else "hostel_hotel"
        record = make_death(
            ctx, "drug", day=day, at=_spot(ctx, (hood.lat, hood.lon), 1.5, 4.0, place_type),
            sex="M", age=rng.randint(46, 78),
            substances=["benzodiazepine", "alcohol"] + (["ghb"] if rng.random() < 0.3 else []),
            mo=_flags(ctx, {"property_missing": 0.8, "phone_missing": 0.6}), tags=(),
            extra=(rng.choice(("Wallet and bank cards not found.", "Seen drinking with a younger man.",
                               "Bank account emptied the next morning.")),))
        record["victim_tags"] = []  # housed men with no recorded vulnerability: nothing to tag
        records.append(record)
    return _label(partial_records(ctx, records), series_id)


def care_poisoner(ctx: Context, series_id: str, size: int) -> list[dict[str, Any]]:
    """A home carer who kills elderly clients with insulin across the whole region over one to
    three years: deaths pass as natural; the carer finds most of them; insulin shows only once
    toxicology is asked for (from the second death on, in this series)."""
    rng = ctx.rng
    carer = ctx.entities.unique("carer")
    records = []
    days = spaced_days(ctx, size, 60, 220)
    for index, day in enumerate(days):
        hood = pick_neighbourhood(rng, ctx.region)
        tested = 1 <= index <= 2 or (index > 2 and rng.random() < 0.5)
        finder = ("the home carer", carer) if index != 3 else ("a relative", ctx.entities.unique("finder-family"))
        record = make_death(
            ctx, "natural", day=day, at=_spot(ctx, (hood.lat, hood.lon), 0.6, 1.5, "residence"),
            finder=finder, sex="F" if rng.random() < 0.65 else "M", age=rng.randint(78, 95),
            cause="undetermined" if tested else "natural", substances=["insulin"] if tested else [],
            tags=("elderly",) if rng.random() < 0.5 else (),
            mo=("property_missing",) if rng.random() < 0.2 else (),
            extra=("Not known to be diabetic.",) if tested else (),
            classification="unexpected_under_investigation" if tested else "expected")
        records.append(record)
    return _label(records, series_id)


def partial_records(ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Degrade a series' records the way old or public data is degraded: locations blurred to
    ~1 km, finders not recorded, toxicology missing in two, one age missing, half the times known
    only to the day, one narrative reduced to its first sentence."""
    rng = ctx.rng
    no_tox = set(rng.sample(range(len(records)), min(2, len(records) - 1)))
    no_age = rng.randrange(len(records))
    for index, record in enumerate(records):
        precision = rng.choice((500, 1000, 1000, 2000))
        record["lat"], record["lon"] = blur(rng, record["lat"], record["lon"], precision)
        record["location_precision_m"] = precision
        record["entities"] = []
        if index in no_tox:
            record["substances"] = []
        if index == no_age:
            record["victim_age"] = None
        if rng.random() < 0.5:
            record["found_at"] = record["found_at"][:10]
            record["died_from"] = record["died_to"] = None
        if index == 0 and record["narrative"]:
            record["narrative"] = record["narrative"].split(". ")[0].rstrip(".") + "."
    return records


def _label(records: list[dict[str, Any]], series_id: str) -> list[dict[str, Any]]:
    for record in records:
        record["series_id"] = series_id
    return records


KINDS: dict[str, Callable[[Context, str, int], list[dict[str, Any]]]] = {
    "ghb_poisoner": ghb_poisoner,
    "sex_worker_strangler": sex_worker_strangler,
    "homeless_arsonist": homeless_arsonist,
    "spiking_robber": spiking_robber,
    "care_poisoner": care_poisoner,
}
