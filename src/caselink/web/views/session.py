"""Sign-in, sign-out and the home page.

Sign-in uses a double-submit token (a cookie and a hidden field that must match) because there is
no session yet to hold a CSRF token; with SameSite=Strict cookies this closes login CSRF.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from caselink.web import auth
from caselink.web.permissions import PUBLIC, SIGNED_IN
from caselink.web.routing import SESSION_COOKIE, Ctx, Views, render
from caselink.web.settings import INSECURE_COOKIES_SETTING, insecure_cookies_refusal

SIGNIN_COOKIE = "caselink_signin"
FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.svg"

# Where each role lands after signing in.
HOME = {"admin": "/admin/users", "oversight": "/cases", "analyst": "/alerts", "investigator": "/alerts",
        "supervisor": "/alerts"}


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so the sign-in page cannot be used to bounce users to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _refuse_insecure_cookies_off_localhost(request: Request) -> None:
    """The sign-in pages set the only cookies: without Secure, they are refused off localhost.

    The same rule ``caselink serve`` applies to its --host (:func:`insecure_cookies_refusal`), here on
    the address the request arrived on, so ``uvicorn caselink.web.asgi:app`` is held to it too.
    """
    if request.app.state.settings.secure_cookies:
        return
    server = request.scope.get("server")
    refusal = insecure_cookies_refusal(str(server[0]) if server else None)
    if refusal is not None:
        raise HTTPException(503, f"this server sends cookies without Secure ({INSECURE_COOKIES_SETTING}): {refusal}")


def _signin_page(request: Request, error: str | None = None, name: str = "", next_path: str = "",
                 status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "signin.html", {"error": error, "name": name, "next": next_path,
                                               "signin_token": token}, status_code=status_code)
    settings = request.app.state.settings
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies,
                        max_age=1800)
    return response


def register(views: Views) -> None:
    @views.page("/favicon.ico", permission=PUBLIC, template="", api=False)
    def favicon(ctx: Ctx) -> Response:
        """Browsers ask for /favicon.ico whatever the page says; answer with the packaged SVG, not a 404."""
        return FileResponse(FAVICON, media_type="image/svg+xml", headers={"cache-control": "max-age=86400"})

    @views.page("/signin", permission=PUBLIC, template="signin.html", api=False)
    def signin_form(ctx: Ctx, next: str = "") -> Response:  # noqa: A002 - the query parameter's name
        _refuse_insecure_cookies_off_localhost(ctx.request)
        return _signin_page(ctx.request, next_path=_safe_next(next) or "")

    @views.page("/signin", permission=PUBLIC, template="signin.html", methods=("POST",), api=False)
    def signin(ctx: Ctx, name: str = Form(""), password: str = Form(""), signin_token: str = Form(""),
               next: str = Form("")) -> Response:  # noqa: A002
        request, settings = ctx.request, ctx.settings
        _refuse_insecure_cookies_off_localhost(request)
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, signin_token):
            return _signin_page(request, "the sign-in form expired; please try again", name, next, 400)
        if not name.strip() or not password:
            return _signin_page(request, "enter your user name and password", name, next, 422)
        try:
            session = auth.sign_in(ctx.engine, name.strip(), password, lockout_failures=settings.lockout_failures,
                                   lockout_minutes=settings.lockout_minutes)
        except auth.AuthError as exc:
            return _signin_page(request, str(exc), name, next, 401 if "locked" not in str(exc) else 423)
        target = _safe_next(next) or HOME.get(session.principal.role, "/")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, session.session_id, httponly=True, samesite="strict",
                            secure=settings.secure_cookies)
        response.delete_cookie(SIGNIN_COOKIE)
        return response

    @views.page("/signout", permission=SIGNED_IN, template="signin.html", methods=("POST",), api=False)
    def signout(ctx: Ctx) -> Response:
        cookie = ctx.request.cookies.get(SESSION_COOKIE)
        if cookie:
            auth.end_session(ctx.engine, cookie)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @views.page("/", permission=SIGNED_IN, template="home.html", api=False)
    def home(ctx: Ctx) -> Any:
        return RedirectResponse(HOME.get(ctx.user.role, "/cases"), status_code=303)

    @views.page("/me", permission=SIGNED_IN, template="me.html", summary="Who am I and what may I do")
    def me(ctx: Ctx) -> dict[str, Any]:
        from caselink.web.permissions import ACTIONS, ROLE_ACTIONS

        allowed = sorted(ROLE_ACTIONS.get(ctx.user.role, frozenset()))
        return {"name": ctx.user.name, "role": ctx.user.role,
                "permissions": [{"action": a, "description": ACTIONS[a]} for a in allowed]}
