"""The permits REST API: a dossier filed, checked, reviewed, revised and issued over HTTP, and its edges.

The end-to-end test runs the real notification worker, so it needs committed data (``transaction=True``);
the others run in the usual rolled-back transaction. Requests ask for English so messages can be read.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from permits.audit import audit_verify
from permits.deadlines import WorkingCalendar
from permits.models import (
    AuditRecord,
    ChecklistItem,
    CompletenessReview,
    DeliveryStatus,
    Document,
    Dossier,
    DossierEvent,
    Notification,
    SmsOutboxMessage,
    Status,
)
from permits.roles import Role
from permits.workflow import dossier_transition
from tests.conftest import merchich_box
from tests.permits.conftest import PDF_BYTES, SMALL_HOUSE, upload

PROBLEM = "application/problem+json"


def api(user: User | None = None) -> APIClient:
    """A client asking for English, authenticated as a fresh copy of ``user`` (no cached roles)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.content
    return response.json()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:taamir:problem:") and body["detail"]
    return body


def unauthenticated_status() -> int:
    """401 once DRF tokens are installed (the token scheme is the challenge); 403 with sessions first."""
    return 401 if apps.is_installed("rest_framework.authtoken") else 403


def pdf(name: str = "plan.pdf", body: bytes = b"") -> tuple[str, bytes]:
    return name, PDF_BYTES + body


