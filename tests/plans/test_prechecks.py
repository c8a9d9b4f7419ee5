"""Pre-checks on known geometries: a 20 × 30 m parcel in zone R3 (CES 0.6, COS 1.8, 3 floors, 12 m, setback 3 m)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from geo.models import Parcel
from plans.models import VersionStatus
from plans.prechecks import PreCheck, latest_checked_version, prechecks_for_dossier, prechecks_for_version
from tests.plans.conftest import add_version, plan_box

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the msgids); one test checks the French and Arabic."""
    with translation.override("en"):
        yield


def by_code(checks: list[PreCheck]) -> dict[str, PreCheck]:
    return {check.code: check for check in checks}


def test_a_footprint_at_three_metres_passes_every_check(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    checks = prechecks_for_version(version=version)
    assert [c.code for c in checks] == [
        "inside_parcel", "coverage_ratio", "floor_area_ratio", "floors", "height", "setback", "road_setback",
    ]  # fmt: skip
    result = by_code(checks)
    assert all(check.passed is True for check in checks), [(c.code, c.explanation) for c in checks]
    assert result["inside_parcel"].value == 0
    # 14 × 24 = 336 m² on 600 m².
    assert result["coverage_ratio"].value == pytest.approx(0.56, abs=1e-3)
    assert result["coverage_ratio"].limit == 0.6
    # Floors come from the declared figures (2): 672 m² of floor area on 600 m².
    assert result["floor_area_ratio"].value == pytest.approx(1.12, abs=1e-3)
    assert result["floors"].value == 2 and result["floors"].limit == 3
    assert result["height"].value == 7 and result["height"].limit == 12
    assert result["setback"].value == pytest.approx(3.0, abs=1e-3)
    assert result["road_setback"].value == pytest.approx(3.0, abs=1e-3)
    assert result["coverage_ratio"].rule == "PA-PLANS zone R3: CES ≤ 0.60"
    assert "PA-PLANS zone R3" in result["road_setback"].rule
    assert "not shared with a neighbouring parcel" in result["road_setback"].rule
    # The road frontage is the west and south sides (30 + 20 m, less the corners near the neighbours).
    assert re.match(r"49\.[6-9] m of the parcel's boundary", result["road_setback"].explanation)


def test_a_footprint_one_metre_too_close_fails_the_setback(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[(2, 2, 18, 28)], by=filer)
    result = by_code(prechecks_for_version(version=version))
    setback = result["setback"]
    assert setback.passed is False
    assert setback.value == pytest.approx(2.0, abs=1e-3)
    assert setback.limit == 3
    assert setback.result == "fail"
    assert setback.limit_display == "≥\u00a03.00\u00a0m"
    assert result["road_setback"].passed is False
    # The rest still passes: 16 × 26 = 416 m² → CES 0.693 > 0.6 fails too, by arithmetic.
    assert result["inside_parcel"].passed is True
    assert result["coverage_ratio"].value == pytest.approx(416 / 600, abs=1e-3)
    assert result["coverage_ratio"].passed is False


def test_road_setback_is_measured_to_the_frontage_only(plan_dossier, filer):
    # 3 m from the neighbours (east, north), 5 m from the road (west, south).
    version = add_version(plan_dossier, footprints=[(5, 5, 17, 27)], by=filer)
    result = by_code(prechecks_for_version(version=version))
    assert result["setback"].value == pytest.approx(3.0, abs=1e-3)
    assert result["road_setback"].value == pytest.approx(5.0, abs=1e-3)
    assert result["road_setback"].passed is True


def test_a_footprint_crossing_the_boundary_is_not_inside(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[(10, 10, 25, 20)], by=filer)
    result = by_code(prechecks_for_version(version=version))
    inside = result["inside_parcel"]
    assert inside.passed is False
    assert inside.value == pytest.approx(50.0, abs=0.01)  # 5 × 10 m beyond the east side
    assert "50.00 m²" in inside.explanation
    assert result["setback"].passed is False
    assert result["setback"].value == 0


def test_five_centimetres_of_drawing_noise_is_still_inside(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[(-0.03, 3, 17, 27)], by=filer)
    assert by_code(prechecks_for_version(version=version))["inside_parcel"].passed is True


def test_ratios_floors_and_height_from_the_plan(plan_dossier, filer):
    # Two footprints, 4 floors and 13 m read from the drawing: COS = (336 + 0) … computed per footprint.
    version = add_version(plan_dossier, footprints=[(3, 3, 10, 27), (11, 3, 17, 27)], floors=4, height_m=13, by=filer)
    result = by_code(prechecks_for_version(version=version))
    area = 7 * 24 + 6 * 24  # 312 m²
    assert result["coverage_ratio"].value == pytest.approx(area / 600, abs=1e-3)
    assert result["coverage_ratio"].passed is True
    assert result["floor_area_ratio"].value == pytest.approx(area * 4 / 600, abs=1e-3)  # 2.08 > 1.8
    assert result["floor_area_ratio"].passed is False
    assert result["floors"].value == 4 and result["floors"].passed is False
    assert result["height"].value == 13 and result["height"].passed is False
    assert "the plan" in result["height"].explanation


def test_floors_of_the_version_come_before_the_declared_figures(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], version_floors=3, by=filer)
    result = by_code(prechecks_for_version(version=version))
    assert result["floors"].value == 3 and result["floors"].passed is True
    assert result["floor_area_ratio"].value == pytest.approx(336 * 3 / 600, abs=1e-3)


