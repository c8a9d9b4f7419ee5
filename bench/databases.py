"""The scratch databases the benchmarks run in, and how Django, psycopg, ogr2ogr and subprocesses reach them.

The runner never writes to the database the settings name. It derives a root name from it
(``taamir`` → ``taamir_bench``; a name that already ends in ``_bench`` is kept) and works in:

``<root>_import``  an empty ``geo_parcel`` for the write benchmarks (truncated before each run);
``<root>_10k``, ``<root>_1m``, …  one lookup dataset per scale, built once and then reused.

They are created on the same server with the same credentials (``CREATE DATABASE``), migrated with
``manage.py migrate``, and never dropped: delete them by hand (``dropdb``) to reclaim the space.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
MAINTENANCE_DB = "postgres"


def django_setup() -> None:
    """Configure Django for the runner: local settings, debug off (as served), the repo on ``sys.path``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # DEBUG logs every query in memory; the served platform runs without it.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def configured_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"]["NAME"])


def root_name(configured: str) -> str:
    """``taamir`` → ``taamir_bench``; ``taamir_bench`` stays ``taamir_bench``."""
    return configured if configured.endswith("_bench") else f"{configured}_bench"


def scale_label(count: int) -> str:
    """``10000`` → ``10k``, ``1000000`` → ``1m``, ``12345`` → ``12345``."""
    if count % 1_000_000 == 0:
        return f"{count // 1_000_000}m"
    if count % 1_000 == 0:
        return f"{count // 1_000}k"
    return str(count)


def scale_count(label: str) -> int:
    """The inverse of :func:`scale_label`: ``10k`` → ``10000`` (0 for anything else)."""
    factor = {"k": 1_000, "m": 1_000_000}.get(label[-1:], 1)
    digits = label[:-1] if factor > 1 else label
    return int(digits) * factor if digits.isdigit() else 0


def import_database(root: str) -> str:
    return f"{root}_import"


def dataset_database(root: str, count: int) -> str:
    return f"{root}_{scale_label(count)}"


def _settings_dict() -> dict:
    from django.db import connections

    return connections["default"].settings_dict


def connection_params(dbname: str) -> dict[str, str]:
    """libpq keywords for ``dbname`` on the configured server (empty settings left to libpq's defaults)."""
    settings_dict = _settings_dict()
    params = {"dbname": dbname}
    for key, setting in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD")):
        value = settings_dict.get(setting)
        if value not in (None, ""):
            params[key] = str(value)
    return params


def connect(dbname: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A bare psycopg connection (no Django) to ``dbname``."""
    return psycopg.connect(**connection_params(dbname), autocommit=autocommit)


def ogr_dsn(dbname: str) -> str:
    """The ``PG:`` data source name ogr2ogr uses for ``dbname``."""
    return "PG:" + " ".join(f"{key}={_conninfo_quote(value)}" for key, value in connection_params(dbname).items())


def _conninfo_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def subprocess_env(dbname: str) -> dict[str, str]:
    """The environment under which ``manage.py`` in a subprocess uses ``dbname`` instead of the configured one."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("DJANGO_DEBUG", "0")
    url = env.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        env["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))
    else:
        env["TAAMIR_DB_NAME"] = dbname
    return env


def manage_command(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "manage.py"), *args]


def manage(dbname: str, *args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    """Run ``manage.py ARGS`` against ``dbname``; its output goes to the terminal unless ``quiet``."""
    output = subprocess.DEVNULL if quiet else sys.stderr
    return subprocess.run(manage_command(*args), cwd=REPO, env=subprocess_env(dbname), check=True, stdout=output)


def ensure_database(dbname: str, *, log) -> None:
    """Create ``dbname`` on the configured server when missing, then apply the migrations."""
    with connect(MAINTENANCE_DB) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            log(f"creating scratch database {dbname}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    manage(dbname, "migrate", "--no-input", "-v", "0", quiet=True)


@contextmanager
def django_database(dbname: str) -> Iterator[None]:
    """Point Django's default connection at ``dbname`` for the duration of the block."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    conn = connections["default"]
    previous = conn.settings_dict["NAME"]
    conn.close()
    conn.settings_dict["NAME"] = dbname
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict["NAME"] = previous
        ContentType.objects.clear_cache()


def run_quiet(command: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capture its output, and raise with that output when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr or result.stdout}")
    return result
