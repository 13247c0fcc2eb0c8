"""One handler, two faces: every view is served as an HTML page and as its ``/api`` JSON twin.

Following datasette, the dashboard and the API cannot drift apart because they *are* the same
function: :meth:`Views.page` registers a handler at ``path`` (HTML, rendered with a template) and at
``/api`` + ``path`` (JSON, in the OpenAPI document).  Each registration names one permission; the
guard that checks it is injected as the handler's ``ctx`` argument, and :data:`Views.specs` lists
every (method, path, permission) so the route × role test can walk them all.
"""

from __future__ import annotations

import functools
import inspect
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from caselink.web import auth
from caselink.web.permissions import ACTIONS, ALLOCATION_SCOPED, PUBLIC, Principal
from caselink.web.settings import WebSettings

SESSION_COOKIE = "caselink_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Integer ids are 32-bit columns on PostgreSQL; larger ones are rejected as input (422), not a 500.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    permission: str
    api: bool


@dataclass
class Ctx:
    """What a handler gets besides its own parameters: who asks, through which face, and the store."""

    request: Request
    principal: Principal | None
    engine: Engine      # writes (through caselink.web.db.writing) and reads that must see them
    settings: WebSettings
    api: bool
    permission: str
    reader: Engine      # reads: no lock taken on SQLite (caselink.web.db.reader)

    @property
    def user(self) -> Principal:
        if self.principal is None:  # guards make this unreachable for non-public routes
            raise HTTPException(401, "sign in first")
        return self.principal


@dataclass
class Redirect:
    """A handler's answer to a write: the data for the API, a redirect for the browser."""

    data: Any
    location: str
    status_code: int = 200


@dataclass
class Page:
    """A handler may pick the template itself (e.g. the justification form instead of the case)."""

    template: str
    data: Any
    status_code: int = 200


def _principal(request: Request, engine: Engine, reader: Engine, settings: WebSettings) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = auth.token_principal(reader, header[7:].strip())
        if principal is None:
            raise HTTPException(401, "the bearer token is unknown or revoked; ask for a new one",
                                headers={"WWW-Authenticate": 'Bearer realm="caselink"'})
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return auth.session_principal(engine, cookie, idle_minutes=settings.idle_minutes, reader=reader)
    return None


def guard(permission: str, api: bool, on_loop: bool = False) -> Callable[..., Any]:
    """A dependency that authenticates, checks ``permission`` and CSRF, and builds the :class:`Ctx`.

    For a hot page (``on_loop``) it first waits for the request's turn on the event loop
    (:mod:`caselink.web.turns`): from there the token lookup and the page itself run to the end
    without awaiting anything, so the whole request is one turn.
    """

    async def dependency(request: Request) -> Ctx:
        if "\x00" in unquote(request.url.path + "?" + request.url.query):
            # PostgreSQL text cannot hold NUL; refuse it as input rather than fail in the driver.
            raise HTTPException(400, "the URL contains a NUL character")
        engine: Engine = request.app.state.engine
        reader: Engine = request.app.state.reader
        settings: WebSettings = request.app.state.settings
        if on_loop:
            async with request.app.state.turns.turn():
                principal = _principal(request, engine, reader, settings)
        else:
            principal = _principal(request, engine, reader, settings)
        request.state.principal = principal
        if permission != PUBLIC:
            if principal is None:
                raise HTTPException(401, "sign in, or send a bearer token (`caselink users token NAME`)",
                                    headers={"WWW-Authenticate": 'Bearer realm="caselink"'})
            if not principal.may(permission):
                raise HTTPException(403, f"your role ({principal.role}) may not {permission}")
        if request.method in UNSAFE_METHODS and principal is not None and principal.via_session:
            await check_csrf(request, principal)
        return Ctx(request, principal, engine, settings, api, permission, reader)

    return dependency


async def check_csrf(request: Request, principal: Principal) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
        raise HTTPException(403, "the form's CSRF token is missing or stale; reload the page and try again")


