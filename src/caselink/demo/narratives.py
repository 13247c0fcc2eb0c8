"""Short, varied narratives in the register of a police death report.

Narrative similarity is one of the linkage comparisons, so the text must neither be identical
across unrelated deaths of one kind (every heroin death would look linked) nor carry words only
planted series use (the model would learn the template, not the pattern).  Sentences are drawn
from pools shared by background and planted cases; the facts in them come from the record.
"""

from __future__ import annotations

import random

FINDER_PHRASES = {
    "family": ("a family member", "her son", "his daughter", "a relative", "his brother", "her sister"),
    "partner": ("the partner", "a partner returning home"),
    "housemate": ("a housemate", "a flatmate"),
    "friend": ("a friend", "a friend who had not heard from them"),
    "neighbour": ("a neighbour", "the next-door neighbour"),
    "carer": ("a carer on a morning visit", "the home carer", "a carer"),
    "landlord": ("the landlord", "a letting agent"),
    "welfare": ("police on a welfare check", "officers forcing entry on a concern-for-welfare call"),
    "hostel-staff": ("the hostel manager", "hostel staff on a room check", "a night worker at the hostel"),
    "resident": ("another resident", "a resident"),
    "passer-by": ("a passer-by", "a member of the public", "a jogger", "a cyclist"),
    "dog-walker": ("a dog walker", "a woman walking her dog", "a man walking his dog"),
    "outreach-worker": ("a street outreach worker", "an outreach worker on a night shift"),
    "park-keeper": ("a park keeper", "council grounds staff"),
    "station-staff": ("station staff", "a member of station staff"),
    "refuse-worker": ("a refuse worker", "a street cleaner"),
    "anonymous-999-caller": ("an anonymous 999 caller",),
    "paramedic": ("paramedics called by a relative", "ambulance crew"),
}

NATURAL = (
    "Known heart condition; GP willing to certify.",
    "History of COPD and diabetes; no suspicious circumstances.",
    "Lived alone; post had been piling up for several days.",
    "Collapsed and could not be revived; paramedics attended.",
    "Recently discharged from hospital.",
    "No signs of disturbance; doors locked from the inside.",
    "Under treatment for cancer; death not unexpected by the family.",
    "Found in bed; last seen the evening before.",
    "Medication in date and apparently taken as prescribed.",
)
DRUG = (
    "Known to local drug services.",
    "Believed to have relapsed after a period in treatment.",
    "Released from prison three weeks earlier.",
    "Friends said he had been using all weekend.",
    "No signs of a struggle.",
    "Family say she had been clean for a year.",
    "Ambulance crew administered naloxone without effect.",
    "Blister packs and a bottle of spirits nearby.",
)
GHB = (
    "Had been at a chemsex party the night before, according to friends.",
    "Friends said G had been taken with other drugs over the weekend.",
    "Others present left before the ambulance arrived.",
    "Met people through an app the evening before; they have been traced.",
    "Dosing bottle found; friends said he had taken too much too soon.",
)
SUICIDE = (
    "Known to mental health services.",
    "Had recently lost his job, according to family.",
    "Relationship had recently ended.",
    "History of self-harm.",
    "Had spoken of ending her life, according to a friend.",
    "No third-party involvement suspected.",
)
ALCOHOL = (
    "Long history of alcohol dependence.",
    "Empty bottles around the body.",
    "Known street drinker.",
    "Liver disease recorded by the GP.",
)
FALL = (
    "Found at the foot of the stairs.",
    "Appears to have fallen in the bathroom.",
    "Head injury consistent with a fall; lived alone.",
    "Walking frame beside the body.",
)
ACCIDENT = (
    "Carbon monoxide from a faulty boiler suspected.",
    "Appears to have choked while eating alone.",
    "Hypothermia; the heating had been cut off.",
    "Electrocution from a faulty appliance suspected.",
)
UNDETERMINED = (
    "Advanced decomposition; the cause could not be established.",
    "Post-mortem inconclusive; toxicology awaited.",
    "No obvious cause; further enquiries with the family.",
)
HOMICIDE = {
    "sharp_force": ("Stab wounds to the chest; a man was arrested nearby.", "Found after a fight outside "
                    "licensed premises.", "Single stab wound; witnesses saw a group running off."),
    "blunt_force": ("Head injuries; a neighbour heard shouting in the night.", "Partner arrested at the scene.",
                    "Found after a fight outside licensed premises."),
    "gunshot": ("Shot from a passing vehicle, according to witnesses.", "Gunshot wounds; shell casings "
                "recovered nearby."),
    "ligature": ("Ligature marks to the neck.", "Marks to the neck; the post-mortem found strangulation."),
    "asphyxia": ("Post-mortem found signs of compression of the neck.", "Petechial haemorrhages noted by "
                 "the pathologist."),
    "undetermined": ("Injuries inconsistent with a fall; the flat had been searched.", "Body concealed; "
                     "the cause could not be established."),
}
FIRE = (
    "Fire brigade suspect a discarded cigarette.",
    "A portable heater was found near the seat of the fire.",
    "Candles had been used for light; the electricity was off.",
)


