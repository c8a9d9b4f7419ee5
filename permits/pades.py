"""PAdES signing, stamping and validation: the ONLY module that imports pyHanko.

* :func:`sign_pdf` adds one signature as an incremental update: PAdES baseline B-B; B-T when a
  timestamper (RFC 3161 TSA) is given; revocation information (CRLs of the chain) is embedded in the
  document security store when validation material is given, which with a timestamp is B-LT.
  The visible box is a picture drawn with Pillow (libraqm shapes the Arabic lines, which pyHanko's
  own text engine cannot do without HarfBuzz), placed on a signatures page that the first signature
  appends to the document (so earlier content is never covered).
* :func:`stamp_pages` puts an image stamp ("ne varietur / APPROUVÉ") on every page of an unsigned PDF.
* :func:`validate_pdf` checks every signature of a file and gives the verdict of ETSI EN 319 102-1:
  pyHanko's AdES engine (``ades_lta_validation``: chain, time of the proof, revocation) plus the PDF
  facts it does not judge (whole-file coverage, changes after signing).

Errors are :class:`PadesError` with a stable ``reason`` (wrong password, expired certificate, TSA
unreachable...) so callers can word them; nothing is written when an error is raised.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image, ImageDraw, ImageFont
from pyhanko import stamp
from pyhanko.pdf_utils import generic, images, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleCertificateStore, SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

logger = logging.getLogger(__name__)
# pyHanko warns that revocation data is embedded without fetching: that is by design here (local CRLs only).
logging.getLogger("pyhanko.sign.signers.pdf_signer").setLevel(logging.ERROR)

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/noto")
LATIN_FONT = "DejaVuSans.ttf"
ARABIC_FONT = "DejaVuSans.ttf"  # has Arabic and Latin: names and dashes inside Arabic lines render
BOX_WIDTH, BOX_HEIGHT = 260, 92  # points, one signature box
SIGNATURE_PAGE_MARK = "/TaamirSignaturePage"


class PadesError(Exception):
    """Signing or stamping failed; nothing was written. ``reason`` is one of the ``REASON_*`` codes."""

    WRONG_PASSWORD = "wrong_password"
    EXPIRED_CERTIFICATE = "expired_certificate"
    NOT_YET_VALID = "not_yet_valid"
    TSA_UNREACHABLE = "tsa_unreachable"
    KEY_UNAVAILABLE = "key_unavailable"
    BAD_PDF = "bad_pdf"
    SIGNING_FAILED = "signing_failed"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- keys ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A loaded signing key: an opaque pyHanko signer plus the facts of its certificate."""

    signer: object
    subject: str
    not_before: datetime
    not_after: datetime
    chain_pem: list[bytes]


def _to_asn1_cert(cert) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def load_pkcs12(*, data: bytes, password: str, now: datetime | None = None) -> SigningKey:
    """Open a PKCS#12 file; a wrong password or an expired certificate is a :class:`PadesError`."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as exc:
        raise PadesError(PadesError.WRONG_PASSWORD, "the PKCS#12 file could not be decrypted") from exc
    if key is None or cert is None:
        raise PadesError(PadesError.KEY_UNAVAILABLE, "the PKCS#12 file holds no key and certificate")
    _check_period(cert.not_valid_before_utc, cert.not_valid_after_utc, now)
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    chain = [_to_asn1_cert(c) for c in extra or []]
    signer = signers.SimpleSigner(
        signing_cert=_to_asn1_cert(cert), signing_key=key_info, cert_registry=SimpleCertificateStore.from_certs(chain)
    )
    return SigningKey(
        signer=signer,
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        chain_pem=[c.public_bytes(serialization.Encoding.PEM) for c in [cert, *(extra or [])]],
    )


def load_pkcs11(
    *, module: str, token_label: str, key_label: str, cert_label: str, pin: str, now: datetime | None = None
) -> SigningKey:
    """Open a key on a PKCS#11 token or HSM (needs the ``python-pkcs11`` package and the vendor's module)."""
    try:
        from pyhanko.sign import pkcs11 as p11
    except ImportError as exc:  # pragma: no cover - depends on the deployment
        raise PadesError(PadesError.KEY_UNAVAILABLE, "PKCS#11 support needs the python-pkcs11 package") from exc
    try:  # pragma: no cover - needs a token
        session = p11.open_pkcs11_session(module, token_label=token_label, user_pin=pin)
        signer = p11.PKCS11Signer(session, key_label=key_label, cert_label=cert_label)
        cert = signer.signing_cert
    except Exception as exc:  # pragma: no cover - needs a token
        reason = PadesError.WRONG_PASSWORD if "PIN" in type(exc).__name__.upper() else PadesError.KEY_UNAVAILABLE
        raise PadesError(reason, str(exc)) from exc
    not_before, not_after = cert.not_valid_before, cert.not_valid_after  # pragma: no cover
    _check_period(not_before, not_after, now)  # pragma: no cover
    return SigningKey(
        signer=signer,
        subject=cert.subject.human_friendly,
        not_before=not_before,
        not_after=not_after,
        chain_pem=[asn1_pem.armor("CERTIFICATE", cert.dump())],
    )  # pragma: no cover


