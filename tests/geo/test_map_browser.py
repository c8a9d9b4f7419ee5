"""The public map in Debian's headless chromium: search with suggestions, highlight, info panel, click, Arabic.

Run ``npm run build`` first: the page loads its bundle from static_build/. Screenshots of the French and
Arabic maps are written to /tmp/taamir_map.png and /tmp/taamir_map_ar.png for a human to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import CHROMIUM, CHROMIUM_ARGS, FIND_HIGHLIGHT_JS

BUNDLE = Path(settings.BASE_DIR) / "static_build" / "geo" / "map.js"
SCREENSHOT_FR = Path("/tmp/taamir_map.png")
SCREENSHOT_AR = Path("/tmp/taamir_map_ar.png")
# Generous waits: the first bbox loads go through a cold live server.
WAIT_MS = 20_000


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def browser_page(live_server, casablanca_world):
    """A fresh chromium page (French, reduced motion) once the test data exists.

    Playwright's sync API runs an event loop in this thread, where Django refuses ORM calls: the data
    (``casablanca_world``, tests/conftest.py) is created before, and the database is flushed after
    this fixture has closed the browser.
    """
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
        # Nothing may leave the live server: no CDN, no tiles.
        outside: list[str] = []

        def only_live_server(route) -> None:
            if route.request.url.startswith((live_server.url, "data:")):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_live_server)
        sync_api.expect.set_options(timeout=WAIT_MS)
        yield page, sync_api.expect, live_server.url
        browser.close()
    assert outside == []
    assert errors == []


def wait_for_map_at_rest(page) -> None:
    """Wait until parcels are loaded around the selection and the map has drawn every layer."""
    page.wait_for_function(
        "() => Number(document.getElementById('map').dataset.parcelCount || 0) > 0"
        " && document.getElementById('map').getAttribute('aria-busy') === 'false'"
    )


def highlight_box(page) -> list[float]:
    page.wait_for_function(f"({FIND_HIGHLIGHT_JS})() !== null")
    return page.evaluate(FIND_HIGHLIGHT_JS)


def test_search_suggestion_highlights_the_parcel_and_shows_its_rules(browser_page):
    page, expect, url = browser_page
    page.goto(url + "/")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    search = page.get_by_role("combobox", name="Référence du titre foncier")
    panel = page.locator("#parcel-panel")
    # The map opens on the whole commune, below the zoom where parcels appear: a hint says so.
    expect(page.locator("#parcel-zoom-hint")).to_be_visible()
    expect(page.get_by_title("Zoom arrière")).to_be_visible()

    search.press_sequentially("tf 100")
    options = page.locator("#parcel-suggestions [role=option]")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("TF 1001/C")
    expect(search).to_have_attribute("aria-expanded", "true")
    page.locator('#parcel-suggestions [data-reference="TF 1002/C"]').click()

    expect(panel).to_have_attribute("data-selected-reference", "TF 1002/C")
    expect(panel).to_be_visible()
    expect(page.locator("#parcel-panel-title")).to_have_text("TF 1002/C")
    expect(panel).to_contain_text(re.compile(r"1[\s.]?200\sm²"))
    expect(panel).to_contain_text("Commune test")
    zone = panel.locator('.zone[data-zone-code="R4"]')
    expect(zone).to_contain_text("Immeubles R+4")
    expect(zone).to_contain_text("Coefficient d’emprise au sol (CES)")
    expect(zone).to_contain_text(re.compile(r"70\s%"))
    expect(zone).to_contain_text(re.compile(r"15,5\sm"))
    expect(zone).to_contain_text("Habitat et Commerce")
    expect(panel.locator('.constraints [data-constraint-kind="heritage"]')).to_contain_text(
        "Protection du patrimoine — Ancienne médina"
    )
    expect(page.locator("#map")).to_have_attribute("data-selected-reference", "TF 1002/C")

    wait_for_map_at_rest(page)
    expect(page.locator("#parcel-zoom-hint")).to_be_hidden()
    expect(page.locator('#zoning-legend [data-zone-code="R4"]')).to_be_visible()
    expect(page.locator('#constraint-legend [data-constraint-kind="heritage"]')).to_be_visible()
    box = highlight_box(page)
    page.screenshot(path=str(SCREENSHOT_FR))

    # A click on the map at the highlighted parcel selects it again through the point lookup.
    page.locator("#parcel-panel-close").click()
    expect(panel).to_be_hidden()
    page.locator("#map").click(position={"x": (box[0] + box[2]) / 2, "y": (box[1] + box[3]) / 2})
    expect(panel).to_have_attribute("data-selected-reference", "TF 1002/C")
    expect(panel).to_be_visible()


def test_keyboard_search_exact_reference_and_not_found(browser_page):
    page, expect, url = browser_page
    page.goto(url + "/")
    search = page.get_by_role("combobox", name="Référence du titre foncier")
    panel = page.locator("#parcel-panel")

    # Arrow keys choose among the suggestions, Enter picks the active one.
    search.focus()
    page.keyboard.type("TF 100")
    expect(page.locator("#parcel-suggestions [role=option]")).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(search).to_have_attribute("aria-activedescendant", "parcel-suggestion-1")
    page.keyboard.press("Enter")
    expect(panel).to_have_attribute("data-selected-reference", "TF 1002/C")

    # An exact reference, typed without spaces and in lower case, is found with Enter.
    search.fill("tf20017/c")
    search.press("Enter")
    expect(panel).to_have_attribute("data-selected-reference", "TF 20017/C")
    expect(panel.locator(".zone")).to_have_count(2)
    expect(panel.locator(".zone").first).to_have_attribute("data-zone-code", "R4")

    search.fill("TF 9999/Z")
    search.press("Enter")
    expect(page.locator("#map-status")).to_have_text("Aucune parcelle n’a la référence «\u00a0TF 9999/Z\u00a0».")
    expect(panel).to_be_hidden()


def test_arabic_map_is_right_to_left_and_translated(browser_page):
    page, expect, url = browser_page
    page.goto(url + "/")
    page.get_by_role("button", name="العربيّة").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")

    search = page.get_by_role("combobox", name="مرجع الرسم العقاري")
    search.press_sequentially("TF 1001")
    page.locator('#parcel-suggestions [data-reference="TF 1001/C"]').click()
    panel = page.locator("#parcel-panel")
    expect(panel).to_have_attribute("data-selected-reference", "TF 1001/C")
    expect(panel).to_contain_text("المساحة")
    expect(panel).to_contain_text("جماعة الاختبار")
    expect(panel.locator('.zone[data-zone-code="V"]')).to_contain_text("Villas")
    expect(panel).to_contain_text("معامل الاستيلاء على الأرض (CES)")
    expect(panel).to_contain_text("السكن")
    expect(panel).to_contain_text("لا يوجد أي ارتفاق معروف.")
    # The panel sits on the left in Arabic (mirrored), the sidebar on the right.
    map_box = page.locator("#map").bounding_box()
    panel_box = panel.bounding_box()
    sidebar_box = page.locator(".map-sidebar").bounding_box()
    assert panel_box["x"] < map_box["x"] + map_box["width"] / 2
    assert sidebar_box["x"] > map_box["x"]

    wait_for_map_at_rest(page)
    highlight_box(page)
    page.screenshot(path=str(SCREENSHOT_AR))
