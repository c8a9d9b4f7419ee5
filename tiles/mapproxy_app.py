"""Raster tiles through MapProxy: the only module that imports ``mapproxy``.

MapProxy has no GeoTIFF source of its own, so each raster (an orthophoto imported by ``import_raster``
or the Cloud-Optimised GeoTIFF of a georeferenced plan version) gets a small MapServer mapfile and
MapProxy asks Debian's ``mapserv`` for images as a ``mapserver`` source (a CGI call, no HTTP server).
MapServer reads the COG and reprojects it; MapProxy cuts, caches (file caches under
``TAAMIR_MAPPROXY_DIR/cache_data``) and serves the tiles as WMTS (REST and KVP), TMS/XYZ and WMS, in
web mercator (grid ``webmercator``, EPSG:3857) and in Merchich / Nord Maroc (grid ``merchich``,
EPSG:26191).

The configuration is generated from the database into ``TAAMIR_MAPPROXY_DIR``: one mapfile per raster,
``public.yaml`` (orthophotos only) and ``internal.yaml`` (orthophotos and plan rasters). Every request
compares a cheap signature of the raster tables with the loaded one and regenerates and reloads when it
changed (a new orthophoto, a plan georeferenced again). A cache's name carries the raster's timestamp,
so a changed georeferencing never serves old tiles; :func:`rebuild_plan_cache` also deletes them.
Access checks are not made here but in :mod:`tiles.mapproxy_views`, before MapProxy is called.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from mapproxy.wsgiapp import make_wsgi_app

from geo.models import Orthophoto

# Layer names: "ortho-<slug>" for orthophotos, "plan-<version id>" for plan rasters.
ORTHO_PREFIX = "ortho-"
PLAN_PREFIX = "plan-"
# Merchich / Nord Maroc: a square of 2^20 m from the false origin covers the whole zone (level 0: 4,096 m/px).
MERCHICH_GRID = {
    "srs": "EPSG:26191",
    "bbox": [0, 0, 1048576, 1048576],
    "bbox_srs": "EPSG:26191",
    "origin": "nw",
    "num_levels": 21,
}
SERVED_SRS = ["EPSG:3857", "EPSG:26191", "EPSG:4326", "EPSG:900913"]

# MapProxy announces every configuration it reads at INFO; the reload is routine here.
logging.getLogger("mapproxy").setLevel(logging.WARNING)

_lock = threading.Lock()
_loaded: dict[str, object] = {}  # signature → {"public": app, "internal": app}


@dataclass(frozen=True)
class RasterLayer:
    """A raster MapProxy serves: its layer name, title, COG path, footprint (EPSG:4326) and version stamp."""

    name: str
    title: str
    path: Path
    bounds: tuple[float, float, float, float]
    stamp: str  # changes when the image changes, so the cache's name changes with it
    public: bool
    version_id: int | None = None

    @property
    def cache_name(self) -> str:
        return f"{self.name}_{self.stamp}"


def mapproxy_root() -> Path:
    return Path(settings.TAAMIR_MAPPROXY_DIR)


def plan_layer_name(version_id: int) -> str:
    return f"{PLAN_PREFIX}{version_id}"


def plan_version_id(layer_name: str) -> int | None:
    """``plan-12`` → 12; None for any other name."""
    if layer_name.startswith(PLAN_PREFIX) and layer_name[len(PLAN_PREFIX) :].isdigit():
        return int(layer_name[len(PLAN_PREFIX) :])
    return None


def _local_path(field_file) -> Path | None:
    try:
        return Path(field_file.path)
    except NotImplementedError:  # object storage: MapServer needs a local file
        return None


def raster_layers() -> list[RasterLayer]:
    """Every raster to serve: orthophotos, then the latest raster of every georeferenced plan version."""
    from plans.models import PlanVersion

    layers = []
    for ortho in Orthophoto.objects.order_by("name"):
        path = _local_path(ortho.file)
        if path is None or not path.exists():
            continue
        layers.append(
            RasterLayer(
                name=f"{ORTHO_PREFIX}{ortho.name}",
                title=ortho.title or ortho.name,
                path=path,
                bounds=tuple(ortho.bounds.extent),
                stamp=str(int(ortho.imported_at.timestamp())),
                public=True,
            )
        )
    versions = (
        PlanVersion.objects.exclude(raster="")
        .exclude(raster__isnull=True)
        .select_related("plan_set__dossier")
        .order_by("pk")
    )
    for version in versions:
        path = _local_path(version.raster)
        bounds = _raster_bounds(path) if path is not None and path.exists() else None
        if bounds is None:
            continue
        stamp = version.raster_updated_at or version.processed_at or version.uploaded_at
        dossier = version.plan_set.dossier
        layers.append(
            RasterLayer(
                name=plan_layer_name(version.pk),
                title=f"{dossier.reference or dossier.pk} · {version.plan_set.sheet} · v{version.number}",
                path=path,
                bounds=bounds,
                stamp=str(int(stamp.timestamp() * 1000)),
                public=False,
                version_id=version.pk,
            )
        )
    return layers


def _raster_bounds(path: Path) -> tuple[float, float, float, float] | None:
    from plans.extraction import PlanRefused
    from plans.raster import check_geotiff

    try:
        info = check_geotiff(path)
    except PlanRefused:
        return None
    return tuple(info.footprint_wgs84().extent)


def _signature() -> str:
    """A digest of what the configuration depends on, computed by PostgreSQL in one query (asked per request)."""
    from django.db import connection

    from plans.models import PlanVersion

    orthos, plans = Orthophoto._meta.db_table, PlanVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT md5(
                  coalesce((SELECT string_agg(concat_ws('|', id, name, file, imported_at), ',' ORDER BY id)
                            FROM {orthos}), '')
                  || '#' ||
                  coalesce((SELECT string_agg(concat_ws('|', id, raster, raster_updated_at), ',' ORDER BY id)
                            FROM {plans} WHERE raster IS NOT NULL AND raster <> ''), '')
                  || '#' || %s)""",
            [str(mapproxy_root())],
        )
        return cursor.fetchone()[0][:16]


