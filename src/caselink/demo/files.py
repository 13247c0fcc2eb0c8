"""Writing generated records to files a user can ingest (CSV, GeoJSON), in the schema's conventions."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from caselink.schema import LIST_FIELDS, SCHEMA_COLUMNS


def write_records_csv(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write raw records as CSV with every schema column (lists joined by ``;``, None as an empty
    cell); returns the number written.  Written to a temporary name and renamed, so a failure never
    leaves a half-written file behind."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(SCHEMA_COLUMNS)
            for record in records:
                writer.writerow([_cell(record.get(name), name in LIST_FIELDS) for name in SCHEMA_COLUMNS])
                count += 1
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def write_records_geojson(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write raw records as an RFC 7946 FeatureCollection of Points (longitude first), one feature
    per line so a diff of two versions is readable; empty fields are left out."""
    features = []
    for record in records:
        properties = {k: v for k, v in record.items() if k not in ("lat", "lon") and v not in (None, [])}
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
                         "properties": properties})
    body = ",\n".join(json.dumps(feature, ensure_ascii=False) for feature in features)
    Path(path).write_text('{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n", encoding="utf-8")
    return len(features)


def _cell(value: Any, is_list: bool) -> str:
    if value is None:
        return ""
    if is_list:
        return ";".join(str(item) for item in value)
    return str(value)