def post_file(client: APIClient, dossier_id: int, item: str, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/api/dossiers/{dossier_id}/documents/",
        {"item": item, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def act(client: APIClient, dossier_id: int, action: str, **extra) -> dict:
    return ok(client.post(f"/api/dossiers/{dossier_id}/transitions/", {"action": action, **extra}, format="json"))


def next_working_day(days: int = 2):
    return WorkingCalendar().add_working_days(timezone.localdate(), days)


@pytest.fixture
def worker_connections_closed(monkeypatch):
    """Jobs close their database connection when done (not kept for CONN_MAX_AGE), so teardown can drop the db."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


def run_worker() -> None:
    call_command("procrastinate", "worker", "--one-shot", "--queues", "notifications")


def create_payload(**overrides) -> dict:
    payload = {
        "procedure": "test-building-permit",
        "applicant": {
            "kind": "person",
            "first_name": "Yasmine",
            "last_name": "El Amrani",
            "national_id": "BE123456",
            "email": "yasmine@example.org",
            "phone": "+212600000001",
            "language": "fr",
        },
        "parcel_references": ["tf 1002 / c"],
        "title": "Maison R+1",
        "figures": SMALL_HOUSE,
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Documents stored in a fresh folder, so a test can see exactly what reached the disk."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def mine(draft, users):
    """Link the applicant's own account to the draft, as when the applicant files or is invited."""
    draft.applicant.user = users[Role.APPLICANT]
    draft.applicant.save()
    return draft


# --- the whole path, over HTTP ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dossier_goes_from_draft_to_issued_over_the_api(
    users, building_permit, casablanca_world, media, worker_connections_closed
):
    architect, desk = api(users[Role.ARCHITECT]), api(users[Role.DESK_AGENT])
    president, signatory = api(users[Role.COMMITTEE_PRESIDENT]), api(users[Role.SIGNING_AUTHORITY])

    # The architect files a draft for a person, locating the project by the parcel's reference.
    created = ok(architect.post("/api/dossiers/", create_payload(), format="json"), 201)
    dossier_id = created["id"]
    assert created["status"] == "draft" and created["reference"] is None
    assert [p["reference"] for p in created["parcels"]] == ["TF 1002/C"]
    assert created["site"]["type"] == "MultiPolygon" and created["site_source"] == "parcels"
    assert created["commune"]["code"] == "TEST-01" and created["architect"]["username"] == "t.architect"
    assert {a["action"] for a in created["actions"]} == {"submit", "withdraw"}
    assert created["can_edit"] and created["can_upload"]

    # Both main documents, each a first version whose SHA-256 is the content's.
    plans_v1, deed = PDF_BYTES + b"% plans v1\n", PDF_BYTES + b"% deed\n"
    first = ok(post_file(architect, dossier_id, "architectural-plans", "plans.pdf", plans_v1), 201)
    assert first["version"] == 1 and first["sha256"] == hashlib.sha256(plans_v1).hexdigest()
    assert first["detected_format"] == "pdf" and first["content_type"] == "application/pdf"
    ok(post_file(architect, dossier_id, "title-deed", "deed.pdf", deed), 201)

    # Submission gives the reference and notifies the applicant (e-mail, SMS) and the architect.
    submitted = act(architect, dossier_id, "submit")
    year = timezone.localdate().year
    assert submitted["reference"] == f"TEST-01-{year}-00001"
    assert submitted["status"] == "submitted" and submitted["status_label"] == "Submitted"
    assert submitted["classification"] == "small" and submitted["classification_rule"]
    assert submitted["actions"] == [{"action": "withdraw", "label": "Withdraw the dossier", "reason_required": False,
                                     "fields": []}]  # fmt: skip
    run_worker()
    assert sorted(message.to[0] for message in mail.outbox) == ["t.architect@example.org", "yasmine@example.org"]
    assert all(submitted["reference"] in message.body for message in mail.outbox)
    sms = SmsOutboxMessage.objects.get()
    assert sms.to == "+212600000001" and submitted["reference"] in sms.body
    sent = ok(architect.get(f"/api/dossiers/{dossier_id}/notifications/"))
    assert {(n["channel"], n["status"], n["attempts"]) for n in sent} == {("email", "sent", 1), ("sms", "sent", 1)}
    assert {n["address"] for n in sent} == {"y***@example.org", "t***@example.org", "+212*******01"}

    # The desk finds it among the incoming dossiers, checks it item by item and accepts it.
    incoming = ok(desk.get("/api/desk/incoming/"))
    assert [d["reference"] for d in incoming["results"]] == [submitted["reference"]]
    assert incoming["results"][0]["clock"]["step"] == "completeness_check"
    checked = ok(
        desk.post(
            f"/api/dossiers/{dossier_id}/completeness/",
            [{"item": "architectural-plans", "verdict": "present"}, {"item": "title-deed", "verdict": "present"}],
            format="json",
        )
    )
    verdicts = {row["item"]: row["verdict"] for row in checked["checklist"]}
    assert verdicts == {"architectural-plans": "present", "title-deed": "present", "site-photos": None}
    accepted = act(desk, dossier_id, "accept")
    today = timezone.localdate()
    assert accepted["status"] == "accepted" and accepted["accepted_on"] == today.isoformat()
    assert accepted["clock"]["started_on"] == today.isoformat()
    assert accepted["clock"]["tacit_approval_on"] == (today + timedelta(days=60)).isoformat()

    # The desk schedules it; the president opens the review and asks for changes.
    session = next_working_day()
    scheduled = act(desk, dossier_id, "schedule", session_date=session.isoformat())
    assert scheduled["status"] == "scheduled" and scheduled["session_date"] == session.isoformat()
    act(president, dossier_id, "start_review")
    changes = act(president, dossier_id, "request_changes", reason="Setback on the street side is 3 m, not 5 m.")
    assert changes["status"] == "changes_requested" and changes["clock"]["stopped"] is True
    assert {a["action"] for a in ok(architect.get(f"/api/dossiers/{dossier_id}/"))["actions"]} == {
        "resubmit",
        "withdraw",
    }

    # Resubmitting needs a revised document; the revision is version 2 and version 1 stays downloadable.
    refused = problem(architect.post(f"/api/dossiers/{dossier_id}/transitions/", {"action": "resubmit"}), 400)
    assert "revised document" in refused["detail"]
    plans_v2 = PDF_BYTES + b"% plans v2, setback 5 m\n"
    second = ok(post_file(architect, dossier_id, "architectural-plans", "plans-v2.pdf", plans_v2), 201)
    assert second["version"] == 2 and second["supersedes"] == first["id"]
    detail = ok(architect.get(f"/api/dossiers/{dossier_id}/"))
    assert [(d["item"], d["version"]) for d in detail["documents"]] == [
        ("architectural-plans", 1),
        ("architectural-plans", 2),
        ("title-deed", 1),
    ]
    old = architect.get(f"/api/dossiers/{dossier_id}/documents/{first['id']}/file")
    assert old.status_code == 200 and b"".join(old.streaming_content) == plans_v1
    assert old["ETag"] == f'"{first["sha256"]}"' and old["Content-Type"] == "application/pdf"
    new = architect.get(f"/api/dossiers/{dossier_id}/documents/{second['id']}/file")
    assert b"".join(new.streaming_content) == plans_v2
    assert act(architect, dossier_id, "resubmit")["status"] == "resubmitted"

    # A second session, a favourable opinion, the decision signed and issued.
    act(desk, dossier_id, "schedule", session_date=next_working_day(3).isoformat())
    act(president, dossier_id, "start_review")
    act(president, dossier_id, "give_favourable_opinion")
    act(desk, dossier_id, "prepare_decision")
    assert desk.post(f"/api/dossiers/{dossier_id}/decision/").status_code == 201
    issued = act(signatory, dossier_id, "issue")
    assert issued["status"] == "issued" and issued["decided_at"] and issued["actions"] == []

    # The applicant's side of the story: the public timeline, and a message for every step.
    timeline = ok(architect.get(f"/api/dossiers/{dossier_id}/timeline/"))
    steps = [event["to_status"] for event in timeline if event["kind"] == "transition"]
    assert steps == [
        "submitted", "accepted", "scheduled", "under_review", "changes_requested", "resubmitted",
        "scheduled", "under_review", "favourable", "decision_signing", "issued",
    ]  # fmt: skip
    assert all(event["actor"] is None for event in timeline)
    reason = next(event for event in timeline if event["to_status"] == "changes_requested")["message"]
    assert reason == "Setback on the street side is 3 m, not 5 m."
    staff_timeline = ok(desk.get(f"/api/dossiers/{dossier_id}/timeline/"))
    assert {event["actor"] for event in staff_timeline if event["to_status"] == "accepted"} == {"t.desk_agent"}
    run_worker()
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    to_applicant = [message for message in mail.outbox if message.to == ["yasmine@example.org"]]
    assert len(to_applicant) == len(steps)
    assert audit_verify().intact


# --- procedures --------------------------------------------------------------------------------------


def test_procedures_are_public_in_the_request_language(building_permit, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = APIClient(HTTP_ACCEPT_LANGUAGE="ar").get("/api/procedures/")
    listed = {procedure["code"]: procedure for procedure in ok(response)}
    procedure = listed["test-building-permit"]
    assert procedure["code"] == "test-building-permit" and procedure["name"] == "رخصة البناء"
    assert procedure["names"] == {"fr": "Permis de construire", "ar": "رخصة البناء", "en": "Building permit"}
    assert procedure["family"] == "urbanism" and procedure["classifiable"] is True
    assert procedure["deadlines"]["member_opinions"] == 15
    assert procedure["tacit_approval_days"] == 60 and procedure["validity_months"] == 12
    assert [f["name"] for f in procedure["form_fields"]][:3] == ["floors", "height_m", "built_area_m2"]
    plans = procedure["checklist"][0]
    assert plans["code"] == "architectural-plans" and plans["kind"] == "main"
    assert plans["formats"] == ["pdf", "dxf"] and plans["max_size_mb"] == 1
    assert [item["kind"] for item in procedure["checklist"]] == ["main", "main", "information"]

    detail = ok(api().get("/api/procedures/test-building-permit/"))
    assert detail["name"] == "Building permit"
    assert [(i["code"], i["formats"]) for i in detail["checklist"]] == [
        (i["code"], i["formats"]) for i in procedure["checklist"]
    ]
    problem(api().get("/api/procedures/no-such-thing/"), 404)


def test_closed_procedures_are_not_listed_but_can_be_read(building_permit):
    building_permit.active = False
    building_permit.save()
    assert "test-building-permit" not in {procedure["code"] for procedure in ok(api().get("/api/procedures/"))}
    assert ok(api().get("/api/procedures/test-building-permit/"))["active"] is False


# --- creating and editing drafts ---------------------------------------------------------------------


def test_a_draft_can_be_drawn_on_the_map_and_its_commune_is_found(users, building_permit, casablanca_world):
    site = merchich_box(200, 200, 240, 230)
    payload = create_payload(parcel_references=[], site={"type": "Polygon", "coordinates": site[0].coords})
    created = ok(api(users[Role.ARCHITECT]).post("/api/dossiers/", payload, format="json"), 201)
    assert created["site_source"] == "drawn" and created["site"]["type"] == "MultiPolygon"
    assert created["commune"]["code"] == "TEST-01" and created["parcels"] == []


def test_a_company_applicant_by_parcel_ids(users, building_permit, casablanca_world):
    company = {"kind": "company", "company_name": "Atlas Immo SARL", "company_register": "RC 12345", "phone": "0600"}
    parcels = [casablanca_world["flat"].pk, casablanca_world["villa"].pk]
    payload = create_payload(applicant=company, parcel_references=[], parcel_ids=parcels)
    created = ok(api(users[Role.APPLICANT]).post("/api/dossiers/", payload, format="json"), 201)
    assert created["applicant"]["display_name"] == "Atlas Immo SARL" and created["applicant"]["kind"] == "company"
    assert sorted(p["reference"] for p in created["parcels"]) == ["TF 1001/C", "TF 1002/C"]
    assert created["architect"] is None  # an applicant filing alone


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"procedure": "no-such-procedure"}, "No procedure with code"),
        ({"parcel_references": ["TF 9999/C"]}, "No parcel with reference TF 9999/C"),
        ({"parcel_ids": [987654]}, "No parcel with id 987654"),
        ({"applicant": {"kind": "person", "first_name": "Ali", "email": "a@example.org"}}, "national ID"),
        ({"applicant": {"kind": "company", "company_name": "X", "email": "x@example.org"}}, "trade register"),
        ({"applicant": {"kind": "person", "first_name": "A", "last_name": "B", "national_id": "C"}}, "e-mail or"),
        ({"parcel_references": []}, "Locate the project"),
        ({"site": {"type": "Point", "coordinates": [-7.58, 33.57]}}, "Polygon or a MultiPolygon"),
    ],
)
def test_a_bad_draft_is_refused_with_a_clear_problem(users, building_permit, casablanca_world, overrides, expected):
    response = api(users[Role.ARCHITECT]).post("/api/dossiers/", create_payload(**overrides), format="json")
    assert expected in problem(response, 400)["detail"]
    assert not Dossier.objects.exists()


