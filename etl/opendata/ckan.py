"""A read-only CKAN-compatible Action API (``/api/3/action/<name>``) over the published datasets.

It answers the calls a CKAN harvester (ckanext-harvest's CKAN harvester, ckanapi) makes —
``package_list``, ``package_show``, ``package_search``, ``organization_list``,
``current_package_list_with_resources`` and ``status_show`` — in CKAN's envelope
(``{"help": …, "success": true, "result": …}``), with CKAN's error envelopes: ``Not Found Error``
(404), ``Validation Error`` (409) and an unknown action (400). Packages and resources carry stable
UUIDs derived from their names, so ``package_show?id=`` works with a name or an id.
``package_search`` supports ``q`` (words in the name, title, description or tags), ``rows``,
``start``, ``sort`` and a minimal ``fq``: ``field:value`` terms on ``name``, ``id``, ``tags``,
``res_format``, ``license_id``, ``organization`` and ``metadata_modified:[<date> TO *]``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.utils.text import slugify

from etl.models import PublishedDataset
from etl.opendata.datasets import licence
from etl.opendata.dcat import dataset_url, download_url

NAMESPACE = uuid.UUID("6f1c2a4e-8a0e-4f4b-9a43-1f6d3c3a9e01")
MAX_ROWS = 1000
CKAN_VERSION = "2.10.4"


class CkanError(Exception):
    """An error in CKAN's shape: ``__type`` and HTTP status, with a message or field errors."""

    def __init__(self, kind: str, status: int, message: str = "", fields: dict | None = None) -> None:
        super().__init__(message)
        self.kind, self.status, self.message, self.fields = kind, status, message, fields or {}

    def body(self) -> dict:
        error = {"__type": self.kind, **self.fields}
        if self.message:
            error["message"] = self.message
        return error


def not_found(message: str = "Not found") -> CkanError:
    return CkanError("Not Found Error", 404, message)


def validation_error(**fields: list[str]) -> CkanError:
    return CkanError("Validation Error", 409, fields=fields)


