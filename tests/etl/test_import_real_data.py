"""``import_layer`` on real public files from ../shared/data (skipped when the folder is absent).

Cambridge (MA) parcels and zoning districts (public domain), the Spanish cadastre's parcels of a
Tenerife sample in EPSG:32628, and Morocco's 12 regions and 75 provinces (OpenStreetMap, ODbL). The
files are read where they are, never copied into the repository. Each test takes a few seconds.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyogrio.raw
import pytest
from django.db import connection

from etl.importer import layer_import
from geo.models import AdminArea, Parcel, ZoneRegulation, ZoningZone
from tests.etl.conftest import import_layer

pytestmark = [pytest.mark.shared_data, pytest.mark.django_db]


@pytest.fixture
def cambridge(shared_data: Path) -> Path:
    return shared_data / "parcels" / "cambridge-ma"


@pytest.fixture
def morocco(shared_data: Path) -> Path:
    return shared_data / "admin" / "morocco-map"


def area_in(parcel: Parcel, srid: int) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Area(ST_Transform(geom, %s)) FROM geo_parcel WHERE id = %s", [srid, parcel.pk])
        return cursor.fetchone()[0]


def test_cambridge_parcels(cambridge, tmp_path):
    path = cambridge / "cambridge_parcels_fy2014.geojson"
    rejects = tmp_path / "rejects.csv"
    args = ["--layer", "parcels", "--map", "reference=id", "--keep-going", "--rejects", str(rejects)]

    run = import_layer(path, *args)

    summary = run.summary
    assert (summary["read"], summary["created"], summary["updated"], summary["rejected"]) == (13116, 13115, 0, 1)
    assert summary["repaired"] >= 1
    # Feature 13064 is a degenerate A-B-A polygon: rejected with its reason, in the rejects file.
    with rejects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["key"], r["reason"]) for r in rows] == [
        ("13064", "degenerate geometry: no ring has three distinct points")
    ]
    assert not Parcel.objects.filter(reference="13064").exists()
    # Feature 12842 has a one-point second part: dropped, the parcel kept and reported as repaired.
    assert "repaired row" in run.stderr
    kept = Parcel.objects.get(reference="12842")
    assert kept.geom.valid and kept.area_m2 > 0
    assert Parcel.objects.count() == 13115
    assert not Parcel.objects.exclude(geom__isvalid=True).exists()
    # In Cambridge, measured in UTM 19N (not in a Moroccan projection).
    parcel = Parcel.objects.get(reference="1")
    lon, lat = parcel.geom.centroid.coords
    assert lon == pytest.approx(-71.1, abs=0.06) and lat == pytest.approx(42.37, abs=0.04)
    assert parcel.area_srid == 32619
    assert parcel.area_m2 == pytest.approx(area_in(parcel, 32619), rel=1e-9)
    assert parcel.attributes["ML"]  # the source attributes are kept

    # The second run through the service itself, whose report lists every repair (the command shows 20).
    again = layer_import(path=path, layer="parcels", mapping={"reference": "id"}, keep_going=True)
    assert (again.read, again.created, again.updated, again.rejected) == (13116, 0, 0, 1)
    assert again.repaired == summary["repaired"]
    repairs = {problem.key: problem.reason for problem in again.repairs}
    assert repairs["12842"].startswith("dropped 1 degenerate ring(s) with fewer than 4 points")
    assert Parcel.objects.count() == 13115


def test_cambridge_zoning_districts(cambridge):
    path = cambridge / "CDD_ZoningDistricts.geojson"
    run = import_layer(path, "--layer", "zoning")

    assert run.summary["read"] == 261 and run.summary["created"] == 261 and run.summary["rejected"] == 0
    assert ZoningZone.objects.filter(plan__code="CDD_ZoningDistricts").count() == 261
    # Each district (GlobalID) carries the zone code of its ZONE_TYPE; one regulation per zone type (57).
    _, _, _, (zone_types, global_ids) = pyogrio.raw.read(path, columns=["ZONE_TYPE", "GlobalID"], read_geometry=False)
    expected = dict(zip(global_ids.tolist(), zone_types.tolist(), strict=True))
    assert dict(ZoningZone.objects.values_list("source_key", "regulation__zone_code")) == expected
    assert ZoneRegulation.objects.count() == len(set(expected.values())) == 57
    assert {"C-1", "OS", "SD-10(F)"} <= set(ZoneRegulation.objects.values_list("zone_code", flat=True))
    lon, lat = ZoningZone.objects.first().geom.centroid.coords
    assert -71.17 < lon < -71.06 and 42.35 < lat < 42.41

    again = import_layer(path, "--layer", "zoning")
    assert (again.summary["created"], again.summary["updated"]) == (0, 0)


def test_spanish_cadastre_parcels_in_utm_28n(shared_data):
    path = shared_data / "parcels" / "es-catastro" / "parcel.gpkg"

    run = import_layer(path, "--layer", "parcels")

    # GDAL's Arrow stream repeats 78 of the 186 features; the reader keeps each feature id once.
    assert run.summary == {"read": 186, "created": 186, "updated": 0, "repaired": 0, "rejected": 0}
    assert "source EPSG:32628" in run.stdout and "areas measured in EPSG:32628" in run.stdout
    parcels = list(Parcel.objects.all())
    assert {p.area_srid for p in parcels} == {32628}
    # The cadastre's own areaValue, rounded to the square metre, is what we measure in its own CRS.
    for parcel in parcels:
        assert parcel.area_m2 == pytest.approx(parcel.attributes["areaValue"], abs=0.5), parcel.reference
    # In Tenerife.
    lon, lat = parcels[0].geom.centroid.coords
    assert -16.5 < lon < -16.0 and 28.0 < lat < 28.6

    again = import_layer(path, "--layer", "parcels")
    assert (again.summary["created"], again.summary["updated"]) == (0, 0)


def test_morocco_regions_and_provinces(morocco):
    regions = import_layer(morocco / "morocco_regions.geojson", "--layer", "admin_areas", "--level", "region")
    assert (regions.summary["read"], regions.summary["created"], regions.summary["rejected"]) == (12, 12, 0)
    provinces = import_layer(morocco / "morocco_provinces.geojson", "--layer", "admin_areas", "--level", "province")
    assert (provinces.summary["read"], provinces.summary["created"], provinces.summary["rejected"]) == (75, 75, 0)

    assert AdminArea.objects.filter(level="region").count() == 12
    assert AdminArea.objects.filter(level="province").count() == 75
    # Every province found its region by place.
    assert not AdminArea.objects.filter(level="province", parent__isnull=True).exists()
    assert set(AdminArea.objects.filter(level="province").values_list("parent__level", flat=True)) == {"region"}
    casablanca = AdminArea.objects.get(code="MA-CAS")
    assert casablanca.parent.code == "MA-06"
    # The trilingual OSM name is split into French and Arabic (the Tifinagh part is dropped).
    assert casablanca.name_fr == "Préfecture de Casablanca"
    assert "الدار البيضاء" in casablanca.name_ar
    assert casablanca.projected_srid == 26191
    region = AdminArea.objects.get(code="MA-06")
    assert region.name_fr == "Casablanca-Settat" and region.name_ar == "الدار البيضاء-سطات"
    assert not any("\u2d30" <= ch <= "\u2d7f" for ch in region.name_fr)
    lon, lat = casablanca.geom.point_on_surface.coords
    assert -7.8 < lon < -7.3 and 33.4 < lat < 33.7

    again = import_layer(morocco / "morocco_provinces.geojson", "--layer", "admin_areas", "--level", "province")
    assert (again.summary["created"], again.summary["updated"]) == (0, 0)
