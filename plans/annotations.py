"""Reviewers' annotations on plan versions: add, reply, resolve, reopen, carry open ones to the next version.

Who may do what:

- a plan version the user may not see (a foreign dossier for an applicant or architect) does not exist
  for them: :class:`config.api_errors.NotFound`, never a refusal that would confirm it exists;
- reviewers — the staff roles (desk, committee members and president, signatories, inspectors, planners,
  administrators) — draw annotations, resolve and reopen them;
- the dossier's filers (its architect, its creator, the applicant's account) and reviewers reply to open
  annotations; filers never draw, resolve nor reopen.

Annotations are features in EPSG:4326 like every geometry here, so they are only drawn on georeferenced
versions. When a new version of the plan set becomes ready, its importer calls
:func:`carry_open_annotations`: each open annotation is copied onto the new version with ``carried_from``
pointing at it; the old version keeps its annotations as they were. Every write appends an audit record.
"""

from __future__ import annotations

import json

from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from config.api_errors import DomainError, NotFound
from permits.audit import audit_append
from permits.roles import user_is_staff_role
from permits.selectors import dossier_list_visible_to
from permits.workflow import is_filer
from plans.models import (
    Annotation,
    AnnotationKind,
    AnnotationReply,
    AnnotationStatus,
    CrsSource,
    PlanVersion,
    VersionStatus,
)

# The geometry type each kind of annotation takes (a text is anchored at a point).
GEOMETRY_OF_KIND = {
    AnnotationKind.POINT: "Point",
    AnnotationKind.LINE: "LineString",
    AnnotationKind.POLYGON: "Polygon",
    AnnotationKind.TEXT: "Point",
}
MAX_TEXT_LENGTH = 4000
# Plenty for a polygon drawn by hand; beyond that it is not a remark but an import.
MAX_VERTICES = 2000


class AnnotationRefused(DomainError):
    code = "annotation-refused"


class AnnotationForbidden(DomainError):
    http_status = status.HTTP_403_FORBIDDEN
    code = "annotation-forbidden"


def may_annotate(user) -> bool:
    """Reviewers (staff roles) draw, resolve and reopen annotations."""
    return user_is_staff_role(user)


def may_reply(user, version: PlanVersion) -> bool:
    """Filers of the dossier and reviewers answer annotations."""
    return user_is_staff_role(user) or is_filer(user, version.plan_set.dossier)


def is_georeferenced(version: PlanVersion) -> bool:
    return version.crs_source != CrsSource.NONE and version.crs_srid is not None


def _visible_version(user, version: PlanVersion) -> PlanVersion:
    """The version, locked-in with its dossier, if the user may see it; else NotFound."""
    visible = dossier_list_visible_to(user=user).filter(pk=version.plan_set.dossier_id).exists()
    if not visible:
        raise NotFound(_("No such plan version."))
    return version


