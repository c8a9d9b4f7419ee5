"""The demo's committees: ``seed_demo`` loads them, gives each organisation a member account and walks the
demo dossiers through selection, booking, sessions, opinions, minutes and decisions; a second run
creates nothing.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.utils import timezone

from etl.demo import DEMO_PASSWORD as ETL_DEMO_PASSWORD
from geo.models import AuthorisedWork
from permits import demo
from permits.models import (
    Attendance,
    Booking,
    Committee,
    CommitteeKind,
    Dossier,
    DossierMember,
    IssuedDocument,
    Opinion,
    Organisation,
    Remark,
    Session,
    SessionStatus,
    Status,
    Verdict,
)
from permits.roles import Role

pytestmark = pytest.mark.django_db

COMMUNE = demo.DEMO_COMMUNE_CODE


@pytest.fixture
def seeded(settings):
    settings.TAAMIR_SMS_BACKEND = "permits.sms.OutboxBackend"
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def record_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            get_user_model(),
            Organisation,
            Committee,
            Session,
            Booking,
            DossierMember,
            Opinion,
            Remark,
            Attendance,
            IssuedDocument,
            Dossier,
        )
    )


def test_seed_demo_creates_the_committees_and_their_members_and_a_second_run_nothing(seeded):
    assert demo.DEMO_PASSWORD == ETL_DEMO_PASSWORD
    committees = {c.kind: c for c in Committee.objects.filter(commune__code=COMMUNE)}
    assert set(committees) == set(CommitteeKind.values) - {CommitteeKind.BY_CLASSIFICATION}
    assert {c.president.username for c in committees.values()} == {demo.PRESIDENT}
    large = committees[CommitteeKind.LARGE_PROJECTS]
    assert set(large.permanent_organisations.values_list("kind", flat=True)) == {
        "commune",
        "prefecture",
        "urban_agency",
    }
    # demo.member sits for the urban agency; every other organisation has its own member account.
    agency = Organisation.objects.get(code=demo.URBAN_AGENCY)
    assert list(agency.members.values_list("username", flat=True)) == [demo.URBAN_AGENCY_MEMBER]
    for organisation in Organisation.objects.all():
        assert organisation.members.exists(), organisation.code
    for member in demo.MEMBERS:
        user = authenticate(username=member.username, password=demo.DEMO_PASSWORD)
        assert user is not None, member.username
        assert user.groups.filter(name=Role.COMMITTEE_MEMBER).exists()
    assert "demo.civil-protection" in seeded and "protection-civile-casablanca" in seeded
    assert seeded.strip().splitlines()[-1].startswith("Demo ready:")

    before = record_counts()
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip().splitlines()[-1].startswith("Demo already complete: nothing changed")
    assert record_counts() == before
    again = demo.demo_committees_build()
    assert not again.changed


def test_the_demo_dossiers_went_through_the_committees(seeded):
    dossiers = {d.title: d for d in Dossier.objects.filter(commune__code=COMMUNE)}
    # Members were selected on acceptance, each with the reason that brought it in.
    subdivision = dossiers["Lotissement Al Wifaq (24 lots)"]
    members = {m.organisation.code: m for m in subdivision.members.select_related("organisation")}
    assert members["ancfcc"].rule_code == "subdivision" and not members["ancfcc"].permanent
    assert members[demo.URBAN_AGENCY].permanent
    # Every opinion was given by a member of its organisation, for a selected organisation.
    for opinion in Opinion.objects.select_related("organisation", "author"):
        assert opinion.organisation.members.filter(pk=opinion.author_id).exists()
        assert DossierMember.objects.filter(dossier=opinion.dossier, organisation=opinion.organisation).exists()
    # Every closed session has its minutes; the scheduled dossier waits for a session ahead.
    closed = Session.objects.filter(committee__commune__code=COMMUNE, status=SessionStatus.CLOSED)
    assert closed.count() >= 5
    for session in closed:
        assert session.documents.filter(kind=IssuedDocument.Kind.MINUTES).exists(), session
        assert session.attendance.exists()
    scheduled = dossiers["Surélévation d'un étage (R+2)"]
    assert scheduled.status == Status.SCHEDULED
    assert Booking.objects.get(dossier=scheduled, cancelled_at=None).session.date > timezone.localdate()
    # The binding unfavourable opinion of the urban agency, invited by the desk where it does not sit.
    billboard = dossiers["Panneau publicitaire 4 × 3 m sur pied"]
    assert billboard.status == Status.UNFAVOURABLE
    invited = billboard.members.get(organisation__code=demo.URBAN_AGENCY)
    assert invited.consultative and not invited.permanent
    assert billboard.opinions.get(organisation__code=demo.URBAN_AGENCY).verdict == Verdict.UNFAVOURABLE
    assert billboard.members.get(organisation__code="monuments-historiques-casablanca").rule_code == "heritage-zone"
    # In the heritage perimeter, the heritage authority's reservations became the permit's conditions.
    restoration = dossiers["Restauration d'une maison traditionnelle (R+1)"]
    assert restoration.status == Status.ISSUED
    heritage = restoration.opinions.get(organisation__code="monuments-historiques-casablanca")
    assert heritage.verdict == Verdict.RESERVATIONS and "noyau ancien" in heritage.remark_items.get().text
    # Changes requested: the remarks were answered before the revised plans came.
    resubmitted = dossiers["Villa R+1 avec piscine"]
    remarks = Remark.objects.filter(opinion__dossier=resubmitted)
    assert remarks.exists() and not remarks.filter(answer="").exists()
    # Issued and refused dossiers carry their decision; permits became authorised works.
    for title in ("Maison R+1 — lot 7", "Entrepôt commercial de 900 m²", "Tranchée de fibre optique, avenue centrale"):
        assert dossiers[title].issued_documents.filter(kind=IssuedDocument.Kind.DECISION).exists(), title
    assert AuthorisedWork.objects.filter(reference=dossiers["Maison R+1 — lot 7"].reference).exists()
    # A month of sessions ahead, for every committee.
    horizon = timezone.localdate() + timedelta(days=28)
    for committee in Committee.objects.filter(commune__code=COMMUNE):
        assert committee.sessions.filter(date__gt=timezone.localdate(), date__lte=horizon).exists(), committee.code


def test_reset_removes_the_committees_record_and_rebuilds_it(seeded):
    out = io.StringIO()
    call_command("seed_demo", "--reset", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip().splitlines()[-1].startswith("Demo ready:")
    assert Committee.objects.filter(commune__code=COMMUNE).count() == 4
    assert Dossier.objects.filter(commune__code=COMMUNE).count() == len(demo.DOSSIERS)
    assert not IssuedDocument.objects.filter(dossier__isnull=True, session__isnull=True).exists()
