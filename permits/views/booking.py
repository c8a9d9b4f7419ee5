"""Pages of committee booking and agendas: the filer's slot (book, move, cancel), the desk's invitee form,
and the desk's page per session (agenda, PDF, "send the agenda").

The boxes shown on the dossier pages are rendered by the ``committee_ui`` template tags; these views only
take the POSTs, call one service each and come back to the page with a message (a refusal is the
service's own sentence).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.api_errors import DomainError
from permits.agendas import agenda_build, agenda_pdf, agenda_send
from permits.committee_models import IssuedDocument, Organisation, Session
from permits.committees import invitee_add, slot_book, slot_cancel, slot_move
from permits.models import Status
from permits.roles import Role
from permits.views.common import next_url, role_required, visible_dossier_or_404

desk_only = role_required(Role.DESK_AGENT)


@login_required
@require_POST
def booking_set(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """Book the chosen session, or move the booking there when the dossier is already scheduled."""
    dossier = visible_dossier_or_404(request, dossier_id)
    back = next_url(request, reverse("permits:dossier", args=[dossier.pk]))
    try:
        session = Session.objects.get(pk=int(request.POST.get("session", "")))
    except (ValueError, Session.DoesNotExist):
        messages.error(request, _("Choose a session."))
        return redirect(back)
    try:
        if dossier.status == Status.SCHEDULED:
            slot_move(dossier=dossier, session=session, actor=request.user)
            messages.success(request, _("Your slot is moved to %(date)s.") % {"date": session.date.isoformat()})
        else:
            slot_book(dossier=dossier, session=session, actor=request.user)
            messages.success(request, _("Your slot is booked for %(date)s.") % {"date": session.date.isoformat()})
    except DomainError as refusal:
        messages.error(request, refusal.message)
    return redirect(back)


@login_required
@require_POST
def booking_cancel(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = visible_dossier_or_404(request, dossier_id)
    back = next_url(request, reverse("permits:dossier", args=[dossier.pk]))
    try:
        slot_cancel(dossier=dossier, actor=request.user)
        messages.success(request, _("Your committee slot is cancelled."))
    except DomainError as refusal:
        messages.error(request, refusal.message)
    return redirect(back)


@desk_only
@require_POST
def member_invite(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The desk adds a consultative invitee with a reason."""
    dossier = visible_dossier_or_404(request, dossier_id)
    back = next_url(request, reverse("permits:desk_dossier", args=[dossier.pk]))
    organisation = Organisation.objects.filter(code=request.POST.get("organisation", "")).first()
    if organisation is None:
        messages.error(request, _("Choose an organisation."))
        return redirect(back)
    try:
        invitee_add(dossier=dossier, organisation=organisation, reason=request.POST.get("reason", ""),
                    actor=request.user)  # fmt: skip
        messages.success(request, _("%(name)s is invited.") % {"name": organisation.name})
    except DomainError as refusal:
        messages.error(request, refusal.message)
    return redirect(back)


@desk_only
@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    """The coming sessions of every active committee, with their booked and free places."""
    today = timezone.localdate()
    sessions = (
        Session.objects.filter(date__gte=today, committee__active=True)
        .select_related("committee")
        .annotate(booked=Count("bookings", filter=Q(bookings__cancelled_at__isnull=True)))
        .order_by("date", "committee__code")[:200]
    )
    return render(request, "permits/booking/session_list.html", {"sessions": sessions})


@desk_only
@require_GET
def session_agenda(request: HttpRequest, session_id: int) -> HttpResponse:
    """One session at the desk: its agenda in order, the PDF, the agenda documents issued, "send"."""
    session = get_object_or_404(Session.objects.select_related("committee__commune"), pk=session_id)
    context = {
        "session": session,
        "items": agenda_build(session=session),
        "documents": IssuedDocument.objects.filter(session=session, kind=IssuedDocument.Kind.AGENDA),
    }
    return render(request, "permits/booking/session_agenda.html", context)


@desk_only
@require_GET
def session_agenda_pdf(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(Session.objects.select_related("committee__commune"), pk=session_id)
    response = HttpResponse(agenda_pdf(session=session), content_type="application/pdf")
    filename = f"agenda-{session.committee.code}-{session.date.isoformat()}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@desk_only
@require_POST
def session_agenda_send(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(Session.objects.select_related("committee"), pk=session_id)
    try:
        agenda_send(session=session, actor=request.user)
        messages.success(request, _("The agenda is sent to every selected member."))
    except DomainError as refusal:
        messages.error(request, refusal.message)
    return redirect("permits:session_agenda", session.pk)
