"""Comparison of two plan versions: the footprint area added (B − A) and removed (A − B), in m².

The differences are computed in PostGIS with ``ST_Difference`` on the union of each version's
footprints, in the commune's projected CRS, and returned in EPSG:4326 for the map. Slivers smaller than
``MIN_DIFFERENCE_M2`` (drawing and transformation noise) count as no difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from plans.models import FeatureKind, PlanVersion, VersionStatus

MIN_DIFFERENCE_M2 = 0.01


class ComparisonRefused(DomainError):
    code = "comparison-refused"


@dataclass(frozen=True)
class VersionComparison:
    """What changed in the footprints from version ``a`` to version ``b``."""

    a: PlanVersion
    b: PlanVersion
    srid: int  # the projected CRS the areas are measured in
    a_area_m2: float
    b_area_m2: float
    added: MultiPolygon | None  # in B and not in A, EPSG:4326
    added_area_m2: float
    removed: MultiPolygon | None  # in A and not in B, EPSG:4326
    removed_area_m2: float

    @property
    def net_change_m2(self) -> float:
        return self.added_area_m2 - self.removed_area_m2


COMPARE_SQL = """
WITH a AS (
    SELECT COALESCE(ST_Union(ST_Transform(geom, %(srid)s)), ST_GeomFromText('POLYGON EMPTY', %(srid)s)) AS g
      FROM plans_planfeature WHERE version_id = %(a)s AND kind = %(kind)s
), b AS (
    SELECT COALESCE(ST_Union(ST_Transform(geom, %(srid)s)), ST_GeomFromText('POLYGON EMPTY', %(srid)s)) AS g
      FROM plans_planfeature WHERE version_id = %(b)s AND kind = %(kind)s
), diff AS (
    SELECT ST_Area(a.g) AS a_area, ST_Area(b.g) AS b_area,
           ST_CollectionExtract(ST_Difference(b.g, a.g), 3) AS added,
           ST_CollectionExtract(ST_Difference(a.g, b.g), 3) AS removed
      FROM a, b
)
SELECT a_area, b_area,
       ST_Area(added), ST_AsEWKB(ST_Multi(ST_Transform(added, 4326))),
       ST_Area(removed), ST_AsEWKB(ST_Multi(ST_Transform(removed, 4326)))
  FROM diff
"""


def _geometry(ewkb, area: float) -> MultiPolygon | None:
    if ewkb is None or area < MIN_DIFFERENCE_M2:
        return None
    geom = GEOSGeometry(memoryview(bytes(ewkb)))
    return None if geom.empty else geom


def compare_versions(*, a: PlanVersion, b: PlanVersion) -> VersionComparison:
    """Compare two ready versions of the same plan set (``a`` the earlier one, usually)."""
    if a.plan_set_id != b.plan_set_id:
        raise ComparisonRefused(_("Only two versions of the same plan set can be compared."))
    if a.pk == b.pk:
        raise ComparisonRefused(_("Choose two different versions to compare."))
    if a.status != VersionStatus.READY or b.status != VersionStatus.READY:
        raise ComparisonRefused(_("Only ready plan versions can be compared."))
    srid = a.plan_set.dossier.commune.projected_srid
    with connection.cursor() as cursor:
        cursor.execute(COMPARE_SQL, {"srid": srid, "a": a.pk, "b": b.pk, "kind": FeatureKind.FOOTPRINT})
        a_area, b_area, added_area, added, removed_area, removed = cursor.fetchone()
    added_area, removed_area = float(added_area or 0), float(removed_area or 0)
    added_geom, removed_geom = _geometry(added, added_area), _geometry(removed, removed_area)
    return VersionComparison(
        a=a,
        b=b,
        srid=srid,
        a_area_m2=round(float(a_area or 0), 2),
        b_area_m2=round(float(b_area or 0), 2),
        added=added_geom,
        added_area_m2=round(added_area, 2) if added_geom else 0.0,
        removed=removed_geom,
        removed_area_m2=round(removed_area, 2) if removed_geom else 0.0,
    )
