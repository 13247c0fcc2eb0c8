"""One ingest call is one transaction: every row of every file lands, or none does.

Rows stream through a temporary staging table in the same transaction, so memory stays flat however
large the file, a killed process leaves nothing behind (the database never committed), and the
merge into ``cases`` (new, changed, unchanged; duplicates inside the input) is done by the
database in a few set-based statements instead of a query per row.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    delete,
    select,
    text,
    update,
)

from caselink.normalise import UPDATE_ONLY_FIELDS, Batch, normalise_batch
from caselink.schema import DEFAULT_TZ, HASHED_COLUMNS, PERSONAL_FIELDS, TIME_FIELDS, hash_values
from caselink.store.models import CaseEntityRow, CaseRow, CaseVersionRow, ImportRow

MAX_REPORTED_PROBLEMS = 100
CHUNK_ROWS = 5000
PIPELINE_DEPTH = 2

CASE_COLUMNS = [c.name for c in CaseRow.__table__.columns if c.name not in ("version", "import_id", "updated_at")]
WRITE_COLUMNS = [*CASE_COLUMNS, "version", "import_id", "updated_at"]
# Declarative models type __table__ as a FromClause; these are Tables.
CASES_TABLE: Table = CaseRow.__table__  # type: ignore[assignment]
VERSIONS_TABLE: Table = CaseVersionRow.__table__  # type: ignore[assignment]
ENTITIES_TABLE: Table = CaseEntityRow.__table__  # type: ignore[assignment]
IMPORTS_TABLE: Table = ImportRow.__table__  # type: ignore[assignment]

_temp_meta = MetaData()
# Ids this import has seen but not written to `cases` (unchanged rows, and every row once an error
# has been found), so a case_id repeated anywhere in the input is caught without holding ids in memory.
SEEN = Table(
    "_caselink_seen", _temp_meta,
    Column("case_id", Text, primary_key=True), Column("source", Integer), Column("line", Integer),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class RowProblem:
    """One problem with one field of one row, as the contract line ``PATH:LINE: FIELD: message``."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class IngestError(Exception):
    """The import was refused; nothing was written.  ``problems`` holds at most the reported ones."""

    def __init__(self, problems: list[RowProblem], n_total: int) -> None:
        super().__init__(f"{n_total} problem(s); nothing was imported")
        self.problems = problems
        self.n_total = n_total


class SourceError(Exception):
    """A whole file cannot be read (unreadable, empty, wrong format, missing column)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass
class IngestResult:
    import_id: int
    n_rows: int
    n_new: int
    n_updated: int
    n_unchanged: int
    warnings: list[str] = field(default_factory=list)
    # Who ran the import: the hooks after it (linkage's "combination" entry) act in their name.
    officer: str | None = None
    # What the steps after the import returned (alerts, checklist actions created), when they ran.
    after: dict[str, Any] = field(default_factory=dict)


class RecordSource:
    """A file's rows as (line, raw mapping); readers in :mod:`caselink.io` subclass this."""

    path: str

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:  # pragma: no cover - interface
        raise NotImplementedError

    def warnings(self) -> list[str]:
        return []


