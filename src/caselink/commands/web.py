"""``caselink serve`` and ``caselink users``: run the web app and manage who may use it."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from caselink.commands.common import EXIT_BAD_INPUT, DbOption, JsonOption, fail, open_store, print_json

users_app = typer.Typer(help="Web users, roles and bearer tokens.", no_args_is_help=True)

ROLE_HELP = "analyst, investigator, supervisor, oversight or admin."


def _auth():  # type: ignore[no-untyped-def]
    try:
        from caselink.web import auth
    except ImportError as exc:
        fail(f"the web extra is not installed ({exc.name} missing); pip install 'caselink[server]'")
    return auth


def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    insecure_cookies: Annotated[bool, typer.Option(
        "--insecure-cookies", help="Send cookies over plain http (only for http://localhost).")] = False,
    tile_url: Annotated[str | None, typer.Option(
        "--tile-url", help="Map tiles URL template; none by default so case locations never leave.")] = None,
    no_pseudonyms: Annotated[bool, typer.Option(
        "--no-pseudonyms", help="Show oversight users sensitive fields in clear.")] = False,
) -> None:
    """Run the web app and REST API (FastAPI under uvicorn)."""
    try:
        import uvicorn

        from caselink.web import WebSettings, create_app
        from caselink.web.settings import insecure_cookies_refusal, settings_problem
    except ImportError as exc:
        fail(f"the web extra is not installed ({exc.name} missing); pip install 'caselink[server]'")
    if tile_url is not None and not tile_url.startswith("https://"):
        fail("--tile-url: must be an https:// URL template such as https://tiles.example/{z}/{x}/{y}.png",
             EXIT_BAD_INPUT)
    try:
        settings = WebSettings.from_env(secure_cookies=False if insecure_cookies else None, tile_url=tile_url,
                                        pseudonymise_oversight=False if no_pseudonyms else None)
    except ValidationError as exc:  # only a CASELINK_WEB_* variable can get here: the options were checked
        fail(settings_problem(exc), EXIT_BAD_INPUT)
    refusal = None if settings.secure_cookies else insecure_cookies_refusal(host)
    if refusal is not None:
        fail(f"{'--insecure-cookies' if insecure_cookies else 'CASELINK_WEB_INSECURE_COOKIES=1'}: {refusal}",
             EXIT_BAD_INPUT)
    store = open_store(db)  # migrates and reports a bad --db as one line before the server starts
    url = store.url
    store.close()
    _check_address(host, port)
    typer.echo(f"caselink web on http://{host}:{port}/ (store {url.split('://')[0]})", err=True)
    uvicorn.run(create_app(url, settings), host=host, port=port, log_level="warning")


def _check_address(host: str, port: int) -> None:
    """Fail in one line when the address cannot be listened on, before claiming to serve on it.

    Without this, uvicorn printed its own '[Errno 98] ... address already in use' after our banner
    and exited 3.  A bind that succeeds here is released at once for uvicorn to take.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"--host: cannot listen on '{host}' ({exc.strerror}); use an address of this machine such as "
             "127.0.0.1", EXIT_BAD_INPUT)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"--port: {host}:{port} is already in use (another caselink serve?); stop it or choose "
                     "another --port")
            fail(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror})")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (first line).")] = False,
    db: DbOption = None,
) -> None:
    """Add a user.  Without --password-stdin the user can only use bearer tokens."""
    auth = _auth()
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input was empty; pipe the password in", EXIT_BAD_INPUT)
    store = open_store(db)
    try:
        auth.add_user(store.engine, name, role, password, audit=_audit_hook())
    except auth.AuthError as exc:
        store.close()
        fail(str(exc), EXIT_BAD_INPUT)
    except AuditWriteFailed as exc:
        store.close()
        fail(str(exc))
    store.close()
    typer.echo(f"added {role} '{name}'" + ("" if password else " (no password: use `caselink users token`)"))


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    db: DbOption = None,
) -> None:
    """Print a new bearer token for scripts (shown once; stored only as a hash)."""
    auth = _auth()
    store = open_store(db)
    try:
        token_id, token = auth.issue_token(store.engine, name, label, audit=_audit_hook())
    except auth.AuthError as exc:
        store.close()
        fail(str(exc), EXIT_BAD_INPUT)
    except AuditWriteFailed as exc:
        store.close()
        fail(str(exc))
    store.close()
    typer.echo(token)
    # On stderr, so a script's $(caselink users token NAME) still captures the token alone.
    typer.echo(f"token id {token_id}: revoke it alone with `caselink users revoke {name} --token-id {token_id}`",
               err=True)


@users_app.command("revoke")
def users_revoke(
    name: Annotated[str, typer.Argument(help="Whose tokens to revoke.")],
    token_id: Annotated[int | None, typer.Option("--token-id", help="Only this token (default: all).")] = None,
    db: DbOption = None,
) -> None:
    """Revoke a user's bearer tokens: they stop working at once."""
    auth = _auth()
    store = open_store(db)
    if auth.get_user(store.engine, name) is None:
        store.close()
        fail(f"no user '{name}'; `caselink users list` shows them", EXIT_BAD_INPUT)
    try:
        n_revoked = auth.revoke_tokens(store.engine, name, token_id, audit=_audit_hook())
    except AuditWriteFailed as exc:
        store.close()
        fail(str(exc))
    if token_id is not None and n_revoked == 0:
        # A mistyped id, or another user's token: the token the operator meant is still live.
        store.close()
        fail(f"--token-id: no live token {token_id} of '{name}'; check the id (`caselink users token` printed "
             f"it), or revoke all of the user's tokens with `caselink users revoke {name}`", EXIT_BAD_INPUT)
    store.close()
    typer.echo(f"revoked {n_revoked} token(s) of '{name}'")


@users_app.command("role")
def users_role(
    name: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    db: DbOption = None,
) -> None:
    """Change a user's role (their open sessions end)."""
    auth = _auth()
    store = open_store(db)
    try:
        auth.set_role(store.engine, name, role, audit=_audit_hook())
    except auth.AuthError as exc:
        store.close()
        fail(str(exc), EXIT_BAD_INPUT)
    except AuditWriteFailed as exc:
        store.close()
        fail(str(exc))
    store.close()
    typer.echo(f"'{name}' is now {role}")


@users_app.command("list")
def users_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List users, roles, lock state and live tokens."""
    auth = _auth()
    store = open_store(db)
    users = auth.list_users(store.engine)
    store.close()
    if as_json:
        print_json(users)
        return
    for user in users:
        flags = [f for f, on in (("disabled", user["disabled"]), ("locked", user["locked"])) if on]
        typer.echo(f"{user['name']:<24} {user['role']:<13} tokens={user['n_tokens']} {' '.join(flags)}".rstrip())


class AuditWriteFailed(Exception):
    """The audit entry of an account change could not be written; the change was rolled back."""


def _audit_hook() -> Callable[[Any, dict[str, Any]], None]:
    """Account changes go to the audit log as alterations, in the change's own transaction.

    If the entry cannot be written the change rolls back with it: no account change lands unrecorded.
    Without the audit module installed, changes are not logged (as before the audit area existed).
    """
    from caselink.commands.common import officer_name

    officer = officer_name(None)

    def write(connection: Any, facts: dict[str, Any]) -> None:
        try:
            from caselink.audit import record_event
        except ImportError:
            return
        try:
            record_event(connection, action="alteration", officer=officer, details={"object": "web_user", **facts})
        except Exception as exc:
            raise AuditWriteFailed("the audit log could not record this account change, so nothing was "
                                   f"changed: {exc}") from exc

    return write


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(users_app, name="users")
