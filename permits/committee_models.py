"""Review committees: organisations and their members, committees, member-selection rules, sessions,
slot bookings, the members selected for each dossier, opinions and their remarks, minutes, decisions.

Imported by :mod:`permits.models`, so these are models of the ``permits`` app. Two concurrent bookings
can never take the same slot: ``Booking`` has partial unique constraints on (session, position) and on
the dossier among active bookings, so the database refuses the second one.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from geo.models import AdminArea


def _localized(obj: object, field: str) -> str:
    from permits.models import localized

    return localized(obj, field)


class OrganisationKind(models.TextChoices):
    COMMUNE = "commune", _("Commune")
    PREFECTURE = "prefecture", _("Prefecture or province")
    URBAN_AGENCY = "urban_agency", _("Urban agency")
    CIVIL_PROTECTION = "civil_protection", _("Civil protection")
    TELECOM_OPERATOR = "telecom_operator", _("Telecom operator")
    NETWORK_OPERATOR = "network_operator", _("Water/electricity network operator")
    LAND_REGISTRY = "land_registry", _("Land registry")
    HERITAGE = "heritage", _("Heritage authority")
    ROADS = "roads", _("Roads authority")
    AIRPORT_AUTHORITY = "airport_authority", _("Airport authority")
    COAST_AUTHORITY = "coast_authority", _("Coast authority")
    HYDRAULIC_AGENCY = "hydraulic_agency", _("Hydraulic basin agency")
    OTHER = "other", _("Other body")


class Organisation(models.Model):
    """A body that sits on committees; its opinion may be binding (the urban agency's is)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=OrganisationKind.choices)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    binding_opinion = models.BooleanField(_("binding opinion"), default=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("member accounts"), blank=True, related_name="organisations"
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")


class Committee(models.Model):
    """A standing committee of a commune (or prefecture) for one kind of dossier, meeting on a recurrence."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30)  # a CommitteeKind other than by_classification
    commune = models.ForeignKey(AdminArea, verbose_name=_("territory"), on_delete=models.PROTECT, related_name="+")
    permanent_organisations = models.ManyToManyField(
        Organisation, verbose_name=_("permanent members"), related_name="permanent_in"
    )
    president = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("president"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="presided_committees",
    )  # fmt: skip
    weekdays = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("meeting days (0 = Monday)"))
    start_time = models.TimeField(_("start time"))
    capacity = models.PositiveSmallIntegerField(_("dossiers per session"))
    minutes_per_dossier = models.PositiveSmallIntegerField(_("minutes per dossier"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("committee")
        verbose_name_plural = _("committees")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")


class SelectionRule(models.Model):
    """Brings a non-permanent organisation onto a dossier when every condition holds.

    ``conditions``: ``{"field", "op", "value"}`` items as for the GP rules, over the declared figures
    plus ``procedure`` (code), ``classification`` and ``constraint_kind`` (op ``intersects``: the site
    touches a constraint area of that kind).
    """

    position = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(_("code"), max_length=60, unique=True)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE)
    label_fr = models.CharField(_("reason (French)"), max_length=200)
    label_ar = models.CharField(_("reason (Arabic)"), max_length=200)
    label_en = models.CharField(_("reason (English)"), max_length=200)
    conditions = models.JSONField(_("conditions"), default=list)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("member-selection rule")
        verbose_name_plural = _("member-selection rules")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localized(self, "label")


class DossierMember(models.Model):
    """An organisation selected for a dossier, with the rule (or the desk's reason) that brought it in."""

    dossier = models.ForeignKey("permits.Dossier", on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    permanent = models.BooleanField(default=False)
    consultative = models.BooleanField(default=False)
    rule_code = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=300)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    file_sent_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-permanent", "organisation__code"]
        constraints = [models.UniqueConstraint(fields=["dossier", "organisation"], name="dossier_member_unique")]

    def __str__(self) -> str:
        return f"{self.organisation.code}: {self.reason}"


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("In session")
    CLOSED = "closed", _("Closed")


class Session(models.Model):
    """One meeting of a committee on a working day."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"))
    capacity = models.PositiveSmallIntegerField(_("dossiers"))
    minutes_per_dossier = models.PositiveSmallIntegerField(_("minutes per dossier"))
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    agenda_sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("committee session")
        verbose_name_plural = _("committee sessions")
        ordering = ["date", "committee__code"]
        constraints = [models.UniqueConstraint(fields=["committee", "date"], name="session_unique_day")]

    def __str__(self) -> str:
        return f"{self.committee.code} {self.date}"


class Booking(models.Model):
    """A dossier's slot in a session; cancelled bookings stay as history."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    position = models.PositiveSmallIntegerField()
    dossier = models.ForeignKey("permits.Dossier", on_delete=models.PROTECT, related_name="bookings")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "position"], condition=Q(cancelled_at__isnull=True), name="booking_one_per_slot"
            ),
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(cancelled_at__isnull=True), name="booking_one_per_dossier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} #{self.position}"


class Verdict(models.TextChoices):
    FAVOURABLE = "favourable", _("Favourable")
    RESERVATIONS = "favourable_with_reservations", _("Favourable with reservations")
    UNFAVOURABLE = "unfavourable", _("Unfavourable")
    NOT_CONCERNED = "not_concerned", _("Not concerned")


class Opinion(models.Model):
    """One organisation's opinion on one review round of a dossier, given by one of its members."""

    dossier = models.ForeignKey("permits.Dossier", on_delete=models.CASCADE, related_name="opinions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    review_round = models.PositiveSmallIntegerField()
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.PROTECT, related_name="opinions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=30, choices=Verdict.choices)
    remarks = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "organisation", "review_round"], name="opinion_once_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.organisation.code}: {self.verdict}"


class Remark(models.Model):
    """A point the applicant must answer; carried in the remark grid until resolved."""

    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="remark_items")
    text = models.TextField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:60]


class Attendance(models.Model):
    """Who sat in a session, for which organisation."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "organisation"], name="attendance_unique")]

    def __str__(self) -> str:
        return f"{self.session}: {self.organisation.code}"


class IssuedDocument(models.Model):
    """A generated PDF (agenda, minutes, decision) with its hash and public verification code; never changed.

    A correction is a new document whose ``replaces`` points to the earlier one.
    """

    class Kind(models.TextChoices):
        AGENDA = "agenda", _("Agenda")
        MINUTES = "minutes", _("Minutes")
        DECISION = "decision", _("Decision")
        APPROVED_PLAN = "approved_plan", _("Approved plan")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    dossier = models.ForeignKey(
        "permits.Dossier", null=True, blank=True, on_delete=models.PROTECT, related_name="issued_documents"
    )
    file = models.FileField(upload_to="issued/%Y/%m/", max_length=300)
    sha256 = models.CharField(max_length=64)
    verification_code = models.CharField(max_length=32, unique=True)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.verification_code}"
