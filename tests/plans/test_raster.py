"""Georeferenced rasters: GeoTIFFs checked (real files), COGs written and translated, nothing half-written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import rasterio
from django.utils import translation
from rasterio.transform import Affine

from plans.extraction import PlanRefused
from plans.raster import check_geotiff, translate_to_cog, write_cog


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English (the site's default language is French)."""
    with translation.override("en"):
        yield


@pytest.fixture
def rasters(shared_data):
    return shared_data / "raster" / "rasterio"


@pytest.mark.shared_data
def test_a_cog_orthophoto_is_accepted(rasters):
    info = check_geotiff(rasters / "cogeo.tif")
    assert info.srid == 3857
    assert (info.width, info.height, info.bands) == (1024, 1024, 3)
    assert info.overviews == 6
    minx, miny, maxx, maxy = info.bounds
    assert minx == pytest.approx(14321853.1, abs=1) and maxy == pytest.approx(4533021.5, abs=1)
    assert maxx - minx == pytest.approx(1024 * 0.597, rel=1e-3)
    assert maxy - miny == pytest.approx(maxx - minx)


@pytest.mark.shared_data
def test_a_corrupt_geotiff_is_refused(rasters):
    with pytest.raises(PlanRefused, match="damaged: part of its image cannot be read"):
        check_geotiff(rasters / "corrupt.tif")


@pytest.mark.shared_data
def test_a_corrupt_geotiff_is_not_translated_and_leaves_nothing(rasters, tmp_path):
    out = tmp_path / "out" / "ortho.tif"
    with pytest.raises(PlanRefused, match="damaged"):
        translate_to_cog(src=rasters / "corrupt.tif", dst=out)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


@pytest.mark.shared_data
def test_a_classic_geotiff_is_translated_to_a_cog(rasters, tmp_path):
    out = tmp_path / "ortho.tif"
    info = translate_to_cog(src=rasters / "RGB.byte.tif", dst=out)
    assert info.layout == "COG"
    assert info.srid == 32618
    assert (info.width, info.height, info.bands) == (791, 718, 3)
    with rasterio.open(rasters / "RGB.byte.tif") as source, rasterio.open(out) as cog:
        assert cog.transform == source.transform
        assert cog.profile["tiled"] and cog.overviews(1)
        assert np.array_equal(cog.read(), source.read())  # lossless


HALF_METRE = Affine(0.5, 0, 296600, 0, -0.5, 332700)


def _plain_tiff(path, *, crs="EPSG:26191", transform=HALF_METRE):
    profile = {"driver": "GTiff", "width": 64, "height": 32, "count": 1, "dtype": "uint8"}
    if crs:
        profile["crs"] = crs
    if transform:
        profile["transform"] = transform
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(np.full((1, 32, 64), 7, np.uint8))
    return path


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_geotiffs_that_are_not_georeferenced_are_refused(tmp_path):
    assert check_geotiff(_plain_tiff(tmp_path / "ok.tif")).srid == 26191
    with pytest.raises(PlanRefused, match="no coordinate reference system"):
        check_geotiff(_plain_tiff(tmp_path / "nocrs.tif", crs=None))
    with pytest.raises(PlanRefused, match="not georeferenced"):
        check_geotiff(_plain_tiff(tmp_path / "identity.tif", transform=None))
    custom = "+proj=tmerc +lat_0=31 +lon_0=-7.3 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m"
    with pytest.raises(PlanRefused, match="no EPSG code"):
        check_geotiff(_plain_tiff(tmp_path / "custom.tif", crs=custom))
    (tmp_path / "text.tif").write_text("not a tiff")
    with pytest.raises(PlanRefused, match="not a readable GeoTIFF"):
        check_geotiff(tmp_path / "text.tif")
    with pytest.raises(PlanRefused, match="not a readable GeoTIFF"):
        check_geotiff(tmp_path / "missing.tif")


def test_a_truncated_geotiff_is_refused(tmp_path):
    source = tmp_path / "full.tif"
    rng = np.random.default_rng(1)
    with rasterio.open(
        source, "w", driver="GTiff", width=1024, height=1024, count=1, dtype="uint8", crs="EPSG:26191",
        transform=HALF_METRE, tiled=True, compress="deflate",
    ) as dataset:  # fmt: skip
        dataset.write(rng.integers(0, 255, (1, 1024, 1024), dtype=np.uint8))
    data = source.read_bytes()
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(PlanRefused, match="damaged"):
        check_geotiff(truncated)


def test_write_cog_keeps_the_pixel_to_world_transform(tmp_path):
    image = np.full((600, 800, 4), 255, np.uint8)
    image[100:110, 200:210] = (200, 0, 0, 255)  # a red mark at column 200, row 100
    pixel_to_world = (0.05, 0.0, 296600.0, 0.0, -0.05, 332700.0)
    out = tmp_path / "cog" / "mark.tif"
    info = write_cog(rgba=image, pixel_to_world=pixel_to_world, srid=26191, out_path=out)
    assert (info.layout, info.srid, info.bands) == ("COG", 26191, 4)
    assert info.bounds == pytest.approx((296600.0, 332670.0, 296640.0, 332700.0))
    with rasterio.open(out) as dataset:
        assert tuple(dataset.transform)[:6] == pixel_to_world
        assert dataset.colorinterp[3].name == "alpha"
        row, col = dataset.index(296600.0 + 200.5 * 0.05, 332700.0 - 100.5 * 0.05)
        assert (row, col) == (100, 200)
        assert tuple(dataset.read(window=((row, row + 1), (col, col + 1)))[:, 0, 0]) == (200, 0, 0, 255)
    assert [p.name for p in out.parent.iterdir()] == ["mark.tif"]  # no temporary file left


def test_write_cog_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError):
        write_cog(rgba=np.zeros((10, 10), np.uint8), pixel_to_world=(1, 0, 0, 0, -1, 0), srid=26191,
                  out_path=tmp_path / "a.tif")  # fmt: skip
    with pytest.raises(PlanRefused, match="flattens"):
        write_cog(rgba=np.zeros((10, 10, 3), np.uint8), pixel_to_world=(1, 2, 0, 2, 4, 0), srid=26191,
                  out_path=tmp_path / "a.tif")  # fmt: skip
    assert not (tmp_path / "a.tif").exists()


@pytest.mark.shared_data
def test_translate_accepts_a_copy_anywhere(rasters, tmp_path):
    copy = tmp_path / "in" / "cogeo.tif"
    copy.parent.mkdir()
    shutil.copy(rasters / "cogeo.tif", copy)
    info = translate_to_cog(src=copy, dst=tmp_path / "out" / "cogeo.tif")
    assert info.srid == 3857 and info.layout == "COG"
