"""Sign-in, lockout, idle expiry, CSRF and bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from caselink.web import auth
from caselink.web.models import SessionRow, TokenRow, UserRow
from tests.web.conftest import PASSWORD, browser_signin, csrf_of


def test_passwords_are_stored_as_argon2_and_tokens_as_digests(app: Any, tokens: dict[str, str]) -> None:
    with app.state.engine.connect() as connection:
        hashes = connection.execute(UserRow.__table__.select()).mappings().all()
        stored_tokens = [r.token_hash for r in connection.execute(TokenRow.__table__.select())]
    assert all(row["password_hash"].startswith("$argon2id$") for row in hashes)
    assert PASSWORD not in str(hashes)
    assert all(t not in stored_tokens for t in tokens.values())
    assert auth.digest(tokens["analyst"]) in stored_tokens


def test_signin_sets_strict_httponly_cookie_and_lands_on_role_home(app_factory: Any) -> None:
    app = app_factory(secure_cookies=True)
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False, base_url="https://testserver")
    page = client.get("/signin")
    token = page.text.split('name="signin_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/signin", data={"name": "analyst", "password": PASSWORD, "signin_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/alerts"
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith("caselink_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie


def test_wrong_password_five_times_locks_even_the_right_one(app: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False, base_url="http://localhost")
    client.get("/signin")

    def attempt(password: str) -> Any:
        # Each answer re-renders the form with a fresh token (kept in the cookie and the hidden field).
        return client.post("/signin", data={"name": "analyst", "password": password,
                                            "signin_token": client.cookies["caselink_signin"]})

    statuses = [attempt("wrong password!").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = attempt(PASSWORD)
    assert locked.status_code == 423 and "locked" in locked.text
    # Ten minutes later the lock is over.
    with app.state.engine.begin() as connection:
        connection.execute(update(UserRow).values(locked_until=auth.now_utc() - timedelta(seconds=1)))
    assert attempt(PASSWORD).status_code == 303


def test_signin_without_its_form_token_is_refused(app: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False, base_url="http://localhost")
    response = client.post("/signin", data={"name": "analyst", "password": PASSWORD, "signin_token": "x"})
    assert response.status_code == 400


def test_session_ends_after_30_idle_minutes(app: Any) -> None:
    client = browser_signin(app, "analyst")
    assert client.get("/api/me").status_code == 200
    with app.state.engine.begin() as connection:
        connection.execute(update(SessionRow).values(last_seen=auth.now_utc() - timedelta(minutes=31)))
    assert client.get("/api/me").status_code == 401
    assert client.get("/cases").headers["location"].startswith("/signin")


def test_post_with_a_session_needs_the_csrf_token(app: Any) -> None:
    client = browser_signin(app, "admin")
    refused = client.post("/admin/users", data={"name": "newbie", "role": "analyst"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    accepted = client.post("/admin/users", data={"name": "newbie", "role": "analyst",
                                                 "csrf_token": csrf_of(client)})
    assert accepted.status_code == 303
    assert auth.get_user(app.state.engine, "newbie")["role"] == "analyst"


def test_signout_ends_the_session(app: Any) -> None:
    client = browser_signin(app, "analyst")
    csrf = csrf_of(client)
    assert client.post("/signout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/api/me").status_code == 401


def test_revoked_token_stops_working(app: Any, api: Any, tokens: dict[str, str]) -> None:
    assert api("analyst").get("/api/me").json()["role"] == "analyst"
    assert auth.revoke_tokens(app.state.engine, "analyst") == 1
    response = api("analyst").get("/api/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_role_change_ends_open_sessions(app: Any) -> None:
    client = browser_signin(app, "analyst")
    auth.set_role(app.state.engine, "analyst", "oversight")
    assert client.get("/api/me").status_code == 401


def test_disabled_token_owner_is_refused(app: Any, api: Any) -> None:
    auth.set_disabled(app.state.engine, "analyst", True)
    assert api("analyst").get("/api/me").status_code == 401


def test_security_headers_on_every_answer(app_factory: Any, api: Any) -> None:
    for response in (api("analyst").get("/api/me"), api(None).get("/api/alerts")):  # answers and problems
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "img-src 'self' data:;" in response.headers["content-security-policy"]  # no tile host
        assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    static = api(None).get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
    tiled = app_factory(tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    with TestClient(tiled) as client:
        assert "img-src 'self' data: https://*.tiles.example.org" in client.get("/signin").headers[
            "content-security-policy"]


def test_a_server_error_logs_no_case_data(api: Any, monkeypatch: Any, caplog: Any) -> None:
    """A failed statement's message carries its bound values (a narrative, a name): the server log
    keeps the statement and the traceback but not the values; the client gets no details at all."""
    import logging

    from sqlalchemy.exc import IntegrityError

    from caselink.web import sources

    value = "Found by Anthony " + "".join(["Wal", "gate"])  # not spelt whole here: tracebacks quote source lines

    def failing(*_args: Any, **_kwargs: Any) -> Any:
        raise IntegrityError("UPDATE cases SET narrative = ?", (value,), Exception("boom"))

    monkeypatch.setattr(sources, "series_detail", failing)
    with caplog.at_level(logging.ERROR, logger="caselink.web"):
        response = api("analyst").get("/api/series/S-0001")
    assert response.status_code == 500 and "Walgate" not in response.text and "UPDATE" not in response.text
    logged = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                       for r in caplog.records)
    assert "IntegrityError" in logged and "UPDATE cases" in logged and "Walgate" not in logged


def test_insecure_cookies_are_refused_off_localhost_by_the_app_itself(app_factory: Any) -> None:
    """Without Secure, a session cookie crosses the network in clear: only http://localhost may use it.

    ``caselink serve`` checks its --host; under ``uvicorn caselink.web.asgi:app`` the app does not know
    the address it listens on until a request arrives, so the sign-in pages (the only ones that set
    cookies) apply the same rule to the address each request came in on.
    """
    from fastapi.testclient import TestClient

    app = app_factory(secure_cookies=False)
    remote = TestClient(app, follow_redirects=False, base_url="http://10.20.30.40:8000")
    page = remote.get("/signin")
    assert page.status_code == 503
    assert "set-cookie" not in page.headers
    assert "only allowed on localhost" in page.text and "CASELINK_WEB_INSECURE_COOKIES" in page.text
    posted = remote.post("/signin", data={"name": "analyst", "password": PASSWORD, "signin_token": "x"})
    assert posted.status_code == 503 and "set-cookie" not in posted.headers
    local = TestClient(app, follow_redirects=False, base_url="http://127.0.0.1:8000")
    assert local.get("/signin").status_code == 200
    secure = TestClient(app_factory(secure_cookies=True), follow_redirects=False, base_url="https://10.20.30.40")
    assert secure.get("/signin").status_code == 200


def test_asgi_entry_point_applies_the_same_cookie_rule(web_db: str, monkeypatch: Any) -> None:
    import importlib

    from fastapi.testclient import TestClient

    monkeypatch.setenv("CASELINK_DB", web_db)
    monkeypatch.setenv("CASELINK_WEB_INSECURE_COOKIES", "1")
    import caselink.web.asgi as asgi

    asgi = importlib.reload(asgi)
    assert TestClient(asgi.app, base_url="http://192.168.1.20").get("/signin").status_code == 503
    assert TestClient(asgi.app, base_url="http://localhost").get("/signin").status_code == 200


def test_serve_and_the_app_share_one_loopback_rule() -> None:
    from caselink.web.settings import insecure_cookies_refusal

    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2", "[::1]"):
        assert insecure_cookies_refusal(host) is None, host
    for host in ("0.0.0.0", "::", "10.0.0.5", "caselink.example.org", "", None):  # nosec B104 - test input
        assert insecure_cookies_refusal(host), host
