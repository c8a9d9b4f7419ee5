"""Uploading plan versions through the API and the pages: versions, refusals, georeferencing, the job."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from permits.models import Dossier, Status
from permits.roles import Role
from plans.models import ControlPoint, PlanFeature, PlanVersion
from plans.services import PlanUploadRefused, upload_plan_version
from tests.plans.conftest import PLAN_ORIGIN
from tests.plans.dxf_fixtures import CASABLANCA, building_dxf, lines_only_dxf
from tests.plans.pdf_fixtures import encrypted_pdf, javascript_open_action_pdf, plan_pdf

PROBLEM = "application/problem+json"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def upload(client, dossier_id: int, path: Path, *, sheet: str = "Plan de masse", name: str | None = None):
    with path.open("rb") as handle:
        return client.post(
            f"/api/dossiers/{dossier_id}/plan-sets/",
            {"sheet": sheet, "file": SimpleUploadedFile(name or path.name, handle.read())},
            format="multipart",
        )


def on_parcel_dxf(tmp_path: Path, name: str = "plan.dxf", **options) -> Path:
    """The generated building placed on the plans world's parcel (EPSG:26191 coordinates)."""
    return building_dxf(tmp_path / name, origin=PLAN_ORIGIN, **options)


def test_architect_uploads_a_dxf_placed_on_the_parcel_then_a_second_version(
    plan_dossier, plan_world, filer, media, tmp_path
):
    client = api(filer)
    response = upload(client, plan_dossier.pk, on_parcel_dxf(tmp_path))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["status"], body["crs"], body["crs_source"]) == (1, "ready", "EPSG:26191", "detected")
    assert body["footprint_area_m2"] == pytest.approx(240.0, abs=0.01)
    assert body["floors"] == 4 and body["units"] == "m" and len(body["sha256"]) == 64
    kinds = sorted(f["properties"]["kind"] for f in body["features"]["features"])
    assert kinds == ["footprint", "site_boundary"]
    footprint = PlanFeature.objects.get(version_id=body["id"], kind="footprint")
    assert plan_world["parcel"].geom.contains(footprint.geom.centroid)
    assert body["preview_url"]

    second = upload(client, plan_dossier.pk, on_parcel_dxf(tmp_path, "plan-v2.dxf", floors_text="R+1"))
    assert second.status_code == 201 and second.json()["number"] == 2
    listing = client.get(f"/api/dossiers/{plan_dossier.pk}/plan-sets/").json()
    assert [v["number"] for v in listing[0]["versions"]] == [1, 2]
    assert PlanVersion.objects.filter(plan_set__dossier=plan_dossier).count() == 2
    assert len(stored_files(media)) == 4  # two files, two previews


def test_refused_files_leave_no_version_and_no_file(plan_dossier, filer, media, tmp_path, settings):
    client = api(filer)
    refused = upload(client, plan_dossier.pk, lines_only_dxf(tmp_path / "lines.dxf"))
    assert refused.status_code == 400 and refused["Content-Type"] == PROBLEM
    assert "No closed footprint" in refused.json()["detail"]
    png = tmp_path / "image.dxf"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    assert "PNG" in upload(client, plan_dossier.pk, png).json()["detail"]
    empty = tmp_path / "empty.dxf"
    empty.write_bytes(b"")
    assert "empty" in upload(client, plan_dossier.pk, empty).json()["detail"]
    assert "encrypted" in upload(client, plan_dossier.pk, encrypted_pdf(tmp_path / "secret.pdf")).json()["detail"]
    scripted = upload(client, plan_dossier.pk, javascript_open_action_pdf(tmp_path / "js.pdf"))
    assert scripted.status_code == 400 and "JavaScript" in scripted.json()["detail"]
    tiff = tmp_path / "plan.tif"
    tiff.write_bytes(b"II*\x00" + b"\x00" * 100)
    assert "TIFF" in upload(client, plan_dossier.pk, tiff).json()["detail"]
    settings.TAAMIR_PLAN_MAX_MB = 0
    too_big = upload(client, plan_dossier.pk, on_parcel_dxf(tmp_path))
    assert too_big.status_code == 400 and "larger than 0 MB" in too_big.json()["detail"]
    assert PlanVersion.objects.count() == 0
    assert stored_files(media) == []


