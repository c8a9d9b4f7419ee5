"""Fixtures of the plans tests: a dossier on a 20 × 30 m parcel with neighbours, and ready plan versions.

Plan versions and their footprints are created directly (status ready, CRS detected), so these tests do
not depend on the importers. Geometries are drawn in EPSG:26191 metres around ``PLAN_ORIGIN`` and stored
in EPSG:4326, like the importer does.
"""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from geo.crs import transform_point
from geo.models import AdminArea, AdminLevel, Parcel, ZoneRegulation, ZoningPlan, ZoningZone
from permits.roles import Role
from permits.services import ApplicantData, dossier_save_draft
from plans.models import CrsSource, FeatureKind, PlanFeature, PlanFormat, PlanSet, PlanVersion, VersionStatus
from tests.conftest import ORIGIN_X, ORIGIN_Y
from tests.permits.conftest import building_permit, users  # noqa: F401  (fixtures reused here)

# The plans world lies 5 km east of tests/conftest.py's Casablanca world, so both can live together.
PLAN_ORIGIN = (ORIGIN_X + 5000.0, ORIGIN_Y)


def merchich_polygon(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A rectangle in EPSG:26191 metres relative to ``PLAN_ORIGIN``, returned in EPSG:4326."""
    ox, oy = PLAN_ORIGIN
    polygon = Polygon.from_bbox((ox + x0, oy + y0, ox + x1, oy + y1))
    polygon.srid = 26191
    polygon.transform(4326)
    return polygon


def plan_box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon(merchich_polygon(x0, y0, x1, y1), srid=4326)


def merchich_point(x: float, y: float) -> tuple[float, float]:
    """A point relative to ``PLAN_ORIGIN`` as (lon, lat)."""
    return transform_point(PLAN_ORIGIN[0] + x, PLAN_ORIGIN[1] + y, source_srid=26191, target_srid=4326)


@pytest.fixture
def plan_world(db):
    """A commune, a zone R3 (CES 0.6, COS 1.8, 3 floors, 12 m, setback 3 m) and a 20 × 30 m parcel.

    The parcel (0, 0)–(20, 30) has neighbours on its east (20–40) and north (30–60) sides, so its west
    and south sides are the road frontage.
    """
    commune = AdminArea.objects.create(
        level=AdminLevel.COMMUNE, code="TEST-PLANS", name_fr="Commune des plans", name_ar="جماعة التصاميم",
        geom=plan_box(-500, -500, 500, 500),
    )  # fmt: skip
    plan = ZoningPlan.objects.create(code="PA-PLANS", name="Plan des plans", commune=commune)
    r3 = ZoneRegulation.objects.create(
        plan=plan, zone_code="R3", label="Immeubles R+2", max_height_m=12, max_floors=3, coverage_ratio=0.6,
        floor_area_ratio=1.8, min_setback_m=3, allowed_uses=["housing"],
    )  # fmt: skip
    # The zone covers the parcel; a sliver of another zone overlaps its east edge (the larger share wins).
    ZoningZone.objects.create(plan=plan, source_key="r3", regulation=r3, geom=plan_box(-500, -500, 19, 500))
    green = ZoneRegulation.objects.create(plan=plan, zone_code="EV", label="Espace vert", min_setback_m=10)
    ZoningZone.objects.create(plan=plan, source_key="ev", regulation=green, geom=plan_box(19, -500, 500, 500))

    def parcel(reference: str, box: tuple[float, float, float, float]) -> Parcel:
        return Parcel.objects.create(
            reference=reference, commune=commune, area_m2=(box[2] - box[0]) * (box[3] - box[1]), area_srid=26191,
            geom=plan_box(*box),
        )  # fmt: skip

    return {
        "commune": commune,
        "plan": plan,
        "zone": r3,
        "parcel": parcel("TF 5001/P", (0, 0, 20, 30)),
        "east": parcel("TF 5002/P", (20, 0, 40, 30)),
        "north": parcel("TF 5003/P", (0, 30, 20, 60)),
    }


@pytest.fixture
def plan_dossier(plan_world, users, building_permit):  # noqa: F811
    """A draft by the architect on the 20 × 30 m parcel, declaring 2 floors and 7 m."""
    return dossier_save_draft(
        actor=users[Role.ARCHITECT],
        procedure=building_permit,
        applicant=ApplicantData(
            first_name="Karim", last_name="Bennani", national_id="BK765432", email="karim@example.org",
            phone="+212600000002",
        ),
        parcels=[plan_world["parcel"]],
        title="Immeuble R+1",
        figures={"floors": 2, "height_m": 7, "built_area_m2": 300, "use": "housing", "dwellings": 2},
    )  # fmt: skip


def add_version(
    dossier,
    *,
    footprints: list[tuple[float, float, float, float]] | list[Polygon],
    by,
    sheet: str = "Plan de masse",
    floors: int | None = None,
    height_m: float | None = None,
    version_floors: int | None = None,
    status: str = VersionStatus.READY,
) -> PlanVersion:
    """A ready, georeferenced plan version with footprints (boxes in metres relative to ``PLAN_ORIGIN``)."""
    plan_set, _created = PlanSet.objects.get_or_create(dossier=dossier, sheet=sheet)
    number = plan_set.versions.count() + 1
    version = PlanVersion.objects.create(
        plan_set=plan_set, number=number if status == VersionStatus.READY else None, status=status,
        file=f"plans/test/v{number}.dxf", original_name=f"plan-v{number}.dxf", format=PlanFormat.DXF, size=1,
        sha256=f"{number:064d}", units="m",
        crs_srid=26191, crs_source=CrsSource.DETECTED, transform=[1, 0, 0, 0, 1, 0], transform_kind="identity",
        floors=version_floors, uploaded_by=by,
    )  # fmt: skip
    for item in footprints:
        polygon = merchich_polygon(*item) if isinstance(item, tuple) else item
        area = polygon.transform(26191, clone=True).area
        PlanFeature.objects.create(
            version=version, kind=FeatureKind.FOOTPRINT, layer="EMPRISE", floors=floors, height_m=height_m,
            area_m2=area, geom=MultiPolygon(polygon, srid=4326),
        )  # fmt: skip
    return version


@pytest.fixture
def reviewer(users):  # noqa: F811
    """A committee member: a staff role that annotates and resolves."""
    return users[Role.COMMITTEE_MEMBER]


@pytest.fixture
def filer(users):  # noqa: F811
    """The architect who filed ``plan_dossier``."""
    return users[Role.ARCHITECT]
