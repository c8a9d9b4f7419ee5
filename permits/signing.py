"""Signing services: who signs which issued document, in which order; the signing job; approved plans;
reminders; verification of a copy against our records.

* Minutes: every member present at the session (attendance), in organisation order, then the
  president. Decision: the signing authority; applying that signature issues the permit (or the
  reasoned refusal) through :func:`permits.workflow.dossier_transition`, in the same transaction.
  Approved plans: when the decision is signed, the latest ready PDF version of each plan set is
  stamped "ne varietur / APPROUVÉ" with the dossier reference and date, signed, and stored as an
  issued document of kind ``approved_plan`` with its own verification code.
* Each signature is an incremental update (the earlier ones stay valid). The signed bytes go to a new
  file that becomes the document's file in the same transaction as the request is marked signed; on
  any error the document keeps its previous bytes and the request shows the error (never half-signed).
* Passwords: the signer types the password of their key on the signing page; it is encrypted with
  Fernet (key derived from SECRET_KEY, limited lifetime) for the job, which decrypts it, uses it and
  forgets it. Development keys (``signing_init``) have passwords derived from SECRET_KEY, so a blank
  password works while ``TAAMIR_SIGNING_DEV_PKI`` is on.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from permits import pades
from permits.audit import audit_append
from permits.models import (
    ApprovedPlan,
    Attendance,
    Channel,
    IssuedDocument,
    Notification,
    SignatureRequest,
    SignatureStatus,
    SignerRole,
    Status,
)
from permits.roles import Role, user_has_role
from permits.signing_pki import configured_identities, dev_material_files, dev_password, user_key_path

logger = logging.getLogger(__name__)
SIGNED_KINDS = {IssuedDocument.Kind.MINUTES, IssuedDocument.Kind.DECISION, IssuedDocument.Kind.APPROVED_PLAN}


class SigningRefused(DomainError):
    code = "signing-refused"


class SigningForbidden(DomainError):
    code = "signing-forbidden"
    http_status = 403


# --- errors in the signer's words ----------------------------------------------------------------------


def signing_error_message(error: pades.PadesError) -> str:
    messages = {
        pades.PadesError.WRONG_PASSWORD: _("Wrong password: the signing key could not be unlocked."),
        pades.PadesError.EXPIRED_CERTIFICATE: _("Your signing certificate has expired (%(detail)s)."),
        pades.PadesError.NOT_YET_VALID: _("Your signing certificate is not valid yet (%(detail)s)."),
        pades.PadesError.TSA_UNREACHABLE: _("The timestamp authority could not be reached; try again later."),
        pades.PadesError.KEY_UNAVAILABLE: _("No signing key is configured for this account."),
        pades.PadesError.BAD_PDF: _("The document could not be read as a PDF."),
    }
    text = messages.get(error.reason, _("The signature failed: %(detail)s"))
    return text % {"detail": error.detail} if "%(detail)s" in text else text


# --- keys, trust, timestamps ------------------------------------------------------------------------------


def validation_material() -> pades.ValidationMaterial:
    """Trust roots, intermediates and CRLs: the configured ones plus the development PKI's."""
    roots = [Path(p).read_bytes() for p in settings.TAAMIR_SIGNING_TRUST_ROOTS]
    crls = [Path(p).read_bytes() for p in settings.TAAMIR_SIGNING_CRLS]
    certs: list[bytes] = []
    if settings.TAAMIR_SIGNING_DEV_PKI:
        dev = dev_material_files()
        roots += [p.read_bytes() for p in dev["roots"]]
        certs += [p.read_bytes() for p in dev["certs"]]
        crls += [p.read_bytes() for p in dev["crls"]]
    return pades.ValidationMaterial(trust_roots=roots, other_certs=certs, crls=crls)


def signer_key(*, user, password: str) -> pades.SigningKey:
    """The signing key of an account: a configured PKCS#12 file or PKCS#11 token, else the dev PKCS#12."""
    identity = configured_identities().get(user.username)
    if identity and identity.get("pkcs11"):
        token = identity["pkcs11"]
        return pades.load_pkcs11(
            module=token["module"],
            token_label=token["token_label"],
            key_label=token["key_label"],
            cert_label=token.get("cert_label", token["key_label"]),
            pin=password,
        )
    if identity and identity.get("pkcs12"):
        return pades.load_pkcs12(data=Path(identity["pkcs12"]).read_bytes(), password=password)
    path = user_key_path(user.username)
    if not settings.TAAMIR_SIGNING_DEV_PKI or not path.exists():
        raise pades.PadesError(pades.PadesError.KEY_UNAVAILABLE, user.username)
    return pades.load_pkcs12(data=path.read_bytes(), password=password or dev_password(f"user:{user.username}"))


