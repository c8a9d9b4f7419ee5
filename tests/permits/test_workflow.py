"""The workflow: every legal transition from every source status, and refusals with their exact messages.

Each legal case walks a real dossier to the source status through :func:`dossier_transition` (never by
writing the status), makes the transition, and checks the target, the timeline event, the audit record
and the effects. The refusals cover a wrong source status, a wrong role, someone who is not the filer,
a missing reason and each guard. Messages are compared in English. The demo dossiers, the periodic lapse
job and the system-only transitions are here too, since they are the workflow seen from outside.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from permits.deadlines import TACIT_RUNNING, WorkingCalendar
from permits.models import (
    AuditRecord,
    ChecklistVerdict,
    ClockStop,
    DocumentKind,
    Dossier,
    DossierEvent,
    Notification,
    Status,
)
from permits.roles import Role
from permits.services import ApplicantData, completeness_review_record, document_upload, dossier_save_draft
from permits.workflow import (
    ACTIVE,
    TRANSITIONS,
    TransitionForbidden,
    TransitionRefused,
    dossier_transition,
    transitions_available,
)
from tests.permits.conftest import PDF_BYTES, upload

pytestmark = pytest.mark.django_db

REASON = "Recul de 5 m non respecté en façade nord."
# Who makes each transition by default (None: the system).
ACTORS = {
    "submit": Role.ARCHITECT,
    "resubmit": Role.ARCHITECT,
    "withdraw": Role.ARCHITECT,
    "accept": Role.DESK_AGENT,
    "declare_inadmissible": Role.DESK_AGENT,
    "schedule": Role.DESK_AGENT,
    "cancel_booking": Role.ARCHITECT,
    "prepare_decision": Role.DESK_AGENT,
    "start_review": Role.COMMITTEE_PRESIDENT,
    "request_changes": Role.COMMITTEE_PRESIDENT,
    "give_favourable_opinion": Role.COMMITTEE_PRESIDENT,
    "give_unfavourable_opinion": Role.COMMITTEE_PRESIDENT,
    "issue": Role.SIGNING_AUTHORITY,
    "refuse": Role.SIGNING_AUTHORITY,
    "deem_approved": None,
    "lapse": None,
}
_REVIEW = ["submit", "accept", "schedule", "start_review"]
# The shortest way to each status.
PATHS: dict[str, list[str]] = {
    Status.DRAFT: [],
    Status.SUBMITTED: ["submit"],
    Status.INADMISSIBLE: ["submit", "declare_inadmissible"],
    Status.ACCEPTED: ["submit", "accept"],
    Status.SCHEDULED: ["submit", "accept", "schedule"],
    Status.UNDER_REVIEW: _REVIEW,
    Status.CHANGES_REQUESTED: [*_REVIEW, "request_changes"],
    Status.RESUBMITTED: [*_REVIEW, "request_changes", "resubmit"],
    Status.FAVOURABLE: [*_REVIEW, "give_favourable_opinion"],
    Status.UNFAVOURABLE: [*_REVIEW, "give_unfavourable_opinion"],
    Status.DECISION_SIGNING: [*_REVIEW, "give_favourable_opinion", "prepare_decision"],
    Status.ISSUED: [*_REVIEW, "give_favourable_opinion", "prepare_decision", "issue"],
    Status.REFUSED: [*_REVIEW, "give_unfavourable_opinion", "prepare_decision", "refuse"],
    Status.WITHDRAWN: ["withdraw"],
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def next_working_day(after: date | None = None, *, skip: int = 1) -> date:
    return WorkingCalendar().add_working_days(after or timezone.localdate(), skip)


def review_all(dossier: Dossier, users, verdict: str = ChecklistVerdict.PRESENT) -> None:
    for item in dossier.procedure.checklist.filter(kind=DocumentKind.MAIN):
        completeness_review_record(
            dossier=dossier,
            item=item,
            verdict=verdict,
            reason="" if verdict == ChecklistVerdict.PRESENT else "Pièce illisible.",
            actor=users[Role.DESK_AGENT],
        )


def step(dossier: Dossier, users, action: str, *, today: date | None = None, **kwargs) -> Dossier:
    """Make one transition with its usual actor and what it needs (reviews, a date, a revised file, a reason)."""
    role = ACTORS[action]
    actor = users[role] if role else None
    if action == "accept":
        review_all(dossier, users)
    elif action == "declare_inadmissible":
        review_all(dossier, users, ChecklistVerdict.MISSING)
    elif action == "schedule":
        kwargs.setdefault("data", {"session_date": next_working_day(today, skip=5)})
    elif action == "resubmit":
        upload(dossier, "architectural-plans", users[Role.ARCHITECT], name="plans-v2.pdf")
    elif action in {"issue", "refuse"} and dossier.status == Status.DECISION_SIGNING:
        # The signature needs the decision document (permits.issuing).
        from permits.issuing import decision_generate

        decision_generate(dossier=dossier, actor=users[Role.DESK_AGENT])
    if TRANSITIONS[action].reason_required:
        kwargs.setdefault("reason", REASON)
    return dossier_transition(dossier=dossier, action=action, actor=actor, today=today, **kwargs)


def walk(dossier: Dossier, users, status: str) -> Dossier:
    for action in PATHS[status]:
        dossier = step(dossier, users, action)
    assert dossier.status == status
    return dossier


# The way to the signature of a refusal goes through an unfavourable opinion.
ROAD_TO_REFUSAL = [*_REVIEW, "give_unfavourable_opinion", "prepare_decision"]
LEGAL = sorted(
    (source, name) for name, transition in TRANSITIONS.items() for source in transition.sources if not transition.system
)


def test_the_table_covers_every_status():
    targets = {transition.target for transition in TRANSITIONS.values()}
    assert targets | {Status.DRAFT} == set(Status.values)
    assert len(LEGAL) == 25
    assert {name for name, t in TRANSITIONS.items() if t.system} == {"deem_approved", "lapse"}


@pytest.mark.parametrize(("source", "action"), LEGAL)
def test_every_legal_transition(complete_draft, users, source, action, django_capture_on_commit_callbacks):
    dossier = complete_draft
    for earlier in ROAD_TO_REFUSAL if action == "refuse" else PATHS[source]:
        dossier = step(dossier, users, earlier)
    assert dossier.status == source
    audit_before = AuditRecord.objects.filter(action=f"dossier.{action}").count()
    with django_capture_on_commit_callbacks(execute=True):
        after = step(dossier, users, action)
    transition = TRANSITIONS[action]
    assert after.status == transition.target
    assert Dossier.objects.get(pk=dossier.pk).status == transition.target
    event = after.events.order_by("-id").first()
    assert (event.kind, event.from_status, event.to_status) == ("transition", source, transition.target)
    assert event.data["action"] == action
    assert event.message == (REASON if transition.reason_required else "")
    record = AuditRecord.objects.order_by("-id").first()
    assert AuditRecord.objects.filter(action=f"dossier.{action}").count() == audit_before + 1
    assert record.action == f"dossier.{action}" and record.dossier_id == dossier.pk
    assert (record.payload["from"], record.payload["to"]) == (source, transition.target)
    # After commit: the applicant by e-mail and SMS, the architect by e-mail.
    channels = set(
        Notification.objects.filter(dossier=after, event=transition.notify).values_list("channel", "address")
    )
    assert channels == {
        ("email", "yasmine@example.org"),
        ("sms", "+212600000001"),
        ("email", "t.architect@example.org"),
    }


@pytest.mark.parametrize("source", sorted(TACIT_RUNNING))
def test_deemed_approved_by_the_system_from_every_running_status(complete_draft, users, source):
    dossier = walk(
        complete_draft, users, Status.ACCEPTED if source != Status.CHANGES_REQUESTED else Status.UNDER_REVIEW
    )
    accepted_on = dossier.accepted_on
    if source == Status.CHANGES_REQUESTED:
        # Changes asked for after the tacit date: the approval was already acquired.
        dossier = step(dossier, users, "request_changes", today=accepted_on + timedelta(days=65))
    else:
        for action in PATHS[source][len(PATHS[Status.ACCEPTED]) :]:
            dossier = step(dossier, users, action)
    assert dossier.status == source
    dossier = dossier_transition(
        dossier=dossier, action="deem_approved", actor=None, today=accepted_on + timedelta(days=66)
    )
    assert dossier.status == Status.DEEMED_APPROVED
    assert timezone.localdate(dossier.decided_at) == accepted_on + timedelta(days=66)
    event = dossier.events.order_by("-id").first()
    assert event.actor is None and event.from_status == source


def test_lapse_after_the_validity_period(complete_draft, users):
    dossier = walk(complete_draft, users, Status.ISSUED)
    issued = timezone.localdate(dossier.decided_at)
    error = refused(dossier, None, "lapse", today=issued + timedelta(days=300))
    assert error.message == "The permit is still valid."
    dossier = dossier_transition(dossier=dossier, action="lapse", actor=None, today=issued + timedelta(days=367))
    assert dossier.status == Status.LAPSED


def test_the_periodic_lapse_job_lapses_only_expired_permits(complete_draft, users):
    from permits.periodic import permits_lapse

    old = walk(complete_draft, users, Status.ISSUED)
    issued = timezone.localdate(old.decided_at)
    outcome = permits_lapse(today=issued + timedelta(days=200))
    assert outcome.done == ()
    outcome = permits_lapse(today=issued + timedelta(days=366))
    assert outcome.done == (old.reference,)
    assert Dossier.objects.get(pk=old.pk).status == Status.LAPSED
    assert permits_lapse(today=issued + timedelta(days=400)).done == ()


def test_effects_of_the_main_road(complete_draft, users):
    dossier = step(complete_draft, users, "submit")
    assert dossier.reference.startswith(f"TEST-01-{timezone.localdate().year}-")
    assert dossier.submitted_at is not None and dossier.classification == "small"
    dossier = step(dossier, users, "accept")
    assert dossier.accepted_on == timezone.localdate()
    session = next_working_day(skip=4)
    dossier = step(dossier, users, "schedule", data={"session_date": session})
    assert dossier.session_date == session
    dossier = step(dossier, users, "start_review")
    dossier = step(dossier, users, "request_changes")
    stop = ClockStop.objects.get(dossier=dossier)
    assert stop.stopped_on == timezone.localdate() and stop.resumed_on is None and stop.reason == REASON
    dossier = step(dossier, users, "resubmit")
    stop.refresh_from_db()
    assert stop.resumed_on == timezone.localdate() and dossier.session_date is None
    assert dossier.documents.filter(item_code="architectural-plans").count() == 2


def test_backdated_transitions_agree_on_their_day(complete_draft, users):
    """``today=`` moves every date a transition writes: status change, submission, acceptance, decision."""
    day = date(2025, 7, 28)
    dossier = step(complete_draft, users, "submit", today=day)
    assert dossier.reference == "TEST-01-2025-00001"
    assert timezone.localdate(dossier.submitted_at) == day == timezone.localdate(dossier.status_changed_at)
    dossier = step(dossier, users, "accept", today=day)
    assert dossier.accepted_on == day
    # A committee date in the past of the real calendar is fine when the transition happens before it.
    dossier = step(dossier, users, "schedule", today=day, data={"session_date": date(2025, 8, 4)})
    dossier = step(dossier, users, "start_review", today=date(2025, 8, 4))
    dossier = step(dossier, users, "give_favourable_opinion", today=date(2025, 8, 12))
    dossier = step(dossier, users, "prepare_decision", today=date(2025, 8, 13))
    dossier = step(dossier, users, "issue", today=date(2025, 8, 15))
    assert timezone.localdate(dossier.decided_at) == date(2025, 8, 15)


def test_available_transitions_follow_roles_and_filing(complete_draft, users):
    submitted = step(complete_draft, users, "submit")
    names = {t.name for t in transitions_available(dossier=submitted, actor=users[Role.DESK_AGENT])}
    assert names == {"accept", "declare_inadmissible"}
    assert {t.name for t in transitions_available(dossier=submitted, actor=users[Role.ARCHITECT])} == {"withdraw"}
    assert transitions_available(dossier=submitted, actor=users["other_architect"]) == []
    assert {t.name for t in transitions_available(dossier=submitted, actor=None)} == set()


# --- refusals --------------------------------------------------------------------------------------


def refused(dossier, actor, action, **kwargs) -> TransitionRefused:
    status_before = Dossier.objects.get(pk=dossier.pk).status
    events_before = DossierEvent.objects.filter(dossier=dossier).count()
    audit_before = AuditRecord.objects.count()
    with pytest.raises(TransitionRefused) as caught:
        dossier_transition(dossier=dossier, action=action, actor=actor, **kwargs)
    # Nothing changed.
    assert Dossier.objects.get(pk=dossier.pk).status == status_before
    assert DossierEvent.objects.filter(dossier=dossier).count() == events_before
    assert AuditRecord.objects.count() == audit_before
    return caught.value


@pytest.mark.parametrize(
    ("status", "action", "role", "message"),
    [
        (Status.DRAFT, "accept", Role.DESK_AGENT, "“Accept as complete” is not possible while the dossier is “Draft”."),
        (Status.SUBMITTED, "submit", Role.ARCHITECT, "“Submit” is not possible while the dossier is “Submitted”."),
        (Status.ACCEPTED, "start_review", Role.COMMITTEE_PRESIDENT,
         "“Start the review” is not possible while the dossier is “Accepted”."),
        (Status.UNDER_REVIEW, "issue", Role.SIGNING_AUTHORITY,
         "“Sign and issue the permit” is not possible while the dossier is “Under review”."),
        (Status.SCHEDULED, "resubmit", Role.ARCHITECT,
         "“Resubmit with revised documents” is not possible while the dossier is “Scheduled for a committee”."),
        (Status.ISSUED, "withdraw", Role.ARCHITECT,
         "“Withdraw the dossier” is not possible while the dossier is “Issued”."),
        (Status.INADMISSIBLE, "accept", Role.DESK_AGENT,
         "“Accept as complete” is not possible while the dossier is “Inadmissible”."),
        (Status.WITHDRAWN, "submit", Role.ARCHITECT, "“Submit” is not possible while the dossier is “Withdrawn”."),
        (Status.REFUSED, "prepare_decision", Role.DESK_AGENT,
         "“Send the decision for signature” is not possible while the dossier is “Refused”."),
        (Status.DRAFT, "lapse", None, "“Lapse (works not started)” is not possible while the dossier is “Draft”."),
    ],
)  # fmt: skip
def test_wrong_source_status(complete_draft, users, status, action, role, message):
    dossier = walk(complete_draft, users, status)
    error = refused(dossier, users[role] if role else None, action, reason=REASON)
    assert error.message == message and not isinstance(error, TransitionForbidden)


@pytest.mark.parametrize(
    ("status", "action", "who", "label"),
    [
        (Status.SUBMITTED, "accept", Role.APPLICANT, "Accept as complete"),
        (Status.SUBMITTED, "accept", Role.ARCHITECT, "Accept as complete"),
        (Status.SUBMITTED, "accept", Role.COMMITTEE_MEMBER, "Accept as complete"),
        (Status.SCHEDULED, "start_review", Role.COMMITTEE_MEMBER, "Start the review"),
        (Status.SCHEDULED, "start_review", Role.INSPECTOR, "Start the review"),
        (Status.UNDER_REVIEW, "give_favourable_opinion", Role.PLANNER, "Favourable opinion"),
        (Status.DECISION_SIGNING, "issue", Role.DESK_AGENT, "Sign and issue the permit"),
        (Status.DECISION_SIGNING, "issue", Role.COMMITTEE_PRESIDENT, "Sign and issue the permit"),
        (Status.DRAFT, "submit", Role.DESK_AGENT, "Submit"),
        (Status.ACCEPTED, "deem_approved", Role.DESK_AGENT, "Tacit approval"),
        (Status.ISSUED, "lapse", "admin", "Lapse (works not started)"),
        (Status.SUBMITTED, "accept", None, "Accept as complete"),
    ],
)
def test_wrong_role(complete_draft, users, status, action, who, label):
    dossier = walk(complete_draft, users, status)
    error = refused(dossier, users[who] if who else None, action, reason=REASON)
    assert isinstance(error, TransitionForbidden) and error.http_status == 403
    assert error.message == f"You are not allowed to “{label}” this dossier."


@pytest.mark.parametrize(
    ("status", "action", "label"),
    [
        (Status.DRAFT, "submit", "Submit"),
        (Status.CHANGES_REQUESTED, "resubmit", "Resubmit with revised documents"),
        (Status.ACCEPTED, "withdraw", "Withdraw the dossier"),
    ],
)
@pytest.mark.parametrize("who", ["other_architect", "other_applicant"])
def test_not_the_filer(complete_draft, users, status, action, label, who):
    dossier = walk(complete_draft, users, status)
    if action == "resubmit":
        upload(dossier, "architectural-plans", users[Role.ARCHITECT], name="plans-v2.pdf")
    error = refused(dossier, users[who], action)
    assert isinstance(error, TransitionForbidden)
    assert error.message == f"You are not allowed to “{label}” this dossier."


def test_the_applicants_own_account_may_file(complete_draft, users):
    applicant = users[Role.APPLICANT]
    complete_draft.applicant.user = applicant
    complete_draft.applicant.save()
    assert step(complete_draft, users, "submit").status == Status.SUBMITTED
    dossier = dossier_transition(dossier=complete_draft, action="withdraw", actor=applicant)
    assert dossier.status == Status.WITHDRAWN


@pytest.mark.parametrize(
    ("status", "action", "role", "label"),
    [
        (Status.SUBMITTED, "declare_inadmissible", Role.DESK_AGENT, "Declare inadmissible"),
        (Status.UNDER_REVIEW, "request_changes", Role.COMMITTEE_PRESIDENT, "Request changes"),
        (Status.UNDER_REVIEW, "give_unfavourable_opinion", Role.COMMITTEE_PRESIDENT, "Unfavourable opinion"),
        (Status.DECISION_SIGNING, "refuse", Role.SIGNING_AUTHORITY, "Sign a reasoned refusal"),
    ],
)
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_missing_reason(complete_draft, users, status, action, role, label, reason):
    dossier = walk(complete_draft, users, status)
    if action == "declare_inadmissible":
        review_all(dossier, users, ChecklistVerdict.MISSING)
    error = refused(dossier, users[role], action, reason=reason)
    assert error.message == f"“{label}” needs a written reason."


def test_unknown_action(complete_draft, users):
    assert refused(complete_draft, users[Role.ARCHITECT], "fly").message == "Unknown action “fly”."


# --- guards ----------------------------------------------------------------------------------------


def test_submission_needs_every_main_document(draft, users):
    error = refused(draft, users[Role.ARCHITECT], "submit")
    assert error.message == "Missing main document: architectural-plans. Missing main document: title-deed."
    upload(draft, "architectural-plans", users[Role.ARCHITECT])
    assert refused(draft, users[Role.ARCHITECT], "submit").message == "Missing main document: title-deed."
    assert Dossier.objects.get(pk=draft.pk).reference is None


def test_submission_needs_valid_figures_and_a_location(users, building_permit, casablanca_world):
    dossier = dossier_save_draft(
        actor=users[Role.ARCHITECT],
        procedure=building_permit,
        applicant=ApplicantData(first_name="A", last_name="B", national_id="X1", email="a@example.org"),
        commune=casablanca_world["commune"],
        figures={"floors": 2.5, "built_area_m2": -3, "use": "castle", "colour": "blue"},
    )
    for code in ("architectural-plans", "title-deed"):
        upload(dossier, code, users[Role.ARCHITECT])
    assert refused(dossier, users[Role.ARCHITECT], "submit").message == (
        "Locate the project: choose at least one parcel or draw the site. "
        "Niveaux must be a whole number. Missing figure: Hauteur. Surface must be at least 0. "
        "Usage: “castle” is not one of the choices. Unknown figures: colour."
    )


def test_submission_refused_when_the_procedure_closed(complete_draft, users, building_permit):
    building_permit.active = False
    building_permit.save()
    assert refused(complete_draft, users[Role.ARCHITECT], "submit").message == "The procedure is closed for filing."


def test_acceptance_needs_every_main_document_checked_and_compliant(complete_draft, users):
    dossier = step(complete_draft, users, "submit")
    desk = users[Role.DESK_AGENT]
    assert refused(dossier, desk, "accept").message == (
        "Check the main document: architectural-plans. Check the main document: title-deed."
    )
    plans, deed = dossier.procedure.checklist.filter(kind=DocumentKind.MAIN).order_by("position")
    completeness_review_record(dossier=dossier, item=plans, verdict=ChecklistVerdict.PRESENT, actor=desk)
    completeness_review_record(
        dossier=dossier, item=deed, verdict=ChecklistVerdict.NON_COMPLIANT, reason="Plus de 3 mois.", actor=desk
    )
    assert refused(dossier, desk, "accept").message == "A main document is not compliant: title-deed."
    # The latest verdict counts.
    completeness_review_record(dossier=dossier, item=deed, verdict=ChecklistVerdict.PRESENT, actor=desk)
    assert dossier_transition(dossier=dossier, action="accept", actor=desk).status == Status.ACCEPTED


def test_inadmissibility_needs_an_item_marked_missing(complete_draft, users):
    dossier = step(complete_draft, users, "submit")
    review_all(dossier, users)
    error = refused(dossier, users[Role.DESK_AGENT], "declare_inadmissible", reason=REASON)
    assert error.message == (
        "Mark at least one missing or non-compliant document, with a reason, to declare the file inadmissible."
    )


def test_scheduling_needs_a_future_working_day(complete_draft, users):
    dossier = walk(complete_draft, users, Status.ACCEPTED)
    desk = users[Role.DESK_AGENT]
    assert refused(dossier, desk, "schedule").message == "Give the committee date."
    assert refused(dossier, desk, "schedule", data={"session_date": "2030-01-07"}).message == "Give the committee date."
    yesterday = timezone.localdate() - timedelta(days=1)
    assert refused(dossier, desk, "schedule", data={"session_date": yesterday}).message == (
        "The committee date is in the past."
    )
    throne_day = date(timezone.localdate().year + 1, 7, 30)
    assert refused(dossier, desk, "schedule", data={"session_date": throne_day}).message == (
        "The committee date is not a working day."
    )
    saturday = timezone.localdate() + timedelta(days=(5 - timezone.localdate().weekday()) % 7 or 7)
    assert refused(dossier, desk, "schedule", data={"session_date": saturday}).message == (
        "The committee date is not a working day."
    )


def test_resubmission_needs_a_revised_document(complete_draft, users):
    dossier = walk(complete_draft, users, Status.CHANGES_REQUESTED)
    architect = users[Role.ARCHITECT]
    message = "Upload at least one revised document before resubmitting."
    assert refused(dossier, architect, "resubmit").message == message
    # A first version of an information document is not a revision.
    upload(dossier, "site-photos", architect, content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="photo.png")
    assert refused(dossier, architect, "resubmit").message == message
    document_upload(
        dossier=dossier,
        item_code="title-deed",
        uploaded_file=SimpleUploadedFile("deed-v2.pdf", PDF_BYTES),
        actor=architect,
    )
    assert dossier_transition(dossier=dossier, action="resubmit", actor=architect).status == Status.RESUBMITTED


def test_refusal_refused_after_a_favourable_opinion(complete_draft, users):
    signatory = users[Role.SIGNING_AUTHORITY]
    favourable = walk(complete_draft, users, Status.DECISION_SIGNING)
    assert refused(favourable, signatory, "refuse", reason=REASON).message == (
        "A refusal follows an unfavourable committee opinion."
    )


def test_issue_refused_after_an_unfavourable_opinion(complete_draft, users):
    dossier = walk(complete_draft, users, Status.UNFAVOURABLE)
    dossier = step(dossier, users, "prepare_decision")
    error = refused(dossier, users[Role.SIGNING_AUTHORITY], "issue")
    assert error.message == "No permit without a favourable committee opinion."


def test_tacit_approval_not_before_its_date(complete_draft, users):
    dossier = walk(complete_draft, users, Status.UNDER_REVIEW)
    error = refused(dossier, None, "deem_approved", today=dossier.accepted_on + timedelta(days=59))
    assert error.message == "The tacit-approval date has not passed."
    # A dossier that was never accepted has no tacit date either.
    assert TRANSITIONS["deem_approved"].sources == frozenset(TACIT_RUNNING)
    assert Status.SUBMITTED not in TRANSITIONS["deem_approved"].sources


def test_withdrawal_is_possible_from_every_active_status(complete_draft, users):
    assert Status.DRAFT in ACTIVE and Status.DECISION_SIGNING in ACTIVE
    assert TRANSITIONS["withdraw"].sources == ACTIVE
    assert not ACTIVE & {Status.ISSUED, Status.REFUSED, Status.LAPSED, Status.DEEMED_APPROVED, Status.INADMISSIBLE}


# --- the demo dossiers -----------------------------------------------------------------------------


def test_demo_dossiers_reach_every_status_through_the_workflow(settings):
    from etl import demo as etl_demo
    from permits import demo
    from permits.selectors import dossier_list_visible_to

    settings.TAAMIR_SMS_BACKEND = "permits.sms.OutboxBackend"
    etl_demo.demo_commune_build()
    # The demo names the same commune and accounts as etl's seed.
    assert demo.DEMO_COMMUNE_CODE == etl_demo.DEMO_COMMUNE_CODE
    assert {demo.ARCHITECT, demo.APPLICANT, demo.DESK, demo.PRESIDENT, demo.SIGNATORY} <= {
        role.username for role in etl_demo.ROLES
    }
    summary = demo.demo_dossiers_build()
    assert summary.created == len(demo.DOSSIERS) and summary.existing == 0
    assert set(summary.statuses) == set(Status.values)
    dossiers = Dossier.objects.filter(commune__code="DEMO-001")
    for dossier in dossiers:
        # Every status change is a transition event that starts where the previous one ended.
        status = Status.DRAFT
        for event in dossier.events.filter(kind="transition").order_by("id"):
            assert event.from_status == status
            status = event.to_status
        assert status == dossier.status
        assert dossier.architect.username == "demo.architect"
        for document in dossier.documents.all():
            content = document.file.read()
            document.file.close()
            assert content.startswith((b"%PDF-1.4", b"\x89PNG")) and len(content) == document.size
    statuses = dict(dossiers.values_list("title", "status"))
    assert statuses["Villa R+1 avec piscine"] == Status.RESUBMITTED
    resubmitted = dossiers.get(status=Status.RESUBMITTED)
    assert resubmitted.documents.filter(version=2).exists()
    assert resubmitted.clock_stops.get().resumed_on is not None
    # demo.applicant sees exactly the dossiers filed for her.
    applicant = get_user_model().objects.get(username="demo.applicant")
    mine = set(dossier_list_visible_to(user=applicant).values_list("title", flat=True))
    assert mine == {spec.title for spec in demo.DOSSIERS if spec.applicant == "yasmine"}
    # References are gap-free per year, in filing order.
    for year in {ref.split("-")[2] for ref in dossiers.exclude(reference=None).values_list("reference", flat=True)}:
        references = dossiers.filter(reference__contains=f"-{year}-").values_list("reference", flat=True)
        numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in references)
        assert numbers == list(range(1, len(numbers) + 1))
    again = demo.demo_dossiers_build()
    assert (again.created, again.existing, again.changed) == (0, len(demo.DOSSIERS), False)
    assert dossiers.count() == len(demo.DOSSIERS)
    # The geography can still be reset once the demo dossiers are removed.
    assert demo.demo_dossiers_delete() == len(demo.DOSSIERS)
    etl_demo.demo_commune_delete()
    assert not Dossier.objects.exists()
