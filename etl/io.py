"""The one adapter to GDAL's vector drivers (through pyogrio): describe a layer and stream its features.

Reads GeoPackage, Shapefile (also zipped), GeoJSON/TopoJSON, GML, FlatGeobuf, KML and CSV with a WKT
column. Features come out in Arrow batches of plain Python rows with WKB geometries, so a file of any
size is read with bounded memory. Every GDAL failure becomes a :class:`LayerReadError` with one line.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
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


# --- writing layers (exports) ---------------------------------------------------------------------

# The kinds of attribute an export declares, and the Arrow type GDAL receives for each.
FIELD_KINDS = ("string", "integer", "float", "boolean", "date", "datetime")


class LayerWriteError(Exception):
    """GDAL could not write the file; the message is one line."""


@dataclass(frozen=True)
class OutputFormat:
    """A file format exports write: GDAL's driver, the file suffix, the layer options and the media type."""

    name: str
    driver: str
    suffix: str
    media_type: str
    layer_options: tuple[tuple[str, str], ...] = ()
    zipped: bool = False  # written as several files (Shapefile) and handed over as one zip


OUTPUT_FORMATS: dict[str, OutputFormat] = {
    "gpkg": OutputFormat("gpkg", "GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": OutputFormat("shp", "ESRI Shapefile", ".shp", "application/zip", zipped=True),
    "geojson": OutputFormat(
        "geojson", "GeoJSON", ".geojson", "application/geo+json", layer_options=(("RFC7946", "YES"),)
    ),
    "csv": OutputFormat("csv", "CSV", ".csv", "text/csv", layer_options=(("GEOMETRY", "AS_WKT"),)),
    "kml": OutputFormat("kml", "KML", ".kml", "application/vnd.google-earth.kml+xml"),
    "fgb": OutputFormat("fgb", "FlatGeobuf", ".fgb", "application/vnd.flatgeobuf"),
}


def _arrow_type(kind: str):
    import pyarrow as pa

    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("ms", tz="UTC"),
    }[kind]


def _arrow_array(values: list, kind: str):
    """One column as an Arrow array; decimals become floats, aware date-times are stored in UTC."""
    import pyarrow as pa

    if kind == "float" and any(isinstance(value, Decimal) for value in values[:1] if value is not None):
        values = [float(value) if value is not None else None for value in values]
    return pa.array(values, type=_arrow_type(kind))


def write_layer(
    *,
    path: Path,
    fmt: str,
    layer: str,
    fields: list[tuple[str, str]],
    batches: Iterator[tuple[list[list], list[bytes | None]]],
    geometry_type: str,
    srid: int = 4326,
) -> None:
    """Write features into a new file at ``path`` in format ``fmt`` (a key of :data:`OUTPUT_FORMATS`).

    ``fields`` are ``(name, kind)`` pairs (kinds in :data:`FIELD_KINDS`); each batch holds one list of
    values per field (in the order of ``fields``) and the features' WKB geometries. The batches reach GDAL as one Arrow
    stream, consumed batch by batch, so memory stays bounded by one batch whatever the layer's size.
    A Shapefile is written as its sidecar files next to ``path`` (``.shp``, ``.shx``, ``.dbf``, ``.prj``,
    ``.cpg``); zipping them is the caller's business.
    """
    import pyarrow as pa

    output = OUTPUT_FORMATS[fmt]
    schema = pa.schema(
        [pa.field(name, _arrow_type(kind)) for name, kind in fields]
        + [pa.field("geometry", pa.binary(), metadata={b"ARROW:extension:name": b"geoarrow.wkb"})]
    )

    def record_batches() -> Iterator[pa.RecordBatch]:
        for columns, wkb in batches:
            arrays = [_arrow_array(values, kind) for values, (_name, kind) in zip(columns, fields, strict=True)]
            arrays.append(pa.array(wkb, type=pa.binary()))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    reader = pa.RecordBatchReader.from_batches(schema, record_batches())
    with warnings.catch_warnings():
        # GDAL warns that a Shapefile keeps date-times as text and that KML drops the CRS name: both expected.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            pyogrio.raw.write_arrow(
                reader,
                str(path),
                layer=layer,
                driver=output.driver,
                geometry_name="geometry",
                geometry_type=geometry_type,
                crs=f"EPSG:{srid}",
                encoding="UTF-8" if output.driver == "ESRI Shapefile" else None,
                layer_options=dict(output.layer_options) or None,
            )
        except (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, ValueError) as exc:
            raise LayerWriteError(f"{path.name}: writing failed ({_one_line(exc)})") from exc
