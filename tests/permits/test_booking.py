# ruff: noqa: F811 (the committee_world fixture is imported)
"""Slot booking: the right committee's future planned sessions only, the lowest free position, a real race
for the last place (threads, each with its own connection), moves and cancellations within the rules."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from permits.committee_models import Booking, DossierMember, Session, SessionStatus
from permits.committees import (
    BookingForbidden,
    BookingRefused,
    SessionFull,
    booking_active,
    sessions_free_for_dossier,
    sessions_generate,
    slot_book,
    slot_cancel,
    slot_move,
)
from permits.models import AuditRecord, Dossier, DossierEvent, Status
from permits.receipts import receipt_context
from permits.roles import Role
from permits.workflow import TransitionRefused
from tests.permits.committee_world import MON_3_NOV, accept, committee_world, new_dossier  # noqa: F401
from tests.permits.test_api import api, ok
from tests.permits.test_workflow import step

TUE_4_NOV, TUE_11_NOV, THU_13_NOV = date(2025, 11, 4), date(2025, 11, 11), date(2025, 11, 13)


@pytest.fixture(autouse=True)
def english():
    """Refusals are checked by their English text."""
    with translation.override("en"):
        yield


@pytest.fixture
def sessions(committee_world) -> dict[date, Session]:
    small = committee_world["committees"]["small_projects"]
    sessions_generate(committee=small, start=MON_3_NOV, end=date(2025, 11, 28))
    return {s.date: s for s in Session.objects.filter(committee=small)}


@pytest.fixture
def accepted(db, committee_world, users, building_permit) -> Dossier:
    return accept(new_dossier(users, building_permit, committee_world), users)


def book(dossier, session, user, today=MON_3_NOV):
    return slot_book(dossier=dossier, session=session, actor=user, today=today)


@pytest.mark.django_db
def test_the_architect_books_the_lowest_free_slot(accepted, sessions, users):
    booking = book(accepted, sessions[TUE_11_NOV], users[Role.ARCHITECT])
    assert (booking.session.date, booking.position) == (TUE_11_NOV, 1)
    accepted.refresh_from_db()
    assert (accepted.status, accepted.session_date) == (Status.SCHEDULED, TUE_11_NOV)
    # The receipt prints the committee date once the dossier is scheduled.
    assert receipt_context(dossier=accepted)["dossier"].session_date == TUE_11_NOV
    assert AuditRecord.objects.filter(action="dossier.schedule", dossier_id=accepted.pk).exists()


@pytest.mark.django_db
def test_free_sessions_for_the_architect(accepted, sessions, users, building_permit, committee_world):
    free = sessions_free_for_dossier(dossier=accepted, today=MON_3_NOV)
    assert [s.date for s in free][:3] == [TUE_4_NOV, TUE_11_NOV, THU_13_NOV]
    assert free[1].free == 3
    sessions[THU_13_NOV].status = SessionStatus.CLOSED
    sessions[THU_13_NOV].save()
    for _ in range(3):
        other = accept(new_dossier(users, building_permit, committee_world), users)
        book(other, sessions[TUE_11_NOV], users[Role.ARCHITECT])
    dates = [s.date for s in sessions_free_for_dossier(dossier=accepted, today=date(2025, 11, 5))]
    assert TUE_11_NOV not in dates and THU_13_NOV not in dates and TUE_4_NOV not in dates
    assert dates[0] == date(2025, 11, 20)


@pytest.mark.django_db
def test_booking_rules(accepted, sessions, users, committee_world):
    architect = users[Role.ARCHITECT]
    large = committee_world["committees"]["large_projects"]
    wednesday = Session.objects.create(
        committee=large, date=date(2025, 11, 12), start_time=large.start_time, capacity=2, minutes_per_dossier=20
    )
    with pytest.raises(BookingRefused, match="not one of the committee"):
        book(accepted, wednesday, architect)
    with pytest.raises(BookingRefused, match="already taken place"):
        book(accepted, sessions[TUE_4_NOV], architect, today=date(2025, 11, 5))
    sessions[THU_13_NOV].status = SessionStatus.CLOSED
    sessions[THU_13_NOV].save()
    with pytest.raises(BookingRefused, match="no longer open"):
        book(accepted, sessions[THU_13_NOV], architect)
    with pytest.raises(BookingForbidden):
        book(accepted, sessions[TUE_11_NOV], users["other_architect"])
    book(accepted, sessions[TUE_11_NOV], architect)
    with pytest.raises(BookingRefused):  # the dossier is scheduled now: move, don't book twice
        book(accepted, sessions[date(2025, 11, 20)], architect)
    assert Booking.objects.filter(dossier=accepted).count() == 1


@pytest.mark.django_db
def test_a_draft_cannot_book(committee_world, users, building_permit, sessions):
    dossier = new_dossier(users, building_permit, committee_world)
    with pytest.raises(BookingRefused):
        book(dossier, sessions[TUE_11_NOV], users[Role.ARCHITECT])
    assert not Booking.objects.filter(dossier=dossier).exists()


@pytest.mark.django_db
def test_a_full_session_says_so(accepted, sessions, users, building_permit, committee_world):
    session = sessions[TUE_11_NOV]
    for _ in range(session.capacity):
        book(accept(new_dossier(users, building_permit, committee_world), users), session, users[Role.ARCHITECT])
    with pytest.raises(SessionFull, match="full"):
        book(accepted, session, users[Role.ARCHITECT])
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED


@pytest.mark.django_db
def test_the_database_refuses_two_active_bookings_of_one_slot(
    accepted, sessions, users, building_permit, committee_world
):
    other = accept(new_dossier(users, building_permit, committee_world), users)
    session = sessions[TUE_11_NOV]
    Booking.objects.create(session=session, position=1, dossier=accepted, booked_by=users[Role.ARCHITECT])
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(session=session, position=1, dossier=other, booked_by=users[Role.ARCHITECT])


@pytest.mark.django_db(transaction=True)
def test_two_architects_racing_for_the_last_place(committee_world, users, building_permit, sessions):
    session = sessions[TUE_11_NOV]
    session.capacity = 2
    session.save()
    first = accept(new_dossier(users, building_permit, committee_world), users)
    book(first, session, users[Role.ARCHITECT])
    racers = [accept(new_dossier(users, building_permit, committee_world, title=f"R{i}"), users) for i in range(2)]
    barrier = threading.Barrier(len(racers))
    outcomes: dict[int, object] = {}

    def race(dossier: Dossier) -> None:
        try:
            barrier.wait()
            with translation.override("en"):
                outcomes[dossier.pk] = book(dossier, session, users[Role.ARCHITECT])
        except Exception as exc:
            outcomes[dossier.pk] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(dossier,)) for dossier in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [o for o in outcomes.values() if isinstance(o, Booking)]
    lost = [o for o in outcomes.values() if not isinstance(o, Booking)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], SessionFull) and "full" in str(lost[0])
    assert won[0].position == 2
    active = Booking.objects.filter(session=session, cancelled_at__isnull=True)
    assert sorted(active.values_list("position", flat=True)) == [1, 2]
    statuses = sorted(Dossier.objects.filter(pk__in=[d.pk for d in racers]).values_list("status", flat=True))
    assert statuses == [Status.ACCEPTED, Status.SCHEDULED]


@pytest.mark.django_db
def test_move_keeps_the_dossier_scheduled(accepted, sessions, users):
    architect = users[Role.ARCHITECT]
    book(accepted, sessions[TUE_11_NOV], architect)
    moved = slot_move(dossier=accepted, session=sessions[THU_13_NOV], actor=architect, today=MON_3_NOV)
    accepted.refresh_from_db()
    assert (accepted.status, accepted.session_date) == (Status.SCHEDULED, THU_13_NOV)
    assert booking_active(dossier=accepted) == moved and moved.position == 1
    assert Booking.objects.filter(dossier=accepted, cancelled_at__isnull=False).count() == 1
    assert DossierEvent.objects.filter(dossier=accepted, kind="booking_moved").exists()
    assert AuditRecord.objects.filter(action="dossier.booking_moved", dossier_id=accepted.pk).exists()
    with pytest.raises(BookingRefused, match="already booked in this session"):
        slot_move(dossier=accepted, session=sessions[THU_13_NOV], actor=architect, today=MON_3_NOV)
    with pytest.raises(BookingForbidden):
        slot_move(dossier=accepted, session=sessions[TUE_11_NOV], actor=users["other_architect"], today=MON_3_NOV)


@pytest.mark.django_db
def test_move_to_a_full_session_keeps_the_old_slot(accepted, sessions, users, building_permit, committee_world):
    architect = users[Role.ARCHITECT]
    book(accepted, sessions[TUE_11_NOV], architect)
    full = sessions[THU_13_NOV]
    for _ in range(full.capacity):
        book(accept(new_dossier(users, building_permit, committee_world), users), full, architect)
    with pytest.raises(SessionFull):
        slot_move(dossier=accepted, session=full, actor=architect, today=MON_3_NOV)
    assert booking_active(dossier=accepted).session == sessions[TUE_11_NOV]


@pytest.mark.django_db
def test_cancel_frees_the_slot_in_the_first_round_only(accepted, sessions, users):
    architect = users[Role.ARCHITECT]
    book(accepted, sessions[TUE_11_NOV], architect)
    slot_cancel(dossier=accepted, actor=architect, today=MON_3_NOV)
    accepted.refresh_from_db()
    assert (accepted.status, accepted.session_date, booking_active(dossier=accepted)) == (Status.ACCEPTED, None, None)
    again = book(accepted, sessions[TUE_11_NOV], architect)
    assert again.position == 1  # the cancelled slot is free again
    with pytest.raises(BookingRefused, match="already taken place"):
        slot_cancel(dossier=accepted, actor=architect, today=TUE_11_NOV)


@pytest.mark.django_db
def test_a_resubmitted_dossier_moves_but_does_not_cancel(accepted, sessions, users):
    architect = users[Role.ARCHITECT]
    with pytest.raises(BookingRefused, match="no slot"):
        slot_cancel(dossier=accepted, actor=architect, today=MON_3_NOV)
    book(accepted, sessions[TUE_11_NOV], architect)
    for action in ("start_review", "request_changes", "resubmit"):
        accepted = step(accepted, users, action)
    assert accepted.review_round == 2
    # The first round's booking was examined: booking the next round retires it.
    book(accepted, sessions[THU_13_NOV], architect)
    assert Booking.objects.filter(dossier=accepted, cancelled_at__isnull=False).count() == 1
    with pytest.raises(TransitionRefused, match="keeps its place"):
        slot_cancel(dossier=accepted, actor=architect, today=MON_3_NOV)
    moved = slot_move(dossier=accepted, session=sessions[date(2025, 11, 20)], actor=architect, today=MON_3_NOV)
    assert moved.session.date == date(2025, 11, 20)


@pytest.mark.django_db(transaction=True)
def test_a_slot_read_as_free_is_lost_to_an_uncommitted_booking(committee_world, users, building_permit, sessions):
    """The loser read the last place as free, so only the unique constraint can stop it: it waits for the
    winner's transaction, gets the violation, finds no other place and answers "full"."""
    session = sessions[TUE_11_NOV]
    session.capacity = 1
    session.save()
    winner, loser = (accept(new_dossier(users, building_permit, committee_world, title=t), users) for t in "WL")
    outcome: list[object] = []

    def late_booking() -> None:
        try:
            with translation.override("en"):
                outcome.append(book(loser, session, users[Role.ARCHITECT]))
        except Exception as exc:  # the outcome is what the test checks
            outcome.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        Booking.objects.create(session=session, position=1, dossier=winner, booked_by=users[Role.ARCHITECT])
        thread = threading.Thread(target=late_booking)
        thread.start()
        with connection.cursor() as cursor:  # wait until the loser is blocked on the slot's unique index
            waiting = 0
            while not waiting and thread.is_alive():
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                waiting = cursor.fetchone()[0]
        assert waiting, outcome
    thread.join()
    assert len(outcome) == 1 and isinstance(outcome[0], SessionFull), outcome
    assert list(Booking.objects.filter(session=session).values_list("dossier_id", flat=True)) == [winner.pk]
    loser.refresh_from_db()
    assert loser.status == Status.ACCEPTED


