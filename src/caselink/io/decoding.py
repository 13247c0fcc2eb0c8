"""How file content becomes Python values without a silent loss or a guess.

The readers (:mod:`caselink.io.readers`) place rows and name lines; this module holds the decoding
each of them needs when a file is not what it seems: a JSON key given twice, text that is not
UTF-8, Parquet strings stored as bytes, Parquet dates Python cannot hold.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from caselink.schema import UnreadableDate
from caselink.store.ingest import SourceError


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that marks a repeated key: ``json`` keeps the last of two "lat" without a word."""
    row: dict[str, Any] = {}
    for key, value in pairs:
        if key in row:
            row["__shape__"] = f"gives '{key}' twice; keep one"
        row[key] = value
    return row


def _key_count(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_key_count(v) for v in value.values() if isinstance(v, dict | list))
    if isinstance(value, list):
        return sum(_key_count(v) for v in value if isinstance(v, dict | list))
    return 0


def loads_marking_repeats(text: str) -> Any:
    """``json.loads`` that marks repeated keys (see :func:`_json_object`).

    Why not always the hook: it makes parsing three times slower.  A key ends in ``":`` (or ``" :``);
    when the parsed objects hold as many keys as the text has, none was repeated.  A mismatch (a
    repeat, or such a pair inside a string) parses again with the hook, which is exact.
    """
    value = json.loads(text)
    if _key_count(value) != text.count('":') + text.count('" :'):
        value = json.loads(text, object_pairs_hook=_json_object)
    return value


def first_bytes(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4)


