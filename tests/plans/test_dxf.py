"""The DXF importer (plans.dxf) on generated drawings: every unit, every CRS path, every refusal."""

from __future__ import annotations

import ezdxf
import pytest
from django.conf import settings
from django.utils import translation

from plans.dxf import infer_units, layer_matches, read_dxf, render_preview
from plans.extraction import PlanRefused
from tests.plans.dxf_fixtures import CASABLANCA, broken_geodata_dxf, building_dxf, lines_only_dxf


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


LAYERS = {"footprint_layers": ["EMPRISE", "BATI", "FOOTPRINT"], "site_layers": ["LIMITE"]}


def read(path, **options):
    return read_dxf(path, **{**LAYERS, **options})


@pytest.mark.parametrize(("units", "factor"), [("mm", 0.001), ("cm", 0.01), ("m", 1.0)])
def test_units_from_insunits_give_areas_in_square_metres(tmp_path, units, factor):
    extraction = read(building_dxf(tmp_path / f"{units}.dxf", units=units))
    assert extraction.units == units
    assert extraction.metres_per_unit == factor
    assert not extraction.units_inferred
    assert [(s.kind, s.layer, s.area_m2) for s in extraction.shapes] == [
        ("footprint", "EMPRISE", 240.0),
        ("site_boundary", "LIMITE", 750.0),
    ]
    assert extraction.crs_source == "none" and extraction.extent_wgs84 is None
    assert extraction.format_version == "R2018 (AC1032)"
    assert extraction.warnings == []


@pytest.mark.parametrize(("factor", "expected"), [(1.0, "m"), (1000.0, "mm"), (100.0, "cm")])
def test_unitless_drawing_gets_inferred_units_and_a_warning(tmp_path, factor, expected):
    extraction = read(building_dxf(tmp_path / "unitless.dxf", units="none", factor=factor))
    assert extraction.units == expected
    assert extraction.units_inferred
    assert "declares no units" in extraction.warnings[0]
    if expected != "cm":  # 3,000 cm is also a plausible 3 km: the uploader confirms
        assert extraction.footprints[0].area_m2 == 240.0


def test_confirmed_units_override_inference(tmp_path):
    path = building_dxf(tmp_path / "unitless.dxf", units="none", factor=100.0)
    extraction = read(path, units="cm")
    assert extraction.units == "cm" and not extraction.units_inferred
    assert extraction.footprints[0].area_m2 == 240.0


def test_infer_units_thresholds():
    assert [infer_units(s) for s in (15, 999, 1000, 4999, 5000, 200_000)] == ["m", "m", "cm", "cm", "mm", "mm"]


def test_r12_polyline_drawing(tmp_path):
    extraction = read(building_dxf(tmp_path / "r12.dxf", dxfversion="R12", units="none"))
    assert extraction.format_version == "R12 (AC1009)"
    assert extraction.units == "m" and extraction.units_inferred
    assert extraction.footprints[0].area_m2 == 240.0


@pytest.mark.parametrize("units", ["m", "mm"])
def test_moroccan_coordinates_are_detected(tmp_path, units):
    extraction = read(building_dxf(tmp_path / "casa.dxf", units=units, origin=CASABLANCA))
    assert extraction.crs_srid == 26191
    assert extraction.crs_source == "detected"
    assert any("EPSG:26191" in w for w in extraction.warnings)
    min_lon, min_lat, max_lon, max_lat = extraction.extent_wgs84
    assert -7.60 < min_lon < max_lon < -7.58 and 33.57 < min_lat < max_lat < 33.58  # Casablanca
    assert extraction.footprints[0].area_m2 == pytest.approx(240.0, abs=0.01)
    assert extraction.footprints[0].world.bounds[0] == pytest.approx(CASABLANCA[0] + 5.0)


def test_commune_zone_is_tried_first(tmp_path):
    path = building_dxf(tmp_path / "casa.dxf", origin=CASABLANCA)
    assert read(path, projected_srid=26191).crs_srid == 26191


def test_local_coordinates_are_not_taken_for_a_national_grid(tmp_path):
    extraction = read(building_dxf(tmp_path / "local.dxf", origin=(1500.0, 800.0)))
    assert extraction.crs_srid is None and extraction.crs_source == "none"


def test_geodata_places_the_drawing(tmp_path):
    extraction = read(building_dxf(tmp_path / "geo.dxf", geodata_epsg=26191, geodata_reference=CASABLANCA))
    assert (extraction.crs_srid, extraction.crs_source, extraction.transform_kind) == (26191, "geodata", "geodata")
    assert extraction.footprints[0].world.bounds == pytest.approx(
        (CASABLANCA[0] + 5, CASABLANCA[1] + 5, CASABLANCA[0] + 25, CASABLANCA[1] + 17)
    )
    assert extraction.footprints[0].area_m2 == pytest.approx(240.0, abs=0.01)


def test_geodata_without_coordinate_system_is_a_warning_not_a_crash(tmp_path):
    extraction = read(broken_geodata_dxf(tmp_path / "broken.dxf"))
    assert extraction.crs_source == "none"
    assert any("GEODATA" in w for w in extraction.warnings)
    assert extraction.footprints[0].area_m2 == 240.0


