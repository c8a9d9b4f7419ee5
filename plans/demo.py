"""Demo plans: a generated DXF site plan on two demo dossiers' parcels (v1 and v2 for the one with changes requested).

Each drawing is written with the DXF adapter in the commune's Merchich zone (EPSG:26191 for the demo
commune): the site boundary is the parcel outline on layer ``LIMITE``; the footprint is the parcel shrunk by
a setback on layer ``EMPRISE`` with an ``R+n`` text. Version 2 of the first dossier answers the reviewers
with a smaller building. Idempotent: a dossier that already has the demo sheet is left alone.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model

from permits.models import Dossier, Status
from plans.dxf import write_site_plan
from plans.models import PlanSet
from plans.services import plan_version_import

DEMO_COMMUNE_CODE = "DEMO-001"
DEMO_SHEET = "Plan de masse"
# (dossier status, [(setback in metres, floors) per version])
# v1 of the first dossier breaks its zone's setback, coverage and floors; v2 answers with a smaller building.
DEMO_PLANS = ((Status.CHANGES_REQUESTED, [(2.0, 3), (5.5, 2)]), (Status.UNDER_REVIEW, [(3.0, 5)]))
# A PDF sheet drawn at 1:200, georeferenced by the parcel's corners: on the dossier under changes (its raster is
# served by MapProxy to the dossier's readers) and on an issued one (stamped "ne varietur" and signed when the
# demo signs its decision).
DEMO_PDF_SHEET = "Plan de situation (PDF)"
DEMO_PDF_STATUSES = (Status.CHANGES_REQUESTED, Status.ISSUED)
DEMO_PDF_SCALE = 200
_PAGE_MM = (210.0, 297.0)
_ORIGIN_MM = (20.0, 40.0)  # the drawing's top-left corner on the page


@dataclass
class DemoPlansSummary:
    versions_created: int = 0
    dossiers: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        return f"Demo plans: {self.versions_created} plan versions created ({', '.join(self.dossiers) or 'none new'})."


def demo_plans_build(*, commune_code: str = DEMO_COMMUNE_CODE) -> DemoPlansSummary:
    """Attach the demo site plans; returns what was created."""
    summary = DemoPlansSummary()
    for status, versions in DEMO_PLANS:
        dossier = (
            Dossier.objects.filter(commune__code=commune_code, status=status, parcels__isnull=False)
            .select_related("commune")
            .order_by("pk")
            .first()
        )
        if dossier is None or PlanSet.objects.filter(dossier=dossier, sheet=DEMO_SHEET).exists():
            continue
        author = dossier.architect or dossier.created_by or get_user_model().objects.filter(is_superuser=True).first()
        parcel = dossier.parcels.order_by("reference").first()
        srid = dossier.commune.projected_srid or 26191
        outline = parcel.geom.transform(srid, clone=True)
        with tempfile.TemporaryDirectory(prefix="taamir-demo-plan-") as work:
            for number, (setback, floors) in enumerate(versions, start=1):
                path = Path(work) / f"plan-de-masse-v{number}.dxf"
                write_site_plan(path, site=outline.wkt, setback_m=setback, floors=floors)
                plan_version_import(dossier=dossier, sheet=DEMO_SHEET, path=path, by=author)
                summary.versions_created += 1
        summary.dossiers.append(dossier.reference or f"#{dossier.pk}")
    return summary


def demo_pdf_plans_build(*, commune_code: str = DEMO_COMMUNE_CODE) -> int:
    """Attach the demo PDF sheets and georeference them by four control points; returns the versions created."""
    from plans.services import georeference_version

    created = 0
    for status in DEMO_PDF_STATUSES:
        dossier = (
            Dossier.objects.filter(commune__code=commune_code, status=status, parcels__isnull=False)
            .select_related("commune")
            .order_by("pk")
            .first()
        )
        if dossier is None or PlanSet.objects.filter(dossier=dossier, sheet=DEMO_PDF_SHEET).exists():
            continue
        author = dossier.architect or dossier.created_by
        srid = dossier.commune.projected_srid or 26191
        parcel = dossier.parcels.order_by("reference").first().geom.transform(srid, clone=True)
        with tempfile.TemporaryDirectory(prefix="taamir-demo-pdf-") as work:
            path = Path(work) / "plan-de-situation.pdf"
            points = write_site_plan_pdf(path, site=parcel, reference=dossier.reference or "")
            version = plan_version_import(dossier=dossier, sheet=DEMO_PDF_SHEET, path=path, by=author)
        georeference_version(version=version, points=points, srid=srid, by=author)
        created += 1
    return created


def write_site_plan_pdf(path: Path, *, site, reference: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Draw ``site`` (a projected MultiPolygon) at 1:200 on an A4 page with WeasyPrint; return four control points.

    Each control point pairs a corner of the site's bounding box in PDF points (origin bottom-left, y up)
    with the same corner in the site's CRS, so the fit is exact by construction.
    """
    from weasyprint import HTML

    min_x, min_y, max_x, max_y = site.extent
    mm_per_m = 1000.0 / DEMO_PDF_SCALE
    width_mm, height_mm = (max_x - min_x) * mm_per_m, (max_y - min_y) * mm_per_m
    rings = " ".join(
        "M " + " L ".join(f"{x - min_x:.3f} {max_y - y:.3f}" for x, y in polygon[0].coords) + " Z" for polygon in site
    )
    html = f"""<html><head><style>
      @page {{ size: {_PAGE_MM[0]}mm {_PAGE_MM[1]}mm; margin: 0 }}
      body {{ margin: 0; font-family: sans-serif }}
      svg {{ position: absolute; left: {_ORIGIN_MM[0]}mm; top: {_ORIGIN_MM[1]}mm }}
      p {{ position: absolute; left: 20mm; top: 15mm; font-size: 11pt }}
    </style></head><body>
      <p>Plan de situation — {reference} — Échelle 1/{DEMO_PDF_SCALE}</p>
      <svg width="{width_mm:.3f}mm" height="{height_mm:.3f}mm" viewBox="0 0 {max_x - min_x:.3f} {max_y - min_y:.3f}">
        <path d="{rings}" fill="#f4e3c1" stroke="#8a3b12" stroke-width="0.2"/>
      </svg></body></html>"""
    HTML(string=html).write_pdf(str(path))
    pt_per_mm = 72 / 25.4

    def page_point(x: float, y: float) -> tuple[float, float]:
        left_mm = _ORIGIN_MM[0] + (x - min_x) * mm_per_m
        top_mm = _ORIGIN_MM[1] + (max_y - y) * mm_per_m
        return (left_mm * pt_per_mm, (_PAGE_MM[1] - top_mm) * pt_per_mm)

    corners = [(min_x, min_y), (max_x, min_y), (max_x, max_y), (min_x, max_y)]
    return [(page_point(x, y), (x, y)) for x, y in corners]


def demo_plans_delete(*, commune_code: str = DEMO_COMMUNE_CODE) -> int:
    """Delete the plan sets of the commune's dossiers with everything hanging from them (for ``seed_demo --reset``).

    Plan versions are otherwise never deleted; this is only for redrawing the demo. Stored files go after the
    commit. Returns the number of plan versions deleted.
    """
    from django.db import transaction
    from django.db.models import Q

    from plans.models import Annotation, AnnotationReply, ControlPoint, PlanFeature, PlanVersion

    sets = PlanSet.objects.filter(dossier__commune__code=commune_code)
    versions = PlanVersion.objects.filter(plan_set__in=sets)
    with transaction.atomic():
        names = [name for row in versions.values_list("file", "preview", "raster") for name in row if name]
        annotations = Annotation.objects.filter(version__in=versions)
        AnnotationReply.objects.filter(annotation__in=annotations).delete()
        annotations.filter(~Q(carried_from=None)).update(carried_from=None)
        annotations.delete()
        ControlPoint.objects.filter(version__in=versions).delete()
        PlanFeature.objects.filter(version__in=versions).delete()
        count = versions.delete()[0]
        sets.delete()
        storage = PlanVersion._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return count
