"""The case record (DESIGN §2): one row is one death, or an incident that may belong to a series.

Two entry points share one set of rules so that the CLI, the API and the readers cannot disagree:

* :func:`normalise_record` turns a raw mapping (a CSV row of strings, a JSON object, a Parquet
  row) into the canonical stored form and reports *every* problem by field, because an analyst
  fixing an export wants all of them at once, not one per run;
* :class:`Case` is the typed model for code that holds a record (linkage, the API); it validates
  through the same function.

Times: a naive time is local to the agency (``tz``, Europe/London unless told otherwise); the
canonical form keeps the instant in UTC *and* the original offset, so an export shows the time
the force wrote down and a re-import lands on the identical record.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caselink import vocab

DEFAULT_TZ = "Europe/London"

LIST_FIELDS = ("victim_tags", "substances", "mo", "entities")
TIME_FIELDS = ("found_at", "died_from", "died_to")
REQUIRED_FIELDS = ("case_id", "found_at", "lat", "lon")
# The longest value the store's columns hold (PostgreSQL enforces them; SQLite would not, so a file
# that imports into one engine must import into the other).  tests/store pins them to the tables.
MAX_LENGTHS = {"case_id": 200, "agency": 200, "incident_type": 50, "place_type": 100, "cause": 100,
               "classification": 100, "outcome": 100, "series_id": 200}
MAX_ENTITY_LENGTH = 500
EARLIEST_YEAR = 1800
LATEST_YEAR = 2200
SENSITIVE_FIELDS = ("victim_ethnicity", "victim_tags", "narrative")


class Case(BaseModel):
    """One case in canonical form.  Build it with ``Case.model_validate(raw)`` from any raw row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(description="Unique in the store.")
    agency: str | None = Field(None, description="Owning force or agency.")
    incident_type: str = Field("death", description="death, non_fatal or missing_person.")
    found_at: datetime = Field(description="When the body was found or the incident reported (aware).")
    found_at_precision: Literal["date", "datetime"] = Field(
        "datetime", description="Whether found_at was given as a date only."
    )
    died_from: datetime | None = Field(None, description="Start of the estimated window of death.")
    died_from_precision: Literal["date", "datetime"] | None = None
    died_to: datetime | None = Field(None, description="End of the estimated window of death.")
    died_to_precision: Literal["date", "datetime"] | None = None
    lat: float = Field(description="Latitude where found, WGS84.")
    lon: float = Field(description="Longitude where found, WGS84.")
    location_precision_m: int | None = Field(None, description="Radius of location blurring in metres.")
    place_type: str | None = Field(None, description="Vocabulary: " + ", ".join(vocab.PLACE_TYPES) + ".")
    area: str | None = Field(None, description="Locality, free text.")
    victim_age: int | None = Field(None, description="Age in years, 0-120.")
    victim_sex: str | None = Field(None, description="F, M, X or U.")
    victim_ethnicity: str | None = Field(None, description="Sensitive.")
    victim_tags: tuple[str, ...] = Field((), description="Sensitive, e.g. gay_bisexual_men, sex_worker.")
    cause: str | None = Field(None, description="Vocabulary: " + ", ".join(vocab.CAUSES) + ".")
    substances: tuple[str, ...] = Field((), description="Toxicology, canonical lower-case names.")
    mo: tuple[str, ...] = Field((), description="Scene and behaviour flags.")
    entities: tuple[str, ...] = Field((), description="kind:value, kind one of " + ", ".join(vocab.ENTITY_KINDS))
    narrative: str | None = Field(None, description="Free text.")
    classification: str | None = Field(None, description="One of " + ", ".join(vocab.CLASSIFICATIONS) + ".")
    outcome: str | None = Field(None, description="open, charged, convicted, no_further_action, ...")
    series_id: str | None = Field(None, description="Ground truth for training and evaluation; never a feature.")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping) and "found_at_precision" not in raw:
            unknown = sorted(str(name) for name in raw if name not in cls.model_fields)
            if unknown:  # extra="forbid" is checked after this step, on the normalised form: say it here
                raise ValueError(f"{', '.join(unknown)}: not in the case schema (see docs/schema.md)")
            result = normalise_record(raw)
            if result.errors:
                raise ValueError("; ".join(f"{e.field}: {e.message}" for e in result.errors))
            return stored_to_case_fields(result.record or {})
        return raw


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class Normalised:
    """Outcome of normalising one raw row: the stored form, or the errors that prevent it."""

    record: dict[str, Any] | None
    errors: list[FieldError] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)


