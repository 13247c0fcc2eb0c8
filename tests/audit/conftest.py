"""Helpers for the audit tests: a store with a few logged events, and raw SQL as an attacker uses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

CASES_CSV = (
    "case_id,found_at,lat,lon,classification,mo,entities,narrative,victim_ethnicity\n"
    "a1,2014-06-19T08:00,51.539,0.081,unexpected_not_suspicious,note_found,person:john doe,found by a friend,"
    "white british\n"
    "a2,2014-08-28T08:00,51.540,0.082,unexpected_under_investigation,,person:john doe,,\n"
    "a3,2014-09-20T08:00,51.541,0.083,homicide,,phone:07700900123,,\n"
)


def write_cases(folder: Path, body: str = CASES_CSV, name: str = "cases.csv") -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def audited_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A store (SQLite or PostgreSQL) holding three cases and eleven audit entries, built once per module.

    Tests attack it inside a transaction that :func:`audited_store` rolls back, so each starts clean.
    """
    import uuid

    from caselink.audit import record_event
    from caselink.io import open_source
    from caselink.store import CaseStore

    folder = tmp_path_factory.mktemp("audited")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'audited.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database("a_" + uuid.uuid4().hex[:12])
    store = CaseStore.open(url)
    store.ingest([open_source(write_cases(folder))], officer="PC Ingest")
    with store.engine.begin() as connection:
        for i in range(10):
            record_event(connection, action="consultation", officer=f"DS {i}", case_ids=["a1"],
                         justification=f"review {i}", details={"n": i})
    yield store
    store.close()


class InTransaction:
    """The store seen through one connection whose changes are rolled back after the test."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def begin(self) -> Connection:
        return self.connection


@pytest.fixture
def audited_store(audited_db: object) -> Iterator[Connection]:
    """One connection in an open transaction on the module's audited store; rolled back afterwards."""
    with audited_db.engine.connect() as connection:  # type: ignore[attr-defined]
        connection.begin()
        yield connection
        connection.rollback()


def attack(connection: Connection, sql: str, **params: object) -> None:
    """Edit the database directly, bypassing caselink, as an attacker with database access would."""
    connection.execute(text(sql), params)


def verify_store(connection: Connection, checkpoint: dict | None = None, public_key: bytes | None = None):
    from caselink.audit import verify

    return verify(connection, checkpoint, public_key)
