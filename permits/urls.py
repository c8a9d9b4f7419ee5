"""Pages of the permits app: the applicant's portal, the dossier wizard and the desk's workspace."""

from django.urls import path

from permits.views import desk, portal, wizard

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
]
