"""The oversight commands over a store with a real history (SQLite copies; one run on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from caselink.assurance.models import DecisionRow
from caselink.audit.models import AuditEntryRow
from caselink.store import CaseStore
from tests.oversight.conftest import BARKING, build_history

NOW = "2016-01-01T00:00:00"


def _count(url: str, table: Any) -> int:
    with CaseStore.open(url) as store, store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_timeline_orders_every_kind_of_event(history: dict[str, Any], cli: Any) -> None:
    result = cli("oversight", "timeline", BARKING, "--db", history["url"], "--officer", "Inspector Grey",
                 "--now", NOW, "--json")
    assert result.exit_code == 0, result.stderr
    timeline = json.loads(result.stdout)
    kinds = [event["kind"] for event in timeline["events"]]
    for kind in ("found", "ingest", "action_created", "action_transition", "decision", "signoff", "alert",
                 "consultation", "step_missed"):
        assert kind in kinds, kind
    times = [event["at"] for event in timeline["events"]]
    assert times == sorted(times)
    assert kinds[0] == "found"
    consultation = next(e for e in timeline["events"] if e["kind"] == "consultation")
    assert consultation["officer"] == "Inspector Grey"
    assert consultation["details"]["justification"] == "IOPC review of case 2"
    signed = next(e for e in timeline["events"] if e["kind"] == "signoff")
    assert signed["officer"] == "DI Jones" and signed["at"] == "2014-08-28T15:00:00Z"
    historic = [e for e in timeline["events"] if e["kind"] == "decision" and e["officer"] == "DS Smith"]
    assert len(historic) == 2  # the imported one at its historic time, and the live one
    # Looking at the timeline is itself a consultation, logged for the next reader.
    again = json.loads(cli("oversight", "timeline", BARKING, "--db", history["url"], "--json").stdout)
    assert sum(e["kind"] == "consultation" for e in again["events"]) == 2


def test_missed_steps_by_step_team_and_officer(history: dict[str, Any], cli: Any) -> None:
    result = cli("oversight", "missed", "--db", history["url"], "--now", NOW, "--json")
    assert result.exit_code == 0, result.stderr
    missed = json.loads(result.stdout)
    totals = missed["totals"]
    assert totals["n_missed"] == totals["n_not_done"] + totals["n_late"]
    assert sum(row["n_missed"] for row in missed["by_step"]) == totals["n_missed"]
    assert sum(row["n_missed"] for row in missed["by_team"]) == totals["n_missed"]
    assert sum(row["n_missed"] for row in missed["by_officer"]) == totals["n_missed"]
    assert sum(case["n_missed"] for case in missed["cases"]) == totals["n_missed"]
    s01 = next(row for row in missed["by_step"] if row["step_id"] == "S01_CLASSIFY")
    assert s01["n_missed"] == s01["n_due"] - 1  # only the Barking case's S01 was done (in time)
    barking = next(case for case in missed["cases"] if case["case_id"] == BARKING)
    assert "S01_CLASSIFY" not in {step["step_id"] for step in barking["steps"]}
    officers = {row["officer"] for row in missed["by_officer"]}
    assert "unallocated" in officers and "PC Brown" in officers
    teams = history["tmp"] / "teams.csv"
    teams.write_text("officer,team\nPC Brown,Family liaison\n", encoding="utf-8")
    by_team = json.loads(cli("oversight", "missed", "--db", history["url"], "--now", NOW, "--teams", str(teams),
                             "--json").stdout)
    assert "Family liaison" in {row["team"] for row in by_team["by_team"]}


def test_disparity_flags_the_planted_next_of_kin_delay(history: dict[str, Any], cli: Any) -> None:
    result = cli("oversight", "disparity", "--db", history["url"], "--now", NOW, "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["metrics"]
    assert rows and set(rows[0]) >= {"metric", "group", "reference", "n_group", "n_reference", "value_group",
                                     "value_reference", "ratio", "ci", "p_value", "q_value", "adjusted_ratio", "flag"}
    nok = next(r for r in rows if r["metric"] == "hours_to_next_of_kin" and r["group"] == "gay_bisexual_men")
    assert nok["flag"] and nok["ratio"] > 2 and nok["reference"] == "none"
    assert all(r["n_group"] >= 5 for r in rows)
    text = cli("oversight", "disparity", "--db", history["url"], "--now", NOW, "--by", "victim_sex")
    assert text.exit_code == 0 and "Median hours from report to informing the next of kin" in text.stdout


def test_decisions_import_is_all_or_nothing_and_logged(history: dict[str, Any], cli: Any) -> None:
    url = history["url"]
    # The fixture imported the file once: every entry has its own audit entry by the importer.
    with CaseStore.open(url) as store, store.engine.connect() as connection:
        by_importer = connection.execute(select(func.count()).select_from(AuditEntryRow).where(
            AuditEntryRow.officer == "archivist")).scalar_one()
    assert by_importer == history["n_legacy"]
    n_decisions, n_audit = _count(url, DecisionRow), _count(url, AuditEntryRow)
    again = cli("decisions", "import", str(history["legacy"]), "--db", url, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["n_unchanged"] == history["n_legacy"]
    bad = history["tmp"] / "bad.csv"
    lines = history["legacy"].read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("DS Smith", "DS Smith").replace(",classification,", ",classificashun,", 1) \
        if ",classification," in lines[3] else lines[3].replace("completed", "done", 1)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = cli("decisions", "import", str(bad), "--db", url)
    assert refused.exit_code == 2
    assert refused.stderr.startswith(f"caselink: error: {bad}:4: ")
    assert "nothing was imported" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    unknown = history["tmp"] / "unknown.jsonl"
    unknown.write_text(json.dumps({"case_id": "NOPE-1", "kind": "closure", "value": "closed", "officer": "x",
                                   "rationale": "r", "decided_at": "2015-01-01"}) + "\n", encoding="utf-8")
    refused = cli("decisions", "import", str(unknown), "--db", url)
    assert refused.exit_code == 2 and f"{unknown}:1: case_id: no case 'NOPE-1'" in refused.stderr
    assert (_count(url, DecisionRow), _count(url, AuditEntryRow)) == (n_decisions, n_audit)
    # The assurance area's `decisions CASE_ID` still shows the policy file.
    shown = cli("decisions", BARKING, "--db", url, "--json")
    assert shown.exit_code == 0 and len(json.loads(shown.stdout)["decisions"]) >= 2


def test_bad_requests_are_one_line_errors(history: dict[str, Any], cli: Any) -> None:
    url, out = history["url"], history["tmp"] / "empty.html"
    for args in (("oversight", "disparity", "--by", "shoe_size"),
                 ("oversight", "disparity", "--reference", "astronauts"),
                 ("oversight", "disparity", "--from", "2030-01-01"),
                 ("oversight", "missed", "--from", "2030-01-01"),
                 ("oversight", "timeline", "NOPE-1"),
                 ("oversight", "missed", "--from", "yesterday"),
                 ("oversight", "report", "--from", "2030-01-01", "--out", str(out))):
        result = cli(*args, "--db", url)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("caselink: error: ") and len(result.stderr.strip().splitlines()) == 1, args
        assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.postgres
def test_the_same_history_on_postgresql(pg_url: str, tmp_path: Any, cli: Any) -> None:
    history = build_history(pg_url, tmp_path)
    timeline = json.loads(cli("oversight", "timeline", BARKING, "--db", pg_url, "--now", NOW, "--json").stdout)
    assert {"found", "decision", "signoff", "alert", "consultation", "action_transition"} <= \
        {e["kind"] for e in timeline["events"]}
    missed = json.loads(cli("oversight", "missed", "--db", pg_url, "--now", NOW, "--json").stdout)
    assert missed["totals"]["n_missed"] == sum(c["n_missed"] for c in missed["cases"]) > 0
    rows = json.loads(cli("oversight", "disparity", "--db", pg_url, "--now", NOW, "--json").stdout)["metrics"]
    assert any(r["flag"] and r["metric"] == "hours_to_next_of_kin" for r in rows)
    again = cli("decisions", "import", str(history["legacy"]), "--db", pg_url, "--json")
    assert json.loads(again.stdout)["n_unchanged"] == history["n_legacy"]


def test_an_officer_in_two_teams_is_refused_naming_both_lines(tmp_path: Path) -> None:
    """Last-one-wins would silently move an officer's missed steps to another team's row."""
    from caselink.oversight.errors import OversightError
    from caselink.oversight.missed import load_teams

    teams = tmp_path / "teams.csv"
    teams.write_text("officer,team\nDS Field,Barking CID\nPC Brown,Family liaison\nDS Field,Dagenham CID\n",
                     encoding="utf-8")
    with pytest.raises(OversightError) as refused:
        load_teams(teams)
    assert str(refused.value).startswith(f"{teams}:4: ") and "DS Field" in str(refused.value)
    assert "line 2" in str(refused.value)
    teams.write_text("officer,team\nDS Field,Barking CID\nDS Field,Barking CID\n", encoding="utf-8")
    assert load_teams(teams) == {"DS Field": "Barking CID"}  # a repeated identical line is harmless


@contextmanager
def _two_cases_in_an_open_alert(db_url: str, tmp_path: Path, case_ids: tuple[str, str]) -> Iterator[Any]:
    """Two deaths a day apart at one spot, linked by an open alert; yields a connection in a transaction."""
    from caselink.io import open_source
    from tests.assurance.alerts import open_alert

    cases = tmp_path / "cases.csv"
    cases.write_text(f"case_id,found_at,lat,lon\n{case_ids[0]},2014-06-19,51.27,1.08\n"
                     f"{case_ids[1]},2014-06-20,51.27,1.08\n", encoding="utf-8")
    with CaseStore.open(db_url) as store:
        store.ingest([open_source(cases)])
        with store.engine.begin() as connection:
            open_alert(connection, list(case_ids))
            yield connection


def test_timeline_of_a_case_whose_id_holds_a_percent_sign_shows_its_alerts(sqlite_url: str, tmp_path: Path) -> None:
    """The alerts naming a case are found by a LIKE on their JSON list of ids; '%' is part of an id,
    not to be dropped (the timeline of 'KEN%1' showed no alert)."""
    from caselink.oversight.timeline import case_timeline

    with _two_cases_in_an_open_alert(sqlite_url, tmp_path, ("KEN%1", "KEN2")) as connection:
        kinds = [e["kind"] for e in case_timeline(connection, "KEN%1")["events"]]
    assert "alert" in kinds


def test_timeline_says_when_an_entry_was_blanked_by_another_cases_erasure(sqlite_url: str, tmp_path: Path) -> None:
    """Erasing one case blanks the entries naming others too when they hold its personal data (here a
    justification quoting its narrative): the other case's timeline must say so, not show a consultation
    with no justification, which reads as a breach of DPA s.62.  A shared entry holding nothing of the
    erased case's (the import) stays whole."""
    from caselink.audit import erase_case, record_event
    from caselink.io import open_source
    from caselink.oversight.timeline import case_timeline

    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon,narrative\nK1,2014-06-19,51.27,1.08,found by a friend\n"
                     "K2,2014-06-20,51.27,1.08,\n", encoding="utf-8")
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(cases)])
        with store.engine.begin() as connection:
            record_event(connection, action="consultation", officer="DS A", case_ids=["K1", "K2"],
                         justification="series review: both found by a friend", details={"view": "alert"})
            erasure = erase_case(connection, "K1", "DPO", "retention")
            events = case_timeline(connection, "K2")["events"]
    ingest = next(e for e in events if e["kind"] == "ingest")
    consultation = next(e for e in events if e["kind"] == "consultation")
    assert "?" not in ingest["summary"] and "erased" not in ingest["summary"]
    assert f"erased by audit entry {erasure.audit_seq}" in consultation["summary"]


