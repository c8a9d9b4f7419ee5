"""Raster tiles through MapProxy at /mapproxy/: WMTS, TMS and WMS of an orthophoto and of a plan raster.

The rasters are real Cloud-Optimised GeoTIFFs written by :func:`plans.raster.write_cog` near Casablanca
in EPSG:26191, rendered by Debian's ``mapserv`` and cut by MapProxy, in web mercator and in Merchich.
"""

from __future__ import annotations

import io
import math
import shutil

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from geo.models import Orthophoto
from permits.roles import Role
from plans.models import PlanSet, PlanVersion
from plans.raster import write_cog
from tests.permits.conftest import building_permit, draft, users  # noqa: F401 (fixtures)
from tiles import mapproxy_app

pytestmark = pytest.mark.skipif(shutil.which("mapserv") is None, reason="Debian's mapserver-bin is absent")

# One tile of the Merchich grid at level 12 (1 m per pixel, tiles of 256 m), on Casablanca. WMTS and XYZ
# count rows from the top (ROW), TMS from the bottom (TMS_ROW).
LEVEL, COL, ROW = 12, 1158, 2796
TMS_ROW = 2**LEVEL - 1 - ROW
TILE_WEST = COL * 256.0
TILE_NORTH = 1048576.0 - ROW * 256.0
BLUE = (20, 60, 200)
RED = (220, 30, 30)


def cog_bytes(tmp_path, colour: tuple[int, int, int], name: str) -> bytes:
    """A 256 x 256 px image at 1 m per pixel covering exactly the Merchich tile above, in one colour."""
    rgba = np.zeros((256, 256, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = 255
    rgba[100:156, 100:156, :3] = 255  # a white square in the middle, so the image is not flat
    out = tmp_path / f"{name}.tif"
    write_cog(rgba=rgba, pixel_to_world=(1, 0, TILE_WEST, 0, -1, TILE_NORTH), srid=26191, out_path=out)
    return out.read_bytes()


def mercator_tile(zoom: int) -> tuple[int, int]:
    """The web-mercator tile holding the centre of the image."""
    centre = Point(TILE_WEST + 128, TILE_NORTH - 128, srid=26191)
    centre.transform(4326)
    n = 2**zoom
    x = int((centre.x + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(centre.y))) / math.pi) / 2 * n)
    return x, y


def png_colours(response) -> np.ndarray:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))
    return image[image[..., 3] > 0][:, :3]


@pytest.fixture(autouse=True)
def mapproxy_dir(settings, tmp_path):
    settings.TAAMIR_MAPPROXY_DIR = tmp_path / "mapproxy"
    return settings.TAAMIR_MAPPROXY_DIR


@pytest.fixture
def orthophoto(db, tmp_path):
    source = tmp_path / "source.tif"
    source.write_bytes(cog_bytes(tmp_path, BLUE, "blue"))
    call_command("import_raster", str(source), "--name", "casa-test", stdout=io.StringIO())
    yield "ortho-casa-test"
    Orthophoto.objects.get(name="casa-test").file.delete(save=False)


