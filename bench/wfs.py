"""Benchmark 6: the WFS (``/wfs``, django-gisserver) against MapServer 8's WFS and against bare SQL.

1. GetFeature of 50,000 authorised works, GeoJSON and GML 3.2, over HTTP from ``uvicorn config.asgi:application``
   (as ``make run`` serves it), vs MapServer's ``mapserv`` CGI binary run as a subprocess on the same table
   (mapfile written to ``var/bench/wfs.map`` at run time), vs one ``COPY (SELECT json_build_object(…)) TO STDOUT``
   producing the same features as JSON (psycopg). The works live in the scratch database ``<root>_wfs``
   (created once: one commune, 50,000 works on a grid near Casablanca, ``ANALYZE``).
2. A WFS bbox page (COUNT=100, GeoJSON) at 10,000 and at 1,000,000 parcels (the lookup datasets of
   :mod:`bench.lookup`, ``<root>_10k`` and ``<root>_1m``).
3. The server's memory while one GetFeature streams all parcels of the largest dataset as GeoJSON:
   peak resident set (``VmHWM``) of the uvicorn process minus its resident set before the request.

Each timing is one full download (status checked, every byte read). Contenders alternate round by round.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from bench import databases, timing
from bench.lookup import ensure_dataset, http_server
from bench.report import Row, Section

WORKS = 50_000
COMMUNE_CODE = "BENCH-WFS"
MAPFILE = databases.REPO / "var" / "bench" / "wfs.map"
# MapServer 8 refuses to start without a configuration file naming the mapfiles it may open.
MAPSERVER_CONFIG = databases.REPO / "var" / "bench" / "mapserver.conf"
MAPSERV = shutil.which("mapserv")
MEMORY_GOAL_MIB = 200

# The features of GetFeature as one JSON document per work (the same properties and geometry as the WFS).
SQL_JSON = """
COPY (
    SELECT json_build_object(
        'type', 'Feature',
        'id', 'authorised_works.' || w.id,
        'geometry', ST_AsGeoJSON(w.geom, 15)::json,
        'properties', json_build_object(
            'reference', w.reference, 'procedure_code', w.procedure_code, 'procedure_name', w.procedure_name,
            'commune_code', c.code, 'commune_name', c.name_fr, 'decision_date', w.decision_date,
            'floors', w.floors, 'use', w.use, 'built_area_m2', w.built_area_m2, 'dwellings', w.dwellings,
            'status', w.status, 'verification_code', w.verification_code, 'updated_at', w.updated_at
        )
    )
    FROM geo_authorisedwork w JOIN geo_adminarea c ON c.id = w.commune_id
    ORDER BY w.id
) TO STDOUT
"""

FILL_WORKS = """
INSERT INTO geo_authorisedwork (reference, procedure_code, procedure_name, commune_id, decision_date, floors, use,
                                built_area_m2, dwellings, status, verification_code, geom, updated_at)
SELECT 'BENCH-' || lpad(i::text, 6, '0'), 'permis-construire', 'Permis de construire', %(commune)s,
       DATE '2020-01-01' + (i %% 1800), 1 + i %% 6, (ARRAY['housing', 'commercial', 'industrial'])[1 + i %% 3],
       80 + (i %% 900), i %% 12, (ARRAY['authorised', 'deemed_approved', 'lapsed', 'withdrawn'])[1 + i %% 4],
       md5(i::text), ST_Multi(ST_Rotate(ST_MakeEnvelope(x, y, x + 0.00018, y + 0.00012, 4326), 0.2,
                                         ST_MakePoint(x, y))), now()
FROM generate_series(1, %(count)s) AS i,
     LATERAL (SELECT -7.70 + (i %% 250) * 0.0004 AS x, 33.50 + (i / 250) * 0.0004 AS y) AS grid