def test_patch_merges_figures_and_applicant_and_only_while_a_draft(complete_draft, users, casablanca_world):
    client = api(users[Role.ARCHITECT])
    url = f"/api/dossiers/{complete_draft.pk}/"
    changed = ok(
        client.patch(
            url,
            {"title": "Maison R+2", "figures": {"floors": 3, "dwellings": None}, "applicant": {"phone": "+212611"}},
            format="json",
        )
    )
    assert changed["title"] == "Maison R+2"
    assert changed["figures"] == {"floors": 3, "height_m": 8.5, "built_area_m2": 180.0, "use": "housing"}
    assert changed["applicant"]["phone"] == "+212611" and changed["applicant"]["last_name"] == "El Amrani"
    assert [p["reference"] for p in changed["parcels"]] == ["TF 1002/C"]

    moved = ok(client.patch(url, {"parcel_references": ["TF 1001/C", "TF 20017/C"]}, format="json"))
    assert sorted(p["reference"] for p in moved["parcels"]) == ["TF 1001/C", "TF 20017/C"]
    assert moved["site_source"] == "parcels" and len(moved["site"]["coordinates"]) == 2

    other = type(complete_draft.procedure).objects.create(
        code="test-demolition", name_fr="Démolition", name_ar="هدم", name_en="Demolition", family="urbanism",
        committee_kind="small_projects",
    )  # fmt: skip
    switched = problem(client.patch(url, {"procedure": other.code}, format="json"), 400)
    assert "start a new dossier instead" in switched["detail"]
    act(client, complete_draft.pk, "submit")
    refused = problem(client.patch(url, {"title": "Too late"}, format="json"), 400)
    assert "Only a draft can be changed" in refused["detail"]


