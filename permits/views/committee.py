"""The committee workspace (``/committee/``): my sessions, a session's agenda, the dossier review page
with the opinion form; for the president: open, attendance, close and consolidate, minutes; for the
desk and the signing authority: the decision document. Also the applicant's answers to remarks.

Views only check who asks, call :mod:`permits.opinions` / :mod:`permits.issuing`, and turn refusals
into messages. A session the user has no part in answers 404; a role that may not act answers 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.api_errors import DomainError
from permits.issuing import current_document, decision_generate, minutes_generate
from permits.models import DossierMember, IssuedDocument, Remark, Session, SessionStatus, Status, Verdict
from permits.opinions import (
    attendance_mark,
    dossier_remarks,
    member_organisation_for,
    opinion_record,
    opinions_visible_to,
    outcome_consolidate,
    remark_answer,
    remark_resolve,
    session_close,
    session_dossiers,
    session_open,
    user_is_president,
    user_organisations,
    user_sees_all_opinions,
)
from permits.roles import Role, user_has_role
from permits.views.common import (
    action_buttons,
    classification_reason,
    clock_view,
    figure_rows,
    next_url,
    role_required,
    visible_dossier_or_404,
)

WORKSPACE_ROLES = (Role.COMMITTEE_MEMBER, Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT, Role.SIGNING_AUTHORITY)


def _sessions_for(user):
    """Sessions with a dossier my organisation is selected for; every session for the presidency and desk."""
    sessions = Session.objects.select_related("committee").order_by("date", "committee__code")
    if _sees_all_sessions(user):
        return sessions
    mine = DossierMember.objects.filter(organisation__in=user_organisations(user=user)).values("dossier")
    return sessions.filter(
        Q(bookings__dossier__in=mine, bookings__cancelled_at__isnull=True) | Q(committee__president=user)
    ).distinct()


def _sees_all_sessions(user) -> bool:
    return user.is_superuser or user_has_role(user, Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT, Role.SIGNING_AUTHORITY)


def _session_or_404(request: HttpRequest, session_id: int) -> Session:
    session = _sessions_for(request.user).filter(pk=session_id).first()
    if session is None:
        raise Http404(_("No such session."))
    return session


def _refused(request: HttpRequest, refusal: DomainError) -> None:
    messages.error(request, refusal.message)


@role_required(*WORKSPACE_ROLES)
@require_GET
def committee_home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    sessions = _sessions_for(request.user)
    context = {
        "upcoming": list(sessions.filter(date__gte=today).exclude(status=SessionStatus.CLOSED)[:50]),
        "past": list(sessions.filter(Q(date__lt=today) | Q(status=SessionStatus.CLOSED)).order_by("-date")[:20]),
        "organisations": list(user_organisations(user=request.user)),
    }
    return render(request, "permits/committee/home.html", context)


@role_required(*WORKSPACE_ROLES)
@require_GET
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    president = user_is_president(user=request.user, session=session)
    organisations = list(user_organisations(user=request.user))
    rows = []
    for dossier in session_dossiers(session=session):
        selected = list(DossierMember.objects.filter(dossier=dossier).select_related("organisation"))
        given = set(
            dossier.opinions.filter(review_round=dossier.review_round).values_list("organisation_id", flat=True)
        )
        rows.append({"dossier": dossier, "members": selected, "given": given,
                     "mine": [m for m in selected if m.organisation in organisations]})  # fmt: skip
    attendance = {a.organisation_id: a for a in session.attendance.select_related("user")}
    bodies = {m.organisation for row in rows for m in row["members"]}
    context = {
        "session": session,
        "rows": rows,
        "president": president,
        "attendance_rows": [(org, attendance.get(org.pk)) for org in sorted(bodies, key=lambda o: o.code)],
        "minutes": current_document(kind=IssuedDocument.Kind.MINUTES, session=session),
    }
    return render(request, "permits/committee/session.html", context)


@role_required(*WORKSPACE_ROLES)
@require_POST
def session_action(request: HttpRequest, session_id: int, action: str) -> HttpResponse:
    """Open, close and consolidate, or generate the minutes (the president; the desk for the minutes)."""
    session = _session_or_404(request, session_id)
    try:
        if action == "open":
            session_open(session=session, actor=request.user)
            messages.success(request, _("The session is open: its dossiers are under review."))
        elif action == "close":
            session_close(session=session, actor=request.user)
            messages.success(request, _("The session is closed and each dossier's outcome applied."))
        elif action == "minutes":
            minutes_generate(session=session, actor=request.user)
            messages.success(request, _("The minutes were generated."))
        elif action == "attendance":
            if not user_is_president(user=request.user, session=session):
                raise PermissionDenied(_("Only the committee president can do this."))
            present = set(request.POST.getlist("present"))
            for member in DossierMember.objects.filter(dossier__in=session_dossiers(session=session)).select_related(
                "organisation"
            ):
                user = member.organisation.members.order_by("pk").first()
                if user is not None:
                    attendance_mark(session=session, organisation=member.organisation, user=user,
                                    present=str(member.organisation_id) in present, actor=request.user)  # fmt: skip
            messages.success(request, _("Attendance recorded."))
        else:
            raise Http404(_("Unknown action."))
    except DomainError as refusal:
        _refused(request, refusal)
    return redirect("permits:committee_session", session.pk)


@role_required(*WORKSPACE_ROLES)
@require_GET
def session_minutes_pdf(request: HttpRequest, session_id: int) -> FileResponse:
    session = _session_or_404(request, session_id)
    document = current_document(kind=IssuedDocument.Kind.MINUTES, session=session)
    if document is None:
        raise Http404(_("This document has not been generated yet."))
    return FileResponse(document.file.open("rb"), content_type="application/pdf", as_attachment=True,
                        filename=document.file.name.rsplit("/", 1)[-1])  # fmt: skip


@role_required(*WORKSPACE_ROLES)
@require_GET
def dossier_review(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The reviewer's page: documents, classification, clock, opinions (others' once mine is given), remarks."""
    dossier = visible_dossier_or_404(request, dossier_id)
    organisation = member_organisation_for(user=request.user, dossier=dossier)
    mine_given = (
        organisation is not None
        and dossier.opinions.filter(review_round=dossier.review_round, organisation=organisation).exists()
    )
    sees_all = user_sees_all_opinions(user=request.user, dossier=dossier)
    context = {
        "dossier": dossier,
        "organisation": organisation,
        "can_give": organisation is not None and not mine_given and dossier.status in {Status.SCHEDULED,
                                                                                        Status.UNDER_REVIEW},
        "mine_given": mine_given,
        "opinions": list(opinions_visible_to(dossier=dossier, user=request.user)),
        "previous_remarks": list(
            dossier_remarks(dossier=dossier).filter(opinion__review_round__lt=dossier.review_round)
        ),
        "documents": list(dossier.documents.order_by("item_code", "-version")),
        "parcels": list(dossier.parcels.order_by("reference")),
        "figures": figure_rows(dossier),
        "classification_reason": classification_reason(dossier),
        "clock": clock_view(dossier),
        "verdicts": Verdict.choices,
        "outcome": outcome_consolidate(dossier=dossier) if sees_all else None,
        "decision": current_document(kind=IssuedDocument.Kind.DECISION, dossier=dossier),
        "can_decide": dossier.status == Status.DECISION_SIGNING and _sees_all_sessions(request.user),
        "actions": [a for a in action_buttons(dossier, request.user) if a.name in {"issue", "refuse",
                                                                                   "prepare_decision"}],
        "members": list(DossierMember.objects.filter(dossier=dossier).select_related("organisation")),
    }  # fmt: skip
    return render(request, "permits/committee/review.html", context)


