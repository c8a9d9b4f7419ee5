"""Electronic signatures of issued documents: who must sign each document, in which order, and the
approved plans stamped and signed when a permit is issued.

Imported by :mod:`permits.models`, so these are models of the ``permits`` app. A request is one
awaited signature; its ``position`` orders the incremental signatures of the PDF (minutes: the present
members, then the president; a decision or an approved plan: the signing authority). A signed request
records the file's SHA-256 after its signature, so every earlier state of the document stays known.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SignerRole(models.TextChoices):
    MEMBER = "member", _("Committee member")
    PRESIDENT = "president", _("Committee president")
    AUTHORITY = "signing_authority", _("Signing authority")


class SignatureStatus(models.TextChoices):
    AWAITED = "awaited", _("Awaited")
    QUEUED = "queued", _("Signing in progress")
    SIGNED = "signed", _("Signed")
    FAILED = "failed", _("Failed")


class SignatureRequest(models.Model):
    """One awaited signature on an issued document."""

    # Part of its document (a document is never deleted, except by a demo reset).
    document = models.ForeignKey("permits.IssuedDocument", on_delete=models.CASCADE, related_name="signature_requests")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20, choices=SignerRole.choices)
    # The named signer; empty for the signing authority (anyone holding that role signs).
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "permits.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=SignatureStatus.choices, default=SignatureStatus.AWAITED)
    field_name = models.CharField(max_length=60)
    level = models.CharField(max_length=8, blank=True)  # PAdES baseline level reached: B-B, B-T, B-LT
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    sha256_before = models.CharField(max_length=64, blank=True)
    sha256_after = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("signature request")
        verbose_name_plural = _("signature requests")
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="signature_request_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} #{self.position} {self.role} {self.status}"


class ApprovedPlan(models.Model):
    """A plan sheet stamped "ne varietur / APPROUVÉ" and signed: an issued document of its dossier."""

    document = models.OneToOneField("permits.IssuedDocument", on_delete=models.CASCADE, related_name="approved_plan")
    plan_version = models.ForeignKey("plans.PlanVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("approved plan")
        verbose_name_plural = _("approved plans")

    def __str__(self) -> str:
        return f"{self.plan_version_id} → {self.document_id}"
