"""The plan viewer in Debian's headless chromium: measure a known 30 m parcel edge, annotate, answer.

Run ``npm run build`` first: the page loads its bundle from static_build/. A screenshot of the viewer is
written to /tmp/taamir_plan_viewer.png for a human to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile

from permits.roles import Role
from plans.models import Annotation, AnnotationReply
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.plans.conftest import add_version, merchich_point

BUNDLE = Path(settings.BASE_DIR) / "static_build" / "geo" / "plan_viewer.js"
SCREENSHOT = Path("/tmp/taamir_plan_viewer.png")
WAIT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def viewer_world(plan_dossier, filer, reviewer):
    """A georeferenced version on the 20 × 30 m parcel, made before the browser starts."""
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `npm run build` before the browser tests")
    return {"version": add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)}


def sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill('input[name="login"]', username)
    page.fill('input[name="password"]', "pw-" + username)
    page.locator('.account-page button[type="submit"]').click()
    page.wait_for_load_state()


def map_point(page, lon: float, lat: float) -> tuple[float, float]:
    """The page coordinates of a longitude/latitude, from the viewer's own pixel function."""
    x, y = page.evaluate("([lon, lat]) => window.taamirViewer.pixelFor(lon, lat)", [lon, lat])
    box = page.locator("#plan-map").bounding_box()
    return box["x"] + x, box["y"] + y


