"""The cheap paths of the busiest pages give the same answers as the plain ones (issue 6, item 7).

The case page reads the record and, in the same statement, which kinds of related rows exist, and
then queries only those; reads go through a lock-free reader engine.  These tests pin that neither
shortcut changes what a reader sees.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, select, text

from caselink.assurance import apply_checklists, decide
from caselink.assurance.models import EscalationRow
from caselink.io import open_source
from caselink.linkage.models import AlertRow, SeriesMemberRow, SeriesRow
from caselink.store import CaseStore
from caselink.store.models import CaseRow
from caselink.web import sources
from caselink.web.db import reader, writing

from .conftest import CASES, write_cases

# One id with LIKE wildcards, to check the escalation pre-filter escapes them.
ODD = {**CASES[2], "case_id": "Z_%/1"}


def _fill(store: CaseStore, folder: Path) -> None:
    store.ingest([open_source(write_cases(folder / "cases.csv", [*CASES, ODD]))])
    stamp = datetime(2014, 8, 28, 9, 0)
    with store.engine.begin() as connection:
        connection.execute(SeriesRow.__table__.insert().values(
            series_id="S-0001", status="active", merged_into=None, created_at=stamp, updated_at=stamp, n_cases=2,
            score=0.97, first_found_at="2014-06-19", last_found_at="2014-08-28", reasons=["ghb in 2 of 2"]))
        connection.execute(SeriesMemberRow.__table__.insert(), [
            {"series_id": "S-0001", "case_id": c, "joined_at": stamp} for c in ("BK-01", "BK-02")])
        connection.execute(AlertRow.__table__.insert().values(
            raised_at=stamp, at="2014-08-28", kind="formed", new_case_id="BK-02", series_id="S-0001",
            case_ids=["BK-01", "BK-02"], probability=0.97, reasons=["ghb in 2 of 2"], status="open", run_id=None,
            details="{}"))
        apply_checklists(connection, ["BK-01"])
        decide(connection, "BK-02", "line_of_enquiry", "house to house", "sup", "two deaths, same street")
        connection.execute(EscalationRow.__table__.insert(), [
            {"rule_id": "r", "subject_type": "case", "subject_id": subject, "level": 1, "escalate_to": "supervisor",
             "case_ids": [subject], "message": "m", "raised_at": stamp, "status": "open", "audit_seq": 1}
            for subject in ("XX-03", "Z_%/1")])


def test_presence_flags_give_the_same_case_page_as_reading_everything(any_db_url: str, tmp_path: Path) -> None:
    with CaseStore.open(any_db_url) as store:
        _fill(store, tmp_path)
        with reader(store.engine).connect() as connection:
            pages = {}
            for case_id in ("BK-01", "BK-02", "XX-03", "Z_%/1"):
                present = sources.case_with_presence(connection, case_id)
                assert present is not None and present["case_id"] == case_id
                pages[case_id] = sources.case_related(connection, case_id, present)
                assert pages[case_id] == sources.case_related(connection, case_id)
            assert sources.case_with_presence(connection, "nope") is None
    kinds = {case_id: [k for k in ("actions", "decisions", "escalations", "alerts") if page[k]]
             for case_id, page in pages.items()}
    assert kinds == {"BK-01": ["actions", "alerts"], "BK-02": ["decisions", "alerts"], "XX-03": ["escalations"],
                     "Z_%/1": ["escalations"]}


def test_reader_does_not_wait_for_a_writer_and_cannot_write(sqlite_url: str, tmp_path: Path) -> None:
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(write_cases(tmp_path / "cases.csv", CASES))])
        read = reader(store.engine)
        assert read is not store.engine
        seen: list[Any] = []
        # The writer holds SQLite's write lock (BEGIN IMMEDIATE) while the reader reads in another thread;
        # with the store's engine the read would queue behind it (busy_timeout), here it does not.
        with writing(store.engine) as connection:
            connection.execute(CaseRow.__table__.delete().where(CaseRow.case_id == "XX-03"))

            def read_ids() -> None:
                with read.connect() as reading:
                    seen.append(sorted(reading.execute(select(CaseRow.case_id)).scalars()))

            worker = threading.Thread(target=read_ids)
            worker.start()
            worker.join(timeout=10)
            assert seen == [["BK-01", "BK-02", "XX-03"]]  # the last committed snapshot, at once
        with read.connect() as reading:
            assert "XX-03" not in reading.execute(select(CaseRow.case_id)).scalars().all()
            with pytest.raises(exc.OperationalError, match="readonly|read-only|query_only"):
                reading.execute(text("DELETE FROM cases"))


def test_hot_pages_run_on_the_loop_and_the_rest_in_threads(app: Any) -> None:
    """Only bounded pages may block the event loop; sign-in (argon2) and the Splink explainer must not."""
    import inspect

    on_loop = {route.path for route in app.routes
               if getattr(route, "endpoint", None) and inspect.iscoroutinefunction(route.endpoint)
               and not route.path.startswith(("/openapi", "/static", "/assets"))}
    assert on_loop == {"/alerts", "/api/alerts", "/cases/{case_id:path}", "/api/cases/{case_id:path}",
                       "/series/{series_id}", "/api/series/{series_id}"}
