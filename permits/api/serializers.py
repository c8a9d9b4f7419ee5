"""Output serializers shared by the operations of the permits API, and the fields they need.

What several operations answer — a procedure, a dossier, a document, a clock, a timeline event —
has one shape, defined here. Each operation's own input serializer lives with its view in
``permits.api.views``. Serializers only present data: everything they show was loaded by the view
(through the selectors, with the prefetches each list needs), and nothing here writes.

The context of a dossier serializer carries the ``request`` (whose user decides which actions,
addresses and internal details are shown) and may carry a shared ``calendar`` so a list computes
its clocks with one holiday query.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from permits.deadlines import WorkingCalendar, dossier_clock
from permits.models import (
    ChecklistVerdict,
    Classification,
    DeliveryStatus,
    DocumentKind,
    Dossier,
    DossierEvent,
    Notification,
    PartyKind,
    ProcedureFamily,
    Status,
)
from permits.roles import user_is_staff_role
from permits.services import EDITABLE, UPLOADABLE
from permits.workflow import is_filer, transitions_available

# What a client must send with an action besides ``action`` (``reason`` is announced separately).
ACTION_FIELDS: dict[str, list[str]] = {"schedule": ["session_date"]}

_POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
_RING = {"type": "array", "items": _POSITION, "minItems": 4}
GEOJSON_POLYGONAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A GeoJSON Polygon or MultiPolygon in longitude/latitude (EPSG:4326).",
    "properties": {
        "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
        "coordinates": {
            "oneOf": [
                {"type": "array", "items": _RING},
                {"type": "array", "items": {"type": "array", "items": _RING}},
            ]
        },
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOJSON_POLYGONAL_SCHEMA)
class SiteGeometryField(GeometryField):
    """A site boundary as GeoJSON (Polygon or MultiPolygon, EPSG:4326)."""


def named_choice_field(choices: type, component: str) -> type[serializers.ChoiceField]:
    """A ChoiceField whose enum is its own schema component, so same-named fields (``kind``, ``status``)
    of different choice sets do not collide in the OpenAPI schema."""
    with translation.override("en"):  # the schema is written in English, like the msgids
        described = "\n".join(f"* `{value}` - {label}" for value, label in choices.choices)
    schema = {"type": "string", "enum": list(choices.values), "description": described}

    @extend_schema_field(schema, component_name=component)
    class NamedChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(choices=choices.choices, **kwargs)

    NamedChoiceField.__name__ = NamedChoiceField.__qualname__ = f"{component}Field"
    return NamedChoiceField


DocumentKindField = named_choice_field(DocumentKind, "DocumentKindEnum")
PartyKindField = named_choice_field(PartyKind, "PartyKindEnum")
DeliveryStatusField = named_choice_field(DeliveryStatus, "DeliveryStatusEnum")


def mask_address(address: str) -> str:
    """Hide most of an e-mail address or phone number: ``y***@example.org``, ``+212*******01``."""
    if "@" in address:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) <= 6:
        return "***"
    return f"{address[:4]}{'*' * (len(address) - 6)}{address[-2:]}"


def _viewer(serializer: serializers.Field):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _viewer_is_staff(serializer: serializers.Field) -> bool:
    cached = serializer.context.get("viewer_is_staff")
    if cached is None:
        cached = user_is_staff_role(_viewer(serializer))
        serializer.context["viewer_is_staff"] = cached
    return cached


def _may_file_for(user, dossier: Dossier) -> bool:
    """The viewer files this dossier (or is a superuser): they may edit the draft and upload documents."""
    return bool(user is not None and (is_filer(user, dossier) or getattr(user, "is_superuser", False)))


# --- procedures ------------------------------------------------------------------------------------


class NamesOutput(serializers.Serializer):
    """A name in each of the platform's three languages."""

    fr = serializers.CharField(source="name_fr")
    ar = serializers.CharField(source="name_ar")
    en = serializers.CharField(source="name_en")


