"""The committee catalogue as data: organisations, member-selection rules, each commune's committees.

Checks the shipped files against MISSION.md (permanent and non-permanent members, the urban agency's
binding opinion, the bodies each constraint or procedure brings in), the loader's contract (upsert by
code, the file wins, ``active`` and the president stay the administrator's, committees only for
communes that exist, idempotent), the data migration with its historical models, ``load_committees``
and the admin pages.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import shutil
from datetime import time

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from geo.models import AdminArea, AdminLevel, ConstraintKind
from permits.catalogue import (
    COMMITTEES_FILE,
    DATA_DIR,
    ORGANISATIONS_FILE,
    PROCEDURES_FILE,
    SELECTION_DOSSIER_FIELDS,
    SELECTION_OPS,
    SELECTION_RULES_FILE,
    CatalogueError,
    committee_catalogue_load,
    committee_catalogue_load_current,
)
from permits.models import (
    Classification,
    Committee,
    CommitteeKind,
    Organisation,
    OrganisationKind,
    SelectionRule,
)

pytestmark = pytest.mark.django_db

ARABIC = re.compile(r"[\u0600-\u06ff]")
DEMO = "DEMO-001"


def read(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


ORGANISATIONS = read(ORGANISATIONS_FILE)["organisations"]
RULES = read(SELECTION_RULES_FILE)["rules"]
TEMPLATES = read(COMMITTEES_FILE)["communes"]
PROCEDURES = read(PROCEDURES_FILE)["procedures"]


def kind_of(code: str) -> str:
    everything = ORGANISATIONS + [o for t in TEMPLATES.values() for o in t.get("organisations", [])]
    return next(o["kind"] for o in everything if o["code"] == code)


def make_commune(code: str = DEMO) -> AdminArea:
    square = Polygon(((-7.60, 33.55), (-7.58, 33.55), (-7.58, 33.57), (-7.60, 33.57), (-7.60, 33.55)), srid=4326)
    return AdminArea.objects.create(level=AdminLevel.COMMUNE, code=code, name_fr="Commune", geom=MultiPolygon(square))


# --- the files ---------------------------------------------------------------------------------------


def test_every_organisation_has_three_names_and_a_known_kind():
    every = ORGANISATIONS + [o for t in TEMPLATES.values() for o in t.get("organisations", [])]
    assert len({o["code"] for o in every}) == len(every)
    for organisation in every:
        assert organisation["kind"] in OrganisationKind.values, organisation["code"]
        assert all(organisation[f"name_{lang}"].strip() for lang in ("fr", "ar", "en")), organisation["code"]
        assert ARABIC.search(organisation["name_ar"]) and not ARABIC.search(organisation["name_fr"])
    # Every body MISSION.md names is there, Casablanca's by name.
    kinds = {o["kind"] for o in every}
    assert kinds >= set(OrganisationKind.values) - {OrganisationKind.OTHER}
    names = {o["code"]: o["name_fr"] for o in every}
    assert names["prefecture-casablanca"] == "Préfecture de Casablanca"
    assert names["agence-urbaine-casablanca"] == "Agence urbaine de Casablanca"
    assert "LYDEC" in names["lydec"] and "ANCFCC" in names["ancfcc"] and "ONDA" in names["onda"]


def test_only_the_urban_agency_gives_a_binding_opinion():
    binding = [o["code"] for o in ORGANISATIONS if o.get("binding_opinion")]
    assert binding == ["agence-urbaine-casablanca"]
    assert kind_of("agence-urbaine-casablanca") == OrganisationKind.URBAN_AGENCY


def test_rules_reference_known_organisations_fields_and_operators():
    codes = {o["code"] for o in ORGANISATIONS}
    figures = {field["name"] for p in PROCEDURES for field in p.get("form_fields", [])}
    procedures = {p["code"] for p in PROCEDURES}
    assert len({rule["code"] for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule["organisation"] in codes, rule["code"]
        assert all(rule[f"label_{lang}"].strip() for lang in ("fr", "ar", "en")), rule["code"]
        assert ARABIC.search(rule["label_ar"]), rule["code"]
        assert rule["conditions"], rule["code"]
        for condition in rule["conditions"]:
            assert condition["field"] in figures | SELECTION_DOSSIER_FIELDS, rule["code"]
            assert condition["op"] in SELECTION_OPS, rule["code"]
            if condition["field"] == "constraint_kind":
                assert condition["op"] == "intersects" and condition["value"] in ConstraintKind.values
            if condition["field"] == "procedure":
                assert condition["value"] in procedures, rule["code"]
            if condition["field"] == "classification":
                assert condition["value"] in Classification.values, rule["code"]


def brought_in_by(field: str, value) -> set[str]:
    """Kinds of the organisations that a rule on ``field == value`` (or intersecting ``value``) brings in."""
    return {
        kind_of(rule["organisation"])
        for rule in RULES
        if any(c["field"] == field and c.get("value", True) == value for c in rule["conditions"])
    }


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("constraint_kind", ConstraintKind.HERITAGE, OrganisationKind.HERITAGE),
        ("constraint_kind", ConstraintKind.AIRPORT_SERVITUDE, OrganisationKind.AIRPORT_AUTHORITY),
        ("constraint_kind", ConstraintKind.COASTLINE, OrganisationKind.COAST_AUTHORITY),
        ("constraint_kind", ConstraintKind.FLOOD_ZONE, OrganisationKind.HYDRAULIC_AGENCY),
        ("constraint_kind", ConstraintKind.ROAD_ALIGNMENT, OrganisationKind.ROADS),
        ("constraint_kind", ConstraintKind.UTILITY_EASEMENT, OrganisationKind.NETWORK_OPERATOR),
        ("height_m", 15.5, OrganisationKind.CIVIL_PROTECTION),
        ("open_to_public", True, OrganisationKind.CIVIL_PROTECTION),
        ("dwellings", 20, OrganisationKind.NETWORK_OPERATOR),
        ("classification", Classification.LARGE, OrganisationKind.NETWORK_OPERATOR),
        ("procedure", "morcellement", OrganisationKind.LAND_REGISTRY),
        ("procedure", "lotissement", OrganisationKind.LAND_REGISTRY),
        ("procedure", "reseaux-telecoms", OrganisationKind.TELECOM_OPERATOR),
        ("procedure", "etablissement-classe-2", OrganisationKind.CIVIL_PROTECTION),
        ("procedure", "etablissement-classe-2", OrganisationKind.HYDRAULIC_AGENCY),
        ("procedure", "etablissement-classe-3", OrganisationKind.CIVIL_PROTECTION),
        ("procedure", "etablissement-classe-3", OrganisationKind.HYDRAULIC_AGENCY),
    ],
)
def test_the_rules_of_the_mission_are_in_the_file(field, value, kind):
    assert kind in brought_in_by(field, value)


def test_the_demo_commune_has_the_four_committees_with_their_permanent_members():
    template = TEMPLATES[DEMO]
    committees = {c["kind"]: c for c in template["committees"]}
    assert set(committees) == set(CommitteeKind.values) - {CommitteeKind.BY_CLASSIFICATION}
    council = template["organisations"][0]["code"]
    assert kind_of(council) == OrganisationKind.COMMUNE
    recurrence = {
        kind: (c["weekdays"], c["start_time"], c["capacity"], c["minutes_per_dossier"])
        for kind, c in committees.items()
    }
    assert recurrence[CommitteeKind.LARGE_PROJECTS] == ([2], "10:00", 8, 20)
    assert recurrence[CommitteeKind.SMALL_PROJECTS] == ([1, 3], "09:30", 15, 10)
    assert recurrence[CommitteeKind.INSPECTION][0] == [0]
    assert recurrence[CommitteeKind.ECONOMIC][0] == [4]
    permanent = {kind: {kind_of(code) for code in c["permanent_organisations"]} for kind, c in committees.items()}
    assert permanent[CommitteeKind.LARGE_PROJECTS] == {"commune", "prefecture", "urban_agency"}
    assert permanent[CommitteeKind.SMALL_PROJECTS] == {"commune", "urban_agency"}
    assert permanent[CommitteeKind.INSPECTION] == {"commune", "prefecture"}
    assert permanent[CommitteeKind.ECONOMIC] == {"commune", "prefecture", "civil_protection"}


# --- the loader --------------------------------------------------------------------------------------


def test_the_migration_loaded_organisations_and_rules():
    # No loader call: the rows come from migration 0005 (the test database has no demo commune).
    assert set(Organisation.objects.values_list("code", flat=True)) >= {o["code"] for o in ORGANISATIONS}
    assert set(SelectionRule.objects.values_list("code", flat=True)) >= {r["code"] for r in RULES}
    agency = Organisation.objects.get(code="agence-urbaine-casablanca")
    assert agency.binding_opinion and agency.name_ar == "الوكالة الحضرية للدار البيضاء"
    rule = SelectionRule.objects.get(code="heritage-zone")
    assert rule.organisation.kind == OrganisationKind.HERITAGE
    assert rule.conditions == [{"field": "constraint_kind", "op": "intersects", "value": "heritage"}]


def test_the_migration_runs_with_historical_models():
    migration = importlib.import_module("permits.migrations.0005_load_committee_catalogue")
    state = MigrationExecutor(connection).loader.project_state(("permits", "0005_load_committee_catalogue"))
    SelectionRule.objects.filter(code="flood-zone").delete()
    make_commune()
    migration.load(state.apps, None)
    assert SelectionRule.objects.get(code="flood-zone").organisation.code == "abh-bouregreg-chaouia"
    assert Committee.objects.filter(commune__code=DEMO).count() == 4


def test_committees_are_created_once_the_commune_exists_and_a_second_load_writes_nothing():
    first = committee_catalogue_load_current()
    assert first.communes_missing == [DEMO] and first.committees == 0
    assert not first.changed  # the migration already loaded organisations and rules
    make_commune()
    counts = committee_catalogue_load_current()
    assert counts.communes_loaded == [DEMO] and counts.committees_created == 4 and counts.organisations_created == 1
    large = Committee.objects.get(code="demo-001-grands-projets")
    assert large.kind == CommitteeKind.LARGE_PROJECTS and large.commune.code == DEMO
    assert large.weekdays == [2] and large.start_time == time(10, 0) and large.capacity == 8
    assert set(large.permanent_organisations.values_list("code", flat=True)) == {
        "commune-demo-001",
        "prefecture-casablanca",
        "agence-urbaine-casablanca",
    }
    again = committee_catalogue_load_current()
    assert not again.changed and again.committees == 4


def test_the_file_wins_except_for_active_and_the_president(admin_user):
    make_commune()
    committee_catalogue_load_current()
    Organisation.objects.filter(code="onda").update(name_fr="Autre nom", binding_opinion=True)
    SelectionRule.objects.filter(code="coastline").update(active=False, label_en="Changed")
    large = Committee.objects.get(code="demo-001-grands-projets")
    large.president = admin_user
    large.active = False
    large.capacity = 3
    large.save()
    large.permanent_organisations.remove(Organisation.objects.get(code="prefecture-casablanca"))
    counts = committee_catalogue_load_current()
    assert counts.organisations_updated == 1 and counts.rules_updated == 1 and counts.committees_updated == 1
    onda = Organisation.objects.get(code="onda")
    assert onda.name_fr == "Office national des aéroports (ONDA)" and not onda.binding_opinion
    coastline = SelectionRule.objects.get(code="coastline")
    assert coastline.label_en.startswith("Site on the coastline") and not coastline.active
    large.refresh_from_db()
    assert large.capacity == 8 and large.president == admin_user and not large.active
    assert large.permanent_organisations.filter(code="prefecture-casablanca").exists()


def test_organisations_and_rules_created_in_the_admin_are_left_alone():
    extra = Organisation.objects.create(code="ome", kind="other", name_fr="Autre", name_ar="آخر", name_en="Other")
    SelectionRule.objects.create(code="custom", organisation=extra, label_fr="x", label_ar="س", label_en="x")
    committee_catalogue_load_current()
    assert Organisation.objects.filter(code="ome").exists() and SelectionRule.objects.filter(code="custom").exists()


def bad_data_dir(tmp_path, name: str, change) -> object:
    for file in (ORGANISATIONS_FILE, SELECTION_RULES_FILE, COMMITTEES_FILE):
        shutil.copy(DATA_DIR / file, tmp_path / file)
    document = json.loads((tmp_path / name).read_text(encoding="utf-8"))
    change(document)
    (tmp_path / name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def load_from(data_dir) -> None:
    committee_catalogue_load(
        organisation_model=Organisation,
        rule_model=SelectionRule,
        committee_model=Committee,
        area_model=AdminArea,
        data_dir=data_dir,
    )


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (SELECTION_RULES_FILE, lambda d: d["rules"][0].update(organisation="nobody"), "unknown organisation 'nobody'"),
        (
            SELECTION_RULES_FILE,
            lambda d: d["rules"][0].update(conditions=[{"field": "height_m", "op": "intersects", "value": 1}]),
            "'intersects' goes with 'constraint_kind' only",
        ),
        (
            SELECTION_RULES_FILE,
            lambda d: d["rules"][0].update(conditions=[{"field": "constraint_kind", "op": "intersects", "value": "x"}]),
            "unknown constraint kind 'x'",
        ),
        (SELECTION_RULES_FILE, lambda d: d["rules"][0].update(conditions=[]), "at least one condition"),
        (SELECTION_RULES_FILE, lambda d: d["rules"][1].update(code=d["rules"][0]["code"]), "codes must be unique"),
        (ORGANISATIONS_FILE, lambda d: d["organisations"][0].update(name_ar=""), "has no name_ar"),
        (
            COMMITTEES_FILE,
            lambda d: d["communes"][DEMO]["committees"][0].update(permanent_organisations=["nobody"]),
            "unknown organisation 'nobody'",
        ),
        (COMMITTEES_FILE, lambda d: d["communes"][DEMO]["committees"][0].update(start_time="10h"), "not HH:MM"),
    ],
)
def test_malformed_files_are_refused_and_nothing_is_written(tmp_path, name, change, message):
    make_commune()
    before = (Organisation.objects.count(), SelectionRule.objects.count(), Committee.objects.count())
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load_from(bad_data_dir(tmp_path, name, change))
    assert (Organisation.objects.count(), SelectionRule.objects.count(), Committee.objects.count()) == before


# --- the command and the admin -----------------------------------------------------------------------


def test_load_committees_reports_then_says_nothing_changed():
    make_commune()
    out, err = io.StringIO(), io.StringIO()
    call_command("load_committees", stdout=out, stderr=err)
    assert "committees       4  (4 new, 0 updated)" in out.getvalue()
    assert out.getvalue().strip().endswith("Committee catalogue loaded.")
    out = io.StringIO()
    call_command("load_committees", "--commune", DEMO, stdout=out, stderr=err)
    assert out.getvalue().strip().endswith("nothing changed.")


def test_load_committees_names_the_communes_not_imported_yet():
    out, err = io.StringIO(), io.StringIO()
    call_command("load_committees", stdout=out, stderr=err)
    assert DEMO in err.getvalue()


def test_load_committees_turns_a_malformed_file_into_a_command_error(tmp_path):
    data_dir = bad_data_dir(tmp_path, SELECTION_RULES_FILE, lambda d: d["rules"][0].update(organisation="nobody"))
    with pytest.raises(CommandError, match="unknown organisation"):
        call_command("load_committees", "--data-dir", str(data_dir), stdout=io.StringIO())


@pytest.mark.parametrize(
    "model",
    ["organisation", "committee", "selectionrule", "session", "booking", "dossiermember", "opinion", "issueddocument"],
)
def test_committee_admin_changelists_render(admin_client, model):
    make_commune()
    committee_catalogue_load_current()
    assert admin_client.get(reverse(f"admin:permits_{model}_changelist")).status_code == 200


def test_committee_admin_edits_members_and_recurrence(admin_client):
    make_commune()
    committee_catalogue_load_current()
    committee = Committee.objects.get(code="demo-001-petits-projets")
    page = admin_client.get(reverse("admin:permits_committee_change", args=[committee.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="permanent_organisations"' in html and 'name="weekdays"' in html
    assert 'value="by_classification"' not in html  # a procedure's setting, not a committee kind
    organisation = Organisation.objects.get(code="lydec")
    page = admin_client.get(reverse("admin:permits_organisation_change", args=[organisation.pk]))
    assert page.status_code == 200 and 'name="members"' in page.content.decode()


@pytest.mark.parametrize("model", ["booking", "dossiermember", "opinion", "issueddocument"])
def test_the_committees_record_cannot_be_added_in_the_admin(admin_client, model):
    assert admin_client.get(reverse(f"admin:permits_{model}_add")).status_code == 403


def test_an_administrator_changes_a_committees_recurrence(admin_client, admin_user):
    commune = make_commune()
    committee_catalogue_load_current()
    committee = Committee.objects.get(code="demo-001-petits-projets")
    members = list(committee.permanent_organisations.values_list("pk", flat=True))
    members.append(Organisation.objects.get(code="prefecture-casablanca").pk)
    response = admin_client.post(
        reverse("admin:permits_committee_change", args=[committee.pk]),
        {
            "code": committee.code,
            "name_fr": committee.name_fr,
            "name_ar": committee.name_ar,
            "name_en": committee.name_en,
            "kind": CommitteeKind.SMALL_PROJECTS,
            "commune": commune.pk,
            "president": admin_user.pk,
            "active": "on",
            "permanent_organisations": members,
            "weekdays": "0,3",
            "start_time": "08:30",
            "capacity": 12,
            "minutes_per_dossier": 12,
        },
    )
    assert response.status_code == 302
    committee.refresh_from_db()
    assert committee.weekdays == [0, 3] and committee.start_time == time(8, 30) and committee.capacity == 12
    assert committee.president == admin_user and committee.permanent_organisations.count() == 3
