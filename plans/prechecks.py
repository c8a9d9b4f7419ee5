"""Automatic pre-checks of a plan version's footprints against the parcel and its zoning zone.

Each check says what was measured (``value``), the limit of the zone's regulation (``limit``), whether it
passes (``passed``: True, False, or None when it cannot be computed, with the reason in ``explanation``)
and the rule it comes from. Everything is measured in PostGIS, in the commune's projected CRS
(``AdminArea.projected_srid``), never in degrees:

- the *site* is the union of the dossier's parcels, else the site drawn by the filer;
- the *zone* is the zoning zone covering the largest part of the site (at least ``MIN_ZONE_SHARE`` of it,
  as on the public map: a sliver is a drawing error, not a rule);
- footprints inside the site (a 5 cm tolerance absorbs drawing and transformation noise);
- coverage ratio (CES): Σ footprint area / site area;
- floor-area ratio (COS): Σ footprint area × floors / site area, floors from the footprint, else the plan
  version, else the dossier's declared figures;
- floors and height against the zone's maxima (height from the footprints, else the declared figures);
- minimum setback: the smallest distance from any footprint to the site boundary;
- road-side setback: the same distance to the boundary segments *not shared with a neighbouring parcel*,
  taken as the road frontage (the cadastre has no road layer); shown only when such segments exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from geo.selectors import MIN_ZONE_SHARE
from plans.models import FeatureKind, PlanVersion, VersionStatus

# A footprint may stick out of the site by this much (drawing and datum noise) and still be "inside".
INSIDE_TOLERANCE_M = 0.05
# Distances are compared with this tolerance: a setback drawn at exactly the limit passes.
DISTANCE_TOLERANCE_M = 0.01
# Two parcels share a boundary segment when they are closer than this (cadastral slivers).
NEIGHBOUR_TOLERANCE_M = 0.10
# Road frontage shorter than this is a corner artefact, not a frontage.
MIN_FRONTAGE_M = 1.0


@dataclass(frozen=True)
class PreCheck:
    """One automatic check: what was measured against which limit, the result and the rule."""

    code: str  # inside_parcel, coverage_ratio, floor_area_ratio, floors, height, setback, road_setback
    label: str
    value: float | None
    limit: float | None
    unit: str  # "m", "m²", "" (ratios, floors)
    passed: bool | None
    rule: str
    explanation: str = ""

    @property
    def value_display(self) -> str:
        return _display(self.value, self.unit, self.code)

    @property
    def limit_display(self) -> str:
        if self.limit is None:
            return "—"
        comparator = "≥" if self.code in {"setback", "road_setback"} else "≤"
        return f"{comparator}\u00a0{_display(self.limit, self.unit, self.code)}"

    @property
    def result(self) -> str:
        """``pass``, ``fail`` or ``unknown``: for CSS classes and tests."""
        return {True: "pass", False: "fail", None: "unknown"}[self.passed]


def _display(value: float | None, unit: str, code: str) -> str:
    if value is None:
        return "—"
    decimals = 0 if code == "floors" else 2
    text = number_format(value, decimal_pos=decimals, use_l10n=True)
    return f"{text}\u00a0{unit}" if unit else text  # never wrapped between the number and its unit


@dataclass
class _Zone:
    plan_code: str
    zone_code: str
    max_height_m: float | None
    max_floors: int | None
    coverage_ratio: float | None
    floor_area_ratio: float | None
    min_setback_m: float | None


@dataclass
class _Footprint:
    feature_id: int
    area_m2: float
    floors: int | None
    height_m: float | None
    outside_m2: float
    inside: bool
    setback_m: float
    road_setback_m: float | None


@dataclass
class _Measures:
    site_area_m2: float | None = None
    frontage_m: float = 0.0
    zone: _Zone | None = None
    footprints: list[_Footprint] = field(default_factory=list)


# One query for the site, its zone and its road frontage; the site is the union of the dossier's
# parcels or, without parcels, the site drawn by the filer. All in the commune's projected CRS.
SITE_SQL = """
WITH site AS (
    SELECT COALESCE(
        (SELECT ST_Union(p.geom) FROM geo_parcel p
          JOIN permits_dossier_parcels dp ON dp.parcel_id = p.id WHERE dp.dossier_id = %(dossier)s),
        (SELECT d.site FROM permits_dossier d WHERE d.id = %(dossier)s)
    ) AS g4326
), projected AS (
    SELECT g4326, ST_Transform(g4326, %(srid)s) AS g FROM site WHERE g4326 IS NOT NULL
), neighbours AS (
    SELECT ST_Union(ST_Transform(p.geom, %(srid)s)) AS g
      FROM geo_parcel p, projected s
     WHERE ST_DWithin(p.geom, s.g4326, 0.00001)
       AND p.id NOT IN (SELECT parcel_id FROM permits_dossier_parcels WHERE dossier_id = %(dossier)s)
       AND ST_DWithin(ST_Transform(p.geom, %(srid)s), s.g, %(neighbour_tolerance)s)
       AND NOT ST_Within(ST_Transform(p.geom, %(srid)s), ST_Buffer(s.g, %(neighbour_tolerance)s))
), frontage AS (
    SELECT CASE WHEN n.g IS NULL THEN NULL
                ELSE ST_Difference(ST_Boundary(s.g), ST_Buffer(n.g, %(neighbour_tolerance)s)) END AS g
      FROM projected s, neighbours n
), zone AS (
    SELECT * FROM (
        SELECT zp.code AS plan_code, r.zone_code, r.max_height_m, r.max_floors, r.coverage_ratio,
               r.floor_area_ratio, r.min_setback_m,
               ST_Area(ST_Intersection(ST_Transform(z.geom, %(srid)s), s.g)) / NULLIF(ST_Area(s.g), 0) AS share
          FROM geo_zoningzone z
          JOIN geo_zoningplan zp ON zp.id = z.plan_id
          JOIN geo_zoneregulation r ON r.id = z.regulation_id, projected s
         WHERE ST_Intersects(z.geom, s.g4326)
    ) shares
     WHERE share >= %(min_share)s
     ORDER BY share DESC, zone_code
     LIMIT 1
)
SELECT ST_Area(s.g), COALESCE(ST_Length(f.g), 0),
       z.plan_code, z.zone_code, z.max_height_m, z.max_floors, z.coverage_ratio, z.floor_area_ratio, z.min_setback_m,
       ST_AsEWKB(f.g), ST_AsEWKB(s.g4326)
  FROM projected s LEFT JOIN frontage f ON TRUE LEFT JOIN zone z ON TRUE
