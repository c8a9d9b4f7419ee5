"""The deadline engine: working days with Moroccan holidays, clock stops, step deadlines, tacit approval.

Working days are Monday to Friday, except the public holidays the ``holidays`` package knows for
Morocco (religious feasts are estimates there until announced) and the dates an administrator adds
as :class:`permits.models.Holiday`. "N working days after D" never counts D itself.

A dossier's legal clock starts on the day it is accepted as complete, stops while changes are
requested from the applicant and restarts when revised documents are filed. Each status has the step
whose deadline is running (``STATUS_STEP``); its length comes from the procedure's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays as holidays_lib
from django.utils import timezone

from permits.models import Dossier, Holiday, Status

# The step whose legal deadline runs while a dossier is in a status (keys of Procedure.deadlines).
STATUS_STEP: dict[str, str] = {
    Status.SUBMITTED: "completeness_check",
    Status.ACCEPTED: "send_to_members",
    Status.SCHEDULED: "member_opinions",
    Status.UNDER_REVIEW: "member_opinions",
    Status.RESUBMITTED: "member_opinions",
    Status.CHANGES_REQUESTED: "applicant_changes",
    Status.FAVOURABLE: "minutes",
    Status.UNFAVOURABLE: "minutes",
    Status.DECISION_SIGNING: "notify_decision",
}
# Statuses in which the dossier waits on the applicant: the administration's clock is stopped.
CLOCK_STOPPED = {Status.CHANGES_REQUESTED}
# Statuses after acceptance and before a decision: the tacit-approval countdown runs.
TACIT_RUNNING = {
    Status.ACCEPTED,
    Status.SCHEDULED,
    Status.UNDER_REVIEW,
    Status.RESUBMITTED,
    Status.FAVOURABLE,
    Status.UNFAVOURABLE,
    Status.CHANGES_REQUESTED,
}


@lru_cache(maxsize=32)
def _package_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays("MA", years=year))


class WorkingCalendar:
    """Moroccan working days between two dates, with the administrator's extra holidays loaded once."""

    def __init__(self, *, extra_holidays: set[date] | None = None) -> None:
        self.extra = (
            extra_holidays if extra_holidays is not None else set(Holiday.objects.values_list("date", flat=True))
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _package_holidays(day.year) and day not in self.extra

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself is not counted)."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; 0 when ``end <= start``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


@dataclass(frozen=True)
class Clock:
    """Where a dossier stands against its deadlines on a given day."""

    today: date
    step: str | None
    step_started_on: date | None
    step_deadline_days: int | None
    step_due_on: date | None
    step_elapsed_days: int | None
    step_remaining_days: int | None
    overdue: bool
    stopped: bool
    started_on: date | None
    elapsed_days: int | None
    stopped_days: int
    tacit_approval_on: date | None


def _stopped_spans(dossier: Dossier, today: date) -> list[tuple[date, date]]:
    return [(stop.stopped_on, stop.resumed_on or today) for stop in dossier.clock_stops.all()]


def dossier_clock(*, dossier: Dossier, today: date | None = None, calendar: WorkingCalendar | None = None) -> Clock:
    """Compute the dossier's legal clock: step deadline, days elapsed and remaining, tacit-approval date."""
    today = today or timezone.localdate()
    calendar = calendar or WorkingCalendar()
    step = STATUS_STEP.get(dossier.status)
    step_days = dossier.procedure.deadline(step) if step else None
    step_started = timezone.localdate(dossier.status_changed_at) if step else None
    stopped = dossier.status in CLOCK_STOPPED
    step_due = step_elapsed = step_remaining = None
    if step_days is not None and step_started is not None:
        step_due = calendar.add_working_days(step_started, step_days)
        step_elapsed = calendar.working_days_between(step_started, today)
        step_remaining = step_days - step_elapsed
    spans = _stopped_spans(dossier, today)
    stopped_working = sum(calendar.working_days_between(a, b) for a, b in spans)
    elapsed = None
    if dossier.accepted_on:
        elapsed = max(calendar.working_days_between(dossier.accepted_on, today) - stopped_working, 0)
    tacit = None
    days = dossier.procedure.tacit_approval_days
    if dossier.accepted_on and days and dossier.status in TACIT_RUNNING:
        # Calendar days of silence, not counting the days the file waited on the applicant.
        stopped_calendar = sum((b - a).days for a, b in spans)
        tacit = dossier.accepted_on + timedelta(days=days + stopped_calendar)
    return Clock(
        today=today,
        step=step,
        step_started_on=step_started,
        step_deadline_days=step_days,
        step_due_on=step_due,
        step_elapsed_days=step_elapsed,
        step_remaining_days=step_remaining,
        overdue=bool(step_due and not stopped and today > step_due),
        stopped=stopped,
        started_on=dossier.accepted_on,
        elapsed_days=elapsed,
        stopped_days=stopped_working,
        tacit_approval_on=tacit,
    )
