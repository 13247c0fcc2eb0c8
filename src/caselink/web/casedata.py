"""Case data as the web shows it: summaries for lists, full records (pseudonymised for oversight)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Query
from sqlalchemy import Connection, Engine, RowMapping, String, bindparam, func, select

from caselink import vocab
from caselink.schema import DEFAULT_TZ, format_when, parse_when, stored_to_raw
from caselink.store import CaseFilter
from caselink.store.models import CaseRow
from caselink.web import auth
from caselink.web.errors import FieldProblem
from caselink.web.pseudonym import pseudonymise, pseudonymise_reasons
from caselink.web.routing import Ctx

CASES = CaseRow.__table__
SUMMARY_COLUMNS = ("case_id", "agency", "incident_type", "found_at", "lat", "lon", "place_type", "area",
                   "victim_age", "victim_sex", "cause", "classification", "outcome")
# Read with the summary so found_at is shown as the agency wrote it (the record's form), not as
# naive UTC, whose date is a day early for a death found after midnight in a British summer.
_FOUND_FORM = ("found_at_offset_min", "found_at_precision")
_SELECTED = (*SUMMARY_COLUMNS, *_FOUND_FORM)


def summary_of(row: RowMapping | Mapping[str, Any]) -> dict[str, Any]:
    """A summary row with ``found_at`` in the record's form (its offset; a date alone stays a date)."""
    summary = {name: row[name] for name in SUMMARY_COLUMNS}
    summary["found_at"] = format_when(row["found_at"], row["found_at_offset_min"] or 0,
                                      row["found_at_precision"] or "datetime")
    return summary


class FilterQuery:
    """The case filters search and the scan both take, declared once as a FastAPI dependency
    (``filters: FilterQuery = Depends()``), so the two cannot drift apart in names or limits."""

    def __init__(self, cause: str | None = Query(None, max_length=100),
                 substance: str | None = Query(None, max_length=100),
                 place_type: str | None = Query(None, max_length=100), sex: str | None = Query(None, max_length=10),
                 min_age: int | None = Query(None, ge=0, le=120), max_age: int | None = Query(None, ge=0, le=120),
                 found_from: str | None = Query(None, alias="from", max_length=40),
                 found_to: str | None = Query(None, alias="to", max_length=40)) -> None:
        self.cause, self.substance, self.place_type, self.sex = cause, substance, place_type, sex
        self.min_age, self.max_age, self.found_from, self.found_to = min_age, max_age, found_from, found_to

    def shown(self) -> dict[str, Any]:
        """The filters as the page echoes them back (query names, so a form can be refilled)."""
        return {"cause": self.cause, "substance": self.substance, "place_type": self.place_type, "sex": self.sex,
                "min_age": self.min_age, "max_age": self.max_age, "from": self.found_from, "to": self.found_to}

    def where(self, agency: str | None = None, classification: str | None = None) -> CaseFilter:
        return parse_filter(self.cause, self.substance, self.place_type, self.sex, self.min_age, self.max_age,
                            self.found_from, self.found_to, agency, classification)