def ingest(
    connection: Connection,
    sources: Iterable[RecordSource],
    *,
    tz: str = DEFAULT_TZ,
    officer: str | None = None,
    progress: Callable[[int], None] | None = None,
    erased: frozenset[str] = frozenset(),
) -> IngestResult:
    """Validate and merge every source inside the caller's transaction.

    ``erased``: cases erased under retention; a row for one of them is merged with its personal
    fields left blank (an import of the original file must not undo an erasure), and a warning says so.

    Rows are written chunk by chunk as they validate; at the first problem writing stops, the rest
    is still validated so every problem is reported, and :class:`IngestError` is raised so the
    caller's transaction rolls back everything this call wrote.
    """
    zone = ZoneInfo(tz)
    now = datetime.now(UTC).replace(tzinfo=None)
    _temp_meta.create_all(connection)
    connection.execute(SEEN.delete())
    imports = IMPORTS_TABLE
    import_id = connection.execute(imports.insert().values(
        started_at=now, sources=[], officer=officer, n_rows=0, n_new=0, n_updated=0, n_unchanged=0,
    )).inserted_primary_key[0]  # type: ignore[index]
    merge = _Merge(connection, int(import_id), now, erased)
    problems: list[RowProblem] = []
    n_problems = 0
    unknown: Counter[tuple[str, str, str]] = Counter()
    read_as_empty: Counter[tuple[str, str, str]] = Counter()
    suspect: Counter[tuple[str, str, str]] = Counter()
    warnings: list[str] = []
    paths: list[str] = []
    n_rows = 0

    def report(path: str, line: int, name: str, message: str) -> None:
        nonlocal n_problems
        n_problems += 1
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(RowProblem(path, line, name, message))

    def consume(source_index: int, chunk: list[tuple[int, dict[str, Any]]], batch: Batch) -> None:
        nonlocal n_rows
        path = paths[source_index]
        for (name, value), count in batch.unknown.items():
            unknown[(path, name, value)] += count
        for (name, value), count in batch.read_as_empty.items():
            read_as_empty[(path, name, value)] += count
        for (name, value), count in batch.suspect.items():
            suspect[(path, name, value)] += count
        for index, row_errors in batch.errors.items():
            for error in row_errors:
                report(path, chunk[index][0], error.field, error.message)
        lines = [line for line, _raw in chunk]
        existing = merge.lookup(batch.columns["case_id"])
        for index, fields in batch.absent.items():
            case_id = batch.columns["case_id"][index]
            if case_id is not None and case_id not in existing and index not in batch.errors:
                for name in sorted(fields & UPDATE_ONLY_FIELDS):
                    report(path, chunk[index][0], name, "is missing; a new case needs found_at, lat and lon (a file "
                           "without those columns can only update cases already in the store)")
        repeated = merge.duplicates(batch.columns["case_id"], lines, paths, source_index, existing)
        for index, message in repeated:
            report(path, lines[index], "case_id", message)
        if n_problems:
            ids = batch.columns["case_id"]
            known = {ids[index] for index, _message in repeated}
            merge.remember([None if case_id in known else case_id for case_id in ids], source_index, lines)
        else:
            merge.write(batch, source_index, lines, existing)
        n_rows += len(chunk)
        if progress:
            progress(n_rows)

    def chunks() -> Iterator[tuple[int, list[tuple[int, dict[str, Any]]]]]:
        for source_index, source in enumerate(sources):
            paths.append(source.path)
            chunk: list[tuple[int, dict[str, Any]]] = []
            for item in source:
                chunk.append(item)
                if len(chunk) >= CHUNK_ROWS:
                    yield source_index, chunk
                    chunk = []
            if chunk:
                yield source_index, chunk
            warnings.extend(source.warnings())

    # Normalising the next chunks (another process) overlaps with writing this one (here).
    with _Normaliser(zone) as normaliser:
        pending: deque[tuple[int, list[tuple[int, dict[str, Any]]], Future[Batch]]] = deque()
        for source_index, chunk in chunks():
            pending.append((source_index, chunk, normaliser.submit([raw for _line, raw in chunk])))
            if len(pending) > PIPELINE_DEPTH:
                index, done, future = pending.popleft()
                consume(index, done, future.result())
        while pending:
            index, done, future = pending.popleft()
            consume(index, done, future.result())
    if n_problems:
        problems.sort(key=lambda p: (paths.index(p.path), p.line))
        raise IngestError(problems, n_problems)

    for (path, name, value), count in sorted(unknown.items()):
        warnings.append(f"{path}: {name}: unknown value '{value}' kept as is ({count} row(s))")
    for (path, name, value), count in sorted(read_as_empty.items()):
        warnings.append(f"{path}: {name}: '{value}' read as not recorded (empty) ({count} row(s))")
    for (path, name, value), count in sorted(suspect.items()):
        warnings.append(f"{path}: {name}: {value} is a date systems write when the real one is unknown "
                        f"({count} row(s)); check these cases' dates (a wrong date misleads linkage and replay)")
    if merge.emptied:
        # An empty cell in a column the file has empties the field (a column the file lacks keeps it).
        # Not an error (blanking can be meant), but never silent; the superseded versions keep the values.
        fields = ", ".join(f"{name} ({count})" for name, count in sorted(merge.emptied.items()))
        warnings.append(f"updated cases lost their values of: {fields}; an empty cell empties the field (leave "
                        "the column out to keep stored values; the previous versions are kept: "
                        "`caselink cases show ID --history`)")
    if merge.kept_erased:
        shown = ", ".join(sorted(merge.kept_erased)[:10]) + (" …" if len(merge.kept_erased) > 10 else "")
        warnings.append(f"{len(merge.kept_erased)} case(s) were erased under retention ({shown}): their personal "
                        f"fields in this import ({', '.join(PERSONAL_FIELDS)}) were not stored")
    for (before, after), count in sorted(merge.agency_changed.items()):
        # Two forces numbering their cases alike would overwrite each other's: say so loudly.
        warnings.append(f"{count} updated case(s) changed agency from '{before}' to '{after}': if these are "
                        f"another agency's cases that reuse the same case_id, prefix the ids (e.g. '{after}-…') "
                        "and import again; the previous versions are kept (`caselink cases show ID --history`)")
    connection.execute(imports.update().where(imports.c.id == import_id).values(
        finished_at=datetime.now(UTC).replace(tzinfo=None), sources=paths, n_rows=n_rows, n_new=merge.n_new,
        n_updated=merge.n_updated, n_unchanged=merge.n_unchanged,
    ))
    connection.execute(text("DROP TABLE IF EXISTS _caselink_seen"))
    return IngestResult(int(import_id), n_rows, merge.n_new, merge.n_updated, merge.n_unchanged, warnings, officer)


