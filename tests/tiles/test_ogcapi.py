"""OGC API – Features at /ogcapi/ through Django's test client: landing, conformance, collections, items with
their filters and paging links, single features, HTML pages, the OpenAPI document, and the internal
collection that anonymous users cannot find.
"""

from __future__ import annotations

import json

import pytest

from geo.models import AuthorisedWork
from tests.tiles.conftest import PERSONAL_DATA
from tiles.layers import LAYERS, layer_named

PUBLIC = [layer.name for layer in LAYERS if not layer.internal]


def get(client, path: str, auth: str | None = None, **params):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get(path, params, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode()


def get_json(client, path: str, auth: str | None = None, **params) -> dict:
    response, body = get(client, path, auth, **params)
    assert response.status_code == 200, body
    return json.loads(body)


def references(data: dict) -> list[str]:
    return [feature["properties"]["reference"] for feature in data["features"]]


def test_landing_conformance_and_api_definition(client, geo_portal_world):
    landing = get_json(client, "/ogcapi/")
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["data"]["href"].endswith("/ogcapi/collections?f=json")
    conformance = get_json(client, "/ogcapi/conformance")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance["conformsTo"]
    response, body = get(client, "/ogcapi/api")
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    api = json.loads(body)
    assert api["openapi"].startswith("3.0") and "/collections/{collectionId}/items" in api["paths"]


def test_collections_hide_the_internal_layer_from_anonymous_users(client, geo_portal_world):
    data = get_json(client, "/ogcapi/collections")
    assert [c["id"] for c in data["collections"]] == PUBLIC
    works = data["collections"][0]
    minx, miny, maxx, maxy = works["extent"]["spatial"]["bbox"][0]
    assert -7.7 < minx <= maxx < -7.5 and 33.5 < miny <= maxy < 33.7
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in works["links"])
    for path in ("/ogcapi/collections/dossiers", "/ogcapi/collections/dossiers/items",
                 "/ogcapi/collections/dossiers/queryables",
                 f"/ogcapi/collections/dossiers/items/{geo_portal_world['dossier'].pk}"):  # fmt: skip
        response, body = get(client, path)
        assert response.status_code == 404, path
        assert "TEST-01-2025-00042" not in body


def test_planner_reads_the_internal_collection_without_personal_data(client, geo_portal_world):
    auth = f"Token {geo_portal_world['token']}"
    data = get_json(client, "/ogcapi/collections", auth)
    assert "dossiers" in [c["id"] for c in data["collections"]]
    for fmt in ("json", "html"):
        response, body = get(client, "/ogcapi/collections/dossiers/items", auth, f=fmt)
        assert response.status_code == 200
        assert "TEST-01-2025-00042" in body
        for secret in PERSONAL_DATA:
            assert secret not in body, (fmt, secret)
    items = get_json(client, "/ogcapi/collections/dossiers/items", auth)
    layer = layer_named("dossiers", user=geo_portal_world["planner"])
    assert list(items["features"][0]["properties"]) == [f.name for f in layer.fields]


def test_items_paging_with_next_and_prev_links(client, geo_portal_world):
    first = get_json(client, "/ogcapi/collections/authorised_works/items", limit=2)
    assert first["type"] == "FeatureCollection"
    assert first["numberMatched"] == 3 and first["numberReturned"] == 2
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in links and "offset=2" in links["next"]
    second = get_json(client, links["next"].split("testserver")[1])
    assert second["numberReturned"] == 1
    second_links = {link["rel"]: link["href"] for link in second["links"]}
    assert "next" not in second_links and "offset=0" in second_links["prev"]
    assert sorted(references(first) + references(second)) == sorted(
        w.reference for w in geo_portal_world["works"].values()
    )


