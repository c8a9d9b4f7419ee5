"""What the numbers were measured on: CPU, memory, and the versions of PostgreSQL, PostGIS, GDAL and Python."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata

from bench import databases


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _ogr2ogr_version() -> str:
    if shutil.which("ogr2ogr") is None:
        return "not installed"
    result = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True)
    return result.stdout.strip().split(",")[0] or "unknown"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info(dbname: str) -> dict[str, str]:
    """A flat description of the machine and the software versions, read from ``dbname``'s server."""
    import pyogrio
    import shapely

    with databases.connect(dbname) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute(
            "SELECT postgis_lib_version(), postgis_geos_version(), postgis_proj_version()"
        ).fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting || COALESCE(unit, '') FROM pg_settings "
                "WHERE name IN ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit', "
                "'synchronous_commit')"
            ).fetchall()
        )
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{_cpu_model()}, nproc {affinity}",
        "memory": _memory_gib(),
        "os": _os_name(),
        "postgresql": f"PostgreSQL {server.split()[0]} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(settings.items()))
        + ")",
        "postgis": f"PostGIS {postgis[0]}, GEOS {postgis[1].split('-')[0]}, PROJ {postgis[2]}",
        "gdal": f"{_ogr2ogr_version()} (ogr2ogr, Debian); GDAL {pyogrio.__gdal_version_string__} "
        f"(bundled with pyogrio {pyogrio.__version__}, read by our importer)",
        "python": f"Python {platform.python_version()}, Django {_package('django')}, psycopg {_package('psycopg')}, "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string})",
    }