"""


def works_database(root: str, *, log: Callable[[str], None]) -> str:
    """``<root>_wfs`` with exactly ``WORKS`` authorised works (built once)."""
    dbname = f"{root}_wfs"
    databases.ensure_database(dbname, log=log)
    with databases.connect(dbname) as conn:
        have = conn.execute("SELECT count(*) FROM geo_authorisedwork").fetchone()[0]
        if have == WORKS:
            log(f"wfs: {dbname} already holds {WORKS:,} authorised works: reused")
            return dbname
        log(f"wfs: {dbname}: writing {WORKS:,} authorised works")
        conn.execute("DELETE FROM geo_authorisedwork")
        conn.execute("DELETE FROM geo_adminarea WHERE code = %s", [COMMUNE_CODE])
        commune = conn.execute(
            "INSERT INTO geo_adminarea (level, code, name_fr, name_ar, projected_srid, geom, updated_at) "
            "VALUES ('commune', %s, 'Commune du banc d''essai', 'جماعة', 26191, "
            "ST_Multi(ST_MakeEnvelope(-7.71, 33.49, -7.59, 33.59, 4326)), now()) RETURNING id",
            [COMMUNE_CODE],
        ).fetchone()[0]
        conn.execute(FILL_WORKS, {"commune": commune, "count": WORKS})
        conn.execute("ANALYZE")
    return dbname


def _conninfo(dbname: str) -> str:
    return " ".join(f"{key}={value}" for key, value in databases.connection_params(dbname).items())


def write_mapfile(dbname: str) -> Path:
    """A MapServer 8 mapfile publishing ``geo_authorisedwork`` with the same attributes as our WFS."""
    MAPFILE.parent.mkdir(parents=True, exist_ok=True)
    MAPSERVER_CONFIG.write_text(f'CONFIG\n  ENV\n    MS_MAP_PATTERN "^{MAPFILE.parent}/"\n  END\nEND\n')
    data = (
        "geom FROM (SELECT w.id, w.reference, w.procedure_code, w.procedure_name, c.code AS commune_code, "
        "c.name_fr AS commune_name, w.decision_date, w.floors, w.use, w.built_area_m2, w.dwellings, w.status, "
        "w.verification_code, w.updated_at, w.geom FROM geo_authorisedwork w "
        "JOIN geo_adminarea c ON c.id = w.commune_id) AS works USING UNIQUE id USING SRID=4326"
    )
    MAPFILE.write_text(
        f"""MAP
  NAME "taamir_bench"
  EXTENT -180 -90 180 90
  PROJECTION "init=epsg:4326" END
  WEB
    METADATA
      "wfs_title" "Taamir benchmark peer"
      "wfs_onlineresource" "http://127.0.0.1/cgi-bin/mapserv?map={MAPFILE}&"
      "wfs_srs" "EPSG:4326"
      "wfs_enable_request" "*"
      "wfs_getfeature_formatlist" "geojson"
      "wfs_maxfeatures" "1000000"
    END
  END
  OUTPUTFORMAT
    NAME "geojson"
    DRIVER "OGR/GEOJSON"
    MIMETYPE "application/json; subtype=geojson"
    FORMATOPTION "STORAGE=stream"
    FORMATOPTION "FORM=SIMPLE"
  END
  LAYER
    NAME "authorised_works"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{_conninfo(dbname)}"
    DATA "{data}"
    PROJECTION "init=epsg:4326" END
    METADATA
      "wfs_title" "authorised_works"
      "gml_include_items" "all"
      "gml_exclude_items" "id"
      "gml_featureid" "id"
      "gml_types" "auto"
      "wfs_enable_request" "*"
    END
  END
