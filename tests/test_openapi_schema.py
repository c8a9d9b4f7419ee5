"""The OpenAPI document of the whole API generates without a warning and validates."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_of_every_api_view_is_complete_and_valid(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    paths = yaml.safe_load(path.read_text(encoding="utf-8"))["paths"]
    for expected in ("/api/parcels/", "/api/exports/{layer}.{ext}", "/api/dossiers/"):
        assert expected in paths
