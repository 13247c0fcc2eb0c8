"""The audit commands and the DPA s.62 access log, through the CLI as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from caselink.audit import read_entries
from caselink.store import CaseStore
from tests.audit.conftest import CASES_CSV, write_cases


def _ingested(cli: object, tmp_path: Path) -> str:
    """A store with three cases, ingested through the store API (the CLI ingest also runs linkage)."""
    from caselink.io import open_source

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with CaseStore.open(url) as store:
        store.ingest([open_source(write_cases(tmp_path))], officer="PC Ingest")
    return url


def _entries(url: str, **filters: str) -> list:
    with CaseStore.open(url) as store, store.engine.connect() as connection:
        return list(read_entries(connection, **filters))


def test_ingest_logs_collection_then_alteration(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    collection = _entries(url, action="collection")
    assert len(collection) == 1
    assert collection[0].officer == "PC Ingest" and collection[0].case_ids == ["a1", "a2", "a3"]
    changed = CASES_CSV.replace("found by a friend", "found by a neighbour")
    from caselink.io import open_source

    with CaseStore.open(url) as store:
        store.ingest([open_source(write_cases(tmp_path, changed, "v2.csv"))], officer="PC Two")
    alteration = _entries(url, action="alteration")
    assert len(alteration) == 1 and alteration[0].case_ids == ["a1"]
    assert alteration[0].details["changes"]["a1"]["fields"] == ["narrative"]
    assert "neighbour" not in json.dumps(alteration[0].details)  # field names and hashes, never values


def test_refused_ingest_logs_nothing(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    before = len(_entries(url))
    bad = write_cases(tmp_path, "case_id,found_at,lat,lon\nz1,not a date,51.5,0.1\n", "bad.csv")
    assert cli("ingest", str(bad), "--db", url).exit_code == 2  # type: ignore[operator]
    assert len(_entries(url)) == before


def test_show_requires_justification_and_logs_consultation(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    refused = cli("cases", "show", "a1", "--db", url, "--officer", "DS A")  # type: ignore[operator]
    assert refused.exit_code == 2 and "--justification" in refused.stderr and refused.stdout == ""
    anonymous = cli("cases", "show", "a1", "--db", url, "--justification", "x",  # type: ignore[operator]
                    env={"CASELINK_USER": ""})
    assert anonymous.exit_code == 2 and "--officer" in anonymous.stderr
    ok = cli("cases", "show", "a1", "--db", url, "--justification", "series review",  # type: ignore[operator]
             env={"CASELINK_USER": "DS Env"})
    assert ok.exit_code == 0, ok.stderr
    consultation = _entries(url, action="consultation")
    assert [(e.officer, e.justification, e.case_ids) for e in consultation] == [("DS Env", "series review", ["a1"])]


def test_listing_cases_is_a_logged_consultation(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    listed = cli("cases", "list", "--db", url, "--limit", "2", env={"CASELINK_USER": "DS Lister"})  # type: ignore[operator]
    assert listed.exit_code == 0, listed.stderr
    why = cli("cases", "list", "--db", url, "--cause", "no-such-cause",  # type: ignore[operator]
              "--justification", "weekly review", "--officer", "DS B")
    assert why.exit_code == 0, why.stderr
    consultation = _entries(url, action="consultation")
    # Two cases shown, two logged; a listing that shows nothing logs nothing.
    logged = [(e.officer, e.justification, e.case_ids) for e in consultation]
    assert logged == [("DS Lister", "case list", ["a1", "a2"])]


def test_ingest_links_in_the_name_of_the_importing_officer(cli: object, tmp_path: Path,
                                                           port_series_csv: Path) -> None:
    url = f"sqlite:///{tmp_path / 'combo.db'}"
    ran = cli("ingest", str(port_series_csv), "--db", url, "--officer", "DC Ingest",  # type: ignore[operator]
              env={"CASELINK_USER": "someone else"})
    assert ran.exit_code == 0, ran.stderr
    assert {e.officer for e in _entries(url, action="collection")} == {"DC Ingest"}
    combination = _entries(url, action="combination")
    assert combination and {e.officer for e in combination} == {"DC Ingest"}


def test_export_to_a_recipient_is_a_logged_disclosure(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    out = tmp_path / "out.csv"
    refused = cli("export", "--out", str(out), "--db", url, "--officer", "DS A")  # type: ignore[operator]
    assert refused.exit_code == 2 and not out.exists()
    ok = cli("export", "--out", str(out), "--db", url, "--officer", "DS A",  # type: ignore[operator]
             "--justification", "file for the CPS", "--recipient", "CPS London")
    assert ok.exit_code == 0, ok.stderr
    disclosure = _entries(url, action="disclosure")
    assert len(disclosure) == 1
    assert disclosure[0].details["recipient"] == "CPS London" and disclosure[0].case_ids == ["a1", "a2", "a3"]


def test_keygen_checkpoint_verify_round_trip_and_exit_codes(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    key = tmp_path / "audit.key"
    assert cli("audit", "keygen", "--out", str(key)).exit_code == 0  # type: ignore[operator]
    assert (key.stat().st_mode & 0o777) == 0o600
    again = cli("audit", "keygen", "--out", str(key))  # type: ignore[operator]
    assert again.exit_code == 2 and "already exists" in again.stderr
    head = tmp_path / "head.json"
    made = cli("audit", "checkpoint", "--key", str(key), "--out", str(head), "--db", url)  # type: ignore[operator]
    assert made.exit_code == 0, made.stderr
    args = ("audit", "verify", "--db", url, "--checkpoint", str(head), "--pubkey", str(key) + ".pub")
    ok = cli(*args, "--json")  # type: ignore[operator]
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    with CaseStore.open(url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET officer = 'someone else' WHERE seq = 1"))
    bad = cli(*args)  # type: ignore[operator]
    assert bad.exit_code == 1 and "entry 1" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_verify_bad_input(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    lonely = cli("audit", "verify", "--db", url, "--checkpoint", str(tmp_path / "x.json"))  # type: ignore[operator]
    assert lonely.exit_code == 2 and "--pubkey" in lonely.stderr
    not_json = tmp_path / "head.json"
    not_json.write_text("{oops")
    pub = tmp_path / "k.pub"
    pub.write_text("not a key")
    result = cli("audit", "verify", "--db", url, "--checkpoint", str(not_json), "--pubkey", str(pub))  # type: ignore[operator]
    assert result.exit_code == 2 and "not JSON" in result.stderr
    key = tmp_path / "k"
    cli("audit", "keygen", "--out", str(key))  # type: ignore[operator]
    wrong = cli("audit", "checkpoint", "--key", str(pub), "--out", str(tmp_path / "h.json"), "--db", url)  # type: ignore[operator]
    assert wrong.exit_code == 2 and "--key" in wrong.stderr and not (tmp_path / "h.json").exists()


def test_checkpoint_refuses_a_broken_chain(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    key = tmp_path / "k"
    cli("audit", "keygen", "--out", str(key))  # type: ignore[operator]
    with CaseStore.open(url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET action = 'decision' WHERE seq = 1"))
    result = cli("audit", "checkpoint", "--key", str(key), "--out", str(tmp_path / "h.json"), "--db", url)  # type: ignore[operator]
    assert result.exit_code == 1 and "broken chain" in result.stderr and not (tmp_path / "h.json").exists()


def test_entries_of_a_case_whose_id_holds_like_wildcards_are_found(any_db_url: str) -> None:
    """'%' and '_' are ordinary characters in a case id; the case's entries must all be read back
    (the trail of 'KEN%1' used to come back empty), and no other case's."""
    from caselink.audit import read_entries, record_event
    from caselink.store import CaseStore

    with CaseStore.open(any_db_url) as store, store.engine.begin() as connection:
        for case_id in ("KEN%1", "KEN_1", "KENX1", "KEN1"):
            record_event(connection, action="consultation", officer="DS A", case_ids=[case_id],
                         justification="wildcard check")
        for case_id in ("KEN%1", "KEN_1", "KENX1", "KEN1"):
            assert [e.case_ids for e in read_entries(connection, case_id=case_id)] == [[case_id]]


