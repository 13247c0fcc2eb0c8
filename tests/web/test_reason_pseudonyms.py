"""Linkage reasons shown to oversight do not leak victim tags (or other sensitive fields).

Series and alert reasons are sentences like "victims all gay bisexual men": for a role that sees
victim tags pseudonymised, those lines carry the same pseudonyms as the case record instead.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from caselink.linkage.models import AlertRow, SeriesRow
from caselink.web import auth
from caselink.web.pseudonym import WITHHELD, pseudonym, pseudonymise_reasons

WHY = {"X-Justification": "oversight review of linkage reasons"}
REASONS = ["2 deaths within 0.4 km over 70 days", "GHB in all 2 (1.2% of deaths in this store)",
           "all men aged 22–23", "victims all gay bisexual men"]


def _tag_reasons(app: Any) -> None:
    with app.state.engine.begin() as connection:
        connection.execute(SeriesRow.__table__.update().values(reasons=REASONS))
        connection.execute(AlertRow.__table__.update().values(reasons=REASONS))


def _leaks(text: str) -> bool:
    return "gay" in text.lower() or "bisexual" in text.lower()


def test_oversight_reasons_carry_the_case_pages_pseudonyms(app: Any, api: Any) -> None:
    _tag_reasons(app)
    oversight = api("oversight")
    record = oversight.get("/api/cases/BK-01", headers=WHY).json()
    (tag,) = record["case"]["victim_tags"]
    expected = [*REASONS[:3], f"victims all {tag}"]
    alerts = oversight.get("/api/alerts")
    series = oversight.get("/api/series/S-0001")
    assert alerts.json()["alerts"][0]["reasons"] == expected
    assert series.json()["series"]["reasons"] == expected
    assert record["alerts"][0]["reasons"] == expected
    for response in (alerts, series, oversight.get("/api/cases/BK-02", headers=WHY)):
        assert response.status_code == 200 and not _leaks(response.text)
    for page in ("/alerts", "/series/S-0001"):
        html = oversight.get(page, headers={"Accept": "text/html"})
        assert html.status_code == 200 and not _leaks(html.text) and tag in html.text


def test_other_roles_read_reasons_in_clear(app: Any, api: Any) -> None:
    _tag_reasons(app)
    for role in ("analyst", "supervisor"):
        assert api(role).get("/api/alerts").json()["alerts"][0]["reasons"] == REASONS
        assert "victims all gay bisexual men" in api(role).get("/series/S-0001", headers={"Accept": "text/html"}).text


def test_oversight_in_clear_when_configured(app_factory: Any) -> None:
    app = app_factory(pseudonymise_oversight=False)
    _tag_reasons(app)
    token = auth.issue_token(app.state.engine, "oversight")[1]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/series/S-0001").json()["series"]["reasons"] == REASONS


def test_reason_lines_from_sensitive_fields_are_pseudonymised_or_withheld() -> None:
    key = "k" * 64
    lines = ["victims all homeless, sex worker", "homeless in 2 of 3", "same ethnicity in all 3",
             "narratives very similar", "found propped sitting in 2 of 3", "all found at a residence",
             "3 deaths within 1.0 km over 12 days"]
    out = pseudonymise_reasons(lines, key)
    assert out[0] == f"victims all {pseudonym(key, 'victim_tags', 'homeless')}, " \
                     f"{pseudonym(key, 'victim_tags', 'sex_worker')}"
    assert out[1:4] == [WITHHELD] * 3
    assert out[4:] == lines[4:]
    assert pseudonymise_reasons(lines, "another key")[0] != out[0]  # keyed: unguessable without the key


def test_oversight_sees_entity_values_pseudonymised(app: Any, api: Any, tmp_path: Any) -> None:
    """A finder's name or a phone number is personal data about someone else: oversight sees only
    its kind and a keyed pseudonym, the same in the record and in the reasons that quote it."""
    from caselink.io import open_source
    from tests.web.conftest import CASES, write_cases

    rows = [{**CASES[0], "entities": "person:Stephen Port;phone:07700900123"},
            {**CASES[1], "entities": "phone:07700900123"}]
    app.state.store.ingest([open_source(write_cases(tmp_path / "entities.csv", rows))])
    line = "the same phone in 2 (phone:07700900123)"
    with app.state.engine.begin() as connection:
        connection.execute(SeriesRow.__table__.update().values(reasons=[*REASONS[:3], line]))
        connection.execute(AlertRow.__table__.update().values(reasons=[*REASONS[:3], line]))
    oversight = api("oversight")
    record = oversight.get("/api/cases/BK-01", headers=WHY).json()
    person, phone = record["case"]["entities"]
    assert person.startswith("person:") and phone.startswith("phone:") and "entities" in record["case"]["pseudonymised"]
    assert oversight.get("/api/cases/BK-02", headers=WHY).json()["case"]["entities"] == [phone]
    assert oversight.get("/api/alerts").json()["alerts"][0]["reasons"][-1] == f"the same phone in 2 ({phone})"
    responses = [oversight.get("/api/cases/BK-01", headers=WHY), oversight.get("/api/alerts"),
                 oversight.get("/api/series/S-0001"), oversight.get("/alerts", headers={"Accept": "text/html"}),
                 oversight.get("/series/S-0001", headers={"Accept": "text/html"})]
    for response in responses:
        assert response.status_code == 200
        assert "07700900123" not in response.text and "stephen port" not in response.text.lower()
    analyst = api("analyst").get("/api/cases/BK-01", headers=WHY).json()
    assert analyst["case"]["entities"] == ["person:stephen port", "phone:07700900123"]
    assert analyst["alerts"][0]["reasons"][-1] == line


def test_erased_reasons_stay_erased_for_oversight() -> None:
    """After an erasure the reasons say "[erased]"; a pseudonym of that word would pass for a real tag."""
    lines = ["victims all [erased]", "the same phone in 2 ([erased])"]
    assert pseudonymise_reasons(lines, "k" * 64) == lines


def test_the_audit_trail_shows_oversight_no_reversible_hash_of_an_entity_or_an_erased_value(app: Any, api: Any) -> None:
    """Escalations log an entity as its SHA-256 and erasure logs a SHA-256 of each erased value: a UK mobile
    number is found from its hash in minutes, an ethnicity or a tag at once.  Oversight, which sees every
    other sensitive value as a keyed pseudonym, saw these hashes in the audit trail as stored."""
    from caselink.audit import canonical, erase_case, record_event, sha256_text

    phone_hash = sha256_text("phone:07700900123")
    with app.state.engine.begin() as connection:
        record_event(connection, action="escalation", officer="caselink:escalation-rules", case_ids=["BK-01", "BK-02"],
                     details={"rule_id": "shared_person_entity", "subject": "entity", "subject_id": phone_hash,
                              "event": "raised", "level": 0})
        erase_case(connection, "BK-01", "DPO Hart", "retention")
    tag_hash = sha256_text(canonical(["gay_bisexual_men"]))
    seen = api("oversight").get("/api/audit", params={"case_id": "BK-01"}).text
    assert phone_hash not in seen and tag_hash not in seen
    trail = api("oversight").get("/api/audit", params={"case_id": "BK-01"}).json()["entries"]
    escalation = next(e for e in trail
                      if e["action"] == "escalation" and (e["details"] or {}).get("subject") == "entity")
    erasure = next(e for e in trail if e["action"] == "erasure")
    assert escalation["details"]["subject_id"].startswith("entities-")
    assert set(erasure["details"]["erased_fields"]) >= {"victim_tags", "narrative"}
    assert "value_sha256" not in erasure["details"]  # new erasures log no hash of what they erased
    assert phone_hash in api("supervisor").get("/api/audit", params={"case_id": "BK-01"}).text  # not pseudonymised