def test_control_points_georeference_and_win_over_detection(tmp_path):
    path = building_dxf(tmp_path / "local.dxf")
    ox, oy = CASABLANCA
    pairs = [((0, 0), (ox, oy)), ((30, 0), (ox + 30, oy)), ((0, 25), (ox, oy + 25)), ((30, 25), (ox + 30, oy + 25))]
    extraction = read(path, control_points=pairs, control_srid=26191, max_rmse_m=0.5)
    assert (extraction.crs_srid, extraction.crs_source, extraction.transform_kind) == (
        26191,
        "control_points",
        "affine",
    )
    assert extraction.rmse_m == pytest.approx(0.0, abs=1e-6)
    assert extraction.footprints[0].world.bounds == pytest.approx((ox + 5, oy + 5, ox + 25, oy + 17))
    two = read(path, control_points=pairs[:2], control_srid=26191)
    assert two.transform_kind == "similarity"


def test_control_points_with_a_bad_fit_are_refused(tmp_path):
    path = building_dxf(tmp_path / "local.dxf")
    ox, oy = CASABLANCA
    pairs = [((0, 0), (ox, oy)), ((30, 0), (ox + 30, oy)), ((0, 25), (ox, oy + 25)), ((30, 25), (ox + 40, oy + 35))]
    with pytest.raises(PlanRefused, match="RMSE"):
        read(path, control_points=pairs, control_srid=26191, max_rmse_m=1.0)
    with pytest.raises(PlanRefused, match="not a projected CRS"):
        read(path, control_points=pairs[:2], control_srid=4326)


def test_hatch_is_a_footprint(tmp_path):
    extraction = read(building_dxf(tmp_path / "hatch.dxf", hatch=True, site_layer=None))
    assert [(s.kind, s.area_m2, s.floors) for s in extraction.shapes] == [("footprint", 240.0, 4)]


def test_block_reference_and_prefixed_layer_with_floors_in_its_name(tmp_path):
    extraction = read(
        building_dxf(tmp_path / "block.dxf", in_block=True, footprint_layer="A-BATI_R+2", floors_text=None)
    )
    footprint = extraction.footprints[0]
    assert (footprint.layer, footprint.area_m2, footprint.floors) == ("A-BATI_R+2", 240.0, 3)
    assert extraction.floors == 3


def test_floors_and_height_from_text_inside_the_footprint(tmp_path):
    extraction = read(building_dxf(tmp_path / "floors.dxf", floors_text="R+3 H=12.5m"))
    assert extraction.footprints[0].floors == 4
    assert extraction.footprints[0].height_m == 12.5
    ground = read(building_dxf(tmp_path / "rdc.dxf", floors_text="RDC"))
    assert ground.footprints[0].floors == 1


def test_other_layers_fall_back_to_the_largest_outline_with_a_warning(tmp_path):
    extraction = read(building_dxf(tmp_path / "other.dxf", footprint_layer="MURS", site_layer=None))
    assert extraction.footprints[0].layer == "MURS"
    assert "largest closed outline" in extraction.warnings[-1]


def test_layer_matching():
    assert layer_matches("a-bati", ["BATI"]) and layer_matches("EMPRISE_R+3", ["emprise"])
    assert not layer_matches("BATIMENT", ["BATI"]) and not layer_matches("A.Wall_Internal", ["BATI"])


def test_no_closed_outline_is_refused(tmp_path):
    with pytest.raises(PlanRefused, match="No closed footprint"):
        read(lines_only_dxf(tmp_path / "lines.dxf"))


def test_not_a_dxf_and_truncated_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.dxf"
    garbage.write_bytes(b"0\nSECTION\n2\nHEADER\n\xff\xfe garbage")
    with pytest.raises(PlanRefused):
        read(garbage)
    good = building_dxf(tmp_path / "good.dxf").read_bytes()
    truncated = tmp_path / "truncated.dxf"
    truncated.write_bytes(good[: len(good) // 3])
    with pytest.raises(PlanRefused):
        read(truncated)


def test_unsupported_old_version_is_refused(tmp_path):
    path = building_dxf(tmp_path / "r12.dxf", dxfversion="R12")
    text = path.read_text().replace("AC1009", "AC1006", 1)
    path.write_text(text)
    with pytest.raises(PlanRefused, match="not supported"):
        read(path)


def test_preview_is_an_svg_of_the_drawing(tmp_path):
    content, kind = render_preview(building_dxf(tmp_path / "m.dxf"))
    assert (kind == "svg" and content.lstrip().startswith(b"<?xml")) or content.lstrip().startswith(b"<svg")
    assert b"<path" in content or b"<polyline" in content
    broken = tmp_path / "broken.dxf"
    broken.write_bytes(b"not a drawing")
    assert render_preview(broken) is None


def test_default_settings_name_the_usual_layers():
    assert {"EMPRISE", "BATI", "FOOTPRINT"} <= set(settings.TAAMIR_PLAN_FOOTPRINT_LAYERS)
    assert "LIMITE" in settings.TAAMIR_PLAN_SITE_LAYERS
    assert ezdxf.__version__.startswith("1.")
