"""Benchmark 7: vector tiles (cold, cached) against the bare ``ST_AsMVT`` SQL, and the live-update latency.

On the 10,000-parcel dataset of ``bench/lookup.py`` (``<root>_10k``: the demo commune from ``seed_demo``,
with its authorised works, topped up with synthetic parcels):

1. Cold tile: the parcel tiles holding the most parcels at zoom 14 and 16 (the densest ``TILES_PER_ZOOM``
   of each), requested through Django's test ``Client`` in this process (URL routing, middleware, the
   catalogue, the cache look-up that misses, the one tile query, the cache write) after their cached
   copies were deleted (untimed), vs the same tile built by a hand-written ``ST_AsMVT`` query with the
   same fields and geometry through psycopg (binary results, as ours reads them). One timing is the
   whole set of tiles; contenders alternate round by round. Goal: ratio ≤ 1.3.
2. Cached tile: the same requests once the tiles are cached (``X-Tile-Cache: hit``), against the same
   bare SQL.
3. Live latency: ``uvicorn config.asgi:application`` (as ``make run`` serves it) and headless chromium on
   the public map; an authorised work's status is changed by a plain SQL ``UPDATE`` (as any writer would:
   the triggers do the rest), and the time runs from just before that statement until the map has
   received the event, reloaded the works' tiles and drawn them (``data-live-refreshed`` on the map).
   Goal: under 1 second, every time.
"""

from __future__ import annotations

from collections.abc import Callable

from bench import databases, timing
from bench.lookup import ensure_dataset, http_server
from bench.report import Row, Section

SCALE = 10_000
TILES_PER_ZOOM = 10
ZOOMS = (14, 16)
GOAL_RATIO = 1.3
LIVE_GOAL_S = 1.0
KEY = "tiles"
TITLE = "Vector tiles and live updates"

DENSEST_TILES = """
SELECT %(z)s AS z, x, y, count(*) AS n FROM (
    SELECT floor((ST_X(c) + 20037508.342789244) / s)::int AS x, floor((20037508.342789244 - ST_Y(c)) / s)::int AS y
    FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 3857) AS c, 2 * 20037508.342789244 / (1 << %(z)s) AS s
          FROM geo_parcel) AS p
) AS t GROUP BY x, y ORDER BY n DESC, x, y LIMIT %(limit)s
"""

# The parcels' tile written by hand: what tiles.vector builds for the layer at each zoom.
BARE_SQL = {
    14: """
SELECT ST_AsMVT(t.*, 'parcels', 4096, 'mvt_geom', 'mvt_fid') FROM (
    SELECT p.id AS mvt_fid, p.reference,
           ST_AsMVTGeom(ST_Transform(p.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 256, true) AS mvt_geom
    FROM geo_parcel p
    WHERE p.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 0.0625), 4326)
) AS t WHERE t.mvt_geom IS NOT NULL
""",
    16: """
SELECT ST_AsMVT(t.*, 'parcels', 4096, 'mvt_geom', 'mvt_fid') FROM (
    SELECT p.id AS mvt_fid, p.reference, c.code AS commune_code, p.area_m2, p.updated_at,
           ST_AsMVTGeom(ST_Transform(p.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 256, true) AS mvt_geom
    FROM geo_parcel p LEFT JOIN geo_adminarea c ON c.id = p.commune_id
    WHERE p.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 0.0625), 4326)
) AS t WHERE t.mvt_geom IS NOT NULL
""",
}


def densest_tiles(conn) -> list[tuple[int, int, int, int]]:
    tiles = []
    for z in ZOOMS:
        tiles += conn.execute(DENSEST_TILES, {"z": z, "limit": TILES_PER_ZOOM}).fetchall()
    return tiles


