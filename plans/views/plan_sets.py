"""Pages of a dossier's plans: its plan sets and versions with an upload form, and a version's page
(preview, extracted facts, units confirmation, control points with residuals and RMSE, scale calibration,
pre-checks, link to the viewer). Writes go through ``plans.services``; a refusal is shown on the page in the
user's language. A dossier or version the user may not see is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.api_errors import DomainError
from permits.roles import user_is_staff_role
from permits.views.common import may_file_for, visible_dossier_or_404
from plans import selectors, services
from plans.models import PlanVersion
from plans.prechecks import prechecks_for_version

CONTROL_ROWS = 6


class UploadForm(forms.Form):
    sheet = forms.CharField(
        label=gettext_lazy("Sheet"),
        max_length=120,
        help_text=gettext_lazy("Uploading the same sheet again makes a new version."),
    )
    file = forms.FileField(label=gettext_lazy("DXF or PDF file"))
    page = forms.IntegerField(label=gettext_lazy("PDF page"), min_value=1, initial=1, required=False)


class UnitsForm(forms.Form):
    units = forms.ChoiceField(
        label=gettext_lazy("Drawing units"),
        choices=[
            ("mm", gettext_lazy("millimetres")),
            ("cm", gettext_lazy("centimetres")),
            ("dm", gettext_lazy("decimetres")),
            ("m", gettext_lazy("metres")),
            ("in", gettext_lazy("inches")),
            ("ft", gettext_lazy("feet")),
        ],
    )


class CalibrationForm(forms.Form):
    x1 = forms.FloatField(label="x₁")
    y1 = forms.FloatField(label="y₁")
    x2 = forms.FloatField(label="x₂")
    y2 = forms.FloatField(label="y₂")
    distance_m = forms.FloatField(label=gettext_lazy("Distance (m)"), min_value=0)


class ControlPointsForm(forms.Form):
    srid = forms.IntegerField(label=gettext_lazy("Projected CRS (EPSG)"), initial=26191)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for i in range(CONTROL_ROWS):
            for name in ("x", "y", "X", "Y"):
                self.fields[f"{name}{i}"] = forms.FloatField(label=name, required=False)

    def rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"{name}{i}"] for name in ("x", "y", "X", "Y")] for i in range(CONTROL_ROWS)]

    def pairs(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        pairs = []
        for i in range(CONTROL_ROWS):
            values = [self.cleaned_data.get(f"{name}{i}") for name in ("x", "y", "X", "Y")]
            if all(v is None for v in values):
                continue
            if any(v is None for v in values):
                raise forms.ValidationError(_("Control point %(n)s needs x, y, X and Y.") % {"n": i + 1})
            pairs.append(((values[0], values[1]), (values[2], values[3])))
        return pairs


def _version_or_404(request: HttpRequest, version_id: int) -> PlanVersion:
    version = selectors.plan_version_get_visible(user=request.user, version_id=version_id)
    if version is None:
        raise Http404(_("No such plan version."))
    return version


@login_required
@require_http_methods(["GET", "POST"])
def plan_sets(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """A dossier's sheets with every version (status, warnings, refusal reasons) and the upload form."""
    dossier = visible_dossier_or_404(request, dossier_id)
    may_upload = services.may_upload_plans(user=request.user, dossier=dossier)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_file_for(request.user, dossier):
            raise Http404(_("No such dossier."))
        if form.is_valid():
            try:
                version = services.upload_plan_version(
                    dossier=dossier,
                    sheet=form.cleaned_data["sheet"],
                    uploaded_file=form.cleaned_data["file"],
                    by=request.user,
                    page=form.cleaned_data.get("page") or 1,
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                if version.status == "processing":
                    messages.info(request, _("The drawing is large: it is being read in the background."))
                else:
                    messages.success(request, _("Version %(n)s of “%(sheet)s” is ready.") % {
                        "n": version.number, "sheet": version.plan_set.sheet})  # fmt: skip
                return redirect("plans:version", version.pk)
    context = {
        "dossier": dossier,
        "plan_sets": selectors.plan_sets_of_dossier(dossier=dossier),
        "form": form,
        "may_upload": may_upload,
        "staff": user_is_staff_role(request.user),
    }
    return render(request, "plans/plan_sets.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """A version's page: preview, extracted facts, units, control points, calibration, pre-checks."""
    version = _version_or_404(request, version_id)
    return _render_version(request, version)


def _render_version(request: HttpRequest, version: PlanVersion, *, status: int = 200, **forms_given) -> HttpResponse:
    dossier = version.plan_set.dossier
    filer = may_file_for(request.user, dossier)
    points = list(version.control_points.order_by("pk"))
    ready = version.status == "ready"
    initial = {"srid": points[0].srid if points else (dossier.commune.projected_srid or 26191)}
    for i, point in enumerate(points[:CONTROL_ROWS]):
        initial.update(
            {f"x{i}": point.drawing_x, f"y{i}": point.drawing_y, f"X{i}": point.world_x, f"Y{i}": point.world_y}
        )
    context = {
        "dossier": dossier,
        "version": version,
        "plan_set": version.plan_set,
        "siblings": selectors.plan_versions_ready(plan_set=version.plan_set),
        "filer": filer,
        "editable": filer and version.status == "ready",
        "features": version.features.order_by("kind", "pk"),
        "control_points": points,
        "units_form": forms_given.get("units_form") or UnitsForm(initial={"units": version.units or "m"}),
        "control_form": forms_given.get("control_form") or ControlPointsForm(initial=initial),
        "calibration_form": forms_given.get("calibration_form") or CalibrationForm(),
        "prechecks": prechecks_for_version(version=version) if ready else None,
        "prechecks_template": "plans/_prechecks.html" if ready else None,
        "viewer_url": reverse("plans:viewer", args=[version.pk]) if ready else None,
        "preview_is_svg": version.preview.name.endswith(".svg") if version.preview else False,
    }
    return render(request, "plans/version_detail.html", context, status=status)


def _filer_version(request: HttpRequest, version_id: int) -> PlanVersion:
    version = _version_or_404(request, version_id)
    if not may_file_for(request.user, version.plan_set.dossier):
        raise Http404(_("No such plan version."))
    return version


@login_required
@require_POST
def version_units(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _filer_version(request, version_id)
    form = UnitsForm(request.POST)
    if form.is_valid():
        try:
            services.confirm_units(version=version, units=form.cleaned_data["units"], by=request.user)
        except DomainError as exc:
            form.add_error("units", exc.message)
        else:
            messages.success(request, _("Units confirmed."))
            return redirect("plans:version", version.pk)
    return _render_version(request, version, status=400, units_form=form)


@login_required
@require_POST
def version_control_points(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _filer_version(request, version_id)
    form = ControlPointsForm(request.POST)
    if form.is_valid():
        try:
            pairs = form.pairs()
            services.georeference_version(
                version=version, points=pairs, srid=form.cleaned_data["srid"], by=request.user
            )
        except forms.ValidationError as exc:
            form.add_error(None, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The plan is georeferenced."))
            return redirect("plans:version", version.pk)
    return _render_version(request, version, status=400, control_form=form)


@login_required
@require_POST
def version_calibration(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _filer_version(request, version_id)
    form = CalibrationForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.calibrate_scale(
                version=version,
                p1=(d["x1"], d["y1"]),
                p2=(d["x2"], d["y2"]),
                distance_m=d["distance_m"],
                by=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Scale calibrated."))
            return redirect("plans:version", version.pk)
    return _render_version(request, version, status=400, calibration_form=form)


def _serve(field, *, content_type: str, filename: str, attachment: bool) -> FileResponse:
    if not field:
        raise Http404(_("No such file."))
    response = FileResponse(field.open("rb"), content_type=content_type, as_attachment=attachment, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@login_required
@require_GET
def version_preview(request: HttpRequest, version_id: int) -> FileResponse:
    version = _version_or_404(request, version_id)
    svg = version.preview.name.endswith(".svg")
    return _serve(
        version.preview,
        content_type="image/svg+xml" if svg else "image/png",
        filename=f"v{version.number}-preview.{'svg' if svg else 'png'}",
        attachment=False,
    )


@login_required
@require_GET
def version_raster(request: HttpRequest, version_id: int) -> FileResponse:
    version = _version_or_404(request, version_id)
    return _serve(version.raster, content_type="image/tiff", filename=f"v{version.number}.tif", attachment=True)


@login_required
@require_GET
def version_file(request: HttpRequest, version_id: int) -> FileResponse:
    version = _version_or_404(request, version_id)
    content_type = "application/pdf" if version.format == "pdf" else "image/vnd.dxf"
    return _serve(
        version.file,
        content_type=content_type,
        filename=f"{version.plan_set.sheet}-v{version.number}.{version.format}",
        attachment=True,
    )
