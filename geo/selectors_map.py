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


def authorised_work_filters(*, language: str) -> dict:
    """Choices of the map's authorised-works filters: the procedures present (code, name in ``language``)
    and the range of decision dates (ISO dates, or None when no work is published yet).
    """
    from django.db.models import Max, Min

    from geo.models import AuthorisedWork
    from permits.models import Procedure

    rows = AuthorisedWork.objects.order_by().values("procedure_code", "procedure_name").distinct()
    present = {row["procedure_code"]: row["procedure_name"] for row in rows}
    name_field = {"ar": "name_ar", "en": "name_en"}.get(language, "name_fr")
    localised = {
        procedure.code: getattr(procedure, name_field) or procedure.name_fr
        for procedure in Procedure.objects.filter(code__in=present)
    }
    procedures = sorted(
        ({"code": code, "name": localised.get(code) or name or code} for code, name in present.items()),
        key=lambda item: item["code"],
    )
    dates = AuthorisedWork.objects.aggregate(first=Min("decision_date"), last=Max("decision_date"))
    return {
        "procedures": procedures,
        "firstDecision": dates["first"].isoformat() if dates["first"] else None,
        "lastDecision": dates["last"].isoformat() if dates["last"] else None,
    }