def _check_period(not_before: datetime, not_after: datetime, now: datetime | None) -> None:
    now = now or datetime.now(UTC)
    if now > not_after:
        raise PadesError(PadesError.EXPIRED_CERTIFICATE, f"the certificate expired on {not_after:%Y-%m-%d}")
    if now < not_before:
        raise PadesError(PadesError.NOT_YET_VALID, f"the certificate is valid from {not_before:%Y-%m-%d}")


def _load_certs(blobs: list[bytes]) -> list[asn1_x509.Certificate]:
    certs = []
    for blob in blobs:
        if asn1_pem.detect(blob):
            certs += [asn1_x509.Certificate.load(der) for _t, _h, der in asn1_pem.unarmor(blob, multiple=True)]
        else:
            certs.append(asn1_x509.Certificate.load(blob))
    return certs


def _load_crls(blobs: list[bytes]) -> list[asn1_crl.CertificateList]:
    out = []
    for blob in blobs:
        der = asn1_pem.unarmor(blob)[2] if asn1_pem.detect(blob) else blob
        out.append(asn1_crl.CertificateList.load(der))
    return out


# --- timestamps ---------------------------------------------------------------------------------------


def http_timestamper(*, url: str, timeout: int = 10):
    """An RFC 3161 client for a timestamp authority URL."""
    from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=timeout)


def dummy_timestamper(*, tsa_cert_pem: bytes, tsa_key_pem: bytes, password: bytes | None = None):
    """A local timestamper answering with its own certificate (tests and benchmarks only)."""
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    return DummyTimeStamper(
        tsa_cert=_load_certs([tsa_cert_pem])[0], tsa_key=load_private_key_from_pemder_data(tsa_key_pem, password)
    )


def timestamp_response(*, timestamper, request_der: bytes) -> bytes:
    """Answer an RFC 3161 request (DER) with a timestamper: what a TSA's HTTP endpoint does."""
    from asn1crypto import tsp

    request = tsp.TimeStampReq.load(request_der)
    return asyncio.run(timestamper.async_request_tsa_response(request)).dump()


# --- appearance ---------------------------------------------------------------------------------------


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        path = Path(folder) / name
        if path.exists():
            return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    return ImageFont.load_default(size)


def text_image(
    *,
    lines: list[tuple[str, bool]],
    width: int,
    height: int,
    title_lines: int = 1,
    border: bool = True,
    opaque: bool = True,
) -> Image.Image:
    """Lines of text as a picture at 3 px per point: ``(text, right_to_left)``; Arabic is shaped by libraqm."""
    scale = 3
    # A stamp on a drawing lets the drawing show through (transparent background); a signature box is opaque.
    image = (
        Image.new("RGB", (width * scale, height * scale), "white")
        if opaque
        else Image.new("RGBA", (width * scale, height * scale), (255, 255, 255, 0))
    )
    draw = ImageDraw.Draw(image)
    if border:
        draw.rectangle([0, 0, width * scale - 1, height * scale - 1], outline=(30, 60, 120), width=4)
    size = max(7, min(11, int((height - 8) / max(len(lines), 1) / 1.25))) * scale
    y = 3 * scale
    room = width * scale - 10 * scale
    for index, (text, rtl) in enumerate(lines):
        line_size = size + (scale if index < title_lines else 0)
        options = {"direction": "rtl", "language": "ar"} if rtl else {}
        font = _font(ARABIC_FONT if rtl else LATIN_FONT, line_size)
        while line_size > 5 * scale and draw.textlength(text, font=font, **options) > room:
            line_size -= scale // 2 or 1  # shrink a long line until it fits the box
            font = _font(ARABIC_FONT if rtl else LATIN_FONT, line_size)
        length = draw.textlength(text, font=font, **options)
        x = width * scale - 5 * scale - length if rtl else 5 * scale
        draw.text((x, y), text, font=font, fill=(140, 0, 0) if not opaque else "black", **options)
        y += int(size * 1.25)
    return image


