"""Views of the open-data portal: the page, dataset downloads, the DCAT catalogue and the CKAN Action API.

All thin: filters are parsed by :mod:`etl.opendata.selectors`, charts drawn by :mod:`etl.opendata.charts`,
the catalogue built by :mod:`etl.opendata.dcat` and the API answered by :mod:`etl.opendata.ckan`.
Everything here is public and read-only.
"""

from __future__ import annotations

import json

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from etl.models import DelayObservation, Distribution, PublishedDataset
from etl.opendata import charts, selectors
from etl.opendata.ckan import ckan_call
from etl.opendata.datasets import licence
from etl.opendata.dcat import catalog_jsonld, download_url
from permits.models import Classification


def _base_url(request: HttpRequest) -> str:
    """The address the request came to (a harvester gets links it can follow from where it stands)."""
    return request.build_absolute_uri("/").rstrip("/")


def _stage_label(measure: str) -> str:
    return str(DelayObservation.Measure(measure).label)


def _classification_label(key: str) -> str:
    return str(Classification(key).label) if key else _("Not classified (other procedures)")


def _month_label(month) -> str:
    return formats.date_format(month, "M Y")


@require_GET
def open_data_page(request: HttpRequest) -> HttpResponse:
    """/open-data/: headline indicators, charts, rankings, the density map and the datasets."""
    filters = selectors.open_data_filters(params=request.GET)
    rtl = translation.get_language_bidi()
    head = selectors.headline(filters)
    months = selectors.monthly(filters)
    labels = [_month_label(row.month) for row in months]
    flows = charts.bar_chart(
        chart_id="chart-flows",
        title=_("Dossiers filed, issued and refused per month"),
        desc="; ".join(
            _("%(month)s: %(filed)d filed, %(issued)d issued, %(refused)d refused")
            % {"month": label, "filed": row.counts["filed"], "issued": row.counts["issued"],
               "refused": row.counts["refused"]}
            for label, row in zip(labels, months, strict=True)
        ) or _("No dossier in this period."),
        categories=labels,
        series=[
            charts.Series(_("Dossiers filed"), [row.counts["filed"] for row in months], "series-a"),
            charts.Series(_("Permits issued"), [row.counts["issued"] + row.counts["deemed_approved"] for row in months],
                          "series-b"),
            charts.Series(_("Refusals"), [row.counts["refused"] for row in months], "series-c"),
        ],
        rtl=rtl,
    )  # fmt: skip
    delay_chart = charts.line_chart(
        chart_id="chart-delay",
        title=_("Median delay from acceptance to decision, per month (working days)"),
        desc="; ".join(
            _("%(month)s: %(days)s working days over %(count)d decisions")
            % {"month": label, "days": f"{row.median_delay:.1f}" if row.median_delay is not None else "–",
               "count": row.decided}
            for label, row in zip(labels, months, strict=True)
        ) or _("No decision in this period."),
        categories=labels,
        series=[
            charts.Series(_("Median delay"), [row.median_delay for row in months], "series-a"),
        ],
        rtl=rtl,
    )  # fmt: skip
    backlog_chart = charts.bar_chart(
        chart_id="chart-backlog",
        title=_("Dossiers pending at the end of each month"),
        desc="; ".join(
            _("%(month)s: %(count)d pending") % {"month": label, "count": row.backlog}
            for label, row in zip(labels, months, strict=True)
        ) or _("No dossier in this period."),
        categories=labels,
        series=[charts.Series(_("Pending dossiers"), [row.backlog for row in months], "series-d")],
        rtl=rtl,
    )  # fmt: skip
    classes = [(_classification_label(key), summary) for key, summary in selectors.by_classification(filters)]
    class_chart = charts.hbar_chart(
        chart_id="chart-classes",
        title=_("Median delay of large and small projects (working days)"),
        desc="; ".join(
            _("%(label)s: median %(median)s, 90th percentile %(p90)s, %(count)d decisions")
            % {"label": label, "median": _fmt(s.median), "p90": _fmt(s.p90), "count": s.count}
            for label, s in classes
        ) or _("No decision in this period."),
        rows=[(label, s.median, _("(p90 %(p90)s)") % {"p90": _fmt(s.p90)}) for label, s in classes],
        rtl=rtl,
    )  # fmt: skip
    institutions = selectors.institution_delays(filters)
    institution_chart = charts.hbar_chart(
        chart_id="chart-institutions",
        title=_("Median delay of each institution's opinion (working days)"),
        desc="; ".join(
            _("%(name)s: median %(median)s over %(count)d opinions")
            % {"name": row.organisation.name, "median": _fmt(row.delay.median), "count": row.delay.count}
            for row in institutions
        ) or _("No opinion in this period."),
        rows=[(row.organisation.name, row.delay.median, f"({row.delay.count})") for row in institutions],
        css_class="series-b",
        rtl=rtl,
    )  # fmt: skip
    grid = selectors.density_grid(filters)
    density = charts.density_map(
        chart_id="chart-density",
        title=_("Density of authorised works"),
        desc=_("%(works)d authorised works in %(cells)d squares of %(size)d m; the densest square holds %(peak)d.")
        % {"works": sum(n for _x, _y, n in grid.cells), "cells": len(grid.cells), "size": grid.cell_m,
           "peak": max((n for _x, _y, n in grid.cells), default=0)},
        cells=grid.cells,
        cell_m=grid.cell_m,
        extent=grid.extent,
        outlines=grid.outlines,
        legend=_("Squares of %(size)d m; darker means more authorised works.") % {"size": grid.cell_m},
        rtl=rtl,
    )  # fmt: skip
    datasets = list(PublishedDataset.objects.prefetch_related("distributions").order_by("name"))
    base_url = _base_url(request)
    context = {
        "filters": filters,
        "periods": [
            ("3m", _("Last 3 months")), ("6m", _("Last 6 months")), ("12m", _("Last 12 months")),
            ("all", _("Whole history")),
        ],
        "communes": selectors.communes_with_indicators(),
        "procedures": selectors.procedures_with_indicators(),
        "head": head,
        "months": list(zip(labels, months, strict=True)),
        "stages": [(_stage_label(measure), summary) for measure, summary in selectors.by_stage(filters)],
        "classes": classes,
        "ranking": selectors.commune_ranking(filters),
        "institutions": institutions,
        "charts": {"flows": flows, "delay": delay_chart, "backlog": backlog_chart, "classes": class_chart,
                   "institutions": institution_chart, "density": density},
        "datasets": [
            (dataset, [(dist, download_url(base_url, dataset.name, dist.fmt)) for dist in dataset.distributions.all()])
            for dataset in datasets
        ],
        "licence": licence(),
    }  # fmt: skip
    return render(request, "etl/open_data.html", context)


