"""Plans as GIS: plan sets of a dossier, their immutable versions, what was extracted from each file.

A *plan set* is one sheet of a dossier's drawings (e.g. "ground floor", "site plan"); each upload of that
sheet is a new *plan version* (v1, v2, ...) that is never changed nor deleted once it is ``ready``. What the
importer reads from the file (units, CRS and how it was found, extent, transformation, warnings) is stored on
the version; footprints and the site boundary are PostGIS features (``PlanFeature``) in EPSG:4326 with their
area measured in the commune's projected CRS. Control points tie drawing coordinates to a projected CRS.
Reviewers' annotations are features of a version, carried to the next version while open.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from geo.models import STORAGE_SRID


class PlanFormat(models.TextChoices):
    DXF = "dxf", "DXF"
    PDF = "pdf", "PDF"


class CrsSource(models.TextChoices):
    GEODATA = "geodata", _("GEODATA object in the drawing")
    DETECTED = "detected", _("coordinates already in a Moroccan projected CRS")
    CONTROL_POINTS = "control_points", _("control points")
    NONE = "none", _("not georeferenced")


class VersionStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    REFUSED = "refused", _("Refused")


class PlanSet(models.Model):
    """One sheet of a dossier's drawings; its versions follow each other."""

    dossier = models.ForeignKey("permits.Dossier", on_delete=models.PROTECT, related_name="plan_sets")
    sheet = models.CharField(_("sheet"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("plan set")
        verbose_name_plural = _("plan sets")
        ordering = ["dossier", "sheet"]
        constraints = [models.UniqueConstraint(fields=["dossier", "sheet"], name="plan_set_unique_sheet")]

    def __str__(self) -> str:
        return self.sheet


def plan_upload_path(instance: PlanVersion, filename: str) -> str:
    # Named by checksum: a version still processing has no number yet.
    return f"plans/{instance.plan_set.dossier_id}/{instance.plan_set_id}/{instance.sha256[:16]}.{instance.format}"


def plan_derived_path(instance: PlanVersion, filename: str) -> str:
    return f"plans/{instance.plan_set.dossier_id}/{instance.plan_set_id}/derived/v{instance.number}-{filename}"


class PlanVersion(models.Model):
    """One uploaded file of a plan set. Immutable once ready; a refused upload keeps no file."""

    plan_set = models.ForeignKey(PlanSet, on_delete=models.PROTECT, related_name="versions")
    # Given when the version becomes ready (v1, v2, ...); None while processing and for a refused upload.
    number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.PROCESSING
    )
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    file = models.FileField(upload_to=plan_upload_path, max_length=300)
    original_name = models.CharField(max_length=255)
    format = models.CharField(_("format"), max_length=4, choices=PlanFormat.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # What the importer read from the file (format_version e.g. "R2018 (AC1032)", "PDF 1.7").
    format_version = models.CharField(_("format version"), max_length=40, blank=True)
    units = models.CharField(_("drawing units"), max_length=20, blank=True)  # "mm", "cm", "m", "pt", "" when unknown
    units_inferred = models.BooleanField(_("units inferred from the extents"), default=False)
    units_confirmed = models.BooleanField(_("units confirmed by the uploader"), default=False)
    page = models.PositiveSmallIntegerField(_("PDF page"), null=True, blank=True)  # 1-based, PDF only
    page_size_mm = models.JSONField(_("page size (mm)"), null=True, blank=True)  # [width, height]
    declared_scale = models.PositiveIntegerField(_("declared scale (1:n)"), null=True, blank=True)
    metres_per_unit = models.FloatField(_("calibrated metres per drawing unit"), null=True, blank=True)
    crs_srid = models.PositiveIntegerField(_("CRS (EPSG)"), null=True, blank=True)
    crs_source = models.CharField(_("CRS found by"), max_length=20, choices=CrsSource.choices, default=CrsSource.NONE)
    # Drawing coordinates -> crs_srid, as the 6 coefficients [a, b, c, d, e, f]: X = a*x + b*y + c, Y = d*x + e*y + f.
    transform = models.JSONField(_("transformation"), null=True, blank=True)
    transform_kind = models.CharField(_("transformation kind"), max_length=20, blank=True)  # similarity / affine
    rmse_m = models.FloatField(_("RMSE (m)"), null=True, blank=True)
    extent = models.JSONField(_("extent in drawing coordinates"), null=True, blank=True)  # [minx, miny, maxx, maxy]
    footprint_area_m2 = models.FloatField(_("footprint area (m²)"), null=True, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors read from the drawing"), null=True, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    entity_count = models.PositiveIntegerField(_("entities"), null=True, blank=True)
    preview = models.FileField(upload_to=plan_derived_path, max_length=300, blank=True)  # PNG or SVG
    raster = models.FileField(upload_to=plan_derived_path, max_length=300, blank=True)  # COG when georeferenced
    raster_updated_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan_set", "number"]
        constraints = [models.UniqueConstraint(fields=["plan_set", "number"], name="plan_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.plan_set} v{self.number}" if self.number else f"{self.plan_set} ({self.status})"


class FeatureKind(models.TextChoices):
    FOOTPRINT = "footprint", _("Building footprint")
    SITE_BOUNDARY = "site_boundary", _("Site boundary")


class PlanFeature(models.Model):
    """A footprint or the site boundary extracted from a georeferenced plan version."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="features")
    kind = models.CharField(_("kind"), max_length=20, choices=FeatureKind.choices)
    layer = models.CharField(_("drawing layer"), max_length=255, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    height_m = models.FloatField(_("height (m)"), null=True, blank=True)
    area_m2 = models.FloatField(_("area (m²)"))
    geom = models.MultiPolygonField(_("geometry"), srid=STORAGE_SRID)

    class Meta:
        verbose_name = _("plan feature")
        verbose_name_plural = _("plan features")


class ControlPoint(models.Model):
    """A drawing point (x, y) tied to a point of a projected CRS; its residual after the fit."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="control_points")
    drawing_x = models.FloatField()
    drawing_y = models.FloatField()
    world_x = models.FloatField()
    world_y = models.FloatField()
    srid = models.PositiveIntegerField()
    residual_m = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("control point")
        verbose_name_plural = _("control points")


class AnnotationKind(models.TextChoices):
    POINT = "point", _("Point")
    LINE = "line", _("Line")
    POLYGON = "polygon", _("Polygon")
    TEXT = "text", _("Text")


class AnnotationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Annotation(models.Model):
    """A reviewer's remark drawn on a plan version; open ones are carried to the next version."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="annotations")
    kind = models.CharField(_("kind"), max_length=10, choices=AnnotationKind.choices)
    geom = models.GeometryField(_("geometry"), srid=STORAGE_SRID)
    text = models.TextField(_("remark"))
    status = models.CharField(
        _("status"), max_length=10, choices=AnnotationStatus.choices, default=AnnotationStatus.OPEN
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    carried_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried_to")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("annotation")
        verbose_name_plural = _("annotations")
        ordering = ["version", "created_at"]


class AnnotationReply(models.Model):
    """An answer to an annotation, by the applicant's side or a reviewer."""

    annotation = models.ForeignKey(Annotation, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("reply"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["annotation", "created_at"]
