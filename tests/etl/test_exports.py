"""Layer exports: every format opens in GDAL with the right count, CRS and fields; filters; access rules.

Files are opened back with pyogrio (through :mod:`etl.io`'s reader) and with Debian's ``ogrinfo``, so a
file GDAL cannot read, a wrong CRS or a field the catalogue does not name fails here.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import override

from etl.exports import ExportRefused, export_layer
from etl.io import layer_info, read_batches
from geo.models import AuthorisedWork, Parcel
from permits.roles import Role
from permits.workflow import dossier_transition
from tests.conftest import merchich_box
from tests.permits.conftest import building_permit, complete_draft, draft, users  # noqa: F401 (fixtures)
from tiles.layers import layer_named

FORMATS = ("gpkg", "shp", "geojson", "csv", "kml", "fgb")
PARCEL_FIELDS = ["reference", "commune_code", "area_m2", "updated_at"]
# A Shapefile keeps ten characters of a field name.
SHP_NAMES = {"reference": "reference", "commune_code": "commune_co", "area_m2": "area_m2", "updated_at": "updated_at"}
PERSONAL_VALUES = ("Yasmine", "El Amrani", "BE123456", "yasmine@example.org", "+212600000001")


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def opened(path: Path, fmt: str) -> Path:
    """The file GDAL should open: the .shp inside the zip for a Shapefile."""
    if fmt != "shp":
        return path
    folder = path.parent / f"{path.stem}-unzipped"
    with zipfile.ZipFile(path) as bundle:
        bundle.extractall(folder)
    return next(folder.glob("*.shp"))


def features(path: Path) -> list[dict]:
    info = layer_info(path=path)
    return [row for batch in read_batches(info=info) for row in batch.rows]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_opens_with_count_crs_and_catalogue_fields(casablanca_world, tmp_path, fmt):
    out = tmp_path / f"parcels.{fmt}"
    result = export_layer(layer_name="parcels", fmt=fmt, out_path=out)

    assert result.count == 3
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # nothing left beside it
    info = layer_info(path=opened(out, fmt))
    assert info.feature_count in (3, None)
    assert len(features(opened(out, fmt))) == 3
    assert "4326" in (info.crs or "") or "WGS 84" in (info.crs or "") or fmt == "csv"
    expected = [SHP_NAMES[name] for name in PARCEL_FIELDS] if fmt == "shp" else PARCEL_FIELDS
    if fmt == "kml":  # KML adds its own Name/description/... columns around ours
        assert set(expected) <= set(info.fields)
    elif fmt == "csv":
        assert [f for f in info.fields if f != "WKT"] == expected
    else:
        assert list(info.fields) == expected
    references = sorted(str(row.get("reference")) for row in features(opened(out, fmt)))
    assert references == ["TF 1001/C", "TF 1002/C", "TF 20017/C"]


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="Debian's ogrinfo is absent")
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "fgb", "kml"])
def test_ogrinfo_reads_count_and_epsg_4326(casablanca_world, tmp_path, fmt):
    out = tmp_path / ("parcels.zip" if fmt == "shp" else f"parcels.{fmt}")
    export_layer(layer_name="parcels", fmt=fmt, out_path=out)
    source = f"/vsizip/{out}" if fmt == "shp" else str(out)

    text = subprocess.run(["ogrinfo", "-so", "-al", source], capture_output=True, text=True, check=True).stdout

    assert "Feature Count: 3" in text
    assert 'ID["EPSG",4326]' in text


def test_shapefile_zip_holds_shp_shx_dbf_prj_cpg(casablanca_world, tmp_path):
    out = tmp_path / "parcels.zip"
    export_layer(layer_name="parcels", fmt="shp", out_path=out)

    with zipfile.ZipFile(out) as bundle:
        names = sorted(bundle.namelist())
        assert bundle.read("parcels.cpg").strip() == b"UTF-8"
        assert b"WGS" in bundle.read("parcels.prj")
    assert names == ["parcels.cpg", "parcels.dbf", "parcels.prj", "parcels.shp", "parcels.shx"]


def test_geometries_come_back_in_place(casablanca_world, tmp_path):
    out = tmp_path / "parcels.gpkg"
    export_layer(layer_name="parcels", fmt="gpkg", out_path=out)
    info = layer_info(path=out)
    villa = casablanca_world["villa"].geom

    minx, _miny, _maxx, maxy = info.bounds
    parcels = Parcel.objects.all()
    assert minx == pytest.approx(min(p.geom.extent[0] for p in parcels), abs=1e-9)
    assert maxy == pytest.approx(max(p.geom.extent[3] for p in parcels), abs=1e-9)
    assert -7.7 < villa.centroid.x < -7.5


def test_bbox_commune_and_since_filters(casablanca_world, tmp_path):
    villa = casablanca_world["villa"].geom.extent
    bbox = (villa[0] - 1e-5, villa[1] - 1e-5, villa[2] + 1e-5, villa[3] + 1e-5)
    assert export_layer(layer_name="parcels", fmt="geojson", out_path=tmp_path / "a.geojson", bbox=bbox).count == 1
    assert export_layer(layer_name="parcels", fmt="csv", out_path=tmp_path / "b.csv", commune="TEST-01").count == 3

    Parcel.objects.filter(reference="TF 1001/C").update(updated_at=timezone.now() - dt.timedelta(days=400))
    since = (timezone.now() - dt.timedelta(days=30)).date()
    assert export_layer(layer_name="parcels", fmt="fgb", out_path=tmp_path / "c.fgb", since=since).count == 2
    # Constraints carry no commune of their own: the commune's boundary selects them.
    assert (
        export_layer(layer_name="constraints", fmt="gpkg", out_path=tmp_path / "d.gpkg", commune="TEST-01").count == 1
    )


def test_bad_filters_are_refused_and_leave_nothing(casablanca_world, tmp_path):
    with pytest.raises(ExportRefused, match="commune"):
        export_layer(layer_name="parcels", fmt="gpkg", out_path=tmp_path / "x.gpkg", commune="NOPE")
    with pytest.raises(ExportRefused, match="date"):
        export_layer(layer_name="constraints", fmt="gpkg", out_path=tmp_path / "x.gpkg", since=dt.date(2024, 1, 1))
    with pytest.raises(ExportRefused, match="format"):
        export_layer(layer_name="parcels", fmt="xls", out_path=tmp_path / "x.xls")
    assert list(tmp_path.iterdir()) == []


def test_authorised_works_keep_types_and_export_to_a_stream(casablanca_world, tmp_path):
    AuthorisedWork.objects.create(
        reference="PC-2024-0001",
        procedure_code="building-permit",
        procedure_name="Permis de construire",
        commune=casablanca_world["commune"],
        decision_date=dt.date(2024, 3, 5),
        floors=2,
        use="housing",
        built_area_m2=180.5,
        dwellings=1,
        status="authorised",
        geom=merchich_box(100, 100, 130, 140),
    )
    buffer = io.BytesIO()
    result = export_layer(layer_name="authorised_works", fmt="geojson", stream=buffer)
    out = tmp_path / "works.geojson"
    out.write_bytes(buffer.getvalue())

    assert result.count == 1 and result.path is None
    row = features(out)[0]
    assert row["reference"] == "PC-2024-0001"
    assert row["floors"] == 2 and row["built_area_m2"] == pytest.approx(180.5)
    assert str(row["decision_date"]).startswith("2024-03-05")
    assert [f.name for f in layer_named("authorised_works", user=None).fields] == list(layer_info(path=out).fields)


# --- the internal layer ----------------------------------------------------------------------------------


@pytest.fixture
def submitted(complete_draft, users):  # noqa: F811
    return dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])


def test_internal_layer_needs_a_reader_and_carries_no_personal_field(submitted, users, tmp_path):  # noqa: F811
    with pytest.raises(ExportRefused):
        export_layer(layer_name="dossiers", fmt="geojson", out_path=tmp_path / "d.geojson", user=None)
    with pytest.raises(ExportRefused):
        export_layer(layer_name="dossiers", fmt="geojson", out_path=tmp_path / "d.geojson", user=users[Role.ARCHITECT])

    out = tmp_path / "d.geojson"
    result = export_layer(layer_name="dossiers", fmt="geojson", out_path=out, user=users[Role.PLANNER])

    assert result.count == 1
    text = out.read_text()
    assert submitted.reference in text
    for value in PERSONAL_VALUES:
        assert value not in text


def test_command_writes_file_and_refuses_internal_without_flag(submitted, tmp_path):
    out = tmp_path / "parcels.gpkg"
    stdout = io.StringIO()
    call_command("export_layer", "parcels", "--format", "gpkg", "-o", str(out), "--no-progress", stdout=stdout)
    assert stdout.getvalue().strip() == f"exported 3 features of parcels to {out}"
    assert layer_info(path=out).feature_count == 3

    with pytest.raises(CommandError, match="--internal"):
        call_command("export_layer", "dossiers", "--format", "csv", "-o", str(tmp_path / "d.csv"), "--no-progress")
    call_command(
        "export_layer", "dossiers", "--format", "csv", "-o", str(tmp_path / "d.csv"), "--internal", "--no-progress",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert len(features(tmp_path / "d.csv")) == 1
    with pytest.raises(CommandError, match="bbox"):
        call_command("export_layer", "parcels", "--format", "csv", "--bbox", "1,2,3", "--no-progress")


# --- the page and the API ------------------------------------------------------------------------------


def download(response, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    out.write_bytes(b"".join(response.streaming_content))
    return out


def test_api_download_streams_the_file(client, casablanca_world, tmp_path):
    response = client.get("/api/exports/parcels.geojson", {"commune": "TEST-01"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert 'filename="parcels.geojson"' in response["Content-Disposition"]
    assert len(features(download(response, tmp_path, "p.geojson"))) == 3

    zipped = client.get("/api/exports/parcels.shp")
    assert zipped["Content-Type"] == "application/zip"
    assert 'filename="parcels.zip"' in zipped["Content-Disposition"]
    assert len(features(opened(download(zipped, tmp_path, "p.zip"), "shp"))) == 3


def test_api_refuses_internal_layer_to_anonymous_and_applicants(client, submitted, users, tmp_path):  # noqa: F811
    anonymous = client.get("/api/exports/dossiers.geojson")
    assert anonymous.status_code == 404
    assert anonymous["Content-Type"] == "application/problem+json"

    client.force_login(users[Role.APPLICANT])
    assert client.get("/api/exports/dossiers.geojson").status_code == 404

    client.force_login(users[Role.DESK_AGENT])
    response = client.get("/api/exports/dossiers.geojson")
    assert response.status_code == 200
    text = download(response, tmp_path, "d.geojson").read_text()
    assert submitted.reference in text
    assert not any(value in text for value in PERSONAL_VALUES)


def test_api_bad_input_is_a_problem_document(client, casablanca_world):
    for url, status in [
        ("/api/exports/parcels.xls", 404),
        ("/api/exports/parcels.gpkg?bbox=1,2", 400),
        ("/api/exports/parcels.gpkg?since=yesterday", 400),
        ("/api/exports/constraints.gpkg?since=2024-01-01", 400),
        ("/api/exports/parcels.gpkg?commune=NOPE", 400),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        assert response.json()["detail"], url


def test_page_lists_only_visible_layers_and_redirects_to_the_download(client, casablanca_world, users):  # noqa: F811
    page = client.get("/exports/")
    assert page.status_code == 200
    assert 'value="parcels"' in page.content.decode()
    assert 'value="dossiers"' not in page.content.decode()
    refused = client.get("/exports/", {"layer": "dossiers", "fmt": "gpkg"})
    assert refused.status_code == 400

    client.force_login(users[Role.PLANNER])
    assert 'value="dossiers"' in client.get("/exports/").content.decode()
    response = client.get("/exports/", {"layer": "parcels", "fmt": "shp", "commune": "TEST-01", "bbox": ""})
    assert response.status_code == 302
    assert response["Location"] == "/api/exports/parcels.shp?commune=TEST-01"
    bad = client.get("/exports/", {"layer": "parcels", "fmt": "gpkg", "bbox": "a,b"})
    assert bad.status_code == 400
    no_date = client.get(
        "/exports/", {"layer": "constraints", "fmt": "gpkg", "since": "2024-01-01"}, headers={"accept-language": "en"}
    )
    assert no_date.status_code == 400
    assert "has no date to filter on" in no_date.content.decode()
    unknown = client.get("/exports/", {"layer": "parcels", "fmt": "gpkg", "commune": "NOPE"})  # French by default
    assert "Commune inconnue : NOPE" in unknown.content.decode()


def test_empty_selection_is_a_valid_empty_file(casablanca_world, tmp_path):
    out = tmp_path / "none.gpkg"
    result = export_layer(layer_name="parcels", fmt="gpkg", out_path=out, bbox=(10.0, 10.0, 11.0, 11.0))
    assert result.count == 0
    assert layer_info(path=out).feature_count == 0


def test_multipolygon_type_is_declared(casablanca_world, tmp_path):
    out = tmp_path / "p.fgb"
    export_layer(layer_name="parcels", fmt="fgb", out_path=out)
    assert layer_info(path=out).base_geometry_type == "MultiPolygon"
    assert isinstance(casablanca_world["villa"].geom, MultiPolygon)


def test_asgi_download_streams_asynchronously(casablanca_world, tmp_path):
    """Under ASGI the body is an async iterator (a sync one would be read whole into memory by Django)."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    response = async_to_sync(AsyncClient().get)("/api/exports/parcels.gpkg")

    assert response.status_code == 200
    assert response.is_async
    assert int(response["Content-Length"]) > 0

    async def body() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    out = tmp_path / "p.gpkg"
    out.write_bytes(async_to_sync(body)())
    assert len(out.read_bytes()) == int(response["Content-Length"])
    assert layer_info(path=out).feature_count == 3
