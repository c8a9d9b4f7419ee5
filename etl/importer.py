"""Import a vector layer (admin areas, parcels, zoning, constraints) into PostGIS, all or nothing.

The pipeline, set-based so that it keeps pace with ``ogr2ogr``:

1. ``etl.io`` streams the file in Arrow batches; attribute values are checked and converted in Python
   (a value that is not a number, or too long or out of range for its column, rejects its row) and
   COPY'd into a temporary staging table with the raw WKB.
2. One SQL pass parses, checks, repairs and reprojects every geometry (arcs are linearised): missing,
   empty or non-polygonal geometries, longitudes/latitudes out of range and duplicate keys are
   rejected with a reason; invalid ones are repaired with ``ST_MakeValid`` (and reported), or
   rejected when nothing polygonal survives the repair. It runs chunk by chunk in the server while
   Python stages the next chunk.
3. Rows are upserted on their natural key (``INSERT … ON CONFLICT … DO UPDATE … WHERE changed``), so
   a second run of the same file creates nothing and updates nothing.

Everything runs in one transaction: any rejected row aborts the whole import unless ``keep_going``
is set, in which case the good rows are imported and the rejects are returned (and written to a file
by the command).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field
from django.utils import translation
from psycopg import sql

from etl import io
from etl import wkb as wkb_salvage
from etl.layers import LAYERS, LayerSpec
from geo import crs
from geo.models import (
    ADMIN_LEVEL_ORDER,
    STORAGE_SRID,
    AdminArea,
    AdminLevel,
    ConstraintArea,
    ConstraintKind,
    Parcel,
    ZoneRegulation,
    ZoningPlan,
    ZoningZone,
)


class ImportRefused(Exception):
    """The import cannot go on; the message is one line for the user and nothing was written."""


@dataclass
class RowProblem:
    row: int
    key: str
    reason: str


@dataclass
class ImportReport:
    """Counts of one import, and the rows rejected or repaired with their reasons."""

    layer: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: int = 0
    rejected: int = 0
    source_srid: int | None = None
    measure_srid: int | None = None
    rejects: list[RowProblem] = field(default_factory=list)
    repairs: list[RowProblem] = field(default_factory=list)

    def summary_line(self) -> str:
        return (
            f"read {self.read}, created {self.created}, updated {self.updated}, "
            f"repaired {self.repaired}, rejected {self.rejected}"
        )


LEVEL_ALIASES = {
    "region": AdminLevel.REGION,
    "région": AdminLevel.REGION,
    "province": AdminLevel.PROVINCE,
    "prefecture": AdminLevel.PROVINCE,
    "préfecture": AdminLevel.PROVINCE,
    "commune": AdminLevel.COMMUNE,
    "arrondissement": AdminLevel.ARRONDISSEMENT,
}
_ARABIC = r"\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF"
_ARABIC_RUN = re.compile(rf"[{_ARABIC}][{_ARABIC}\s\-–'’]*")
_TIFINAGH = re.compile(r"[\u2D30-\u2D7F][\u2D30-\u2D7F\s\-–]*")


def split_bilingual_name(text: str) -> tuple[str, str]:
    """Split ``"Préfecture de Tanger-Assilah عمالة طنجة-أصيلة"`` into its Latin and Arabic parts.

    OpenStreetMap names in Morocco often carry French, Tifinagh and Arabic in one string; the
    Tifinagh part is dropped (we keep French and Arabic names).
    """
    arabic = " ".join(m.group(0).strip(" -–") for m in _ARABIC_RUN.finditer(text)).strip()
    latin = _TIFINAGH.sub(" ", _ARABIC_RUN.sub(" ", text))
    latin = " ".join(latin.split()).strip(" -–")
    return latin, arabic


# --- attribute conversion -------------------------------------------------------------------------


class _BadValue(ValueError):
    pass


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _convert(kind: str, target: str, value: Any) -> Any:
    text = _as_text(value)
    if text is None:
        return None
    try:
        if kind in ("float", "int"):
            number = float(text.replace(",", "."))
            if not math.isfinite(number):  # float() takes "nan" and "inf"; no rule means them
                raise ValueError(text)
            return int(number) if kind == "int" else number
    except ValueError as exc:
        raise _BadValue(f"{target}: {text!r} is not a number") from exc
    if kind == "list":
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        return [part.strip() for part in re.split(r"[,;|]", text) if part.strip()]
    return text


@dataclass(frozen=True)
class _Plan:
    """Everything resolved before reading: the spec, the column mapping and constant values."""

    spec: LayerSpec
    mapping: dict[str, str]  # target -> source attribute
    constants: dict[str, Any]
    source_srid: int
    measure_srid: int


def _resolve_mapping(spec: LayerSpec, info: io.LayerInfo, user_mapping: dict[str, str]) -> dict[str, str]:
    unknown_targets = set(user_mapping) - set(spec.field_names)
    if unknown_targets:
        raise ImportRefused(
            f"--map: {', '.join(sorted(unknown_targets))} is not a field of {spec.name} "
            f"(fields: {', '.join(spec.field_names)})"
        )
    fields = set(info.fields)
    mapping: dict[str, str] = {}
    for target in spec.fields:
        source = user_mapping.get(target.name)
        if source is not None:
            if source not in fields:
                raise ImportRefused(
                    f"--map {target.name}={source}: the file has no attribute {source!r} "
                    f"(attributes: {', '.join(info.fields) or 'none'})"
                )
            mapping[target.name] = source
            continue
        found = next((c for c in target.candidates if c in fields), None)
        if found is not None:
            mapping[target.name] = found
    return mapping


def _source_srid(info: io.LayerInfo, srid: int | None) -> int:
    if srid is not None:
        try:
            return crs.srid_of(srid)
        except crs.UnknownCRS as exc:
            raise ImportRefused(f"--srid {srid}: {exc}") from exc
    if not info.crs:
        raise ImportRefused(f"{Path(info.source).name}: unknown CRS (the file declares none); give --srid EPSG_CODE")
    try:
        return crs.srid_of(info.crs)
    except crs.UnknownCRS as exc:
        raise ImportRefused(f"{Path(info.source).name}: {exc}; give --srid EPSG_CODE") from exc


def _measure_srid(info: io.LayerInfo, source_srid: int) -> int:
    """Measure in the source CRS when it is projected in metres, else in the local projected CRS."""
    source = crs.crs_from_user_input(source_srid)
    if source.is_projected and source.axis_info and source.axis_info[0].unit_name in {"metre", "meter"}:
        return source_srid
    if info.bounds and all(b == b for b in info.bounds):  # NaN-safe
        min_x, min_y, max_x, max_y = info.bounds
        lon, lat = crs.transform_point(
            (min_x + max_x) / 2, (min_y + max_y) / 2, source_srid=source_srid, target_srid=4326
        )
        return crs.measurement_srid_for(lon, lat)
    return crs.MERCHICH_NORD


def _check_on_earth(info: io.LayerInfo, source_srid: int) -> None:
    """Refuse a file whose extent is nowhere on Earth in its CRS: the CRS is wrong (or missing and guessed).

    Typically projected coordinates in a GeoJSON that declares no CRS, which GDAL takes as EPSG:4326;
    reprojecting them would abort the import with a database error.
    """
    if not info.bounds or not all(math.isfinite(b) for b in info.bounds):
        return
    min_x, min_y, max_x, max_y = info.bounds
    x, y = (min_x + max_x) / 2, (min_y + max_y) / 2
    lon, lat = crs.transform_point(x, y, source_srid=source_srid, target_srid=4326)
    if not (math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        raise ImportRefused(
            f"{Path(info.source).name}: coordinates around ({x:.6g}, {y:.6g}) are not on Earth in "
            f"EPSG:{source_srid}; is that the file's CRS? give --srid EPSG_CODE"
        )


def _check_srid_known_to_postgis(srid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", [srid])
        if cursor.fetchone() is None:
            raise ImportRefused(f"EPSG:{srid} is not in PostGIS's spatial_ref_sys")


# --- staging --------------------------------------------------------------------------------------


def _create_staging(spec: LayerSpec) -> None:
    columns = [sql.SQL("{} text").format(sql.Identifier(name)) for name in spec.field_names]
    statement = sql.SQL(
        "CREATE TEMP TABLE import_staging (row_no integer PRIMARY KEY, fid bigint, {columns}, "
        "attributes jsonb, reject text, repair_note text, wkb bytea) ON COMMIT DROP"
    ).format(columns=sql.SQL(", ").join(columns))
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.connection))


# Rows go to the server in chunks of this many. While PostgreSQL runs the SQL pass over one chunk
# (sent in psycopg's pipeline mode, which does not wait for the result), Python reads and converts
# the next one, so the two processes work side by side instead of in turn.
STAGE_CHUNK_ROWS = 2_000

# One encoder for every row: ``json.dumps`` with options builds a new one per call.
_ATTRIBUTES_JSON = json.JSONEncoder(default=str, ensure_ascii=False)


def _stage_batches(plan: _Plan, info: io.LayerInfo, *, batch_size: int, progress: Callable[[int], None] | None) -> int:
    """COPY every row into the staging table, chunk by chunk, and run the SQL pass on each chunk.

    Each chunk's SQL pass appends its rows to ``import_prepared`` in row order and empties the staging
    table, so ``import_prepared`` ends as one pass over the whole file would have left it.
    """
    spec = plan.spec
    names = spec.field_names
    copy_sql = sql.SQL(
        "COPY import_staging (row_no, fid, {columns}, attributes, reject, repair_note, wkb) FROM STDIN"
    ).format(columns=sql.SQL(", ").join(sql.Identifier(n) for n in names))
    mapped_sources = set(plan.mapping.values())
    row_no = 0
    with connection.cursor() as cursor:
        copy_text = copy_sql.as_string(cursor.connection)
        create_prepared, prepare_chunk, params = _prepare_statements(plan, cursor)
        cursor.execute(create_prepared, params)
        pending = _Pipelined(cursor)
        try:
            # Batches no larger than a chunk: GDAL's reading of the next one overlaps the server's work too.
            for batch in io.read_batches(info=info, batch_size=min(batch_size, STAGE_CHUNK_ROWS)):
                for start in range(0, len(batch.rows), STAGE_CHUNK_ROWS):
                    end = min(start + STAGE_CHUNK_ROWS, len(batch.rows))
                    salvaged = {
                        start + index: wkb_salvage.salvage(batch.wkb[start + index])
                        for index in wkb_salvage.unparsable(batch.wkb[start:end])
                    }
                    rows = []
                    for index in range(start, end):
                        attrs, wkb, fid = batch.rows[index], batch.wkb[index], batch.fids[index]
                        row_no += 1
                        values, reject = _row_values(plan, attrs)
                        note = None
                        if index in salvaged:
                            wkb, note = salvaged[index].wkb, salvaged[index].note
                            reject = reject or salvaged[index].reject
                        attributes = None
                        if spec.keep_attributes:
                            attributes = _ATTRIBUTES_JSON.encode(
                                {k: v for k, v in attrs.items() if k not in mapped_sources and v is not None}
                            )
                        rows.append((row_no, fid, *[values.get(n) for n in names], attributes, reject, note, wkb))
                    pending.wait()
                    with cursor.copy(copy_text) as copy:
                        for row in rows:
                            copy.write_row(row)
                    pending.send([(prepare_chunk, params), ("TRUNCATE import_staging", None)])
                if progress:
                    progress(len(batch.rows))
        except BaseException:
            pending.abandon()
            raise
        pending.wait()
    return row_no


class _Pipelined:
    """Statements sent to the server in psycopg's pipeline mode and not waited for yet."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor
        self._pipeline = None

    def send(self, statements: list[tuple[str, dict | None]]) -> None:
        self.wait()
        self._pipeline = connection.connection.pipeline()
        self._pipeline.__enter__()
        for statement, params in statements:
            self._cursor.execute(statement, params)

    def wait(self) -> None:
        """Wait for the statements sent; a failure among them is raised here, as Django raises it."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            with connection.wrap_database_errors:
                pipeline.__exit__(None, None, None)

    def abandon(self) -> None:
        """Leave pipeline mode after a failure elsewhere (the transaction is rolled back by the caller)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.__exit__(*sys.exc_info())


