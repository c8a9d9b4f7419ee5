"""CRS facts: the Casablanca point of MISSION.md, EPSG:4326 ↔ 26191 to 1 cm, in Python and in PostGIS."""

import pytest
from django.db import connection

from geo import crs

CASABLANCA_LONLAT = (-7.5898, 33.5731)
CASABLANCA_MERCHICH = (296628.5, 332701.7)


def test_casablanca_to_merchich_nord_matches_the_mission_figures():
    x, y = crs.transform_point(*CASABLANCA_LONLAT, source_srid=4326, target_srid=26191)
    # MISSION.md gives the point to 0.1 m; our value must agree to that precision.
    assert x == pytest.approx(CASABLANCA_MERCHICH[0], abs=0.1)
    assert y == pytest.approx(CASABLANCA_MERCHICH[1], abs=0.1)


def test_round_trip_4326_26191_within_a_centimetre():
    x, y = crs.transform_point(*CASABLANCA_LONLAT, source_srid=4326, target_srid=26191)
    lon, lat = crs.transform_point(x, y, source_srid=26191, target_srid=4326)
    back_x, back_y = crs.transform_point(lon, lat, source_srid=4326, target_srid=26191)
    assert abs(back_x - x) < 0.01 and abs(back_y - y) < 0.01


@pytest.mark.django_db
def test_postgis_and_pyproj_agree_to_the_centimetre():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 26191) p",
            list(CASABLANCA_LONLAT),
        )
        sql_x, sql_y = cursor.fetchone()
    x, y = crs.transform_point(*CASABLANCA_LONLAT, source_srid=4326, target_srid=26191)
    assert abs(sql_x - x) < 0.01 and abs(sql_y - y) < 0.01


def test_deprecated_sahara_code_is_refused():
    with pytest.raises(crs.UnknownCRS, match="deprecated"):
        crs.srid_of(26193)


@pytest.mark.parametrize(
    ("lon", "lat", "srid"),
    [
        (-7.5898, 33.5731, 26191),  # Casablanca: Nord Maroc
        (-9.6, 30.4, 26192),  # Agadir: Sud Maroc
        (-13.2, 27.15, 26194),  # Laâyoune: Sahara Nord
        (-15.95, 23.7, 26195),  # Dakhla: Sahara Sud
        (-71.1, 42.37, 32619),  # Cambridge MA: UTM 19N, never a Moroccan projection
    ],
)
def test_measurement_crs_follows_the_place(lon, lat, srid):
    assert crs.measurement_srid_for(lon, lat) == srid
