"""The web app's engines on both engines: what each read and write costs in round trips.

On PostgreSQL the hot pages wait for every round trip on the event loop, so the web app reads in
autocommit (one statement, no BEGIN/ROLLBACK) on a pool of its own without the store's ping, sized
so that worker threads cannot run it dry under the loop.  On SQLite nothing of this applies: the
writer is the store's engine and reads take deferred, read-only transactions.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from caselink.audit import read_entries, verify
from caselink.io import open_source
from caselink.store import CaseStore
from caselink.web import WebSettings, auth, create_app
from caselink.web.db import PG_MAX_OVERFLOW, PG_POOL_SIZE, WORKER_THREADS, dispose, reader, writer

from .conftest import CASES, write_cases


def test_pool_and_transactions_of_the_web_engines(any_db_url: str) -> None:
    with CaseStore.open(any_db_url) as store:
        write, read = writer(store.engine), reader(store.engine)
        try:
            if store.engine.dialect.name == "postgresql":
                assert write is not store.engine and write.url == store.engine.url
                assert write.pool._pre_ping is False  # type: ignore[attr-defined]
                assert store.engine.pool._pre_ping is True  # type: ignore[attr-defined] # the CLI keeps it
                assert PG_POOL_SIZE + PG_MAX_OVERFLOW >= WORKER_THREADS + 1
                assert write.pool.size() == PG_POOL_SIZE  # type: ignore[attr-defined]
                assert read.pool is write.pool
                with read.connect() as connection:
                    connection.execute(text("SELECT 1")).all()
                    # autocommit: the statement ran outside any transaction, none is left to roll back
                    assert connection.connection.driver_connection.info.transaction_status.name == "IDLE"
                with write.connect() as connection:
                    assert connection.get_isolation_level() == "READ COMMITTED"
            else:
                assert write is store.engine
                assert read is not store.engine
        finally:
            dispose(store.engine)


def test_a_case_read_through_the_app_is_logged_once_on_both_engines(any_db_url: str, tmp_path: Any) -> None:
    with CaseStore.open(any_db_url) as store:
        store.ingest([open_source(write_cases(tmp_path / "cases.csv", CASES))])
        auth.add_user(store.engine, "ana", "analyst", None)
        token = auth.issue_token(store.engine, "ana")[1]
    app = create_app(any_db_url, WebSettings(secure_cookies=False))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(3):
            answer = client.get("/api/cases/BK-01", headers={"X-Justification": "checking the record"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["case"]["case_id"] == "BK-01"
        assert client.get("/api/cases/NOPE", headers={"X-Justification": "checking"}).status_code == 404
        with app.state.reader.connect() as connection:  # the reader sees the appends at once
            reads = [e for e in read_entries(connection, case_id="BK-01") if e.action == "consultation"]
            assert [e.officer for e in reads] == ["ana"] * 3
        with app.state.engine.connect() as connection:  # verify streams (a server-side cursor on PostgreSQL)
            assert verify(connection).ok


def test_sign_in_checks_the_password_without_holding_the_writer_lock(any_db_url: str, monkeypatch: Any) -> None:
    """argon2 takes ~0.25 s on purpose; under the writer lock it stalled every audit append (every hot
    page) of the process for that long.  The lockout still counts: checked with a wrong password."""
    import threading

    from caselink.web import db

    with CaseStore.open(any_db_url) as store:
        engine = writer(store.engine)
        auth.add_user(engine, "ana", "analyst", "correct horse battery")
        lock_free_while_hashing: list[bool] = []
        real_verify = auth._verify

        def verify_and_look(password_hash: str, password: str) -> bool:
            outcome: list[bool] = []

            def try_lock() -> None:  # from another thread: the RLock is re-entrant for its owner
                lock = db._writer_lock(engine)
                outcome.append(lock.acquire(blocking=False))
                if outcome[0]:
                    lock.release()

            probe = threading.Thread(target=try_lock)
            probe.start()
            probe.join()
            lock_free_while_hashing.append(outcome[0])
            return real_verify(password_hash, password)

        monkeypatch.setattr(auth, "_verify", verify_and_look)
        try:
            assert auth.sign_in(engine, "ana", "correct horse battery").principal.role == "analyst"
            for _ in range(2):
                try:
                    auth.sign_in(engine, "ana", "wrong password!!", lockout_failures=2)
                except auth.AuthError as refused:
                    last_refusal = str(refused)
            assert "locked" in last_refusal
            assert lock_free_while_hashing == [True, True, True]
        finally:
            dispose(store.engine)


def test_lists_give_local_times_and_filter_london_days_on_both_engines(any_db_url: str, tmp_path: Any) -> None:
    """found_at in lists keeps the record's offset, and from/to are London days, on either engine."""
    night = [{**CASES[0], "case_id": "NT/01", "found_at": "2014-06-20T00:30:00+01:00"},
             {**CASES[2], "case_id": "DT-02", "found_at": "2014-06-20"}]
    with CaseStore.open(any_db_url) as store:
        store.ingest([open_source(write_cases(tmp_path / "night.csv", night))])
        auth.add_user(store.engine, "ana", "analyst", None)
        token = auth.issue_token(store.engine, "ana")[1]
    app = create_app(any_db_url, WebSettings(secure_cookies=False))
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            listed = client.get("/api/cases", params={"from": "2014-06-20", "to": "2014-06-21"}).json()["cases"]
            assert {c["case_id"]: c["found_at"] for c in listed} == {
                "NT/01": "2014-06-20T00:30:00+01:00", "DT-02": "2014-06-20"}
            assert client.get("/api/cases/NT%2F01", headers={"X-Justification": "night case"}).status_code == 200
    finally:
        dispose(app.state.store.engine)
