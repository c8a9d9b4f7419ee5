"""Permit files: procedures as data, applicants, dossiers and their timeline, documents, deadlines, audit.

A dossier's ``status`` is changed by exactly one function, :func:`permits.workflow.dossier_transition`;
nothing else writes it. Documents are never overwritten: a new upload is a new version. Audit records
are append-only and hash-chained (``permits.audit``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from geo.models import STORAGE_SRID, AdminArea, Parcel


def localized(obj: object, field: str) -> str:
    """``obj.<field>_<lang>`` in the active language, falling back to French."""
    language = (translation.get_language() or "fr")[:2]
    return getattr(obj, f"{field}_{language}", "") or getattr(obj, f"{field}_fr", "")


class ProcedureFamily(models.TextChoices):
    URBANISM = "urbanism", _("Urban planning")
    POST_CONSTRUCTION = "post_construction", _("After construction")
    ECONOMIC = "economic", _("Economic activity")


class CommitteeKind(models.TextChoices):
    BY_CLASSIFICATION = "by_classification", _("Large or small projects, by classification")
    LARGE_PROJECTS = "large_projects", _("Large projects")
    SMALL_PROJECTS = "small_projects", _("Small projects")
    INSPECTION = "inspection", _("Post-construction inspection")
    ECONOMIC = "economic", _("Economic permits")


class Procedure(models.Model):
    """A kind of permit with its checklist, form fields, legal deadlines and steps — all data."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    family = models.CharField(_("family"), max_length=30, choices=ProcedureFamily.choices)
    committee_kind = models.CharField(_("committee"), max_length=30, choices=CommitteeKind.choices)
    classifiable = models.BooleanField(
        _("large/small classification applies"), default=False, help_text=_("Building-type procedures only.")
    )
    form_fields = models.JSONField(_("form fields"), default=list, blank=True)
    deadlines = models.JSONField(_("deadlines in working days, per step"), default=dict, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    tacit_approval_days = models.PositiveIntegerField(
        _("tacit approval after (calendar days of silence)"), null=True, blank=True
    )
    validity_months = models.PositiveIntegerField(_("validity (months)"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("open for filing"), default=True)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")

    def deadline(self, step: str) -> int | None:
        """The legal deadline of a step in working days, or None when the procedure sets none."""
        value = self.deadlines.get(step)
        return int(value) if value is not None else None


class DocumentKind(models.TextChoices):
    MAIN = "main", _("Main document (required for admissibility)")
    INFORMATION = "information", _("Information document (may come later)")


class ChecklistItem(models.Model):
    """A document a procedure asks for."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="checklist")
    code = models.SlugField(_("code"), max_length=60)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.MAIN)
    formats = ArrayField(models.CharField(max_length=10), verbose_name=_("accepted formats"), default=list)
    max_size_mb = models.PositiveIntegerField(_("maximum size (MB)"), default=50)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["procedure", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["procedure", "code"], name="checklist_item_unique_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Applicant(models.Model):
    """The project owner: a person (national ID card) or a company (trade register number)."""

    kind = models.CharField(_("kind"), max_length=10, choices=PartyKind.choices, default=PartyKind.PERSON)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    national_id = models.CharField(_("national ID (CIN)"), max_length=20, blank=True)
    company_register = models.CharField(_("trade register number (RC)"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="fr")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applicant_profiles",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        ordering = ["last_name", "company_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == PartyKind.COMPANY:
            return self.company_name
        return f"{self.first_name} {self.last_name}".strip()


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    INADMISSIBLE = "inadmissible", _("Inadmissible")
    ACCEPTED = "accepted", _("Accepted")
    SCHEDULED = "scheduled", _("Scheduled for a committee")
    UNDER_REVIEW = "under_review", _("Under review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    FAVOURABLE = "favourable", _("Favourable opinion")
    UNFAVOURABLE = "unfavourable", _("Unfavourable opinion")
    DECISION_SIGNING = "decision_signing", _("Decision being signed")
    ISSUED = "issued", _("Issued")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    LAPSED = "lapsed", _("Lapsed")
    DEEMED_APPROVED = "deemed_approved", _("Deemed approved (tacit)")


class Classification(models.TextChoices):
    LARGE = "large", _("Large project (GP)")
    SMALL = "small", _("Small project (PP)")


class Dossier(models.Model):
    """A permit file: who asks, for what, where, with which figures — and where it stands."""

    reference = models.CharField(_("reference"), max_length=40, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT)
    commune = models.ForeignKey(AdminArea, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey(
        Applicant, verbose_name=_("applicant"), on_delete=models.PROTECT, related_name="dossiers"
    )
    architect = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("architect"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filed_dossiers",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_dossiers")
    parcels = models.ManyToManyField(Parcel, verbose_name=_("parcels"), blank=True, related_name="dossiers")
    site = models.MultiPolygonField(_("site boundary"), srid=STORAGE_SRID, null=True, blank=True)
    site_source = models.CharField(_("site drawn from"), max_length=20, blank=True)
    title = models.CharField(_("project title"), max_length=200, blank=True)
    figures = models.JSONField(_("declared figures"), default=dict, blank=True)
    classification = models.CharField(_("classification"), max_length=10, choices=Classification.choices, blank=True)
    classification_rule = models.CharField(_("classification rule"), max_length=300, blank=True)
    classification_overridden = models.BooleanField(_("classification set by the desk"), default=False)
    classification_override_reason = models.TextField(_("reason for the desk's classification"), blank=True)
    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    session_date = models.DateField(_("committee date"), null=True, blank=True)
    review_round = models.PositiveSmallIntegerField(_("review round"), default=1)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["commune", "status"])]

    def __str__(self) -> str:
        return self.reference or _("Draft %(id)s") % {"id": self.pk}


class ReferenceCounter(models.Model):
    """The last dossier number given per commune and year; locked while a number is taken (gap-free)."""

    commune = models.ForeignKey(AdminArea, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commune", "year"], name="reference_counter_unique")]


class ClockStop(models.Model):
    """A period during which the legal clock of a dossier is stopped (changes requested)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="clock_stops")
    stopped_on = models.DateField()
    resumed_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["stopped_on"]


class DossierEvent(models.Model):
    """One line of a dossier's timeline, shown to the applicant when ``public``."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["created_at", "id"]


class Holiday(models.Model):
    """A non-working day added by an administrator (on top of the ``holidays`` package's Moroccan list)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


def document_upload_path(instance: Document, filename: str) -> str:
    return f"dossiers/{instance.dossier_id}/{instance.item_code}/v{instance.version}-{instance.sha256[:12]}"


class Document(models.Model):
    """One version of one checklist document; never overwritten, never deleted."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="documents")
    checklist_item = models.ForeignKey(ChecklistItem, null=True, blank=True, on_delete=models.PROTECT)
    item_code = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    file = models.FileField(upload_to=document_upload_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    detected_format = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    class Meta:
        ordering = ["item_code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "item_code", "version"], name="document_unique_version")
        ]


class ChecklistVerdict(models.TextChoices):
    PRESENT = "present", _("Present and compliant")
    MISSING = "missing", _("Missing")
    NON_COMPLIANT = "non_compliant", _("Not compliant")


class CompletenessReview(models.Model):
    """The desk's verdict on one checklist item of a dossier (the admissibility check)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="completeness")
    checklist_item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT)
    verdict = models.CharField(max_length=20, choices=ChecklistVerdict.choices)
    reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reviewed_at"]


class AuditRecord(models.Model):
    """An append-only, hash-chained record of an action (see ``permits.audit``)."""

    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(max_length=150, blank=True)
    dossier_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """A message to a person about a dossier, by e-mail or SMS, with its delivery status."""

    dossier = models.ForeignKey(Dossier, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254)
    language = models.CharField(max_length=5)
    event = models.CharField(max_length=60)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class SmsOutboxMessage(models.Model):
    """What the development/test SMS backend 'sent': a record instead of a gateway call."""

    to = models.CharField(max_length=20)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class ClassificationRule(models.Model):
    """A large-project (GP) rule: the dossier is large when every condition holds on its declared figures.

    ``conditions`` is a list of ``{"field": …, "op": "eq|ne|gt|gte|lt|lte|true", "value": …}``; rules are
    tried in ``position`` order and the first that holds is shown as the reason.
    """

    position = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(_("code"), max_length=60, unique=True)
    label_fr = models.CharField(_("label (French)"), max_length=200)
    label_ar = models.CharField(_("label (Arabic)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    conditions = models.JSONField(_("conditions"), default=list)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("large-project rule")
        verbose_name_plural = _("large-project rules")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return localized(self, "label")


# Committees, sessions, opinions and issued documents live in their own module of the same app.
from permits.committee_models import (  # noqa: E402, F401
    Attendance,
    Booking,
    Committee,
    DossierMember,
    IssuedDocument,
    Opinion,
    Organisation,
    OrganisationKind,
    Remark,
    SelectionRule,
    Session,
    SessionStatus,
    Verdict,
)

# Electronic signatures of issued documents (signatures issue).
from permits.signing_models import ApprovedPlan, SignatureRequest, SignatureStatus, SignerRole  # noqa: E402, F401