class FormFieldChoiceSpec(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.DictField(child=serializers.CharField(), required=False)


class FormFieldSpec(serializers.Serializer):
    """One declared figure the procedure asks for (documents the JSON kept in ``Procedure.form_fields``)."""

    name = serializers.CharField(help_text=gettext_lazy("Key of the figure in a dossier's `figures`."))
    type = serializers.ChoiceField(choices=["int", "decimal", "text", "bool", "choice"])
    required = serializers.BooleanField(required=False)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    label = serializers.DictField(
        child=serializers.CharField(), required=False, help_text=gettext_lazy("Label per language code.")
    )
    choices = FormFieldChoiceSpec(many=True, required=False)


@extend_schema_field(FormFieldSpec(many=True))
class FormFieldsField(serializers.JSONField):
    """The procedure's form fields, passed through as stored (extra keys included)."""


class ChecklistItemOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text=gettext_lazy("In the language of the request."))
    names = NamesOutput(source="*")
    kind = DocumentKindField()
    kind_label = serializers.CharField(source="get_kind_display")
    formats = serializers.ListField(child=serializers.CharField())
    max_size_mb = serializers.IntegerField()


class ProcedureOutput(serializers.Serializer):
    """A procedure as data: names, checklist, form fields, legal deadlines, tacit approval, validity."""

    code = serializers.CharField()
    name = serializers.CharField(help_text=gettext_lazy("In the language of the request."))
    names = NamesOutput(source="*")
    family = serializers.ChoiceField(choices=ProcedureFamily.choices)
    family_label = serializers.CharField(source="get_family_display")
    committee_kind = serializers.CharField()
    committee_kind_label = serializers.CharField(source="get_committee_kind_display")
    classifiable = serializers.BooleanField(help_text=gettext_lazy("Large/small project classification applies."))
    active = serializers.BooleanField(help_text=gettext_lazy("Open for filing."))
    form_fields = FormFieldsField()
    checklist = ChecklistItemOutput(source="checklist.all", many=True)
    deadlines = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("Legal deadline of each step, in working days.")
    )
    steps = serializers.JSONField(help_text=gettext_lazy("The steps the procedure goes through, in order."))
    tacit_approval_days = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Tacit approval after this many calendar days of silence.")
    )
    validity_months = serializers.IntegerField(allow_null=True)


# --- dossiers --------------------------------------------------------------------------------------


class ProcedureSummaryOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    family = serializers.CharField()


class CommuneOutput(serializers.Serializer):
    code = serializers.CharField()
    name_fr = serializers.CharField()
    name_ar = serializers.CharField()


class UserSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.SerializerMethodField()

    def get_full_name(self, user) -> str:
        return user.get_full_name() or user.username


class ApplicantOutput(serializers.Serializer):
    kind = PartyKindField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company_name = serializers.CharField()
    national_id = serializers.CharField()
    company_register = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    language = serializers.CharField()


class ParcelSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    area_m2 = serializers.FloatField()


class DocumentOutput(serializers.Serializer):
    """One stored version of a checklist document."""

    id = serializers.IntegerField()
    item = serializers.CharField(source="item_code")
    version = serializers.IntegerField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    detected_format = serializers.CharField(help_text=gettext_lazy("Recognised from the content, not the name."))
    size = serializers.IntegerField(help_text=gettext_lazy("Bytes."))
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    file_url = serializers.SerializerMethodField()

    def get_file_url(self, document) -> str:
        path = reverse(
            "permits-api:document-file", kwargs={"dossier_id": document.dossier_id, "document_id": document.pk}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ClockOutput(serializers.Serializer):
    """Where the dossier stands against its legal deadlines (working days, Moroccan holidays)."""

    today = serializers.DateField()
    step = serializers.CharField(allow_null=True, help_text=gettext_lazy("The step whose deadline is running."))
    step_started_on = serializers.DateField(allow_null=True)
    step_deadline_days = serializers.IntegerField(allow_null=True)
    step_due_on = serializers.DateField(allow_null=True)
    step_elapsed_days = serializers.IntegerField(allow_null=True)
    step_remaining_days = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()
    stopped = serializers.BooleanField(help_text=gettext_lazy("The clock waits on the applicant."))
    started_on = serializers.DateField(allow_null=True, help_text=gettext_lazy("Accepted as complete on."))
    elapsed_days = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Working days since acceptance, stops excluded.")
    )
    stopped_days = serializers.IntegerField()
    tacit_approval_on = serializers.DateField(allow_null=True)


