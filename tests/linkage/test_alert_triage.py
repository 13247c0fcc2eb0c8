"""Alert triage from the CLI (and the same rules on the web), on SQLite and PostgreSQL.

The alerts come from ingesting the four Barking deaths, as an analyst would get them.  Every
refusal is one line on stderr with exit 2 and leaves the alerts, the policy files and the audit log
exactly as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

OLD_KEYS = {"id", "at", "kind", "new_case_id", "series_id", "case_ids", "probability", "reasons", "raised_at"}


@pytest.fixture(autouse=True)
def starting_values_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the hand-set starting values (as test_commands does) so the alerts do not move with a refit."""
    from caselink.linkage.comparisons import base_settings
    from caselink.linkage.model import LinkageModel

    path = tmp_path / "starting-values.json"
    LinkageModel(name="starting-values", splink_settings=base_settings()).save(path)
    monkeypatch.setenv("CASELINK_MODEL", str(path))
    monkeypatch.delenv("CASELINK_USER", raising=False)


@pytest.fixture
def alerts_db(cli: Any, any_db_url: str, port_series_csv: Path) -> str:
    result = cli("ingest", str(port_series_csv), "--db", any_db_url, "--officer", "DC Ingest", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["alerts"]) >= 2
    return any_db_url


def _json(cli: Any, *args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _alerts(cli: Any, db: str, status: str = "all") -> list[dict[str, Any]]:
    return list(_json(cli, "alerts", "--db", db, "--status", status, "--officer", "DC Reader")["alerts"])


def _audit(cli: Any, db: str) -> list[dict[str, Any]]:
    return list(_json(cli, "audit", "log", "--db", db, "--limit", "100000")["entries"])


def _refused(result: Any, *words: str) -> str:
    """A refusal: exit 2, nothing on stdout, one line on stderr naming ``words``."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("caselink: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return str(lines[0])


def test_listing_keeps_its_contract_and_is_logged(cli: Any, alerts_db: str) -> None:
    listed = _json(cli, "alerts", "--db", alerts_db, "--officer", "DC Reader")["alerts"]
    assert len(listed) >= 2 and all(OLD_KEYS <= set(a) for a in listed)
    assert all(a["status"] == "open" and a["assigned_to"] is None for a in listed)
    assert [(a["at"], a["id"]) for a in listed] == sorted((a["at"], a["id"]) for a in listed)  # oldest first
    entry = _audit(cli, alerts_db)[-1]
    assert entry["action"] == "consultation" and entry["officer"] == "DC Reader"
    assert entry["justification"] == "alerts list"
    assert entry["case_ids"] == sorted({c for a in listed for c in a["case_ids"]})
    assert entry["details"] == {"channel": "cli", "view": "alerts", "status": "open", "n_alerts": len(listed)}
    text = cli("alerts", "--db", alerts_db, "--officer", "DC Reader")
    assert text.exit_code == 0
    heads = [line for line in text.stdout.splitlines() if "ALERT" in line]
    assert heads[0].startswith(f"{listed[0]['at']}  ALERT {listed[0]['series_id']} (new series): ")
    assert heads[0].endswith(f"(alert {listed[0]['id']})")


def test_walk_through_the_states(cli: Any, alerts_db: str) -> None:
    first, second = _alerts(cli, alerts_db)[:2]
    db, officer = ("--db", alerts_db), ("--officer", "DS Jones")
    before = len(_audit(cli, alerts_db))

    acked = _json(cli, "alerts", "acknowledge", str(first["id"]), *db, *officer)
    assert acked["status"] == "acknowledged" and OLD_KEYS <= set(acked)
    assigned = _json(cli, "alerts", "assign", str(first["id"]), "--to", "  DS Patel ", *db, *officer)
    assert (assigned["status"], assigned["assigned_to"]) == ("assigned", "DS Patel")
    moved = cli("alerts", "assign", str(first["id"]), "--to", "DC Lee", *db, *officer)
    assert moved.exit_code == 0 and moved.stdout.strip().endswith("assigned to DC Lee by DS Jones")
    dismissed = _json(cli, "alerts", "dismiss", str(second["id"]), "--reason", "  overdose, no third party ",
                      *db, *officer)
    assert dismissed["status"] == "dismissed" and isinstance(dismissed["decision_id"], int)

    by_status = {s: [a["id"] for a in _alerts(cli, alerts_db, s)] for s in ("open", "assigned", "dismissed")}
    assert first["id"] in by_status["assigned"] and by_status["dismissed"] == [second["id"]]
    assert first["id"] not in by_status["open"] and second["id"] not in by_status["open"]
    assert _alerts(cli, alerts_db, "assigned")[0]["assigned_to"] == "DC Lee"

    policy = _json(cli, "decisions", second["new_case_id"], *db)["decisions"]
    [decision] = [d for d in policy if d["id"] == dismissed["decision_id"]]
    assert decision["kind"] == "line_of_enquiry" and decision["officer"] == "DS Jones"
    assert decision["rationale"] == "overdose, no third party"
    assert f"alert {second['id']} dismissed" in decision["value"] and second["series_id"] in decision["value"]
    # A dismissal waits for a supervisor, as a "not suspicious" classification in an open alert does.
    assert decision["status"] == "pending_signoff"

    written = [e for e in _audit(cli, alerts_db)[before:] if e["action"] != "consultation"]
    assert [(e["action"], e["details"].get("status")) for e in written] == [
        ("alteration", "acknowledged"), ("alteration", "assigned"), ("alteration", "assigned"), ("decision", None),
        ("escalation", None)]
    assert written[0]["details"] == {"channel": "cli", "object": "alert", "alert_id": first["id"],
                                     "status": "acknowledged"}
    assert written[2]["details"]["assigned_to"] == "DC Lee"
    assert written[0]["case_ids"] == sorted(first["case_ids"]) and written[0]["officer"] == "DS Jones"
    assert written[3]["case_ids"] == [second["new_case_id"]]
    assert written[3]["details"]["decision_id"] == dismissed["decision_id"]
    assert cli("audit", "verify", *db).exit_code == 0
    raised = _json(cli, "escalations", *db)
    raised = raised["escalations"] if isinstance(raised, dict) else raised
    assert any(e["rule_id"] == "alert_dismissed" and e["subject_id"] == str(decision["id"]) for e in raised)


def test_state_rules_refuse_and_write_nothing(cli: Any, alerts_db: str) -> None:
    first, second = _alerts(cli, alerts_db)[:2]
    db, officer = ("--db", alerts_db), ("--officer", "DS Jones")
    a, b = str(first["id"]), str(second["id"])
    assert cli("alerts", "acknowledge", a, *db, *officer).exit_code == 0
    assert cli("alerts", "dismiss", b, "--reason", "explained by toxicology", *db, *officer).exit_code == 0
    entries, states = len(_audit(cli, alerts_db)), _alerts(cli, alerts_db)
    entries += 1  # the listing just logged its consultation
    decisions = _json(cli, "decisions", second["new_case_id"], *db)["decisions"]
    entries += 1  # reading the policy file is a consultation too

    _refused(cli("alerts", "acknowledge", a, *db, *officer), f"alert {a}", "already acknowledged")
    assert cli("alerts", "assign", a, "--to", "DS Patel", *db, *officer).exit_code == 0
    entries += 1
    _refused(cli("alerts", "assign", a, "--to", "DS Patel", *db, *officer), "already assigned to DS Patel")
    _refused(cli("alerts", "acknowledge", a, *db, *officer), "assigned to DS Patel", "drop the assignment")
    for verb, extra in (("dismiss", ("--reason", "dismissing twice")), ("acknowledge", ()),
                        ("assign", ("--to", "DC Lee"))):
        line = _refused(cli("alerts", verb, b, *extra, *db, *officer), f"alert {b}", "dismissed",
                        second["new_case_id"])
        assert "final" in line
    assert len(_audit(cli, alerts_db)) == entries
    after = {x["id"]: x for x in _alerts(cli, alerts_db)}
    assert after[first["id"]]["status"] == "assigned" and after[first["id"]]["assigned_to"] == "DS Patel"
    assert {x["id"]: x["status"] for x in states if x["id"] != first["id"]} == {
        i: x["status"] for i, x in after.items() if i != first["id"]}
    assert _json(cli, "decisions", second["new_case_id"], *db)["decisions"] == decisions
    assert cli("audit", "verify", *db).exit_code == 0


def test_bad_input_is_one_line_and_writes_nothing(cli: Any, alerts_db: str) -> None:
    alert = _alerts(cli, alerts_db)[0]
    db, officer, a = ("--db", alerts_db), ("--officer", "DS Jones"), str(alert["id"])
    entries = len(_audit(cli, alerts_db))
    for args, words in [
        (("acknowledge", "999999", *officer), ("no alert 999999",)),
        (("dismiss", "0", "--reason", "valid reason", *officer), ("no alert 0",)),
        (("show", "S-0001"), ("'S-0001' is not a number",)),
        (("dismiss", a, *officer), ("--reason",)),
        (("dismiss", a, "--reason", "", *officer), ("reason is empty",)),
        (("dismiss", a, "--reason", "   \t ", *officer), ("reason is empty",)),
        (("dismiss", a, "--reason", " abc ", *officer), ("too short", "5 characters")),
        (("dismiss", a, "--reason", "not \x00 linked", *officer), ("NUL",)),
        (("dismiss", a, "--reason", "x" * 5001, *officer), ("at most 5000",)),
        (("assign", a, *officer), ("--to",)),
        (("assign", a, "--to", " ", *officer), ("officer to assign is empty",)),
        (("assign", a, "--to", "DS \x00 Patel", *officer), ("NUL",)),
        (("acknowledge", a), ("--officer",)),  # an act is never attributed to the login name
        (("acknowledge", a, "--officer", "DS \x00 Jones"), ("NUL",)),
    ]:
        _refused(cli("alerts", *args, *db), *words)
    _refused(cli("alerts", "--status", "closed", *db), "--status", "'closed'")
    assert len(_audit(cli, alerts_db)) == entries
    assert [x["status"] for x in _alerts(cli, alerts_db)] == ["open"] * len(_alerts(cli, alerts_db))
    assert _json(cli, "decisions", alert["new_case_id"], *db)["decisions"] == []


def test_show_names_the_cases_and_is_logged(cli: Any, alerts_db: str) -> None:
    alert = _alerts(cli, alerts_db)[0]
    shown = _json(cli, "alerts", "show", str(alert["id"]), "--db", alerts_db, "--officer", "DS Jones",
                  "--justification", "weekly review")
    assert {k: shown[k] for k in OLD_KEYS} == {k: alert[k] for k in OLD_KEYS} and shown["decision_id"] is None
    assert [c["case_id"] for c in shown["cases"]] == sorted(alert["case_ids"])  # the Barking ids sort by date
    assert set(shown["cases"][0]) == {"case_id", "found_at", "area", "place_type", "cause", "victim_age",
                                      "victim_sex"}
    entry = _audit(cli, alerts_db)[-1]
    assert (entry["action"], entry["officer"], entry["justification"]) == ("consultation", "DS Jones",
                                                                          "weekly review")
    assert entry["case_ids"] == sorted(alert["case_ids"])
    assert entry["details"] == {"channel": "cli", "view": "alert", "alert_id": alert["id"]}
    text = cli("alerts", "show", str(alert["id"]), "--db", alerts_db, "--officer", "DS Jones")
    assert text.exit_code == 0 and f"alert {alert['id']}: open" in text.stdout
    assert all(case_id in text.stdout for case_id in alert["case_ids"])
    assert _audit(cli, alerts_db)[-1]["justification"] == "alert review"


def test_a_stale_read_cannot_move_an_alert(alerts_db: str) -> None:
    """Two triagers read the same open alert; the second one's change is refused (no lost update)."""
    from caselink.linkage import triage
    from caselink.store import CaseStore

    with CaseStore.open(alerts_db) as store, store.engine.begin() as connection:
        alert_id = triage.list_alerts(connection)[0]["id"]
        stale = triage.get_alert(connection, alert_id)
        triage.acknowledge(connection, alert_id, "DS Jones", channel="cli")
        with pytest.raises(triage.TriageError, match="changed by someone else") as raised:
            triage._set_status(connection, stale, "dismissed")
        assert raised.value.kind == "conflict"
        assert triage.get_alert(connection, alert_id)["status"] == "acknowledged"


def test_web_and_cli_share_the_rules(cli: Any, sqlite_url: str, port_series_csv: Path) -> None:
    """A dismissal made in the terminal is final on the web too (409), and the web's entries are the CLI's."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from caselink.web import WebSettings, auth, create_app

    assert cli("ingest", str(port_series_csv), "--db", sqlite_url).exit_code == 0
    first, second = _alerts(cli, sqlite_url)[:2]
    assert cli("alerts", "dismiss", str(second["id"]), "--reason", "explained by toxicology", "--db", sqlite_url,
               "--officer", "DS Jones").exit_code == 0
    app = create_app(sqlite_url, WebSettings(secure_cookies=False))
    auth.add_user(app.state.engine, "analyst", "analyst", "correct horse battery")
    token = auth.issue_token(app.state.engine, "analyst")[1]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False) as client:
        again = client.post(f"/api/alerts/{second['id']}/dismiss", json={"rationale": "dismissing twice"})
        assert again.status_code == 409 and "already dismissed" in again.json()["detail"]
        assert client.post("/api/alerts/999999/acknowledge").status_code == 404
        acked = client.post(f"/api/alerts/{first['id']}/acknowledge")
        assert acked.status_code == 200 and acked.json() == {"id": first["id"], "status": "acknowledged"}
        assert client.post(f"/api/alerts/{first['id']}/acknowledge").status_code == 409
    web_entry = [e for e in _audit(cli, sqlite_url) if e["action"] == "alteration"][-1]
    assert web_entry["details"] == {"channel": "web", "object": "alert", "alert_id": first["id"],
                                    "status": "acknowledged"}
    assert cli("alerts", "acknowledge", str(first["id"]), "--db", sqlite_url, "--officer", "DS Jones").exit_code == 2
