"""Routes of the plans API."""

from django.urls import path

from plans.api import annotation_views, views

app_name = "plans-api"
urlpatterns: list = [
    # Plan sets and versions: upload, extraction, georeferencing (plans/api/views.py).
    path("dossiers/<int:dossier_id>/plan-sets/", views.PlanSetListApi.as_view(), name="plan-set-list"),
    path("plans/versions/<int:version_id>/", views.VersionDetailApi.as_view(), name="version-detail"),
    path("plans/versions/<int:version_id>/control-points/", views.ControlPointsApi.as_view(), name="control-points"),
    path("plans/versions/<int:version_id>/calibration/", views.CalibrationApi.as_view(), name="calibration"),
    path("plans/versions/<int:version_id>/units/", views.UnitsApi.as_view(), name="units"),
    # Review: annotations, pre-checks, comparison of versions (plans/api/annotation_views.py).
    path(
        "plans/versions/<int:version_id>/annotations/",
        annotation_views.AnnotationListCreateApi.as_view(),
        name="annotation-list",
    ),
    path(
        "plans/annotations/<int:annotation_id>/replies/",
        annotation_views.AnnotationReplyApi.as_view(),
        name="annotation-reply",
    ),
    path(
        "plans/annotations/<int:annotation_id>/resolve/",
        annotation_views.AnnotationResolveApi.as_view(),
        name="annotation-resolve",
    ),
    path(
        "plans/annotations/<int:annotation_id>/reopen/",
        annotation_views.AnnotationReopenApi.as_view(),
        name="annotation-reopen",
    ),
    path("plans/versions/<int:version_id>/prechecks/", annotation_views.PreCheckListApi.as_view(), name="prechecks"),
    path("plans/versions/<int:a>/compare/<int:b>/", annotation_views.VersionCompareApi.as_view(), name="compare"),
]