def _row_values(plan: _Plan, attrs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    values: dict[str, Any] = {}
    reject = None
    try:
        for target in plan.spec.fields:
            if target.name in plan.constants:
                values[target.name] = plan.constants[target.name]
                continue
            source = plan.mapping.get(target.name)
            values[target.name] = _convert(target.kind, target.name, attrs.get(source)) if source else None
        _layer_row_rules(plan.spec.name, values)
        _check_fits(plan.spec.name, values)
    except _BadValue as exc:
        reject = str(exc)
    for target in plan.spec.fields:
        if target.kind == "list" and isinstance(values.get(target.name), list):
            values[target.name] = json.dumps(values[target.name], ensure_ascii=False)
    return values, reject


@lru_cache(maxsize=1)
def _model_fields() -> dict[str, dict[str, Field]]:
    """The model field each target value ends up in, per layer."""

    def of(model, *names: str) -> dict[str, Field]:
        return {name: model._meta.get_field(name) for name in names}

    return {
        "admin_areas": of(AdminArea, "code", "name_fr", "name_ar", "projected_srid"),
        "parcels": of(Parcel, "reference"),
        "zoning": {
            **of(ZoningZone, "source_key"),
            **of(ZoneRegulation, "zone_code", "label", "max_floors", "allowed_uses"),
        },
        "constraints": of(ConstraintArea, "source_key", "name"),
    }


def _check_fits(layer: str, values: dict[str, Any]) -> None:
    """Reject a row whose value is too long or out of range for its column, with the field's own message.

    Without this check the database refuses the value and the whole import stops with a traceback.
    """
    for name, model_field in _model_fields()[layer].items():
        if values.get(name) is None:
            continue
        try:
            model_field.run_validators(values[name])
        except ValidationError as exc:
            with translation.override("en"):  # like every other message of the import
                raise _BadValue(f"{name}: {' '.join(exc.messages)}") from exc


def _layer_row_rules(layer: str, values: dict[str, Any]) -> None:
    """Per-layer checks and normalisations of one row's values (raises ``_BadValue``)."""
    if layer == "admin_areas":
        name_fr, name_ar = values.get("name_fr") or "", values.get("name_ar") or ""
        if name_fr and not name_ar:
            latin, arabic = split_bilingual_name(name_fr)
            if arabic:
                values["name_fr"], values["name_ar"] = latin or arabic, arabic
        elif name_fr:
            values["name_fr"] = split_bilingual_name(name_fr)[0] or name_fr
        level = values.get("level")
        if level is not None:
            normalised = LEVEL_ALIASES.get(str(level).strip().lower())
            if normalised is None:
                raise _BadValue(f"level: {level!r} is not one of {', '.join(AdminLevel.values)}")
            values["level"] = normalised.value
        else:
            raise _BadValue("level: missing (give --level or --map level=ATTRIBUTE)")
        if not values.get("name_fr"):
            values["name_fr"] = values.get("code")
    elif layer == "constraints":
        kind = values.get("kind")
        if kind is None:
            raise _BadValue("kind: missing (give --kind or --map kind=ATTRIBUTE)")
        if kind not in ConstraintKind.values:
            raise _BadValue(f"kind: {kind!r} is not one of {', '.join(ConstraintKind.values)}")
    elif layer == "parcels" and values.get("reference"):
        values["reference"] = " ".join(values["reference"].split())


def _drop_work_tables() -> None:
    """Drop the staging tables as soon as the import is done.

    ``ON COMMIT DROP`` waits for the outermost commit: a second import in the same transaction (inside a
    caller's ``atomic``, or a test) would otherwise fail on "relation import_staging already exists".
    """
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_prepared, import_staging")


# --- the SQL pass: parse, check, repair, reproject ------------------------------------------------

# Each nesting level computes one step once per row; ``OFFSET 0`` keeps PostgreSQL from inlining a
# level into the next, which would evaluate ST_IsValid or ST_MakeValid once per reference. It runs
# once per staged chunk (``INSERT INTO import_prepared …``), after an empty ``CREATE … WITH NO DATA``.
PREPARE_SQL = """
SELECT row_no, fid, key_value, {columns}, attributes,
    CASE WHEN first_reject IS NULL THEN NULLIF(concat_ws('; ', repair_note, invalid_reason), '') END AS repair_reason,
    COALESCE(first_reject, CASE
        WHEN invalid_reason IS NOT NULL AND (ST_IsEmpty(g_fixed) OR ST_Area(g_fixed) = 0)
        THEN 'invalid geometry that cannot be repaired (' || invalid_reason || ')'
    END) AS reject,
    CASE WHEN first_reject IS NULL AND NOT ST_IsEmpty(g_fixed)
        THEN ST_Multi(ST_Transform(g_fixed, %(storage_srid)s)) END AS geom
FROM (
    SELECT checked.*, CASE WHEN first_reject IS NULL THEN
        ST_CollectionExtract(CASE WHEN invalid_reason IS NOT NULL THEN ST_MakeValid(g) ELSE g END, 3) END AS g_fixed
    FROM (
        SELECT classified.*,
            CASE WHEN first_reject IS NULL AND NOT ST_IsValid(g) THEN ST_IsValidReason(g) END AS invalid_reason
        FROM (
            SELECT parsed.*, COALESCE(parsed.reject, CASE
                WHEN g IS NULL THEN 'no geometry'
                WHEN ST_IsEmpty(g) THEN 'empty geometry'
                WHEN ST_Dimension(g) <> 2 THEN 'expected polygons, got ' || initcap(GeometryType(g))
                WHEN %(geographic)s AND (ST_XMin(g) < -180 OR ST_XMax(g) > 180 OR ST_YMin(g) < -90 OR ST_YMax(g) > 90)
                THEN %(out_of_range)s
                WHEN NULLIF(btrim(key_value), '') IS NULL THEN %(missing_key)s
            END) AS first_reject
            FROM (
                SELECT s.*, {key_expr} AS key_value,
                    ST_CurveToLine(ST_Force2D(ST_GeomFromWKB(s.wkb, %(source_srid)s))) AS g
                FROM import_staging s OFFSET 0
            ) parsed OFFSET 0
        ) classified OFFSET 0
    ) checked OFFSET 0
) fixed
"""

DUPLICATES_SQL = """
UPDATE import_prepared p SET reject = 'duplicate ' || %(key)s || ' ' || quote_literal(p.key_value)
    || ' (first at row ' || d.first_row || ')'
FROM (
    SELECT row_no, min(row_no) OVER (PARTITION BY {norm_key}) AS first_row
    FROM import_prepared WHERE reject IS NULL
) d
WHERE p.row_no = d.row_no AND d.first_row <> p.row_no
"""


def _prepare_statements(plan: _Plan, cursor) -> tuple[str, str, dict[str, Any]]:
    """The statement creating an empty ``import_prepared``, the one filling it from a staged chunk, their parameters."""
    spec = plan.spec
    # Zoning and constraint features without an identifier fall back on GDAL's feature id.
    if spec.key == "source_key":
        key_expr = sql.SQL("COALESCE({}, fid::text)").format(sql.Identifier(spec.key))
    else:
        key_expr = sql.Identifier(spec.key)
    columns = sql.SQL(", ").join(sql.Identifier(n) for n in spec.field_names if n != spec.key)
    select = sql.SQL(PREPARE_SQL).format(key_expr=key_expr, columns=columns or sql.SQL("NULL AS none"))
    create = sql.SQL("CREATE TEMP TABLE import_prepared ON COMMIT DROP AS {select} WITH NO DATA").format(select=select)
    fill = sql.SQL("INSERT INTO import_prepared {select}").format(select=select)
    params = {
        "source_srid": plan.source_srid,
        "storage_srid": STORAGE_SRID,
        "missing_key": f"missing {spec.key}",
        # Longitudes/latitudes out of range: most often projected coordinates in a file that declares
        # none (GeoJSON is then taken as EPSG:4326); ST_Transform would abort the whole import on them.
        "geographic": crs.crs_from_user_input(plan.source_srid).is_geographic,
        "out_of_range": f"coordinates out of the longitude/latitude range of EPSG:{plan.source_srid} "
        "(is that the file's CRS? give --srid EPSG_CODE)",
    }
    return create.as_string(cursor.connection), fill.as_string(cursor.connection), params


def _find_duplicates(plan: _Plan) -> None:
    """Reject every row whose key (case and spaces ignored for references) an earlier good row has."""
    spec = plan.spec
    if spec.key == "reference":
        norm_key = sql.SQL("upper(regexp_replace(key_value, '\\s+', '', 'g'))")
    else:
        norm_key = sql.SQL("key_value")
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(DUPLICATES_SQL).format(norm_key=norm_key).as_string(cursor.connection), {"key": spec.key}
        )


