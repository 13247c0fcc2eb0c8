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
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from caselink import vocab

DEFAULT_TZ = "Europe/London"

LIST_FIELDS = ("victim_tags", "substances", "mo", "entities")
TIME_FIELDS = ("found_at", "died_from", "died_to")
REQUIRED_FIELDS = ("case_id", "found_at", "lat", "lon")
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


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_when(value: Any, tz: ZoneInfo) -> tuple[datetime, int, Literal["date", "datetime"]]:
    """Parse an ISO 8601 date or datetime to (naive UTC instant, offset minutes, precision).

    A date alone is taken as local midnight at the agency.  Raises ValueError with a message a
    user can act on.
    """
    if isinstance(value, datetime):
        parsed, precision = value, "datetime"
    elif isinstance(value, date):
        parsed, precision = datetime(value.year, value.month, value.day), "date"
    else:
        text = str(value).strip()
        try:
            if _DATE_ONLY.match(text):
                parsed, precision = datetime.fromisoformat(text), "date"
            else:
                parsed, precision = datetime.fromisoformat(text.replace(" ", "T", 1)), "datetime"
        except ValueError:
            raise ValueError(f"'{text}' is not an ISO 8601 date or datetime (e.g. 2014-06-19T04:30:00)") from None
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


def _as_list(value: Any) -> list[str]:
    if _blank(value):
        return []
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value if not _blank(v)]
    else:
        items = [str(value)]
    return [item.strip() for item in items if item.strip()]


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def normalise_entity(text: str) -> str:
    """Fold an entity to ``kind:value`` so that the same phone or person written two ways matches."""
    kind, sep, value = text.partition(":")
    if not sep or not value.strip() or not kind.strip():
        raise ValueError(f"'{text}' is not kind:value (e.g. phone:07700900123)")
    kind = vocab.token(kind)
    value = value.strip()
    if kind == "phone":
        value = ("+" if value.startswith("+") else "") + re.sub(r"\D", "", value)
    elif kind == "vehicle":
        value = re.sub(r"\s+", "", value).upper()
    else:
        value = re.sub(r"\s+", " ", value).lower()
    return f"{kind}:{value}"


def _vocab(value: str, synonyms: dict[str, str], known: tuple[str, ...], name: str,
           unknown: list[tuple[str, str]]) -> str:
    folded = vocab.fold(value, synonyms)
    if folded not in known:
        unknown.append((name, folded))
    return folded


def _text(value: Any) -> str | None:
    return None if _blank(value) else str(value).strip()


