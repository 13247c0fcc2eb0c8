"""Open a linkage alert the way the linkage area records one (its ``alerts`` table, issue 3)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, inspect, text


def open_alert(connection: Connection, case_ids: list[str]) -> None:
    if not inspect(connection).has_table("alerts"):
        # The linkage migration is not installed: stand in its minimal shape.
        connection.execute(text("CREATE TABLE alerts (id INTEGER PRIMARY KEY, new_case_id VARCHAR(200), "
                                "case_ids TEXT, status VARCHAR(20))"))
        connection.execute(text("INSERT INTO alerts (new_case_id, case_ids, status) VALUES (:n, :c, 'open')"),
                           {"n": case_ids[-1], "c": json.dumps(case_ids)})
        return
    connection.execute(text(
        "INSERT INTO alerts (raised_at, at, kind, new_case_id, series_id, case_ids, probability, reasons, status) "
        "VALUES (:raised, '2014-08-28', 'new_series', :new, 'S-0001', :ids, 0.97, '[]', 'open')"),
        {"raised": datetime(2014, 8, 28, 9), "new": case_ids[-1], "ids": json.dumps(case_ids)})


def close_alerts(connection: Connection) -> None:
    connection.execute(text("UPDATE alerts SET status = 'closed'"))