def _collect_problems(report: ImportReport) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_no, coalesce(key_value, ''), reject FROM import_prepared "
            "WHERE reject IS NOT NULL ORDER BY row_no"
        )
        report.rejects = [RowProblem(row, key, reason) for row, key, reason in cursor.fetchall()]
        cursor.execute(
            "SELECT row_no, coalesce(key_value, ''), repair_reason FROM import_prepared "
            "WHERE reject IS NULL AND repair_reason IS NOT NULL ORDER BY row_no"
        )
        report.repairs = [RowProblem(row, key, reason) for row, key, reason in cursor.fetchall()]
    report.rejected = len(report.rejects)
    report.repaired = len(report.repairs)


# --- upserts, one per layer -----------------------------------------------------------------------

# Each upsert reads the prepared rows in file order (``ORDER BY row_no``), so new rows get their ids in
# the order of the file, whatever order the chunked SQL pass left them in.

# How a parcel finds its commune: the one given on the command line, the code in the file, or the
# commune whose boundary holds a point of the parcel's surface.
PARCEL_COMMUNE_JOINS = {
    "given": "LEFT JOIN geo_adminarea c ON c.id = %(commune_id)s",
    "by_code": "LEFT JOIN geo_adminarea c ON c.code = p.commune_code",
    "by_place": (
        "LEFT JOIN LATERAL (SELECT a.id, a.projected_srid FROM geo_adminarea a WHERE a.level = 'commune' "
        "AND ST_Intersects(a.geom, ST_PointOnSurface(p.geom)) ORDER BY a.code LIMIT 1) c ON true"
    ),
    "none": "LEFT JOIN (SELECT NULL::bigint AS id, NULL::integer AS projected_srid) c ON true",
}

