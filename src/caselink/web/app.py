"""The FastAPI application: ``create_app(db_url, settings)`` builds a fresh app over one store.

A fresh app per call (no module-level state) lets each test have its own database and settings.
No route reaches a third party: Swagger's CDN-hosted UI is off, front-end libraries are served
from the npm-installed folder, and the map draws no tiles unless an operator configures a URL.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

import caselink
from caselink.store import CaseStore
from caselink.web import errors, views
from caselink.web.permissions import PUBLIC
from caselink.web.routing import RouteSpec, Views
from caselink.web.settings import WebSettings

HERE = Path(__file__).resolve().parent


def create_app(db_url: str | None = None, settings: WebSettings | None = None) -> FastAPI:
    """An app serving the store at ``db_url`` (migrated on open) with ``settings`` (defaults: safe)."""
    settings = settings or WebSettings()
    store = CaseStore.open(db_url)
    app = FastAPI(
        title="caselink", version=caselink.__version__, docs_url=None, redoc_url=None,
        description="Series detection, assurance and audit for unexplained deaths. Authenticate with "
                    "`Authorization: Bearer <token>` (`caselink users token NAME`). Every case read needs "
                    "an `X-Justification` header and is written to the audit log.",
    )
    app.state.store = store
    app.state.engine = store.engine
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    assets_dir = settings.resolved_assets_dir()
    app.state.assets_available = assets_dir is not None

    # Routes go straight onto the app's router so that app.routes lists every one of them (the
    # route × role test walks that list).
    route_table = Views(router=app.router)
    for module in sorted(pkgutil.iter_modules(views.__path__), key=lambda m: m.name):
        importlib.import_module(f"caselink.web.views.{module.name}").register(route_table)
    app.state.route_specs = [*route_table.specs, RouteSpec("GET", "/openapi.json", PUBLIC, True)]

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    if assets_dir is not None:
        app.mount("/assets", StaticFiles(directory=str(assets_dir)), name="assets")
    errors.install(app)
    _security_headers(app, settings)
    app.add_middleware(DropEmptyFormFields)
    app.router.add_event_handler("shutdown", store.close)
    return app


def _security_headers(app: FastAPI, settings: WebSettings) -> None:
    image_sources = "'self' data:"
    if settings.tile_url:
        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        image_sources += f" {parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}"
    policy = (f"default-src 'self'; img-src {image_sources}; style-src 'self'; script-src 'self'; "
              "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

    @app.middleware("http")
    async def add_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith(("/static/", "/assets/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class DropEmptyFormFields:
    """A page's GET form sends every field, empty or not; an empty field means "not set".

    Without this, a search form with its age box left empty would be refused (``min_age`` is not
    an integer).  Only pages are affected: API clients get exactly the validation they asked for.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope.get("query_string") \
                and not scope["path"].startswith("/api/"):
            # Byte-level, so every other parameter reaches the app exactly as sent.
            pairs = scope["query_string"].split(b"&")
            kept = [pair for pair in pairs if pair and not pair.endswith(b"=")]
            if len(kept) < len(pairs):
                scope = {**scope, "query_string": b"&".join(kept)}
        await self.app(scope, receive, send)