END
"""
    )
    return MAPFILE


def mapserver_get(query: dict) -> tuple[float, int]:
    """Seconds and bytes of one ``mapserv`` run answering ``query``."""
    query_string = urlencode({"map": str(MAPFILE), **query})
    start = timing.now()
    completed = subprocess.run(
        [MAPSERV, "-nh", f"QUERY_STRING={query_string}"],
        capture_output=True,
        check=False,
        cwd=MAPFILE.parent,
        env={**os.environ, "MAPSERVER_CONFIG_FILE": str(MAPSERVER_CONFIG)},
    )
    elapsed = timing.now() - start
    head = completed.stdout[:2000]
    if completed.returncode != 0 or b"ExceptionReport" in head or b"MapServer Message" in head:
        raise RuntimeError(f"mapserv failed: {completed.stderr.decode()[:500]} {completed.stdout[:500]!r}")
    return elapsed, len(completed.stdout)


def http_get(port: int, path: str) -> tuple[float, int]:
    """Seconds and bytes of one GET on 127.0.0.1 (a fresh connection, every byte read)."""
    start = timing.now()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path)
    response = conn.getresponse()
    size = 0
    while chunk := response.read(1 << 16):
        size += len(chunk)
    conn.close()
    elapsed = timing.now() - start
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    return elapsed, size


def sql_json(dbname: str) -> tuple[float, int]:
    start = timing.now()
    size = 0
    with databases.connect(dbname) as conn, conn.cursor() as cursor, cursor.copy(SQL_JSON) as copy:
        for block in copy:
            size += len(block)
    return timing.now() - start, size


def _wfs_path(**params) -> str:
    return "/wfs?" + urlencode({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", **params})


def _rss_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not found for pid {pid}")


def _server_pid(port: int) -> int:
    """The pid of the process listening on ``port`` (uvicorn with one worker serves in-process)."""
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


def run(*, root: str, quick: bool, scales: list[int], log: Callable[[str], None]) -> list[Section]:
    rounds = 1 if quick else 3
    dbname = works_database(root, log=log)
    sections = [_getfeature_section(dbname, rounds=rounds, log=log)]
    datasets = {count: ensure_dataset(root=root, count=count, log=log) for count in sorted(scales)}
    sections.append(_bbox_section(datasets, rounds=rounds, log=log))
    sections.append(_memory_section(max(datasets), datasets[max(datasets)], log=log))
    return sections


def _getfeature_section(dbname: str, *, rounds: int, log: Callable[[str], None]) -> Section:
    title = f"WFS GetFeature of {WORKS:,} authorised works: django-gisserver vs MapServer 8 vs bare SQL"
    if MAPSERV is None:
        return Section.not_measured("wfs", title, "skipped: mapserv is not installed (apt-get install mapserver-bin)")
    write_mapfile(dbname)
    load_before = timing.load_average()
    sizes: dict[str, int] = {}
    geojson_path = _wfs_path(TYPENAMES="authorised_works", OUTPUTFORMAT="geojson")
    gml_path = _wfs_path(TYPENAMES="authorised_works", COUNT=WORKS)
    ms_query = {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "authorised_works"}

    with http_server(dbname, log=log) as port:

        def measured(name: str, call: Callable[[], tuple[float, int]]) -> Callable[[], float]:
            def contender() -> float:
                seconds, size = call()
                sizes[name] = size
                return seconds

            return contender

        contenders = {
            "wfs-geojson": measured("wfs-geojson", lambda: http_get(port, geojson_path)),
            "wfs-gml": measured("wfs-gml", lambda: http_get(port, gml_path)),
            "mapserver-geojson": measured(
                "mapserver-geojson", lambda: mapserver_get({**ms_query, "OUTPUTFORMAT": "geojson"})
            ),
            "mapserver-gml": measured("mapserver-gml", lambda: mapserver_get(ms_query)),
            "sql-json": measured("sql-json", lambda: sql_json(dbname)),
        }  # fmt: skip
        log("wfs: warm-up (one untimed call each)")
        for contender in contenders.values():
            contender()
        result = timing.interleave(rounds, contenders, log=log)
    medians = result.medians()

    def ratio_row(label: str, ours: str, peer: str, goal: float) -> Row:
        ratio = medians[ours] / medians[peer]
        return Row(
            benchmark=label,
            ours=timing.seconds(medians[ours]),
            peer=timing.seconds(medians[peer]),
            ratio=ratio,
            goal=f"≤ {goal}×",
            met=ratio <= goal,
        )

    rows = [
        ratio_row(
            f"WFS GetFeature {WORKS:,} works, GeoJSON: ours vs MapServer 8", "wfs-geojson", "mapserver-geojson", 0.5
        ),
        ratio_row(f"WFS GetFeature {WORKS:,} works, GML 3.2: ours vs MapServer 8", "wfs-gml", "mapserver-gml", 0.5),
        ratio_row(f"WFS GetFeature {WORKS:,} works, GeoJSON: ours vs bare SQL JSON", "wfs-geojson", "sql-json", 3),
        ratio_row(f"WFS GetFeature {WORKS:,} works, GML 3.2: ours vs bare SQL JSON", "wfs-gml", "sql-json", 3),
    ]  # fmt: skip
    lines = "\n".join(
        f"| {name} | {timing.seconds(medians[name])} | {sizes[name] / 1024 / 1024:.1f} MiB | "
        f"{timing.raw_list(result.times[name])} |"
        for name in result.names
    )
    details = f"""
| contender | median | bytes | every round (s) |
| --- | --- | --- | --- |
{lines}

