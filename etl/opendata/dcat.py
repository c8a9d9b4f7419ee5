"""The catalogue of the open datasets in DCAT-AP, as JSON-LD (``/open-data/catalog.jsonld``).

One ``dcat:Catalog`` published by ``TAAMIR_OPEN_DATA_PUBLISHER``, one ``dcat:Dataset`` per published
dataset (titles and descriptions in French, Arabic and English, keywords, licence, daily update) and
one ``dcat:Distribution`` per file, with its download URL, IANA media type, size and SHA-256 checksum
(SPDX). The context is inline, so the document parses as RDF without fetching anything.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from etl.models import PublishedDataset
from etl.opendata.datasets import licence

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
EU = "http://publications.europa.eu/resource/authority/"
LANGUAGES = {"fr": EU + "language/FRA", "ar": EU + "language/ARA", "en": EU + "language/ENG"}
DAILY = EU + "frequency/DAILY"
MOROCCO = EU + "country/MAR"


def _texts(obj, field: str) -> list[dict]:
    return [{"@value": getattr(obj, f"{field}_{lang}"), "@language": lang} for lang in LANGUAGES]


def _datetime(value) -> dict:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def download_url(base_url: str, dataset: str, fmt: str) -> str:
    return base_url + reverse("etl:open_data_download", args=[dataset, fmt])


def dataset_url(base_url: str, name: str) -> str:
    return f"{base_url}{reverse('etl:open_data')}#dataset-{name}"


def catalog_jsonld(*, base_url: str | None = None) -> dict:
    """The DCAT-AP catalogue as a JSON-LD document (a dict ready for ``json.dumps``)."""
    base_url = (base_url or settings.TAAMIR_PUBLIC_URL).rstrip("/")
    home = base_url + reverse("etl:open_data")
    publisher = {"@id": f"{home}#publisher", "@type": "foaf:Agent", "foaf:name": settings.TAAMIR_OPEN_DATA_PUBLISHER}
    terms = licence()
    datasets = list(PublishedDataset.objects.prefetch_related("distributions").order_by("name"))
    entries = []
    for dataset in datasets:
        distributions = []
        for dist in dataset.distributions.all():
            url = download_url(base_url, dataset.name, dist.fmt)
            distributions.append(
                {
                    "@id": url,
                    "@type": "dcat:Distribution",
                    "dct:title": f"{dataset.title_fr} ({dist.fmt.upper()})",
                    "dct:format": dist.fmt.upper(),
                    "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{dist.media_type}"},
                    "dcat:downloadURL": {"@id": url},
                    "dcat:accessURL": {"@id": url},
                    "dcat:byteSize": {"@value": str(dist.byte_size), "@type": "xsd:nonNegativeInteger"},
                    "spdx:checksum": {
                        "@type": "spdx:Checksum",
                        "spdx:algorithm": {"@id": "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"},
                        "spdx:checksumValue": dist.sha256,
                    },
                    "dct:license": {"@id": terms.url},
                    "dct:modified": _datetime(dist.modified),
                }
            )
        entries.append(
            {
                "@id": dataset_url(base_url, dataset.name),
                "@type": "dcat:Dataset",
                "dct:identifier": dataset.name,
                "dct:title": _texts(dataset, "title"),
                "dct:description": _texts(dataset, "description"),
                "dcat:keyword": dataset.keywords,
                "dct:issued": _datetime(dataset.issued),
                "dct:modified": _datetime(dataset.modified),
                "dct:publisher": {"@id": publisher["@id"]},
                "dct:license": {"@id": terms.url},
                "dct:accrualPeriodicity": {"@id": DAILY},
                "dct:spatial": {"@id": MOROCCO},
                "dct:language": [{"@id": uri} for uri in LANGUAGES.values()],
                "dcat:landingPage": {"@id": home},
                "dcat:distribution": distributions,
            }
        )
    modified = max((d.modified for d in datasets), default=None)
    catalog = {
        "@context": CONTEXT,
        "@id": base_url + reverse("etl:open_data_catalog"),
        "@type": "dcat:Catalog",
        "dct:title": [
            {"@value": "Données ouvertes de Taamir", "@language": "fr"},
            {"@value": "البيانات المفتوحة لتعمير", "@language": "ar"},
            {"@value": "Taamir open data", "@language": "en"},
        ],
        "dct:description": [
            {"@value": "Autorisations d'urbanisme, indicateurs quotidiens et registre des permis.", "@language": "fr"},
            {"@value": "رخص التعمير والمؤشرات اليومية وسجل الرخص.", "@language": "ar"},
            {"@value": "Planning permits, daily indicators and the permit register.", "@language": "en"},
        ],
        "dct:publisher": publisher,
        "dct:license": {"@id": terms.url},
        "dct:language": [{"@id": uri} for uri in LANGUAGES.values()],
        "foaf:homepage": {"@id": home},
        "dcat:dataset": entries,
    }
    if modified:
        catalog["dct:modified"] = _datetime(modified)
    return catalog
