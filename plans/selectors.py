"""Reads of the plans app: a dossier's plan sets and versions, a version's features as GeoJSON.

Visibility follows the dossier (``permits.selectors``): a plan version of a dossier the user may not see
does not exist for them.
"""

from __future__ import annotations

import json

from django.db.models import Prefetch, QuerySet

from permits.models import Dossier
from permits.selectors import dossier_list_visible_to
from plans.models import FeatureKind, PlanFeature, PlanSet, PlanVersion


def plan_sets_of_dossier(*, dossier: Dossier) -> QuerySet[PlanSet]:
    """The sheets of a dossier, each with its versions in order (refused and processing ones included)."""
    versions = PlanVersion.objects.select_related("uploaded_by").order_by("number", "uploaded_at", "pk")
    return dossier.plan_sets.prefetch_related(Prefetch("versions", queryset=versions)).order_by("sheet")


def plan_version_get_visible(*, user, version_id: int) -> PlanVersion | None:
    """One plan version if the user may see its dossier, else None (the caller answers 404)."""
    dossiers = dossier_list_visible_to(user=user)
    return (
        PlanVersion.objects.select_related("plan_set__dossier__commune", "plan_set__dossier__applicant", "uploaded_by")
        .defer("plan_set__dossier__commune__geom")
        .filter(pk=version_id, plan_set__dossier__in=dossiers)
        .first()
    )


def plan_versions_ready(*, plan_set: PlanSet) -> QuerySet[PlanVersion]:
    return plan_set.versions.filter(status="ready").order_by("number")


def version_features_geojson(*, version: PlanVersion, display: bool = False) -> dict:
    """The version's footprints and site boundary as a GeoJSON FeatureCollection (EPSG:4326).

    ``display`` adds the translated kind and rounds areas to the centimetre, for the viewer's pages.
    """
    features = []
    for feature in PlanFeature.objects.filter(version=version).order_by("kind", "pk"):
        properties = {
            "kind": feature.kind,
            "layer": feature.layer,
            "floors": feature.floors,
            "height_m": feature.height_m,
            "area_m2": round(feature.area_m2, 2) if display else feature.area_m2,
            "version": version.number,
        }
        if display:
            properties["kind_label"] = str(FeatureKind(feature.kind).label)
        geometry = json.loads(feature.geom.geojson)
        features.append({"type": "Feature", "id": feature.pk, "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}
