"""Benchmark 1: importing the 13,116 Cambridge parcels with ``layer_import`` vs ``ogr2ogr`` into PostGIS.

Three contenders, interleaved round by round into the same scratch database (``<root>_import``), each
starting from an empty table (``geo_parcel`` truncated, ``bench_ogr`` dropped, both untimed):

- ours, in-process: ``layer_import(layer="parcels", mapping={"reference": "id"}, keep_going=True)`` on
  Django's open connection (what a worker or a test pays);
- ours, command line: ``manage.py import_layer … --keep-going`` as a subprocess (what a user waits for,
  Python and Django start-up included);
- the peer: ``ogr2ogr -f PostgreSQL PG:… FILE -nln bench_ogr -overwrite -lco GEOMETRY_NAME=geom
  -nlt PROMOTE_TO_MULTI`` as a subprocess.

A last, separate run of ours records where the time goes: GDAL reads, each SQL statement (through a
Django ``execute_wrapper``), and the rest (row conversion, COPY, commit).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import databases, timing
from bench.report import Row, Section

CAMBRIDGE_DIR = databases.REPO.parent / "shared" / "data" / "parcels" / "cambridge-ma"
CAMBRIDGE_FILE = CAMBRIDGE_DIR / "cambridge_parcels_fy2014.geojson"
CAMBRIDGE_FEATURES = 13_116
GOAL_RATIO = 1.5
OGR_TABLE = "bench_ogr"

# How the profile names the importer's SQL statements (first match wins).
STATEMENT_LABELS = [
    (re.compile(r"^SET LOCAL"), "SET LOCAL jit = off"),
    (re.compile(r"CREATE TEMP TABLE import_staging"), "create the staging table"),
    (re.compile(r"CREATE TEMP TABLE import_prepared.*WITH NO DATA", re.S), "create the prepared table (empty)"),
    (re.compile(r"CREATE TEMP TABLE import_prepared"), "SQL pass: parse, check, repair, reproject"),
    (re.compile(r"INSERT INTO import_prepared"), "SQL pass: send a chunk's statement (pipeline mode)"),
    (re.compile(r"TRUNCATE import_staging"), "SQL pass: send a chunk's statement (pipeline mode)"),
    (re.compile(r"UPDATE import_prepared p SET reject = 'duplicate"), "find duplicate keys"),
    (re.compile(r"FROM import_prepared\s+WHERE reject", re.S), "collect rejects and repairs"),
    (re.compile(r"INSERT INTO geo_parcel"), "upsert into geo_parcel (area, indexes)"),
]


def ogr2ogr_command(dbname: str, path: Path) -> list[str]:
    return [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        databases.ogr_dsn(dbname),
        str(path),
        "-nln",
        OGR_TABLE,
        "-overwrite",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-nlt",
        "PROMOTE_TO_MULTI",
    ]


def reset_tables(dbname: str) -> None:
    """Empty ``geo_parcel`` and drop ogr2ogr's table (the scratch database only)."""
    with databases.connect(dbname) as conn:
        conn.execute("TRUNCATE geo_parcel CASCADE")
        conn.execute(f"DROP TABLE IF EXISTS {OGR_TABLE}")


