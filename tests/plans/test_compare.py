"""Comparison of two plan versions: footprint added and removed, in m², in PostGIS."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from plans.compare import ComparisonRefused, compare_versions
from tests.plans.conftest import add_version

pytestmark = pytest.mark.django_db


def test_added_and_removed_areas(plan_dossier, filer):
    # v1: 14 × 24 m; v2: moved 2 m east and 2 m taller → adds a 2 × 24 strip + a 14 × 2 strip, removes 2 × 22.
    a = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    b = add_version(plan_dossier, footprints=[(5, 3, 19, 29)], by=filer)
    comparison = compare_versions(a=a, b=b)
    assert comparison.a_area_m2 == pytest.approx(336, abs=0.01)
    assert comparison.b_area_m2 == pytest.approx(14 * 26, abs=0.01)
    # Added: x 17–19 over y 3–29 (52 m²) + x 5–17 over y 27–29 (24 m²) = 76 m².
    assert comparison.added_area_m2 == pytest.approx(76, abs=0.01)
    # Removed: x 3–5 over y 3–27 = 48 m².
    assert comparison.removed_area_m2 == pytest.approx(48, abs=0.01)
    assert comparison.net_change_m2 == pytest.approx(28, abs=0.01)
    assert comparison.added.geom_type == "MultiPolygon" and comparison.added.srid == 4326
    assert comparison.srid == 26191


def test_identical_versions_have_no_difference(plan_dossier, filer):
    a = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    b = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    comparison = compare_versions(a=a, b=b)
    assert comparison.added is None and comparison.removed is None
    assert comparison.added_area_m2 == 0 and comparison.removed_area_m2 == 0


def test_a_version_without_footprint_compares_as_empty(plan_dossier, filer):
    a = add_version(plan_dossier, footprints=[], by=filer)
    b = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    comparison = compare_versions(a=a, b=b)
    assert comparison.added_area_m2 == pytest.approx(336, abs=0.01)
    assert comparison.removed is None


def test_versions_of_different_sheets_are_refused(plan_dossier, filer):
    a = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    b = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], sheet="RDC", by=filer)
    with pytest.raises(ComparisonRefused):
        compare_versions(a=a, b=b)
    with pytest.raises(ComparisonRefused):
        compare_versions(a=a, b=a)


def test_compare_api(plan_dossier, filer, users):
    a = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    b = add_version(plan_dossier, footprints=[(5, 3, 19, 29)], by=filer)
    client = APIClient()
    client.force_authenticate(filer)
    body = client.get(reverse("plans-api:compare", args=[a.pk, b.pk])).json()
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["change"] for f in body["features"]} == {"added", "removed"}
    assert body["properties"]["added_area_m2"] == pytest.approx(76, abs=0.01)
    assert body["properties"]["removed_area_m2"] == pytest.approx(48, abs=0.01)
    assert body["properties"]["measured_in"] == "EPSG:26191"
    c = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], sheet="RDC", by=filer)
    response = client.get(reverse("plans-api:compare", args=[a.pk, c.pk]))
    assert response.status_code == 400
    assert response.json()["type"] == "urn:taamir:problem:comparison-refused"
    stranger = APIClient()
    stranger.force_authenticate(users["other_architect"])
    assert stranger.get(reverse("plans-api:compare", args=[a.pk, b.pk])).status_code == 404
