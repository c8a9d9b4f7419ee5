"""PostGIS features: administrative areas, parcels, zoning plans and their zones, constraint areas.

Geometries are stored in EPSG:4326 (``STORAGE_SRID``) with GiST indexes. Areas are measured in the
projected CRS of the commune (``AdminArea.projected_srid``), and each parcel records which CRS its
area was measured in.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _

STORAGE_SRID = 4326

_SPACES = re.compile(r"\s+")


def reference_key(reference: str) -> str:
    """The search key of a land-title reference: upper case, without spaces (``tf 12345 / c`` → ``TF12345/C``)."""
    return _SPACES.sub("", reference or "").upper()


class AdminLevel(models.TextChoices):
    REGION = "region", _("Region")
    PROVINCE = "province", _("Province or prefecture")
    COMMUNE = "commune", _("Commune")
    ARRONDISSEMENT = "arrondissement", _("Arrondissement")


# From the largest to the smallest: a parent is always one step up this list.
ADMIN_LEVEL_ORDER = [AdminLevel.REGION, AdminLevel.PROVINCE, AdminLevel.COMMUNE, AdminLevel.ARRONDISSEMENT]


class AdminArea(models.Model):
    """A region, province/prefecture, commune or arrondissement with its official code."""

    level = models.CharField(_("level"), max_length=20, choices=AdminLevel.choices)
    code = models.CharField(_("official code"), max_length=40, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    projected_srid = models.PositiveIntegerField(
        _("measurement CRS (EPSG)"),
        default=settings.TAAMIR_DEFAULT_PROJECTED_SRID,
        help_text=_("Projected CRS in which lengths and areas inside this area are measured."),
    )
    geom = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("administrative area")
        verbose_name_plural = _("administrative areas")
        ordering = ["code"]
        indexes = [models.Index(fields=["level"])]

    def __str__(self) -> str:
        return f"{self.name_fr} ({self.code})"


class Parcel(models.Model):
    """A land parcel identified by its land-title reference (e.g. ``TF 12345/C``)."""

    reference = models.CharField(_("land-title reference"), max_length=80)
    reference_key = models.CharField(_("search key"), max_length=80, unique=True, editable=False)
    commune = models.ForeignKey(
        AdminArea, verbose_name=_("commune"), null=True, blank=True, on_delete=models.SET_NULL, related_name="parcels"
    )
    area_m2 = models.FloatField(_("area (m²)"))
    area_srid = models.PositiveIntegerField(_("area measured in (EPSG)"))
    geom = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID)
    attributes = models.JSONField(_("source attributes"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["reference_key"]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        self.reference_key = reference_key(self.reference)
        super().save(*args, **kwargs)


class ZoningPlan(models.Model):
    """A plan d'aménagement (or any zoning plan) whose zones carry the building rules."""

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    commune = models.ForeignKey(
        AdminArea,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="zoning_plans",
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("zoning plan")
        verbose_name_plural = _("zoning plans")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ZoneRegulation(models.Model):
    """The rules of one zone type of a plan (e.g. ``R+4`` apartment zone), shared by all its polygons."""

    plan = models.ForeignKey(ZoningPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="regulations")
    zone_code = models.CharField(_("zone code"), max_length=40)
    label = models.CharField(_("label"), max_length=200, blank=True)
    max_height_m = models.FloatField(_("maximum height (m)"), null=True, blank=True)
    max_floors = models.PositiveSmallIntegerField(_("maximum floors"), null=True, blank=True)
    coverage_ratio = models.FloatField(_("maximum coverage ratio (CES)"), null=True, blank=True)
    floor_area_ratio = models.FloatField(_("maximum floor-area ratio (COS)"), null=True, blank=True)
    min_setback_m = models.FloatField(_("minimum setback (m)"), null=True, blank=True)
    allowed_uses = ArrayField(models.CharField(max_length=40), verbose_name=_("allowed uses"), default=list, blank=True)

    class Meta:
        verbose_name = _("zone regulation")
        verbose_name_plural = _("zone regulations")
        ordering = ["plan", "zone_code"]
        constraints = [models.UniqueConstraint(fields=["plan", "zone_code"], name="zone_regulation_unique_code")]

    def __str__(self) -> str:
        return f"{self.zone_code} — {self.label}" if self.label else self.zone_code


class ZoningZone(models.Model):
    """One polygon of a zoning plan, governed by the regulation of its zone code."""

    plan = models.ForeignKey(ZoningPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="zones")
    source_key = models.CharField(_("source identifier"), max_length=80)
    regulation = models.ForeignKey(
        ZoneRegulation, verbose_name=_("regulation"), on_delete=models.RESTRICT, related_name="zones"
    )
    geom = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("zoning zone")
        verbose_name_plural = _("zoning zones")
        ordering = ["plan", "source_key"]
        constraints = [models.UniqueConstraint(fields=["plan", "source_key"], name="zoning_zone_unique_key")]

    def __str__(self) -> str:
        return f"{self.plan.code}:{self.source_key}"


class ConstraintKind(models.TextChoices):
    HERITAGE = "heritage", _("Heritage protection")
    COASTLINE = "coastline", _("Coastline (domaine public maritime)")
    AIRPORT_SERVITUDE = "airport_servitude", _("Airport servitude")
    ROAD_ALIGNMENT = "road_alignment", _("Road alignment")
    FLOOD_ZONE = "flood_zone", _("Flood zone")
    UTILITY_EASEMENT = "utility_easement", _("Utility easement")
    FOREST = "forest", _("Forest domain")
    OTHER = "other", _("Other servitude")


class ConstraintArea(models.Model):
    """An area under a servitude that brings in a consulted body and constrains what may be built."""

    kind = models.CharField(_("kind"), max_length=30, choices=ConstraintKind.choices)
    source_key = models.CharField(_("source identifier"), max_length=80)
    name = models.CharField(_("name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    geom = models.MultiPolygonField(_("area"), srid=STORAGE_SRID)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("constraint area")
        verbose_name_plural = _("constraint areas")
        ordering = ["kind", "source_key"]
        constraints = [models.UniqueConstraint(fields=["kind", "source_key"], name="constraint_area_unique_key")]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} {self.source_key}"


class AuthorisedWorkStatus(models.TextChoices):
    AUTHORISED = "authorised", _("Authorised")
    DEEMED_APPROVED = "deemed_approved", _("Deemed approved (tacit)")
    LAPSED = "lapsed", _("Lapsed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AuthorisedWork(models.Model):
    """A permitted project as a public feature of the geo-portal: no personal data, only the permit's facts.

    Written by the permits app when a permit is issued (``geo.services.authorised_work_record``).
    """

    reference = models.CharField(_("permit reference"), max_length=40, unique=True)
    procedure_code = models.CharField(_("procedure"), max_length=60)
    procedure_name = models.CharField(_("procedure name"), max_length=200)
    commune = models.ForeignKey(AdminArea, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    decision_date = models.DateField(_("decision date"))
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    use = models.CharField(_("use"), max_length=40, blank=True)
    built_area_m2 = models.FloatField(_("built area (m²)"), null=True, blank=True)
    dwellings = models.PositiveIntegerField(_("dwellings"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=AuthorisedWorkStatus.choices)
    verification_code = models.CharField(_("verification code"), max_length=32, blank=True)
    geom = models.MultiPolygonField(_("site"), srid=STORAGE_SRID)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("authorised work")
        verbose_name_plural = _("authorised works")
        ordering = ["-decision_date", "reference"]

    def __str__(self) -> str:
        return self.reference


def orthophoto_upload_path(instance: Orthophoto, filename: str) -> str:
    return f"orthophotos/{instance.name}.tif"


class Orthophoto(models.Model):
    """An aerial or satellite image imported by the ETL (``import_raster``), kept as a Cloud-Optimised GeoTIFF.

    Orthophotos are public: the geo-portal serves them as raster tiles through MapProxy (``/mapproxy/``)
    in their own CRS's grid and in web mercator. ``bounds`` is the image's footprint in EPSG:4326.
    """

    name = models.SlugField(_("name"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    file = models.FileField(_("Cloud-Optimised GeoTIFF"), upload_to=orthophoto_upload_path, max_length=300)
    srid = models.PositiveIntegerField(_("CRS (EPSG)"))
    bounds = models.PolygonField(_("footprint"), srid=STORAGE_SRID)
    width = models.PositiveIntegerField(_("width (pixels)"))
    height = models.PositiveIntegerField(_("height (pixels)"))
    source = models.CharField(_("source"), max_length=300, blank=True)  # the imported file's name or address
    imported_at = models.DateTimeField(_("imported at"), auto_now=True)

    class Meta:
        verbose_name = _("orthophoto")
        verbose_name_plural = _("orthophotos")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.title or self.name
