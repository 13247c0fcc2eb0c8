"""Readers: each file format as a stream of (line, raw row) with the line numbers of the contract.

LINE is what a user opens the file at: the CSV header is line 1 (a quoted field spanning lines
counts from where its record starts), JSONL the physical line, Parquet the row index + 1, GeoJSON
the feature index + 1.  A problem with the whole file (unreadable, empty, another format, a missing
column) raises :class:`SourceError` naming the file.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from caselink.io.decoding import (
    binary_as_text,
    decode_binary,
    first_bytes,
    fixed_bytes_problem,
    geojson_crs_problem,
    json_document_hint,
    loads_marking_repeats,
    not_utf8,
    rows_one_by_one,
)
from caselink.io.writers import EXPORT_COLUMNS, unescape_cell
from caselink.schema import REQUIRED_FIELDS, SCHEMA_COLUMNS
from caselink.store.ingest import RecordSource, SourceError

FORMATS = ("csv", "jsonl", "parquet", "geojson")
KNOWN_COLUMNS = set(SCHEMA_COLUMNS)

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def detect_format(path: Path) -> str:
    """Format from the extension, checked against the file's first bytes."""
    suffix = path.suffix.lower()
    if suffix in _COMPRESSED:
        raise SourceError(str(path), f"is compressed ('{suffix}'); decompress it first (e.g. gunzip, unzip) and "
                                     "import the .csv, .jsonl, .parquet or .geojson inside")
    if suffix in (".xlsx", ".xls", ".ods"):
        raise SourceError(str(path), "is a spreadsheet workbook; save the sheet as 'CSV UTF-8' and import that")
    by_suffix = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                 ".pq": "parquet", ".geojson": "geojson", ".json": "geojson"}.get(suffix)
    if by_suffix is None:
        raise SourceError(str(path), f"unknown file type '{suffix or '(none)'}'; use .csv, .jsonl, .parquet "
                                     "or .geojson")
    return by_suffix


_COMPRESSED = (".gz", ".zip", ".bz2", ".xz", ".zst", ".7z")


# Names for a coordinate that mean only that coordinate in every GIS and spreadsheet export.  Other
# names (``Date Found``, ``id``, ``x``/``y``, which are often projected metres) are not guessed.
COORDINATE_ALIASES = {"latitude": "lat", "longitude": "lon", "lng": "lon", "long": "lon"}


def fold_name(name: str) -> str:
    """The schema field a header means: spreadsheets write ``Case ID``, ``Victim-Age``, ``CAUSE`` or
    ``Latitude``.

    Only a name that folds (lower case, spaces and hyphens to underscores) onto a schema field or a
    coordinate alias is changed; any other name is kept as written, so the warning about unknown
    columns quotes it.
    """
    folded = re.sub(r"[\s\-]+", "_", name.strip().lower())
    folded = COORDINATE_ALIASES.get(folded, folded)
    return folded if folded in KNOWN_COLUMNS else name.strip()


