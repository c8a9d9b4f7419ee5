"""The desk's workspace (one-stop shop): incoming dossiers, the completeness check item by item, accept or
declare inadmissible, reclassification, scheduling, the overdue list, notification delivery and the SMS
outbox. Every page is for desk agents only (403 for other roles).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.api_errors import DomainError
from permits.deadlines import WorkingCalendar
from permits.forms import CompletenessForm, ReasonForm, ReclassifyForm, ScheduleForm
from permits.models import (
    ChecklistVerdict,
    CompletenessReview,
    Dossier,
    Notification,
    SmsOutboxMessage,
    Status,
)
from permits.roles import Role
from permits.selectors import dossier_list_visible_to, dossier_overdue_list, dossier_timeline
from permits.services import completeness_review_record, dossier_reclassify
from permits.views.common import (
    action_buttons,
    checklist_context,
    classification_reason,
    clock_view,
    figure_rows,
    role_required,
    timeline_entries,
    visible_dossier_or_404,
)
from permits.workflow import dossier_transition

desk_only = role_required(Role.DESK_AGENT)
OUTBOX_PAGE_SIZE = 50


@desk_only
@require_GET
def desk_home(request: HttpRequest) -> HttpResponse:
    """Incoming (submitted) dossiers, oldest first, and the accepted ones waiting for a committee date."""
    calendar = WorkingCalendar()
    visible = dossier_list_visible_to(user=request.user).prefetch_related("clock_stops")
    incoming = visible.filter(status=Status.SUBMITTED).order_by("submitted_at")
    to_schedule = visible.filter(status__in=[Status.ACCEPTED, Status.RESUBMITTED]).order_by("status_changed_at")
    context = {
        "incoming": [(d, clock_view(d, calendar=calendar)) for d in incoming],
        "to_schedule": [(d, clock_view(d, calendar=calendar)) for d in to_schedule],
        "overdue_count": len(dossier_overdue_list()),
    }
    return render(request, "permits/desk/home.html", context)


def _latest_reviews(dossier: Dossier) -> dict[int, CompletenessReview]:
    latest: dict[int, CompletenessReview] = {}
    for review in dossier.completeness.select_related("reviewed_by").order_by("reviewed_at", "id"):
        latest[review.checklist_item_id] = review
    return latest


def _inadmissibility_reason(dossier: Dossier) -> str:
    """The reasons of every missing or non-compliant item, one per line (the default written reason)."""
    labels = dict(ChecklistVerdict.choices)
    latest = _latest_reviews(dossier)
    lines = []
    for item in dossier.procedure.checklist.all():
        review = latest.get(item.id)
        if review and review.verdict != ChecklistVerdict.PRESENT:
            lines.append(
                _("%(name)s — %(verdict)s: %(reason)s")
                % {"name": item.name, "verdict": labels[review.verdict], "reason": review.reason}
            )
    return "\n".join(lines)


@desk_only
def desk_dossier(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """One dossier at the desk: documents, the completeness check, the decision and the desk's tools."""
    dossier = visible_dossier_or_404(request, dossier_id)
    items = list(dossier.procedure.checklist.all())
    form = CompletenessForm(request.POST or None, items=items, latest=_latest_reviews(dossier))
    if request.method == "POST":
        decision = request.POST.get("decision", "save")
        if form.is_valid() and _record_verdicts(request, dossier, form):
            if decision in {"accept", "declare_inadmissible"}:
                reason = request.POST.get("reason", "").strip()
                if decision == "declare_inadmissible" and not reason:
                    reason = _inadmissibility_reason(dossier)
                try:
                    dossier = dossier_transition(dossier=dossier, action=decision, actor=request.user, reason=reason)
                except DomainError as refusal:
                    messages.error(request, refusal.message)
                    return redirect("permits:desk_dossier", dossier.pk)
                messages.success(request, _("Done: the dossier is now “%(status)s”.")
                                 % {"status": Status(dossier.status).label})  # fmt: skip
            else:
                messages.success(request, _("The completeness check is saved."))
            return redirect("permits:desk_dossier", dossier.pk)
    latest = _latest_reviews(dossier)
    context = {
        "dossier": dossier,
        "form": form,
        "checking": dossier.status == Status.SUBMITTED,
        "latest": [(item, latest.get(item.id)) for item in items],
        "inadmissible_reason": _inadmissibility_reason(dossier),
        "reclassify_form": ReclassifyForm(initial={"classification": dossier.classification}),
        "schedule_form": ScheduleForm(),
        "reason_form": ReasonForm(),
        "clock": clock_view(dossier),
        "actions": action_buttons(dossier, request.user, exclude={"accept", "declare_inadmissible"}),
        "notifications": Notification.objects.filter(dossier=dossier).order_by("-created_at"),
        "timeline": timeline_entries(dossier_timeline(dossier=dossier, include_internal=True), with_actors=True),
        "parcels": list(dossier.parcels.order_by("reference")),
        "figures": figure_rows(dossier),
        "classification_reason": classification_reason(dossier),
        **checklist_context(request, dossier),
    }
    return render(request, "permits/desk/dossier.html", context)


def _record_verdicts(request: HttpRequest, dossier: Dossier, form: CompletenessForm) -> bool:
    """Record every changed verdict in one transaction; on any refusal nothing is recorded."""
    latest = _latest_reviews(dossier)
    try:
        with transaction.atomic():
            for item, verdict, reason in form.verdicts():
                previous = latest.get(item.id)
                if previous and previous.verdict == verdict and previous.reason == reason:
                    continue
                try:
                    completeness_review_record(
                        dossier=dossier, item=item, verdict=verdict, reason=reason, actor=request.user
                    )
                except DomainError as refusal:
                    form.add_error(f"reason-{item.id}", refusal.message)
            if form.errors:
                raise _Rollback
    except _Rollback:
        messages.error(request, _("Nothing was saved: correct the items marked below."))
        return False
    return True


class _Rollback(Exception):
    """Undo every verdict of a check in which one item was refused."""


@desk_only
@require_POST
def desk_reclassify(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """Override the computed large/small classification, with a written reason."""
    dossier = visible_dossier_or_404(request, dossier_id)
    form = ReclassifyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            dossier_reclassify(dossier=dossier, actor=request.user, **form.cleaned_data)
        except DomainError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("The classification is changed."))
    return redirect("permits:desk_dossier", dossier.pk)


@desk_only
@require_GET
def desk_overdue(request: HttpRequest) -> HttpResponse:
    """Dossiers past the legal deadline of their running step, most late first."""
    rows = [(dossier, clock_view(dossier)) for dossier, _clock in dossier_overdue_list()]
    return render(request, "permits/desk/overdue.html", {"rows": rows})


@desk_only
@require_GET
def desk_sms_outbox(request: HttpRequest) -> HttpResponse:
    """What the development SMS backend recorded instead of sending (the demo's phone)."""
    page = Paginator(SmsOutboxMessage.objects.order_by("-created_at", "-id"), OUTBOX_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "permits/desk/sms_outbox.html", {"page": page})
