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