def fold_keys(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its keys folded by :func:`fold_name`; two keys folding onto one field are refused for the row."""
    folded: dict[str, Any] = {}
    for key, value in row.items():
        name = fold_name(key)
        if name in folded:
            folded["__shape__"] = f"gives '{name}' twice; keep one"
        folded[name] = value
    return folded


def _check_columns(path: str, columns: list[str], geo: bool = False) -> list[str]:
    # Two "Notes" columns are not read at all, so only a repeated schema field stops the file.
    repeated = sorted({c for c in columns if c in KNOWN_COLUMNS and columns.count(c) > 1})
    if repeated:
        # Two "lat" columns would silently keep one of them: which one the file meant is not ours to guess.
        where = "; ".join(f"'{c}' at columns {', '.join(str(i + 1) for i, x in enumerate(columns) if x == c)}"
                          for c in repeated)
        raise SourceError(path, f"repeats column(s) {where}; keep one of each")
    required = [c for c in REQUIRED_FIELDS if not (geo and c in ("lat", "lon"))]
    missing = [c for c in required if c not in columns]
    wrong_separator = len(columns) == 1 and any(sep in columns[0] for sep in (";", "\t"))
    # Without case_id no row can be placed.  Without found_at, lat or lon a row can still update a case
    # the store holds (the stored values are kept); a new case lacking them is refused by row.
    extra = [c or f"(unnamed column {i + 1})" for i, c in enumerate(columns) if c not in KNOWN_COLUMNS]
    if "case_id" in missing and {"pid", "found_week"} <= set(columns):
        # Renaming pid and found_week, as the generic message says, would make keyed hashes case ids.
        raise SourceError(path, "is a caselink pseudonymised export (pid, found_week, grid cells): it cannot be "
                                "imported as cases, by design; import a plain `caselink export` instead")
    if "case_id" in missing or (missing and wrong_separator):
        hint = ""
        if wrong_separator:
            hint = " (the header looks separated by ';' or tabs; caselink reads comma-separated CSV)"
        elif extra:  # what the user must rename: uid -> case_id, reported_date -> found_at
            hint = f"; not read: {', '.join(extra)} (rename the ones that hold these fields)"
        raise SourceError(path, f"missing column(s) {', '.join(missing)}; the case schema requires "
                                f"{', '.join(REQUIRED_FIELDS)} (see docs/schema.md){hint}")
    return [f"{path}: column(s) {', '.join(extra)} are not in the case schema and were not imported"] if extra else []


# A file that says it holds no cases (a CSV header alone, a Parquet schema, an empty FeatureCollection,
# a JSON Lines file without a line: an export of an empty store, a week without deaths) imports nothing
# and says so.  A file that is not even a valid file of its format (a CSV without its header row, an
# empty .parquet or .geojson) is an error.  JSON Lines has no header, so no lines is the only way it
# can say "no cases": refusing it made an export of an empty store fail to re-import.
NO_CASES = "holds no cases; nothing was imported from it"


class _FileSource(RecordSource):
    """A source backed by one file, with the warnings its reading produced (extra columns)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._file = path
        self._warnings: list[str] = []

    def warnings(self) -> list[str]:
        return self._warnings


class CsvSource(_FileSource):
    """CSV with a header row; list fields are ``;``-joined cells."""

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            handle = self._file.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise SourceError(self.path, f"cannot read: {exc.strerror}") from None
        with handle:
            try:
                first = first_bytes(self._file)  # before decoding, which would fail first on binary content
                if first == b"PK\x03\x04":
                    raise SourceError(self.path, "is a zip file (an Excel .xlsx workbook?) named .csv; open it and "
                                                 "save the sheet as 'CSV UTF-8'")
                head = "PAR1" if first == b"PAR1" else handle.read(4)
                if head.startswith("PAR1") or "\x00" in head:
                    raise SourceError(self.path, "is not a CSV text file (binary content; a Parquet file "
                                                 "should end in .parquet)")
                handle.seek(0)
                # strict: an unclosed quote raises instead of taking the rest of the file into one field
                reader = csv.reader(handle, strict=True)
                start = 1
                header = next(reader, None)
                if header and header[0].strip().lower() == "sep=" and not any(h.strip() for h in header[1:]):
                    header = next(reader, None)  # Excel's "sep=," line declares the separator we read anyway
                elif header and len(header) == 1 and header[0].strip().lower().startswith("sep="):
                    raise SourceError(self.path, f"line 1 declares '{header[0].strip()[4:]}' as the separator "
                                                 "(Excel's sep= line); caselink reads comma-separated CSV: save it "
                                                 "with commas")
                if header is None or not any(h.strip() for h in header):
                    raise SourceError(self.path, "is empty; expected a header row naming the case fields")
                header = [h.strip() for h in header]
                if header[0].startswith(("{", "[")):
                    raise SourceError(self.path, "looks like JSON, not CSV; rename it .jsonl or .geojson")
                # caselink's own CSV export (its exact header) writes formula-like text with a leading '
                # (writers.spreadsheet_safe); only there is that quote ours to take away.  When the schema
                # gains a field, older exports keep the older header: recognise those too, or they stop
                # round-tripping.
                own_export = header == EXPORT_COLUMNS
                header = [fold_name(h) for h in header]
                self._warnings = _check_columns(self.path, header)
                width = len(header)
                start = reader.line_num + 1
                n_rows = 0
                for cells in reader:
                    line, start = start, reader.line_num + 1
                    if not any(cell.strip() for cell in cells):  # a blank line, or Excel's ",,,," row
                        continue
                    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
                        cells = cells[:width]  # a trailing separator some exports end every line with
                    if own_export:
                        cells = [unescape_cell(cell) for cell in cells]
                    if len(cells) == width and [fold_name(cell) for cell in cells] == header:
                        yield line, {"__shape__": "repeats the header row (two files joined?); delete this line"}
                        continue
                    row = dict(zip(header, cells, strict=False))
                    if len(cells) != width:
                        row["__shape__"] = f"has {len(cells)} fields, the header has {width}"
                    n_rows += 1
                    yield line, row
                if not n_rows:
                    self._warnings.append(f"{self.path}: {NO_CASES}")
            except UnicodeDecodeError:
                raise not_utf8(self._file) from None
            except csv.Error as exc:
                raise SourceError(self.path, f"line {start}: is not valid CSV ({exc}); check the quotes: a field "
                                             "holding a comma, a quote or a line break is quoted whole, and a "
                                             "quote inside it is written twice") from None


class JsonlSource(_FileSource):
    """One JSON object per line; list fields as arrays (``;``-joined strings are accepted too)."""

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            handle = self._file.open(encoding="utf-8-sig")
        except OSError as exc:
            raise SourceError(self.path, f"cannot read: {exc.strerror}") from None
        seen_any = False
        extra: set[str] = set()
        with handle:
            try:
                for line_no, text in enumerate(handle, start=1):
                    if not text.strip():
                        continue
                    try:
                        row = loads_marking_repeats(text)
                    except (ValueError, RecursionError) as exc:  # also: 4,300 digits, thousands of brackets
                        why = _json_problem(exc)
                        if not seen_any:
                            raise SourceError(self.path, f"is not JSON Lines (line {line_no}: {why})"
                                                         f"{json_document_hint(self._file)}") from None
                        yield line_no, {"__shape__": f"is not valid JSON ({why})"}
                        continue
                    if not isinstance(row, dict):
                        if not seen_any:
                            shape = " (a JSON array: write each case object on a line of its own)" \
                                if isinstance(row, list) else ""
                            raise SourceError(self.path, f"is not JSON Lines of objects (one case per line){shape}")
                        yield line_no, {"__shape__": "is not a JSON object"}
                        continue
                    if not KNOWN_COLUMNS.issuperset(row):
                        row = fold_keys(row)
                    if not seen_any:
                        if row.get("type") == "FeatureCollection":
                            raise SourceError(self.path, "is a GeoJSON FeatureCollection, not JSON Lines; name it "
                                                         ".geojson")
                        _check_columns(self.path, list(row))
                    seen_any = True
                    extra.update(k for k in row if k not in KNOWN_COLUMNS and k != "__shape__")
                    yield line_no, row
            except UnicodeDecodeError:
                raise not_utf8(self._file) from None
        if extra:
            self._warnings.append(f"{self.path}: field(s) {', '.join(sorted(extra))} are not in the case schema "
                                  "and were not imported")
        if not seen_any:
            self._warnings.append(f"{self.path}: {NO_CASES}")


class ParquetSource(_FileSource):
    """Parquet, read in record batches so a large file never sits whole in memory."""

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self._file)
        except OSError as exc:
            raise SourceError(self.path, f"cannot read as Parquet: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid for non-Parquet content
            raise SourceError(self.path, f"is not a Parquet file ({exc})") from None
        written = list(parquet.schema_arrow.names)
        columns = [fold_name(name) for name in written]
        self._warnings = _check_columns(self.path, columns)
        if (problem := fixed_bytes_problem(columns, parquet.schema_arrow, KNOWN_COLUMNS)) is not None:
            raise SourceError(self.path, problem)
        if parquet.metadata.num_rows == 0:
            self._warnings.append(f"{self.path}: {NO_CASES}")
        as_text = binary_as_text(parquet.schema_arrow)
        index = 0
        for batch in self._batches(parquet):
            if columns != written:
                batch = batch.rename_columns(columns)
            if as_text:
                batch = decode_binary(self.path, batch, as_text)
            try:
                rows = batch.to_pylist()
            except (OverflowError, ValueError):  # a date past the year 9999, which Python cannot hold
                rows = rows_one_by_one(batch)
            for row in rows:
                index += 1
                yield index, row

    def _batches(self, parquet: Any) -> Iterator[Any]:
        """The file's record batches; damaged data (the footer intact, a page not) is one line naming the
        file and the first row that could not be read, not a traceback from the middle of the import."""
        import pyarrow as pa

        batches = parquet.iter_batches(batch_size=10_000)
        rows_read = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (OSError, pa.ArrowException) as exc:
                raise SourceError(self.path, f"row {rows_read + 1} onwards cannot be read ({exc}); the file is "
                                             "damaged: copy or export it again") from None
            rows_read += batch.num_rows
            yield batch


def _json_problem(exc: Exception) -> str:
    """What json could not read: its own message, or one of the limits Python puts on hostile input (an
    integer of more than 4,300 digits, brackets nested past the recursion limit)."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    if isinstance(exc, RecursionError):
        return "arrays or objects nested too deeply; check the file"
    return "a number of more than 4,300 digits; check the value"


_JSONL_HINT = "; it looks like JSON Lines (one object per line): rename it .jsonl"


class GeoJsonSource(_FileSource):
    """An RFC 7946 FeatureCollection of Points (longitude first); the properties are case fields."""

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            text = self._file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise SourceError(self.path, f"cannot read: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise not_utf8(self._file) from None
        if not text.strip():
            raise SourceError(self.path, "is empty; expected a GeoJSON FeatureCollection")
        try:
            document = loads_marking_repeats(text)
        except json.JSONDecodeError as exc:
            hint = _JSONL_HINT if exc.msg == "Extra data" and text.lstrip().startswith("{") else ""
            raise SourceError(self.path, f"is not JSON (line {exc.lineno}: {exc.msg}){hint}") from None
        except (ValueError, RecursionError) as exc:
            raise SourceError(self.path, f"is not JSON caselink can read ({_json_problem(exc)})") from None
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
            hint = ""
            if isinstance(document, dict) and ("spatialReference" in document or "geometryType" in document):
                hint = (" but Esri JSON (ArcGIS); export the layer as GeoJSON in WGS84 instead (ArcGIS: Features To "
                        "JSON with 'Output to GeoJSON' and 'Project to WGS_1984')")
            elif isinstance(document, list) or (isinstance(document, dict) and "type" not in document):
                hint = "; for case records without geometry write one JSON object per line to a .jsonl file"
            elif isinstance(document, dict) and document.get("type") == "Feature":
                hint = ' but a single Feature; put it in a FeatureCollection ({"type": "FeatureCollection", ' \
                       '"features": [...]})'
            raise SourceError(self.path, f"is not a GeoJSON FeatureCollection{hint}")
        if (crs_problem := geojson_crs_problem(document)) is not None:
            raise SourceError(self.path, crs_problem)
        features = document.get("features")
        if not isinstance(features, list):
            raise SourceError(self.path, "has no 'features' list; a FeatureCollection holds its cases there")
        if not features:
            self._warnings.append(f"{self.path}: {NO_CASES}")
        extra: set[str] = set()
        first = True
        for index, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                yield index, {"__shape__": "is not a GeoJSON Feature"}
                continue
            given = feature.get("properties")
            if given is not None and not isinstance(given, dict):
                yield index, {"__shape__": "has 'properties' that are not a JSON object of case fields"}
                continue
            properties = dict(given or {})
            if not KNOWN_COLUMNS.issuperset(properties):
                properties = fold_keys(properties)
            if first:
                _check_columns(self.path, list(properties), geo=True)
                first = False
            extra.update(k for k in properties if k not in KNOWN_COLUMNS and k != "__shape__")
            geometry = feature.get("geometry") or {}
            coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(
                coordinates, list
            ) or len(coordinates) < 2:
                properties["__geometry__"] = "must be a Point with [longitude, latitude]"
                properties.setdefault("lat", None)
                properties.setdefault("lon", None)
            else:
                differing = [f"{name} {given} (the Point says {value})"
                             for name, value in (("lat", coordinates[1]), ("lon", coordinates[0]))
                             if (given := properties.get(name)) not in (None, "") and not _same_number(given, value)]
                if differing:  # two places for one death: which is right is not ours to guess
                    properties["__geometry__"] = f"the properties give {' and '.join(differing)}; keep one"
                properties["lon"], properties["lat"] = coordinates[0], coordinates[1]
            yield index, properties
        if extra:
            self._warnings.append(f"{self.path}: propert(ies) {', '.join(sorted(extra))} are not in the case "
                                  "schema and were not imported")


def _same_number(given: Any, value: Any) -> bool:
    try:
        return abs(float(given) - float(value)) <= 1e-7
    except (TypeError, ValueError):
        return False


def open_source(path: str | Path) -> RecordSource:
    """A reader for ``path`` chosen by its extension; raises SourceError for a missing or odd file."""
    file = Path(path)
    if not file.exists():
        raise SourceError(str(path), "no such file")
    if file.is_dir():
        raise SourceError(str(path), "is a folder; name the files to import")
    kind = detect_format(file)
    return {"csv": CsvSource, "jsonl": JsonlSource, "parquet": ParquetSource, "geojson": GeoJsonSource}[kind](file)
