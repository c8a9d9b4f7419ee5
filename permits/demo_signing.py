"""Demo signatures: a signing certificate for every demo staff account, every current minutes signed by
the members who sat and then the president, every decision already taken signed by the signing
authority (with its approved plans). Decisions still awaiting signature stay awaited, so the demo shows
both. Idempotent: what is signed stays signed; a second run signs nothing new."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from permits.models import IssuedDocument, Status
from permits.roles import Role
from permits.signing import request_for_user, signature_queue, signature_requests_plan
from permits.signing_pki import pki_init


@dataclass
class DemoSignaturesSummary:
    certificates: int
    signatures: int
    documents: int

    @property
    def line(self) -> str:
        return (
            f"signatures: {self.certificates} new signing certificate(s), {self.signatures} signature(s) applied "
            f"on {self.documents} minutes and decisions"
        )


def demo_signatures_build() -> DemoSignaturesSummary:
    from django.contrib.auth import get_user_model

    from permits.management.commands.signing_init import organisation_unit, staff_users

    if not settings.TAAMIR_SIGNING_DEV_PKI:
        return DemoSignaturesSummary(0, 0, 0)
    summary = pki_init(users=staff_users(), unit_for=organisation_unit)
    accounts = get_user_model().objects.filter(is_active=True)
    authority = accounts.filter(groups__name=Role.SIGNING_AUTHORITY).order_by("username").first()
    signatures = documents = 0
    minutes = IssuedDocument.objects.filter(kind=IssuedDocument.Kind.MINUTES, replaced_by__isnull=True)
    decisions = IssuedDocument.objects.filter(kind=IssuedDocument.Kind.DECISION, replaced_by__isnull=True).exclude(
        dossier__status=Status.DECISION_SIGNING
    )
    for document in [*minutes.order_by("pk"), *decisions.order_by("pk")]:
        documents += 1
        for request in signature_requests_plan(document=document):
            signer = request.signer or authority
            if signer is None:
                break
            pending = request_for_user(document=document, user=signer)
            if pending is None:
                continue
            signature_queue(document=document, user=signer, password="", inline=True)
            signatures += 1
    return DemoSignaturesSummary(len(summary.users_created), signatures, documents)
