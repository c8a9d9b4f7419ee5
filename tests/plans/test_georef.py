"""Control-point fits: known similarities and affines recovered, noise measured, bad point sets refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from django.utils import translation
from shapely.geometry import Polygon

from plans import georef
from plans.extraction import PlanRefused

# A drawing in millimetres at 1:200 (0.2 m per mm), turned by 25 degrees, placed in Merchich / Nord Maroc.
SCALE = 0.2
ANGLE = math.radians(25)
SIMILARITY = (
    SCALE * math.cos(ANGLE),
    -SCALE * math.sin(ANGLE),
    296_600.0,
    SCALE * math.sin(ANGLE),
    SCALE * math.cos(ANGLE),
    332_700.0,
)
AFFINE = (0.21, 0.04, 296_600.0, -0.03, 0.18, 332_700.0)
DRAWING = [(0.0, 0.0), (400.0, 20.0), (380.0, 290.0), (10.0, 270.0), (200.0, 150.0), (90.0, 60.0)]


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English (the site's default language is French)."""
    with translation.override("en"):
        yield


def pairs_for(coefficients, points=DRAWING):
    return [(point, georef.transform_point(coefficients, *point)) for point in points]


def test_two_points_recover_a_known_similarity_exactly():
    result = georef.fit(pairs=pairs_for(SIMILARITY, DRAWING[:2]))
    assert result.kind == "similarity"
    assert result.coefficients == pytest.approx(SIMILARITY, abs=1e-9)
    assert result.scale == pytest.approx(SCALE)
    assert result.rotation_degrees == pytest.approx(25)
    assert result.exact  # 2 points, 4 parameters: residuals are zero by construction
    assert max(result.residuals_m) < 1e-6
    assert result.rmse_m < 1e-6


def test_three_or_more_points_recover_a_known_affine_exactly():
    for count in (3, 6):
        result = georef.fit(pairs=pairs_for(AFFINE, DRAWING[:count]))
        assert result.kind == "affine"
        assert result.coefficients == pytest.approx(AFFINE, abs=1e-9)
        assert result.exact == (count == 3)
        assert len(result.residuals_m) == count
        assert result.rmse_m < 1e-6
    assert result.scale == pytest.approx(math.sqrt(0.21 * 0.18 + 0.04 * 0.03))


def test_affine_fit_of_a_similarity_finds_the_similarity():
    result = georef.fit(pairs=pairs_for(SIMILARITY))
    assert result.kind == "affine"
    assert result.coefficients == pytest.approx(SIMILARITY, abs=1e-9)


def test_noise_shows_in_residuals_and_rmse():
    rng = np.random.default_rng(5)
    points = [(float(x), float(y)) for x, y in rng.uniform(0, 500, size=(40, 2))]
    noise = rng.normal(0, 0.3, size=(40, 2))  # 0.3 m per axis
    pairs = [
        (point, (world[0] + dx, world[1] + dy))
        for (point, world), (dx, dy) in zip(pairs_for(AFFINE, points), noise, strict=True)
    ]
    result = georef.fit(pairs=pairs)
    # Residuals are the distances to the fitted positions, their RMSE their root mean square.
    for (point, world), residual in zip(pairs, result.residuals_m, strict=True):
        x, y = georef.transform_point(result.coefficients, *point)
        assert residual == pytest.approx(math.hypot(x - world[0], y - world[1]))
    assert result.rmse_m == pytest.approx(math.sqrt(np.mean(np.square(result.residuals_m))))
    # 2-D noise of 0.3 m per axis: RMS distance ~ 0.3 * sqrt(2), a little less after fitting 6 parameters.
    assert 0.3 < result.rmse_m < 0.5
    assert result.coefficients[:2] == pytest.approx(AFFINE[:2], abs=0.01)
    assert not result.exact


def test_one_bad_point_stands_out():
    pairs = pairs_for(AFFINE)
    (x, y), (world_x, world_y) = pairs[4]
    pairs[4] = ((x, y), (world_x + 5.0, world_y))  # a point clicked 5 m off
    result = georef.fit(pairs=pairs)
    assert max(range(len(pairs)), key=lambda i: result.residuals_m[i]) == 4
    assert result.rmse_m > 1.0


def test_check_fit_refuses_above_the_limit_and_says_both_numbers():
    pairs = pairs_for(AFFINE)
    (x, y), (world_x, world_y) = pairs[4]
    pairs[4] = ((x, y), (world_x + 5.0, world_y))
    result = georef.fit(pairs=pairs)
    georef.check_fit(result, max_rmse_m=result.rmse_m + 0.01)
    with pytest.raises(PlanRefused) as refused:
        georef.check_fit(result, max_rmse_m=0.5)
    assert f"{result.rmse_m:.2f} m" in str(refused.value)
    assert "0.50 m" in str(refused.value)


@pytest.mark.parametrize(
    ("pairs", "reason"),
    [
        ([], "At least 2"),
        ([((0, 0), (1, 1))], "At least 2"),
        ([((0, 0), (1, 1)), ((0, 0), (5, 5))], "same drawing position"),
        ([((0, 0), (1, 1)), ((3, 4), (1, 1))], "same world position"),
        ([((0, 0), (1, 1)), ((1, 1), (2, 3)), ((2, 2), (3, 2))], "on one line"),
        ([((0, 0), (1, 1)), ((1, 1), (2, 3)), ((2, 2.0000000001), (3, 2)), ((5, 5), (4, 4))], "on one line"),
        ([((0, 0), (1, 1)), ((1, float("nan")), (2, 2))], "not a number"),
        ([((0, 0), (1, 1)), ((1, "x"), (2, 2))], "drawing x, y"),
        ([((0, 0), (0, 0)), ((10, 0), (5, 0)), ((0, 10), (10, 0))], "flattens"),
    ],
)
def test_bad_point_sets_are_refused(pairs, reason):
    with pytest.raises(PlanRefused, match=reason):
        georef.fit(pairs=pairs)


def test_refusals_are_translated():
    with translation.override("fr"), pytest.raises(PlanRefused) as refused:
        georef.fit(pairs=[((0, 0), (1, 1))])
    assert "points de calage" in str(refused.value)
    with translation.override("fr"):
        assert "Ajoutez un point de calage" in georef.fit(pairs=pairs_for(SIMILARITY, DRAWING[:2])).note
    with translation.override("ar"), pytest.raises(PlanRefused) as refused:
        georef.fit(pairs=[((0, 0), (1, 1))])
    assert any("\u0600" <= char <= "\u06ff" for char in str(refused.value))


def test_transform_geometry_invert_and_compose():
    square = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)])
    world = georef.transform_geometry(SIMILARITY, square)
    assert world.area == pytest.approx(square.area * SCALE**2)
    assert world.exterior.coords[1] == pytest.approx(georef.transform_point(SIMILARITY, 100, 0))
    back = georef.transform_geometry(georef.invert(AFFINE), georef.transform_geometry(AFFINE, square))
    assert back.equals_exact(square, 1e-6)
    identity = georef.compose(georef.invert(AFFINE), AFFINE)
    assert identity == pytest.approx((1, 0, 0, 0, 1, 0), abs=1e-9)
    with pytest.raises(PlanRefused):
        georef.invert((1, 2, 0, 2, 4, 0))


def test_scale_from_the_declared_scale_and_from_a_calibration():
    assert georef.metres_per_point(100) == pytest.approx(0.0352777, rel=1e-5)  # 1 pt = 0.3528 mm on paper
    # 72 pt = 1 inch = 25.4 mm on paper, i.e. 2.54 m at 1:100.
    assert georef.calibrate(first=(10, 10), second=(10, 82), distance_m=2.54) == pytest.approx(
        georef.metres_per_point(100)
    )
    with pytest.raises(PlanRefused):
        georef.calibrate(first=(1, 1), second=(1, 1), distance_m=3)
    with pytest.raises(PlanRefused):
        georef.calibrate(first=(1, 1), second=(2, 1), distance_m=0)
