"""Schemathesis against the served OpenAPI document: no input may cause a server error.

Bounded (few examples per operation) so it stays a quick test; it runs as a supervisor with a
justification header, so the case, decision and alert operations are really exercised.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from caselink.web import auth  # noqa: E402


def test_no_server_errors(app: Any) -> None:
    # Operations are walked by hand (schemathesis' pytest plugin does not load under pytest 9).
    token = auth.issue_token(app.state.engine, "supervisor")[1]
    headers = {"Authorization": f"Bearer {token}", "X-Justification": "automated API robustness test"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    n_operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        n_operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
    assert n_operations >= 15


def test_openapi_document_lists_the_contract_routes(api: Any) -> None:
    document = api(None).get("/openapi.json").json()
    paths = document["paths"]
    for path, method in (("/api/cases", "get"), ("/api/cases/{case_id}", "get"), ("/api/alerts", "get"),
                         ("/api/series/{series_id}", "get"), ("/api/cases/{case_id}/decisions", "post"),
                         ("/api/audit", "get")):
        assert method in paths[path], f"{method.upper()} {path} missing from the OpenAPI document"
    assert not any(p.startswith(("/cases", "/signin")) for p in paths)  # HTML faces are not API
    body = paths["/api/cases/{case_id}/decisions"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["required"]) == {"kind", "value", "rationale"}
