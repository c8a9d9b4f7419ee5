"""Review committees at work: which committee examines a dossier, who sits on it, when it meets, slots.

- :func:`committee_for_dossier`: the committee of the dossier's commune for the procedure's kind
  (building permits go to the large- or small-projects committee by their classification).
- :func:`member_selection_apply`: the committee's permanent organisations plus every organisation an
  active :class:`SelectionRule` brings in, each with its reason; idempotent; run on acceptance.
  :func:`invitee_add` lets the desk add a consultative invitee with a reason.
- :func:`sessions_generate`: sessions on the committee's weekdays, working days only, idempotent.
- :func:`slot_book`, :func:`slot_move`, :func:`slot_cancel`: the filer's (or the desk's) booking of a
  session. The lowest free position is taken by INSERT; the partial unique constraints on
  :class:`Booking` make the database refuse a second booking of the same slot, whatever the race.

A resubmitted dossier books the next round's slot; its previous booking (examined at its session) is
retired in the same transaction. A move keeps the dossier ``scheduled``: it is not a status change, so
it is not a workflow transition; it updates ``session_date`` under the dossier's row lock and writes its
own timeline event and audit record (``dossier.booking_moved``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.api_errors import DomainError
from geo.models import ConstraintArea
from permits.audit import audit_append
from permits.classification import _holds
from permits.committee_models import (
    Booking,
    Committee,
    DossierMember,
    Organisation,
    SelectionRule,
    Session,
    SessionStatus,
)
from permits.deadlines import WorkingCalendar
from permits.models import Classification, CommitteeKind, Dossier, DossierEvent, Status
from permits.roles import Role, user_has_role
from permits.workflow import dossier_transition, is_filer

PERMANENT_REASON = gettext_lazy("Permanent member of the committee")
# How far ahead the daily job keeps sessions generated.
SESSION_HORIZON_WEEKS = 6


class BookingRefused(DomainError):
    """A slot cannot be booked, moved or cancelled (wrong committee, past session, not allowed…)."""

    code = "booking-refused"


class SessionFull(BookingRefused):
    """Every position of the session is taken."""

    code = "session-full"
    http_status = 409


class BookingForbidden(BookingRefused):
    code = "forbidden"
    http_status = 403


# --- which committee --------------------------------------------------------------------------------


def committee_kind_for_dossier(*, dossier: Dossier) -> str:
    """The committee kind: the procedure's, or large/small projects by the dossier's classification."""
    kind = dossier.procedure.committee_kind
    if kind == CommitteeKind.BY_CLASSIFICATION:
        if dossier.classification == Classification.LARGE:
            return CommitteeKind.LARGE_PROJECTS
        return CommitteeKind.SMALL_PROJECTS
    return kind


def committee_for_dossier(*, dossier: Dossier) -> Committee | None:
    """The active committee of the dossier's commune that examines this kind of dossier, if any."""
    return (
        Committee.objects.filter(
            kind=committee_kind_for_dossier(dossier=dossier), commune_id=dossier.commune_id, active=True
        )
        .order_by("code")
        .first()
    )


# --- automatic selection -----------------------------------------------------------------------------


def _constraint_kinds(dossier: Dossier) -> set[str]:
    """Kinds of constraint area the site (or, without a drawn site, any of its parcels) intersects: one query."""
    if dossier.site is not None:
        areas = ConstraintArea.objects.filter(geom__intersects=dossier.site)
    else:
        areas = ConstraintArea.objects.filter(
            Exists(
                dossier.parcels.through.objects.filter(dossier_id=dossier.pk, parcel__geom__intersects=OuterRef("geom"))
            )
        )
    return set(areas.values_list("kind", flat=True).distinct())


def rule_holds(*, rule: SelectionRule, dossier: Dossier, constraint_kinds: set[str]) -> bool:
    """Every condition of the rule holds on the dossier (figures, procedure, classification, constraint areas)."""
    if not rule.conditions:
        return False
    facts = {**(dossier.figures or {}), "procedure": dossier.procedure.code, "classification": dossier.classification}
    for condition in rule.conditions:
        if condition.get("field") == "constraint_kind":
            if condition.get("value") not in constraint_kinds:
                return False
        elif not _holds(condition, facts):
            return False
    return True


