"""``import_raster``: a real COG is accepted in its CRS; a corrupt GeoTIFF is refused with one line, nothing kept."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.translation import override

from geo.models import Orthophoto
from plans.raster import check_geotiff

pytestmark = pytest.mark.shared_data


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def test_cogeo_is_imported_as_a_cog_in_epsg_3857(db, shared_data):
    stdout = io.StringIO()
    call_command(
        "import_raster", str(shared_data / "raster" / "rasterio" / "cogeo.tif"), "--name", "cogeo", stdout=stdout
    )

    orthophoto = Orthophoto.objects.get(name="cogeo")
    try:
        assert stdout.getvalue().strip() == "imported cogeo: 1024x1024 px, EPSG:3857"
        assert orthophoto.srid == 3857
        info = check_geotiff(orthophoto.file.path)
        assert info.layout == "COG" and info.srid == 3857 and info.overviews >= 1
        # The footprint is stored in EPSG:4326 (cogeo.tif lies in South Korea).
        minx, miny, maxx, maxy = orthophoto.bounds.extent
        assert 128.6 < minx < maxx < 128.7 and 37.6 < miny < maxy < 37.7
    finally:
        orthophoto.file.delete(save=False)


def test_corrupt_geotiff_is_refused_and_nothing_is_kept(db, shared_data):
    with pytest.raises(CommandError) as refusal:
        call_command("import_raster", str(shared_data / "raster" / "rasterio" / "corrupt.tif"), "--name", "broken")

    assert "corrupt.tif" in str(refusal.value) and "\n" not in str(refusal.value)
    assert not Orthophoto.objects.exists()


def test_bad_name_and_missing_file_are_refused(db, shared_data, tmp_path):
    with pytest.raises(CommandError, match="slug"):
        call_command("import_raster", str(shared_data / "raster" / "rasterio" / "cogeo.tif"), "--name", "Bad Name")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_raster", str(tmp_path / "absent.tif"), "--name", "absent")
    assert not Orthophoto.objects.exists()