"""

# Each footprint against the site (and the frontage when there is one), in the same projected CRS.
FOOTPRINT_SQL = """
WITH site AS (
    SELECT ST_Transform(ST_GeomFromEWKB(%(site)s), %(srid)s) AS g
), frontage AS (
    SELECT CASE WHEN %(frontage)s::bytea IS NULL THEN NULL ELSE ST_GeomFromEWKB(%(frontage)s::bytea) END AS g
)
SELECT f.id, ST_Area(fp.g), f.floors, f.height_m,
       ST_Area(ST_Difference(fp.g, s.g)),
       ST_Covers(ST_Buffer(s.g, %(inside_tolerance)s), fp.g),
       CASE WHEN ST_Within(fp.g, s.g) THEN ST_Distance(fp.g, ST_Boundary(s.g)) ELSE 0 END,
       CASE WHEN fr.g IS NULL OR ST_IsEmpty(fr.g) THEN NULL
            WHEN ST_Within(fp.g, s.g) THEN ST_Distance(fp.g, fr.g) ELSE 0 END
  FROM plans_planfeature f
  CROSS JOIN LATERAL (SELECT ST_Transform(f.geom, %(srid)s) AS g) fp
  CROSS JOIN site s CROSS JOIN frontage fr
 WHERE f.version_id = %(version)s AND f.kind = %(kind)s
 ORDER BY f.id