def member_selection_apply(*, dossier: Dossier, actor=None) -> list[DossierMember]:
    """Select the dossier's members: permanent organisations, then every matching rule; idempotent.

    Existing selections (and desk invitees) are kept; an organisation is selected once, by the first
    reason found (permanent membership first, then rules in order). Returns every member of the dossier.
    """
    committee = committee_for_dossier(dossier=dossier)
    wanted: dict[int, dict] = {}
    if committee is not None:
        for organisation in committee.permanent_organisations.all():
            wanted.setdefault(organisation.pk, {"permanent": True, "rule_code": "", "reason": str(PERMANENT_REASON)})
    rules = list(SelectionRule.objects.filter(active=True).select_related("organisation"))
    kinds = _constraint_kinds(dossier) if any(
        c.get("field") == "constraint_kind" for rule in rules for c in rule.conditions
    ) else set()  # fmt: skip
    for rule in rules:
        if rule_holds(rule=rule, dossier=dossier, constraint_kinds=kinds):
            wanted.setdefault(rule.organisation_id, {"permanent": False, "rule_code": rule.code, "reason": rule.label})
    with transaction.atomic():
        present = set(DossierMember.objects.filter(dossier=dossier).values_list("organisation_id", flat=True))
        added = [
            DossierMember(dossier=dossier, organisation_id=org_id, added_by=actor, **fields)
            for org_id, fields in wanted.items()
            if org_id not in present
        ]
        DossierMember.objects.bulk_create(added, ignore_conflicts=True)
        if added:
            audit_append(
                action="dossier.members_selected",
                actor=actor,
                dossier_id=dossier.pk,
                payload={
                    "committee": committee.code if committee else None,
                    "added": [{"organisation": m.organisation_id, "rule": m.rule_code or "permanent"} for m in added],
                },
            )
    return list(dossier_members(dossier=dossier))


def invitee_add(*, dossier: Dossier, organisation: Organisation, reason: str, actor) -> DossierMember:
    """The desk adds a consultative invitee to a dossier, with a written reason."""
    if not (user_has_role(actor, Role.DESK_AGENT) or getattr(actor, "is_superuser", False)):
        raise BookingForbidden(_("Only the desk can invite an organisation."))
    reason = (reason or "").strip()
    if not reason:
        raise BookingRefused(_("Give the reason for inviting this organisation."))
    with transaction.atomic():
        member, created = DossierMember.objects.get_or_create(
            dossier=dossier,
            organisation=organisation,
            defaults={"consultative": True, "reason": reason[:300], "added_by": actor},
        )
        if not created:
            raise BookingRefused(_("This organisation is already a member for this dossier."))
        audit_append(
            action="dossier.invitee_added",
            actor=actor,
            dossier_id=dossier.pk,
            payload={"organisation": organisation.code, "reason": reason},
        )
    return member


def member_reason(member: DossierMember, rules: dict[str, SelectionRule] | None = None) -> str:
    """Why a member sits on the dossier, in the active language."""
    if member.permanent:
        return str(PERMANENT_REASON)
    if member.rule_code:
        rule = (rules or {}).get(member.rule_code) or SelectionRule.objects.filter(code=member.rule_code).first()
        if rule is not None:
            return rule.label
    return member.reason


def dossier_members(*, dossier: Dossier) -> QuerySet[DossierMember]:
    return DossierMember.objects.filter(dossier=dossier).select_related("organisation")


@dataclass(frozen=True)
class MemberLine:
    """A selected member as shown: the organisation, its reason in the active language, its kind."""

    member: DossierMember
    organisation: Organisation
    reason: str
    permanent: bool
    consultative: bool


