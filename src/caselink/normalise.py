"""Column-at-a-time validation and normalisation of raw case rows: the one implementation of the rules.

An import is a million rows of a handful of distinct causes, places, drug lists and agencies, so the
rules run once per *distinct* value of a column and the result is looked up for every row.  This is
what lets ingest keep pace with the store (see BENCHMARKS.md) without a second, faster copy of the
rules that could drift from this one.  :func:`caselink.schema.normalise_record` is this applied to
a batch of one.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from caselink import vocab
from caselink.list_cells import array_items, pg_array_items
from caselink.schema import (
    DEFAULT_TZ,
    HASHED_COLUMNS,
    LIST_FIELDS,
    MAX_ENTITY_LENGTH,
    MAX_LENGTHS,
    REQUIRED_FIELDS,
    SCHEMA_COLUMNS,
    TIME_FIELDS,
    FieldError,
    hash_values,
    normalise_entity,
    parse_when,
)

_VOCABS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "incident_type": (vocab.INCIDENT_TYPE_SYNONYMS, vocab.INCIDENT_TYPES),
    "place_type": (vocab.PLACE_TYPE_SYNONYMS, vocab.PLACE_TYPES),
    "cause": (vocab.CAUSE_SYNONYMS, vocab.CAUSES),
    "classification": (vocab.CLASSIFICATION_SYNONYMS, vocab.CLASSIFICATIONS),
    "substances": (vocab.SUBSTANCE_SYNONYMS, vocab.KNOWN_SUBSTANCES),
    "mo": ({}, vocab.KNOWN_MO),
    "victim_tags": ({}, vocab.KNOWN_VICTIM_TAGS),
}
_TEXT_FIELDS = ("agency", "area", "victim_ethnicity", "narrative", "series_id")
_BOUNDED_INTS = (("location_precision_m", 0, 1_000_000), ("victim_age", 0, 120))
_COORDS = (("lat", -90.0, 90.0), ("lon", -180.0, 180.0))
_MISSING = object()

# (value or None, error message or None, notes: unknown vocabulary values and ReadAsEmpty markers)
Outcome = tuple[Any, str | None, tuple[str, ...]]


class ReadAsEmpty(str):
    """A missing-value marker (NA, NULL, none, a dash) read as empty: noted so the import reports it."""


# Separators of a list cell other than the documented ';': vocabulary tokens never contain them, so
# "ghb,alcohol" or "ghb|alcohol" (as spreadsheets and other systems write lists) is two substances.
# Entities keep ';' alone, since a name or an address may hold a comma.
_ITEM_SEPARATORS = re.compile(r"[;|]|(?<!\d),|,(?!\d)")  # a comma between digits is part of a name (3,4-MDMA)
_GIVEN_FIELDS = frozenset(SCHEMA_COLUMNS) - {"case_id"}
# Dates systems write when the real one is unknown (Excel's day 0, the Unix epoch, 1 Jan 1900/1901).
PLACEHOLDER_DATES = frozenset({date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1), date(1901, 1, 1),
                               date(1970, 1, 1)})
# Required fields a row may leave out when it updates a known case (checked where the store is known).
UPDATE_ONLY_FIELDS = frozenset(REQUIRED_FIELDS) - {"case_id"}


@dataclass
class Batch:
    """Normalised columns for a batch of rows, the errors by row index, and unknown vocabulary."""

    columns: dict[str, list[Any]]
    errors: dict[int, list[FieldError]] = field(default_factory=dict)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    read_as_empty: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Row index -> fields the row does not have at all (a column the file lacks, a key a JSON line
    # leaves out): an update keeps the stored values of those; a new case must have the required ones
    # (store/ingest.py).
    absent: dict[int, frozenset[str]] = field(default_factory=dict)
    # (field, value) -> rows: values kept but worth a warning (a found_at on a placeholder date).
    suspect: Counter[tuple[str, str]] = field(default_factory=Counter)

    def record(self, index: int) -> dict[str, Any]:
        return {name: values[index] for name, values in self.columns.items()}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value)
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():  # pandas stores an id column with a gap as float64: 1234.0 is case 1234
            return str(int(value))
    return str(value).strip() or None


def _vocab_value(name: str) -> Callable[[Any], Outcome]:
    synonyms, known = _VOCABS[name]

    def one(value: Any) -> Outcome:
        text = _text(value)
        if text is None:
            return ("death" if name == "incident_type" else None), None, ()
        folded = vocab.fold(text, synonyms)
        return folded, None, (() if folded in known else (folded,))

    return one


def _text_value(value: Any) -> Outcome:
    return _text(value), None, ()


# What each field's own vocabulary calls a value: "unknown" is a cause (undetermined) and a sex (U),
# not a missing-value marker.
_NAMED_BY = {**_VOCABS, "victim_sex": (vocab.SEX_SYNONYMS, vocab.VICTIM_SEXES)}
_WHERE_FOUND = "a case needs the WGS84 coordinates where it was found"
# Required fields, where a marker is an error rather than an empty value.
_MARKER_ERRORS: dict[str, Callable[[str], str]] = {
    "found_at": lambda text: f"is '{text}', which says it was not recorded; every case needs the date (and time, "
                             "if known) it was found",
    "lat": lambda text: f"is '{text}' (not recorded); {_WHERE_FOUND}",
    "lon": lambda text: f"is '{text}' (not recorded); {_WHERE_FOUND}",
}


def _markers_read_as_empty(name: str, rule: Callable[[Any], Outcome]) -> Callable[[Any], Outcome]:
    """``rule``, with a value that only says "not recorded" (NA, NULL, none, a dash) read as ``rule``
    reads an empty one, and noted so the import reports it.

    Why one wrapper for every field: kept as values, markers match each other (two causes "n/a" were a
    shared rare cause).  A value the field's vocabulary names stays that value; in a required field
    (found_at, lat, lon) a marker is an error that names it.
    """
    synonyms, known = _NAMED_BY.get(name, ({}, ()))
    error = _MARKER_ERRORS.get(name)

    def one(value: Any) -> Outcome:
        if value.__class__ is not str:
            problem = _wrong_shape(name, value) if isinstance(value, list | tuple | dict) else None
            if isinstance(value, bool) and name not in _NUMBER_FIELDS:
                problem = _YES_NO.format(value=str(value).lower())
            return rule(value) if problem is None else (None, problem, ())
        if not _says_not_recorded(value, name) or not value.strip() or vocab.fold(value, synonyms) in known:
            return rule(value)
        if error is not None:
            return None, error(value.strip()), ()
        return rule(None)[0], None, (ReadAsEmpty(value.strip()),)

    return one


# A JSON or Parquet true/false is no value of a text, vocabulary or time field: "series_id": false
# (meaning "in no series") was stored as the series "False", which every such case shared.  The
# number fields say so in their own words.
_NUMBER_FIELDS = frozenset({"lat", "lon", "victim_age", "location_precision_m"})
_YES_NO = "is {value} (a yes/no), not a value this field holds; give the value itself, or leave it empty (null)"

_SPACED_SLASH = re.compile(r"\s+/\s+")


def _says_not_recorded(value: str, name: str) -> bool:
    """A missing marker, or markers joined by a slash: the Met writes a method of killing "Not Known/Not
    Recorded", which kept as a value was a rare cause shared by 141 unrelated deaths.  ``n/a`` is one
    marker already; a slash between values (``Stab/Knife``) is a value."""
    if vocab.is_missing_marker(value, name):
        return True
    if "/" not in value or len(value) > 64:
        return False
    parts = _SPACED_SLASH.split(value) if _SPACED_SLASH.search(value) else value.split("/")
    return all(part.strip() and vocab.is_missing_marker(part, name) for part in parts)


def _wrong_shape(name: str, value: list[Any] | tuple[Any, ...] | dict[str, Any]) -> str | None:
    """Why a JSON array or object cannot be this field's value, or None when it can (a flat list for
    a list field).  Read as text they were stored as Python reprs: case "['T2']", narrative "{'text': ...}"."""
    if name in LIST_FIELDS:
        if isinstance(value, dict):
            return "is an object; give a list of values (e.g. [\"ghb\", \"alcohol\"])"
        if any(isinstance(item, list | tuple | dict) for item in value):
            return "holds a nested list or object; give a flat list of values"
        if any(isinstance(item, bool) for item in value):
            return "holds true or false (a yes/no), not values this field holds; give the values themselves"
        return None
    kind = "an object" if isinstance(value, dict) else "a list"
    return f"is {kind}; give one value"


def read_list_cell(name: str, text: str) -> list[str]:
    """The items ingest reads from one CSV cell of list field ``name``: the writers check that a
    ``;``-joined cell reads back as the items they joined, and write a JSON array when it would not."""
    return [item.strip() for item in _items(name, text) if item.strip()]


def _items(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] == "[" and text[-1:] == "]" and (items := array_items(text)) is not None:
            return items
        if text[:1] == "{" and text[-1:] == "}" and (items := pg_array_items(text)) is not None:
            return items
        return value.split(";") if name == "entities" else _ITEM_SEPARATORS.split(value)
    if isinstance(value, list | tuple):
        return [str(v) for v in value if not _is_blank(v)]
    return [str(value)]


def _list_value(name: str) -> Callable[[Any], Outcome]:
    synonyms, known = _VOCABS.get(name, ({}, ()))

    def one(value: Any) -> Outcome:
        if _is_blank(value):
            return [], None, ()
        values: list[str] = []
        unknown: list[str] = []
        for item in _items(name, value):
            item = item.strip()
            if not item:
                continue
            if _says_not_recorded(item, name):
                unknown.append(ReadAsEmpty(item))
                continue
            if name == "entities":
                try:
                    folded = normalise_entity(item)
                except ValueError as exc:
                    return None, str(exc), ()
                if vocab.is_placeholder_entity(folded):
                    unknown.append(ReadAsEmpty(item))
                    continue
                if folded.split(":", 1)[0] not in vocab.ENTITY_KINDS:
                    unknown.append(folded.split(":", 1)[0])
            else:
                folded = vocab.fold(item, synonyms)
                if folded not in known:
                    unknown.append(folded)
            if folded not in values:
                values.append(folded)
        return values, None, tuple(unknown)

    return one


def _time_value(name: str, tz: ZoneInfo) -> Callable[[Any], Outcome]:
    def one(value: Any) -> Outcome:
        if _is_blank(value):
            if name == "found_at":
                return None, "is empty; give the date (and time, if known) the death was found", ()
            return (None, None, None), None, ()
        try:
            return parse_when(value, tz), None, ()
        except ValueError as exc:
            return None, str(exc), ()

    return one


def _coordinate(name: str, low: float, high: float) -> Callable[[Any], Outcome]:
    def one(value: Any) -> Outcome:
        if _is_blank(value):
            return None, f"is empty; {_WHERE_FOUND}", ()
        if isinstance(value, bool):  # float(True) is 1.0: a yes/no column is not a coordinate
            return None, f"is {str(value).lower()}, not a number", ()
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            return None, f"{str(value)[:20]}... ({len(str(value))} digits) is outside {low:g}..{high:g}", ()
        except (TypeError, ValueError):
            hint = ""
            if isinstance(value, str) and value.count(",") == 1 and _is_number(value.replace(",", ".")):
                hint = f"; write the decimals after a point ({value.strip().replace(',', '.')})"
            return None, f"'{value}' is not a number{hint}", ()
        if not math.isfinite(number) or not low <= number <= high:
            hint = ("; it looks like a projected coordinate (e.g. British National Grid metres): give WGS84 "
                    "degrees" if math.isfinite(number) and abs(number) >= 1000 else "")
            return None, f"{value} is outside {low:g}..{high:g}{hint}", ()
        return number, None, ()

    return one


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bounded_int(low: int, high: int) -> Callable[[Any], Outcome]:
    def one(value: Any) -> Outcome:
        if _is_blank(value):
            return None, None, ()
        if isinstance(value, bool):  # int(True) is 1: a yes/no column is not an age
            return None, f"is {str(value).lower()}, not a whole number", ()
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            return None, f"{str(value)[:20]}... ({len(str(value))} digits) is outside {low}..{high}", ()
        except (TypeError, ValueError):
            return None, f"'{value}' is not a whole number", ()
        if not number.is_integer():
            return None, f"'{value}' is not a whole number", ()
        if not low <= number <= high:
            return None, f"{int(number)} is outside {low}..{high}", ()
        return int(number), None, ()

    return one


def _sex(value: Any) -> Outcome:
    text = _text(value)
    if text is None:
        return None, None, ()
    folded = vocab.SEX_SYNONYMS.get(text.lower())
    if folded is None:
        return None, f"'{text}' is not one of F, M, X, U", ()
    return folded, None, ()


def _outcome(value: Any) -> Outcome:
    text = _text(value)
    return (vocab.token(text) if text else None), None, ()


def _hashable(value: Any) -> Any:
    if isinstance(value, bool):  # True == 1 as a dict key: keep a yes/no apart from the number
        return ("\x00bool", value)
    if isinstance(value, list):
        return ("\x00list", *map(_hashable, value))
    if isinstance(value, dict):
        return _MISSING  # never cached
    return value


def _apply(column: Sequence[Any], rule: Callable[[Any], Outcome]) -> tuple[list[Outcome], bool]:
    """Run ``rule`` once per distinct value of ``column`` and broadcast the outcomes.

    Returns the outcomes and whether any of them carries an error or unknown value, so the
    common all-clean column costs one dictionary lookup per row.
    """
    cache: dict[Any, Outcome] = {}
    out: list[Outcome] = []
    append = out.append
    get = cache.get
    notable = False
    for value in column:
        if value.__class__ is str or value is None:
            hit = get(value)
            if hit is None:
                hit = rule(value)
                if len(cache) < 200_000:
                    cache[value] = hit
                notable = notable or hit[1] is not None or bool(hit[2])
        else:
            key = _hashable(value)
            try:
                hit = cache.get(key) if key is not _MISSING else None
            except TypeError:  # an unhashable oddity (e.g. a dict in a list)
                hit, key = None, _MISSING
            if hit is None:
                hit = rule(value)
                if key is not _MISSING and len(cache) < 200_000:
                    cache[key] = hit
                notable = notable or hit[1] is not None or bool(hit[2])
        append(hit)
    return out, notable


# Half of a UTF-16 pair: JSON may escape one ("\ud83d"), UTF-8 (every store's encoding) cannot hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_storable(columns: dict[str, list[Any]], add_error: Callable[[int, str, str], None]) -> None:
    """Refuse what one engine would store and the other not: over-long values, NUL characters (and what
    neither can: half a UTF-16 character).

    Why here: PostgreSQL enforces column lengths and rejects NUL (0x00) in text, SQLite does neither,
    so without this a file imports into one and fails with a traceback in the other.  Each column is
    scanned in C (``join``, ``map``) and only walked row by row when it holds a problem.
    """
    for name, limit in MAX_LENGTHS.items():
        column = columns.get(name) or []
        if max(map(len, filter(None, column)), default=0) > limit:
            for index, value in enumerate(column):
                if value and len(value) > limit:
                    add_error(index, name, f"is {len(value):,} characters long; at most {limit} can be stored")
    entities = columns.get("entities") or []
    if max(map(len, itertools.chain.from_iterable(filter(None, entities))), default=0) > MAX_ENTITY_LENGTH:
        for index, values in enumerate(entities):
            for value in values or ():
                if len(value) > MAX_ENTITY_LENGTH:
                    add_error(index, "entities", f"'{value[:40]}...' is {len(value):,} characters long; at most "
                              f"{MAX_ENTITY_LENGTH} can be stored")
                    break
    for name, column in columns.items():
        first = next((v for v in column if v is not None and v != []), None)
        if not isinstance(first, str | list):
            continue
        try:
            joined = "".join(itertools.chain.from_iterable(filter(None, column))) if isinstance(first, list) \
                else "".join(filter(None, column))
        except TypeError:  # mixed kinds in one column: look at every value
            joined = "\x00"
        if "\x00" not in joined and (joined.isascii() or not _SURROGATE.search(joined)):
            continue
        for index, value in enumerate(column):
            items = [item for item in (value if isinstance(value, list) else [value]) if isinstance(item, str)]
            if any("\x00" in item for item in items):
                add_error(index, name, "contains a NUL character (0x00), which the store cannot hold; remove it")
            elif any(_SURROGATE.search(item) for item in items):
                add_error(index, name, "contains half a character (a lone UTF-16 surrogate such as \\ud83d, "
                          "text cut inside an emoji), which the store cannot hold; remove it or give the whole "
                          "character")
            else:
                continue
            if name == "case_id":  # the store looks every id up, even a refused row's: it must never see this one
                column[index] = None


def normalise_batch(rows: Sequence[Mapping[str, Any]], tz: ZoneInfo | None = None) -> Batch:
    """Validate and normalise ``rows`` (raw mappings) column by column.

    Every row's errors are collected (never only the first), unknown vocabulary values are counted
    and kept, and valid rows get a ``record_hash``.
    """
    tz = tz or ZoneInfo(DEFAULT_TZ)
    n = len(rows)
    columns: dict[str, list[Any]] = {}
    errors: dict[int, list[FieldError]] = {}
    unknown: Counter[tuple[str, str]] = Counter()
    read_as_empty: Counter[tuple[str, str]] = Counter()

    absent = {index: _GIVEN_FIELDS.difference(raw) for index, raw in enumerate(rows)
              if not raw.keys() >= _GIVEN_FIELDS}

    # Rows a reader could not read at all (a line that is not JSON, an array): their one problem is the
    # row, not an "empty" case_id the line may well hold.
    unreadable = {index for index, raw in enumerate(rows) if raw.keys() == {"__shape__"}}

    def add_error(index: int, name: str, message: str) -> None:
        if name in UPDATE_ONLY_FIELDS and name in absent.get(index, ()):
            return  # not given at all: the store decides (an update keeps it, a new case is refused)
        if index in unreadable and name != "row":
            return
        errors.setdefault(index, []).append(FieldError(name, message))

    for index, raw in enumerate(rows):
        if "__shape__" in raw:  # set by a reader when the row itself is malformed
            add_error(index, "row", str(raw["__shape__"]))
        if "__geometry__" in raw:
            add_error(index, "geometry", str(raw["__geometry__"]))

    def run(name: str, rule: Callable[[Any], Outcome]) -> list[Outcome]:
        outcomes, notable = _apply([raw.get(name) for raw in rows], _markers_read_as_empty(name, rule))
        if not notable:
            return outcomes
        for index, (_value, message, unknown_values) in enumerate(outcomes):
            if message is not None:
                add_error(index, name, message)
            for value in unknown_values:
                (read_as_empty if value.__class__ is ReadAsEmpty else unknown)[(name, str(value))] += 1
        return outcomes

    case_ids = [_text(raw.get("case_id")) for raw in rows]
    for index, case_id in enumerate(case_ids):
        if case_id is None:
            add_error(index, "case_id", "is empty; every case needs a unique case_id")
        elif case_id[:1] in "[({" and isinstance(given := rows[index].get("case_id"), list | tuple | dict):
            add_error(index, "case_id", _wrong_shape("case_id", given) or "")
        elif case_id in ("True", "False") and isinstance(given := rows[index].get("case_id"), bool):
            add_error(index, "case_id", _YES_NO.format(value=str(given).lower()))
    columns["case_id"] = case_ids
    for name in _TEXT_FIELDS:
        columns[name] = [o[0] for o in run(name, _text_value)]
    for name in ("incident_type", "place_type", "cause", "classification"):
        columns[name] = [o[0] for o in run(name, _vocab_value(name))]
    for name in TIME_FIELDS:
        parts = [o[0] or (None, None, None) for o in run(name, _time_value(name, tz))]
        columns[name] = [p[0] for p in parts]
        columns[f"{name}_offset_min"] = [p[1] for p in parts]
        columns[f"{name}_precision"] = [p[2] for p in parts]
    suspect: Counter[tuple[str, str]] = Counter()
    _placeholder_dates(columns, read_as_empty, suspect)
    for index in range(n):
        died_from, died_to = columns["died_from"][index], columns["died_to"][index]
        if died_from is not None and died_to is not None and died_from > died_to:
            add_error(index, "died_to", "is before died_from")
        _death_after_finding(index, columns, rows[index], add_error)
    for name, low, high in _COORDS:
        columns[name] = [o[0] for o in run(name, _coordinate(name, low, high))]
    for index, (lat, lon) in enumerate(zip(columns["lat"], columns["lon"], strict=True)):
        if lat == 0 and lon == 0:
            # Every such case would be "within 0.25 km" of every other: a series made of missing data.
            add_error(index, "lat", "0, 0 (at sea off West Africa) is how many systems write a missing "
                      "location; give the coordinates where the death was found")
    for name, low_int, high_int in _BOUNDED_INTS:
        columns[name] = [o[0] for o in run(name, _bounded_int(low_int, high_int))]
    columns["victim_sex"] = [o[0] for o in run("victim_sex", _sex)]
    columns["outcome"] = [o[0] for o in run("outcome", _outcome)]
    for name in LIST_FIELDS:
        # Rows with the same raw value share one list object: nothing downstream mutates it, and
        # copying a million small lists would cost more than normalising them.
        empty: list[str] = []
        columns[name] = [empty if o[0] is None else o[0] for o in run(name, _list_value(name))]

    _check_storable(columns, add_error)

    hashed = [columns[name] for name in HASHED_COLUMNS]
    columns["record_hash"] = [
        None if index in errors else hash_values([column[index] for column in hashed]) for index in range(n)
    ]
    return Batch(columns, errors, unknown, read_as_empty, absent, suspect)


# A day's grace: a window given as dates (local midnight) against a found_at time, or two clocks.
_FOUND_GRACE = timedelta(days=1)


def _death_after_finding(index: int, columns: dict[str, list[Any]], raw: Mapping[str, Any],
                         add_error: Callable[..., None]) -> None:
    """A death (or incident) cannot begin after it was found or reported; a window that does is a typo
    (day and month swapped, a wrong year) that would move the case in every time comparison.  A
    missing person is reported before the death, so their window may come later."""
    found = columns["found_at"][index]
    if found is None or (columns["incident_type"][index] or "death") == "missing_person":
        return
    died_from = columns["died_from"][index]
    if died_from is not None and died_from > found + _FOUND_GRACE:
        add_error(index, "died_from", f"{raw.get('died_from')} is after found_at {raw.get('found_at')}: a death "
                  "cannot come after the body was found; check the dates (day and month, year)")


def _placeholder_dates(columns: dict[str, list[Any]], read_as_empty: Counter[tuple[str, str]],
                       suspect: Counter[tuple[str, str]]) -> None:
    """A died_from or died_to on a placeholder date is read as empty (it made a window of a century
    that overlapped every death); a found_at on one is kept, since it is required, and reported."""
    for name in TIME_FIELDS:
        values, offsets = columns[name], columns[f"{name}_offset_min"]
        earliest = min(filter(None, values), default=None)  # in C: most columns have no date that old
        if earliest is None or earliest.year > 1970:
            continue
        for index, value in enumerate(values):
            if value is None or value.year > 1970:
                continue
            local = (value + timedelta(minutes=offsets[index] or 0)).date()
            if local not in PLACEHOLDER_DATES:
                continue
            if name == "found_at":
                suspect[(name, local.isoformat())] += 1
                continue
            read_as_empty[(name, local.isoformat())] += 1
            for column in (name, f"{name}_offset_min", f"{name}_precision"):
                columns[column][index] = None