def require_allocation(ctx: Ctx, case_id: str, owners: Sequence[str]) -> None:
    """Investigators may write only on cases where an action is allocated to them."""
    if ctx.user.role == "investigator" and ctx.permission in ALLOCATION_SCOPED and ctx.user.name not in owners:
        raise HTTPException(403, f"case '{case_id}' is not allocated to you; ask a supervisor to allocate it")


@dataclass
class Views:
    """Collects the routes of the app: ``page`` for HTML+JSON twins, ``html``/``api`` for one face."""

    router: APIRouter = field(default_factory=APIRouter)
    specs: list[RouteSpec] = field(default_factory=list)

    def page(self, path: str, *, permission: str, template: str, methods: Sequence[str] = ("GET",),
             html: bool = True, api: bool = True, on_loop: bool = False,
             **route_options: Any) -> Callable[[Callable[..., Any]], Any]:
        """Register ``handler`` as a page and/or its API twin.

        ``on_loop=True`` runs the handler on the event loop instead of a worker thread.  Only for the
        hot, bounded pages (indexed lookups, a capped list, one audit append): for them the thread
        hop and the GIL hand-offs between forty worker threads cost more CPU than the page's own
        work (bench/serve_load.py, BENCHMARKS.md).  Never for anything that can take long (Splink,
        argon2, a scan): it would stall every other request meanwhile.
        """
        if permission not in ACTIONS:
            raise ValueError(f"{path}: unknown permission '{permission}'")

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            if html:
                self._add(path, handler, permission, template, methods, as_api=False, on_loop=on_loop,
                          route_options={"include_in_schema": False})
            if api:
                self._add("/api" + path, handler, permission, template, methods, as_api=True, on_loop=on_loop,
                          route_options=route_options)
            return handler

        return decorate

    def _add(self, path: str, handler: Callable[..., Any], permission: str, template: str,
             methods: Sequence[str], *, as_api: bool, on_loop: bool, route_options: dict[str, Any]) -> None:
        # Annotations resolved here, in the handler's module: FastAPI would look in this one.
        signature = inspect.signature(handler, eval_str=True)
        parameters = [
            p.replace(default=Depends(guard(permission, as_api, on_loop)), kind=inspect.Parameter.KEYWORD_ONLY)
            if p.name == "ctx" else p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in signature.parameters.values()
        ]
        if "ctx" not in signature.parameters:
            raise ValueError(f"{path}: handler {handler.__name__} must take a ctx parameter")

        def answer(**kwargs: Any) -> Any:
            return _answer(kwargs["ctx"], template, handler(**kwargs))

        # FastAPI runs a plain function in its thread pool and awaits a coroutine function on the loop.
        endpoint: Callable[..., Any]
        if on_loop:
            async def endpoint(**kwargs: Any) -> Any:
                return answer(**kwargs)
        else:
            def endpoint(**kwargs: Any) -> Any:
                return answer(**kwargs)

        functools.update_wrapper(endpoint, handler)
        endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[union-attr]
        if not as_api:
            endpoint.__name__ = handler.__name__ + "_html"
        self.router.add_api_route(path, endpoint, methods=list(methods), **route_options)
        self.specs.extend(RouteSpec(m, path, permission, as_api) for m in methods)


def _answer(ctx: Ctx, template: str, result: Any) -> Any:
    if isinstance(result, Response):
        return result
    if ctx.api:
        if isinstance(result, Redirect | Page):
            return result.data
        return result
    if isinstance(result, Redirect):
        return RedirectResponse(result.location, status_code=303)
    if isinstance(result, Page):
        return render(ctx.request, result.template, result.data, status_code=result.status_code)
    return render(ctx.request, template, result)


def render(request: Request, template: str, data: Any, status_code: int = 200) -> Response:
    """A template with the data and what every page needs (who is signed in, the CSRF token)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    settings: WebSettings = request.app.state.settings
    context = {"data": data, "principal": principal, "csrf_token": principal.csrf_token if principal else "",
               "assets": request.app.state.assets_available, "tile_url": settings.tile_url,
               "may": (lambda action: principal is not None and principal.may(action))}
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
