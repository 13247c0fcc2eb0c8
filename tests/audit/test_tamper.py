"""The tamper matrix: each attack edits the database directly and verification must name it."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from caselink.audit import entry_hash, generate_key, make_checkpoint
from tests.audit.conftest import attack, verify_store


def _checkpoint(connection: Connection) -> tuple[dict, bytes]:
    private_pem, public_pem = generate_key()
    return make_checkpoint(connection, private_pem), public_pem


def test_untouched_log_verifies(audited_store: Connection) -> None:
    checkpoint, public_key = _checkpoint(audited_store)
    result = verify_store(audited_store, checkpoint, public_key)
    assert result.ok, result.message
    assert result.n_entries == checkpoint["seq"] == 11  # 1 collection + 10 consultations
    assert result.first_bad_seq is None


def test_changed_payload_is_named(audited_store: Connection) -> None:
    attack(audited_store, "UPDATE audit_log SET details = :d WHERE seq = 5", d='{"n":99}')
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 5
    assert "entry 5" in result.message


def test_changed_payload_with_its_hash_recomputed_is_named(audited_store: Connection) -> None:
    from caselink.audit import sha256_text

    forged = '{"n":99}'
    attack(audited_store, "UPDATE audit_log SET details = :d, details_sha256 = :h WHERE seq = 5",
           d=forged, h=sha256_text(forged))
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 5


def test_changed_justification_is_named(audited_store: Connection) -> None:
    attack(audited_store, "UPDATE audit_log SET justification = 'nothing to see' WHERE seq = 4")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 4


def test_changed_officer_is_named(audited_store: Connection) -> None:
    attack(audited_store, "UPDATE audit_log SET officer = 'DS Nobody' WHERE seq = 7")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 7


def test_deleted_entry_is_named(audited_store: Connection) -> None:
    attack(audited_store, "DELETE FROM audit_log WHERE seq = 6")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 6
    assert "missing" in result.message


def test_deleted_entry_with_renumbering_is_named(audited_store: Connection) -> None:
    attack(audited_store, "DELETE FROM audit_log WHERE seq = 6")
    attack(audited_store, "UPDATE audit_log SET seq = seq - 1 WHERE seq > 6")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq in (5, 6)


def test_reordered_entries_are_named(audited_store: Connection) -> None:
    attack(audited_store, "UPDATE audit_log SET seq = -1 WHERE seq = 3")
    attack(audited_store, "UPDATE audit_log SET seq = 3 WHERE seq = 8")
    attack(audited_store, "UPDATE audit_log SET seq = 8 WHERE seq = -1")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 3


def test_truncated_tail_is_caught_by_the_checkpoint(audited_store: Connection) -> None:
    checkpoint, public_key = _checkpoint(audited_store)
    # A careful attacker removes the tail and rewinds the head row too, so the chain itself is clean.
    attack(audited_store, "DELETE FROM audit_log WHERE seq > 8")
    attack(audited_store, "UPDATE audit_head SET seq = 8, entry_hash = (SELECT entry_hash FROM audit_log "
                          "WHERE seq = 8)")
    assert verify_store(audited_store).ok  # without a checkpoint a clean truncation is invisible...
    result = verify_store(audited_store, checkpoint, public_key)
    assert not result.ok and result.first_bad_seq == 9  # ...with one it is named
    assert "removed" in result.message


def test_truncated_tail_without_rewinding_the_head_is_caught(audited_store: Connection) -> None:
    attack(audited_store, "DELETE FROM audit_log WHERE seq > 8")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 9


def _rewrite_chain_from(connection: Connection, start: int) -> None:
    """Recompute every hash from ``start`` on, as an attacker without the signing key can."""
    rows = connection.execute(text(
        "SELECT seq, at, action, officer, case_ids, justification_sha256, details_sha256 "
        "FROM audit_log ORDER BY seq")).all()
    prev = "0" * 64
    for seq, at, action, officer, ids, justification_sha, details_sha in rows:
        if seq >= start:
            digest = entry_hash(seq, at, action, officer, ids, justification_sha, details_sha, prev)
            connection.execute(text("UPDATE audit_log SET prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                               {"p": prev, "h": digest, "s": seq})
            prev = digest
        else:
            prev = connection.execute(text("SELECT entry_hash FROM audit_log WHERE seq = :s"),
                                      {"s": seq}).scalar_one()
    connection.execute(text("UPDATE audit_head SET entry_hash = :h"), {"h": prev})


def test_recomputed_chain_is_caught_by_the_signed_checkpoint(audited_store: Connection) -> None:
    checkpoint, public_key = _checkpoint(audited_store)
    attack(audited_store, "UPDATE audit_log SET officer = 'DS Nobody' WHERE seq = 4")
    _rewrite_chain_from(audited_store, 4)
    assert verify_store(audited_store).ok  # the chain alone is self-consistent again
    result = verify_store(audited_store, checkpoint, public_key)
    assert not result.ok and result.first_bad_seq == 4


def test_forged_checkpoint_for_a_recomputed_chain_fails_the_signature(audited_store: Connection) -> None:
    _, genuine_public = _checkpoint(audited_store)
    attack(audited_store, "UPDATE audit_log SET officer = 'DS Nobody' WHERE seq = 4")
    _rewrite_chain_from(audited_store, 4)
    forged, _ = _checkpoint(audited_store)  # signed with the attacker's own key
    result = verify_store(audited_store, forged, genuine_public)
    assert not result.ok
    assert "signature" in result.message


@pytest.mark.parametrize("field", ["seq", "entry_hash", "anchors"])
def test_edited_checkpoint_fails_the_signature(sqlite_url: str, tmp_path: object, field: str) -> None:
    from caselink.audit import record_event
    from caselink.store import CaseStore

    store = CaseStore.open(sqlite_url)
    with store.engine.begin() as audited_store:
        for i in range(5):
            record_event(audited_store, action="decision", officer="DI A", case_ids=["x"], details={"i": i})
        checkpoint, public_key = _checkpoint(audited_store)
    edited = dict(checkpoint)
    if field == "seq":
        edited["seq"] = checkpoint["seq"] + 5
    elif field == "entry_hash":
        edited["entry_hash"] = "f" * 64
    else:
        edited["anchors"] = edited["anchors"][:-1]
    with store.engine.connect() as connection:
        result = verify_store(connection, edited, public_key)
    store.close()
    assert not result.ok and "signature" in result.message


def test_deleting_every_entry_is_caught_by_the_head_row(audited_store: Connection) -> None:
    attack(audited_store, "DELETE FROM audit_log")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 1


def test_truncated_tail_with_the_head_row_deleted_is_caught(audited_store: Connection) -> None:
    # Every store has its head row (the migration makes it, each append keeps it), so a log with
    # entries and no head row has been tampered with: deleting the row must not hide a truncation.
    attack(audited_store, "DELETE FROM audit_log WHERE seq > 8")
    attack(audited_store, "DELETE FROM audit_head")
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == 9
    assert "head record is missing" in result.message


@pytest.mark.parametrize(("attack_sql", "first_bad"), [
    ("UPDATE audit_log SET officer = 'DS Nobody' WHERE seq = 7", 7),
    ("DELETE FROM audit_log WHERE seq = 6", 6),
    ("UPDATE audit_log SET justification = NULL WHERE seq = 4", 4),  # found only after the whole stream
])
def test_counts_of_a_broken_chain_say_how_far_it_verified(audited_store: Connection, attack_sql: str,
                                                          first_bad: int) -> None:
    """A broken chain reports every entry in the log, the entries verified before the break, and the log's
    own last entry - not the point where the stream happened to stop (issue: named defect 1)."""
    n_before = audited_store.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    attack(audited_store, attack_sql)
    n_after = audited_store.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    result = verify_store(audited_store)
    assert not result.ok and result.first_bad_seq == first_bad
    assert result.n_verified == first_bad - 1
    assert result.n_entries == n_after
    assert result.head_seq == n_before == 11
    assert f"entries 1..{first_bad - 1} verified" in result.message


def test_counts_of_an_intact_chain(audited_store: Connection) -> None:
    result = verify_store(audited_store)
    assert result.ok and result.n_verified == result.n_entries == result.head_seq == 11
