"""Routes of the permits API: public procedures, dossiers and their documents, workflow, the desk."""

from django.urls import path

from permits.api import committee_views, opinion_views, signing_views, views

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
    # Committees: sessions, booking, members, agendas.
    path("committees/", committee_views.CommitteeListApi.as_view(), name="committee-list"),
    path(
        "committees/<slug:code>/sessions/",
        committee_views.CommitteeSessionListApi.as_view(),
        name="committee-sessions",
    ),
    path("dossiers/<int:dossier_id>/booking/", committee_views.DossierBookingApi.as_view(), name="dossier-booking"),
    path("dossiers/<int:dossier_id>/members/", committee_views.DossierMembersApi.as_view(), name="dossier-members"),
    path("sessions/<int:session_id>/agenda/", committee_views.SessionAgendaApi.as_view(), name="session-agenda"),
    path(
        "sessions/<int:session_id>/agenda.pdf", committee_views.SessionAgendaPdfApi.as_view(), name="session-agenda-pdf"
    ),
    path(
        "sessions/<int:session_id>/agenda/send/",
        committee_views.SessionAgendaSendApi.as_view(),
        name="session-agenda-send",
    ),
    # Committee opinions, outcomes, sessions, minutes, decisions, remarks and verification.
    path("dossiers/<int:dossier_id>/opinions/", opinion_views.DossierOpinionsApi.as_view(), name="dossier-opinions"),
    path("dossiers/<int:dossier_id>/outcome/", opinion_views.DossierOutcomeApi.as_view(), name="dossier-outcome"),
    path("dossiers/<int:dossier_id>/decision/", opinion_views.DossierDecisionApi.as_view(), name="dossier-decision"),
    path(
        "dossiers/<int:dossier_id>/decision.pdf",
        opinion_views.DossierDecisionPdfApi.as_view(),
        name="dossier-decision-pdf",
    ),
    path("sessions/<int:session_id>/close/", opinion_views.SessionCloseApi.as_view(), name="session-close"),
    path("sessions/<int:session_id>/minutes/", opinion_views.SessionMinutesApi.as_view(), name="session-minutes"),
    path(
        "sessions/<int:session_id>/minutes.pdf",
        opinion_views.SessionMinutesPdfApi.as_view(),
        name="session-minutes-pdf",
    ),
    path("remarks/<int:remark_id>/answer/", opinion_views.RemarkAnswerApi.as_view(), name="remark-answer"),
    path("verify/<str:code>/", opinion_views.VerifyApi.as_view(), name="verify"),
    # Electronic signatures and their validation.
    path("documents/<str:code>/signatures/", signing_views.DocumentSignaturesApi.as_view(), name="document-signatures"),
    path("documents/<str:code>/validation/", signing_views.DocumentValidationApi.as_view(), name="document-validation"),
]
