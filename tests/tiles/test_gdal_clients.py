"""Real clients against a live server: OWSLib (WFS 2.0 and OGC API – Features) and GDAL's command-line tools
(``ogrinfo WFS:…``, ``ogr2ogr`` from the WFS with paging, ``ogrinfo OAPIF:…``).

Each checks what a planner would: the layers listed (no internal layer without credentials), feature counts
equal to the database's, coordinates near Casablanca in the right axis order, and no personal data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from geo.models import AuthorisedWork, Parcel
from tests.tiles.conftest import PERSONAL_DATA

GDAL = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo/ogr2ogr are not installed")
GML = "{http://www.opengis.net/gml/3.2}"


def gdal(*args: str, auth: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [args[0]]
    if auth:
        command += ["--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", auth]
    command += list(args[1:])
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GDAL_HTTP_UNSAFESSL": "NO", **(env or {})},
    )
    assert completed.returncode == 0, completed.stderr
    return completed


def test_owslib_wfs_anonymous_and_planner(live_server, geo_portal_world):
    from owslib.wfs import WebFeatureService

    url = f"{live_server.url}/wfs"
    anonymous = WebFeatureService(url, version="2.0.0")
    assert sorted(anonymous.contents) == sorted(
        f"taamir:{name}" for name in ("authorised_works", "parcels", "zoning", "constraints", "admin_areas")
    )
    # GML 3.2 in urn:ogc:def:crs:EPSG::4326: latitude first.
    response = anonymous.getfeature(
        typename=["taamir:authorised_works"], srsname="urn:ogc:def:crs:EPSG::4326", maxfeatures=10
    )
    root = ET.fromstring(response.read())
    assert root.get("numberMatched") == str(AuthorisedWork.objects.count())
    lat, lon = (float(v) for v in root.find(f".//{GML}posList").text.split()[:2])
    assert 33.5 < lat < 33.7 and -7.7 < lon < -7.5
    geojson = json.loads(anonymous.getfeature(typename=["taamir:parcels"], outputFormat="application/json").read())
    assert len(geojson["features"]) == Parcel.objects.count()

    planner = WebFeatureService(url, version="2.0.0", username="geo.planner", password=geo_portal_world["token"])
    assert "taamir:dossiers" in planner.contents
    body = planner.getfeature(typename=["taamir:dossiers"], outputFormat="application/json").read().decode()
    assert "TEST-01-2025-00042" in body
    assert not [secret for secret in PERSONAL_DATA if secret in body]


def test_owslib_ogc_api_features(live_server, geo_portal_world):
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    api = Features(f"{live_server.url}/ogcapi/")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "dossiers" not in ids and "authorised_works" in ids
    flats = geo_portal_world["works"]["flats"]
    items = api.collection_items("authorised_works", bbox=list(flats.geom.extent), limit=10)
    assert [f["properties"]["reference"] for f in items["features"]] == [flats.reference]
    page = api.collection_items("authorised_works", limit=2, offset=2)
    assert page["numberMatched"] == 3 and page["numberReturned"] == 1

    planner = Features(f"{live_server.url}/ogcapi/", auth=Authentication("geo.planner", geo_portal_world["token"]))
    assert "dossiers" in [c["id"] for c in planner.collections()["collections"]]
    dossiers = planner.collection_items("dossiers")
    assert [f["properties"]["reference"] for f in dossiers["features"]] == ["TEST-01-2025-00042"]


@GDAL
def test_ogrinfo_lists_public_layers_and_reads_lon_lat(live_server, geo_portal_world):
    source = f"WFS:{live_server.url}/wfs"
    listing = gdal("ogrinfo", "-ro", "-so", source).stdout
    assert "taamir:authorised_works" in listing and "taamir:admin_areas" in listing
    assert "dossiers" not in listing
    summary = gdal("ogrinfo", "-ro", "-so", source, "taamir:authorised_works").stdout
    assert "Feature Count: 3" in summary
    house = geo_portal_world["works"]["house"]
    features = gdal("ogrinfo", "-ro", source, "taamir:authorised_works", "-where", f"reference = '{house.reference}'")
    wkt = next(line.strip() for line in features.stdout.splitlines() if "MULTIPOLYGON" in line)
    lon, lat = (float(v) for v in wkt.split("(((")[1].split(",")[0].split())
    assert -7.7 < lon < -7.5 and 33.5 < lat < 33.7
    assert abs(lon - house.geom.coords[0][0][0][0]) < 1e-6


@GDAL
def test_ogrinfo_with_a_token_as_basic_password_sees_dossiers(live_server, geo_portal_world):
    source = f"WFS:{live_server.url}/wfs"
    listing = gdal("ogrinfo", "-ro", "-so", source, auth=f"geo.planner:{geo_portal_world['token']}").stdout
    assert "taamir:dossiers" in listing
    dump = gdal("ogrinfo", "-ro", source, "taamir:dossiers", auth=f"geo.planner:{geo_portal_world['token']}").stdout
    assert "TEST-01-2025-00042" in dump
    assert not [secret for secret in PERSONAL_DATA if secret in dump]


@GDAL
def test_ogr2ogr_pages_through_the_wfs(live_server, geo_portal_world, tmp_path):
    target = tmp_path / "parcels.geojson"
    completed = gdal(
        "ogr2ogr", "-f", "GeoJSON", str(target), f"WFS:{live_server.url}/wfs", "taamir:parcels",
        "--config", "OGR_WFS_PAGING_ALLOWED", "ON", "--config", "OGR_WFS_PAGE_SIZE", "2", "--debug", "ON",
    )  # fmt: skip
    # Three parcels in pages of two: the second page starts at index 2.
    assert "STARTINDEX=2" in completed.stderr.upper()
    data = json.loads(target.read_text())
    assert sorted(f["properties"]["reference"] for f in data["features"]) == sorted(
        Parcel.objects.values_list("reference", flat=True)
    )
    assert set(data["features"][0]["properties"]) == {"gml_id", "reference", "commune_code", "area_m2", "updated_at"}


@GDAL
def test_ogrinfo_reads_the_ogc_api(live_server, geo_portal_world):
    source = f"OAPIF:{live_server.url}/ogcapi/"
    listing = gdal("ogrinfo", "-ro", "-so", source).stdout
    assert "authorised_works" in listing and "dossiers" not in listing
    summary = gdal("ogrinfo", "-ro", "-so", source, "authorised_works").stdout
    assert "Feature Count: 3" in summary
