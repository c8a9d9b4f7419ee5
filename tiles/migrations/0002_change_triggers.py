"""Triggers that keep the tile cache exact and announce every change of a published feature.

On every INSERT, UPDATE or DELETE statement on a layer's table (the app, the admin, an import, plain
SQL), one statement-level trigger with transition tables:

1. bumps the layer's counter in ``tiles_layergeneration`` (a tile built before the change is then
   never stored, see ``tiles.cache``);
2. deletes from ``tiles_tile`` exactly the cached tiles of that layer whose area, widened by the tile
   buffer (256 of 4,096 units, as ``tiles.vector`` builds them), touches the old or the new bounding
   box of a changed feature, at every zoom from 0 to 24;
3. sends ``pg_notify('geo_changes', …)`` with ``{"layer", "id", "action", "bbox"}`` per feature (bbox
   in EPSG:4326, old and new geometry together); a statement that changes more than 50 features sends
   one notice with ``"id": null``, the count and the box around all of them.

Zone regulations carry the zoning layer's attributes: changing one invalidates its zones' tiles too.
"""

from django.db import migrations

# (table, geometry column, layer): the layers of tiles.vector.TILE_SPECS.
WATCHED = (
    ("geo_authorisedwork", "geom", "authorised_works"),
    ("geo_parcel", "geom", "parcels"),
    ("geo_zoningzone", "geom", "zoning"),
    ("geo_constraintarea", "geom", "constraints"),
    ("geo_adminarea", "geom", "admin_areas"),
    ("permits_dossier", "site", "dossiers"),
)
ACTIONS = ("INSERT", "UPDATE", "DELETE")