# The ISO forms of a day: 2014-06-19, 20140619, 2014-W25-4, 2014W254.  Matched before date.fromisoformat,
# which also takes 2014061904 and silently drops the hour.
_DATE_ONLY = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}-W\d{2}-\d|\d{4}W\d{3})$")
_WEEK_ONLY = re.compile(r"^\d{4}-?W\d{2}$")
# Seconds since 1970 for 1973..2033 (not 2014061904, a compact date and hour), or milliseconds (pandas' default).
_EPOCH = re.compile(r"^(\d{9}|1\d{9})(\.\d+)?$|^\d{12,13}$")
_YEAR_ONLY = re.compile(r"^(18|19|20|21)\d{2}$")
_MONTH_ONLY = re.compile(r"^(18|19|20|21)\d{2}-(0[1-9]|1[0-2])$")
_YYYYMMDD_SLIP = re.compile(r"^(19|20)\d{2}(0\d|1[0-2])\d{3}$")  # 201511105: a typed date, not 1970 + seconds
_EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")  # days since 1899-12-30: 41879 is 2014-08-28
_ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class UnreadableDate(str):
    """A date a file holds but Python cannot (a Parquet timestamp past the year 9999): the text is why,
    and :func:`parse_when` refuses it with that text, so the row and field are named."""


def parse_when(value: Any, tz: ZoneInfo) -> tuple[datetime, int, Literal["date", "datetime"]]:
    """Parse an ISO 8601 date or datetime to (naive UTC instant, offset minutes, precision).

    A date alone is taken as local midnight at the agency.  Raises ValueError with a message a
    user can act on.
    """
    if isinstance(value, UnreadableDate):
        raise ValueError(str(value))
    if isinstance(value, datetime):
        parsed, precision = value, "datetime"
    elif isinstance(value, date):
        parsed, precision = datetime(value.year, value.month, value.day), "date"
    else:
        text = str(value).strip()
        if _WEEK_ONLY.match(text):  # Python reads 2014-W25 as its Monday: a guess at the day
            raise ValueError(f"'{text}' names a week, not a day; give the date (e.g. 2014-06-19)")
        try:
            if _DATE_ONLY.match(text):  # every ISO form that names a day only is a date, not its midnight
                parsed, precision = datetime.combine(date.fromisoformat(text), time()), "date"
            else:
                parsed, precision = datetime.fromisoformat(text), "datetime"
        except ValueError as exc:
            if _ISO_SHAPE.match(text):  # the right shape but an impossible date or time
                raise ValueError(f"'{text}' is not a valid date or time ({exc})") from None
            if _YEAR_ONLY.match(text) or _MONTH_ONLY.match(text):
                raise ValueError(f"'{text}' names a {'year' if _YEAR_ONLY.match(text) else 'month'}, not a day; "
                                 "write the latest day it can be as found_at and the whole span as "
                                 "died_from/died_to (docs/ingest.md)") from None
            if _YYYYMMDD_SLIP.match(text):
                raise ValueError(f"'{text}' has 9 digits: a yyyymmdd date with one digit too many, or a Unix "
                                 "time; check it against the source") from None
            if _EPOCH.match(text):
                raise ValueError(f"'{text}' looks like a Unix time (seconds or milliseconds since 1970), not a "
                                 "date; write ISO 8601 (pandas: to_json(date_format='iso'))") from None
            if _EXCEL_SERIAL.match(text):
                raise ValueError(f"'{text}' looks like an Excel day number, not a date; format the column as "
                                 "a date (yyyy-mm-dd) before saving the CSV") from None
            raise ValueError(f"'{text}' is not an ISO 8601 date or datetime (e.g. 2014-06-19T04:30:00)") from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        # Year 1 or 9999 is a typing slip, not a death; and the engine's day arithmetic (pandas,
        # nanoseconds since 1970) cannot hold such dates, so they would fail far from the file.
        raise ValueError(f"year {parsed.year} is outside {EARLIEST_YEAR}..{LATEST_YEAR}; check the date")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    offset = parsed.utcoffset() or timedelta(0)
    instant = parsed.astimezone(UTC).replace(tzinfo=None)
    return instant, int(offset.total_seconds() // 60), precision  # type: ignore[return-value]


def format_when(instant: datetime, offset_min: int, precision: str) -> str:
    """Inverse of :func:`parse_when`: the time as the agency wrote it, with its offset."""
    local = instant.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset_min)))
    if precision == "date":
        return local.date().isoformat()
    return local.isoformat()


def _uk_national(phone: str) -> str:
    """A UK number in its national form: ``+44 7700 900123`` and ``0044 7700 900123`` are the
    ``07700 900123`` another force wrote, and must match it.  Other countries keep their ``+``."""
    for prefix in ("+44", "0044"):
        if phone.startswith(prefix) and len(phone) > len(prefix) + 6:
            return "0" + phone[len(prefix):]
    return phone


