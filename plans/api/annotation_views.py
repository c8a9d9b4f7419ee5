"""API of plan review: annotations of a version (GeoJSON), replies, resolve/reopen, pre-checks, comparison.

Views only check who asks, validate the input and call ``plans.annotations`` / ``plans.prechecks`` /
``plans.compare``; refusals are ``DomainError``s, so every error is a problem document
(``config/api_errors.py``). A version or annotation of a dossier the user may not see is a 404.

Annotation authors are named to staff only; applicants and architects see "Reviewer" for the
administration's remarks, as on the dossier timeline.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_errors import NotFound
from permits.api.views import ERRORS, READ_ERRORS, PermitsApi
from permits.roles import user_is_staff_role
from plans import annotations as services
from plans.annotations import AnnotationRefused
from plans.compare import VersionComparison, compare_versions
from plans.models import Annotation, AnnotationKind, AnnotationReply, PlanVersion
from plans.prechecks import PreCheck, prechecks_for_version
from plans.review_selectors import (
    AnnotationThread,
    annotation_get_visible,
    annotation_threads,
)
from plans.selectors import plan_version_get_visible

TAGS = ["plans"]
GEOJSON = OpenApiResponse(OpenApiTypes.OBJECT, description="A GeoJSON Feature or FeatureCollection (EPSG:4326).")


# --- presentation (also used by the viewer page for its first paint) ----------------------------------


def person_label(person, *, viewer) -> str:
    """A person's name for staff; for filers, "Reviewer" when the person is staff, else their name."""
    if person is None:
        return ""
    name = person.get_full_name() or person.get_username()
    if user_is_staff_role(viewer) or not user_is_staff_role(person):
        return name
    return _("Reviewer")


def reply_output(answer: AnnotationReply, *, viewer) -> dict[str, Any]:
    return {
        "id": answer.pk,
        "annotation": answer.annotation_id,
        "author": person_label(answer.author, viewer=viewer),
        "by_reviewer": user_is_staff_role(answer.author),
        "text": answer.text,
        "created_at": answer.created_at.isoformat(),
    }


def annotation_feature(thread: AnnotationThread, *, viewer) -> dict[str, Any]:
    """An annotation as a GeoJSON Feature with its conversation."""
    annotation = thread.annotation
    return {
        "type": "Feature",
        "id": annotation.pk,
        "geometry": json.loads(annotation.geom.geojson),
        "properties": {
            "id": annotation.pk,
            "version": annotation.version_id,
            "kind": annotation.kind,
            "kind_label": str(AnnotationKind(annotation.kind).label),
            "text": annotation.text,
            "status": annotation.status,
            "status_label": annotation.get_status_display(),
            "author": person_label(annotation.author, viewer=viewer),
            "created_at": annotation.created_at.isoformat(),
            "resolved_at": annotation.resolved_at.isoformat() if annotation.resolved_at else None,
            "resolved_by": person_label(annotation.resolved_by, viewer=viewer) or None,
            "carried_from": annotation.carried_from_id,
            "carried_from_version": thread.carried_from_version,
            "replies": [reply_output(answer, viewer=viewer) for answer in thread.replies],
        },
    }


def annotation_collection(*, version: PlanVersion, viewer) -> dict[str, Any]:
    threads = annotation_threads(version=version)
    return {"type": "FeatureCollection", "features": [annotation_feature(t, viewer=viewer) for t in threads]}


def precheck_output(check: PreCheck) -> dict[str, Any]:
    return {
        "code": check.code,
        "label": check.label,
        "value": check.value,
        "limit": check.limit,
        "unit": check.unit,
        "passed": check.passed,
        "rule": check.rule,
        "explanation": check.explanation,
    }


def comparison_output(comparison: VersionComparison) -> dict[str, Any]:
    features = []
    for change, geom, area in (
        ("added", comparison.added, comparison.added_area_m2),
        ("removed", comparison.removed, comparison.removed_area_m2),
    ):
        if geom is not None:
            properties = {"change": change, "area_m2": area}
            features.append({"type": "Feature", "geometry": json.loads(geom.geojson), "properties": properties})
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "a": {"id": comparison.a.pk, "number": comparison.a.number, "footprint_area_m2": comparison.a_area_m2},
            "b": {"id": comparison.b.pk, "number": comparison.b.number, "footprint_area_m2": comparison.b_area_m2},
            "added_area_m2": comparison.added_area_m2,
            "removed_area_m2": comparison.removed_area_m2,
            "net_change_m2": round(comparison.net_change_m2, 2),
            "measured_in": f"EPSG:{comparison.srid}",
        },
    }


# --- helpers ----------------------------------------------------------------------------------------------


def _version(request: Request, version_id: int) -> PlanVersion:
    version = plan_version_get_visible(user=request.user, version_id=version_id)
    if version is None:
        raise NotFound(_("No plan version with id %(id)s.") % {"id": version_id})
    return version


def _annotation(request: Request, annotation_id: int) -> Annotation:
    annotation = annotation_get_visible(user=request.user, annotation_id=annotation_id)
    if annotation is None:
        raise NotFound(_("No annotation with id %(id)s.") % {"id": annotation_id})
    return annotation


def _feature_of(annotation: Annotation, request: Request) -> dict[str, Any]:
    thread = next(t for t in annotation_threads(version=annotation.version) if t.annotation.pk == annotation.pk)
    return annotation_feature(thread, viewer=request.user)


