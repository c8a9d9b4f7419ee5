"""``/mapproxy/…``: MapProxy's WMTS, TMS/XYZ and WMS behind Django's access check.

Orthophotos are public. A plan raster (layer ``plan-<version id>``) is served only to whoever may see its
dossier (staff roles and the dossier's filer, :func:`permits.selectors.dossier_get_visible`); anyone else
gets 404, as for an unknown layer. Capabilities list the plan rasters to staff only; a filer reaches
their own plan by its layer name. The request is handed to MapProxy's WSGI app (:mod:`tiles.mapproxy_app`)
with ``SCRIPT_NAME=/mapproxy`` so that the addresses in its capabilities point back here.
"""

from __future__ import annotations

import io
import re
import sys

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from permits.roles import user_is_staff_role
from permits.selectors import dossier_list_visible_to
from tiles.mapproxy_app import mapproxy_wsgi_app, plan_version_id
from tiles.ogc_auth import with_portal_user

MOUNT = "/mapproxy"
# Where a layer name sits in MapProxy's REST addresses: /wmts/<layer>/…, /tms/1.0.0/<layer>/…, /tiles/<layer>/…
_PATH_LAYER = re.compile(r"^/(?:wmts|tiles|tms/1\.0\.0)/([^/]+)")
_LAYER_PARAMS = {"layers", "layer", "query_layers"}


def requested_layers(request: HttpRequest, path: str) -> set[str]:
    """Every layer name the request asks for, in its path or its query (any case of LAYERS/LAYER)."""
    names: set[str] = set()
    match = _PATH_LAYER.match("/" + path.lstrip("/"))
    if match:
        names.add(match.group(1).split("_EPSG")[0])
    for key, values in request.GET.lists():
        if key.lower() in _LAYER_PARAMS:
            names.update(name.strip() for value in values for name in value.split(",") if name.strip())
    return names


def _may_see_plan(user, version_id: int) -> bool:
    """The version exists and its dossier is one the user may see (one query per tile)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return dossier_list_visible_to(user=user).filter(plan_sets__versions__pk=version_id).exists()


def _plan_name(name: str) -> int | None:
    # TMS names carry the grid: "plan-12/merchich" is split by the path, "plan-12_merchich" by old clients.
    return plan_version_id(name.split("/")[0].split("_")[0])


def _environ(request: HttpRequest, path: str) -> dict:
    """A WSGI environ for MapProxy, built from the request whether Django runs under WSGI or ASGI."""
    environ = {key: value for key, value in request.META.items() if isinstance(value, str)}
    environ.update(
        {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": MOUNT,
            "PATH_INFO": "/" + path.lstrip("/"),
            "QUERY_STRING": request.META.get("QUERY_STRING", ""),
            "SERVER_NAME": request.get_host().split(":")[0],
            "SERVER_PORT": request.get_port(),
            "HTTP_HOST": request.get_host(),
            "wsgi.url_scheme": request.scheme,
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
    )
    return environ


@require_http_methods(["GET", "HEAD"])
@with_portal_user
def mapproxy_view(request: HttpRequest, path: str = "") -> HttpResponse:
    """Check access to the requested layers, then let MapProxy answer."""
    plans = {vid for name in requested_layers(request, path) if (vid := _plan_name(name)) is not None}
    for version_id in plans:
        if not _may_see_plan(request.user, version_id):
            raise Http404(_("No such raster layer."))
    app = mapproxy_wsgi_app(internal=bool(plans) or user_is_staff_role(request.user))
    if app is None:
        raise Http404(_("No raster layer is published yet."))
    answer: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
        answer["status"], answer["headers"] = status, headers
        return lambda data: None

    chunks = app(_environ(request, path), start_response)
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    response = HttpResponse(body, status=int(answer["status"].split()[0]))
    for name, value in answer["headers"]:
        if name.lower() not in {"content-length", "connection"}:
            response[name] = value
    if plans or user_is_staff_role(request.user):
        # Never shared by a proxy between users: the answer depends on who asks.
        response["Cache-Control"] = "private, max-age=300"
        response["Vary"] = "Cookie, Authorization"
    return response
