"""The development PKI and the signers' key files (``cryptography`` only; signing itself is in :mod:`permits.pades`).

``signing_init`` builds, under ``TAAMIR_SIGNING_DIR``: a root CA and an intermediate CA (keys as
encrypted PKCS#8), their CRLs (the certificates name them as distribution points, so the CRLs are what
PAdES B-LT embeds), a timestamping certificate for a local TSA, and one PKCS#12 file per staff user.
Every private key is encrypted; the development passwords are derived from ``SECRET_KEY`` with HMAC, so
nothing secret is written in clear. Production signers use PKCS#12 files or PKCS#11 tokens listed in
``TAAMIR_SIGNING_IDENTITIES`` instead, with passwords only they know.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

ORGANISATION = "Taamir (development)"
CRL_DAYS = 365


def signing_dir() -> Path:
    return Path(settings.TAAMIR_SIGNING_DIR)


def dev_password(purpose: str) -> str:
    """The password of a development key, derived from SECRET_KEY (never written anywhere)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"taamir-signing:{purpose}".encode(), hashlib.sha256).hexdigest()[:32]


def user_key_path(username: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in username)
    return signing_dir() / "users" / f"{safe}.p12"


def _name(common_name: str, **extra: str) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, extra.get("organisation") or ORGANISATION),
    ]
    if extra.get("unit"):
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, extra["unit"][:64]))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]))
    if extra.get("email"):
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, extra["email"]))
    return x509.Name(attributes)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def crl_url(ca: str) -> str:
    return f"{settings.TAAMIR_PUBLIC_URL.rstrip('/')}/signing/crl/{ca}.crl"


@dataclass
class CA:
    name: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write a file atomically (a reader never sees half of it); private files are readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    if private:
        temporary.chmod(0o600)
    os.replace(temporary, path)


@contextmanager
def _pki_lock():
    """One process at a time creates CAs and key files (tests and workers may share the folder)."""
    folder = signing_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_key(path: Path, key, password: str) -> None:
    _write(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        ),
        private=True,
    )


def _certificate(
    *,
    subject: x509.Name,
    public_key,
    issuer: CA | None,
    issuer_key,
    days: int,
    ca: bool,
    path_length: int | None = None,
    eku=None,
    crl_of: str = "",
    not_before: datetime | None = None,
) -> x509.Certificate:
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.cert.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=eku is None,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if crl_of:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url(crl_of))],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _load_ca(name: str) -> CA | None:
    folder = signing_dir()
    cert_path, key_path = folder / f"{name}.cert.pem", folder / f"{name}.key.pem"
    if not (cert_path.exists() and key_path.exists()):
        return None
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), dev_password(f"ca:{name}").encode())
    return CA(name, cert, key)


def _crl(ca: CA) -> bytes:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + timedelta(days=CRL_DAYS))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@dataclass
class PkiSummary:
    created_ca: bool
    users_created: list[str]
    users_kept: list[str]


def _ensure_ca() -> tuple[CA, CA, bool]:
    folder = signing_dir()
    folder.mkdir(parents=True, exist_ok=True)
    root, interm = _load_ca("root"), _load_ca("interm")
    created = False
    if root is None:
        key = _key()
        subject = _name("Taamir Dev Root CA")
        cert = _certificate(
            subject=subject, public_key=key.public_key(), issuer=None, issuer_key=key, days=3650, ca=True, path_length=1
        )
        root = CA("root", cert, key)
        _write_key(folder / "root.key.pem", key, dev_password("ca:root"))
        _write(folder / "root.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
        interm, created = None, True
    if interm is None:
        key = _key()
        cert = _certificate(
            subject=_name("Taamir Dev Signing CA"),
            public_key=key.public_key(),
            issuer=root,
            issuer_key=root.key,
            days=1825,
            ca=True,
            path_length=0,
            crl_of="root",
        )
        interm = CA("interm", cert, key)
        _write_key(folder / "interm.key.pem", key, dev_password("ca:interm"))
        _write(folder / "interm.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
        created = True
    for ca in (root, interm):
        crl_path = folder / f"{ca.name}.crl"
        fresh = False
        if crl_path.exists() and not created:
            current = x509.load_der_x509_crl(crl_path.read_bytes())
            fresh = current.next_update_utc is not None and current.next_update_utc > datetime.now(UTC) + timedelta(
                days=30
            )
        if not fresh:
            _write(crl_path, _crl(ca))
    tsa_cert = folder / "tsa.cert.pem"
    if created or not tsa_cert.exists():
        key = _key()
        cert = _certificate(
            subject=_name("Taamir Dev Timestamp Authority"),
            public_key=key.public_key(),
            issuer=root,
            issuer_key=root.key,
            days=1825,
            ca=False,
            eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        )
        _write_key(folder / "tsa.key.pem", key, dev_password("tsa"))
        _write(tsa_cert, cert.public_bytes(serialization.Encoding.PEM))
    return root, interm, created


def user_certificate_issue(
    *,
    interm: CA,
    root: CA,
    username: str,
    full_name: str,
    email: str,
    unit: str,
    days: int = 730,
    not_before: datetime | None = None,
    password: str | None = None,
) -> bytes:
    """A PKCS#12 file (key + certificate + chain) for one signer, encrypted with ``password``."""
    key = _key()
    cert = _certificate(
        subject=_name(full_name or username, unit=unit, email=email),
        public_key=key.public_key(),
        issuer=interm,
        issuer_key=interm.key,
        days=days,
        ca=False,
        crl_of="interm",
        not_before=not_before,
    )
    secret = password if password is not None else dev_password(f"user:{username}")
    return pkcs12.serialize_key_and_certificates(
        username.encode(), key, cert, [interm.cert, root.cert], serialization.BestAvailableEncryption(secret.encode())
    )


def pki_init(*, users: list, unit_for=lambda user: "") -> PkiSummary:
    """Create the CAs (once) and a PKCS#12 file for each user that has none; idempotent."""
    with _pki_lock():
        return _pki_init(users=users, unit_for=unit_for)


def _pki_init(*, users: list, unit_for) -> PkiSummary:
    root, interm, created_ca = _ensure_ca()
    created, kept = [], []
    for user in users:
        path = user_key_path(user.username)
        if path.exists() and not created_ca:
            kept.append(user.username)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        data = user_certificate_issue(
            interm=interm,
            root=root,
            username=user.username,
            full_name=user.get_full_name() or user.username,
            email=user.email or "",
            unit=unit_for(user),
        )
        _write(path, data, private=True)
        created.append(user.username)
    return PkiSummary(created_ca=created_ca, users_created=created, users_kept=kept)


def dev_ca() -> tuple[CA, CA]:
    """The development root and intermediate (created when missing)."""
    with _pki_lock():
        root, interm, _created = _ensure_ca()
    return root, interm


def dev_material_files() -> dict[str, list[Path]]:
    """The dev PKI's public files: trust root, intermediate, CRLs (empty lists when not initialised)."""
    folder = signing_dir()
    present = [p for p in (folder / "root.cert.pem",) if p.exists()]
    return {
        "roots": present,
        "certs": [p for p in (folder / "interm.cert.pem",) if p.exists()],
        "crls": [p for p in (folder / "root.crl", folder / "interm.crl") if p.exists()],
    }


def configured_identities() -> dict[str, dict]:
    """``TAAMIR_SIGNING_IDENTITIES``: JSON text, or the path of a JSON file."""
    raw = (settings.TAAMIR_SIGNING_IDENTITIES or "").strip()
    if not raw:
        return {}
    if not raw.startswith("{"):
        raw = Path(raw).read_text()
    return json.loads(raw)
