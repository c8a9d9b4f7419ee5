"""Vector tiles at /tiles/{layer}/{z}/{x}/{y}.pbf and TileJSON at /tiles/{layer}.json, read back with GDAL.

Checks: the features and their ids, the fields per zoom (and never a field the catalogue does not
publish), points below zoom 12 and polygons above, 204 for empty tiles and below a layer's minimum zoom,
ETag and If-None-Match, Cache-Control, the internal layer (404 for anonymous users and applicants, 200 for
a planner, no personal data), and ``ogrinfo MVT:`` reading a tile from the live server.
"""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry

from tests.tiles.conftest import PERSONAL_DATA, PLANNER_PASSWORD
from tests.tiles.mvt_tools import decode_tile, read_live_tile, tile_of
from tiles.layers import LAYERS
from tiles.vector import TILE_SPECS

pytestmark = pytest.mark.django_db

MVT = "application/vnd.mapbox-vector-tile"
PUBLISHED = {layer.name: {published.name for published in layer.fields} for layer in LAYERS}


def tile_url(layer: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{layer}/{z}/{x}/{y}.pbf"


def tile_at(work, z: int) -> tuple[int, int, int]:
    centre = work.geom.centroid
    return (z, *tile_of(centre.x, centre.y, z))


def fetch(client, layer: str, z: int, x: int, y: int, **headers):
    return client.get(tile_url(layer, z, x, y), **headers)


def test_a_close_up_tile_carries_every_published_field_of_its_works(client, geo_portal_world):
    works = geo_portal_world["works"]
    z, x, y = tile_at(works["house"], 14)
    response = fetch(client, "authorised_works", z, x, y)

    assert response.status_code == 200
    assert response["Content-Type"] == MVT
    features = decode_tile(response.content, z, x, y)
    by_id = {feature.id: feature for feature in features}
    assert works["house"].pk in by_id and works["flats"].pk in by_id
    house = by_id[works["house"].pk]
    assert house.layer == "authorised_works"
    assert set(house.properties) == set(TILE_SPECS["authorised_works"].fields_at(14))
    assert house.properties["reference"] == "TEST-01-2025-00001"
    assert house.properties["verification_code"] == "VERIF0000000001"
    assert house.properties["decision_date"] == "2025-03-10"
    assert house.properties["commune_name"] == "Commune test"
    assert house.properties["status"] == "authorised"
    assert house.wkt.startswith("POLYGON")
    # The polygon GDAL reads lies where the work is (EPSG:3857, within the quantisation of the tile).
    drawn = GEOSGeometry(house.wkt, srid=3857)
    site = works["house"].geom.transform(3857, clone=True)
    assert drawn.buffer(5).contains(site.centroid)
    assert abs(drawn.area - site.area) / site.area < 0.2


def test_zoomed_out_tiles_carry_points_and_few_fields(client, geo_portal_world):
    works = geo_portal_world["works"]
    z, x, y = tile_at(works["house"], 10)
    features = decode_tile(fetch(client, "authorised_works", z, x, y).content, z, x, y)

    assert {feature.id for feature in features} == {work.pk for work in works.values()}
    for feature in features:
        assert feature.wkt.startswith("POINT")
        assert set(feature.properties) == {"reference", "procedure_code", "decision_date", "status"}
    shop = next(feature for feature in features if feature.id == works["shop"].pk)
    assert shop.properties["status"] == "withdrawn"


@pytest.mark.parametrize("layer", sorted(TILE_SPECS))
def test_no_tile_ever_carries_a_field_the_catalogue_does_not_publish(client, geo_portal_world, layer):
    client.login(username="geo.planner", password=PLANNER_PASSWORD)
    spec = TILE_SPECS[layer]
    seen: set[str] = set()
    for z in sorted({band.minzoom for band in spec.bands} | {16}):
        z, x, y = tile_at(geo_portal_world["works"]["house"], z)
        response = fetch(client, layer, z, x, y)
        assert response.status_code in (200, 204)
        if response.status_code == 200:
            for feature in decode_tile(response.content, z, x, y):
                assert feature.layer == layer
                assert set(feature.properties) <= set(spec.fields_at(z)) <= PUBLISHED[layer]
                seen |= set(feature.properties)
    assert seen, f"no {layer} feature was drawn near the test works"


def test_parcels_start_at_zoom_14_with_their_reference_only(client, geo_portal_world):
    flat = geo_portal_world["flat"]
    centre = flat.geom.centroid
    x, y = tile_of(centre.x, centre.y, 13)
    assert fetch(client, "parcels", 13, x, y).status_code == 204
    x, y = tile_of(centre.x, centre.y, 14)
    features = decode_tile(fetch(client, "parcels", 14, x, y).content, 14, x, y)
    assert {feature.properties["reference"] for feature in features} == {"TF 1001/C", "TF 1002/C", "TF 20017/C"}
    assert all(set(feature.properties) == {"reference"} for feature in features)
    x, y = tile_of(centre.x, centre.y, 17)
    features = decode_tile(fetch(client, "parcels", 17, x, y).content, 17, x, y)
    flat_feature = next(feature for feature in features if feature.id == flat.pk)
    assert set(flat_feature.properties) == {"reference", "commune_code", "area_m2", "updated_at"}
    assert float(flat_feature.properties["area_m2"]) == pytest.approx(1200)


def test_empty_tiles_are_204_with_validators(client, geo_portal_world):
    response = fetch(client, "authorised_works", 14, 0, 0)
    assert response.status_code == 204
    assert response.content == b""
    assert response["ETag"].startswith('"')
    assert response["Cache-Control"].startswith("public, max-age=")


def test_etag_and_if_none_match(client, geo_portal_world, settings):
    settings.TAAMIR_TILES_MAX_AGE = 45
    z, x, y = tile_at(geo_portal_world["works"]["flats"], 15)
    first = fetch(client, "authorised_works", z, x, y)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=45"
    assert first["X-Tile-Cache"] == "miss"
    etag = first["ETag"]

    again = fetch(client, "authorised_works", z, x, y)
    assert again["X-Tile-Cache"] == "hit"
    assert again.content == first.content and again["ETag"] == etag

    not_modified = fetch(client, "authorised_works", z, x, y, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert fetch(client, "authorised_works", z, x, y, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_unknown_layers_and_tiles_outside_the_grid_are_404(client, geo_portal_world):
    assert fetch(client, "nothing", 14, 0, 0).status_code == 404
    assert client.get("/tiles/nothing.json").status_code == 404
    assert fetch(client, "authorised_works", 3, 8, 0).status_code == 404
    assert fetch(client, "authorised_works", 25, 0, 0).status_code == 404


def test_the_internal_layer_is_for_signed_in_staff_only(client, geo_portal_world):
    dossier = geo_portal_world["dossier"]
    centre = dossier.site.centroid
    x, y = tile_of(centre.x, centre.y, 15)
    assert fetch(client, "dossiers", 15, x, y).status_code == 404
    assert client.get("/tiles/dossiers.json").status_code == 404

    client.login(username="geo.applicant", password="pw-applicant-geo")
    assert fetch(client, "dossiers", 15, x, y).status_code == 404

    client.login(username="geo.planner", password=PLANNER_PASSWORD)
    response = fetch(client, "dossiers", 15, x, y)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")
    assert "Cookie" in response["Vary"]
    features = decode_tile(response.content, 15, x, y)
    assert [feature.properties["reference"] for feature in features] == ["TEST-01-2025-00042"]
    assert features[0].properties["status"] == "submitted"
    for secret in PERSONAL_DATA:
        assert secret.encode() not in response.content
    assert client.get("/tiles/dossiers.json").status_code == 200


def test_desktop_clients_reach_the_internal_tiles_with_the_api_token_as_in_wfs(client, geo_portal_world, settings):
    """QGIS sends HTTP Basic: the personal API token as password opens the internal tiles, even with staff MFA."""
    import base64

    settings.TAAMIR_REQUIRE_STAFF_MFA = True
    dossier = geo_portal_world["dossier"]
    centre = dossier.site.centroid
    x, y = tile_of(centre.x, centre.y, 15)

    def basic(secret: str) -> dict:
        return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"geo.planner:{secret}".encode()).decode()}

    response = fetch(client, "dossiers", 15, x, y, **basic(geo_portal_world["token"]))
    assert response.status_code == 200
    assert "Authorization" in response["Vary"]
    token_header = {"HTTP_AUTHORIZATION": f"Token {geo_portal_world['token']}"}
    assert fetch(client, "dossiers", 15, x, y, **token_header).status_code == 200
    refused = fetch(client, "dossiers", 15, x, y, **basic("not-the-token"))
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Basic")


def test_tilejson_documents_zooms_fields_per_zoom_and_the_tile_url(client, geo_portal_world):
    response = client.get("/tiles/authorised_works.json")
    assert response.status_code == 200
    document = response.json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"] == ["http://testserver/tiles/authorised_works/{z}/{x}/{y}.pbf"]
    assert document["minzoom"] == 5
    assert document["maxzoom"] == 20
    west, south, east, north = document["bounds"]
    for work in geo_portal_world["works"].values():
        lon, lat = work.geom.centroid.coords
        assert west <= lon <= east and south <= lat <= north
    (vector_layer,) = document["vector_layers"]
    assert vector_layer["id"] == "authorised_works"
    assert set(vector_layer["fields"]) <= PUBLISHED["authorised_works"]
    assert vector_layer["fields_by_zoom"] == [
        {"minzoom": 5, "maxzoom": 11, "fields": ["reference", "procedure_code", "decision_date", "status"]},
        {"minzoom": 12, "maxzoom": 20, "fields": list(TILE_SPECS["authorised_works"].fields_at(12))},
    ]
    parcels = client.get("/tiles/parcels.json").json()
    assert parcels["minzoom"] == 14
    assert parcels["vector_layers"][0]["fields_by_zoom"][0] == {"minzoom": 14, "maxzoom": 15, "fields": ["reference"]}


def test_gdal_reads_a_tile_from_the_live_server(live_server, geo_portal_world):
    z, x, y = tile_at(geo_portal_world["works"]["flats"], 16)
    features = read_live_tile(f"{live_server.url}/tiles/authorised_works/{z}/{x}/{y}.pbf")
    references = {feature.properties["reference"] for feature in features}
    assert "TEST-01-2025-00002" in references
    flats = next(feature for feature in features if feature.properties["reference"] == "TEST-01-2025-00002")
    assert flats.properties["dwellings"] == "10"