def run_in_browser(live_server, steps) -> list[str]:
    """Run ``steps(page, expect, url)`` in chromium; returns the page's errors and outside requests.

    Django refuses ORM calls in Playwright's event loop: the test reads the database after this returns.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))

        def only_live_server(route) -> None:
            if route.request.url.startswith((live_server.url, "data:")):
                route.continue_()
            else:
                problems.append(f"outside request: {route.request.url}")
                route.abort()

        page.route("**/*", only_live_server)
        sync_api.expect.set_options(timeout=WAIT_MS)
        try:
            steps(page, sync_api.expect, live_server.url)
        finally:
            browser.close()
    return problems


def test_a_reviewer_measures_30_m_and_annotates_then_the_architect_answers(live_server, viewer_world):
    version = viewer_world["version"]
    west_south = merchich_point(0, 0)
    west_north = merchich_point(0, 30)
    inside = merchich_point(10, 15)
    measured: dict[str, float] = {}

    def reviewer_steps(page, expect, url):
        sign_in(page, url, "t.committee_member")
        page.goto(f"{url}/plans/versions/{version.pk}/viewer/")
        expect(page.locator("#plan-map")).to_have_attribute("data-state", "ready")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        # The pre-checks are on the page: 3 m from the boundary passes.
        expect(page.locator('[data-check="setback"]')).to_have_attribute("data-result", "pass")

        # Measure the parcel's west edge, 30 m long: click its two ends, double-click the last one.
        page.check('input[name="tool"][value="measure-length"]')
        x0, y0 = map_point(page, *west_south)
        x1, y1 = map_point(page, *west_north)
        assert abs(y1 - y0) > 100, "the map should be zoomed on the parcel"
        page.mouse.click(x0, y0)
        page.mouse.dblclick(x1, y1)
        result = page.locator("#measure-result")
        expect(result).to_have_attribute("data-kind", "length")
        measured["metres"] = float(result.get_attribute("data-metres"))
        measured["text"] = result.inner_text()

        # Annotate a point inside the footprint.
        page.check('input[name="tool"][value="annotate-point"]')
        page.mouse.click(*map_point(page, *inside))
        expect(page.locator("#annotation-form")).to_be_visible()
        page.fill("#annotation-text", "Préciser la hauteur sous plafond ici.")
        page.locator('#annotation-form button[type="submit"]').click()
        expect(page.locator("#annotation-list li[data-annotation-id]")).to_have_count(1)
        expect(page.locator("#annotation-list")).to_contain_text("Préciser la hauteur sous plafond ici.")
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    problems = run_in_browser(live_server, reviewer_steps)
    assert problems == []
    # Geodesic length of a 30 m Merchich edge (scale factor ≈ 0.9996 at Casablanca): 30 m ± 0.5.
    assert measured["metres"] == pytest.approx(30.0, abs=0.5)
    assert re.fullmatch(r"Longueur : 30,\d\d m", measured["text"].strip()), measured["text"]
    annotation = Annotation.objects.get(version=version)
    assert annotation.kind == "point" and annotation.status == "open"
    assert annotation.text == "Préciser la hauteur sous plafond ici."
    # Stored where it was clicked (within a few centimetres of the pixel).
    target = Point(*inside, srid=4326).transform(26191, clone=True)
    assert annotation.geom.transform(26191, clone=True).distance(target) < 0.5

    def architect_steps(page, expect, url):
        sign_in(page, url, "t.architect")
        page.goto(f"{url}/plans/versions/{version.pk}/viewer/")
        expect(page.locator("#plan-map")).to_have_attribute("data-state", "ready")
        # The architect cannot draw annotations, only answer them.
        expect(page.locator('input[name="tool"][value="annotate-point"]')).to_have_count(0)
        item = page.locator(f'#annotation-list li[data-annotation-id="{annotation.pk}"]')
        item.locator("textarea").fill("La hauteur sous plafond est de 2,80 m (coupe AA).")
        item.locator('.reply-form button[type="submit"]').click()
        expect(page.locator(f'#annotation-list li[data-annotation-id="{annotation.pk}"] .reply')).to_have_count(1)
        expect(page.locator(".annotation-resolve")).to_have_count(0)

    assert run_in_browser(live_server, architect_steps) == []
    assert AnnotationReply.objects.get(annotation=annotation).text.startswith("La hauteur sous plafond")


@pytest.fixture
def pdf_world(users, plan_dossier, tmp_path, settings):
    """A PDF sheet at 1/100 uploaded through the importer (not georeferenced), made before the browser starts."""
    plans_services = pytest.importorskip("plans.services")
    pdf_fixtures = pytest.importorskip("tests.plans.pdf_fixtures")
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `npm run build` before the browser tests")
    settings.MEDIA_ROOT = tmp_path / "media"
    path = pdf_fixtures.weasyprint_plan(tmp_path / "facade.pdf", caption="Façade — Échelle 1/100")
    version = plans_services.upload_plan_version(
        dossier=plan_dossier, sheet="Façade", uploaded_file=SimpleUploadedFile("facade.pdf", path.read_bytes()),
        by=users[Role.ARCHITECT],
    )  # fmt: skip
    assert version.declared_scale == 100 and version.preview
    return {"version": version}


def test_measuring_a_pdf_page_at_its_declared_scale(live_server, pdf_world):
    version = pdf_world["version"]
    _min_x, _min_y, width_pt, height_pt = version.extent
    measured: dict[str, float] = {}

    def steps(page, expect, url):
        sign_in(page, url, "t.committee_member")
        page.goto(f"{url}/plans/versions/{version.pk}/viewer/")
        expect(page.locator("#plan-map")).to_have_attribute("data-state", "ready")
        page.check('input[name="tool"][value="measure-length"]')
        # Across the whole A4 landscape page: 297 mm of paper at 1/100 is 29.7 m.
        page.mouse.click(*map_point(page, 0, height_pt / 2))
        page.mouse.dblclick(*map_point(page, width_pt, height_pt / 2))
        result = page.locator("#measure-result")
        expect(result).to_have_attribute("data-kind", "length")
        measured["metres"] = float(result.get_attribute("data-metres"))

    assert run_in_browser(live_server, steps) == []
    assert measured["metres"] == pytest.approx(width_pt * 0.0254 / 72 * 100, abs=0.1)
    assert measured["metres"] == pytest.approx(29.7, abs=0.15)
