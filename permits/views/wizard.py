"""The dossier wizard: procedure → location on the map → applicant and figures → documents → review.

A new dossier's first two answers (procedure, parcels) are kept in the session: the draft itself can
only exist once its applicant is known (``dossier_save_draft`` requires one). From the third step on,
every step saves the draft through ``permits.services``; an existing draft saves at every step.
Submission is the workflow's ``submit`` transition (``views.portal.dossier_action``).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.api_errors import DomainError
from geo.models import Parcel
from geo.selectors import parcel_list_by_reference
from geo.selectors_map import map_initial_extent
from geo.views import DEFAULT_CENTER_LON_LAT, NUMBER_LOCALES, PARCEL_MIN_ZOOM
from permits.classification import classify
from permits.forms import ApplicantForm, FiguresForm, ProcedureForm
from permits.models import Dossier, Procedure, Status
from permits.roles import FILING_ROLES, Role, user_has_role
from permits.selectors import procedure_list_open
from permits.services import ApplicantData, dossier_save_draft
from permits.views.common import (
    checklist_context,
    figure_rows,
    may_file_for,
    role_required,
    visible_dossier_or_404,
)
from permits.workflow import TRANSITIONS

STEPS: list[tuple[str, Any]] = [
    ("procedure", gettext_lazy("Procedure")),
    ("site", gettext_lazy("Location")),
    ("applicant", gettext_lazy("Applicant and figures")),
    ("documents", gettext_lazy("Documents")),
    ("review", gettext_lazy("Review and submit")),
]
STEP_NAMES = [name for name, _label in STEPS]
# Steps a dossier that is not saved yet can be on.
NEW_STEPS = ("procedure", "site", "applicant")
SESSION_KEY = "permits_wizard"


# --- entry points -------------------------------------------------------------------------------------


@role_required(*FILING_ROLES)
def wizard_new(request: HttpRequest, step: str = "procedure") -> HttpResponse:
    """The first steps of a dossier that is not saved yet."""
    if step not in NEW_STEPS:
        raise Http404
    if request.method == "GET" and step == "procedure" and request.GET.get("restart"):
        request.session.pop(SESSION_KEY, None)
    return _dispatch(request, step, None)


@role_required(*FILING_ROLES)
def wizard_edit(request: HttpRequest, dossier_id: int, step: str) -> HttpResponse:
    """Any step of a saved draft."""
    if step not in STEP_NAMES:
        raise Http404
    dossier = visible_dossier_or_404(request, dossier_id)
    if not may_file_for(request.user, dossier):
        raise PermissionDenied(_("Only the filer of a dossier may change it."))
    if dossier.status != Status.DRAFT:
        messages.info(request, _("This dossier is already submitted: follow it on its page."))
        return redirect("permits:dossier", dossier.pk)
    return _dispatch(request, step, dossier)


def _dispatch(request: HttpRequest, step: str, dossier: Dossier | None) -> HttpResponse:
    handler = {
        "procedure": _step_procedure,
        "site": _step_site,
        "applicant": _step_applicant,
        "documents": _step_documents,
        "review": _step_review,
    }[step]
    return handler(request, dossier, request.session.get(SESSION_KEY, {}) if dossier is None else {})


def step_url(step: str, dossier: Dossier | None) -> str:
    if dossier is None:
        return reverse("permits:wizard_new_step", args=[step])
    return reverse("permits:wizard", args=[dossier.pk, step])


def _remember(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state
    request.session.modified = True


def _render(request: HttpRequest, step: str, dossier: Dossier | None, context: dict[str, Any]) -> HttpResponse:
    procedure = context.get("procedure")
    steps = []
    for index, (name, label) in enumerate(STEPS):
        available = dossier is not None or name in NEW_STEPS
        steps.append({"name": name, "label": label, "number": index + 1, "url": step_url(name, dossier),
                      "current": name == step, "available": available})  # fmt: skip
    position = STEP_NAMES.index(step)
    context = {
        "step": step,
        "steps": steps,
        "step_number": position + 1,
        "step_label": STEPS[position][1],
        "step_count": len(STEPS),
        "dossier": dossier,
        "procedure": procedure,
        "previous_url": step_url(STEP_NAMES[position - 1], dossier) if position else "",
        **context,
    }
    return render(request, f"permits/wizard/{step}.html", context)


def _applicant_data(dossier: Dossier) -> ApplicantData:
    return ApplicantData(**{name: getattr(dossier.applicant, name) for name in ApplicantData.__dataclass_fields__})


def _resave(request: HttpRequest, dossier: Dossier, *, procedure: Procedure | None = None,
            parcels: list[Parcel] | None = None) -> Dossier:  # fmt: skip
    """Save the draft again with a new procedure or new parcels, keeping everything else."""
    procedure = procedure or dossier.procedure
    known = {spec["name"] for spec in procedure.form_fields}
    site = dossier.site.clone() if parcels is None and dossier.site_source == "drawn" and dossier.site else None
    return dossier_save_draft(
        actor=request.user,
        procedure=procedure,
        applicant=_applicant_data(dossier),
        parcels=list(dossier.parcels.all()) if parcels is None else parcels,
        site=site,
        title=dossier.title,
        figures={name: value for name, value in dossier.figures.items() if name in known},
        dossier=dossier,
    )


# --- step 1: procedure --------------------------------------------------------------------------------


def _step_procedure(request: HttpRequest, dossier: Dossier | None, state: dict[str, Any]) -> HttpResponse:
    current = dossier.procedure_id if dossier else state.get("procedure")
    locked = dossier is not None and dossier.documents.exists()
    form = ProcedureForm(request.POST or None, initial={"procedure": current})
    if request.method == "POST" and form.is_valid():
        procedure = form.cleaned_data["procedure"]
        if dossier is None:
            _remember(request, {**state, "procedure": procedure.pk})
            return redirect(step_url("site", None))
        if procedure.pk == dossier.procedure_id:
            return redirect(step_url("site", dossier))
        if locked:
            form.add_error(None, _("Documents are already filed for this procedure: start a new dossier instead."))
        else:
            try:
                _resave(request, dossier, procedure=procedure)
            except DomainError as refusal:
                form.add_error(None, refusal.message)
            else:
                messages.success(request, _("Draft saved."))
                return redirect(step_url("site", dossier))
    procedures = list(procedure_list_open())
    selected = form["procedure"].value()
    return _render(request, "procedure", dossier, {
        "form": form,
        "procedures": procedures,
        "selected": str(selected) if selected else "",
        "locked": locked,
    })  # fmt: skip


# --- step 2: the parcels on the map -------------------------------------------------------------------


def _parse_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if value.strip().isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


def site_summary(parcels: list[Parcel]) -> dict[str, Any]:
    """The site (union of the parcels) as GeoJSON, its area measured in the commune's CRS, and a problem."""
    if not parcels:
        return {"site": None, "area_m2": None, "commune": None, "problem": ""}
    communes = {parcel.commune_id: parcel.commune for parcel in parcels}
    problem = ""
    if len(communes) > 1:
        problem = _("The parcels lie in several communes; file one dossier per commune.")
    elif None in communes:
        problem = _("A chosen parcel lies outside every commune known to the platform.")
    union: GEOSGeometry = parcels[0].geom
    for parcel in parcels[1:]:
        union = union.union(parcel.geom)
    commune = next(iter(communes.values()))
    measured = union.clone()
    measured.transform(commune.projected_srid if commune else settings.TAAMIR_DEFAULT_PROJECTED_SRID)
    return {
        "site": json.loads(union.geojson),
        "area_m2": round(measured.area, 1),
        "commune": commune.name_fr if commune else None,
        "commune_ar": commune.name_ar if commune else None,
        "problem": problem,
    }


