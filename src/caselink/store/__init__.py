"""The case store: one object every command, the web app and linkage open the same way.

Reads return canonical :class:`~caselink.schema.Case` objects or a pandas frame of stored columns,
so callers never depend on how a dialect stores JSON or times.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import JSON, ColumnElement, Connection, Engine, Select, Text, cast, func, select

from caselink.schema import DEFAULT_TZ, Case, case_from_stored
from caselink.store.database import READ_ONLY, StoreError, make_engine, migrate, resolve_db_url
from caselink.store.ingest import IngestError, IngestResult, RecordSource, RowProblem, SourceError, ingest
from caselink.store.models import CaseEntityRow, CaseRow, CaseVersionRow, ImportRow

__all__ = [
    "CaseFilter", "CaseStore", "IngestError", "IngestResult", "RecordSource", "RowProblem", "SourceError",
    "StoreError", "resolve_db_url",
]

CASES = CaseRow.__table__


def _decode_lists(texts: pd.Series) -> list[list[Any] | None]:
    """JSON list texts decoded once per distinct text, with a fresh list per cell (so that a caller
    changing one row's list changes no other row); SQL NULL stays None."""
    decoded: dict[str, Any] = {}
    out: list[list[Any] | None] = []
    for text in texts:
        if not isinstance(text, str):
            out.append(None)
            continue
        if text not in decoded:
            decoded[text] = json.loads(text)
        value = decoded[text]
        out.append(list(value) if isinstance(value, list) else value)
    return out


@dataclass(frozen=True)
class CaseFilter:
    """Typed filters shared by the CLI, the API and the scan; each becomes a bound parameter."""

    cause: str | None = None
    substance: str | None = None
    place_type: str | None = None
    victim_sex: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    found_from: datetime | None = None
    found_to: datetime | None = None
    agency: str | None = None
    classification: str | None = None
    incident_type: str | None = None
    case_ids: tuple[str, ...] | None = None  # exactly these cases (live linkage reads a few by id)

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = []
        if self.case_ids is not None:
            conditions.append(CASES.c.case_id.in_(self.case_ids))
        for column, value in (
            (CASES.c.cause, self.cause), (CASES.c.place_type, self.place_type),
            (CASES.c.victim_sex, self.victim_sex), (CASES.c.agency, self.agency),
            (CASES.c.classification, self.classification), (CASES.c.incident_type, self.incident_type),
        ):
            if value is not None:
                conditions.append(column == value)
        if self.min_age is not None:
            conditions.append(CASES.c.victim_age >= self.min_age)
        if self.max_age is not None:
            conditions.append(CASES.c.victim_age <= self.max_age)
        if self.found_from is not None:
            conditions.append(CASES.c.found_at >= self.found_from)
        if self.found_to is not None:
            conditions.append(CASES.c.found_at < self.found_to)
        if self.substance is not None:
            # JSON array membership differs by dialect; a LIKE on the serialised array is portable
            # and exact because canonical names are quoted tokens.
            needle = '"' + self.substance.replace("%", "").replace("_", "\\_") + '"'
            conditions.append(cast(CASES.c.substances, Text).like(f"%{needle}%", escape="\\"))
        return query.where(*conditions) if conditions else query


class CaseStore:
    """A migrated database holding cases.  Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, db: str | None = None) -> CaseStore:
        """Open (creating and migrating if needed) the store named by ``db``, env or default."""
        url = resolve_db_url(db)
        engine = make_engine(url)
        try:
            migrate(engine)
        except Exception as exc:
            engine.dispose()
            # One line: drivers put hints and links on later lines.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"cannot open store {safe_url(url)}: {reason}") from exc
        return cls(engine, url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------------
    def ingest(self, sources: Iterable[RecordSource], *, tz: str = DEFAULT_TZ, officer: str | None = None,
               progress: Callable[[int], None] | None = None) -> IngestResult:
        """Import all ``sources`` in one transaction; raises IngestError with nothing written."""
        with self.engine.begin() as connection:
            from caselink.audit.hooks import erased_case_ids, record_ingest

            result = ingest(connection, sources, tz=tz, officer=officer, progress=progress,
                            erased=erased_case_ids(connection))
            # Audit hook (issue 4, DPA 2018 s.62): the collection/alteration entries are written in
            # this same transaction, so an import and its log entry commit together or not at all.
            record_ingest(connection, result, officer)
            return result

    # -- reads ----------------------------------------------------------------------------------
    def reading(self) -> Connection:
        """A connection for reads only: on SQLite it does not take the write lock (see database.py)."""
        return self.engine.connect().execution_options(**{READ_ONLY: True})

    def count(self, where: CaseFilter | None = None) -> int:
        query = select(func.count()).select_from(CASES)
        with self.reading() as connection:
            return int(connection.execute((where or CaseFilter()).apply(query)).scalar_one())

    def get_stored(self, case_id: str) -> dict[str, Any] | None:
        with self.reading() as connection:
            row = connection.execute(select(CASES).where(CASES.c.case_id == case_id)).mappings().first()
        return dict(row) if row else None

    def get_case(self, case_id: str) -> Case | None:
        stored = self.get_stored(case_id)
        return case_from_stored(stored) if stored else None

    def iter_stored(self, where: CaseFilter | None = None, *, limit: int | None = None,
                    order_by_found: bool = True) -> Iterator[dict[str, Any]]:
        """Stored rows in ``found_at`` order, streamed so an export of a million cases stays small."""
        query = (where or CaseFilter()).apply(select(CASES))
        if order_by_found:
            query = query.order_by(CASES.c.found_at, CASES.c.case_id)
        if limit is not None:
            query = query.limit(limit)
        with self.reading() as connection:
            result = connection.execution_options(yield_per=5000).execute(query).mappings()
            for row in result:
                yield dict(row)

    def iter_cases(self, where: CaseFilter | None = None, *, limit: int | None = None) -> Iterator[Case]:
        for stored in self.iter_stored(where, limit=limit):
            yield case_from_stored(stored)

    def cases_frame(self, columns: list[str] | None = None, where: CaseFilter | None = None, *,
                    local_times: bool = False) -> pd.DataFrame:
        """Stored columns as a DataFrame (list fields as Python lists).

        Times are naive UTC instants, right for durations.  With ``local_times`` they are the
        agency's wall-clock times instead, which is what a *date* means to the people who wrote it
        (a death found on 19 June in London is not a death of 18 June at 23:00 UTC): use it
        wherever cases are grouped or compared by calendar day.
        """
        names = list(columns) if columns else [c.name for c in CASES.c]
        wanted = list(names)
        if local_times:
            wanted += [f"{t}_offset_min" for t in ("found_at", "died_from", "died_to")
                       if t in names and f"{t}_offset_min" not in names]
        # List columns come back as JSON text and are decoded once per distinct value: most are "[]" or
        # one of a few hundred lists, and json.loads per cell was half the time of reading 100k cases.
        lists = [name for name in wanted if isinstance(CASES.c[name].type, JSON)]
        selected = [cast(CASES.c[name], Text).label(name) if name in lists else CASES.c[name] for name in wanted]
        query = (where or CaseFilter()).apply(select(*selected)).order_by(CASES.c.found_at, CASES.c.case_id)
        with self.reading() as connection:
            rows = [tuple(row) for row in connection.execute(query)]
        frame = pd.DataFrame.from_records(rows, columns=wanted)
        for name in lists:
            frame[name] = pd.Series(_decode_lists(frame[name]), index=frame.index, dtype=object)
        if local_times:
            for name in ("found_at", "died_from", "died_to"):
                if name in names and len(frame):
                    offset = pd.to_timedelta(pd.to_numeric(frame[f"{name}_offset_min"]).fillna(0), unit="min")
                    frame[name] = pd.to_datetime(frame[name]) + offset
            frame = frame[names]
        return frame

    def versions(self, case_id: str) -> list[dict[str, Any]]:
        table = CaseVersionRow.__table__
        with self.reading() as connection:
            rows = connection.execute(
                select(table).where(table.c.case_id == case_id).order_by(table.c.version)
            ).mappings().all()
        return [dict(r) for r in rows]

    def cases_with_entity(self, entity: str) -> list[str]:
        """Cases naming ``entity``, written as a user would (``phone:07700 900123``): it is folded as
        ingest folds entities, so it finds what was stored.  Not ``kind:value``: ValueError."""
        from caselink.schema import normalise_entity

        entity = normalise_entity(entity)
        table = CaseEntityRow.__table__
        with self.reading() as connection:
            return list(connection.execute(select(table.c.case_id).where(table.c.entity == entity)).scalars())

    def case_ids_changed_by(self, import_id: int) -> list[str]:
        """Cases an import created or changed, oldest found first: what incremental linkage scores."""
        with self.reading() as connection:
            return list(connection.execute(
                select(CASES.c.case_id).where(CASES.c.import_id == import_id)
                .order_by(CASES.c.found_at, CASES.c.case_id)
            ).scalars())

    def stats(self) -> dict[str, Any]:
        """Volumes for ``caselink stats``; keys are a contract (DESIGN, issue 2)."""
        with self.reading() as connection:
            n_cases = connection.execute(select(func.count()).select_from(CASES)).scalar_one()
            # The days as the records give them (the agency's clock), as everywhere else: found_at is
            # stored in UTC, so a London death found "2014-06-19" is 18 June 23:00 there.
            first, last = (connection.execute(
                select(CASES.c.found_at, CASES.c.found_at_offset_min).order_by(order).limit(1)).first()
                for order in (CASES.c.found_at.asc(), CASES.c.found_at.desc()))

            def grouped(column: Any) -> dict[str, int]:
                rows = connection.execute(select(column, func.count()).group_by(column).order_by(column)).all()
                return {("unknown" if key is None else str(key)): int(n) for key, n in rows}
            by_cause = grouped(CASES.c.cause)
            by_type = grouped(CASES.c.incident_type)
            by_classification = grouped(CASES.c.classification)
            by_agency = grouped(CASES.c.agency)
            n_imports = connection.execute(select(func.count()).select_from(ImportRow.__table__)).scalar_one()
            n_versions = connection.execute(select(func.count()).select_from(CaseVersionRow.__table__)).scalar_one()
        return {
            "n_cases": int(n_cases),
            "first_found_at": _local_day(first),
            "last_found_at": _local_day(last),
            "by_cause": by_cause,
            "by_incident_type": by_type,
            "by_classification": by_classification,
            "by_agency": by_agency,
            "n_imports": int(n_imports),
            "n_superseded_versions": int(n_versions),
        }


def _local_day(row: Any) -> str | None:
    """The agency-local calendar day of a (found_at UTC, offset in minutes) row."""
    if row is None or row[0] is None:
        return None
    return (row[0] + timedelta(minutes=row[1] or 0)).date().isoformat()


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<database>"
