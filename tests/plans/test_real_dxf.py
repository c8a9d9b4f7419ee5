"""Every DXF of ../shared/data/dxf through ``inspect_plan --json``: imported with the right units (and, for
the two files with GEODATA, at the right place on Earth) or refused with a one-line reason; never a traceback.
The same table is in docs/plans.md.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

pytestmark = pytest.mark.shared_data

# file -> (units, crs, crs_source) when imported, or the start of the refusal reason.
IMPORTED = {
    "ezdxf/Graz_10km_3m.dxf": ("m", "EPSG:3395", "geodata"),
    "ezdxf/houses_of_parliament_georeferenced.dxf": ("in", "EPSG:27700", "geodata"),
    "ezdxf/POLI-ALL210_12.DXF": ("m", None, "none"),
    "ezdxf/custom_blocks.dxf": ("mm", None, "none"),
    "ezdxf/wipeout_door.dxf": ("in", None, "none"),
    "libredwg/example_2000.dxf": ("mm", None, "none"),
    "libredwg/example_2010.dxf": ("mm", None, "none"),
    "libredwg/example_2018.dxf": ("mm", None, "none"),
    "libredwg/example_r12.dxf": ("mm", None, "none"),
    "libredwg/gh109_1.dxf": ("cm", None, "none"),
    "three-dxf/api-cw750-details.dxf": ("m", None, "none"),
}
REFUSED = {
    "ezdxf/bin_dxf_r14.dxf": "No closed footprint",
    "ezdxf/duplicate_handles.dxf": "No closed footprint",
    "ezdxf/recover01.dxf": "No closed footprint",
    "libredwg/gh209_1.dxf": "No closed footprint",
    "three-dxf/demo.dxf": "No closed footprint",
}
INFERRED = {
    "ezdxf/POLI-ALL210_12.DXF",
    "libredwg/example_r12.dxf",
    "libredwg/gh109_1.dxf",
    "three-dxf/api-cw750-details.dxf",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_every_file_is_listed(shared_data):
    found = {str(p.relative_to(shared_data / "dxf")) for p in (shared_data / "dxf").rglob("*") if p.is_file()}
    assert found == set(IMPORTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_imported(shared_data, name):
    out = StringIO()
    call_command("inspect_plan", str(shared_data / "dxf" / name), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["units"], data["crs"], data["crs_source"]) == IMPORTED[name]
    assert data["format"] == "dxf"
    assert (name in INFERRED) == data["units_inferred"]
    if data["crs"] is None:
        assert data["extent_wgs84"] is None
    else:
        assert len(data["extent_wgs84"]) == 4


def centre(data) -> tuple[float, float]:
    min_lon, min_lat, max_lon, max_lat = data["extent_wgs84"]
    return (min_lon + max_lon) / 2, (min_lat + max_lat) / 2


def test_houses_of_parliament_land_in_westminster(shared_data):
    out = StringIO()
    call_command(
        "inspect_plan", str(shared_data / "dxf/ezdxf/houses_of_parliament_georeferenced.dxf"), "--json", stdout=out
    )
    data = json.loads(out.getvalue())
    lon, lat = centre(data)
    assert lat == pytest.approx(51.4995, abs=0.002) and lon == pytest.approx(-0.1248, abs=0.003)
    assert data["footprints"][0]["area_m2"] == pytest.approx(30401, rel=0.01)


def test_graz_lands_in_graz(shared_data):
    out = StringIO()
    call_command("inspect_plan", str(shared_data / "dxf/ezdxf/Graz_10km_3m.dxf"), "--json", stdout=out)
    data = json.loads(out.getvalue())
    lon, lat = centre(data)
    assert lat == pytest.approx(47.07, abs=0.01) and lon == pytest.approx(15.44, abs=0.01)
    assert data["footprints"] == [] and "situation plan" in data["warnings"][-1]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_one_line(shared_data, name):
    with pytest.raises(CommandError) as caught:
        call_command("inspect_plan", str(shared_data / "dxf" / name), stdout=StringIO())
    message = str(caught.value)
    assert REFUSED[name] in message and "\n" not in message


def test_gh209_geodata_without_coordinate_system_is_named_in_the_refusal(shared_data):
    with pytest.raises(CommandError, match="GEODATA object without a usable coordinate system"):
        call_command("inspect_plan", str(shared_data / "dxf/libredwg/gh209_1.dxf"), stdout=StringIO())