def timestamper():
    """The configured RFC 3161 client, or None (PAdES B-B)."""
    if not settings.TAAMIR_SIGNING_TSA_URL:
        return None
    return pades.http_timestamper(url=settings.TAAMIR_SIGNING_TSA_URL, timeout=settings.TAAMIR_SIGNING_TSA_TIMEOUT)


def _fernet() -> Fernet:
    key = hashlib.sha256(f"taamir-signing-unlock:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def password_seal(password: str) -> str:
    """The password encrypted for the signing job (its arguments are stored in the database)."""
    return _fernet().encrypt(password.encode()).decode()


def password_unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode(), ttl=settings.TAAMIR_SIGNING_UNLOCK_SECONDS).decode()
    except InvalidToken as exc:
        raise pades.PadesError(pades.PadesError.WRONG_PASSWORD, "the unlocked password expired") from exc


# --- who signs ---------------------------------------------------------------------------------------------


def signature_requests_plan(*, document: IssuedDocument) -> list[SignatureRequest]:
    """Create the document's signature requests (idempotent): minutes members → president; others the authority."""
    existing = list(document.signature_requests.order_by("position"))
    if existing or document.kind not in SIGNED_KINDS:
        return existing
    wanted: list[tuple[str, object, object]] = []
    if document.kind == IssuedDocument.Kind.MINUTES:
        session = document.session
        president = session.committee.president
        for attendance in (
            Attendance.objects.filter(session=session, present=True)
            .select_related("organisation", "user")
            .order_by("organisation__code")
        ):
            if president is None or attendance.user_id != president.pk:
                if all(w[1].pk != attendance.user_id for w in wanted):
                    wanted.append((SignerRole.MEMBER, attendance.user, attendance.organisation))
        if president is not None:
            wanted.append((SignerRole.PRESIDENT, president, None))
    else:
        wanted.append((SignerRole.AUTHORITY, None, None))
    with transaction.atomic():
        return [
            SignatureRequest.objects.create(
                document=document,
                position=index,
                role=role,
                signer=signer,
                organisation=organisation,
                field_name=f"Signature{index + 1}",
            )
            for index, (role, signer, organisation) in enumerate(wanted)
        ]


def _may_sign(request: SignatureRequest, user) -> bool:
    if request.signer_id is not None:
        return request.signer_id == user.pk
    return user_has_role(user, Role.SIGNING_AUTHORITY)


def _turn_open(request: SignatureRequest) -> bool:
    """Members sign in any order; the president (and anything after) waits for everyone before."""
    earlier = SignatureRequest.objects.filter(document_id=request.document_id, position__lt=request.position)
    if request.role == SignerRole.MEMBER:
        earlier = earlier.exclude(role=SignerRole.MEMBER)
    return not earlier.exclude(status=SignatureStatus.SIGNED).exists()


def request_for_user(*, document: IssuedDocument, user) -> SignatureRequest | None:
    """The request this user may sign now on this document (None when nothing awaits them)."""
    for request in document.signature_requests.exclude(status=SignatureStatus.SIGNED).order_by("position"):
        if _may_sign(request, user) and _turn_open(request):
            return request
    return None


def document_is_signed(document: IssuedDocument) -> bool:
    requests = document.signature_requests.all()
    return requests.exists() and not requests.exclude(status=SignatureStatus.SIGNED).exists()


def document_replaced(document: IssuedDocument) -> bool:
    """Asked of the database, not of a loaded object whose ``replaced_by`` may be stale."""
    return IssuedDocument.objects.filter(replaces=document).exists()


# --- signing -----------------------------------------------------------------------------------------------


