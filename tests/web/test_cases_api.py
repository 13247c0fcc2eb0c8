"""The API contract for cases, alerts, series, decisions and audit; reads are logged with justification."""

from __future__ import annotations

from typing import Any

from caselink.assurance import list_actions
from caselink.audit import read_entries
from caselink.schema import SENSITIVE_FIELDS
from tests.web.conftest import browser_signin, csrf_of

WHY = {"X-Justification": "reviewing series S-0001"}


def consultations(app: Any, case_id: str) -> list[Any]:
    with app.state.engine.connect() as connection:
        return [e for e in read_entries(connection, case_id=case_id, action="consultation")]


def test_unauthenticated_is_401_problem_json(api: Any) -> None:
    response = api(None).get("/api/cases/BK-01", headers=WHY)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401 and "Traceback" not in response.text


def test_case_read_needs_justification_and_is_logged(app: Any, api: Any) -> None:
    client = api("analyst")
    missing = client.get("/api/cases/BK-01")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "X-Justification"
    assert consultations(app, "BK-01") == []
    response = client.get("/api/cases/BK-01", headers=WHY)
    assert response.status_code == 200
    body = response.json()
    assert body["case"]["case_id"] == "BK-01" and body["case"]["victim_tags"] == ["gay_bisexual_men"]
    [entry] = consultations(app, "BK-01")
    assert entry.officer == "analyst" and entry.justification == WHY["X-Justification"]


def test_unknown_case_is_404_and_not_logged(app: Any, api: Any) -> None:
    response = api("analyst").get("/api/cases/NOPE", headers=WHY)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert consultations(app, "NOPE") == []
    assert api("analyst").get("/api/cases/a%00b", headers=WHY).status_code == 400
    assert api("supervisor").post(f"/api/decisions/{2**40}/signoff").status_code == 422


def test_oversight_sees_pseudonyms_unless_configured(app_factory: Any, api: Any) -> None:
    record = api("oversight").get("/api/cases/BK-01", headers=WHY).json()["case"]
    assert record["victim_tags"] != ["gay_bisexual_men"] and record["victim_tags"][0].startswith("tags-")
    assert record["narrative"] != "Found outside a block of flats." and record["victim_ethnicity"] != "White"
    assert set(record["pseudonymised"]) == set(SENSITIVE_FIELDS)
    other = api("oversight").get("/api/cases/BK-02", headers=WHY).json()["case"]
    assert other["victim_tags"] == record["victim_tags"]  # equal values, equal pseudonyms


def test_oversight_in_clear_when_configured(app_factory: Any) -> None:
    from fastapi.testclient import TestClient

    from caselink.web import auth

    app = app_factory(pseudonymise_oversight=False)
    token = auth.issue_token(app.state.engine, "oversight")[1]
    client = TestClient(app, headers={"Authorization": f"Bearer {token}", **WHY})
    assert client.get("/api/cases/BK-01").json()["case"]["victim_tags"] == ["gay_bisexual_men"]