# --- configuration files ------------------------------------------------------------------------------


def _mapfile(layer: RasterLayer) -> str:
    quote = json.dumps  # MapServer strings take the same escapes as JSON for our paths and titles
    return "\n".join(
        [
            "MAP",
            f"  NAME {quote(layer.name)}",
            "  EXTENT -20037508 -20037508 20037508 20037508",
            "  SIZE 256 256",
            '  PROJECTION "init=epsg:3857" END',
            "  WEB",
            '    METADATA "wms_enable_request" "GetMap GetCapabilities" '
            f'"wms_srs" "{" ".join(SERVED_SRS)}" "wms_title" {quote(layer.title)} END',
            "  END",
            '  OUTPUTFORMAT NAME "png" DRIVER "AGG/PNG" MIMETYPE "image/png" IMAGEMODE RGBA EXTENSION "png"',
            "    TRANSPARENT ON",
            "  END",
            "  LAYER",
            f"    NAME {quote(layer.name)}",
            "    TYPE RASTER",
            "    STATUS ON",
            f"    DATA {quote(str(layer.path))}",
            "    PROJECTION AUTO END",
            '    PROCESSING "RESAMPLE=BILINEAR"',
            f'    METADATA "wms_title" {quote(layer.title)} END',
            "  END",
            "END",
            "",
        ]
    )