def _site_parcels(ids: list[int]) -> list[Parcel]:
    by_id = {parcel.pk: parcel for parcel in Parcel.objects.filter(pk__in=ids).select_related("commune")}
    return [by_id[pk] for pk in ids if pk in by_id]


def _parcel_features(parcels: list[Parcel]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": p.pk, "geometry": json.loads(p.geom.geojson),
             "properties": {"id": p.pk, "reference": p.reference, "area_m2": round(p.area_m2, 1)}}
            for p in parcels
        ],
    }  # fmt: skip


def wizard_map_config(parcels: list[Parcel]) -> dict[str, Any]:
    """Settings of the wizard's map script: API addresses, language, and where to open."""
    language = get_language() or settings.LANGUAGE_CODE
    if parcels:
        union = parcels[0].geom.extent
        for parcel in parcels[1:]:
            e = parcel.geom.extent
            union = (min(union[0], e[0]), min(union[1], e[1]), max(union[2], e[2]), max(union[3], e[3]))
        extent = list(union)
    else:
        initial = map_initial_extent()
        extent = list(initial) if initial else None
    return {
        "api": {"parcels": reverse("geo-api:parcel-list"), "sitePreview": reverse("permits:site_preview")},
        "language": language,
        "numberLocale": NUMBER_LOCALES.get(language, language),
        "extent": extent,
        "fitParcels": bool(parcels),
        "defaultCenter": list(DEFAULT_CENTER_LON_LAT),
        "parcelMinZoom": PARCEL_MIN_ZOOM,
    }


