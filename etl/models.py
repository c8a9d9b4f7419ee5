"""Open-data records: the daily indicators with the delays they summarise, and the published datasets.

``DailyIndicator`` holds one number per day, commune, procedure, classification (and institution, for
members' opinions) and metric; ``DelayObservation`` holds each delay (in working days) that ended on a
day, so that medians and percentiles over any period are exact, not averages of daily medians. Both are
written by :func:`etl.opendata.indicators.indicators_compute`, which replaces a day's rows in one
transaction: re-running a day gives the same rows. ``PublishedDataset`` and ``Distribution`` describe the
files :mod:`etl.opendata.datasets` publishes every day (the DCAT catalogue and the CKAN API read them).
"""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from geo.models import AdminArea


class DailyIndicator(models.Model):
    """One metric for one day and one group (commune × procedure × classification [× institution])."""

    day = models.DateField(_("day"), db_index=True)
    commune = models.ForeignKey(AdminArea, verbose_name=_("commune"), on_delete=models.CASCADE, related_name="+")
    procedure = models.ForeignKey(
        "permits.Procedure", verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="+"
    )
    classification = models.CharField(_("classification"), max_length=10, blank=True)
    organisation = models.ForeignKey(
        "permits.Organisation",
        verbose_name=_("institution"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    metric = models.CharField(_("metric"), max_length=40)
    value = models.FloatField(_("value"))
    sample = models.PositiveIntegerField(_("number of dossiers or opinions"), default=0)

    class Meta:
        verbose_name = _("daily indicator")
        verbose_name_plural = _("daily indicators")
        ordering = ["day", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "commune", "procedure", "classification", "organisation", "metric"],
                name="daily_indicator_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} = {self.value}"


class DelayObservation(models.Model):
    """A delay in working days (clock stops excluded) that ended on ``day``: a stage, a decision or an opinion."""

    class Measure(models.TextChoices):
        OVERALL = "overall", _("Acceptance to decision")
        COMPLETENESS = "completeness", _("Filing to admissibility")
        REVIEW = "review", _("Acceptance to committee opinion")
        DECISION = "decision", _("Committee opinion to decision")
        OPINION = "opinion", _("Institution's opinion")

    day = models.DateField(db_index=True)
    commune = models.ForeignKey(AdminArea, on_delete=models.CASCADE, related_name="+")
    procedure = models.ForeignKey("permits.Procedure", on_delete=models.CASCADE, related_name="+")
    classification = models.CharField(max_length=10, blank=True)
    organisation = models.ForeignKey(
        "permits.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dossier = models.ForeignKey("permits.Dossier", on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=20, choices=Measure.choices)
    working_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["day", "measure"]
        indexes = [models.Index(fields=["measure", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.measure}: {self.working_days} working days"


class PublishedDataset(models.Model):
    """An open dataset: its identity and description in three languages, its licence and dates."""

    name = models.SlugField(_("name"), max_length=100, unique=True)
    title_fr = models.CharField(_("title (French)"), max_length=200)
    title_ar = models.CharField(_("title (Arabic)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    description_fr = models.TextField(_("description (French)"))
    description_ar = models.TextField(_("description (Arabic)"))
    description_en = models.TextField(_("description (English)"))
    keywords = models.JSONField(_("keywords"), default=list)
    licence_id = models.CharField(_("licence"), max_length=40)
    issued = models.DateTimeField(_("first published"))
    modified = models.DateTimeField(_("last published"))
    records = models.PositiveIntegerField(_("records"), default=0)

    class Meta:
        verbose_name = _("published dataset")
        verbose_name_plural = _("published datasets")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def localized(self, field: str) -> str:
        language = (translation.get_language() or "fr")[:2]
        return getattr(self, f"{field}_{language}", "") or getattr(self, f"{field}_fr")

    @property
    def title(self) -> str:
        return self.localized("title")

    @property
    def description(self) -> str:
        return self.localized("description")


class Distribution(models.Model):
    """One file of a dataset (a format), as last published under ``opendata/latest/``."""

    dataset = models.ForeignKey(PublishedDataset, on_delete=models.CASCADE, related_name="distributions")
    fmt = models.CharField(_("format"), max_length=20)
    media_type = models.CharField(_("media type"), max_length=100)
    path = models.CharField(_("file"), max_length=300)
    byte_size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    published_on = models.DateField(_("published on"))
    modified = models.DateTimeField(_("last published"))

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["dataset", "fmt"]
        constraints = [models.UniqueConstraint(fields=["dataset", "fmt"], name="distribution_unique_format")]

    def __str__(self) -> str:
        return f"{self.dataset.name}.{self.fmt}"

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]
