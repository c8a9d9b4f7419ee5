"""Issued documents: the committee minutes (PV) and the decision (arrêté: permit or reasoned refusal).

Each is a PDF in French and Arabic rendered with WeasyPrint (the receipt's approach: self-contained
page, inline QR code, no network), stored as an :class:`IssuedDocument` with its SHA-256 and a public
verification code (``/verify/<code>/``). A document is never changed: generating it again creates a
new document whose ``replaces`` points to the previous one. Signing comes with the signatures issue.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from permits.audit import audit_append
from permits.models import Dossier, IssuedDocument, Opinion, Session, SessionStatus, Status
from permits.opinions import (
    Conclusion,
    OpinionForbidden,
    outcome_consolidate,
    session_dossiers,
    user_is_president,
)
from permits.receipts import _qr_data_uri
from permits.roles import Role, user_has_role
from permits.workflow import committee_outcome


class IssuingRefused(DomainError):
    code = "issuing-refused"


def verification_url(*, code: str) -> str:
    """The public page that proves a document, printed and encoded in its QR code."""
    return f"{settings.TAAMIR_PUBLIC_URL.rstrip('/')}/verify/{code}/"


def _render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def new_verification_code() -> str:
    code = secrets.token_urlsafe(12)
    while IssuedDocument.objects.filter(verification_code=code).exists():  # pragma: no cover - 2^-96
        code = secrets.token_urlsafe(12)
    return code


def _store(*, kind: str, template: str, context: dict, filename: str, actor, **owner) -> IssuedDocument:
    """Render, hash and store a new document; the current one of the same kind and owner is replaced."""
    code = new_verification_code()
    context = {**context, "verification_code": code, "verification_url": verification_url(code=code),
               "qr_code": _qr_data_uri(verification_url(code=code)), "printed_at": timezone.localtime()}  # fmt: skip
    content = _render_pdf(template, context)
    return document_store(kind=kind, content=content, filename=filename, code=code, actor=actor, **owner)


def document_store(
    *,
    kind: str,
    content: bytes,
    filename: str,
    code: str,
    actor,
    replace: bool = True,
    payload: dict | None = None,
    **owner,
) -> IssuedDocument:
    """Hash and store the bytes of an issued document with its audit record, in one transaction.

    With ``replace``, the current document of the same kind and owner is replaced by this one (a correction);
    ``payload`` adds facts to the audit record.
    """
    with transaction.atomic():
        previous = None
        if replace:
            previous = (
                IssuedDocument.objects.select_for_update()
                .filter(kind=kind, **owner)
                .exclude(pk__in=IssuedDocument.objects.filter(replaces__isnull=False).values("replaces"))
                .order_by("-created_at")
                .first()
            )
        document = IssuedDocument(
            kind=kind, sha256=hashlib.sha256(content).hexdigest(), verification_code=code, replaces=previous, **owner
        )
        document.file.save(filename, ContentFile(content), save=False)
        document.save()
        dossier = owner.get("dossier")
        audit_append(
            action=f"document.{kind}",
            actor=actor,
            dossier_id=dossier.pk if dossier else None,
            payload={"document": document.pk, "sha256": document.sha256, "code": code,
                     "replaces": previous.pk if previous else None, **(payload or {})},
        )  # fmt: skip
    return document


def current_document(*, kind: str, session: Session | None = None, dossier: Dossier | None = None):
    """The latest, not replaced, document of a kind for a session or a dossier (None if never generated)."""
    owner = {"session": session} if session is not None else {"dossier": dossier}
    return IssuedDocument.objects.filter(kind=kind, replaced_by__isnull=True, **owner).order_by("-created_at").first()


# --- minutes -----------------------------------------------------------------------------------------


def minutes_context(*, session: Session) -> dict:
    rows = []
    for dossier in session_dossiers(session=session):
        opinions = list(
            Opinion.objects.filter(dossier=dossier, session=session)
            .select_related("organisation")
            .prefetch_related("remark_items")
            .order_by("organisation__code")
        )
        review_round = opinions[0].review_round if opinions else dossier.review_round
        event = dossier.events.filter(kind="transition", data__session=str(session.pk)).order_by("-created_at").first()
        rows.append({"dossier": dossier, "opinions": opinions, "round": review_round,
                     "parcels": list(dossier.parcels.order_by("reference")),
                     "outcome": event.data.get("outcome") if event else "",
                     "outcome_text": event.message if event else ""})  # fmt: skip
    return {
        "session": session,
        "committee": session.committee,
        "attendance": list(session.attendance.select_related("organisation", "user").order_by("organisation__code")),
        "rows": rows,
        "conclusions": Conclusion,
    }


def minutes_generate(*, session: Session, actor) -> IssuedDocument:
    """The minutes (PV) of a closed session, as a new issued document."""
    session = Session.objects.select_related("committee").get(pk=session.pk)
    if not (user_is_president(user=actor, session=session) or user_has_role(actor, Role.DESK_AGENT)):
        raise OpinionForbidden(_("Only the committee president or the desk can generate the minutes."))
    if session.status != SessionStatus.CLOSED:
        raise IssuingRefused(_("Close the session before generating its minutes."))
    return _store(
        kind=IssuedDocument.Kind.MINUTES,
        template="permits/minutes_pdf.html",
        context=minutes_context(session=session),
        filename=f"pv-{session.committee.code}-{session.date.isoformat()}.pdf",
        actor=actor,
        session=session,
    )


# --- decision ----------------------------------------------------------------------------------------


def decision_context(*, dossier: Dossier, decided_on: date) -> dict:
    """The decision's facts; conditions and reasons are worded once per language of the PDF."""
    permit = committee_outcome(dossier) == Status.FAVOURABLE
    context = {
        "dossier": dossier,
        "procedure": dossier.procedure,
        "commune": dossier.commune,
        "applicant": dossier.applicant,
        "parcels": list(dossier.parcels.order_by("reference")),
        "permit": permit,
        "validity_months": dossier.procedure.validity_months if permit else None,
        "decided_on": decided_on,
    }
    for language in ("fr", "ar"):
        with translation.override(language):
            outcome = outcome_consolidate(dossier=dossier)
        context[f"conditions_{language}"] = outcome.conditions if permit else []
        context[f"reasons_{language}"] = [] if permit else outcome.reasons + outcome.remarks
    return context