def test_case_search_filters_and_rejects_bad_dates(api: Any) -> None:
    client = api("analyst")
    found = client.get("/api/cases", params={"cause": "drug toxicity", "from": "2014-07-01"}).json()
    assert [c["case_id"] for c in found["cases"]] == ["BK-02"] and found["n_matching"] == 1
    assert "narrative" not in found["cases"][0]
    bad = client.get("/api/cases", params={"from": "last tuesday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"


def test_search_form_with_empty_fields_is_not_refused(api: Any) -> None:
    """A browser submits the empty boxes too; on pages an empty field means "not set" (the API stays strict)."""
    query = "cause=drug+toxicity&substance=&place_type=&sex=&min_age=&max_age=&from=&to=&agency="
    page = api("analyst").get("/cases?" + query, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "BK-01" in page.text and "XX-03" not in page.text
    assert api("analyst").get("/api/cases?min_age=").status_code == 422


def test_alerts_and_series(api: Any) -> None:
    client = api("analyst")
    [alert] = client.get("/api/alerts").json()["alerts"]
    assert alert["series_id"] == "S-0001" and alert["reasons"] == ["all 2 within 0.4 km", "ghb in 2 of 2"]
    series = client.get("/api/series/S-0001").json()
    assert [c["case_id"] for c in series["cases"]] == ["BK-01", "BK-02"]
    assert series["links"][0]["case_a"] == "BK-01"
    assert client.get("/api/series/S-9999").status_code == 404


def test_decision_needs_rationale_and_writes_nothing_when_refused(app: Any, api: Any) -> None:
    client = api("supervisor")
    refused = client.post("/api/cases/BK-01/decisions", json={"kind": "classification",
                                                                "value": "homicide", "rationale": "  "})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "rationale"
    bad_kind = client.post("/api/cases/BK-01/decisions", json={"kind": "whim", "value": "x", "rationale": "why"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.json()["detail"]
    decisions = client.get("/api/cases/BK-01", headers=WHY).json()["decisions"]
    assert decisions == []
    made = client.post("/api/cases/BK-01/decisions", json={
        "kind": "classification", "value": "homicide", "rationale": "linked to BK-02 by GHB and location",
        "alternatives": ["unexpected_not_suspicious"]})
    assert made.status_code == 201
    [decision] = client.get("/api/cases/BK-01", headers=WHY).json()["decisions"]
    assert decision["officer"] == "supervisor" and decision["value"] == "homicide"
    assert client.post("/api/cases/NOPE/decisions", json={"kind": "closure", "value": "x",
                                                           "rationale": "y"}).status_code == 404


def test_investigator_writes_only_on_allocated_cases(api: Any) -> None:
    body = {"kind": "line_of_enquiry", "value": "trace the phone", "rationale": "phone missing at scene"}
    client = api("investigator")
    assert client.post("/api/cases/BK-01/decisions", json=body).status_code == 403
    assert client.post("/api/cases/BK-02/decisions", json=body).status_code == 201


def test_dismissing_an_alert_is_a_decision(api: Any) -> None:
    client = api("supervisor")
    assert client.post("/api/alerts/1/dismiss", json={"rationale": ""}).status_code == 422
    response = client.post("/api/alerts/1/dismiss", json={"rationale": "BK-02 death explained by toxicology"})
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    [decision] = client.get("/api/cases/BK-02", headers=WHY).json()["decisions"]
    assert decision["kind"] == "line_of_enquiry" and "dismissed" in decision["value"]
    assert client.get("/api/alerts").json()["alerts"] == []
    assert client.post("/api/alerts/99/dismiss", json={"rationale": "no such alert"}).status_code == 404


def test_audit_trail_of_a_case(api: Any) -> None:
    api("analyst").get("/api/cases/BK-01", headers=WHY)
    trail = api("oversight").get("/api/audit", params={"case_id": "BK-01"}).json()
    assert any(e["action"] == "consultation" and e["officer"] == "analyst" for e in trail["entries"])
    assert api("analyst").get("/api/audit", params={"case_id": "BK-01"}).status_code == 403
    assert api("oversight").get("/api/audit", params={"case_id": "NOPE"}).status_code == 404


def test_browser_asks_for_justification_once_per_case(app: Any) -> None:
    client = browser_signin(app, "analyst")
    first = client.get("/cases/BK-01")
    assert first.status_code == 200 and 'name="justification"' in first.text
    csrf = csrf_of(client, "/cases/BK-01")
    short = client.post("/cases/BK-01/justify", data={"justification": "x", "csrf_token": csrf})
    assert short.status_code == 422 and "at least 5 characters" in short.text
    given = client.post("/cases/BK-01/justify", data={"justification": "alert review", "csrf_token": csrf})
    assert given.status_code == 303
    page = client.get("/cases/BK-01")
    assert "Found outside a block of flats." in page.text and 'name="justification"' not in page.text
    client.get("/cases/BK-01")
    logged = consultations(app, "BK-01")
    assert len(logged) == 2 and all(e.justification == "alert review" for e in logged)


def test_decision_form_errors_show_beside_the_field(app: Any) -> None:
    client = browser_signin(app, "supervisor")
    csrf = csrf_of(client)
    client.post("/cases/BK-01/justify", data={"justification": "supervision review", "csrf_token": csrf})
    page = client.post("/cases/BK-01/decisions", data={"kind": "classification", "value": "homicide",
                                                       "rationale": "", "csrf_token": csrf})
    assert page.status_code == 422 and 'id="rationale-error"' in page.text


def test_admin_sees_no_case_data(api: Any) -> None:
    client = api("admin")
    assert client.get("/api/cases").status_code == 403
    assert client.get("/api/alerts").status_code == 403
    assert client.get("/api/admin/users").status_code == 200


def test_admin_api_adds_users_and_issues_tokens(api: Any) -> None:
    client = api("admin")
    assert client.post("/api/admin/users", json={"name": "newbie", "role": "wizard"}).status_code == 422
    assert client.post("/api/admin/users", json={"name": "newbie", "role": "analyst"}).status_code == 201
    assert client.post("/api/admin/users", json={"name": "newbie", "role": "analyst"}).status_code == 409
    token = client.post("/api/admin/users/newbie/tokens", json={}).json()["token"]
    from fastapi.testclient import TestClient

    newbie = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    assert newbie.get("/api/me").json() == {**newbie.get("/api/me").json(), "name": "newbie", "role": "analyst"}


def test_nul_characters_in_submitted_text_are_a_422_not_a_database_error(api: Any, app: Any) -> None:
    """PostgreSQL cannot hold NUL in text; forms and JSON bodies refuse it by field on every engine."""
    client = api("supervisor")
    response = client.post("/api/alerts/1/assign", json={"officer": "DS \x00 Patel"})
    assert response.status_code == 422 and "NUL" in response.text
    response = client.post("/api/alerts/1/dismiss", json={"rationale": "explained \x00 by toxicology"})
    assert response.status_code == 422 and "NUL" in response.text
    assert client.get("/api/alerts").json()["alerts"][0]["id"] == 1  # still open, nothing written
    browser = browser_signin(app, "analyst")
    csrf = csrf_of(browser, "/cases/BK-01")
    refused = browser.post("/cases/BK-01/justify", data={"justification": "needed \x00 for review",
                                                          "csrf_token": csrf})
    assert refused.status_code == 422 and "NUL character" in refused.text


def test_decision_form_errors_show_the_case_only_as_a_logged_read(app: Any) -> None:
    """The 422 page re-renders the whole case: that is a read, so it needs the session's
    justification and is logged like the case page itself."""
    client = browser_signin(app, "supervisor")
    csrf = csrf_of(client)
    bad = {"kind": "classification", "value": "homicide", "rationale": "", "csrf_token": csrf}
    unjustified = client.post("/cases/BK-01/decisions", data=bad)
    assert "Found outside a block of flats." not in unjustified.text and 'name="justification"' in unjustified.text
    assert consultations(app, "BK-01") == []
    client.post("/cases/BK-01/justify", data={"justification": "supervision review", "csrf_token": csrf})
    page = client.post("/cases/BK-01/decisions", data=bad)
    assert page.status_code == 422 and "Found outside a block of flats." in page.text
    [entry] = consultations(app, "BK-01")
    assert entry.officer == "supervisor" and entry.justification == "supervision review"


def test_lists_log_the_justification_sent_with_them(app: Any, api: Any) -> None:
    """Search, the alerts inbox and the series page log the view as the purpose, or the
    X-Justification the caller sent (docs/web.md, "Every read is logged")."""
    client = api("analyst")
    why = {"X-Justification": "weekly series review"}
    for path in ("/api/cases", "/api/alerts", "/api/series/S-0001"):
        assert client.get(path, headers=why).status_code == 200
    logged = [e for e in consultations(app, "BK-02") if e.details.get("view") in ("case_search", "alerts", "series")]
    assert sorted(e.details["view"] for e in logged) == ["alerts", "case_search", "series"]
    assert all(e.justification == "weekly series review" for e in logged)
    client.get("/api/alerts")
    assert consultations(app, "BK-02")[-1].justification == "alerts inbox"


def test_summaries_give_found_at_as_the_agency_wrote_it(app: Any, api: Any, tmp_path: Any) -> None:
    """Lists show the time with its offset, as the case record and `caselink cases list` do: a death
    found at 00:30 on a summer night in London is on the 20th, not on the 19th (23:30 UTC)."""
    from caselink.io import open_source
    from tests.web.conftest import CASES, write_cases

    night = {**CASES[2], "case_id": "NT-04", "found_at": "2014-06-20T00:30:00+01:00"}
    app.state.store.ingest([open_source(write_cases(tmp_path / "night.csv", [night]))])
    client = api("analyst")
    record = client.get("/api/cases/NT-04", headers=WHY).json()["case"]
    listed = {c["case_id"]: c for c in client.get("/api/cases").json()["cases"]}
    assert listed["NT-04"]["found_at"] == record["found_at"] == "2014-06-20T00:30:00+01:00"
    assert listed["XX-03"]["found_at"] == "2015-01-03"  # a date alone stays a date
    series = client.get("/api/series/S-0001").json()["cases"]
    assert series[0]["found_at"] == "2014-06-19T07:15:00+01:00"
    page = client.get("/cases", headers={"Accept": "text/html"}).text
    assert "2014-06-20" in page and "2014-06-19</td><td>Kent" not in page


def test_date_filters_are_days_in_london_like_the_dates_of_records(app: Any, api: Any, tmp_path: Any) -> None:
    """A record dated 2014-06-20 (no time) is London midnight, 23:00 UTC the day before: from=2014-06-20
    must include it and to=2014-06-20 exclude it; a time with an offset means that instant."""
    from caselink.io import open_source
    from tests.web.conftest import CASES, write_cases

    dated = {**CASES[2], "case_id": "DT-05", "found_at": "2014-06-20"}
    app.state.store.ingest([open_source(write_cases(tmp_path / "dated.csv", [dated]))])
    client = api("analyst")

    def ids(**params: str) -> set[str]:
        response = client.get("/api/cases", params=params)
        assert response.status_code == 200, response.text
        return {c["case_id"] for c in response.json()["cases"]}

    assert "DT-05" in ids(**{"from": "2014-06-20", "to": "2014-06-21"})
    assert "DT-05" not in ids(to="2014-06-20")
    assert "DT-05" in ids(**{"from": "2014-06-20T00:00:00+01:00"})
    assert "DT-05" not in ids(**{"from": "2014-06-19T23:00:01+00:00"})


def test_case_ids_with_slashes_are_served(app: Any, api: Any, tmp_path: Any) -> None:
    """Force reference numbers often hold slashes ("01/123456/14"); the schema allows any string,
    so the case page, its API twin and the writes on the case must reach such a case."""
    from caselink.io import open_source
    from tests.web.conftest import CASES, write_cases

    slashed = {**CASES[2], "case_id": "01/123456/14"}
    app.state.store.ingest([open_source(write_cases(tmp_path / "slashed.csv", [slashed]))])
    read = api("analyst").get("/api/cases/01%2F123456%2F14", headers=WHY)
    assert read.status_code == 200 and read.json()["case"]["case_id"] == "01/123456/14"
    assert api("analyst").get("/api/cases/01/123456/14", headers=WHY).status_code == 200
    decided = api("supervisor").post("/api/cases/01/123456/14/decisions", json={
        "kind": "line_of_enquiry", "value": "check the finder", "rationale": "same finder as another death"})
    assert decided.status_code == 201 and decided.json()["case_id"] == "01/123456/14"
    client = browser_signin(app, "analyst")
    link = next(part.split('"', 1)[0] for part in client.get("/cases").text.split('href="')[1:]
                if part.startswith("/cases/01"))
    assert 'name="justification"' in client.get(link).text
    assert api("analyst").get("/api/cases/NOPE/justify", headers=WHY).status_code in (404, 405)


def test_refused_writes_are_422_with_the_field_named(api: Any, app: Any) -> None:
    """The API contract: bad input is 422 with ``errors: [{field, message}]``, also when it is the
    assurance rules (not the body's shape) that refuse it."""
    client = api("supervisor")
    bad_value = client.post("/api/cases/BK-01/decisions",
                            json={"kind": "classification", "value": "suicide", "rationale": "found hanged"})
    assert bad_value.status_code == 422
    assert [e["field"] for e in bad_value.json()["errors"]] == ["value"]
    assert "suicide" in bad_value.json()["errors"][0]["message"]
    assert not bad_value.json()["detail"].startswith("value: --value:")  # the field is named once
    bad_kind = client.post("/api/cases/BK-01/decisions", json={"kind": "opinion", "value": "x", "rationale": "y"})
    assert [e["field"] for e in bad_kind.json()["errors"]] == ["kind"]
    with app.state.engine.connect() as connection:
        action_id = list_actions(connection, case_id="BK-01")[0]["id"]
    bad_state = client.post(f"/api/cases/BK-01/actions/{action_id}/transition", json={"to_state": "done"})
    assert bad_state.status_code == 422 and [e["field"] for e in bad_state.json()["errors"]] == ["to_state"]
    illegal = client.post(f"/api/cases/BK-01/actions/{action_id}/transition", json={"to_state": "filed"})
    assert illegal.status_code == 422 and [e["field"] for e in illegal.json()["errors"]] == ["to_state"]


def test_an_owner_sent_by_an_investigator_is_refused_not_dropped(app: Any, api: Any) -> None:
    """Allocating to another officer is a supervisor's act; an investigator's ``owner`` used to be
    ignored, so the action was silently (re)allocated to the investigator instead."""
    with app.state.engine.connect() as connection:
        mine = next(a for a in list_actions(connection, case_id="BK-02") if a["owner"] == "investigator")
    client = api("investigator")
    refused = client.post(f"/api/cases/BK-02/actions/{mine['id']}/transition",
                          json={"to_state": "allocated", "owner": "DC Other"})
    assert refused.status_code == 403 and "supervisor" in refused.json()["detail"]
    with app.state.engine.connect() as connection:
        assert next(a for a in list_actions(connection, case_id="BK-02") if a["id"] == mine["id"])["owner"] \
            == "investigator"
    itself = client.post(f"/api/cases/BK-02/actions/{mine['id']}/transition",
                         json={"to_state": "completed", "owner": "investigator"})
    assert itself.status_code == 200 and itself.json()["owner"] == "investigator"


def test_triage_refusals_name_the_field(api: Any) -> None:
    """A blank officer or reason passes the body's length check but not triage: still the contract's
    422 with ``errors: [{field, message}]``."""
    client = api("supervisor")
    blank_officer = client.post("/api/alerts/1/assign", json={"officer": "   "})
    assert blank_officer.status_code == 422 and [e["field"] for e in blank_officer.json()["errors"]] == ["officer"]
    blank_reason = client.post("/api/alerts/1/dismiss", json={"rationale": "      "})
    assert blank_reason.status_code == 422 and [e["field"] for e in blank_reason.json()["errors"]] == ["rationale"]


def test_search_pages_by_the_configured_page_size(app_factory: Any) -> None:
    """WebSettings.page_size ("rows per page in lists") sets the search's default limit; an explicit
    limit still wins."""
    from fastapi.testclient import TestClient

    from caselink.web import auth

    app = app_factory(page_size=2)
    token = auth.issue_token(app.state.engine, "analyst")[1]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        first = client.get("/api/cases").json()
        assert first["limit"] == 2 and len(first["cases"]) == 2 and first["n_matching"] == 3
        assert len(client.get("/api/cases", params={"limit": 3}).json()["cases"]) == 3


def test_reading_a_cases_audit_trail_is_itself_logged(api: Any) -> None:
    """The trail holds the case's decisions and who read it and why: reading it is a consultation
    (DPA 2018 s.62), as ``caselink audit log --case`` logs it on the CLI."""
    oversight = api("oversight")
    first = oversight.get("/api/audit", params={"case_id": "BK-01"},
                          headers={"X-Justification": "IOPC investigation 2026/0419"}).json()
    again = oversight.get("/api/audit", params={"case_id": "BK-01", "action": "consultation"}).json()
    logged = again["entries"][-1]
    assert logged["officer"] == "oversight" and logged["case_ids"] == ["BK-01"]
    assert logged["justification"] == "IOPC investigation 2026/0419"
    assert logged["details"]["view"] == "audit" and logged["seq"] > first["entries"][-1]["seq"]
    latest = oversight.get("/api/audit", params={"case_id": "BK-01", "action": "consultation"}).json()
    assert latest["entries"][-1]["justification"] == "audit trail"  # the view's purpose when none is sent