def wizard_map_strings() -> dict[str, str]:
    """Every string the wizard's map script shows, in the active language."""
    return {
        "loading": _("Loading…"),
        "loadError": _("The map data could not be loaded. Please try again later."),
        "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
        "searchTooShort": _("Type at least 2 characters of the reference."),
        "notFound": _("No parcel has the reference “%(reference)s”."),
        "added": _("Parcel %(reference)s added to the site."),
        "removed": _("Parcel %(reference)s removed from the site."),
        "noParcelHere": _("No parcel at this place."),
        "zoomToPick": _("Zoom in to pick parcels on the map."),
        "remove": _("Remove"),
        "removeParcel": _("Remove parcel %(reference)s"),
        "areaValue": _("%(value)s m²"),
        "siteArea": _("Site area: %(value)s m²"),
        "noParcel": _("No parcel chosen yet."),
    }


def _step_site(request: HttpRequest, dossier: Dossier | None, state: dict[str, Any]) -> HttpResponse:
    if dossier is None and not state.get("procedure"):
        return redirect(step_url("procedure", None))
    ids = list(dossier.parcels.values_list("pk", flat=True)) if dossier else list(state.get("parcels", []))
    error = ""
    reference = ""
    if request.method == "POST":
        ids = _parse_ids(request.POST.getlist("parcel"))
        action = request.POST.get("action", "continue")
        if action == "add":
            reference = request.POST.get("reference", "").strip()
            found = parcel_list_by_reference(reference=reference).first() if reference else None
            if found is None:
                error = _("No parcel has the reference “%(reference)s”.") % {"reference": reference}
            elif found.pk not in ids:
                ids.append(found.pk)
                reference = ""
        elif action.startswith("remove:"):
            ids = [pk for pk in ids if str(pk) != action.removeprefix("remove:")]
        parcels = _site_parcels(ids)
        summary = site_summary(parcels)
        if not error:
            error = summary["problem"]
        if not error and action == "continue" and not parcels:
            error = _("Choose at least one parcel on the map or by its reference.")
        if not error:
            if dossier is None:
                _remember(request, {**state, "parcels": [p.pk for p in parcels]})
            elif parcels:
                try:
                    _resave(request, dossier, parcels=parcels)
                except DomainError as refusal:
                    error = refusal.message
        if not error:
            if action == "continue":
                return redirect(step_url("applicant", dossier))
            return redirect(step_url("site", dossier))
    parcels = _site_parcels(ids)
    summary = site_summary(parcels)
    return _render(request, "site", dossier, {
        "procedure": dossier.procedure if dossier else Procedure.objects.filter(pk=state["procedure"]).first(),
        "parcels": parcels,
        "summary": summary,
        "error": error,
        "reference": reference,
        "map_config": wizard_map_config(parcels),
        "map_strings": wizard_map_strings(),
        "map_parcels": _parcel_features(parcels),
        "map_site": summary["site"],
    })  # fmt: skip


