"""Minutes, decisions, the authorised work on issue and the public verification page (permits.issuing).

The PDFs are read back with pdftotext: the French part and the Arabic part must each name the
organisations, their opinions and the conditions or reasons.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from geo.models import AuthorisedWork
from permits.issuing import IssuingRefused, decision_generate, minutes_generate
from permits.models import IssuedDocument, Status, Verdict
from permits.opinions import OpinionForbidden, session_close, session_open
from permits.roles import Role
from permits.workflow import TransitionRefused, dossier_transition
from tests.permits.test_opinions import give, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """Refusals are compared in English; the PDFs render their French and Arabic parts whatever the language."""
    with translation.override("en"):
        yield


def pdf_text(document: IssuedDocument, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "document.pdf"
    with document.file.open("rb") as handle:
        path.write_bytes(handle.read())
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    # pdftotext wraps right-to-left runs in bidi embedding marks: drop them to compare words.
    return re.sub("[\u202a-\u202e\u2066-\u2069]", "", unicodedata.normalize("NFKC", text.decode()))


def split_languages(text: str, arabic_marker: str) -> tuple[str, str]:
    french, marker, arabic = text.partition(arabic_marker)
    assert marker, f"the Arabic part ({arabic_marker}) is missing"
    return french, arabic


def close_with(world, *opinions) -> None:  # noqa: F811
    session_open(session=world.session, actor=world.president)
    for org, verdict, *remarks in opinions:
        give(world, org, verdict, *remarks)
    session_close(session=world.session, actor=world.president)
    world.dossier.refresh_from_db()
    world.session.refresh_from_db()


@pytest.fixture
def favourable(world):  # noqa: F811
    close_with(
        world,
        (world.agency, Verdict.FAVOURABLE),
        (world.commune, Verdict.NOT_CONCERNED),
        (world.civil, Verdict.RESERVATIONS, "Installer un extincteur par niveau."),
    )
    assert world.dossier.status == Status.FAVOURABLE
    return world


@pytest.fixture
def unfavourable(world):  # noqa: F811
    close_with(
        world,
        (world.agency, Verdict.UNFAVOURABLE, "Hauteur supérieure à celle du plan d'aménagement."),
        (world.commune, Verdict.FAVOURABLE),
    )
    assert world.dossier.status == Status.UNFAVOURABLE
    return world


# --- minutes -------------------------------------------------------------------------------------------


def test_minutes_name_each_organisation_opinion_and_outcome_in_both_languages(favourable, tmp_path):
    document = minutes_generate(session=favourable.session, actor=favourable.president)
    assert document.kind == IssuedDocument.Kind.MINUTES and len(document.sha256) == 64
    assert len(document.verification_code) >= 16
    french, arabic = split_languages(pdf_text(document, tmp_path), "محضر")
    assert "Procès-verbal de la séance de la commission" in french
    assert "Commission des petits projets" in french
    assert favourable.dossier.reference in french and "Yasmine El Amrani" in french
    for name in ("Agence urbaine de Casablanca", "Commune de Casablanca", "Protection civile"):
        assert name in french
    assert "Favorable avec réserves" in french and "Non concerné" in french
    assert "Installer un extincteur par niveau." in french
    assert "TF 1002/C" in french, "the parcel"
    assert "الوكالة الحضرية للدار البيضاء" in arabic and "الوقاية المدنية" in arabic
    assert "لجنة المشاريع الصغرى" in arabic
    assert favourable.dossier.reference in arabic


def test_minutes_are_generated_only_after_closing_and_regenerating_replaces(world, tmp_path):  # noqa: F811
    with pytest.raises(IssuingRefused, match="Close the session"):
        minutes_generate(session=world.session, actor=world.president)
    close_with(world, (world.agency, Verdict.FAVOURABLE))
    with pytest.raises(OpinionForbidden):
        minutes_generate(session=world.session, actor=world.members["t-agency"])
    first = minutes_generate(session=world.session, actor=world.president)
    second = minutes_generate(session=world.session, actor=world.president)
    assert second.replaces == first and first.verification_code != second.verification_code
    first.refresh_from_db()
    assert first.replaced_by == second


# --- decisions -----------------------------------------------------------------------------------------


def test_a_permit_states_conditions_validity_and_the_verification_link(favourable, users, settings, tmp_path):
    settings.TAAMIR_PUBLIC_URL = "https://taamir.example.ma"
    dossier = dossier_transition(dossier=favourable.dossier, action="prepare_decision", actor=users[Role.DESK_AGENT])
    with pytest.raises(TransitionRefused, match=r"Generate the decision document first\."):
        dossier_transition(dossier=dossier, action="issue", actor=users[Role.SIGNING_AUTHORITY])
    with pytest.raises(OpinionForbidden):
        decision_generate(dossier=dossier, actor=users[Role.ARCHITECT])
    document = decision_generate(dossier=dossier, actor=users[Role.DESK_AGENT])
    text = pdf_text(document, tmp_path)
    french, arabic = split_languages(text, "قرار")
    assert "Arrêté d'autorisation" in french and dossier.reference in french
    assert "Protection civile: Installer un extincteur par niveau." in french
    assert "12 mois" in french and "Permis de construire" in french and "Yasmine El Amrani" in french
    assert text.count(f"https://taamir.example.ma/verify/{document.verification_code}/") == 2
    # pdftotext reorders mixed-direction runs: compare the Arabic and the Latin words separately.
    assert "الشروط" in arabic and "الوقاية المدنية" in arabic and "Installer un extincteur par niveau" in arabic
    assert "12" in arabic and "شهرا من تاريخ التسليم" in arabic
    assert "رخصة البناء" in arabic


def test_issuing_creates_the_authorised_work_without_personal_data(favourable, users):
    dossier = dossier_transition(dossier=favourable.dossier, action="prepare_decision", actor=users[Role.DESK_AGENT])
    document = decision_generate(dossier=dossier, actor=users[Role.DESK_AGENT])
    dossier = dossier_transition(dossier=dossier, action="issue", actor=users[Role.SIGNING_AUTHORITY])
    work = AuthorisedWork.objects.get(reference=dossier.reference)
    parcel = dossier.parcels.get()
    assert work.geom.equals_exact(parcel.geom, 0.001) or work.geom.area == pytest.approx(parcel.geom.area)
    assert work.status == "authorised" and work.verification_code == document.verification_code
    assert work.procedure_code == dossier.procedure.code and work.decision_date == timezone.localdate(
        dossier.decided_at
    )
    assert (work.floors, work.use, work.built_area_m2, work.dwellings) == (2, "housing", 180.0, 1)
    fields = {f.name for f in AuthorisedWork._meta.get_fields()}
    assert not fields & {"applicant", "national_id", "first_name", "last_name", "email", "phone", "architect"}

    later = dossier.decided_at.date() + timedelta(days=400)
    dossier_transition(dossier=dossier, action="lapse", actor=None, today=later)
    work.refresh_from_db()
    assert work.status == "lapsed"


def test_a_reasoned_refusal_names_the_binding_organisation(unfavourable, users, tmp_path):
    dossier = dossier_transition(dossier=unfavourable.dossier, action="prepare_decision", actor=users[Role.DESK_AGENT])
    document = decision_generate(dossier=dossier, actor=users[Role.DESK_AGENT])
    french, arabic = split_languages(pdf_text(document, tmp_path), "قرار")
    assert "Arrêté de refus motivé" in french
    assert "Hauteur supérieure à celle du plan d'aménagement." in french
    assert "Avis défavorable conforme de Agence urbaine de Casablanca." in french
    assert arabic.startswith(" رفض معلل") and "رأي ملزم غير موافق من الوكالة الحضرية للدار البيضاء" in arabic
    dossier = dossier_transition(dossier=dossier, action="refuse", actor=users[Role.SIGNING_AUTHORITY],
                                 reason="Avis défavorable de l'agence urbaine.")  # fmt: skip
    assert dossier.status == Status.REFUSED
    assert not AuthorisedWork.objects.filter(reference=dossier.reference).exists()


def test_the_decision_waits_for_the_signature_step(favourable, users):
    with pytest.raises(IssuingRefused, match="sent for signature"):
        decision_generate(dossier=favourable.dossier, actor=users[Role.DESK_AGENT])


# --- verification --------------------------------------------------------------------------------------


def test_the_verification_page_is_public_and_shows_the_fingerprint(favourable):
    first = minutes_generate(session=favourable.session, actor=favourable.president)
    client = Client()
    response = client.get(reverse("verify", args=[first.verification_code]), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert first.sha256 in html and "Minutes" in html and "is the current version" in html
    second = minutes_generate(session=favourable.session, actor=favourable.president)
    html = client.get(reverse("verify", args=[first.verification_code]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "replaced by a newer version" in html and second.verification_code in html
    french = client.get(reverse("verify", args=[second.verification_code]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Vérifier un document" in french.content.decode()
    arabic = client.get(reverse("verify", args=[second.verification_code]), HTTP_ACCEPT_LANGUAGE="ar")
    assert 'dir="rtl"' in arabic.content.decode()
    assert client.get(reverse("verify", args=["no-such-code"])).status_code == 404


def test_the_decision_api(favourable, users):
    from rest_framework.test import APIClient

    def api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    dossier = dossier_transition(dossier=favourable.dossier, action="prepare_decision", actor=users[Role.DESK_AGENT])
    url = f"/api/dossiers/{dossier.pk}/decision/"
    assert api(favourable.members["t-agency"]).post(url).status_code == 403
    assert api(users["other_architect"]).post(url).status_code == 404
    assert api(users[Role.ARCHITECT]).get(f"/api/dossiers/{dossier.pk}/decision.pdf").status_code == 404
    created = api(users[Role.SIGNING_AUTHORITY]).post(url)
    assert created.status_code == 201 and created.json()["kind"] == "decision"
    pdf = api(users[Role.ARCHITECT]).get(f"/api/dossiers/{dossier.pk}/decision.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