def normalise_entity(text: str) -> str:
    """Fold an entity to ``kind:value`` so that the same phone or person written two ways matches."""
    kind, sep, value = text.partition(":")
    if not sep or not value.strip() or not kind.strip():
        raise ValueError(f"'{text}' is not kind:value (e.g. phone:07700900123)")
    kind = vocab.token(kind)
    value = value.strip()
    if kind == "phone":
        if value.startswith("+"):  # "+44 (0)7700 900123": the bracketed 0 is only dialled from inside the country
            value = "+" + re.sub(r"\D", "", re.sub(r"\(\s*0\s*\)", "", value))
        else:
            value = re.sub(r"\D", "", value)
        value = _uk_national(value)
    elif kind == "vehicle":
        value = re.sub(r"\s+", "", value).upper()
    else:
        value = re.sub(r"\s+", " ", value).lower()
    return f"{kind}:{value}"


def normalise_record(raw: Mapping[str, Any], tz: ZoneInfo | None = None) -> Normalised:
    """Validate and normalise one raw row to its stored form (a flat dict of columns).

    All of a row's errors are collected.  Unknown vocabulary values are returned in ``unknown``
    (the caller reports each once per import) and kept.  The rules live in
    :mod:`caselink.normalise`, which applies them a column at a time for bulk imports.
    """
    from caselink.normalise import normalise_batch

    # A lone record has no stored case to take a missing found_at, lat or lon from: a missing one is
    # the same error as an empty one (the bulk path leaves that decision to the merge).
    batch = normalise_batch([{**dict.fromkeys(REQUIRED_FIELDS), **raw}], tz)
    unknown = list(batch.unknown)
    if batch.errors:
        return Normalised(None, batch.errors[0], unknown)
    return Normalised(batch.record(0), [], unknown)


#: Fields holding personal data about the deceased and connected people (finders, callers), with the
#: value an erasure leaves (``caselink erase``; ingest keeps them so for an erased case).
PERSONAL_FIELDS: dict[str, Any] = {"victim_ethnicity": None, "victim_tags": [], "narrative": None, "entities": []}

HASHED_COLUMNS = (
    "case_id", "agency", "incident_type", "found_at", "found_at_offset_min", "found_at_precision",
    "died_from", "died_from_offset_min", "died_from_precision", "died_to", "died_to_offset_min",
    "died_to_precision", "lat", "lon", "location_precision_m", "place_type", "area", "victim_age",
    "victim_sex", "victim_ethnicity", "victim_tags", "cause", "substances", "mo", "entities", "narrative",
    "classification", "outcome", "series_id",
)


def record_hash(stored: Mapping[str, Any]) -> str:
    """SHA-256 of the stored form in a fixed column order, so an identical re-import is recognised
    without a field-by-field diff."""
    return hash_values([stored.get(name) for name in HASHED_COLUMNS])


def hash_values(values: list[Any]) -> str:
    """:func:`record_hash` of values already in ``HASHED_COLUMNS`` order (the bulk path).

    ``repr`` of the tuple is unambiguous for the types a stored record holds (str, int, float,
    None, lists of str, naive datetimes) and is several times cheaper than JSON on the hot path.
    """
    return hashlib.sha256(repr(tuple(values)).encode()).hexdigest()


def stored_to_raw(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form as a writer emits it: times with their original offset, lists as lists."""
    row: dict[str, Any] = {}
    for name in Case.model_fields:
        if name.endswith("_precision"):
            continue
        if name in TIME_FIELDS:
            instant = stored.get(name)
            row[name] = (
                format_when(instant, stored[f"{name}_offset_min"], stored[f"{name}_precision"])
                if instant is not None else None
            )
        elif name in LIST_FIELDS:
            row[name] = list(stored.get(name) or [])
        else:
            row[name] = stored.get(name)
    return row


def stored_to_case_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :class:`Case` from the stored form."""
    fields: dict[str, Any] = {}
    for name in Case.model_fields:
        if name in TIME_FIELDS:
            instant = stored.get(name)
            if instant is None:
                fields[name] = None
                continue
            offset = timezone(timedelta(minutes=stored[f"{name}_offset_min"]))
            fields[name] = instant.replace(tzinfo=UTC).astimezone(offset)
        elif name.endswith("_precision"):
            fields[name] = stored.get(name) or ("datetime" if name == "found_at_precision" else None)
        elif name in LIST_FIELDS:
            fields[name] = tuple(stored.get(name) or ())
        else:
            fields[name] = stored.get(name)
    return fields


def case_from_stored(stored: Mapping[str, Any]) -> Case:
    """A :class:`Case` from a store row, without re-validating what the store already validated."""
    return Case.model_construct(**stored_to_case_fields(stored))


SCHEMA_COLUMNS: tuple[str, ...] = tuple(
    name for name in Case.model_fields if not name.endswith("_precision")
)
