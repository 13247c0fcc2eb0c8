"""``caselink users`` (contract) and the web tables on both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from caselink.store import CaseStore
from caselink.web import WebSettings, auth, create_app


def test_users_add_token_revoke_cli(cli: Any, sqlite_url: str) -> None:
    added = cli("users", "add", "ana", "--role", "analyst", "--password-stdin", "--db", sqlite_url,
                input="a long enough password\n")
    assert added.exit_code == 0, added.stderr
    token = cli("users", "token", "ana", "--db", sqlite_url)
    assert token.exit_code == 0 and token.stdout.strip().startswith(auth.TOKEN_PREFIX)
    app = create_app(sqlite_url, WebSettings(secure_cookies=False))
    client = TestClient(app, headers={"Authorization": f"Bearer {token.stdout.strip()}"})
    assert client.get("/api/me").json()["role"] == "analyst"
    assert cli("users", "revoke", "ana", "--db", sqlite_url).stdout.strip() == "revoked 1 token(s) of 'ana'"
    assert client.get("/api/me").status_code == 401
    listed = cli("users", "list", "--json", "--db", sqlite_url)
    assert '"role": "analyst"' in listed.stdout


def test_users_cli_bad_input_is_one_line(cli: Any, sqlite_url: str) -> None:
    bad_role = cli("users", "add", "bob", "--role", "wizard", "--db", sqlite_url)
    assert bad_role.exit_code == 2
    assert bad_role.stderr.strip().splitlines() == [
        "caselink: error: role: 'wizard' is not one of analyst, investigator, supervisor, oversight, admin"]
    short = cli("users", "add", "bob", "--role", "analyst", "--password-stdin", "--db", sqlite_url, input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.stderr
    assert cli("users", "token", "nobody", "--db", sqlite_url).exit_code == 2
    assert cli("users", "list", "--json", "--db", sqlite_url).stdout.strip() == "[]"  # nothing half-written


def test_auth_tables_on_both_engines(any_db_url: str) -> None:
    with CaseStore.open(any_db_url) as store:
        engine = store.engine
        auth.add_user(engine, "sup", "supervisor", "a long enough password")
        session = auth.sign_in(engine, "sup", "a long enough password")
        assert auth.session_principal(engine, session.session_id).role == "supervisor"
        auth.remember_justification(engine, session.principal.session_id_hash, "C1", "review")
        assert auth.session_justification(engine, session.principal.session_id_hash, "C1") == "review"
        token_id, token = auth.issue_token(engine, "sup", "script")
        assert auth.token_principal(engine, token).name == "sup"
        assert auth.revoke_tokens(engine, "sup", token_id) == 1 and auth.token_principal(engine, token) is None
        key = auth.server_secret(engine, "pseudonym_key")
        assert auth.server_secret(engine, "pseudonym_key") == key
        assert auth.list_users(engine)[0]["name"] == "sup"
