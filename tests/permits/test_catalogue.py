"""The procedure catalogue as data: all fifteen procedures, three languages, checklists, deadlines, the loader.

Checks the shipped files against the rules of MISSION.md (deadlines, validity, tacit approval), the
loader's contract (upsert by code, the file is the source of truth, idempotent, documents in use kept),
the data migration with its historical models, ``load_procedures``, and the admin pages of the
catalogue and of the read-only legal record.
"""

from __future__ import annotations

import importlib
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from permits.catalogue import DATA_DIR, CatalogueError, catalogue_load, procedure_catalogue_load
from permits.deadlines import STATUS_STEP
from permits.models import (
    ChecklistItem,
    ClassificationRule,
    DocumentKind,
    Dossier,
    Holiday,
    Procedure,
    ProcedureFamily,
    Status,
)
from permits.roles import Role
from permits.services import ApplicantData, dossier_save_draft
from tests.permits.conftest import upload

pytestmark = pytest.mark.django_db

CODES = {
    "permis-construire": ProcedureFamily.URBANISM,
    "lotissement": ProcedureFamily.URBANISM,
    "groupe-habitations": ProcedureFamily.URBANISM,
    "morcellement": ProcedureFamily.URBANISM,
    "demolition": ProcedureFamily.URBANISM,
    "refection": ProcedureFamily.URBANISM,
    "regularisation": ProcedureFamily.URBANISM,
    "permis-habiter": ProcedureFamily.POST_CONSTRUCTION,
    "certificat-conformite": ProcedureFamily.POST_CONSTRUCTION,
    "declaration-auto-entrepreneur": ProcedureFamily.ECONOMIC,
    "etablissement-classe-2": ProcedureFamily.ECONOMIC,
    "etablissement-classe-3": ProcedureFamily.ECONOMIC,
    "occupation-domaine-public": ProcedureFamily.ECONOMIC,
    "publicite": ProcedureFamily.ECONOMIC,
    "reseaux-telecoms": ProcedureFamily.ECONOMIC,
}
FORMATS = {"pdf", "dxf", "dwg", "jpeg", "png", "tiff", "zip"}
ARABIC = re.compile(r"[\u0600-\u06ff]")
LANGUAGES = ("fr", "ar", "en")
FILE = json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8"))["procedures"]
RULES_FILE = json.loads((DATA_DIR / "classification_rules.json").read_text(encoding="utf-8"))["rules"]


def in_three_languages(label: dict) -> bool:
    return (
        set(label) == set(LANGUAGES)
        and all(label[lang].strip() for lang in LANGUAGES)
        and bool(ARABIC.search(label["ar"]))
    )


@pytest.fixture
def loaded():
    catalogue_load()
    return {procedure.code: procedure for procedure in Procedure.objects.prefetch_related("checklist")}


def test_the_migration_loaded_the_catalogue():
    # No loader call here: the rows come from migration 0003 in the test database.
    assert set(Procedure.objects.values_list("code", flat=True)) >= set(CODES)
    assert ClassificationRule.objects.count() >= 7


def test_the_migration_runs_with_historical_models():
    migration = importlib.import_module("permits.migrations.0003_load_catalogue")
    state = MigrationExecutor(connection).loader.project_state(("permits", "0003_load_catalogue"))
    Procedure.objects.filter(code="publicite").delete()
    migration.load(state.apps, None)
    assert Procedure.objects.get(code="publicite").checklist.count() == 6


def test_all_fifteen_procedures_load_with_names_in_three_languages(loaded):
    assert {code: loaded[code].family for code in CODES} == CODES
    for code in CODES:
        procedure = loaded[code]
        assert in_three_languages({"fr": procedure.name_fr, "ar": procedure.name_ar, "en": procedure.name_en}), code
    assert loaded["permis-construire"].name_ar == "رخصة البناء"
    assert loaded["permis-habiter"].name_ar == "رخصة السكن"
    assert loaded["certificat-conformite"].name_ar == "شهادة المطابقة"


def test_every_main_document_is_listed(loaded):
    for entry in FILE:
        procedure = loaded[entry["code"]]
        stored = {item.code: item for item in procedure.checklist.all()}
        assert list(stored) == [item["code"] for item in entry["checklist"]], entry["code"]
        mains = [item for item in entry["checklist"] if item["kind"] == "main"]
        assert mains, f"{entry['code']} has no main document"
        for item in entry["checklist"]:
            row = stored[item["code"]]
            assert row.kind == item["kind"] and row.formats == item["formats"]
            assert (row.name_fr, row.name_ar, row.name_en) == (
                item["name"]["fr"],
                item["name"]["ar"],
                item["name"]["en"],
            )
            assert set(row.formats) <= FORMATS and row.formats and 0 < row.max_size_mb <= 100
            assert in_three_languages(item["name"])
    main = {item.code for item in loaded["permis-construire"].checklist.filter(kind=DocumentKind.MAIN)}
    assert {
        "plan-situation",
        "plan-masse",
        "plans-architecturaux",
        "certificat-propriete",
        "note-renseignements",
    } <= main
    assert loaded["permis-construire"].checklist.get(code="etude-beton-arme").kind == DocumentKind.INFORMATION


