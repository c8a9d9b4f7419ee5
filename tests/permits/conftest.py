"""Fixtures for dossiers: one user per role (and a second architect), a building-permit procedure, drafts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile

from permits.models import ChecklistItem, DocumentKind, Procedure
from permits.roles import Role
from permits.services import ApplicantData, document_upload, dossier_save_draft

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_user(username: str, *roles: str) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.org")
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def users(db) -> dict[str, User]:
    """One account per role, plus ``other_architect`` and ``other_applicant`` who own nothing."""
    accounts = {role: make_user(f"t.{role}", role) for role in Role.values if role != Role.ADMIN}
    accounts["admin"] = User.objects.create_superuser("t.admin", "admin@example.org", "pw-admin")
    accounts["other_architect"] = make_user("t.other_architect", Role.ARCHITECT)
    accounts["other_applicant"] = make_user("t.other_applicant", Role.APPLICANT)
    return accounts


@pytest.fixture
def building_permit(db) -> Procedure:
    """A building permit with two main documents and one information document, and the GP/PP figures."""
    procedure = Procedure.objects.create(
        code="test-building-permit",
        name_fr="Permis de construire",
        name_ar="رخصة البناء",
        name_en="Building permit",
        family="urbanism",
        committee_kind="by_classification",
        classifiable=True,
        form_fields=[
            {"name": "floors", "type": "int", "required": True, "min": 0, "label": {"fr": "Niveaux"}},
            {"name": "height_m", "type": "decimal", "required": True, "min": 0, "label": {"fr": "Hauteur"}},
            {"name": "built_area_m2", "type": "decimal", "required": True, "min": 0, "label": {"fr": "Surface"}},
            {"name": "dwellings", "type": "int", "min": 0, "label": {"fr": "Logements"}},
            {"name": "use", "type": "choice", "required": True, "label": {"fr": "Usage"},
             "choices": [{"value": v} for v in ("housing", "commercial", "industrial", "public_facility")]},
            {"name": "public_project", "type": "bool", "label": {"fr": "Projet public"}},
            {"name": "open_to_public", "type": "bool", "label": {"fr": "Établissement recevant du public"}},
        ],
        deadlines={"completeness_check": 2, "send_to_members": 3, "member_opinions": 15, "minutes": 3,
                   "notify_decision": 2, "applicant_changes": 30},
        tacit_approval_days=60,
        validity_months=12,
    )  # fmt: skip
    for position, (code, kind, formats) in enumerate(
        [
            ("architectural-plans", DocumentKind.MAIN, ["pdf", "dxf"]),
            ("title-deed", DocumentKind.MAIN, ["pdf", "jpeg", "png"]),
            ("site-photos", DocumentKind.INFORMATION, ["jpeg", "png", "pdf"]),
        ]
    ):
        ChecklistItem.objects.create(
            procedure=procedure, code=code, name_fr=code, name_ar=code, name_en=code, kind=kind, formats=formats,
            max_size_mb=1, position=position,
        )  # fmt: skip
    return procedure


SMALL_HOUSE = {"floors": 2, "height_m": 8.5, "built_area_m2": 180, "use": "housing", "dwellings": 1}


@pytest.fixture
def draft(users, building_permit, casablanca_world):
    """A draft filed by the architect for a person, on one parcel, with figures of a small house."""
    return dossier_save_draft(
        actor=users[Role.ARCHITECT],
        procedure=building_permit,
        applicant=ApplicantData(
            first_name="Yasmine", last_name="El Amrani", national_id="BE123456", email="yasmine@example.org",
            phone="+212600000001",
        ),
        parcels=[casablanca_world["flat"]],
        title="Maison R+1",
        figures=SMALL_HOUSE,
    )  # fmt: skip


def upload(dossier, code: str, user, content: bytes = PDF_BYTES, name: str = "file.pdf"):
    return document_upload(dossier=dossier, item_code=code, uploaded_file=SimpleUploadedFile(name, content), actor=user)


@pytest.fixture
def complete_draft(draft, users):
    """The draft with both main documents uploaded: ready to submit."""
    upload(draft, "architectural-plans", users[Role.ARCHITECT])
    upload(draft, "title-deed", users[Role.ARCHITECT])
    return draft