PARCELS_UPSERT = """
INSERT INTO geo_parcel (reference, reference_key, commune_id, area_m2, area_srid, geom, attributes, updated_at)
SELECT reference, reference_key, commune_id, ST_Area(ST_Transform(geom, area_srid)), area_srid, geom, attributes, now()
FROM (
    SELECT p.row_no, p.key_value AS reference, upper(regexp_replace(p.key_value, '\\s+', '', 'g')) AS reference_key,
        c.id AS commune_id, COALESCE(c.projected_srid, %(measure_srid)s) AS area_srid, p.geom,
        COALESCE(p.attributes, '{{}}'::jsonb) AS attributes
    FROM import_prepared p {commune_join}
    WHERE p.reject IS NULL
) rows
ORDER BY row_no
ON CONFLICT (reference_key) DO UPDATE SET
    reference = EXCLUDED.reference, commune_id = EXCLUDED.commune_id, area_m2 = EXCLUDED.area_m2,
    area_srid = EXCLUDED.area_srid, geom = EXCLUDED.geom, attributes = EXCLUDED.attributes, updated_at = now()
WHERE (geo_parcel.reference, geo_parcel.commune_id, geo_parcel.area_srid, geo_parcel.attributes)
        IS DISTINCT FROM (EXCLUDED.reference, EXCLUDED.commune_id, EXCLUDED.area_srid, EXCLUDED.attributes)
    OR ST_AsBinary(geo_parcel.geom) <> ST_AsBinary(EXCLUDED.geom)
RETURNING (xmax = 0) AS created
"""

