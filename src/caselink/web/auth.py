"""Users, passwords, sessions and bearer tokens.

Functions take an SQLAlchemy ``Engine`` so the CLI (``caselink users``) and the app share them.
Rules the issue fixes: argon2 hashes; 5 failed sign-ins lock an account for 10 minutes (even the
right password is refused meanwhile, so guessing cannot continue); a session ends after 30 idle
minutes; bearer tokens are stored as digests and can be revoked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, String, Table, bindparam, delete, func, select, update

from caselink.web.db import writing
from caselink.web.models import SecretRow, SessionRow, TokenRow, UserRow
from caselink.web.permissions import ROLES, Principal

USERS = cast(Table, UserRow.__table__)
SESSIONS = cast(Table, SessionRow.__table__)
TOKENS = cast(Table, TokenRow.__table__)
SECRETS = cast(Table, SecretRow.__table__)

TOKEN_PREFIX = "clk_"  # nosec B105 - a public marker that makes leaked tokens easy to scan for, not a secret
MIN_PASSWORD_LENGTH = 12
# A session's last_seen is written at most this often: reads should not all become writes.
TOUCH_EVERY = timedelta(seconds=60)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("caselink-no-such-user")


# Writes an account change's audit entry inside the change's own transaction: (connection, facts),
# the facts being {"change": "user_added" | "role_changed" | ..., "user": NAME, ...}.  If it raises,
# the change rolls back with it, so no account change lands without its entry (DPA 2018 s.62).
AuditHook = Callable[[Connection, dict[str, Any]], None]


def _no_audit(_connection: Connection, _facts: dict[str, Any]) -> None:
    """For callers that log nothing (tests, tools building a fixture database)."""


class AuthError(Exception):
    """A refused sign-in or a bad user-management request; the message is safe to show."""


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- users ----------------------------------------------------------------------------------------
def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")


def add_user(engine: Engine, name: str, role: str, password: str | None, *, audit: AuditHook = _no_audit) -> None:
    """Create a user; without a password the user can only use bearer tokens.

    ``audit`` writes the change's audit entry in the same transaction (:data:`AuditHook`).
    """
    if not NAME_PATTERN.match(name):
        raise AuthError(f"name: '{name}' must be 1-100 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise AuthError(f"role: '{role}' is not one of {', '.join(ROLES)}")
    if password is not None:
        check_password_rules(password)
    with writing(engine) as connection:
        if connection.execute(select(USERS.c.name).where(USERS.c.name == name)).first():
            raise AuthError(f"name: user '{name}' already exists; use `caselink users role` to change the role")
        connection.execute(USERS.insert().values(
            name=name, role=role, password_hash=_hasher.hash(password) if password else None,
            created_at=now_utc(), disabled=False, failed_signins=0, locked_until=None))
        audit(connection, {"change": "user_added", "user": name, "role": role})


def set_role(engine: Engine, name: str, role: str, *, audit: AuditHook = _no_audit) -> None:
    if role not in ROLES:
        raise AuthError(f"role: '{role}' is not one of {', '.join(ROLES)}")
    with writing(engine) as connection:
        if connection.execute(update(USERS).where(USERS.c.name == name).values(role=role)).rowcount == 0:
            raise AuthError(f"name: no user '{name}'")
        # A role change ends existing sessions so the new permissions apply at once.
        connection.execute(delete(SESSIONS).where(SESSIONS.c.user_name == name))
        audit(connection, {"change": "role_changed", "user": name, "role": role})


def set_disabled(engine: Engine, name: str, disabled: bool, *, audit: AuditHook = _no_audit) -> None:
    with writing(engine) as connection:
        if connection.execute(update(USERS).where(USERS.c.name == name).values(disabled=disabled)).rowcount == 0:
            raise AuthError(f"name: no user '{name}'")
        if disabled:
            connection.execute(delete(SESSIONS).where(SESSIONS.c.user_name == name))
        audit(connection, {"change": "user_disabled" if disabled else "user_enabled", "user": name})


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Users with their role, lock state and number of live tokens (never a hash)."""
    live = (select(TOKENS.c.user_name, func.count().label("n")).where(TOKENS.c.revoked_at.is_(None))
            .group_by(TOKENS.c.user_name).subquery())
    query = (select(USERS.c.name, USERS.c.role, USERS.c.created_at, USERS.c.disabled, USERS.c.locked_until,
                    USERS.c.password_hash.is_not(None).label("has_password"), live.c.n)
             .outerjoin(live, live.c.user_name == USERS.c.name).order_by(USERS.c.name))
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    current = now_utc()
    return [{"name": r["name"], "role": r["role"], "created_at": r["created_at"], "disabled": bool(r["disabled"]),
             "locked": bool(r["locked_until"] and r["locked_until"] > current),
             "has_password": bool(r["has_password"]), "n_tokens": int(r["n"] or 0)} for r in rows]


