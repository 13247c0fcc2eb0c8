"""An account change and its audit entry land together or not at all (DPA 2018 s.62: alterations).

Each test makes the audit append fail and checks that the change it would have recorded did not
land either, through the admin API and through ``caselink users``.
"""

from __future__ import annotations

from typing import Any

import pytest

import caselink.audit
from caselink.audit import read_entries
from caselink.web import auth


def _refuse_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("disk full while appending to audit_log")

    monkeypatch.setattr(caselink.audit, "record_event", broken)


def _alterations(engine: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [e.details for e in read_entries(connection) if e.action == "alteration"
                and e.details.get("object") == "web_user"]


def test_admin_api_changes_do_not_land_without_their_audit_entry(app: Any, api: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    admin = api("admin")
    engine = app.state.engine
    token_before = auth.issue_token(engine, "analyst")[1]
    before = _alterations(engine)
    _refuse_audit(monkeypatch)

    assert admin.post("/api/admin/users", json={"name": "newbie", "role": "analyst"}).status_code >= 500
    assert auth.get_user(engine, "newbie") is None
    assert admin.post("/api/admin/users/analyst/role", json={"role": "supervisor"}).status_code >= 500
    assert auth.get_user(engine, "analyst")["role"] == "analyst"
    assert admin.post("/api/admin/users/analyst/tokens", json={}).status_code >= 500
    assert len(auth.list_tokens(engine, "analyst")) == 2  # the fixture's and ours: none added
    assert admin.post("/api/admin/users/analyst/tokens/revoke").status_code >= 500
    assert auth.token_principal(engine, token_before) is not None  # still live: the revocation rolled back
    assert _alterations(engine) == before

    monkeypatch.undo()
    assert admin.post("/api/admin/users", json={"name": "newbie", "role": "analyst"}).status_code == 201
    assert _alterations(engine)[-1] == {"channel": "web", "object": "web_user", "change": "user_added",
                                        "user": "newbie", "role": "analyst"}


def test_users_cli_changes_do_not_land_without_their_audit_entry(cli: Any, sqlite_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("users", "add", "ana", "--role", "analyst", "--db", sqlite_url).exit_code == 0
    token = cli("users", "token", "ana", "--db", sqlite_url).stdout.strip()
    _refuse_audit(monkeypatch)

    for args in (("add", "bob", "--role", "analyst"), ("role", "ana", "--role", "admin"), ("token", "ana"),
                 ("revoke", "ana")):
        result = cli("users", *args, "--db", sqlite_url)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert result.stderr.strip().splitlines() == [
            "caselink: error: the audit log could not record this account change, so nothing was changed: "
            "disk full while appending to audit_log"], args
        assert "Traceback" not in result.stderr

    monkeypatch.undo()
    listed = cli("users", "list", "--json", "--db", sqlite_url).stdout
    assert '"bob"' not in listed and '"role": "analyst"' in listed and '"n_tokens": 1' in listed
    from caselink.store import CaseStore

    with CaseStore.open(sqlite_url) as store:
        assert auth.token_principal(store.engine, token) is not None
        assert [d["change"] for d in _alterations(store.engine)] == ["user_added", "token_issued"]


def test_change_and_entry_share_one_transaction_on_both_engines(any_db_url: str) -> None:
    from caselink.audit import record_event
    from caselink.store import CaseStore

    def entry(connection: Any, facts: dict[str, Any]) -> None:
        record_event(connection, action="alteration", officer="chief", details={"object": "web_user", **facts})

    def broken(connection: Any, facts: dict[str, Any]) -> None:
        entry(connection, facts)  # written, then the transaction fails after it
        raise RuntimeError("connection lost")

    with CaseStore.open(any_db_url) as store:
        engine = store.engine
        with pytest.raises(RuntimeError):
            auth.add_user(engine, "sup", "supervisor", None, audit=broken)
        assert auth.get_user(engine, "sup") is None and _alterations(engine) == []
        auth.add_user(engine, "sup", "supervisor", None, audit=entry)
        with pytest.raises(RuntimeError):
            auth.set_role(engine, "sup", "analyst", audit=broken)
        assert auth.get_user(engine, "sup")["role"] == "supervisor"
        assert [d["change"] for d in _alterations(engine)] == ["user_added"]
