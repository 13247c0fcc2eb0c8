"""Writing web reads and writes to the audit log (DPA 2018 s.62) through the audit area's API.

The web app never writes ``audit_log`` itself: it calls :func:`caselink.audit.record_event`, so the
hash chain has one writer.  If the audit module cannot be loaded, reads of case data are refused
(503) rather than served unlogged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import Connection, Engine

from caselink.web.db import writing


def _recorder() -> Any:
    try:
        from caselink.audit import record_event
    except ImportError:
        raise HTTPException(503, "the audit log is not available, so case data cannot be served; "
                                 "install or migrate the audit module") from None
    return record_event


def record(target: Engine | Connection, *, action: str, officer: str, case_ids: Iterable[str] | None = None,
           justification: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append one event; with an Engine it commits on its own, with a Connection it joins that transaction."""
    record_event = _recorder()
    ids = sorted(set(case_ids)) if case_ids is not None else None
    details = {"channel": "web", **(details or {})}
    if isinstance(target, Connection):
        record_event(target, action=action, officer=officer, case_ids=ids, justification=justification,
                     details=details)
        return
    with writing(target) as connection:
        record_event(connection, action=action, officer=officer, case_ids=ids, justification=justification,
                     details=details)


def purpose(request: Request, default: str) -> str:
    """Why a list was read: the caller's ``X-Justification`` when sent, else the view's own purpose.

    A script that reads the inbox or a search for a stated reason gets that reason into the log
    (DPA s.62 asks for the justification of each consultation); a browser's list pages log the view.
    """
    sent = " ".join(header_text(request.headers.get("x-justification")).split())
    return sent[:1000] or default


def header_text(value: str | None) -> str:
    """A header's text as the client wrote it: UTF-8 when its bytes are UTF-8, else Latin-1.

    Starlette decodes header bytes as Latin-1 (HTTP's historical charset), so a justification typed
    as 'revisión' by any UTF-8 client (curl, httpx, requests, browsers' fetch) arrived as 'revisiÃ³n'
    and went into the legal record so.  Bytes that are not valid UTF-8 stay as Latin-1 read them.
    """
    if not value:
        return ""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
