"""Control-point fits: tie drawing coordinates to a projected CRS by least squares (pure numpy + shapely).

A control point pairs a point of the drawing ``(x, y)`` (file units: millimetres, metres, PDF points...)
with the same point in a projected CRS ``(X, Y)`` in metres. :func:`fit` chooses the transformation from
the number of points:

* 2 points -> **similarity** (Helmert: one scale, one rotation, a translation; 4 parameters);
* 3 or more -> **affine** (two scales, rotation, shear, translation; 6 parameters).

Both are solved by least squares on coordinates centred on their mean (world coordinates in the
hundreds of thousands of metres would otherwise cost precision). Every transformation is written as the
same six coefficients ``(a, b, c, d, e, f)``::

    X = a * x + b * y + c
    Y = d * x + e * y + f

which is what ``PlanVersion.transform`` stores (a similarity has ``d = -b`` and ``e = a``).

Residuals and RMSE are in world units (metres for a projected CRS). They only say something when there
are more points than the transformation needs: 2 points fit a similarity exactly and 3 points (not in a
line) fit an affine exactly, so their residuals are zero by construction -- add a point to check the fit.
:func:`check_fit` refuses a fit whose RMSE is above the configured limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from plans.extraction import PlanRefused

Coefficients = tuple[float, float, float, float, float, float]
Pair = tuple[tuple[float, float], tuple[float, float]]

# Below this ratio of the smallest to the largest spread of the points, they are treated as one line.
_COLLINEAR_RATIO = 1e-6


@dataclass(frozen=True)
class Fit:
    """The result of a control-point fit.

    ``coefficients`` maps drawing to world (see the module docstring); ``residuals_m`` holds, per control
    point in the order given, the distance between its world position and where the fit sends its drawing
    position; ``rmse_m`` is the root mean square of those residuals; ``scale`` is the mean number of world
    units (metres) per drawing unit (the square root of the area scale). ``exact`` is True when the
    number of points is the minimum for the kind (2 for a similarity, 3 for an affine): the residuals are
    then zero by construction and do not measure the quality of the fit.
    """

    kind: str  # "similarity" or "affine"
    coefficients: Coefficients
    residuals_m: tuple[float, ...]
    rmse_m: float
    scale: float

    @property
    def exact(self) -> bool:
        return len(self.residuals_m) == (2 if self.kind == "similarity" else 3)

    @property
    def note(self) -> str:
        """A translated sentence to show beside an exact fit (empty when the RMSE means something)."""
        if not self.exact:
            return ""
        return _(
            "With 2 control points (similarity) or 3 (affine) the fit is exact by construction: the residuals are "
            "zero and say nothing about its quality. Add a control point to check it."
        )

    @property
    def rotation_degrees(self) -> float:
        """Rotation of the drawing's x axis in the world, counter-clockwise, in degrees."""
        a, _b, _c, d, _e, _f = self.coefficients
        return math.degrees(math.atan2(d, a))


def fit(*, pairs: Sequence[Pair]) -> Fit:
    """Fit drawing -> world from control points ``((x, y), (X, Y))``: similarity for 2, affine for 3+.

    Raises :class:`PlanRefused` for fewer than 2 points, non-finite numbers, two points at the same drawing
    (or world) position, drawing points all on one line (affine), or a transformation that flattens the
    drawing. With exactly 2 (similarity) or 3 (affine) points the residuals are zero by construction.
    """
    if len(pairs) < 2:
        raise PlanRefused(_("At least 2 control points are needed to georeference a plan."))
    try:
        drawing = np.array([[float(p[0][0]), float(p[0][1])] for p in pairs], dtype=float)
        world = np.array([[float(p[1][0]), float(p[1][1])] for p in pairs], dtype=float)
    except (TypeError, ValueError, IndexError) as exc:
        raise PlanRefused(_("Each control point needs a drawing x, y and a world X, Y.")) from exc
    if not (np.isfinite(drawing).all() and np.isfinite(world).all()):
        raise PlanRefused(_("A control point has a coordinate that is not a number."))
    _refuse_duplicates(drawing, _("Two control points have the same drawing position."))
    _refuse_duplicates(world, _("Two control points have the same world position."))

    drawing_mean = drawing.mean(axis=0)
    world_mean = world.mean(axis=0)
    dx = drawing - drawing_mean
    dw = world - world_mean

    if len(pairs) == 2:
        kind = "similarity"
        # X' = p*x' - q*y', Y' = q*x' + p*y' on centred coordinates: 2 unknowns, 2n equations.
        design = np.vstack(
            [
                np.column_stack([dx[:, 0], -dx[:, 1]]),
                np.column_stack([dx[:, 1], dx[:, 0]]),
            ]
        )
        target = np.concatenate([dw[:, 0], dw[:, 1]])
        (p, q), *_rest = np.linalg.lstsq(design, target, rcond=None)
        linear = np.array([[p, -q], [q, p]])
    else:
        kind = "affine"
        spread = np.linalg.svd(dx, compute_uv=False)
        if spread[0] == 0 or spread[-1] / spread[0] < _COLLINEAR_RATIO:
            raise PlanRefused(
                _("The drawing points of the control points are on one line: an affine fit needs them spread out.")
            )
        solution, *_rest = np.linalg.lstsq(dx, dw, rcond=None)  # dx @ solution = dw
        linear = solution.T  # rows: [a, b], [d, e]

    determinant = float(np.linalg.det(linear))
    size = float(np.abs(linear).max())
    if not math.isfinite(determinant) or size == 0 or abs(determinant) < 1e-12 * size * size:
        raise PlanRefused(_("The control points do not define a usable transformation (it flattens the drawing)."))
    translation = world_mean - linear @ drawing_mean
    coefficients: Coefficients = (
        float(linear[0, 0]),
        float(linear[0, 1]),
        float(translation[0]),
        float(linear[1, 0]),
        float(linear[1, 1]),
        float(translation[1]),
    )
    predicted = drawing @ linear.T + translation
    residuals = np.hypot(*(predicted - world).T)
    rmse = float(math.sqrt(float(np.mean(residuals**2))))
    return Fit(
        kind=kind,
        coefficients=coefficients,
        residuals_m=tuple(float(r) for r in residuals),
        rmse_m=rmse,
        scale=math.sqrt(abs(determinant)),
    )