def test_a_historic_record_never_moves_a_live_action_back(sqlite_url: str, tmp_path: Path, cli: Any) -> None:
    """An export from the old system saying a step was 'for_allocation' in 2014 rewound a step completed
    in caselink since: state, owner and completion time gone, a move the state machine forbids.
    Refused, naming file:line, nothing written; a historic record that moves a step on still lands."""
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon,classification\nK1,2014-06-19T08:00,51.27,1.08,homicide\n",
                     encoding="utf-8")
    assert cli("ingest", str(cases), "--db", sqlite_url, "--officer", "PC In").exit_code == 0
    listed = json.loads(cli("actions", "list", "--db", sqlite_url, "--case", "K1", "--json").stdout)["actions"]
    step = next(a for a in listed if a["step_id"] == "S01_CLASSIFY")
    assert cli("actions", "allocate", str(step["id"]), "--officer", "DS A", "--db", sqlite_url).exit_code == 0
    assert cli("actions", "complete", str(step["id"]), "--officer", "DS A", "--db", sqlite_url).exit_code == 0
    old = tmp_path / "old.csv"
    old.write_text("case_id,kind,officer,step_id,state,completed_at\n"
                   "K1,action,DS Old,S03_INTEL_CHECKS,completed,2014-06-20T09:00\n"
                   "K1,action,DS Old,S01_CLASSIFY,for_allocation,\n", encoding="utf-8")
    n_audit = _count(sqlite_url, AuditEntryRow)
    refused = cli("decisions", "import", str(old), "--db", sqlite_url, "--officer", "archivist")
    assert refused.exit_code == 2 and refused.stderr.startswith(f"caselink: error: {old}:3: state: ")
    assert "completed" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert _count(sqlite_url, AuditEntryRow) == n_audit
    after = json.loads(cli("actions", "list", "--db", sqlite_url, "--case", "K1", "--json").stdout)["actions"]
    assert {a["step_id"]: a["state"] for a in after}["S01_CLASSIFY"] == "completed"
    old.write_text("case_id,kind,officer,step_id,state,completed_at\n"
                   "K1,action,DS Old,S03_INTEL_CHECKS,completed,2014-06-20T09:00\n", encoding="utf-8")
    assert cli("decisions", "import", str(old), "--db", sqlite_url, "--officer", "archivist").exit_code == 0


