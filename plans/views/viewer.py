"""Pages of plan review: the plan viewer (measure, annotate) and the comparison of two versions.

Like the public map, the pages carry their data as ``json_script`` blocks (``viewer-config``,
``viewer-strings``, ``viewer-data``) read by ``plans/static_src/plan_viewer.js``; every string is
translated here. A version of a dossier the user may not see is a 404.

Where the plan image goes:

- a georeferenced version (``crs_source`` not "none", a transformation to ``crs_srid``) is drawn over the
  parcels in EPSG:3857: its preview image is placed on the box of its transformed corners. A rotation
  of the drawing on the map (its transformation's own rotation plus the grid convergence between its
  projected CRS and Web Mercator, about 1° at Casablanca) is not applied to the image — OpenLayers'
  static image is axis-aligned — and the page says so when it exceeds ``ROTATION_NOTE_DEGREES``.
  Footprints, measurements and annotations are vector features and always exact.
- a version that is not georeferenced is shown in its own drawing coordinates; lengths and areas are
  scaled by its calibrated metres per drawing unit (or its units when they are metric).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from geo.crs import WEB_MERCATOR, transform_point
from plans.annotations import is_georeferenced, may_annotate, may_reply
from plans.api.annotation_views import annotation_collection, comparison_output
from plans.compare import ComparisonRefused, compare_versions
from plans.dxf import METRES_PER_UNIT
from plans.georef import metres_per_point
from plans.models import PlanVersion, VersionStatus
from plans.prechecks import prechecks_for_version
from plans.selectors import plan_version_get_visible, plan_versions_ready, version_features_geojson

ROTATION_NOTE_DEGREES = 0.5
NUMBER_LOCALES = {"fr": "fr-MA", "ar": "ar-MA", "en": "en-GB"}
# Metres per drawing unit when the drawing's units are metric and no calibration was made.
METRIC_UNITS = {unit: METRES_PER_UNIT[unit] for unit in ("mm", "cm", "m")}
# The margin plans.dxf.render_preview leaves around the drawing on its SVG page.
PREVIEW_MARGIN_MM = 5.0
SVG_SIZE_MM = re.compile(r'<svg[^>]*\swidth="([\d.]+)mm"')
SVG_SIZE_MM_HEIGHT = re.compile(r'<svg[^>]*\sheight="([\d.]+)mm"')


def _visible(request: HttpRequest, version_id: int) -> PlanVersion:
    version = plan_version_get_visible(user=request.user, version_id=version_id)
    if version is None:
        raise Http404(_("No such plan version."))
    return version


def metres_per_unit(version: PlanVersion) -> float | None:
    """Metres per drawing unit: the calibration, else metric units, else a PDF's declared scale."""
    if version.metres_per_unit:
        return version.metres_per_unit
    if version.units in METRIC_UNITS:
        return METRIC_UNITS[version.units]
    if version.format == "pdf" and version.declared_scale:
        return metres_per_point(version.declared_scale)
    return None


def preview_extent(version: PlanVersion) -> list[float]:
    """The drawing extent the preview image covers: the version's extent, plus the SVG preview's margins.

    ``plans.dxf.render_preview`` draws the modelspace on an SVG page sized to it with a
    ``PREVIEW_MARGIN_MM`` margin on each side, its ``width``/``height`` in mm; a PDF page's PNG covers
    the page's extent exactly.
    """
    min_x, min_y, max_x, max_y = version.extent
    if not version.preview.name.lower().endswith(".svg"):
        return [min_x, min_y, max_x, max_y]
    try:
        with version.preview.open("rb") as handle:
            head = handle.read(2048).decode("utf-8", "replace")
    except OSError:
        return [min_x, min_y, max_x, max_y]
    width, height = SVG_SIZE_MM.search(head), SVG_SIZE_MM_HEIGHT.search(head)
    if not width or not height:
        return [min_x, min_y, max_x, max_y]
    page_w, page_h = float(width.group(1)), float(height.group(1))
    margin = 2 * PREVIEW_MARGIN_MM
    if page_w <= margin or page_h <= margin:
        return [min_x, min_y, max_x, max_y]
    margin_x = PREVIEW_MARGIN_MM * (max_x - min_x) / (page_w - margin)
    margin_y = PREVIEW_MARGIN_MM * (max_y - min_y) / (page_h - margin)
    return [min_x - margin_x, min_y - margin_y, max_x + margin_x, max_y + margin_y]