class _Normaliser:
    """Runs :func:`normalise_batch` in one worker process once an import is larger than a chunk.

    On two cores this keeps both busy: the worker validates chunk n+1 while this process writes
    chunk n.  Small imports never start a process.  Results come back in submission order.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.pool: ProcessPoolExecutor | None = None
        self.submitted = 0

    def __enter__(self) -> _Normaliser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, raws: list[dict[str, Any]]) -> Future[Batch]:
        self.submitted += 1
        if self.submitted > 1 and self.pool is None and (os.cpu_count() or 1) > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method),
                                            initializer=_exit_with_parent, initargs=(os.getpid(),))
        if self.pool is not None:
            return self.pool.submit(normalise_batch, raws, self.zone)
        done: Future[Batch] = Future()
        done.set_result(normalise_batch(raws, self.zone))
        return done


class _Merge:
    """Writes validated chunks into ``cases``: new rows inserted, changed rows archived to
    ``case_versions`` then updated, unchanged rows left alone; finds case_ids repeated in the input."""

    def __init__(self, connection: Connection, import_id: int, now: datetime,
                 erased: frozenset[str] = frozenset()) -> None:
        self.connection = connection
        self.erased = erased
        self.kept_erased: set[str] = set()  # erased cases whose incoming personal data was not stored
        self.import_id = import_id
        self.now = now
        self.insert = _row_inserter(connection)
        self.n_new = self.n_updated = self.n_unchanged = 0
        self.emptied: Counter[str] = Counter()  # field -> updated cases that had a value there and now do not
        self.agency_changed: Counter[tuple[str, str]] = Counter()  # (stored agency, new agency) -> cases
        cases = CASES_TABLE
        ids: Any = bindparam("ids", expanding=True)
        self._existing = select(cases.c.case_id, cases.c.record_hash, cases.c.import_id).where(
            cases.c.case_id.in_(ids))
        self._seen = select(SEEN.c.case_id, SEEN.c.source, SEEN.c.line).where(SEEN.c.case_id.in_(ids))
        self._sqlite = connection.dialect.name == "sqlite"

    def _select_ids(self, statement: Any, sqlite_sql: str, ids: list[str]) -> list[Any]:
        if not ids:
            return []
        if self._sqlite:
            # One JSON parameter instead of thousands of bound ones: compiling an expanding IN of a
            # chunk's ids costs more than the lookup itself.
            return list(self.connection.exec_driver_sql(sqlite_sql, (json.dumps(ids),)))
        return list(self.connection.execute(statement, {"ids": ids}))

    def lookup(self, ids: list[str | None]) -> dict[str, tuple[str, int | None]]:
        """(record_hash, import_id) of each of ``ids`` already in ``cases``."""
        present = [i for i in ids if i is not None]
        rows = self._select_ids(self._existing, "SELECT case_id, record_hash, import_id FROM cases "
                                "WHERE case_id IN (SELECT value FROM json_each(?))", present)
        return {row[0]: (row[1], row[2]) for row in rows}

    def duplicates(self, ids: list[str | None], lines: list[int], paths: list[str], source_index: int,
                   existing: dict[str, tuple[str, int | None]]) -> list[tuple[int, str]]:
        """(row index, message) for each id already used earlier in this import."""
        present = [i for i in ids if i is not None]
        written = {case_id for case_id, (_hash, import_id) in existing.items() if import_id == self.import_id}
        remembered = {row[0]: (row[1], row[2]) for row in self._select_ids(
            self._seen, "SELECT case_id, source, line FROM _caselink_seen "
            "WHERE case_id IN (SELECT value FROM json_each(?))", present)}
        first_in_chunk: dict[str, int] = {}
        found = []
        for index, case_id in enumerate(ids):
            if case_id is None:
                continue
            if case_id in first_in_chunk:
                where = f"line {lines[first_in_chunk[case_id]]}"
            elif case_id in remembered:
                source, line = remembered[case_id]
                where = f"line {line}" + ("" if source == source_index else f" of {paths[source]}")
            elif case_id in written:
                where = "an earlier row of this import"
            else:
                first_in_chunk[case_id] = index
                continue
            found.append((index, f"'{case_id}' repeats the case_id at {where}"))
        return found

    def remember(self, ids: list[str | None], source_index: int, lines: list[int]) -> None:
        rows = {case_id: (case_id, source_index, line) for case_id, line in zip(ids, lines, strict=True)
                if case_id is not None}
        self.insert(SEEN, ["case_id", "source", "line"], _transpose(list(rows.values()), 3))

    def write(self, batch: Batch, source_index: int, lines: list[int],
              existing: dict[str, tuple[str, int | None]]) -> None:
        columns = batch.columns
        ids = columns["case_id"]
        hashes = columns["record_hash"]
        stored = self._keep_absent(batch, existing) if batch.absent else {}
        if self.erased:
            self._keep_erased(batch, existing)
        new = [i for i, case_id in enumerate(ids) if case_id not in existing]
        changed = [i for i, case_id in enumerate(ids) if case_id in existing and existing[case_id][0] != hashes[i]]
        unchanged = [i for i, case_id in enumerate(ids) if case_id in existing and existing[case_id][0] == hashes[i]]
        n = len(new)
        if n == len(ids):  # the common case, a chunk of new cases: hand the columns over as they are
            values = [columns[name] for name in CASE_COLUMNS]
        else:
            values = [[columns[name][i] for i in new] for name in CASE_COLUMNS]
        self.insert(CASES_TABLE, WRITE_COLUMNS, [*values, [1] * n, [self.import_id] * n, [self.now] * n])
        if changed:
            self._update([ids[i] for i in changed], [batch.record(i) for i in changed], stored)
        self.remember([ids[i] for i in unchanged], source_index, [lines[i] for i in unchanged])
        entity_rows = [(ids[i], entity, entity.split(":", 1)[0]) for i in new + changed
                       for entity in columns["entities"][i]]
        self.insert(ENTITIES_TABLE, ["case_id", "entity", "kind"], _transpose(entity_rows, 3))
        self.n_new += n
        self.n_updated += len(changed)
        self.n_unchanged += len(unchanged)

    def _keep_absent(self, batch: Batch, existing: dict[str, tuple[str, int | None]]) -> dict[str, Any]:
        """Rows updating a known case take its stored values for the fields they do not have.

        Why: a file of corrected toxicology, or an export without the narrative column, should not
        blank what it does not mention; a column that is present but empty still empties the field.
        Rows are compared by value (not by hash) with the stored case, so re-importing the same
        partial file is a no-op.  Returns the stored rows read, so an update need not read them again.
        """
        columns = batch.columns
        ids = columns["case_id"]
        partial = [i for i in batch.absent if ids[i] in existing]
        if not partial:
            return {}
        cases = CASES_TABLE
        stored = {row["case_id"]: row for row in self.connection.execute(
            select(cases).where(cases.c.case_id.in_([ids[i] for i in partial]))).mappings()}
        for i in partial:
            row = stored[ids[i]]
            kept = {c for name in batch.absent[i] for c in _STORED_COLUMNS_OF.get(name, (name,))}
            for name in kept:
                columns[name][i] = row[name]
            if all(columns[name][i] == row[name] for name in HASHED_COLUMNS):
                columns["record_hash"][i] = existing[ids[i]][0]
            else:
                columns["record_hash"][i] = hash_values([columns[name][i] for name in HASHED_COLUMNS])
        return stored

    def _keep_erased(self, batch: Batch, existing: dict[str, tuple[str, int | None]]) -> None:
        """Rows for erased cases lose their personal fields before they are compared or written."""
        columns = batch.columns
        for i, case_id in enumerate(columns["case_id"]):
            if case_id not in self.erased or case_id not in existing:
                continue
            if any(_filled(columns[name][i]) for name in PERSONAL_FIELDS):
                self.kept_erased.add(case_id)
                for name, empty in PERSONAL_FIELDS.items():
                    columns[name][i] = type(empty)() if isinstance(empty, list) else empty
                columns["record_hash"][i] = hash_values([columns[name][i] for name in HASHED_COLUMNS])

    def _update(self, ids: list[str | None], records: list[dict[str, Any]], stored: dict[str, Any]) -> None:
        """Keep the superseded version whole, then overwrite it and re-index its entities.

        ``stored``: rows already read (by ``_keep_absent``); only the others are read here.
        """
        cases, versions, entities = CASES_TABLE, VERSIONS_TABLE, ENTITIES_TABLE
        unread = [case_id for case_id in ids if case_id not in stored]
        old = [stored[case_id] for case_id in ids if case_id in stored]
        if unread:
            old += self.connection.execute(select(cases).where(cases.c.case_id.in_(unread))).mappings().all()
        incoming = {r["case_id"]: r for r in records}
        for row in old:
            new = incoming.get(row["case_id"], {})
            for name in EMPTIABLE_FIELDS:
                if _filled(row[name]) and not _filled(new.get(name)):
                    self.emptied[name] += 1
            if _filled(row["agency"]) and _filled(new.get("agency")) and row["agency"] != new.get("agency"):
                self.agency_changed[(row["agency"], new["agency"])] += 1
        self.connection.execute(versions.insert(), [
            {"case_id": row["case_id"], "version": row["version"], "record": _jsonable(row),
             "record_hash": row["record_hash"], "superseded_at": self.now,
             "superseded_by_import": self.import_id}
            for row in old
        ])
        self.connection.execute(
            update(cases).where(cases.c.case_id == bindparam("b_case_id")).values(
                {**{name: bindparam(name) for name in CASE_COLUMNS if name != "case_id"},
                 "version": cases.c.version + 1, "import_id": self.import_id, "updated_at": self.now}),
            [{"b_case_id": r["case_id"], **{k: v for k, v in r.items() if k in CASE_COLUMNS and k != "case_id"}}
             for r in records],
        )
        self.connection.execute(delete(entities).where(entities.c.case_id.in_(ids)))


def _exit_with_parent(parent: int) -> None:
    """In the normalising worker: exit once the importing process is gone.

    Why: a worker blocks reading its task queue, whose pipe it holds both ends of when forked, so an
    importer killed with SIGKILL (or by the OOM killer) left it asleep for ever.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