FUNCTIONS = r"""
-- The tile ranges (x0..x1, y0..y1 in XYZ numbering) that a box in EPSG:4326 touches at zooms 0..max_zoom,
-- each tile widened by buffer_share of its size on every side.
CREATE OR REPLACE FUNCTION tiles_tile_ranges(box geometry, max_zoom integer DEFAULT 24,
                                             buffer_share double precision DEFAULT 256.0 / 4096.0)
RETURNS TABLE (z integer, x0 bigint, x1 bigint, y0 bigint, y1 bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH merc AS (
        SELECT ST_Transform(ST_ClipByBox2D(ST_Envelope(box), ST_MakeEnvelope(-180, -85.0511287798, 180, 85.0511287798)),
                            3857) AS e
    ), b AS (
        SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax FROM merc
        WHERE NOT ST_IsEmpty(e)
    ), zooms AS (
        SELECT zz AS z, (1::bigint << zz) AS n, 2 * 20037508.342789244 / (1::bigint << zz) AS size
        FROM generate_series(0, max_zoom) AS zz
    )
    SELECT zooms.z,
           greatest(0, floor((b.xmin + 20037508.342789244) / zooms.size - buffer_share))::bigint,
           least(zooms.n - 1, floor((b.xmax + 20037508.342789244) / zooms.size + buffer_share))::bigint,
           greatest(0, floor((20037508.342789244 - b.ymax) / zooms.size - buffer_share))::bigint,
           least(zooms.n - 1, floor((20037508.342789244 - b.ymin) / zooms.size + buffer_share))::bigint
    FROM b CROSS JOIN zooms
$$;

-- Invalidate and announce the features (id, box) of one statement on a layer's table.
CREATE OR REPLACE FUNCTION tiles_features_changed(layer text, action text, changed jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    feature_count integer := jsonb_array_length(changed);
    item jsonb;
    all_box geometry;
BEGIN
    IF feature_count = 0 THEN
        RETURN;
    END IF;
    UPDATE tiles_layergeneration SET generation = generation + 1 WHERE tiles_layergeneration.layer = $1;
    IF feature_count <= 50 THEN
        -- A few features: the tile ranges of each box at each zoom, looked up in the cache's index.
        DELETE FROM tiles_tile AS t
        USING (
            SELECT DISTINCT r.z, r.x0, r.x1, r.y0, r.y1
            FROM jsonb_array_elements(changed) AS c,
                 jsonb_array_elements(c->'boxes') AS b,
                 LATERAL tiles_tile_ranges(ST_MakeEnvelope((b->>0)::float8, (b->>1)::float8,
                                                           (b->>2)::float8, (b->>3)::float8, 4326)) AS r
        ) AS ranges
        WHERE t.layer = $1 AND t.z = ranges.z
          AND t.x BETWEEN ranges.x0 AND ranges.x1 AND t.y BETWEEN ranges.y0 AND ranges.y1;
    ELSE
        SELECT ST_Collect(ST_Transform(ST_ClipByBox2D(
                   ST_MakeEnvelope((b->>0)::float8, (b->>1)::float8, (b->>2)::float8, (b->>3)::float8, 4326),
                   ST_MakeEnvelope(-180, -85.0511287798, 180, 85.0511287798)), 3857))
        INTO all_box
        FROM jsonb_array_elements(changed) AS c, jsonb_array_elements(c->'boxes') AS b;
        DELETE FROM tiles_tile AS t
        WHERE t.layer = $1 AND ST_Intersects(ST_TileEnvelope(t.z, t.x, t.y, margin => 256.0 / 4096.0), all_box);
    END IF;
    IF feature_count <= 50 THEN
        FOR item IN SELECT * FROM jsonb_array_elements(changed) LOOP
            PERFORM pg_notify('geo_changes', jsonb_build_object(
                'layer', layer, 'id', item->'id', 'action', action, 'bbox', item->'bbox')::text);
        END LOOP;
    ELSE
        SELECT ST_Extent(ST_MakeEnvelope((c->'bbox'->>0)::float8, (c->'bbox'->>1)::float8,
                                         (c->'bbox'->>2)::float8, (c->'bbox'->>3)::float8, 4326))::geometry
        INTO all_box FROM jsonb_array_elements(changed) AS c;
        PERFORM pg_notify('geo_changes', jsonb_build_object(
            'layer', layer, 'id', NULL, 'action', action, 'count', feature_count,
            'bbox', jsonb_build_array(ST_XMin(all_box), ST_YMin(all_box), ST_XMax(all_box), ST_YMax(all_box)))::text);
    END IF;
END;
$$;

-- Many features changed (an import, a bulk edit): every cached tile of the layer, widened by the buffer, is
-- tested against all the boxes at once (one collected geometry, EPSG:3857, prepared once by PostGIS): the
-- same tiles as the ranges above, found without a probe per feature and zoom. One notice for them all.
CREATE OR REPLACE FUNCTION tiles_many_features_changed(layer text, action text, feature_count integer,
                                                       area geometry, all_box geometry)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tiles_layergeneration SET generation = generation + 1 WHERE tiles_layergeneration.layer = $1;
    DELETE FROM tiles_tile AS t
    WHERE t.layer = $1 AND ST_Intersects(ST_TileEnvelope(t.z, t.x, t.y, margin => 256.0 / 4096.0), area);
    PERFORM pg_notify('geo_changes', jsonb_build_object(
        'layer', layer, 'id', NULL, 'action', action, 'count', feature_count,
        'bbox', jsonb_build_array(ST_XMin(all_box), ST_YMin(all_box), ST_XMax(all_box), ST_YMax(all_box)))::text);
END;
$$;

-- The statement-level trigger of a layer's table: TG_ARGV = (layer, geometry column).
CREATE OR REPLACE FUNCTION tiles_layer_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source text;
    changed jsonb;
    feature_count integer;
    area geometry;
    all_box geometry;
BEGIN
    IF TG_OP = 'INSERT' THEN
        source := format('SELECT id, %I AS g FROM new_rows', TG_ARGV[1]);
    ELSIF TG_OP = 'DELETE' THEN
        source := format('SELECT id, %I AS g FROM old_rows', TG_ARGV[1]);
    ELSE
        source := format('SELECT id, %1$I AS g FROM new_rows UNION ALL SELECT id, %1$I AS g FROM old_rows', TG_ARGV[1]);
    END IF;
    -- One pass over the changed rows: how many features, and (for many) all their boxes in EPSG:3857.
    EXECUTE format(
        'SELECT count(DISTINCT id), CASE WHEN count(*) > 50 THEN ST_Collect(ST_Transform(ST_ClipByBox2D('
        'ST_Envelope(g), ST_MakeEnvelope(-180, -85.0511287798, 180, 85.0511287798)), 3857)) END, '
        'ST_Extent(g)::geometry FROM (%s) AS s WHERE g IS NOT NULL', source)
    INTO feature_count, area, all_box;
    IF feature_count > 50 THEN
        -- An import or a bulk edit: every cached tile of the layer against all the boxes at once.
        PERFORM tiles_many_features_changed(TG_ARGV[0], lower(TG_OP), feature_count, area, all_box);
        RETURN NULL;
    END IF;
    -- Per feature: the box of each version (old, new) to invalidate, and the box of both to announce.
    EXECUTE format(
        'SELECT coalesce(jsonb_agg(jsonb_build_object(''id'', id, ''boxes'', boxes, ''bbox'', jsonb_build_array('
        'ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box))) ORDER BY id), ''[]''::jsonb) '
        'FROM (SELECT id, ST_Extent(g) AS box, jsonb_agg(jsonb_build_array(ST_XMin(g), ST_YMin(g), ST_XMax(g), '
        'ST_YMax(g))) AS boxes FROM (%s) AS s WHERE g IS NOT NULL GROUP BY id) AS f', source)
    INTO changed;
    PERFORM tiles_features_changed(TG_ARGV[0], lower(TG_OP), changed);
    RETURN NULL;
END;
$$;

-- A zone regulation's label and rules are attributes of its zones: invalidate and announce those zones.
CREATE OR REPLACE FUNCTION tiles_zone_regulation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', z.id, 'bbox', box, 'boxes', jsonb_build_array(box))
                              ORDER BY z.id), '[]'::jsonb)
    INTO changed
    FROM geo_zoningzone AS z,
         LATERAL jsonb_build_array(ST_XMin(z.geom), ST_YMin(z.geom), ST_XMax(z.geom), ST_YMax(z.geom)) AS box
    WHERE z.regulation_id IN (SELECT id FROM new_rows);
    PERFORM tiles_features_changed('zoning', 'update', changed);
    RETURN NULL;
END;
$$;
"""


