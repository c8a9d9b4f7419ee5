"""Electronic signatures: minutes signed by every present member then the president, the decision by the
signing authority (which issues the permit), approved plans stamped and signed, errors that leave the
document unsigned, timestamps (B-T/B-LT), immutability, reminders; every signed file checked by pdfsig."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone, translation

from permits import pades
from permits.issuing import decision_generate, minutes_generate
from permits.models import (
    ApprovedPlan,
    IssuedDocument,
    Notification,
    SignatureRequest,
    SignatureStatus,
    SignerRole,
    Status,
    Verdict,
)
from permits.roles import Role
from permits.signing import (
    SigningForbidden,
    SigningRefused,
    document_report,
    signature_queue,
    signature_requests_plan,
    signing_remind,
    upload_check,
)
from permits.signing_pki import dev_ca, user_certificate_issue
from permits.workflow import dossier_transition
from tests.permits.signing_world import (  # noqa: F401 - fixtures
    file_bytes,
    flip_one_byte,
    nss_db,
    pdfsig,
    pki,
    pki_dir,
    trust_dev_root,
    tsa,
)
from tests.permits.test_minutes_decisions import close_with
from tests.permits.test_opinions import world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def closed(world, pki):  # noqa: F811
    close_with(
        world,
        (world.agency, Verdict.FAVOURABLE),
        (world.commune, Verdict.NOT_CONCERNED),
        (world.civil, Verdict.RESERVATIONS, "Installer un extincteur par niveau."),
    )
    call_command("signing_init")  # a PKCS#12 file for every staff account
    return world


def sign(document, user, password: str = "") -> SignatureRequest:
    return signature_queue(document=document, user=user, password=password)


def test_minutes_carry_every_present_member_then_the_president(closed, tmp_path, nss_db, pki_dir):  # noqa: F811
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    requests = signature_requests_plan(document=minutes)
    assert [r.role for r in requests] == [SignerRole.MEMBER] * 3 + [SignerRole.PRESIDENT]
    assert {r.signer for r in requests[:3]} == set(closed.members.values())
    # The president waits for every member; a member who sat signs in any order.
    with pytest.raises(SigningForbidden):
        sign(minutes, closed.president)
    states = []
    for code in ("t-civil", "t-agency", "t-commune"):
        sign(minutes, closed.members[code])
        states.append(file_bytes(minutes))
    with pytest.raises(SigningForbidden):
        sign(minutes, closed.members["t-civil"])  # signed already
    sign(minutes, closed.president)
    data = file_bytes(minutes)
    # Each signature is an incremental update of the previous bytes.
    for earlier in states:
        assert data.startswith(earlier)
    assert all(r.status == SignatureStatus.SIGNED for r in minutes.signature_requests.all())
    report = document_report(document=minutes)
    assert [s.verdict for s in report.signatures] == [pades.Verdict.VALID] * 4
    assert report.verdict == pades.Verdict.VALID
    # After the last signature only its revocation data (DSS) was appended: a permitted change.
    assert report.signatures[-1].modifications in {"NONE", "LTA_UPDATES"}
    path = tmp_path / "minutes.pdf"
    path.write_bytes(data)
    out = pdfsig(path)
    assert out.count("Signature is Valid.") == 4, out
    if nss_db is not None:
        trust_dev_root(nss_db, pki_dir)
        assert pdfsig(path, nss_db).count("Certificate is Trusted.") == 4
    # One changed byte: pdfsig and our validator both report it.
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(flip_one_byte(data))
    assert "Digest Mismatch" in pdfsig(tampered)
    assert pades.validate_pdf(data=tampered.read_bytes(), material=_material()).verdict == pades.Verdict.INVALID


def _material():
    from permits.signing import validation_material

    return validation_material()


def _plan_pdf(text: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=f"<h1>{text}</h1><p>Plan de masse</p>").write_pdf()


def _plan_version(dossier, user, sheet: str):
    from plans.models import PlanSet, PlanVersion

    content = _plan_pdf(sheet)
    plan_set = PlanSet.objects.create(dossier=dossier, sheet=sheet)
    version = PlanVersion(
        plan_set=plan_set, number=1, status="ready", original_name=f"{sheet}.pdf", format="pdf", size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by=user,
    )  # fmt: skip
    version.file.save(f"{sheet}.pdf", ContentFile(content), save=False)
    version.save()
    return version


def test_the_signed_decision_issues_the_permit_and_the_approved_plans(closed, users, tmp_path):
    dossier = dossier_transition(dossier=closed.dossier, action="prepare_decision", actor=users[Role.DESK_AGENT])
    version = _plan_version(dossier, users[Role.ARCHITECT], "facade")
    decision = decision_generate(dossier=dossier, actor=users[Role.DESK_AGENT])
    with pytest.raises(SigningForbidden):
        sign(decision, users[Role.DESK_AGENT])
    request = sign(decision, users[Role.SIGNING_AUTHORITY])
    assert request.status == SignatureStatus.SIGNED and request.level == "B-B"
    dossier.refresh_from_db()
    assert dossier.status == Status.ISSUED
    assert document_report(document=decision).verdict == pades.Verdict.VALID
    plan = ApprovedPlan.objects.get(plan_version=version)
    assert plan.document.kind == IssuedDocument.Kind.APPROVED_PLAN and plan.document.dossier_id == dossier.pk
    plan_bytes = file_bytes(plan.document)
    report = pades.validate_pdf(data=plan_bytes, material=_material())
    assert report.verdict == pades.Verdict.VALID and len(report.signatures) == 1
    path = tmp_path / "plan.pdf"
    path.write_bytes(plan_bytes)
    assert "Signature is Valid." in pdfsig(path)
    with version.file.open("rb") as handle:
        assert handle.read() != plan_bytes  # the uploaded version itself never changes


def test_a_wrong_password_leaves_the_document_unsigned(closed, users):
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    before = file_bytes(minutes)
    with pytest.raises(SigningRefused, match="Wrong password"):
        sign(minutes, closed.members["t-agency"], password="not-my-password")
    assert file_bytes(minutes) == before
    request = minutes.signature_requests.get(signer=closed.members["t-agency"])
    assert request.status == SignatureStatus.FAILED and "Wrong password" in request.error
    sign(minutes, closed.members["t-agency"])  # the right (dev) password then works
    assert minutes.signature_requests.get(signer=closed.members["t-agency"]).status == SignatureStatus.SIGNED


def test_an_expired_certificate_is_refused_clearly(closed, settings, tmp_path):
    root, interm = dev_ca()
    member = closed.members["t-agency"]
    expired = tmp_path / "expired.p12"
    expired.write_bytes(user_certificate_issue(interm=interm, root=root, username=member.username, full_name="Old",
                                               email="", unit="", days=10, password="secret",
                                               not_before=datetime.now(UTC) - timedelta(days=40)))  # fmt: skip
    settings.TAAMIR_SIGNING_IDENTITIES = f'{{"{member.username}": {{"pkcs12": "{expired}"}}}}'
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    before = file_bytes(minutes)
    with pytest.raises(SigningRefused, match="expired"):
        sign(minutes, member, password="secret")
    assert file_bytes(minutes) == before


def test_an_unreachable_timestamp_authority_leaves_the_document_unsigned(closed, settings):
    settings.TAAMIR_SIGNING_TSA_URL = "http://127.0.0.1:9/tsa"
    settings.TAAMIR_SIGNING_TSA_TIMEOUT = 2
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    before = file_bytes(minutes)
    with pytest.raises(SigningRefused, match="timestamp authority"):
        sign(minutes, closed.members["t-agency"])
    assert file_bytes(minutes) == before
    assert minutes.signature_requests.get(signer=closed.members["t-agency"]).status == SignatureStatus.FAILED


def test_a_timestamp_authority_gives_b_lt_with_the_revocation_data(closed, tsa, tmp_path):  # noqa: F811
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    request = sign(minutes, closed.members["t-agency"])
    assert request.level == "B-LT" and tsa.requests  # (pyHanko first sizes the token with one request)
    report = document_report(document=minutes)
    facts = report.signatures[0]
    assert report.verdict == pades.Verdict.VALID and facts.level == "B-LT" and facts.timestamp_time is not None
    path = tmp_path / "minutes.pdf"
    path.write_bytes(file_bytes(minutes))
    assert "Signature is Valid." in pdfsig(path)


def test_the_signing_job_gets_the_password_only_encrypted(closed, settings, django_capture_on_commit_callbacks):
    from permits.tasks import apply_signature

    settings.TAAMIR_SIGNING_INLINE = False
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    member = closed.members["t-agency"]
    deferred = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(apply_signature, "defer", lambda **kwargs: deferred.append(kwargs))
        with django_capture_on_commit_callbacks(execute=True):
            request = signature_queue(document=minutes, user=member, password="")
    assert request.status == SignatureStatus.QUEUED
    (job,) = deferred
    assert job["request_id"] == request.pk and "password" not in job
    # The job's argument is a Fernet token, not the password; the job applies the signature.
    apply_signature(**job)
    request.refresh_from_db()
    assert request.status == SignatureStatus.SIGNED and request.signed_by == member
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(apply_signature, "defer", lambda **kwargs: deferred.append(kwargs))
        with django_capture_on_commit_callbacks(execute=True):
            signature_queue(document=minutes, user=closed.members["t-civil"], password="typed secret")
    assert "typed secret" not in deferred[-1]["sealed_password"]
    apply_signature(**deferred[-1])  # a wrong password: recorded on the request, document unchanged
    failed = minutes.signature_requests.get(signer=closed.members["t-civil"])
    assert failed.status == SignatureStatus.FAILED and "Wrong password" in failed.error


def test_a_replaced_document_cannot_be_signed_and_a_signed_one_never_changes(closed):
    first = minutes_generate(session=closed.session, actor=closed.president)
    sign(first, closed.members["t-agency"])
    signed_bytes = file_bytes(first)
    second = minutes_generate(session=closed.session, actor=closed.president)
    assert second.replaces_id == first.pk
    with pytest.raises(SigningRefused, match="replaced"):
        sign(first, closed.members["t-commune"])
    assert file_bytes(first) == signed_bytes
    assert upload_check(data=signed_bytes).document == first


def test_late_signers_are_reminded_once(closed):
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    signature_requests_plan(document=minutes)
    later = timezone.now() + timedelta(days=3)
    sent = signing_remind(now=later)
    assert {n.recipient for n in sent} == set(closed.members.values())  # the president waits for them
    assert all(n.event == "signature_awaited" and minutes.verification_code in n.body for n in sent)
    assert signing_remind(now=later) == []
    assert Notification.objects.filter(event="signature_awaited").count() == 3


def test_signing_init_is_idempotent(pki, users):  # noqa: F811
    call_command("signing_init")
    files = sorted(p.name for p in (pki / "users").iterdir())
    assert f"{users[Role.SIGNING_AUTHORITY].username}.p12" in files
    assert f"{users[Role.APPLICANT].username}.p12" not in files  # applicants sign nothing
    stamp = (pki / "root.cert.pem").read_bytes()
    call_command("signing_init")
    assert sorted(p.name for p in (pki / "users").iterdir()) == files
    assert (pki / "root.cert.pem").read_bytes() == stamp
    key = (pki / "root.key.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key


def test_the_signing_page_and_api_show_who_signed_and_who_is_awaited(closed, users, client):
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    url = f"/signing/{minutes.verification_code}/"
    client.force_login(users[Role.APPLICANT])
    assert client.get(url).status_code == 403
    client.force_login(closed.members["t-agency"])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="sign-form"' in page.text
    assert page.text.count('data-status="awaited"') == 4
    page = client.post(url, {"password": "wrong"}, follow=True)
    assert "Mot de passe erroné" in page.text and 'data-status="failed"' in page.text  # French by default
    page = client.post(url, {"password": ""}, follow=True)
    assert page.text.count('data-status="signed"') == 1 and 'data-testid="sign-form"' not in page.text
    client.force_login(closed.president)
    assert 'data-testid="sign-form"' not in client.get(url).text  # the members first
    api = client.post(f"/api/documents/{minutes.verification_code}/signatures/", {"password": ""},
                      content_type="application/json")  # fmt: skip
    assert api.status_code == 403 and api.json()["type"] == "urn:taamir:problem:signing-forbidden"
    for code in ("t-commune", "t-civil"):
        client.force_login(closed.members[code])
        api = client.post(f"/api/documents/{minutes.verification_code}/signatures/", {"password": ""},
                          content_type="application/json")  # fmt: skip
        assert api.status_code == 202 and api.json()["status"] == "signed"
    client.force_login(closed.president)
    client.post(url, {"password": ""})
    listing = client.get(f"/api/documents/{minutes.verification_code}/signatures/").json()
    assert [r["status"] for r in listing] == ["signed"] * 4 and listing[-1]["role"] == "president"
    assert 'data-testid="complete"' in client.get(url).text
    verify = client.get(f"/verify/{minutes.verification_code}/")
    assert 'data-verdict="TOTAL-PASSED"' in verify.text and verify.text.count("<tr><td>") == 4
