"""Committee opinions: each organisation's individual opinion, the consolidated outcome, the remarks loop.

Opinions are given in parallel and hidden: a member sees the other organisations' opinions of the
current review round only once their own organisation has given one; the president and the desk see
all of them. :func:`outcome_consolidate` applies the rules of the 2013 regulation and says why:

1. a binding organisation (the urban agency) unfavourable → unfavourable;
2. a binding opinion missing → no conclusion yet;
3. any other unfavourable opinion → changes requested, with its remarks;
4. reservations → favourable with reservations, recorded as conditions (5 working days to comply);
5. otherwise favourable. "Not concerned" counts for nothing.

:func:`session_close` applies the outcome of every dossier of a session through
:func:`permits.workflow.dossier_transition` (the only place a status changes), records attendance and
closes the session, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.api_errors import DomainError
from permits.audit import audit_append
from permits.deadlines import WorkingCalendar
from permits.models import (
    Attendance,
    Dossier,
    DossierMember,
    Opinion,
    Organisation,
    Remark,
    Session,
    SessionStatus,
    Status,
    Verdict,
)
from permits.roles import Role, user_has_role
from permits.workflow import dossier_transition, is_filer

# A dossier takes opinions while it waits for its session (large projects: within 15 working days) and
# while the committee reviews it.
OPINION_STATUSES = frozenset({Status.SCHEDULED, Status.UNDER_REVIEW})
# Days to comply with minor reservations when the procedure sets none.
DEFAULT_RESERVATIONS_DAYS = 5


class OpinionRefused(DomainError):
    """The opinion, remark or session action is not possible now."""

    code = "opinion-refused"


class OpinionForbidden(OpinionRefused):
    http_status = 403
    code = "forbidden"


class Conclusion:
    """The consolidated verdicts (an opinion's verdicts plus the two that only a committee reaches)."""

    FAVOURABLE = Verdict.FAVOURABLE.value
    RESERVATIONS = Verdict.RESERVATIONS.value
    UNFAVOURABLE = Verdict.UNFAVOURABLE.value
    CHANGES_REQUESTED = "changes_requested"
    INCOMPLETE = "incomplete"


@dataclass
class Outcome:
    """The committee's conclusion on a dossier for its current round, with the rule that reached it."""

    verdict: str
    reasons: list[str] = field(default_factory=list)
    missing: list[Organisation] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    comply_within_days: int | None = None

    @property
    def concluded(self) -> bool:
        return self.verdict != Conclusion.INCOMPLETE

    @property
    def label(self) -> str:
        return str(CONCLUSION_LABELS[self.verdict])


CONCLUSION_LABELS = {
    Conclusion.FAVOURABLE: gettext_lazy("Favourable"),
    Conclusion.RESERVATIONS: gettext_lazy("Favourable with reservations"),
    Conclusion.UNFAVOURABLE: gettext_lazy("Unfavourable"),
    Conclusion.CHANGES_REQUESTED: gettext_lazy("Changes requested"),
    Conclusion.INCOMPLETE: gettext_lazy("Not concluded"),
}


# --- who is who --------------------------------------------------------------------------------------


def user_organisations(*, user) -> QuerySet[Organisation]:
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(members=user)


def user_is_president(*, user, session: Session | None = None) -> bool:
    """The president of the session's committee, a holder of the committee-president role, or an admin."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user_has_role(user, Role.COMMITTEE_PRESIDENT):
        return True
    return session is not None and session.committee.president_id == user.pk


def user_sees_all_opinions(*, user, dossier: Dossier) -> bool:
    """The president, the desk and the signing authority see every opinion as soon as it is given."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user_has_role(user, Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT, Role.SIGNING_AUTHORITY) or user.is_superuser:
        return True
    return dossier_sessions(dossier=dossier).filter(committee__president=user).exists()


def dossier_sessions(*, dossier: Dossier) -> QuerySet[Session]:
    """The sessions the dossier is (or was) booked in, through its active bookings."""
    return Session.objects.filter(bookings__dossier=dossier, bookings__cancelled_at__isnull=True).select_related(
        "committee"
    )


def session_dossiers(*, session: Session) -> QuerySet[Dossier]:
    """The dossiers of a session's agenda, in slot order."""
    return (
        Dossier.objects.filter(bookings__session=session, bookings__cancelled_at__isnull=True)
        .select_related("procedure", "commune", "applicant")
        .order_by("bookings__position")
    )


def selected_organisations(*, dossier: Dossier) -> list[Organisation]:
    return [m.organisation for m in DossierMember.objects.filter(dossier=dossier).select_related("organisation")]


def member_organisation_for(*, user, dossier: Dossier) -> Organisation | None:
    """The organisation in whose name this user reviews the dossier (a selected one they belong to)."""
    return (
        user_organisations(user=user).filter(pk__in=DossierMember.objects.filter(dossier=dossier).values("organisation"))
        .order_by("code")
        .first()
    )  # fmt: skip


# --- opinions ----------------------------------------------------------------------------------------


def opinion_record(
    *,
    dossier: Dossier,
    organisation: Organisation,
    author,
    verdict: str,
    remarks_text: str = "",
    remark_items: list[str] | None = None,
    session: Session | None = None,
) -> Opinion:
    """Record an organisation's opinion on the dossier's current round; each remark item becomes a Remark."""
    if verdict not in Verdict.values:
        raise OpinionRefused(_("Unknown opinion “%(verdict)s”.") % {"verdict": verdict})
    if not organisation.members.filter(pk=author.pk).exists():
        raise OpinionForbidden(
            _("Only a member of %(organisation)s can give its opinion.") % {"organisation": organisation.name}
        )
    if not DossierMember.objects.filter(dossier=dossier, organisation=organisation).exists():
        raise OpinionForbidden(
            _("%(organisation)s is not a member of the committee for this dossier.")
            % {"organisation": organisation.name}
        )
    items = [line.strip() for line in (remark_items or []) if line and line.strip()]
    if verdict in {Verdict.UNFAVOURABLE, Verdict.RESERVATIONS} and not (items or remarks_text.strip()):
        raise OpinionRefused(_("An unfavourable opinion or reservations need at least one remark."))
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if locked.status not in OPINION_STATUSES:
            raise OpinionRefused(
                _("Opinions are given while the dossier is scheduled or under review; it is “%(status)s”.")
                % {"status": Status(locked.status).label}
            )
        if session is None:
            session = dossier_sessions(dossier=locked).order_by("-date").first()
        try:
            with transaction.atomic():
                opinion = Opinion.objects.create(
                    dossier=locked,
                    organisation=organisation,
                    review_round=locked.review_round,
                    session=session,
                    author=author,
                    verdict=verdict,
                    remarks=remarks_text.strip(),
                )
        except IntegrityError:
            raise OpinionRefused(
                _("%(organisation)s has already given its opinion for this review round.")
                % {"organisation": organisation.name}
            ) from None
        Remark.objects.bulk_create([Remark(opinion=opinion, text=text) for text in items])
        audit_append(
            action="opinion.record",
            actor=author,
            dossier_id=locked.pk,
            payload={"organisation": organisation.code, "verdict": verdict, "round": locked.review_round,
                     "remarks": items, "opinion": opinion.pk},
        )  # fmt: skip
    return opinion


def opinions_visible_to(*, dossier: Dossier, user) -> QuerySet[Opinion]:
    """The opinions this user may read: all rounds for the presidency; for a member, the earlier rounds,
    and the current round only once their own organisation has given its opinion."""
    opinions = (
        Opinion.objects.filter(dossier=dossier)
        .select_related("organisation", "author", "session")
        .prefetch_related("remark_items")
        .order_by("review_round", "organisation__code")
    )
    if user_sees_all_opinions(user=user, dossier=dossier):
        return opinions
    mine = user_organisations(user=user).filter(
        pk__in=DossierMember.objects.filter(dossier=dossier).values("organisation")
    )
    if not mine.exists():
        return opinions.none()
    given = opinions.filter(review_round=dossier.review_round, organisation__in=mine).exists()
    if given:
        return opinions
    return opinions.exclude(review_round=dossier.review_round)


# --- consolidation -----------------------------------------------------------------------------------


def _remark_lines(opinion: Opinion) -> list[str]:
    lines = [remark.text for remark in opinion.remark_items.all()]
    if not lines and opinion.remarks:
        lines = [opinion.remarks]
    return lines


def outcome_consolidate(*, dossier: Dossier) -> Outcome:
    """The committee's outcome for the dossier's current round, by rule, with the reasons."""
    opinions = list(
        Opinion.objects.filter(dossier=dossier, review_round=dossier.review_round)
        .select_related("organisation")
        .prefetch_related("remark_items")
        .order_by("organisation__code")
    )
    given = {opinion.organisation_id for opinion in opinions}
    members = list(DossierMember.objects.filter(dossier=dossier).select_related("organisation"))
    missing = [m.organisation for m in members if m.organisation_id not in given]

    binding_unfavourable = [o for o in opinions if o.organisation.binding_opinion and o.verdict == Verdict.UNFAVOURABLE]
    if binding_unfavourable:
        reasons = []
        for opinion in binding_unfavourable:
            reasons.append(
                _("Binding unfavourable opinion of %(organisation)s.") % {"organisation": opinion.organisation.name}
            )
            reasons += _remark_lines(opinion)
        return Outcome(Conclusion.UNFAVOURABLE, reasons, missing)

    binding_missing = [m.organisation for m in members if m.organisation.binding_opinion and m.organisation in missing]
    if binding_missing:
        names = ", ".join(org.name for org in binding_missing)
        return Outcome(
            Conclusion.INCOMPLETE,
            [_("The binding opinion of %(organisations)s is missing: the committee cannot conclude.")
             % {"organisations": names}],
            missing,
        )  # fmt: skip

    unfavourable = [o for o in opinions if o.verdict == Verdict.UNFAVOURABLE]
    if unfavourable:
        reasons, remarks = [], []
        for opinion in unfavourable:
            reasons.append(
                _("Unfavourable opinion of %(organisation)s: changes are requested.")
                % {"organisation": opinion.organisation.name}
            )
        for opinion in opinions:
            if opinion.verdict in {Verdict.UNFAVOURABLE, Verdict.RESERVATIONS}:
                remarks += [f"{opinion.organisation.name}: {line}" for line in _remark_lines(opinion)]
        return Outcome(Conclusion.CHANGES_REQUESTED, reasons, missing, remarks=remarks)

    reserved = [o for o in opinions if o.verdict == Verdict.RESERVATIONS]
    if reserved:
        days = dossier.procedure.deadline("reservations_compliance") or DEFAULT_RESERVATIONS_DAYS
        conditions = [f"{o.organisation.name}: {line}" for o in reserved for line in _remark_lines(o)]
        reasons = [
            _("Favourable with reservations of %(organisations)s: %(days)s working days to comply.")
            % {"organisations": ", ".join(o.organisation.name for o in reserved), "days": days}
        ]
        return Outcome(Conclusion.RESERVATIONS, reasons, missing, conditions=conditions, comply_within_days=days)

    favourable = [o for o in opinions if o.verdict == Verdict.FAVOURABLE]
    if not favourable:
        return Outcome(Conclusion.INCOMPLETE, [_("No favourable opinion has been given yet.")], missing)
    return Outcome(
        Conclusion.FAVOURABLE,
        [_("Favourable opinions of %(organisations)s.")
         % {"organisations": ", ".join(o.organisation.name for o in favourable)}],
        missing,
    )  # fmt: skip


def reservations_comply_by(*, outcome: Outcome, on: date) -> date | None:
    """The date by which the reservations must be complied with, counted in working days from ``on``."""
    if outcome.comply_within_days is None:
        return None
    return WorkingCalendar().add_working_days(on, outcome.comply_within_days)


# --- sessions ------------------------------------------------------------------------------------------


def _require_president(*, session: Session, actor) -> None:
    if not user_is_president(user=actor, session=session):
        raise OpinionForbidden(_("Only the committee president can do this."))


def session_open(*, session: Session, actor, today: date | None = None) -> Session:
    """Open the session: its scheduled dossiers go under review."""
    _require_president(session=session, actor=actor)
    with transaction.atomic():
        locked = Session.objects.select_for_update().select_related("committee").get(pk=session.pk)
        if locked.status == SessionStatus.CLOSED:
            raise OpinionRefused(_("This session is closed."))
        for dossier in session_dossiers(session=locked).filter(status=Status.SCHEDULED):
            dossier_transition(dossier=dossier, action="start_review", actor=actor, today=today)
        locked.status = SessionStatus.OPEN
        locked.save(update_fields=["status"])
        audit_append(action="session.open", actor=actor, payload={"session": locked.pk})
    return locked


def attendance_mark(*, session: Session, organisation: Organisation, user, present: bool, actor) -> Attendance:
    """Record who sat for an organisation (the president marks it)."""
    _require_president(session=session, actor=actor)
    if not organisation.members.filter(pk=user.pk).exists():
        raise OpinionRefused(
            _("%(user)s is not a member of %(organisation)s.") % {"user": user, "organisation": organisation.name}
        )
    attendance, _created = Attendance.objects.update_or_create(
        session=session, organisation=organisation, defaults={"user": user, "present": present}
    )
    return attendance


@dataclass
class SessionResult:
    session: Session
    outcomes: dict[int, Outcome]


def session_close(*, session: Session, actor, today: date | None = None) -> SessionResult:
    """Consolidate every dossier of the session, make the matching transition, record attendance, close.

    Refused, with nothing changed, while a dossier still lacks a binding opinion.
    """
    _require_president(session=session, actor=actor)
    outcomes: dict[int, Outcome] = {}
    with transaction.atomic():
        locked = Session.objects.select_for_update().select_related("committee").get(pk=session.pk)
        if locked.status == SessionStatus.CLOSED:
            raise OpinionRefused(_("This session is already closed."))
        for dossier in session_dossiers(session=locked).filter(status=Status.SCHEDULED):
            dossier_transition(dossier=dossier, action="start_review", actor=actor, today=today)
        dossiers = list(session_dossiers(session=locked).filter(status=Status.UNDER_REVIEW))
        for dossier in dossiers:
            outcome = outcome_consolidate(dossier=dossier)
            if not outcome.concluded:
                raise OpinionRefused(
                    _("Dossier %(reference)s: %(reasons)s") % {"reference": dossier.reference,
                                                               "reasons": " ".join(outcome.reasons)}
                )  # fmt: skip
            outcomes[dossier.pk] = outcome
        for dossier in dossiers:
            outcome = outcomes[dossier.pk]
            data = {"session": locked.pk, "outcome": outcome.verdict}
            if outcome.verdict in {Conclusion.FAVOURABLE, Conclusion.RESERVATIONS}:
                comply_by = reservations_comply_by(outcome=outcome, on=today or timezone.localdate())
                if comply_by:
                    data["comply_by"] = comply_by.isoformat()
                reason = "\n".join(outcome.reasons + outcome.conditions)
                dossier_transition(
                    dossier=dossier, action="give_favourable_opinion", actor=actor, reason=reason, data=data,
                    today=today,
                )  # fmt: skip
            elif outcome.verdict == Conclusion.UNFAVOURABLE:
                dossier_transition(
                    dossier=dossier, action="give_unfavourable_opinion", actor=actor,
                    reason="\n".join(outcome.reasons), data=data, today=today,
                )  # fmt: skip
            else:
                dossier_transition(
                    dossier=dossier, action="request_changes", actor=actor,
                    reason="\n".join(outcome.reasons + outcome.remarks), data=data, today=today,
                )  # fmt: skip
        _attendance_from_opinions(session=locked)
        locked.status = SessionStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_append(
            action="session.close",
            actor=actor,
            payload={"session": locked.pk, "outcomes": {str(k): v.verdict for k, v in outcomes.items()}},
        )
    return SessionResult(locked, outcomes)


def _attendance_from_opinions(*, session: Session) -> None:
    """Organisations that gave an opinion in this session count as present (unless marked otherwise)."""
    marked = set(session.attendance.values_list("organisation_id", flat=True))
    for opinion in Opinion.objects.filter(session=session).order_by("created_at"):
        if opinion.organisation_id not in marked:
            Attendance.objects.create(
                session=session, organisation_id=opinion.organisation_id, user_id=opinion.author_id, present=True
            )
            marked.add(opinion.organisation_id)


# --- the remarks loop --------------------------------------------------------------------------------


def dossier_remarks(*, dossier: Dossier, review_round: int | None = None) -> QuerySet[Remark]:
    """Remarks of the dossier, every round or one, in order (the remark grid)."""
    remarks = Remark.objects.filter(opinion__dossier=dossier).select_related("opinion__organisation", "answered_by")
    if review_round is not None:
        remarks = remarks.filter(opinion__review_round=review_round)
    return remarks.order_by("opinion__review_round", "opinion__organisation__code", "id")


def remark_answer(*, remark: Remark, answer: str, actor) -> Remark:
    """The applicant's (or architect's) answer to one remark, while changes are requested."""
    dossier = remark.opinion.dossier
    if not (is_filer(actor, dossier) or getattr(actor, "is_superuser", False)):
        raise OpinionForbidden(_("Only the dossier's architect or applicant can answer its remarks."))
    if dossier.status != Status.CHANGES_REQUESTED:
        raise OpinionRefused(_("Remarks are answered while changes are requested."))
    if remark.opinion.review_round != dossier.review_round:
        raise OpinionRefused(_("This remark belongs to an earlier review round."))
    if not answer.strip():
        raise OpinionRefused(_("Write an answer."))
    remark.answer = answer.strip()
    remark.answered_by = actor
    remark.answered_at = timezone.now()
    remark.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_append(action="remark.answer", actor=actor, dossier_id=dossier.pk, payload={"remark": remark.pk})
    return remark


def remark_resolve(*, remark: Remark, actor) -> Remark:
    """A member (or the president) closes a remark of an earlier round once the revision answers it."""
    dossier = remark.opinion.dossier
    member = member_organisation_for(user=actor, dossier=dossier) is not None
    if not (member or user_sees_all_opinions(user=actor, dossier=dossier)):
        raise OpinionForbidden(_("Only a committee member of this dossier can resolve its remarks."))
    if remark.opinion.review_round >= dossier.review_round:
        raise OpinionRefused(_("A remark is resolved in a later review round, after the revision."))
    remark.resolved = True
    remark.save(update_fields=["resolved"])
    audit_append(action="remark.resolve", actor=actor, dossier_id=dossier.pk, payload={"remark": remark.pk})
    return remark
