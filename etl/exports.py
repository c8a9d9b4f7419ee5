"""Layer exports for analysts: a catalogue layer as GeoPackage, zipped Shapefile, GeoJSON, CSV, KML or FlatGeobuf.

:func:`export_layer` is the one service behind ``manage.py export_layer``, the ``/exports/`` page, the
``/api/exports/`` endpoint and the open-data datasets. It publishes exactly the fields the catalogue
(:mod:`tiles.layers`) names, in EPSG:4326, and never an internal layer to a user who may not read it.
Rows come from a server-side cursor in batches and reach GDAL (:func:`etl.io.write_layer`) as one
Arrow stream, so memory stays flat whatever the size of the layer. The file is written next to its
destination and moved there only when complete: a failed export leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Polygon
from django.db import connections, models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from etl.io import OUTPUT_FORMATS, LayerWriteError, write_layer
from geo.models import AdminArea, AdminLevel
from tiles.layers import LAYERS, PublishedLayer, layer_named

EXPORT_SRID = 4326
DEFAULT_BATCH_SIZE = 20_000
FORMATS = tuple(OUTPUT_FORMATS)  # gpkg, shp, geojson, csv, kml, fgb


class ExportRefused(DomainError):
    """The export cannot be made as asked (unknown layer or format, bad filter); the message says why."""

    code = "export-refused"


@dataclass(frozen=True)
class ExportFilters:
    """The optional filters of an export: a bbox in EPSG:4326, a commune code, a start date."""

    bbox: tuple[float, float, float, float] | None = None
    commune: str | None = None
    since: dt.date | dt.datetime | None = None


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the number of features and the file (None when written to a stream)."""

    count: int
    path: Path | None
    filename: str
    media_type: str


# --- parsing the user's filters (shared by the command, the page and the API) ------------------------


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"minlon,minlat,maxlon,maxlat"`` (EPSG:4326) → four floats, or :class:`ExportRefused`."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise ExportRefused(_("bbox: expected four numbers minlon,minlat,maxlon,maxlat"))
    minx, miny, maxx, maxy = values
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise ExportRefused(_("bbox: expected longitudes and latitudes with min < max"))
    return minx, miny, maxx, maxy