def test_form_fields_follow_the_schema(loaded):
    for entry in FILE:
        names = [spec["name"] for spec in entry["form_fields"]]
        assert len(names) == len(set(names)), entry["code"]
        for spec in entry["form_fields"]:
            assert set(spec) == {"name", "type", "required", "min", "max", "choices", "label"}, spec["name"]
            assert spec["type"] in {"int", "decimal", "text", "bool", "choice"}
            assert in_three_languages(spec["label"]), spec["name"]
            if spec["type"] == "choice":
                assert spec["choices"] and all(in_three_languages(choice["label"]) for choice in spec["choices"])
            else:
                assert spec["choices"] == []
            if spec["min"] is not None and spec["max"] is not None:
                assert spec["min"] <= spec["max"]
    building = {spec["name"]: spec for spec in loaded["permis-construire"].form_fields}
    assert list(building) == [
        "floors", "height_m", "built_area_m2", "dwellings", "use", "industrial_category", "public_project",
        "open_to_public", "estimated_cost_mad", "in_approved_subdivision",
    ]  # fmt: skip
    assert [choice["value"] for choice in building["use"]["choices"]] == [
        "housing", "commercial", "industrial", "public_facility", "mixed", "office",
    ]  # fmt: skip


def test_the_classification_rules_read_the_building_figures(loaded):
    building = {spec["name"]: spec for spec in loaded["permis-construire"].form_fields}
    for code in ("permis-construire", "regularisation"):
        assert loaded[code].classifiable
    assert [code for code in CODES if loaded[code].classifiable] == ["permis-construire", "regularisation"]
    for rule in RULES_FILE:
        for condition in rule["conditions"]:
            assert condition["field"] in building, (rule["code"], condition["field"])
            if building[condition["field"]]["type"] == "choice" and condition["op"] in {"eq", "ne"}:
                assert condition["value"] in {c["value"] for c in building[condition["field"]]["choices"]}


def test_deadlines_steps_and_validity(loaded):
    for code, procedure in loaded.items():
        if code not in CODES:
            continue
        assert set(STATUS_STEP.values()) <= set(procedure.deadlines), code
        assert all(isinstance(days, int) and days > 0 for days in procedure.deadlines.values()), code
        assert procedure.steps and all(in_three_languages(step["label"]) for step in procedure.steps), code
        assert procedure.tacit_approval_days in {30, 60}, code
    building = loaded["permis-construire"]
    assert {key: building.deadline(key) for key in (
        "send_to_members", "member_opinions", "minutes", "notify_changes", "reservations_compliance",
        "notify_decision",
    )} == {"send_to_members": 3, "member_opinions": 15, "minutes": 3, "notify_changes": 2,
           "reservations_compliance": 5, "notify_decision": 2}  # fmt: skip
    assert (building.validity_months, building.tacit_approval_days) == (12, 60)
    for code in ("permis-habiter", "certificat-conformite"):
        deadlines = loaded[code].deadlines
        assert [
            deadlines[key] for key in ("inspection_date_notice", "inspection_visit", "inspection_minutes", "decision")
        ] == [3, 15, 2, 2]
        assert loaded[code].committee_kind == "inspection"
    demolition, repair = loaded["demolition"], loaded["refection"]
    assert demolition.validity_months == repair.validity_months == 6
    assert demolition.deadline("instruction_total") <= 22 and demolition.tacit_approval_days <= 31
    assert repair.deadline("instruction_total") == 10
    shortened = {code for code in CODES if loaded[code].tacit_approval_days == 30}
    assert shortened == {
        "permis-habiter", "certificat-conformite", "demolition", "refection", "occupation-domaine-public", "publicite",
        "declaration-auto-entrepreneur",
    }  # fmt: skip
    notes = " ".join(entry["note"] for entry in FILE)
    assert "55-19" in notes and "30 jours" in notes


def test_classification_rules_have_three_labels(loaded):
    rules = {rule.code: rule for rule in ClassificationRule.objects.all()}
    assert list(rules)[:7] == [rule["code"] for rule in RULES_FILE]
    for rule in rules.values():
        assert in_three_languages({"fr": rule.label_fr, "ar": rule.label_ar, "en": rule.label_en}), rule.code


# --- the loader's contract -------------------------------------------------------------------------


def load():
    return procedure_catalogue_load(
        procedure_model=Procedure, checklist_model=ChecklistItem, rule_model=ClassificationRule
    )


