"""The DCAT-AP catalogue parses as RDF (rdflib) with the expected datasets, distributions and licences."""

from __future__ import annotations

import hashlib

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

pytestmark = pytest.mark.django_db

SPDX = Namespace("http://spdx.org/rdf/terms#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
ETALAB = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
FORMATS = {"authorised-works": {"GEOJSON", "GPKG", "CSV"}, "permits-blds": {"CSV", "JSON"},
           "indicators": {"CSV", "JSON"}}  # fmt: skip


@pytest.fixture(scope="module")
def published(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.etl.opendata_world import seeded_history

    with seeded_history(django_db_blocker, only="AD", media_root=tmp_path_factory.mktemp("media")) as world:
        yield world


@pytest.fixture
def graph(published, client) -> Graph:
    response = client.get("/open-data/catalog.jsonld")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    return Graph().parse(data=response.content, format="json-ld")


def test_catalogue_datasets_and_distributions(graph):
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert len(datasets) == 3 == len(set(graph.subjects(RDF.type, DCAT.Dataset)))
    assert len(set(graph.subjects(RDF.type, DCAT.Distribution))) == 7
    names = {str(graph.value(d, DCTERMS.identifier)): d for d in datasets}
    assert set(names) == set(FORMATS)
    for name, dataset in names.items():
        assert graph.value(dataset, DCTERMS.license) == ETALAB
        titles = {t.language: str(t) for t in graph.objects(dataset, DCTERMS.title)}
        assert set(titles) == {"fr", "ar", "en"}
        distributions = list(graph.objects(dataset, DCAT.distribution))
        assert {str(graph.value(d, DCTERMS.format)) for d in distributions} == FORMATS[name]
        for distribution in distributions:
            assert graph.value(distribution, DCTERMS.license) == ETALAB
            assert graph.value(distribution, DCAT.mediaType) is not None
            assert str(graph.value(distribution, DCAT.downloadURL)).startswith("http://testserver/open-data/datasets/")
    assert Literal("Taamir open data", lang="en") in set(graph.objects(catalog, DCTERMS.title))


def test_download_urls_serve_the_described_bytes(graph, client):
    for distribution in graph.subjects(RDF.type, DCAT.Distribution):
        url = str(graph.value(distribution, DCAT.downloadURL))
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, url
        content = b"".join(response.streaming_content)
        assert len(content) == int(graph.value(distribution, DCAT.byteSize))
        checksum = graph.value(distribution, SPDX.checksum)
        assert str(graph.value(checksum, SPDX.checksumValue)) == hashlib.sha256(content).hexdigest()
    assert client.get("/open-data/datasets/permits-blds.xlsx").status_code == 404
