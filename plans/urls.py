"""Pages of the plans app: a dossier's plan sets, the plan viewer, annotations and pre-checks."""

from django.urls import path

from plans.views import plan_sets, viewer

app_name = "plans"
urlpatterns: list = [
    # A dossier's plan sets, upload, a version's page (plans/views/plan_sets.py).
    path("dossiers/<int:dossier_id>/plans/", plan_sets.plan_sets, name="plan_sets"),
    path("plans/versions/<int:version_id>/", plan_sets.version_detail, name="version"),
    path("plans/versions/<int:version_id>/units/", plan_sets.version_units, name="version_units"),
    path(
        "plans/versions/<int:version_id>/control-points/",
        plan_sets.version_control_points,
        name="version_control_points",
    ),
    path("plans/versions/<int:version_id>/calibration/", plan_sets.version_calibration, name="version_calibration"),
    path("plans/versions/<int:version_id>/preview/", plan_sets.version_preview, name="version_preview"),
    path("plans/versions/<int:version_id>/raster.tif", plan_sets.version_raster, name="version_raster"),
    path("plans/versions/<int:version_id>/file/", plan_sets.version_file, name="version_file"),
    # Review: the viewer (measure, annotate), its plan image, the comparison of two versions.
    path("plans/versions/<int:version_id>/viewer/", viewer.plan_viewer, name="viewer"),
    path("plans/versions/<int:version_id>/viewer/image", viewer.viewer_image, name="viewer_image"),
    path("plans/versions/<int:a>/compare/<int:b>/", viewer.plan_compare, name="compare"),
]
