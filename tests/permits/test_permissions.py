"""The permission matrix of the permits API: every role (and anonymous, and strangers) × every endpoint.

Each cell is one request by one user on a dossier filed by ``t.architect`` for an applicant whose own
account is ``t.applicant``; ``other_architect`` and ``other_applicant`` file nothing and must find no
trace of it (404, never 403). Staff roles see every dossier; only the right roles may act. Errors are
always problem documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from permits.deadlines import WorkingCalendar
from permits.models import ChecklistItem, CompletenessReview, Dossier
from permits.roles import Role
from permits.workflow import dossier_transition
from tests.permits.conftest import PDF_BYTES, SMALL_HOUSE

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
OWN_FILERS = {Role.ARCHITECT, Role.APPLICANT}
STRANGERS = {"other_architect", "other_applicant"}
STAFF = {
    Role.DESK_AGENT,
    Role.COMMITTEE_MEMBER,
    Role.COMMITTEE_PRESIDENT,
    Role.SIGNING_AUTHORITY,
    Role.INSPECTOR,
    Role.PLANNER,
    "admin",  # a superuser: every role
}
EVERYONE = [*sorted(OWN_FILERS | STRANGERS | STAFF), ANONYMOUS]


def unauthenticated() -> int:
    """401 once DRF tokens are installed (the token scheme is the challenge); 403 with sessions first."""
    return 401 if apps.is_installed("rest_framework.authtoken") else 403


# --- who gets what -----------------------------------------------------------------------------------


def public(role: str, ok: int) -> int:
    return ok


def signed_in(role: str, ok: int) -> int:
    return unauthenticated() if role == ANONYMOUS else ok


def filing_roles(role: str, ok: int) -> int:
    """Creating a dossier: applicants and architects (any of them), and the superuser."""
    if role == ANONYMOUS:
        return unauthenticated()
    return ok if role in OWN_FILERS | STRANGERS | {"admin"} else 403


def _on_the_dossier(role: str, allowed: set[str], ok: int) -> int:
    if role == ANONYMOUS:
        return unauthenticated()
    if role in STRANGERS:
        return 404
    return ok if role in allowed else 403


def visible(role: str, ok: int) -> int:
    return _on_the_dossier(role, OWN_FILERS | STAFF, ok)


def its_filers(role: str, ok: int) -> int:
    return _on_the_dossier(role, OWN_FILERS | {"admin"}, ok)


def desk(role: str, ok: int) -> int:
    return _on_the_dossier(role, {Role.DESK_AGENT, "admin"}, ok)


def presidency(role: str, ok: int) -> int:
    return _on_the_dossier(role, {Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT, "admin"}, ok)


def desk_list(role: str, ok: int) -> int:
    if role == ANONYMOUS:
        return unauthenticated()
    return ok if role in {Role.DESK_AGENT, "admin"} else 403


# --- the world each cell starts from -----------------------------------------------------------------


def _present(dossier: Dossier, desk_agent: User) -> None:
    CompletenessReview.objects.bulk_create(
        CompletenessReview(dossier=dossier, checklist_item=item, verdict="present", reviewed_by=desk_agent)
        for item in ChecklistItem.objects.filter(procedure=dossier.procedure, kind="main")
    )


def dossier_in(state: str, dossier: Dossier, users: dict[str, User]) -> Dossier:
    """The complete draft moved on to ``state`` by the people who would do it."""
    if state == "draft":
        return dossier
    dossier = dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])
    if state == "submitted":
        return dossier
    _present(dossier, users[Role.DESK_AGENT])
    if state == "checked":
        return dossier
    dossier = dossier_transition(dossier=dossier, action="accept", actor=users[Role.DESK_AGENT])
    session = WorkingCalendar().add_working_days(timezone.localdate(), 2)
    dossier = dossier_transition(
        dossier=dossier, action="schedule", actor=users[Role.DESK_AGENT], data={"session_date": session}
    )
    assert state == "scheduled"
    return dossier


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # formatted with the dossier's ``id`` and its first document's ``doc``
    who: Callable[[str, int], int]
    ok: int = 200
    state: str = "draft"
    body: Callable[[], object] | None = None
    format: str = "json"


def _pdf() -> dict:
    return {"item": "site-photos", "file": SimpleUploadedFile("photo.pdf", PDF_BYTES)}


def _new_draft() -> dict:
    return {
        "procedure": "test-building-permit",
        "applicant": {"first_name": "Omar", "last_name": "Bennani", "national_id": "AB1", "email": "o@example.org"},
        "parcel_references": ["TF 1001/C"],
        "figures": SMALL_HOUSE,
    }


ENDPOINTS = [
    Endpoint("procedure-list", "get", "/api/procedures/", public),
    Endpoint("procedure-detail", "get", "/api/procedures/test-building-permit/", public),
    Endpoint("dossier-list", "get", "/api/dossiers/", signed_in),
    Endpoint("dossier-create", "post", "/api/dossiers/", filing_roles, 201, body=_new_draft),
    Endpoint("dossier-detail", "get", "/api/dossiers/{id}/", visible),
    Endpoint("dossier-update", "patch", "/api/dossiers/{id}/", its_filers, body=lambda: {"title": "Renamed"}),
    Endpoint("document-upload", "post", "/api/dossiers/{id}/documents/", its_filers, 201, body=_pdf,
             format="multipart"),
    Endpoint("document-file", "get", "/api/dossiers/{id}/documents/{doc}/file", visible),
    Endpoint("receipt", "get", "/api/dossiers/{id}/receipt.pdf", visible, state="submitted"),
    Endpoint("timeline", "get", "/api/dossiers/{id}/timeline/", visible),
    Endpoint("notifications", "get", "/api/dossiers/{id}/notifications/", visible),
    Endpoint("transition-submit", "post", "/api/dossiers/{id}/transitions/", its_filers,
             body=lambda: {"action": "submit"}),
    Endpoint("transition-withdraw", "post", "/api/dossiers/{id}/transitions/", its_filers, state="submitted",
             body=lambda: {"action": "withdraw"}),
    Endpoint("transition-accept", "post", "/api/dossiers/{id}/transitions/", desk, state="checked",
             body=lambda: {"action": "accept"}),
    Endpoint("transition-start-review", "post", "/api/dossiers/{id}/transitions/", presidency, state="scheduled",
             body=lambda: {"action": "start_review"}),
    Endpoint("completeness", "post", "/api/dossiers/{id}/completeness/", desk, state="submitted",
             body=lambda: [{"item": "architectural-plans", "verdict": "present"}]),
    Endpoint("classification", "post", "/api/dossiers/{id}/classification/", desk, state="submitted",
             body=lambda: {"classification": "large", "reason": "Open to the public."}),
    Endpoint("desk-incoming", "get", "/api/desk/incoming/", desk_list),
    Endpoint("desk-overdue", "get", "/api/desk/overdue/", desk_list),
]  # fmt: skip


@pytest.fixture
def own_dossier(complete_draft, users) -> Dossier:
    """The complete draft of ``t.architect``, whose applicant signs in as ``t.applicant``."""
    complete_draft.applicant.user = users[Role.APPLICANT]
    complete_draft.applicant.save()
    return complete_draft


def client_for(role: str, users: dict[str, User]) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if role != ANONYMOUS:
        client.force_authenticate(User.objects.get(pk=users[role].pk))
    return client


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_permission_matrix(endpoint: Endpoint, role: str, own_dossier, users):
    dossier = dossier_in(endpoint.state, own_dossier, users)
    path = endpoint.path.format(id=dossier.pk, doc=dossier.documents.order_by("pk").first().pk)
    client = client_for(role, users)
    if endpoint.body is None:
        response = getattr(client, endpoint.method)(path)
    else:
        response = getattr(client, endpoint.method)(path, endpoint.body(), format=endpoint.format)
    expected = endpoint.who(role, endpoint.ok)
    assert response.status_code == expected, (role, endpoint.name, response.content[:300])
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == expected


# --- around the matrix -------------------------------------------------------------------------------


def without_numbers(body: dict) -> dict:
    return {key: re.sub(r"\d+", "N", value) if isinstance(value, str) else value for key, value in body.items()}


@pytest.mark.parametrize("stranger", sorted(STRANGERS))
def test_a_strangers_404_says_nothing_more_than_for_a_dossier_that_does_not_exist(stranger, own_dossier, users):
    client = client_for(stranger, users)
    missing_id = Dossier.objects.order_by("-pk").first().pk + 1000
    for suffix in ["", "timeline/", "notifications/", "receipt.pdf"]:
        hidden = client.get(f"/api/dossiers/{own_dossier.pk}/{suffix}").json()
        absent = client.get(f"/api/dossiers/{missing_id}/{suffix}").json()
        assert without_numbers(hidden) == without_numbers(absent)
        assert hidden["status"] == 404 and hidden["detail"] == f"No dossier with id {own_dossier.pk}."
    listed = client.get("/api/dossiers/").json()
    assert listed["count"] == 0


def test_each_filer_sees_only_their_own_dossiers(own_dossier, users, building_permit):
    other = client_for("other_architect", users)
    created = other.post("/api/dossiers/", _new_draft(), format="json")
    assert created.status_code == 201, created.content
    for role, expected in [
        (Role.ARCHITECT, {own_dossier.pk}),
        (Role.APPLICANT, {own_dossier.pk}),
        ("other_architect", {created.json()["id"]}),
        ("other_applicant", set()),
        (Role.INSPECTOR, {own_dossier.pk, created.json()["id"]}),
    ]:
        listed = client_for(role, users).get("/api/dossiers/").json()
        assert {row["id"] for row in listed["results"]} == expected, role
    assert client_for(Role.ARCHITECT, users).get(f"/api/dossiers/{created.json()['id']}/").status_code == 404


def test_write_refusals_change_nothing(own_dossier, users):
    """A refused write leaves the dossier as it was: no title change, no document, no status change."""
    before = (own_dossier.title, own_dossier.status, own_dossier.documents.count())
    for role in [Role.DESK_AGENT, "other_architect", ANONYMOUS]:
        client = client_for(role, users)
        client.patch(f"/api/dossiers/{own_dossier.pk}/", {"title": "Hijacked"}, format="json")
        client.post(f"/api/dossiers/{own_dossier.pk}/documents/", _pdf(), format="multipart")
        client.post(f"/api/dossiers/{own_dossier.pk}/transitions/", {"action": "submit"}, format="json")
    own_dossier.refresh_from_db()
    assert (own_dossier.title, own_dossier.status, own_dossier.documents.count()) == before
