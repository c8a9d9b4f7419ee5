"""``manage.py inspect_plan``: text and JSON output, one-line refusals, nothing stored."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.plans.dxf_fixtures import CASABLANCA, building_dxf, lines_only_dxf
from tests.plans.pdf_fixtures import encrypted_pdf, plan_pdf


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def inspect(*args) -> str:
    out = StringIO()
    call_command("inspect_plan", *map(str, args), stdout=out)
    return out.getvalue()


def test_json_of_a_drawing_in_moroccan_coordinates(tmp_path):
    data = json.loads(inspect(building_dxf(tmp_path / "casa.dxf", units="mm", origin=CASABLANCA), "--json"))
    assert {
        "format",
        "version",
        "units",
        "crs",
        "crs_source",
        "extent",
        "extent_wgs84",
        "footprints",
        "warnings",
    } <= set(data)
    assert (data["format"], data["version"], data["units"]) == ("dxf", "R2018 (AC1032)", "mm")
    assert (data["crs"], data["crs_source"]) == ("EPSG:26191", "detected")
    assert data["extent"][0] == pytest.approx(CASABLANCA[0] * 1000)
    min_lon, min_lat, max_lon, max_lat = data["extent_wgs84"]
    assert -7.6 < min_lon < max_lon < -7.58 and 33.57 < min_lat < max_lat < 33.58
    assert [f["area_m2"] for f in data["footprints"]] == [pytest.approx(240.0, abs=0.01)]
    assert data["footprints"][0]["floors"] == 4


def test_text_output_of_a_local_drawing(tmp_path):
    text = inspect(building_dxf(tmp_path / "local.dxf"))
    assert "units: m" in text and "crs: none (source: none)" in text and "extent_wgs84: none" in text
    assert "footprint on 'EMPRISE': 240.00 m², floors 4" in text


def test_pdf_json(tmp_path):
    data = json.loads(inspect(plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/200"), "--json"))
    assert (data["format"], data["crs"], data["crs_source"], data["extent_wgs84"]) == ("pdf", None, "none", None)
    assert data["declared_scale"] == 200 and data["footprints"] == []


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: lines_only_dxf(d / "lines.dxf"), "No closed footprint"),
        (lambda d: encrypted_pdf(d / "secret.pdf"), "encrypted"),
        (lambda d: (d / "notes.txt").write_text("hello") and d / "notes.txt", "not a DXF or PDF"),
    ],
)
def test_refusals_are_one_line(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(CommandError) as caught:
        inspect(path)
    message = str(caught.value)
    assert reason in message and "\n" not in message and message.startswith(f"{Path(path).name}: refused:")


def test_size_limit(tmp_path, settings):
    settings.TAAMIR_PLAN_MAX_MB = 0
    with pytest.raises(CommandError, match="larger than 0 MB"):
        inspect(building_dxf(tmp_path / "m.dxf"))


def test_exit_status_is_1_with_one_line_on_stderr(tmp_path):
    refused = subprocess.run(
        [sys.executable, "manage.py", "inspect_plan", str(lines_only_dxf(tmp_path / "lines.dxf"))],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1
    assert "lines.dxf: refused:" in refused.stderr
