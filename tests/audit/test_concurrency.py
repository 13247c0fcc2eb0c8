"""Concurrent writers queue on the head row: the chain never forks (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading

from caselink.audit import count_entries, record_event, verify
from caselink.store import CaseStore


def test_concurrent_appends_keep_one_chain(any_db_url: str) -> None:
    store = CaseStore.open(any_db_url)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(25):
                with store.engine.begin() as connection:
                    record_event(connection, action="consultation", officer=name, case_ids=["c"],
                                 justification=f"check {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"officer {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with store.engine.connect() as connection:
            assert count_entries(connection) == 100
            result = verify(connection)
            assert result.ok and result.head_seq == 100, result.message
    finally:
        store.close()
