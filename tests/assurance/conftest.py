"""A store with a few cases for the assurance tests, and a clock fixed relative to them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection

CASES_CSV = (
    "case_id,found_at,lat,lon,incident_type,classification,mo,entities\n"
    "d1,2014-06-19T08:00+00:00,51.539,0.081,death,unexpected_not_suspicious,note_found;body_posed,person:finder one\n"
    "d2,2014-08-28T08:00+00:00,51.540,0.082,death,unexpected_under_investigation,,person:finder one\n"
    "d3,2014-09-20T08:00+00:00,51.541,0.083,death,homicide,,phone:07700900123\n"
    "e1,2014-09-21T08:00+00:00,51.541,0.083,death,expected,,phone:07700900123\n"
    "n1,2014-09-22T08:00+00:00,51.541,0.083,non_fatal,,,\n"
)
#: One hour after the first case was found: only the 2-hour and shorter steps are not yet due.
EARLY = datetime(2014, 6, 19, 9, 0)


def make_store(url: str, folder: Path) -> object:
    from caselink.io import open_source
    from caselink.store import CaseStore

    path = folder / "cases.csv"
    path.write_text(CASES_CSV, encoding="utf-8")
    store = CaseStore.open(url)
    store.ingest([open_source(path)], officer="PC Ingest")
    return store


@pytest.fixture
def assurance_db(sqlite_url: str, tmp_path: Path) -> Iterator[object]:
    store = make_store(sqlite_url, tmp_path)
    yield store
    store.close()  # type: ignore[attr-defined]


@pytest.fixture
def connection(assurance_db: object) -> Iterator[Connection]:
    """A connection in a transaction that commits at the end (like a CLI command)."""
    with assurance_db.engine.begin() as connection:  # type: ignore[attr-defined]
        yield connection
