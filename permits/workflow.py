"""The one place a dossier's status changes: the transition table and :func:`dossier_transition`.

Each transition names its source statuses, target, the roles allowed to make it, whether the actor
must be the dossier's filer, whether a written reason is required, a guard that lists what is
missing, and the effects on the dossier. ``dossier_transition`` locks the row, checks all of that,
applies the effects, changes the status, writes the timeline event and the audit record, and
schedules the notifications after commit — in one transaction. An illegal transition raises
:class:`TransitionRefused` with a sentence the user can read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.api_errors import DomainError
from permits.audit import audit_append
from permits.classification import classify
from permits.deadlines import TACIT_RUNNING, WorkingCalendar, dossier_clock
from permits.models import (
    ChecklistVerdict,
    ClockStop,
    CompletenessReview,
    DocumentKind,
    Dossier,
    DossierEvent,
    Status,
)
from permits.roles import Role, user_has_role

# The system itself (periodic jobs) acts with actor=None.
SYSTEM = None


class TransitionRefused(DomainError):
    """The transition is not allowed now, by this person, or the dossier is not ready for it."""

    code = "transition-refused"


class TransitionForbidden(TransitionRefused):
    http_status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    filer_only: bool = False
    reason_required: bool = False
    system: bool = False
    guard: Callable[[Dossier, dict], list[str]] | None = None
    effect: Callable[[Dossier, Any, dict], None] | None = None
    notify: str | None = None
    extra: dict = field(default_factory=dict)


ACTIVE = frozenset(
    {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.SCHEDULED,
        Status.UNDER_REVIEW,
        Status.CHANGES_REQUESTED,
        Status.RESUBMITTED,
        Status.FAVOURABLE,
        Status.UNFAVOURABLE,
        Status.DECISION_SIGNING,
    }
)
FILERS = frozenset({Role.APPLICANT, Role.ARCHITECT})


def effective_now(today: date | None) -> datetime:
    """When a transition takes effect: now, or the current time of day on ``today`` when one is given.

    ``today`` backdates a transition (the demo, a periodic run for a given day); every date the
    transition writes (status change, submission, decision) must then agree with ``accepted_on`` and the
    clock stops, which already take ``today``.
    """
    now = timezone.now()
    if today is None or today == timezone.localdate(now):
        return now
    return timezone.make_aware(datetime.combine(today, timezone.localtime(now).time()))


def is_filer(user, dossier: Dossier) -> bool:
    """The architect who files, the account that created the dossier, or the applicant's own account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.pk in {dossier.architect_id, dossier.created_by_id, dossier.applicant.user_id}


# --- guards: each returns the list of what is missing (empty: the transition may go) ----------------


def _missing_for_submission(dossier: Dossier, context: dict) -> list[str]:
    problems: list[str] = []
    if not dossier.procedure.active:
        problems.append(_("The procedure is closed for filing."))
    if dossier.site is None and not dossier.parcels.exists():
        problems.append(_("Locate the project: choose at least one parcel or draw the site."))
    from permits.services import figures_problems

    problems += figures_problems(procedure=dossier.procedure, figures=dossier.figures)
    present = set(dossier.documents.values_list("item_code", flat=True))
    for item in dossier.procedure.checklist.filter(kind=DocumentKind.MAIN):
        if item.code not in present:
            problems.append(_("Missing main document: %(name)s.") % {"name": item.name})
    return problems


def _completeness_reviewed(dossier: Dossier, context: dict) -> list[str]:
    verdicts = _latest_verdicts(dossier)
    problems = []
    for item in dossier.procedure.checklist.filter(kind=DocumentKind.MAIN):
        verdict = verdicts.get(item.id)
        if verdict is None:
            problems.append(_("Check the main document: %(name)s.") % {"name": item.name})
        elif verdict != ChecklistVerdict.PRESENT:
            problems.append(_("A main document is not compliant: %(name)s.") % {"name": item.name})
    return problems


