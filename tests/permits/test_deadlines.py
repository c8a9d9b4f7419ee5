"""The deadline engine: working days across Moroccan holidays, clock stops, step deadlines, tacit approval.

Fixed dates sit in 2025 weeks whose holidays are civil ones (Throne Day, Green March, Independence Day);
the Islamic feasts are estimates in the ``holidays`` package until announced, so those tests take the
dates from the package. The clock is walked through real transitions with ``today=`` (autumn 2025: Green
March on Thursday 6 and Independence Day on Tuesday 18 November). The daily jobs and
``run_deadline_checks`` are tested here too.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from permits.deadlines import WorkingCalendar, dossier_clock
from permits.models import Dossier, Holiday, Status
from permits.periodic import deadline_checks_run, dossiers_deem_approved
from permits.selectors import dossier_overdue_list
from tests.permits.test_workflow import step

pytestmark = pytest.mark.django_db

MON_13_OCT = date(2025, 10, 13)


def calendar() -> WorkingCalendar:
    return WorkingCalendar()


# --- working days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected", "why"),
    [
        (date(2025, 7, 28), 3, date(2025, 8, 1), "Throne Day, Wednesday 30 July"),
        (date(2025, 11, 5), 1, date(2025, 11, 7), "Green March, Thursday 6 November"),
        (date(2025, 11, 17), 1, date(2025, 11, 19), "Independence Day, Tuesday 18 November"),
        (date(2025, 11, 3), 15, date(2025, 11, 26), "both November holidays"),
        (date(2025, 8, 13), 1, date(2025, 8, 15), "Oued Ed-Dahab Day, Thursday 14 August"),
        (date(2025, 8, 19), 1, date(2025, 8, 22), "Revolution and Youth Days, 20-21 August"),
        (date(2025, 12, 31), 1, date(2026, 1, 2), "New Year's Day"),
        (date(2026, 1, 13), 1, date(2026, 1, 15), "Amazigh New Year, 14 January"),
        (date(2025, 10, 10), 1, date(2025, 10, 13), "a weekend"),
        (date(2025, 10, 11), 1, date(2025, 10, 13), "starting on a Saturday"),
        (date(2025, 10, 13), 0, date(2025, 10, 13), "zero days"),
        (date(2025, 10, 13), 5, date(2025, 10, 20), "a plain week: the start day is not counted"),
    ],
)
def test_add_working_days(start, days, expected, why):
    assert calendar().add_working_days(start, days) == expected, why


def test_working_days_between_counts_the_end_not_the_start():
    cal = calendar()
    assert cal.working_days_between(date(2025, 7, 28), date(2025, 8, 1)) == 3  # 29, 31, 1 (30 is Throne Day)
    assert cal.working_days_between(date(2025, 11, 3), date(2025, 11, 21)) == 12
    assert cal.working_days_between(date(2025, 11, 21), date(2025, 11, 3)) == 0
    assert cal.working_days_between(date(2025, 11, 21), date(2025, 11, 21)) == 0


@pytest.mark.parametrize("feast", ["Eid al-Fitr", "Eid al-Adha", "Prophet's Birthday", "Islamic New Year"])
@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_islamic_feasts_estimated_by_the_package_are_not_working_days(feast, year):
    days = sorted(day for day, name in holidays.country_holidays("MA", years=year).items() if feast in name)
    assert days, f"the holidays package has no {feast} for {year}"
    cal = calendar()
    assert not any(cal.is_working_day(day) for day in days)
    # One working day after the eve of the feast is the first weekday after it.
    eve = days[0] - timedelta(days=1)
    after = days[-1] + timedelta(days=1)
    while after.weekday() >= 5 or after in holidays.country_holidays("MA", years=after.year):
        after += timedelta(days=1)
    if cal.is_working_day(eve):
        assert cal.add_working_days(eve, 1) == after


def test_a_holiday_added_by_an_administrator_counts_from_the_next_calendar():
    before = calendar()
    Holiday.objects.create(date=date(2025, 7, 31), name="Pont exceptionnel")
    after = calendar()
    assert before.add_working_days(date(2025, 7, 28), 3) == date(2025, 8, 1)
    assert after.add_working_days(date(2025, 7, 28), 3) == date(2025, 8, 4)
    assert not after.is_working_day(date(2025, 7, 31))
    assert after.working_days_between(date(2025, 7, 28), date(2025, 8, 1)) == 2


# --- a dossier's clock -----------------------------------------------------------------------------


def accepted_on(dossier, users, day: date):
    """Submit and accept the dossier on ``day`` (a working day)."""
    dossier = step(dossier, users, "submit", today=day)
    return step(dossier, users, "accept", today=day)


@pytest.fixture
def reviewed(complete_draft, users):
    """Accepted Monday 13 October 2025, committee on the 20th, under review since."""
    dossier = accepted_on(complete_draft, users, MON_13_OCT)
    dossier = step(dossier, users, "schedule", today=date(2025, 10, 14), data={"session_date": date(2025, 10, 20)})
    return step(dossier, users, "start_review", today=date(2025, 10, 20))


def test_clock_of_an_accepted_dossier(complete_draft, users):
    dossier = accepted_on(complete_draft, users, MON_13_OCT)
    clock = dossier_clock(dossier=dossier, today=date(2025, 10, 15))
    assert (clock.step, clock.step_started_on, clock.step_deadline_days) == ("send_to_members", MON_13_OCT, 3)
    assert clock.step_due_on == date(2025, 10, 16)
    assert (clock.step_elapsed_days, clock.step_remaining_days, clock.overdue) == (2, 1, False)
    assert (clock.started_on, clock.elapsed_days, clock.stopped_days, clock.stopped) == (MON_13_OCT, 2, 0, False)
    assert clock.tacit_approval_on == date(2025, 12, 12)  # 60 calendar days of silence
    late = dossier_clock(dossier=dossier, today=date(2025, 10, 17))
    assert late.overdue and late.step_remaining_days == -1


def test_member_opinions_due_across_green_march_and_independence_day(reviewed):
    clock = dossier_clock(dossier=reviewed, today=date(2025, 11, 7))
    assert (clock.step, clock.step_started_on, clock.step_deadline_days) == ("member_opinions", date(2025, 10, 20), 15)
    # 15 working days after Monday 20 October, Green March (6 November) not counted.
    assert clock.step_due_on == date(2025, 11, 11)
    assert (clock.step_elapsed_days, clock.step_remaining_days, clock.overdue) == (13, 2, False)
    assert dossier_clock(dossier=reviewed, today=date(2025, 11, 12)).overdue


def test_the_clock_stops_on_changes_requested_and_restarts_on_resubmission(reviewed, users):
    dossier = step(reviewed, users, "request_changes", today=date(2025, 10, 27))
    # While the file waits on the applicant: no overdue, the elapsed days do not move, the tacit date recedes.
    for today in (date(2025, 11, 5), date(2025, 11, 7), date(2025, 11, 10)):
        clock = dossier_clock(dossier=dossier, today=today)
        assert clock.stopped and not clock.overdue and clock.step == "applicant_changes"
        assert clock.elapsed_days == 10, today
        assert clock.tacit_approval_on == date(2025, 12, 12) + (today - date(2025, 10, 27))
    dossier = step(dossier, users, "resubmit", today=date(2025, 11, 10))
    clock = dossier_clock(dossier=dossier, today=date(2025, 11, 21))
    assert not clock.stopped
    # 27 working days since acceptance, 9 of them while stopped (28 Oct - 10 Nov, Green March excluded).
    assert (clock.elapsed_days, clock.stopped_days) == (18, 9)
    # Tacit approval: 60 days of silence plus the 14 calendar days the file waited on the applicant.
    assert clock.tacit_approval_on == date(2025, 12, 26)
    # The member-opinions deadline restarts from the resubmission: 15 working days, Independence Day skipped.
    assert (clock.step, clock.step_started_on, clock.step_due_on) == (
        "member_opinions",
        date(2025, 11, 10),
        date(2025, 12, 2),
    )
    assert (clock.step_elapsed_days, clock.step_remaining_days) == (8, 7)
    assert not dossier_clock(dossier=dossier, today=date(2025, 12, 2)).overdue
    assert dossier_clock(dossier=dossier, today=date(2025, 12, 3)).overdue


def test_an_administrators_holiday_moves_the_clock(reviewed):
    Holiday.objects.create(date=date(2025, 11, 10), name="Jour de deuil national")
    clock = dossier_clock(dossier=reviewed, today=date(2025, 11, 7))
    assert clock.step_due_on == date(2025, 11, 12)
    assert clock.elapsed_days == 18


def test_no_tacit_date_before_acceptance_or_after_a_decision(complete_draft, users):
    submitted = step(complete_draft, users, "submit", today=MON_13_OCT)
    assert dossier_clock(dossier=submitted, today=date(2025, 10, 14)).tacit_approval_on is None
    assert dossier_clock(dossier=submitted, today=date(2025, 10, 14)).step == "completeness_check"


def test_overdue_list_for_the_desk(reviewed):
    assert dossier_overdue_list(today=date(2025, 11, 11)) == []
    late = dossier_overdue_list(today=date(2025, 11, 14))
    assert [(dossier.pk, clock.step_remaining_days) for dossier, clock in late] == [(reviewed.pk, -3)]


# --- tacit approval: the daily job and the command ---------------------------------------------------


def test_tacit_approval_service_on_its_date(reviewed, users):
    assert dossiers_deem_approved(today=date(2025, 12, 11)).done == ()
    assert Dossier.objects.get(pk=reviewed.pk).status == Status.UNDER_REVIEW
    outcome = dossiers_deem_approved(today=date(2025, 12, 12))
    assert outcome.done == (reviewed.reference,) and outcome.refused == ()
    dossier = Dossier.objects.get(pk=reviewed.pk)
    assert dossier.status == Status.DEEMED_APPROVED
    event = dossier.events.order_by("-id").first()
    assert event.actor is None and event.data["action"] == "deem_approved"
    assert dossiers_deem_approved(today=date(2025, 12, 13)).done == ()


def test_tacit_approval_waits_for_the_days_the_file_was_stopped(reviewed, users):
    dossier = step(reviewed, users, "request_changes", today=date(2025, 10, 27))
    step(dossier, users, "resubmit", today=date(2025, 11, 10))
    assert dossiers_deem_approved(today=date(2025, 12, 25)).done == ()
    assert dossiers_deem_approved(today=date(2025, 12, 26)).done == (reviewed.reference,)


def test_a_shorter_tacit_delay_is_taken_from_the_procedure(reviewed, building_permit):
    building_permit.tacit_approval_days = 30
    building_permit.save()
    assert dossiers_deem_approved(today=date(2025, 11, 11)).done == ()
    assert dossiers_deem_approved(today=date(2025, 11, 12)).done == (reviewed.reference,)


def test_the_periodic_job_runs_for_the_day_it_was_scheduled(reviewed):
    from procrastinate.contrib.django import app

    from permits import tasks

    periodic = {task.task.name for task in app.periodic_registry.periodic_tasks.values()}
    assert {tasks.deem_approved_due_dossiers.name, tasks.lapse_expired_permits.name} <= periodic
    # Scheduled at 00:30 UTC on 12 December 2025 (01:30 in Casablanca).
    tasks.deem_approved_due_dossiers(int(datetime(2025, 12, 12, 0, 30, tzinfo=UTC).timestamp()))
    assert Dossier.objects.get(pk=reviewed.pk).status == Status.DEEMED_APPROVED


def test_run_deadline_checks_command(reviewed):
    out = io.StringIO()
    call_command("run_deadline_checks", "--today", "2025-12-11", stdout=out)
    assert out.getvalue().splitlines() == [
        "tacit approval: 0 dossier(s)",
        "lapsed permits: 0 dossier(s)",
        "overdue for the desk on 2025-12-11: 1 dossier(s)",
    ]
    out = io.StringIO()
    call_command("run_deadline_checks", "--today", "2025-12-12", stdout=out)
    assert out.getvalue().splitlines()[0] == f"tacit approval: 1 dossier(s): {reviewed.reference}"
    with pytest.raises(CommandError, match="is not a date"):
        call_command("run_deadline_checks", "--today", "12/12/2025")


def test_deadline_checks_run_both_jobs(reviewed):
    outcomes = deadline_checks_run(today=date(2025, 12, 12))
    assert [(o.action, o.done) for o in outcomes] == [("deem_approved", (reviewed.reference,)), ("lapse", ())]