def decision_generate(*, dossier: Dossier, actor) -> IssuedDocument:
    """The decision of a dossier awaiting signature: a permit or a reasoned refusal, as a new document."""
    if not user_has_role(actor, Role.DESK_AGENT, Role.SIGNING_AUTHORITY) and not actor.is_superuser:
        raise OpinionForbidden(_("Only the desk or the signing authority can generate the decision."))
    if dossier.status != Status.DECISION_SIGNING:
        raise IssuingRefused(_("The decision is generated once the dossier is sent for signature."))
    return _store(
        kind=IssuedDocument.Kind.DECISION,
        template="permits/decision_pdf.html",
        context=decision_context(dossier=dossier, decided_on=timezone.localdate()),
        filename=f"decision-{dossier.reference}.pdf",
        actor=actor,
        dossier=dossier,
    )


# --- verification ------------------------------------------------------------------------------------


def document_for_code(*, code: str) -> IssuedDocument | None:
    return (
        IssuedDocument.objects.select_related("dossier", "session__committee", "replaced_by")
        .filter(verification_code=code)
        .first()
    )


def document_reference(document: IssuedDocument) -> str:
    """What a verification page names: the dossier reference, or the committee and date of the session."""
    if document.dossier_id:
        return document.dossier.reference or ""
    if document.session_id:
        return f"{document.session.committee.code} {document.session.date.isoformat()}"
    return ""


def document_replaced_by(document: IssuedDocument) -> IssuedDocument | None:
    try:
        return document.replaced_by
    except IssuedDocument.DoesNotExist:
        return None