ADMIN_UPSERT = """
INSERT INTO geo_adminarea (level, code, name_fr, name_ar, projected_srid, geom, updated_at)
SELECT p.level, p.key_value, p.name_fr, COALESCE(p.name_ar, ''),
    COALESCE(p.projected_srid::integer, %(default_srid)s), p.geom, now()
FROM import_prepared p WHERE p.reject IS NULL ORDER BY p.row_no
ON CONFLICT (code) DO UPDATE SET
    level = EXCLUDED.level, name_fr = EXCLUDED.name_fr, name_ar = EXCLUDED.name_ar,
    projected_srid = CASE WHEN %(srid_mapped)s THEN EXCLUDED.projected_srid ELSE geo_adminarea.projected_srid END,
    geom = EXCLUDED.geom, updated_at = now()
WHERE (geo_adminarea.level, geo_adminarea.name_fr, geo_adminarea.name_ar) IS DISTINCT FROM
        (EXCLUDED.level, EXCLUDED.name_fr, EXCLUDED.name_ar)
    OR (%(srid_mapped)s AND geo_adminarea.projected_srid <> EXCLUDED.projected_srid)
    OR ST_AsBinary(geo_adminarea.geom) <> ST_AsBinary(EXCLUDED.geom)
RETURNING (xmax = 0) AS created
"""