class TextInput(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=True, max_length=services.MAX_TEXT_LENGTH)


# --- annotations ------------------------------------------------------------------------------------------


class AnnotationListCreateApi(PermitsApi):
    """List a version's annotations (GeoJSON) or add one (reviewers)."""

    class AnnotationInput(serializers.Serializer):
        type = serializers.CharField(required=False, help_text="`Feature` when a GeoJSON Feature is sent.")
        kind = serializers.ChoiceField(choices=AnnotationKind.choices, required=False)
        text = serializers.CharField(required=False, allow_blank=True)
        geometry = serializers.JSONField(help_text="GeoJSON geometry in EPSG:4326.")
        properties = serializers.DictField(required=False, help_text="For a Feature: `kind` and `text`.")

    @extend_schema(
        operation_id="plan_annotation_list",
        tags=TAGS,
        summary="List the annotations of a plan version",
        description="A GeoJSON FeatureCollection (EPSG:4326); each feature carries its status and its replies, "
        "those of the versions it was carried from included.",
        responses={200: GEOJSON, **READ_ERRORS},
    )
    def get(self, request: Request, version_id: int) -> Response:
        version = _version(request, version_id)
        return Response(annotation_collection(version=version, viewer=request.user))

    @extend_schema(
        operation_id="plan_annotation_create",
        tags=TAGS,
        summary="Annotate a plan version (reviewers)",
        description="Send `{kind, text, geometry}` or a GeoJSON Feature whose properties hold `kind` and `text`. "
        "Kinds: point and text (Point), line (LineString), polygon (Polygon).",
        request=AnnotationInput,
        responses={201: GEOJSON, **ERRORS},
    )
    def post(self, request: Request, version_id: int) -> Response:
        version = _version(request, version_id)
        data = request.data if isinstance(request.data, dict) else {}
        properties = data.get("properties") if isinstance(data.get("properties"), dict) else {}
        kind = str(properties.get("kind", data.get("kind", "")) or "")
        text = str(properties.get("text", data.get("text", "")) or "")
        geometry = data.get("geometry")
        if not isinstance(geometry, dict):
            raise AnnotationRefused(_("Send the annotation's geometry as GeoJSON."), code="invalid-geometry")
        annotation = services.add_annotation(version=version, kind=kind, geom=geometry, text=text, by=request.user)
        return Response(_feature_of(annotation, request), status=201)


class AnnotationReplyApi(PermitsApi):
    @extend_schema(
        operation_id="plan_annotation_reply",
        tags=TAGS,
        summary="Answer an open annotation (the dossier's filers and reviewers)",
        request=TextInput,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, annotation_id: int) -> Response:
        annotation = _annotation(request, annotation_id)
        serializer = TextInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = services.reply(annotation=annotation, text=serializer.validated_data["text"], by=request.user)
        return Response(reply_output(answer, viewer=request.user), status=201)


class AnnotationResolveApi(PermitsApi):
    @extend_schema(
        operation_id="plan_annotation_resolve",
        tags=TAGS,
        summary="Resolve an annotation (reviewers)",
        request=None,
        responses={200: GEOJSON, **ERRORS},
    )
    def post(self, request: Request, annotation_id: int) -> Response:
        annotation = services.resolve(annotation=_annotation(request, annotation_id), by=request.user)
        return Response(_feature_of(annotation, request))


class AnnotationReopenApi(PermitsApi):
    @extend_schema(
        operation_id="plan_annotation_reopen",
        tags=TAGS,
        summary="Reopen a resolved annotation (reviewers)",
        request=None,
        responses={200: GEOJSON, **ERRORS},
    )
    def post(self, request: Request, annotation_id: int) -> Response:
        annotation = services.reopen(annotation=_annotation(request, annotation_id), by=request.user)
        return Response(_feature_of(annotation, request))


# --- pre-checks and comparison ----------------------------------------------------------------------------


class PreCheckListApi(PermitsApi):
    @extend_schema(
        operation_id="plan_precheck_list",
        tags=TAGS,
        summary="Pre-checks of a plan version against the parcel and its zone",
        description="Each check: `code`, `label`, measured `value`, `limit`, `unit`, `passed` (true, false, or null "
        "when it cannot be computed — `explanation` says why) and the `rule` it comes from. Measured in the "
        "commune's projected CRS.",
        responses={200: OpenApiTypes.OBJECT, **READ_ERRORS},
    )
    def get(self, request: Request, version_id: int) -> Response:
        version = _version(request, version_id)
        checks = prechecks_for_version(version=version)
        return Response({"version": version.pk, "checks": [precheck_output(check) for check in checks]})


class VersionCompareApi(PermitsApi):
    @extend_schema(
        operation_id="plan_version_compare",
        tags=TAGS,
        summary="Footprint added and removed between two versions of a plan set",
        description="A GeoJSON FeatureCollection with the `added` (in B, not in A) and `removed` (in A, not in B) "
        "areas and their surfaces in m², measured in the commune's projected CRS.",
        responses={200: GEOJSON, **ERRORS},
    )
    def get(self, request: Request, a: int, b: int) -> Response:
        comparison = compare_versions(a=_version(request, a), b=_version(request, b))
        return Response(comparison_output(comparison))
