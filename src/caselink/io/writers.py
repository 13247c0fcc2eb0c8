"""Writers: the store back out in each input format, so that an export re-imports to identical records.

Times are written as ISO 8601 with the agency's original offset (a date alone when only a date was
given); Parquet keeps them as strings for the same reason, since a timestamp column would lose
the offset and the date-only precision.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from caselink.schema import LIST_FIELDS, SCHEMA_COLUMNS, stored_to_raw

EXPORT_COLUMNS = list(SCHEMA_COLUMNS)
_INT_FIELDS = ("location_precision_m", "victim_age")
_FLOAT_FIELDS = ("lat", "lon")

# A text cell starting with one of these opens as a formula in Excel and LibreOffice (OWASP "CSV
# injection"): a narrative "=HYPERLINK(...)" or an agency "-2+3+cmd|..." would run when a researcher
# opens the export.  Such a cell is written with a ' in front, which spreadsheets read as "text";
# a cell already starting with quotes before such a character gets one more, so the rule can be undone
# exactly (:func:`unescape_cell`) and the export still re-imports to identical records.
_FORMULA_START = re.compile(r"^'*[=+\-@\t\r]")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a CSV text cell that no spreadsheet reads as a formula (see ``_FORMULA_START``)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def unescape_cell(cell: str) -> str:
    """The inverse of :func:`spreadsheet_safe`, for cells of caselink's own CSV export."""
    return cell[1:] if cell.startswith("'") and _FORMULA_START.match(cell[1:]) else cell


def write_csv(rows: Iterable[dict[str, Any]], out: Path) -> int:
    """The export header is the marker ingest knows it by; text cells are :func:`spreadsheet_safe`
    (numbers are written as numbers: ``-0.08`` is a longitude, not a formula)."""
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for stored in rows:
            raw = stored_to_raw(stored)
            cells = [_list_cell(c, raw[c]) if c in LIST_FIELDS else ("" if raw[c] is None else raw[c])
                     for c in EXPORT_COLUMNS]
            writer.writerow([spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in cells])
            count += 1
    return count


def _list_cell(name: str, items: list[str]) -> str:
    """``items`` joined with ``;``, or as a JSON array when the joined cell would not read back as
    them: an entity holding ';' (from JSON Lines), a tag 'a|b' or '{x}' came back as other items."""
    from caselink.normalise import read_list_cell

    joined = ";".join(items)
    return joined if read_list_cell(name, joined) == list(items) else json.dumps(list(items), ensure_ascii=False)


def write_jsonl(rows: Iterable[dict[str, Any]], out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for stored in rows:
            handle.write(json.dumps(stored_to_raw(stored), ensure_ascii=False) + "\n")
            count += 1
    return count


def write_geojson(rows: Iterable[dict[str, Any]], out: Path) -> int:
    """RFC 7946: one Point feature per case, longitude first; streamed feature by feature."""
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        handle.write('{"type": "FeatureCollection", "features": [\n')
        for stored in rows:
            raw = stored_to_raw(stored)
            lon, lat = raw.pop("lon"), raw.pop("lat")
            feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                       "properties": raw}
            handle.write(("," if count else "") + json.dumps(feature, ensure_ascii=False) + "\n")
            count += 1
        handle.write("]}\n")
    return count


def parquet_schema() -> Any:
    import pyarrow as pa

    fields = []
    for name in EXPORT_COLUMNS:
        if name in LIST_FIELDS:
            kind = pa.list_(pa.string())
        elif name in _INT_FIELDS:
            kind = pa.int64()
        elif name in _FLOAT_FIELDS:
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def write_parquet(rows: Iterable[dict[str, Any]], out: Path, batch_rows: int = 50_000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(out, schema) as writer:
        for stored in rows:
            batch.append(stored_to_raw(stored))
            if len(batch) >= batch_rows:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch.clear()
        if batch or count == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "parquet": write_parquet, "geojson": write_geojson}


def write(rows: Iterable[dict[str, Any]], out: Path, fmt: str) -> int:
    """Write stored rows to ``out`` in ``fmt``; returns how many were written."""
    return WRITERS[fmt](rows, out)
