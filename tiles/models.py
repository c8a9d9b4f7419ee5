"""The vector-tile cache: built tiles kept in PostgreSQL, and a change counter per layer.

Rows of ``tiles_tile`` are deleted by database triggers (migration ``0002_change_triggers``) the moment
a feature of the layer is inserted, changed or deleted: only the tiles whose area (with the tile's
buffer) touches the feature's old or new bounding box, at every zoom. ``LayerGeneration`` counts the
changes of a layer so that a tile built from a snapshot older than a change is never stored.
"""

from __future__ import annotations

from django.db import models


class CachedTile(models.Model):
    """One built tile (an empty ``data`` is an empty tile, answered with 204)."""

    layer = models.CharField(max_length=40)
    z = models.PositiveSmallIntegerField()
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    data = models.BinaryField()
    etag = models.CharField(max_length=40)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "tiles_tile"
        constraints = [models.UniqueConstraint(fields=["layer", "z", "x", "y"], name="tiles_tile_unique_address")]

    def __str__(self) -> str:
        return f"{self.layer}/{self.z}/{self.x}/{self.y}"


class LayerGeneration(models.Model):
    """How many changes a layer has seen (bumped by the change triggers, read with every tile built)."""

    layer = models.CharField(max_length=40, primary_key=True)
    generation = models.BigIntegerField(default=0)

    class Meta:
        db_table = "tiles_layergeneration"

    def __str__(self) -> str:
        return f"{self.layer}: {self.generation}"
