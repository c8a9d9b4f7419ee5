"""Routes of the permits API: public procedures, dossiers and their documents, workflow, the desk."""

from django.urls import path

from permits.api import views

app_name = "permits-api"
urlpatterns = [
    path("procedures/", views.ProcedureListApi.as_view(), name="procedure-list"),
    path("procedures/<slug:code>/", views.ProcedureDetailApi.as_view(), name="procedure-detail"),
    path("dossiers/", views.DossierListCreateApi.as_view(), name="dossier-list"),
    path("dossiers/<int:dossier_id>/", views.DossierDetailUpdateApi.as_view(), name="dossier-detail"),
    path("dossiers/<int:dossier_id>/documents/", views.DocumentUploadApi.as_view(), name="document-upload"),
    path(
        "dossiers/<int:dossier_id>/documents/<int:document_id>/file",
        views.DocumentFileApi.as_view(),
        name="document-file",
    ),
    path("dossiers/<int:dossier_id>/receipt.pdf", views.DossierReceiptApi.as_view(), name="dossier-receipt"),
    path("dossiers/<int:dossier_id>/transitions/", views.DossierTransitionApi.as_view(), name="dossier-transition"),
    path("dossiers/<int:dossier_id>/timeline/", views.DossierTimelineApi.as_view(), name="dossier-timeline"),
    path(
        "dossiers/<int:dossier_id>/notifications/",
        views.DossierNotificationListApi.as_view(),
        name="dossier-notifications",
    ),
    path(
        "dossiers/<int:dossier_id>/completeness/", views.DossierCompletenessApi.as_view(), name="dossier-completeness"
    ),
    path(
        "dossiers/<int:dossier_id>/classification/",
        views.DossierClassificationApi.as_view(),
        name="dossier-classification",
    ),
    path("desk/overdue/", views.DeskOverdueListApi.as_view(), name="desk-overdue"),
    path("desk/incoming/", views.DeskIncomingListApi.as_view(), name="desk-incoming"),
]
