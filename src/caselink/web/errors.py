"""Errors as RFC 9457 problem details (``application/problem+json``), never a stack trace.

API clients get a problem object with the field named where a field is at fault; a browser gets
the same message on an error page, and a browser that is not signed in is sent to the sign-in
page instead of seeing a bare 401.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("caselink.web")


class FieldProblem(Exception):
    """Bad input in named fields: 422 with ``errors: [{field, message}]``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path in ("/openapi.json", "/api"):
        return False
    return "text/html" in request.headers.get("accept", "") or "application/json" not in request.headers.get(
        "accept", "")


def _page(request: Request, status: int, detail: str, errors: list[dict[str, str]] | None = None) -> Response:
    from caselink.web.routing import render

    if status == 401:
        return RedirectResponse("/signin?next=" + quote(request.url.path, safe="/"), status_code=303)
    return render(request, "error.html", {"status": status, "title": HTTPStatus(status).phrase,
                                          "detail": detail, "errors": errors or []}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json (or an error page)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
        if wants_html(request):
            response = _page(request, exc.status_code, detail)
        else:
            response = problem(exc.status_code, detail)
        for key, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path",
                                                                                     "header")) or "body",
                   "message": str(e.get("msg", "is invalid"))} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if wants_html(request):
            return _page(request, 422, detail, errors)
        return problem(422, detail, errors=errors)

    @app.exception_handler(FieldProblem)
    async def field_problem(request: Request, exc: FieldProblem) -> Response:
        if wants_html(request):
            return _page(request, 422, str(exc), exc.errors)
        return problem(422, str(exc), errors=exc.errors)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        _hide_statement_parameters(exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal error; the server log has the details")


def _hide_statement_parameters(exc: BaseException | None) -> None:
    """Keep bound values (a narrative, a victim's name) out of the server log.

    SQLAlchemy prints a failed statement's parameters in its message; the statement and the
    traceback stay, the values go.  Chained causes are covered too.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StatementError):
            exc.hide_parameters = True
        exc = exc.__cause__ or exc.__context__


__all__ = ["FieldProblem", "HTTPException", "install", "problem"]
