"""Reads for the public map page: where the map opens.

The map's layers come from the API; the page itself only needs the extent to open on.
"""

from __future__ import annotations

from django.contrib.gis.db.models import Extent
from django.db.models import Exists, OuterRef

from geo.models import AdminArea, AdminLevel, Parcel

BBox = tuple[float, float, float, float]


def map_initial_extent() -> BBox | None:
    """The extent (min lon, min lat, max lon, max lat, EPSG:4326) the public map opens on.

    The communes that hold parcels (the demo commune after ``seed_demo``), else every commune, else
    ``None`` when no commune is loaded yet.
    """
    communes = AdminArea.objects.filter(level=AdminLevel.COMMUNE)
    with_parcels = communes.filter(Exists(Parcel.objects.filter(commune=OuterRef("pk"))))
    for queryset in (with_parcels, communes):
        extent = queryset.aggregate(extent=Extent("geom"))["extent"]
        if extent is not None:
            return tuple(float(value) for value in extent)
    return None
