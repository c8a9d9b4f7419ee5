"""Administration of the permits app: the catalogue is edited here; the legal record is only shown.

Procedures (with their checklist), large-project rules, holidays, organisations (with their member
accounts), committees (permanent members, recurrence, president), member-selection rules and the
sessions' schedule are data an administrator edits. Bookings, selected members, opinions and issued
documents belong to the legal record of a dossier or a session: shown, never edited here.
Dossiers, their timeline, the audit trail, notifications and the SMS outbox are read-only: every
write on a dossier goes through ``permits.services`` or ``permits.workflow``, which leave an audit
record, and the admin has no such path — so it offers none (no status or reference change, no edit,
no deletion). Audit records cannot be added, changed or deleted by anyone (the database refuses it too).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits.deadlines import dossier_clock
from permits.models import (
    Attendance,
    AuditRecord,
    Booking,
    ChecklistItem,
    ClassificationRule,
    ClockStop,
    Committee,
    CommitteeKind,
    Document,
    Dossier,
    DossierEvent,
    DossierMember,
    Holiday,
    IssuedDocument,
    Notification,
    Opinion,
    Organisation,
    Procedure,
    Remark,
    SelectionRule,
    Session,
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


# --- committees (editable: organisations, committees, selection rules, the sessions' schedule) ----


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fr", "name_ar", "kind", "binding_opinion", "member_count"]
    list_filter = ["kind", "binding_opinion"]
    search_fields = ["code", "name_fr", "name_ar", "name_en", "members__username"]
    filter_horizontal = ["members"]
    fields = ["code", "kind", "name_fr", "name_ar", "name_en", "binding_opinion", "members"]

    @admin.display(description=_("member accounts"))
    def member_count(self, obj: Organisation) -> int:
        return obj.members.count()


class CommitteeForm(forms.ModelForm):
    """The committee kinds a standing committee can have (``by_classification`` is a procedure's, not a committee's)."""

    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[(value, label) for value, label in CommitteeKind.choices if value != CommitteeKind.BY_CLASSIFICATION],
    )

    class Meta:
        model = Committee
        fields = [
            "code",
            "name_fr",
            "name_ar",
            "name_en",
            "kind",
            "commune",
            "president",
            "active",
            "permanent_organisations",
            "weekdays",
            "start_time",
            "capacity",
            "minutes_per_dossier",
        ]
        help_texts = {"weekdays": _("Comma-separated, 0 = Monday … 6 = Sunday; holidays are skipped.")}


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    form = CommitteeForm
    list_display = [
        "code",
        "name_fr",
        "kind",
        "commune",
        "president",
        "meeting_days",
        "start_time",
        "capacity",
        "minutes_per_dossier",
        "active",
    ]
    # Only the territories that have committees, not every administrative area of the country.
    list_filter = ["kind", "active", ("commune", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["commune", "president"]
    search_fields = ["code", "name_fr", "name_ar", "name_en"]
    autocomplete_fields = ["commune", "president"]
    filter_horizontal = ["permanent_organisations"]
    fieldsets = [
        (None, {"fields": ["code", "name_fr", "name_ar", "name_en", "kind", "commune", "president", "active"]}),
        (_("Permanent members"), {"fields": ["permanent_organisations"]}),
        (_("Recurrence"), {"fields": ["weekdays", "start_time", "capacity", "minutes_per_dossier"]}),
    ]

    @admin.display(description=_("meeting days"))
    def meeting_days(self, obj: Committee) -> str:
        return ", ".join(str(WEEKDAYS[day]) for day in sorted(obj.weekdays or []) if day in WEEKDAYS)


@admin.register(SelectionRule)
class SelectionRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "code", "organisation", "label_fr", "label_ar", "active"]
    list_display_links = ["code"]
    list_filter = ["active", "organisation"]
    list_select_related = ["organisation"]
    search_fields = ["code", "label_fr", "label_ar", "label_en"]


class BookingInline(ReadOnlyMixin, admin.TabularInline):
    model = Booking
    extra = 0
    fields = ["position", "dossier", "booked_by", "created_at", "cancelled_at"]
    readonly_fields = fields


class AttendanceInline(ReadOnlyMixin, admin.TabularInline):
    model = Attendance
    extra = 0
    fields = ["organisation", "user", "present"]
    readonly_fields = fields


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """The schedule (day, time, capacity) may be moved here; the status and its dates belong to the services."""

    list_display = ["date", "committee", "start_time", "status", "booked", "capacity", "agenda_sent_at", "closed_at"]
    list_filter = ["committee", "status"]
    list_select_related = ["committee"]
    date_hierarchy = "date"
    search_fields = ["committee__code", "committee__name_fr"]
    readonly_fields = ["status", "agenda_sent_at", "closed_at"]
    inlines = [BookingInline, AttendanceInline]

    @admin.display(description=_("booked"))
    def booked(self, obj: Session) -> int:
        return obj.bookings.filter(cancelled_at__isnull=True).count()

    def has_delete_permission(self, request, obj=None) -> bool:
        # A session with bookings or opinions is part of the record (PROTECT would refuse it anyway).
        return obj is None or not (obj.bookings.exists() or obj.opinions.exists())


# --- the committees' record (read-only) ------------------------------------------------------------


@admin.register(Booking)
class BookingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["session", "position", "dossier", "booked_by", "created_at", "cancelled_at"]
    list_filter = ["session__committee"]
    list_select_related = ["session__committee", "dossier", "booked_by"]
    search_fields = ["dossier__reference"]
    show_full_result_count = False


@admin.register(DossierMember)
class DossierMemberAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: members are selected (and invitees added) by the selection service, which audits it."""

    list_display = ["dossier", "organisation", "permanent", "consultative", "rule_code", "reason", "file_sent_on"]
    list_filter = ["permanent", "consultative", "organisation"]
    list_select_related = ["dossier", "organisation"]
    search_fields = ["dossier__reference", "rule_code", "reason"]
    show_full_result_count = False


class RemarkInline(ReadOnlyMixin, admin.TabularInline):
    model = Remark
    extra = 0
    fields = ["text", "answer", "answered_by", "answered_at", "resolved"]
    readonly_fields = fields


@admin.register(Opinion)
class OpinionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["dossier", "review_round", "organisation", "verdict", "author", "session", "created_at"]
    list_filter = ["verdict", "organisation"]
    list_select_related = ["dossier", "organisation", "author", "session__committee"]
    search_fields = ["dossier__reference", "remarks"]
    show_full_result_count = False
    inlines = [RemarkInline]


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "verification_code", "dossier", "session", "short_hash", "replaces"]
    list_filter = ["kind"]
    list_select_related = ["dossier", "session__committee", "replaces"]
    search_fields = ["verification_code", "sha256", "dossier__reference"]
    show_full_result_count = False

    @admin.display(description=_("hash"))
    def short_hash(self, obj: IssuedDocument) -> str:
        return obj.sha256[:16]
