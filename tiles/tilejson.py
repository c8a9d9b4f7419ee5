"""TileJSON 3.0.0 documents of the tiled layers: where the tiles are, zooms, bounds, fields per zoom."""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db.models import Extent

from tiles.layers import PublishedLayer
from tiles.vector import TILE_SPECS, max_zoom

WORLD_BOUNDS = [-180.0, -85.0511, 180.0, 85.0511]


def layer_bounds(layer: PublishedLayer) -> list[float]:
    """The extent of the layer's features (EPSG:4326), the world when it has none."""
    extent = layer.queryset().order_by().aggregate(extent=Extent(layer.geometry_field))["extent"]
    return [round(float(value), 6) for value in extent] if extent else list(WORLD_BOUNDS)


def tilejson(layer: PublishedLayer, *, tile_url: str) -> dict[str, Any]:
    """The TileJSON document of ``layer`` with ``tile_url`` as its one tile template.

    ``vector_layers[0].fields`` lists every field the tiles may carry (name → title); the extension
    ``fields_by_zoom`` says which of them a tile carries from which zoom.
    """
    spec = TILE_SPECS[layer.name]
    titles = {published.name: str(published.title) for published in layer.fields}
    top = max_zoom()
    bands = []
    for index, band in enumerate(spec.bands):
        last = spec.bands[index + 1].minzoom - 1 if index + 1 < len(spec.bands) else top
        bands.append({"minzoom": band.minzoom, "maxzoom": last, "fields": list(band.fields)})
    every_field = {name: titles[name] for band in spec.bands for name in band.fields}
    bounds = layer_bounds(layer)
    center_zoom = min(top, max(spec.minzoom, 12))
    return {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": str(layer.title),
        "scheme": "xyz",
        "tiles": [tile_url],
        "minzoom": spec.minzoom,
        "maxzoom": top,
        "bounds": bounds,
        "center": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), center_zoom],
        "vector_layers": [
            {
                "id": layer.name,
                "description": str(layer.title),
                "minzoom": spec.minzoom,
                "maxzoom": top,
                "fields": every_field,
                "fields_by_zoom": bands,
                "geometry": f"point below zoom {spec.points_below}, else polygon"
                if spec.points_below is not None
                else "polygon",
            }
        ],
    }
