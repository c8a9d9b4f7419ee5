"""Daily deadline work: tacit approval of dossiers left unanswered, and lapse of permits whose works did not start.

Each function finds candidates with a cheap query, asks the workflow's own guard whether the transition
may happen on ``today`` (so the rule lives in one place, :mod:`permits.workflow`), and makes it through
:func:`permits.workflow.dossier_transition` with ``actor=None`` — the system — one dossier per
transaction, so that one refusal never blocks the others. The procrastinate jobs in
:mod:`permits.tasks` and ``manage.py run_deadline_checks`` are thin wrappers around these functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from permits.deadlines import TACIT_RUNNING
from permits.models import Dossier, Procedure, Status
from permits.workflow import SYSTEM, TRANSITIONS, TransitionRefused, dossier_transition

logger = logging.getLogger(__name__)

# A month is never shorter than this: permits issued more recently than validity × 28 days cannot have lapsed.
_SHORTEST_MONTH_DAYS = 28


@dataclass(frozen=True)
class PeriodicOutcome:
    """What one run did: the references moved, and those whose transition was refused meanwhile."""

    action: str
    today: date
    done: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()


def _run(*, action: str, today: date, candidates: QuerySet[Dossier]) -> PeriodicOutcome:
    guard = TRANSITIONS[action].guard
    done: list[str] = []
    refused: list[tuple[str, str]] = []
    for dossier in candidates.select_related("procedure", "applicant").prefetch_related("clock_stops").order_by("pk"):
        if guard is not None and guard(dossier, {"today": today}):
            continue  # not due yet (a clock stop pushed the date, or the permit is still valid)
        try:
            dossier_transition(dossier=dossier, action=action, actor=SYSTEM, today=today)
        except TransitionRefused as exc:
            # The dossier moved between the query and the lock (a decision was signed meanwhile).
            refused.append((dossier.reference or str(dossier.pk), exc.message))
            logger.info("%s refused for %s: %s", action, dossier.reference, exc.message)
            continue
        done.append(dossier.reference or str(dossier.pk))
        logger.info("%s: %s", action, dossier.reference)
    return PeriodicOutcome(action=action, today=today, done=tuple(done), refused=tuple(refused))


def dossiers_deem_approved(*, today: date | None = None) -> PeriodicOutcome:
    """Tacitly approve every dossier whose tacit-approval date (clock stops included) has passed on ``today``."""
    today = today or timezone.localdate()
    candidates = Dossier.objects.none()
    for procedure in Procedure.objects.filter(tacit_approval_days__isnull=False):
        # Clock stops only push the date later, so this bound never misses a due dossier.
        earliest = today - timedelta(days=procedure.tacit_approval_days)
        candidates |= Dossier.objects.filter(
            procedure=procedure, status__in=TACIT_RUNNING, accepted_on__isnull=False, accepted_on__lte=earliest
        )
    return _run(action="deem_approved", today=today, candidates=candidates)


def permits_lapse(*, today: date | None = None) -> PeriodicOutcome:
    """Lapse every issued permit whose validity (works not started) has run out on ``today``."""
    today = today or timezone.localdate()
    candidates = Dossier.objects.none()
    for procedure in Procedure.objects.filter(validity_months__isnull=False, validity_months__gt=0):
        latest = today - timedelta(days=_SHORTEST_MONTH_DAYS * procedure.validity_months)
        candidates |= Dossier.objects.filter(
            procedure=procedure, status=Status.ISSUED, decided_at__isnull=False, decided_at__date__lte=latest
        )
    return _run(action="lapse", today=today, candidates=candidates)


def deadline_checks_run(*, today: date | None = None) -> list[PeriodicOutcome]:
    """Both daily checks for one day: tacit approvals first, then lapses."""
    today = today or timezone.localdate()
    return [dossiers_deem_approved(today=today), permits_lapse(today=today)]