@pytest.fixture
def plan_version(draft, users, tmp_path):  # noqa: F811
    plan_set = PlanSet.objects.create(dossier=draft, sheet="A1")
    version = PlanVersion(
        plan_set=plan_set, number=1, status="ready", original_name="a1.pdf", format="pdf", size=10, sha256="0" * 64,
        crs_srid=26191, uploaded_by=users[Role.ARCHITECT], raster_updated_at=timezone.now(),
    )  # fmt: skip
    version.file.save("a1.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    version.raster.save("raster.tif", ContentFile(cog_bytes(tmp_path, RED, "red")), save=False)
    version.save()
    yield version
    version.raster.delete(save=False)
    version.file.delete(save=False)


def test_orthophoto_tiles_in_web_mercator_and_merchich(client, orthophoto):
    x, y = mercator_tile(17)
    wmts = png_colours(client.get(f"/mapproxy/wmts/{orthophoto}/webmercator/17/{x}/{y}.png"))
    tms = png_colours(client.get(f"/mapproxy/tms/1.0.0/{orthophoto}/merchich/{LEVEL}/{COL}/{TMS_ROW}.png"))
    wmts_merchich = png_colours(client.get(f"/mapproxy/wmts/{orthophoto}/merchich/{LEVEL}/{COL}/{ROW}.png"))
    xyz = png_colours(client.get(f"/mapproxy/tiles/{orthophoto}/merchich/{LEVEL}/{COL}/{ROW}.png?origin=nw"))

    assert len(wmts) > 1000  # drawn pixels, not an empty tile
    assert len(tms) == len(wmts_merchich) == len(xyz) == 256 * 256  # the image fills the Merchich tile exactly
    assert tuple(np.median(tms, axis=0).astype(int)) == pytest.approx(BLUE, abs=3)
    assert (wmts_merchich == 255).all(axis=1).sum() == pytest.approx(56 * 56, rel=0.15)  # the white square


def test_wms_getmap_in_26191(client, orthophoto):
    response = client.get(
        "/mapproxy/service",
        {
            "SERVICE": "WMS", "VERSION": "1.1.1", "REQUEST": "GetMap", "LAYERS": orthophoto, "STYLES": "",
            "SRS": "EPSG:26191", "BBOX": f"{TILE_WEST},{TILE_NORTH - 256},{TILE_WEST + 256},{TILE_NORTH}",
            "WIDTH": 128, "HEIGHT": 128, "FORMAT": "image/png",
        },
    )  # fmt: skip
    assert len(png_colours(response)) == 128 * 128


def test_capabilities_list_plan_rasters_to_staff_only(client, orthophoto, plan_version, users):  # noqa: F811
    plan = mapproxy_app.plan_layer_name(plan_version.pk)

    anonymous = client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content.decode()
    assert orthophoto in anonymous and plan not in anonymous
    assert "/mapproxy/wmts/" in anonymous  # addresses point back through Django

    client.force_login(users[Role.PLANNER])
    staff = client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content.decode()
    assert orthophoto in staff and plan in staff
    assert "merchich" in staff and "webmercator" in staff


def test_plan_raster_only_for_staff_and_its_filer(client, plan_version, users):  # noqa: F811
    plan = mapproxy_app.plan_layer_name(plan_version.pk)
    url = f"/mapproxy/tms/1.0.0/{plan}/merchich/{LEVEL}/{COL}/{TMS_ROW}.png"
    wms = {"SERVICE": "WMS", "REQUEST": "GetMap", "VERSION": "1.1.1", "LAYERS": plan, "SRS": "EPSG:3857", "STYLES": "",
           "BBOX": "-846000,3970000,-844000,3972000", "WIDTH": 64, "HEIGHT": 64, "FORMAT": "image/png"}  # fmt: skip

    assert client.get(url).status_code == 404
    assert client.get("/mapproxy/service", wms).status_code == 404
    client.force_login(users["other_architect"])
    assert client.get(url).status_code == 404

    client.force_login(users[Role.ARCHITECT])  # the filer
    assert tuple(np.median(png_colours(client.get(url)), axis=0).astype(int)) == pytest.approx(RED, abs=3)
    client.force_login(users[Role.DESK_AGENT])
    response = client.get(url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_new_georeferencing_rebuilds_the_plan_cache(client, plan_version, users, tmp_path, mapproxy_dir):  # noqa: F811
    plan = mapproxy_app.plan_layer_name(plan_version.pk)
    url = f"/mapproxy/tms/1.0.0/{plan}/merchich/{LEVEL}/{COL}/{TMS_ROW}.png"
    client.force_login(users[Role.PLANNER])
    assert tuple(np.median(png_colours(client.get(url)), axis=0).astype(int)) == pytest.approx(RED, abs=3)
    cached = sorted(p.name for p in (mapproxy_dir / "cache_data").iterdir() if p.name.startswith(f"{plan}_"))
    assert cached

    # The plan is georeferenced again: a new COG and a new timestamp.
    plan_version.raster.delete(save=False)
    plan_version.raster.save("raster.tif", ContentFile(cog_bytes(tmp_path, BLUE, "blue2")), save=False)
    plan_version.raster_updated_at = timezone.now() + timezone.timedelta(seconds=1)
    plan_version.save()
    mapproxy_app.rebuild_plan_cache(version=plan_version)

    assert not any((mapproxy_dir / "cache_data" / name).exists() for name in cached)
    assert tuple(np.median(png_colours(client.get(url)), axis=0).astype(int)) == pytest.approx(BLUE, abs=3)


def test_unknown_layer_and_no_raster_at_all(client, db):
    assert client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").status_code == 404
    assert client.get("/mapproxy/tms/1.0.0/plan-999999/merchich/1/0/0.png").status_code == 404