def table_count(dbname: str, table: str) -> int:
    with databases.connect(dbname) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def run(*, root: str, rounds: int, log: Callable[[str], None]) -> list[Section]:
    if not CAMBRIDGE_DIR.is_dir():
        reason = f"skipped: {CAMBRIDGE_DIR} is absent (the shared data set is not on this machine)"
        log(f"import: {reason}")
        return [Section.not_measured("import", "Import vs ogr2ogr (13,116 Cambridge parcels)", reason)]
    if shutil.which("ogr2ogr") is None:
        reason = "skipped: ogr2ogr is not installed (apt-get install gdal-bin)"
        log(f"import: {reason}")
        return [Section.not_measured("import", "Import vs ogr2ogr (13,116 Cambridge parcels)", reason)]

    from etl.importer import layer_import

    dbname = databases.import_database(root)
    databases.ensure_database(dbname, log=log)
    load_before = timing.load_average()
    workdir = Path(tempfile.mkdtemp(prefix="taamir-bench-import-"))
    reports = []
    counts: dict[str, int] = {}

    def ours_in_process() -> float:
        reset_tables(dbname)
        started = timing.now()
        report = layer_import(path=CAMBRIDGE_FILE, layer="parcels", mapping={"reference": "id"}, keep_going=True)
        elapsed = timing.now() - started
        reports.append(report)
        return elapsed

    def ours_command_line() -> float:
        reset_tables(dbname)
        command = databases.manage_command(
            "import_layer",
            str(CAMBRIDGE_FILE),
            "--layer",
            "parcels",
            "--map",
            "reference=id",
            "--keep-going",
            "--no-progress",
            "--rejects",
            str(workdir / "rejects.csv"),
        )
        env = databases.subprocess_env(dbname)
        started = timing.now()
        subprocess.run(command, cwd=databases.REPO, env=env, check=True, capture_output=True)
        elapsed = timing.now() - started
        counts["command line"] = table_count(dbname, "geo_parcel")
        return elapsed

    def ogr2ogr() -> float:
        reset_tables(dbname)
        started = timing.now()
        subprocess.run(ogr2ogr_command(dbname, CAMBRIDGE_FILE), check=True, capture_output=True)
        elapsed = timing.now() - started
        counts["ogr2ogr"] = table_count(dbname, OGR_TABLE)
        return elapsed

    try:
        with databases.django_database(dbname):
            log("import: warm-up (file cache, connection)")
            ours_in_process()
            ogr2ogr()
            log(f"import: {rounds} interleaved rounds")
            result = timing.interleave(
                rounds,
                {"in-process": ours_in_process, "ogr2ogr": ogr2ogr, "command line": ours_command_line},
                log=log,
            )
            log("import: profile run")
            profile = _profile_run(dbname, layer_import)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        reset_tables(dbname)
    report = reports[-1]
    return [_section(result, report, counts, profile, rounds, load_before)]


def _profile_run(dbname: str, layer_import) -> list[tuple[str, float]]:
    """One more import, timed piece by piece: GDAL reads, SQL statements, and the rest."""
    from django.db import connection

    from etl import importer, io

    spent: dict[str, float] = {}

    def add(label: str, seconds: float) -> None:
        spent[label] = spent.get(label, 0.0) + seconds

    def statement_hook(execute, sql, params, many, context):
        started = timing.now()
        try:
            return execute(sql, params, many, context)
        finally:
            text = str(sql)
            label = next((name for pattern, name in STATEMENT_LABELS if pattern.search(text)), "other SQL")
            add(label, timing.now() - started)

    original_info, original_batches = io.layer_info, io.read_batches

    def timed_info(**kwargs):
        started = timing.now()
        try:
            return original_info(**kwargs)
        finally:
            add("GDAL: open the file, read the layer's description (io.layer_info)", timing.now() - started)

    def timed_batches(**kwargs):
        iterator = original_batches(**kwargs)
        while True:
            started = timing.now()
            try:
                batch = next(iterator)
            except StopIteration:
                add("GDAL: read features into Python rows (io.read_batches)", timing.now() - started)
                return
            add("GDAL: read features into Python rows (io.read_batches)", timing.now() - started)
            yield batch

    # The importer sends each chunk's SQL pass without waiting (psycopg's pipeline mode) and waits
    # before the next COPY: the time spent waiting is the part of the SQL pass Python did not hide.
    pipelined = getattr(importer, "_Pipelined", None)
    original_wait = pipelined.wait if pipelined else None

    def timed_wait(self):
        started = timing.now()
        try:
            return original_wait(self)
        finally:
            add("SQL pass: waiting for the server (the part not overlapped with Python)", timing.now() - started)

    reset_tables(dbname)
    io.layer_info, io.read_batches = timed_info, timed_batches
    if pipelined:
        pipelined.wait = timed_wait
    try:
        with connection.execute_wrapper(statement_hook):
            started = timing.now()
            layer_import(path=CAMBRIDGE_FILE, layer="parcels", mapping={"reference": "id"}, keep_going=True)
            total = timing.now() - started
    finally:
        io.layer_info, io.read_batches = original_info, original_batches
        if pipelined:
            pipelined.wait = original_wait
    rest = total - sum(spent.values())
    rows = sorted(spent.items(), key=lambda item: -item[1])
    rows.append(("the rest: row checks and conversion, COPY into staging, commit (Python)", rest))
    rows.append(("total", total))
    return rows


