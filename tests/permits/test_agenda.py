# ruff: noqa: F811 (the committee_world fixture is imported)
"""Agendas: booked dossiers ordered by legal deadline with their members, the PDF in French and Arabic,
sending it (issued document, member notifications, file marked sent) and the large-projects deadline."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import unicodedata
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from permits.agendas import AgendaRefused, agenda_build, agenda_pdf, agenda_send, members_deadline
from permits.committee_models import DossierMember, IssuedDocument, Session
from permits.committees import BookingForbidden, sessions_generate, slot_book
from permits.models import AuditRecord, Notification
from permits.roles import Role
from tests.permits.committee_world import MON_3_NOV, TOWER, accept, committee_world, new_dossier  # noqa: F401
from tests.permits.test_api import api, ok
from tests.permits.test_workflow import step

pytestmark = pytest.mark.django_db

TUE_11_NOV = date(2025, 11, 11)


@pytest.fixture
def session(committee_world) -> Session:
    small = committee_world["committees"]["small_projects"]
    sessions_generate(committee=small, start=MON_3_NOV, end=date(2025, 11, 28))
    return Session.objects.get(committee=small, date=TUE_11_NOV)


@pytest.fixture
def booked(committee_world, users, building_permit, session):
    """Three dossiers booked in the order C (scheduled last), A, B; their deadlines run from scheduling."""
    architect = users[Role.ARCHITECT]
    dossiers = {}
    for title, parcel, day in (
        ("C", "villa", date(2025, 11, 7)),
        ("A", "flat", MON_3_NOV),
        ("B", "villa", date(2025, 11, 5)),
    ):
        dossier = accept(new_dossier(users, building_permit, committee_world, parcel=parcel, title=title), users)
        slot_book(dossier=dossier, session=session, actor=architect, today=day)
        dossier.refresh_from_db()
        dossiers[title] = dossier
    return dossiers


def pdf_text(content: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "agenda.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return unicodedata.normalize("NFKC", text.decode())


def test_the_agenda_is_ordered_by_legal_deadline(booked, session):
    items = agenda_build(session=session)
    assert [item.dossier.title for item in items] == ["A", "B", "C"]
    assert [item.position for item in items] == [1, 2, 3]
    assert [item.booking.position for item in items] == [2, 3, 1]  # not the booking order
    assert items[0].due_on < items[1].due_on < items[2].due_on
    assert [item.starts_at.strftime("%H:%M") for item in items] == ["09:30", "09:50", "10:10"]  # 20 min each
    heritage = {line.organisation.code for line in items[0].members}
    assert "t-heritage" in heritage and "t-agency" in heritage  # A is in the heritage perimeter
    assert "t-heritage" not in {line.organisation.code for line in items[1].members}


def test_ties_are_ordered_by_reference(committee_world, users, building_permit, session):
    for title in ("X", "Y"):
        dossier = accept(new_dossier(users, building_permit, committee_world, title=title), users)
        slot_book(dossier=dossier, session=session, actor=users[Role.ARCHITECT], today=MON_3_NOV)
    items = agenda_build(session=session)
    references = [item.dossier.reference for item in items]
    assert references == sorted(references)


def test_the_agenda_pdf_lists_the_dossiers_in_french_and_arabic(booked, session, tmp_path):
    content = agenda_pdf(session=session)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content, tmp_path)
    french, _, arabic = text.partition("جدول أعمال")
    assert "Ordre du jour" in french and "11/11/2025" in french and "10:10" in french
    assert arabic, "the Arabic part is there"
    for dossier in booked.values():
        assert dossier.reference in french and dossier.reference in arabic
    assert (
        french.index(booked["A"].reference) < french.index(booked["B"].reference) < french.index(booked["C"].reference)
    )
    assert "Agence urbaine" in french and "Patrimoine" in french
    assert "الوكالة الحضرية" in arabic and "التراث" in arabic


def test_sending_the_agenda(booked, session, users, settings):
    settings.TAAMIR_PUBLIC_URL = "https://taamir.example.ma"
    with pytest.raises(BookingForbidden):
        agenda_send(session=session, actor=users[Role.ARCHITECT])
    document = agenda_send(session=session, actor=users[Role.DESK_AGENT], today=date(2025, 11, 7))
    assert document.kind == IssuedDocument.Kind.AGENDA and document.session == session
    with document.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == document.sha256
    assert len(document.verification_code) >= 16
    session.refresh_from_db()
    assert session.agenda_sent_at is not None
    members = DossierMember.objects.filter(dossier__in=booked.values())
    assert set(members.values_list("file_sent_on", flat=True)) == {date(2025, 11, 7)}
    messages = Notification.objects.filter(event="agenda_sent")
    recipients = set(messages.values_list("recipient__username", flat=True))
    assert recipients == {"m.t-commune", "m.t-prefecture", "m.t-agency", "m.t-heritage"}
    heritage = messages.get(recipient__username="m.t-heritage")
    assert f"https://taamir.example.ma/dossiers/{booked['A'].pk}/" in heritage.body
    assert f"/dossiers/{booked['B'].pk}/" not in heritage.body  # only the dossiers it sits on
    agency = messages.get(recipient__username="m.t-agency")
    assert all(f"/dossiers/{d.pk}/" in agency.body for d in booked.values())
    assert AuditRecord.objects.filter(action="session.agenda_sent").exists()
    again = agenda_send(session=session, actor=users[Role.DESK_AGENT], today=date(2025, 11, 10))
    assert again.replaces == document
    assert set(members.values_list("file_sent_on", flat=True)) == {date(2025, 11, 7)}  # first sending kept


def test_an_empty_agenda_is_not_sent(session, users):
    with pytest.raises(AgendaRefused):
        agenda_send(session=session, actor=users[Role.DESK_AGENT])


def test_the_large_project_deadline_to_reach_members(committee_world, users, building_permit):
    small = accept(new_dossier(users, building_permit, committee_world), users)
    assert members_deadline(dossier=small) is None  # small projects are examined at the session
    tower = accept(new_dossier(users, building_permit, committee_world, parcel="villa", figures=TOWER), users)
    state = members_deadline(dossier=tower, today=MON_3_NOV)
    # Accepted Monday 3 November 2025; three working days, Thursday 6 (Green March) skipped.
    assert (state.due_on, state.sent_on, state.state) == (date(2025, 11, 7), None, "pending")
    assert members_deadline(dossier=tower, today=date(2025, 11, 10)).state == "overdue"
    DossierMember.objects.filter(dossier=tower).update(file_sent_on=date(2025, 11, 7))
    assert members_deadline(dossier=tower, today=date(2025, 11, 10)).state == "sent"
    DossierMember.objects.filter(dossier=tower, organisation__code="t-civil").update(file_sent_on=date(2025, 11, 10))
    late = members_deadline(dossier=tower, today=date(2025, 11, 12))
    assert (late.sent_on, late.state) == (date(2025, 11, 10), "late")


# --- over the API and at the desk ----------------------------------------------------------------------


@pytest.fixture
def coming_booked(committee_world, users, building_permit) -> Session:
    """A session from tomorrow on with two dossiers booked (real dates)."""
    small = committee_world["committees"]["small_projects"]
    today = timezone.localdate()
    sessions_generate(committee=small, start=today + timedelta(days=1), end=today + timedelta(days=35))
    session = Session.objects.filter(committee=small).order_by("date").first()
    for title in ("P", "Q"):
        dossier = new_dossier(users, building_permit, committee_world, title=title)
        dossier = step(step(dossier, users, "submit"), users, "accept")
        slot_book(dossier=dossier, session=session, actor=users[Role.ARCHITECT])
    return session


def test_agendas_over_the_api(coming_booked, users):
    url = f"/api/sessions/{coming_booked.pk}/agenda/"
    assert api(users[Role.ARCHITECT]).get(url).status_code == 403
    assert api(users[Role.DESK_AGENT]).get("/api/sessions/999999/agenda/").status_code == 404
    items = ok(api(users[Role.COMMITTEE_MEMBER]).get(url))
    assert [item["title"] for item in items] == ["P", "Q"]
    assert {"t-agency", "t-heritage"} <= {m["organisation"] for m in items[0]["members"]}
    pdf = api(users[Role.DESK_AGENT]).get(f"/api/sessions/{coming_booked.pk}/agenda.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    send = f"/api/sessions/{coming_booked.pk}/agenda/send/"
    assert api(users[Role.ARCHITECT]).post(send).status_code == 403
    assert api(users[Role.COMMITTEE_MEMBER]).post(send).status_code == 403
    issued = ok(api(users[Role.DESK_AGENT]).post(send), 201)
    assert issued["kind"] == "agenda" and len(issued["sha256"]) == 64
    assert Notification.objects.filter(event="agenda_sent").count() == 4


def test_the_desk_session_page(coming_booked, users):
    desk = Client(HTTP_ACCEPT_LANGUAGE="en")
    desk.force_login(users[Role.DESK_AGENT])
    page = desk.get(reverse("permits:session_list")).content.decode()
    assert reverse("permits:session_agenda", args=[coming_booked.pk]) in page and "2 / 3" in page
    page = desk.get(reverse("permits:session_agenda", args=[coming_booked.pk])).content.decode()
    assert page.count('data-reference="') == 2 and "Send the agenda" in page
    pdf = desk.get(reverse("permits:session_agenda_pdf", args=[coming_booked.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    response = desk.post(reverse("permits:session_agenda_send", args=[coming_booked.pk]), follow=True)
    assert "The agenda is sent to every selected member." in response.content.decode()
    assert IssuedDocument.objects.filter(session=coming_booked, kind="agenda").count() == 1
    architect = Client()
    architect.force_login(users[Role.ARCHITECT])
    assert architect.get(reverse("permits:session_agenda", args=[coming_booked.pk])).status_code == 403


def test_the_desk_page_shows_the_send_to_members_deadline(committee_world, users, building_permit):
    tower = new_dossier(users, building_permit, committee_world, parcel="villa", figures=TOWER)
    tower = step(step(tower, users, "submit"), users, "accept")
    desk = Client(HTTP_ACCEPT_LANGUAGE="en")
    desk.force_login(users[Role.DESK_AGENT])
    page = desk.get(reverse("permits:desk_dossier", args=[tower.pk])).content.decode()
    assert 'data-members-deadline="pending"' in page and "To send to members" in page
    assert 'data-organisation="t-civil"' in page and "Height above 15.50 m" in page