def _fmt(value: float | None) -> str:
    return "–" if value is None else formats.number_format(value, 1)


@require_GET
def dataset_download(request: HttpRequest, name: str, fmt: str) -> FileResponse:
    """The latest file of a dataset in one format, as an attachment."""
    dist = Distribution.objects.filter(dataset__name=name, fmt=fmt).select_related("dataset").first()
    if dist is None or not default_storage.exists(dist.path):
        raise Http404(_("No such dataset file."))
    response = FileResponse(
        default_storage.open(dist.path, "rb"), as_attachment=True, filename=dist.filename, content_type=dist.media_type
    )
    response["Content-Length"] = str(dist.byte_size)
    response["Digest"] = f"sha-256={dist.sha256}"
    return response


@require_GET
def catalog_view(request: HttpRequest) -> HttpResponse:
    """/open-data/catalog.jsonld: the DCAT-AP catalogue."""
    body = json.dumps(catalog_jsonld(base_url=_base_url(request)), ensure_ascii=False, indent=1)
    return HttpResponse(body, content_type="application/ld+json; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ckan_action(request: HttpRequest, action: str) -> JsonResponse:
    """/api/3/action/<action>: CKAN's read-only actions (GET parameters or a JSON body, as CKAN accepts)."""
    params: dict = dict(request.GET.items())
    if request.method == "POST" and request.body:
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            status, envelope = (
                400,
                {
                    "success": False,
                    "error": {"__type": "Bad Request", "message": "Bad request - JSON Error: could not read the body"},
                },
            )
            return JsonResponse(envelope, status=status)
        params.update(body)
    status, envelope = ckan_call(action=action, params=params, base_url=_base_url(request))
    response = JsonResponse(envelope, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response
