"""Large/small project classification (GP/PP) by the shipped rules, the reason shown, and the desk's override.

Each GP rule of MISSION.md fires on its own, with its label in French, Arabic and English, and does not
fire just at its threshold; everything else is a small project. The rules are loaded from
``permits/data/classification_rules.json`` by the same loader the migration uses.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from permits.catalogue import catalogue_load
from permits.classification import classify
from permits.models import AuditRecord, Classification, ClassificationRule, DossierEvent
from permits.roles import Role
from permits.services import DossierRefused, dossier_reclassify
from permits.workflow import dossier_transition

pytestmark = pytest.mark.django_db

HOUSE = {"floors": 2, "height_m": 8.5, "built_area_m2": 180, "use": "housing", "dwellings": 1}
SMALL_REASON = "Small project: none of the large-project rules applies."


@pytest.fixture(autouse=True)
def rules():
    catalogue_load()
    return {rule.code: rule for rule in ClassificationRule.objects.all()}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("figures", "code", "label_en"),
    [
        ({"public_project": True}, "public-project", "Public or para-public project"),
        ({"public_project": "true"}, "public-project", "Public or para-public project"),
        ({"open_to_public": True}, "open-to-public", "Building open to the public"),
        ({"use": "commercial", "built_area_m2": 501, "height_m": 4}, "commercial-over-500-m2",
         "Commercial building of more than 500 m²"),
        ({"use": "commercial", "built_area_m2": 300, "height_m": 5.6}, "commercial-over-5-50-m",
         "Commercial building more than 5.50 m high"),
        ({"use": "industrial", "industrial_category": "second", "height_m": 7}, "industrial",
         "Industrial building (except small 3rd-category units)"),
        ({"use": "industrial", "industrial_category": "third", "height_m": 7}, "industrial",
         "Industrial building (except small 3rd-category units)"),
        ({"use": "industrial", "height_m": 7}, "industrial", "Industrial building (except small 3rd-category units)"),
        ({"height_m": 15.51, "floors": 5}, "height-over-15-50-m", "Building more than 15.50 m high (beyond R+3)"),
        ({"height_m": "16"}, "height-over-15-50-m", "Building more than 15.50 m high (beyond R+3)"),
        ({"dwellings": 21, "height_m": 14}, "over-20-dwellings", "Housing programme of more than 20 dwellings"),
    ],
)  # fmt: skip
def test_each_large_project_rule_fires_with_its_label(rules, figures, code, label_en):
    result = classify(figures={**HOUSE, **figures})
    assert (result.classification, result.rule_code, result.reason) == (Classification.LARGE, code, label_en)
    rule = rules[code]
    with translation.override("fr"):
        assert classify(figures={**HOUSE, **figures}).reason == rule.label_fr
    with translation.override("ar"):
        assert classify(figures={**HOUSE, **figures}).reason == rule.label_ar
    assert any("\u0600" <= char <= "\u06ff" for char in rule.label_ar)


@pytest.mark.parametrize(
    "figures",
    [
        HOUSE,
        {"use": "commercial", "built_area_m2": 500, "height_m": 5.5},
        {"use": "commercial", "built_area_m2": 499, "height_m": 3.2},
        {"use": "industrial", "industrial_category": "third_small", "height_m": 7, "built_area_m2": 800},
        {"height_m": 15.5, "floors": 5, "dwellings": 16},
        {"height_m": 11.5, "floors": 3, "in_approved_subdivision": True},
        {"dwellings": 20},
        {"use": "office", "built_area_m2": 2000, "height_m": 12},
        {"public_project": False, "open_to_public": "false"},
        {},
    ],
)
def test_everything_else_is_a_small_project(figures):
    result = classify(figures={**HOUSE, **figures} if figures else {})
    assert (result.classification, result.rule_code, result.reason) == (Classification.SMALL, "small", SMALL_REASON)


def test_the_first_rule_that_holds_is_the_reason():
    result = classify(figures={**HOUSE, "public_project": True, "height_m": 30, "dwellings": 80})
    assert result.rule_code == "public-project"


def test_a_rule_switched_off_by_the_administrator_no_longer_fires(rules):
    ClassificationRule.objects.filter(code="height-over-15-50-m").update(active=False)
    assert classify(figures={**HOUSE, "height_m": 18}).classification == Classification.SMALL
    assert classify(figures={**HOUSE, "height_m": 18, "dwellings": 30}).rule_code == "over-20-dwellings"


def test_rules_can_be_passed_explicitly():
    rule = ClassificationRule(code="x", label_en="X", conditions=[{"field": "height_m", "op": "gte", "value": 9}])
    assert classify(figures=HOUSE, rules=[rule]).classification == Classification.SMALL
    assert classify(figures={**HOUSE, "height_m": 9}, rules=[rule]).rule_code == "x"
    # A rule without conditions never fires.
    assert classify(figures=HOUSE, rules=[ClassificationRule(code="empty", conditions=[])]).rule_code == "small"


# --- on the dossier --------------------------------------------------------------------------------


def submit(dossier, users):
    return dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])


def test_submission_classifies_and_shows_the_rule(complete_draft, users):
    complete_draft.figures = {**complete_draft.figures, "height_m": 18.5, "floors": 6}
    complete_draft.save()
    dossier = submit(complete_draft, users)
    assert dossier.classification == Classification.LARGE
    assert dossier.classification_rule == "Building more than 15.50 m high (beyond R+3)"
    assert not dossier.classification_overridden


def test_a_small_house_is_a_small_project(complete_draft, users):
    dossier = submit(complete_draft, users)
    assert (dossier.classification, dossier.classification_rule) == (Classification.SMALL, SMALL_REASON)


def test_a_procedure_without_classification_is_not_classified(complete_draft, users, building_permit):
    building_permit.classifiable = False
    building_permit.save()
    assert submit(complete_draft, users).classification == ""


def test_the_desk_overrides_with_a_written_reason(complete_draft, users):
    dossier = submit(complete_draft, users)
    desk = users[Role.DESK_AGENT]
    reason = "Équipement de quartier recevant du public : examen en commission des grands projets."
    dossier = dossier_reclassify(dossier=dossier, classification=Classification.LARGE, reason=reason, actor=desk)
    assert (dossier.classification, dossier.classification_overridden) == (Classification.LARGE, True)
    assert dossier.classification_override_reason == reason
    assert dossier.classification_rule == f"Set by the desk: {reason}"
    event = DossierEvent.objects.filter(dossier=dossier, kind="reclassified").get()
    assert (event.actor, event.message, event.data) == (desk, reason, {"from": "small", "to": "large"})
    record = AuditRecord.objects.order_by("-id").first()
    assert record.action == "dossier.reclassified" and record.payload["reason"] == reason


def test_an_override_needs_a_reason_and_a_known_class(complete_draft, users):
    dossier = submit(complete_draft, users)
    desk = users[Role.DESK_AGENT]
    with pytest.raises(DossierRefused) as no_reason:
        dossier_reclassify(dossier=dossier, classification=Classification.LARGE, reason="  ", actor=desk)
    assert no_reason.value.message == "Give the reason for the new classification."
    with pytest.raises(DossierRefused) as unknown:
        dossier_reclassify(dossier=dossier, classification="huge", reason="Parce que.", actor=desk)
    assert unknown.value.message == "Unknown classification “huge”."
    dossier.refresh_from_db()
    assert (dossier.classification, dossier.classification_overridden) == (Classification.SMALL, False)


def test_an_override_is_kept_through_the_workflow(complete_draft, users):
    from tests.permits.test_workflow import step

    dossier = submit(complete_draft, users)
    dossier_reclassify(
        dossier=dossier, classification=Classification.LARGE, reason="Projet public.", actor=users[Role.DESK_AGENT]
    )
    for action in ("accept", "schedule", "start_review", "request_changes", "resubmit"):
        dossier = step(dossier, users, action)
    dossier.refresh_from_db()
    assert (dossier.classification, dossier.classification_rule) == (
        Classification.LARGE,
        "Set by the desk: Projet public.",
    )
    assert dossier.classification_overridden