def run(*, root: str, quick: bool, scales: list[int], log: Callable[[str], None]) -> list[Section]:
    from django.test import Client

    dbname = ensure_dataset(root=root, count=SCALE, log=log)
    rounds = 3 if quick else 15
    load_before = timing.load_average()
    with databases.django_database(dbname), databases.connect(dbname) as conn:
        tiles = densest_tiles(conn)
        features = sum(row[3] for row in tiles)
        client = Client(SERVER_NAME="127.0.0.1")
        sizes: dict[str, int] = {}

        def ours(expect: str) -> float:
            started = timing.now()
            for z, x, y, _n in tiles:
                response = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf")
                assert response.status_code == 200 and response["X-Tile-Cache"] == expect, response.status_code
                sizes[f"{z}/{x}/{y}"] = len(response.content)
            return timing.now() - started

        def ours_cold() -> float:
            conn.execute("DELETE FROM tiles_tile WHERE layer = 'parcels'")
            return ours("miss")

        def ours_cached() -> float:
            for z, x, y, _n in tiles:  # untimed: make sure every tile is cached
                client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf")
            return ours("hit")

        def bare_sql() -> float:
            started = timing.now()
            for z, x, y, _n in tiles:
                data = conn.execute(BARE_SQL[z], {"z": z, "x": x, "y": y}, binary=True).fetchone()[0]
                assert data
            return timing.now() - started

        log(f"tiles: {len(tiles)} parcel tiles ({features:,} parcels) on {dbname}; warm-up")
        ours_cold()
        bare_sql()
        log(f"tiles: {rounds} interleaved rounds")
        result = timing.interleave(rounds, {"cold": ours_cold, "cached": ours_cached, "bare SQL": bare_sql}, log=log)
        with http_server(dbname, log=log) as port:
            latencies, live_note = _live_latency(conn, port, rounds=3 if quick else 10, log=log)
    medians = result.medians()
    per_tile = {name: value / len(tiles) for name, value in medians.items()}
    cold_ratio = result.ratio("cold", "bare SQL")
    cached_ratio = result.ratio("cached", "bare SQL")
    rows = [
        Row(
            benchmark=f"Cold vector tile ({len(tiles)} parcel tiles, z{ZOOMS[0]} and z{ZOOMS[1]}), per tile",
            ours=timing.milliseconds(per_tile["cold"]),
            peer=f"{timing.milliseconds(per_tile['bare SQL'])} (bare ST_AsMVT SQL)",
            ratio=cold_ratio,
            goal=f"≤ {GOAL_RATIO}",
            met=cold_ratio <= GOAL_RATIO,
        ),
        Row(
            benchmark="Cached vector tile, per tile",
            ours=timing.milliseconds(per_tile["cached"]),
            peer=f"{timing.milliseconds(per_tile['bare SQL'])} (bare ST_AsMVT SQL)",
            ratio=cached_ratio,
            goal="faster than the bare SQL",
            met=cached_ratio < 1,
        ),
    ]
    raw = {
        "tiles": [list(row) for row in tiles],
        "bytes": sizes,
        "rounds_s": result.times,
        "live_latency_s": latencies,
        "load_before": load_before,
        "load_after": timing.load_average(),
    }
    if latencies:
        rows.append(
            Row(
                benchmark=f"Live update: SQL change → open map redrawn ({len(latencies)} changes), median / max",
                ours=f"{timing.milliseconds(timing.median(latencies))} / {timing.milliseconds(max(latencies))}",
                peer="—",
                ratio=None,
                goal=f"< {LIVE_GOAL_S:g} s every time",
                met=max(latencies) < LIVE_GOAL_S,
            )
        )
    details = "\n".join(
        [
            f"- Tiles: {', '.join(f'{z}/{x}/{y} ({n} parcels)' for z, x, y, n in tiles)}.",
            f"- Tile sizes: {min(sizes.values()):,}–{max(sizes.values()):,} bytes.",
            f"- Whole set, per round: cold {timing.raw_list(result.times['cold'])}; cached "
            f"{timing.raw_list(result.times['cached'])}; bare SQL {timing.raw_list(result.times['bare SQL'])}.",
            f"- Live latencies: {timing.raw_list(latencies) if latencies else live_note}.",
            f"- Load average before: {load_before}; after: {raw['load_after']}.",
        ]
    )
    method = __doc__.split("\n\n", 1)[1].strip()
    return [Section(key=KEY, title=TITLE, rows=rows, method=method, details=details, raw=raw, quick=quick)]


def _live_latency(conn, port: int, *, rounds: int, log: Callable[[str], None]) -> tuple[list[float], str]:
    """Seconds from an ``UPDATE`` of an authorised work to the open map having redrawn it, per change."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [], "not measured: playwright is not installed"
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        return [], f"not measured: {CHROMIUM} is absent"
    row = conn.execute("SELECT id, status FROM geo_authorisedwork ORDER BY id LIMIT 1").fetchone()
    if row is None:
        return [], "not measured: no authorised work in the dataset"
    work_id, status = row
    latencies: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(30_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => document.getElementById('map').dataset.live === 'open'")
            page.wait_for_function("() => Number(document.getElementById('map').dataset.workCount || 0) > 0")
            for index in range(rounds):
                new_status = "withdrawn" if index % 2 == 0 else status
                started = timing.now()
                conn.execute("UPDATE geo_authorisedwork SET status = %s WHERE id = %s", [new_status, work_id])
                page.wait_for_function(
                    f"() => Number(document.getElementById('map').dataset.liveRefreshed || 0) >= {index + 1}"
                )
                latencies.append(timing.now() - started)
                log(f"  live change {index + 1}/{rounds}: {latencies[-1] * 1000:.0f} ms")
                page.wait_for_timeout(300)
        finally:
            browser.close()
            conn.execute("UPDATE geo_authorisedwork SET status = %s WHERE id = %s", [status, work_id])
    return latencies, ""
