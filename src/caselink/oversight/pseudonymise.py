"""The pseudonymised research export (``caselink export --pseudonymise --recipient NAME``).

What leaves the store, and why each rule exists:

* ids (case, series, and each entity value) become **keyed hashes** (HMAC-SHA256): stable, so a
  researcher can follow a case across exports and see that two deaths share a finder, but not
  reversible without the key, which never leaves the store.  The key is derived per recipient from
  a secret held in ``pseudonym_secrets``, so two recipients cannot join their exports;
* dates are coarsened to the **ISO week** (``2014-W35``);
* locations are snapped to the centre of a **grid** cell (1 km by default);
* **free text** (narrative, area) is dropped, and the exact age becomes a five-year band;
* **small cells** are suppressed: any value of a quasi-identifying field (sex, ethnicity, each
  tag, age band, cause, place type, agency, classification, outcome, each substance and MO flag,
  each grid cell) held by fewer than five exported cases is replaced by ``suppressed``.

The export is a disclosure: ``commands/cases.py`` logs it with its recipient and justification
before the file takes its real name.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import math
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, select

from caselink.io.writers import spreadsheet_safe
from caselink.oversight.models import PseudonymSecretRow

SECRETS: Table = PseudonymSecretRow.__table__  # type: ignore[assignment]
SECRET_NAME = "research_export"
FORMATS = ("csv", "jsonl", "parquet")
GRID_M = 1000
MIN_CELL = 5
SUPPRESSED = "suppressed"
COLUMNS = ("pid", "agency", "incident_type", "found_week", "died_from_week", "died_to_week", "grid_lat",
           "grid_lon", "grid_m", "place_type", "age_band", "victim_sex", "victim_ethnicity", "victim_tags", "cause",
           "substances", "mo", "entities", "classification", "outcome", "series_pid")
SCALAR_SUPPRESSED = ("agency", "place_type", "age_band", "victim_sex", "victim_ethnicity", "cause",
                     "classification", "outcome", "incident_type")
LIST_SUPPRESSED = ("victim_tags", "substances", "mo")


def store_secret(engine: Engine) -> bytes:
    """The store's pseudonym secret, made on first use; it is never written to an export."""
    with engine.begin() as connection:
        row = connection.execute(select(SECRETS.c.secret_hex).where(SECRETS.c.name == SECRET_NAME)).first()
        if row is None:
            connection.execute(SECRETS.insert().values(name=SECRET_NAME, secret_hex=secrets.token_hex(32),
                                                       created_at=datetime.now(UTC).replace(tzinfo=None)))
            row = connection.execute(select(SECRETS.c.secret_hex).where(SECRETS.c.name == SECRET_NAME)).first()
    assert row is not None  # noqa: S101 - inserted just above
    return bytes.fromhex(row[0])


def recipient_key(secret: bytes, recipient: str) -> bytes:
    return hmac.new(secret, b"recipient:" + recipient.strip().casefold().encode(), hashlib.sha256).digest()


def keyed(key: bytes, kind: str, value: str) -> str:
    """A stable pseudonym: 16 hex digits of HMAC-SHA256 (64 bits; collisions negligible at 10^6 cases)."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


def iso_week(moment: datetime | None, offset_min: int | None = None) -> str | None:
    """The ISO week of ``moment`` (stored as UTC) on the agency's own calendar (``offset_min``).

    Why the offset: a death found at 00:30 on Monday 23 June in London is 23:30 on Sunday in UTC,
    which is the week before.
    """
    if moment is None:
        return None
    if offset_min:
        moment = moment + timedelta(minutes=offset_min)
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def grid_cell(lat: float, lon: float, grid_m: int = GRID_M) -> tuple[float, float]:
    """Centre of the grid cell holding (lat, lon): cells of ``grid_m`` metres north-south, and of the
    same width east-west at the cell's latitude."""
    step_lat = grid_m / 111_320.0
    row = math.floor(lat / step_lat)
    centre_lat = (row + 0.5) * step_lat
    step_lon = grid_m / (111_320.0 * max(math.cos(math.radians(centre_lat)), 0.01))
    centre_lon = (math.floor(lon / step_lon) + 0.5) * step_lon
    return round(centre_lat, 5), round(centre_lon, 5)


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    if age >= 90:
        return "90+"
    low = age // 5 * 5
    return f"{low}-{low + 4}"