@dataclass(frozen=True)
class SignatureBox:
    """Where and what the visible box shows: its slot on the signatures page and its lines."""

    slot: int
    lines: list[tuple[str, bool]]
    page_title: list[tuple[str, bool]] = field(default_factory=list)


def _static_stamp_style(image: Image.Image) -> stamp.StaticStampStyle:
    return stamp.StaticStampStyle(
        border_width=0,
        background=images.PdfImage(image),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.STRETCH_FILL,
        ),
    )


def _page_size(writer: IncrementalPdfFileWriter, index: int) -> tuple[float, float]:
    page = writer.root["/Pages"]
    page_ref, *_rest = writer.find_page_for_modification(index)
    page_obj = page_ref.get_object()
    box = page_obj.get("/MediaBox") or page.get("/MediaBox") or [0, 0, 595, 842]
    return float(box[2]) - float(box[0]), float(box[3]) - float(box[1])


def _signature_page_index(writer: IncrementalPdfFileWriter, title: list[tuple[str, bool]]) -> int:
    """The index of the signatures page, appended (with its title picture) when the file has none yet."""
    count = int(writer.root["/Pages"]["/Count"])
    last, *_rest = writer.find_page_for_modification(count - 1)
    if last.get_object().get(SIGNATURE_PAGE_MARK):
        return count - 1
    width, height = _page_size(writer, count - 1)
    page = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(
                [
                    generic.NumberObject(0),
                    generic.NumberObject(0),
                    generic.FloatObject(width),
                    generic.FloatObject(height),
                ]
            ),
            generic.NameObject("/Resources"): generic.DictionaryObject(),
            generic.NameObject("/Contents"): writer.add_object(generic.StreamObject(stream_data=b"")),
            generic.NameObject(SIGNATURE_PAGE_MARK): generic.BooleanObject(True),
        }
    )
    writer.insert_page(page)
    index = count
    if title:
        box_w, box_h = int(width - 80), 22 * len(title) + 10
        stamp.StaticContentStamp(
            writer,
            _static_stamp_style(text_image(lines=title, width=box_w, height=box_h, border=False)),
            box=layout.BoxConstraints(width=box_w, height=box_h),
        ).apply(index, 40, height - 50 - box_h)
    return index


def _slot_rectangle(slot: int, width: float, height: float) -> tuple[int, int, int, int]:
    column, row = slot % 2, slot // 2
    x = 40 + column * (BOX_WIDTH + 15)
    y = int(height - 180 - row * (BOX_HEIGHT + 15))
    return (x, y - BOX_HEIGHT, x + BOX_WIDTH, y)


# --- signing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationMaterial:
    """Trust roots, intermediate certificates and CRLs: what is embedded for B-LT and used to validate."""

    trust_roots: list[bytes] = field(default_factory=list)
    other_certs: list[bytes] = field(default_factory=list)
    crls: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class SignOutcome:
    data: bytes
    level: str  # B-B, B-T or B-LT
    field_name: str
    signed_at: datetime


def signature_count(data: bytes) -> int:
    """The number of signatures (and document timestamps) already in a PDF."""
    try:
        return len(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)
    except (PdfReadError, ValueError) as exc:
        raise PadesError(PadesError.BAD_PDF, str(exc)) from exc


