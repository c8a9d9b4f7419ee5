"""The one adapter to GDAL's vector drivers (through pyogrio): describe a layer and stream its features.

Reads GeoPackage, Shapefile (also zipped), GeoJSON/TopoJSON, GML, FlatGeobuf, KML and CSV with a WKT
column. Features come out in Arrow batches of plain Python rows with WKB geometries, so a file of any
size is read with bounded memory. Every GDAL failure becomes a :class:`LayerReadError` with one line.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pyogrio
import pyogrio.raw
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

# Names GDAL's CSV driver looks for when a CSV carries its geometry as WKT.
CSV_GEOMETRY_COLUMNS = "WKT,wkt,geometry,Geometry,geom,the_geom,wkt_geom,WKT_GEOM"
POLYGONAL_TYPES = {"Polygon", "MultiPolygon", "CurvePolygon", "MultiSurface"}
# Layer geometry types that may hold polygons row by row (mixed GeoJSON, GML without a declared type).
UNDECLARED_TYPES = {"Unknown", "Geometry", "GeometryCollection", None}


class LayerReadError(Exception):
    """The file cannot be read as a vector layer; the message is one line for the user."""


@dataclass(frozen=True)
class LayerInfo:
    """What a layer declares before any feature is read."""

    source: str
    layer: str
    driver: str
    crs: str | None
    geometry_type: str | None
    fields: tuple[str, ...]
    feature_count: int | None
    bounds: tuple[float, float, float, float] | None

    @property
    def base_geometry_type(self) -> str | None:
        """``MultiPolygon Z`` → ``MultiPolygon``; ``None`` when the layer has no geometry."""
        if self.geometry_type is None:
            return None
        return self.geometry_type.replace(" Z", "").replace(" M", "").replace("3D ", "").strip()


def _source(path: Path) -> str:
    """GDAL's name for a path: zipped shapefiles are read inside the archive.

    Also from the one folder inside that holds them (``parcels.zip/parcels/parcels.shp``, as most
    people zip a folder), which GDAL does not look into by itself.
    """
    if path.suffix.lower() != ".zip":
        return str(path)
    root = f"/vsizip/{path.resolve()}"
    try:
        with zipfile.ZipFile(path) as archive:
            folders = {PurePosixPath(name).parent for name in archive.namelist() if name.lower().endswith(".shp")}
    except (zipfile.BadZipFile, OSError):
        return root  # GDAL will say what is wrong with it
    if len(folders) == 1 and (folder := folders.pop()) != PurePosixPath("."):
        return f"{root}/{folder}"
    return root


def _open_options(path: Path) -> dict[str, Any]:
    if path.suffix.lower() == ".csv":
        return {"GEOM_POSSIBLE_NAMES": CSV_GEOMETRY_COLUMNS, "KEEP_GEOM_COLUMNS": "NO"}
    return {}


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or exc.__class__.__name__


def _read_info_at_once(source: str, *, path: Path, layer: str | None) -> dict[str, Any] | None:
    """The layer's description in one opening of the file, or ``None`` to take the long way.

    Opening is the dear part (GDAL parses a whole GeoJSON file to open it), so the usual case asks
    for the first or the named layer straight away. Any failure, or a layer GDAL found under another
    name (it falls back on a case-insensitive match), goes the long way, which lists the layers first
    and so gives the same answers and messages as before.
    """
    try:
        info = pyogrio.read_info(source, layer=layer or 0, **_open_options(path))
    except (DataSourceError, DataLayerError, FieldError, GeometryError, OSError):
        return None
    name = info.get("layer_name")
    if name is None or (layer and str(name) != layer):
        return None
    return info


def layer_info(*, path: Path, layer: str | None = None) -> LayerInfo:
    """Describe the layer of a file (the first one unless ``layer`` is given)."""
    if not path.exists():
        raise LayerReadError(f"{path}: no such file")
    if path.is_file() and path.stat().st_size == 0:
        raise LayerReadError(f"{path.name}: the file is empty")
    source = _source(path)
    try:
        info = _read_info_at_once(source, path=path, layer=layer)
        if info is not None:
            name = str(info["layer_name"])
        else:
            layers = pyogrio.list_layers(source)
            if len(layers) == 0:
                raise LayerReadError(f"{path.name}: the file holds no layer")
            name = layer or str(layers[0][0])
            if name not in {str(row[0]) for row in layers}:
                raise LayerReadError(f"{path.name}: no layer {name!r}; layers: {', '.join(str(r[0]) for r in layers)}")
            info = pyogrio.read_info(source, layer=name, **_open_options(path))
    except (DataSourceError, DataLayerError, FieldError, GeometryError, OSError) as exc:
        raise LayerReadError(f"{path.name}: not a readable vector file ({_one_line(exc)})") from exc
    count = info.get("features")
    return LayerInfo(
        source=source,
        layer=name,
        driver=str(info.get("driver")),
        crs=info.get("crs"),
        geometry_type=info.get("geometry_type"),
        fields=tuple(str(f) for f in info["fields"]),
        feature_count=int(count) if count is not None and count >= 0 else None,
        bounds=tuple(info["total_bounds"]) if info.get("total_bounds") is not None else None,
    )


@dataclass
class FeatureBatch:
    """A batch of features: attribute rows (dicts of Python values), their WKB geometries and GDAL ids."""

    rows: list[dict[str, Any]]
    wkb: list[bytes | None]
    fids: list[int]


def read_batches(*, info: LayerInfo, batch_size: int = 20_000) -> Iterator[FeatureBatch]:
    """Stream the features of a layer in batches; memory stays bounded whatever the file size.

    A feature whose GDAL id was already seen is skipped: GDAL's Arrow stream over a GeoPackage with a
    stale feature count and sparse ids repeats features (seen with the Spanish cadastre sample, 186
    features streamed as 264), and a repeated id can only be the same feature.
    """
    path = Path(info.source.removeprefix("/vsizip/"))
    seen_fids: set[int] = set()
    try:
        with pyogrio.raw.open_arrow(
            info.source,
            layer=info.layer,
            batch_size=batch_size,
            return_fids=True,
            use_pyarrow=True,
            datetime_as_string=True,
            **_open_options(path),
        ) as (meta, reader):
            geometry_name = meta.get("geometry_name") or "wkb_geometry"
            for batch in reader:
                names = batch.schema.names
                # pyogrio puts the GDAL id first; an attribute may share its name (GeoJSON "id").
                geometry_index = len(names) - 1 - names[::-1].index(geometry_name) if geometry_name in names else None
                fids = batch.column(0).to_pylist()
                attribute_indexes = [i for i in range(1, len(names)) if i != geometry_index]
                keys = [names[i] for i in attribute_indexes]
                columns = [batch.column(i).to_pylist() for i in attribute_indexes]
                wkb = batch.column(geometry_index).to_pylist() if geometry_index is not None else [None] * len(fids)
                out = FeatureBatch(rows=[], wkb=[], fids=[])
                for index, fid in enumerate(fids):
                    if fid in seen_fids:
                        continue
                    seen_fids.add(fid)
                    out.fids.append(fid)
                    out.wkb.append(wkb[index])
                    out.rows.append({key: column[index] for key, column in zip(keys, columns, strict=True)})
                yield out
    except (DataSourceError, DataLayerError, FieldError, GeometryError, OSError) as exc:
        raise LayerReadError(f"{path.name}: reading failed ({_one_line(exc)})") from exc