def _section(result: timing.Interleaved, report, counts: dict, profile, rounds: int, load_before: str) -> Section:
    medians = result.medians()
    ogr = medians["ogr2ogr"]
    rows = []
    for name, label in (("in-process", "in-process `layer_import`"), ("command line", "`manage.py import_layer`")):
        ratio = medians[name] / ogr
        rows.append(
            Row(
                benchmark=f"Import 13,116 Cambridge parcels: {label} vs `ogr2ogr`",
                ours=timing.seconds(medians[name]),
                peer=f"{timing.seconds(ogr)} (`ogr2ogr`)",
                ratio=ratio,
                goal=f"≤ {GOAL_RATIO}",
                met=ratio <= GOAL_RATIO,
            )
        )
    raw = "\n".join(
        f"| {name} | {timing.seconds(medians[name])} | {timing.raw_list(result.times[name])} |" for name in result.names
    )
    paired = [a / b for a, b in zip(result.times["in-process"], result.times["ogr2ogr"], strict=True)]
    profile_rows = "\n".join(
        f"| {label} | {seconds * 1000:.0f} ms | {100 * seconds / profile[-1][1]:.0f} % |" for label, seconds in profile
    )
    details = f"""
Raw times in seconds, in the order measured ({rounds} rounds, order reversed every other round):

| contender | median | raw (s) |
| --- | --- | --- |
{raw}

Per-round ratios in-process / ogr2ogr: {", ".join(f"{r:.2f}" for r in paired)}.

Outcome of the last round: ours read {report.read}, created {report.created}, repaired {report.repaired},
rejected {report.rejected} (source EPSG:{report.source_srid}, areas in EPSG:{report.measure_srid});
`ogr2ogr` wrote {counts["ogr2ogr"]} rows (it neither checks, repairs, measures nor de-duplicates);
the command line left {counts["command line"]} parcels.

Where one in-process import spends its time (a separate run, timed by wrapping `etl.io` and a Django
`execute_wrapper` on every SQL statement):

| step | time | share |
| --- | --- | --- |
{profile_rows}
""".strip()
    method = f"""
`layer_import(path=…/cambridge_parcels_fy2014.geojson, layer="parcels", mapping={{"reference": "id"}},
keep_going=True)` into an empty `geo_parcel` of the scratch database, in this process on Django's open
connection; the same through `manage.py import_layer FILE --layer parcels --map reference=id --keep-going
--no-progress` as a subprocess (Python and Django start-up included); the peer is
`ogr2ogr -f PostgreSQL PG:… FILE -nln {OGR_TABLE} -overwrite -lco GEOMETRY_NAME=geom -nlt PROMOTE_TO_MULTI`
as a subprocess into the same database. Before every run, untimed: `TRUNCATE
geo_parcel`, `DROP TABLE {OGR_TABLE}`. One untimed warm-up of each, then {rounds} rounds of the three
contenders, interleaved, order reversed every other round; ratio = median(ours) / median(ogr2ogr).
Load average (1/5/15 min) before: {load_before}, after: {timing.load_average()}.
""".strip()
    return Section(
        key="import",
        title="Import vs ogr2ogr (13,116 Cambridge parcels)",
        rows=rows,
        method=method,
        details=details,
        raw={"times": result.times, "profile": profile},
    )