@role_required(Role.COMMITTEE_MEMBER, Role.COMMITTEE_PRESIDENT)
@require_POST
def opinion_give(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = visible_dossier_or_404(request, dossier_id)
    organisation = member_organisation_for(user=request.user, dossier=dossier)
    if organisation is None:
        raise PermissionDenied(_("You are not a member of an organisation selected for this dossier."))
    lines = request.POST.get("remarks", "").splitlines()
    try:
        opinion_record(dossier=dossier, organisation=organisation, author=request.user,
                       verdict=request.POST.get("verdict", ""), remark_items=lines)  # fmt: skip
        messages.success(request, _("Your opinion was recorded."))
    except DomainError as refusal:
        _refused(request, refusal)
    return redirect("permits:committee_dossier", dossier.pk)


@role_required(Role.COMMITTEE_MEMBER, Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT)
@require_POST
def remark_resolve_view(request: HttpRequest, remark_id: int) -> HttpResponse:
    remark = get_object_or_404(Remark.objects.select_related("opinion__dossier"), pk=remark_id)
    dossier = visible_dossier_or_404(request, remark.opinion.dossier_id)
    try:
        remark_resolve(remark=remark, actor=request.user)
    except DomainError as refusal:
        _refused(request, refusal)
    return redirect("permits:committee_dossier", dossier.pk)


@role_required(Role.DESK_AGENT, Role.SIGNING_AUTHORITY)
@require_POST
def decision_generate_view(request: HttpRequest, dossier_id: int) -> HttpResponse:
    dossier = visible_dossier_or_404(request, dossier_id)
    try:
        decision_generate(dossier=dossier, actor=request.user)
        messages.success(request, _("The decision document was generated."))
    except DomainError as refusal:
        _refused(request, refusal)
    return redirect("permits:committee_dossier", dossier.pk)


@login_required
@require_GET
def decision_pdf(request: HttpRequest, dossier_id: int) -> FileResponse:
    dossier = visible_dossier_or_404(request, dossier_id)
    document = current_document(kind=IssuedDocument.Kind.DECISION, dossier=dossier)
    if document is None:
        raise Http404(_("This document has not been generated yet."))
    return FileResponse(document.file.open("rb"), content_type="application/pdf", as_attachment=True,
                        filename=document.file.name.rsplit("/", 1)[-1])  # fmt: skip


@login_required
@require_POST
def remark_answer_view(request: HttpRequest, dossier_id: int, remark_id: int) -> HttpResponse:
    """The applicant's answer to one remark, from the remark grid of the dossier page."""
    dossier = visible_dossier_or_404(request, dossier_id)
    remark = get_object_or_404(Remark, pk=remark_id, opinion__dossier=dossier)
    try:
        remark_answer(remark=remark, answer=request.POST.get("answer", ""), actor=request.user)
        messages.success(request, _("Your answer was saved."))
    except DomainError as refusal:
        _refused(request, refusal)
    return redirect(next_url(request, reverse("permits:dossier", args=[dossier.pk])))
