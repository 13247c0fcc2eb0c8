"""The whole assurance flow on both engines (SQLite and PostgreSQL): tables, JSON and times agree."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from caselink.assurance import (
    AssuranceError,
    apply_checklists,
    decide,
    evaluate_escalations,
    list_actions,
    list_decisions,
    signoff,
    transition_action,
)
from caselink.audit import verify
from tests.assurance.alerts import open_alert
from tests.assurance.conftest import make_store


def test_assurance_flow_on_each_engine(any_db_url: str, tmp_path: Path) -> None:
    store = make_store(any_db_url, tmp_path)
    try:
        with store.engine.begin() as connection:  # type: ignore[attr-defined]
            assert apply_checklists(connection, ["d1", "d2"]) == 31
            first = list_actions(connection, case_id="d1")[0]
            transition_action(connection, first["id"], "allocated", "DS A", owner="DC B")
            open_alert(connection, ["d1", "d2"])
            decision_id = decide(connection, "d1", "classification", "unexpected_not_suspicious", "DS A", "natural")
        with store.engine.begin() as connection:  # type: ignore[attr-defined]
            escalations = evaluate_escalations(connection)
            rules = {e["rule_id"] for e in escalations}
            assert {"step_overdue", "note_not_examined", "not_suspicious_in_open_alert",
                    "shared_person_entity"} <= rules
            assert list_decisions(connection, "d1")[0]["status"] == "pending_signoff"
        for refused in (  # the sign-off cannot be escaped, the live queue cannot be rewound (max() of times)
                lambda c: decide(c, "d1", "closure", "nfa", "DS A", "closing", supersedes=decision_id),
                lambda c: evaluate_escalations(c, now=datetime(2014, 6, 19, 12))):
            with pytest.raises(AssuranceError), store.engine.begin() as connection:  # type: ignore[attr-defined]
                refused(connection)
        with store.engine.begin() as connection:  # type: ignore[attr-defined]
            signoff(connection, decision_id, "DI C")
        with store.engine.connect() as connection:  # type: ignore[attr-defined]
            assert list_decisions(connection, "d1")[0]["status"] == "signed_off"
            result = verify(connection)
            assert result.ok, result.message
    finally:
        store.close()  # type: ignore[attr-defined]