# --- documents ---------------------------------------------------------------------------------------


MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("plan.pdf", MZ, "“plan.pdf” is a program; accepted: PDF, DXF."),
        ("plan.pdf", b"", "The file “plan.pdf” is empty."),
        ("plan.pdf", PDF_BYTES + b"0" * (1024 * 1024), "The file “plan.pdf” is larger than 1 MB."),
        ("plan.pdf", b"<!DOCTYPE html><html><body>plan</body></html>", "“plan.pdf” is a web page (HTML)"),
    ],
    ids=["renamed-executable", "empty", "oversize", "html-as-pdf"],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(draft, users, media, name, content, expected):
    events, audits = DossierEvent.objects.count(), AuditRecord.objects.count()
    body = problem(post_file(api(users[Role.ARCHITECT]), draft.pk, "architectural-plans", name, content), 400)
    assert expected in body["detail"] and body["type"] == "urn:taamir:problem:upload-refused"
    assert not Document.objects.exists()
    assert stored_files(media) == []
    assert (DossierEvent.objects.count(), AuditRecord.objects.count()) == (events, audits)


def test_upload_needs_a_checklist_item_and_an_open_dossier(complete_draft, users, media):
    client = api(users[Role.ARCHITECT])
    unknown = problem(post_file(client, complete_draft.pk, "floor-plan", *pdf()), 400)
    assert "no document “floor-plan”" in unknown["detail"]
    missing_file = client.post(f"/api/dossiers/{complete_draft.pk}/documents/", {"item": "title-deed"})
    assert "file" in problem(missing_file, 400)["errors"]
    dossier_transition(dossier=complete_draft, action="withdraw", actor=users[Role.ARCHITECT])
    closed = problem(post_file(client, complete_draft.pk, "title-deed", *pdf()), 400)
    assert "cannot be added while the dossier is “Withdrawn”" in closed["detail"]


