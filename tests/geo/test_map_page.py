"""The public map page served by Django: languages and direction, the language switch, the script's settings."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from geo.models import AdminArea, AdminLevel
from tests.conftest import merchich_box

pytestmark = pytest.mark.django_db

URL_IN_TEXT = re.compile(r"""(?:https?:)?//[^\s"'<>()]+""", re.IGNORECASE)
SEARCH_TITLE = {"fr": "Trouver une parcelle", "ar": "البحث عن قطعة أرضية", "en": "Find a parcel"}


class _ScriptData(HTMLParser):
    """Collects the text of ``<script type="application/json">`` blocks by id."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: dict[str, str] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") == "application/json":
            self._current = attributes.get("id") or ""
            self.blocks[self._current] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.blocks[self._current] += data


def script_data(html: str) -> dict[str, dict]:
    parser = _ScriptData()
    parser.feed(html)
    return {key: json.loads(value) for key, value in parser.blocks.items()}


def get_map(client, **headers) -> str:
    response = client.get(reverse("geo:map"), **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_french_by_default(client):
    html = get_map(client)

    assert '<html lang="fr" dir="ltr">' in html
    assert SEARCH_TITLE["fr"] in html
    assert "Taamir" in html
    strings = script_data(html)["map-strings"]
    assert strings["area"] == "Superficie"
    assert strings["coverageRatio"] == "Coefficient d’emprise au sol (CES)"
    assert strings["uses"]["housing"] == "Habitat"
    assert strings["constraintKinds"]["heritage"] == "Protection du patrimoine"
    assert "%(reference)s" in strings["notFound"]


def test_arabic_from_accept_language_is_right_to_left(client):
    response = client.get(reverse("geo:map"), HTTP_ACCEPT_LANGUAGE="ar-MA,ar;q=0.9,fr;q=0.5")
    html = response.content.decode()

    assert response["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in html
    assert SEARCH_TITLE["ar"] in html
    assert "الطبقات" in html  # "Layers"
    config = script_data(html)["map-config"]
    strings = script_data(html)["map-strings"]
    assert config["language"] == "ar"
    assert config["rtl"] is True
    assert strings["area"] == "المساحة"
    assert strings["plan"] == "تصميم التهيئة"


def test_english_from_accept_language(client):
    html = get_map(client, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")

    assert '<html lang="en" dir="ltr">' in html
    assert SEARCH_TITLE["en"] in html
    assert script_data(html)["map-strings"]["maxFloors"] == "Maximum floors"


def test_language_switch_offers_the_three_languages(client):
    html = get_map(client)

    form = re.search(r'<form class="language-switch" action="([^"]+)" method="post">(.*?)</form>', html, re.S)
    assert form is not None
    assert form.group(1) == reverse("set_language")
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert re.findall(r'name="language" value="(\w+)"', form.group(2)) == ["fr", "ar", "en"]
    assert re.search(r'value="fr"[^>]*aria-pressed="true"', form.group(2))


def test_language_switch_post_changes_the_page_language(client):
    response = client.post(reverse("set_language"), {"language": "ar", "next": reverse("geo:map")})

    assert response.status_code == 302
    assert response["Location"] == reverse("geo:map")
    # The choice (a cookie) wins over the browser's Accept-Language from now on.
    html = get_map(client, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="ar" dir="rtl">' in html
    assert re.search(r'value="ar"[^>]*aria-pressed="true"', html)

    client.post(reverse("set_language"), {"language": "en", "next": reverse("geo:map")})
    assert '<html lang="en" dir="ltr">' in get_map(client, HTTP_ACCEPT_LANGUAGE="ar")


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_no_url_to_another_host(client, language):
    html = get_map(client, HTTP_ACCEPT_LANGUAGE=language)

    external = [
        url
        for url in URL_IN_TEXT.findall(html)
        if not url.lower().startswith(("//testserver", "http://testserver/", "https://testserver/"))
    ]
    assert external == []
    # Every asset comes from our own static files.
    assert re.findall(r'<script src="([^"]+)"', html) == ["/static/vendor/htmx.min.js", "/static/geo/map.js"]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == ["/static/geo/site.css", "/static/geo/map.css"]


def test_search_and_panel_are_labelled(client):
    html = get_map(client)

    assert '<label for="parcel-search-input">' in html
    assert re.search(
        r'<input id="parcel-search-input"[^>]*role="combobox"[^>]*aria-controls="parcel-suggestions"', html
    )
    assert 'id="parcel-suggestions" class="suggestions" role="listbox"' in html
    assert re.search(r'id="parcel-panel"[^>]*data-selected-reference=""', html)
    for layer in ("adminAreas", "zoning", "constraints", "parcels"):
        assert f'data-layer="{layer}"' in html


def test_script_settings_without_data_open_on_casablanca(client):
    config = script_data(get_map(client))["map-config"]

    assert config["api"] == {
        "parcels": reverse("geo-api:parcel-list"),
        "adminAreas": reverse("geo-api:admin-area-list"),
        "zoning": reverse("geo-api:zoning-list"),
        "constraints": reverse("geo-api:constraint-list"),
    }
    assert config["extent"] is None
    assert config["defaultCenter"] == pytest.approx([-7.59, 33.57], abs=0.01)
    assert config["parcelMinZoom"] == 15


def test_script_settings_open_on_the_commune_with_parcels(client, casablanca_world):
    config = script_data(get_map(client))["map-config"]

    assert config["extent"] == pytest.approx(list(casablanca_world["commune"].geom.extent))


def test_script_settings_open_on_every_commune_when_none_has_parcels(client):
    commune = AdminArea.objects.create(
        level=AdminLevel.COMMUNE, code="EMPTY-01", name_fr="Commune vide", geom=merchich_box(0, 0, 500, 500)
    )
    config = script_data(get_map(client))["map-config"]

    assert config["extent"] == pytest.approx(list(commune.geom.extent))