def get_user(engine: Engine, name: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
    return dict(row) if row else None


# -- sign-in and sessions -------------------------------------------------------------------------
@dataclass(frozen=True)
class NewSession:
    session_id: str     # the cookie value; only its digest is stored
    csrf_token: str
    principal: Principal


def sign_in(engine: Engine, name: str, password: str, *, lockout_failures: int = 5,
            lockout_minutes: int = 10) -> NewSession:
    """Check a password and open a session, counting failures towards a lockout.

    The password is checked (argon2: about a quarter of a second of CPU, on purpose) outside the
    writer lock and outside any transaction.  Inside them it blocked every other writer for that
    long, and every hot page appends to the audit log through the same lock on the event loop: one
    sign-in stalled every request of the process.  The account is read again in the short write
    transaction that follows, so a lock, a disabled account or a changed password that arrived
    meanwhile is honoured, and concurrent failures are counted in SQL, none lost.
    """
    current = now_utc()
    with engine.connect() as connection:
        user = connection.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
    if user is None or user["password_hash"] is None:
        _verify(_DUMMY_HASH, password)
        raise AuthError("name or password is wrong")
    locked = (f"this account is locked after repeated failed sign-ins; try again in {lockout_minutes} minutes "
              "or ask an administrator")
    if user["locked_until"] and user["locked_until"] > current:
        raise AuthError(locked)
    password_ok = _verify(user["password_hash"], password)
    refusal: str | None = None
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    # The failure count must commit even though the sign-in is refused, so the refusal is raised
    # only after the transaction ends.
    with writing(engine) as connection:
        fresh = connection.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
        if fresh is None or fresh["password_hash"] != user["password_hash"]:
            refusal = "name or password is wrong"  # deleted, or the password changed while we checked
        elif fresh["locked_until"] and fresh["locked_until"] > current:
            refusal = locked
        elif not password_ok:
            failures = connection.execute(
                update(USERS).where(USERS.c.name == name).values(failed_signins=USERS.c.failed_signins + 1)
                .returning(USERS.c.failed_signins)).scalar_one()
            if failures >= lockout_failures:
                connection.execute(update(USERS).where(USERS.c.name == name).values(
                    failed_signins=0, locked_until=current + timedelta(minutes=lockout_minutes)))
                refusal = f"too many failed sign-ins: this account is locked for {lockout_minutes} minutes"
            else:
                refusal = "name or password is wrong"
        elif fresh["disabled"]:
            refusal = "this account is disabled; ask an administrator"
        else:
            connection.execute(update(USERS).where(USERS.c.name == name).values(failed_signins=0,
                                                                                locked_until=None))
            connection.execute(SESSIONS.insert().values(
                id_hash=digest(session_id), user_name=name, csrf_token=csrf, created_at=current,
                last_seen=current, justified={}))
    if refusal is not None or fresh is None:
        raise AuthError(refusal or "name or password is wrong")
    return NewSession(session_id, csrf, Principal(name, fresh["role"], digest(session_id), csrf))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_principal(engine: Engine, session_id: str, *, idle_minutes: int = 30,
                      reader: Engine | None = None) -> Principal | None:
    """The user behind a session cookie, or None when unknown, idle too long, or the user is disabled.

    ``reader`` (:func:`caselink.web.db.reader`) is used for the lookup when given; writes use ``engine``.
    """
    current = now_utc()
    id_hash = digest(session_id)
    with (reader or engine).connect() as connection:
        row = connection.execute(
            select(SESSIONS.c.last_seen, SESSIONS.c.csrf_token, USERS.c.name, USERS.c.role, USERS.c.disabled)
            .join(USERS, USERS.c.name == SESSIONS.c.user_name).where(SESSIONS.c.id_hash == id_hash)
        ).first()
    if row is None:
        return None
    last_seen, csrf, name, role, disabled = row
    if disabled or current - last_seen > timedelta(minutes=idle_minutes):
        end_session(engine, session_id)
        return None
    if current - last_seen > TOUCH_EVERY:
        with writing(engine) as connection:
            connection.execute(update(SESSIONS).where(SESSIONS.c.id_hash == id_hash).values(last_seen=current))
    return Principal(name, role, id_hash, csrf)


def end_session(engine: Engine, session_id: str) -> None:
    with writing(engine) as connection:
        connection.execute(delete(SESSIONS).where(SESSIONS.c.id_hash == digest(session_id)))


def session_justification(engine: Engine, id_hash: str, case_id: str) -> str | None:
    """The justification this session already gave for ``case_id`` (asked once per case per session)."""
    with engine.connect() as connection:
        justified = connection.execute(
            select(SESSIONS.c.justified).where(SESSIONS.c.id_hash == id_hash)).scalar_one_or_none()
    return (justified or {}).get(case_id)


def remember_justification(engine: Engine, id_hash: str, case_id: str, justification: str) -> None:
    with writing(engine) as connection:
        justified = connection.execute(
            select(SESSIONS.c.justified).where(SESSIONS.c.id_hash == id_hash)).scalar_one_or_none()
        if justified is None:
            return
        connection.execute(update(SESSIONS).where(SESSIONS.c.id_hash == id_hash)
                           .values(justified={**justified, case_id: justification}))


# -- bearer tokens --------------------------------------------------------------------------------
def issue_token(engine: Engine, name: str, label: str | None = None, *,
                audit: AuditHook = _no_audit) -> tuple[int, str]:
    """A new bearer token for ``name``: (token id, the token).  The token is shown once, stored hashed."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with writing(engine) as connection:
        if not connection.execute(select(USERS.c.name).where(USERS.c.name == name)).first():
            raise AuthError(f"name: no user '{name}'; add it first with `caselink users add`")
        token_id = connection.execute(TOKENS.insert().values(
            token_hash=digest(token), user_name=name, label=label, created_at=now_utc())).inserted_primary_key
        audit(connection, {"change": "token_issued", "user": name, "token_id": int(token_id[0])})  # type: ignore[index]
    return int(token_id[0]), token  # type: ignore[index]


def revoke_tokens(engine: Engine, name: str, token_id: int | None = None, *, audit: AuditHook = _no_audit) -> int:
    """Revoke one token (by id) or every live token of ``name``; returns how many were revoked.

    A named token that was not revoked (unknown, another user's, already revoked) changes nothing
    and is not audited; revoking all of a user's tokens is audited even when there were none.
    """
    query = update(TOKENS).where(TOKENS.c.user_name == name, TOKENS.c.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(TOKENS.c.id == token_id)
    with writing(engine) as connection:
        n_revoked = int(connection.execute(query.values(revoked_at=now_utc())).rowcount)
        if token_id is None or n_revoked:
            audit(connection, {"change": "tokens_revoked", "user": name, "n_revoked": n_revoked})
    return n_revoked


def list_tokens(engine: Engine, name: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(TOKENS.c.id, TOKENS.c.label, TOKENS.c.created_at, TOKENS.c.last_used, TOKENS.c.revoked_at)
            .where(TOKENS.c.user_name == name).order_by(TOKENS.c.id)).mappings().all()
    return [dict(r) for r in rows]


# Built once: every API request looks its token up (never cached, so a revocation applies at once).
_TOKEN_USER = (select(USERS.c.name, USERS.c.role, USERS.c.disabled)
               .join(TOKENS, TOKENS.c.user_name == USERS.c.name)
               .where(TOKENS.c.token_hash == bindparam("token_hash", type_=String), TOKENS.c.revoked_at.is_(None)))


def token_principal(engine: Engine, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as connection:
        row = connection.execute(_TOKEN_USER, {"token_hash": digest(token)}).first()
    if row is None or row[2]:
        return None
    return Principal(row[0], row[1])


# -- server secrets -------------------------------------------------------------------------------
_SECRETS_SEEN: weakref.WeakKeyDictionary[Engine, dict[str, str]] = weakref.WeakKeyDictionary()


def server_secret(engine: Engine, name: str) -> str:
    """A random secret created on first use and kept in the store (e.g. the pseudonym key).

    A stored secret never changes, so it is remembered per engine: oversight pages ask for the
    pseudonym key on every request, and one query per request for a constant is waste.
    """
    seen = _SECRETS_SEEN.setdefault(engine, {})
    if name not in seen:
        seen[name] = _load_or_create_secret(engine, name)
    return seen[name]


def _load_or_create_secret(engine: Engine, name: str) -> str:
    with engine.connect() as connection:
        value = connection.execute(select(SECRETS.c.value).where(SECRETS.c.name == name)).scalar_one_or_none()
    if value is not None:
        return str(value)
    candidate = secrets.token_hex(32)
    try:
        with writing(engine) as connection:
            connection.execute(SECRETS.insert().values(name=name, value=candidate))
        return candidate
    except Exception:  # noqa: BLE001 - another process created it first; use theirs
        with engine.connect() as connection:
            return str(connection.execute(select(SECRETS.c.value).where(SECRETS.c.name == name)).scalar_one())
