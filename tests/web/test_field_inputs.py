"""What field users send that the first tests did not: headers in UTF-8, and the like.

Each test pins a defect found by driving the app as a deployer would.
"""

from __future__ import annotations

from typing import Any

from caselink.audit import read_entries


def _justifications(app: Any, case_id: str) -> list[str | None]:
    with app.state.engine.connect() as connection:
        return [e.justification for e in read_entries(connection, case_id=case_id)
                if e.action in ("consultation", "combination")]


def test_a_utf8_justification_is_logged_as_written(app: Any, api: Any) -> None:
    """HTTP headers arrive as bytes; read as Latin-1 (Starlette's default), 'revisión' was logged as
    'revisiÃ³n'.  The justification is the legal record of why a case was read: it must be exact."""
    client = api("analyst")
    why = "revisión — Müller's report"
    header = {"X-Justification": why.encode()}
    assert client.get("/api/cases/BK-01", headers=header).status_code == 200
    assert client.get("/api/cases", headers=header).status_code == 200
    assert client.get("/api/series/S-0001", headers=header).status_code == 200
    assert client.get("/api/scan", params={"permutations": 0, "max_radius_km": 1, "max_days": 100},
                      headers=header).status_code == 200
    logged = _justifications(app, "BK-01")
    assert logged.count(why) == 3, logged
    with app.state.engine.connect() as connection:
        [scan] = [e for e in read_entries(connection, action="combination")]
    assert scan.justification == why


def test_a_latin1_justification_is_kept_not_refused(app: Any, api: Any) -> None:
    """A client that sends Latin-1 bytes (not valid UTF-8) still gets its read, logged as Latin-1."""
    from caselink.web.trail import header_text

    assert header_text(b"revisi\xf3n".decode("latin-1")) == "revisión"  # not UTF-8: as Latin-1 reads it
    assert header_text(b"revisi\xc3\xb3n".decode("latin-1")) == "revisión"
    client = api("analyst")
    assert client.get("/api/cases/BK-01", headers={"X-Justification": "revisión".encode("latin-1")}).status_code == 200
    assert _justifications(app, "BK-01")[-1] == "revisión"


def test_the_alerts_inbox_says_when_there_are_more_than_one_page(app: Any, api: Any) -> None:
    """After a large import an inbox can hold hundreds of open alerts; the page showed the first 100
    and nothing said more existed (the JSON neither), so the rest were never seen."""
    from datetime import datetime

    from caselink.linkage.models import AlertRow

    stamp = datetime(2014, 9, 1, 9, 0)
    with app.state.engine.begin() as connection:
        connection.execute(AlertRow.__table__.insert(), [
            {"raised_at": stamp, "at": f"2014-09-0{i}", "kind": "joined", "new_case_id": "BK-02",
             "series_id": "S-0001", "case_ids": ["BK-01", "BK-02"], "probability": 0.9, "reasons": ["r"],
             "status": "open", "run_id": None, "details": "{}"} for i in (1, 2)])
    client = api("analyst")
    first = client.get("/api/alerts", params={"limit": 2}).json()
    assert len(first["alerts"]) == 2 and first["more"] is True and (first["offset"], first["limit"]) == (0, 2)
    last = client.get("/api/alerts", params={"limit": 2, "offset": 2}).json()
    assert len(last["alerts"]) == 1 and last["more"] is False
    page = client.get("/alerts", params={"limit": 2}, headers={"Accept": "text/html"}).text
    assert 'href="/alerts?status=open&amp;offset=2&amp;limit=2"' in page
    assert "offset=" not in client.get("/alerts", headers={"Accept": "text/html"}).text.split("</h1>", 1)[1]


def test_the_audit_trail_pages_from_the_oldest_entry_and_filters_by_action(app: Any, api: Any) -> None:
    """A case in the inbox gets a consultation each time anyone opens it: in a few days its trail
    holds more than a page.  The page kept the *newest* entries, so the first decisions (what an
    oversight body reads the trail for) silently fell off while the page said 'oldest first'."""
    decided = api("supervisor").post("/api/cases/BK-01/decisions", json={
        "kind": "classification", "value": "homicide", "rationale": "second GHB death nearby"})
    assert decided.status_code == 201, decided.text
    reader = api("analyst")
    for _ in range(4):
        assert reader.get("/api/alerts").status_code == 200
    oversight = api("oversight")
    whole = oversight.get("/api/audit", params={"case_id": "BK-01"}).json()
    first = oversight.get("/api/audit", params={"case_id": "BK-01", "limit": 2}).json()
    assert [e["seq"] for e in first["entries"]] == [e["seq"] for e in whole["entries"][:2]]
    # Each read of the trail is itself logged (a consultation of the case), after it is read.
    assert first["n_entries"] == whole["n_entries"] + 1 and first["more"] is True
    rest = oversight.get("/api/audit", params={"case_id": "BK-01", "limit": 2, "offset": 2}).json()
    assert [e["seq"] for e in rest["entries"]] == [e["seq"] for e in whole["entries"][2:4]]
    decisions = oversight.get("/api/audit", params={"case_id": "BK-01", "action": "decision"}).json()
    assert [e["action"] for e in decisions["entries"]] == ["decision"] and decisions["more"] is False
    assert oversight.get("/api/audit", params={"case_id": "BK-01", "action": "gossip"}).status_code == 422
    page = oversight.get("/audit", params={"case_id": "BK-01", "limit": 2}, headers={"Accept": "text/html"}).text
    assert f"showing 1–2 of {whole['n_entries'] + 4}" in page and "offset=2" in page  # 4 reads since
    past = oversight.get("/audit", params={"case_id": "BK-01", "offset": 10_000},
                         headers={"Accept": "text/html"}).text
    assert "none on this page" in past and "showing 10001" not in past


def test_the_audit_trail_action_filter_lists_every_audit_action() -> None:
    from typing import get_args

    from caselink.audit import ACTIONS
    from caselink.web.views.audit import AuditAction

    assert set(get_args(AuditAction)) == set(ACTIONS)