def image_placement(version: PlanVersion) -> dict[str, Any] | None:
    """Where the preview image goes: its extent in the map's projection, and the drawing's rotation."""
    if not version.preview or not version.extent:
        return None
    min_x, min_y, max_x, max_y = preview_extent(version)
    url = reverse("plans:viewer_image", args=[version.pk])
    svg = version.preview.name.lower().endswith(".svg")
    if not (is_georeferenced(version) and version.transform):
        return {"url": url, "svg": svg, "extent": [min_x, min_y, max_x, max_y], "rotation": 0.0}
    a, b, c, d, e, f = version.transform
    corners = [(min_x, min_y), (max_x, min_y), (max_x, max_y), (min_x, max_y)]
    projected = [
        transform_point(a * x + b * y + c, d * x + e * y + f, source_srid=version.crs_srid, target_srid=WEB_MERCATOR)
        for x, y in corners
    ]
    xs, ys = [p[0] for p in projected], [p[1] for p in projected]
    # The drawing's x axis as seen on the map: its own rotation plus the grid convergence of its CRS.
    rotation = math.degrees(math.atan2(projected[1][1] - projected[0][1], projected[1][0] - projected[0][0]))
    return {"url": url, "svg": svg, "extent": [min(xs), min(ys), max(xs), max(ys)], "rotation": round(rotation, 2)}


def _parcels_collection(version: PlanVersion) -> dict[str, Any]:
    dossier = version.plan_set.dossier
    features = [
        {
            "type": "Feature",
            "id": parcel.pk,
            "geometry": json.loads(parcel.geom.geojson),
            "properties": {"id": parcel.pk, "reference": parcel.reference, "area_m2": parcel.area_m2},
        }
        for parcel in dossier.parcels.all()
    ]
    if not features and dossier.site is not None:
        features.append({"type": "Feature", "geometry": json.loads(dossier.site.geojson), "properties": {}})
    return {"type": "FeatureCollection", "features": features}


def _base_config(request: HttpRequest) -> dict[str, Any]:
    language = get_language() or "fr"
    return {
        "language": language,
        "numberLocale": NUMBER_LOCALES.get(language, language),
        "rtl": get_language_bidi(),
        "api": {"parcels": reverse("geo-api:parcel-list"), "zoning": reverse("geo-api:zoning-list")},
    }


def viewer_strings() -> dict[str, Any]:
    """Every string the viewer script shows, in the active language."""
    return {
        "lengthValue": _("Length: %(value)s m"),
        "areaValue": _("Area: %(value)s m²"),
        "measureHelp": _("Click to add points, double-click to finish."),
        "geodesic": _("Measured on the ellipsoid (geodesic)."),
        "drawingScale": _("Measured on the drawing at %(value)s m per drawing unit."),
        "noScale": _("The drawing's scale is unknown: calibrate it before measuring."),
        "annotateHelp": _("Draw on the plan, then write the remark."),
        "remark": _("Remark"),
        "save": _("Save the annotation"),
        "cancel": _("Cancel"),
        "saved": _("Annotation saved."),
        "saveError": _("The annotation was not saved: %(reason)s"),
        "reply": _("Answer"),
        "sendReply": _("Send the answer"),
        "replied": _("Answer sent."),
        "resolve": _("Mark resolved"),
        "reopen": _("Reopen"),
        "resolved": _("Annotation resolved."),
        "reopened": _("Annotation reopened."),
        "showOnMap": _("Show on the plan"),
        "carriedFrom": _("Carried from version %(number)s"),
        "byOn": _("%(author)s, %(date)s"),
        "noAnnotation": _("No annotation on this version yet."),
        "loadError": _("The map data could not be loaded. Please try again later."),
        "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
        "added": _("Added"),
        "removed": _("Removed"),
    }


