"""Fixtures for committee tests: organisations, the two committees of the test commune, selection rules,
and helpers that take a dossier to ``accepted`` on a given day (members selected on the way)."""

from __future__ import annotations

from datetime import date, time

import pytest

from permits.committee_models import Committee, Organisation, SelectionRule
from permits.models import Dossier
from permits.roles import Role
from permits.services import ApplicantData, dossier_save_draft
from tests.permits.conftest import SMALL_HOUSE, make_user, upload
from tests.permits.test_workflow import step

# Autumn 2025: Green March on Thursday 6 and Independence Day on Tuesday 18 November.
MON_3_NOV = date(2025, 11, 3)
TOWER = {"floors": 6, "height_m": 19.5, "built_area_m2": 2400, "use": "housing", "dwellings": 24}


def organisation(code: str, kind: str, fr: str, ar: str, en: str, **extra) -> Organisation:
    return Organisation.objects.create(code=code, kind=kind, name_fr=fr, name_ar=ar, name_en=en, **extra)


@pytest.fixture
def committee_world(db, casablanca_world):
    """Permanent commune, prefecture and urban agency; civil protection above 15.5 m; heritage in a perimeter."""
    commune = casablanca_world["commune"]
    SelectionRule.objects.update(active=False)  # the rules loaded as data belong to other tests
    orgs = {
        "commune": organisation("t-commune", "commune", "Commune test", "جماعة الاختبار", "Test commune"),
        "prefecture": organisation("t-prefecture", "prefecture", "Préfecture test", "عمالة الاختبار", "Prefecture"),
        "agency": organisation(
            "t-agency", "urban_agency", "Agence urbaine", "الوكالة الحضرية", "Urban agency", binding_opinion=True
        ),
        "civil": organisation(
            "t-civil", "civil_protection", "Protection civile", "الوقاية المدنية", "Civil protection"
        ),
        "heritage": organisation("t-heritage", "heritage", "Patrimoine", "التراث", "Heritage authority"),
        "airport": organisation("t-airport", "airport_authority", "Aéroports", "المطارات", "Airports"),
    }
    committees = {}
    for kind, weekdays, capacity in (("small_projects", [1, 3], 3), ("large_projects", [2], 2)):
        committee = Committee.objects.create(
            code=f"t-{kind}", name_fr=f"Commission {kind}", name_ar="لجنة", name_en=f"Committee {kind}", kind=kind,
            commune=commune, weekdays=weekdays, start_time=time(9, 30), capacity=capacity, minutes_per_dossier=20,
        )  # fmt: skip
        committee.permanent_organisations.set([orgs["commune"], orgs["prefecture"], orgs["agency"]])
        committees[kind] = committee
    rules = {
        "civil": SelectionRule.objects.create(
            code="t-height", organisation=orgs["civil"], position=1,
            label_fr="Hauteur supérieure à 15,50 m", label_ar="علو يفوق 15,50 م", label_en="Height above 15.50 m",
            conditions=[{"field": "height_m", "op": "gt", "value": 15.5}],
        ),
        "heritage": SelectionRule.objects.create(
            code="t-heritage", organisation=orgs["heritage"], position=2,
            label_fr="Site dans un périmètre patrimonial", label_ar="موقع داخل محيط تراثي",
            label_en="Site in a heritage perimeter",
            conditions=[{"field": "constraint_kind", "op": "intersects", "value": "heritage"}],
        ),
        "airport": SelectionRule.objects.create(
            code="t-airport", organisation=orgs["airport"], position=3,
            label_fr="Servitude aéronautique", label_ar="ارتفاق جوي", label_en="Airport servitude",
            conditions=[{"field": "constraint_kind", "op": "intersects", "value": "airport_servitude"}],
        ),
    }  # fmt: skip
    for org in orgs.values():
        org.members.add(make_user(f"m.{org.code}", Role.COMMITTEE_MEMBER))
    return {"orgs": orgs, "committees": committees, "rules": rules, **casablanca_world}


def new_dossier(users, procedure, world, *, parcel: str = "flat", figures: dict | None = None, title: str = "Maison"):
    dossier = dossier_save_draft(
        actor=users[Role.ARCHITECT], procedure=procedure,
        applicant=ApplicantData(first_name="Yasmine", last_name="El Amrani", national_id="BE123456",
                                email="yasmine@example.org", phone="+212600000001"),
        parcels=[world[parcel]], title=title, figures=figures or SMALL_HOUSE,
    )  # fmt: skip
    upload(dossier, "architectural-plans", users[Role.ARCHITECT])
    upload(dossier, "title-deed", users[Role.ARCHITECT])
    return dossier


def accept(dossier: Dossier, users, day: date = MON_3_NOV) -> Dossier:
    dossier = step(dossier, users, "submit", today=day)
    return step(dossier, users, "accept", today=day)
