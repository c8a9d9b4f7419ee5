"""The CKAN-compatible Action API answers the calls a harvester makes, in CKAN's envelopes.

A CKAN harvester (ckanext-harvest) lists with ``package_search`` (``fq``, ``rows``, ``start``, often
``metadata_modified:[… TO *]``) and reads each dataset with ``package_show`` by name or id; ckanapi-style
clients call ``package_list``, ``organization_list`` and ``current_package_list_with_resources``.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

NAMES = ["authorised-works", "indicators", "permits-blds"]


@pytest.fixture(scope="module")
def published(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.etl.opendata_world import seeded_history

    with seeded_history(django_db_blocker, only="AD", media_root=tmp_path_factory.mktemp("media")) as world:
        yield world


def call(client, action: str, status: int = 200, **params) -> dict:
    response = client.get(f"/api/3/action/{action}", params)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"help", "success", "result"} if status == 200 else {"help", "success", "error"}
    assert body["success"] is (status == 200)
    return body


def test_package_list_and_organization_list(published, client):
    assert call(client, "package_list")["result"] == NAMES
    assert call(client, "package_list", limit=1, offset=1)["result"] == ["indicators"]
    assert call(client, "organization_list")["result"] == ["taamir"]
    (org,) = call(client, "organization_list", all_fields="true")["result"]
    assert org["is_organization"] is True and org["package_count"] == 3


def test_package_show_by_name_and_by_id(published, client):
    package = call(client, "package_show", id="permits-blds")["result"]
    assert package["name"] == "permits-blds" and package["type"] == "dataset" and package["state"] == "active"
    assert package["license_id"] == "etalab-2.0" and package["isopen"] is True
    assert package["title_translated"]["ar"] == "سجل الرخص (صيغة BLDS)"
    assert {r["format"] for r in package["resources"]} == {"CSV", "JSON"}
    assert package["num_resources"] == 2 and package["organization"]["name"] == "taamir"
    by_id = call(client, "package_show", id=package["id"])["result"]
    assert by_id == package
    for resource in package["resources"]:
        assert resource["package_id"] == package["id"] and resource["hash"].startswith("sha256:")
        download = client.get(resource["url"].removeprefix("http://testserver"))
        assert download.status_code == 200
        assert int(download["Content-Length"]) == resource["size"]
        assert b"".join(download.streaming_content)[:9] in (b"PermitNum", b'[\n {\n  "P')


def test_errors_come_in_ckan_envelopes(published, client):
    body = call(client, "package_show", status=404, id="no-such-dataset")
    assert body["error"] == {"__type": "Not Found Error", "message": "Not found"}
    body = call(client, "package_show", status=409)
    assert body["error"] == {"__type": "Validation Error", "id": ["Missing value"]}
    body = call(client, "package_search", status=409, rows="ten")
    assert body["error"] == {"__type": "Validation Error", "rows": ["Invalid integer"]}
    body = call(client, "package_search", status=409, fq="groups:x")
    assert body["error"]["__type"] == "Validation Error"
    body = call(client, "no_such_action", status=400)
    assert body["error"]["message"] == "Bad request - Action name not known: no_such_action"
    assert client.delete("/api/3/action/package_list").status_code == 405


def test_package_search_with_q_rows_start_and_fq(published, client):
    everything = call(client, "package_search", rows=1000)["result"]
    assert everything["count"] == 3 and len(everything["results"]) == 3
    assert call(client, "package_search", q="BLDS")["result"]["count"] == 1
    assert call(client, "package_search", q="indicateurs quotidiens")["result"]["results"][0]["name"] == "indicators"
    assert call(client, "package_search", q="nothing-like-this")["result"]["count"] == 0
    page = call(client, "package_search", rows=2, start=0, sort="name asc")["result"]
    rest = call(client, "package_search", rows=2, start=2, sort="name asc")["result"]
    assert page["count"] == rest["count"] == 3
    assert [p["name"] for p in page["results"] + rest["results"]] == NAMES
    assert [p["name"] for p in call(client, "package_search", fq="res_format:GPKG")["result"]["results"]] == [
        "authorised-works"
    ]
    assert call(client, "package_search", fq="tags:BLDS")["result"]["count"] == 1
    assert call(client, "package_search", fq="organization:taamir -name:indicators")["result"]["count"] == 2
    assert call(client, "package_search", fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")["result"]["count"] == 3
    assert call(client, "package_search", fq="metadata_modified:[2999-01-01T00:00:00Z TO *]")["result"]["count"] == 0


def test_harvester_style_post_and_current_list(published, client):
    response = client.post("/api/3/action/package_show", {"id": "indicators"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["result"]["name"] == "indicators"
    packages = call(client, "current_package_list_with_resources")["result"]
    assert sorted(p["name"] for p in packages) == NAMES
    assert all(p["resources"] for p in packages)
    assert call(client, "status_show")["result"]["ckan_version"].startswith("2.")
    # ckanapi's RemoteCKAN posts to the unversioned address.
    response = client.post("/api/action/package_list", {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["result"] == NAMES