def test_items_filters_bbox_datetime_and_properties(client, geo_portal_world):
    path = "/ogcapi/collections/authorised_works/items"
    minx, miny, maxx, maxy = geo_portal_world["works"]["flats"].geom.extent
    assert references(get_json(client, path, bbox=f"{minx},{miny},{maxx},{maxy}")) == ["TEST-01-2025-00002"]
    assert sorted(references(get_json(client, path, datetime="2025-01-01/.."))) == [
        "TEST-01-2025-00001",
        "TEST-01-2025-00002",
    ]
    assert references(get_json(client, path, datetime="../2024-12-31")) == ["TEST-01-2024-00003"]
    assert references(get_json(client, path, datetime="2025-03-10")) == ["TEST-01-2025-00001"]
    assert references(get_json(client, path, datetime="2025-09-01T00:00:00Z/2025-09-30T00:00:00Z")) == [
        "TEST-01-2025-00002"
    ]
    assert references(get_json(client, path, status="withdrawn")) == ["TEST-01-2024-00003"]
    assert references(get_json(client, path, floors="5", use="housing")) == ["TEST-01-2025-00002"]
    # The dossiers layer's date field is a date-time: a date interval compares on days.
    auth = f"Token {geo_portal_world['token']}"
    assert references(get_json(client, "/ogcapi/collections/dossiers/items", auth, datetime="2025-10-01")) == [
        "TEST-01-2025-00042"
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "x"},
        {"offset": "-1"},
        {"bbox": "1,2,3"},
        {"bbox": "5,5,1,1"},
        {"datetime": "yesterday"},
        {"floors": "many"},
        {"national_id": "BK123456"},
        {"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857", "bbox": "0,0,1,1"},
        {"f": "xml"},
    ],
)
def test_bad_parameters_are_problems(client, geo_portal_world, params):
    response, body = get(client, "/ogcapi/collections/authorised_works/items", **params)
    assert response.status_code == 400, body
    assert response["Content-Type"] == "application/problem+json"


def test_limit_is_capped_by_the_setting(client, geo_portal_world, settings):
    settings.TAAMIR_OGC_MAX_LIMIT = 2
    data = get_json(client, "/ogcapi/collections/authorised_works/items", limit=50)
    assert data["numberReturned"] == 2 and data["numberMatched"] == 3


def test_single_feature_and_html_pages(client, geo_portal_world):
    work = geo_portal_world["works"]["house"]
    feature = get_json(client, f"/ogcapi/collections/authorised_works/items/{work.pk}")
    assert feature["type"] == "Feature" and feature["id"] == work.pk
    assert feature["properties"]["reference"] == work.reference
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    assert -7.7 < lon < -7.5 and 33.5 < lat < 33.7
    assert get(client, "/ogcapi/collections/authorised_works/items/999999")[0].status_code == 404
    pages = ["/ogcapi/", "/ogcapi/conformance", "/ogcapi/collections", "/ogcapi/collections/parcels"]
    pages += ["/ogcapi/collections/authorised_works/items", f"/ogcapi/collections/authorised_works/items/{work.pk}"]
    for path in pages:
        response, _body = get(client, path, f="html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")
    response, body = get(client, "/ogcapi/collections/authorised_works/items", f="html")
    assert work.reference in body
    # A browser asking for HTML gets it without f=.
    response = client.get("/ogcapi/collections", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response["Content-Type"].startswith("text/html")


def test_queryables_describe_published_properties(client, geo_portal_world):
    data = get_json(client, "/ogcapi/collections/authorised_works/queryables")
    layer = layer_named("authorised_works", user=None)
    assert [name for name in data["properties"] if name != "geometry"] == [f.name for f in layer.fields]
    assert data["properties"]["floors"]["type"] == "integer"
    assert data["properties"]["built_area_m2"]["type"] == "number"


def test_a_withdrawn_permit_shows_at_once_and_nothing_is_cached(client, geo_portal_world):
    path = "/ogcapi/collections/authorised_works/items"
    response, _body = get(client, path, status="withdrawn")
    assert "no-store" in response["Cache-Control"]
    assert len(references(get_json(client, path, status="withdrawn"))) == 1
    AuthorisedWork.objects.filter(reference="TEST-01-2025-00001").update(status="withdrawn")
    assert len(references(get_json(client, path, status="withdrawn"))) == 2
