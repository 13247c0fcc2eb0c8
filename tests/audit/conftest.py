"""Helpers for the audit tests: a store with a few logged events, and raw SQL as an attacker uses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

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


@pytest.fixture
def audited_store(any_db_url: str, tmp_path: Path) -> Iterator[object]:
    """A store (SQLite or PostgreSQL) holding three cases and a dozen audit entries."""
    from caselink.audit import record_event
    from caselink.io import open_source
    from caselink.store import CaseStore

    store = CaseStore.open(any_db_url)
    store.ingest([open_source(write_cases(tmp_path))], officer="PC Ingest")
    with store.engine.begin() as connection:
        for i in range(10):
            record_event(connection, action="consultation", officer=f"DS {i}", case_ids=["a1"],
                         justification=f"review {i}", details={"n": i})
    yield store
    store.close()


def attack(store: object, sql: str, **params: object) -> None:
    """Edit the database directly, bypassing caselink, as an attacker with database access would."""
    with store.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text(sql), params)


def verify_store(store: object, checkpoint: dict | None = None, public_key: bytes | None = None):
    from caselink.audit import verify

    with store.engine.connect() as connection:  # type: ignore[attr-defined]
        return verify(connection, checkpoint, public_key)