def test_timeline_says_an_alert_was_triaged_not_that_the_record_was_altered(sqlite_url: str, tmp_path: Path) -> None:
    """Acknowledging or assigning an alert is logged as an alteration (of the alert); the timeline
    showed 'record altered' under the analyst's name, as if the case record had been changed."""
    from caselink.io import open_source
    from caselink.linkage import triage
    from caselink.oversight.timeline import case_timeline
    from tests.assurance.alerts import open_alert

    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon\nK1,2014-06-19,51.27,1.08\nK2,2014-06-20,51.27,1.08\n",
                     encoding="utf-8")
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(cases)])
        with store.engine.begin() as connection:
            open_alert(connection, ["K1", "K2"])
            alert_id = triage.list_alerts(connection, "open", None)[0]["id"]
            triage.acknowledge(connection, alert_id, "Analyst Ann", channel="cli")
            triage.assign(connection, alert_id, "DS Sgt", "DC Inv", channel="cli")
            altered = [e for e in case_timeline(connection, "K2")["events"] if e["kind"] == "altered"]
    assert [e["summary"] for e in altered] == [f"alert {alert_id} acknowledged", f"alert {alert_id} assigned to DC Inv"]


def test_decisions_import_counts_every_problem_of_the_file(sqlite_url: str, tmp_path: Path, cli: Any) -> None:
    """Three bad rows (an impossible date, no officer, an unknown case): the one line names the first
    and says 2 more, not 1 (unknown cases were checked in a second pass that never ran)."""
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon,classification\nK1,2014-06-19T08:00,51.27,1.08,homicide\n",
                     encoding="utf-8")
    assert cli("ingest", str(cases), "--db", sqlite_url, "--officer", "PC In").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,kind,officer,value,rationale,decided_at\n"
                   "K1,classification,DS X,homicide,why,2014-02-31T10:00\n"
                   "K1,classification,,homicide,why,2014-02-12T10:00\n"
                   "ZZ,referral,DS X,team,why,2014-02-12T10:00\n", encoding="utf-8")
    refused = cli("decisions", "import", str(bad), "--db", sqlite_url, "--officer", "archivist")
    assert refused.exit_code == 2 and refused.stderr.startswith(f"caselink: error: {bad}:2: decided_at: ")
    assert "(and 2 more problem(s))" in refused.stderr