def check_fit(fit: Fit, *, max_rmse_m: float) -> None:
    """Refuse a fit whose RMSE is above ``max_rmse_m`` (the message gives both numbers)."""
    if fit.rmse_m > max_rmse_m:
        raise PlanRefused(
            _("The control points fit with an RMSE of %(rmse).2f m, above the limit of %(limit).2f m.")
            % {"rmse": fit.rmse_m, "limit": max_rmse_m}
        )


def transform_point(coefficients: Sequence[float], x: float, y: float) -> tuple[float, float]:
    """Apply ``(a, b, c, d, e, f)`` to one point."""
    a, b, c, d, e, f = coefficients
    return (a * x + b * y + c, d * x + e * y + f)


def transform_geometry(coefficients: Sequence[float], geom: BaseGeometry) -> BaseGeometry:
    """Apply ``(a, b, c, d, e, f)`` to a shapely geometry (drawing -> world, or back with :func:`invert`)."""
    a, b, c, d, e, f = coefficients
    return affinity.affine_transform(geom, [a, b, d, e, c, f])


def invert(coefficients: Sequence[float]) -> Coefficients:
    """The coefficients of the inverse transformation (world -> drawing)."""
    a, b, c, d, e, f = (float(v) for v in coefficients)
    determinant = a * e - b * d
    if determinant == 0 or not math.isfinite(determinant):
        raise PlanRefused(_("The control points do not define a usable transformation (it flattens the drawing)."))
    ia, ib, id_, ie = e / determinant, -b / determinant, -d / determinant, a / determinant
    return (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))


def compose(outer: Sequence[float], inner: Sequence[float]) -> Coefficients:
    """The coefficients of ``outer(inner(p))`` (e.g. drawing -> world after pixel -> drawing)."""
    a1, b1, c1, d1, e1, f1 = (float(v) for v in outer)
    a2, b2, c2, d2, e2, f2 = (float(v) for v in inner)
    return (
        a1 * a2 + b1 * d2,
        a1 * b2 + b1 * e2,
        a1 * c2 + b1 * f2 + c1,
        d1 * a2 + e1 * d2,
        d1 * b2 + e1 * e2,
        d1 * c2 + e1 * f2 + f1,
    )


def metres_per_point(declared_scale: int) -> float:
    """Metres on the ground per PDF point (1/72 inch on paper) of a sheet drawn at 1:``declared_scale``."""
    return 25.4 / 72 / 1000 * declared_scale


def calibrate(*, first: tuple[float, float], second: tuple[float, float], distance_m: float) -> float:
    """Metres per drawing unit from two drawing points and the known distance between them (scale calibration)."""
    length = math.hypot(second[0] - first[0], second[1] - first[1])
    if not (math.isfinite(length) and length > 0):
        raise PlanRefused(_("The two calibration points must be distinct."))
    if not (math.isfinite(distance_m) and distance_m > 0):
        raise PlanRefused(_("The calibration distance must be a positive number of metres."))
    return distance_m / length


def _refuse_duplicates(points: np.ndarray, message: str) -> None:
    span = float(np.ptp(points, axis=0).max()) if len(points) else 0.0
    tolerance = max(span, 1.0) * 1e-9
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            if np.hypot(*(points[i] - points[j])) <= tolerance:
                raise PlanRefused(message)