def signature_queue(*, document: IssuedDocument, user, password: str, inline: bool | None = None) -> SignatureRequest:
    """The signer asks to sign: the request is queued and the job deferred (or run now when inline)."""
    inline = settings.TAAMIR_SIGNING_INLINE if inline is None else inline
    if document_replaced(document):
        raise SigningRefused(_("This document has been replaced by a newer version; sign the current one."))
    signature_requests_plan(document=document)
    request = request_for_user(document=document, user=user)
    if request is None:
        raise SigningForbidden(_("No signature of yours is awaited on this document now."))
    if request.status == SignatureStatus.QUEUED:
        raise SigningRefused(_("Your signature is already being applied."))
    token = password_seal(password)
    with transaction.atomic():
        SignatureRequest.objects.filter(pk=request.pk).update(
            status=SignatureStatus.QUEUED, error="", queued_at=timezone.now(), signed_by=user
        )
        if not inline:
            from permits.tasks import apply_signature

            request_id, user_id = request.pk, user.pk
            transaction.on_commit(
                lambda: apply_signature.defer(request_id=request_id, user_id=user_id, sealed_password=token)
            )
    if inline:
        signature_apply(request_id=request.pk, user_id=user.pk, sealed_password=token)
    request.refresh_from_db()
    return request


def _box(*, request: SignatureRequest, user, document: IssuedDocument, when) -> pades.SignatureBox:
    name = user.get_full_name() or user.username
    role_label = SignerRole(request.role).label
    organisation = request.organisation
    lines: list[tuple[str, bool]] = []
    for language in ("fr", "ar"):
        with translation.override(language):
            org_name = organisation.name if organisation else ""
            lines.append((_("Signed electronically by %(name)s") % {"name": name}, language == "ar"))
            lines.append((f"{role_label}{' — ' + org_name if org_name else ''}", language == "ar"))
    lines.append((timezone.localtime(when).strftime("%d/%m/%Y %H:%M"), False))
    title: list[tuple[str, bool]] = []
    for language in ("fr", "ar"):
        with translation.override(language):
            title.append(
                (
                    _("Electronic signatures — %(kind)s %(code)s")
                    % {"kind": IssuedDocument.Kind(document.kind).label, "code": document.verification_code},
                    language == "ar",
                )
            )
    return pades.SignatureBox(slot=request.position, lines=lines, page_title=title)


def _fail(request_id: int, message: str) -> None:
    SignatureRequest.objects.filter(pk=request_id).update(status=SignatureStatus.FAILED, error=message[:1000])


def signature_apply(*, request_id: int, user_id: int, sealed_password: str) -> SignatureRequest:
    """The signing job: sign the document's current bytes for one request; all or nothing."""
    user = get_user_model().objects.get(pk=user_id)
    request = SignatureRequest.objects.select_related("document", "organisation").get(pk=request_id)
    if request.status == SignatureStatus.SIGNED:
        return request
    try:
        password = password_unseal(sealed_password)
        key = signer_key(user=user, password=password)
        del password
    except pades.PadesError as error:
        _fail(request_id, signing_error_message(error))
        raise SigningRefused(signing_error_message(error)) from error
    try:
        signed = _sign_request(request=request, user=user, key=key)
    except pades.PadesError as error:
        _fail(request_id, signing_error_message(error))
        raise SigningRefused(signing_error_message(error)) from error
    except DomainError as refusal:
        _fail(request_id, refusal.message)
        raise
    if signed.document.kind == IssuedDocument.Kind.DECISION and signed.document.dossier_id:
        try:
            approved_plans_issue(dossier=signed.document.dossier, user=user, key=key)
        except pades.PadesError as error:  # the decision stays signed; the sheets can be issued again
            logger.warning("approved plans of dossier %s not issued: %s", signed.document.dossier_id, error)
    return signed


