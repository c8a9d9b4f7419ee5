"""Signing benchmark: a 10-page decision signed through our service vs a bare pyHanko call.

Ours: :func:`permits.pades.sign_pdf` as :mod:`permits.signing` calls it — PKCS#12 opened with its
password, the visible bilingual box (drawn with Pillow and libraqm) on the appended signatures page,
PAdES B-B with the chain's CRLs embedded (DSS). The peer: pyHanko's own ``signers.sign_pdf`` with a
``SimpleSigner`` loaded from the same PKCS#12, PAdES sub-filter, an invisible field, nothing else.
Both sign the same WeasyPrint PDF in memory with the same key; interleaved rounds, order reversed
every other round; ratio = median(ours) / median(bare pyHanko). No database is touched. (The peer
imports pyHanko here on purpose: it is the thing measured against.)
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from bench import timing
from bench.report import Row, Section

GOAL_RATIO = 1.2


def _decision_pdf(pages: int = 10) -> bytes:
    from weasyprint import HTML

    paragraph = "<p>" + ("Vu le dossier, les avis de la commission et le règlement d'urbanisme. " * 30) + "</p>"
    body = "".join(f"<h2>Article {n}</h2>{paragraph}<div style='page-break-after: always'></div>" for n in range(pages))
    return HTML(string=f"<html><body><h1>Arrêté</h1>{body}</body></html>").write_pdf()


def run(*, root: str, quick: bool, scales: list[int], log) -> list[Section]:
    from django.test import override_settings

    from permits import pades
    from permits.signing_pki import dev_password, pki_init, user_key_path

    rounds = 3 if quick else 15
    with (
        tempfile.TemporaryDirectory(prefix="taamir-bench-signing-") as folder,
        override_settings(TAAMIR_SIGNING_DIR=Path(folder)),
    ):

        class Signer:
            username, email = "bench.signatory", "bench@example.org"

            def get_full_name(self) -> str:
                return "Signataire de référence"

        pki_init(users=[Signer()])
        p12 = user_key_path(Signer.username).read_bytes()
        password = dev_password(f"user:{Signer.username}")
        material = pades.ValidationMaterial(
            trust_roots=[(Path(folder) / "root.cert.pem").read_bytes()],
            other_certs=[(Path(folder) / "interm.cert.pem").read_bytes()],
            crls=[(Path(folder) / name).read_bytes() for name in ("root.crl", "interm.crl")],
        )
        pdf = _decision_pdf()
        log(f"signing: a {len(pdf)} byte, 10-page decision; {rounds} rounds")
        box_lines = [
            ("Signé électroniquement par Signataire de référence", False),
            ("Autorité signataire", False),
            ("وقّع إلكترونياً: الموقّع المرجعي", True),
            ("السلطة الموقِّعة", True),
            ("28/11/2026 10:00", False),
        ]

        def ours() -> float:
            started = timing.now()
            key = pades.load_pkcs12(data=p12, password=password)
            box = pades.SignatureBox(slot=0, lines=box_lines, page_title=[("Signatures électroniques", False)])
            out = pades.sign_pdf(data=pdf, key=key, field_name="Signature1", box=box, material=material)
            elapsed = timing.now() - started
            assert out.data.startswith(pdf[:8])
            return elapsed

        def bare() -> float:
            from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
            from pyhanko.sign import fields, signers

            started = timing.now()
            signer = signers.SimpleSigner.load_pkcs12_data(p12, other_certs=None, passphrase=password.encode())
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            out = signers.sign_pdf(
                writer,
                signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES),
                signer=signer,
            )
            elapsed = timing.now() - started
            assert out.getvalue().startswith(pdf[:8])
            return elapsed

        ours(), bare()  # warm-up (fonts, imports)
        load_before = timing.load_average()
        result = timing.interleave(rounds, {"ours": ours, "bare pyHanko": bare}, log=log)
    medians = result.medians()
    ratio = medians["ours"] / medians["bare pyHanko"]
    raw = "\n".join(
        f"| {name} | {timing.milliseconds(medians[name])} | {timing.raw_list(result.times[name])} |"
        for name in result.names
    )
    return [
        Section(
            key="signing",
            title="Signing a 10-page decision: our service vs bare pyHanko",
            rows=[
                Row(
                    benchmark="Sign a 10-page decision (PAdES): `permits.pades.sign_pdf` vs bare `pyhanko.sign_pdf`",
                    ours=timing.milliseconds(medians["ours"]),
                    peer=f"{timing.milliseconds(medians['bare pyHanko'])} (bare pyHanko)",
                    ratio=ratio,
                    goal=f"≤ {GOAL_RATIO}",
                    met=ratio <= GOAL_RATIO,
                )
            ],
            method=(__doc__ or "").strip()
            + f"\n\nLoad average (1/5/15 min) before: {load_before}, after: {timing.load_average()}.",
            details=f"""Raw times, in the order measured ({rounds} rounds):

| contender | median | raw (s) |
| --- | --- | --- |
{raw}

Ours does more than the peer: a visible box (a 780×276 px picture with shaped Arabic), an appended
signatures page, and the revocation data of the chain in the DSS (an extra incremental update).""",
            raw={"times": result.times},
        )
    ]