def normalise_record(raw: Mapping[str, Any], tz: ZoneInfo | None = None) -> Normalised:
    """Validate and normalise one raw row to its stored form (a flat dict of columns).

    All of a row's errors are collected.  Unknown vocabulary values are returned in ``unknown``
    (the caller reports each once per import) and kept.
    """
    tz = tz or ZoneInfo(DEFAULT_TZ)
    errors: list[FieldError] = []
    unknown: list[tuple[str, str]] = []
    out: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    if "__shape__" in raw:  # set by a reader when the row itself is malformed
        fail("row", str(raw["__shape__"]))
    if "__geometry__" in raw:
        fail("geometry", str(raw["__geometry__"]))
    case_id = _text(raw.get("case_id"))
    if case_id is None:
        fail("case_id", "is empty; every case needs a unique case_id")
    out["case_id"] = case_id
    out["agency"] = _text(raw.get("agency"))
    incident = _text(raw.get("incident_type"))
    out["incident_type"] = (
        _vocab(incident, vocab.INCIDENT_TYPE_SYNONYMS, vocab.INCIDENT_TYPES, "incident_type", unknown)
        if incident else "death"
    )

    for name in TIME_FIELDS:
        value = raw.get(name)
        if _blank(value):
            if name == "found_at":
                fail(name, "is empty; give the date (and time, if known) the death was found")
            out[name], out[f"{name}_offset_min"], out[f"{name}_precision"] = None, None, None
            continue
        try:
            out[name], out[f"{name}_offset_min"], out[f"{name}_precision"] = parse_when(value, tz)
        except ValueError as exc:
            fail(name, str(exc))
            out[name] = None
    if out.get("died_from") and out.get("died_to") and out["died_from"] > out["died_to"]:
        fail("died_to", "is before died_from")

    for name, low, high in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
        value = raw.get(name)
        if _blank(value):
            fail(name, "is empty; a case needs the WGS84 coordinates where it was found")
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            fail(name, f"'{value}' is not a number")
            continue
        if not math.isfinite(number) or not low <= number <= high:
            fail(name, f"{value} is outside {low:g}..{high:g}")
            continue
        out[name] = number

    for name, low, high in (("location_precision_m", 0, 1_000_000), ("victim_age", 0, 120)):
        value = raw.get(name)
        out[name] = None
        if _blank(value):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            fail(name, f"'{value}' is not a whole number")
            continue
        if not number.is_integer():
            fail(name, f"'{value}' is not a whole number")
        elif not low <= number <= high:
            fail(name, f"{int(number)} is outside {low}..{high}")
        else:
            out[name] = int(number)

    place = _text(raw.get("place_type"))
    out["place_type"] = (
        _vocab(place, vocab.PLACE_TYPE_SYNONYMS, vocab.PLACE_TYPES, "place_type", unknown) if place else None
    )
    cause = _text(raw.get("cause"))
    out["cause"] = _vocab(cause, vocab.CAUSE_SYNONYMS, vocab.CAUSES, "cause", unknown) if cause else None
    classification = _text(raw.get("classification"))
    out["classification"] = (
        _vocab(classification, vocab.CLASSIFICATION_SYNONYMS, vocab.CLASSIFICATIONS, "classification", unknown)
        if classification else None
    )
    sex = _text(raw.get("victim_sex"))
    if sex is None:
        out["victim_sex"] = None
    else:
        folded = vocab.SEX_SYNONYMS.get(sex.lower())
        if folded is None:
            fail("victim_sex", f"'{sex}' is not one of F, M, X, U")
        out["victim_sex"] = folded

    for name in ("area", "victim_ethnicity", "narrative", "series_id"):
        out[name] = _text(raw.get(name))
    outcome = _text(raw.get("outcome"))
    out["outcome"] = vocab.token(outcome) if outcome else None

    out["substances"] = _dedupe([
        _vocab(s, vocab.SUBSTANCE_SYNONYMS, vocab.KNOWN_SUBSTANCES, "substances", unknown)
        for s in _as_list(raw.get("substances"))
    ])
    out["mo"] = _dedupe([vocab.token(s) for s in _as_list(raw.get("mo"))])
    out["victim_tags"] = _dedupe([vocab.token(s) for s in _as_list(raw.get("victim_tags"))])
    entities = []
    for text in _as_list(raw.get("entities")):
        try:
            entity = normalise_entity(text)
        except ValueError as exc:
            fail("entities", str(exc))
            continue
        if entity.split(":", 1)[0] not in vocab.ENTITY_KINDS:
            unknown.append(("entities", entity.split(":", 1)[0]))
        entities.append(entity)
    out["entities"] = _dedupe(entities)

    for name, known in (("mo", vocab.KNOWN_MO), ("victim_tags", vocab.KNOWN_VICTIM_TAGS)):
        unknown.extend((name, v) for v in out[name] if v not in known)

    if errors:
        return Normalised(None, errors, unknown)
    out["record_hash"] = record_hash(out)
    return Normalised(out, errors, unknown)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: the form hashed for change detection and for the audit chain."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def record_hash(stored: Mapping[str, Any]) -> str:
    """SHA-256 of the stored form, so an identical re-import is recognised without a field diff."""
    body = {k: v for k, v in stored.items() if k != "record_hash"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


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