ADMIN_PARENT_BY_CODE = """
UPDATE geo_adminarea a SET parent_id = parent.id
FROM import_prepared p JOIN geo_adminarea parent ON parent.code = p.parent_code
WHERE p.reject IS NULL AND a.code = p.key_value AND a.parent_id IS DISTINCT FROM parent.id
"""

# A child's parent is the area one level up that contains a point of its surface.
ADMIN_PARENT_BY_PLACE = """
UPDATE geo_adminarea a SET parent_id = found.parent_id
FROM import_prepared p
CROSS JOIN LATERAL (
    SELECT up.id AS parent_id FROM geo_adminarea up
    WHERE up.level = %(parent_level)s AND ST_Intersects(up.geom, ST_PointOnSurface(p.geom))
    ORDER BY up.code LIMIT 1
) found
WHERE p.reject IS NULL AND p.level = %(level)s AND a.code = p.key_value AND a.parent_id IS DISTINCT FROM found.parent_id
"""

ZONING_REGULATIONS_UPSERT = """
INSERT INTO geo_zoneregulation (plan_id, zone_code, label, max_height_m, max_floors, coverage_ratio,
    floor_area_ratio, min_setback_m, allowed_uses)
SELECT DISTINCT ON (p.zone_code) %(plan_id)s, p.zone_code, COALESCE(p.label, ''), p.max_height_m::float,
    p.max_floors::integer, p.coverage_ratio::float, p.floor_area_ratio::float, p.min_setback_m::float,
    COALESCE(ARRAY(SELECT jsonb_array_elements_text(p.allowed_uses::jsonb)), '{}')
FROM import_prepared p WHERE p.reject IS NULL ORDER BY p.zone_code, p.row_no
ON CONFLICT (plan_id, zone_code) DO UPDATE SET
    label = CASE WHEN %(label)s THEN EXCLUDED.label ELSE geo_zoneregulation.label END,
    max_height_m = CASE WHEN %(max_height_m)s THEN EXCLUDED.max_height_m ELSE geo_zoneregulation.max_height_m END,
    max_floors = CASE WHEN %(max_floors)s THEN EXCLUDED.max_floors ELSE geo_zoneregulation.max_floors END,
    coverage_ratio = CASE WHEN %(coverage_ratio)s THEN EXCLUDED.coverage_ratio
        ELSE geo_zoneregulation.coverage_ratio END,
    floor_area_ratio = CASE WHEN %(floor_area_ratio)s THEN EXCLUDED.floor_area_ratio
        ELSE geo_zoneregulation.floor_area_ratio END,
    min_setback_m = CASE WHEN %(min_setback_m)s THEN EXCLUDED.min_setback_m ELSE geo_zoneregulation.min_setback_m END,
    allowed_uses = CASE WHEN %(allowed_uses)s THEN EXCLUDED.allowed_uses ELSE geo_zoneregulation.allowed_uses END
"""

