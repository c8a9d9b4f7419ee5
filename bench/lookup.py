"""Benchmark 2: finding the parcel under a point through the API vs bare SQL, at 10,000 and 1,000,000 parcels.

Each scale has its own cached dataset (``<root>_10k``, ``<root>_1m``): the demo commune (``seed_demo``,
about 5,000 parcels with zoning and servitudes) topped up with synthetic parcels (``generate_parcels``)
to the count, then ``ANALYZE``. A dataset that already holds at least the count is reused as it is.

Points are the ``ST_PointOnSurface`` of parcels drawn at random (fixed seed; half of them under zoning
rules, at every scale), so every lookup hits a parcel. For each point, in rotating order, four
contenders answer, on the same database:

- ``api``: ``GET /api/parcels/?lon=…&lat=…`` through Django's test ``Client`` in this process (the whole
  Django stack: middleware, DRF view, serializer, JSON rendering; no socket, no HTTP parsing);
- ``api-http``: the same request over a kept-alive HTTP/1.1 connection to a real server on 127.0.0.1,
  started as ``make run`` starts it (``uvicorn config.asgi:application``, one worker here);
- ``sql-pip``: the bare point-in-polygon query through psycopg (id, reference, area and GeoJSON geometry
  of the parcels that contain the point);
- ``sql-json``: one SQL statement through psycopg returning the same content as the API, as JSON text:
  the FeatureCollection with each parcel's commune, zoning rules (with their shares) and constraints.

Ratio = median API latency / median SQL latency over every call of every round.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from bench import databases, timing
from bench.report import Row, Section

SEED = 20240314
# The bare point-in-polygon query: the parcels containing the point, with their geometry.
SQL_PIP = """
SELECT p.id, p.reference, p.area_m2, ST_AsGeoJSON(p.geom)
FROM geo_parcel p
WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY p.reference_key
LIMIT 21
"""

# The same content as ``GET /api/parcels/?lon=&lat=``, built by PostgreSQL as one JSON text.
SQL_JSON = """
WITH hits AS (
    SELECT p.id, p.reference, p.reference_key, p.area_m2, p.area_srid, p.geom, p.commune_id
    FROM geo_parcel p
    WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
    ORDER BY p.reference_key
    LIMIT 21
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'id', h.id,
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(h.geom)::json,
        'properties', json_build_object(
            'reference', h.reference,
            'area_m2', round(h.area_m2::numeric, 2),
            'area_srid', h.area_srid,
            'commune', (
                SELECT json_build_object('code', c.code, 'name_fr', c.name_fr, 'name_ar', c.name_ar)
                FROM geo_adminarea c WHERE c.id = h.commune_id
            ),
            'zoning', COALESCE((
                SELECT json_agg(json_build_object(
                    'plan', pl.code, 'plan_name', pl.name, 'zone_code', r.zone_code, 'label', r.label,
                    'max_height_m', r.max_height_m, 'max_floors', r.max_floors,
                    'coverage_ratio', r.coverage_ratio, 'floor_area_ratio', r.floor_area_ratio,
                    'min_setback_m', r.min_setback_m, 'allowed_uses', r.allowed_uses,
                    'share', round(z.share::numeric, 4)
                ) ORDER BY z.share DESC, r.zone_code)
                FROM (
                    SELECT zz.plan_id, zz.regulation_id,
                        ST_Area(ST_Intersection(zz.geom, h.geom)) / NULLIF(ST_Area(h.geom), 0) AS share
                    FROM geo_zoningzone zz
                    WHERE ST_Intersects(zz.geom, h.geom)
                    OFFSET 0
                ) z
                JOIN geo_zoningplan pl ON pl.id = z.plan_id
                JOIN geo_zoneregulation r ON r.id = z.regulation_id
                WHERE z.share >= %(min_share)s
            ), '[]'::json),
            'constraints', COALESCE((
                SELECT json_agg(json_build_object('id', a.id, 'kind', a.kind, 'name', a.name)
                    ORDER BY a.kind, a.source_key)
                FROM geo_constraintarea a WHERE ST_Intersects(a.geom, h.geom)
            ), '[]'::json)
        )
    ) ORDER BY h.reference_key), '[]'::json),
    'numberReturned', count(h.id),
    'numberMatched', count(h.id)
)::text
FROM hits h
"""

CONTENDERS = ("api", "api-http", "sql-pip", "sql-json")
LABELS = {
    "api": "API `GET /api/parcels/?lon=&lat=` (test Client)",
    "api-http": "API over HTTP (uvicorn, 127.0.0.1)",
    "sql-pip": "bare SQL point-in-polygon (psycopg)",
    "sql-json": "bare SQL, same content as JSON (psycopg)",
}


def parcel_count(dbname: str) -> int:
    with databases.connect(dbname) as conn:
        return conn.execute("SELECT count(*) FROM geo_parcel").fetchone()[0]


def ensure_dataset(*, root: str, count: int, log: Callable[[str], None]) -> str:
    """The database of the ``count``-parcel dataset, built when it holds fewer parcels than that."""
    from etl.demo import DEMO_COMMUNE_CODE

    dbname = databases.dataset_database(root, count)
    databases.ensure_database(dbname, log=log)
    have = parcel_count(dbname)
    if have >= count:
        log(f"lookup: {dbname} already holds {have:,} parcels (≥ {count:,}): reused")
    else:
        with databases.connect(dbname) as conn:
            demo = conn.execute("SELECT 1 FROM geo_adminarea WHERE code = %s", [DEMO_COMMUNE_CODE]).fetchone()
        if not demo:
            log(f"lookup: {dbname}: seed_demo")
            databases.manage(dbname, "seed_demo")
            have = parcel_count(dbname)
        if have < count:
            log(f"lookup: {dbname}: generate_parcels --count {count - have} (takes minutes for a million)")
            databases.manage(dbname, "generate_parcels", "--count", str(count - have))
    with databases.connect(dbname) as conn:
        conn.execute("ANALYZE")
    return dbname


def sample_points(dbname: str, count: int) -> list[tuple[int, float, float, bool]]:
    """``count`` points inside parcels drawn at random (fixed seed): (parcel id, lon, lat, under zoning).

    Half the points fall in parcels under zoning rules (the demo commune's), half in the others, at
    every scale: drawn from the whole table, a million parcels would leave almost none of the first
    kind, and the lookups would never return rules.
    """
    rng = random.Random(SEED)
    with databases.connect(dbname) as conn:
        zoned = sorted(
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT p.id FROM geo_zoningzone z JOIN geo_parcel p ON ST_Intersects(p.geom, z.geom)"
            )
        )
        low, high = conn.execute("SELECT min(id), max(id) FROM geo_parcel").fetchone()
        chosen = rng.sample(zoned, min(len(zoned), count // 2))
        zoned_set = set(zoned)
        others = [i for i in rng.sample(range(low, high + 1), min(high - low + 1, count * 2)) if i not in zoned_set]
        rows = conn.execute(
            "SELECT p.id, ST_X(s.pt), ST_Y(s.pt) FROM geo_parcel p CROSS JOIN LATERAL ST_PointOnSurface(p.geom) s(pt) "
            "WHERE p.id = ANY(%s)",
            [chosen + others],
        ).fetchall()
    by_id = {row[0]: row for row in rows}
    picked = [i for i in chosen if i in by_id]
    picked += [i for i in others if i in by_id][: count - len(picked)]
    rng.shuffle(picked)
    return [(i, by_id[i][1], by_id[i][2], i in zoned_set) for i in picked]


def _plan_lines(plan_text: str) -> list[str]:
    """The scan nodes of a plan (which table, which index)."""
    keep = ("Scan", "Index Cond")
    return [line.strip().lstrip("-> ").strip() for line in plan_text.splitlines() if any(k in line for k in keep)]


def explain_all(dbname: str, lon: float, lat: float) -> dict[str, list[str]]:
    """The scan nodes of each contender's plan for one point."""
    from geo import selectors

    plans = {"api": _plan_lines(selectors.parcel_list_at_point(x=lon, y=lat)[:21].explain())}
    params = {"lon": lon, "lat": lat, "min_share": selectors.MIN_ZONE_SHARE}
    with databases.connect(dbname) as conn:
        for name, statement in (("sql-pip", SQL_PIP), ("sql-json", SQL_JSON)):
            text = "\n".join(r[0] for r in conn.execute("EXPLAIN " + statement, params).fetchall())
            plans[name] = _plan_lines(text)
    return plans


def _summary(features: list[dict]) -> list[tuple]:
    """What must agree between the API and the SQL peer: ids, zones with shares, constraint ids."""
    out = []
    for feature in features:
        props = feature["properties"]
        zones = tuple((z["zone_code"], round(float(z["share"]), 4)) for z in props["zoning"])
        constraints = tuple(c["id"] for c in props["constraints"])
        commune = (props["commune"] or {}).get("code")
        out.append((feature["id"], props["reference"], commune, zones, constraints))
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def http_server(dbname: str, *, log: Callable[[str], None]) -> Iterator[int]:
    """``uvicorn config.asgi:application`` on a free port of 127.0.0.1, serving ``dbname``; yields the port."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, cwd=databases.REPO, env=databases.subprocess_env(dbname))
    try:
        while True:  # until it listens, or exits
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {server.returncode} before listening on port {port}")
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except ConnectionRefusedError:
                time.sleep(0.2)
        log(f"lookup: uvicorn serving {dbname} on 127.0.0.1:{port} (pid {server.pid})")
        yield port
    finally:
        server.terminate()
        server.wait()


def run(*, root: str, count: int, points: int, rounds: int, log: Callable[[str], None]) -> Section:
    from django.test import Client

    from geo import selectors

    dbname = ensure_dataset(root=root, count=count, log=log)
    total = parcel_count(dbname)
    sample = sample_points(dbname, points)
    zoned = sum(1 for s in sample if s[3])
    load_before = timing.load_average()
    params_extra = {"min_share": selectors.MIN_ZONE_SHARE}
    times: dict[str, list[list[float]]] = {name: [] for name in CONTENDERS}
    mismatches: list[str] = []
    misses = 0
    with (
        databases.django_database(dbname),
        databases.connect(dbname) as conn,
        http_server(dbname, log=log) as port,
    ):
        plans = explain_all(dbname, sample[0][1], sample[0][2])
        client = Client(SERVER_NAME="127.0.0.1")
        connection_http = http.client.HTTPConnection("127.0.0.1", port)
        cursor = conn.cursor()
        last_body: dict[str, object] = {}

        def api(lon: float, lat: float) -> float:
            started = timing.now()
            response = client.get("/api/parcels/", {"lon": lon, "lat": lat}, HTTP_ACCEPT="application/json")
            body = response.content
            elapsed = timing.now() - started
            if response.status_code != 200:
                raise RuntimeError(f"GET /api/parcels/?lon={lon}&lat={lat}: HTTP {response.status_code}")
            last_body["api"] = body
            return elapsed

        def api_http(lon: float, lat: float) -> float:
            path = "/api/parcels/?" + urlencode({"lon": lon, "lat": lat})
            started = timing.now()
            connection_http.request("GET", path, headers={"Accept": "application/json"})
            response = connection_http.getresponse()
            body = response.read()
            elapsed = timing.now() - started
            if response.status != 200:
                raise RuntimeError(f"HTTP GET {path}: {response.status}")
            last_body["api-http"] = body
            return elapsed

        def sql_pip(lon: float, lat: float) -> float:
            started = timing.now()
            cursor.execute(SQL_PIP, {"lon": lon, "lat": lat})
            rows = cursor.fetchall()
            elapsed = timing.now() - started
            last_body["sql-pip"] = rows
            return elapsed

        def sql_json(lon: float, lat: float) -> float:
            started = timing.now()
            cursor.execute(SQL_JSON, {"lon": lon, "lat": lat, **params_extra})
            text = cursor.fetchone()[0]
            elapsed = timing.now() - started
            last_body["sql-json"] = text
            return elapsed

        run_one = {"api": api, "api-http": api_http, "sql-pip": sql_pip, "sql-json": sql_json}
        log(f"lookup {databases.scale_label(count)}: warm-up")
        for _, lon, lat, _ in sample[:20]:
            for name in CONTENDERS:
                run_one[name](lon, lat)
        sessions_before = _sessions(conn, dbname)
        for round_index in range(rounds):
            log(f"lookup {databases.scale_label(count)}: round {round_index + 1}/{rounds}, {len(sample)} points")
            for name in CONTENDERS:
                times[name].append([])
            for index, (parcel_id, lon, lat, _) in enumerate(sample):
                shift = (index + round_index) % len(CONTENDERS)
                for name in CONTENDERS[shift:] + CONTENDERS[:shift]:
                    times[name][-1].append(run_one[name](lon, lat))
                if round_index == 0:
                    api_features = json.loads(last_body["api"])["features"]
                    sql_features = json.loads(last_body["sql-json"])["features"]
                    if parcel_id not in {f["id"] for f in api_features} or not last_body["sql-pip"]:
                        misses += 1
                    if json.loads(last_body["api-http"]) != json.loads(last_body["api"]):
                        misses += 1
                    if _summary(api_features) != _summary(sql_features) and len(mismatches) < 5:
                        mismatches.append(
                            f"({lon}, {lat}): API {_summary(api_features)} vs SQL {_summary(sql_features)}"
                        )
        # Backends report their statistics within a second or so of going idle.
        time.sleep(2)
        new_sessions = _sessions(conn, dbname) - sessions_before
    return _section(
        count=count,
        total=total,
        times=times,
        plans=plans,
        points=len(sample),
        zoned=zoned,
        rounds=rounds,
        misses=misses,
        mismatches=mismatches,
        load_before=load_before,
        dbname=dbname,
        new_sessions=new_sessions,
    )


def _session_note(new_sessions: int) -> str:
    """Why the server opens connections, when it does: Django's settings as this process reads them."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if new_sessions == 0:
        return ""
    pooled = bool(database.get("OPTIONS", {}).get("pool"))
    return (
        f": under ASGI each request runs its sync view in a thread of its own, and with `CONN_MAX_AGE` = "
        f"{database.get('CONN_MAX_AGE')} and {'a' if pooled else 'no'} connection pool Django opens a new "
        "connection for it (Django's documentation advises its connection pool, `OPTIONS['pool']`, under ASGI)"
    )


def _sessions(conn, dbname: str) -> int:
    """Sessions ever opened on ``dbname`` (PostgreSQL's cumulative statistics)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [dbname]).fetchone()[0]


def _section(
    *,
    count: int,
    total: int,
    times: dict[str, list[list[float]]],
    plans: dict[str, list[str]],
    points: int,
    zoned: int,
    rounds: int,
    misses: int,
    mismatches: list[str],
    load_before: str,
    dbname: str,
    new_sessions: int,
) -> Section:
    label = databases.scale_label(count)
    flat = {name: [t for round_times in times[name] for t in round_times] for name in CONTENDERS}
    medians = {name: timing.median(values) for name, values in flat.items()}
    rows = []
    for ours, peer, what in (
        ("api", "sql-pip", "API (test Client) vs bare SQL point-in-polygon"),
        ("api", "sql-json", "API (test Client) vs bare SQL returning the same JSON"),
        ("api-http", "sql-json", "API over HTTP (uvicorn) vs bare SQL returning the same JSON"),
    ):
        rows.append(
            Row(
                benchmark=f"Parcel at a point, {count:,} parcels: {what}",
                ours=timing.milliseconds(medians[ours]),
                peer=timing.milliseconds(medians[peer]),
                ratio=medians[ours] / medians[peer],
                goal="—",
                met=None,
            )
        )
    table = "\n".join(
        f"| {LABELS[name]} | {timing.milliseconds(medians[name])} | "
        f"{timing.milliseconds(timing.percentile(flat[name], 0.9))} | "
        f"{', '.join(f'{timing.median(r) * 1000:.2f}' for r in times[name])} |"
        for name in CONTENDERS
    )
    per_round = {
        (ours, peer): ", ".join(
            f"{timing.median(a) / timing.median(b):.2f}" for a, b in zip(times[ours], times[peer], strict=True)
        )
        for ours, peer in (("api", "sql-pip"), ("api", "sql-json"), ("api-http", "sql-json"))
    }
    index_ok = all(any("geo_parcel_geom" in line for line in plan) for plan in plans.values())
    plan_text = "\n".join(f"{name}:\n" + "\n".join(f"    {line}" for line in lines) for name, lines in plans.items())
    agreement = (
        f"In round 1 every API answer held the parcel the point was drawn in, the same over HTTP ({points} of {points})"
        if misses == 0
        else f"**{misses} answers in round 1 missed their parcel or differed between the test Client and HTTP**"
    )
    agreement += (
        "; the API and the `sql-json` peer returned the same parcels, communes, zones (with shares) and "
        "constraints for every point."
        if not mismatches
        else f"; **the API and the `sql-json` peer disagreed**, e.g. {mismatches[0]}"
    )
    details = f"""
Dataset `{dbname}`: {total:,} parcels; {points} points, {zoned} of them in parcels under zoning rules (the demo
commune's; the synthetic parcels have none), the others drawn from the rest of the table.
Latencies per call, {rounds} round(s) of every point:

| contender | median | 90th percentile | median of each round (ms) |
| --- | --- | --- | --- |
{table}

While the {rounds * points} timed HTTP requests ran, {new_sessions} new PostgreSQL sessions were opened on the
database (`pg_stat_database.sessions`; the test Client and psycopg kept theirs){_session_note(new_sessions)}.

Per-round ratios: `api` / `sql-pip` {per_round["api", "sql-pip"]}; `api` / `sql-json` {per_round["api", "sql-json"]};
`api-http` / `sql-json` {per_round["api-http", "sql-json"]}.
{agreement}

Scan nodes of each plan (`EXPLAIN`, first point){"" if index_ok else " — **geo_parcel's GiST index is not used**"}:

```
{plan_text}
```
""".strip()
    method = f"""
{points} points drawn at random (seed {SEED}) as `ST_PointOnSurface` of parcels of the `{label}` dataset, half
of them in parcels under zoning rules and half elsewhere, at every scale.
For each point the four contenders run back to back in rotating order: `api` through `django.test.Client`
in this process (settings `config.settings.local` with `DEBUG` off, as served; the full middleware stack
and DRF; no socket); `api-http` over one kept-alive `http.client` connection to `uvicorn
config.asgi:application --workers 1` on 127.0.0.1 (what `make run` serves; h11 parser, Django's sync view in
a thread); `sql-pip` and `sql-json` through one psycopg connection (autocommit, psycopg's default
server-side parameters, so statements are prepared after five runs). 20 untimed warm-up points first. Ratio =
median API latency / median SQL latency over all {rounds * points} calls each. The dataset was `ANALYZE`d after
loading. Load average before: {load_before}, after: {timing.load_average()}.
""".strip()
    return Section(
        key=f"lookup-{label}",
        title=f"Parcel by point, API vs bare SQL ({count:,} parcels)",
        rows=rows,
        method=method,
        details=details,
        raw={"times_ms": {k: [[round(t * 1000, 4) for t in r] for r in v] for k, v in times.items()}},
    )
