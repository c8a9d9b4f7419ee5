"""The parcel API: find by reference (exact, prefix), point (lon/lat or x/y in 26191), bbox; problem documents."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from geo import crs
from tests.conftest import ORIGIN_X, ORIGIN_Y

pytestmark = pytest.mark.django_db


def features(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"])
    return body["features"]


def test_exact_reference_ignores_case_and_spaces(client: Client, casablanca_world):
    found = features(client.get("/api/parcels/", {"reference": " tf1002 / c "}))
    assert [f["properties"]["reference"] for f in found] == ["TF 1002/C"]
    props = found[0]["properties"]
    assert props["commune"] == {"code": "TEST-01", "name_fr": "Commune test", "name_ar": "جماعة الاختبار"}
    assert props["area_m2"] == 1200.0 and props["area_srid"] == 26191
    assert [z["zone_code"] for z in props["zoning"]] == ["R4"]
    zone = props["zoning"][0]
    assert zone["max_height_m"] == 15.5 and zone["max_floors"] == 5 and zone["coverage_ratio"] == 0.7
    assert zone["allowed_uses"] == ["housing", "retail"] and zone["share"] == pytest.approx(1.0, abs=1e-3)
    assert [(c["kind"], c["name"]) for c in props["constraints"]] == [("heritage", "Ancienne médina")]
    assert props["constraints"][0]["kind_label"]


def test_prefix_search_is_ordered_and_limited(client: Client, casablanca_world):
    found = features(client.get("/api/parcels/", {"reference_prefix": "tf 100"}))
    assert [f["properties"]["reference"] for f in found] == ["TF 1001/C", "TF 1002/C"]
    limited = client.get("/api/parcels/", {"reference_prefix": "TF", "limit": 1}).json()
    assert limited["numberReturned"] == 1 and limited["numberMatched"] == 3


def test_a_parcel_straddling_two_zones_lists_both_largest_share_first(client: Client, casablanca_world):
    props = features(client.get("/api/parcels/", {"reference": "TF 20017/C"}))[0]["properties"]
    assert [z["zone_code"] for z in props["zoning"]] == ["R4", "V"]
    assert props["zoning"][0]["share"] == pytest.approx(0.75, abs=0.01)
    assert props["zoning"][1]["share"] == pytest.approx(0.25, abs=0.01)
    assert props["constraints"] == []


def test_point_in_lon_lat_and_in_merchich_finds_the_same_parcel(client: Client, casablanca_world):
    x, y = ORIGIN_X + 115, ORIGIN_Y + 120
    lon, lat = crs.transform_point(x, y, source_srid=26191, target_srid=4326)
    by_lonlat = features(client.get("/api/parcels/", {"lon": lon, "lat": lat}))
    by_xy = features(client.get("/api/parcels/", {"x": x, "y": y, "srid": 26191}))
    assert [f["properties"]["reference"] for f in by_lonlat] == ["TF 1002/C"]
    assert by_xy == by_lonlat
    nothing = features(client.get("/api/parcels/", {"x": ORIGIN_X + 900, "y": ORIGIN_Y + 900, "srid": 26191}))
    assert nothing == []


def test_bbox_returns_light_features(client: Client, casablanca_world):
    lon0, lat0 = crs.transform_point(ORIGIN_X - 300, ORIGIN_Y - 300, source_srid=26191, target_srid=4326)
    lon1, lat1 = crs.transform_point(ORIGIN_X + 50, ORIGIN_Y + 600, source_srid=26191, target_srid=4326)
    found = features(client.get("/api/parcels/", {"bbox": f"{lon0},{lat0},{lon1},{lat1}"}))
    assert sorted(f["properties"]["reference"] for f in found) == ["TF 1001/C", "TF 20017/C"]
    assert set(found[0]["properties"]) == {"reference", "area_m2"}
    assert found[0]["geometry"]["type"] == "MultiPolygon"


def test_detail_and_layers(client: Client, casablanca_world):
    parcel = casablanca_world["villa"]
    detail = client.get(f"/api/parcels/{parcel.pk}/").json()
    assert detail["properties"]["reference"] == "TF 1001/C" and detail["properties"]["zoning"][0]["zone_code"] == "V"
    bbox = "-8,33,-7,34"
    assert len(features(client.get("/api/zoning/", {"bbox": bbox}))) == 2
    assert (
        features(client.get("/api/constraints/", {"bbox": bbox, "kind": "heritage"}))[0]["properties"]["kind"]
        == "heritage"
    )
    areas = features(client.get("/api/admin-areas/", {"bbox": bbox, "level": "commune"}))
    assert areas[0]["properties"]["code"] == "TEST-01" and areas[0]["properties"]["parent_code"] is None


def test_lookups_take_one_query(client: Client, casablanca_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        client.get("/api/parcels/", {"reference_prefix": "TF"})


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "exactly one of"),
        ({"reference": "TF 1/C", "bbox": "1,2,3,4"}, "exactly one of"),
        ({"bbox": "1,2,3"}, "four numbers"),
        ({"bbox": "3,2,1,4"}, "min_lon < max_lon"),
        ({"lon": "-7.5"}, "lon and lat go together"),
        ({"x": "1", "y": "2"}, "srid"),
        ({"x": "1", "y": "2", "srid": "26193"}, "deprecated"),
        ({"x": "1", "y": "2", "srid": "999999"}, "unknown CRS"),
        ({"lat": "95", "lon": "0"}, "90"),
    ],
)
def test_bad_queries_get_a_problem_document(client: Client, params, needle):
    response = client.get("/api/parcels/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["type"].startswith("urn:taamir:problem:")
    assert needle in body["detail"]


def test_unknown_parcel_is_a_404_problem(client: Client, db):
    response = client.get("/api/parcels/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["detail"] == "No parcel with id 999999."


def test_openapi_schema_and_local_docs(client: Client, db):
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/parcels/", "/api/parcels/{parcel_id}/", "/api/zoning/"} <= set(paths)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    # No CDN address and no external URL (a random CSRF token may happen to contain the letters "cdn").
    assert "swagger-ui" in html and not re.search(r"//[^\s\"']*cdn", html.lower()) and "https://" not in html
