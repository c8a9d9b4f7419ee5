"""The exports page (``/exports/``) and the download endpoint (``/api/exports/<layer>.<format>``).

The page is a form over :func:`etl.exports.export_layer`: it lists only the layers the visitor may see
and, once valid, sends the browser to the download endpoint with the same filters. The endpoint is a
plain GET usable by ``curl`` (session, token or basic authentication for the internal layers); errors
are problem documents. The file is built in a temporary folder batch by batch (memory stays flat) and
streamed from disk in chunks (an asynchronous iterator under ASGI, where Django would otherwise read a
synchronous one whole into memory); it is unlinked as soon as it is opened, so nothing stays behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from config.api_errors import NotFound
from etl.exports import (
    FORMATS,
    ExportFilters,
    ExportRefused,
    export_filename,
    export_layer,
    filtered_queryset,
    layer_for_export,
    parse_bbox,
    parse_since,
)
from tiles.layers import layers_for
from tiles.streaming import keep_streaming

FORMAT_LABELS = {
    "gpkg": gettext_lazy("GeoPackage (.gpkg)"),
    "shp": gettext_lazy("Shapefile (zipped .shp, .shx, .dbf, .prj, .cpg)"),
    "geojson": gettext_lazy("GeoJSON (.geojson)"),
    "csv": gettext_lazy("CSV with WKT geometries (.csv)"),
    "kml": gettext_lazy("KML (.kml)"),
    "fgb": gettext_lazy("FlatGeobuf (.fgb)"),
}


class ExportForm(forms.Form):
    """Which layer, in which format, with which filters; the layer list depends on the visitor."""

    layer = forms.ChoiceField(label=gettext_lazy("Layer"))
    fmt = forms.ChoiceField(label=gettext_lazy("Format"), choices=[(f, FORMAT_LABELS[f]) for f in FORMATS])
    bbox = forms.CharField(
        label=gettext_lazy("Bounding box"),
        required=False,
        help_text=gettext_lazy("minimum longitude, minimum latitude, maximum longitude, maximum latitude (WGS 84)"),
    )
    commune = forms.CharField(label=gettext_lazy("Commune code"), required=False, max_length=40)
    since = forms.DateField(
        label=gettext_lazy("Dated on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Only for layers with a date (authorised works, parcels, dossiers)."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["layer"].choices = [(layer.name, layer.title) for layer in layers_for(user)]

    def clean(self) -> dict:
        """Refuse here, in the page's language, what the download would refuse (unknown commune, no date)."""
        data = super().clean()
        if self.errors or not data.get("layer"):
            return data
        layer = layer_for_export(name=data["layer"], user=self.user)
        filters = ExportFilters(
            bbox=parse_bbox(data["bbox"]) if data.get("bbox") else None,
            commune=data.get("commune") or None,
            since=data.get("since"),
        )
        try:
            filtered_queryset(layer=layer, filters=filters)
        except ExportRefused as exc:
            raise forms.ValidationError(exc.message) from exc
        return data

    def clean_bbox(self) -> str:
        text = self.cleaned_data["bbox"].strip()
        if text:
            try:
                parse_bbox(text)
            except ExportRefused as exc:
                raise forms.ValidationError(exc.message) from exc
        return text


def exports_page(request: HttpRequest) -> HttpResponse:
    """The export form; a valid submission is sent on to the download endpoint."""
    form = ExportForm(request.GET if "layer" in request.GET else None, user=request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        query = {key: data[key] for key in ("bbox", "commune") if data[key]}
        if data["since"]:
            query["since"] = data["since"].isoformat()
        url = reverse("etl:export-download", kwargs={"layer": data["layer"], "ext": data["fmt"]})
        return redirect(f"{url}?{urlencode(query)}" if query else url)
    status = 400 if form.is_bound else 200
    return render(request, "etl/exports.html", {"form": form, "formats": FORMATS}, status=status)


CHUNK_BYTES = 1024 * 1024


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def file_download(request: HttpRequest, *, handle: BinaryIO, filename: str, media_type: str) -> StreamingHttpResponse:
    """Stream an open file in chunks of 1 MiB, memory flat under WSGI and ASGI alike.

    Django serves a synchronous iterator under ASGI by reading it whole into a list first:
    :func:`tiles.streaming.keep_streaming` makes it asynchronous there.
    """
    response = StreamingHttpResponse(_chunks(handle), content_type=media_type)
    response["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return keep_streaming(request, response, thread_sensitive=False)


class _AnyAccept(BaseContentNegotiation):
    """A download answers in its own format whatever the client accepts; errors stay problem documents."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportDownloadApi(APIView):
    """``GET /api/exports/<layer>.<format>?bbox=…&commune=…&since=…``: the layer as a file.

    Formats: gpkg, shp (a zip), geojson, csv, kml, fgb; always EPSG:4326. Internal layers answer 404
    to whoever may not read them, exactly like unknown ones.
    """

    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="export_layer",
        parameters=[
            OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat (EPSG:4326)"),
            OpenApiParameter("commune", str, description="official code of a commune"),
            OpenApiParameter("since", str, description="YYYY-MM-DD: features of the layer's date field from then"),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, layer: str, ext: str) -> StreamingHttpResponse:
        if ext not in FORMATS:
            raise NotFound(
                _("Unknown format %(fmt)s; expected one of %(formats)s") % {"fmt": ext, "formats": ", ".join(FORMATS)}
            )
        params = request.query_params
        bbox = parse_bbox(params["bbox"]) if params.get("bbox") else None
        since = parse_since(params["since"]) if params.get("since") else None
        folder = Path(tempfile.mkdtemp(prefix="taamir-download-", dir=settings.TAAMIR_EXPORT_TMP_DIR or None))
        target = folder / export_filename(layer_name=layer, fmt=ext)
        try:
            try:
                result = export_layer(
                    layer_name=layer,
                    fmt=ext,
                    out_path=target,
                    user=request.user,
                    bbox=bbox,
                    commune=params.get("commune") or None,
                    since=since,
                    batch_size=settings.TAAMIR_EXPORT_BATCH_SIZE,
                )
            except ExportRefused as exc:
                if exc.code == "unknown-layer":
                    raise NotFound(exc.message, code="unknown-layer") from exc
                raise
            handle = target.open("rb")
        finally:
            # The open handle keeps the data readable; the name goes now, so no file outlives the answer.
            shutil.rmtree(folder, ignore_errors=True)
        response = file_download(
            request._request, handle=handle, filename=result.filename, media_type=result.media_type
        )
        response["X-Feature-Count"] = str(result.count)
        return response
