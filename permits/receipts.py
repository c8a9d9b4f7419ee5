"""The filing receipt (récépissé de dépôt / وصل الإيداع): a PDF in French and Arabic, made with WeasyPrint.

It states the dossier number, the filing date, the procedure, the applicant, the parcels, every
document filed with its SHA-256 fingerprint, the committee date when known, and the tracking link
``{TAAMIR_PUBLIC_URL}/dossiers/<id>/`` (also as a QR code). The French part reads left to right, the
Arabic part right to left, whatever the language of the person downloading it. WeasyPrint is allowed
no network access: the page is self-contained (fonts from the system, the QR code inline).
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from permits.models import Dossier, PartyKind


def tracking_url(*, dossier: Dossier) -> str:
    """The public address of the dossier's page, printed on the receipt and sent in notifications."""
    return f"{settings.TAAMIR_PUBLIC_URL.rstrip('/')}/dossiers/{dossier.pk}/"


def receipt_filename(*, dossier: Dossier) -> str:
    return f"recepisse-{dossier.reference or dossier.pk}.pdf"


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=1)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def receipt_context(*, dossier: Dossier) -> dict:
    """What the receipt shows; names come in both languages, the template picks each side's."""
    applicant = dossier.applicant
    documents = list(
        dossier.documents.select_related("checklist_item").order_by("checklist_item__position", "item_code", "version")
    )
    link = tracking_url(dossier=dossier)
    return {
        "dossier": dossier,
        "procedure": dossier.procedure,
        "commune": dossier.commune,
        "applicant": applicant,
        "is_company": applicant.kind == PartyKind.COMPANY,
        "architect": dossier.architect,
        "parcels": list(dossier.parcels.order_by("reference")),
        "documents": documents,
        "submitted_on": timezone.localtime(dossier.submitted_at) if dossier.submitted_at else None,
        "issued_at": timezone.localtime(),
        "tracking_url": link,
        "qr_code": _qr_data_uri(link),
    }


def receipt_pdf(*, dossier: Dossier) -> bytes:
    """The receipt of a submitted dossier as PDF bytes."""
    html = render_to_string("permits/receipt.html", receipt_context(dossier=dossier))
    # Only inline (data:) resources: a receipt never reaches out to the network or the file system.
    # WeasyPrint takes ~0.8 s to import: only the processes that render a receipt pay for it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
