"""One ingest call is one transaction: every row of every file lands, or none does.

Rows stream through a temporary staging table in the same transaction, so memory stays flat however
large the file, a killed process leaves nothing behind (the database never committed), and the
merge into ``cases`` (new, changed, unchanged; duplicates inside the input) is done by the
database in a few set-based statements instead of a query per row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, select, text

from caselink.schema import DEFAULT_TZ, normalise_record
from caselink.store.models import CaseRow, CaseVersionRow, ImportRow

MAX_REPORTED_PROBLEMS = 100
CHUNK_ROWS = 5000

CASE_COLUMNS = [c.name for c in CaseRow.__table__.columns if c.name not in ("version", "import_id", "updated_at")]

_staging_meta = MetaData()
STAGING = Table(
    "_caselink_staging", _staging_meta,
    Column("seq", Integer, primary_key=True),
    Column("source", Integer),
    Column("line", Integer),
    *(Column(c.name, c.type if not isinstance(c.type, String) else Text) for c in CaseRow.__table__.columns
      if c.name in CASE_COLUMNS),
    prefixes=["TEMPORARY"],
)
STAGING_ENTITIES = Table(
    "_caselink_staging_entities", _staging_meta,
    Column("case_id", Text), Column("entity", Text), Column("kind", Text),
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
) -> IngestResult:
    """Validate and merge every source inside the caller's transaction; raise before any merge on error."""
    zone = ZoneInfo(tz)
    now = datetime.now(UTC).replace(tzinfo=None)
    _staging_meta.create_all(connection)
    connection.execute(STAGING.delete())
    connection.execute(STAGING_ENTITIES.delete())

    problems: list[RowProblem] = []
    n_problems = 0
    unknown: Counter[tuple[str, str, str]] = Counter()
    warnings: list[str] = []
    paths: list[str] = []
    seq = 0
    batch: list[dict[str, Any]] = []
    entity_batch: list[dict[str, Any]] = []
    bad_ids: list[dict[str, Any]] = []

    def flush() -> None:
        if batch and n_problems == 0:
            connection.execute(STAGING.insert(), batch)
            if entity_batch:
                connection.execute(STAGING_ENTITIES.insert(), entity_batch)
        if bad_ids:
            connection.execute(STAGING.insert(), bad_ids)
        batch.clear()
        entity_batch.clear()
        bad_ids.clear()
        if progress:
            progress(seq)

    sources = list(sources)
    for source_index, source in enumerate(sources):
        paths.append(source.path)
        for line, raw in source:
            seq += 1
            result = normalise_record(raw, zone)
            for name, value in result.unknown:
                unknown[(source.path, name, value)] += 1
            if result.errors:
                n_problems += len(result.errors)
                for error in result.errors:
                    if len(problems) < MAX_REPORTED_PROBLEMS:
                        problems.append(RowProblem(source.path, line, error.field, error.message))
                case_id = raw.get("case_id")
                if case_id is not None and str(case_id).strip():
                    # Kept so a later duplicate of this id is still reported against it.
                    bad_ids.append({"seq": seq, "source": source_index, "line": line,
                                    "case_id": str(case_id).strip()})
                continue
            record = result.record or {}
            if n_problems == 0:
                batch.append({"seq": seq, "source": source_index, "line": line, **record})
                entity_batch.extend(
                    {"case_id": record["case_id"], "entity": e, "kind": e.split(":", 1)[0]}
                    for e in record["entities"]
                )
            else:
                bad_ids.append({"seq": seq, "source": source_index, "line": line, "case_id": record["case_id"]})
            if len(batch) + len(bad_ids) >= CHUNK_ROWS:
                flush()
        warnings.extend(source.warnings())
    flush()

    connection.execute(text("CREATE INDEX IF NOT EXISTS _caselink_staging_case ON _caselink_staging (case_id)"))
    duplicates = connection.execute(text(
        "SELECT s.source, s.line, s.case_id, "
        "(SELECT MIN(t.line) FROM _caselink_staging t WHERE t.case_id = s.case_id AND t.seq < s.seq "
        " AND t.source = s.source) AS first_line "
        "FROM _caselink_staging s WHERE EXISTS (SELECT 1 FROM _caselink_staging t "
        "WHERE t.case_id = s.case_id AND t.seq < s.seq) ORDER BY s.seq"
    )).all()
    for source_index, line, case_id, first_line in duplicates:
        n_problems += 1
        where = f"line {first_line}" if first_line is not None else "an earlier file"
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(RowProblem(sources[source_index].path, line, "case_id",
                                       f"'{case_id}' repeats the case_id at {where}"))
    if n_problems:
        problems.sort(key=lambda p: (paths.index(p.path), p.line))
        raise IngestError(problems, n_problems)

    for (path, name, value), count in sorted(unknown.items()):
        warnings.append(f"{path}: {name}: unknown value '{value}' kept as is ({count} row(s))")

    import_id = connection.execute(ImportRow.__table__.insert().values(
        started_at=now, sources=paths, officer=officer, n_rows=seq, n_new=0, n_updated=0, n_unchanged=0,
    )).inserted_primary_key[0]  # type: ignore[index]
    n_updated = _archive_and_update(connection, import_id, now)
    n_unchanged = connection.execute(text(
        "SELECT COUNT(*) FROM _caselink_staging s JOIN cases c ON c.case_id = s.case_id "
        "WHERE c.record_hash = s.record_hash AND (c.import_id IS NULL OR c.import_id <> :imp)"
    ), {"imp": import_id}).scalar_one()
    columns = ", ".join(CASE_COLUMNS)
    n_new = connection.execute(text(
        f"INSERT INTO cases ({columns}, version, import_id, updated_at) "  # noqa: S608 - fixed names
        f"SELECT {columns}, 1, :imp, :now FROM _caselink_staging s "
        "WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = s.case_id)"
    ), {"imp": import_id, "now": now}).rowcount
    connection.execute(text(
        "DELETE FROM case_entities WHERE case_id IN (SELECT case_id FROM cases WHERE import_id = :imp)"
    ), {"imp": import_id})
    connection.execute(text(
        "INSERT INTO case_entities (case_id, entity, kind) SELECT DISTINCT e.case_id, e.entity, e.kind "
        "FROM _caselink_staging_entities e WHERE e.case_id IN (SELECT case_id FROM cases WHERE import_id = :imp)"
    ), {"imp": import_id})
    connection.execute(ImportRow.__table__.update().where(ImportRow.id == import_id).values(
        finished_at=datetime.now(UTC).replace(tzinfo=None), n_new=n_new, n_updated=n_updated,
        n_unchanged=n_unchanged,
    ))
    connection.execute(text("DROP TABLE IF EXISTS _caselink_staging"))
    connection.execute(text("DROP TABLE IF EXISTS _caselink_staging_entities"))
    return IngestResult(import_id, seq, n_new, n_updated, n_unchanged, warnings)


def _archive_and_update(connection: Connection, import_id: int, now: datetime) -> int:
    """Copy each changed case's current version to ``case_versions``, then overwrite it."""
    cases = CaseRow.__table__
    changed = connection.execute(
        select(cases).where(text(
            "EXISTS (SELECT 1 FROM _caselink_staging s WHERE s.case_id = cases.case_id "
            "AND s.record_hash <> cases.record_hash)"
        ))
    ).mappings().all()
    if not changed:
        return 0
    connection.execute(CaseVersionRow.__table__.insert(), [
        {"case_id": row["case_id"], "version": row["version"], "record": _jsonable(row),
         "record_hash": row["record_hash"], "superseded_at": now, "superseded_by_import": import_id}
        for row in changed
    ])
    assignments = ", ".join(f"{c} = s.{c}" for c in CASE_COLUMNS if c != "case_id")
    connection.execute(text(
        f"UPDATE cases SET {assignments}, version = cases.version + 1, "  # noqa: S608 - fixed names
        "import_id = :imp, updated_at = :now FROM _caselink_staging s "
        "WHERE s.case_id = cases.case_id AND s.record_hash <> cases.record_hash"
    ), {"imp": import_id, "now": now})
    return len(changed)


def _jsonable(row: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}