def _stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _ckan_time(value: datetime) -> str:
    """CKAN writes UTC timestamps without a zone: ``2024-06-01T10:00:00.123456``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat()


def organization() -> dict:
    name = slugify(settings.TAAMIR_OPEN_DATA_PUBLISHER) or "taamir"
    return {
        "id": _stable_id("organization", name),
        "name": name,
        "title": settings.TAAMIR_OPEN_DATA_PUBLISHER,
        "type": "organization",
        "description": "Taamir — autorisations d'urbanisme et géoportail.",
        "image_url": "",
        "created": "2024-01-01T00:00:00",
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
    }


def package_dict(dataset: PublishedDataset, *, base_url: str) -> dict:
    """A dataset as CKAN's ``package_show`` returns it (with its resources)."""
    terms = licence()
    package_id = _stable_id("package", dataset.name)
    resources = []
    for position, dist in enumerate(dataset.distributions.all()):
        resources.append(
            {
                "id": _stable_id("resource", dataset.name, dist.fmt),
                "package_id": package_id,
                "name": f"{dataset.title_fr} ({dist.fmt.upper()})",
                "description": dataset.description_fr,
                "format": dist.fmt.upper(),
                "mimetype": dist.media_type,
                "url": download_url(base_url, dataset.name, dist.fmt),
                "size": dist.byte_size,
                "hash": f"sha256:{dist.sha256}",
                "created": _ckan_time(dataset.issued),
                "last_modified": _ckan_time(dist.modified),
                "metadata_modified": _ckan_time(dist.modified),
                "position": position,
                "state": "active",
                "url_type": None,
                "resource_type": None,
                "cache_url": None,
                "datastore_active": False,
            }
        )
    org = organization()
    tags = [
        {"id": _stable_id("tag", keyword), "name": keyword, "display_name": keyword, "state": "active",
         "vocabulary_id": None}
        for keyword in dataset.keywords
    ]  # fmt: skip
    return {
        "id": package_id,
        "name": dataset.name,
        "title": dataset.title_fr,
        "title_translated": {"fr": dataset.title_fr, "ar": dataset.title_ar, "en": dataset.title_en},
        "notes": dataset.description_fr,
        "notes_translated": {"fr": dataset.description_fr, "ar": dataset.description_ar, "en": dataset.description_en},
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": True,
        "license_id": terms.id,
        "license_title": terms.title,
        "license_url": terms.url,
        "metadata_created": _ckan_time(dataset.issued),
        "metadata_modified": _ckan_time(dataset.modified),
        "url": dataset_url(base_url, dataset.name),
        "version": None,
        "author": settings.TAAMIR_OPEN_DATA_PUBLISHER,
        "author_email": None,
        "maintainer": settings.TAAMIR_OPEN_DATA_PUBLISHER,
        "maintainer_email": None,
        "owner_org": org["id"],
        "organization": org,
        "creator_user_id": None,
        "tags": tags,
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "groups": [],
        "extras": [{"key": "frequency", "value": "daily"}, {"key": "records", "value": str(dataset.records)}],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _datasets():
    return PublishedDataset.objects.prefetch_related("distributions").order_by("name")


def _int(params: dict, name: str, default: int, *, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise validation_error(**{name: ["Invalid integer"]}) from None
    if value < 0:
        raise validation_error(**{name: ["Must be a positive integer"]})
    return min(value, maximum) if maximum is not None else value


def package_list(params: dict, base_url: str) -> list[str]:
    names = list(_datasets().values_list("name", flat=True))
    offset = _int(params, "offset", 0)
    limit = _int(params, "limit", len(names))
    return names[offset : offset + limit]


def package_show(params: dict, base_url: str) -> dict:
    ident = (params.get("id") or params.get("name_or_id") or "").strip()
    if not ident:
        raise validation_error(id=["Missing value"])
    for dataset in _datasets():
        if ident in (dataset.name, _stable_id("package", dataset.name)):
            return package_dict(dataset, base_url=base_url)
    raise not_found()


_FQ_TERM = re.compile(r'(?P<neg>-?)(?P<field>[\w.]+):(?P<value>"[^"]*"|\[[^\]]*\]|\S+)')


def _fq_filter(fq: str) -> Callable[[dict], bool]:
    """A predicate for CKAN's ``fq`` (Solr filter query): the few terms a harvester sends."""
    checks: list[Callable[[dict], bool]] = []
    for match in _FQ_TERM.finditer(fq or ""):
        field, value, negate = match["field"], match["value"].strip('"'), bool(match["neg"])
        if field == "metadata_modified" and value.startswith("["):
            low = value[1:-1].split(" TO ")[0].strip()

            def check(p: dict, low=low) -> bool:
                return low in ("*", "") or p["metadata_modified"] >= low.rstrip("Z")
        elif field in ("tags", "res_format"):

            def check(p: dict, field=field, value=value) -> bool:
                if field == "tags":
                    return value.lower() in {t["name"].lower() for t in p["tags"]}
                return value.upper() in {r["format"].upper() for r in p["resources"]}
        elif field in ("organization", "owner_org"):

            def check(p: dict, value=value) -> bool:
                return value in (p["organization"]["name"], p["organization"]["id"])
        elif field in ("name", "id", "license_id", "type", "state"):

            def check(p: dict, field=field, value=value) -> bool:
                return str(p.get(field)) == value
        elif field == "dataset_type":

            def check(p: dict, value=value) -> bool:
                return p["type"] == value
        else:
            raise validation_error(fq=[f"Unsupported filter field: {field}"])
        checks.append((lambda p, c=check: not c(p)) if negate else check)
    return lambda package: all(check(package) for check in checks)


def _matches(package: dict, q: str) -> bool:
    q = (q or "").strip()
    if q in ("", "*:*", "*"):
        return True
    text = " ".join(
        [package["name"], *package["title_translated"].values(), *package["notes_translated"].values()]
        + [t["name"] for t in package["tags"]]
    ).lower()
    return all(word in text for word in re.findall(r"\w+", q.lower()))


SORTS = {
    "name asc": (lambda p: p["name"], False),
    "name desc": (lambda p: p["name"], True),
    "id asc": (lambda p: p["id"], False),
    "metadata_modified desc": (lambda p: p["metadata_modified"], True),
    "metadata_modified asc": (lambda p: p["metadata_modified"], False),
    "title_string asc": (lambda p: p["title"], False),
    "score desc, metadata_modified desc": (lambda p: p["metadata_modified"], True),
}


def package_search(params: dict, base_url: str) -> dict:
    rows = _int(params, "rows", 10, maximum=MAX_ROWS)
    start = _int(params, "start", 0)
    sort = (params.get("sort") or "score desc, metadata_modified desc").strip()
    if sort not in SORTS:
        raise validation_error(sort=[f"Unsupported sort: {sort}"])
    keep = _fq_filter(params.get("fq") or "")
    packages = [package_dict(d, base_url=base_url) for d in _datasets()]
    found = [p for p in packages if _matches(p, params.get("q") or "") and keep(p)]
    key, reverse = SORTS[sort]
    found.sort(key=key, reverse=reverse)
    return {
        "count": len(found),
        "results": found[start : start + rows],
        "sort": sort,
        "facets": {},
        "search_facets": {},
    }


def organization_list(params: dict, base_url: str) -> list:
    org = organization()
    all_fields = str(params.get("all_fields", "")).lower() in ("true", "1", "yes")
    if all_fields:
        return [{**org, "package_count": _datasets().count()}]
    return [org["name"]]


def current_package_list_with_resources(params: dict, base_url: str) -> list[dict]:
    packages = [package_dict(d, base_url=base_url) for d in _datasets()]
    packages.sort(key=lambda p: p["metadata_modified"], reverse=True)
    offset = _int(params, "offset", 0)
    limit = _int(params, "limit", len(packages))
    return packages[offset : offset + limit]


def status_show(params: dict, base_url: str) -> dict:
    return {
        "site_title": "Taamir",
        "site_url": base_url,
        "site_description": "Taamir open data",
        "ckan_version": CKAN_VERSION,
        "locale_default": "fr",
        "extensions": [],
    }


ACTIONS: dict[str, Callable[[dict, str], object]] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "current_package_list_with_resources": current_package_list_with_resources,
    "status_show": status_show,
}


def ckan_call(*, action: str, params: dict, base_url: str) -> tuple[int, dict]:
    """Run one action; returns the HTTP status and CKAN's envelope."""
    help_url = f"{base_url}/api/3/action/help_show?name={action}"
    handler = ACTIONS.get(action)
    if handler is None:
        error = CkanError("Bad Request", 400, f"Bad request - Action name not known: {action}")
        return 400, {"help": help_url, "success": False, "error": error.body()}
    try:
        result = handler(params, base_url)
    except CkanError as exc:
        return exc.status, {"help": help_url, "success": False, "error": exc.body()}
    return 200, {"help": help_url, "success": True, "result": result}