class ActionOutput(serializers.Serializer):
    """A transition the requesting user may attempt now (its guard is checked when it is made)."""

    action = serializers.CharField()
    label = serializers.CharField()
    reason_required = serializers.BooleanField()
    fields = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("Other fields the action needs.")
    )


class ChecklistStateOutput(serializers.Serializer):
    """One checklist item of the dossier: what was uploaded and the desk's latest verdict."""

    item = serializers.CharField()
    name = serializers.CharField()
    kind = DocumentKindField()
    formats = serializers.ListField(child=serializers.CharField())
    max_size_mb = serializers.IntegerField()
    latest_version = serializers.IntegerField(allow_null=True)
    verdict = serializers.ChoiceField(choices=ChecklistVerdict.choices, allow_null=True)
    verdict_reason = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


class DossierListOutput(serializers.Serializer):
    """A dossier in a list: who, what, where, and where it stands."""

    id = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True, help_text=gettext_lazy("Given on submission."))
    procedure = ProcedureSummaryOutput()
    commune = CommuneOutput()
    applicant_name = serializers.CharField(source="applicant.display_name")
    architect = UserSummaryOutput(allow_null=True)
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    classification = serializers.ChoiceField(choices=Classification.choices, allow_blank=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    session_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DeskDossierOutput(DossierListOutput):
    """A dossier in a desk list, with its clock."""

    clock = serializers.SerializerMethodField()

    @extend_schema_field(ClockOutput)
    def get_clock(self, dossier: Dossier) -> dict:
        clock = self.context.get("clocks", {}).get(dossier.pk)
        if clock is None:
            clock = dossier_clock(dossier=dossier, calendar=_calendar(self))
        return ClockOutput(clock).data


def _calendar(serializer: serializers.Field) -> WorkingCalendar:
    calendar = serializer.context.get("calendar")
    if calendar is None:
        calendar = serializer.context["calendar"] = WorkingCalendar()
    return calendar


class DossierDetailOutput(DossierListOutput):
    """Everything about a dossier that its viewer may see, and what they may do with it now.

    Expects the dossier loaded with its parcels, documents (and their uploaders), completeness
    reviews, procedure checklist and clock stops prefetched.
    """

    applicant = ApplicantOutput()
    parcels = ParcelSummaryOutput(source="parcels.all", many=True)
    site = SiteGeometryField(allow_null=True)
    site_source = serializers.CharField(help_text=gettext_lazy("`parcels` (union) or `drawn`."))
    figures = serializers.DictField(help_text=gettext_lazy("Declared figures, keyed by the procedure's form fields."))
    classification_label = serializers.CharField(source="get_classification_display")
    classification_rule = serializers.CharField(help_text=gettext_lazy("The rule that decided the classification."))
    classification_overridden = serializers.BooleanField()
    classification_override_reason = serializers.CharField()
    status_changed_at = serializers.DateTimeField()
    accepted_on = serializers.DateField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    clock = serializers.SerializerMethodField()
    checklist = serializers.SerializerMethodField()
    documents = DocumentOutput(source="documents.all", many=True, help_text=gettext_lazy("Every stored version."))
    actions = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()
    can_upload = serializers.SerializerMethodField()

    @extend_schema_field(ClockOutput)
    def get_clock(self, dossier: Dossier) -> dict:
        return ClockOutput(dossier_clock(dossier=dossier, calendar=_calendar(self))).data

    @extend_schema_field(ChecklistStateOutput(many=True))
    def get_checklist(self, dossier: Dossier) -> list[dict]:
        latest_version: dict[str, int] = {}
        for document in dossier.documents.all():
            latest_version[document.item_code] = max(document.version, latest_version.get(document.item_code, 0))
        reviews = {review.checklist_item_id: review for review in dossier.completeness.all()}  # last one wins
        rows = []
        for item in dossier.procedure.checklist.all():
            review = reviews.get(item.pk)
            rows.append(
                {
                    "item": item.code,
                    "name": item.name,
                    "kind": item.kind,
                    "formats": item.formats,
                    "max_size_mb": item.max_size_mb,
                    "latest_version": latest_version.get(item.code),
                    "verdict": review.verdict if review else None,
                    "verdict_reason": review.reason if review else "",
                    "reviewed_at": review.reviewed_at if review else None,
                }
            )
        return ChecklistStateOutput(rows, many=True).data

    @extend_schema_field(ActionOutput(many=True))
    def get_actions(self, dossier: Dossier) -> list[dict]:
        user = _viewer(self)
        return [
            {
                "action": transition.name,
                "label": str(transition.label),
                "reason_required": transition.reason_required,
                "fields": ACTION_FIELDS.get(transition.name, []),
            }
            for transition in transitions_available(dossier=dossier, actor=user)
        ]

    def get_can_edit(self, dossier: Dossier) -> bool:
        return dossier.status in EDITABLE and _may_file_for(_viewer(self), dossier)

    def get_can_upload(self, dossier: Dossier) -> bool:
        return dossier.status in UPLOADABLE and _may_file_for(_viewer(self), dossier)


class DossierPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DossierListOutput(many=True)


class DeskDossierPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeskDossierOutput(many=True)


# --- timeline and notifications ----------------------------------------------------------------------


class EventOutput(serializers.Serializer):
    """One line of the timeline; staff also see who acted and internal events."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField(help_text=gettext_lazy("`transition`, `document`, `reclassified`…"))
    from_status = serializers.CharField()
    from_status_label = serializers.SerializerMethodField()
    to_status = serializers.CharField()
    to_status_label = serializers.SerializerMethodField()
    message = serializers.CharField()
    data = serializers.DictField()
    public = serializers.BooleanField()
    actor = serializers.SerializerMethodField(help_text=gettext_lazy("Shown to staff only."))

    @staticmethod
    def _label(status: str) -> str:
        return str(Status(status).label) if status in Status.values else status

    def get_from_status_label(self, event: DossierEvent) -> str:
        return self._label(event.from_status)

    def get_to_status_label(self, event: DossierEvent) -> str:
        return self._label(event.to_status)

    @extend_schema_field(OpenApiTypes.STR)
    def get_actor(self, event: DossierEvent) -> str | None:
        if event.actor is None or not _viewer_is_staff(self):
            return None
        return event.actor.get_full_name() or event.actor.username


class NotificationOutput(serializers.Serializer):
    """A message sent about the dossier and its delivery; addresses and errors in full for staff only."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    event = serializers.CharField()
    channel = serializers.CharField()
    channel_label = serializers.CharField(source="get_channel_display")
    address = serializers.SerializerMethodField()
    language = serializers.CharField()
    subject = serializers.CharField()
    status = DeliveryStatusField()
    status_label = serializers.CharField(source="get_status_display")
    attempts = serializers.IntegerField()
    last_error = serializers.SerializerMethodField()
    sent_at = serializers.DateTimeField(allow_null=True)

    def get_address(self, notification: Notification) -> str:
        return notification.address if _viewer_is_staff(self) else mask_address(notification.address)

    def get_last_error(self, notification: Notification) -> str:
        if not notification.last_error or _viewer_is_staff(self):
            return notification.last_error
        # The backend's own words may name servers or the full address; filers learn that it failed.
        return _("The last delivery attempt failed; it is retried automatically.")
