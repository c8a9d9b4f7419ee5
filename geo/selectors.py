"""Reads of the geo app: find parcels by reference, point or box, with the rules and constraints that apply.

Every function here is keyword-only and returns a queryset or plain data; nothing here writes.
A parcel's zoning is every zone that covers at least ``MIN_ZONE_SHARE`` of it (largest share first),
so a parcel straddling two zones shows both; its constraints are every constraint area it touches.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point, Polygon
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, QuerySet
from django.db.models.functions import JSONObject

from geo import crs
from geo.db import OverlapShare
from geo.models import STORAGE_SRID, AdminArea, ConstraintArea, Parcel, ZoningZone, reference_key

# A zone covering less than this share of a parcel is a drawing sliver, not a rule that applies.
MIN_ZONE_SHARE = 0.01


@dataclass(frozen=True)
class BBox:
    """A box in longitude/latitude (EPSG:4326)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def polygon(self) -> Polygon:
        return Polygon.from_bbox((self.min_lon, self.min_lat, self.max_lon, self.max_lat))


def _zoning_subquery() -> ArraySubquery:
    zones = (
        ZoningZone.objects.filter(geom__intersects=OuterRef("geom"))
        .annotate(share=OverlapShare(F("geom"), OuterRef("geom")))
        .filter(share__gte=MIN_ZONE_SHARE)
        .order_by("-share", "regulation__zone_code")
        .values(
            json=JSONObject(
                plan=F("plan__code"),
                plan_name=F("plan__name"),
                zone_code=F("regulation__zone_code"),
                label=F("regulation__label"),
                max_height_m=F("regulation__max_height_m"),
                max_floors=F("regulation__max_floors"),
                coverage_ratio=F("regulation__coverage_ratio"),
                floor_area_ratio=F("regulation__floor_area_ratio"),
                min_setback_m=F("regulation__min_setback_m"),
                allowed_uses=F("regulation__allowed_uses"),
                share=F("share"),
            )
        )
    )
    return ArraySubquery(zones)


def _constraints_subquery() -> ArraySubquery:
    areas = (
        ConstraintArea.objects.filter(geom__intersects=OuterRef("geom"))
        .order_by("kind", "source_key")
        .values(json=JSONObject(id=F("id"), kind=F("kind"), name=F("name")))
    )
    return ArraySubquery(areas)


def parcels_with_rules(queryset: QuerySet[Parcel]) -> QuerySet[Parcel]:
    """Annotate parcels with ``zoning`` and ``constraints`` (lists of dicts) and their commune, in one query."""
    # The commune's boundary is not needed to describe a parcel: never load it with every parcel.
    return (
        queryset.select_related("commune")
        .defer("commune__geom")
        .annotate(zoning=_zoning_subquery(), constraints=_constraints_subquery())
    )


def parcel_list_by_reference(*, reference: str) -> QuerySet[Parcel]:
    """The parcel whose reference equals ``reference``, ignoring case and spaces."""
    return parcels_with_rules(Parcel.objects.filter(reference_key=reference_key(reference)))


def parcel_list_by_reference_prefix(*, prefix: str) -> QuerySet[Parcel]:
    """Parcels whose reference starts with ``prefix`` (case and spaces ignored), in reference order."""
    return parcels_with_rules(
        Parcel.objects.filter(reference_key__startswith=reference_key(prefix)).order_by("reference_key")
    )


def parcel_list_at_point(*, x: float, y: float, srid: int = STORAGE_SRID) -> QuerySet[Parcel]:
    """Parcels that contain a point given in any CRS (longitude/latitude by default)."""
    if srid != STORAGE_SRID:
        x, y = crs.transform_point(x, y, source_srid=srid, target_srid=STORAGE_SRID)
    point = Point(x, y, srid=STORAGE_SRID)
    return parcels_with_rules(Parcel.objects.filter(geom__intersects=point).order_by("reference_key"))


def parcel_list_in_bbox(*, bbox: BBox) -> QuerySet[Parcel]:
    """Parcels intersecting a box, without rules (a map layer, not a lookup)."""
    return Parcel.objects.filter(geom__intersects=bbox.polygon()).order_by("id")


def parcel_get(*, parcel_id: int) -> Parcel | None:
    """One parcel with its rules, or None."""
    return parcels_with_rules(Parcel.objects.filter(pk=parcel_id)).first()


def admin_area_list(*, bbox: BBox | None = None, level: str | None = None) -> QuerySet[AdminArea]:
    """Administrative areas, optionally within a box and at one level."""
    queryset = AdminArea.objects.select_related("parent").order_by("code")
    if bbox is not None:
        queryset = queryset.filter(geom__intersects=bbox.polygon())
    if level:
        queryset = queryset.filter(level=level)
    return queryset


def zoning_zone_list(*, bbox: BBox | None = None, plan: str | None = None) -> QuerySet[ZoningZone]:
    """Zoning zones with their regulation, optionally within a box and for one plan."""
    queryset = ZoningZone.objects.select_related("plan", "regulation").order_by("plan__code", "source_key")
    if bbox is not None:
        queryset = queryset.filter(geom__intersects=bbox.polygon())
    if plan:
        queryset = queryset.filter(plan__code=plan)
    return queryset


def constraint_area_list(*, bbox: BBox | None = None, kind: str | None = None) -> QuerySet[ConstraintArea]:
    """Constraint areas, optionally within a box and of one kind."""
    queryset = ConstraintArea.objects.order_by("kind", "source_key")
    if bbox is not None:
        queryset = queryset.filter(geom__intersects=bbox.polygon())
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset
