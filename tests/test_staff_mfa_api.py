"""Staff roles cannot reach the API without their second factor: no password-only Basic auth, no
session without MFA; non-staff accounts keep HTTP Basic (QGIS and scripts use it)."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

pytestmark = pytest.mark.django_db


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def accounts():
    desk = User.objects.create_user("desk1", password="pw-desk-123")
    desk.groups.add(Group.objects.get_or_create(name="desk_agent")[0])
    architect = User.objects.create_user("arch1", password="pw-arch-123")
    architect.groups.add(Group.objects.get_or_create(name="architect")[0])
    return desk, architect


def test_basic_auth_is_refused_for_staff_when_mfa_is_required(settings, accounts):
    settings.TAAMIR_REQUIRE_STAFF_MFA = True
    response = Client().get("/api/dossiers/", HTTP_ACCEPT_LANGUAGE="en", **basic("desk1", "pw-desk-123"))
    assert response.status_code == 401
    assert "API token" in response.json()["detail"]
    assert Client().get("/api/dossiers/", **basic("arch1", "pw-arch-123")).status_code == 200


def test_basic_auth_works_for_staff_when_mfa_is_not_required(settings, accounts):
    settings.TAAMIR_REQUIRE_STAFF_MFA = False
    assert Client().get("/api/dossiers/", **basic("desk1", "pw-desk-123")).status_code == 200


def test_a_staff_session_without_mfa_gets_a_problem_document_on_the_api(settings, accounts):
    settings.TAAMIR_REQUIRE_STAFF_MFA = True
    client = Client()
    client.force_login(accounts[0])
    response = client.get("/api/dossiers/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:taamir:problem:mfa-required"
    assert client.get("/dossiers/").status_code == 302