@login_required
@require_GET
def plan_viewer(request: HttpRequest, version_id: int) -> HttpResponse:
    """The plan viewer of one version: the plan over parcels and zoning, measuring, annotations, pre-checks."""
    version = _visible(request, version_id)
    dossier = version.plan_set.dossier
    georeferenced = is_georeferenced(version)
    scale = metres_per_unit(version)
    ready = version.status == VersionStatus.READY
    image = image_placement(version)
    config = {
        **_base_config(request),
        "mode": "geo" if georeferenced else "drawing",
        "versionId": version.pk,
        "image": image,
        "metresPerUnit": scale,
        "mayAnnotate": bool(ready and georeferenced and may_annotate(request.user)),
        "mayReply": may_reply(request.user, version),
        "api": {
            **_base_config(request)["api"],
            "annotations": reverse("plans-api:annotation-list", args=[version.pk]),
            "reply": reverse("plans-api:annotation-reply", args=[0]),
            "resolve": reverse("plans-api:annotation-resolve", args=[0]),
            "reopen": reverse("plans-api:annotation-reopen", args=[0]),
        },
    }
    data = {
        "features": version_features_geojson(version=version, display=True) if georeferenced else None,
        "parcels": _parcels_collection(version) if georeferenced else None,
        # Listed in drawing mode too (carried from a georeferenced version), but drawn only on the map.
        "annotations": annotation_collection(version=version, viewer=request.user),
    }
    versions = list(plan_versions_ready(plan_set=version.plan_set))
    previous = [v for v in versions if v.number and version.number and v.number < version.number]
    context = {
        "version": version,
        "dossier": dossier,
        "georeferenced": georeferenced,
        "measurable": georeferenced or scale is not None,
        "rotation_note": bool(image and abs(image["rotation"]) > ROTATION_NOTE_DEGREES),
        "prechecks": prechecks_for_version(version=version) if georeferenced else [],
        "versions": versions,
        "compare_with": previous[-1] if previous else None,
        "viewer_config": config,
        "viewer_strings": viewer_strings(),
        "viewer_data": data,
    }
    return render(request, "plans/viewer.html", context)


@login_required
@require_GET
def plan_compare(request: HttpRequest, a: int, b: int) -> HttpResponse:
    """Two versions of a plan set overlaid, with the footprint added and removed highlighted."""
    first, second = _visible(request, a), _visible(request, b)
    try:
        comparison = compare_versions(a=first, b=second)
    except ComparisonRefused as exc:
        return render(request, "plans/compare.html", {"error": exc.message, "a": first, "b": second}, status=400)
    config = {**_base_config(request), "mode": "compare"}
    data = {
        "a": version_features_geojson(version=first, display=True),
        "b": version_features_geojson(version=second, display=True),
        "diff": comparison_output(comparison),
        "parcels": _parcels_collection(second),
    }
    context = {
        "a": first,
        "b": second,
        "dossier": second.plan_set.dossier,
        "comparison": comparison,
        "viewer_config": config,
        "viewer_strings": viewer_strings(),
        "viewer_data": data,
        "api_url": reverse("plans-api:compare", args=[first.pk, second.pk]),
    }
    return render(request, "plans/compare.html", context)


@login_required
@require_GET
def viewer_image(request: HttpRequest, version_id: int) -> FileResponse:
    """The preview image of a version, for the viewer (same visibility as the version)."""
    version = _visible(request, version_id)
    if not version.preview:
        raise Http404(_("This plan version has no preview image."))
    name = version.preview.name.lower()
    content_type = "image/svg+xml" if name.endswith(".svg") else "image/png"
    response = FileResponse(version.preview.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