def _clean_text(text: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise AnnotationRefused(_("Write the remark: an empty text is not an annotation."), code="empty-text")
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise AnnotationRefused(
            _("The text is too long (at most %(max)s characters).") % {"max": MAX_TEXT_LENGTH}, code="text-too-long"
        )
    return cleaned


def clean_geometry(*, kind: str, geom: GEOSGeometry | str | dict) -> GEOSGeometry:
    """Check an annotation's geometry against its kind and return it in EPSG:4326.

    ``geom`` is a GEOS geometry or GeoJSON (text or dict, longitude/latitude unless it carries an SRID).
    """
    if kind not in AnnotationKind.values:
        raise AnnotationRefused(
            _("Unknown kind of annotation “%(kind)s”: use point, line, polygon or text.") % {"kind": kind},
            code="invalid-kind",
        )
    try:
        if isinstance(geom, dict):
            geom = GEOSGeometry(json.dumps(geom))
        elif isinstance(geom, str):
            geom = GEOSGeometry(geom)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise AnnotationRefused(_("The geometry cannot be read."), code="invalid-geometry") from exc
    if not isinstance(geom, GEOSGeometry):
        raise AnnotationRefused(_("The geometry cannot be read."), code="invalid-geometry")
    if geom.srid is None:
        geom.srid = 4326
    if geom.srid != 4326:
        geom = geom.transform(4326, clone=True)
    expected = GEOMETRY_OF_KIND[AnnotationKind(kind)]
    if geom.geom_type != expected:
        raise AnnotationRefused(
            _("A %(kind)s annotation needs a %(expected)s geometry, not a %(given)s.")
            % {"kind": AnnotationKind(kind).label, "expected": expected, "given": geom.geom_type},
            code="invalid-geometry",
        )
    if geom.empty or not geom.valid or geom.num_coords > MAX_VERTICES:
        raise AnnotationRefused(_("The geometry is not valid (empty, self-intersecting or too large)."),
                                code="invalid-geometry")  # fmt: skip
    if expected == "LineString" and geom.length == 0:
        raise AnnotationRefused(_("A line needs two different points."), code="invalid-geometry")
    min_x, min_y, max_x, max_y = geom.extent
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise AnnotationRefused(
            _("The geometry is outside longitude/latitude bounds: send EPSG:4326 coordinates."),
            code="invalid-geometry",
        )
    return geom


def _audit(action: str, *, by, annotation: Annotation, **payload) -> None:
    audit_append(
        action=f"plan.annotation.{action}",
        actor=by,
        dossier_id=annotation.version.plan_set.dossier_id,
        payload={"annotation": annotation.pk, "version": annotation.version_id, **payload},
    )


def add_annotation(*, version: PlanVersion, kind: str, geom: GEOSGeometry | str | dict, text: str, by) -> Annotation:
    """A reviewer's remark drawn on a ready, georeferenced plan version."""
    _visible_version(by, version)
    if not may_annotate(by):
        raise AnnotationForbidden(_("Only reviewers annotate plans; answer the annotations instead."))
    if version.status != VersionStatus.READY:
        raise AnnotationRefused(_("Only a ready plan version can be annotated."), code="version-not-ready")
    if not is_georeferenced(version):
        raise AnnotationRefused(
            _("This plan version is not georeferenced: place it with control points before annotating it."),
            code="not-georeferenced",
        )
    cleaned_geom = clean_geometry(kind=kind, geom=geom)
    cleaned_text = _clean_text(text)
    with transaction.atomic():
        annotation = Annotation.objects.create(
            version=version, kind=kind, geom=cleaned_geom, text=cleaned_text, author=by
        )
        _audit("added", by=by, annotation=annotation, kind=kind)
    return annotation


def reply(*, annotation: Annotation, text: str, by) -> AnnotationReply:
    """An answer to an open annotation, by a filer of the dossier or a reviewer."""
    _visible_version(by, annotation.version)
    if not may_reply(by, annotation.version):
        raise AnnotationForbidden(_("Only the dossier's filers and the reviewers answer annotations."))
    cleaned = _clean_text(text)
    with transaction.atomic():
        locked = Annotation.objects.select_for_update().get(pk=annotation.pk)
        if locked.status != AnnotationStatus.OPEN:
            raise AnnotationRefused(_("This annotation is resolved: it takes no more answers."), code="resolved")
        answer = AnnotationReply.objects.create(annotation=locked, author=by, text=cleaned)
        _audit("replied", by=by, annotation=locked, reply=answer.pk)
    return answer


def resolve(*, annotation: Annotation, by) -> Annotation:
    """A reviewer closes an annotation: the remark has been dealt with."""
    _visible_version(by, annotation.version)
    if not may_annotate(by):
        raise AnnotationForbidden(_("Only reviewers resolve annotations."))
    with transaction.atomic():
        locked = Annotation.objects.select_for_update().get(pk=annotation.pk)
        if locked.status == AnnotationStatus.RESOLVED:
            raise AnnotationRefused(_("This annotation is already resolved."), code="already-resolved")
        locked.status = AnnotationStatus.RESOLVED
        locked.resolved_at = timezone.now()
        locked.resolved_by = by
        locked.save(update_fields=["status", "resolved_at", "resolved_by"])
        _audit("resolved", by=by, annotation=locked)
    return locked


def reopen(*, annotation: Annotation, by) -> Annotation:
    """A reviewer reopens a resolved annotation."""
    _visible_version(by, annotation.version)
    if not may_annotate(by):
        raise AnnotationForbidden(_("Only reviewers reopen annotations."))
    with transaction.atomic():
        locked = Annotation.objects.select_for_update().get(pk=annotation.pk)
        if locked.status == AnnotationStatus.OPEN:
            raise AnnotationRefused(_("This annotation is already open."), code="already-open")
        locked.status = AnnotationStatus.OPEN
        locked.resolved_at = None
        locked.resolved_by = None
        locked.save(update_fields=["status", "resolved_at", "resolved_by"])
        _audit("reopened", by=by, annotation=locked)
    return locked


def carry_open_annotations(*, from_version: PlanVersion, to_version: PlanVersion) -> int:
    """Copy the open annotations of a version onto the next one of the same plan set; returns how many.

    Idempotent: an annotation already carried to ``to_version`` is not copied twice. The copies keep the
    author, kind, geometry and text, point at their original through ``carried_from`` and are open; the
    originals are not changed.
    """
    if from_version.plan_set_id != to_version.plan_set_id:
        raise AnnotationRefused(_("Annotations are carried only between versions of the same plan set."))
    if to_version.pk == from_version.pk or (
        from_version.number and to_version.number and to_version.number <= from_version.number
    ):
        raise AnnotationRefused(_("Annotations are carried only to a later version."))
    with transaction.atomic():
        already = set(
            Annotation.objects.filter(version=to_version, carried_from__isnull=False).values_list(
                "carried_from_id", flat=True
            )
        )
        originals = [
            a
            for a in Annotation.objects.filter(version=from_version, status=AnnotationStatus.OPEN).order_by("pk")
            if a.pk not in already
        ]
        Annotation.objects.bulk_create(
            [
                Annotation(
                    version=to_version, kind=a.kind, geom=a.geom, text=a.text, author_id=a.author_id, carried_from=a
                )
                for a in originals
            ]
        )
        if originals:
            audit_append(
                action="plan.annotation.carried",
                actor=None,
                dossier_id=from_version.plan_set.dossier_id,
                payload={"from_version": from_version.pk, "to_version": to_version.pk, "count": len(originals)},
            )
    return len(originals)
