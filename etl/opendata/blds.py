"""Permit records in the style of BLDS (Building & Land Development Specification, permitdata.org).

One record per filed dossier (drafts are nobody's business but the filer's), with the BLDS core field
names. Our statuses, procedures and figures map to BLDS's standard values as documented in
``docs/open-data.md``:

* ``StatusCurrent`` is our own status code; ``StatusCurrentMapped`` the BLDS value (:data:`STATUS_MAPPED`);
* ``PermitType`` is our procedure code, ``PermitTypeMapped`` the BLDS family (:data:`PERMIT_TYPE_MAPPED`),
  ``PermitTypeDesc`` the procedure's French name;
* ``PermitClass`` is the declared use, ``PermitClassMapped`` Residential or Non-Residential;
* ``WorkClass`` is the nature of the works, ``WorkClassMapped`` New or Existing;
* ``HousingUnits`` the dwellings, ``TotalSqFt`` the built area converted from m² (``TotalAreaM2`` keeps it).

No personal data: no applicant, architect, address, ID number, phone or e-mail, and no free text the
filer typed (the description is composed from the procedure and the declared figures). Coordinates
(a point on the site, 5 decimals) are given only for permits granted — those already public on the
geo-portal; applications still under review are not located.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import PointOnSurface, Transform
from django.utils import timezone

from permits.models import Dossier, IssuedDocument, Status

SQFT_PER_M2 = 10.7639104

# Our status → BLDS StatusCurrentMapped (Application Accepted, In Review, Permit Issued, Inspection Phase,
# Permit Finaled, Permit Cancelled).
STATUS_MAPPED: dict[str, str] = {
    Status.SUBMITTED: "Application Accepted",
    Status.ACCEPTED: "Application Accepted",
    Status.SCHEDULED: "In Review",
    Status.UNDER_REVIEW: "In Review",
    Status.CHANGES_REQUESTED: "In Review",
    Status.RESUBMITTED: "In Review",
    Status.FAVOURABLE: "In Review",
    Status.UNFAVOURABLE: "In Review",
    Status.DECISION_SIGNING: "In Review",
    Status.ISSUED: "Permit Issued",
    Status.DEEMED_APPROVED: "Permit Issued",
    Status.INADMISSIBLE: "Permit Cancelled",
    Status.REFUSED: "Permit Cancelled",
    Status.WITHDRAWN: "Permit Cancelled",
    Status.LAPSED: "Permit Cancelled",
}
# Our procedure → BLDS PermitTypeMapped (Building, Demolition, Sign, …; "Other" where none fits).
PERMIT_TYPE_MAPPED: dict[str, str] = {
    "permis-construire": "Building",
    "regularisation": "Building",
    "refection": "Building",
    "groupe-habitations": "Building",
    "lotissement": "Grading",
    "morcellement": "Other",
    "demolition": "Demolition",
    "permis-habiter": "Building",
    "certificat-conformite": "Building",
    "publicite": "Sign",
    "reseaux-telecoms": "Right of Way",
    "occupation-domaine-public": "Right of Way",
}
# Our procedure → WorkClass (raw) and its BLDS WorkClassMapped (New or Existing).
WORK_CLASS: dict[str, tuple[str, str]] = {
    "permis-construire": ("new-construction", "New"),
    "groupe-habitations": ("new-construction", "New"),
    "lotissement": ("subdivision", "New"),
    "morcellement": ("parcelling", "Existing"),
    "regularisation": ("regularisation", "Existing"),
    "refection": ("repair", "Existing"),
    "demolition": ("demolition", "Existing"),
    "permis-habiter": ("occupancy", "Existing"),
    "certificat-conformite": ("conformity", "Existing"),
}
RESIDENTIAL_USES = {"housing", "residential"}
GRANTED = {Status.ISSUED, Status.DEEMED_APPROVED, Status.LAPSED}

FIELDS = (
    "PermitNum",
    "Description",
    "AppliedDate",
    "IssuedDate",
    "CompletedDate",
    "StatusCurrent",
    "StatusCurrentMapped",
    "StatusDate",
    "PermitClass",
    "PermitClassMapped",
    "PermitType",
    "PermitTypeMapped",
    "PermitTypeDesc",
    "WorkClass",
    "WorkClassMapped",
    "ProposedUse",
    "HousingUnits",
    "TotalSqFt",
    "TotalAreaM2",
    "Classification",
    "Jurisdiction",
    "OriginalCity",
    "Latitude",
    "Longitude",
    "Link",
)


@dataclass(frozen=True)
class BldsRecord:
    values: dict

    def row(self) -> list:
        return [self.values.get(name) for name in FIELDS]


def _description(dossier: Dossier) -> str:
    """A description composed from facts (procedure, floors, area, dwellings), never from the filer's text."""
    figures = dossier.figures or {}
    parts = [dossier.procedure.name_fr]
    if figures.get("use"):
        parts.append(str(figures["use"]))
    if figures.get("floors") not in (None, ""):
        parts.append(f"{figures['floors']} niveau(x)")
    area = figures.get("built_area_m2") or figures.get("works_area_m2") or figures.get("area_m2")
    if area not in (None, ""):
        parts.append(f"{area} m²")
    if figures.get("dwellings"):
        parts.append(f"{figures['dwellings']} logement(s)")
    return " — ".join(parts)


