"""Vector tiles, their TileJSON documents and the live-events stream of the geo-portal (thin views)."""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from tiles import cache, events
from tiles.layers import PublishedLayer, layer_named, may_read_internal
from tiles.ogc_auth import with_portal_user
from tiles.tilejson import tilejson
from tiles.vector import MEDIA_TYPE, TILE_SPECS, tile_exists


def _tiled_layer(request: HttpRequest, name: str) -> PublishedLayer:
    """The tiled layer ``name`` if the user may see it; unknown and forbidden layers are both 404."""
    layer = layer_named(name, user=request.user)
    if layer is None or name not in TILE_SPECS:
        raise Http404("No such tile layer.")
    return layer


def _cache_headers(response: HttpResponse, layer: PublishedLayer) -> None:
    max_age = int(settings.TAAMIR_TILES_MAX_AGE)
    if layer.internal:
        response["Cache-Control"] = f"private, max-age={max_age}"
        patch_vary_headers(response, ["Cookie", "Authorization"])
    else:
        response["Cache-Control"] = f"public, max-age={max_age}"


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or f'"{etag}"' in tags


@require_GET
@with_portal_user
def vector_tile(request: HttpRequest, layer: str, z: int, x: int, y: int) -> HttpResponse:
    """``/tiles/{layer}/{z}/{x}/{y}.pbf``: a Mapbox vector tile; 204 when no feature is in it."""
    published = _tiled_layer(request, layer)
    if not tile_exists(z, x, y):
        raise Http404("No such tile.")
    if z < TILE_SPECS[layer].minzoom:
        tile = cache.Tile(data=b"", etag=cache.etag_of(b""), cached=True)
    else:
        tile = cache.get_tile(published, z, x, y)
    if _matches(request.headers.get("If-None-Match", ""), tile.etag):
        response = HttpResponse(status=304)
    elif not tile.data:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(tile.data, content_type=MEDIA_TYPE)
    response["ETag"] = f'"{tile.etag}"'
    response["X-Tile-Cache"] = "hit" if tile.cached else "miss"
    _cache_headers(response, published)
    return response


@require_GET
@with_portal_user
def tilejson_document(request: HttpRequest, layer: str) -> JsonResponse:
    """``/tiles/{layer}.json``: the TileJSON 3.0 document of a layer (zooms, fields per zoom, tile URL)."""
    published = _tiled_layer(request, layer)
    template = request.build_absolute_uri(reverse("tiles:tile", args=[layer, 0, 0, 0])).replace(
        "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
    )
    response = JsonResponse(tilejson(published, tile_url=template), json_dumps_params={"ensure_ascii": False})
    _cache_headers(response, published)
    return response


@require_GET
def geo_events(request: HttpRequest) -> StreamingHttpResponse:
    """``/geo/events``: server-sent events, one ``change`` event per feature changed in the database."""
    internal = may_read_internal(request.user)
    if isinstance(request, ASGIRequest):
        content = events.astream(internal=internal)
    else:
        content = events.stream(internal=internal)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass every event on at once
    return response
