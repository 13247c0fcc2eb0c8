"""The crimelinkage example data (Porter & Reich, GPL-3) as case records, and a crime-disjoint split.

Burglaries are not deaths, but the data is the standard labelled benchmark for this kind of linkage:
planar X/Y become coordinates around a fixed origin (units taken as metres), DT.FROM/DT.TO the window
(``died_from``/``died_to``), MO1–MO3 scene flags (``mo1_6``...), and crimes sharing an offender one
``series_id`` (connected through co-offenders).  Unsolved crimes have no ``series_id``.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path
from typing import Any

from caselink.linkage.series import connected_components

ORIGIN_LAT = 39.29
ORIGIN_LON = -76.61


def load_crimelinkage(folder: Path) -> list[dict[str, Any]]:
    """Case records for the 490 crimes of ``crimes.csv`` with series from ``offenders.csv``."""
    with open(folder / "crimes.csv", newline="", encoding="utf-8") as handle:
        crimes: list[dict[str, str]] = list(csv.DictReader(handle))
    with open(folder / "offenders.csv", newline="", encoding="utf-8") as handle:
        links: list[dict[str, str]] = list(csv.DictReader(handle))
    crime_ids = {c["crimeID"] for c in crimes}
    by_offender: dict[str, list[str]] = {}
    for row in links:
        if row["crimeID"] in crime_ids:
            by_offender.setdefault(row["offenderID"], []).append(row["crimeID"])
    edges = [(ids[0], other) for ids in by_offender.values() for other in ids]
    series_of: dict[str, str] = {}
    for component in connected_components(edges):
        label = "CL-" + min(component, key=lambda c: int(c.split(":")[1])).replace(":", "")
        for crime_id in component:
            series_of[crime_id] = label
    records = []
    for crime in crimes:
        x, y = float(crime["X"]), float(crime["Y"])
        lat = ORIGIN_LAT + y / 1000.0 / 110.574
        lon = ORIGIN_LON + x / 1000.0 / (111.320 * math.cos(math.radians(lat)))
        mo = [f"mo{i}_{crime[f'MO{i}'].strip().lower()}" for i in (1, 2, 3)
              if crime[f"MO{i}"] not in ("", "NA")]
        records.append({
            "case_id": crime["crimeID"], "incident_type": "non_fatal", "agency": "crimelinkage",
            "found_at": crime["DT.TO"], "died_from": crime["DT.FROM"], "died_to": crime["DT.TO"],
            "lat": round(lat, 7), "lon": round(lon, 7), "mo": ";".join(mo),
            "series_id": series_of.get(crime["crimeID"]),
        })
    return records


def crime_disjoint_split(records: list[dict[str, Any]], seed: int = 1, test_share: float = 0.5
                         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split solved crimes by series, so no offender's crimes are on both sides; unsolved go to train."""
    labels = sorted({r["series_id"] for r in records if r["series_id"]})
    rng = random.Random(seed)
    rng.shuffle(labels)
    test_labels = set(labels[: int(len(labels) * test_share)])
    train = [r for r in records if r["series_id"] not in test_labels]
    test = [r for r in records if r["series_id"] in test_labels]
    return train, test


def hide_labels(records: list[dict[str, Any]], hidden: set[str]) -> list[dict[str, Any]]:
    """The same records with the series of ``hidden`` crimes removed (unsolved, as far as training knows).

    Why the whole store rather than the training half alone: a live store holds every recorded
    crime, solved or not, and rarity ("MO1 = 31 is in 2% of burglaries") is judged against all of
    them; only the offender labels of the held-out series must stay unseen while fitting.
    """
    return [dict(r, series_id=None) if r["case_id"] in hidden else dict(r) for r in records]
