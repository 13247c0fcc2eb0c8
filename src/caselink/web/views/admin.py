"""Administration: users, roles and bearer tokens.  The admin role sees no case data at all."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from caselink.web import auth, trail
from caselink.web.errors import log
from caselink.web.forms import Submitted, body_of, openapi_body
from caselink.web.permissions import ACTIONS, ROLE_ACTIONS, ROLES
from caselink.web.routing import Ctx, Page, Redirect, Views

RoleName = Literal["analyst", "investigator", "supervisor", "oversight", "admin"]


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=auth.NAME_PATTERN.pattern)
    role: RoleName
    password: str | None = Field(None, min_length=auth.MIN_PASSWORD_LENGTH, max_length=1000)


class RoleChange(BaseModel):
    role: RoleName


class TokenRequest(BaseModel):
    label: str | None = Field(None, max_length=200)


def _users_page(ctx: Ctx, errors: dict[str, str] | None = None, raw: dict[str, Any] | None = None,
                new_token: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"users": auth.list_users(ctx.engine), "roles": ROLES,
            "matrix": [{"action": a, "description": d, "roles": [r for r in ROLES if a in ROLE_ACTIONS[r]]}
                       for a, d in ACTIONS.items() if a not in ("public", "signed_in")],
            "errors": errors or {}, "form": raw or {}, "new_token": new_token}


def _audit_admin(ctx: Ctx) -> auth.AuditHook:
    """The audit entry of an account change, written in the change's own transaction.

    Account changes are alterations of who may see the data, logged like any other alteration; if the
    entry cannot be written the change rolls back with it (503), so none lands unrecorded.
    """
    officer = ctx.user.name

    def write(connection: Connection, facts: dict[str, Any]) -> None:
        try:
            trail.record(connection, action="alteration", officer=officer, details={"object": "web_user", **facts})
        except HTTPException:
            raise
        except Exception as exc:
            log.exception("audit append failed for an account change")
            raise HTTPException(503, "the audit log could not record this account change, so nothing was "
                                     "changed; try again, or ask the operator to check the database") from exc

    return write


def register(views: Views) -> None:
    @views.page("/admin/users", permission="user.manage", template="admin.html", summary="List users")
    def users(ctx: Ctx) -> dict[str, Any]:
        return _users_page(ctx)

    @views.page("/admin/users", permission="user.manage", template="admin.html", methods=("POST",),
                status_code=201, openapi_extra=openapi_body(NewUser), summary="Add a user")
    def add_user(ctx: Ctx, body: Submitted[NewUser] = Depends(body_of(NewUser))) -> Any:
        if body.value is None and not ctx.api:
            return Page("admin.html", _users_page(ctx, body.errors, body.raw), 422)
        new = body.or_raise()
        try:
            auth.add_user(ctx.engine, new.name, new.role, new.password, audit=_audit_admin(ctx))
        except auth.AuthError as exc:
            field, _, message = str(exc).partition(": ")
            if ctx.api:
                status = 409 if "already exists" in message else 422
                raise HTTPException(status, str(exc)) from None
            return Page("admin.html", _users_page(ctx, {field: message}, body.raw), 422)
        return Redirect({"name": new.name, "role": new.role}, "/admin/users")

    @views.page("/admin/users/{name}/role", permission="user.manage", template="admin.html", methods=("POST",),
                openapi_extra=openapi_body(RoleChange), summary="Change a user's role")
    def change_role(ctx: Ctx, name: str, body: Submitted[RoleChange] = Depends(body_of(RoleChange))) -> Any:
        change = body.or_raise()
        try:
            auth.set_role(ctx.engine, name, change.role, audit=_audit_admin(ctx))
        except auth.AuthError as exc:
            raise HTTPException(404, str(exc)) from None
        return Redirect({"name": name, "role": change.role}, "/admin/users")

    @views.page("/admin/users/{name}/tokens", permission="user.manage", template="admin.html",
                methods=("POST",), status_code=201, openapi_extra=openapi_body(TokenRequest),
                summary="Issue a bearer token (shown once)")
    def new_token(ctx: Ctx, name: str, body: Submitted[TokenRequest] = Depends(body_of(TokenRequest))) -> Any:
        request = body.or_raise()
        try:
            token_id, token = auth.issue_token(ctx.engine, name, request.label, audit=_audit_admin(ctx))
        except auth.AuthError as exc:
            raise HTTPException(404, str(exc)) from None
        issued = {"name": name, "token_id": token_id, "token": token}
        return Page("admin.html", _users_page(ctx, new_token=issued)) if not ctx.api else issued

    @views.page("/admin/users/{name}/tokens/revoke", permission="user.manage", template="admin.html",
                methods=("POST",), summary="Revoke every live token of a user")
    def revoke(ctx: Ctx, name: str) -> Any:
        if auth.get_user(ctx.engine, name) is None:
            raise HTTPException(404, f"no user '{name}'")
        n_revoked = auth.revoke_tokens(ctx.engine, name, audit=_audit_admin(ctx))
        return Redirect({"name": name, "n_revoked": n_revoked}, "/admin/users")
