"""``verify_pdf``: the report of every signature and the ETSI EN 319 102-1 verdict as the exit code,
on our own signed documents (valid; one byte changed: invalid; unknown root: indeterminate) and on
pyHanko's public sample PDFs against their (expired) test CA."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from permits import pades
from permits.issuing import minutes_generate
from permits.signing import signature_queue
from tests.permits.signing_world import file_bytes, flip_one_byte, pki, pki_dir  # noqa: F401 - fixtures
from tests.permits.test_opinions import world  # noqa: F401 - the fixture
from tests.permits.test_signing import closed, in_english  # noqa: F401 - fixtures

ROOT = Path(django_settings.BASE_DIR)

# Expected verdict of each sample against the pyHanko testing CA (see docs/signatures.md for why).
SAMPLES = {
    "certified-with-indirect-refs-in-dir.pdf": pades.Verdict.INDETERMINATE,
    "minimal-signed-twice-both-created.pdf": pades.Verdict.INDETERMINATE,
    "minimal-two-fields-signed-twice.pdf": pades.Verdict.INDETERMINATE,
    "pades-lta-dss-indirect-arrs-test.pdf": pades.Verdict.INDETERMINATE,
    "pades-with-old-style-signing-cert-attr.pdf": pades.Verdict.INDETERMINATE,
    "sig-no-signed-attrs.pdf": pades.Verdict.INDETERMINATE,
    "sig-with-ski-sid.pdf": pades.Verdict.INDETERMINATE,
    "signature-gap-too-big.pdf": pades.Verdict.INVALID,
}


def verify(path: Path, *trust: Path) -> tuple[int, str]:
    """The command in this process: its exit code and output."""
    out = io.StringIO()
    args = [str(path)]
    for root in trust:
        args += ["--trust", str(root)]
    try:
        call_command("verify_pdf", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()
    return 0, out.getvalue()


def run_verify(path: Path, *trust: Path, signing_dir: Path | None = None) -> subprocess.CompletedProcess:
    """The command as a user runs it: a separate process, its exit code and output."""
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "TAAMIR_DB_NAME": django_settings.DATABASES["default"]["NAME"].removeprefix("test_")}  # fmt: skip
    if signing_dir is not None:
        env["TAAMIR_SIGNING_DIR"] = str(signing_dir)
    args = [sys.executable, str(ROOT / "manage.py"), "verify_pdf", str(path)]
    for root in trust:
        args += ["--trust", str(root)]
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.mark.shared_data
def test_the_pyhanko_samples_get_the_verdict_we_can_justify(shared_data):
    folder = shared_data / "signatures" / "pyhanko"
    root = (folder / "testing-ca" / "root.cert.pem").read_bytes()
    for name, expected in SAMPLES.items():
        report = pades.validate_pdf(data=(folder / name).read_bytes(), material=pades.ValidationMaterial([root]))
        assert report.verdict == expected, (
            name,
            [(s.field_name, s.subindication, s.message) for s in report.signatures],
        )
        assert all(s.intact for s in report.signatures if name != "signature-gap-too-big.pdf")
    # The document timestamp of the LTA sample is itself valid (its TSA certificate is still valid).
    lta = pades.validate_pdf(data=(folder / "pades-lta-dss-indirect-arrs-test.pdf").read_bytes(),
                             material=pades.ValidationMaterial([root]))  # fmt: skip
    assert [s.kind for s in lta.signatures] == ["signature", "document-timestamp"]
    assert lta.signatures[1].verdict == pades.Verdict.VALID
    # The one whose signature leaves a gap in the file: invalid, exit code 1.
    result = run_verify(folder / "signature-gap-too-big.pdf", folder / "testing-ca" / "root.cert.pem")
    assert result.returncode == 1 and "outside the signed ranges" in result.stdout
    assert result.stdout.strip().endswith("verdict: TOTAL-FAILED")
    # An expired signer certificate and no timestamp: intact but indeterminate, exit code 2.
    code, output = verify(folder / "sig-with-ski-sid.pdf", folder / "testing-ca" / "root.cert.pem")
    assert code == 2 and "intact: yes" in output


@pytest.mark.django_db
def test_our_signed_minutes_are_valid_and_a_changed_copy_invalid(closed, pki, tmp_path):  # noqa: F811
    minutes = minutes_generate(session=closed.session, actor=closed.president)
    signature_queue(document=minutes, user=closed.members["t-agency"], password="")
    signed = tmp_path / "minutes.pdf"
    signed.write_bytes(file_bytes(minutes))
    result = run_verify(signed, signing_dir=pki)  # as a user runs it: a process, its exit code
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: TOTAL-PASSED" in result.stdout and "intact: yes" in result.stdout
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(flip_one_byte(signed.read_bytes()))
    code, output = verify(tampered)
    assert code == 1 and "intact: NO" in output
    # Trusting only another root: intact, but trust cannot be established.
    other = tmp_path / "other-root.pem"
    other.write_bytes(_foreign_root())
    code, output = verify(signed, other)
    assert code == 2 and "verdict: INDETERMINATE" in output
    # The public page shows the signers and the verdict, and checks uploaded copies against the record.
    client = Client()
    page = client.get(f"/verify/{minutes.verification_code}/")
    assert page.status_code == 200 and 'data-verdict="TOTAL-PASSED"' in page.text
    with signed.open("rb") as handle:
        page = client.post(f"/verify/{minutes.verification_code}/", {"pdf": handle})
    assert 'data-matches="current"' in page.text and 'data-verdict="TOTAL-PASSED"' in page.text
    with tampered.open("rb") as handle:
        page = client.post(f"/verify/{minutes.verification_code}/", {"pdf": handle})
    assert 'data-matches="none"' in page.text and 'data-verdict="TOTAL-FAILED"' in page.text
    api = client.get(f"/api/documents/{minutes.verification_code}/validation/")
    assert api.status_code == 200 and api.json()["verdict"] == "TOTAL-PASSED"
    with tampered.open("rb") as handle:
        api = client.post(f"/api/documents/{minutes.verification_code}/validation/", {"pdf": handle})
    assert api.json()["verdict"] == "TOTAL-FAILED" and api.json()["matches"] == "none"


def _foreign_root() -> bytes:
    from cryptography.hazmat.primitives import serialization

    from permits.signing_pki import _certificate, _key, _name

    key = _key()
    cert = _certificate(subject=_name("Someone else"), public_key=key.public_key(), issuer=None, issuer_key=key,
                        days=30, ca=True)  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM)


def test_verify_pdf_refuses_a_missing_trust_file(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "x.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(CommandError, match=r"missing\.pem"):
        call_command("verify_pdf", str(path), "--trust", str(tmp_path / "missing.pem"))
