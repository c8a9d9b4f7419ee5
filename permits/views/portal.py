"""The applicant's portal: my dossiers, a dossier's page (timeline, clock, documents, remarks, actions),
document uploads (htmx partial), downloads and the receipt PDF.

Staff roles see the same dossier page, read-only, with the actions their role allows.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.api_errors import DomainError
from permits.deadlines import WorkingCalendar
from permits.forms import ReasonForm, ScheduleForm, UploadForm
from permits.models import Document, Status
from permits.receipts import receipt_filename, receipt_pdf
from permits.roles import FILING_ROLES, Role, user_has_role, user_is_staff_role
from permits.selectors import dossier_list_visible_to, dossier_timeline
from permits.services import document_upload
from permits.views.common import (
    action_buttons,
    checklist_context,
    classification_reason,
    clock_view,
    figure_rows,
    is_htmx,
    may_file_for,
    next_url,
    remarks_to_answer,
    timeline_entries,
    visible_dossier_or_404,
)
from permits.workflow import dossier_transition

PAGE_SIZE = 25


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where signing in leads (``LOGIN_REDIRECT_URL``): the desk, the committee workspace, or the dossiers."""
    if user_has_role(request.user, Role.DESK_AGENT) and not request.user.is_superuser:
        return redirect("permits:desk")
    if user_has_role(request.user, Role.COMMITTEE_MEMBER, Role.COMMITTEE_PRESIDENT) and not request.user.is_superuser:
        return redirect("permits:committee")
    return redirect("permits:portal")


@login_required
@require_GET
def portal(request: HttpRequest) -> HttpResponse:
    """My dossiers (filers), or every filed dossier (staff), with status and next deadline."""
    user = request.user
    staff = user_is_staff_role(user)
    dossiers = dossier_list_visible_to(user=user).prefetch_related("clock_stops").order_by("-updated_at")
    if staff:
        # Staff see every filed dossier, and only their own drafts (an administrator may file too).
        dossiers = dossiers.exclude(Q(status=Status.DRAFT) & ~Q(created_by=user))
    status = request.GET.get("status", "")
    if status in Status.values:
        dossiers = dossiers.filter(status=status)
    query = request.GET.get("q", "").strip()
    if query:
        dossiers = dossiers.filter(reference__icontains=query)
    page = Paginator(dossiers, PAGE_SIZE).get_page(request.GET.get("page"))
    calendar = WorkingCalendar()
    rows = [(dossier, clock_view(dossier, calendar=calendar)) for dossier in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "staff": staff,
        "can_file": user_has_role(user, *FILING_ROLES),
        "statuses": Status.choices,
        "status": status,
        "query": query,
    }
    return render(request, "permits/portal.html", context)


@login_required
@require_GET
def dossier_detail(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """A dossier's page: status, clock, remarks to answer, documents with versions, timeline, actions."""
    dossier = visible_dossier_or_404(request, dossier_id)
    user = request.user
    staff = user_is_staff_role(user)
    filer = may_file_for(user, dossier)
    # Submitting goes through the wizard's review; the desk accepts from its workspace.
    hidden = {"submit", "accept", "declare_inadmissible"}
    context = {
        "dossier": dossier,
        "filer": filer,
        "staff": staff,
        "desk_agent": user_has_role(user, Role.DESK_AGENT),
        "clock": clock_view(dossier),
        "remarks": remarks_to_answer(dossier),
        "timeline": timeline_entries(dossier_timeline(dossier=dossier, include_internal=staff), with_actors=staff),
        "actions": action_buttons(dossier, user, exclude=hidden),
        "parcels": list(dossier.parcels.order_by("reference")),
        "figures": figure_rows(dossier),
        "classification_reason": classification_reason(dossier),
        **checklist_context(request, dossier),
    }
    return render(request, "permits/dossier_detail.html", context)


@login_required
@require_POST
def dossier_action(request: HttpRequest, dossier_id: int, action: str) -> HttpResponse:
    """Make one transition (buttons from ``transitions_available``); a refusal becomes a clear message."""
    dossier = visible_dossier_or_404(request, dossier_id)
    back = next_url(request, reverse("permits:dossier", args=[dossier.pk]))
    reason_form = ReasonForm(request.POST)
    reason = reason_form.cleaned_data["reason"].strip() if reason_form.is_valid() else ""
    data = {}
    if action == "schedule":
        schedule_form = ScheduleForm(request.POST)
        if not schedule_form.is_valid():
            for errors in schedule_form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        data["session_date"] = schedule_form.cleaned_data["session_date"]
    try:
        dossier = dossier_transition(dossier=dossier, action=action, actor=request.user, reason=reason, data=data)
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return redirect(back)
    if action == "submit":
        messages.success(
            request,
            _("Your dossier is filed under the number %(reference)s. Download the receipt below.")
            % {"reference": dossier.reference},
        )
        return redirect("permits:dossier", dossier.pk)
    messages.success(request, _("Done: the dossier is now “%(status)s”.") % {"status": Status(dossier.status).label})
    return redirect(back)


@login_required
@require_POST
def document_upload_view(request: HttpRequest, dossier_id: int, item_code: str) -> HttpResponse:
    """Upload a new version of one checklist document; htmx gets the refreshed checklist back."""
    dossier = visible_dossier_or_404(request, dossier_id)
    if not may_file_for(request.user, dossier):
        raise PermissionDenied(_("Only the filer of a dossier may add documents to it."))
    form = UploadForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        try:
            document_upload(
                dossier=dossier, item_code=item_code, uploaded_file=form.cleaned_data["file"], actor=request.user
            )
        except DomainError as refusal:
            error = refusal.message
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    if is_htmx(request):
        context = checklist_context(request, dossier, errors={item_code: error} if error else None,
                                    just_uploaded="" if error else item_code)  # fmt: skip
        return render(request, "permits/_checklist.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The document was added to the dossier."))
    return redirect(next_url(request, reverse("permits:dossier", args=[dossier.pk])))


@login_required
@require_GET
def document_download(request: HttpRequest, dossier_id: int, document_id: int) -> FileResponse:
    """One stored version of a document, for whoever may see the dossier."""
    dossier = visible_dossier_or_404(request, dossier_id)
    document = get_object_or_404(Document, pk=document_id, dossier=dossier)
    extension = document.detected_format if document.detected_format != "jpeg" else "jpg"
    filename = f"{dossier.reference or dossier.pk}-{document.item_code}-v{document.version}.{extension}"
    return FileResponse(
        document.file.open("rb"), content_type=document.content_type, as_attachment=True, filename=filename
    )


@login_required
@require_GET
def receipt_download(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The filing receipt (French and Arabic) of a submitted dossier."""
    dossier = visible_dossier_or_404(request, dossier_id)
    if dossier.reference is None or dossier.submitted_at is None:
        raise Http404(_("A draft has no receipt yet."))
    response = HttpResponse(receipt_pdf(dossier=dossier), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(dossier=dossier)}"'
    return response
