"""Automatic member selection: permanent organisations, rules on figures and on constraint areas, reasons
in the active language, idempotence, the run on acceptance and the desk's consultative invitee."""

# ruff: noqa: F811 (the committee_world fixture is imported)
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from permits.audit import audit_verify
from permits.committee_models import DossierMember
from permits.committees import (
    BookingForbidden,
    BookingRefused,
    committee_for_dossier,
    dossier_member_lines,
    invitee_add,
    member_selection_apply,
)
from permits.models import AuditRecord
from permits.roles import Role
from tests.permits.committee_world import (
    TOWER,
    accept,
    committee_world,  # noqa: F401 (a fixture)
    new_dossier,
)

pytestmark = pytest.mark.django_db


def selected(dossier) -> dict[str, str]:
    return {line.organisation.code: line.reason for line in dossier_member_lines(dossier=dossier)}


def test_a_small_house_in_the_heritage_perimeter(committee_world, users, building_permit):
    dossier = accept(new_dossier(users, building_permit, committee_world, parcel="flat"), users)
    assert committee_for_dossier(dossier=dossier) == committee_world["committees"]["small_projects"]
    with translation.override("en"):
        members = selected(dossier)
    assert members == {
        "t-commune": "Permanent member of the committee",
        "t-prefecture": "Permanent member of the committee",
        "t-agency": "Permanent member of the committee",
        "t-heritage": "Site in a heritage perimeter",
    }
    with translation.override("fr"):
        assert selected(dossier)["t-heritage"] == "Site dans un périmètre patrimonial"
    with translation.override("ar"):
        assert selected(dossier)["t-heritage"] == "موقع داخل محيط تراثي"
    assert AuditRecord.objects.filter(action="dossier.members_selected", dossier_id=dossier.pk).count() == 1


def test_a_tower_outside_any_perimeter_brings_civil_protection(committee_world, users, building_permit):
    dossier = accept(new_dossier(users, building_permit, committee_world, parcel="villa", figures=TOWER), users)
    assert dossier.classification == "large"
    assert committee_for_dossier(dossier=dossier) == committee_world["committees"]["large_projects"]
    with translation.override("en"):
        members = selected(dossier)
    assert members["t-civil"] == "Height above 15.50 m"
    assert "t-heritage" not in members and "t-airport" not in members
    civil = DossierMember.objects.get(dossier=dossier, organisation__code="t-civil")
    assert (civil.permanent, civil.consultative, civil.rule_code) == (False, False, "t-height")


def test_selection_is_idempotent_and_keeps_invitees(committee_world, users, building_permit):
    dossier = accept(new_dossier(users, building_permit, committee_world), users)
    before = list(DossierMember.objects.filter(dossier=dossier).values_list("pk", flat=True))
    invitee_add(dossier=dossier, organisation=committee_world["orgs"]["airport"], reason="Grue de chantier haute",
                actor=users[Role.DESK_AGENT])  # fmt: skip
    again = member_selection_apply(dossier=dossier)
    assert len(again) == len(before) + 1
    assert DossierMember.objects.filter(dossier=dossier).count() == len(before) + 1
    assert AuditRecord.objects.filter(action="dossier.members_selected", dossier_id=dossier.pk).count() == 1
    assert selected(dossier)["t-airport"] == "Grue de chantier haute"
    assert audit_verify().intact


def test_the_constraint_areas_are_read_in_one_query(committee_world, users, building_permit):
    dossier = accept(new_dossier(users, building_permit, committee_world), users)
    DossierMember.objects.filter(dossier=dossier).delete()
    with CaptureQueriesContext(connection) as queries:
        member_selection_apply(dossier=dossier)
    assert sum("geo_constraintarea" in q["sql"] for q in queries.captured_queries) == 1
    assert DossierMember.objects.filter(dossier=dossier, organisation__code="t-heritage").exists()


def test_inactive_rules_are_ignored(committee_world, users, building_permit):
    committee_world["rules"]["heritage"].active = False
    committee_world["rules"]["heritage"].save()
    dossier = accept(new_dossier(users, building_permit, committee_world), users)
    assert "t-heritage" not in selected(dossier)


def test_only_the_desk_invites_and_a_reason_is_required(committee_world, users, building_permit):
    dossier = accept(new_dossier(users, building_permit, committee_world), users)
    airport = committee_world["orgs"]["airport"]
    with pytest.raises(BookingForbidden):
        invitee_add(dossier=dossier, organisation=airport, reason="x", actor=users[Role.ARCHITECT])
    with pytest.raises(BookingRefused):
        invitee_add(dossier=dossier, organisation=airport, reason="  ", actor=users[Role.DESK_AGENT])
    member = invitee_add(dossier=dossier, organisation=airport, reason="Avis utile", actor=users[Role.DESK_AGENT])
    assert member.consultative and not member.permanent
    with pytest.raises(BookingRefused):
        invitee_add(dossier=dossier, organisation=airport, reason="Encore", actor=users[Role.DESK_AGENT])
