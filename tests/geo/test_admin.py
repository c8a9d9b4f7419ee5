"""The admin lists and shows every geo layer without a map widget from the internet."""

from __future__ import annotations

import pytest
from django.urls import reverse

MODELS = ["adminarea", "parcel", "zoningplan", "zoneregulation", "zoningzone", "constraintarea"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_pages_render_offline(admin_client, casablanca_world, model):
    listing = admin_client.get(reverse(f"admin:geo_{model}_changelist"))
    assert listing.status_code == 200
    obj = {
        "adminarea": casablanca_world["commune"],
        "parcel": casablanca_world["villa"],
        "zoningplan": casablanca_world["plan"],
        "zoneregulation": casablanca_world["plan"].regulations.first(),
        "zoningzone": casablanca_world["plan"].zones.first(),
        "constraintarea": casablanca_world["heritage"],
    }[model]
    page = admin_client.get(reverse(f"admin:geo_{model}_change", args=[obj.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "openstreetmap" not in html.lower() and "cdn" not in html.lower()


def test_parcel_search_ignores_case_and_spaces(admin_client, casablanca_world):
    page = admin_client.get(reverse("admin:geo_parcel_changelist"), {"q": "tf 100"})
    html = page.content.decode()
    assert "TF 1001/C" in html and "TF 1002/C" in html and "TF 20017/C" not in html
