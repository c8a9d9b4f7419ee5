"""Reads behind OGC API – Features: a layer's extent, its filtered features, and their rows as GeoJSON text.

Every query goes through the layer catalogue (``tiles.layers``): only published fields are selected, by
their public names, so an items page can carry nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.gis.db.models.aggregates import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import DateTimeField, F, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from tiles.layers import PublishedLayer

# Coordinates of GeoJSON features: 8 decimals of a degree is about a millimetre.
PRECISION = 8
CHUNK = 2000


class BadQuery(ValueError):
    """A query parameter that cannot be applied; the message names it."""


@dataclass(frozen=True)
class TimeFilter:
    """An instant (``start == end``) or an interval with open ends (``None``), from a ``datetime`` parameter."""

    start: dt.date | dt.datetime | None
    end: dt.date | dt.datetime | None


def layer_extent(layer: PublishedLayer) -> tuple[float, float, float, float] | None:
    """The layer's bounding box in longitude/latitude; the planner's estimate for a big table, else exact."""
    model = layer.model
    if not layer.internal:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ST_EstimatedExtent(%s, %s) AS e",
                [model._meta.db_table, model._meta.get_field(layer.geometry_field).column],
            )
            row = cursor.fetchone()
        if row and row[0] is not None:
            return tuple(float(value) for value in row)  # type: ignore[return-value]
    extent = layer.queryset().aggregate(extent=Extent(layer.geometry_field))["extent"]
    return tuple(extent) if extent else None  # type: ignore[return-value]


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or the six numbers of a 3D box) in longitude/latitude."""
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadQuery("bbox must be four comma-separated numbers: minx,miny,maxx,maxy") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise BadQuery("bbox must be four comma-separated numbers: minx,miny,maxx,maxy")
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        raise BadQuery("bbox must list the lower corner before the upper corner")
    return minx, miny, maxx, maxy


def _parse_instant(text: str) -> dt.date | dt.datetime | None:
    if text in ("", ".."):
        return None
    value = parse_datetime(text.replace("z", "Z").replace("Z", "+00:00")) if "T" in text.upper() else None
    if value is None:
        try:
            value = parse_date(text)
        except ValueError:
            value = None
    if value is None:
        raise BadQuery(f"datetime: {text!r} is not an RFC 3339 date or date-time")
    return value


def parse_datetime_filter(text: str) -> TimeFilter:
    """An RFC 3339 instant, or an interval ``start/end`` where either end may be ``..`` (open)."""
    if "/" in text:
        start_text, _slash, end_text = text.partition("/")
        time_filter = TimeFilter(_parse_instant(start_text), _parse_instant(end_text))
        if time_filter.start is None and time_filter.end is None:
            raise BadQuery("datetime: an interval needs at least one end")
        return time_filter
    instant = _parse_instant(text)
    if instant is None:
        raise BadQuery("datetime: give a date, a date-time or an interval")
    return TimeFilter(instant, instant)


def _time_lookups(layer: PublishedLayer, time_filter: TimeFilter) -> dict:
    model_field = layer.model._meta.get_field(layer.date_field)
    is_datetime = isinstance(model_field, DateTimeField)

    def bound(value):
        # Dates against a date-time field compare on the day; date-times against a date field on their day.
        if is_datetime and not isinstance(value, dt.datetime):
            return "__date", value
        if not is_datetime and isinstance(value, dt.datetime):
            return "", value.date()
        return "", value

    lookups = {}
    if time_filter.start is not None and time_filter.start == time_filter.end:
        suffix, value = bound(time_filter.start)
        lookups[f"{layer.date_field}{suffix}"] = value
        return lookups
    if time_filter.start is not None:
        suffix, value = bound(time_filter.start)
        lookups[f"{layer.date_field}{suffix}__gte"] = value
    if time_filter.end is not None:
        suffix, value = bound(time_filter.end)
        lookups[f"{layer.date_field}{suffix}__lte"] = value
    return lookups


def filtered_features(
    layer: PublishedLayer,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    time_filter: TimeFilter | None = None,
    properties: dict[str, str] | None = None,
) -> QuerySet:
    """The layer's features matching a bbox, a time filter and ``published field = value`` conditions."""
    qs = layer.queryset()
    if bbox is not None:
        box = Polygon.from_bbox(bbox)
        box.srid = 4326
        qs = qs.filter(**{f"{layer.geometry_field}__intersects": box})
    if time_filter is not None:
        if layer.date_field is None:
            raise BadQuery(f"datetime: the collection {layer.name} has no time")
        qs = qs.filter(**_time_lookups(layer, time_filter))
    sources = {f.name: f.source for f in layer.fields}
    for name, value in (properties or {}).items():
        if name not in sources:
            raise BadQuery(f"{name} is not a property of {layer.name}")
        try:
            # Values are converted as the lookup is built: a bad number fails here, not mid-stream.
            qs = qs.filter(**{sources[name]: value})
        except (ValidationError, ValueError, TypeError):
            raise BadQuery(f"{name}: {value!r} is not a valid value") from None
    return qs


def _aliases(layer: PublishedLayer) -> dict[str, str]:
    # .values() may not reuse a model field's name for an expression: select under private aliases.
    return {f"_p{index}": f.name for index, f in enumerate(layer.fields)}


def feature_rows(layer: PublishedLayer, qs: QuerySet) -> Iterator[dict]:
    """``{"id", "geometry" (GeoJSON text), "properties"}`` for each feature of ``qs`` (ordered by the caller)."""
    aliases = _aliases(layer)
    expressions = {alias: F(layer.fields[index].source) for index, alias in enumerate(aliases)}
    rows = qs.values_list("pk", AsGeoJSON(layer.geometry_field, precision=PRECISION), *expressions.values()).iterator(
        chunk_size=CHUNK
    )
    names = list(aliases.values())
    for pk, geometry, *values in rows:
        yield {"id": pk, "geometry": geometry, "properties": dict(zip(names, values, strict=True))}


def feature_json(layer_name: str, row: dict, *, links: list[dict] | None = None) -> str:
    """One GeoJSON Feature as text, its geometry spliced in as PostGIS wrote it."""
    head = {"type": "Feature", "id": row["id"]}
    properties = json.dumps(row["properties"], cls=DjangoJSONEncoder, ensure_ascii=False)
    extra = f',"links":{json.dumps(links, ensure_ascii=False)}' if links else ""
    geometry = row["geometry"] or "null"
    return f'{json.dumps(head)[:-1]},"geometry":{geometry},"properties":{properties}{extra}}}'