ZONING_ZONES_UPSERT = """
INSERT INTO geo_zoningzone (plan_id, source_key, regulation_id, geom, updated_at)
SELECT %(plan_id)s, p.key_value, r.id, p.geom, now()
FROM import_prepared p JOIN geo_zoneregulation r ON r.plan_id = %(plan_id)s AND r.zone_code = p.zone_code
WHERE p.reject IS NULL ORDER BY p.row_no
ON CONFLICT (plan_id, source_key) DO UPDATE SET regulation_id = EXCLUDED.regulation_id, geom = EXCLUDED.geom,
    updated_at = now()
WHERE geo_zoningzone.regulation_id <> EXCLUDED.regulation_id
    OR ST_AsBinary(geo_zoningzone.geom) <> ST_AsBinary(EXCLUDED.geom)
RETURNING (xmax = 0) AS created
"""

CONSTRAINTS_UPSERT = """
INSERT INTO geo_constraintarea (kind, source_key, name, description, geom, updated_at)
SELECT p.kind, p.key_value, COALESCE(p.name, ''), COALESCE(p.description, ''), p.geom, now()
FROM import_prepared p WHERE p.reject IS NULL ORDER BY p.row_no
ON CONFLICT (kind, source_key) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
    geom = EXCLUDED.geom, updated_at = now()
WHERE (geo_constraintarea.name, geo_constraintarea.description) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description)
    OR ST_AsBinary(geo_constraintarea.geom) <> ST_AsBinary(EXCLUDED.geom)
RETURNING (xmax = 0) AS created
"""


def _count_upsert(cursor, statement: str, params: dict, report: ImportReport, imported: int) -> None:
    cursor.execute(statement, params)
    flags = [row[0] for row in cursor.fetchall()]
    report.created = sum(1 for f in flags if f)
    report.updated = len(flags) - report.created
    report.unchanged = imported - len(flags)


def _upsert(plan: _Plan, report: ImportReport, *, commune: AdminArea | None, plan_code: str | None) -> None:
    imported = report.read - report.rejected
    with connection.cursor() as cursor:
        if plan.spec.name == "parcels":
            if commune is not None:
                join = "given"
            elif "commune_code" in plan.mapping:
                join = "by_code"
            else:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM geo_adminarea WHERE level = 'commune')")
                join = "by_place" if cursor.fetchone()[0] else "none"
            statement = PARCELS_UPSERT.format(commune_join=PARCEL_COMMUNE_JOINS[join])
            params = {"measure_srid": plan.measure_srid, "commune_id": commune.id if commune else None}
            _count_upsert(cursor, statement, params, report, imported)
        elif plan.spec.name == "admin_areas":
            params = {"default_srid": crs.MERCHICH_NORD, "srid_mapped": "projected_srid" in plan.mapping}
            _count_upsert(cursor, ADMIN_UPSERT, params, report, imported)
            _admin_post_process(cursor, plan)
        elif plan.spec.name == "zoning":
            zoning_plan = _zoning_plan(plan_code=plan_code, commune=commune)
            flags = {name: name in plan.mapping for name in plan.spec.field_names}
            cursor.execute(ZONING_REGULATIONS_UPSERT, {"plan_id": zoning_plan.id, **flags})
            _count_upsert(cursor, ZONING_ZONES_UPSERT, {"plan_id": zoning_plan.id}, report, imported)
        elif plan.spec.name == "constraints":
            _count_upsert(cursor, CONSTRAINTS_UPSERT, {}, report, imported)


def _admin_post_process(cursor, plan: _Plan) -> None:
    """Link parents (by code when mapped, else by place) and set each new area's measurement CRS."""
    if "parent_code" in plan.mapping:
        cursor.execute(ADMIN_PARENT_BY_CODE)
    else:
        for index, level in enumerate(ADMIN_LEVEL_ORDER[1:], start=1):
            cursor.execute(
                ADMIN_PARENT_BY_PLACE, {"level": level.value, "parent_level": ADMIN_LEVEL_ORDER[index - 1].value}
            )
    if "projected_srid" not in plan.mapping:
        cursor.execute(
            "SELECT a.id, ST_X(c), ST_Y(c) FROM geo_adminarea a JOIN import_prepared p ON p.key_value = a.code "
            "CROSS JOIN LATERAL ST_PointOnSurface(a.geom) c WHERE p.reject IS NULL"
        )
        updates = [(crs.measurement_srid_for(lon, lat), area_id) for area_id, lon, lat in cursor.fetchall()]
        # Outside Morocco the UTM zone is the measurement CRS; inside, the Merchich zone of the area.
        cursor.executemany(
            "UPDATE geo_adminarea SET projected_srid = %s WHERE id = %s AND projected_srid <> %s",
            [(srid, area_id, srid) for srid, area_id in updates],
        )


