"""The applicant's portal in Django's test client: accounts, the wizard step by step, uploads with htmx,
submission, the receipt PDF, the dossier page (timeline, clock, remarks, resubmit, withdraw), who sees
what (a dossier that is not yours answers 404), CSRF, and the staff-MFA middleware.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from permits.deadlines import WorkingCalendar
from permits.models import CompletenessReview, Document, Dossier, DossierEvent, Status
from permits.receipts import receipt_pdf, tracking_url
from permits.roles import Role
from permits.workflow import dossier_transition
from tests.permits.conftest import PDF_BYTES, upload

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def signed_in(user: User, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def text(response) -> str:
    """A page's HTML with French typography flattened (no-break spaces, curly apostrophes)."""
    return response.content.decode().replace("\xa0", " ").replace("\u202f", " ").replace("’", "'")


def pdf_file(name: str = "plans.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def next_working_day(after_days: int = 1):
    return WorkingCalendar().add_working_days(timezone.localdate(), after_days)


def to_under_review(dossier: Dossier, users) -> Dossier:
    """Submit, check, accept, schedule and open the review of a complete draft."""
    dossier_transition(dossier=dossier, action="submit", actor=users[Role.ARCHITECT])
    for item in dossier.procedure.checklist.filter(kind="main"):
        CompletenessReview.objects.create(dossier=dossier, checklist_item=item, verdict="present",
                                          reviewed_by=users[Role.DESK_AGENT])  # fmt: skip
    dossier_transition(dossier=dossier, action="accept", actor=users[Role.DESK_AGENT])
    dossier_transition(dossier=dossier, action="schedule", actor=users[Role.DESK_AGENT],
                       data={"session_date": next_working_day(2)})  # fmt: skip
    return dossier_transition(dossier=dossier, action="start_review", actor=users[Role.COMMITTEE_PRESIDENT])


# --- accounts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "title"), [("fr", "Connexion"), ("ar", "تسجيل الدخول"), ("en", "Sign In")])
def test_the_sign_in_page_is_in_the_site_layout_in_three_languages(client, language, title):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE=language)
    html = text(response)
    assert response.status_code == 200
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    assert "/static/geo/site.css" in html and 'class="site-header"' in html
    assert title in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_signing_up_makes_an_applicant_who_lands_on_the_dossiers(client, settings):
    settings.ACCOUNT_FORMS = {"signup": "permits.forms.SignupForm"}
    html = text(client.get(reverse("account_signup")))
    assert html.index('name="first_name"') < html.index('name="email"')
    response = client.post(
        reverse("account_signup"),
        {"email": "salma@example.org", "username": "salma", "password1": "Ch4mbre-d-amis!",
         "password2": "Ch4mbre-d-amis!", "first_name": "Salma", "last_name": "Bennani"},
    )  # fmt: skip
    assert response.status_code == 302
    user = User.objects.get(username="salma")
    assert user.first_name == "Salma" and list(user.groups.values_list("name", flat=True)) == [Role.APPLICANT]
    assert client.get(reverse("permits:home")).url == reverse("permits:portal")


def test_signing_in_sends_desk_agents_to_the_desk(users):
    assert signed_in(users[Role.DESK_AGENT]).get(reverse("permits:home")).url == reverse("permits:desk")
    assert signed_in(users[Role.ARCHITECT]).get(reverse("permits:home")).url == reverse("permits:portal")


def test_the_navigation_follows_the_roles(client, users):
    html = text(client.get(reverse("geo:map")))
    assert reverse("account_login") in html and reverse("permits:portal") not in html
    html = text(signed_in(users[Role.ARCHITECT]).get(reverse("geo:map")))
    assert reverse("permits:portal") in html and reverse("permits:desk") not in html
    assert reverse("account_logout") in html
    html = text(signed_in(users[Role.DESK_AGENT]).get(reverse("geo:map")))
    assert reverse("permits:desk") in html


# --- the staff-MFA middleware -------------------------------------------------------------------------

MFA_MIDDLEWARE = "permits.middleware.StaffMfaRequiredMiddleware"


@pytest.fixture
def mfa_required(settings):
    settings.TAAMIR_REQUIRE_STAFF_MFA = True
    if MFA_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MFA_MIDDLEWARE]


