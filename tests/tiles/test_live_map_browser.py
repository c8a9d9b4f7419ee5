"""The live public map in Debian's headless chromium: a permit's change reaches an open map by itself.

The page subscribes to /geo/events; the test changes an authorised work through ``geo.services`` (as the
permits app does), and the open map redraws the work's tiles and updates the summary panel. The time
from the change to the updated panel is printed and recorded as a test property (``live_latency_s``):
no limit is asserted here; ``bench/tiles.py`` measures it for docs/benchmarks.md. Run ``npm run build``
first.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from geo.services import authorised_work_record, authorised_work_set_status
from tests.browser import CHROMIUM, CHROMIUM_ARGS, FIND_HIGHLIGHT_JS
from tests.conftest import merchich_box

BUNDLE = Path(settings.BASE_DIR) / "static_build" / "geo" / "map.js"
WAIT_MS = 20_000
SCREENSHOT = Path("/tmp/taamir_live_map.png")


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def in_another_thread(function, **kwargs):
    """Run an ORM write outside Playwright's event-loop thread (where Django refuses ORM calls)."""

    def call():
        try:
            return function(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.fixture
def live_page(live_server, geo_portal_world):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `npm run build` before the browser tests")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        outside: list[str] = []

        def only_live_server(route) -> None:
            if route.request.url.startswith((live_server.url, "data:")):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_live_server)
        sync_api.expect.set_options(timeout=WAIT_MS)
        yield page, sync_api.expect, live_server.url, geo_portal_world
        browser.close()
    assert outside == []
    assert errors == []


def test_a_withdrawn_permit_and_a_new_one_show_on_the_open_map(live_page, record_property):
    page, expect, url, world = live_page
    house = world["works"]["house"]
    page.goto(url + "/")
    expect(page.locator("#map")).to_have_attribute("data-live", "open")
    # The filters list the procedures present, each with its colour.
    expect(page.locator('input[name="procedure"][value="permis-construire"]')).to_be_checked()
    expect(page.locator(".open-data-link a")).to_have_attribute("href", "/open-data/")

    # Go to the villa parcel, on which the house is being built, and click the house.
    search = page.get_by_role("combobox", name="Référence du titre foncier")
    search.fill("TF 1001/C")
    search.press("Enter")
    panel = page.locator("#parcel-panel")
    expect(panel).to_have_attribute("data-selected-reference", "TF 1001/C")
    page.wait_for_function("() => Number(document.getElementById('map').dataset.workCount || 0) >= 1")
    page.wait_for_function(f"({FIND_HIGHLIGHT_JS})() !== null")
    box = page.evaluate(FIND_HIGHLIGHT_JS)
    page.locator("#map").click(position={"x": (box[0] + box[2]) / 2, "y": (box[1] + box[3]) / 2})

    expect(panel).to_have_attribute("data-selected-kind", "work")
    expect(panel).to_have_attribute("data-selected-reference", house.reference)
    expect(panel).to_have_attribute("data-status", "authorised")
    expect(panel.locator(".work-status")).to_have_text("Autorisé")
    expect(panel).to_contain_text("2025")
    verify = panel.get_by_role("link", name="Vérifier l’authenticité de cette autorisation")
    expect(verify).to_have_attribute("href", "/verify/VERIF0000000001/")
    works_before = int(page.locator("#map").get_attribute("data-work-count"))

    # The permit is withdrawn: the open map shows it without a reload.
    started = time.perf_counter()
    in_another_thread(authorised_work_set_status, reference=house.reference, status="withdrawn")
    page.wait_for_function("() => document.getElementById('parcel-panel').dataset.status === 'withdrawn'")
    latency = time.perf_counter() - started
    expect(panel.locator(".work-status")).to_have_text("Retiré")
    print(f"\nlive update latency (change committed → open map updated): {latency * 1000:.0f} ms")
    record_property("live_latency_s", round(latency, 3))

    # A new permit next to it appears on the map.
    in_another_thread(
        authorised_work_record,
        reference="TEST-01-2026-00077", procedure_code="permis-construire", procedure_name="Permis de construire",
        commune=world["commune"], decision_date=dt.date(2026, 2, 1), status="authorised",
        geom=merchich_box(-175, -200, -160, -185), verification_code="VERIF0000000077",
    )  # fmt: skip
    page.wait_for_function(
        f"() => Number(document.getElementById('map').dataset.workCount || 0) === {works_before + 1}"
    )
    page.screenshot(path=str(SCREENSHOT))

    # Filters hide works on the map: a period with no decision, then the time slider.
    page.select_option("#works-period", "lastyear")
    page.select_option("#works-period", "all")
    slider = page.locator("#works-slider")
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.getElementById('map').dataset.workCount === '0'")
    expect(page.locator("#works-slider-value")).to_contain_text("Décidées au plus tard le")
    page.keyboard.press("End")
    page.wait_for_function(
        f"() => Number(document.getElementById('map').dataset.workCount || 0) === {works_before + 1}"
    )
