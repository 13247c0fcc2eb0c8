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


def test_case_escalations_names_only_that_case(any_db_url: str) -> None:
    """The case page's escalations are filtered in SQL (JSON text of case_ids), exactly, on both engines."""
    from datetime import datetime

    from caselink.assurance.models import EscalationRow
    from caselink.web.sources import case_escalations

    stamp = datetime(2014, 9, 1, 9, 0)
    rows = [("BK-02", ["BK-01", "BK-02"], "open"), ("BK-2", ["BK-2"], "open"), ("X%", ["X%"], "open"),
            ("old", ["BK-02"], "resolved")]
    with CaseStore.open(any_db_url) as store, store.engine.begin() as connection:
        connection.execute(EscalationRow.__table__.insert(), [
            {"rule_id": "r", "subject_type": "case", "subject_id": subject, "level": 1, "escalate_to": "supervisor",
             "case_ids": ids, "message": f"about {subject}", "raised_at": stamp, "status": status, "audit_seq": 1}
            for subject, ids, status in rows])
        assert [e["subject_id"] for e in case_escalations(connection, "BK-02")] == ["BK-02"]
        assert [e["subject_id"] for e in case_escalations(connection, "BK-0")] == []
        assert [e["subject_id"] for e in case_escalations(connection, "X%")] == ["X%"]
        (item,) = case_escalations(connection, "BK-01")
        assert item["raised_at"] == "2014-09-01T09:00:00Z" and item["case_ids"] == ["BK-01", "BK-02"]


def test_revoking_a_token_id_the_user_does_not_hold_is_refused(cli: Any, sqlite_url: str) -> None:
    """A mistyped --token-id (or another user's token) must not look like a done revocation: the
    token the operator meant is still live."""
    for name in ("ana", "ben"):
        assert cli("users", "add", name, "--role", "analyst", "--db", sqlite_url).exit_code == 0
    cli("users", "token", "ana", "--db", sqlite_url)
    issued = cli("users", "token", "ben", "--db", sqlite_url)
    ben_token = issued.stdout.strip()
    with CaseStore.open(sqlite_url) as store:
        (ben_id,) = [t["id"] for t in auth.list_tokens(store.engine, "ben")]
    assert f"--token-id {ben_id}" in issued.stderr  # the id --token-id needs is shown where the token is
    wrong = cli("users", "revoke", "ana", "--token-id", str(ben_id), "--db", sqlite_url)
    assert wrong.exit_code == 2 and f"no live token {ben_id}" in wrong.stderr and "ana" in wrong.stderr
    assert wrong.stderr.count("\n") == 1
    with CaseStore.open(sqlite_url) as store:
        assert auth.token_principal(store.engine, ben_token) is not None
    right = cli("users", "revoke", "ben", "--token-id", str(ben_id), "--db", sqlite_url)
    assert right.exit_code == 0 and "revoked 1 token(s)" in right.stdout


def test_a_plain_http_tile_url_is_refused_however_it_is_set(cli: Any, sqlite_url: str, monkeypatch: Any) -> None:
    """Tile requests name the places shown on the map: over plain http they leak them to anyone on
    the path.  --tile-url refused http://; CASELINK_WEB_TILE_URL (and the uvicorn entry point) did not."""
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="https"):
        WebSettings(tile_url="http://tiles.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("CASELINK_WEB_TILE_URL", "http://tiles.example/{z}/{x}/{y}.png")
    refused = cli("serve", "--db", sqlite_url)
    assert refused.exit_code == 2 and "CASELINK_WEB_TILE_URL" in refused.stderr and "https" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr


def test_serve_refuses_insecure_cookies_off_localhost(cli: Any, sqlite_url: str) -> None:
    refused = cli("serve", "--db", sqlite_url, "--host", "0.0.0.0", "--insecure-cookies")  # nosec B104
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        "caselink: error: --insecure-cookies: cookies without Secure are only allowed on localhost "
        "(127.0.0.1, ::1), not on 0.0.0.0; serve over HTTPS and leave cookies secure, or listen on 127.0.0.1"]


def test_asgi_entry_point_misconfigured_is_one_line_not_a_traceback(tmp_path: Any) -> None:
    """``uvicorn caselink.web.asgi:app`` with a bad CASELINK_* variable: one line naming it, no traceback."""
    import os
    import subprocess  # nosec B404 - runs this interpreter on a fixed module
    import sys

    def start(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "import caselink.web.asgi"], capture_output=True, text=True,
                              env={**os.environ, "CASELINK_DB": f"sqlite:///{tmp_path / 'x.db'}", **env},
                              timeout=120, check=False)  # nosec B603

    tiles = start(CASELINK_WEB_TILE_URL="http://tiles.example/{z}/{x}/{y}.png")
    assert tiles.returncode == 2 and "Traceback" not in tiles.stderr
    assert tiles.stderr.strip().splitlines() == [
        "caselink: error: CASELINK_WEB_TILE_URL: must be an https:// URL template such as "
        "https://tiles.example/{z}/{x}/{y}.png"]
    missing = start(CASELINK_DB=str(tmp_path / "no" / "such" / "x.db"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == [
        f"caselink: error: CASELINK_DB: {tmp_path / 'no' / 'such' / 'x.db'}: folder does not exist; "
        "create it or pass --db with another path"]


def test_serve_on_a_port_in_use_is_one_line_before_claiming_to_serve(cli: Any, sqlite_url: str) -> None:
    """A second ``caselink serve`` printed 'caselink web on http://...' and then uvicorn's own
    '[Errno 98] ... address already in use' and exit code 3."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        refused = cli("serve", "--db", sqlite_url, "--port", str(port))
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1 and "caselink web on" not in refused.stderr
    assert f"--port: 127.0.0.1:{port} is already in use" in refused.stderr and "another --port" in refused.stderr
