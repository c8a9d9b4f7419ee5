"""Reads of the permits app: who sees which dossier, timelines, overdue lists.

Applicants and architects see only their own dossiers; staff roles see every dossier. A dossier that
is not visible to a user does not exist for them (404, never 403), so references cannot be probed.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from permits.deadlines import Clock, WorkingCalendar, dossier_clock
from permits.models import Dossier, DossierEvent, Procedure, Status
from permits.roles import user_is_staff_role


def dossier_list_visible_to(*, user) -> QuerySet[Dossier]:
    """The dossiers a user may see: all of them for staff roles, their own for everyone else."""
    queryset = Dossier.objects.select_related("procedure", "commune", "applicant", "architect")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user_is_staff_role(user):
        return queryset
    return queryset.filter(Q(architect=user) | Q(created_by=user) | Q(applicant__user=user))


def dossier_get_visible(*, user, dossier_id: int) -> Dossier | None:
    """One dossier if this user may see it, else None (the caller answers 404)."""
    return dossier_list_visible_to(user=user).filter(pk=dossier_id).first()


def dossier_get_by_reference_visible(*, user, reference: str) -> Dossier | None:
    return dossier_list_visible_to(user=user).filter(reference=reference).first()


def dossier_timeline(*, dossier: Dossier, include_internal: bool) -> QuerySet[DossierEvent]:
    """The dossier's events in order; internal ones only for staff."""
    events = dossier.events.select_related("actor").order_by("created_at", "id")
    return events if include_internal else events.filter(public=True)


def procedure_list_open() -> QuerySet[Procedure]:
    return Procedure.objects.filter(active=True).prefetch_related("checklist")


def dossier_overdue_list(*, today: date | None = None) -> list[tuple[Dossier, Clock]]:
    """Dossiers whose running step is past its legal deadline, most late first (the desk's list)."""
    calendar = WorkingCalendar()
    running = (
        Dossier.objects.exclude(status__in=[Status.DRAFT, Status.ISSUED, Status.REFUSED, Status.WITHDRAWN,
                                            Status.LAPSED, Status.DEEMED_APPROVED, Status.INADMISSIBLE])
        .select_related("procedure", "commune", "applicant")
        .prefetch_related("clock_stops")
    )  # fmt: skip
    late = []
    for dossier in running:
        clock = dossier_clock(dossier=dossier, today=today, calendar=calendar)
        if clock.overdue:
            late.append((dossier, clock))
    late.sort(key=lambda pair: pair[1].step_remaining_days or 0)
    return late