def sign_pdf(
    *,
    data: bytes,
    key: SigningKey,
    field_name: str,
    box: SignatureBox | None = None,
    timestamper=None,
    material: ValidationMaterial | None = None,
    reason: str = "",
    location: str = "",
    name: str = "",
) -> SignOutcome:
    """Add one signature to ``data`` as an incremental update and return the new bytes.

    With ``material`` holding CRLs, the signer's chain and its revocation data go into the DSS.
    Errors (an unreachable TSA included) raise :class:`PadesError`; the input is never modified.
    """
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PadesError(PadesError.BAD_PDF, str(exc)) from exc
    style = None
    field_spec = None
    if box is not None:
        index = _signature_page_index(writer, box.page_title)
        width, height = _page_size(writer, index)
        style = _static_stamp_style(text_image(lines=box.lines, width=BOX_WIDTH, height=BOX_HEIGHT))
        field_spec = fields.SigFieldSpec(
            sig_field_name=field_name, on_page=index, box=_slot_rectangle(box.slot, width, height)
        )
    # Always an explicit context: without one pyHanko loads the operating system's trust list (slow).
    material = material or ValidationMaterial()
    embed = bool(material.crls and material.trust_roots)
    # With trust roots the signer's chain is also checked before signing (a key outside them is refused).
    validation_context = (
        ValidationContext(
            trust_roots=_load_certs(material.trust_roots),
            other_certs=_load_certs(material.other_certs),
            crls=_load_crls(material.crls),
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        if material.trust_roots
        else None
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=embed,
        validation_context=validation_context,
        reason=reason or None,
        location=location or None,
        name=name or None,
    )
    pdf_signer = signers.PdfSigner(
        metadata, signer=key.signer, timestamper=timestamper, stamp_style=style, new_field_spec=field_spec
    )
    out = io.BytesIO()
    try:
        # A fixed reservation (the CMS blob with chain, and TSA token) spares pyHanko a trial signature.
        pdf_signer.sign_pdf(writer, output=out, bytes_reserved=32768 if timestamper is not None else 16384)
    except timestamps.TimestampRequestError as exc:
        raise PadesError(PadesError.TSA_UNREACHABLE, str(exc)) from exc
    except (OSError, ConnectionError) as exc:
        raise PadesError(PadesError.TSA_UNREACHABLE, str(exc)) from exc
    except SigningError as exc:
        raise PadesError(PadesError.SIGNING_FAILED, str(exc)) from exc
    except Exception as exc:
        if timestamper is not None and "timestamp" in repr(exc).lower():
            raise PadesError(PadesError.TSA_UNREACHABLE, str(exc)) from exc
        raise PadesError(PadesError.SIGNING_FAILED, f"{type(exc).__name__}: {exc}") from exc
    if timestamper is not None and embed:
        level = "B-LT"
    elif timestamper is not None:
        level = "B-T"
    else:
        level = "B-B"
    return SignOutcome(data=out.getvalue(), level=level, field_name=field_name, signed_at=datetime.now(UTC))


def stamp_pages(*, data: bytes, lines: list[tuple[str, bool]], width: int = 230, height: int = 70) -> bytes:
    """Put the same stamp picture in the bottom-right corner of every page (incremental update)."""
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        count = int(writer.root["/Pages"]["/Count"])
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PadesError(PadesError.BAD_PDF, str(exc)) from exc
    style = _static_stamp_style(text_image(lines=lines, width=width, height=height, opaque=False))
    for index in range(count):
        page_width, _height = _page_size(writer, index)
        stamp.StaticContentStamp(writer, style, box=layout.BoxConstraints(width=width, height=height)).apply(
            index, int(page_width - width - 20), 20
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- validation ---------------------------------------------------------------------------------------


class Verdict(StrEnum):
    """The three outcomes of ETSI EN 319 102-1 (and ``verify_pdf``'s exit codes 0, 1, 2)."""

    VALID = "TOTAL-PASSED"
    INVALID = "TOTAL-FAILED"
    INDETERMINATE = "INDETERMINATE"

    @property
    def exit_code(self) -> int:
        return {Verdict.VALID: 0, Verdict.INVALID: 1, Verdict.INDETERMINATE: 2}[self]


_ORDER = {Verdict.VALID: 0, Verdict.INDETERMINATE: 1, Verdict.INVALID: 2}


@dataclass
class SignatureFacts:
    """One signature (or document timestamp) of a file, as validated."""

    field_name: str
    kind: str  # "signature" or "document-timestamp"
    signer: str
    signer_common_name: str
    signing_time: datetime | None  # the time the signer's software claimed
    timestamp_time: datetime | None  # a trusted time (signature timestamp or the doc timestamp itself)
    best_signature_time: datetime | None
    intact: bool
    crypto_valid: bool
    trusted: bool
    coverage: str
    modifications: str
    covers_whole_file: bool
    level: str
    verdict: Verdict
    subindication: str
    message: str


@dataclass
class ValidationReport:
    """Every signature of one file and the overall verdict (the worst of them; no signature: invalid)."""

    sha256: str
    size: int
    signatures: list[SignatureFacts]
    verdict: Verdict
    problem: str = ""

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


def _spec(material: ValidationMaterial) -> PdfSignatureValidationSpec:
    rule = RevocationCheckingRule.CHECK_IF_DECLARED
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=_load_certs(material.trust_roots)),
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule),
            retroactive_revinfo=True,
        ),
    )
    knowledge = LocalKnowledge(
        known_crls=[CRLContainer(c) for c in _load_crls(material.crls)], known_certs=_load_certs(material.other_certs)
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            ts_cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=knowledge,
        )
    )


