"""Annotations: services, API, permissions and carrying open ones to the next version."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, Point
from django.urls import reverse
from rest_framework.test import APIClient

from config.api_errors import NotFound
from permits.models import AuditRecord
from permits.roles import Role
from plans import annotations as services
from plans.annotations import AnnotationForbidden, AnnotationRefused
from plans.models import Annotation, AnnotationReply, AnnotationStatus, CrsSource
from plans.review_selectors import annotation_threads
from tests.plans.conftest import add_version, merchich_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(plan_dossier, filer):
    return add_version(plan_dossier, footprints=[(3, 3, 17, 27)], by=filer)


def corner_point() -> Point:
    return Point(*merchich_point(3, 3), srid=4326)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- services ---------------------------------------------------------------------------------------------


def test_a_reviewer_annotates_and_the_filer_replies_then_the_reviewer_resolves(version, reviewer, filer):
    annotation = services.add_annotation(
        version=version, kind="point", geom=corner_point(), text="  Recul insuffisant ici  ", by=reviewer
    )
    assert annotation.status == AnnotationStatus.OPEN
    assert annotation.text == "Recul insuffisant ici"
    answer = services.reply(annotation=annotation, text="Corrigé dans la version 2.", by=filer)
    assert answer.author == filer
    resolved = services.resolve(annotation=annotation, by=reviewer)
    assert resolved.status == AnnotationStatus.RESOLVED and resolved.resolved_by == reviewer
    assert resolved.resolved_at is not None
    with pytest.raises(AnnotationRefused):
        services.reply(annotation=resolved, text="Encore ?", by=filer)
    with pytest.raises(AnnotationRefused):
        services.resolve(annotation=resolved, by=reviewer)
    reopened = services.reopen(annotation=resolved, by=reviewer)
    assert reopened.status == AnnotationStatus.OPEN and reopened.resolved_by is None
    actions = list(AuditRecord.objects.filter(action__startswith="plan.annotation.").values_list("action", flat=True))
    assert actions == [
        "plan.annotation.added", "plan.annotation.replied", "plan.annotation.resolved", "plan.annotation.reopened",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "geom"),
    [
        ("line", Point(-7.5, 33.5, srid=4326)),
        ("point", LineString((-7.5, 33.5), (-7.5, 33.6), srid=4326)),
        ("circle", Point(-7.5, 33.5, srid=4326)),
        ("polygon", {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
        ("point", {"type": "Point", "coordinates": [296600, 332700]}),
        ("point", "not a geometry"),
        ("line", LineString((-7.5, 33.5), (-7.5, 33.5), srid=4326)),
    ],
)
def test_bad_geometries_and_kinds_are_refused(version, reviewer, kind, geom):
    with pytest.raises(AnnotationRefused):
        services.add_annotation(version=version, kind=kind, geom=geom, text="Remarque", by=reviewer)
    assert not Annotation.objects.exists()


def test_an_empty_text_is_refused(version, reviewer):
    with pytest.raises(AnnotationRefused) as refused:
        services.add_annotation(version=version, kind="text", geom=corner_point(), text="   ", by=reviewer)
    assert refused.value.code == "empty-text"


def test_a_geometry_in_merchich_is_stored_in_wgs84(version, reviewer):
    point = Point(296600 + 5000 + 3, 332700 + 3, srid=26191)
    annotation = services.add_annotation(version=version, kind="point", geom=point, text="Ici", by=reviewer)
    assert annotation.geom.srid == 4326
    assert annotation.geom.distance(corner_point()) < 1e-7


def test_filers_do_not_draw_nor_resolve_and_strangers_do_not_see(version, reviewer, filer, users):
    with pytest.raises(AnnotationForbidden):
        services.add_annotation(version=version, kind="point", geom=corner_point(), text="Moi", by=filer)
    annotation = services.add_annotation(version=version, kind="point", geom=corner_point(), text="R", by=reviewer)
    with pytest.raises(AnnotationForbidden):
        services.resolve(annotation=annotation, by=filer)
    for stranger in (users["other_architect"], users["other_applicant"]):
        with pytest.raises(NotFound):
            services.reply(annotation=annotation, text="Bonjour", by=stranger)
    # Another reviewer may answer as well.
    services.reply(annotation=annotation, text="Vu aussi.", by=users[Role.PLANNER])


def test_a_version_not_georeferenced_is_not_annotated(version, reviewer):
    version.crs_source, version.crs_srid = CrsSource.NONE, None
    version.save(update_fields=["crs_source", "crs_srid"])
    with pytest.raises(AnnotationRefused) as refused:
        services.add_annotation(version=version, kind="point", geom=corner_point(), text="R", by=reviewer)
    assert refused.value.code == "not-georeferenced"


def test_open_annotations_are_carried_to_the_next_version(plan_dossier, version, reviewer, filer):
    kept = services.add_annotation(version=version, kind="point", geom=corner_point(), text="Ouvert", by=reviewer)
    done = services.add_annotation(version=version, kind="text", geom=corner_point(), text="Résolu", by=reviewer)
    services.reply(annotation=kept, text="Nous corrigeons.", by=filer)
    services.resolve(annotation=done, by=reviewer)
    second = add_version(plan_dossier, footprints=[(3, 3, 17, 26)], by=filer)

    assert services.carry_open_annotations(from_version=version, to_version=second) == 1
    assert services.carry_open_annotations(from_version=version, to_version=second) == 0  # idempotent
    carried = Annotation.objects.get(version=second)
    assert carried.carried_from == kept and carried.status == AnnotationStatus.OPEN
    assert carried.text == "Ouvert" and carried.author == reviewer and carried.geom.equals(kept.geom)
    # The old version keeps its annotations as they were.
    assert set(Annotation.objects.filter(version=version).values_list("status", flat=True)) == {"open", "resolved"}
    # The thread on v2 shows the answer given on v1.
    services.reply(annotation=carried, text="Fait en v2.", by=filer)
    [thread] = annotation_threads(version=second)
    assert [r.text for r in thread.replies] == ["Nous corrigeons.", "Fait en v2."]
    assert thread.carried_from_version == 1
    # Carried again to v3 after resolving nothing: still one, pointing at the v2 copy.
    third = add_version(plan_dossier, footprints=[(3, 3, 17, 26)], by=filer)
    assert services.carry_open_annotations(from_version=second, to_version=third) == 1
    [thread] = annotation_threads(version=third)
    assert thread.carried_from_version == 1 and len(thread.replies) == 2
    with pytest.raises(AnnotationRefused):
        services.carry_open_annotations(from_version=third, to_version=second)


# --- API --------------------------------------------------------------------------------------------------


def test_api_create_list_reply_resolve(version, reviewer, filer):
    url = reverse("plans-api:annotation-list", args=[version.pk])
    feature = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(merchich_point(0, 3)), list(merchich_point(3, 3))]},
        "properties": {"kind": "line", "text": "Le recul doit être de 3 m"},
    }
    response = api(reviewer).post(url, feature, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["properties"]["status"] == "open"
    assert created["properties"]["kind"] == "line"
    annotation_id = created["id"]

    response = api(filer).post(
        reverse("plans-api:annotation-reply", args=[annotation_id]), {"text": "D’accord"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["text"] == "D’accord"

    listing = api(filer).get(url).json()
    assert listing["type"] == "FeatureCollection"
    [item] = listing["features"]
    assert item["geometry"]["type"] == "LineString"
    assert [r["text"] for r in item["properties"]["replies"]] == ["D’accord"]
    # The filer sees "Reviewer", not the reviewer's name.
    assert item["properties"]["author"] != reviewer.username

    assert api(filer).post(reverse("plans-api:annotation-resolve", args=[annotation_id])).status_code == 403
    response = api(reviewer).post(reverse("plans-api:annotation-resolve", args=[annotation_id]))
    assert response.status_code == 200 and response.json()["properties"]["status"] == "resolved"
    response = api(reviewer).post(reverse("plans-api:annotation-reopen", args=[annotation_id]))
    assert response.status_code == 200 and response.json()["properties"]["status"] == "open"
    assert AnnotationReply.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "point", "text": "", "geometry": {"type": "Point", "coordinates": [-7.54, 33.57]}}, "empty-text"),
        ({"kind": "square", "text": "x", "geometry": {"type": "Point", "coordinates": [-7.54, 33.57]}}, "invalid-kind"),
        ({"kind": "point", "text": "x"}, "invalid-geometry"),
        ({"kind": "point", "text": "x", "geometry": {"type": "Point", "coordinates": [1]}}, "invalid-geometry"),
        ({"kind": "polygon", "text": "x", "geometry": {"type": "Point", "coordinates": [-7.5, 33.5]}},
         "invalid-geometry"),
    ],
)  # fmt: skip
def test_api_bad_input_is_a_problem_document(version, reviewer, body, code):
    response = api(reviewer).post(reverse("plans-api:annotation-list", args=[version.pk]), body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:taamir:problem:{code}"


def test_api_permissions(version, reviewer, filer, users):
    url = reverse("plans-api:annotation-list", args=[version.pk])
    body = {"kind": "point", "text": "x", "geometry": {"type": "Point", "coordinates": list(merchich_point(3, 3))}}
    assert APIClient().get(url).status_code in (401, 403)
    response = api(filer).post(url, body, format="json")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:taamir:problem:annotation-forbidden"
    for stranger in (users["other_architect"], users["other_applicant"]):
        assert api(stranger).get(url).status_code == 404
        assert api(stranger).post(url, body, format="json").status_code == 404
        assert api(stranger).get(reverse("plans-api:prechecks", args=[version.pk])).status_code == 404
    annotation = services.add_annotation(version=version, kind="point", geom=corner_point(), text="R", by=reviewer)
    reply_url = reverse("plans-api:annotation-reply", args=[annotation.pk])
    assert api(users["other_architect"]).post(reply_url, {"text": "x"}, format="json").status_code == 404
    assert api(filer).post(reply_url, {"text": "  "}, format="json").status_code == 400
    assert api(reviewer).get(reverse("plans-api:annotation-list", args=[999999])).status_code == 404


def test_api_prechecks(version, filer):
    response = api(filer).get(reverse("plans-api:prechecks", args=[version.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    checks = {check["code"]: check for check in response.json()["checks"]}
    assert checks["setback"]["passed"] is True
    assert checks["setback"]["limit"] == 3
    assert checks["coverage_ratio"]["value"] == pytest.approx(0.56, abs=1e-3)
    assert set(checks["setback"]) == {"code", "label", "value", "limit", "unit", "passed", "rule", "explanation"}
