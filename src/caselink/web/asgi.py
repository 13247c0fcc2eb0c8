"""ASGI entry point for process managers: ``uvicorn caselink.web.asgi:app --workers N``.

The store comes from ``CASELINK_DB`` and settings from ``CASELINK_WEB_*`` variables (see
:meth:`WebSettings.from_env`); each worker process builds its own app and connection pool.  A
refused variable or an unusable store stops the process with one line naming the variable (exit
2), as ``caselink serve`` does, rather than a traceback from deep inside the import.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from pydantic import ValidationError

from caselink.store import StoreError
from caselink.web.app import create_app
from caselink.web.settings import WebSettings, settings_problem


def _refuse(message: str) -> NoReturn:
    print(f"caselink: error: {message}", file=sys.stderr)
    raise SystemExit(2)


try:
    app = create_app(None, WebSettings.from_env())
except ValidationError as exc:
    _refuse(settings_problem(exc))
except StoreError as exc:
    _refuse(f"CASELINK_DB: {exc}")
