"""Fixtures shared by the whole suite: the real-data folder and a small world drawn near Casablanca."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from geo.models import AdminArea, AdminLevel, ConstraintArea, Parcel, ZoneRegulation, ZoningPlan, ZoningZone

SHARED_DATA = Path(
    os.environ.get("TAAMIR_SHARED_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public files (../shared/data); tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data folder {SHARED_DATA} is absent (set TAAMIR_SHARED_DATA to point at it)")
    return SHARED_DATA


ORIGIN_X, ORIGIN_Y = 296600.0, 332700.0  # Casablanca in Merchich / Nord Maroc


def merchich_box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    """A rectangle given in EPSG:26191 metres, returned in EPSG:4326."""
    polygon = Polygon.from_bbox((ORIGIN_X + x0, ORIGIN_Y + y0, ORIGIN_X + x1, ORIGIN_Y + y1))
    polygon.srid = 26191
    polygon.transform(4326)
    return MultiPolygon(polygon, srid=4326)


@pytest.fixture
def casablanca_world(db):
    """A commune, a zoning plan with two zones, a heritage area and three parcels (one straddling two zones)."""
    commune = AdminArea.objects.create(
        level=AdminLevel.COMMUNE,
        code="TEST-01",
        name_fr="Commune test",
        name_ar="جماعة الاختبار",
        geom=merchich_box(-1000, -1000, 1000, 1000),
    )
    plan = ZoningPlan.objects.create(code="PA-TEST", name="Plan test", commune=commune)
    villas = ZoneRegulation.objects.create(
        plan=plan,
        zone_code="V",
        label="Villas",
        max_height_m=8.5,
        max_floors=2,
        coverage_ratio=0.5,
        floor_area_ratio=0.8,
        min_setback_m=5,
        allowed_uses=["housing"],
    )
    flats = ZoneRegulation.objects.create(
        plan=plan,
        zone_code="R4",
        label="Immeubles R+4",
        max_height_m=15.5,
        max_floors=5,
        coverage_ratio=0.7,
        floor_area_ratio=3.0,
        min_setback_m=0,
        allowed_uses=["housing", "retail"],
    )
    ZoningZone.objects.create(plan=plan, source_key="z1", regulation=villas, geom=merchich_box(-1000, -1000, 0, 1000))
    ZoningZone.objects.create(plan=plan, source_key="z2", regulation=flats, geom=merchich_box(0, -1000, 1000, 1000))
    heritage = ConstraintArea.objects.create(
        kind="heritage", source_key="h1", name="Ancienne médina", geom=merchich_box(50, 50, 400, 400)
    )

    def parcel(reference: str, box: tuple[float, float, float, float]) -> Parcel:
        geom = merchich_box(*box)
        return Parcel.objects.create(
            reference=reference,
            commune=commune,
            area_m2=(box[2] - box[0]) * (box[3] - box[1]),
            area_srid=26191,
            geom=geom,
        )

    return {
        "commune": commune,
        "plan": plan,
        "heritage": heritage,
        "villa": parcel("TF 1001/C", (-200, -200, -180, -170)),
        "flat": parcel("TF 1002/C", (100, 100, 130, 140)),
        "straddling": parcel("TF 20017/C", (-10, 500, 30, 520)),
    }