def test_a_document_download_ignores_the_accept_header_and_hides_other_dossiers(complete_draft, users):
    document = complete_draft.documents.first()
    url = f"/api/dossiers/{complete_draft.pk}/documents/{document.pk}/file"
    response = api(users[Role.DESK_AGENT]).get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert 'filename="file.pdf"' in response["Content-Disposition"]
    problem(api(users["other_architect"]).get(url), 404)
    problem(api(users[Role.ARCHITECT]).get(f"/api/dossiers/{complete_draft.pk}/documents/999999/file"), 404)


def test_the_receipt_is_a_pdf_once_submitted(complete_draft, users):
    url = f"/api/dossiers/{complete_draft.pk}/receipt.pdf"
    architect = api(users[Role.ARCHITECT])
    assert "no receipt" in problem(architect.get(url), 404)["detail"]
    dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    complete_draft.refresh_from_db()
    response = architect.get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f'filename="recepisse-{complete_draft.reference}.pdf"' in response["Content-Disposition"]
    problem(api(users["other_applicant"]).get(url), 404)


# --- lists and the detail ----------------------------------------------------------------------------


def _many_dossiers(users, building_permit, casablanca_world, count: int) -> list[Dossier]:
    dossiers = []
    for index in range(count):
        client = api(users[Role.ARCHITECT])
        created = ok(client.post("/api/dossiers/", create_payload(title=f"Projet {index}"), format="json"), 201)
        dossiers.append(Dossier.objects.get(pk=created["id"]))
    return dossiers


def test_the_list_is_filtered_paginated_and_its_queries_bounded(
    users, building_permit, casablanca_world, django_assert_max_num_queries
):
    dossiers = _many_dossiers(users, building_permit, casablanca_world, 6)
    for dossier in dossiers[:2]:
        upload(dossier, "architectural-plans", users[Role.ARCHITECT])
        upload(dossier, "title-deed", users[Role.ARCHITECT])
        dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])
    client = api(users[Role.DESK_AGENT])
    with django_assert_max_num_queries(3):  # roles, count, page (with procedure, commune, applicant, architect)
        page = ok(client.get("/api/dossiers/", {"page_size": 4}))
    assert page["count"] == 6 and len(page["results"]) == 4 and page["next"] and page["previous"] is None
    assert [d["title"] for d in page["results"]] == ["Projet 5", "Projet 4", "Projet 3", "Projet 2"]
    with django_assert_max_num_queries(3):
        second = ok(client.get("/api/dossiers/", {"page_size": 4, "page": 2}))
    assert len(second["results"]) == 2

    submitted = ok(client.get("/api/dossiers/", {"status": "submitted"}))
    assert sorted(d["title"] for d in submitted["results"]) == ["Projet 0", "Projet 1"]
    both = ok(client.get("/api/dossiers/?status=submitted&status=draft"))
    assert both["count"] == 6
    year = timezone.localdate().year
    by_reference = ok(client.get("/api/dossiers/", {"reference": f"test-01-{year}-00002"}))
    assert [d["title"] for d in by_reference["results"]] == ["Projet 1"]
    assert ok(client.get("/api/dossiers/", {"commune": "TEST-01", "procedure": "test-building-permit"}))["count"] == 6
    assert ok(client.get("/api/dossiers/", {"commune": "ELSEWHERE"}))["count"] == 0
    assert "status" in problem(client.get("/api/dossiers/", {"status": "pending"}), 400)["errors"]
    problem(client.get("/api/dossiers/", {"page": 9}), 404)

    # Filers see their own only.
    assert ok(api(users[Role.ARCHITECT]).get("/api/dossiers/"))["count"] == 6
    assert ok(api(users["other_architect"]).get("/api/dossiers/"))["count"] == 0


