"""Dossier references ``{commune}-{year}-{sequence}``: unique and gap-free per commune and year.

The concurrent tests run real threads, each with its own database connection, that submit different
dossiers of the same commune at once; one of them holds its number in an open transaction while the
others queue behind it, then rolls back — its number must go to the next submission, leaving no gap.
"""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections, transaction

from geo.models import AdminArea, AdminLevel
from permits.models import Dossier, ReferenceCounter, Status
from permits.roles import Role
from permits.services import ApplicantData, dossier_reference_assign, dossier_save_draft
from permits.workflow import dossier_transition
from tests.conftest import merchich_box
from tests.permits.conftest import SMALL_HOUSE, upload

THREADS = 8


def new_draft(users, procedure, parcel, number: int) -> Dossier:
    dossier = dossier_save_draft(
        actor=users[Role.ARCHITECT],
        procedure=procedure,
        applicant=ApplicantData(
            first_name="Applicant",
            last_name=f"N{number}",
            national_id=f"BE{number:06d}",
            email=f"a{number}@example.org",
        ),
        parcels=[parcel],
        title=f"Maison {number}",
        figures=SMALL_HOUSE,
    )
    upload(dossier, "architectural-plans", users[Role.ARCHITECT])
    upload(dossier, "title-deed", users[Role.ARCHITECT])
    return dossier


def submit(dossier: Dossier, users, **kwargs) -> Dossier:
    return dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT], **kwargs)


def sequence(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


# --- format, per commune, per year -----------------------------------------------------------------


@pytest.mark.django_db
def test_format_and_sequence_per_commune_and_year(users, building_permit, casablanca_world):
    world = casablanca_world
    first = submit(new_draft(users, building_permit, world["flat"], 1), users, today=date(2025, 3, 3))
    second = submit(new_draft(users, building_permit, world["villa"], 2), users, today=date(2025, 3, 4))
    next_year = submit(new_draft(users, building_permit, world["flat"], 3), users, today=date(2026, 1, 5))
    assert (first.reference, second.reference, next_year.reference) == (
        "TEST-01-2025-00001",
        "TEST-01-2025-00002",
        "TEST-01-2026-00001",
    )
    other = AdminArea.objects.create(
        level=AdminLevel.COMMUNE, code="TEST-02", name_fr="Autre commune", geom=merchich_box(5000, 5000, 6000, 6000)
    )
    assert dossier_reference_assign(commune=other, year=2025) == "TEST-02-2025-00001"
    assert dossier_reference_assign(commune=world["commune"], year=2025) == "TEST-01-2025-00003"
    assert ReferenceCounter.objects.get(commune=world["commune"], year=2025).last_value == 3


@pytest.mark.django_db
def test_the_reference_is_kept_through_the_remarks_loop(users, building_permit, casablanca_world):
    from tests.permits.test_workflow import step

    dossier = submit(new_draft(users, building_permit, casablanca_world["flat"], 1), users)
    reference = dossier.reference
    for action in ("accept", "schedule", "start_review", "request_changes", "resubmit"):
        dossier = step(dossier, users, action)
    assert dossier.status == Status.RESUBMITTED and dossier.reference == reference
    assert ReferenceCounter.objects.get().last_value == 1


@pytest.mark.django_db
def test_a_rolled_back_submission_gives_its_number_back(users, building_permit, casablanca_world):
    one, two = (new_draft(users, building_permit, casablanca_world["flat"], n) for n in (1, 2))
    with pytest.raises(RuntimeError), transaction.atomic():
        assert submit(one, users).reference.endswith("-00001")
        raise RuntimeError("the request failed after the number was taken")
    one.refresh_from_db()
    assert (one.status, one.reference) == (Status.DRAFT, None)
    assert submit(two, users).reference.endswith("-00001")
    assert submit(one, users).reference.endswith("-00002")


@pytest.mark.django_db
def test_a_refused_submission_takes_no_number(users, building_permit, casablanca_world, draft):
    from permits.workflow import TransitionRefused

    with pytest.raises(TransitionRefused):
        submit(draft, users)  # no documents yet
    assert not ReferenceCounter.objects.exists()


# --- concurrency -----------------------------------------------------------------------------------


def in_thread(target, results: dict, key, *args) -> threading.Thread:
    """Run ``target`` in a thread with its own connection; store its result or exception under ``key``."""

    def run() -> None:
        try:
            results[key] = target(*args)
        except BaseException as exc:  # reported by the test
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_gap_free_numbers(users, building_permit, casablanca_world):
    drafts = [new_draft(users, building_permit, casablanca_world["flat"], n) for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    results: dict[int, object] = {}

    def file(dossier: Dossier) -> str:
        barrier.wait()
        return submit(dossier, users).reference

    threads = [in_thread(file, results, dossier.pk, dossier) for dossier in drafts]
    for thread in threads:
        thread.join()
    errors = [result for result in results.values() if isinstance(result, BaseException)]
    assert not errors, errors
    references = sorted(results.values())
    assert len(set(references)) == THREADS
    assert sorted(sequence(r) for r in references) == list(range(1, THREADS + 1))
    stored = dict(Dossier.objects.values_list("pk", "reference"))
    assert stored == results


@pytest.mark.django_db(transaction=True)
def test_a_number_rolled_back_under_contention_goes_to_the_next_submission(users, building_permit, casablanca_world):
    holder, *others = [new_draft(users, building_permit, casablanca_world["flat"], n) for n in range(THREADS)]
    taken, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def hold_then_roll_back() -> str:
        with transaction.atomic():
            reference = submit(holder, users).reference
            taken.set()
            release.wait()
            transaction.set_rollback(True)
        return reference

    holding = in_thread(hold_then_roll_back, results, "holder")
    taken.wait()
    threads = [in_thread(lambda d=dossier: submit(d, users).reference, results, dossier.pk) for dossier in others]
    # Let the others reach the counter row the holder keeps locked (or fail trying), then roll back.
    while waiting_on_locks() < len(others) and all(thread.is_alive() for thread in threads):
        time.sleep(0.01)
    queued = waiting_on_locks()
    release.set()
    for thread in [holding, *threads]:
        thread.join()
    assert queued == len(others)
    assert sequence(results.pop("holder")) == 1
    errors = [result for result in results.values() if isinstance(result, BaseException)]
    assert not errors, errors
    # The holder's number 1 went to one of the others: 1..7, no gap, no duplicate.
    assert sorted(sequence(r) for r in results.values()) == list(range(1, THREADS))
    holder.refresh_from_db()
    assert (holder.status, holder.reference) == (Status.DRAFT, None)
    assert submit(holder, users).reference.endswith(f"-{THREADS:05d}")
