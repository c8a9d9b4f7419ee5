"""The public verification page of an issued document: ``/verify/<code>/``, no sign-in.

It states what the document is (agenda, minutes, decision, approved plan), for which dossier or session,
when it was issued, its SHA-256 fingerprint and whether a newer document replaced it; for a signed
document, each signer, signing time and the validation of its signatures (integrity, chain to a trusted
root, coverage) with the ETSI verdict. Anyone may upload a PDF to check it against our records: its
fingerprint is compared with the document's states and its signatures validated. An unknown code answers 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from permits.issuing import document_for_code, document_reference, document_replaced_by
from permits.signing import CopyRefused, copy_bytes, document_report, upload_check


@require_http_methods(["GET", "POST"])
def verify_document(request: HttpRequest, code: str) -> HttpResponse:
    document = document_for_code(code=code)
    if document is None:
        raise Http404(_("No document has this verification code."))
    check, upload_error = None, ""
    if request.method == "POST":
        try:
            check = upload_check(data=copy_bytes(request.FILES.get("pdf")), document=document)
        except CopyRefused as refusal:
            upload_error = refusal.message
    status = 400 if upload_error else 200
    return render(
        request,
        "permits/verify.html",
        {
            "document": document,
            "reference": document_reference(document),
            "replaced_by": document_replaced_by(document),
            "requests": list(document.signature_requests.select_related("signer", "signed_by", "organisation")),
            "report": document_report(document=document),
            "check": check,
            "upload_error": upload_error,
        },
        status=status,
    )