def _name(cert, attribute: str = "") -> str:
    if cert is None:
        return ""
    if attribute:
        return str(cert.subject.native.get(attribute, ""))
    return cert.subject.human_friendly


def _level(embedded, status) -> str:
    has_ts = status is not None and status.timestamp_validity is not None
    has_dss = "/DSS" in embedded.reader.root
    if has_ts and has_dss:
        return "B-LT"
    return "B-T" if has_ts else "B-B"


def validate_pdf(*, data: bytes, material: ValidationMaterial) -> ValidationReport:
    """Validate every signature of ``data`` against ``material``'s trust roots (no network access)."""
    import hashlib

    for noisy in ("pyhanko", "pyhanko_certvalidator"):  # their warnings are this report's findings
        logging.getLogger(noisy).setLevel(logging.CRITICAL)

    digest = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return ValidationReport(digest, len(data), [], Verdict.INVALID, problem=f"not a readable PDF: {exc}")
    if not embedded:
        return ValidationReport(digest, len(data), [], Verdict.INVALID, problem="the file has no signature")
    spec = _spec(material)
    facts = [_validate_one(sig, spec, material) for sig in embedded]
    verdict = max((f.verdict for f in facts), key=_ORDER.__getitem__)
    return ValidationReport(digest, len(data), facts, verdict)


def _pdf_problem(status) -> str:
    """What makes a signature invalid whatever its chain: bytes, cryptography, coverage, later changes."""
    if not status.intact:
        return "the document digest does not match the signed digest (the signed bytes were changed)"
    if not status.valid:
        return "the cryptographic signature is not valid"
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return "bytes of the signed revision lie outside the signed ranges"
    if status.modification_level == ModificationLevel.OTHER or status.docmdp_ok is False:
        return "the document was changed after signing in a way that is not allowed"
    return ""


def _validate_one(embedded, spec: PdfSignatureValidationSpec, material: ValidationMaterial) -> SignatureFacts:
    kind = "document-timestamp" if embedded.sig_object_type == "/DocTimeStamp" else "signature"
    base = {"field_name": embedded.field_name, "kind": kind}
    try:
        if kind == "document-timestamp":
            return _validate_doc_timestamp(embedded, material, base)
        # integrity, coverage and later changes (trust is judged below by the AdES process)
        integrity = validate_pdf_signature(
            embedded,
            signer_validation_context=ValidationContext(
                trust_roots=_load_certs(material.trust_roots), allow_fetching=False, revocation_mode="soft-fail"
            ),
        )
        problem = _pdf_problem(integrity)
        if problem:
            result, status = None, integrity
        else:
            result = _ades_validate(embedded, spec)
            status = integrity
    except Exception as exc:  # a malformed signature is a failure of that signature, not of the tool
        logger.info("signature %s could not be validated: %s", embedded.field_name, exc)
        return SignatureFacts(
            **base,
            signer="",
            signer_common_name="",
            signing_time=None,
            timestamp_time=None,
            best_signature_time=None,
            intact=False,
            crypto_valid=False,
            trusted=False,
            coverage="",
            modifications="",
            covers_whole_file=False,
            level="",
            verdict=Verdict.INVALID,
            subindication="FORMAT_FAILURE",
            message=str(exc),
        )
    if result is None:
        verdict = Verdict.INVALID
        subindication = (
            "HASH_FAILURE" if not status.intact else ("SIG_CRYPTO_FAILURE" if not status.valid else "FORMAT_FAILURE")
        )
        best_time = None
    else:
        indication = result.ades_subindic
        verdict = {"PASSED": Verdict.VALID, "FAILED": Verdict.INVALID}.get(
            indication.status.name, Verdict.INDETERMINATE
        )
        subindication = indication.name
        problem = "" if verdict == Verdict.VALID else (result.failure_msg or _explain(indication.name))
        best_time = getattr(result, "best_signature_time", None)
    ts = status.timestamp_validity if status is not None else None
    return SignatureFacts(
        **base,
        signer=_name(status.signing_cert) if status else "",
        signer_common_name=_name(status.signing_cert, "common_name") if status else "",
        signing_time=status.signer_reported_dt if status else None,
        timestamp_time=ts.timestamp if ts is not None else None,
        best_signature_time=best_time,
        intact=bool(status and status.intact),
        crypto_valid=bool(status and status.valid),
        trusted=verdict == Verdict.VALID,
        coverage=status.coverage.name if status and status.coverage is not None else "",
        modifications=status.modification_level.name if status and status.modification_level is not None else "",
        covers_whole_file=bool(status and status.coverage == SignatureCoverageLevel.ENTIRE_FILE),
        level=_level(embedded, status),
        verdict=verdict,
        subindication=subindication,
        message=problem,
    )


