"""Fixtures of the geo-portal services: a small world of authorised works and parcels near Casablanca,
a dossier whose applicant has personal data (to prove it never leaks), and accounts with and without the
right to read internal layers.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

from geo.models import AuthorisedWork
from permits.models import Applicant, Dossier, Procedure
from permits.roles import Role
from tests.conftest import merchich_box

# Personal data of the dossier's applicant: none of these may appear in any public or internal output.
PERSONAL_DATA = ("BK123456", "Secretname", "yasmine.secret@example.org", "600112233", "Rue des Secrets")
PLANNER_PASSWORD = "pw-planner-geo"
APPLICANT_PASSWORD = "pw-applicant-geo"


def _user(username: str, password: str, *roles: str) -> User:
    user = User.objects.create_user(username=username, password=password, email=f"{username}@example.org")
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def geo_portal_world(casablanca_world):
    """``casablanca_world`` plus three authorised works, an internal dossier, a planner (with an API token)
    and an applicant (no internal access).

    The works lie on the commune near Casablanca (about lon -7.6, lat 33.6): two authorised, one withdrawn.
    """
    commune = casablanca_world["commune"]
    works = {
        "house": AuthorisedWork.objects.create(
            reference="TEST-01-2025-00001", procedure_code="permis-construire", procedure_name="Permis de construire",
            commune=commune, decision_date=dt.date(2025, 3, 10), floors=2, use="housing", built_area_m2=180.0,
            dwellings=1, status="authorised", verification_code="VERIF0000000001",
            geom=merchich_box(-195, -195, -185, -175),
        ),
        "flats": AuthorisedWork.objects.create(
            reference="TEST-01-2025-00002", procedure_code="permis-construire", procedure_name="Permis de construire",
            commune=commune, decision_date=dt.date(2025, 9, 1), floors=5, use="housing", built_area_m2=1200.0,
            dwellings=10, status="authorised", verification_code="VERIF0000000002",
            geom=merchich_box(105, 105, 125, 135),
        ),
        "shop": AuthorisedWork.objects.create(
            reference="TEST-01-2024-00003", procedure_code="permis-construire", procedure_name="Permis de construire",
            commune=commune, decision_date=dt.date(2024, 6, 15), floors=1, use="commercial", built_area_m2=90.0,
            dwellings=0, status="withdrawn", verification_code="VERIF0000000003",
            geom=merchich_box(600, 600, 620, 620),
        ),
    }  # fmt: skip
    planner = _user("geo.planner", PLANNER_PASSWORD, Role.PLANNER)
    applicant_user = _user("geo.applicant", APPLICANT_PASSWORD, Role.APPLICANT)
    token = Token.objects.create(user=planner)
    procedure = Procedure.objects.create(
        code="geo-test-permit", name_fr="Permis test", name_ar="رخصة", name_en="Test permit", family="urbanism",
        committee_kind="by_classification",
    )  # fmt: skip
    applicant = Applicant.objects.create(
        first_name="Yasmine", last_name="Secretname", national_id="BK123456", email="yasmine.secret@example.org",
        phone="+212600112233", address="12 Rue des Secrets", user=applicant_user,
    )  # fmt: skip
    dossier = Dossier.objects.create(
        reference="TEST-01-2025-00042", procedure=procedure, commune=commune, applicant=applicant,
        created_by=applicant_user, status="submitted", classification="small", title="Maison Secretname",
        submitted_at=dt.datetime(2025, 10, 1, 9, 30, tzinfo=dt.UTC), site=merchich_box(-200, -200, -180, -170),
    )  # fmt: skip
    return {
        **casablanca_world,
        "works": works,
        "planner": planner,
        "token": token.key,
        "applicant_user": applicant_user,
        "dossier": dossier,
    }
