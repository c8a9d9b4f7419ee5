"""Mapbox vector tiles built by PostGIS: one ``ST_AsMVT`` query per tile, from the catalogue of layers.

Each tiled layer says from which zoom it is drawn and which of its published fields a tile carries at
each zoom (small tiles when zoomed out, every field close up). The query is the layer's own queryset
(``tiles.layers``: its filter, its joins) with only those fields, the feature id and the geometry clipped
and quantised by ``ST_AsMVTGeom``; the outer ``ST_AsMVT`` packs the rows. Features are selected with the
tile envelope widened by the buffer, the same area the change triggers (``tiles.migrations.0002``)
invalidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL

from tiles.layers import PublishedLayer

EXTENT = 4096  # tile units per side
BUFFER = 256  # tile units drawn beyond each edge (strokes and labels cross tile borders cleanly)
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
ABSOLUTE_MAX_ZOOM = 24  # the triggers invalidate zooms 0..24


@dataclass(frozen=True)
class ZoomBand:
    """From ``minzoom`` up (to the next band), a tile carries these fields of the layer."""

    minzoom: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class TileSpec:
    """How one published layer is tiled."""

    layer: str
    bands: tuple[ZoomBand, ...]  # by growing minzoom; the first one's minzoom is the layer's
    points_below: int | None = None  # below this zoom a feature is a point on its surface (stays visible)

    @property
    def minzoom(self) -> int:
        return self.bands[0].minzoom

    def fields_at(self, z: int) -> tuple[str, ...]:
        fields: tuple[str, ...] = ()
        for band in self.bands:
            if z >= band.minzoom:
                fields = band.fields
        return fields


TILE_SPECS: dict[str, TileSpec] = {
    spec.layer: spec
    for spec in (
        TileSpec(
            "authorised_works",
            bands=(
                ZoomBand(5, ("reference", "procedure_code", "decision_date", "status")),
                ZoomBand(
                    12,
                    (
                        "reference",
                        "procedure_code",
                        "procedure_name",
                        "commune_code",
                        "commune_name",
                        "decision_date",
                        "floors",
                        "use",
                        "built_area_m2",
                        "dwellings",
                        "status",
                        "verification_code",
                        "updated_at",
                    ),
                ),
            ),
            points_below=12,
        ),
        TileSpec(
            "parcels",
            bands=(
                ZoomBand(14, ("reference",)),
                ZoomBand(16, ("reference", "commune_code", "area_m2", "updated_at")),
            ),
        ),
        TileSpec(
            "zoning",
            bands=(
                ZoomBand(9, ("plan_code", "zone_code")),
                ZoomBand(
                    13,
                    (
                        "plan_code",
                        "zone_code",
                        "zone_label",
                        "max_height_m",
                        "max_floors",
                        "coverage_ratio",
                        "floor_area_ratio",
                        "min_setback_m",
                    ),
                ),
            ),
        ),
        TileSpec("constraints", bands=(ZoomBand(8, ("kind", "name", "description")),)),
        TileSpec("admin_areas", bands=(ZoomBand(0, ("code", "level", "name_fr", "name_ar", "parent_code")),)),
        TileSpec(
            "dossiers",
            bands=(
                ZoomBand(10, ("reference", "procedure_code", "status")),
                ZoomBand(
                    14,
                    (
                        "reference",
                        "procedure_code",
                        "commune_code",
                        "status",
                        "classification",
                        "review_round",
                        "submitted_at",
                        "accepted_on",
                        "session_date",
                        "decided_at",
                        "status_changed_at",
                    ),
                ),
            ),
        ),
    )
}


def max_zoom() -> int:
    """The deepest zoom served (``TAAMIR_TILES_MAX_ZOOM``, at most 24)."""
    return max(0, min(int(settings.TAAMIR_TILES_MAX_ZOOM), ABSOLUTE_MAX_ZOOM))


def tile_exists(z: int, x: int, y: int) -> bool:
    """Whether z/x/y names a tile of the Web Mercator grid within the served zooms."""
    return 0 <= z <= max_zoom() and 0 <= x < 2**z and 0 <= y < 2**z


def tile_query(layer: PublishedLayer, z: int, x: int, y: int) -> tuple[str, list]:
    """The SQL (and its parameters) that answers one row: the layer's change counter, then the tile.

    Both come from the same statement, hence the same snapshot: ``tiles.cache`` stores the tile only if
    no change came after it.
    """
    spec = TILE_SPECS[layer.name]
    model = layer.model
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(layer.geometry_field).column)}"
    geometry = f"ST_PointOnSurface({column})" if spec.points_below is not None and z < spec.points_below else column
    by_name = {published.name: published for published in layer.fields}
    names = spec.fields_at(z)
    plain = [name for name in names if by_name[name].source == name]
    renamed = {name: F(by_name[name].source) for name in names if by_name[name].source != name}
    in_tile = RawSQL(
        f"{column} && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326)",
        (z, x, y, BUFFER / EXTENT),
        output_field=BooleanField(),
    )
    mvt_geom = RawSQL(
        f"ST_AsMVTGeom(ST_Transform({geometry}, 3857), ST_TileEnvelope(%s, %s, %s), %s, %s, true)",
        (z, x, y, EXTENT, BUFFER),
    )
    rows = layer.queryset().order_by().filter(in_tile).values(*plain, **renamed, mvt_fid=F("pk"), mvt_geom=mvt_geom)
    inner, params = rows.query.sql_with_params()
    sql = (
        "SELECT coalesce((SELECT generation FROM tiles_layergeneration WHERE layer = %s), -1), "
        f"(SELECT ST_AsMVT(t.*, %s, {EXTENT}, 'mvt_geom', 'mvt_fid') FROM ({inner}) AS t "
        "WHERE t.mvt_geom IS NOT NULL)"
    )
    return sql, [layer.name, layer.name, *params]


def binary_cursor() -> psycopg.Cursor:
    """A cursor on Django's connection (same transaction) with server-side parameters and binary results.

    Django's own cursors bind parameters on the client: a tile would travel as a hex literal inside the
    SQL text, twice its size, to be parsed again by the server; binary results skip the hex decoding too.
    """
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def build_tile(layer: PublishedLayer, z: int, x: int, y: int) -> tuple[int, bytes]:
    """The layer's change counter and the tile's bytes (empty when no feature is in the tile)."""
    sql, params = tile_query(layer, z, x, y)
    with binary_cursor() as cursor:
        cursor.execute(sql, params, binary=True)
        generation, data = cursor.fetchone()
    return int(generation), bytes(data or b"")