def not_utf8(path: Path) -> SourceError:
    """The file's first line that is not UTF-8, found again in bytes: a decode error's own position
    counts from the start of the read buffer, not of the file, so it points at the wrong place."""
    with path.open("rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode Text" and some exports
            return SourceError(str(path), "is UTF-16 text; save the file as UTF-8 (Excel: Save As 'CSV UTF-8') "
                                          "and import it again")
        handle.seek(0)
        for line_no, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                return SourceError(str(path), f"line {line_no}: is not UTF-8 text (byte 0x{raw[exc.start]:02x}, "
                                              "e.g. a £ or an accent saved as Windows-1252); save the file as "
                                              "UTF-8 (Excel: Save As 'CSV UTF-8') and import it again")
    return SourceError(str(path), "is not UTF-8 text; save the file as UTF-8 and import it again")


def decode_binary(path: str, batch: Any, as_text: dict[int, Any]) -> Any:
    """Binary columns as UTF-8 text: Hive, Impala and older Spark write strings as plain BINARY,
    which Python reads as bytes and a case id became "b'A1'".  Nanosecond timestamps as
    microseconds (see :func:`binary_as_text`)."""
    import pyarrow as pa

    arrays = list(batch.columns)
    for position, text_type in as_text.items():
        if pa.types.is_timestamp(text_type):
            arrays[position] = arrays[position].cast(text_type, safe=False)  # drops the sub-microsecond part
            continue
        try:
            arrays[position] = arrays[position].cast(text_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise SourceError(path, f"column '{batch.schema.names[position]}' holds bytes that are not "
                                         "UTF-8 text; write it as a UTF-8 string column") from None
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def rows_one_by_one(batch: Any) -> list[dict[str, Any]]:
    """The rows of ``batch``, a value Python cannot hold read as :class:`UnreadableDate` (refused by
    row and field) instead of ending the import in a traceback."""
    columns = []
    for column in batch.columns:
        try:
            columns.append(column.to_pylist())
            continue
        except (OverflowError, ValueError):
            pass
        values = []
        for position in range(len(column)):
            try:
                values.append(column[position].as_py())
            except (OverflowError, ValueError) as exc:
                values.append(UnreadableDate(f"is a date outside the years 1..9999 ({exc}); check the value"))
        columns.append(values)
    return [dict(zip(batch.schema.names, values, strict=True)) for values in zip(*columns, strict=True)]


def binary_as_text(schema: Any) -> dict[int, Any]:
    """Column position -> the type to read a column as: text for a binary column (or a list of binary),
    microseconds for a nanosecond timestamp.

    Why the timestamps: pyarrow reads ``timestamp[ns]`` (pandas' ``datetime64[ns]``) as pandas
    Timestamps, whose repr is not a datetime's, so the record hash of the case differed from the hash
    of its own export re-imported (a spurious update).  The store keeps microseconds anyway.
    """
    import pyarrow as pa

    def text_type(kind: Any) -> Any:
        if pa.types.is_timestamp(kind) and kind.unit == "ns":
            return pa.timestamp("us", kind.tz)
        if pa.types.is_binary(kind):
            return pa.string()
        if pa.types.is_large_binary(kind):
            return pa.large_string()
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            inner = text_type(kind.value_type)
            if inner is not None:
                return pa.list_(inner) if pa.types.is_list(kind) else pa.large_list(inner)
        return None

    return {position: target for position, kind in enumerate(schema.types)
            if (target := text_type(kind)) is not None}


# How GIS tools name WGS84 with longitude first in GeoJSON's legacy (2008) ``crs`` member: GDAL and
# QGIS write the OGC CRS84 URN; older tools EPSG:4326, which GeoJSON 2008 also read longitude first.
_WGS84_CRS = re.compile(r"^(urn:ogc:def:crs:(ogc:1\.3:|ogc::)crs84|urn:ogc:def:crs:epsg:(\d+(\.\d+)*)?:4326|epsg:4326"
                        r"|https?://www\.opengis\.net/def/crs/(ogc/1\.3/crs84|epsg/0/4326))$")
_CRS_NAMES = {"27700": "British National Grid metres", "4277": "OSGB36 degrees", "3857": "Web Mercator metres",
              "29903": "Irish Grid metres", "2157": "Irish Transverse Mercator metres"}


def geojson_crs_problem(document: dict[str, Any]) -> str | None:
    """Why the legacy ``crs`` member of a GeoJSON document stops it being read as WGS84, or None.

    Why refuse the whole file: RFC 7946 dropped ``crs`` and made every coordinate WGS84 longitude,
    latitude, but QGIS and older GDAL still write it.  British National Grid metres failed point by
    point without naming the cause, and a CRS in degrees that is not WGS84 (OSGB36 lies about 100 m
    off) was read as WGS84 without a word.  Reprojecting is a GIS tool's job, not a guess of ours.
    """
    crs = document.get("crs")
    if crs is None:
        return None
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    if isinstance(properties, dict) and str(crs.get("type")).upper() == "EPSG" and "code" in properties:
        name = f"EPSG:{properties['code']}"  # the pre-2008 draft's form, {"type": "EPSG", "properties": {"code": ...}}
    fix = "; reproject it to WGS84 longitude, latitude first (e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)"
    if not isinstance(name, str):
        return f"has a 'crs' member caselink cannot read ({json.dumps(crs)[:80]}){fix}, or remove 'crs' if " \
               "the coordinates are already WGS84"
    if _WGS84_CRS.match(name.strip().lower()):
        return None
    code = re.search(r"(\d+)$", name.strip())
    known = _CRS_NAMES.get(code.group(1)) if code else None
    return f"declares its coordinates in crs '{name}'{f' ({known})' if known else ''}, not WGS84{fix}"


def json_document_hint(path: Path) -> str:
    """What to do with a .jsonl file whose first line is not JSON, when the whole file is one JSON
    document (``json.dump(records, indent=2)``, a hand-formatted object); else nothing to add."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, OSError):
        return ""
    if not isinstance(document, list | dict):
        return ""
    jq = "jq -c '.[]'" if isinstance(document, list) else "jq -c ."
    return ("; it is one JSON document over several lines: write one case object per line (pandas: "
            f"to_json(orient='records', lines=True); jq: {jq})")


def fixed_bytes_problem(columns: list[str], schema: Any, read: set[str]) -> str | None:
    """Why the file's fixed-size binary columns that ingest reads cannot be text, or None.

    Why refuse: Spark and BigQuery write a UUID or a hash without its logical type as
    FIXED_LEN_BYTE_ARRAY; read as a value it was stored as a Python bytes repr ("b'\\x124V...'"), a case
    id no other source would ever match.  Which text form the bytes stand for is not ours to guess.
    """
    import pyarrow as pa

    def fixed(kind: Any) -> bool:
        if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
            return fixed(kind.value_type)
        return bool(pa.types.is_fixed_size_binary(kind))

    names = [name for name, kind in zip(columns, schema.types, strict=True) if name in read and fixed(kind)]
    if not names:
        return None
    return (f"column(s) {', '.join(repr(n) for n in names)} hold fixed-size bytes (a UUID or a hash written "
            "without its type), not text; write them as strings (a UUID in its 8-4-4-4-12 form)")
