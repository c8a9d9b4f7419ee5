"""Template boxes of committee work on the dossier pages: the filer's slot booking, the desk's members
(with reasons, the invitee form and the send-to-members deadline). Each tag gathers its own data so the
dossier views stay as they are."""

from __future__ import annotations

from django import template

from permits.agendas import members_deadline
from permits.committee_models import Organisation
from permits.committees import booking_active, committee_for_dossier, dossier_member_lines, sessions_free_for_dossier
from permits.models import Status
from permits.roles import Role, user_has_role
from permits.workflow import is_filer

register = template.Library()

BOOKABLE = {Status.ACCEPTED, Status.RESUBMITTED, Status.SCHEDULED}


@register.inclusion_tag("permits/booking/_booking_box.html", takes_context=True)
def booking_box(context, dossier) -> dict:
    """For the filer (or the desk) of an accepted dossier: the slot, the free sessions, move and cancel."""
    request = context["request"]
    user = request.user
    may_book = bool(
        dossier.status in BOOKABLE
        and (is_filer(user, dossier) or user.is_superuser or user_has_role(user, Role.DESK_AGENT))
    )
    booking = booking_active(dossier=dossier) if dossier.status == Status.SCHEDULED else None
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "dossier": dossier,
        "shown": may_book,
        "booking": booking,
        "committee": committee_for_dossier(dossier=dossier) if may_book else None,
        "sessions": sessions_free_for_dossier(dossier=dossier) if may_book else [],
        "may_cancel": booking is not None and dossier.review_round == 1,
    }


@register.inclusion_tag("permits/booking/_members_box.html", takes_context=True)
def members_box(context, dossier) -> dict:
    """For the desk: the selected members with their reasons, the invitee form, the send-to-members deadline."""
    request = context["request"]
    lines = dossier_member_lines(dossier=dossier)
    present = {line.organisation.pk for line in lines}
    booking = booking_active(dossier=dossier)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "dossier": dossier,
        "lines": lines,
        "organisations": [o for o in Organisation.objects.all() if o.pk not in present],
        "deadline": members_deadline(dossier=dossier),
        "booking": booking,
    }