"""


def _measure(*, version: PlanVersion, srid: int) -> _Measures:
    dossier_id = version.plan_set.dossier_id
    measures = _Measures()
    with connection.cursor() as cursor:
        parameters = {
            "dossier": dossier_id,
            "srid": srid,
            "neighbour_tolerance": NEIGHBOUR_TOLERANCE_M,
            "min_share": MIN_ZONE_SHARE,
        }
        cursor.execute(SITE_SQL, parameters)
        row = cursor.fetchone()
        if row is None or row[0] is None:
            return measures
        measures.site_area_m2 = float(row[0])
        measures.frontage_m = float(row[1] or 0)
        if row[3] is not None:
            measures.zone = _Zone(*row[2:9])
        frontage = bytes(row[9]) if row[9] is not None and measures.frontage_m >= MIN_FRONTAGE_M else None
        site = row[10]
        cursor.execute(
            FOOTPRINT_SQL,
            {
                "site": bytes(site),
                "srid": srid,
                "frontage": frontage,
                "inside_tolerance": INSIDE_TOLERANCE_M,
                "version": version.pk,
                "kind": FeatureKind.FOOTPRINT,
            },
        )
        for fid, area, floors, height, outside, inside, setback, road in cursor.fetchall():
            measures.footprints.append(
                _Footprint(fid, float(area), floors, height, float(outside), bool(inside), float(setback),
                           None if road is None else float(road))
            )  # fmt: skip
    return measures


def _declared(version: PlanVersion, name: str) -> float | None:
    value = (version.plan_set.dossier.figures or {}).get(name)
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _floors_of(footprint: _Footprint, version: PlanVersion) -> tuple[int | None, str]:
    """The floors of a footprint and where the number comes from."""
    if footprint.floors:
        return footprint.floors, _("the footprint")
    if version.floors:
        return version.floors, _("the plan")
    declared = _declared(version, "floors")
    if declared:
        return int(declared), _("the declared figures")
    return None, ""


def _fmt(value: float, decimals: int = 2) -> str:
    return number_format(value, decimal_pos=decimals, use_l10n=True)


def _result(value: float | None, limit: float | None, *, at_least: bool, tolerance: float = 1e-9) -> bool | None:
    if value is None or limit is None:
        return None
    return value >= limit - tolerance if at_least else value <= limit + tolerance


def _sentence(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def prechecks_for_version(*, version: PlanVersion) -> list[PreCheck]:
    """The pre-checks of one plan version: always the same seven checks, in the same order."""
    version = PlanVersion.objects.select_related("plan_set__dossier__commune").get(pk=version.pk)
    srid = version.plan_set.dossier.commune.projected_srid
    measures = _measure(version=version, srid=srid)
    footprints, zone, site_area = measures.footprints, measures.zone, measures.site_area_m2

    # Why a check cannot be computed, in order of precedence.
    no_site = _("The dossier has neither a parcel nor a site boundary.") if site_area is None else ""
    no_footprint = ""
    if version.status != VersionStatus.READY:
        no_footprint = _("This plan version is not ready.")
    elif not footprints:
        no_footprint = _("No georeferenced building footprint was found in this plan version.")
    missing = no_site or no_footprint
    no_zone = _("No zoning zone covers the parcel.") if zone is None else ""
    no_floors = _("The number of floors is neither in the plan nor in the declared figures.")

    def rule(text: str, limit: float | None, fallback: str) -> str:
        if zone is None or limit is None:
            return fallback
        return _("%(plan)s zone %(zone)s: %(rule)s") % {
            "plan": zone.plan_code,
            "zone": zone.zone_code,
            "rule": text % {"limit": _fmt(limit, 0 if isinstance(limit, int) else 2)},
        }

    def unset(limit: float | None, text: str) -> str:
        """Why there is no verdict although the value is known: no zone, or the zone sets no such limit."""
        return no_zone or ("" if limit is not None else text)

    checks: list[PreCheck] = []
    total_area = sum(f.area_m2 for f in footprints)
    floors_of = [_floors_of(f, version) for f in footprints]

    # 1. Inside the parcel.
    label = _("Footprint inside the parcel")
    text = _("The building must stand on the dossier's parcels (tolerance %(tolerance)s m).") % {
        "tolerance": _fmt(INSIDE_TOLERANCE_M)
    }
    if missing:
        checks.append(PreCheck("inside_parcel", label, None, None, "m²", None, text, missing))
    else:
        outside = round(sum(f.outside_m2 for f in footprints), 2)
        passed = all(f.inside for f in footprints)
        explanation = (
            _("Every footprint is inside the parcel.")
            if passed
            else _("%(area)s m² of the footprint lie outside the parcel.") % {"area": _fmt(outside)}
        )
        checks.append(PreCheck("inside_parcel", label, outside, 0.0, "m²", passed, text, explanation))

    # 2. Coverage ratio (CES).
    label = _("Coverage ratio (CES)")
    limit = zone.coverage_ratio if zone else None
    text = rule(_("CES ≤ %(limit)s"), limit, _("Maximum coverage ratio of the zone"))
    if missing:
        checks.append(PreCheck("coverage_ratio", label, None, limit, "", None, text, missing))
    else:
        value = round(total_area / site_area, 3)
        explanation = _("%(footprint)s m² of footprint on %(site)s m² of parcel.") % {
            "footprint": _fmt(total_area),
            "site": _fmt(site_area),
        }
        reason = unset(limit, _("The zone sets no maximum coverage ratio."))
        passed = None if reason else _result(value, limit, at_least=False)
        checks.append(PreCheck("coverage_ratio", label, value, limit, "", passed, text, _sentence(explanation, reason)))

    # 3. Floor-area ratio (COS).
    label = _("Floor-area ratio (COS)")
    limit = zone.floor_area_ratio if zone else None
    text = rule(_("COS ≤ %(limit)s"), limit, _("Maximum floor-area ratio of the zone"))
    if missing or any(floors is None for floors, _source in floors_of):
        checks.append(PreCheck("floor_area_ratio", label, None, limit, "", None, text, missing or no_floors))
    else:
        floor_area = sum(f.area_m2 * floors for f, (floors, _source) in zip(footprints, floors_of, strict=True))
        value = round(floor_area / site_area, 3)
        explanation = _("%(floor_area)s m² of floor area (floors from %(source)s) on %(site)s m² of parcel.") % {
            "floor_area": _fmt(floor_area),
            "source": ", ".join(sorted({source for _floors, source in floors_of})),
            "site": _fmt(site_area),
        }
        reason = unset(limit, _("The zone sets no maximum floor-area ratio."))
        passed = None if reason else _result(value, limit, at_least=False)
        checks.append(
            PreCheck("floor_area_ratio", label, value, limit, "", passed, text, _sentence(explanation, reason))
        )

    # 4. Floors: from the footprints, else the version, else the declared figures.
    label = _("Floors")
    limit = zone.max_floors if zone else None
    text = rule(_("floors ≤ %(limit)s"), limit, _("Maximum floors of the zone"))
    known = [(floors, source) for floors, source in floors_of if floors is not None]
    if known:
        value = max(floors for floors, _source in known)
        source = ", ".join(sorted({source for _floors, source in known}))
    else:
        value = version.floors or _declared(version, "floors")
        source = _("the plan") if version.floors else _("the declared figures")
    if no_site:
        checks.append(PreCheck("floors", label, None, limit, "", None, text, no_site))
    elif not value:
        checks.append(PreCheck("floors", label, None, limit, "", None, text, no_floors))
    else:
        reason = unset(limit, _("The zone sets no maximum number of floors."))
        passed = None if reason else _result(value, limit, at_least=False)
        explanation = _("Floors from %(source)s.") % {"source": source}
        checks.append(PreCheck("floors", label, float(value), limit, "", passed, text, _sentence(explanation, reason)))

    # 5. Height: from the footprints, else the declared figures.
    label = _("Height")
    limit = zone.max_height_m if zone else None
    text = rule(_("height ≤ %(limit)s m"), limit, _("Maximum height of the zone"))
    heights = [f.height_m for f in footprints if f.height_m is not None]
    value, source = (
        (max(heights), _("the plan")) if heights else (_declared(version, "height_m"), _("the declared figures"))
    )
    if no_site:
        checks.append(PreCheck("height", label, None, limit, "m", None, text, no_site))
    elif value is None:
        reason = _("The height is neither in the plan nor in the declared figures.")
        checks.append(PreCheck("height", label, None, limit, "m", None, text, reason))
    else:
        reason = unset(limit, _("The zone sets no maximum height."))
        passed = None if reason else _result(value, limit, at_least=False, tolerance=DISTANCE_TOLERANCE_M)
        explanation = _("Height from %(source)s.") % {"source": source}
        checks.append(
            PreCheck("height", label, round(value, 2), limit, "m", passed, text, _sentence(explanation, reason))
        )

    # 6. Setback from the parcel boundary.
    label = _("Setback from the parcel boundary")
    limit = zone.min_setback_m if zone else None
    text = rule(_("setback from the parcel boundary ≥ %(limit)s m"), limit, _("Minimum setback of the zone"))
    if missing:
        checks.append(PreCheck("setback", label, None, limit, "m", None, text, missing))
    else:
        value = round(min(f.setback_m for f in footprints), 2)
        touching = any(not f.inside or f.setback_m == 0 for f in footprints)
        explanation = (
            _("A footprint touches or crosses the parcel boundary.")
            if touching
            else _("Smallest distance from a footprint to the parcel boundary.")
        )
        reason = unset(limit, _("The zone sets no minimum setback."))
        passed = None if reason else _result(value, limit, at_least=True, tolerance=DISTANCE_TOLERANCE_M)
        checks.append(PreCheck("setback", label, value, limit, "m", passed, text, _sentence(explanation, reason)))

    # 7. Setback from the road: the frontage is the boundary not shared with a neighbouring parcel.
    label = _("Setback from the road")
    text = rule(
        _(
            "setback from the road ≥ %(limit)s m (the zone's minimum setback; the parcel's boundary segments "
            "not shared with a neighbouring parcel are taken as the road frontage)"
        ),
        limit,
        _("The parcel's boundary segments not shared with a neighbouring parcel are taken as the road frontage."),
    )
    road_values = [f.road_setback_m for f in footprints if f.road_setback_m is not None]
    if missing:
        checks.append(PreCheck("road_setback", label, None, limit, "m", None, text, missing))
    elif not road_values:
        reason = _(
            "The road side is not known: every boundary segment is shared with a neighbouring parcel, "
            "or no neighbouring parcel is known."
        )
        checks.append(PreCheck("road_setback", label, None, limit, "m", None, text, reason))
    else:
        value = round(min(road_values), 2)
        explanation = _("%(length)s m of the parcel's boundary are taken as road frontage.") % {
            "length": _fmt(measures.frontage_m, 1)
        }
        reason = unset(limit, _("The zone sets no minimum setback."))
        passed = None if reason else _result(value, limit, at_least=True, tolerance=DISTANCE_TOLERANCE_M)
        checks.append(PreCheck("road_setback", label, value, limit, "m", passed, text, _sentence(explanation, reason)))
    return checks


def prechecks_for_dossier(*, dossier: Any) -> list[PreCheck]:
    """The pre-checks of the dossier's latest ready plan version that has footprints ([] when there is none)."""
    version = latest_checked_version(dossier=dossier)
    return [] if version is None else prechecks_for_version(version=version)


def latest_checked_version(*, dossier: Any) -> PlanVersion | None:
    """The most recent ready plan version of the dossier with at least one footprint, or None."""
    return (
        PlanVersion.objects.filter(
            plan_set__dossier=dossier, status=VersionStatus.READY, features__kind=FeatureKind.FOOTPRINT
        )
        .select_related("plan_set")
        .order_by("-uploaded_at", "-pk")
        .distinct()
        .first()
    )
