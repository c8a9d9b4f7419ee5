"""Session agendas: which dossiers a session examines, in which order, the agenda PDF and its sending.

The agenda lists the session's booked dossiers ordered by legal deadline (the due date of the step
running on each dossier, then its reference), with the organisations selected for each. The PDF has a
French part and an Arabic part, whatever the reader's language (the receipt's approach: WeasyPrint, no
network access). Sending stores the PDF as an :class:`IssuedDocument`, notifies every member account of
every selected organisation, and records the day the file reached each member — which is what the
large-projects deadline "file sent to members within N working days of acceptance" is checked against.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from permits.audit import audit_append
from permits.committee_models import Booking, DossierMember, IssuedDocument, Session
from permits.committees import MemberLine, dossier_member_lines
from permits.deadlines import WorkingCalendar, dossier_clock
from permits.models import Classification, Dossier
from permits.receipts import tracking_url
from permits.roles import Role, user_has_role


class AgendaRefused(DomainError):
    code = "agenda-refused"


@dataclass(frozen=True)
class AgendaItem:
    """One dossier on the agenda: its slot, its deadline and its selected members."""

    position: int
    booking: Booking
    dossier: Dossier
    due_on: date | None
    members: list[MemberLine]
    starts_at: time


def agenda_build(*, session: Session, today: date | None = None) -> list[AgendaItem]:
    """The session's booked dossiers, the most urgent legal deadline first, then by reference."""
    calendar = WorkingCalendar()
    bookings = (
        Booking.objects.filter(session=session, cancelled_at__isnull=True)
        .select_related("dossier__procedure", "dossier__commune", "dossier__applicant")
        .prefetch_related("dossier__clock_stops")
    )
    rows = []
    for booking in bookings:
        dossier = booking.dossier
        clock = dossier_clock(dossier=dossier, today=today, calendar=calendar)
        rows.append((clock.step_due_on or date.max, dossier.reference or "", booking))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [
        AgendaItem(
            position=index,
            booking=booking,
            dossier=booking.dossier,
            due_on=None if due == date.max else due,
            members=dossier_member_lines(dossier=booking.dossier),
            starts_at=_slot_time(session, index),
        )
        for index, (due, _ref, booking) in enumerate(rows, start=1)
    ]


def _slot_time(session: Session, position: int) -> time:
    """When the dossier at ``position`` (from 1) comes up: the start plus the time of those before it."""
    start = datetime.combine(session.date, session.start_time)
    return (start + timedelta(minutes=session.minutes_per_dossier * (position - 1))).time()


def agenda_context(*, session: Session) -> dict:
    committee = session.committee
    return {
        "session": session,
        "committee": committee,
        "commune": committee.commune,
        "items": agenda_build(session=session),
        "issued_at": timezone.localtime(),
    }


def agenda_pdf(*, session: Session) -> bytes:
    """The agenda as PDF bytes: a French part, then an Arabic part."""
    html = render_to_string("permits/agenda_pdf.html", agenda_context(session=session))
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def agenda_send(*, session: Session, actor, today: date | None = None) -> IssuedDocument:
    """Issue the agenda PDF, notify every member account of every selected organisation, mark the file sent."""
    if not (user_has_role(actor, Role.DESK_AGENT) or getattr(actor, "is_superuser", False)):
        from permits.committees import BookingForbidden

        raise BookingForbidden(_("Only the desk can send an agenda."))
    today = today or timezone.localdate()
    items = agenda_build(session=session)
    if not items:
        raise AgendaRefused(_("The agenda is empty: no dossier is booked in this session."))
    pdf = agenda_pdf(session=session)
    digest = hashlib.sha256(pdf).hexdigest()
    from permits.notifications import member_notify

    with transaction.atomic():
        previous = IssuedDocument.objects.filter(kind=IssuedDocument.Kind.AGENDA, session=session).first()
        if previous is not None and hasattr(previous, "replaced_by"):
            previous = None
        document = IssuedDocument(
            kind=IssuedDocument.Kind.AGENDA,
            session=session,
            sha256=digest,
            verification_code=secrets.token_urlsafe(12),
            replaces=previous,
        )
        document.file.save(
            f"agenda-{session.committee.code}-{session.date.isoformat()}.pdf", ContentFile(pdf), save=False
        )
        document.save()
        recipients: dict[int, tuple[object, list[Dossier]]] = {}
        member_ids = []
        for item in items:
            for line in item.members:
                member_ids.append(line.member.pk)
                for user in line.organisation.members.filter(is_active=True):
                    recipients.setdefault(user.pk, (user, []))[1].append(item.dossier)
        DossierMember.objects.filter(pk__in=member_ids, file_sent_on__isnull=True).update(file_sent_on=today)
        session.agenda_sent_at = timezone.now()
        session.save(update_fields=["agenda_sent_at"])
        for user, dossiers in recipients.values():
            member_notify(user=user, session=session, dossiers=dossiers)
        audit_append(
            action="session.agenda_sent",
            actor=actor,
            payload={"session": session.pk, "document": document.pk, "sha256": digest,
                     "dossiers": [item.dossier.pk for item in items], "recipients": sorted(recipients)},
        )  # fmt: skip
    return document


@dataclass(frozen=True)
class MembersDeadline:
    """The large-projects deadline for the file to reach the members, and where it stands."""

    due_on: date
    sent_on: date | None
    state: str  # "sent", "late" (sent after the due date), "pending", "overdue" (not sent, due date passed)

    @property
    def label(self) -> str:
        return {
            "sent": _("Sent to members on time"),
            "late": _("Sent to members late"),
            "pending": _("To send to members"),
            "overdue": _("Not sent to members: deadline passed"),
        }[self.state]


def members_deadline(*, dossier: Dossier, today: date | None = None) -> MembersDeadline | None:
    """For an accepted large project: due date (acceptance + the ``send_to_members`` working days) and status."""
    days = dossier.procedure.deadline("send_to_members")
    if dossier.classification != Classification.LARGE or dossier.accepted_on is None or days is None:
        return None
    today = today or timezone.localdate()
    due = WorkingCalendar().add_working_days(dossier.accepted_on, days)
    sent = list(DossierMember.objects.filter(dossier=dossier).values_list("file_sent_on", flat=True))
    sent_on = max(sent) if sent and all(sent) else None
    if sent_on is not None:
        state = "late" if sent_on > due else "sent"
    else:
        state = "overdue" if today > due else "pending"
    return MembersDeadline(due_on=due, sent_on=sent_on, state=state)


def agenda_links(*, items: list[AgendaItem]) -> list[str]:
    return [tracking_url(dossier=item.dossier) for item in items]