def test_staff_without_mfa_are_sent_to_the_mfa_setup(mfa_required, users):
    desk = Client()
    setup = reverse("mfa_activate_totp")
    response = desk.post(reverse("account_login"), {"login": "t.desk_agent", "password": "pw-t.desk_agent"})
    assert response.status_code == 302
    assert desk.get(response.url).url == setup
    assert desk.get(reverse("permits:desk")).url == setup
    assert desk.get(reverse("permits:portal")).url == setup
    # The API answers a problem document instead of redirecting to an HTML page.
    api = desk.get("/api/dossiers/")
    assert api.status_code == 403 and api.json()["type"] == "urn:taamir:problem:mfa-required"
    # The setup page (allauth asks for the password again first), the language switch and signing out
    # stay reachable.
    response = desk.get(setup)
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert desk.get(response.url).status_code == 200
    response = desk.post(response.url, {"password": "pw-t.desk_agent"})
    assert response.url == setup
    assert desk.get(setup).status_code == 200
    assert desk.post(reverse("set_language"), {"language": "ar", "next": "/"}).status_code == 302
    assert desk.post(reverse("account_logout")).url != setup
    # Applicants and architects are not forced.
    assert signed_in(users[Role.ARCHITECT]).get(reverse("permits:portal")).status_code == 200


def test_staff_with_an_authenticator_app_go_through(mfa_required, users):
    Authenticator.objects.create(user=users[Role.DESK_AGENT], type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert signed_in(users[Role.DESK_AGENT]).get(reverse("permits:desk")).status_code == 200


def test_recovery_codes_alone_are_not_a_second_factor(mfa_required, users):
    Authenticator.objects.create(user=users["admin"], type=Authenticator.Type.RECOVERY_CODES, data={})
    assert signed_in(users["admin"]).get(reverse("permits:portal")).url == reverse("mfa_activate_totp")


def test_without_the_setting_nobody_is_forced(settings, users):
    settings.TAAMIR_REQUIRE_STAFF_MFA = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MFA_MIDDLEWARE]
    assert signed_in(users[Role.DESK_AGENT]).get(reverse("permits:desk")).status_code == 200


# --- who sees what ------------------------------------------------------------------------------------