#: The stored columns a given field fills: a time also has its offset and precision.
_STORED_COLUMNS_OF = {name: (name, f"{name}_offset_min", f"{name}_precision") for name in TIME_FIELDS}

#: Fields a user gives (not the offsets and precisions derived from them) whose loss an update reports.
EMPTIABLE_FIELDS = tuple(name for name in HASHED_COLUMNS
                         if name != "case_id" and not name.endswith(("_offset_min", "_precision")))


def _filled(value: Any) -> bool:
    return value not in (None, "", [], ()) and value != "[]"


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's own SQLite DATETIME storage format, so comparisons with bound values agree.
    return value.isoformat(" ", "microseconds")


@lru_cache(maxsize=65536)
def _json_list(value: tuple[str, ...]) -> str:
    return json.dumps(list(value), ensure_ascii=False)


Inserter = Callable[[Table, list[str], list[Sequence[Any]]], None]


def _transpose(rows: list[tuple[Any, ...]], width: int) -> list[Sequence[Any]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _row_inserter(connection: Connection) -> Inserter:
    """Insert rows given as columns (one sequence per name).  On SQLite they go straight to the
    driver, because SQLAlchemy's per-value processing would cost more than the rest of an import;
    values are converted exactly as SQLAlchemy would store them."""
    if connection.dialect.name == "sqlite":
        def insert_sqlite(table: Table, names: list[str], columns: list[Sequence[Any]]) -> None:
            if not columns or not len(columns[0]):
                return
            # Table and column names come from caselink's own Table objects, never from input.
            sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # nosec B608
            converted: list[Sequence[Any]] = []
            for name, column in zip(names, columns, strict=True):
                kind = table.c[name].type
                if isinstance(kind, DateTime):
                    column = [None if v is None else _sqlite_datetime(v) for v in column]
                elif isinstance(kind, JSON):
                    column = [_json_list(tuple(v)) for v in column]
                converted.append(column)
            connection.exec_driver_sql(sql, list(zip(*converted, strict=True)))
        return insert_sqlite

    def insert_generic(table: Table, names: list[str], columns: list[Sequence[Any]]) -> None:
        if columns and len(columns[0]):
            rows = zip(*columns, strict=True)
            connection.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
    return insert_generic


def _jsonable(row: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}