def test_the_detail_has_a_bounded_number_of_queries(complete_draft, users, django_assert_max_num_queries):
    dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    for _round in range(3):
        upload(complete_draft, "site-photos", users[Role.ARCHITECT])
    desk = api(users[Role.DESK_AGENT])
    # roles, dossier, parcels, documents, verdicts, checklist, clock stops, holidays
    with django_assert_max_num_queries(8):
        detail = ok(desk.get(f"/api/dossiers/{complete_draft.pk}/"))
    assert len(detail["documents"]) == 5
    assert detail["clock"]["step"] == "completeness_check" and detail["clock"]["step_deadline_days"] == 2
    assert detail["clock"]["step_due_on"] == WorkingCalendar().add_working_days(timezone.localdate(), 2).isoformat()
    assert {a["action"] for a in detail["actions"]} == {"accept", "declare_inadmissible"}
    assert not detail["can_edit"] and not detail["can_upload"]  # the desk does not file


# --- the desk ----------------------------------------------------------------------------------------


def test_completeness_is_all_or_nothing_then_inadmissible(complete_draft, users):
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    desk = api(users[Role.DESK_AGENT])
    url = f"/api/dossiers/{dossier.pk}/completeness/"
    no_reason = [{"item": "architectural-plans", "verdict": "present"}, {"item": "title-deed", "verdict": "missing"}]
    assert "Say what is missing or wrong" in problem(desk.post(url, no_reason, format="json"), 400)["detail"]
    unknown = [{"item": "floor-plan", "verdict": "present"}]
    assert "floor-plan" in problem(desk.post(url, unknown, format="json"), 400)["detail"]
    problem(desk.post(url, [], format="json"), 400)
    assert not CompletenessReview.objects.exists()

    problem(desk.post(f"/api/dossiers/{dossier.pk}/transitions/", {"action": "accept"}), 400)
    no_item = problem(desk.post(f"/api/dossiers/{dossier.pk}/transitions/", {"action": "declare_inadmissible",
                                                                             "reason": "Incomplete"}), 400)  # fmt: skip
    assert "Mark at least one missing" in no_item["detail"]
    no_reason[1]["reason"] = "The deed is not legible."
    checked = ok(desk.post(url, no_reason, format="json"))
    deed = next(row for row in checked["checklist"] if row["item"] == "title-deed")
    assert deed["verdict"] == "missing" and deed["verdict_reason"] == "The deed is not legible."
    done = act(desk, dossier.pk, "declare_inadmissible", reason="The title deed is missing.")
    assert done["status"] == "inadmissible"
    # The architect reads the verdicts on the dossier.
    seen = ok(api(users[Role.ARCHITECT]).get(f"/api/dossiers/{dossier.pk}/"))
    assert next(row for row in seen["checklist"] if row["item"] == "title-deed")["verdict"] == "missing"
    # Once the check is over, no more verdicts.
    assert "submitted dossier" in problem(desk.post(url, no_reason, format="json"), 400)["detail"]


def test_the_desk_overrides_the_classification_with_a_reason(complete_draft, users):
    desk = api(users[Role.DESK_AGENT])
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    url = f"/api/dossiers/{dossier.pk}/classification/"
    problem(desk.post(url, {"classification": "large"}, format="json"), 400)
    problem(desk.post(url, {"classification": "huge", "reason": "x"}, format="json"), 400)
    changed = ok(desk.post(url, {"classification": "large", "reason": "Open to the public."}, format="json"))
    assert changed["classification"] == "large" and changed["classification_overridden"] is True
    assert changed["classification_override_reason"] == "Open to the public."
    assert "Open to the public." in changed["classification_rule"]
    timeline = ok(api(users[Role.ARCHITECT]).get(f"/api/dossiers/{dossier.pk}/timeline/"))
    assert timeline[-1]["kind"] == "reclassified" and timeline[-1]["data"] == {"from": "small", "to": "large"}
    act(api(users[Role.ARCHITECT]), dossier.pk, "withdraw")
    closed = problem(desk.post(url, {"classification": "small", "reason": "x"}, format="json"), 400)
    assert "not while the dossier is “Withdrawn”" in closed["detail"]
    dossier.procedure.classifiable = False
    dossier.procedure.save()
    not_here = problem(desk.post(url, {"classification": "small", "reason": "x"}, format="json"), 400)
    assert "does not apply to this procedure" in not_here["detail"]


