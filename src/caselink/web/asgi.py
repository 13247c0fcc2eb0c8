"""ASGI entry point for process managers: ``uvicorn caselink.web.asgi:app --workers N``.

The store comes from ``CASELINK_DB`` and settings from ``CASELINK_WEB_*`` variables (see
:meth:`WebSettings.from_env`); each worker process builds its own app and connection pool.
"""

from __future__ import annotations

from caselink.web.app import create_app
from caselink.web.settings import WebSettings

app = create_app(None, WebSettings.from_env())