def test_the_portal_needs_an_account(client):
    response = client.get(reverse("permits:portal"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_my_dossiers_lists_mine_with_status_and_next_deadline(complete_draft, users):
    dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    complete_draft.refresh_from_db()
    html = text(signed_in(users[Role.ARCHITECT]).get(reverse("permits:portal")))
    assert complete_draft.reference in html
    assert "Déposé" in html  # the status, in French by default
    due = WorkingCalendar().add_working_days(timezone.localdate(), 2)
    assert f"{due.day}" in html and "jours ouvrables restants" in html
    other = text(signed_in(users["other_architect"]).get(reverse("permits:portal")))
    assert complete_draft.reference not in other


def test_a_dossier_that_is_not_yours_is_not_found_on_every_page(complete_draft, users):
    dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    document = complete_draft.documents.first()
    stranger = signed_in(users["other_architect"])
    pk = complete_draft.pk
    for url in [
        reverse("permits:dossier", args=[pk]),
        reverse("permits:receipt", args=[pk]),
        reverse("permits:document_download", args=[pk, document.pk]),
        reverse("permits:wizard", args=[pk, "review"]),
    ]:
        assert stranger.get(url).status_code == 404, url
    for url in [
        reverse("permits:dossier_action", args=[pk, "withdraw"]),
        reverse("permits:document_upload", args=[pk, "title-deed"]),
    ]:
        assert stranger.post(url, {"file": pdf_file()}).status_code == 404, url
    complete_draft.refresh_from_db()
    assert complete_draft.status == Status.SUBMITTED and complete_draft.documents.count() == 2


def test_staff_see_the_dossier_read_only_with_the_actions_of_their_role(complete_draft, users):
    to_under_review(complete_draft, users)
    complete_draft.refresh_from_db()
    url = reverse("permits:dossier", args=[complete_draft.pk])
    president = text(signed_in(users[Role.COMMITTEE_PRESIDENT]).get(url))
    assert 'data-action="request_changes"' in president and 'data-action="give_favourable_opinion"' in president
    assert 'class="upload-form"' not in president  # documents are the filer's
    assert 'data-action="withdraw"' not in president
    planner = text(signed_in(users[Role.PLANNER]).get(url))
    assert complete_draft.reference in planner and "action-form" not in planner
    architect = text(signed_in(users[Role.ARCHITECT]).get(url))
    assert 'data-action="withdraw"' in architect and 'data-action="request_changes"' not in architect


def test_only_filers_may_use_the_wizard(users, building_permit):
    assert signed_in(users[Role.DESK_AGENT]).get(reverse("permits:wizard_new")).status_code == 403
    assert signed_in(users[Role.APPLICANT]).get(reverse("permits:wizard_new")).status_code == 200


def test_every_post_needs_the_csrf_token(complete_draft, users):
    client = signed_in(users[Role.ARCHITECT], enforce_csrf_checks=True)
    response = client.post(reverse("permits:dossier_action", args=[complete_draft.pk, "submit"]))
    assert response.status_code == 403
    response = client.post(reverse("permits:document_upload", args=[complete_draft.pk, "site-photos"]),
                           {"file": pdf_file()}, **HTMX)  # fmt: skip
    assert response.status_code == 403
    complete_draft.refresh_from_db()
    assert complete_draft.status == Status.DRAFT and complete_draft.documents.count() == 2


# --- the wizard ---------------------------------------------------------------------------------------


APPLICANT_FORM = {
    "kind": "person", "first_name": "Yasmine", "last_name": "El Amrani", "national_id": "BE123456",
    "email": "yasmine@example.org", "phone": "+212600000001", "address": "12 rue des Oliviers", "language": "ar",
    "title": "Maison R+1",
    "figures-floors": "2", "figures-height_m": "8.5", "figures-built_area_m2": "180", "figures-use": "housing",
    "figures-dwellings": "1",
}  # fmt: skip


def test_the_wizard_files_a_complete_dossier(users, building_permit, casablanca_world):
    client = signed_in(users[Role.ARCHITECT])
    flat, villa = casablanca_world["flat"], casablanca_world["villa"]
    # 1. The procedure.
    response = client.get(reverse("permits:wizard_new"))
    assert response.status_code == 200 and "Permis de construire" in text(response)
    response = client.post(reverse("permits:wizard_new_step", args=["procedure"]), {"procedure": building_permit.pk})
    assert response.url == reverse("permits:wizard_new_step", args=["site"])
    # 2. The parcels: one by reference, one by id (a map click), one removed again.
    site_url = reverse("permits:wizard_new_step", args=["site"])
    html = text(client.get(site_url))
    assert 'id="wizard-map"' in html and "/static/geo/wizard.js" in html
    assert client.post(site_url, {"action": "add", "reference": "tf 1002/c"}).url == site_url
    response = client.post(site_url, {"action": "add", "reference": "TF 9999/X", "parcel": [flat.pk]})
    assert "Aucune parcelle n'a la référence" in text(response)
    assert client.post(site_url, {"action": f"remove:{villa.pk}", "parcel": [flat.pk, villa.pk]}).url == site_url
    html = text(client.get(site_url))
    assert "TF 1002/C" in html and "TF 1001/C" not in html and "1 200 m²" in html
    response = client.post(site_url, {"action": "continue", "parcel": [flat.pk]})
    assert response.url == reverse("permits:wizard_new_step", args=["applicant"])
    assert not Dossier.objects.exists()  # kept in the session until the applicant is known
    # 3. Applicant and figures: the draft is saved.
    html = text(client.get(response.url))
    assert "Niveaux" in html and 'name="figures-use"' in html
    response = client.post(response.url, {**APPLICANT_FORM, "action": "continue"})
    dossier = Dossier.objects.get()
    assert response.url == reverse("permits:wizard", args=[dossier.pk, "documents"])
    assert dossier.status == Status.DRAFT and dossier.architect == users[Role.ARCHITECT]
    assert dossier.figures == {"floors": 2, "height_m": 8.5, "built_area_m2": 180.0, "use": "housing", "dwellings": 1}
    assert list(dossier.parcels.all()) == [flat] and dossier.site is not None
    assert dossier.applicant.language == "ar"
    # 4. Documents, uploaded with htmx: the checklist comes back refreshed.
    upload_url = reverse("permits:document_upload", args=[dossier.pk, "architectural-plans"])
    response = client.post(upload_url, {"file": pdf_file()}, **HTMX)
    html = text(response)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="checklist"')
    assert "Déposée en version 1." in html and "Pièces principales déposées : 1 sur 2." in html
    client.post(
        reverse("permits:document_upload", args=[dossier.pk, "title-deed"]), {"file": pdf_file("t.pdf")}, **HTMX
    )
    # 5. Review and submit.
    html = text(client.get(reverse("permits:wizard", args=[dossier.pk, "review"])))
    assert 'id="submit-problems"' not in html and "Petit projet (PP)" in html
    response = client.post(reverse("permits:dossier_action", args=[dossier.pk, "submit"]))
    dossier.refresh_from_db()
    assert response.url == reverse("permits:dossier", args=[dossier.pk])
    assert dossier.status == Status.SUBMITTED and dossier.reference.startswith("TEST-01-")
    html = text(client.get(response.url))
    assert f"Votre dossier est déposé sous le numéro {dossier.reference}" in html
    assert reverse("permits:receipt", args=[dossier.pk]) in html
    receipt = client.get(reverse("permits:receipt", args=[dossier.pk]))
    assert receipt["Content-Type"] == "application/pdf" and receipt.content.startswith(b"%PDF-")
    # A submitted dossier is no longer editable through the wizard.
    assert client.get(reverse("permits:wizard", args=[dossier.pk, "applicant"])).url == response.url


def test_an_existing_draft_saves_at_every_step(draft, users, casablanca_world):
    client = signed_in(users[Role.ARCHITECT])
    villa = casablanca_world["villa"]
    site_url = reverse("permits:wizard", args=[draft.pk, "site"])
    client.post(site_url, {"action": "add", "reference": villa.reference, "parcel": [casablanca_world["flat"].pk]})
    assert set(draft.parcels.all()) == {villa, casablanca_world["flat"]}
    response = client.post(reverse("permits:wizard", args=[draft.pk, "applicant"]),
                           {**APPLICANT_FORM, "figures-floors": "", "action": "save"})  # fmt: skip
    assert response.url == reverse("permits:wizard", args=[draft.pk, "applicant"])
    draft.refresh_from_db()
    assert "floors" not in draft.figures
    html = text(client.get(reverse("permits:wizard", args=[draft.pk, "review"])))
    assert 'id="submit-problems"' in html and "Il manque le chiffre : Niveaux." in html


def test_the_applicant_step_says_what_the_applicant_lacks(users, building_permit, casablanca_world):
    client = signed_in(users[Role.ARCHITECT])
    session = client.session
    session["permits_wizard"] = {"procedure": building_permit.pk, "parcels": [casablanca_world["flat"].pk]}
    session.save()
    url = reverse("permits:wizard_new_step", args=["applicant"])
    response = client.post(url, {**APPLICANT_FORM, "national_id": "", "email": "", "phone": ""})
    html = text(response)
    assert response.status_code == 200 and 'class="form-errors"' in html
    assert "numéro de carte nationale (CIN)" in html and not Dossier.objects.exists()
    response = client.post(url, {**APPLICANT_FORM, "figures-floors": "deux"})
    assert "Saisissez un nombre entier." in text(response) and not Dossier.objects.exists()


def test_the_site_must_lie_in_one_commune_and_have_a_parcel(users, building_permit, casablanca_world):
    client = signed_in(users[Role.ARCHITECT])
    client.post(reverse("permits:wizard_new_step", args=["procedure"]), {"procedure": building_permit.pk})
    response = client.post(reverse("permits:wizard_new_step", args=["site"]), {"action": "continue"})
    assert "Choisissez au moins une parcelle" in text(response)


def test_the_site_preview_is_the_union_of_the_parcels_with_its_area(users, casablanca_world):
    client = signed_in(users[Role.APPLICANT])
    flat, villa = casablanca_world["flat"], casablanca_world["villa"]
    body = client.get(reverse("permits:site_preview"), {"parcel": [flat.pk, villa.pk]}).json()
    assert body["site"]["type"] == "MultiPolygon" and len(body["site"]["coordinates"]) == 2
    assert body["area_m2"] == pytest.approx(30 * 40 + 20 * 30, rel=1e-3)
    assert body["problem"] == "" and body["commune"] == "Commune test"
    assert client.get(reverse("permits:site_preview")).json()["site"] is None


def test_changing_the_procedure_of_a_draft_with_documents_is_refused(complete_draft, users, building_permit):
    other = type(building_permit).objects.create(code="other", name_fr="Autre", name_ar="آخر", name_en="Other",
                                                 family="urbanism", committee_kind="small_projects")  # fmt: skip
    response = signed_in(users[Role.ARCHITECT]).post(
        reverse("permits:wizard", args=[complete_draft.pk, "procedure"]), {"procedure": other.pk}
    )
    assert "commencez un nouveau dossier" in text(response)
    complete_draft.refresh_from_db()
    assert complete_draft.procedure == building_permit


# --- documents ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("plans.pdf", b"<!DOCTYPE html><html><body>not a pdf</body></html>", "une page web (HTML)"),
        ("plans.pdf", b"MZ\x90\x00" + b"\x00" * 600, "un programme"),
        ("plans.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1), "plus de 1 Mo"),
    ],
)
def test_a_refused_upload_is_shown_under_its_item_and_stores_nothing(draft, users, media, name, content, expected):
    client = signed_in(users[Role.ARCHITECT])
    url = reverse("permits:document_upload", args=[draft.pk, "architectural-plans"])
    response = client.post(url, {"file": SimpleUploadedFile(name, content)}, **HTMX)
    html = text(response)
    assert response.status_code == 200 and 'role="alert"' in html and expected in html
    assert 'id="error-architectural-plans"' in html
    assert not Document.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()] if media.exists() else True


