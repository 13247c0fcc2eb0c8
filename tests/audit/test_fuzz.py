"""Hypothesis fuzzing of verify's inputs: whatever the checkpoint or the stored rows hold, verify
returns a verdict (never raises), and any change to a stored entry is a failing verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from caselink.audit import canonical, entry_hash, generate_key, make_checkpoint, record_event, verify
from caselink.store import CaseStore

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseStore]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}"
    store = CaseStore.open(url)
    with store.engine.begin() as connection:
        for i in range(12):
            record_event(connection, action="consultation", officer=f"officer {i}", case_ids=[f"c{i % 3}"],
                         justification=f"why {i}", details={"i": i, "note": "x" * i})
    yield store
    store.close()


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return generate_key()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(checkpoint=st.dictionaries(st.text(max_size=12), json_values, max_size=8) | json_values.filter(
    lambda v: v is not None),
       public_key=st.none() | st.binary(max_size=64))
def test_arbitrary_checkpoints_never_crash_and_never_pass(fuzz_store: CaseStore, checkpoint: object,
                                                          public_key: bytes | None) -> None:
    with fuzz_store.engine.connect() as connection:
        result = verify(connection, checkpoint, public_key)  # type: ignore[arg-type]
    assert not result.ok
    assert isinstance(result.message, str) and result.message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutating_a_signed_checkpoint_never_passes(fuzz_store: CaseStore, keys: tuple[bytes, bytes],
                                                   data: st.DataObject) -> None:
    private_pem, public_pem = keys
    with fuzz_store.engine.connect() as connection:
        genuine = make_checkpoint(connection, private_pem)
        assert verify(connection, genuine, public_pem).ok
        key = data.draw(st.sampled_from(sorted(genuine)))
        value = data.draw(json_values)
        mutated = {**genuine, key: value}
        result = verify(connection, mutated, public_pem)
    assert result.ok == (canonical(mutated) == canonical(genuine))


COLUMNS = ("at", "action", "officer", "case_ids", "justification", "details", "prev_hash", "entry_hash",
           "justification_sha256", "details_sha256", "redacted_by")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 12), column=st.sampled_from(COLUMNS),
       value=st.none() | st.text(max_size=70) | st.integers(-5, 20).map(str))
def test_any_change_to_a_stored_entry_fails(fuzz_store: CaseStore, seq: int, column: str, value: str | None) -> None:
    with fuzz_store.engine.connect() as connection:
        original = connection.execute(text(f"SELECT {column} FROM audit_log WHERE seq = :s"),  # noqa: S608
                                      {"s": seq}).scalar_one()
        if value == original or (column in ("at", "action", "officer", "case_ids", "prev_hash", "entry_hash",
                                            "details_sha256") and value is None):
            return  # no change, or a NOT NULL column the database itself refuses
        connection.execute(text(f"UPDATE audit_log SET {column} = :v WHERE seq = :s"),  # noqa: S608
                           {"v": int(value) if column == "redacted_by" and value is not None
                            and value.lstrip("-").isdigit() else value, "s": seq})
        result = verify(connection)
        connection.rollback()  # the attack is undone for the next example
    if column == "redacted_by" and value is not None and not value.lstrip("-").isdigit():
        return  # SQLite kept text in an integer column: still must not crash (verify ran above)
    assert not result.ok, (column, value)
    assert result.first_bad_seq is not None and result.first_bad_seq <= seq


def test_entry_hash_is_sha256_of_the_canonical_json() -> None:
    import hashlib

    fields = {"seq": 7, "at": "2014-06-19T08:00:00+00:00", "action": "decision", "officer": "DI Ünal",
              "case_ids": ["a1", "b\"2"], "justification_sha256": None, "details_sha256": "ab" * 32,
              "prev_hash": "cd" * 32}
    expected = hashlib.sha256(canonical(fields).encode()).hexdigest()
    assert entry_hash(7, fields["at"], "decision", "DI Ünal", json.dumps(["a1", "b\"2"], separators=(",", ":")),
                      None, "ab" * 32, "cd" * 32) == expected
