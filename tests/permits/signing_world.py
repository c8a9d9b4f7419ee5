"""Fixtures for the signature tests: a development PKI made once per test run, a recording local TSA
(RFC 3161 over real HTTP, answering with pyHanko's dummy timestamper), pdfsig with an NSS database that
trusts the dev root, and helpers to read signatures back."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from permits import pades
from permits.signing_pki import dev_ca, dev_password, signing_dir


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("signing-pki")


@pytest.fixture
def pki(settings, pki_dir) -> Path:
    """The development PKI (CA made once per run) with signing jobs applied in the request."""
    settings.TAAMIR_SIGNING_DIR = pki_dir
    settings.TAAMIR_SIGNING_DEV_PKI = True
    settings.TAAMIR_SIGNING_INLINE = True
    settings.TAAMIR_SIGNING_TSA_URL = ""
    settings.TAAMIR_SIGNING_IDENTITIES = ""
    dev_ca()
    return pki_dir


class RecordingTsa:
    """A local timestamp authority over HTTP that records each request it answers."""

    def __init__(self) -> None:
        folder = signing_dir()
        self.timestamper = pades.dummy_timestamper(
            tsa_cert_pem=(folder / "tsa.cert.pem").read_bytes(),
            tsa_key_pem=(folder / "tsa.key.pem").read_bytes(),
            password=dev_password("tsa").encode(),
        )
        self.requests: list[bytes] = []
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                tsa.requests.append(body)
                answer = pades.timestamp_response(timestamper=tsa.timestamper, request_der=body)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tsa(pki, settings):
    server = RecordingTsa()
    settings.TAAMIR_SIGNING_TSA_URL = server.url
    yield server
    server.close()


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory, pki_dir) -> Path | None:
    """An NSS database trusting the dev root, for ``pdfsig -nssdir`` (None without certutil)."""
    if shutil.which("certutil") is None:
        return None
    folder = tmp_path_factory.mktemp("nssdb")
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True, capture_output=True)
    return folder


def trust_dev_root(nss: Path, pki_dir: Path) -> None:
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "taamir-dev-root", "-t", "CT,C,C",
                    "-a", "-i", str(pki_dir / "root.cert.pem")], check=True, capture_output=True)  # fmt: skip


def pdfsig(path: Path, nss: Path | None = None) -> str:
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    command = ["pdfsig", "-nocert"] if nss is None else ["pdfsig", "-nssdir", f"sql:{nss}"]
    result = subprocess.run([*command, str(path)], capture_output=True, text=True)
    return result.stdout + result.stderr


def file_bytes(document) -> bytes:
    document.refresh_from_db()
    with document.file.open("rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == document.sha256
    return data


def flip_one_byte(data: bytes) -> bytes:
    """Change one byte inside the first signed range (in the page content, far from the signature)."""
    changed = bytearray(data)
    index = len(data) // 4
    changed[index] = changed[index] ^ 0x01
    return bytes(changed)