def create_triggers() -> str:
    statements = [FUNCTIONS]
    for table, column, layer in WATCHED:
        for action in ACTIONS:
            referencing = {
                "INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
                "DELETE": "OLD TABLE AS old_rows",
            }[action]
            statements.append(
                f"CREATE TRIGGER tiles_{action.lower()}_{layer} AFTER {action} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION tiles_layer_table_changed('{layer}', '{column}');"
            )
    statements.append(
        "CREATE TRIGGER tiles_update_zone_regulation AFTER UPDATE ON geo_zoneregulation "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_zone_regulation_changed();"
    )
    return "\n".join(statements)


def drop_triggers() -> str:
    statements = ["DROP TRIGGER IF EXISTS tiles_update_zone_regulation ON geo_zoneregulation;"]
    for table, _column, layer in WATCHED:
        for action in ACTIONS:
            statements.append(f"DROP TRIGGER IF EXISTS tiles_{action.lower()}_{layer} ON {table};")
    statements += [
        "DROP FUNCTION IF EXISTS tiles_zone_regulation_changed();",
        "DROP FUNCTION IF EXISTS tiles_layer_table_changed();",
        "DROP FUNCTION IF EXISTS tiles_features_changed(text, text, jsonb);",
        "DROP FUNCTION IF EXISTS tiles_many_features_changed(text, text, integer, geometry, geometry);",
        "DROP FUNCTION IF EXISTS tiles_tile_ranges(geometry, integer, double precision);",
    ]
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("tiles", "0001_initial"),
        ("geo", "0004_authorised_work"),
        ("permits", "0005_load_committee_catalogue"),
    ]

    operations = [migrations.RunSQL(create_triggers(), drop_triggers())]
