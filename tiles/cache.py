"""The tile cache: built tiles kept in PostgreSQL (``tiles_tile``), looked up by layer and z/x/y.

A tile is built once and answered from the table until a change of one of its features: the change
triggers (``tiles.migrations.0002_change_triggers``) delete exactly the tiles the feature's old and new
bounding box touch, at every zoom, in the changing transaction itself, so imports, the admin and plain
SQL are covered as well as the app.

A tile built from a snapshot that a concurrent change has made stale must not be stored: the tile query
also reads the layer's change counter, and the tile is stored only if the counter has not moved,
checked under a share lock on the counter's row (a change takes that row's lock before it deletes
tiles, so it either waits for the store and then deletes the new row, or moved the counter first).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from tiles.layers import PublishedLayer
from tiles.vector import binary_cursor, build_tile


@dataclass(frozen=True)
class Tile:
    """A tile's bytes (empty: no feature) and its ETag value (without quotes)."""

    data: bytes
    etag: str
    cached: bool  # answered from the cache


def etag_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def caching_enabled() -> bool:
    return settings.TAAMIR_TILES_CACHE == "database"


def get_tile(layer: PublishedLayer, z: int, x: int, y: int) -> Tile:
    """The tile from the cache, or built now (and stored when nothing changed meanwhile)."""
    if caching_enabled():
        with binary_cursor() as cursor:
            cursor.execute(
                "SELECT data, etag FROM tiles_tile WHERE layer = %s AND z = %s AND x = %s AND y = %s",
                [layer.name, z, x, y],
                binary=True,
            )
            row = cursor.fetchone()
        if row is not None:
            return Tile(data=bytes(row[0]), etag=row[1], cached=True)
    generation, data = build_tile(layer, z, x, y)
    tile = Tile(data=data, etag=etag_of(data), cached=False)
    if caching_enabled():
        store_tile(layer.name, z, x, y, tile, generation=generation)
    return tile


def store_tile(layer: str, z: int, x: int, y: int, tile: Tile, *, generation: int) -> bool:
    """Keep a built tile unless its layer changed since it was built; returns whether it was stored.

    One statement: the share lock on the layer's counter row is taken, the counter compared, and the
    tile written, atomically. A lost cached tile is rebuilt on demand, so the statement's transaction
    does not wait for the WAL flush (``synchronous_commit`` off for it; the table is unlogged anyway).
    """
    # Only when the statement is its own transaction: inside a caller's transaction the setting would
    # make the caller's own writes asynchronous too.
    durability = "true" if connection.in_atomic_block else "set_config('synchronous_commit', 'off', true)"
    with binary_cursor() as cursor:
        cursor.execute(
            f"WITH quick AS (SELECT {durability}), "
            "current AS (SELECT generation FROM tiles_layergeneration WHERE layer = %s FOR SHARE) "
            "INSERT INTO tiles_tile (layer, z, x, y, data, etag, created) "
            "SELECT %s, %s, %s, %s, %b, %s, now() FROM current, quick WHERE current.generation = %s "
            "ON CONFLICT (layer, z, x, y) DO UPDATE SET data = EXCLUDED.data, etag = EXCLUDED.etag, "
            "created = EXCLUDED.created",
            [layer, layer, z, x, y, tile.data, tile.etag, generation],
        )
        return cursor.rowcount == 1


def cached_addresses(layer: str | None = None) -> set[tuple[str, int, int, int]]:
    """The (layer, z, x, y) of every cached tile (of one layer): for tests, benchmarks and the admin."""
    with connection.cursor() as cursor:
        if layer is None:
            cursor.execute("SELECT layer, z, x, y FROM tiles_tile")
        else:
            cursor.execute("SELECT layer, z, x, y FROM tiles_tile WHERE layer = %s", [layer])
        return {(name, int(z), int(x), int(y)) for name, z, x, y in cursor.fetchall()}


def clear(layer: str | None = None) -> int:
    """Empty the cache (of one layer); returns the number of tiles dropped."""
    with connection.cursor() as cursor:
        if layer is None:
            cursor.execute("DELETE FROM tiles_tile")
        else:
            cursor.execute("DELETE FROM tiles_tile WHERE layer = %s", [layer])
        return cursor.rowcount
