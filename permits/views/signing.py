"""Signing pages: ``/signing/<code>/`` shows who has signed a document and who is awaited, and lets the
awaited signer sign with the password of their key (the job's status is shown until it ends);
``/signing/crl/<ca>.crl`` publishes the CRLs named in the development certificates."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from config.api_errors import DomainError
from permits.issuing import document_for_code, document_reference, document_replaced_by
from permits.roles import Role
from permits.signing import (
    SIGNED_KINDS,
    request_for_user,
    signature_queue,
    signature_requests_plan,
)
from permits.signing_models import SignatureStatus
from permits.signing_pki import signing_dir
from permits.views.common import role_required

SIGNING_ROLES = (Role.COMMITTEE_MEMBER, Role.COMMITTEE_PRESIDENT, Role.SIGNING_AUTHORITY, Role.DESK_AGENT)


@role_required(*SIGNING_ROLES)
@require_http_methods(["GET", "POST"])
def document_signing(request: HttpRequest, code: str) -> HttpResponse:
    document = document_for_code(code=code)
    if document is None or document.kind not in SIGNED_KINDS:
        raise Http404(_("No document has this verification code."))
    if request.method == "POST":
        try:
            signature_queue(document=document, user=request.user, password=request.POST.get("password", ""))
            messages.success(request, _("Your signature is being applied."))
        except DomainError as refusal:
            messages.error(request, refusal.message)
        return redirect("permits:document_signing", code)
    requests = signature_requests_plan(document=document)
    in_progress = any(r.status == SignatureStatus.QUEUED for r in requests)
    return render(
        request,
        "permits/signing/document.html",
        {
            "document": document,
            "reference": document_reference(document),
            "replaced_by": document_replaced_by(document),
            "requests": requests,
            "mine": request_for_user(document=document, user=request.user),
            "complete": bool(requests) and all(r.status == SignatureStatus.SIGNED for r in requests),
            "in_progress": in_progress,
            "dev_passwords": settings.TAAMIR_SIGNING_DEV_PKI,
        },
    )


@require_GET
def certificate_revocation_list(request: HttpRequest, ca: str) -> FileResponse:
    if ca not in {"root", "interm"}:
        raise Http404(_("No such revocation list."))
    path = signing_dir() / f"{ca}.crl"
    if not path.exists():
        raise Http404(_("No such revocation list."))
    return FileResponse(path.open("rb"), content_type="application/pkix-crl")
