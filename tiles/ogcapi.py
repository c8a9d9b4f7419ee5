"""OGC API – Features (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0) at ``/ogcapi/``, over the layer catalogue.

Landing page, ``/conformance``, ``/collections``, ``/collections/{id}`` (with ``/queryables``),
``/collections/{id}/items`` (``bbox``, ``limit``, ``offset``, ``datetime`` on the layer's date field,
``<property>=<value>`` on published fields, ``f=json|html``; ``numberMatched``/``numberReturned`` and
next/prev links), ``/collections/{id}/items/{featureId}`` and ``/api`` (the OpenAPI definition).

Collections are the layers ``tiles.layers.layers_for(user)`` gives: the internal ones exist only for staff
who may read them (anyone else gets the 404 of an unknown collection). Users are resolved like the WFS
(:mod:`tiles.ogc_auth`). Items pages are streamed and never cached.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

from tiles import ogcapi_selectors as selectors
from tiles.layers import PublishedLayer, layer_named, layers_for
from tiles.ogc_auth import sign_in_or_challenge
from tiles.streaming import keep_streaming

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
]
ITEMS_PARAMETERS = frozenset({"f", "bbox", "bbox-crs", "limit", "offset", "datetime"})


class Problem(Exception):
    """An error answered as an RFC 9457 problem document."""

    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail


def _problem_response(problem: Problem) -> JsonResponse:
    body = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    return JsonResponse(body, status=problem.status, content_type="application/problem+json")


def ogc_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the user (session, token, Basic), answer errors as problems, and forbid caching."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = sign_in_or_challenge(request)
        if refused is not None:
            return refused
        if request.method not in ("GET", "HEAD"):
            response = _problem_response(Problem(405, _("Only GET is supported.")))
            response["Allow"] = "GET, HEAD"
            return response
        try:
            response = view(request, *args, **kwargs)
        except Problem as problem:
            response = _problem_response(problem)
        patch_cache_control(response, no_store=True, private=True)
        patch_vary_headers(response, ("Accept", "Authorization", "Cookie"))
        return keep_streaming(request, response)

    return wrapper


def _wants_html(request: HttpRequest) -> bool:
    requested = request.GET.get("f")
    if requested:
        if requested not in ("json", "html"):
            raise Problem(400, _("Unknown format."), _("f must be json or html."))
        return requested == "html"
    accept = request.headers.get("Accept", "")
    return HTML in accept and "json" not in accept


def _url(request: HttpRequest, path: str, **params) -> str:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return request.build_absolute_uri(path) + (f"?{query}" if query else "")


def _self_links(request: HttpRequest, path: str, json_type: str, title: str) -> list[dict]:
    html = _wants_html(request)
    return [
        {"href": _url(request, path, f="json"), "rel": "alternate" if html else "self", "type": json_type,
         "title": f"{title} (JSON)"},
        {"href": _url(request, path, f="html"), "rel": "self" if html else "alternate", "type": HTML,
         "title": f"{title} (HTML)"},
    ]  # fmt: skip


def _layer(request: HttpRequest, collection_id: str) -> PublishedLayer:
    layer = layer_named(collection_id, user=request.user)
    if layer is None:
        raise Problem(404, _("Unknown collection."), collection_id)
    return layer


def _collection_document(request: HttpRequest, layer: PublishedLayer) -> dict:
    base = f"/ogcapi/collections/{layer.name}"
    document = {
        "id": layer.name,
        "title": str(layer.title),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {"href": _url(request, base, f="json"), "rel": "self", "type": JSON, "title": str(layer.title)},
            {"href": _url(request, base, f="html"), "rel": "alternate", "type": HTML, "title": str(layer.title)},
            {"href": _url(request, f"{base}/items", f="json"), "rel": "items", "type": GEOJSON,
             "title": _("Features (GeoJSON)")},
            {"href": _url(request, f"{base}/items", f="html"), "rel": "items", "type": HTML,
             "title": _("Features (HTML)")},
            {"href": _url(request, f"{base}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "title": _("Queryable properties")},
        ],
    }  # fmt: skip
    extent = selectors.layer_extent(layer)
    if extent is not None:
        document["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return document


@ogc_view
def landing(request: HttpRequest) -> HttpResponse:
    title = _("Taamir geo-portal: OGC API – Features")
    document = {
        "title": title,
        "description": _("Authorised works, parcels, zoning, constraints and administrative areas."),
        "links": [
            *_self_links(request, "/ogcapi/", JSON, title),
            {"href": _url(request, "/ogcapi/api"), "rel": "service-desc", "type": OPENAPI,
             "title": _("API definition")},
            {"href": _url(request, "/ogcapi/conformance", f="json"), "rel": "conformance", "type": JSON,
             "title": _("Conformance classes")},
            {"href": _url(request, "/ogcapi/collections", f="json"), "rel": "data", "type": JSON,
             "title": _("Collections")},
        ],
    }  # fmt: skip
    if _wants_html(request):
        return render(request, "tiles/ogcapi_landing.html", {"document": document})
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@ogc_view
def conformance(request: HttpRequest) -> HttpResponse:
    document = {"conformsTo": CONFORMANCE}
    if _wants_html(request):
        return render(request, "tiles/ogcapi_conformance.html", {"document": document})
    return JsonResponse(document)


@ogc_view
def collections(request: HttpRequest) -> HttpResponse:
    layers = layers_for(request.user)
    document = {
        "links": _self_links(request, "/ogcapi/collections", JSON, _("Collections")),
        "collections": [_collection_document(request, layer) for layer in layers],
    }
    if _wants_html(request):
        return render(request, "tiles/ogcapi_collections.html", {"document": document})
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@ogc_view
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    layer = _layer(request, collection_id)
    document = _collection_document(request, layer)
    if _wants_html(request):
        return render(request, "tiles/ogcapi_collection.html", {"document": document, "layer": layer})
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


def _json_type(layer: PublishedLayer, field_name: str) -> str:
    from django.db.models import BooleanField, FloatField, IntegerField

    published = next(f for f in layer.fields if f.name == field_name)
    model, *path = [layer.model, *published.source.split("__")]
    model_field = None
    for step in path:
        model_field = model._meta.get_field(step)
        model = model_field.related_model or model
    if isinstance(model_field, BooleanField):
        return "boolean"
    if isinstance(model_field, IntegerField):
        return "integer"
    if isinstance(model_field, FloatField):
        return "number"
    return "string"


@ogc_view
def queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    layer = _layer(request, collection_id)
    properties = {f.name: {"title": str(f.title) or f.name, "type": _json_type(layer, f.name)} for f in layer.fields}
    properties["geometry"] = {"$ref": "https://geojson.org/schema/MultiPolygon.json"}
    document = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(request, f"/ogcapi/collections/{layer.name}/queryables"),
        "type": "object",
        "title": str(layer.title),
        "properties": properties,
    }
    return JsonResponse(document, content_type="application/schema+json", json_dumps_params={"ensure_ascii": False})


def _int_parameter(request: HttpRequest, name: str, default: int, *, minimum: int) -> int:
    text = request.GET.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise Problem(400, _("Invalid parameter."), f"{name}: {text!r}") from None
    if value < minimum:
        raise Problem(400, _("Invalid parameter."), f"{name} must be at least {minimum}")
    return value


def _items_query(request: HttpRequest, layer: PublishedLayer):
    published = {f.name for f in layer.fields}
    unknown = sorted(set(request.GET) - ITEMS_PARAMETERS - published)
    if unknown:
        raise Problem(400, _("Unknown parameter."), ", ".join(unknown))
    bbox_crs = request.GET.get("bbox-crs")
    if bbox_crs and bbox_crs != CRS84:
        raise Problem(400, _("Invalid parameter."), f"bbox-crs: only {CRS84} is supported")
    try:
        bbox = selectors.parse_bbox(request.GET["bbox"]) if request.GET.get("bbox") else None
        time_filter = selectors.parse_datetime_filter(request.GET["datetime"]) if request.GET.get("datetime") else None
        properties = {name: request.GET[name] for name in request.GET if name in published}
        return selectors.filtered_features(layer, bbox=bbox, time_filter=time_filter, properties=properties)
    except selectors.BadQuery as bad:
        raise Problem(400, _("Invalid parameter."), str(bad)) from None


@ogc_view
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    layer = _layer(request, collection_id)
    html = _wants_html(request)
    qs = _items_query(request, layer)
    limit = min(
        _int_parameter(request, "limit", settings.TAAMIR_OGC_DEFAULT_LIMIT, minimum=1), settings.TAAMIR_OGC_MAX_LIMIT
    )
    offset = _int_parameter(request, "offset", 0, minimum=0)
    matched = qs.count()
    returned = max(0, min(limit, matched - offset))
    path = f"/ogcapi/collections/{layer.name}/items"
    params = {key: value for key, value in request.GET.items() if key not in ("f", "limit", "offset")}

    def page_url(page_offset: int, fmt: str) -> str:
        return _url(request, path, **params, limit=limit, offset=page_offset, f=fmt)

    links = [
        {"href": page_url(offset, "json"), "rel": "alternate" if html else "self", "type": GEOJSON,
         "title": _("This page (GeoJSON)")},
        {"href": page_url(offset, "html"), "rel": "self" if html else "alternate", "type": HTML,
         "title": _("This page (HTML)")},
        {"href": _url(request, f"/ogcapi/collections/{layer.name}", f="json"), "rel": "collection", "type": JSON,
         "title": str(layer.title)},
    ]  # fmt: skip
    fmt = "html" if html else "json"
    page_type = HTML if html else GEOJSON
    if offset + returned < matched:
        links.append({"href": page_url(offset + limit, fmt), "rel": "next", "type": page_type, "title": _("Next")})
    if offset > 0:
        links.append(
            {"href": page_url(max(0, offset - limit), fmt), "rel": "prev", "type": page_type, "title": _("Previous")}
        )
    page = qs.order_by("pk")[offset : offset + limit] if returned else qs.none()
    if html:
        features = [
            {"id": row["id"], "values": list(row["properties"].values())} for row in selectors.feature_rows(layer, page)
        ]
        context = {
            "layer": layer,
            "field_titles": [str(f.title) or f.name for f in layer.fields],
            "features": features,
            "matched": matched,
            "offset": offset,
            "links": {link["rel"]: link["href"] for link in links},
        }
        return render(request, "tiles/ogcapi_items.html", context)
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }
    return StreamingHttpResponse(_stream_collection(layer, head, page), content_type=GEOJSON)


def _stream_collection(layer: PublishedLayer, head: dict, page) -> Iterator[bytes]:
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[').encode()
    buffer: list[str] = []
    first = True
    for row in selectors.feature_rows(layer, page):
        buffer.append(("" if first else ",") + selectors.feature_json(layer.name, row))
        first = False
        if len(buffer) >= 500:
            yield "".join(buffer).encode()
            buffer = []
    buffer.append("]}")
    yield "".join(buffer).encode()


@ogc_view
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    layer = _layer(request, collection_id)
    if not feature_id.isdigit():
        raise Problem(404, _("Unknown feature."), feature_id)
    rows = list(selectors.feature_rows(layer, layer.queryset().filter(pk=int(feature_id))))
    if not rows:
        raise Problem(404, _("Unknown feature."), feature_id)
    row = rows[0]
    path = f"/ogcapi/collections/{layer.name}/items/{feature_id}"
    if _wants_html(request):
        properties = [(str(f.title) or f.name, row["properties"][f.name]) for f in layer.fields]
        return render(request, "tiles/ogcapi_item.html", {"layer": layer, "row": row, "properties": properties})
    links = [
        *_self_links(request, path, GEOJSON, str(layer.title)),
        {"href": _url(request, f"/ogcapi/collections/{layer.name}", f="json"), "rel": "collection", "type": JSON,
         "title": str(layer.title)},
    ]  # fmt: skip
    return HttpResponse(selectors.feature_json(layer.name, row, links=links), content_type=GEOJSON)


def _parameter(name: str, description: str, schema: dict, *, where: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": where, "description": description, "required": required, "schema": schema}


def _response(description: str, media_type: str = JSON) -> dict:
    return {"description": description, "content": {media_type: {"schema": {"type": "object"}}}}


@ogc_view
def api_definition(request: HttpRequest) -> HttpResponse:
    """A minimal but valid OpenAPI 3.0 document of this service (QGIS and validators read it)."""
    collection_id = _parameter("collectionId", "Collection", {"type": "string"}, where="path", required=True)
    format_parameter = _parameter("f", "Format", {"type": "string", "enum": ["json", "html"]})
    item_parameters = [
        collection_id,
        format_parameter,
        _parameter("bbox", "minx,miny,maxx,maxy in CRS84", {"type": "array", "items": {"type": "number"},
                   "minItems": 4, "maxItems": 6}),
        _parameter("bbox-crs", "CRS of bbox", {"type": "string", "enum": [CRS84]}),
        _parameter("limit", "Page size", {"type": "integer", "minimum": 1, "maximum": settings.TAAMIR_OGC_MAX_LIMIT,
                   "default": settings.TAAMIR_OGC_DEFAULT_LIMIT}),
        _parameter("offset", "Features to skip", {"type": "integer", "minimum": 0, "default": 0}),
        _parameter("datetime", "RFC 3339 date, date-time or interval (.. for an open end)", {"type": "string"}),
    ]  # fmt: skip
    paths = {
        "/": {"get": {"operationId": "getLandingPage", "parameters": [format_parameter],
                      "responses": {"200": _response("Landing page")}}},
        "/conformance": {"get": {"operationId": "getConformanceDeclaration", "parameters": [format_parameter],
                                 "responses": {"200": _response("Conformance classes")}}},
        "/collections": {"get": {"operationId": "getCollections", "parameters": [format_parameter],
                                 "responses": {"200": _response("Collections")}}},
        "/collections/{collectionId}": {"get": {"operationId": "describeCollection",
                                                "parameters": [collection_id, format_parameter],
                                                "responses": {"200": _response("Collection"),
                                                              "404": _response("Unknown collection")}}},
        "/collections/{collectionId}/items": {"get": {"operationId": "getFeatures", "parameters": item_parameters,
                                                      "responses": {"200": _response("Features", GEOJSON),
                                                                    "400": _response("Invalid parameter"),
                                                                    "404": _response("Unknown collection")}}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "operationId": "getFeature",
            "parameters": [collection_id, _parameter("featureId", "Feature", {"type": "string"}, where="path",
                                                     required=True), format_parameter],
            "responses": {"200": _response("Feature", GEOJSON), "404": _response("Unknown feature")}}},
    }  # fmt: skip
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Taamir OGC API – Features", "version": "1.0.0",
                 "description": "Authorised works, parcels, zoning, constraints and administrative areas."},
        "servers": [{"url": request.build_absolute_uri("/ogcapi")}],
        "paths": paths,
    }  # fmt: skip
    return JsonResponse(document, content_type=OPENAPI)
