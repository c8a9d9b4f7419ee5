"""Administration of the geo layers: codes, names, zone rules and constraint kinds are editable here.

Geometries are shown, not edited: they come from ``import_layer`` (or QGIS through it). Django's GIS
admin widget loads OpenLayers and OpenStreetMap tiles from the internet, which this platform never does.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from geo.models import (
    AdminArea,
    ConstraintArea,
    Orthophoto,
    Parcel,
    ZoneRegulation,
    ZoningPlan,
    ZoningZone,
    reference_key,
)


class GeometrySummaryMixin:
    """A read-only one-line description of the ``geom`` field instead of a map widget."""

    @admin.display(description=_("geometry"))
    def geometry_summary(self, obj) -> str:
        if obj.geom is None:
            return "—"
        min_x, min_y, max_x, max_y = obj.geom.extent
        return (
            f"{obj.geom.geom_type}, {obj.geom.num_geom} part(s), {obj.geom.num_points} vertices, "
            f"bbox {min_x:.6f},{min_y:.6f},{max_x:.6f},{max_y:.6f} (EPSG:{obj.geom.srid})"
        )


@admin.register(AdminArea)
class AdminAreaAdmin(GeometrySummaryMixin, admin.ModelAdmin):
    list_display = ["code", "level", "name_fr", "name_ar", "parent", "projected_srid"]
    list_filter = ["level", "projected_srid"]
    search_fields = ["code", "name_fr", "name_ar"]
    exclude = ["geom"]
    readonly_fields = ["geometry_summary"]
    autocomplete_fields = ["parent"]


@admin.register(Parcel)
class ParcelAdmin(GeometrySummaryMixin, admin.ModelAdmin):
    list_display = ["reference", "commune", "area_m2", "area_srid", "updated_at"]
    list_select_related = ["commune"]
    search_fields = ["reference_key"]
    exclude = ["geom"]
    readonly_fields = ["geometry_summary", "area_m2", "area_srid"]
    autocomplete_fields = ["commune"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # References are searched on their key, without case or spaces, by prefix (indexed).
        if search_term:
            return queryset.filter(reference_key__startswith=reference_key(search_term)), False
        return queryset, False


class ZoneRegulationInline(admin.TabularInline):
    model = ZoneRegulation
    extra = 0
    fields = [
        "zone_code",
        "label",
        "max_height_m",
        "max_floors",
        "coverage_ratio",
        "floor_area_ratio",
        "min_setback_m",
        "allowed_uses",
    ]


@admin.register(ZoningPlan)
class ZoningPlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "commune", "approved_on"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["commune"]
    inlines = [ZoneRegulationInline]


@admin.register(ZoneRegulation)
class ZoneRegulationAdmin(admin.ModelAdmin):
    list_display = ["plan", "zone_code", "label", "max_height_m", "max_floors", "coverage_ratio", "floor_area_ratio"]
    list_filter = ["plan"]
    search_fields = ["zone_code", "label"]


@admin.register(ZoningZone)
class ZoningZoneAdmin(GeometrySummaryMixin, admin.ModelAdmin):
    list_display = ["plan", "source_key", "regulation"]
    list_filter = ["plan"]
    list_select_related = ["plan", "regulation"]
    exclude = ["geom"]
    readonly_fields = ["geometry_summary"]


@admin.register(ConstraintArea)
class ConstraintAreaAdmin(GeometrySummaryMixin, admin.ModelAdmin):
    list_display = ["kind", "source_key", "name"]
    list_filter = ["kind"]
    search_fields = ["name", "source_key"]
    exclude = ["geom"]
    readonly_fields = ["geometry_summary"]


@admin.register(Orthophoto)
class OrthophotoAdmin(admin.ModelAdmin):
    """Orthophotos are imported with ``manage.py import_raster``; the admin shows them, read-only."""

    list_display = ["name", "title", "srid", "width", "height", "imported_at"]
    search_fields = ["name", "title"]
    exclude = ["bounds"]
    readonly_fields = ["name", "file", "srid", "width", "height", "source", "imported_at"]

    def has_add_permission(self, request) -> bool:
        return False
