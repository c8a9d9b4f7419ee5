"""Session generation: on the committee's weekdays, working days only (Moroccan holidays skipped),
idempotent; the ``generate_sessions`` command and the daily job do the same."""

# ruff: noqa: F811 (the committee_world fixture is imported)
from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from permits.committee_models import Session
from permits.committees import sessions_generate, sessions_generate_all
from permits.models import Holiday
from permits.tasks import generate_committee_sessions
from tests.permits.committee_world import committee_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def test_sessions_skip_green_march_and_independence_day(committee_world):
    small = committee_world["committees"]["small_projects"]  # Tuesdays and Thursdays
    created = sessions_generate(committee=small, start=date(2025, 11, 3), end=date(2025, 11, 21))
    days = sorted(s.date for s in created)
    assert days == [date(2025, 11, 4), date(2025, 11, 11), date(2025, 11, 13), date(2025, 11, 20)]
    # Thursday 6 (Green March) and Tuesday 18 (Independence Day) are holidays.
    session = Session.objects.get(committee=small, date=date(2025, 11, 4))
    assert (session.capacity, session.minutes_per_dossier, session.status) == (3, 20, "planned")


def test_generation_is_idempotent(committee_world):
    small = committee_world["committees"]["small_projects"]
    first = sessions_generate(committee=small, start=date(2025, 11, 3), end=date(2025, 11, 21))
    again = sessions_generate(committee=small, start=date(2025, 11, 1), end=date(2025, 11, 28))
    assert len(first) == 4
    assert [s.date for s in again] == [date(2025, 11, 25), date(2025, 11, 27)]
    assert Session.objects.filter(committee=small).count() == 6


def test_an_administrators_holiday_is_skipped(committee_world):
    Holiday.objects.create(date=date(2025, 11, 12), name="Pont exceptionnel")
    large = committee_world["committees"]["large_projects"]  # Wednesdays
    created = sessions_generate(committee=large, start=date(2025, 11, 3), end=date(2025, 11, 21))
    assert sorted(s.date for s in created) == [date(2025, 11, 5), date(2025, 11, 19)]


def test_all_committees_six_weeks_ahead_and_the_command(committee_world):
    created = sessions_generate_all(today=date(2025, 11, 3))
    assert created == Session.objects.count() > 0
    assert max(Session.objects.values_list("date", flat=True)) <= date(2025, 12, 15)
    out = io.StringIO()
    call_command("generate_sessions", "--weeks", "8", "--today", "2025-11-03", stdout=out)
    assert "session(s) created" in out.getvalue()
    assert max(Session.objects.values_list("date", flat=True)) > date(2025, 12, 15)
    with pytest.raises(CommandError):
        call_command("generate_sessions", "--weeks", "0")


def test_the_daily_job_generates_for_its_day(committee_world):
    timestamp = int(datetime(2025, 11, 3, 1, 15, tzinfo=UTC).timestamp())
    generate_committee_sessions(timestamp)
    assert Session.objects.filter(date=date(2025, 11, 4)).exists()
    generate_committee_sessions(timestamp)
    assert Session.objects.filter(date=date(2025, 11, 4)).count() == 1
