"""The public map page's side of the live geo-portal: tile and event addresses, the works' filters, languages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.geo.test_map_page import get_map, script_data

pytestmark = pytest.mark.django_db


def test_the_map_reads_vector_tiles_and_live_events(client, geo_portal_world):
    html = get_map(client)
    config = script_data(html)["map-config"]

    assert config["tiles"] == {
        "authorisedWorks": "/tiles/authorised_works/{z}/{x}/{y}.pbf",
        "parcels": "/tiles/parcels/{z}/{x}/{y}.pbf",
    }
    assert config["events"] == "/geo/events"
    assert config["verifyUrl"] == "/verify/{code}/"
    assert config["works"] == {
        "procedures": [{"code": "permis-construire", "name": "Permis de construire"}],
        "firstDecision": "2024-06-15",
        "lastDecision": "2025-09-01",
    }
    # The filters: one checkbox per procedure present, the period and the time slider; the open-data link.
    assert 'name="procedure" value="permis-construire" checked' in html
    assert 'id="works-period"' in html and 'id="works-slider" type="range"' in html
    assert f'<a href="{reverse("etl:open_data")}">' in html
    assert 'data-layer="authorisedWorks"' in html


def test_without_works_the_filters_say_so(client):
    html = get_map(client)
    assert "Aucune autorisation n’a encore été publiée." in html
    assert script_data(html)["map-config"]["works"] == {"procedures": [], "firstDecision": None, "lastDecision": None}


@pytest.mark.parametrize(
    ("language", "verify", "status"),
    [
        ("fr", "Vérifier l’authenticité de cette autorisation", "Retiré"),
        ("ar", "التحقق من صحة هذه الرخصة", None),
        ("en", "Check this permit’s authenticity", "Withdrawn"),
    ],
)
def test_the_permit_summary_is_translated(client, language, verify, status):
    html = get_map(client, HTTP_ACCEPT_LANGUAGE=language)
    strings = script_data(html)["map-strings"]
    assert strings["verify"] == verify
    if status:
        assert strings["workStatuses"]["withdrawn"] == status
    assert "%(date)s" in strings["decidedUpTo"]
    if language == "ar":
        assert '<html lang="ar" dir="rtl">' in html
        assert "الأشغال المرخص بها" in html