def test_a_summer_period_is_described_in_london_dates(sqlite_url: str, tmp_path: Path, cli: Any) -> None:
    """--from 2014-07-01 is London midnight, 23:00 UTC the day before: the period was described as
    'from 2014-06-30 to before 2014-07-01' in every summer report, error and JSON."""
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon,classification\nK1,2014-07-01T00:30,51.27,1.08,homicide\n",
                     encoding="utf-8")
    assert cli("ingest", str(cases), "--db", sqlite_url, "--officer", "PC In").exit_code == 0
    shown = cli("oversight", "missed", "--db", sqlite_url, "--from", "2014-07-01", "--to", "2014-07-02", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["period"] == "from 2014-07-01 to before 2014-07-02"
    assert json.loads(shown.stdout)["totals"]["n_cases"] == 1  # found 00:30 BST on 1 July: in the period
    winter = cli("oversight", "missed", "--db", sqlite_url, "--from", "2014-06-30", "--to", "2014-07-01")
    assert winter.exit_code == 2 and "from 2014-06-30 to before 2014-07-01" in winter.stderr


def test_erased_cases_are_left_out_of_groups_drawn_from_erased_fields(history: dict[str, Any], cli: Any) -> None:
    """An erased case's tags and ethnicity are blank because they were erased, not because none were
    recorded: it must not join the 'none' (or 'unrecorded') group; it is left out and counted."""
    def disparity(by: str) -> dict[str, Any]:
        result = cli("oversight", "disparity", "--db", history["url"], "--now", NOW, "--by", by, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


    before = disparity("victim_tags")
    assert before["n_erased"] == 0
    tagged = [r["case_id"] for r in history["records"] if "gay_bisexual_men" in r["victim_tags"]
              and r["classification"] not in (None, "expected")][:3]
    for case_id in tagged:
        erased = cli("erase", case_id, "--db", history["url"], "--officer", "DPO Hart", "--rationale", "retention")
        assert erased.exit_code == 0, erased.stderr
    after = disparity("victim_tags")
    assert after["n_erased"] == 3 and after["n_cases"] == before["n_cases"]
    row_before = next(r for r in before["metrics"] if r["metric"] == "referred_to_homicide_team"
                      and r["group"] == "gay_bisexual_men")
    row_after = next(r for r in after["metrics"] if r["metric"] == "referred_to_homicide_team"
                     and r["group"] == "gay_bisexual_men")
    assert row_after["n_group"] == row_before["n_group"] - 3
    assert row_after["n_reference"] == row_before["n_reference"]  # not swollen by the erased cases
    assert disparity("victim_sex")["n_erased"] == 0  # sex is not erased: those cases still count there
    text = cli("oversight", "disparity", "--db", history["url"], "--now", NOW)
    assert "3 erased case(s) left out" in text.stdout


def test_timeline_of_another_case_in_a_dismissed_alert_says_who_dismissed_it(any_db_url: str, tmp_path: Path) -> None:
    """A dismissal is a decision in the new case's policy file only; the timelines of the other cases the
    alert named said 'now dismissed' with no name, time or reason, so the inspector could not tell
    from them who closed the link."""
    from caselink.linkage import triage
    from caselink.oversight.timeline import case_timeline

    with _two_cases_in_an_open_alert(any_db_url, tmp_path, ("K1", "K2")) as connection:
        alert = triage.list_alerts(connection, "open", None)[0]
        triage.dismiss(connection, alert["id"], "DC Inv", "coincidence: different finders")
        other = next(c for c in ("K1", "K2") if c != alert["new_case_id"])
        [event] = [e for e in case_timeline(connection, other)["events"] if e["kind"] == "alert"]
    assert "dismissed by DC Inv" in event["summary"] and "coincidence: different finders" in event["summary"]
    assert event["details"]["dismissed_by"] == "DC Inv" and event["details"]["decision_id"] is not None


def test_a_teams_file_saved_by_excel_or_not_text_at_all(tmp_path: Path, cli: Any, sqlite_url: str) -> None:
    """Excel's 'CSV UTF-8' starts with a byte-order mark, which made the header check fail; a file that
    is not UTF-8 (a spreadsheet saved as .xlsx and renamed) gave a traceback."""
    from caselink.oversight.missed import load_teams

    excel = tmp_path / "teams.csv"
    excel.write_bytes("\ufeffofficer,team\r\nDS Field,Barking CID\r\n".encode())
    assert load_teams(excel) == {"DS Field": "Barking CID"}
    binary = tmp_path / "teams.xlsx.csv"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00binary")
    result = cli("oversight", "missed", "--db", sqlite_url, "--teams", str(binary))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "UTF-8" in result.stderr and "--teams" in result.stderr


def test_missed_steps_as_of_a_moment_ignore_what_happened_after_it(any_db_url: str, tmp_path: Path, cli: Any) -> None:
    """`--now` is there so that a report can be reproduced later; a step completed (or allocated) after
    --now counted as done (or allocated) as of --now, so the same command gave other numbers as work went on."""
    from datetime import datetime, timedelta

    from sqlalchemy import select

    from caselink.assurance import apply_checklists, transition_action
    from caselink.assurance.models import ActionRow
    from caselink.io import open_source

    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon,classification\nK1,2014-06-19T08:00,51.27,1.08,homicide\n",
                     encoding="utf-8")
    found = datetime(2014, 6, 19, 7, 0)  # 08:00 London is 07:00 UTC in June
    with CaseStore.open(any_db_url) as store:
        store.ingest([open_source(cases)], officer="PC In")
        with store.engine.begin() as connection:
            apply_checklists(connection, ["K1"])
            s01 = connection.execute(select(ActionRow.id, ActionRow.due_at).where(
                ActionRow.case_id == "K1", ActionRow.step_id == "S01_CLASSIFY")).one()
            transition_action(connection, s01.id, "allocated", "Sgt A", owner="DC B",
                              now=s01.due_at + timedelta(hours=5))
            transition_action(connection, s01.id, "completed", "DC B", now=s01.due_at + timedelta(days=30))

    def s01_as_of(moment: datetime) -> dict[str, Any]:
        result = cli("oversight", "missed", "--db", any_db_url, "--now", moment.isoformat() + "+00:00", "--json")
        assert result.exit_code == 0, result.stderr
        return next(row for row in json.loads(result.stdout)["by_step"] if row["step_id"] == "S01_CLASSIFY")

    before_due = s01_as_of(s01.due_at - timedelta(minutes=30))
    assert before_due["n_due"] == 0 and before_due["n_missed"] == 0
    overdue_unallocated = s01_as_of(s01.due_at + timedelta(hours=1))
    assert (overdue_unallocated["n_not_done"], overdue_unallocated["n_never_allocated"],
            overdue_unallocated["n_late"]) == (1, 1, 0)
    overdue_allocated = s01_as_of(s01.due_at + timedelta(days=2))
    assert (overdue_allocated["n_not_done"], overdue_allocated["n_never_allocated"], overdue_allocated["n_late"]) \
        == (1, 0, 0)
    after = s01_as_of(s01.due_at + timedelta(days=40))
    assert (after["n_not_done"], after["n_late"], after["n_missed"]) == (0, 1, 1)
    assert found < s01.due_at
    # The disparity measures judge the same way: a step done on time, but after the moment judged, is unknown then.
    from caselink.oversight.measures import Period, load_measures

    with CaseStore.open(any_db_url) as store:
        with store.engine.begin() as connection:
            last = connection.execute(select(ActionRow.id, ActionRow.due_at).where(ActionRow.case_id == "K1")
                                      .order_by(ActionRow.due_at.desc()).limit(1)).one()
            transition_action(connection, last.id, "allocated", "Sgt A", now=last.due_at - timedelta(hours=2))
            transition_action(connection, last.id, "completed", "Sgt A", now=last.due_at - timedelta(hours=1))
        early = load_measures(store.engine, Period(None, None), s01.due_at + timedelta(hours=1)).cases.iloc[0]
        later = load_measures(store.engine, Period(None, None), last.due_at + timedelta(days=1)).cases.iloc[0]
    assert last.due_at - timedelta(hours=1) > s01.due_at + timedelta(hours=1)
    assert (early["n_steps_due"], early["n_steps_on_time"]) == (1, 0)
    assert later["n_steps_on_time"] == 1
