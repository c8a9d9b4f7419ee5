"""``seed_demo`` and :func:`etl.demo.demo_commune_build` against a real PostGIS.

Counts, areas measured by PostGIS in EPSG:26191, valid geometries, zones that tile the commune, one
account per role, a second run that writes nothing, and the same drawing every time (a checksum of
the pure layout, and the same stored geometry per reference after the demo is deleted and rebuilt).
"""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.db import connection

from etl.demo import (
    DEMO_COMMUNE_CODE,
    DEMO_PASSWORD,
    DEMO_PLAN_CODE,
    ROLES,
    DemoError,
    demo_commune_build,
    demo_commune_delete,
    demo_layout_build,
)
from geo.models import AdminArea, AdminLevel, ConstraintArea, ConstraintKind, Parcel, ZoningPlan, ZoningZone
from permits.roles import Role

pytestmark = pytest.mark.django_db

# sha256 of "<reference> <WKT in EPSG:26191>\n" for every parcel of the default layout, in order.
# It changes only when the drawing changes on purpose: then update it and say so in the commit.
LAYOUT_CHECKSUM = "1baf07a210b472473f0d9c837bc3f35c8130f4db7b3be4a92c0c24f202ef42ca"
LAYOUT_PARCELS = 5109
# A box around greater Casablanca (EPSG:4326), standing for the prefecture's boundary.
GREATER_CASABLANCA = MultiPolygon(Polygon.from_bbox((-7.75, 33.45, -7.40, 33.70)), srid=4326)


def scalar(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def stored_geometry_digests() -> dict[str, str]:
    """Reference → md5 of the stored EPSG:4326 geometry, for every demo parcel."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reference, md5(ST_AsEWKB(geom)) FROM geo_parcel WHERE attributes->>'source' = 'demo' ORDER BY 1"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def demo():
    return demo_commune_build()


def test_counts(demo):
    commune = AdminArea.objects.get(code=DEMO_COMMUNE_CODE)
    assert commune.level == AdminLevel.COMMUNE
    assert commune.projected_srid == 26191
    assert commune.name_fr == "Commune de démonstration"
    assert commune.name_ar == "الجماعة النموذجية"
    area_km2 = scalar("SELECT ST_Area(ST_Transform(geom, 26191)) / 1e6 FROM geo_adminarea WHERE id = %s", [commune.pk])
    assert 2 < area_km2 < 8

    parcels = Parcel.objects.filter(commune=commune)
    assert demo.parcels_created == demo.parcels == parcels.count() == LAYOUT_PARCELS
    assert 4_500 <= parcels.count() <= 5_500
    assert demo.blocks > 100

    plan = ZoningPlan.objects.get(code=DEMO_PLAN_CODE)
    assert plan.commune == commune and plan.approved_on is not None
    regulations = {regulation.zone_code: regulation for regulation in plan.regulations.all()}
    assert len(regulations) >= 4
    villas = regulations["D"]
    assert (villas.max_height_m, villas.max_floors, villas.coverage_ratio, villas.floor_area_ratio) == (
        8.5,
        2,
        0.5,
        0.8,
    )
    assert villas.min_setback_m == 5.0 and villas.allowed_uses == ["housing"]
    assert regulations["B4"].max_height_m == 15.5 and regulations["B4"].coverage_ratio == 0.7
    assert regulations["E2"].max_height_m == 11.5
    assert "industry" in regulations["I"].allowed_uses
    assert regulations["EV"].coverage_ratio == 0 and regulations["EV"].floor_area_ratio == 0
    assert set(plan.zones.values_list("regulation__zone_code", flat=True)) == set(regulations)
    assert all(key for key in plan.zones.values_list("source_key", flat=True))

    kinds = set(ConstraintArea.objects.values_list("kind", flat=True))
    assert {ConstraintKind.HERITAGE, ConstraintKind.ROAD_ALIGNMENT, ConstraintKind.FLOOD_ZONE} <= kinds


def test_zones_cover_the_commune_without_overlap(demo):
    uncovered = scalar(
        "SELECT ST_Area(ST_Transform(ST_SymDifference(a.geom, z.geom), 26191)) "
        "FROM geo_adminarea a, (SELECT ST_Union(geom) AS geom FROM geo_zoningzone) z WHERE a.code = %s",
        [DEMO_COMMUNE_CODE],
    )
    assert uncovered < 1.0  # m²: float noise only
    overlap = scalar(
        "SELECT coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 26191))), 0) "
        "FROM geo_zoningzone a JOIN geo_zoningzone b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"
    )
    assert overlap < 1.0


def test_demo_accounts_can_sign_in(demo, client):
    assert client.login(username="demo.desk", password=DEMO_PASSWORD)
    assert not client.login(username="demo.desk", password="wrong")


def test_every_role_has_its_group_and_account(demo):
    user_model = get_user_model()
    assert demo.accounts_created == len(ROLES) == 9
    for role in ROLES:
        user = user_model.objects.get(username=role.username)
        assert list(user.groups.values_list("name", flat=True)) == [role.group]
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_superuser == user.is_staff == (role.group == "admin")
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert {role.group for role in ROLES} == set(Role.values)
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == len(ROLES)
    assert user_model.objects.get(username="demo.admin").is_superuser


def test_areas_are_measured_by_postgis_in_merchich(demo):
    row_count, worst, srids = (
        scalar("SELECT count(*) FROM geo_parcel"),
        scalar("SELECT max(abs(area_m2 - ST_Area(ST_Transform(geom, 26191)))) FROM geo_parcel"),
        scalar("SELECT array_agg(DISTINCT area_srid) FROM geo_parcel"),
    )
    assert row_count == LAYOUT_PARCELS
    assert worst < 1e-6
    assert srids == [26191]
    assert 50 < scalar("SELECT min(area_m2) FROM geo_parcel") < scalar("SELECT max(area_m2) FROM geo_parcel")


def test_every_geometry_is_valid_and_parcels_lie_in_the_commune(demo):
    for table in ("geo_adminarea", "geo_parcel", "geo_zoningzone", "geo_constraintarea"):
        assert scalar(f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom)") == 0, table
        assert scalar(f"SELECT count(*) FROM {table} WHERE ST_SRID(geom) <> 4326") == 0, table
    outside = scalar(
        "SELECT count(*) FROM geo_parcel p JOIN geo_adminarea a ON a.id = p.commune_id "
        "WHERE NOT ST_CoveredBy(p.geom, a.geom)"
    )
    assert outside == 0
    overlaps = scalar(
        "SELECT count(*) FROM geo_parcel a JOIN geo_parcel b ON a.id < b.id AND ST_Intersects(a.geom, b.geom) "
        "AND ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 26191)) > 1e-4"
    )
    assert overlaps == 0


def test_parcels_are_varied_lots_with_unique_land_titles(demo):
    references = list(Parcel.objects.values_list("reference", flat=True))
    assert len(set(references)) == len(references)
    assert all(re.fullmatch(r"TF \d{5}/C", reference) for reference in references)
    assert Parcel.objects.filter(attributes__corner=True).count() > 500
    # Corner lots have a pan coupé: five corners or more, where a plain lot of a one-row block has four.
    corner_points = scalar("SELECT min(ST_NPoints(geom)) FROM geo_parcel WHERE (attributes->>'corner')::boolean")
    assert corner_points >= 6
    distinct_areas = scalar("SELECT count(DISTINCT round(area_m2::numeric, 1)) FROM geo_parcel")
    assert distinct_areas > 2_500
    assert scalar("SELECT stddev(area_m2) / avg(area_m2) FROM geo_parcel") > 0.3


def test_second_run_creates_nothing(demo):
    before = stored_geometry_digests()
    counts = (Parcel.objects.count(), ZoningZone.objects.count(), ConstraintArea.objects.count())
    again = demo_commune_build()
    assert not again.changed
    assert again.parcels_created == again.zones_created == again.accounts_created == 0
    assert (Parcel.objects.count(), ZoningZone.objects.count(), ConstraintArea.objects.count()) == counts
    assert stored_geometry_digests() == before


def test_command_reports_counts_then_nothing_on_a_second_run():
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    first = out.getvalue()
    assert f"{LAYOUT_PARCELS}  ({LAYOUT_PARCELS} new)" in first
    assert DEMO_PASSWORD in first and "demo.applicant" in first
    assert first.strip().splitlines()[-1].startswith("Demo ready:")
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    assert "(0 new)" in out.getvalue()
    assert out.getvalue().strip().splitlines()[-1].startswith("Demo already complete: nothing changed")


def test_missing_parts_are_restored(demo):
    layout = demo_layout_build()
    Parcel.objects.filter(reference__in=[layout.parcels[0].reference, layout.parcels[-1].reference]).delete()
    ConstraintArea.objects.filter(kind=ConstraintKind.HERITAGE).delete()
    get_user_model().objects.filter(username="demo.inspector").delete()
    again = demo_commune_build()
    assert (again.parcels_created, again.constraints_created, again.accounts_created) == (2, 1, 1)
    assert Parcel.objects.count() == LAYOUT_PARCELS


def test_layout_is_deterministic():
    layout = demo_layout_build()
    digest = hashlib.sha256()
    for parcel in layout.parcels:
        digest.update(f"{parcel.reference} {parcel.wkt}\n".encode())
    assert len(layout.parcels) == LAYOUT_PARCELS
    assert digest.hexdigest() == layout.digest == LAYOUT_CHECKSUM
    assert demo_layout_build().parcels == layout.parcels
    assert demo_layout_build(seed=7).parcels != layout.parcels


def test_rebuild_stores_the_same_geometry_per_reference(demo):
    first = stored_geometry_digests()
    demo_commune_delete()
    assert Parcel.objects.count() == ZoningZone.objects.count() == ConstraintArea.objects.count() == 0
    assert not AdminArea.objects.exists()
    rebuilt = demo_commune_build()
    assert rebuilt.commune_created and rebuilt.parcels_created == LAYOUT_PARCELS
    assert stored_geometry_digests() == first


def test_province_containing_the_commune_becomes_its_parent():
    province = AdminArea.objects.create(
        level=AdminLevel.PROVINCE,
        code="MA-CAS",
        name_fr="Préfecture de Casablanca",
        geom=GREATER_CASABLANCA,
    )
    summary = demo_commune_build()
    assert summary.parent_code == "MA-CAS" and summary.parent_set
    assert AdminArea.objects.get(code=DEMO_COMMUNE_CODE).parent == province


def test_parent_is_set_when_the_province_arrives_later(demo):
    assert demo.parent_code is None
    AdminArea.objects.create(
        level=AdminLevel.PROVINCE,
        code="MA-CAS",
        name_fr="Préfecture de Casablanca",
        geom=Polygon.from_bbox((-7.75, 33.45, -7.40, 33.70))
        .wkt.join(("SRID=4326;MULTIPOLYGON((", "))"))
        .replace("POLYGON ((", "("),
    )
    again = demo_commune_build()
    assert again.parent_set and again.changed and again.parcels_created == 0


def test_another_layout_is_refused_once_built(demo):
    with pytest.raises(DemoError, match=r"another layout .* run seed_demo --reset"):
        demo_commune_build(seed=7)
    # A demo seeded before parcels carried their layout version counts as another layout too.
    Parcel.objects.filter(reference=demo_layout_build().parcels[0].reference).update(attributes={"source": "demo"})
    with pytest.raises(DemoError, match="another layout"):
        demo_commune_build()
    assert Parcel.objects.count() == LAYOUT_PARCELS


def test_reset_redraws_the_geography_and_keeps_the_accounts(demo):
    user_model = get_user_model()
    applicant = user_model.objects.get(username="demo.applicant")
    Parcel.objects.update(attributes={"source": "demo"})
    out = io.StringIO()
    call_command("seed_demo", "--reset", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("Deleted ")
    assert f"{LAYOUT_PARCELS}  ({LAYOUT_PARCELS} new)" in out.getvalue()
    assert Parcel.objects.count() == LAYOUT_PARCELS
    assert user_model.objects.get(username="demo.applicant").pk == applicant.pk
    assert not demo_commune_build().changed