def _number(value, kind):
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def blds_records(*, base_url: str) -> Iterator[BldsRecord]:
    """Every filed dossier as a BLDS record, oldest filing first."""
    from django.urls import reverse

    codes = dict(
        IssuedDocument.objects.filter(
            kind=IssuedDocument.Kind.DECISION, replaced_by__isnull=True, dossier__isnull=False
        ).values_list("dossier_id", "verification_code")
    )
    qs = (
        Dossier.objects.exclude(status=Status.DRAFT)
        .filter(submitted_at__isnull=False)
        .select_related("procedure", "commune")
        .annotate(point=Transform(PointOnSurface("site"), 4326))
        .order_by("submitted_at", "pk")
    )
    portal = base_url + reverse("etl:open_data")
    for dossier in qs.iterator(chunk_size=2000):
        figures = dossier.figures or {}
        use = str(figures.get("use") or "")
        work_class, work_class_mapped = WORK_CLASS.get(dossier.procedure.code, ("other", "Existing"))
        area = _number(figures.get("built_area_m2"), float)
        granted = dossier.status in GRANTED
        point = dossier.point if granted else None
        if granted and point is None:
            point = _parcels_point(dossier)
        code = codes.get(dossier.pk)
        yield BldsRecord(
            {
                "PermitNum": dossier.reference,
                "Description": _description(dossier),
                "AppliedDate": timezone.localdate(dossier.submitted_at).isoformat(),
                "IssuedDate": timezone.localdate(dossier.decided_at).isoformat()
                if granted and dossier.decided_at
                else None,
                "CompletedDate": None,
                "StatusCurrent": dossier.status,
                "StatusCurrentMapped": STATUS_MAPPED.get(dossier.status, "In Review"),
                "StatusDate": timezone.localdate(dossier.status_changed_at).isoformat(),
                "PermitClass": use or None,
                "PermitClassMapped": ("Residential" if use in RESIDENTIAL_USES else "Non-Residential") if use else None,
                "PermitType": dossier.procedure.code,
                "PermitTypeMapped": PERMIT_TYPE_MAPPED.get(dossier.procedure.code, "Other"),
                "PermitTypeDesc": dossier.procedure.name_fr,
                "WorkClass": work_class,
                "WorkClassMapped": work_class_mapped,
                "ProposedUse": use or None,
                "HousingUnits": _number(figures.get("dwellings"), int),
                "TotalSqFt": round(area * SQFT_PER_M2) if area is not None else None,
                "TotalAreaM2": area,
                "Classification": dossier.classification or None,
                "Jurisdiction": dossier.commune.code,
                "OriginalCity": dossier.commune.name_fr,
                "Latitude": round(point.y, 5) if point else None,
                "Longitude": round(point.x, 5) if point else None,
                "Link": base_url + reverse("verify", args=[code]) if code and granted else portal,
            }
        )


def _parcels_point(dossier: Dossier):
    """A point on the union of the dossier's parcels (when the site was not drawn), in EPSG:4326."""
    from django.contrib.gis.db.models import Union

    union = dossier.parcels.aggregate(u=Union("geom"))["u"]
    if union is None:
        return None
    point = union.point_on_surface
    point.srid = union.srid
    point.transform(4326)
    return point