def test_pdf_plan_upload_reads_the_page_and_calibrates(plan_dossier, filer, media, tmp_path):
    client = api(filer)
    response = upload(client, plan_dossier.pk, plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/100"), sheet="Facade")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == "pdf" and body["declared_scale"] == 100 and body["page"] == 1
    assert body["crs_source"] == "none" and body["features"]["features"] == []
    calibrated = client.post(
        f"/api/plans/versions/{body['id']}/calibration/",
        {"x1": 0, "y1": 0, "x2": 100, "y2": 0, "distance_m": 5},
        format="json",
    )
    assert calibrated.status_code == 200, calibrated.content
    assert calibrated.json()["metres_per_unit"] == pytest.approx(0.05)
    same_points = client.post(
        f"/api/plans/versions/{body['id']}/calibration/",
        {"x1": 1, "y1": 1, "x2": 1, "y2": 1, "distance_m": 5},
        format="json",
    )
    assert same_points.status_code == 400 and same_points["Content-Type"] == PROBLEM


def test_pdf_page_georeferenced_by_control_points_gets_a_cog(plan_dossier, filer, media, tmp_path):
    client = api(filer)
    body = upload(client, plan_dossier.pk, plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/100")).json()
    ox, oy = PLAN_ORIGIN
    points = [{"x": 0, "y": 0, "X": ox, "Y": oy}, {"x": 100, "y": 0, "X": ox + 3.5278, "Y": oy}]
    response = client.post(
        f"/api/plans/versions/{body['id']}/control-points/", {"srid": 26191, "points": points}, format="json"
    )
    assert response.status_code == 200, response.content
    detail = response.json()
    assert detail["crs_source"] == "control_points" and detail["transform_kind"] == "similarity"
    assert detail["raster_url"]
    version = PlanVersion.objects.get(pk=body["id"])
    assert version.raster.name.endswith(".tif") and Path(version.raster.path).stat().st_size > 0


def test_dxf_in_local_coordinates_is_georeferenced_by_control_points(plan_dossier, plan_world, filer, media, tmp_path):
    client = api(filer)
    body = upload(client, plan_dossier.pk, building_dxf(tmp_path / "local.dxf")).json()
    assert body["crs"] is None and body["features"]["features"] == []
    ox, oy = PLAN_ORIGIN
    points = [
        {"x": 0, "y": 0, "X": ox, "Y": oy},
        {"x": 30, "y": 0, "X": ox + 30, "Y": oy},
        {"x": 0, "y": 25, "X": ox, "Y": oy + 25},
        {"x": 30, "y": 25, "X": ox + 30.2, "Y": oy + 25.1},
    ]
    response = client.post(
        f"/api/plans/versions/{body['id']}/control-points/", {"srid": 26191, "points": points}, format="json"
    )
    assert response.status_code == 200, response.content
    detail = response.json()
    assert detail["crs"] == "EPSG:26191" and detail["transform_kind"] == "affine"
    assert 0 < detail["rmse_m"] < 0.2
    assert len(detail["control_points"]) == 4 and all(p["residual_m"] is not None for p in detail["control_points"])
    footprint = PlanFeature.objects.get(version_id=body["id"], kind="footprint")
    assert plan_world["parcel"].geom.contains(footprint.geom.centroid)

    bad = [dict(p) for p in points]
    bad[3]["X"] += 25
    refused = client.post(
        f"/api/plans/versions/{body['id']}/control-points/", {"srid": 26191, "points": bad}, format="json"
    )
    assert refused.status_code == 400 and "RMSE" in refused.json()["detail"]
    assert ControlPoint.objects.filter(version_id=body["id"]).count() == 4  # the good fit is kept


def test_units_confirmation_recomputes_areas(plan_dossier, filer, media, tmp_path):
    client = api(filer)
    path = building_dxf(tmp_path / "unitless.dxf", units="none", factor=100.0)
    body = upload(client, plan_dossier.pk, path).json()
    assert body["units"] == "cm" and body["units_inferred"] and not body["units_confirmed"]
    confirmed = client.post(f"/api/plans/versions/{body['id']}/units/", {"units": "mm"}, format="json").json()
    assert confirmed["units"] == "mm" and confirmed["units_confirmed"]
    assert confirmed["footprint_area_m2"] == pytest.approx(240.0 / 100)  # 2,000 mm x 1,200 mm


def test_permissions(plan_dossier, users, filer, media, tmp_path):
    staff = api(users[Role.COMMITTEE_MEMBER])
    assert staff.get(f"/api/dossiers/{plan_dossier.pk}/plan-sets/").status_code == 200
    assert upload(staff, plan_dossier.pk, on_parcel_dxf(tmp_path)).status_code == 403
    stranger = api(users["other_architect"])
    assert stranger.get(f"/api/dossiers/{plan_dossier.pk}/plan-sets/").status_code == 404
    assert upload(stranger, plan_dossier.pk, on_parcel_dxf(tmp_path)).status_code == 404
    version = upload(api(filer), plan_dossier.pk, on_parcel_dxf(tmp_path)).json()
    assert stranger.get(f"/api/plans/versions/{version['id']}/").status_code == 404
    assert staff.get(f"/api/plans/versions/{version['id']}/").status_code == 200
    assert staff.post(f"/api/plans/versions/{version['id']}/units/", {"units": "m"}, format="json").status_code == 403
    Dossier.objects.filter(pk=plan_dossier.pk).update(status=Status.UNDER_REVIEW)
    closed = upload(api(filer), plan_dossier.pk, on_parcel_dxf(tmp_path))
    assert closed.status_code == 400 and "cannot be added" in closed.json()["detail"]


@pytest.fixture
def worker_connections_closed(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


def run_plan_jobs() -> None:
    call_command("procrastinate", "worker", "--one-shot", "--queues", "plans")


# The worker runs the job on its own connection: the upload must really be committed.
@pytest.mark.django_db(transaction=True)
def test_large_drawing_is_read_by_the_job(
    plan_dossier, plan_world, filer, media, tmp_path, settings, worker_connections_closed
):
    settings.TAAMIR_PLAN_ASYNC_ENTITIES = 50
    path = on_parcel_dxf(tmp_path, extra_lines=200)
    response = upload(api(filer), plan_dossier.pk, path)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "processing" and response.json()["number"] is None
    run_plan_jobs()
    version = PlanVersion.objects.get(pk=response.json()["id"])
    assert (version.status, version.number, version.crs_srid) == ("ready", 1, 26191)
    assert version.entity_count > 200 and version.preview
    assert PlanFeature.objects.filter(version=version, kind="footprint").count() == 1


@pytest.mark.django_db(transaction=True)
def test_job_over_its_limits_refuses_the_version_and_removes_the_file(
    plan_dossier, filer, media, tmp_path, settings, worker_connections_closed
):
    settings.TAAMIR_PLAN_ASYNC_ENTITIES = 50
    settings.TAAMIR_PLAN_JOB_MEMORY_MB = 64  # less than the child already maps: reading fails at once
    response = upload(api(filer), plan_dossier.pk, on_parcel_dxf(tmp_path, extra_lines=200))
    assert response.status_code == 202
    run_plan_jobs()
    version = PlanVersion.objects.get(pk=response.json()["id"])
    assert version.status == "refused" and version.number is None
    assert "memory" in version.refusal_reason
    assert not version.file and not any(p.suffix == ".dxf" for p in stored_files(media))


def test_sheet_name_is_required(plan_dossier, users, tmp_path):
    path = on_parcel_dxf(tmp_path)
    with pytest.raises(PlanUploadRefused, match="sheet"):
        upload_plan_version(
            dossier=plan_dossier,
            sheet=" ",
            uploaded_file=SimpleUploadedFile("p.dxf", path.read_bytes()),
            by=users[Role.ARCHITECT],
        )


def test_pages_list_upload_and_show_a_version(plan_dossier, plan_world, filer, users, media, tmp_path):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(filer)
    dossier_page = client.get(f"/dossiers/{plan_dossier.pk}/")
    assert f"/dossiers/{plan_dossier.pk}/plans/".encode() in dossier_page.content
    page = client.get(f"/dossiers/{plan_dossier.pk}/plans/")
    assert page.status_code == 200 and b"plan-upload-form" in page.content
    refused = client.post(
        f"/dossiers/{plan_dossier.pk}/plans/",
        {"sheet": "Plan", "file": SimpleUploadedFile("lines.dxf", lines_only_dxf(tmp_path / "l.dxf").read_bytes())},
    )
    assert refused.status_code == 400 and b"No closed footprint" in refused.content
    response = client.post(
        f"/dossiers/{plan_dossier.pk}/plans/",
        {"sheet": "Plan", "file": SimpleUploadedFile("plan.dxf", on_parcel_dxf(tmp_path).read_bytes())},
    )
    assert response.status_code == 302
    version_page = client.get(response["Location"])
    assert version_page.status_code == 200
    content = version_page.content.decode()
    assert "EPSG:26191" in content and "240.00" in content and 'id="control-points-form"' in content
    version = PlanVersion.objects.get()
    preview = client.get(f"/plans/versions/{version.pk}/preview/")
    assert preview.status_code == 200 and preview["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(preview.streaming_content)
    calibrated = client.post(
        f"/plans/versions/{version.pk}/calibration/", {"x1": 0, "y1": 0, "x2": 10, "y2": 0, "distance_m": 10}
    )
    assert calibrated.status_code == 302
    stranger = Client()
    stranger.force_login(users["other_architect"])
    assert stranger.get(f"/plans/versions/{version.pk}/").status_code == 404
    assert stranger.get(f"/plans/versions/{version.pk}/preview/").status_code == 404


def test_feature_point_of_the_fixture_is_on_the_parcel(plan_world):
    # Guard for the tests above: the generated footprint's centre (15, 11) lies inside the 20 x 30 m parcel.
    from geo.crs import transform_point

    lon, lat = transform_point(PLAN_ORIGIN[0] + 15, PLAN_ORIGIN[1] + 11, source_srid=26191, target_srid=4326)
    assert plan_world["parcel"].geom.contains(Point(lon, lat, srid=4326))
    assert CASABLANCA[0] < PLAN_ORIGIN[0]


@pytest.mark.django_db(transaction=True)
def test_job_over_its_cpu_time_is_refused(plan_dossier, filer, media, tmp_path, settings, worker_connections_closed):
    settings.TAAMIR_PLAN_ASYNC_ENTITIES = 50
    settings.TAAMIR_PLAN_JOB_CPU_SECONDS = 1  # starting the child already costs more than 1 s of CPU
    response = upload(api(filer), plan_dossier.pk, on_parcel_dxf(tmp_path, extra_lines=200))
    run_plan_jobs()
    version = PlanVersion.objects.get(pk=response.json()["id"])
    assert version.status == "refused" and "longer than allowed (1 s" in version.refusal_reason


def test_new_version_carries_open_annotations_and_the_page_shows_prechecks(
    plan_dossier, plan_world, filer, reviewer, media, tmp_path
):
    from plans.annotations import add_annotation, resolve
    from plans.models import Annotation
    from tests.plans.conftest import merchich_point

    client = api(filer)
    v1 = PlanVersion.objects.get(pk=upload(client, plan_dossier.pk, on_parcel_dxf(tmp_path)).json()["id"])
    lon, lat = merchich_point(10, 10)
    kept = add_annotation(version=v1, kind="point", geom=Point(lon, lat, srid=4326), text="Recul ?", by=reviewer)
    done = add_annotation(version=v1, kind="point", geom=Point(lon, lat, srid=4326), text="OK", by=reviewer)
    resolve(annotation=done, by=reviewer)
    Dossier.objects.filter(pk=plan_dossier.pk).update(status=Status.CHANGES_REQUESTED)
    v2_id = upload(client, plan_dossier.pk, on_parcel_dxf(tmp_path, "v2.dxf", floors_text="R+1")).json()["id"]
    carried = Annotation.objects.filter(version_id=v2_id)
    assert [(a.text, a.status, a.carried_from_id) for a in carried] == [("Recul ?", "open", kept.pk)]

    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(reviewer)
    content = page.get(f"/plans/versions/{v2_id}/").content.decode()
    assert f"/plans/versions/{v2_id}/viewer/" in content
    assert 'id="control-points-form"' not in content  # staff read, the filer edits
    from plans.prechecks import prechecks_for_version

    checks = prechecks_for_version(version=PlanVersion.objects.get(pk=v2_id))
    assert checks and all(str(check.label) in content for check in checks[:1])


def test_demo_plans_are_placed_on_the_parcel_and_idempotent(plan_dossier, plan_world, media):
    from plans.demo import demo_plans_build

    Dossier.objects.filter(pk=plan_dossier.pk).update(status=Status.CHANGES_REQUESTED)
    summary = demo_plans_build(commune_code="TEST-PLANS")
    assert summary.versions_created == 2
    versions = list(PlanVersion.objects.filter(plan_set__dossier=plan_dossier).order_by("number"))
    assert [(v.number, v.crs_srid, v.crs_source, v.floors) for v in versions] == [
        (1, 26191, "detected", 3),
        (2, 26191, "detected", 2),
    ]
    footprints = [PlanFeature.objects.get(version=v, kind="footprint") for v in versions]
    assert all(plan_world["parcel"].geom.contains(f.geom) for f in footprints)
    assert footprints[1].area_m2 < footprints[0].area_m2 < 600
    assert demo_plans_build(commune_code="TEST-PLANS").versions_created == 0
