"""Writes on dossiers other than status changes: drafts, references, documents, desk checks, classification.

Status changes go through :func:`permits.workflow.dossier_transition` only. Every function here is
keyword-only, runs in one transaction and writes an audit record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from geo.models import AdminArea, Parcel
from permits.audit import audit_append
from permits.filetypes import CONTENT_TYPES, detect_format
from permits.models import (
    Applicant,
    ChecklistItem,
    ChecklistVerdict,
    Classification,
    CompletenessReview,
    Document,
    Dossier,
    DossierEvent,
    Procedure,
    Status,
)

# Statuses in which the filer may still change the declared figures, parcels and site.
EDITABLE = {Status.DRAFT}
# Statuses in which the filer may upload documents (new versions during the remarks loop, too).
UPLOADABLE = {Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.ACCEPTED, Status.SCHEDULED}


class DossierRefused(DomainError):
    code = "dossier-refused"


class UploadRefused(DomainError):
    code = "upload-refused"


# --- references ------------------------------------------------------------------------------------

NEXT_NUMBER_SQL = """
INSERT INTO permits_referencecounter (commune_id, year, last_value) VALUES (%s, %s, 1)
ON CONFLICT (commune_id, year) DO UPDATE SET last_value = permits_referencecounter.last_value + 1
RETURNING last_value
"""


def dossier_reference_assign(*, commune: AdminArea, year: int) -> str:
    """The next reference ``{commune code}-{year}-{sequence}``: unique and gap-free.

    The counter row is incremented in the caller's transaction and stays locked until it commits, so
    concurrent submissions queue on it, and a rolled-back submission gives its number back.
    """
    with connection.cursor() as cursor:
        cursor.execute(NEXT_NUMBER_SQL, [commune.pk, year])
        (number,) = cursor.fetchone()
    return f"{commune.code}-{year}-{number:05d}"


# --- figures ---------------------------------------------------------------------------------------


def figures_problems(*, procedure: Procedure, figures: dict[str, Any]) -> list[str]:
    """What is wrong with declared figures against the procedure's form fields (empty when fine)."""
    problems = []
    for spec in procedure.form_fields:
        name, kind = spec["name"], spec.get("type", "text")
        label = spec.get("label", {}).get("fr", name)
        value = figures.get(name)
        if value in (None, ""):
            if spec.get("required"):
                problems.append(_("Missing figure: %(name)s.") % {"name": label})
            continue
        if kind in {"int", "decimal"}:
            try:
                number = float(value)
            except (TypeError, ValueError):
                problems.append(_("%(name)s must be a number.") % {"name": label})
                continue
            if kind == "int" and not float(number).is_integer():
                problems.append(_("%(name)s must be a whole number.") % {"name": label})
            if spec.get("min") is not None and number < spec["min"]:
                problems.append(_("%(name)s must be at least %(min)s.") % {"name": label, "min": spec["min"]})
            if spec.get("max") is not None and number > spec["max"]:
                problems.append(_("%(name)s must be at most %(max)s.") % {"name": label, "max": spec["max"]})
        elif kind == "choice" and str(value) not in {str(c["value"]) for c in spec.get("choices", [])}:
            problems.append(_("%(name)s: “%(value)s” is not one of the choices.") % {"name": label, "value": value})
    unknown = set(figures) - {spec["name"] for spec in procedure.form_fields}
    if unknown:
        problems.append(_("Unknown figures: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    return problems


def _clean_figures(procedure: Procedure, figures: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    kinds = {spec["name"]: spec.get("type", "text") for spec in procedure.form_fields}
    for name, value in figures.items():
        if value in (None, ""):
            continue
        kind = kinds.get(name)
        try:
            if kind == "int":
                # 2.5 stays 2.5 so that figures_problems() says it must be a whole number.
                number = float(value)
                value = int(number) if number.is_integer() else number
            elif kind == "decimal":
                value = float(value)
            elif kind == "bool":
                value = value is True or str(value).lower() in {"true", "1", "yes", "on"}
        except (TypeError, ValueError):
            pass  # figures_problems() names it
        clean[name] = value
    return clean


# --- drafts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicantData:
    kind: str = "person"
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    national_id: str = ""
    company_register: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    language: str = "fr"


def _applicant_problems(data: ApplicantData) -> list[str]:
    problems = []
    if data.kind == "company":
        if not data.company_name.strip() or not data.company_register.strip():
            problems.append(_("A company needs its name and trade register number (RC)."))
    elif not (data.first_name.strip() and data.last_name.strip() and data.national_id.strip()):
        problems.append(_("A person needs a first name, a last name and a national ID number (CIN)."))
    if not (data.email.strip() or data.phone.strip()):
        problems.append(_("Give the applicant's e-mail or mobile phone so they hear of every step."))
    return problems


def _site_from(parcels: list[Parcel], site: GEOSGeometry | None) -> tuple[MultiPolygon | None, str]:
    if site is not None:
        if site.srid is None:
            site.srid = 4326
        if site.srid != 4326:
            site.transform(4326)
        if site.geom_type == "Polygon":
            site = MultiPolygon(site, srid=4326)
        if site.geom_type != "MultiPolygon" or not site.valid:
            raise DossierRefused(_("The site boundary must be a valid polygon."))
        return site, "drawn"
    if parcels:
        union = parcels[0].geom
        for parcel in parcels[1:]:
            union = union.union(parcel.geom)
        if union.geom_type == "Polygon":
            union = MultiPolygon(union, srid=4326)
        return union, "parcels"
    return None, ""


def dossier_save_draft(
    *,
    actor,
    procedure: Procedure,
    applicant: ApplicantData,
    parcels: list[Parcel] | None = None,
    site: GEOSGeometry | None = None,
    commune: AdminArea | None = None,
    title: str = "",
    figures: dict[str, Any] | None = None,
    dossier: Dossier | None = None,
) -> Dossier:
    """Create a draft, or update one that is still a draft; figures are checked at submission."""
    parcels = list(parcels or [])
    problems = _applicant_problems(applicant)
    if problems:
        raise DossierRefused(" ".join(problems))
    if not procedure.active:
        raise DossierRefused(_("The procedure is closed for filing."))
    site_geom, site_source = _site_from(parcels, site)
    if commune is None:
        communes = {p.commune_id for p in parcels if p.commune_id}
        if len(communes) > 1:
            raise DossierRefused(_("The parcels lie in several communes; file one dossier per commune."))
        if communes:
            commune = AdminArea.objects.get(pk=communes.pop())
        elif site_geom is not None:
            commune = AdminArea.objects.filter(level="commune", geom__intersects=site_geom.point_on_surface).first()
    if commune is None:
        raise DossierRefused(_("Locate the project in a commune: choose a parcel or draw the site inside a commune."))
    with transaction.atomic():
        if dossier is None:
            party = Applicant.objects.create(created_by=actor, **applicant.__dict__)
            dossier = Dossier(procedure=procedure, created_by=actor, applicant=party)
            if getattr(actor, "groups", None) is not None and actor.groups.filter(name="architect").exists():
                dossier.architect = actor
            action = "dossier.draft_created"
        else:
            dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
            if dossier.status not in EDITABLE:
                raise DossierRefused(_("Only a draft can be changed; this dossier is already submitted."))
            Applicant.objects.filter(pk=dossier.applicant_id).update(**applicant.__dict__)
            action = "dossier.draft_updated"
        dossier.procedure = procedure
        dossier.commune = commune
        dossier.site, dossier.site_source = site_geom, site_source
        dossier.title = title
        dossier.figures = _clean_figures(procedure, figures or {})
        dossier.save()
        dossier.parcels.set(parcels)
        audit_append(
            action=action,
            actor=actor,
            dossier_id=dossier.pk,
            payload={
                "procedure": procedure.code,
                "parcels": [p.reference for p in parcels],
                "figures": dossier.figures,
            },
        )
    return dossier


# --- documents -------------------------------------------------------------------------------------


def document_upload(*, dossier: Dossier, item_code: str, uploaded_file: UploadedFile, actor) -> Document:
    """Store a new version of a checklist document after checking its real type and size."""
    item = ChecklistItem.objects.filter(procedure=dossier.procedure, code=item_code).first()
    if item is None:
        raise UploadRefused(_("This procedure asks for no document “%(code)s”.") % {"code": item_code})
    if dossier.status not in UPLOADABLE:
        raise UploadRefused(
            _("Documents cannot be added while the dossier is “%(status)s”.") % {"status": Status(dossier.status).label}
        )
    size = uploaded_file.size or 0
    if size == 0:
        raise UploadRefused(_("The file “%(name)s” is empty.") % {"name": uploaded_file.name})
    if size > item.max_size_mb * 1024 * 1024:
        raise UploadRefused(
            _("The file “%(name)s” is larger than %(max)s MB.") % {"name": uploaded_file.name, "max": item.max_size_mb}
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(2048)
    detected = detect_format(head)
    if detected not in item.formats:
        described = {
            "executable": _("a program"),
            "html": _("a web page (HTML)"),
            "unknown": _("of an unknown type"),
        }.get(detected, detected.upper())
        raise UploadRefused(
            _("“%(name)s” is %(what)s; accepted: %(formats)s.")
            % {"name": uploaded_file.name, "what": described, "formats": ", ".join(f.upper() for f in item.formats)}
        )
    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    stored_name = None
    try:
        with transaction.atomic():
            Dossier.objects.select_for_update().filter(pk=dossier.pk).exists()
            previous = Document.objects.filter(dossier=dossier, item_code=item.code).order_by("-version").first()
            version = (previous.version if previous else 0) + 1
            document = Document(
                dossier=dossier,
                checklist_item=item,
                item_code=item.code,
                version=version,
                original_name=uploaded_file.name[:255],
                content_type=CONTENT_TYPES.get(detected, "application/octet-stream"),
                detected_format=detected,
                size=size,
                sha256=digest.hexdigest(),
                uploaded_by=actor,
                supersedes=previous,
            )
            document.file.save(f"{item.code}.{detected}", uploaded_file, save=False)
            stored_name = document.file.name
            document.save()
            DossierEvent.objects.create(
                dossier=dossier, actor=actor, kind="document", message=item.name,
                data={"item": item.code, "version": version, "sha256": document.sha256},
            )  # fmt: skip
            audit_append(
                action="document.uploaded",
                actor=actor,
                dossier_id=dossier.pk,
                payload={"item": item.code, "version": version, "sha256": document.sha256, "size": size},
            )
    except Exception:
        # Nothing half-written: a file stored for a row that was rolled back is removed.
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return document


# --- the desk --------------------------------------------------------------------------------------


def completeness_review_record(
    *, dossier: Dossier, item: ChecklistItem, verdict: str, reason: str = "", actor
) -> CompletenessReview:
    """Record the desk's verdict on one checklist item; a missing or non-compliant item needs a reason."""
    if dossier.status != Status.SUBMITTED:
        raise DossierRefused(_("The completeness check is made on a submitted dossier."))
    if item.procedure_id != dossier.procedure_id:
        raise DossierRefused(_("This document is not in the dossier's checklist."))
    if verdict not in ChecklistVerdict.values:
        raise DossierRefused(_("Unknown verdict “%(verdict)s”.") % {"verdict": verdict})
    if verdict != ChecklistVerdict.PRESENT and not reason.strip():
        raise DossierRefused(_("Say what is missing or wrong in “%(name)s”.") % {"name": item.name})
    with transaction.atomic():
        review = CompletenessReview.objects.create(
            dossier=dossier, checklist_item=item, verdict=verdict, reason=reason, reviewed_by=actor
        )
        audit_append(
            action="dossier.completeness_reviewed",
            actor=actor,
            dossier_id=dossier.pk,
            payload={"item": item.code, "verdict": verdict, "reason": reason},
        )
    return review


# Statuses in which the desk may change the classification: before the committee's opinion (an override
# made on a draft is kept at submission).
RECLASSIFIABLE = {
    Status.DRAFT,
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.SCHEDULED,
    Status.UNDER_REVIEW,
    Status.CHANGES_REQUESTED,
    Status.RESUBMITTED,
}


def dossier_reclassify(*, dossier: Dossier, classification: str, reason: str, actor) -> Dossier:
    """The desk overrides the computed large/small classification, with a written reason."""
    if classification not in Classification.values:
        raise DossierRefused(_("Unknown classification “%(value)s”.") % {"value": classification})
    if not reason.strip():
        raise DossierRefused(_("Give the reason for the new classification."))
    with transaction.atomic():
        locked = Dossier.objects.select_for_update(of=("self",)).select_related("procedure").get(pk=dossier.pk)
        if not locked.procedure.classifiable:
            raise DossierRefused(_("The large/small classification does not apply to this procedure."))
        if locked.status not in RECLASSIFIABLE:
            raise DossierRefused(
                _("The classification can be changed until the committee's opinion, not while the dossier is "
                  "“%(status)s”.") % {"status": Status(locked.status).label}
            )  # fmt: skip
        before = locked.classification
        locked.classification = classification
        locked.classification_overridden = True
        locked.classification_override_reason = reason
        locked.classification_rule = _("Set by the desk: %(reason)s") % {"reason": reason}
        locked.save(update_fields=["classification", "classification_overridden", "classification_override_reason",
                                   "classification_rule", "updated_at"])  # fmt: skip
        DossierEvent.objects.create(
            dossier=locked, actor=actor, kind="reclassified", message=reason,
            data={"from": before, "to": classification}, public=True,
        )  # fmt: skip
        audit_append(
            action="dossier.reclassified", actor=actor, dossier_id=locked.pk,
            payload={"from": before, "to": classification, "reason": reason},
        )  # fmt: skip
    return locked
