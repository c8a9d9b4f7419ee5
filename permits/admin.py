"""Administration of the permits app: the catalogue is edited here; the legal record is only shown.

Procedures (with their checklist), large-project rules and holidays are data an administrator edits.
Dossiers, their timeline, the audit trail, notifications and the SMS outbox are read-only: every
write on a dossier goes through ``permits.services`` or ``permits.workflow``, which leave an audit
record, and the admin has no such path — so it offers none (no status or reference change, no edit,
no deletion). Audit records cannot be added, changed or deleted by anyone (the database refuses it too).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits.deadlines import dossier_clock
from permits.models import (
    AuditRecord,
    ChecklistItem,
    ClassificationRule,
    ClockStop,
    Document,
    Dossier,
    DossierEvent,
    Holiday,
    Notification,
    Procedure,
    SmsOutboxMessage,
)


class ReadOnlyMixin:
    """Shown, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- the catalogue (editable) ----------------------------------------------------------------------


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["position", "code", "name_fr", "name_ar", "name_en", "kind", "formats", "max_size_mb"]
    ordering = ["position", "code"]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_fr",
        "name_ar",
        "family",
        "committee_kind",
        "classifiable",
        "tacit_approval_days",
        "validity_months",
        "active",
    ]
    list_filter = ["family", "committee_kind", "classifiable", "active"]
    search_fields = ["code", "name_fr", "name_ar", "name_en"]
    inlines = [ChecklistItemInline]
    fieldsets = [
        (None, {"fields": ["code", "name_fr", "name_ar", "name_en", "family", "position", "active"]}),
        (_("Review"), {"fields": ["committee_kind", "classifiable", "steps"]}),
        (_("Deadlines"), {"fields": ["deadlines", "tacit_approval_days", "validity_months"]}),
        (_("Form"), {"fields": ["form_fields"]}),
    ]


@admin.register(ClassificationRule)
class ClassificationRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "code", "label_fr", "label_ar", "active"]
    list_display_links = ["code"]
    list_filter = ["active"]
    search_fields = ["code", "label_fr", "label_ar", "label_en"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


# --- the legal record (read-only) ------------------------------------------------------------------


class DossierEventInline(ReadOnlyMixin, admin.TabularInline):
    model = DossierEvent
    extra = 0
    fields = ["created_at", "actor", "kind", "from_status", "to_status", "message", "public"]
    readonly_fields = fields


class DocumentInline(ReadOnlyMixin, admin.TabularInline):
    model = Document
    fk_name = "dossier"
    extra = 0
    fields = [
        "item_code",
        "version",
        "original_name",
        "detected_format",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    ]
    readonly_fields = fields


class ClockStopInline(ReadOnlyMixin, admin.TabularInline):
    model = ClockStop
    extra = 0
    fields = ["stopped_on", "resumed_on", "reason"]
    readonly_fields = fields


@admin.register(Dossier)
class DossierAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "procedure",
        "commune",
        "applicant",
        "architect",
        "status",
        "classification",
        "submitted_at",
    ]
    list_filter = ["status", "classification", "procedure"]
    list_select_related = ["procedure", "commune", "applicant", "architect"]
    search_fields = ["reference", "title", "applicant__last_name", "applicant__company_name"]
    show_full_result_count = False
    # The site boundary is summarised, not drawn: the admin's map widget loads tiles from the internet.
    exclude = ["site"]
    readonly_fields = [
        "reference",
        "status",
        "status_changed_at",
        "procedure",
        "commune",
        "applicant",
        "architect",
        "created_by",
        "parcels",
        "site_summary",
        "site_source",
        "title",
        "figures",
        "classification",
        "classification_rule",
        "classification_overridden",
        "classification_override_reason",
        "submitted_at",
        "accepted_on",
        "session_date",
        "decided_at",
        "legal_clock",
    ]
    inlines = [DocumentInline, ClockStopInline, DossierEventInline]

    @admin.display(description=_("site boundary"))
    def site_summary(self, obj: Dossier) -> str:
        if obj.site is None:
            return "—"
        min_x, min_y, max_x, max_y = obj.site.extent
        bbox = f"{min_x:.6f},{min_y:.6f},{max_x:.6f},{max_y:.6f}"
        return f"{obj.site.geom_type}, {obj.site.num_geom} part(s), bbox {bbox}"

    @admin.display(description=_("legal clock"))
    def legal_clock(self, obj: Dossier) -> str:
        clock = dossier_clock(dossier=obj)
        if clock.step is None:
            return "—"
        return gettext("%(step)s: due %(due)s, %(remaining)s working days left; tacit approval on %(tacit)s") % {
            "step": clock.step,
            "due": clock.step_due_on or "—",
            "remaining": "—" if clock.step_remaining_days is None else clock.step_remaining_days,
            "tacit": clock.tacit_approval_on or "—",
        }


@admin.register(DossierEvent)
class DossierEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "dossier", "kind", "from_status", "to_status", "actor", "public"]
    list_filter = ["kind", "to_status", "public"]
    list_select_related = ["dossier", "actor"]
    search_fields = ["dossier__reference", "message"]
    show_full_result_count = False


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "action", "actor_username", "dossier_id", "short_hash"]
    list_filter = ["action"]
    search_fields = ["action", "actor_username", "record_hash"]
    show_full_result_count = False

    @admin.display(description=_("hash"))
    def short_hash(self, obj: AuditRecord) -> str:
        return obj.record_hash[:16]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "dossier",
        "event",
        "channel",
        "address",
        "language",
        "status",
        "attempts",
        "last_error",
    ]
    list_filter = ["status", "channel", "event", "language"]
    list_select_related = ["dossier"]
    search_fields = ["address", "dossier__reference"]
    show_full_result_count = False


@admin.register(SmsOutboxMessage)
class SmsOutboxMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "to", "body"]
    search_fields = ["to", "body"]
