"""The browser's favicon request is answered from the package (no 404 on every page load)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_favicon_is_served_without_signing_in(app: Any) -> None:
    client = TestClient(app)
    for path in ("/favicon.ico", "/static/favicon.svg"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.text.lstrip().startswith("<svg") and "<script" not in answer.text


def test_pages_name_the_icon(app: Any) -> None:
    page = TestClient(app).get("/signin")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