def test_desk_lists_are_bounded_and_overdue_shows_the_late(
    users, building_permit, casablanca_world, django_assert_max_num_queries
):
    dossiers = _many_dossiers(users, building_permit, casablanca_world, 5)
    for dossier in dossiers:
        upload(dossier, "architectural-plans", users[Role.ARCHITECT])
        upload(dossier, "title-deed", users[Role.ARCHITECT])
        dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])
    # Two were submitted three weeks ago: their two-working-day completeness check is overdue.
    three_weeks_ago = timezone.now() - timedelta(days=21)
    Dossier.objects.filter(pk__in=[d.pk for d in dossiers[:2]]).update(status_changed_at=three_weeks_ago)
    desk = api(users[Role.DESK_AGENT])
    with django_assert_max_num_queries(5):  # roles, holidays, count, page, clock stops
        incoming = ok(desk.get("/api/desk/incoming/"))
    assert incoming["count"] == 5 and all(row["clock"]["step"] == "completeness_check" for row in incoming["results"])
    desk = api(users[Role.DESK_AGENT])
    with django_assert_max_num_queries(5):  # roles, holidays, running dossiers, clock stops, architects
        overdue = ok(desk.get("/api/desk/overdue/"))
    assert sorted(row["id"] for row in overdue["results"]) == sorted(d.pk for d in dossiers[:2])
    assert all(row["clock"]["overdue"] and row["clock"]["step_remaining_days"] < 0 for row in overdue["results"])


# --- timeline and notifications ----------------------------------------------------------------------


def test_notifications_mask_addresses_and_errors_for_filers(complete_draft, users, django_assert_max_num_queries):
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    from permits.notifications import dossier_event_notify

    dossier_event_notify(dossier_id=dossier.pk, event="submitted")
    Notification.objects.filter(channel="sms").update(attempts=2, last_error="gateway answered HTTP 503")
    url = f"/api/dossiers/{dossier.pk}/notifications/"
    filer = {n["channel"]: n for n in ok(api(users[Role.ARCHITECT]).get(url))}
    desk = api(users[Role.DESK_AGENT])
    with django_assert_max_num_queries(3):  # roles, dossier, notifications
        staff = {n["channel"]: n for n in ok(desk.get(url))}
    assert filer["sms"]["address"] == "+212*******01" and staff["sms"]["address"] == "+212600000001"
    assert filer["sms"]["attempts"] == staff["sms"]["attempts"] == 2 and filer["sms"]["status"] == "pending"
    assert staff["sms"]["last_error"] == "gateway answered HTTP 503"
    assert filer["sms"]["last_error"] == "The last delivery attempt failed; it is retried automatically."
    assert filer["email"]["last_error"] == "" and filer["email"]["subject"].startswith("Taamir")


def test_internal_events_are_for_staff_only(complete_draft, users, django_assert_max_num_queries):
    DossierEvent.objects.create(dossier=complete_draft, kind="note", message="Internal note", public=False)
    url = f"/api/dossiers/{complete_draft.pk}/timeline/"
    filer = ok(api(users[Role.ARCHITECT]).get(url))
    planner = api(users[Role.PLANNER])
    with django_assert_max_num_queries(3):  # roles, dossier, events with their actors
        staff = ok(planner.get(url))
    assert "Internal note" not in [e["message"] for e in filer]
    assert "Internal note" in [e["message"] for e in staff]
    assert [e["kind"] for e in filer] == ["document", "document"]
    assert {e["actor"] for e in staff if e["kind"] == "document"} == {"t.architect"}


# --- workflow refusals -------------------------------------------------------------------------------


def test_refused_transitions_are_problem_documents(draft, users):
    architect = api(users[Role.ARCHITECT])
    url = f"/api/dossiers/{draft.pk}/transitions/"
    incomplete = problem(architect.post(url, {"action": "submit"}), 400)
    assert "Missing main document: architectural-plans." in incomplete["detail"]
    assert incomplete["type"] == "urn:taamir:problem:transition-refused"
    wrong_state = problem(architect.post(url, {"action": "resubmit"}), 400)
    assert "is not possible while the dossier is “Draft”" in wrong_state["detail"]
    unknown = problem(architect.post(url, {"action": "teleport"}), 400)
    assert "action" in unknown["errors"]
    mine(draft, users)
    upload(draft, "architectural-plans", users[Role.ARCHITECT])
    upload(draft, "title-deed", users[Role.ARCHITECT])
    desk = problem(api(users[Role.DESK_AGENT]).post(url, {"action": "submit"}), 403)
    assert desk["type"] == "urn:taamir:problem:forbidden" and "not allowed" in desk["detail"]
    # The applicant's own account may submit what the architect prepared.
    assert act(api(users[Role.APPLICANT]), draft.pk, "submit")["status"] == "submitted"
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    CompletenessReview.objects.bulk_create(
        CompletenessReview(dossier=draft, checklist_item=item, verdict="present", reviewed_by=users[Role.DESK_AGENT])
        for item in ChecklistItem.objects.filter(procedure=draft.procedure)
    )
    act(api(users[Role.DESK_AGENT]), draft.pk, "accept")
    past_date = problem(api(users[Role.DESK_AGENT]).post(url, {"action": "schedule", "session_date": past}), 400)
    assert "in the past" in past_date["detail"]
    no_date = problem(api(users[Role.DESK_AGENT]).post(url, {"action": "schedule"}), 400)
    assert "Give the committee date" in no_date["detail"]
    system = problem(api(users["admin"]).post(url, {"action": "deem_approved"}), 403)
    assert system["status"] == 403


