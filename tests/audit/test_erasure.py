"""Erasure: personal data goes, the chain still verifies, and a faked erasure does not."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, text

from caselink.audit import ErasureError, erase_case, generate_key, make_checkpoint, read_entries
from tests.audit.conftest import attack, verify_store


def test_erasure_removes_personal_data_and_keeps_the_log_verifiable(audited_store: Connection) -> None:
    private_pem, public_pem = generate_key()
    connection = audited_store
    checkpoint = make_checkpoint(connection, private_pem)
    result = erase_case(connection, "a1", "DPO Patel", "retention schedule rule 7")
    assert result.erased_fields == ["entities", "narrative", "victim_ethnicity"]
    assert result.n_redacted_entries == 10  # ten consultations; the import entry names a2, a3 too and holds counts
    row = connection.execute(text("SELECT narrative, victim_ethnicity, entities FROM cases "
                                  "WHERE case_id = 'a1'")).one()
    entities = connection.execute(text("SELECT COUNT(*) FROM case_entities WHERE case_id = 'a1'")).scalar()
    dump = json.dumps([e.as_dict() for e in read_entries(connection)])
    entities_kept = json.loads(row[2]) if isinstance(row[2], str) else row[2]
    assert row[0] is None and row[1] is None and entities_kept == []
    assert entities == 0
    for secret in ("found by a friend", "white british", "john doe", "review 3"):
        assert secret not in dump
    erasure = next(e for e in read_entries(connection) if e.action == "erasure")
    assert erasure.details is not None and erasure.details["erased_fields"] == result.erased_fields
    from caselink.audit import canonical, sha256_text

    # No hash of an erased value either: an ethnicity's SHA-256 is found by hashing the few candidates.
    assert sha256_text(canonical("white british")) not in dump and "value_sha256" not in erasure.details
    assert verify_store(audited_store, checkpoint, public_pem).ok
    assert verify_store(audited_store).n_redacted == 10


def test_blanking_an_entry_without_an_erasure_is_detected(audited_store: Connection) -> None:
    attack(audited_store, "UPDATE audit_log SET justification = NULL, details = NULL WHERE seq = 4")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 4


def test_pointing_a_blanked_entry_at_an_unrelated_erasure_is_detected(audited_store: Connection) -> None:
    erasure = erase_case(audited_store, "a3", "DPO Patel", "retention")
    attack(audited_store, "UPDATE audit_log SET justification = NULL, details = NULL, redacted_by = :e "
                          "WHERE seq = 4", e=erasure.audit_seq)
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 4


def test_erasure_bad_input_writes_nothing(audited_store: Connection) -> None:
    for args in (("nope", "DPO", "r"), ("a1", "", "r"), ("a1", "DPO", " ")):
        with pytest.raises(ErasureError):
            erase_case(audited_store, *args)
    assert verify_store(audited_store).n_redacted == 0


def test_erase_cli(cli: object, tmp_path: object, sqlite_url: str) -> None:
    from caselink.io import open_source
    from caselink.store import CaseStore
    from tests.audit.conftest import write_cases

    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(write_cases(tmp_path))])  # type: ignore[arg-type]
    missing = cli("erase", "a1", "--db", sqlite_url, "--officer", "DPO")  # type: ignore[operator]
    assert missing.exit_code == 2 and "--rationale" in missing.stderr
    unknown = cli("erase", "zz", "--db", sqlite_url, "--officer", "DPO", "--rationale", "r")  # type: ignore[operator]
    assert unknown.exit_code == 2 and "no case 'zz'" in unknown.stderr
    done = cli("erase", "a1", "--db", sqlite_url, "--officer", "DPO", "--rationale", "r", "--json")  # type: ignore[operator]
    assert done.exit_code == 0 and json.loads(done.stdout)["case_id"] == "a1"
    assert cli("audit", "verify", "--db", sqlite_url).exit_code == 0  # type: ignore[operator]


def test_erasure_purges_what_linkage_derived_from_the_case(cli: object, any_db_url: str,
                                                           port_series_csv: object) -> None:
    """A finder's name must not survive the erasure in a series reason, an alert or the feature cache."""
    from sqlalchemy import func, select

    from caselink.linkage.feature_cache import CACHE, COUNTS
    from caselink.linkage.incremental import ALERTS, SERIES
    from caselink.store import CaseStore

    assert cli("ingest", str(port_series_csv), "--db", any_db_url).exit_code == 0  # type: ignore[operator]
    with CaseStore.open(any_db_url) as store, store.engine.connect() as connection:
        reasons = [r for rs in connection.execute(select(SERIES.c.reasons)).scalars() for r in rs]
        entity = next(r for r in reasons if "(person:" in r).split("(")[1].rstrip(")")
        case_id = next(c for c in connection.execute(select(text("case_id")).select_from(text("cases"))).scalars()
                       if entity in (store.get_case(c).entities or ()))
        assert connection.execute(select(func.count()).select_from(CACHE)).scalar_one() > 0
    done = cli("erase", case_id, "--db", any_db_url, "--officer", "DPO", "--rationale", "r")  # type: ignore[operator]
    assert done.exit_code == 0, done.stderr  # type: ignore[attr-defined]
    with CaseStore.open(any_db_url) as store, store.engine.connect() as connection:
        texts = json.dumps([list(connection.execute(select(SERIES.c.reasons)).scalars()),
                            list(connection.execute(select(ALERTS.c.reasons)).scalars())])
        assert entity not in texts and "gay" not in texts and "[erased]" in texts
        assert connection.execute(select(func.count()).select_from(CACHE)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(COUNTS)).scalar_one() == 0
    assert cli("audit", "verify", "--db", any_db_url).exit_code == 0  # type: ignore[operator]