def who(age: int | None, sex: str | None) -> str:
    """"A 54-year-old man", "a woman in her seventies", or "a person" when the facts are missing."""
    noun = {"M": "man", "F": "woman"}.get(sex or "", "person")
    if age is None:
        return f"a {noun}"
    if age >= 70:
        decade = {7: "seventies", 8: "eighties", 9: "nineties"}.get(age // 10, "hundreds")
        return f"a {noun} in {'his' if sex == 'M' else 'her' if sex == 'F' else 'their'} {decade}"
    if age < 18:
        return f"a {age}-year-old {'boy' if sex == 'M' else 'girl' if sex == 'F' else 'child'}"
    return f"{'an' if str(age).startswith(('8', '11', '18')) else 'a'} {age}-year-old {noun}"


PLACE_PHRASES = {
    "residence": ("at home in {area}", "in a flat in {area}", "at an address in {area}"),
    "hostel_hotel": ("in a room at the {area}", "at the {area}"),
    "street": ("in the street in {area}", "on a pavement in {area}", "in an alleyway in {area}"),
    "park_open_space": ("in {area}", "on open ground in {area}"),
    "churchyard_cemetery": ("in {area}", "in a churchyard in {area}"),
    "waterway": ("in the water at {area}", "on the bank at {area}"),
    "woodland": ("in woodland near {area}",),
    "vehicle": ("in a car in {area}", "in a parked van in {area}"),
    "workplace": ("at work in {area}",),
    "public_toilet": ("in a public toilet in {area}",),
    "transport": ("at {area}", "on the railway near {area}"),
    "other": ("at premises in {area}", "in {area}"),
}


def where(rng: random.Random, place_type: str | None, area: str | None) -> str:
    """"at home in Becontree, Barking and Dagenham", "in Victoria Park", ..."""
    phrases = PLACE_PHRASES.get(place_type or "other", PLACE_PHRASES["other"])
    return rng.choice(phrases).format(area=area or "the area")


def finder_phrase(rng: random.Random, role: str | None) -> str:
    if role is None:
        return "emergency services"
    return rng.choice(FINDER_PHRASES.get(role, ("a member of the public",)))


def compose(rng: random.Random, opening: str, pool: tuple[str, ...], extra: list[str], k: int = 1) -> str:
    """Opening sentence, ``k`` sentences from ``pool`` and the record-specific ``extra`` ones, in a
    drawn order after the opening so that no two kinds share a fixed shape."""
    body = rng.sample(pool, min(k, len(pool))) + extra
    rng.shuffle(body)
    text = " ".join([opening[0].upper() + opening[1:]] + body)
    return text
