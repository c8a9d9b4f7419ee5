"""Georeferenced rasters: the only module that imports rasterio.

Three services for plans and imagery:

* :func:`write_cog` writes an RGB(A) image with its pixel -> world transformation as a Cloud-Optimised
  GeoTIFF (GDAL's ``COG`` driver: tiled, DEFLATE, internal overviews), e.g. a georeferenced PDF page;
* :func:`check_geotiff` opens a GeoTIFF, checks it is georeferenced (CRS with an EPSG code, a
  geotransform) and that its image data can be read, and returns a :class:`RasterInfo`;
* :func:`translate_to_cog` turns an accepted GeoTIFF (an orthophoto imported by the ETL) into a COG.

Transformations are six coefficients ``(a, b, c, d, e, f)`` meaning ``X = a*col + b*row + c`` and
``Y = d*col + e*row + f`` (``col``, ``row`` of the pixel's top-left corner): the order of
``rasterio.Affine`` and of ``plans.georef``. Every failure is a :class:`~plans.extraction.PlanRefused`
with a translated one-line reason; nothing half-written is left at the destination (files are written
next to it and renamed into place).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from django.utils.translation import gettext as _
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioError
from rasterio.io import MemoryFile
from rasterio.transform import Affine
from rasterio.warp import reproject
from rasterio.windows import Window

from plans.extraction import PlanRefused

# Creation options of the COGs we write: lossless, tiles of 512 px, overviews down to one tile.
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "2", "BLOCKSIZE": "512", "OVERVIEW_RESAMPLING": "AVERAGE"}


@dataclass(frozen=True)
class RasterInfo:
    """What :func:`check_geotiff` found: EPSG code, bounds ``(minx, miny, maxx, maxy)`` in that CRS, size.

    The bounds enclose the four corners of the image (also when its transformation is rotated).
    """

    srid: int
    bounds: tuple[float, float, float, float]
    width: int
    height: int
    bands: int
    overviews: int = 0
    layout: str = ""  # "COG" when GDAL recognises a Cloud-Optimised GeoTIFF

    def footprint_wgs84(self):
        """The bounds as a GEOS polygon in EPSG:4326 (the storage CRS)."""
        from django.contrib.gis.geos import Polygon

        footprint = Polygon.from_bbox(self.bounds)
        footprint.srid = self.srid
        footprint.transform(4326)
        return footprint


def write_cog(
    *,
    rgba: np.ndarray,
    pixel_to_world: Sequence[float],
    srid: int,
    out_path: Path,
    north_up: bool = False,
) -> RasterInfo:
    """Write ``rgba`` (uint8, height x width x 3 or 4 bands) as a COG at ``out_path``.

    ``pixel_to_world`` is ``(a, b, c, d, e, f)`` in rasterio's ``Affine`` order (see the module
    docstring); a rotated or sheared transformation is written as is, unless ``north_up`` is True: the
    image is then resampled (bilinear) onto a north-up grid of the same mean pixel size, which web map
    viewers need; the area outside the original image is transparent. Returns the written file's info.
    """
    image = np.asarray(rgba)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8 or min(image.shape[:2]) == 0:
        raise ValueError("rgba must be a non-empty uint8 array of shape (height, width, 3 or 4)")
    bands = np.ascontiguousarray(np.moveaxis(image, 2, 0))
    transform = Affine(*(float(v) for v in pixel_to_world))
    if abs(transform.determinant) == 0 or not all(math.isfinite(v) for v in transform[:6]):
        raise PlanRefused(_("The control points do not define a usable transformation (it flattens the drawing)."))
    crs = CRS.from_epsg(int(srid))
    if north_up and not transform.is_rectilinear:
        bands, transform = _to_north_up(bands, transform, crs)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    count = bands.shape[0]
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".cog-") as work, MemoryFile() as memory:
        profile = {
            "driver": "GTiff",
            "width": bands.shape[2],
            "height": bands.shape[1],
            "count": count,
            "dtype": "uint8",
            "crs": crs,
            "transform": transform,
            "photometric": "RGB",
        }
        if count == 4:
            profile["alpha"] = "YES"
        try:
            with memory.open(**profile) as dataset:
                dataset.write(bands)
                interp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
                dataset.colorinterp = interp + ([ColorInterp.alpha] if count == 4 else [])
            _copy_as_cog(memory.name, out_path, work=Path(work))
        except RasterioError as exc:
            raise PlanRefused(_("The image could not be written as a Cloud-Optimised GeoTIFF.")) from exc
    return check_geotiff(out_path)


def check_geotiff(path: Path) -> RasterInfo:
    """Open a GeoTIFF and refuse it unless it is georeferenced and its image data reads back.

    Checks: GDAL opens it as a GeoTIFF; it has a CRS with an EPSG code and a geotransform (not the
    identity); the first, middle and last tiles (or strips) of every band, and its smallest overview, can
    be decoded (a truncated or damaged file fails there).
    """
    path = Path(path)
    try:
        dataset = rasterio.open(path)
    except (RasterioError, OSError) as exc:
        raise PlanRefused(_("The file is not a readable GeoTIFF.")) from exc
    with dataset:
        if dataset.driver != "GTiff":
            raise PlanRefused(_("The file is not a readable GeoTIFF."))
        if dataset.crs is None:
            raise PlanRefused(_("The GeoTIFF has no coordinate reference system."))
        srid = dataset.crs.to_epsg()
        if srid is None:
            raise PlanRefused(_("The GeoTIFF's coordinate reference system has no EPSG code."))
        if dataset.transform.is_identity:
            raise PlanRefused(_("The GeoTIFF is not georeferenced (it has no geotransform)."))
        try:
            _read_samples(dataset)
        except (RasterioError, OSError) as exc:
            raise PlanRefused(_("The GeoTIFF is damaged: part of its image cannot be read.")) from exc
        corners = [
            dataset.transform @ xy for xy in ((0, 0), (dataset.width, 0), (0, dataset.height), dataset.shape[::-1])
        ]
        xs, ys = zip(*corners, strict=True)
        return RasterInfo(
            srid=int(srid),
            bounds=(float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))),
            width=dataset.width,
            height=dataset.height,
            bands=dataset.count,
            overviews=len(dataset.overviews(1)),
            layout=dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", ""),
        )


def translate_to_cog(*, src: Path, dst: Path) -> RasterInfo:
    """Check ``src`` with :func:`check_geotiff` and write it as a COG at ``dst`` (same CRS, pixels, bands)."""
    check_geotiff(src)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=".cog-") as work:
        try:
            _copy_as_cog(Path(src), dst, work=Path(work))
        except RasterioError as exc:
            raise PlanRefused(_("The GeoTIFF is damaged: part of its image cannot be read.")) from exc
    return check_geotiff(dst)


def _copy_as_cog(src: Path | str, dst: Path, *, work: Path) -> None:
    """Copy with the COG driver into ``work``, then rename into place (no partial file at ``dst``)."""
    partial = work / "cog.tif"
    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
        rasterio.shutil.copy(str(src), str(partial), driver="COG", **COG_OPTIONS)
    os.replace(partial, dst)


def _read_samples(dataset) -> None:
    block_height, block_width = dataset.block_shapes[0]
    rows = max(1, math.ceil(dataset.height / block_height))
    cols = max(1, math.ceil(dataset.width / block_width))
    for row, col in {(0, 0), (rows // 2, cols // 2), (rows - 1, cols - 1)}:
        window = Window(
            col * block_width,
            row * block_height,
            min(block_width, dataset.width - col * block_width),
            min(block_height, dataset.height - row * block_height),
        )
        dataset.read(window=window)
    overviews = dataset.overviews(1)
    factor = overviews[-1] if overviews else max(1, max(dataset.width, dataset.height) // 256)
    dataset.read(out_shape=(dataset.count, max(1, dataset.height // factor), max(1, dataset.width // factor)))


def _to_north_up(bands: np.ndarray, transform: Affine, crs: CRS) -> tuple[np.ndarray, Affine]:
    count, height, width = bands.shape
    corners = [transform @ (col, row) for col, row in ((0, 0), (width, 0), (0, height), (width, height))]
    xs, ys = zip(*corners, strict=True)
    pixel = math.sqrt(abs(transform.determinant))
    out_width = max(1, math.ceil((max(xs) - min(xs)) / pixel))
    out_height = max(1, math.ceil((max(ys) - min(ys)) / pixel))
    target = Affine(pixel, 0.0, min(xs), 0.0, -pixel, max(ys))
    source = bands if count == 4 else np.concatenate([bands, np.full((1, height, width), 255, np.uint8)])
    out = np.zeros((4, out_height, out_width), dtype=np.uint8)
    for index in range(4):
        reproject(
            source[index],
            out[index],
            src_transform=transform,
            src_crs=crs,
            dst_transform=target,
            dst_crs=crs,
            resampling=Resampling.bilinear,
            src_nodata=None,
            dst_nodata=0,
        )
    return out, target