def _zoning_plan(*, plan_code: str | None, commune: AdminArea | None) -> ZoningPlan:
    code = plan_code or "imported"
    zoning_plan, _ = ZoningPlan.objects.get_or_create(code=code, defaults={"name": code, "commune": commune})
    return zoning_plan


# --- the service ----------------------------------------------------------------------------------


def layer_import(
    *,
    path: Path,
    layer: str,
    mapping: dict[str, str] | None = None,
    srid: int | None = None,
    level: str | None = None,
    commune_code: str | None = None,
    plan_code: str | None = None,
    constraint_kind: str | None = None,
    source_layer: str | None = None,
    keep_going: bool = False,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[io.LayerInfo], None] | None = None,
) -> ImportReport:
    """Import one layer of a vector file into ``layer`` (admin_areas, parcels, zoning or constraints).

    Raises :class:`ImportRefused` (and writes nothing) on a file that cannot be read, a CRS that cannot
    be identified, a layer of the wrong geometry type, no feature at all, or — unless ``keep_going`` —
    any rejected row.
    """
    spec = LAYERS.get(layer)
    if spec is None:
        raise ImportRefused(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")
    try:
        info = io.layer_info(path=path, layer=source_layer)
    except io.LayerReadError as exc:
        raise ImportRefused(str(exc)) from exc
    base_type = info.base_geometry_type
    if base_type is None:
        raise ImportRefused(f"{path.name}: the layer {info.layer!r} has no geometry")
    if base_type not in io.POLYGONAL_TYPES and base_type not in io.UNDECLARED_TYPES:
        raise ImportRefused(f"{path.name}: {spec.name} needs polygons, the layer holds {base_type} geometries")

    if info.feature_count == 0 and not info.fields:
        # An empty GeoJSON FeatureCollection declares no attribute either: say it is empty, not "--map …".
        raise ImportRefused(f"{path.name}: the layer {info.layer!r} has no features")

    constants: dict[str, Any] = {}
    if level is not None:
        normalised = LEVEL_ALIASES.get(level.strip().lower())
        if normalised is None:
            raise ImportRefused(f"--level {level!r}: choose one of {', '.join(AdminLevel.values)}")
        constants["level"] = normalised.value
    if constraint_kind is not None:
        if constraint_kind not in ConstraintKind.values:
            raise ImportRefused(f"--kind {constraint_kind!r}: choose one of {', '.join(ConstraintKind.values)}")
        constants["kind"] = constraint_kind
    commune = None
    if commune_code is not None:
        commune = AdminArea.objects.filter(code=commune_code).first()
        if commune is None:
            raise ImportRefused(f"--commune {commune_code!r}: no administrative area has this code")

    column_mapping = _resolve_mapping(spec, info, mapping or {})
    missing = [f.name for f in spec.fields if f.required and f.name not in column_mapping and f.name not in constants]
    if missing:
        raise ImportRefused(
            f"{path.name}: no attribute for {', '.join(missing)}; give --map {missing[0]}=ATTRIBUTE "
            f"(attributes: {', '.join(info.fields) or 'none'})"
        )
    source_srid = _source_srid(info, srid)
    _check_srid_known_to_postgis(source_srid)
    _check_on_earth(info, source_srid)
    measure_srid = commune.projected_srid if commune else _measure_srid(info, source_srid)
    plan = _Plan(
        spec=spec, mapping=column_mapping, constants=constants, source_srid=source_srid, measure_srid=measure_srid
    )
    report = ImportReport(layer=spec.name, source_srid=source_srid, measure_srid=measure_srid)
    if on_start:
        on_start(info)

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # JIT compilation costs more than it saves on these one-pass statements.
                cursor.execute("SET LOCAL jit = off")
            _create_staging(spec)
            report.read = _stage_batches(plan, info, batch_size=batch_size, progress=progress)
            if report.read == 0:
                raise ImportRefused(f"{path.name}: the layer {info.layer!r} has no features")
            _find_duplicates(plan)
            _collect_problems(report)
            if report.rejected and not keep_going:
                first = report.rejects[0]
                raise ImportRefused(
                    f"{path.name}: row {first.row}{f' ({first.key})' if first.key else ''}: {first.reason}; "
                    f"{report.rejected} row(s) rejected, nothing imported (--keep-going imports the good rows)"
                )
            if report.rejected == report.read:
                raise ImportRefused(
                    f"{path.name}: every row was rejected ({report.rejects[0].reason}); nothing imported"
                )
            _upsert(plan, report, commune=commune, plan_code=plan_code)
            _drop_work_tables()
    except io.LayerReadError as exc:
        raise ImportRefused(str(exc)) from exc
    return report
