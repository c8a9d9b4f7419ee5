"""Benchmark 3: peak memory (and time) of generating and of importing a million parcels.

Each step runs as a subprocess under ``/usr/bin/time -v`` in the scratch database ``<root>_import``,
which starts with an empty ``geo_parcel``:

1. ``manage.py generate_parcels --count N``;
2. (untimed) ``ogr2ogr`` writes those N parcels from the database to a FlatGeobuf file, then
   ``geo_parcel`` is emptied again;
3. ``manage.py import_layer FILE --layer parcels --keep-going`` imports the file, and ``ogr2ogr`` imports
   the same file into a table of its own, as the peer for time and memory.

``Maximum resident set size`` counts the Python (or ogr2ogr) process only: the PostgreSQL server
process that does the SQL work is not a child and has memory bounds of its own (``work_mem``,
``temp_buffers``). One run each: a run takes minutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import databases, timing
from bench.importing import OGR_TABLE, ogr2ogr_command, reset_tables, table_count
from bench.report import Row, Section

TIME = Path("/usr/bin/time")
GOAL_BYTES = 1024**3


@dataclass(frozen=True)
class Usage:
    """What ``/usr/bin/time -v`` reported for one command."""

    max_rss_kib: int
    elapsed: float
    exit_status: int
    output: str

    @property
    def rss(self) -> str:
        return f"{self.max_rss_kib / 1024:.0f} MiB"


def _elapsed(text: str) -> float:
    """``1:02:03`` or ``2:03.45`` → seconds."""
    parts = [float(p) for p in text.split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def measured(command: list[str], *, env: dict | None = None) -> Usage:
    """Run ``command`` under ``/usr/bin/time -v``; its progress output goes to the terminal."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        completed = subprocess.run(
            [str(TIME), "-v", "-o", report.name, *command],
            cwd=databases.REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        text = Path(report.name).read_text()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    elapsed = _elapsed(re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text).group(1))
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stdout}")
    return Usage(max_rss_kib=rss, elapsed=elapsed, exit_status=completed.returncode, output=completed.stdout.strip())


def run(*, root: str, count: int, log: Callable[[str], None]) -> Section:
    title = f"Peak memory: generating and importing {count:,} parcels"
    if not TIME.exists():
        reason = "skipped: /usr/bin/time is not installed (apt-get install time)"
        log(f"memory: {reason}")
        return Section.not_measured("memory", title, reason)
    if shutil.which("ogr2ogr") is None:
        reason = "skipped: ogr2ogr is not installed (apt-get install gdal-bin)"
        log(f"memory: {reason}")
        return Section.not_measured("memory", title, reason)

    dbname = databases.import_database(root)
    databases.ensure_database(dbname, log=log)
    env = databases.subprocess_env(dbname)
    load_before = timing.load_average()
    workdir = Path(tempfile.mkdtemp(prefix="taamir-bench-memory-"))
    fgb = workdir / "parcels.fgb"
    try:
        reset_tables(dbname)
        log(f"memory: generate_parcels --count {count} (minutes)")
        generate = measured(databases.manage_command("generate_parcels", "--count", str(count)), env=env)
        generated = table_count(dbname, "geo_parcel")
        log("memory: writing the generated parcels to FlatGeobuf (untimed)")
        databases.run_quiet(
            [
                "ogr2ogr",
                "-f",
                "FlatGeobuf",
                str(fgb),
                databases.ogr_dsn(dbname),
                "-sql",
                "SELECT reference, round(area_m2::numeric, 2)::float AS surface, geom FROM geo_parcel ORDER BY id",
                "-nln",
                "parcels",
            ]
        )
        size_mib = fgb.stat().st_size / 1024 / 1024
        reset_tables(dbname)
        log(f"memory: import_layer {fgb.name} ({size_mib:.0f} MiB)")
        imported = measured(
            databases.manage_command(
                "import_layer",
                str(fgb),
                "--layer",
                "parcels",
                "--keep-going",
                "--no-progress",
                "--rejects",
                str(workdir / "rejects.csv"),
            ),
            env=env,
        )
        imported_rows = table_count(dbname, "geo_parcel")
        log(f"memory: ogr2ogr {fgb.name} (peer)")
        peer = measured(ogr2ogr_command(dbname, fgb))
        peer_rows = table_count(dbname, OGR_TABLE)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        reset_tables(dbname)

    rows = [
        Row(
            benchmark=f"Generate {count:,} parcels (`generate_parcels`): peak RSS, time",
            ours=f"{generate.rss}, {timing.seconds(generate.elapsed)}",
            peer="—",
            ratio=None,
            goal="< 1 GiB",
            met=generate.max_rss_kib * 1024 < GOAL_BYTES,
        ),
        Row(
            benchmark=f"Import {count:,} parcels from FlatGeobuf: `import_layer` vs `ogr2ogr` "
            "(peak RSS, time; ratio of times)",
            ours=f"{imported.rss}, {timing.seconds(imported.elapsed)}",
            peer=f"{peer.rss}, {timing.seconds(peer.elapsed)}",
            ratio=imported.elapsed / peer.elapsed,
            goal="< 1 GiB",
            met=imported.max_rss_kib * 1024 < GOAL_BYTES,
        ),
    ]
    summary = imported.output.splitlines()[-1] if imported.output else ""
    steps = [
        (f"`manage.py generate_parcels --count {count}`", generate, f"{generated:,} parcels"),
        (
            "`manage.py import_layer parcels.fgb --layer parcels --keep-going`",
            imported,
            f"{summary}; {imported_rows:,} parcels",
        ),
        (f"`ogr2ogr -f PostgreSQL … parcels.fgb -nln {OGR_TABLE} …`", peer, f"{peer_rows:,} rows"),
    ]
    table = "\n".join(
        f"| {name} | {usage.max_rss_kib:,} KiB | {timing.seconds(usage.elapsed)} | {outcome} |"
        for name, usage, outcome in steps
    )
    details = f"""
| step | maximum resident set size | elapsed | outcome |
| --- | --- | --- | --- |
{table}

The FlatGeobuf file ({size_mib:.0f} MiB, EPSG:4326, attributes `reference` and `surface`) was written from the
generated parcels by `ogr2ogr -f FlatGeobuf` (untimed).
""".strip()
    method = f"""
Each command ran once as a subprocess under `/usr/bin/time -v` against the scratch database with an empty
`geo_parcel`; the figures are its "Maximum resident set size" and "Elapsed (wall clock) time". Only the
client process is counted (the PostgreSQL server process doing the SQL work is not its child). The goal
is on memory; the ratio column is our time / ogr2ogr's time for the same file (one run each, interleaving
does not apply). Load average before: {load_before}, after: {timing.load_average()}.
""".strip()
    return Section(
        key="memory",
        title=title,
        rows=rows,
        method=method,
        details=details,
        raw={
            "generate": generate.__dict__,
            "import": imported.__dict__,
            "ogr2ogr": peer.__dict__,
        },
    )
