"""WFS 2.0 at /wfs through Django's test client: capabilities, schemas, features in GML, GeoJSON and CSV,
filters, paging, sorting, coordinate systems, credentials, and the internal layer that anonymous users
never see — not even its name.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.http import StreamingHttpResponse
from django.test import AsyncRequestFactory, RequestFactory, override_settings

from geo.models import AuthorisedWork, ConstraintArea
from tests.tiles.conftest import APPLICANT_PASSWORD, PERSONAL_DATA, PLANNER_PASSWORD
from tiles.layers import LAYERS, layer_named
from tiles.streaming import keep_streaming

NS = {
    "wfs": "http://www.opengis.net/wfs/2.0",
    "gml": "http://www.opengis.net/gml/3.2",
    "ows": "http://www.opengis.net/ows/1.1",
    "taamir": "https://taamir.ma/ns/geo-portal",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
PUBLIC_LAYERS = [layer.name for layer in LAYERS if not layer.internal]


def wfs(client, auth: str | None = None, **params):
    query = {"SERVICE": "WFS", "VERSION": "2.0.0", **params}
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get("/wfs", query, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode()


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def feature_type_names(capabilities: str) -> list[str]:
    root = ET.fromstring(capabilities)
    return [el.text for el in root.findall(".//wfs:FeatureTypeList/wfs:FeatureType/wfs:Name", NS)]


def geojson(client, auth=None, **params) -> dict:
    response, body = wfs(client, auth, REQUEST="GetFeature", OUTPUTFORMAT="geojson", **params)
    assert response.status_code == 200, body
    return json.loads(body)


def test_anonymous_capabilities_list_public_layers_only(client, geo_portal_world):
    response, body = wfs(client, REQUEST="GetCapabilities")
    assert response.status_code == 200
    assert feature_type_names(body) == [f"taamir:{name}" for name in PUBLIC_LAYERS]
    assert "dossiers" not in body
    root = ET.fromstring(body)
    crs = [el.text for el in root.findall(".//wfs:FeatureType[wfs:Name='taamir:parcels']/wfs:OtherCRS", NS)]
    assert crs == ["urn:ogc:def:crs:EPSG::3857", "urn:ogc:def:crs:EPSG::26191", "urn:ogc:def:crs:EPSG::26192"]
    formats = [el.text for el in root.findall(".//ows:Operation[@name='GetFeature']//ows:Value", NS)]
    assert any("gml/3.2" in value for value in formats)
    assert any(value.startswith("application/json") for value in formats)
    assert any(value.startswith("text/csv") for value in formats)
    assert "no-store" in response["Cache-Control"]


def test_planner_sees_the_internal_layer_with_a_token_or_a_session(client, geo_portal_world):
    token = geo_portal_world["token"]
    for auth in (
        f"Token {token}",
        f"Bearer {token}",
        basic("geo.planner", token),
        basic("geo.planner", PLANNER_PASSWORD),
    ):
        response, body = wfs(client, auth, REQUEST="GetCapabilities")
        assert response.status_code == 200, auth
        assert "taamir:dossiers" in feature_type_names(body), auth
    client.force_login(geo_portal_world["planner"])
    _response, body = wfs(client, REQUEST="GetCapabilities")
    assert "taamir:dossiers" in feature_type_names(body)


def test_an_applicant_does_not_see_the_internal_layer(client, geo_portal_world):
    response, body = wfs(client, basic("geo.applicant", APPLICANT_PASSWORD), REQUEST="GetCapabilities")
    assert response.status_code == 200
    assert "dossiers" not in body


def test_wrong_credentials_get_a_basic_challenge(client, geo_portal_world):
    for auth in (basic("geo.planner", "wrong"), "Token nope", basic("nobody", "x"), "Basic !!!"):
        response, _body = wfs(client, auth, REQUEST="GetCapabilities")
        assert response.status_code == 401, auth
        assert response["WWW-Authenticate"].startswith("Basic realm=")


@override_settings(TAAMIR_REQUIRE_STAFF_MFA=True)
def test_with_mfa_required_staff_use_their_token_not_their_password(client, geo_portal_world):
    response, body = wfs(client, basic("geo.planner", PLANNER_PASSWORD), REQUEST="GetCapabilities")
    assert response.status_code == 401
    assert "API" in body  # "your personal API token" (French by default: "jeton d'API")
    response, body = wfs(client, basic("geo.planner", geo_portal_world["token"]), REQUEST="GetCapabilities")
    assert response.status_code == 200
    assert "taamir:dossiers" in feature_type_names(body)
    # An applicant is no staff member: the password alone is enough (and shows public layers).
    response, _body = wfs(client, basic("geo.applicant", APPLICANT_PASSWORD), REQUEST="GetCapabilities")
    assert response.status_code == 200


@pytest.mark.parametrize("request_name", ["GetFeature", "DescribeFeatureType", "GetPropertyValue"])
def test_anonymous_requests_for_dossiers_fail_like_an_unknown_type(client, geo_portal_world, request_name):
    extra = {"VALUEREFERENCE": "reference"} if request_name == "GetPropertyValue" else {}
    response, body = wfs(client, REQUEST=request_name, TYPENAMES="dossiers", **extra)
    unknown, unknown_body = wfs(client, REQUEST=request_name, TYPENAMES="no_such_layer", **extra)
    assert response.status_code == unknown.status_code == 400
    assert body.replace("dossiers", "X") == unknown_body.replace("no_such_layer", "X")
    assert "TEST-01-2025-00042" not in body


def test_describe_feature_type_lists_exactly_the_catalogue_fields(client, geo_portal_world):
    for layer in LAYERS:
        auth = f"Token {geo_portal_world['token']}"
        response, body = wfs(client, auth, REQUEST="DescribeFeatureType", TYPENAMES=layer.name)
        assert response.status_code == 200, body
        root = ET.fromstring(body)
        type_name = root.find(f"xs:element[@name='{layer.name}']", NS).get("type").split(":")[1]
        complex_type = root.find(f"xs:complexType[@name='{type_name}']", NS)
        names = [el.get("name") for el in complex_type.findall(".//xs:element", NS)]
        assert names == [f.name for f in layer.fields] + [layer.geometry_field], layer.name


def test_geojson_features_carry_catalogue_fields_and_lon_lat(client, geo_portal_world):
    data = geojson(client, TYPENAMES="authorised_works", SORTBY="reference ASC")
    assert data["numberMatched"] == 3 and data["numberReturned"] == 3
    layer = layer_named("authorised_works", user=None)
    assert [f["properties"]["reference"] for f in data["features"]] == [
        "TEST-01-2024-00003",
        "TEST-01-2025-00001",
        "TEST-01-2025-00002",
    ]
    for feature in data["features"]:
        assert list(feature["properties"]) == [f.name for f in layer.fields]
        lon, lat = feature["geometry"]["coordinates"][0][0][0]
        assert -7.7 < lon < -7.5 and 33.5 < lat < 33.7


def test_gml_urn_4326_is_latitude_first_and_epsg_short_form_is_longitude_first(client, geo_portal_world):
    def first_pair(srs_name: str) -> tuple[float, float]:
        response, body = wfs(
            client, REQUEST="GetFeature", TYPENAMES="authorised_works", COUNT=1, SORTBY="reference", SRSNAME=srs_name
        )
        assert response.status_code == 200, body
        pos_list = ET.fromstring(body).find(".//gml:posList", NS).text.split()
        return float(pos_list[0]), float(pos_list[1])

    a, b = first_pair("urn:ogc:def:crs:EPSG::4326")
    assert 33.5 < a < 33.7 and -7.7 < b < -7.5
    a, b = first_pair("EPSG:4326")
    assert -7.7 < a < -7.5 and 33.5 < b < 33.7
    # Projected systems are easting, northing in metres: Casablanca is about (296 km, 332 km) in Merchich north.
    x, y = first_pair("urn:ogc:def:crs:EPSG::26191")
    assert 290_000 < x < 300_000 and 328_000 < y < 337_000
    x, y = first_pair("urn:ogc:def:crs:EPSG::3857")
    assert -860_000 < x < -830_000 and 3_960_000 < y < 3_990_000
    response, _body = wfs(client, REQUEST="GetFeature", TYPENAMES="authorised_works", SRSNAME="EPSG:2154")
    assert response.status_code == 400


def test_csv_output_has_catalogue_columns_only(client, geo_portal_world):
    response, body = wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", OUTPUTFORMAT="csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(body)))
    layer = layer_named("parcels", user=None)
    assert rows[0] == [*[f.name for f in layer.fields], "geom"]
    assert len(rows) == 1 + 3


def test_bbox_fes_filter_paging_hits_and_sorting(client, geo_portal_world):
    # A bbox around the house only (urn 4326: lat/lon order).
    house = geo_portal_world["works"]["house"].geom.extent
    bbox = f"{house[1]},{house[0]},{house[3]},{house[2]},urn:ogc:def:crs:EPSG::4326"
    data = geojson(client, TYPENAMES="authorised_works", BBOX=bbox)
    assert [f["properties"]["reference"] for f in data["features"]] == ["TEST-01-2025-00001"]

    fes = (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:And>'
        "<fes:PropertyIsEqualTo><fes:ValueReference>status</fes:ValueReference>"
        "<fes:Literal>authorised</fes:Literal></fes:PropertyIsEqualTo>"
        "<fes:PropertyIsGreaterThanOrEqualTo><fes:ValueReference>floors</fes:ValueReference>"
        "<fes:Literal>3</fes:Literal></fes:PropertyIsGreaterThanOrEqualTo></fes:And></fes:Filter>"
    )
    data = geojson(client, TYPENAMES="authorised_works", FILTER=fes)
    assert [f["properties"]["reference"] for f in data["features"]] == ["TEST-01-2025-00002"]

    page = geojson(client, TYPENAMES="authorised_works", SORTBY="decision_date DESC", COUNT=2, STARTINDEX=1)
    assert page["numberMatched"] == 3 and page["numberReturned"] == 2
    assert [f["properties"]["reference"] for f in page["features"]] == ["TEST-01-2025-00001", "TEST-01-2024-00003"]

    _response, body = wfs(client, REQUEST="GetFeature", TYPENAMES="authorised_works", RESULTTYPE="hits")
    root = ET.fromstring(body)
    assert root.get("numberMatched") == "3" and root.get("numberReturned") == "0"


def test_filters_cannot_reach_unpublished_fields(client, geo_portal_world):
    fes = (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo>'
        "<fes:ValueReference>applicant/national_id</fes:ValueReference><fes:Literal>BK123456</fes:Literal>"
        "</fes:PropertyIsEqualTo></fes:Filter>"
    )
    token = f"Token {geo_portal_world['token']}"
    response, _body = wfs(client, token, REQUEST="GetFeature", TYPENAMES="dossiers", FILTER=fes)
    assert response.status_code == 400
    response, _body = wfs(client, token, REQUEST="GetFeature", TYPENAMES="dossiers", PROPERTYNAME="title")
    assert response.status_code == 400
    response, _body = wfs(
        client, REQUEST="GetPropertyValue", TYPENAMES="parcels", VALUEREFERENCE="attributes", OUTPUTFORMAT="text/xml"
    )
    assert response.status_code == 400


def test_get_property_value_returns_published_values(client, geo_portal_world):
    response, body = wfs(client, REQUEST="GetPropertyValue", TYPENAMES="authorised_works", VALUEREFERENCE="reference")
    assert response.status_code == 200
    values = sorted(el.text for el in ET.fromstring(body).findall(".//taamir:reference", NS))
    assert values == ["TEST-01-2024-00003", "TEST-01-2025-00001", "TEST-01-2025-00002"]


@pytest.mark.parametrize("output_format", ["geojson", "csv", "application/gml+xml; version=3.2"])
def test_internal_layer_output_never_carries_personal_data(client, geo_portal_world, output_format):
    token = f"Token {geo_portal_world['token']}"
    response, body = wfs(client, token, REQUEST="GetFeature", TYPENAMES="dossiers", OUTPUTFORMAT=output_format)
    assert response.status_code == 200, body
    assert "TEST-01-2025-00042" in body
    for secret in PERSONAL_DATA:
        assert secret not in body, secret


def test_a_change_to_a_permit_shows_at_once(client, geo_portal_world):
    before = geojson(client, TYPENAMES="authorised_works", FILTER=_status_filter("withdrawn"))
    assert before["numberMatched"] == 1
    AuthorisedWork.objects.filter(reference="TEST-01-2025-00002").update(status="withdrawn")
    after = geojson(client, TYPENAMES="authorised_works", FILTER=_status_filter("withdrawn"))
    assert after["numberMatched"] == 2


def _status_filter(status: str) -> str:
    return (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo>'
        f"<fes:ValueReference>status</fes:ValueReference><fes:Literal>{status}</fes:Literal>"
        "</fes:PropertyIsEqualTo></fes:Filter>"
    )


def test_gml_escapes_text_and_get_feature_by_id_works(client, geo_portal_world):
    heritage = geo_portal_world["heritage"]
    ConstraintArea.objects.filter(pk=heritage.pk).update(description='Servitude <A> & "B"')
    response, body = wfs(client, REQUEST="GetFeature", TYPENAMES="constraints")
    assert response.status_code == 200
    root = ET.fromstring(body)
    assert root.find(".//taamir:description", NS).text == 'Servitude <A> & "B"'
    # A date-time reads as xs:dateTime (with the "T").
    assert (
        "T"
        in ET.fromstring(wfs(client, REQUEST="GetFeature", TYPENAMES="parcels", COUNT=1)[1])
        .find(".//taamir:updated_at", NS)
        .text
    )
    work = geo_portal_world["works"]["flats"]
    by_id = {"STOREDQUERY_ID": "urn:ogc:def:query:OGC-WFS::GetFeatureById", "ID": f"authorised_works.{work.pk}"}
    response, body = wfs(client, REQUEST="GetFeature", **by_id)
    assert response.status_code == 200
    assert ET.fromstring(body).find("taamir:reference", NS).text == work.reference
    data = geojson(client, **by_id)
    assert [f["properties"]["reference"] for f in data["features"]] == [work.reference]


def test_streamed_answers_stay_streamed_under_asgi():
    """Under ASGI Django would read a synchronous stream whole before sending it; keep_streaming pulls it lazily."""
    pulled: list[int] = []

    def parts():
        for index in range(100):
            pulled.append(index)
            yield b"x" * 10_000

    asgi_request = AsyncRequestFactory().get("/wfs")
    response = keep_streaming(asgi_request, StreamingHttpResponse(parts()))
    assert response.is_async

    async def first_chunk_then_rest() -> tuple[int, int]:
        iterator = aiter(response.streaming_content)
        first = await anext(iterator)
        seen_after_first = len(pulled)
        rest = [chunk async for chunk in iterator]
        return seen_after_first, len(first) + sum(len(chunk) for chunk in rest)

    seen_after_first, total = asyncio.run(first_chunk_then_rest())
    assert seen_after_first < 100  # the first chunk left before the stream was read to its end
    assert total == 1_000_000
    # Under WSGI the response is left as it is.
    wsgi_response = StreamingHttpResponse(iter([b"a"]))
    assert keep_streaming(RequestFactory().get("/wfs"), wsgi_response) is wsgi_response
    assert not wsgi_response.is_async


def test_one_get_feature_may_name_several_types(client, geo_portal_world):
    response, body = wfs(client, REQUEST="GetFeature", TYPENAMES="(authorised_works)(parcels)")
    assert response.status_code == 200, body
    root = ET.fromstring(body)
    assert len(root.findall(".//taamir:authorised_works", NS)) == 3
    assert len(root.findall(".//taamir:parcels", NS)) == 3
    assert len(root.findall(".//taamir:parcels/taamir:geom", NS)) == 3