def _sign_request(*, request: SignatureRequest, user, key: pades.SigningKey) -> SignatureRequest:
    with transaction.atomic():
        document = IssuedDocument.objects.select_for_update().get(pk=request.document_id)
        request = SignatureRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == SignatureStatus.SIGNED:
            return request
        if not (_may_sign(request, user) and _turn_open(request)):
            raise SigningForbidden(_("No signature of yours is awaited on this document now."))
        with document.file.open("rb") as handle:
            before = handle.read()
        sha256_before = hashlib.sha256(before).hexdigest()
        if sha256_before != document.sha256:
            raise SigningRefused(_("The stored document does not match its fingerprint; it was not signed."))
        done = SignatureRequest.objects.filter(document=document, status=SignatureStatus.SIGNED).count()
        if pades.signature_count(before) != done:
            raise SigningRefused(_("The document does not carry the signatures expected before yours."))
        now = timezone.now()
        outcome = pades.sign_pdf(
            data=before,
            key=key,
            field_name=request.field_name,
            box=_box(request=request, user=user, document=document, when=now),
            timestamper=timestamper(),
            material=validation_material(),
            name=user.get_full_name() or user.username,
            location="Maroc",
        )
        new_name = f"{Path(document.file.name).stem.split('-s')[0]}-s{request.position + 1}.pdf"
        document.file.save(new_name, ContentFile(outcome.data), save=False)
        saved = document.file.name
        try:
            digest = hashlib.sha256(outcome.data).hexdigest()
            document.sha256 = digest
            document.save(update_fields=["file", "sha256"])
            request.status, request.level, request.signed_by, request.signed_at = (
                SignatureStatus.SIGNED,
                outcome.level,
                user,
                now,
            )
            request.sha256_before, request.sha256_after, request.error = sha256_before, digest, ""
            request.save()
            audit_append(
                action="document.signed",
                actor=user,
                dossier_id=document.dossier_id,
                payload={
                    "document": document.pk,
                    "request": request.pk,
                    "position": request.position,
                    "level": outcome.level,
                    "sha256": digest,
                    "code": document.verification_code,
                },
            )
            if document.kind == IssuedDocument.Kind.DECISION and document_is_signed(document):
                _decision_signed(document=document, user=user)
        except Exception:
            document.file.storage.delete(saved)
            raise
    return request


def _decision_signed(*, document: IssuedDocument, user) -> None:
    """The signed decision issues the permit, or the reasoned refusal (the workflow keeps its guards)."""
    from permits.opinions import outcome_consolidate
    from permits.workflow import TransitionRefused, committee_outcome, dossier_transition

    dossier = document.dossier
    if dossier.status != Status.DECISION_SIGNING:
        return
    try:
        if committee_outcome(dossier) == Status.FAVOURABLE:
            dossier_transition(dossier=dossier, action="issue", actor=user, data={"document": document.pk})
        else:
            outcome = outcome_consolidate(dossier=dossier)
            reason = "; ".join(outcome.reasons + outcome.remarks) or _("Reasoned refusal: see the signed decision.")
            dossier_transition(
                dossier=dossier, action="refuse", actor=user, reason=reason, data={"document": document.pk}
            )
    except TransitionRefused as refusal:
        raise SigningRefused(refusal.message) from refusal


# --- approved plans ------------------------------------------------------------------------------------------


def approved_plan_versions(*, dossier) -> list:
    """The latest ready PDF version of each plan set of the dossier."""
    from plans.models import PlanFormat, VersionStatus

    versions = []
    for plan_set in dossier.plan_sets.order_by("sheet"):
        version = (
            plan_set.versions.filter(status=VersionStatus.READY, format=PlanFormat.PDF).order_by("-number").first()
        )
        if version is not None:
            versions.append(version)
    return versions


def approved_plans_issue(
    *, dossier, user, key: pades.SigningKey | None = None, password: str = ""
) -> list[IssuedDocument]:
    """Stamp and sign each approved plan sheet once (idempotent); each is stored only once signed."""
    from permits.issuing import document_store, new_verification_code

    if dossier.status != Status.ISSUED:
        return []
    key = key or signer_key(user=user, password=password)
    stamper, material = timestamper(), validation_material()
    issued = []
    for version in approved_plan_versions(dossier=dossier):
        if ApprovedPlan.objects.filter(plan_version=version).exists():
            continue
        with version.file.open("rb") as handle:
            original = handle.read()
        day = timezone.localdate()
        stamp_lines = [
            ("NE VARIETUR — APPROUVÉ", False),
            ("لا يتغير — مصادق عليه", True),
            (f"{dossier.reference}  {day:%d/%m/%Y}", False),
        ]
        stamped = pades.stamp_pages(data=original, lines=stamp_lines)
        code = new_verification_code()
        request = SignatureRequest(position=0, role=SignerRole.AUTHORITY, field_name="Signature1")
        now = timezone.now()
        document_stub = IssuedDocument(kind=IssuedDocument.Kind.APPROVED_PLAN, verification_code=code)
        outcome = pades.sign_pdf(
            data=stamped,
            key=key,
            field_name="Signature1",
            box=_box(request=request, user=user, document=document_stub, when=now),
            timestamper=stamper,
            material=material,
            name=user.get_full_name() or user.username,
        )
        with transaction.atomic():
            document = document_store(
                kind=IssuedDocument.Kind.APPROVED_PLAN,
                content=outcome.data,
                filename=f"plan-{dossier.reference}-{version.plan_set.sheet}-v{version.number}.pdf"[:120],
                code=code,
                actor=user,
                replace=False,
                payload={"plan_version": version.pk},
                dossier=dossier,
            )
            ApprovedPlan.objects.create(document=document, plan_version=version)
            request.document = document
            request.status, request.level, request.signed_by, request.signed_at = (
                SignatureStatus.SIGNED,
                outcome.level,
                user,
                now,
            )
            request.sha256_before, request.sha256_after = hashlib.sha256(stamped).hexdigest(), document.sha256
            request.save()
        issued.append(document)
    return issued