def _some_item_refused(dossier: Dossier, context: dict) -> list[str]:
    verdicts = _latest_verdicts(dossier)
    if any(v != ChecklistVerdict.PRESENT for v in verdicts.values()):
        return []
    return [_("Mark at least one missing or non-compliant document, with a reason, to declare the file inadmissible.")]


def _latest_verdicts(dossier: Dossier) -> dict[int, str]:
    verdicts: dict[int, str] = {}
    for review in CompletenessReview.objects.filter(dossier=dossier).order_by("reviewed_at", "id"):
        verdicts[review.checklist_item_id] = review.verdict
    return verdicts


def _session_date_given(dossier: Dossier, context: dict) -> list[str]:
    session_date = context.get("session_date")
    if not isinstance(session_date, date):
        return [_("Give the committee date.")]
    if session_date < (context.get("today") or timezone.localdate()):
        return [_("The committee date is in the past.")]
    if not WorkingCalendar().is_working_day(session_date):
        return [_("The committee date is not a working day.")]
    return []


def _revised_documents_filed(dossier: Dossier, context: dict) -> list[str]:
    stop = dossier.clock_stops.filter(resumed_on__isnull=True).order_by("-stopped_on").first()
    since = stop.stopped_on if stop else None
    if since is None or not dossier.documents.filter(uploaded_at__date__gte=since, version__gt=1).exists():
        return [_("Upload at least one revised document before resubmitting.")]
    return []


def _outcome_is(expected: str) -> Callable[[Dossier, dict], list[str]]:
    def guard(dossier: Dossier, context: dict) -> list[str]:
        if committee_outcome(dossier) != expected:
            if expected == Status.FAVOURABLE:
                return [_("No permit without a favourable committee opinion.")]
            return [_("A refusal follows an unfavourable committee opinion.")]
        return []

    return guard


def _tacit_date_passed(dossier: Dossier, context: dict) -> list[str]:
    clock = dossier_clock(dossier=dossier, today=context.get("today"))
    if clock.tacit_approval_on is None or clock.today < clock.tacit_approval_on:
        return [_("The tacit-approval date has not passed.")]
    return []


def _validity_expired(dossier: Dossier, context: dict) -> list[str]:
    months = dossier.procedure.validity_months
    if not months or dossier.decided_at is None:
        return [_("This permit has no validity period.")]
    issued = timezone.localdate(dossier.decided_at)
    year, month = divmod(issued.month - 1 + months, 12)
    try:
        expiry = issued.replace(year=issued.year + year, month=month + 1)
    except ValueError:  # 31 January + 1 month
        expiry = issued.replace(year=issued.year + year, month=month + 2, day=1)
    if (context.get("today") or timezone.localdate()) < expiry:
        return [_("The permit is still valid.")]
    return []


def committee_outcome(dossier: Dossier) -> str | None:
    """The last committee opinion status the dossier went through (favourable or unfavourable)."""
    event = (
        dossier.events.filter(to_status__in=[Status.FAVOURABLE, Status.UNFAVOURABLE])
        .order_by("-created_at", "-id")
        .first()
    )
    return event.to_status if event else None


# --- effects ---------------------------------------------------------------------------------------


def _on_submit(dossier: Dossier, actor, context: dict) -> None:
    from permits.services import dossier_reference_assign

    dossier.submitted_at = effective_now(context.get("today"))
    if dossier.reference is None:
        year = timezone.localdate(dossier.submitted_at).year
        dossier.reference = dossier_reference_assign(commune=dossier.commune, year=year)
    if dossier.procedure.classifiable and not dossier.classification_overridden:
        result = classify(figures=dossier.figures)
        dossier.classification, dossier.classification_rule = result.classification, result.reason


def _on_accept(dossier: Dossier, actor, context: dict) -> None:
    dossier.accepted_on = context.get("today") or timezone.localdate()
    from permits.committees import member_selection_apply

    member_selection_apply(dossier=dossier, actor=actor)


def _on_schedule(dossier: Dossier, actor, context: dict) -> None:
    dossier.session_date = context["session_date"]