def test_a_second_load_writes_nothing(loaded):
    counts = load()
    assert not counts.changed
    assert (counts.procedures, counts.items, counts.rules) == (15, sum(len(e["checklist"]) for e in FILE), 7)
    out = io.StringIO()
    call_command("load_procedures", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "Catalogue already up to date: nothing changed."


def test_the_file_is_the_source_of_truth_for_its_codes(loaded):
    Procedure.objects.filter(code="demolition").update(name_fr="Démolition (modifié)", validity_months=9, active=False)
    ClassificationRule.objects.filter(code="industrial").update(label_fr="autre", active=False)
    ChecklistItem.objects.filter(procedure__code="demolition", code="piece-identite").delete()
    extra = ChecklistItem.objects.create(
        procedure=loaded["demolition"], code="admin-extra", name_fr="x", name_ar="x", name_en="x", formats=["pdf"]
    )
    custom = Procedure.objects.create(code="admin-only", name_fr="Procédure locale", name_ar="س", name_en="Local",
                                      family="economic", committee_kind="economic")  # fmt: skip
    counts = load()
    assert (counts.procedures_updated, counts.rules_updated, counts.items_created, counts.items_deleted) == (1, 1, 1, 1)
    demolition = Procedure.objects.get(code="demolition")
    assert (demolition.name_fr, demolition.validity_months) == ("Permis de démolir", 6)
    assert demolition.active is False  # the administrator's switch is kept
    rule = ClassificationRule.objects.get(code="industrial")
    assert rule.label_fr.startswith("Bâtiment industriel") and rule.active is False
    assert not ChecklistItem.objects.filter(pk=extra.pk).exists()
    assert Procedure.objects.filter(pk=custom.pk).exists()
    assert not load().changed


def test_an_item_dropped_from_the_file_is_kept_while_documents_use_it(loaded, users, casablanca_world):
    procedure = loaded["occupation-domaine-public"]
    extra = ChecklistItem.objects.create(
        procedure=procedure, code="plan-ancien", name_fr="Ancien plan", name_ar="تصميم", name_en="Old plan",
        formats=["pdf"], position=9,
    )  # fmt: skip
    dossier = dossier_save_draft(
        actor=users[Role.ARCHITECT],
        procedure=procedure,
        applicant=ApplicantData(first_name="R", last_name="L", national_id="BJ1", email="r@example.org"),
        parcels=[casablanca_world["flat"]],
        figures={"occupation_type": "terrace", "area_m2": 20, "duration_months": 6},
    )
    upload(dossier, "plan-ancien", users[Role.ARCHITECT])
    counts = load()
    assert (counts.items_deleted, counts.items_kept_in_use) == (0, 1)
    assert ChecklistItem.objects.filter(pk=extra.pk).exists()
    assert Dossier.objects.get(pk=dossier.pk).documents.get().checklist_item_id == extra.pk


def test_malformed_files_are_refused(tmp_path, loaded):
    (tmp_path / "procedures.json").write_text('{"procedures": [{"code": "a"}, {"code": "a"}]}')
    (tmp_path / "classification_rules.json").write_text('{"rules": []}')
    with pytest.raises(CatalogueError, match="codes must be unique"):
        procedure_catalogue_load(
            procedure_model=Procedure, checklist_model=ChecklistItem, rule_model=ClassificationRule, data_dir=tmp_path
        )
    (tmp_path / "procedures.json").write_text("{not json")
    with pytest.raises(CommandError, match=r"procedures\.json"):
        call_command("load_procedures", "--data-dir", str(tmp_path), stdout=io.StringIO())


# --- the admin -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["procedure", "classificationrule", "holiday", "dossier", "dossierevent", "auditrecord", "notification",
              "smsoutboxmessage"],
)  # fmt: skip
def test_admin_changelists_render(admin_client, loaded, model):
    assert admin_client.get(reverse(f"admin:permits_{model}_changelist")).status_code == 200


def test_procedure_admin_edits_the_checklist_inline(admin_client, loaded):
    page = admin_client.get(reverse("admin:permits_procedure_change", args=[loaded["permis-construire"].pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="checklist-0-code"' in html and "plans-architecturaux" in html and "رخصة البناء" in html


def test_an_administrator_adds_a_holiday(admin_client):
    response = admin_client.post(reverse("admin:permits_holiday_add"), {"date": "2025-12-31", "name": "Pont"})
    assert response.status_code == 302
    assert Holiday.objects.get().name == "Pont"


def test_the_dossier_admin_cannot_change_status_or_reference(admin_client, complete_draft, users):
    from permits.workflow import dossier_transition

    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    url = reverse("admin:permits_dossier_change", args=[dossier.pk])
    page = admin_client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and dossier.reference in html
    assert 'name="status"' not in html and 'name="reference"' not in html
    forged = admin_client.post(url, {"status": Status.ISSUED, "reference": "X-1"})
    assert forged.status_code == 403
    assert admin_client.post(reverse("admin:permits_dossier_delete", args=[dossier.pk])).status_code == 403
    assert admin_client.get(reverse("admin:permits_dossier_add")).status_code == 403
    reference = dossier.reference
    dossier.refresh_from_db()
    assert (dossier.status, dossier.reference) == (Status.SUBMITTED, reference)
