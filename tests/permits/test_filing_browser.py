"""Filing a dossier end to end in Debian's headless chromium, as people do it.

An architect signs in, files a building-permit dossier through the wizard (procedure, a parcel found by
its reference and toggled by clicking the map, applicant and figures, two PDFs uploaded with htmx —
after a refused upload shown inline), submits it, sees its number and downloads the receipt; the desk
agent signs in, checks completeness item by item and accepts it; the architect's timeline then shows
both events, in French and in Arabic. Nothing may be fetched from another host.

Run ``npm run build`` first (the pages load static_build/). Screenshots of the key pages are written to
/tmp/taamir_*.png for a human to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from weasyprint import HTML

from permits.models import Dossier, Status
from tests.browser import CHROMIUM, CHROMIUM_ARGS

BUNDLES = [Path(settings.BASE_DIR) / "static_build" / "geo" / name for name in ("wizard.js", "site.css")]
WAIT_MS = 20_000
SHOTS = Path("/tmp")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def make_pdf(path: Path, title: str) -> Path:
    """A real (if small) PDF, as an architect's office would produce."""
    HTML(string=f"<h1>{title}</h1><p>Taamir — pièce de test</p>").write_pdf(path)
    return path


@pytest.fixture
def world(users, building_permit, casablanca_world, tmp_path, settings):
    """Everything the browser needs, made before it starts (Django refuses ORM calls in its event loop)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LOGIN_REDIRECT_URL = "permits:home"  # the value config/settings/base.py is asked to take
    for bundle in BUNDLES:
        if not bundle.exists():
            pytest.fail(f"{bundle} is missing: run `npm run build` before the browser tests")
    fake = tmp_path / "plans-fake.pdf"
    fake.write_bytes(b"<!DOCTYPE html><html><body>Not a PDF at all</body></html>")
    return {
        "plans": make_pdf(tmp_path / "plans.pdf", "Plans architecturaux"),
        "deed": make_pdf(tmp_path / "title-deed.pdf", "Certificat de propriété"),
        "fake": fake,
        "tmp": tmp_path,
        "flat": casablanca_world["flat"].reference,
        "procedure": building_permit.pk,
    }


@pytest.fixture
def browser(live_server, world):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 900}, reduced_motion="reduce", accept_downloads=True
        )
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        problems: list[str] = []
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
        yield page, sync_api.expect, live_server.url
        chromium.close()
    assert problems == []


def sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill('input[name="login"]', username)
    page.fill('input[name="password"]', "pw-" + username)
    page.locator('.account-page button[type="submit"]').click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.locator(".nav-form button").click()
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"taamir_{name}.png"), full_page=True)


def upload(page, expect, item: str, path: Path) -> None:
    row = page.locator(f'.checklist-item[data-item="{item}"]')
    row.locator('input[type="file"]').set_input_files(str(path))
    row.get_by_role("button", name="Déposer").click()


def test_an_architect_files_a_dossier_and_the_desk_accepts_it(browser, world):
    page, expect, url = browser

    # --- the architect signs in and starts a dossier ------------------------------------------------
    sign_in(page, url, "t.architect")
    expect(page).to_have_url(url + "/dossiers/")
    expect(page.locator("h1")).to_have_text("Mes dossiers")
    shot(page, "portal")
    page.get_by_role("link", name="Déposer un nouveau dossier").click()
    radio = page.locator(f'input[name="procedure"][value="{world["procedure"]}"]')
    expect(radio.locator("xpath=..")).to_contain_text("Permis de construire")
    radio.check()
    shot(page, "wizard_procedure")
    page.get_by_role("button", name="Continuer").click()

    # --- the parcel: by its reference, then a click on the map removes it and another adds it back --
    expect(page.locator("h2")).to_have_text("Où se situe le projet ?")
    chosen = page.locator("#chosen-parcels li[data-parcel-id]")
    expect(chosen).to_have_count(0)
    page.fill("#reference-input", world["flat"].lower())
    page.locator("#reference-add").click()
    expect(chosen).to_have_count(1)
    expect(chosen.first).to_have_attribute("data-reference", world["flat"])
    expect(page.locator("#site-area")).to_contain_text("Surface du terrain")
    expect(page.locator("#site-status")).to_contain_text(f"Parcelle {world['flat']} ajoutée au terrain.")
    page.wait_for_function(
        "() => { const m = document.getElementById('wizard-map');"
        " return Number(m.dataset.parcelCount || 0) > 0 && m.getAttribute('aria-busy') === 'false'; }"
    )
    map_box = page.locator("#wizard-map").bounding_box()
    centre = (map_box["width"] / 2, map_box["height"] / 2)
    page.locator("#wizard-map").click(position={"x": centre[0], "y": centre[1]})
    expect(chosen).to_have_count(0)
    expect(page.locator("#site-area")).to_have_text("")
    page.locator("#wizard-map").click(position={"x": centre[0], "y": centre[1]})
    expect(chosen).to_have_count(1)
    expect(page.locator("#wizard-map")).to_have_attribute("data-site-state", "ready")
    shot(page, "wizard_site")
    page.locator("#site-continue").click()

    # --- applicant and figures ------------------------------------------------------------------------
    expect(page.locator(".wizard-steps [aria-current='step']")).to_have_text("Demandeur et données")
    for field, value in [
        ("first_name", "Yasmine"), ("last_name", "El Amrani"), ("national_id", "BE123456"),
        ("email", "yasmine@example.org"), ("phone", "+212600000001"), ("title", "Maison R+1"),
        ("figures-floors", "2"), ("figures-height_m", "8.5"), ("figures-built_area_m2", "180"),
    ]:  # fmt: skip
        page.locator(f"#id_{field}").fill(value)
    expect(page.locator('label[for="id_figures-floors"]')).to_contain_text("Niveaux")
    page.locator("#id_figures-use").select_option("housing")
    shot(page, "wizard_applicant")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    # --- documents, with htmx: a refused file first, shown under its item ---------------------------
    expect(page.locator(".messages")).to_contain_text("Brouillon enregistré.")
    summary = page.locator(".checklist-summary")
    expect(summary).to_have_attribute("data-main-present", "0")
    upload(page, expect, "architectural-plans", world["fake"])
    error = page.locator("#error-architectural-plans")
    expect(error).to_contain_text("une page web (HTML)")
    upload(page, expect, "architectural-plans", world["plans"])
    expect(page.locator('.checklist-item[data-item="architectural-plans"] .field-ok')).to_have_text(
        "Déposée en version 1."
    )
    expect(error).to_have_count(0)
    upload(page, expect, "title-deed", world["deed"])
    expect(summary).to_have_attribute("data-main-present", "2")
    shot(page, "wizard_documents")
    page.locator("#documents-continue").click()

    # --- review and submit ------------------------------------------------------------------------------
    expect(page.locator("#submit-problems")).to_have_count(0)
    expect(page.locator(".callout-ok")).to_be_visible()
    shot(page, "wizard_review")
    page.locator("#submit-dossier").click()
    reference = page.locator(".dossier-reference")
    expect(reference).to_have_text(re.compile(r"^TEST-01-\d{4}-00001$"))
    number = reference.inner_text()
    expect(page.locator(".messages")).to_contain_text(f"Votre dossier est déposé sous le numéro {number}")
    expect(page.locator("#dossier-status")).to_have_text("Déposé")
    shot(page, "dossier")
    with page.expect_download() as download_info:
        page.locator("#receipt-link").click()
    receipt = world["tmp"] / "receipt.pdf"
    download_info.value.save_as(receipt)
    sign_out(page)

    # --- the desk checks completeness and accepts ----------------------------------------------------
    sign_in(page, url, "t.desk_agent")
    expect(page).to_have_url(url + "/desk/")
    expect(page.locator(f'tr[data-dossier] >> text="{number}"')).to_be_visible()
    shot(page, "desk")
    page.get_by_role("link", name=number).click()
    for item in ("architectural-plans", "title-deed"):
        page.locator(f'.checklist-table tr[data-item="{item}"]').get_by_label("Présente et conforme").check()
    photos = page.locator('.checklist-table tr[data-item="site-photos"]')
    photos.get_by_label("Manquante").check()
    photos.locator('input[type="text"]').fill("Photos du terrain à fournir avant la commission")
    shot(page, "desk_dossier")
    page.locator("#accept-button").click()
    expect(page.locator("#dossier-status")).to_have_text("Accepté")
    expect(page.locator(".messages")).to_contain_text("le dossier est désormais")
    page.locator('.language-switch button[value="ar"]').click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#dossier-status")).to_have_text("مقبول")
    shot(page, "desk_dossier_ar")
    page.locator('.language-switch button[value="fr"]').click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    sign_out(page)

    # --- the architect follows the dossier on its timeline, in French then in Arabic ----------------
    sign_in(page, url, "t.architect")
    page.get_by_role("link", name=number).click()
    timeline = page.locator(".timeline-list")
    expect(timeline.locator(".kind-transition")).to_have_count(2)
    expect(timeline.locator(".kind-transition").nth(0)).to_contain_text("Dossier déposé")
    expect(timeline.locator(".kind-transition").nth(1)).to_contain_text("Accepté comme complet par le guichet")
    expect(page.locator(".clock")).to_contain_text("Approbation tacite le")
    shot(page, "timeline")
    page.locator('.language-switch button[value="ar"]').click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#dossier-status")).to_have_text("مقبول")
    expect(timeline.locator(".kind-transition").nth(1)).to_contain_text("قبله الشباك باعتباره ملفا كاملا")
    shot(page, "dossier_ar")
    # The wizard's map page in Arabic, for the eye.
    page.goto(url + "/dossiers/new/?restart=1")
    page.locator(f'input[name="procedure"][value="{world["procedure"]}"]').check()
    page.locator("button.button-primary").click()
    expect(page.locator("h2")).to_have_text("أين يقع المشروع؟")
    page.fill("#reference-input", world["flat"])
    page.locator("#reference-add").click()
    expect(page.locator("#chosen-parcels li[data-parcel-id]")).to_have_count(1)
    shot(page, "wizard_site_ar")
    sign_out(page)
    page.goto(url + "/accounts/login/")
    shot(page, "login_ar")

    # --- the record agrees (read from another thread: Django refuses the ORM in Playwright's loop) ---
    def recorded() -> tuple[str, list[str]]:
        dossier = Dossier.objects.get(reference=number)
        return dossier.status, sorted(dossier.documents.values_list("item_code", flat=True))

    with ThreadPoolExecutor(max_workers=1) as pool:
        status, documents = pool.submit(recorded).result()
    assert status == Status.ACCEPTED
    assert documents == ["architectural-plans", "title-deed"]
    assert receipt.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(receipt), "-"], capture_output=True, check=True).stdout.decode()
        assert text.count(number) >= 2