def _on_request_changes(dossier: Dossier, actor, context: dict) -> None:
    ClockStop.objects.create(
        dossier=dossier, stopped_on=context.get("today") or timezone.localdate(), reason=context.get("reason", "")[:200]
    )


def _on_resubmit(dossier: Dossier, actor, context: dict) -> None:
    dossier.clock_stops.filter(resumed_on__isnull=True).update(resumed_on=context.get("today") or timezone.localdate())
    dossier.session_date = None
    dossier.review_round += 1


def _filer_unless_desk(dossier: Dossier, context: dict) -> list[str]:
    """Architects and applicants book and cancel only their own dossiers; the desk does it for anyone."""
    actor = context.get("actor")
    if user_has_role(actor, Role.DESK_AGENT) or is_filer(actor, dossier) or getattr(actor, "is_superuser", False):
        return []
    return [_("Only the dossier's architect or applicant, or the desk, can do this.")]


def _all(*guards: Callable[[Dossier, dict], list[str]]) -> Callable[[Dossier, dict], list[str]]:
    def guard(dossier: Dossier, context: dict) -> list[str]:
        return [problem for g in guards for problem in g(dossier, context)]

    return guard


def _first_round(dossier: Dossier, context: dict) -> list[str]:
    if dossier.review_round > 1:
        return [_("A resubmitted dossier keeps its place: move the booking to another session instead.")]
    return []


def _on_cancel_booking(dossier: Dossier, actor, context: dict) -> None:
    dossier.session_date = None
    # The slot goes back to the session, whichever way the cancellation came (booking page, API, desk).
    dossier.bookings.filter(cancelled_at__isnull=True).update(cancelled_at=effective_now(context.get("today")))


def _on_decide(dossier: Dossier, actor, context: dict) -> None:
    dossier.decided_at = effective_now(context.get("today"))


def _first(*guards: Callable[[Dossier, dict], list[str]]) -> Callable[[Dossier, dict], list[str]]:
    """The problems of the first guard that has any (the next ones would only repeat the first)."""

    def guard(dossier: Dossier, context: dict) -> list[str]:
        for g in guards:
            problems = g(dossier, context)
            if problems:
                return problems
        return []

    return guard


def _decision_document_generated(dossier: Dossier, context: dict) -> list[str]:
    from permits.issuing import current_document  # issuing imports this module
    from permits.models import IssuedDocument

    decision = current_document(kind=IssuedDocument.Kind.DECISION, dossier=dossier)
    if decision is None:
        return [_("Generate the decision document first.")]
    if settings.TAAMIR_DECISION_REQUIRES_SIGNATURE:
        from permits.signing import document_is_signed

        if not document_is_signed(decision):
            return [_("The decision must first be signed electronically by the signing authority (Signatures page).")]
    return []


def _authorised_work_record(dossier: Dossier, status: str) -> None:
    """The geo-portal feature of the permit: site, procedure, decision date, declared figures, no personal data."""
    from django.contrib.gis.geos import MultiPolygon

    from geo.services import authorised_work_record
    from permits.models import IssuedDocument

    geom = dossier.site
    if geom is None:
        from django.contrib.gis.db.models import Union

        union = dossier.parcels.aggregate(u=Union("geom"))["u"]
        if union is None:
            return
        geom = union if union.geom_type == "MultiPolygon" else MultiPolygon(union, srid=union.srid)
    figures = dossier.figures or {}

    def number(name: str, kind: type) -> int | float | None:
        try:
            return kind(figures[name]) if figures.get(name) not in (None, "") else None
        except (TypeError, ValueError):
            return None

    decision = (
        IssuedDocument.objects.filter(dossier=dossier, kind=IssuedDocument.Kind.DECISION, replaced_by__isnull=True)
        .order_by("-created_at")
        .first()
    )
    authorised_work_record(
        reference=dossier.reference or str(dossier.pk),
        procedure_code=dossier.procedure.code,
        procedure_name=dossier.procedure.name_fr,
        commune=dossier.commune,
        decision_date=timezone.localdate(dossier.decided_at),
        status=status,
        geom=geom,
        floors=number("floors", int),
        use=str(figures.get("use") or ""),
        built_area_m2=number("built_area_m2", float),
        dwellings=number("dwellings", int),
        verification_code=decision.verification_code if decision else "",
    )