def parse_filter(cause: str | None, substance: str | None, place_type: str | None, sex: str | None,
                 min_age: int | None, max_age: int | None, found_from: str | None, found_to: str | None,
                 agency: str | None, classification: str | None) -> CaseFilter:
    """A CaseFilter from query values, folded like ingest; bad dates are named in a 422.

    ``from``/``to`` without an offset are London days and times, like the dates in imported records
    (a record dated 2014-06-20 is London midnight, 23:00 UTC the day before), so ``from=2014-06-20``
    finds it; stored times are naive UTC, and the bounds are converted to match.
    """
    errors = []
    days: dict[str, datetime | None] = {}
    for name, value in (("from", found_from), ("to", found_to)):
        days[name] = None
        if value:
            try:
                days[name] = parse_when(value, ZoneInfo(DEFAULT_TZ))[0]
            except ValueError:
                errors.append({"field": name, "message": f"'{value}' is not an ISO 8601 date (e.g. 2014-06-19)"})
    if sex and sex.lower() not in vocab.SEX_SYNONYMS:
        errors.append({"field": "sex", "message": f"'{sex}' is not one of F, M, X, U"})
    if errors:
        raise FieldProblem(errors)
    return CaseFilter(
        cause=vocab.fold(cause, vocab.CAUSE_SYNONYMS) if cause else None,
        substance=vocab.fold(substance, vocab.SUBSTANCE_SYNONYMS) if substance else None,
        place_type=vocab.fold(place_type, vocab.PLACE_TYPE_SYNONYMS) if place_type else None,
        victim_sex=vocab.SEX_SYNONYMS.get(sex.lower()) if sex else None,
        min_age=min_age, max_age=max_age, found_from=days["from"], found_to=days["to"],
        agency=agency or None,
        classification=vocab.fold(classification, vocab.CLASSIFICATION_SYNONYMS) if classification else None,
    )


def search(engine: Engine, where: CaseFilter, *, limit: int, offset: int) -> dict[str, Any]:
    columns = [CASES.c[name] for name in _SELECTED]
    query = where.apply(select(*columns)).order_by(CASES.c.found_at, CASES.c.case_id).limit(limit).offset(offset)
    with engine.connect() as connection:
        total = connection.execute(where.apply(select(func.count()).select_from(CASES))).scalar_one()
        rows = connection.execute(query).mappings().all()
    return {"n_matching": int(total), "offset": offset, "limit": limit,
            "cases": [summary_of(r) for r in rows]}


_SUMMARIES = (select(*(CASES.c[name] for name in _SELECTED))
              .where(CASES.c.case_id.in_(bindparam("case_ids", expanding=True)))
              .order_by(CASES.c.found_at, CASES.c.case_id))


def summaries(target: Engine | Connection, case_ids: list[str]) -> list[dict[str, Any]]:
    """Summary rows (with coordinates, for maps) of the given cases, in found_at order."""
    if not case_ids:
        return []
    if isinstance(target, Engine):
        with target.connect() as connection:
            return summaries(connection, case_ids)
    rows = target.execute(_SUMMARIES, {"case_ids": case_ids}).mappings().all()
    return [summary_of(r) for r in rows]


_ONE_CASE = select(CASES).where(CASES.c.case_id == bindparam("case_id", type_=String))


def full_record(ctx: Ctx, case_id: str) -> dict[str, Any]:
    """The whole record as exported (times with their offset); 404 if unknown; pseudonymised for oversight."""
    with ctx.engine.connect() as connection:
        stored = connection.execute(_ONE_CASE, {"case_id": case_id}).mappings().first()
    return record_of(ctx, case_id, stored)


def record_of(ctx: Ctx, case_id: str, stored: RowMapping | None) -> dict[str, Any]:
    """:func:`full_record` of a stored row already read (extra keys are ignored); 404 if None."""
    if stored is None:
        raise HTTPException(404, f"no case '{case_id}'; search with GET /api/cases")
    record = stored_to_raw(cast(Mapping[str, Any], stored))
    record["version"] = stored["version"]
    key = pseudonym_key(ctx)
    return pseudonymise(record, key) if key else record


def pseudonym_key(ctx: Ctx) -> str | None:
    """The pseudonym key when this reader sees sensitive fields pseudonymised (oversight), else None."""
    if ctx.user.role == "oversight" and ctx.settings.pseudonymise_oversight:
        return auth.server_secret(ctx.engine, "pseudonym_key")
    return None


def safe_reasons(ctx: Ctx, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts or series whose ``reasons`` are fit for this reader (pseudonymised for oversight)."""
    key = pseudonym_key(ctx)
    if key is None:
        return items
    return [{**item, "reasons": pseudonymise_reasons(item.get("reasons") or [], key)} for item in items]