# --- reminders ------------------------------------------------------------------------------------------------


def signing_remind(*, now=None) -> list[Notification]:
    """E-mail the signers whose turn has been open for TAAMIR_SIGNING_REMIND_AFTER_DAYS (once per period)."""
    from permits.notifications import _defer_deliveries

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TAAMIR_SIGNING_REMIND_AFTER_DAYS)
    created = []
    late = SignatureRequest.objects.filter(
        status__in=[SignatureStatus.AWAITED, SignatureStatus.FAILED],
        signer__isnull=False,
        created_at__lte=cutoff,
        document__replaced_by__isnull=True,
    ).select_related("document", "signer", "document__session__committee")
    for request in late:
        if request.reminded_at and request.reminded_at > cutoff:
            continue
        if not _turn_open(request) or not request.signer.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Taamir — your signature is awaited")
            body = _("Your electronic signature is awaited on the %(kind)s %(code)s: %(link)s") % {
                "kind": IssuedDocument.Kind(request.document.kind).label,
                "code": request.document.verification_code,
                "link": f"{settings.TAAMIR_PUBLIC_URL.rstrip('/')}/signing/{request.document.verification_code}/",
            }
        with transaction.atomic():
            notification = Notification.objects.create(
                dossier=request.document.dossier,
                recipient=request.signer,
                channel=Channel.EMAIL,
                address=request.signer.email,
                language=settings.LANGUAGE_CODE,
                event="signature_awaited",
                subject=subject,
                body=body,
            )
            SignatureRequest.objects.filter(pk=request.pk).update(reminded_at=now)
            ids = [notification.pk]
            transaction.on_commit(lambda ids=ids: _defer_deliveries(ids))
        created.append(notification)
    return created


# --- verification --------------------------------------------------------------------------------------------


@dataclass
class UploadCheck:
    """What an uploaded copy is, compared with our records, and its signature report."""

    report: pades.ValidationReport
    document: IssuedDocument | None
    matches_current: bool
    matches_earlier_state: bool


def document_report(*, document: IssuedDocument) -> pades.ValidationReport | None:
    """The validation report of a document's current bytes (None when it carries no signature)."""
    document = IssuedDocument.objects.get(pk=document.pk)
    with document.file.open("rb") as handle:
        data = handle.read()
    report = pades.validate_pdf(data=data, material=validation_material())
    return report if report.signatures else None


# The largest copy anyone may upload to the public verification page or API.
MAX_COPY_BYTES = 30 * 1024 * 1024


class CopyRefused(DomainError):
    """An uploaded copy that cannot be checked; the message says why."""

    code = "invalid-upload"


def copy_bytes(upload) -> bytes:
    """The bytes of a copy uploaded for checking, or :class:`CopyRefused` (none, too large, not a PDF)."""
    if upload is None:
        raise CopyRefused(_("Choose a PDF file to check."))
    if upload.size > MAX_COPY_BYTES:
        raise CopyRefused(_("The file is too large to be checked here."))
    data = upload.read()
    if not data.startswith(b"%PDF"):
        raise CopyRefused(_("This file is not a PDF."))
    return data


def upload_check(*, data: bytes, document: IssuedDocument | None = None) -> UploadCheck:
    """Check an uploaded PDF: its signatures, and whether its bytes are one of our documents' states."""
    digest = hashlib.sha256(data).hexdigest()
    report = pades.validate_pdf(data=data, material=validation_material())
    found = IssuedDocument.objects.filter(sha256=digest).first()
    earlier = SignatureRequest.objects.filter(sha256_after=digest).select_related("document").first()
    if found is None and earlier is not None:
        found = earlier.document
    if document is not None and found is not None and found.pk != document.pk:
        found = None
    return UploadCheck(
        report=report,
        document=found,
        matches_current=bool(found and found.sha256 == digest),
        matches_earlier_state=bool(found and found.sha256 != digest),
    )