def test_reading_a_policy_file_or_a_waterfall_is_a_logged_consultation(cli: object, tmp_path: Path) -> None:
    """Both show what the records hold (decisions and their rationale; distance, drugs, finder)."""
    url = _ingested(cli, tmp_path)
    decided = cli("decide", "a1", "--kind", "classification", "--value", "homicide",  # type: ignore[operator]
                  "--rationale", "same finder as a2", "--officer", "DS Hill", "--db", url)
    assert decided.exit_code == 0, decided.stderr
    assert cli("decisions", "a1", "--db", url, "--officer", "Insp Lee",  # type: ignore[operator]
               "--justification", "IOPC review").exit_code == 0
    assert cli("decisions", "a3", "--db", url).exit_code == 0  # no decisions shown: nothing logged  # type: ignore[operator]
    explained = cli("explain", "a1", "a2", "--db", url, "--officer", "DC Ray")  # type: ignore[operator]
    assert explained.exit_code == 0, explained.stderr
    logged = [(e.officer, e.justification, e.case_ids, e.details["view"]) for e in _entries(url, action="consultation")]
    assert logged == [("Insp Lee", "IOPC review", ["a1"], "decisions"), ("DC Ray", "explain", ["a1", "a2"], "explain")]


def test_reading_a_cases_trail_or_its_actions_is_a_logged_consultation(cli: object, tmp_path: Path) -> None:
    url = _ingested(cli, tmp_path)
    shown = cli("audit", "log", "--db", url, "--case", "a1", "--officer", "Inspector Reid",  # type: ignore[operator]
                "--justification", "IOPC review", "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["entries"]
    read = [e for e in _entries(url, case_id="a1", action="consultation")]
    assert [(e.officer, e.justification, e.details["view"]) for e in read] == [
        ("Inspector Reid", "IOPC review", "audit log")]
    assert cli("audit", "log", "--db", url, "--json").exit_code == 0  # type: ignore[operator]
    # A mistyped case id printed nothing and exited 0, which reads as "nothing was ever logged about it".
    unknown = cli("audit", "log", "--db", url, "--case", "nobody")  # type: ignore[operator]
    assert unknown.exit_code == 2 and unknown.stderr.count("\n") == 1 and "no case 'nobody'" in unknown.stderr
    quiet = cli("audit", "log", "--db", url, "--case", "a3", "--action", "erasure")  # type: ignore[operator]
    assert quiet.exit_code == 0 and "no audit entries" in quiet.stdout
    assert len(_entries(url, action="consultation")) == 1  # the whole log, or no trail: no case was read
    assert cli("checklists", "apply", "--db", url).exit_code == 0  # type: ignore[operator]
    listed = cli("actions", "list", "--db", url, "--case", "a1", "--officer", "DS Kaur")  # type: ignore[operator]
    assert listed.exit_code == 0
    views = [e.details["view"] for e in _entries(url, case_id="a1", action="consultation")]
    assert views == ["audit log", "actions list"]


def test_a_log_cut_at_its_limit_says_so(cli: object, tmp_path: Path) -> None:
    """`audit log` stopped at --limit (100 by default) without a word: an inspector read the first 100
    entries of a busy case as its whole trail."""
    url = _ingested(cli, tmp_path)
    with CaseStore.open(url) as store, store.engine.begin() as connection:
        for i in range(4):
            audit_record(connection, i)
    cut = cli("audit", "log", "--db", url, "--case", "a1", "--limit", "3", "--officer", "Insp Reid")  # type: ignore[operator]
    assert cut.exit_code == 0 and "more entries follow" in cut.stdout and "--limit" in cut.stdout
    as_json = json.loads(cli("audit", "log", "--db", url, "--limit", "3", "--json").stdout)  # type: ignore[operator]
    assert len(as_json["entries"]) == 3 and as_json["more"] is True
    whole = cli("audit", "log", "--db", url, "--case", "a1", "--limit", "1000", "--officer", "I")  # type: ignore[operator]
    assert "more entries follow" not in whole.stdout
    assert json.loads(cli("audit", "log", "--db", url, "--limit", "1000", "--json").stdout)["more"] is False  # type: ignore[operator]


def audit_record(connection: object, i: int) -> None:
    from caselink.audit import record_event

    record_event(connection, action="consultation", officer=f"DS {i}", case_ids=["a1"],  # type: ignore[arg-type]
                 justification=f"review {i}")
