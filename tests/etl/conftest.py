"""Fixture-file builders of the import tests: small layers near Casablanca in any format GDAL writes.

Every file starts as a GeoJSON written by hand (so that broken geometries such as ``A-B-A`` rings can
be written at all) and is converted with Debian's ``ogr2ogr`` into GeoPackage, Shapefile (plain or
zipped), GML, FlatGeobuf or CSV with a WKT column. Coordinates are given in EPSG:26191 (Merchich /
Nord Maroc) around the Casablanca point of MISSION.md and reprojected with pyproj when a file must be
in another CRS.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.management import call_command
from django.core.management.base import CommandError

from geo import crs
from geo.models import AdminArea, ConstraintArea, Parcel, ZoneRegulation, ZoningPlan, ZoningZone

# MISSION.md: Casablanca 33.5731 N, −7.5898 E ≈ (296628.5, 332701.7) in EPSG:26191.
CASABLANCA_LONLAT = (-7.5898, 33.5731)
CASABLANCA_MERCHICH = (296628.5, 332701.7)

# The formats the importer reads, by the name the tests use; the value is the file suffix.
FORMATS = {
    "gpkg": ".gpkg",
    "shp": ".shp",
    "zip": ".zip",
    "zip_flat": ".zip",
    "geojson": ".geojson",
    "gml": ".gml",
    "fgb": ".fgb",
    "csv": ".csv",
}
OGR_DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "gml": "GML", "fgb": "FlatGeobuf", "csv": "CSV"}
GEO_MODELS = (AdminArea, Parcel, ZoningPlan, ZoneRegulation, ZoningZone, ConstraintArea)

Geometry = dict[str, Any]


# --- geometries (GeoJSON dicts, so that invalid ones can be written too) ---------------------------


def rectangle(x: float, y: float, width: float, height: float) -> Geometry:
    """A rectangle with its south-west corner at ``(x, y)``, in the units of the file's CRS."""
    ring = [[x, y], [x + width, y], [x + width, y + height], [x, y + height], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def near_casablanca(east_m: float, north_m: float, width_m: float = 20, height_m: float = 30) -> Geometry:
    """A rectangle placed in metres from the Casablanca point, in EPSG:26191."""
    return rectangle(CASABLANCA_MERCHICH[0] + east_m, CASABLANCA_MERCHICH[1] + north_m, width_m, height_m)


def polygon(*points: tuple[float, float]) -> Geometry:
    """A one-ring polygon with exactly these points (no closing point added, no check)."""
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


def reproject(geometry: Geometry | None, *, source_srid: int, target_srid: int) -> Geometry | None:
    """The same geometry with every coordinate transformed (x = easting/longitude first)."""
    if geometry is None or source_srid == target_srid:
        return geometry

    def walk(value):
        if value and isinstance(value[0], int | float):
            return list(crs.transform_point(value[0], value[1], source_srid=source_srid, target_srid=target_srid))
        return [walk(v) for v in value]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def multipolygon_4326(geometry: Geometry, *, srid: int = 26191) -> MultiPolygon:
    """A GEOS multipolygon in EPSG:4326 from a GeoJSON polygon in ``srid``, for rows created directly."""
    polygon = GEOSGeometry(json.dumps(reproject(geometry, source_srid=srid, target_srid=4326)), srid=4326)
    return MultiPolygon(polygon, srid=4326)


@dataclass(frozen=True)
class Feature:
    properties: dict[str, Any]
    geometry: Geometry | None


# --- files ----------------------------------------------------------------------------------------


def write_geojson(path: Path, features: list[Feature], *, srid: int | None = 4326) -> Path:
    """A FeatureCollection; a CRS other than EPSG:4326 is declared with the (pre-RFC 7946) ``crs`` member."""
    collection: dict[str, Any] = {"type": "FeatureCollection"}
    if srid not in (None, 4326):
        collection["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
    collection["features"] = [{"type": "Feature", "properties": f.properties, "geometry": f.geometry} for f in features]
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def ogr2ogr(source: Path, target: Path, driver: str, *options: str) -> Path:
    """Convert with Debian's ``ogr2ogr``; a failure shows GDAL's own message."""
    result = subprocess.run(
        ["ogr2ogr", "-f", driver, str(target), str(source), *options], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"ogr2ogr -f {driver} failed: {result.stderr}"
    return target


def zip_shapefile(shp: Path, target: Path, *, in_folder: bool = True) -> Path:
    """Zip a shapefile's parts, in a folder inside the archive (as people zip them) or at its root."""
    with zipfile.ZipFile(target, "w") as archive:
        for part in sorted(shp.parent.glob(f"{shp.stem}.*")):
            archive.write(part, f"{shp.stem}/{part.name}" if in_folder else part.name)
    return target


def write_layer(directory: Path, fmt: str, features: list[Feature], *, srid: int = 26191, name: str = "layer") -> Path:
    """Write ``features`` (coordinates in ``srid``) as a file of format ``fmt`` (a key of ``FORMATS``)."""
    directory.mkdir(parents=True, exist_ok=True)
    geojson = write_geojson(directory / f"{name}.src.geojson", features, srid=srid)
    if fmt == "geojson":
        return geojson.rename(directory / f"{name}.geojson")
    if fmt in ("zip", "zip_flat"):
        shp = write_layer(directory / f"{name}_shp", "shp", features, srid=srid, name=name)
        return zip_shapefile(shp, directory / f"{name}.zip", in_folder=fmt == "zip")
    options = ("-lco", "GEOMETRY=AS_WKT") if fmt == "csv" else ()
    target = ogr2ogr(geojson, directory / f"{name}{FORMATS[fmt]}", OGR_DRIVERS[fmt], "-nln", name, *options)
    geojson.unlink()
    return target


def without_prj(shp: Path) -> Path:
    """The same shapefile without its ``.prj``: a file whose CRS nobody knows."""
    shp.with_suffix(".prj").unlink()
    return shp


@pytest.fixture
def ogr2ogr_available() -> None:
    """Skip when Debian's ``ogr2ogr`` is missing: every fixture file but GeoJSON is made with it."""
    if shutil.which("ogr2ogr") is None:
        pytest.skip("ogr2ogr (Debian's gdal-bin) is not installed")


@pytest.fixture
def make_layer(tmp_path: Path, ogr2ogr_available: None) -> Callable[..., Path]:
    """``make_layer(fmt, features, srid=26191, name="layer")`` → a file in its own folder under tmp_path."""
    counter = iter(range(1_000))

    def make(fmt: str, features: list[Feature], *, srid: int = 26191, name: str = "layer") -> Path:
        return write_layer(tmp_path / f"{next(counter):03d}-{fmt}", fmt, features, srid=srid, name=name)

    make.root = tmp_path  # where tests may put other files (a rejects CSV)
    return make


# --- running the command --------------------------------------------------------------------------


@dataclass
class Run:
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, int]:
        """The last stdout line ``read N, created N, …`` as a dict."""
        last = self.stdout.strip().splitlines()[-1]
        return {word: int(number) for word, number in (part.split() for part in last.split(", "))}


def import_layer(path: Path, *args: str) -> Run:
    """``manage.py import_layer PATH ARGS --no-progress`` through ``call_command``; stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_layer", str(path), *args, "--no-progress", stdout=out, stderr=err)
    return Run(out.getvalue(), err.getvalue())


def refused(path: Path, *args: str) -> str:
    """Run an import that must be refused; return the CommandError's message, checked to be one line."""
    with pytest.raises(CommandError) as caught:
        import_layer(path, *args)
    message = str(caught.value)
    assert message and "\n" not in message, f"not one line: {message!r}"
    return message


def geo_counts() -> dict[str, int]:
    """Row counts of every geo table, to prove a refused import wrote nothing."""
    return {model.__name__: model.objects.count() for model in GEO_MODELS}
