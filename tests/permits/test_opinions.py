"""Opinions, consolidation and the remarks loop (permits.opinions).

The fixtures build their own committee: an urban agency (binding), the commune and civil protection,
each with one member account, a small-projects committee with a session, and a dossier booked in it
with the three organisations selected. Every status change goes through ``dossier_transition``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from permits.deadlines import WorkingCalendar
from permits.models import (
    Attendance,
    AuditRecord,
    Booking,
    ClockStop,
    Committee,
    CompletenessReview,
    Dossier,
    DossierMember,
    Opinion,
    Organisation,
    Remark,
    Session,
    SessionStatus,
    Status,
    Verdict,
)
from permits.opinions import (
    Conclusion,
    OpinionForbidden,
    OpinionRefused,
    opinion_record,
    opinions_visible_to,
    outcome_consolidate,
    remark_answer,
    remark_resolve,
    session_close,
    session_open,
)
from permits.roles import Role
from permits.workflow import dossier_transition
from tests.permits.conftest import make_user, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """Refusals are compared in English; the PDFs render their French and Arabic parts whatever the language."""
    with translation.override("en"):
        yield


@dataclass
class World:
    dossier: Dossier
    session: Session
    committee: Committee
    agency: Organisation
    commune: Organisation
    civil: Organisation
    members: dict[str, User]
    president: User


def organisation(code: str, kind: str, name_fr: str, name_ar: str, *, binding: bool = False) -> Organisation:
    return Organisation.objects.create(
        code=code, kind=kind, name_fr=name_fr, name_ar=name_ar, name_en=name_fr, binding_opinion=binding
    )


def new_session(committee: Committee, after_days: int) -> Session:
    day = WorkingCalendar().add_working_days(timezone.localdate(), after_days)
    return Session.objects.create(
        committee=committee, date=day, start_time=time(9, 0), capacity=10, minutes_per_dossier=20
    )


def book(dossier: Dossier, session: Session, actor) -> None:
    Booking.objects.filter(dossier=dossier, cancelled_at__isnull=True).update(cancelled_at=timezone.now())
    position = Booking.objects.filter(session=session, cancelled_at__isnull=True).count() + 1
    Booking.objects.create(session=session, position=position, dossier=dossier, booked_by=actor)
    dossier_transition(dossier=dossier, action="schedule", actor=actor, data={"session_date": session.date})


@pytest.fixture
def world(complete_draft, users) -> World:
    """A dossier scheduled in a session of a committee with three selected organisations."""
    agency = organisation("t-agency", "urban_agency", "Agence urbaine de Casablanca", "الوكالة الحضرية للدار البيضاء",
                          binding=True)  # fmt: skip
    commune = organisation("t-commune", "commune", "Commune de Casablanca", "جماعة الدار البيضاء")
    civil = organisation("t-civil", "civil_protection", "Protection civile", "الوقاية المدنية")
    members = {}
    for org in (agency, commune, civil):
        member = make_user(f"m.{org.code}", Role.COMMITTEE_MEMBER)
        org.members.add(member)
        members[org.code] = member
    president = users[Role.COMMITTEE_PRESIDENT]
    committee = Committee.objects.create(
        code="t-pp", name_fr="Commission des petits projets", name_ar="لجنة المشاريع الصغرى", name_en="Small projects",
        kind="small_projects", commune=complete_draft.commune, president=president, weekdays=[1, 3],
        start_time=time(9, 0), capacity=10, minutes_per_dossier=20,
    )  # fmt: skip
    committee.permanent_organisations.add(agency, commune)
    session = new_session(committee, 2)
    dossier = complete_draft
    dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])
    for item in dossier.procedure.checklist.filter(kind="main"):
        CompletenessReview.objects.create(
            dossier=dossier, checklist_item=item, verdict="present", reviewed_by=users[Role.DESK_AGENT]
        )
    dossier_transition(dossier=dossier, action="accept", actor=users[Role.DESK_AGENT])
    # Only this fixture's organisations: whatever the automatic selection brought in is set aside.
    DossierMember.objects.filter(dossier=dossier).exclude(organisation__in=[agency, commune, civil]).delete()
    for org, permanent in ((agency, True), (commune, True), (civil, False)):
        DossierMember.objects.get_or_create(
            dossier=dossier, organisation=org, defaults={"permanent": permanent, "reason": "test"}
        )
    book(dossier, session, users[Role.DESK_AGENT])
    dossier.refresh_from_db()
    return World(dossier, session, committee, agency, commune, civil, members, president)


def give(world: World, org: Organisation, verdict: str, *remarks: str) -> Opinion:
    return opinion_record(
        dossier=world.dossier, organisation=org, author=world.members[org.code], verdict=verdict,
        remark_items=list(remarks), session=world.session,
    )  # fmt: skip


# --- opinions ------------------------------------------------------------------------------------------


def test_an_opinion_is_recorded_with_its_remarks_and_audited(world):
    opinion = give(world, world.civil, Verdict.RESERVATIONS, "Prévoir un extincteur par niveau.", "  ")
    assert opinion.review_round == 1 and opinion.session == world.session
    assert [r.text for r in opinion.remark_items.all()] == ["Prévoir un extincteur par niveau."]
    assert AuditRecord.objects.filter(action="opinion.record", dossier_id=world.dossier.pk).exists()


def test_one_opinion_per_organisation_per_round(world):
    give(world, world.commune, Verdict.FAVOURABLE)
    with pytest.raises(OpinionRefused, match="already given its opinion"):
        give(world, world.commune, Verdict.UNFAVOURABLE, "Non.")
    assert Opinion.objects.filter(dossier=world.dossier).count() == 1


def test_a_non_member_cannot_give_an_organisations_opinion(world, users):
    with pytest.raises(OpinionForbidden, match="Only a member of"):
        opinion_record(dossier=world.dossier, organisation=world.agency, author=world.members["t-commune"],
                       verdict=Verdict.FAVOURABLE)  # fmt: skip
    with pytest.raises(OpinionForbidden, match="Only a member of"):
        opinion_record(dossier=world.dossier, organisation=world.agency, author=users[Role.COMMITTEE_PRESIDENT],
                       verdict=Verdict.FAVOURABLE)  # fmt: skip


def test_an_organisation_not_selected_cannot_give_an_opinion(world):
    roads = organisation("t-roads", "roads", "Routes", "الطرق")
    roads.members.add(world.members["t-civil"])
    with pytest.raises(OpinionForbidden, match="not a member of the committee"):
        opinion_record(dossier=world.dossier, organisation=roads, author=world.members["t-civil"],
                       verdict=Verdict.FAVOURABLE)  # fmt: skip


def test_an_unfavourable_opinion_needs_a_remark(world):
    with pytest.raises(OpinionRefused, match="at least one remark"):
        give(world, world.civil, Verdict.UNFAVOURABLE)


def test_no_opinion_on_a_dossier_that_is_not_in_review(world, users):
    dossier_transition(dossier=world.dossier, action="withdraw", actor=users[Role.ARCHITECT])
    with pytest.raises(OpinionRefused, match="scheduled or under review"):
        give(world, world.commune, Verdict.FAVOURABLE)


def test_opinions_are_hidden_from_members_until_their_own_is_given(world, users):
    give(world, world.agency, Verdict.FAVOURABLE)
    commune_member = world.members["t-commune"]
    assert list(opinions_visible_to(dossier=world.dossier, user=commune_member)) == []
    give(world, world.commune, Verdict.FAVOURABLE)
    assert {o.organisation.code for o in opinions_visible_to(dossier=world.dossier, user=commune_member)} == {
        "t-agency", "t-commune",
    }  # fmt: skip
    # The president and the desk see everything; someone from no selected organisation sees nothing.
    assert opinions_visible_to(dossier=world.dossier, user=world.president).count() == 2
    assert opinions_visible_to(dossier=world.dossier, user=users[Role.DESK_AGENT]).count() == 2
    assert opinions_visible_to(dossier=world.dossier, user=users[Role.COMMITTEE_MEMBER]).count() == 0
    assert opinions_visible_to(dossier=world.dossier, user=users[Role.ARCHITECT]).count() == 0


# --- consolidation -------------------------------------------------------------------------------------


def test_a_binding_unfavourable_opinion_makes_the_outcome_unfavourable(world):
    give(world, world.agency, Verdict.UNFAVOURABLE, "Le COS dépasse 1,2.")
    give(world, world.commune, Verdict.FAVOURABLE)
    give(world, world.civil, Verdict.FAVOURABLE)
    outcome = outcome_consolidate(dossier=world.dossier)
    assert outcome.verdict == Conclusion.UNFAVOURABLE
    assert outcome.reasons[0] == "Binding unfavourable opinion of Agence urbaine de Casablanca."
    assert "Le COS dépasse 1,2." in outcome.reasons


def test_without_the_binding_opinion_the_committee_cannot_conclude(world):
    give(world, world.commune, Verdict.FAVOURABLE)
    outcome = outcome_consolidate(dossier=world.dossier)
    assert outcome.verdict == Conclusion.INCOMPLETE and not outcome.concluded
    assert world.agency in outcome.missing and world.civil in outcome.missing
    assert "Agence urbaine de Casablanca" in outcome.reasons[0]


def test_a_non_binding_unfavourable_opinion_requests_changes_with_its_remarks(world):
    give(world, world.agency, Verdict.FAVOURABLE)
    give(world, world.civil, Verdict.UNFAVOURABLE, "Escalier de secours absent.")
    outcome = outcome_consolidate(dossier=world.dossier)
    assert outcome.verdict == Conclusion.CHANGES_REQUESTED
    assert outcome.remarks == ["Protection civile: Escalier de secours absent."]
    assert "Protection civile" in outcome.reasons[0]


def test_reservations_give_a_favourable_outcome_with_conditions(world):
    give(world, world.agency, Verdict.FAVOURABLE)
    give(world, world.commune, Verdict.NOT_CONCERNED)
    give(world, world.civil, Verdict.RESERVATIONS, "Extincteur par niveau.")
    outcome = outcome_consolidate(dossier=world.dossier)
    assert outcome.verdict == Conclusion.RESERVATIONS
    assert outcome.conditions == ["Protection civile: Extincteur par niveau."]
    assert outcome.comply_within_days == 5


def test_favourable_when_every_opinion_is_favourable_and_not_concerned_is_ignored(world):
    give(world, world.agency, Verdict.FAVOURABLE)
    give(world, world.civil, Verdict.NOT_CONCERNED)
    outcome = outcome_consolidate(dossier=world.dossier)
    assert outcome.verdict == Conclusion.FAVOURABLE
    assert outcome.missing == [world.commune]


# --- sessions ------------------------------------------------------------------------------------------


def test_only_the_president_opens_and_closes_a_session(world):
    with pytest.raises(OpinionForbidden):
        session_open(session=world.session, actor=world.members["t-agency"])
    with pytest.raises(OpinionForbidden):
        session_close(session=world.session, actor=world.members["t-agency"])


def test_closing_applies_the_binding_unfavourable_outcome(world):
    session_open(session=world.session, actor=world.president)
    world.dossier.refresh_from_db()
    assert world.dossier.status == Status.UNDER_REVIEW
    give(world, world.agency, Verdict.UNFAVOURABLE, "Hauteur supérieure au plan d'aménagement.")
    give(world, world.commune, Verdict.FAVOURABLE)
    result = session_close(session=world.session, actor=world.president)
    world.dossier.refresh_from_db()
    assert world.dossier.status == Status.UNFAVOURABLE
    event = world.dossier.events.get(to_status=Status.UNFAVOURABLE)
    assert "Binding unfavourable opinion of Agence urbaine de Casablanca." in event.message
    assert result.session.status == SessionStatus.CLOSED and result.session.closed_at
    assert set(Attendance.objects.filter(session=world.session).values_list("organisation__code", flat=True)) == {
        "t-agency", "t-commune",
    }  # fmt: skip


def test_closing_is_refused_while_the_binding_opinion_is_missing(world):
    session_open(session=world.session, actor=world.president)
    give(world, world.commune, Verdict.FAVOURABLE)
    with pytest.raises(OpinionRefused, match="binding opinion"):
        session_close(session=world.session, actor=world.president)
    world.session.refresh_from_db()
    assert world.session.status == SessionStatus.OPEN


def test_the_remarks_loop_restarts_the_clock_and_the_next_session_approves(world, users):
    session_open(session=world.session, actor=world.president)
    give(world, world.agency, Verdict.FAVOURABLE)
    give(world, world.civil, Verdict.UNFAVOURABLE, "Escalier de secours absent.", "Largeur des issues insuffisante.")
    session_close(session=world.session, actor=world.president)
    dossier = Dossier.objects.get(pk=world.dossier.pk)
    assert dossier.status == Status.CHANGES_REQUESTED
    stop = ClockStop.objects.get(dossier=dossier)
    assert stop.resumed_on is None and "Escalier de secours absent." in stop.reason + dossier.events.last().message

    remarks = list(Remark.objects.filter(opinion__dossier=dossier))
    assert len(remarks) == 2
    with pytest.raises(OpinionForbidden):
        remark_answer(remark=remarks[0], answer="Fait.", actor=world.members["t-civil"])
    with pytest.raises(OpinionRefused, match="Write an answer"):
        remark_answer(remark=remarks[0], answer="  ", actor=users[Role.ARCHITECT])
    for remark in remarks:
        remark_answer(remark=remark, answer="Plans corrigés, voir la version 2.", actor=users[Role.ARCHITECT])
    upload(dossier, "architectural-plans", users[Role.ARCHITECT], content=b"%PDF-1.4\nrevised\n%%EOF\n")
    dossier = dossier_transition(dossier=dossier, action="resubmit", actor=users[Role.ARCHITECT])
    assert dossier.review_round == 2 and dossier.status == Status.RESUBMITTED
    stop.refresh_from_db()
    assert stop.resumed_on is not None, "the clock restarts on resubmission"

    # The dossier keeps its place: the desk moves it to the next session.
    second = new_session(world.committee, 5)
    book(dossier, second, users[Role.DESK_AGENT])
    session_open(session=second, actor=world.president)
    # The committee still sees the answered remarks of round 1, and resolves them.
    visible = opinions_visible_to(dossier=dossier, user=world.members["t-civil"])
    assert [o.review_round for o in visible] == [1, 1]
    answered = Remark.objects.filter(opinion__dossier=dossier, opinion__review_round=1)
    assert all(r.answer == "Plans corrigés, voir la version 2." for r in answered)
    dossier.refresh_from_db()
    remark_resolve(remark=answered[0], actor=world.members["t-civil"])
    assert Remark.objects.get(pk=answered[0].pk).resolved
    give_round_2 = World(dossier, second, *list(vars(world).values())[2:])
    give(give_round_2, world.agency, Verdict.FAVOURABLE)
    give(give_round_2, world.civil, Verdict.FAVOURABLE)
    session_close(session=second, actor=world.president)
    dossier.refresh_from_db()
    assert dossier.status == Status.FAVOURABLE
    assert Opinion.objects.filter(dossier=dossier, review_round=2).count() == 2


def test_a_remark_is_answered_only_while_changes_are_requested(world, users):
    opinion = give(world, world.civil, Verdict.RESERVATIONS, "Extincteur.")
    with pytest.raises(OpinionRefused, match="while changes are requested"):
        remark_answer(remark=opinion.remark_items.get(), answer="Oui.", actor=users[Role.ARCHITECT])
    with pytest.raises(OpinionRefused, match="later review round"):
        remark_resolve(remark=opinion.remark_items.get(), actor=world.members["t-civil"])


# --- API -----------------------------------------------------------------------------------------------


def api(user=None):
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_the_opinions_api_hides_other_opinions_and_checks_membership(world, users):
    url = f"/api/dossiers/{world.dossier.pk}/opinions/"
    give(world, world.agency, Verdict.FAVOURABLE)
    civil = api(world.members["t-civil"])
    assert civil.get(url).json() == []
    response = civil.post(url, {"verdict": "unfavourable", "remark_items": ["Escalier de secours absent."]},
                          format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["organisation"] == "t-civil"
    assert response.json()["remark_items"][0]["text"] == "Escalier de secours absent."
    assert {o["organisation"] for o in civil.get(url).json()} == {"t-agency", "t-civil"}
    assert civil.post(url, {"verdict": "favourable"}, format="json").status_code == 400, "once per round"
    assert api(users[Role.DESK_AGENT]).post(url, {"verdict": "favourable"}, format="json").status_code == 403
    assert api(users["other_architect"]).get(url).status_code == 404
    assert api().get(url).status_code in {401, 403}

    outcome = f"/api/dossiers/{world.dossier.pk}/outcome/"
    assert civil.get(outcome).status_code == 403
    body = api(world.president).get(outcome).json()
    assert body["verdict"] == "changes_requested" and body["missing"] == ["t-commune"]


def test_the_session_minutes_and_remark_api(world, users):
    session_open(session=world.session, actor=world.president)
    give(world, world.agency, Verdict.FAVOURABLE)
    give(world, world.civil, Verdict.UNFAVOURABLE, "Escalier de secours absent.")
    close = f"/api/sessions/{world.session.pk}/close/"
    assert api(world.members["t-agency"]).post(close).status_code == 403
    assert api(world.president).post("/api/sessions/999999/close/").status_code == 404
    response = api(world.president).post(close)
    assert response.status_code == 200 and response.json()["outcomes"] == {str(world.dossier.pk): "changes_requested"}

    minutes = f"/api/sessions/{world.session.pk}/minutes/"
    assert api(world.president).get(f"/api/sessions/{world.session.pk}/minutes.pdf").status_code == 404
    assert api(world.members["t-civil"]).post(minutes).status_code == 403
    created = api(world.president).post(minutes)
    assert created.status_code == 201
    pdf = api(world.president).get(f"/api/sessions/{world.session.pk}/minutes.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    verify = api().get(f"/api/verify/{created.json()['verification_code']}/")
    assert verify.status_code == 200 and verify.json()["sha256"] == created.json()["sha256"]
    assert api().get("/api/verify/nope/").status_code == 404

    remark = Remark.objects.get(opinion__dossier=world.dossier)
    answer = f"/api/remarks/{remark.pk}/answer/"
    assert api(users["other_architect"]).post(answer, {"answer": "x"}, format="json").status_code == 404
    assert api(world.members["t-civil"]).post(answer, {"answer": "x"}, format="json").status_code == 403
    response = api(users[Role.ARCHITECT]).post(answer, {"answer": "Escalier ajouté."}, format="json")
    assert response.status_code == 200 and response.json()["answer"] == "Escalier ajouté."


def test_the_committee_endpoints_are_in_the_openapi_schema(db):
    schema = api().get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/dossiers/{dossier_id}/opinions/",
        "/api/dossiers/{dossier_id}/outcome/",
        "/api/sessions/{session_id}/close/",
        "/api/sessions/{session_id}/minutes.pdf",
        "/api/dossiers/{dossier_id}/decision/",
        "/api/remarks/{remark_id}/answer/",
        "/api/verify/{code}/",
    ):
        assert path in schema, path


# --- pages ---------------------------------------------------------------------------------------------


def signed_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_workspace_shows_my_session_and_takes_my_opinion(world, users):
    member = signed_in(world.members["t-civil"])
    home = member.get("/committee/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/committee/sessions/{world.session.pk}/" in home
    agenda = member.get(f"/committee/sessions/{world.session.pk}/").content.decode()
    assert world.dossier.reference in agenda
    review = member.get(f"/committee/dossiers/{world.dossier.pk}/")
    assert review.status_code == 200 and 'name="verdict"' in review.content.decode()
    form = {"verdict": "favourable_with_reservations", "remarks": "Extincteurs.\n\nIssues balisées."}
    response = member.post(f"/committee/dossiers/{world.dossier.pk}/opinion/", form)
    assert response.status_code == 302
    opinion = Opinion.objects.get(dossier=world.dossier, organisation=world.civil)
    assert [r.text for r in opinion.remark_items.all()] == ["Extincteurs.", "Issues balisées."]
    assert signed_in(users[Role.ARCHITECT]).get("/committee/").status_code == 403
    outsider = make_user("m.outsider", Role.COMMITTEE_MEMBER)
    assert signed_in(outsider).get(f"/committee/sessions/{world.session.pk}/").status_code == 404


def test_the_president_runs_the_session_from_the_workspace(world, users):
    president = signed_in(world.president)
    president.post(f"/committee/sessions/{world.session.pk}/open/")
    give(world, world.agency, Verdict.FAVOURABLE)
    give(world, world.civil, Verdict.UNFAVOURABLE, "Escalier de secours absent.")
    president.post(f"/committee/sessions/{world.session.pk}/attendance/", {"present": [world.agency.pk]})
    president.post(f"/committee/sessions/{world.session.pk}/close/")
    world.session.refresh_from_db()
    assert world.session.status == SessionStatus.CLOSED
    president.post(f"/committee/sessions/{world.session.pk}/minutes/")
    pdf = president.get(f"/committee/sessions/{world.session.pk}/minutes.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")

    # The applicant sees the remark in the grid of the dossier page and answers it there.
    architect = signed_in(users[Role.ARCHITECT])
    page = architect.get(f"/dossiers/{world.dossier.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="remark-grid"' in page and "Escalier de secours absent." in page
    remark = Remark.objects.get(opinion__dossier=world.dossier)
    architect.post(f"/dossiers/{world.dossier.pk}/remarks/{remark.pk}/answer/", {"answer": "Escalier ajouté."})
    remark.refresh_from_db()
    assert remark.answer == "Escalier ajouté." and remark.answered_by == users[Role.ARCHITECT]
