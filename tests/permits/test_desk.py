"""The desk's workspace in Django's test client: who may enter, incoming dossiers, the completeness check
item by item, accept or declare inadmissible, reclassification, scheduling, the overdue list, the
notifications' delivery status and the SMS outbox.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from permits.deadlines import WorkingCalendar
from permits.models import (
    Classification,
    CompletenessReview,
    DeliveryStatus,
    Dossier,
    DossierEvent,
    Notification,
    SmsOutboxMessage,
    Status,
)
from permits.notifications import dossier_event_notify, notification_deliver
from permits.roles import Role
from permits.workflow import dossier_transition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode().replace("\xa0", " ").replace("\u202f", " ").replace("’", "'")


@pytest.fixture
def submitted(complete_draft, users) -> Dossier:
    return dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])


@pytest.fixture
def desk(users) -> Client:
    return signed_in(users[Role.DESK_AGENT])


def items(dossier: Dossier) -> dict[str, int]:
    return {item.code: item.pk for item in dossier.procedure.checklist.all()}


def check(desk: Client, dossier: Dossier, decision: str = "save", reason: str = "", **verdicts):
    """POST the completeness form: ``verdicts`` maps item codes to ``(verdict, reason)``."""
    ids = items(dossier)
    data = {"decision": decision, "reason": reason}
    for code, (verdict, why) in verdicts.items():
        code = code.replace("_", "-")
        data[f"verdict-{ids[code]}"] = verdict
        data[f"reason-{ids[code]}"] = why
    return desk.post(reverse("permits:desk_dossier", args=[dossier.pk]), data, follow=True)


# --- who may enter ------------------------------------------------------------------------------------

DESK_PAGES = ["permits:desk", "permits:desk_overdue", "permits:desk_sms_outbox"]


@pytest.mark.parametrize("name", DESK_PAGES)
def test_desk_pages_are_for_desk_agents_only(client, users, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    for role in (Role.APPLICANT, Role.ARCHITECT, Role.COMMITTEE_PRESIDENT, Role.PLANNER):
        assert signed_in(users[role]).get(url).status_code == 403, role
    assert signed_in(users[Role.DESK_AGENT]).get(url).status_code == 200
    assert signed_in(users["admin"]).get(url).status_code == 200


def test_the_desk_dossier_page_and_its_forms_are_for_desk_agents_only(submitted, users):
    for name in ("permits:desk_dossier", "permits:desk_reclassify"):
        url = reverse(name, args=[submitted.pk])
        assert signed_in(users[Role.ARCHITECT]).get(url).status_code == 403
        assert signed_in(users[Role.ARCHITECT]).post(url, {"decision": "accept"}).status_code == 403
        assert signed_in(users[Role.COMMITTEE_MEMBER]).post(url, {"decision": "accept"}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED and not CompletenessReview.objects.exists()


def test_a_desk_agent_gets_404_for_a_dossier_that_does_not_exist(desk):
    assert desk.get(reverse("permits:desk_dossier", args=[999999])).status_code == 404


# --- incoming dossiers and the completeness check -----------------------------------------------------


def test_incoming_lists_submitted_dossiers_with_their_deadline(submitted, desk, draft):
    html = text(desk.get(reverse("permits:desk")))
    assert submitted.reference in html and "Yasmine El Amrani" in html
    assert "jours ouvrables restants" in html
    assert f'data-dossier="{draft.pk}"' not in html or draft.pk == submitted.pk  # drafts never reach the desk


def test_the_desk_checks_each_item_then_accepts(submitted, desk, users):
    html = text(desk.get(reverse("permits:desk_dossier", args=[submitted.pk])))
    assert 'id="completeness-form"' in html and "Pièce principale" in html and "Pièce d'information" in html
    response = check(desk, submitted, "accept", architectural_plans=("present", ""), title_deed=("present", ""))
    submitted.refresh_from_db()
    assert submitted.status == Status.ACCEPTED and submitted.accepted_on == timezone.localdate()
    assert "le dossier est désormais « Accepté »" in text(response)
    assert CompletenessReview.objects.filter(dossier=submitted).count() == 2
    # The applicant's timeline shows the acceptance.
    timeline = text(signed_in(users[Role.ARCHITECT]).get(reverse("permits:dossier", args=[submitted.pk])))
    assert "Accepté comme complet par le guichet" in timeline and "Dossier déposé" in timeline


def test_accepting_with_a_missing_main_item_is_refused_but_the_check_is_kept(submitted, desk):
    response = check(desk, submitted, "accept", architectural_plans=("present", ""),
                     title_deed=("missing", "Certificat de propriété de moins de 3 mois absent"))  # fmt: skip
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert "Une pièce principale n'est pas conforme : title-deed." in text(response)
    assert CompletenessReview.objects.filter(dossier=submitted).count() == 2


def test_a_missing_item_needs_a_reason_and_then_nothing_is_saved(submitted, desk):
    response = check(desk, submitted, "save", architectural_plans=("present", ""), title_deed=("non_compliant", ""))
    html = text(response)
    assert "Rien n'a été enregistré" in html and "Précisez ce qui manque ou ne va pas dans « title-deed »." in html
    assert not CompletenessReview.objects.exists()


def test_declaring_inadmissible_sends_the_reasons_given_per_item(submitted, desk, users):
    check(desk, submitted, "declare_inadmissible", architectural_plans=("non_compliant", "Plans non signés"),
          title_deed=("present", ""))  # fmt: skip
    submitted.refresh_from_db()
    assert submitted.status == Status.INADMISSIBLE
    event = DossierEvent.objects.get(dossier=submitted, to_status=Status.INADMISSIBLE)
    assert "architectural-plans" in event.message and "Plans non signés" in event.message
    html = text(signed_in(users[Role.ARCHITECT]).get(reverse("permits:dossier", args=[submitted.pk])))
    assert "Plans non signés" in html and "Irrecevable" in html


def test_declaring_inadmissible_needs_a_refused_item(submitted, desk):
    response = check(desk, submitted, "declare_inadmissible", reason="Dossier incomplet",
                     architectural_plans=("present", ""), title_deed=("present", ""))  # fmt: skip
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert "Signalez au moins une pièce manquante ou non conforme" in text(response)


def test_after_the_check_the_verdicts_are_shown_read_only(submitted, desk):
    check(desk, submitted, "accept", architectural_plans=("present", ""), title_deed=("present", ""))
    html = text(desk.get(reverse("permits:desk_dossier", args=[submitted.pk])))
    assert 'id="completeness-form"' not in html and "Présente et conforme" in html


# --- reclassification and scheduling ------------------------------------------------------------------


def test_the_desk_reclassifies_with_a_reason(submitted, desk):
    url = reverse("permits:desk_reclassify", args=[submitted.pk])
    response = desk.post(url, {"classification": "large", "reason": ""}, follow=True)
    assert "Indiquez le motif du nouveau classement." in text(response)
    response = desk.post(url, {"classification": "large", "reason": "Établissement recevant du public"}, follow=True)
    submitted.refresh_from_db()
    assert submitted.classification == Classification.LARGE and submitted.classification_overridden
    html = text(response)
    assert "Le classement est modifié." in html and "Fixé par le guichet : Établissement recevant du public" in html


def test_the_desk_schedules_an_accepted_dossier(submitted, desk):
    check(desk, submitted, "accept", architectural_plans=("present", ""), title_deed=("present", ""))
    page = reverse("permits:desk_dossier", args=[submitted.pk])
    html = text(desk.get(page))
    assert 'data-action="schedule"' in html and 'type="date" name="session_date"' in html
    url = reverse("permits:dossier_action", args=[submitted.pk, "schedule"])
    response = desk.post(url, {"session_date": "2001-01-01", "next": page}, follow=True)
    assert "La date de la commission est passée." in text(response)
    response = desk.post(url, {"session_date": "not a date", "next": page}, follow=True)
    assert "Indiquez la date au format AAAA-MM-JJ." in text(response)
    when = WorkingCalendar().add_working_days(timezone.localdate(), 3)
    response = desk.post(url, {"session_date": when.isoformat(), "next": page}, follow=True)
    submitted.refresh_from_db()
    assert submitted.status == Status.SCHEDULED and submitted.session_date == when
    assert response.redirect_chain[-1][0] == page


# --- overdue, notifications, SMS outbox ---------------------------------------------------------------


def test_the_overdue_list_shows_dossiers_past_their_step_deadline(submitted, desk, complete_draft):
    Dossier.objects.filter(pk=submitted.pk).update(status_changed_at=timezone.now() - timedelta(days=30))
    html = text(desk.get(reverse("permits:desk_overdue")))
    assert submitted.reference in html and "jours ouvrables de retard" in html
    home = text(desk.get(reverse("permits:desk")))
    assert '<span class="count">1</span>' in home


def test_notifications_show_their_delivery_status(submitted, desk, settings):
    settings.TAAMIR_SMS_BACKEND = "permits.sms.OutboxBackend"
    created = dossier_event_notify(dossier_id=submitted.pk, event="submitted")
    sms = next(n for n in created if n.channel == "sms")
    notification_deliver(notification=sms)
    email = next(n for n in created if n.address == "yasmine@example.org")
    Notification.objects.filter(pk=email.pk).update(status=DeliveryStatus.FAILED, attempts=5,
                                                    last_error="SMTP refused: 550 mailbox unavailable")  # fmt: skip
    html = text(desk.get(reverse("permits:desk_dossier", args=[submitted.pk])))
    assert "+212600000001" in html and "yasmine@example.org" in html
    assert 'class="delivery delivery-sent"' in html and 'class="delivery delivery-failed"' in html
    assert "SMTP refused: 550 mailbox unavailable" in html and "<td>5</td>" in html
    outbox = text(desk.get(reverse("permits:desk_sms_outbox")))
    assert SmsOutboxMessage.objects.get().body.splitlines()[0] in outbox


def test_the_sms_outbox_is_paginated_newest_first(desk):
    SmsOutboxMessage.objects.bulk_create(
        [SmsOutboxMessage(to=f"+2126000000{i:02d}", body=f"message {i}") for i in range(60)]
    )
    html = text(desk.get(reverse("permits:desk_sms_outbox")))
    assert "message 59" in html and "message 0<" not in html and "Page 1 sur 2" in html


def test_the_desk_lists_stay_within_a_bounded_number_of_queries(desk, users, building_permit, casablanca_world,
                                                               django_assert_max_num_queries):  # fmt: skip
    from permits.services import ApplicantData, dossier_save_draft
    from tests.permits.conftest import SMALL_HOUSE, upload

    for index in range(6):
        dossier = dossier_save_draft(actor=users[Role.ARCHITECT], procedure=building_permit,
                                     applicant=ApplicantData(first_name="A", last_name=f"B{index}", national_id="X1",
                                                             email="a@example.org"),
                                     parcels=[casablanca_world["flat"]], figures=SMALL_HOUSE)  # fmt: skip
        upload(dossier, "architectural-plans", users[Role.ARCHITECT])
        upload(dossier, "title-deed", users[Role.ARCHITECT])
        dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])
    with django_assert_max_num_queries(20):
        assert desk.get(reverse("permits:desk")).status_code == 200
