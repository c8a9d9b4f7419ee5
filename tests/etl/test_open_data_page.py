"""The open-data page in French, Arabic and English: headline figures, SVG charts, filters, datasets."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.etl.opendata_world import seeded_history

    with seeded_history(django_db_blocker, media_root=tmp_path_factory.mktemp("media")) as world:
        yield world


def page(client, language: str, query: str = "") -> str:
    client.cookies["django_language"] = language
    response = client.get(f"/open-data/{query}")
    assert response.status_code == 200
    return response.content.decode()


def headline(html: str, label: str) -> str:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", html)
    assert match, label
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_page_before_any_computation_says_so(client):
    """Runs first, before the module's history exists: a fresh site shows zeroes and empty charts."""
    html = page(client, "en")
    assert headline(html, "Dossiers filed") == "0" and headline(html, "Median delay") == "–"
    assert "The datasets have not been published yet." in html
    assert '<svg class="chart" id="chart-density"' in html
    assert page(client, "fr", "?period=forever").count("Période « forever » inconnue") == 1


def test_french_page_shows_the_indicators_and_the_charts_as_svg(history, client):
    html = page(client, "fr", "?period=all")
    assert '<html lang="fr" dir="ltr">' in html
    assert "<h1>Données ouvertes</h1>" in html
    assert headline(html, "Dossiers déposés") == "4"
    assert headline(html, "Permis délivrés") == "2"
    assert headline(html, "Refus") == "1"
    assert headline(html, "Délai médian").startswith("6,0")
    assert headline(html, "Décidés dans le délai légal") == "67 %"
    for chart in ("chart-flows", "chart-delay", "chart-backlog", "chart-classes", "chart-institutions",
                  "chart-density"):  # fmt: skip
        svg = re.search(rf'<svg class="chart" id="{chart}".*?</svg>', html, re.S)
        assert svg, chart
        assert f'<title id="{chart}-title">' in svg.group(0) and f'<desc id="{chart}-desc">' in svg.group(0)
    assert "Agence urbaine test" in html and "Commune test" in html
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html  # the page itself needs no script
    assert html.count('<rect class="cell') >= 1  # the density map has a square for the authorised works
    assert "/open-data/datasets/permits-blds.csv" in html and "Licence Ouverte" in html


def test_arabic_page_is_right_to_left_with_mirrored_charts(history, client):
    html = page(client, "ar", "?period=all")
    assert '<html lang="ar" dir="rtl">' in html
    assert "البيانات المفتوحة" in html
    assert 'direction="rtl"' in html
    assert "جماعة الاختبار" in html


def test_english_page_and_filters(history, client):
    html = page(client, "en", "?period=all&commune=TEST-01&procedure=test-building-permit")
    assert "<h1>Open data</h1>" in html
    assert headline(html, "Dossiers filed") == "4"
    assert '<option value="TEST-01" selected>' in html
    html = page(client, "en", "?period=all&procedure=nope&commune=XX")
    assert "Unknown procedure “nope”: showing every procedure." in html
    assert "Unknown commune “XX”: showing every commune." in html
    assert headline(html, "Dossiers filed") == "4"
    html = page(client, "en", "?period=3m")  # three months before the last computed day: 17 Sep to 15 Dec
    assert headline(html, "Dossiers filed") == "4"


def test_filter_that_matches_nothing_shows_zeroes_not_errors(history, client):
    from permits.models import Procedure

    Procedure.objects.filter(code="test-building-permit").update(position=1)
    other = Procedure.objects.create(code="other", name_fr="Autre", name_ar="أخرى", name_en="Other",
                                     family="urbanism", committee_kind="small_projects")  # fmt: skip
    from etl.models import DailyIndicator

    row = DailyIndicator.objects.first()
    DailyIndicator.objects.create(day=row.day, commune=row.commune, procedure=other, metric="filed", value=0)
    html = page(client, "en", "?period=all&procedure=other")
    assert headline(html, "Dossiers filed") == "0" and headline(html, "Median delay") == "–"
    assert "No decision in this period." in html
