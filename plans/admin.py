"""Administration of the plans app: read-only. Plan versions are immutable records of what was uploaded;
every write goes through ``plans.services`` (which audits it), so the admin offers no add, change or delete.
"""

from __future__ import annotations

from django.contrib import admin

from permits.admin import ReadOnlyMixin
from plans.models import Annotation, AnnotationReply, ControlPoint, PlanFeature, PlanSet, PlanVersion


class PlanVersionInline(ReadOnlyMixin, admin.TabularInline):
    model = PlanVersion
    fields = ["number", "status", "format", "original_name", "sha256", "crs_srid", "crs_source", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(PlanSet)
class PlanSetAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["sheet", "dossier", "created_at"]
    search_fields = ["sheet", "dossier__reference"]
    inlines = [PlanVersionInline]


class PlanFeatureInline(ReadOnlyMixin, admin.TabularInline):
    model = PlanFeature
    fields = ["kind", "layer", "area_m2", "floors", "height_m"]
    readonly_fields = fields
    extra = 0


class ControlPointInline(ReadOnlyMixin, admin.TabularInline):
    model = ControlPoint
    fields = ["drawing_x", "drawing_y", "world_x", "world_y", "srid", "residual_m"]
    readonly_fields = fields
    extra = 0


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "plan_set",
        "number",
        "status",
        "format",
        "crs_srid",
        "crs_source",
        "footprint_area_m2",
        "uploaded_at",
    ]
    list_filter = ["status", "format", "crs_source"]
    search_fields = ["plan_set__sheet", "plan_set__dossier__reference", "original_name", "sha256"]
    inlines = [PlanFeatureInline, ControlPointInline]


class AnnotationReplyInline(ReadOnlyMixin, admin.TabularInline):
    model = AnnotationReply
    fields = ["author", "text", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Annotation)
class AnnotationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["version", "kind", "status", "author", "created_at"]
    list_filter = ["status", "kind"]
    inlines = [AnnotationReplyInline]
