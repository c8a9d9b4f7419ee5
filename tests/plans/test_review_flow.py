"""The review loop end to end through the real DXF importer: pre-checks, annotation, new version, answer, diff.

An architect uploads a DXF drawn in EPSG:26191 (coordinates detected), its footprint lands on the parcel
and the pre-checks run; a reviewer annotates; the architect uploads a corrected version — the open
annotation follows it — and answers; the reviewer compares the two versions and resolves.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from geo.models import Parcel
from permits.roles import Role
from permits.services import ApplicantData, dossier_save_draft
from plans import annotations as services
from plans.compare import compare_versions
from plans.models import Annotation, AnnotationStatus, VersionStatus
from plans.prechecks import prechecks_for_dossier
from tests.plans.conftest import PLAN_ORIGIN, merchich_point, plan_box

services_module = pytest.importorskip("plans.services")
dxf_fixtures = pytest.importorskip("tests.plans.dxf_fixtures")

pytestmark = pytest.mark.django_db

# The parcel of this test: 30 × 25 m, 200 m west of the plans world's parcel, inside zone R3 (setback 3 m).
PARCEL = (-200.0, 0.0, -170.0, 25.0)


def upload(dossier, user, tmp_path, *, shift_x: float, name: str):
    """The fixtures' building (footprint 20 × 12 m at (5, 5) in a 30 × 25 m site) shifted east by ``shift_x``."""
    origin = (PLAN_ORIGIN[0] + PARCEL[0] + shift_x, PLAN_ORIGIN[1] + PARCEL[1])
    path = dxf_fixtures.building_dxf(tmp_path / name, origin=origin, site_layer=None)
    return services_module.upload_plan_version(
        dossier=dossier, sheet="Plan de masse", uploaded_file=SimpleUploadedFile(name, path.read_bytes()), by=user
    )


def test_the_review_loop(plan_world, users, building_permit, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    architect, reviewer = users[Role.ARCHITECT], users[Role.COMMITTEE_MEMBER]
    parcel = Parcel.objects.create(
        reference="TF 5100/P", commune=plan_world["commune"], area_m2=750, area_srid=26191, geom=plan_box(*PARCEL)
    )
    dossier = dossier_save_draft(
        actor=architect, procedure=building_permit,
        applicant=ApplicantData(first_name="Salma", last_name="Idrissi", national_id="BJ111222", email="s@example.org"),
        parcels=[parcel], title="Villa",
        figures={"floors": 2, "height_m": 7, "built_area_m2": 240, "use": "housing", "dwellings": 1},
    )  # fmt: skip

    # v1: the footprint 2 m from the east boundary (shifted 3 m east): the setback fails.
    first = upload(dossier, architect, tmp_path, shift_x=3, name="v1.dxf")
    assert first.status == VersionStatus.READY and first.crs_srid == 26191
    checks = {check.code: check for check in prechecks_for_dossier(dossier=dossier)}
    assert checks["inside_parcel"].passed is True
    assert checks["setback"].value == pytest.approx(2.0, abs=0.01) and checks["setback"].passed is False
    assert checks["coverage_ratio"].value == pytest.approx(240 / 750, abs=1e-3)

    remark = services.add_annotation(
        version=first, kind="point", geom={"type": "Point", "coordinates": list(merchich_point(-172, 10))},
        text="Le recul sur la limite est doit être de 3 m.", by=reviewer,
    )  # fmt: skip

    # v2: back to 5 m from every side; the open annotation follows the new version.
    second = upload(dossier, architect, tmp_path, shift_x=0, name="v2.dxf")
    assert second.number == 2
    carried = Annotation.objects.get(version=second)
    assert carried.carried_from == remark and carried.status == AnnotationStatus.OPEN
    services.reply(annotation=carried, text="Recul porté à 5 m en version 2.", by=architect)
    checks = {check.code: check for check in prechecks_for_dossier(dossier=dossier)}
    assert checks["setback"].value == pytest.approx(5.0, abs=0.01) and checks["setback"].passed is True

    comparison = compare_versions(a=first, b=second)
    assert comparison.added_area_m2 == pytest.approx(3 * 12, abs=0.05)
    assert comparison.removed_area_m2 == pytest.approx(3 * 12, abs=0.05)
    services.resolve(annotation=carried, by=reviewer)
    assert Annotation.objects.get(pk=remark.pk).status == AnnotationStatus.OPEN  # v1 keeps its history


def test_a_pdf_plan_opens_in_drawing_coordinates_with_its_scale(client, plan_dossier, tmp_path, settings, users):
    pdf_fixtures = pytest.importorskip("tests.plans.pdf_fixtures")
    settings.MEDIA_ROOT = tmp_path / "media"
    path = pdf_fixtures.weasyprint_plan(tmp_path / "plan.pdf", caption="Plan de masse — Échelle 1/100")
    version = services_module.upload_plan_version(
        dossier=plan_dossier, sheet="Façade", uploaded_file=SimpleUploadedFile("plan.pdf", path.read_bytes()),
        by=users[Role.ARCHITECT],
    )  # fmt: skip
    assert version.status == VersionStatus.READY and version.crs_source == "none"
    client.force_login(users[Role.COMMITTEE_MEMBER])
    html = client.get(f"/plans/versions/{version.pk}/viewer/").content.decode()
    start = html.index('id="viewer-config"')
    config = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert config["mode"] == "drawing"
    # 1/100 on paper: one PDF point is 0.3528 mm × 100 on the ground.
    assert config["metresPerUnit"] == pytest.approx(0.0254 / 72 * 100, rel=1e-6)
    assert version.preview, "the importer renders a preview of the page"
    assert config["image"]["extent"] == version.extent
    image = client.get(config["image"]["url"])
    assert image.status_code == 200 and image["Content-Type"].startswith("image/")
    client.force_login(users["other_architect"])
    assert client.get(f"/plans/versions/{version.pk}/viewer/image").status_code == 404