_EXPLANATIONS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "no chain to a trusted root",
    "CHAIN_CONSTRAINTS_FAILURE": "the certificate chain does not lead to a trusted root",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "the chain could not be validated (unknown root or revocation unknown)",
    "OUT_OF_BOUNDS_NO_POE": "the certificate has expired and nothing proves the signature existed before",
    "REVOKED_NO_POE": "the certificate is revoked and nothing proves the signature existed before",
    "TRY_LATER": "the revocation information is not recent enough",
    "NO_POE": "no proof of existence before the certificate expired",
}


def _explain(subindication: str) -> str:
    return _EXPLANATIONS.get(subindication, subindication.replace("_", " ").lower())


def _ades_validate(embedded, spec: PdfSignatureValidationSpec):
    """ETSI EN 319 102-1: basic validation at the current time (5.3); when that is indeterminate and a
    timestamp proves an earlier time, the long-term process (5.6) with past validation."""
    import dataclasses

    from pyhanko.sign.validation.ades import _dss_to_local_knowledge, ades_basic_validation
    from pyhanko.sign.validation.policy_decl import bootstrap_validation_data_handlers

    signature_spec = spec.signature_validation_spec
    dss = _dss_to_local_knowledge(reader=embedded.reader)
    knowledge = LocalKnowledge(
        known_crls=signature_spec.local_knowledge.known_crls + dss.known_crls,
        known_ocsps=signature_spec.local_knowledge.known_ocsps + dss.known_ocsps,
        known_certs=signature_spec.local_knowledge.known_certs + dss.known_certs,
    )
    signature_spec = dataclasses.replace(signature_spec, local_knowledge=knowledge)
    basic = asyncio.run(
        ades_basic_validation(
            embedded.signed_data,
            signature_spec,
            raw_digest=embedded.compute_digest(),
            validation_data_handlers=bootstrap_validation_data_handlers(spec=signature_spec),
        )
    )
    if basic.ades_subindic.status.name != "INDETERMINATE":
        return basic
    from pyhanko.sign.validation.generic_cms import extract_signer_info, extract_tst_data_iter

    signature_ts = next(extract_tst_data_iter(extract_signer_info(embedded.signed_data), signed=False), None)
    has_time_proof = signature_ts is not None or any(
        s.sig_object_type == "/DocTimeStamp" and s.signed_revision > embedded.signed_revision
        for s in embedded.reader.embedded_signatures
    )
    if not has_time_proof:
        return basic
    long_term = asyncio.run(ades_lta_validation(embedded, spec))
    return long_term if long_term.ades_subindic.status.name == "PASSED" else basic


def _validate_doc_timestamp(embedded, material: ValidationMaterial, base: dict) -> SignatureFacts:
    context = ValidationContext(
        trust_roots=_load_certs(material.trust_roots),
        other_certs=_load_certs(material.other_certs),
        crls=_load_crls(material.crls),
        allow_fetching=False,
    )
    status = validate_pdf_timestamp(embedded, validation_context=context)
    problem = _pdf_problem(status)
    if problem:
        verdict = Verdict.INVALID
    elif status.trusted:
        verdict = Verdict.VALID
    else:
        verdict, problem = Verdict.INDETERMINATE, "the timestamp authority does not chain to a trusted root"
    return SignatureFacts(
        **base,
        signer=_name(status.signing_cert),
        signer_common_name=_name(status.signing_cert, "common_name"),
        signing_time=status.timestamp,
        timestamp_time=status.timestamp,
        best_signature_time=status.timestamp,
        intact=status.intact,
        crypto_valid=status.valid,
        trusted=status.trusted,
        coverage=status.coverage.name if status.coverage is not None else "",
        modifications=status.modification_level.name if status.modification_level is not None else "",
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        level="DocTimeStamp",
        verdict=verdict,
        subindication="" if verdict == Verdict.VALID else "NO_CERTIFICATE_CHAIN_FOUND",
        message=problem,
    )
