"""The web app and REST API (DESIGN §7): ``create_app(db_url, settings)`` and :class:`WebSettings`.

Needs the ``[server]`` extra (FastAPI, uvicorn, argon2-cffi, python-multipart).
"""

from __future__ import annotations

from caselink.web.app import create_app
from caselink.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
