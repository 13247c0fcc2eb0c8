"""Every route × every role (and no sign-in) answers exactly as the permission matrix says.

Fails on any route that did not declare a permission, and on any answer that differs from
``ROLE_ACTIONS``: 401 (API) or a redirect to sign-in (pages) without credentials, 403 for a role
without the permission, and neither (nor a server error) for a role with it.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from caselink.assurance import list_actions
from caselink.web.permissions import ACTIONS, PUBLIC, ROLES, role_may

BODIES = {
    "/admin/users": {"name": "matrixuser", "role": "analyst"},
    "/admin/users/{name}/role": {"role": "analyst"},
    "/admin/users/{name}/tokens": {},
    "/cases/{case_id}/decisions": {"kind": "line_of_enquiry", "value": "matrix", "rationale": "matrix walk"},
    "/cases/{case_id}/actions/{action_id}/transition": {"to_state": "allocated"},
    "/alerts/{alert_id}/dismiss": {"rationale": "matrix walk dismissal"},
    "/alerts/{alert_id}/assign": {"officer": "investigator"},
    "/cases/{case_id}/justify": {"justification": "matrix walk"},
}
QUERIES = {"/audit": {"case_id": "BK-02"}, "/scan": {"run": "1", "permutations": "9", "seed": "1"},
           "/series/{series_id}/explain": {"case_a": "BK-01", "case_b": "BK-02"}}


def test_every_route_declares_a_permission(app: Any) -> None:
    declared = {(spec.method, spec.path) for spec in app.state.route_specs}
    assert all(spec.permission in ACTIONS for spec in app.state.route_specs)
    undeclared = []
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path in ("/static", "/assets"), f"unexpected mount {route.path}"
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and (method, route.path) not in declared:
                undeclared.append(f"{method} {route.path}")
    assert undeclared == [], f"routes without a declared permission: {undeclared}"
    assert any(isinstance(r, APIRoute) for r in app.routes)


def _path(template: str, values: dict[str, str]) -> str:
    template = template.replace(":path}", "}")  # case ids may hold slashes: {case_id:path}
    return template.format(**{k: values[k] for k in ("case_id", "series_id", "alert_id", "action_id",
                                                     "decision_id", "name") if "{" + k + "}" in template})


@pytest.mark.parametrize("role", [None, *ROLES])
def test_route_role_matrix(app: Any, tokens: dict[str, str], role: str | None) -> None:
    with app.state.engine.connect() as connection:
        action_id = next(a["id"] for a in list_actions(connection, case_id="BK-02") if a["owner"] == "investigator")
    values = {"case_id": "BK-02", "series_id": "S-0001", "alert_id": "1", "action_id": str(action_id),
              "decision_id": "1", "name": "analyst"}
    headers = {"X-Justification": "matrix walk"}
    if role:
        headers["Authorization"] = f"Bearer {tokens[role]}"
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False, headers=headers,
                        base_url="http://localhost")  # plain-http cookies: allowed on localhost only
    mismatches = []
    for spec in app.state.route_specs:
        bare = (spec.path.removeprefix("/api") if spec.api else spec.path).replace(":path}", "}")
        url = _path(spec.path, values)
        extra = {"headers": {"Accept": "application/json" if spec.api else "text/html"},
                 "params": QUERIES.get(bare)}
        if spec.method == "POST":
            response = client.post(url, json=BODIES.get(bare, {}), **extra)
        else:
            response = client.get(url, **extra)
        status = response.status_code
        if role is None and spec.permission != PUBLIC:
            expected_ok = status == 401 if spec.api else (status == 303 and "/signin" in response.headers["location"])
        elif not role_may(role, spec.permission):
            expected_ok = status == 403
        else:
            expected_ok = status not in (401, 403) and status < 500
        if not expected_ok:
            mismatches.append(f"{spec.method} {url} as {role}: {status} {response.text[:120]}")
    assert mismatches == []


def test_matrix_is_the_documented_one() -> None:
    """The few rules the issue fixes, checked against the data (not just the code paths)."""
    assert [r for r in ROLES if role_may(r, "user.manage")] == ["admin"]
    assert not any(role_may("admin", a) for a in ("case.read", "case.search", "alert.read", "audit.read"))
    writes = [a for a in ACTIONS if a.rpartition(".")[2] in ("record", "transition", "signoff", "triage", "assign")]
    assert not any(role_may("oversight", a) for a in writes)
    assert role_may("oversight", "audit.read") and role_may("supervisor", "audit.read")
    assert not role_may("analyst", "audit.read") and not role_may("investigator", "audit.read")
    assert all(role_may(r, "case.read") for r in ("analyst", "investigator", "supervisor", "oversight"))


def test_descriptions_of_allocation_scoped_actions_say_what_the_check_does() -> None:
    """/api/me and the Users page show these words: the check is per case (an action on it is
    allocated to the investigator), not per action, so the description must not say otherwise."""
    from caselink.web.permissions import ALLOCATION_SCOPED

    for action in ALLOCATION_SCOPED:
        assert "cases allocated to them" in ACTIONS[action] and "own actions" not in ACTIONS[action]