def test_reimporting_the_original_file_does_not_undo_an_erasure(cli: object, any_db_url: str,
                                                                 port_series_csv: object, tmp_path: object) -> None:
    """A nightly feed still holding an erased case's narrative must not put it back; its other facts
    may still change, and the import says which cases it kept blank."""
    from pathlib import Path

    from caselink.store import CaseStore

    assert cli("ingest", str(port_series_csv), "--db", any_db_url).exit_code == 0  # type: ignore[operator]
    erased = "MPS-2014-0828-K"
    assert cli("erase", erased, "--db", any_db_url, "--officer", "DPO", "--rationale", "r").exit_code == 0  # type: ignore[operator]
    again = cli("ingest", str(port_series_csv), "--db", any_db_url, "--json")  # type: ignore[operator]
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["n_unchanged"] == 4 and f"erased under retention ({erased})" in again.stderr
    corrected = Path(str(tmp_path)) / "corrected.csv"
    lines = Path(str(port_series_csv)).read_text(encoding="utf-8").splitlines()
    corrected.write_text("\n".join([lines[0], *[ln.replace(",22,M,", ",24,M,") for ln in lines[1:] if erased in ln]])
                         + "\n", encoding="utf-8")
    updated = cli("ingest", str(corrected), "--db", any_db_url, "--json")  # type: ignore[operator]
    assert json.loads(updated.stdout)["n_updated"] == 1
    with CaseStore.open(any_db_url) as store:
        row = store.get_stored(erased)
        assert row is not None and row["victim_age"] == 24
        assert row["narrative"] is None and row["entities"] == [] and row["victim_tags"] == []
        assert store.cases_with_entity("person:finder-dog-walker-1") == ["MPS-2014-0920-D"]
    assert cli("audit", "verify", "--db", any_db_url).exit_code == 0  # type: ignore[operator]


def test_erasure_keeps_shared_entries_that_hold_none_of_the_cases_personal_data(audited_store: Connection) -> None:
    """An entry naming several cases (an import, a list read, an export) records the others' history too:
    erasing one case blanks it only when it holds that case's personal data (named defect 2)."""
    from caselink.audit import record_event, sha256_text

    connection = audited_store
    kept = record_event(connection, action="consultation", officer="DS Lee", case_ids=["a1", "a3"],
                        justification="series review for the IOPC", details={"view": "alerts"})
    named = record_event(connection, action="alteration", officer="DS Lee", case_ids=["a1", "a2"],
                         details={"object": "alert", "reason": "the same finder, John Doe, in both"})
    hashed = record_event(connection, action="escalation", officer="rules", case_ids=["a1", "a2"],
                          details={"subject": "entity", "subject_id": sha256_text("person:john doe")})
    tagged = record_event(connection, action="consultation", officer="DS Lee", case_ids=["a1", "a2"],
                          justification="deaths of White British men", details={})
    own = record_event(connection, action="consultation", officer="DS Lee", case_ids=["a1"],
                       justification="next of kin asked", details={})
    result = erase_case(connection, "a1", "DPO Patel", "retention schedule rule 7")
    entries = {e.seq: e for e in read_entries(connection)}
    collection = next(e for e in entries.values() if e.action == "collection")
    assert collection.details is not None and collection.redacted_by is None  # import counts: nobody's data
    assert entries[kept].justification == "series review for the IOPC" and entries[kept].redacted_by is None
    for seq in (named, hashed, tagged, own):
        assert entries[seq].details is None and entries[seq].redacted_by == result.audit_seq, seq
    erasure = entries[result.audit_seq].details
    assert erasure is not None and kept not in erasure["redacted_seqs"] and own in erasure["redacted_seqs"]
    assert erasure["kept_shared_seqs"] == sorted([collection.seq, kept])
    assert verify_store(audited_store).ok


def test_a_shared_entry_quoting_a_superseded_value_of_the_erased_case_is_blanked(cli: object, tmp_path: object,
                                                                                  sqlite_url: str) -> None:
    """The record was corrected after the entry was written: the value the entry quotes survives only in a
    superseded version, which erasure blanks too, so it must count as the case's personal data."""
    from caselink.audit import record_event
    from caselink.io import open_source
    from caselink.store import CaseStore
    from tests.audit.conftest import write_cases

    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(write_cases(tmp_path))], officer="PC Ingest")  # type: ignore[arg-type]
        with store.engine.begin() as connection:
            quoted = record_event(connection, action="consultation", officer="DS Lee", case_ids=["a1", "a2"],
                                  justification="both white british men", details={})
        corrected = CASES_CSV_A1_IRISH
        store.ingest([open_source(write_cases(tmp_path, corrected, "corrected.csv"))],  # type: ignore[arg-type]
                     officer="PC Ingest")
        with store.engine.begin() as connection:
            erase_case(connection, "a1", "DPO Patel", "retention")
            entry = next(e for e in read_entries(connection) if e.seq == quoted)
        assert entry.justification is None and entry.redacted_by is not None
        with store.engine.connect() as connection:
            assert verify_store(connection).ok


CASES_CSV_A1_IRISH = (
    "case_id,found_at,lat,lon,classification,mo,entities,narrative,victim_ethnicity\n"
    "a1,2014-06-19T08:00,51.539,0.081,unexpected_not_suspicious,note_found,person:john doe,found by a friend,irish\n"
)