def test_without_a_zone_the_zone_checks_are_not_computable(plan_dossier, plan_world, filer):
    far = Parcel.objects.create(
        reference="TF 9999/P", commune=plan_world["commune"], area_m2=600, area_srid=26191,
        geom=plan_box(2000, 0, 2020, 30),
    )  # fmt: skip
    plan_dossier.parcels.set([far])
    version = add_version(plan_dossier, footprints=[(2003, 3, 2017, 27)], by=filer)
    result = by_code(prechecks_for_version(version=version))
    assert result["inside_parcel"].passed is True
    for code in ("coverage_ratio", "floor_area_ratio", "floors", "height", "setback"):
        assert result[code].passed is None, code
        assert "No zoning zone covers the parcel." in result[code].explanation
    # Values are still measured and shown.
    assert result["coverage_ratio"].value == pytest.approx(0.56, abs=1e-3)
    assert result["setback"].value == pytest.approx(3.0, abs=1e-3)
    # No neighbour: the road side is unknown.
    assert result["road_setback"].passed is None
    assert "road side is not known" in result["road_setback"].explanation


def test_the_site_drawn_by_the_filer_is_used_without_parcels(plan_dossier, filer):
    plan_dossier.parcels.clear()
    plan_dossier.site = plan_box(0, 0, 20, 30)
    plan_dossier.save(update_fields=["site"])
    version = add_version(plan_dossier, footprints=[(2, 2, 18, 28)], by=filer)
    result = by_code(prechecks_for_version(version=version))
    assert result["setback"].passed is False
    # Neighbours are every parcel around the site now, the dossier's former parcel included.
    assert result["coverage_ratio"].value == pytest.approx(416 / 600, abs=1e-3)


def test_no_footprint_means_no_verdict(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[], by=filer)
    result = by_code(prechecks_for_version(version=version))
    for code in ("inside_parcel", "coverage_ratio", "floor_area_ratio", "setback", "road_setback"):
        assert result[code].passed is None
        assert "No georeferenced building footprint" in result[code].explanation
    # Floors and height are still checked from the declared figures.
    assert result["floors"].passed is True
    assert result["height"].passed is True


def test_the_dossier_uses_its_latest_ready_version_with_footprints(plan_dossier, filer):
    assert prechecks_for_dossier(dossier=plan_dossier) == []
    first = add_version(plan_dossier, footprints=[(2, 2, 18, 28)], by=filer)
    second = add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)
    add_version(plan_dossier, footprints=[(3, 3, 17, 27)], status=VersionStatus.PROCESSING, by=filer)
    add_version(plan_dossier, footprints=[], by=filer)
    assert first.pk != second.pk
    assert latest_checked_version(dossier=plan_dossier) == second
    assert by_code(prechecks_for_dossier(dossier=plan_dossier))["setback"].passed is True


def test_labels_and_rules_are_translated(plan_dossier, filer):
    version = add_version(plan_dossier, footprints=[(2, 2, 18, 28)], by=filer)
    with translation.override("fr"):
        result = by_code(prechecks_for_version(version=version))
        assert result["setback"].label == "Recul par rapport aux limites de la parcelle"
        assert result["setback"].value_display == "2,00\u00a0m"
    with translation.override("ar"):
        assert prechecks_for_version(version=version)[0].label != "Footprint inside the parcel"