def dossier_member_lines(*, dossier: Dossier) -> list[MemberLine]:
    members = list(dossier_members(dossier=dossier))
    rules = {r.code: r for r in SelectionRule.objects.filter(code__in=[m.rule_code for m in members if m.rule_code])}
    return [MemberLine(m, m.organisation, member_reason(m, rules), m.permanent, m.consultative) for m in members]


# --- sessions -----------------------------------------------------------------------------------------


def sessions_generate(*, committee: Committee, start: date, end: date) -> list[Session]:
    """Create the committee's sessions on its weekdays between ``start`` and ``end`` (inclusive), working
    days only; days that already have a session are left alone. Returns the sessions created."""
    calendar = WorkingCalendar()
    existing = set(Session.objects.filter(committee=committee, date__range=(start, end)).values_list("date", flat=True))
    new = []
    day = start
    while day <= end:
        if day.weekday() in committee.weekdays and day not in existing and calendar.is_working_day(day):
            new.append(
                Session(
                    committee=committee,
                    date=day,
                    start_time=committee.start_time,
                    capacity=committee.capacity,
                    minutes_per_dossier=committee.minutes_per_dossier,
                )
            )
        day += timedelta(days=1)
    Session.objects.bulk_create(new, ignore_conflicts=True)
    return new


def sessions_generate_all(*, today: date | None = None, weeks: int = SESSION_HORIZON_WEEKS) -> int:
    """Keep every active committee's sessions generated ``weeks`` ahead; the number created."""
    today = today or timezone.localdate()
    end = today + timedelta(weeks=weeks)
    return sum(len(sessions_generate(committee=c, start=today, end=end)) for c in Committee.objects.filter(active=True))


def sessions_with_places(*, committee: Committee) -> QuerySet[Session]:
    """The committee's sessions annotated with ``booked`` and ``free`` places."""
    return (
        Session.objects.filter(committee=committee)
        .annotate(booked=Count("bookings", filter=Q(bookings__cancelled_at__isnull=True)))
        .annotate(free=F("capacity") - F("booked"))
        .order_by("date")
    )


def sessions_free_for_dossier(*, dossier: Dossier, today: date | None = None) -> list[Session]:
    """Sessions the filer may book: the right committee, in the future, planned, with a free place."""
    committee = committee_for_dossier(dossier=dossier)
    if committee is None:
        return []
    today = today or timezone.localdate()
    return list(
        sessions_with_places(committee=committee).filter(
            date__gt=today, status=SessionStatus.PLANNED, booked__lt=F("capacity")
        )
    )


# --- booking ------------------------------------------------------------------------------------------


def booking_active(*, dossier: Dossier) -> Booking | None:
    return Booking.objects.filter(dossier=dossier, cancelled_at__isnull=True).select_related("session").first()


def _check_may_book(dossier: Dossier, actor) -> None:
    if not (user_has_role(actor, Role.DESK_AGENT) or is_filer(actor, dossier) or getattr(actor, "is_superuser", False)):
        raise BookingForbidden(_("Only the dossier's architect or applicant, or the desk, can book its slot."))


def _check_session(dossier: Dossier, session: Session, today: date) -> None:
    committee = committee_for_dossier(dossier=dossier)
    if committee is None or session.committee_id != committee.pk:
        raise BookingRefused(_("This session is not one of the committee that examines this dossier."))
    if session.date <= today:
        raise BookingRefused(_("This session has already taken place."))
    if session.status != SessionStatus.PLANNED:
        raise BookingRefused(_("This session is no longer open for booking."))


def _insert_booking(dossier: Dossier, session: Session, actor) -> Booking:
    """Take the lowest free position by INSERT; the unique constraints decide races. Call inside a transaction."""
    taken = set(Booking.objects.filter(session=session, cancelled_at__isnull=True).values_list("position", flat=True))
    for position in range(1, session.capacity + 1):
        if position in taken:
            continue
        try:
            with transaction.atomic():
                return Booking.objects.create(session=session, position=position, dossier=dossier, booked_by=actor)
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "")
            if constraint == "booking_one_per_dossier":
                raise BookingRefused(_("This dossier already has a slot: move it instead.")) from exc
            continue  # someone took this position meanwhile: try the next one
    raise SessionFull(_("This session is full: choose another date."))