# --- over the API and in the browser (real dates: sessions from tomorrow on) ---------------------------


@pytest.fixture
def coming(committee_world) -> list[Session]:
    small = committee_world["committees"]["small_projects"]
    today = timezone.localdate()
    sessions_generate(committee=small, start=today + timedelta(days=1), end=today + timedelta(days=35))
    return list(Session.objects.filter(committee=small).order_by("date"))


@pytest.fixture
def accepted_now(committee_world, users, building_permit) -> Dossier:
    dossier = new_dossier(users, building_permit, committee_world)
    return step(step(dossier, users, "submit"), users, "accept")


@pytest.mark.django_db
def test_committees_and_free_places_over_the_api(coming, users, accepted_now):
    assert api().get("/api/committees/").status_code in {401, 403}
    client = api(users[Role.ARCHITECT])
    codes = {c["code"] for c in ok(client.get("/api/committees/"))}
    assert {"t-small_projects", "t-large_projects"} <= codes
    first, last = coming[0].date.isoformat(), coming[2].date.isoformat()
    listed = ok(client.get(f"/api/committees/t-small_projects/sessions/?from={first}&to={last}"))
    assert [s["date"] for s in listed] == [s.date.isoformat() for s in coming[:3]]
    assert listed[0]["free"] == 3 and listed[0]["booked"] == 0
    assert client.get("/api/committees/nope/sessions/").status_code == 404
    assert client.get("/api/committees/t-small_projects/sessions/?from=yesterday").status_code == 400