def _on_issue(dossier: Dossier, actor, context: dict) -> None:
    _on_decide(dossier, actor, context)
    _authorised_work_record(dossier, "authorised")


def _on_deem_approved(dossier: Dossier, actor, context: dict) -> None:
    _on_decide(dossier, actor, context)
    _authorised_work_record(dossier, "deemed_approved")


def _work_status(status: str) -> Callable[[Dossier, Any, dict], None]:
    def effect(dossier: Dossier, actor, context: dict) -> None:
        from geo.services import authorised_work_set_status

        if dossier.reference:
            authorised_work_set_status(reference=dossier.reference, status=status)

    return effect


T = Transition
DESK = frozenset({Role.DESK_AGENT})
PRESIDENCY = frozenset({Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT})
SIGNATORY = frozenset({Role.SIGNING_AUTHORITY})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        T("submit", gettext_lazy("Submit"), frozenset({Status.DRAFT}), Status.SUBMITTED, FILERS, filer_only=True,
          guard=_missing_for_submission, effect=_on_submit, notify="submitted"),
        T("accept", gettext_lazy("Accept as complete"), frozenset({Status.SUBMITTED}), Status.ACCEPTED, DESK,
          guard=_completeness_reviewed, effect=_on_accept, notify="accepted"),
        T("declare_inadmissible", gettext_lazy("Declare inadmissible"), frozenset({Status.SUBMITTED}),
          Status.INADMISSIBLE, DESK, reason_required=True, guard=_some_item_refused, notify="inadmissible"),
        T("schedule", gettext_lazy("Schedule for a committee"), frozenset({Status.ACCEPTED, Status.RESUBMITTED}),
          Status.SCHEDULED, DESK | FILERS, guard=_all(_filer_unless_desk, _session_date_given), effect=_on_schedule,
          notify="scheduled"),
        T("cancel_booking", gettext_lazy("Cancel the committee booking"), frozenset({Status.SCHEDULED}),
          Status.ACCEPTED, DESK | FILERS, guard=_all(_filer_unless_desk, _first_round), effect=_on_cancel_booking,
          notify="booking_cancelled"),
        T("start_review", gettext_lazy("Start the review"), frozenset({Status.SCHEDULED}), Status.UNDER_REVIEW,
          PRESIDENCY, notify="under_review"),
        T("request_changes", gettext_lazy("Request changes"), frozenset({Status.UNDER_REVIEW}),
          Status.CHANGES_REQUESTED, PRESIDENCY, reason_required=True, effect=_on_request_changes,
          notify="changes_requested"),
        T("resubmit", gettext_lazy("Resubmit with revised documents"), frozenset({Status.CHANGES_REQUESTED}),
          Status.RESUBMITTED, FILERS, filer_only=True, guard=_revised_documents_filed, effect=_on_resubmit,
          notify="resubmitted"),
        T("give_favourable_opinion", gettext_lazy("Favourable opinion"), frozenset({Status.UNDER_REVIEW}),
          Status.FAVOURABLE, PRESIDENCY, notify="favourable"),
        T("give_unfavourable_opinion", gettext_lazy("Unfavourable opinion"), frozenset({Status.UNDER_REVIEW}),
          Status.UNFAVOURABLE, PRESIDENCY, reason_required=True, notify="unfavourable"),
        T("prepare_decision", gettext_lazy("Send the decision for signature"),
          frozenset({Status.FAVOURABLE, Status.UNFAVOURABLE}), Status.DECISION_SIGNING, DESK,
          notify="decision_signing"),
        T("issue", gettext_lazy("Sign and issue the permit"), frozenset({Status.DECISION_SIGNING}), Status.ISSUED,
          SIGNATORY, guard=_first(_outcome_is(Status.FAVOURABLE), _decision_document_generated), effect=_on_issue,
          notify="issued"),
        T("refuse", gettext_lazy("Sign a reasoned refusal"), frozenset({Status.DECISION_SIGNING}), Status.REFUSED,
          SIGNATORY, reason_required=True, guard=_first(_outcome_is(Status.UNFAVOURABLE), _decision_document_generated),
          effect=_on_decide,
          notify="refused"),
        T("withdraw", gettext_lazy("Withdraw the dossier"), ACTIVE, Status.WITHDRAWN, FILERS, filer_only=True,
          effect=_work_status("withdrawn"), notify="withdrawn"),
        T("deem_approved", gettext_lazy("Tacit approval"), frozenset(TACIT_RUNNING), Status.DEEMED_APPROVED,
          frozenset(), system=True, guard=_tacit_date_passed, effect=_on_deem_approved, notify="deemed_approved"),
        T("lapse", gettext_lazy("Lapse (works not started)"), frozenset({Status.ISSUED}), Status.LAPSED,
          frozenset(), system=True, guard=_validity_expired, effect=_work_status("lapsed"),
          notify="lapsed"),
    )
}  # fmt: skip


def transitions_available(*, dossier: Dossier, actor) -> list[Transition]:
    """Transitions from the dossier's status that this actor's roles allow (guards not evaluated)."""
    return [t for t in TRANSITIONS.values() if dossier.status in t.sources and _actor_may(t, dossier, actor)]


def _actor_may(transition: Transition, dossier: Dossier, actor) -> bool:
    if transition.system:
        return actor is SYSTEM
    if actor is None or not user_has_role(actor, *transition.roles):
        return False
    return not transition.filer_only or is_filer(actor, dossier) or actor.is_superuser


def dossier_transition(
    *,
    dossier: Dossier,
    action: str,
    actor,
    reason: str = "",
    data: dict | None = None,
    today: date | None = None,
) -> Dossier:
    """Make one transition, or refuse it with a clear reason; returns the updated dossier."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionRefused(_("Unknown action “%(action)s”.") % {"action": action})
    context = {**(data or {}), "reason": reason, "today": today, "actor": actor}
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().select_related("procedure", "applicant").get(pk=dossier.pk)
        if locked.status not in transition.sources:
            raise TransitionRefused(
                _("“%(action)s” is not possible while the dossier is “%(status)s”.")
                % {"action": transition.label, "status": Status(locked.status).label}
            )
        if not _actor_may(transition, locked, actor):
            raise TransitionForbidden(
                _("You are not allowed to “%(action)s” this dossier.") % {"action": transition.label}
            )
        if transition.reason_required and not reason.strip():
            raise TransitionRefused(_("“%(action)s” needs a written reason.") % {"action": transition.label})
        problems = transition.guard(locked, context) if transition.guard else []
        if problems:
            raise TransitionRefused(" ".join(problems))
        previous = locked.status
        if transition.effect:
            transition.effect(locked, actor, context)
        locked.status = transition.target
        locked.status_changed_at = effective_now(today)
        locked.save()
        event = DossierEvent.objects.create(
            dossier=locked,
            actor=actor,
            kind="transition",
            from_status=previous,
            to_status=transition.target,
            message=reason,
            data={"action": transition.name, **{k: str(v) for k, v in (data or {}).items() if k != "actor"}},
        )
        audit_append(
            action=f"dossier.{transition.name}",
            actor=actor,
            dossier_id=locked.pk,
            payload={"from": previous, "to": transition.target, "reason": reason, "event": event.pk,
                     "reference": locked.reference},
        )  # fmt: skip
        if transition.notify:
            from permits.notifications import dossier_event_notify

            dossier_id, notify = locked.pk, transition.notify
            transaction.on_commit(lambda: dossier_event_notify(dossier_id=dossier_id, event=notify))
    return locked