def _config(layers: Iterable[RasterLayer], *, root: Path) -> dict:
    layers = list(layers)
    return {
        "services": {
            "wmts": {"restful": True, "kvp": True},
            "tms": {"use_grid_names": True, "origin": "nw"},
            "wms": {
                "srs": SERVED_SRS,
                "image_formats": ["image/png"],
                "md": {"title": "Taamir", "abstract": "Orthophotos and georeferenced plans"},
            },
        },
        "layers": [{"name": layer.name, "title": layer.title, "sources": [f"{layer.cache_name}"]} for layer in layers],
        "caches": {
            layer.cache_name: {
                "grids": ["webmercator", "merchich"],
                "sources": [f"{layer.name}_source"],
                "format": "image/png",
                "request_format": "image/png",
                "cache": {"type": "file", "directory_layout": "tc"},
            }
            for layer in layers
        },
        "sources": {
            f"{layer.name}_source": {
                "type": "mapserver",
                "req": {"map": str(root / "maps" / f"{layer.name}.map"), "layers": layer.name, "transparent": True},
                "coverage": {"bbox": list(layer.bounds), "srs": "EPSG:4326"},
                "supported_srs": ["EPSG:3857", "EPSG:26191", "EPSG:4326"],
            }
            for layer in layers
        },
        "grids": {"webmercator": {"base": "GLOBAL_WEBMERCATOR"}, "merchich": MERCHICH_GRID},
        "globals": {
            "cache": {
                "base_dir": str(root / "cache_data"),
                "lock_dir": str(root / "cache_data" / "locks"),
                "tile_lock_dir": str(root / "cache_data" / "tile_locks"),
            },
            "mapserver": {"binary": settings.TAAMIR_MAPSERV_BINARY, "working_dir": str(root)},
            "image": {"resampling_method": "bilinear", "paletted": False},
        },
    }


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_config(layers: list[RasterLayer] | None = None) -> dict[str, Path]:
    """Write the mapfiles, MapServer's config file and the two MapProxy configurations; returns their paths."""
    root = mapproxy_root()
    (root / "maps").mkdir(parents=True, exist_ok=True)
    (root / "cache_data").mkdir(parents=True, exist_ok=True)
    layers = raster_layers() if layers is None else layers
    for layer in layers:
        _write_atomically(root / "maps" / f"{layer.name}.map", _mapfile(layer))
    # MapServer 8 refuses a map= parameter unless a config file allows its path.
    pattern = "^" + str(root / "maps").replace(".", r"\.") + r"/[A-Za-z0-9_.-]+\.map$"
    _write_atomically(root / "mapserver.conf", f'CONFIG\n  ENV\n    MS_MAP_PATTERN "{pattern}"\n  END\nEND\n')
    os.environ["MAPSERVER_CONFIG_FILE"] = str(root / "mapserver.conf")
    paths = {"public": root / "public.yaml", "internal": root / "internal.yaml"}
    _write_atomically(paths["public"], yaml.safe_dump(_config([lay for lay in layers if lay.public], root=root)))
    _write_atomically(paths["internal"], yaml.safe_dump(_config(layers, root=root)))
    return paths


def _build() -> dict[str, object]:
    layers = raster_layers()
    paths = write_config(layers)
    apps: dict[str, object] = {"names": {layer.name for layer in layers}}
    public_names = {layer.name for layer in layers if layer.public}
    for key, path in paths.items():
        names = public_names if key == "public" else apps["names"]
        apps[key] = make_wsgi_app(str(path), ignore_config_warnings=True) if names else None
    return apps


def mapproxy_wsgi_app(*, internal: bool) -> Callable | None:
    """The MapProxy WSGI app for anonymous/public use or with plan rasters; None when it has no layer.

    Regenerates the configuration and reloads when the rasters in the database changed.
    """
    signature = _signature()
    apps = _loaded.get(signature)
    if apps is None:
        with _lock:
            apps = _loaded.get(signature)
            if apps is None:
                apps = _build()
                _loaded.clear()
                _loaded[signature] = apps
    return apps["internal" if internal else "public"]


def layer_names() -> set[str]:
    """The names of every raster layer of the current configuration."""
    mapproxy_wsgi_app(internal=True)
    return next(iter(_loaded.values()))["names"]


def _remove_caches(prefix: str, *, keep: str | None = None) -> int:
    """Delete the tile folders of every cache whose name starts with ``prefix`` (except ``keep``)."""
    removed = 0
    base = mapproxy_root() / "cache_data"
    if not base.is_dir():
        return 0
    for folder in base.iterdir():
        if folder.is_dir() and folder.name.startswith(prefix) and not (keep and folder.name.startswith(keep + "_")):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def rebuild_plan_cache(*, version) -> None:
    """A plan version's raster (or georeferencing) changed: drop its tiles and reload the configuration.

    Call it after the new COG is saved with a new ``raster_updated_at`` (on commit). The new cache is
    filled again on demand, tile by tile, from the new raster.
    """
    _remove_caches(f"{plan_layer_name(version.pk)}_")
    with _lock:
        _loaded.clear()
    mapproxy_wsgi_app(internal=True)


def remove_orphan_caches() -> int:
    """Delete tile folders of rasters that changed or are gone (their cache name is no longer configured)."""
    keep = {layer.cache_name for layer in raster_layers()}
    removed = 0
    base = mapproxy_root() / "cache_data"
    for folder in base.iterdir() if base.is_dir() else []:
        if folder.is_dir() and folder.name not in {"locks", "tile_locks"}:
            if not any(folder.name.startswith(name + "_") for name in keep):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed
