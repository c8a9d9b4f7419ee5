"""``generate_parcels`` and :func:`etl.synthetic.synthetic_parcels_generate` against a real PostGIS.

Small counts only (the 1,000,000-parcel run is measured by hand): unique ``SYN`` references that
continue from run to run, valid non-overlapping polygons, areas measured in the commune's CRS, the
commune set, the same polygons for the same seed, and bad input refused with one line and no rows.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from etl.demo import DEMO_COMMUNE_CODE, demo_commune_build
from etl.synthetic import SyntheticParcelError, synthetic_parcels_generate, synthetic_reference
from geo.models import AdminArea, AdminLevel, Parcel

pytestmark = pytest.mark.django_db


def scalar(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def generate(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("generate_parcels", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        generate(*args)
    message = str(caught.value)
    assert message and "\n" not in message
    assert caught.value.returncode != 0
    return message


def synthetic() -> list[str]:
    return list(
        Parcel.objects.filter(reference_key__startswith="SYN")
        .order_by("reference_key")
        .values_list("reference", flat=True)
    )


def digests() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reference, md5(ST_AsEWKB(geom)) FROM geo_parcel WHERE reference_key LIKE 'SYN%%'")
        return dict(cursor.fetchall())


@pytest.fixture
def commune() -> AdminArea:
    """A small commune at Casablanca's point, with its own measurement CRS."""
    return AdminArea.objects.create(
        level=AdminLevel.COMMUNE,
        code="TEST-COM",
        name_fr="Commune d'essai",
        projected_srid=26191,
        geom=MultiPolygon(Polygon.from_bbox((-7.60, 33.56, -7.58, 33.58)), srid=4326),
    )


def test_small_count_without_commune():
    out, err = generate("--count", "300")
    assert re.fullmatch(r"generated 300 parcels in \d+\.\d s", out.strip().splitlines()[-1])
    assert "300/300" in err  # the progress bar, on stderr
    references = synthetic()
    assert references == [synthetic_reference(number) for number in range(1, 301)]
    assert references[0] == "SYN 0000001/C"
    assert Parcel.objects.filter(reference_key__startswith="SYN", commune__isnull=True).count() == 300
    assert scalar("SELECT count(*) FROM geo_parcel WHERE NOT ST_IsValid(geom)") == 0
    assert scalar("SELECT max(abs(area_m2 - ST_Area(ST_Transform(geom, 26191)))) FROM geo_parcel") < 1e-6
    assert scalar("SELECT array_agg(DISTINCT area_srid) FROM geo_parcel") == [26191]
    assert 60 < scalar("SELECT min(area_m2) FROM geo_parcel") < scalar("SELECT max(area_m2) FROM geo_parcel") < 500
    # Placed around Casablanca.
    lon, lat = scalar(
        "SELECT ARRAY[ST_X(c), ST_Y(c)] FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM geo_parcel) t"
    )
    assert -7.6 < lon < -7.4 and 33.4 < lat < 33.6


def no_overlaps() -> bool:
    return not scalar(
        "SELECT count(*) FROM geo_parcel a JOIN geo_parcel b ON a.id < b.id AND ST_Intersects(a.geom, b.geom) "
        "AND ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 26191)) > 1e-4"
    )


def test_second_run_adds_more_without_overlap():
    generate("--count", "250", "--batch-size", "100")
    generate("--count", "200")
    references = synthetic()
    assert references == [synthetic_reference(number) for number in range(1, 451)]
    assert no_overlaps()


def test_a_run_with_another_seed_starts_a_new_block():
    generate("--count", "250")
    generate("--count", "200", "--seed", "9")
    references = synthetic()
    assert len(references) == len(set(references)) == 450
    # 250 parcels end inside the eleventh block of 24 lots; the next run starts the twelfth, at 265.
    assert references[249:251] == ["SYN 0000250/C", "SYN 0000265/C"]
    assert references[-1] == "SYN 0000464/C"
    assert no_overlaps()


def test_batches_report_their_size_and_all_land():
    sizes: list[int] = []
    summary = synthetic_parcels_generate(count=250, batch_size=100, on_batch=sizes.append)
    assert sizes == [100, 100, 50]
    assert (
        summary.count == 250
        and summary.first_reference == "SYN 0000001/C"
        and summary.last_reference == "SYN 0000250/C"
    )
    assert Parcel.objects.count() == 250


def test_commune_is_set_and_parcels_sit_east_of_it(commune):
    out, _ = generate("--count", "100", "--commune", "TEST-COM")
    assert "commune TEST-COM" in out
    assert Parcel.objects.filter(commune=commune).count() == 100
    west_edge = scalar("SELECT ST_XMin(ST_Extent(ST_Transform(geom, 26191))) FROM geo_parcel")
    commune_east = scalar("SELECT ST_XMax(ST_Transform(geom, 26191)) FROM geo_adminarea WHERE code = 'TEST-COM'")
    assert west_edge > commune_east


def test_demo_commune_is_the_default():
    demo_commune_build()
    generate("--count", "50")
    assert Parcel.objects.filter(reference_key__startswith="SYN", commune__code=DEMO_COMMUNE_CODE).count() == 50
    overlaps = scalar(
        "SELECT count(*) FROM geo_parcel a JOIN geo_parcel b ON ST_Intersects(a.geom, b.geom) "
        "WHERE a.reference_key LIKE 'SYN%%' AND b.reference_key NOT LIKE 'SYN%%'"
    )
    assert overlaps == 0


def test_same_seed_same_polygons():
    synthetic_parcels_generate(count=100, seed=4)
    first = digests()
    Parcel.objects.all().delete()
    synthetic_parcels_generate(count=100, seed=4)
    assert digests() == first
    Parcel.objects.all().delete()
    synthetic_parcels_generate(count=100, seed=5)
    assert digests().keys() == first.keys() and digests() != first


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--count", "0"), "the count must be a positive number, not 0"),
        (("--count", "-5"), "the count must be a positive number, not -5"),
        (("--count", "10", "--batch-size", "0"), "the batch size must be a positive number, not 0"),
        (("--count", "10", "--commune", "NOPE"), "unknown commune 'NOPE'"),
        (("--count", "10", "--seed", str(2**62)), f"the seed must lie between -{2**61} and {2**61}, not {2**62}"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(args, expected):
    assert refused(*args) == expected
    assert Parcel.objects.count() == 0


def test_a_province_is_not_a_commune():
    AdminArea.objects.create(
        level=AdminLevel.PROVINCE,
        code="MA-CAS",
        name_fr="Préfecture de Casablanca",
        geom=MultiPolygon(Polygon.from_bbox((-7.75, 33.45, -7.40, 33.70)), srid=4326),
    )
    assert refused("--count", "10", "--commune", "MA-CAS") == "'MA-CAS' is a province, not a commune"
    assert Parcel.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_failure_midway_rolls_back_every_batch():
    def fail_after_first_batch(size: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthetic_parcels_generate(count=300, batch_size=100, on_batch=fail_after_first_batch)
    assert Parcel.objects.count() == 0


def test_manage_py_exits_non_zero_with_one_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "generate_parcels", "--count", "0"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "CommandError: the count must be a positive number, not 0" in result.stderr.splitlines()


def test_service_refuses_bad_counts():
    with pytest.raises(SyntheticParcelError):
        synthetic_parcels_generate(count=0)
    assert Parcel.objects.count() == 0