@pytest.mark.django_db
def test_book_move_and_cancel_over_the_api(coming, users, accepted_now):
    url = f"/api/dossiers/{accepted_now.pk}/booking/"
    assert api(users["other_architect"]).post(url, {"session": coming[0].pk}, format="json").status_code == 404
    client = api(users[Role.ARCHITECT])
    booked = ok(client.post(url, {"session": coming[0].pk}, format="json"), 201)
    assert (booked["date"], booked["position"]) == (coming[0].date.isoformat(), 1)
    assert ok(client.get(url))["session"] == coming[0].pk
    moved = ok(client.post(url, {"session": coming[1].pk}, format="json"))
    assert moved["date"] == coming[1].date.isoformat()
    accepted_now.refresh_from_db()
    assert (accepted_now.status, accepted_now.session_date) == (Status.SCHEDULED, coming[1].date)
    assert client.post(url, {"session": 999999}, format="json").status_code == 404
    assert client.delete(url).status_code == 204
    accepted_now.refresh_from_db()
    assert accepted_now.status == Status.ACCEPTED
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_full_session_is_409_over_the_api(coming, users, accepted_now, building_permit, committee_world):
    session = coming[0]
    for _ in range(session.capacity):
        slot_book(dossier=accept_now(users, building_permit, committee_world), session=session,
                  actor=users[Role.ARCHITECT])  # fmt: skip
    response = api(users[Role.ARCHITECT]).post(
        f"/api/dossiers/{accepted_now.pk}/booking/", {"session": session.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["type"] == "urn:taamir:problem:session-full"


def accept_now(users, procedure, world) -> Dossier:
    return step(step(new_dossier(users, procedure, world), users, "submit"), users, "accept")


@pytest.mark.django_db
def test_members_over_the_api(users, accepted_now, committee_world):
    url = f"/api/dossiers/{accepted_now.pk}/members/"
    assert api(users["other_architect"]).get(url).status_code == 404
    members = ok(api(users[Role.ARCHITECT]).get(url))
    heritage = next(m for m in members if m["organisation"] == "t-heritage")
    assert heritage["reason"] == "Site in a heritage perimeter" and not heritage["permanent"]
    invite = {"organisation": "t-airport", "reason": "Grue de chantier"}
    assert api(users[Role.ARCHITECT]).post(url, invite, format="json").status_code == 403
    members = ok(api(users[Role.DESK_AGENT]).post(url, invite, format="json"), 201)
    airport = next(m for m in members if m["organisation"] == "t-airport")
    assert airport["consultative"] and airport["reason"] == "Grue de chantier"
    assert api(users[Role.DESK_AGENT]).post(url, {"organisation": "t-civil"}, format="json").status_code == 400


@pytest.mark.django_db
def test_the_architect_books_on_the_dossier_page(coming, users, accepted_now):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users[Role.ARCHITECT])
    page = client.get(reverse("permits:dossier", args=[accepted_now.pk])).content.decode()
    assert 'id="booking"' in page and "Book a committee slot" in page and "3 free places" in page
    response = client.post(reverse("permits:booking_set", args=[accepted_now.pk]), {"session": coming[1].pk},
                           follow=True)  # fmt: skip
    assert "Your slot is booked for" in response.content.decode()
    page = client.get(reverse("permits:dossier", args=[accepted_now.pk])).content.decode()
    assert f'data-booking-date="{coming[1].date.isoformat()}"' in page and "Move the slot" in page
    client.post(reverse("permits:booking_set", args=[accepted_now.pk]), {"session": coming[2].pk})
    accepted_now.refresh_from_db()
    assert accepted_now.session_date == coming[2].date
    client.post(reverse("permits:booking_cancel", args=[accepted_now.pk]))
    accepted_now.refresh_from_db()
    assert accepted_now.status == Status.ACCEPTED
    other = Client()
    other.force_login(users["other_architect"])
    assert (
        other.post(reverse("permits:booking_set", args=[accepted_now.pk]), {"session": coming[1].pk}).status_code == 404
    )


@pytest.mark.django_db
def test_the_desk_sees_members_and_invites(users, accepted_now):
    desk = Client(HTTP_ACCEPT_LANGUAGE="en")
    desk.force_login(users[Role.DESK_AGENT])
    page = desk.get(reverse("permits:desk_dossier", args=[accepted_now.pk])).content.decode()
    assert 'data-organisation="t-heritage"' in page and "Site in a heritage perimeter" in page
    assert "Permanent member of the committee" in page
    desk.post(reverse("permits:member_invite", args=[accepted_now.pk]), {"organisation": "t-airport", "reason": "Grue"})
    assert DossierMember.objects.filter(
        dossier=accepted_now, organisation__code="t-airport", consultative=True
    ).exists()
    architect = Client()
    architect.force_login(users[Role.ARCHITECT])
    url = reverse("permits:member_invite", args=[accepted_now.pk])
    assert architect.post(url, {"organisation": "t-civil", "reason": "x"}).status_code == 403