def parse_since(text: str) -> dt.date:
    """``"2024-01-31"`` → a date, or :class:`ExportRefused`."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ExportRefused(_("since: expected a date such as 2024-01-31")) from exc


def layer_for_export(*, name: str, user, allow_internal: bool = False) -> PublishedLayer:
    """The layer called ``name`` if it may be exported for ``user`` (operators on the command line pass
    ``allow_internal``); an unknown layer and a forbidden one are refused alike."""
    layer = next((lay for lay in LAYERS if lay.name == name), None) if allow_internal else layer_named(name, user=user)
    if layer is None:
        raise ExportRefused(_("No such layer: %(name)s") % {"name": name}, code="unknown-layer")
    return layer


# --- the rows -----------------------------------------------------------------------------------------


def _model_field(model: type[models.Model], path: str) -> models.Field:
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    assert field is not None
    return field


def _field_kind(field: models.Field) -> str:
    if isinstance(field, models.BooleanField):
        return "boolean"
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.IntegerField | models.AutoField):
        return "integer"
    if isinstance(field, models.FloatField | models.DecimalField):
        return "float"
    return "string"


def layer_schema(layer: PublishedLayer) -> list[tuple[str, str]]:
    """The published fields of ``layer`` as ``(name, kind)`` pairs, in catalogue order."""
    return [(f.name, _field_kind(_model_field(layer.model, f.source))) for f in layer.fields]


def _geometry_type(layer: PublishedLayer) -> str:
    geom_type = layer.model._meta.get_field(layer.geometry_field).geom_type  # "MULTIPOLYGON"
    names = {"MULTIPOLYGON": "MultiPolygon", "POLYGON": "Polygon", "POINT": "Point", "MULTIPOINT": "MultiPoint"}
    names |= {"LINESTRING": "LineString", "MULTILINESTRING": "MultiLineString"}
    return names.get(geom_type, "Unknown")


def filtered_queryset(*, layer: PublishedLayer, filters: ExportFilters) -> QuerySet:
    """The features of ``layer`` that pass ``filters`` (refused when a filter does not apply to the layer)."""
    qs = layer.queryset().exclude(**{f"{layer.geometry_field}__isnull": True})
    if filters.bbox is not None:
        box = Polygon.from_bbox(filters.bbox)
        box.srid = EXPORT_SRID
        qs = qs.filter(**{f"{layer.geometry_field}__intersects": box})
    if filters.commune:
        commune = AdminArea.objects.filter(code=filters.commune, level=AdminLevel.COMMUNE).first()
        if commune is None:
            raise ExportRefused(_("No such commune: %(code)s") % {"code": filters.commune}, code="unknown-commune")
        if layer.commune_field:
            qs = qs.filter(**{layer.commune_field: commune})
        else:  # constraints, administrative areas: what lies in the commune
            qs = qs.filter(**{f"{layer.geometry_field}__intersects": commune.geom})
    if filters.since is not None:
        if not layer.date_field:
            raise ExportRefused(
                _("The layer %(name)s has no date to filter on.") % {"name": layer.name}, code="no-date-field"
            )
        since = filters.since
        date_field = _model_field(layer.model, layer.date_field)
        if isinstance(date_field, models.DateTimeField) and not isinstance(since, dt.datetime):
            since = timezone.make_aware(dt.datetime.combine(since, dt.time.min))  # the day starts in local time
        qs = qs.filter(**{f"{layer.date_field}__gte": since})
    return qs


def _column_batches(
    qs: QuerySet, *, layer: PublishedLayer, batch_size: int, progress: Callable[[int], object] | None
) -> Iterator[tuple[list[list], list[bytes | None]]]:
    """The features as batches of columns (one list per published field) and WKB geometries.

    The query is the queryset's own SQL, run on a server-side cursor and read ``batch_size`` rows at a
    time: at most one batch is in memory, and rows skip the ORM's per-value conversions (a million
    parcels would otherwise spend most of their time there).
    """
    sources = [f.source for f in layer.fields]
    values = qs.annotate(export_wkb=AsWKB(layer.geometry_field)).order_by("pk").values_list(*sources, "export_wkb")
    sql, params = values.query.sql_with_params()
    with connections[qs.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch_size):
            *columns, wkb = (list(column) for column in zip(*rows, strict=True))
            yield columns, [bytes(g) if g is not None else None for g in wkb]
            if progress:
                progress(len(rows))


# --- the service --------------------------------------------------------------------------------------


def export_filename(*, layer_name: str, fmt: str) -> str:
    """The name a download of ``layer_name`` in ``fmt`` carries (a Shapefile comes zipped)."""
    return f"{layer_name}.zip" if OUTPUT_FORMATS[fmt].zipped else f"{layer_name}{OUTPUT_FORMATS[fmt].suffix}"


def _write(*, layer: PublishedLayer, fmt: str, qs: QuerySet, folder: Path, batch_size: int, progress) -> Path:
    """Write the export into ``folder`` and return the one file to hand over (the zip for a Shapefile)."""
    output = OUTPUT_FORMATS[fmt]
    target = folder / f"{layer.name}{output.suffix}"
    write_layer(
        path=target,
        fmt=fmt,
        layer=layer.name,
        fields=layer_schema(layer),
        batches=_column_batches(qs, layer=layer, batch_size=batch_size, progress=progress),
        geometry_type=_geometry_type(layer),
        srid=EXPORT_SRID,
    )
    if not output.zipped:
        return target
    archive = folder / f"{layer.name}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            part = target.with_suffix(suffix)
            if part.exists():
                bundle.write(part, arcname=part.name)
    return archive


def export_layer(
    *,
    layer_name: str,
    fmt: str,
    out_path: Path | None = None,
    stream: BinaryIO | None = None,
    user=None,
    allow_internal: bool = False,
    bbox: tuple[float, float, float, float] | None = None,
    commune: str | None = None,
    since: dt.date | dt.datetime | None = None,
    progress: Callable[[int], object] | None = None,
    on_start: Callable[[int], object] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ExportResult:
    """Export the layer ``layer_name`` as ``fmt`` into ``out_path`` (a file) or ``stream`` (a binary file object).

    ``user`` decides which layers exist (internal ones need :func:`tiles.layers.may_read_internal`);
    the command line passes ``allow_internal=True``. ``on_start(total)`` is called with the number of
    features before writing, ``progress(n)`` after each batch of ``n`` features. The file at ``out_path``
    appears only complete (written beside it, then renamed); on failure nothing is left.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ExportRefused(
            _("Unknown format %(fmt)s; expected one of %(formats)s") % {"fmt": fmt, "formats": ", ".join(FORMATS)},
            code="unknown-format",
        )
    if (out_path is None) == (stream is None):
        raise ValueError("export_layer needs exactly one of out_path and stream")
    layer = layer_for_export(name=layer_name, user=user, allow_internal=allow_internal)
    qs = filtered_queryset(layer=layer, filters=ExportFilters(bbox=bbox, commune=commune, since=since))
    total = qs.count()
    if on_start:
        on_start(total)
    parent = out_path.resolve().parent if out_path is not None else None
    if parent is not None and not parent.is_dir():
        raise ExportRefused(_("No such folder: %(path)s") % {"path": parent}, code="no-such-folder")
    written_count = 0

    def counted(n: int) -> None:
        nonlocal written_count
        written_count += n
        if progress:
            progress(n)

    folder = Path(tempfile.mkdtemp(prefix="taamir-export-", dir=parent))
    try:
        written = _write(layer=layer, fmt=fmt, qs=qs, folder=folder, batch_size=batch_size, progress=counted)
        if out_path is not None:
            os.replace(written, out_path)
        else:
            with written.open("rb") as source:
                shutil.copyfileobj(source, stream, length=1024 * 1024)
    except LayerWriteError as exc:
        raise ExportRefused(str(exc), code="export-failed") from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return ExportResult(
        count=written_count,
        path=out_path,
        filename=export_filename(layer_name=layer.name, fmt=fmt),
        media_type=OUTPUT_FORMATS[fmt].media_type,
    )
