"""A committee member gives an opinion in Debian's headless chromium; the president then reads it.

The member of civil protection signs in, opens the committee workspace, the session of their dossier and
the dossier's review page, sees no other opinion yet (the urban agency has given one), gives an
unfavourable opinion with two remarks (one per line), and then sees both opinions; the president signs
in and reads every opinion with the consolidated outcome. Nothing may be fetched from another host.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from permits.models import Opinion, Verdict
from tests.permits.test_filing_browser import BUNDLES, CHROMIUM, CHROMIUM_ARGS, WAIT_MS, shot, sign_in, sign_out
from tests.permits.test_opinions import give, world  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def reviewed(world, tmp_path, settings):  # noqa: F811
    """The world with the urban agency's opinion given, made before the browser starts."""
    settings.MEDIA_ROOT = tmp_path / "media"
    for bundle in BUNDLES:
        if not bundle.exists():
            pytest.fail(f"{bundle} is missing: run `npm run build` before the browser tests")
    give(world, world.agency, Verdict.FAVOURABLE)
    return world


@pytest.fixture
def browser(live_server, reviewed):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

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


def test_a_member_gives_an_opinion_and_the_president_sees_it(browser, reviewed):
    page, expect, url = browser
    reference = reviewed.dossier.reference

    sign_in(page, url, "m.t-civil")
    page.goto(url + "/committee/")
    expect(page.locator("h1")).to_have_text("Espace de la commission")
    page.get_by_role("link", name=reviewed.session.date.strftime("%d/%m/%Y"), exact=False).click()
    expect(page.locator("table")).to_contain_text(reference)
    page.get_by_role("link", name=reference).click()
    opinions = page.locator('[data-testid="opinions"]')
    expect(opinions).not_to_contain_text("Agence urbaine de Casablanca")
    page.locator('input[name="verdict"][value="unfavourable"]').check()
    page.locator("#remarks").fill("Escalier de secours absent.\nLargeur des issues insuffisante.")
    shot(page, "committee_opinion_form")
    page.locator('form[action$="/opinion/"] button[type="submit"]').click()
    expect(page.locator(".messages")).to_contain_text("Votre avis a été enregistré.")
    expect(opinions).to_contain_text("Protection civile")
    expect(opinions).to_contain_text("Agence urbaine de Casablanca")
    expect(opinions).to_contain_text("Largeur des issues insuffisante.")
    sign_out(page)

    sign_in(page, url, "t.committee_president")
    page.goto(url + f"/committee/sessions/{reviewed.session.pk}/")
    page.get_by_role("link", name=reference).click()
    expect(opinions).to_contain_text("Protection civile")
    expect(opinions).to_contain_text("Défavorable")
    expect(page.locator('[data-testid="outcome"]')).to_have_attribute("data-verdict", "changes_requested")
    expect(page.locator('[data-testid="outcome"]')).to_have_text("Modifications demandées")
    shot(page, "committee_president")

    def saved() -> list[tuple[str, str, int]]:
        return [(o.organisation.code, o.verdict, o.remark_items.count())
                for o in Opinion.objects.filter(dossier=reviewed.dossier).order_by("organisation__code")]  # fmt: skip

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(saved).result() == [("t-agency", "favourable", 0), ("t-civil", "unfavourable", 2)]