def test_without_htmx_an_upload_comes_back_to_the_page_with_a_message(draft, users):
    client = signed_in(users[Role.ARCHITECT])
    page = reverse("permits:wizard", args=[draft.pk, "documents"])
    url = reverse("permits:document_upload", args=[draft.pk, "title-deed"])
    response = client.post(url, {"file": pdf_file(), "next": page}, follow=True)
    assert response.redirect_chain[-1][0] == page and "Le document a été ajouté au dossier." in text(response)
    response = client.post(url, {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("permits:dossier", args=[draft.pk])
    assert "Choisissez un fichier à déposer." in text(response)


def test_a_document_version_is_downloaded_by_those_who_see_the_dossier(complete_draft, users):
    document = complete_draft.documents.get(item_code="title-deed")
    url = reverse("permits:document_download", args=[complete_draft.pk, document.pk])
    response = signed_in(users[Role.ARCHITECT]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert signed_in(users[Role.DESK_AGENT]).get(url).status_code == 200


# --- the dossier page: timeline, clock, remarks, resubmit, withdraw -----------------------------------


def test_the_dossier_page_shows_clock_timeline_and_documents(complete_draft, users):
    dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    for item in complete_draft.procedure.checklist.filter(kind="main"):
        CompletenessReview.objects.create(dossier=complete_draft, checklist_item=item, verdict="present",
                                          reviewed_by=users[Role.DESK_AGENT])  # fmt: skip
    dossier_transition(dossier=complete_draft, action="accept", actor=users[Role.DESK_AGENT])
    html = text(signed_in(users[Role.ARCHITECT]).get(reverse("permits:dossier", args=[complete_draft.pk])))
    assert "Accepté comme complet par le guichet" in html and "Dossier déposé" in html  # both on the timeline
    tacit = timezone.localdate() + timedelta(days=60)
    assert "Approbation tacite le" in html and str(tacit.year) in html
    assert "0 jour ouvrable écoulé" in html
    assert complete_draft.documents.first().sha256 in html
    # Names of the staff who acted are not shown to the applicant.
    assert users[Role.DESK_AGENT].username not in html


def test_remarks_are_answered_with_revised_versions_and_a_resubmission(complete_draft, users):
    to_under_review(complete_draft, users)
    dossier_transition(dossier=complete_draft, action="request_changes", actor=users[Role.COMMITTEE_PRESIDENT],
                       reason="Le recul sur la voie doit être de 5 m.")  # fmt: skip
    client = signed_in(users[Role.ARCHITECT])
    page = reverse("permits:dossier", args=[complete_draft.pk])
    html = text(client.get(page))
    assert "Remarques auxquelles répondre" in html and "Le recul sur la voie doit être de 5 m." in html
    assert "délai suspendu" in html  # the clock is stopped
    # Resubmitting before filing a revised document is refused with the workflow's message.
    response = client.post(reverse("permits:dossier_action", args=[complete_draft.pk, "resubmit"]), follow=True)
    assert "Déposez au moins un document révisé" in text(response)
    client.post(reverse("permits:document_upload", args=[complete_draft.pk, "architectural-plans"]),
                {"file": pdf_file("plans-v2.pdf")}, **HTMX)  # fmt: skip
    response = client.post(reverse("permits:dossier_action", args=[complete_draft.pk, "resubmit"]), follow=True)
    complete_draft.refresh_from_db()
    assert complete_draft.status == Status.RESUBMITTED
    html = text(response)
    assert "version 2" in html and "version 1" in html
    assert complete_draft.documents.filter(item_code="architectural-plans").count() == 2


def test_withdrawing_asks_for_confirmation_and_is_recorded(complete_draft, users):
    client = signed_in(users[Role.ARCHITECT])
    dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    html = text(client.get(reverse("permits:dossier", args=[complete_draft.pk])))
    assert '<details class="action-danger" data-action="withdraw">' in html
    client.post(reverse("permits:dossier_action", args=[complete_draft.pk, "withdraw"]), {"reason": "Projet abandonné"})
    complete_draft.refresh_from_db()
    assert complete_draft.status == Status.WITHDRAWN
    assert DossierEvent.objects.get(dossier=complete_draft, to_status=Status.WITHDRAWN).message == "Projet abandonné"


def test_a_refusal_is_a_clear_message_in_the_users_language(draft, users):
    client = signed_in(users[Role.ARCHITECT])
    url = reverse("permits:dossier_action", args=[draft.pk, "submit"])
    response = client.post(url, {"next": reverse("permits:wizard", args=[draft.pk, "review"])}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="ar")  # fmt: skip
    html = text(response)
    assert 'class="message message-error"' in html and "وثيقة أساسية ناقصة" in html
    response = client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Missing main document: architectural-plans." in text(response)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.reference is None


# --- the receipt --------------------------------------------------------------------------------------


def pdf_text(content: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return unicodedata.normalize("NFKC", text.decode())


def test_the_receipt_states_the_number_in_french_and_arabic(complete_draft, users, settings, tmp_path):
    settings.TAAMIR_PUBLIC_URL = "https://taamir.example.ma"
    upload(complete_draft, "site-photos", users[Role.ARCHITECT], content=b"%PDF-1.4\nsite photos\n%%EOF\n")
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    content = receipt_pdf(dossier=dossier)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content, tmp_path)
    french, _, arabic = text.partition("وصل")
    assert "Récépissé de dépôt" in french and dossier.reference in french
    assert arabic and dossier.reference in arabic, "the Arabic part carries the number too"
    assert "Permis de construire" in french and "Yasmine El Amrani" in french and "TF 1002/C" in french
    assert tracking_url(dossier=dossier) == f"https://taamir.example.ma/dossiers/{dossier.pk}/"
    assert text.count(f"https://taamir.example.ma/dossiers/{dossier.pk}/") == 2
    sha = dossier.documents.get(item_code="site-photos").sha256
    assert text.count(sha) == 2, "each fingerprint on one line, in both parts"
    assert "à notifier par e-mail et SMS" in french
    assert "رخصة البناء" in arabic
    assert text.count(dossier.reference) >= 2


def test_the_receipt_states_the_committee_date_once_known(complete_draft, users, tmp_path):
    to_under_review(complete_draft, users)
    complete_draft.refresh_from_db()
    text = pdf_text(receipt_pdf(dossier=complete_draft), tmp_path)
    assert complete_draft.session_date.strftime("%d/%m/%Y") in text


def test_a_draft_has_no_receipt(draft, users):
    response = signed_in(users[Role.ARCHITECT]).get(reverse("permits:receipt", args=[draft.pk]))
    assert response.status_code == 404