def pseudonymise(stored_rows: Iterable[dict[str, Any]], key: bytes, grid_m: int = GRID_M) -> list[dict[str, Any]]:
    """Pseudonymised rows (see the module docstring), small cells suppressed across the whole export."""
    rows: list[dict[str, Any]] = []
    for stored in stored_rows:
        lat, lon = grid_cell(stored["lat"], stored["lon"], grid_m)
        entities = []
        for entity in stored.get("entities") or []:
            kind, _, value = entity.partition(":")
            entities.append(f"{kind}:{keyed(key, 'entity', entity)}")
        rows.append({
            "pid": keyed(key, "case", stored["case_id"]), "agency": stored.get("agency"),
            "incident_type": stored.get("incident_type"), "found_week": _week(stored, "found_at"),
            "died_from_week": _week(stored, "died_from"), "died_to_week": _week(stored, "died_to"),
            "grid_lat": lat, "grid_lon": lon, "grid_m": grid_m, "place_type": stored.get("place_type"),
            "age_band": age_band(stored.get("victim_age")), "victim_sex": stored.get("victim_sex"),
            "victim_ethnicity": stored.get("victim_ethnicity"), "victim_tags": list(stored.get("victim_tags") or []),
            "cause": stored.get("cause"), "substances": list(stored.get("substances") or []),
            "mo": list(stored.get("mo") or []), "entities": sorted(entities),
            "classification": stored.get("classification"), "outcome": stored.get("outcome"),
            "series_pid": keyed(key, "series", stored["series_id"]) if stored.get("series_id") else None,
        })
    _suppress_small_cells(rows)
    return rows


def _week(stored: dict[str, Any], name: str) -> str | None:
    return iso_week(stored.get(name), stored.get(f"{name}_offset_min"))


def _suppress_small_cells(rows: list[dict[str, Any]]) -> None:
    for name in SCALAR_SUPPRESSED:
        counts = Counter(row[name] for row in rows if row[name] is not None)
        for row in rows:
            if row[name] is not None and counts[row[name]] < MIN_CELL:
                row[name] = SUPPRESSED
    for name in LIST_SUPPRESSED:
        counts = Counter(value for row in rows for value in set(row[name]))
        for row in rows:
            kept = [v for v in row[name] if counts[v] >= MIN_CELL]
            row[name] = kept + ([SUPPRESSED] if len(kept) < len(row[name]) else [])
    cells = Counter((row["grid_lat"], row["grid_lon"]) for row in rows)
    for row in rows:
        if cells[(row["grid_lat"], row["grid_lon"])] < MIN_CELL:
            row["grid_lat"] = row["grid_lon"] = None


def write_pseudonymised(engine: Engine, stored_rows: Iterable[dict[str, Any]], out: Path, fmt: str,
                        recipient: str, grid_m: int = GRID_M) -> int:
    """Write the pseudonymised export for ``recipient`` to ``out``; returns the number of cases."""
    if fmt not in FORMATS:
        raise ValueError(f"--format: a pseudonymised export is {', '.join(FORMATS)}, not {fmt}")
    rows = pseudonymise(stored_rows, recipient_key(store_secret(engine), recipient), grid_m)
    if fmt == "csv":
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
            writer.writeheader()
            for row in rows:
                # Text cells a spreadsheet would run as a formula ('=HYPERLINK(...)' as an agency) are
                # quoted: this export is read in spreadsheets and is never re-imported.
                writer.writerow({k: spreadsheet_safe(";".join(v) if isinstance(v, list) else v)
                                 if isinstance(v, list | str) else v for k, v in row.items()})
    elif fmt == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        import pandas as pd

        pd.DataFrame(rows, columns=list(COLUMNS)).to_parquet(out, index=False)
    return len(rows)