@role_required(*FILING_ROLES)
@require_GET
def site_preview(request: HttpRequest) -> JsonResponse:
    """The union of the chosen parcels, its area and what is wrong with it (for the wizard's map)."""
    ids = _parse_ids(request.GET.getlist("parcel"))[:200]
    return JsonResponse(site_summary(_site_parcels(ids)))


# --- step 3: applicant and figures --------------------------------------------------------------------


def _initial_applicant(request: HttpRequest) -> dict[str, Any]:
    """A person filing for themselves starts with their own name and e-mail."""
    user = request.user
    initial: dict[str, Any] = {"language": get_language() or settings.LANGUAGE_CODE}
    if user_has_role(user, Role.APPLICANT) and not user_has_role(user, Role.ARCHITECT):
        initial.update(first_name=user.first_name, last_name=user.last_name, email=user.email)
    return initial


def _step_applicant(request: HttpRequest, dossier: Dossier | None, state: dict[str, Any]) -> HttpResponse:
    if dossier is None:
        if not state.get("procedure"):
            return redirect(step_url("procedure", None))
        if not state.get("parcels"):
            return redirect(step_url("site", None))
    procedure = dossier.procedure if dossier else Procedure.objects.filter(pk=state["procedure"]).first()
    if procedure is None:
        return redirect(step_url("procedure", None))
    if request.method == "POST":
        applicant_form = ApplicantForm(request.POST)
        figures_form = FiguresForm(request.POST, procedure=procedure)
        if applicant_form.is_valid() and figures_form.is_valid():
            parcels = list(dossier.parcels.all()) if dossier else _site_parcels(state["parcels"])
            site = dossier.site.clone() if dossier and dossier.site_source == "drawn" and dossier.site else None
            try:
                saved = dossier_save_draft(
                    actor=request.user,
                    procedure=procedure,
                    applicant=applicant_form.applicant_data(),
                    parcels=parcels,
                    site=site,
                    title=applicant_form.cleaned_data["title"],
                    figures=figures_form.figures(),
                    dossier=dossier,
                )
            except DomainError as refusal:
                applicant_form.add_error(None, refusal.message)
            else:
                request.session.pop(SESSION_KEY, None)
                messages.success(request, _("Draft saved."))
                if request.POST.get("action") == "save":
                    return redirect(step_url("applicant", saved))
                return redirect(step_url("documents", saved))
    else:
        if dossier is not None:
            initial = ApplicantForm.initial_from(dossier.applicant, dossier.title)
        else:
            initial = _initial_applicant(request)
        applicant_form = ApplicantForm(initial=initial)
        figures_form = FiguresForm(initial=dossier.figures if dossier else None, procedure=procedure)
    return _render(request, "applicant", dossier, {
        "procedure": procedure,
        "applicant_form": applicant_form,
        "figures_form": figures_form,
    })  # fmt: skip


# --- step 4: documents --------------------------------------------------------------------------------


def _step_documents(request: HttpRequest, dossier: Dossier | None, state: dict[str, Any]) -> HttpResponse:
    assert dossier is not None  # NEW_STEPS keeps unsaved dossiers out
    return _render(request, "documents", dossier, {"procedure": dossier.procedure,
                                                    **checklist_context(request, dossier)})  # fmt: skip


# --- step 5: review and submit ------------------------------------------------------------------------


def _step_review(request: HttpRequest, dossier: Dossier | None, state: dict[str, Any]) -> HttpResponse:
    assert dossier is not None
    problems = TRANSITIONS["submit"].guard(dossier, {})
    classification = classify(figures=dossier.figures) if dossier.procedure.classifiable else None
    parcels = list(dossier.parcels.select_related("commune").order_by("reference"))
    return _render(request, "review", dossier, {
        "procedure": dossier.procedure,
        "problems": problems,
        "classification": classification,
        "parcels": parcels,
        "summary": site_summary(parcels) if parcels else None,
        "figures": figure_rows(dossier),
        **checklist_context(request, dossier),
    })  # fmt: skip
