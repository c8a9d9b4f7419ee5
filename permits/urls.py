"""Pages of the permits app: the applicant's portal, the dossier wizard and the desk's workspace."""

from django.urls import path

from permits.views import booking, committee, desk, portal, signing, wizard

app_name = "permits"
urlpatterns = [
    path("home/", portal.home, name="home"),
    # The applicant's portal; /dossiers/<id>/ is the tracking link of notifications and receipts.
    path("dossiers/", portal.portal, name="portal"),
    path("dossiers/new/", wizard.wizard_new, name="wizard_new"),
    path("dossiers/new/<slug:step>/", wizard.wizard_new, name="wizard_new_step"),
    path("dossiers/site-preview/", wizard.site_preview, name="site_preview"),
    path("dossiers/<int:dossier_id>/", portal.dossier_detail, name="dossier"),
    path("dossiers/<int:dossier_id>/edit/<slug:step>/", wizard.wizard_edit, name="wizard"),
    path("dossiers/<int:dossier_id>/actions/<slug:action>/", portal.dossier_action, name="dossier_action"),
    path(
        "dossiers/<int:dossier_id>/documents/<slug:item_code>/upload/",
        portal.document_upload_view,
        name="document_upload",
    ),
    path(
        "dossiers/<int:dossier_id>/documents/<int:document_id>/",
        portal.document_download,
        name="document_download",
    ),
    path("dossiers/<int:dossier_id>/receipt.pdf", portal.receipt_download, name="receipt"),
    # The desk (one-stop shop).
    path("desk/", desk.desk_home, name="desk"),
    path("desk/overdue/", desk.desk_overdue, name="desk_overdue"),
    path("desk/sms-outbox/", desk.desk_sms_outbox, name="desk_sms_outbox"),
    path("desk/dossiers/<int:dossier_id>/", desk.desk_dossier, name="desk_dossier"),
    path("desk/dossiers/<int:dossier_id>/reclassify/", desk.desk_reclassify, name="desk_reclassify"),
    # Committee slots and agendas.
    path("dossiers/<int:dossier_id>/booking/", booking.booking_set, name="booking_set"),
    path("dossiers/<int:dossier_id>/booking/cancel/", booking.booking_cancel, name="booking_cancel"),
    path("desk/dossiers/<int:dossier_id>/members/", booking.member_invite, name="member_invite"),
    path("desk/sessions/", booking.session_list, name="session_list"),
    path("desk/sessions/<int:session_id>/", booking.session_agenda, name="session_agenda"),
    path("desk/sessions/<int:session_id>/agenda.pdf", booking.session_agenda_pdf, name="session_agenda_pdf"),
    path("desk/sessions/<int:session_id>/send/", booking.session_agenda_send, name="session_agenda_send"),
    # The committee workspace: sessions, review, opinions, presidency, minutes and decisions.
    path("committee/", committee.committee_home, name="committee"),
    path("committee/sessions/<int:session_id>/", committee.session_detail, name="committee_session"),
    path(
        "committee/sessions/<int:session_id>/minutes.pdf",
        committee.session_minutes_pdf,
        name="committee_session_minutes",
    ),
    path(
        "committee/sessions/<int:session_id>/<slug:action>/",
        committee.session_action,
        name="committee_session_action",
    ),
    path("committee/dossiers/<int:dossier_id>/", committee.dossier_review, name="committee_dossier"),
    path("committee/dossiers/<int:dossier_id>/opinion/", committee.opinion_give, name="committee_opinion"),
    path("committee/dossiers/<int:dossier_id>/decision/", committee.decision_generate_view, name="committee_decision"),
    path("committee/dossiers/<int:dossier_id>/decision.pdf", committee.decision_pdf, name="committee_decision_pdf"),
    path("committee/remarks/<int:remark_id>/resolve/", committee.remark_resolve_view, name="committee_remark_resolve"),
    # Electronic signatures of issued documents.
    path("signing/<str:code>/", signing.document_signing, name="document_signing"),
    path("signing/crl/<slug:ca>.crl", signing.certificate_revocation_list, name="signing_crl"),
    path(
        "dossiers/<int:dossier_id>/remarks/<int:remark_id>/answer/",
        committee.remark_answer_view,
        name="remark_answer",
    ),
]
