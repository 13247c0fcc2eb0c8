"""End to end in a real headless Chromium (Debian's, launched by path) against a real server.

Signs in, opens an alert, sees the map and timeline, moves the time slider, reads a case (giving a
justification), records a decision; screenshots go to artifacts/screenshots/ (and, with
CASELINK_UPDATE_DOCS_IMG=1, to docs/img/ for the user guide).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
DOCS_IMG = REPO / "docs" / "img"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start on loopback")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/ensure_chromium.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if os.environ.get("CASELINK_UPDATE_DOCS_IMG") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHOTS / f"{name}.png", DOCS_IMG / f"{name}.png")


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(base + "/signin")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_alert_to_series_to_decision(server: str, page: Any) -> None:
    page.goto(server + "/signin")
    shot(page, "signin")
    sign_in(page, server, "supervisor")
    page.wait_for_url(server + "/alerts")
    assert page.locator("article.alert").count() == 1
    assert "ghb in 2 of 2" in page.locator("article.alert").inner_text()
    shot(page, "alerts")

    page.click("article.alert h2 a[href^='/series/']")
    page.wait_for_url("**/series/S-0001?alert=1")
    page.wait_for_selector("#map .leaflet-container, #map.leaflet-container, #map svg[data-fallback]")
    page.wait_for_selector(".waterfall svg", timeout=60_000)
    assert page.locator("#timeline circle").count() == 2
    assert "2 of 2" in page.locator("#time-label").inner_text()
    assert _marker_pixels(page) > 20
    shot(page, "series")
    page.locator("#time-slider").fill("0")
    assert "1 of 2" in page.locator("#time-label").inner_text()
    visible_points = page.locator(".leaflet-interactive, #map svg g.point:visible")
    assert visible_points.count() == 1
    shot(page, "series-slider")

    page.click("tr.member[data-case='BK-01'] a")
    page.fill("#justification", "reviewing linkage alert 1 for series S-0001")
    shot(page, "justify")
    page.click("form button[type=submit] >> text=Open the case")
    page.wait_for_selector("#decision-form")
    page.select_option("#decision-form select[name=kind]", "classification")
    page.fill("#decision-form input[name=value]", "homicide")
    page.click("#decision-form button[type=submit]")
    assert page.locator("#rationale-error").is_visible()  # a decision without rationale is refused
    page.fill("#decision-form textarea[name=rationale]", "Second GHB death within 0.4 km; linked by caselink.")
    page.fill("#decision-form textarea[name=alternatives]", "unexpected_not_suspicious")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector("#decisions td >> text=supervisor")
    assert "homicide" in page.locator("#decisions table").inner_text()
    shot(page, "case")


def test_oversight_sees_pseudonyms_and_admin_sees_users(server: str, page: Any) -> None:
    sign_in(page, server, "oversight")
    page.wait_for_url(server + "/cases")
    shot(page, "cases")
    page.goto(server + "/cases/BK-01")
    page.fill("#justification", "oversight review of the Barking deaths")
    page.click("form button[type=submit] >> text=Open the case")
    page.wait_for_selector("text=shown as pseudonyms")
    assert "gay_bisexual_men" not in page.content()
    shot(page, "case-oversight")
    page.goto(server + "/audit?case_id=BK-01")
    assert "oversight review of the Barking deaths" in page.locator("table").inner_text()
    shot(page, "audit")
    page.locator("header form button").click()
    sign_in(page, server, "admin")
    page.wait_for_url(server + "/admin/users")
    shot(page, "admin")
    page.goto(server + "/cases")
    assert "403" in page.locator("h1").inner_text()


def _marker_pixels(page: Any) -> int:
    """Pixels of the map box in the markers' blue (#1f4e8c): a CSS rule once hid Leaflet's markers."""
    import io

    import numpy as np
    from PIL import Image  # matplotlib's own dependency

    pixels = np.asarray(Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB"), dtype=int)
    return int((np.abs(pixels - np.array([31, 78, 140])).sum(axis=2) < 40).sum())


def test_scan_page_shows_clusters_on_the_map(app: Any, server: str, page: Any, tmp_path: Path) -> None:
    from caselink.io import open_source
    from tests.web.conftest import write_cases

    # Six more deaths far apart, so that two of nine cases are a small enough share to be a cluster.
    others = [{"case_id": f"OT-{i}", "found_at": f"2014-{i + 3:02d}-0{i + 1}T12:00", "lat": 51.3 + 0.1 * i,
               "lon": -0.5 + 0.12 * i, "cause": "natural"} for i in range(6)]
    app.state.store.ingest([open_source(write_cases(tmp_path / "others.csv", others))])
    sign_in(page, server, "analyst")
    page.wait_for_url(server + "/alerts")
    page.click("header nav a >> text=Scan")
    page.wait_for_selector("#scan-form")
    page.fill("#scan-form input[name=max_radius_km]", "1")
    page.fill("#scan-form input[name=max_days]", "100")
    page.fill("#scan-form input[name=permutations]", "9")
    page.fill("#scan-form input[name=seed]", "1")
    page.click("#scan-form button[type=submit]")
    page.wait_for_selector("#clusters")
    assert "BK-01" in page.locator("#clusters").inner_text() and "BK-02" in page.locator("#clusters").inner_text()
    page.wait_for_selector("#map .leaflet-interactive, #map svg[data-fallback] g.point")
    markers = page.locator("#map path.leaflet-interactive, #map svg[data-fallback] g.point")
    assert markers.count() >= 2
    assert _marker_pixels(page) > 20  # drawn where one can see them, not merely present in the DOM
    shot(page, "scan")
    page.fill("#scan-form input[name=max_days]", "7")
    page.click("#scan-form button[type=submit]")
    page.wait_for_selector("#no-cluster")
    assert "no space-time cluster" in page.locator("#no-cluster").inner_text()


HOSTILE_AREA = "<img src=x onerror=alert(1)>"


def test_map_tooltips_show_case_data_as_text_not_markup(app: Any, server: str, page: Any) -> None:
    """A tooltip on the series and scan maps holds the case's id, date and area as text.

    Case data is whatever a force typed into its system: an area of ``<img src=x onerror=…>`` must
    show as those characters, never become an element (Leaflet treats a string tooltip as HTML).
    """
    from sqlalchemy import text

    with app.state.engine.begin() as connection:  # as if imported: the store keeps any text
        connection.execute(text("UPDATE cases SET area = :area WHERE case_id = 'BK-01'"), {"area": HOSTILE_AREA})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, "analyst")
    page.wait_for_url(server + "/alerts")
    page.goto(server + "/series/S-0001")
    page.wait_for_selector("#map .leaflet-tooltip, #map svg[data-fallback]")
    if page.locator("#map .leaflet-tooltip").count():
        tooltips = page.locator("#map .leaflet-tooltip")
        texts = [tooltips.nth(i).inner_text() for i in range(tooltips.count())]
        assert any(HOSTILE_AREA in t for t in texts), texts
    assert page.locator("#map img").count() == 0
    page.goto(server + "/scan?max_radius_km=1&max_days=100&permutations=9&seed=1&run=1")
    page.wait_for_selector("#map .leaflet-interactive, #map svg[data-fallback] g.point, #no-cluster")
    markers = page.locator("#map path.leaflet-interactive")
    for i in range(markers.count()):
        markers.nth(i).hover(force=True)
    assert page.locator("#map img").count() == 0
    if markers.count():
        tooltip_text = page.locator(".leaflet-tooltip").all_inner_texts()
        assert any(HOSTILE_AREA in t for t in tooltip_text), tooltip_text
    assert dialogs == []