# --- authentication ----------------------------------------------------------------------------------


def test_session_authentication_enforces_csrf_and_basic_works(draft, users):
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.login(username="t.architect", password="pw-t.architect")
    assert ok(client.get(f"/api/dossiers/{draft.pk}/"))["id"] == draft.pk
    problem(client.patch(f"/api/dossiers/{draft.pk}/", {"title": "x"}, format="json"), 403)
    basic = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    credentials = base64.b64encode(b"t.architect:pw-t.architect").decode()
    basic.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert ok(basic.patch(f"/api/dossiers/{draft.pk}/", {"title": "By basic"}, format="json"))["title"] == "By basic"
    wrong = APIClient(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"t.architect:nope").decode())
    problem(wrong.get("/api/dossiers/"), unauthenticated_status())


@pytest.mark.skipif(
    not apps.is_installed("rest_framework.authtoken"), reason="rest_framework.authtoken is not in INSTALLED_APPS yet"
)
def test_token_authentication(draft, users):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=users[Role.ARCHITECT])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ok(client.get(f"/api/dossiers/{draft.pk}/"))["id"] == draft.pk
    anonymous = APIClient().get("/api/dossiers/")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"


# --- the schema --------------------------------------------------------------------------------------


def test_every_operation_is_in_the_openapi_schema_with_its_tag(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    schema = ok(response)
    operations = {
        operation["operationId"]: (method, path, operation["tags"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    expected = {
        "procedure_list": ("get", "/api/procedures/", ["procedures"]),
        "procedure_detail": ("get", "/api/procedures/{code}/", ["procedures"]),
        "dossier_list": ("get", "/api/dossiers/", ["dossiers"]),
        "dossier_create": ("post", "/api/dossiers/", ["dossiers"]),
        "dossier_detail": ("get", "/api/dossiers/{dossier_id}/", ["dossiers"]),
        "dossier_update": ("patch", "/api/dossiers/{dossier_id}/", ["dossiers"]),
        "document_upload": ("post", "/api/dossiers/{dossier_id}/documents/", ["dossiers"]),
        "document_file": ("get", "/api/dossiers/{dossier_id}/documents/{document_id}/file", ["dossiers"]),
        "dossier_receipt": ("get", "/api/dossiers/{dossier_id}/receipt.pdf", ["dossiers"]),
        "dossier_transition": ("post", "/api/dossiers/{dossier_id}/transitions/", ["dossiers"]),
        "dossier_timeline": ("get", "/api/dossiers/{dossier_id}/timeline/", ["dossiers"]),
        "dossier_notifications": ("get", "/api/dossiers/{dossier_id}/notifications/", ["dossiers"]),
        "dossier_completeness_record": ("post", "/api/dossiers/{dossier_id}/completeness/", ["desk"]),
        "dossier_classification_set": ("post", "/api/dossiers/{dossier_id}/classification/", ["desk"]),
        "desk_overdue_list": ("get", "/api/desk/overdue/", ["desk"]),
        "desk_incoming_list": ("get", "/api/desk/incoming/", ["desk"]),
    }
    assert {key: operations[key] for key in expected} == expected
    create = schema["paths"]["/api/dossiers/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("DossierCreateInput")
    upload_body = schema["paths"]["/api/dossiers/{dossier_id}/documents/"]["post"]["requestBody"]["content"]
    assert list(upload_body) == ["multipart/form-data"]
    detail = schema["components"]["schemas"]["DossierDetailOutput"]["properties"]
    assert {"clock", "documents", "actions", "site", "checklist"} <= set(detail)
    statuses = schema["components"]["schemas"]["StatusEnum"]["enum"]
    assert set(statuses) == set(Status.values)
