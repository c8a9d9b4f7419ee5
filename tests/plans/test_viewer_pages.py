"""The viewer and comparison pages, and the pre-checks on the dossier pages (Django's test client)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from permits.roles import Role
from plans import annotations as services
from tests.plans.conftest import add_version

pytestmark = pytest.mark.django_db


def json_block(html: str, name: str) -> dict:
    start = html.index(f'id="{name}"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def test_the_viewer_shows_the_version_its_footprint_parcels_annotations_and_prechecks(
    client, plan_dossier, filer, reviewer
):
    version = add_version(plan_dossier, footprints=[(2, 2, 18, 28)], by=filer)
    services.add_annotation(
        version=version, kind="polygon",
        geom={"type": "Polygon", "coordinates": [[[-7.536, 33.573], [-7.535, 33.573], [-7.535, 33.574],
                                                  [-7.536, 33.573]]]},
        text="Emprise trop proche de la limite", by=reviewer,
    )  # fmt: skip
    client.force_login(reviewer)
    response = client.get(reverse("plans:viewer", args=[version.pk]), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    html = response.content.decode()
    config = json_block(html, "viewer-config")
    data = json_block(html, "viewer-data")
    assert config["mode"] == "geo"
    assert config["mayAnnotate"] is True and config["mayReply"] is True
    assert [f["properties"]["kind"] for f in data["features"]["features"]] == ["footprint"]
    assert [f["properties"]["reference"] for f in data["parcels"]["features"]] == ["TF 5001/P"]
    assert data["annotations"]["features"][0]["properties"]["text"] == "Emprise trop proche de la limite"
    assert 'data-check="setback" data-result="fail"' in html
    assert "Mesurer une longueur (m)" in html

    client.force_login(filer)
    config = json_block(client.get(reverse("plans:viewer", args=[version.pk])).content.decode(), "viewer-config")
    assert config["mayAnnotate"] is False and config["mayReply"] is True


def test_strangers_get_404(client, plan_dossier, filer, users):
    version = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    second = add_version(plan_dossier, footprints=[(3, 3, 17, 26)], by=filer)
    client.force_login(users["other_architect"])
    assert client.get(reverse("plans:viewer", args=[version.pk])).status_code == 404
    assert client.get(reverse("plans:compare", args=[version.pk, second.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("plans:viewer", args=[version.pk])).status_code == 302


def test_a_version_not_georeferenced_opens_in_drawing_coordinates(client, plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[], by=filer)
    version.crs_source, version.crs_srid, version.transform = "none", None, None
    version.metres_per_unit = 0.01
    version.save()
    client.force_login(filer)
    html = client.get(reverse("plans:viewer", args=[version.pk])).content.decode()
    config = json_block(html, "viewer-config")
    assert config["mode"] == "drawing" and config["metresPerUnit"] == 0.01
    assert config["mayAnnotate"] is False


def test_the_compare_page_shows_added_and_removed_areas(client, plan_dossier, filer, reviewer):
    a = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    b = add_version(plan_dossier, footprints=[(5, 3, 19, 29)], by=filer)
    client.force_login(reviewer)
    response = client.get(reverse("plans:compare", args=[a.pk, b.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<bdi dir="ltr" id="added-area">76.00 m²</bdi>' in html
    assert '<bdi dir="ltr" id="removed-area">48.00 m²</bdi>' in html
    data = json_block(html, "viewer-data")
    assert {f["properties"]["change"] for f in data["diff"]["features"]} == {"added", "removed"}
    viewer = client.get(reverse("plans:viewer", args=[b.pk])).content.decode()
    assert reverse("plans:compare", args=[a.pk, b.pk]) in viewer


def test_the_dossier_pages_show_the_prechecks_once_there_is_a_plan(client, plan_dossier, filer, users):
    client.force_login(filer)
    page = reverse("permits:dossier", args=[plan_dossier.pk])
    assert 'id="plan-prechecks"' not in client.get(page).content.decode()
    version = add_version(plan_dossier, footprints=[(2, 2, 18, 28)], by=filer)
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'id="plan-prechecks"' in html
    assert 'data-check="setback" data-result="fail"' in html
    assert reverse("plans:viewer", args=[version.pk]) in html
    client.force_login(users[Role.DESK_AGENT])
    html = client.get(reverse("permits:desk_dossier", args=[plan_dossier.pk])).content.decode()
    assert 'data-check="setback" data-result="fail"' in html
