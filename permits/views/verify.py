"""The public verification page of an issued document: ``/verify/<code>/``, no sign-in.

It states what the document is (agenda, minutes, decision), for which dossier or session, when it was
issued, its SHA-256 fingerprint and whether a newer document replaced it. An unknown code answers 404.
Verifying an uploaded PDF and its signatures comes with the signatures issue.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from permits.issuing import document_for_code, document_reference, document_replaced_by


@require_GET
def verify_document(request: HttpRequest, code: str) -> HttpResponse:
    document = document_for_code(code=code)
    if document is None:
        raise Http404(_("No document has this verification code."))
    return render(
        request,
        "permits/verify.html",
        {
            "document": document,
            "reference": document_reference(document),
            "replaced_by": document_replaced_by(document),
        },
    )