def slot_book(*, dossier: Dossier, session: Session, actor, today: date | None = None) -> Booking:
    """Book the lowest free slot of ``session`` and schedule the dossier for that date, in one transaction."""
    today = today or timezone.localdate()
    _check_may_book(actor=actor, dossier=dossier)
    session = Session.objects.select_related("committee").get(pk=session.pk)
    _check_session(dossier, session, today)
    if dossier.status == Status.SCHEDULED:
        raise BookingRefused(_("This dossier already has a slot: move it instead."))
    if dossier.status not in (Status.ACCEPTED, Status.RESUBMITTED):
        raise BookingRefused(_("A committee slot can be booked once the dossier is accepted as complete."))
    with transaction.atomic():
        if dossier.status == Status.RESUBMITTED:
            # The previous round's booking was examined at its session: it gives way to the new one.
            Booking.objects.filter(dossier=dossier, cancelled_at__isnull=True).update(cancelled_at=timezone.now())
        booking = _insert_booking(dossier, session, actor)
        dossier_transition(
            dossier=dossier, action="schedule", actor=actor, data={"session_date": session.date}, today=today
        )
    return booking


def slot_move(*, dossier: Dossier, session: Session, actor, today: date | None = None) -> Booking:
    """Move the dossier's booking to another session atomically; the dossier stays scheduled."""
    today = today or timezone.localdate()
    _check_may_book(actor=actor, dossier=dossier)
    session = Session.objects.select_related("committee").get(pk=session.pk)
    _check_session(dossier, session, today)
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if locked.status != Status.SCHEDULED:
            raise BookingRefused(_("Only a scheduled dossier can move its slot."))
        current = Booking.objects.select_for_update().filter(dossier=locked, cancelled_at__isnull=True).first()
        if current is None:
            raise BookingRefused(_("This dossier has no slot to move."))
        if current.session_id == session.pk:
            raise BookingRefused(_("The dossier is already booked in this session."))
        if current.session.date <= today:
            raise BookingRefused(_("The session has already taken place: the slot can no longer move."))
        current.cancelled_at = timezone.now()
        current.save(update_fields=["cancelled_at"])
        booking = _insert_booking(locked, session, actor)
        previous_date = locked.session_date
        Dossier.objects.filter(pk=locked.pk).update(session_date=session.date, updated_at=timezone.now())
        event = DossierEvent.objects.create(
            dossier=locked,
            actor=actor,
            kind="booking_moved",
            message="",
            data={"from": str(previous_date), "to": str(session.date), "session": session.pk},
        )
        audit_append(
            action="dossier.booking_moved",
            actor=actor,
            dossier_id=locked.pk,
            payload={"from": previous_date, "to": session.date, "session": session.pk, "event": event.pk},
        )
        from permits.notifications import dossier_event_notify

        dossier_id = locked.pk
        transaction.on_commit(lambda: dossier_event_notify(dossier_id=dossier_id, event="scheduled"))
    dossier.session_date = session.date
    return booking


def slot_cancel(*, dossier: Dossier, actor, today: date | None = None) -> Booking:
    """Cancel the dossier's booking (first review round only): it goes back to accepted, the slot frees up."""
    today = today or timezone.localdate()
    _check_may_book(actor=actor, dossier=dossier)
    with transaction.atomic():
        current = Booking.objects.select_for_update().filter(dossier=dossier, cancelled_at__isnull=True).first()
        if current is None:
            raise BookingRefused(_("This dossier has no slot to cancel."))
        if current.session.date <= today:
            raise BookingRefused(_("The session has already taken place: the slot can no longer be cancelled."))
        dossier_transition(dossier=dossier, action="cancel_booking", actor=actor, today=today)
        current.cancelled_at = timezone.now()
        current.save(update_fields=["cancelled_at"])
    return current
