"""The FastAPI application: ``create_app(db_url, settings)`` builds a fresh app over one store.

A fresh app per call (no module-level state) lets each test have its own database and settings.
No route reaches a third party: Swagger's CDN-hosted UI is off, front-end libraries are served
from the npm-installed folder, and the map draws no tiles unless an operator configures a URL.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import caselink
from caselink.store import CaseStore
from caselink.web import db, errors, views
from caselink.web.permissions import PUBLIC
from caselink.web.routing import RouteSpec, Views
from caselink.web.settings import WebSettings
from caselink.web.turns import Turns

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
    app.state.engine = db.writer(store.engine)
    app.state.reader = db.reader(store.engine)
    app.state.settings = settings
    app.state.turns = Turns()
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
    app.router.add_event_handler("startup", _freeze_startup_objects)
    app.router.add_event_handler("shutdown", lambda: db.dispose(store.engine))
    app.router.add_event_handler("shutdown", store.close)
    return app


def _freeze_startup_objects() -> None:
    """Move everything built at startup out of the garbage collector's sight (``gc.freeze``).

    The app, its routes, SQLAlchemy's metadata and the imported libraries are hundreds of thousands
    of objects that live as long as the process; every full collection walked all of them, a pause
    of 60-270 ms in the middle of some unlucky request (bench/serve_load.py, BENCHMARKS.md).  Frozen,
    they are never scanned again; objects made by requests are collected as before.
    """
    gc.collect()
    gc.freeze()


def _security_headers(app: FastAPI, settings: WebSettings) -> None:
    image_sources = "'self' data:"
    if settings.tile_url:
        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        image_sources += f" {parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}"
    policy = (f"default-src 'self'; img-src {image_sources}; style-src 'self'; script-src 'self'; "
              "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    app.add_middleware(SecurityHeaders, policy=policy)


class SecurityHeaders:
    """CSP and friends on every answer; ``no-store`` on everything but static files.

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    runs every request through an extra task and a response stream, CPU the hot pages do not need.
    """

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.fixed = [(b"content-security-policy", policy.encode()), (b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = self.fixed if scope["path"].startswith(("/static/", "/assets/")) else \
            [*self.fixed, (b"cache-control", b"no-store")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in wanted if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