`wfs-*`: `GET /wfs?…&REQUEST=GetFeature&TYPENAMES=authorised_works` (`OUTPUTFORMAT=geojson`, or GML 3.2 with
`COUNT={WORKS}`) from uvicorn on 127.0.0.1, one worker, a new connection per request. `mapserver-*`:
`mapserv -nh "QUERY_STRING=map=var/bench/wfs.map&…"` (the CGI binary, one process per request, as CGI serves
it), the same table and attributes through a PostGIS `DATA` sub-query joining the commune. `sql-json`: one
`COPY (SELECT json_build_object('type','Feature',…, ST_AsGeoJSON(geom, 15)::json, …)) TO STDOUT` read
through psycopg — the features' JSON without any HTTP.
""".strip()
    method = f"""
{rounds} round(s) after one untimed warm-up call each, the five contenders alternating (ABBA); the figures are
medians of full downloads. Ratio = our median / the peer's median. Load average before: {load_before}, after:
{timing.load_average()}.
""".strip()
    return Section(
        key="wfs",
        title=title,
        rows=rows,
        method=method,
        details=details,
        raw={"times": result.times, "bytes": sizes},
    )


def _bbox_section(datasets: dict[int, str], *, rounds: int, log: Callable[[str], None]) -> Section:
    from etl.demo import DEMO_COMMUNE_CODE

    calls = 10 if rounds == 1 else 40
    medians: dict[int, float] = {}
    raw: dict[str, list[float]] = {}
    matched: dict[int, int] = {}
    for count, dbname in datasets.items():
        with databases.connect(dbname) as conn:
            x, y = conn.execute(
                "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM geo_adminarea WHERE code = %s",
                [DEMO_COMMUNE_CODE],
            ).fetchone()
            # A map window of about 400 m around the demo commune's centre: a page of parcels at both scales.
            box = (y - 0.002, x - 0.002, y + 0.002, x + 0.002)
            matched[count] = conn.execute(
                "SELECT count(*) FROM geo_parcel WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                [box[1], box[0], box[3], box[2]],
            ).fetchone()[0]
        path = _wfs_path(
            TYPENAMES="parcels",
            OUTPUTFORMAT="geojson",
            COUNT=100,
            BBOX=",".join(f"{v:.6f}" for v in box) + ",urn:ogc:def:crs:EPSG::4326",
        )
        with http_server(dbname, log=log) as port:
            http_get(port, path)
            times = [http_get(port, path)[0] for _ in range(calls)]
        medians[count] = timing.median(times)
        raw[str(count)] = times
        log(f"wfs: bbox page at {count:,} parcels: median {timing.seconds(medians[count])}")
    small, large = min(medians), max(medians)
    ratio = medians[large] / medians[small]
    rows = [
        Row(
            benchmark=f"WFS bbox page (COUNT=100, GeoJSON): {large:,} vs {small:,} parcels",
            ours=timing.seconds(medians[large]),
            peer=timing.seconds(medians[small]),
            ratio=ratio,
            goal="≤ 2× (index-bound)",
            met=ratio <= 2,
        )
    ]
    details = "\n".join(
        f"- {count:,} parcels: {matched[count]:,} in the box, median {timing.seconds(medians[count])} over "
        f"{calls} calls"
        for count in medians
    )
    return Section(
        key="wfs-bbox",
        title="WFS bbox page at growing table sizes",
        rows=rows,
        method=f"{calls} sequential GetFeature calls per scale after one warm-up, from uvicorn on 127.0.0.1; "
        "the peer column is the smaller dataset. The page also counts numberMatched in the box.",
        details=details,
        raw={"times": raw, "matched": matched},
    )


def _memory_section(count: int, dbname: str, *, log: Callable[[str], None]) -> Section:
    path = _wfs_path(TYPENAMES="parcels", OUTPUTFORMAT="geojson")
    with http_server(dbname, log=log) as port:
        pid = _server_pid(port)
        http_get(port, _wfs_path(TYPENAMES="parcels", OUTPUTFORMAT="geojson", COUNT=10))
        before = _rss_kib(pid, "VmRSS")
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(_rss_kib(pid, "VmRSS"))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        seconds, size = http_get(port, path)
        stop.set()
        sampler.join()
        peak = _rss_kib(pid, "VmHWM")
    growth_mib = (peak - before) / 1024
    log(f"wfs: streamed {size / 1024 / 1024:.0f} MiB in {seconds:.1f} s; RSS {before} KiB → peak {peak} KiB")
    rows = [
        Row(
            benchmark=f"Server memory while the WFS streams all {count:,} parcels as GeoJSON (peak RSS growth)",
            ours=f"+{growth_mib:.0f} MiB ({size / 1024 / 1024:.0f} MiB in {timing.seconds(seconds)})",
            peer="—",
            ratio=None,
            goal=f"< +{MEMORY_GOAL_MIB} MB",
            met=growth_mib * 1024 * 1024 < MEMORY_GOAL_MIB * 1_000_000,
        )
    ]
    trace = ", ".join(f"{s / 1024:.0f}" for s in samples[:: max(1, len(samples) // 30)])
    return Section(
        key="wfs-memory",
        title=f"WFS memory while streaming {count:,} parcels",
        rows=rows,
        method="One GetFeature without COUNT (GeoJSON streams every match) to uvicorn serving the dataset; "
        "growth = the process's VmHWM after the download minus its VmRSS after a 10-feature warm-up call "
        "(both from /proc/<pid>/status).",
        details=f"Resident set sampled every 0.5 s during the download (MiB): {trace}",
        raw={"before_kib": before, "peak_kib": peak, "bytes": size, "seconds": seconds, "samples_kib": samples},
    )
