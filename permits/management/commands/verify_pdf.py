"""``python manage.py verify_pdf PATH [--trust PEM ...]``: validate every signature of a PDF.

Prints, per signature: signer, claimed and timestamped signing times, integrity, coverage, changes
after signing, PAdES level and its ETSI EN 319 102-1 indication; then the overall verdict, which is the
exit code: 0 valid (TOTAL-PASSED), 1 invalid (TOTAL-FAILED), 2 indeterminate. Trust roots: the ``--trust``
files, else the configured ones (``TAAMIR_SIGNING_TRUST_ROOTS`` and the development root).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from permits import pades
from permits.signing import validation_material


def _time(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def report_lines(report: pades.ValidationReport) -> list[str]:
    lines = [f"file sha256: {report.sha256} ({report.size} bytes)"]
    if report.problem:
        lines.append(f"problem: {report.problem}")
    for index, facts in enumerate(report.signatures, start=1):
        lines += [
            f"[{index}] {facts.kind} {facts.field_name}",
            f"    signer: {facts.signer or '-'}",
            f"    signing time (claimed): {_time(facts.signing_time)}; timestamp: {_time(facts.timestamp_time)}",
            f"    intact: {'yes' if facts.intact else 'NO'}; "
            f"signature: {'valid' if facts.crypto_valid else 'INVALID'}; "
            f"coverage: {facts.coverage or '-'}{' (whole file)' if facts.covers_whole_file else ''}; "
            f"later changes: {facts.modifications or '-'}",
            f"    level: {facts.level or '-'}; trusted: {'yes' if facts.trusted else 'no'}",
            f"    indication: {facts.verdict.value}{'/' + facts.subindication if facts.subindication else ''}"
            f"{' — ' + facts.message if facts.message else ''}",
        ]
    lines.append(f"verdict: {report.verdict.value}")
    return lines


class Command(BaseCommand):
    help = "Validate every signature of a PDF (exit 0 valid, 1 invalid, 2 indeterminate)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--trust", action="append", default=[], help="a trusted root certificate (PEM or DER)")
        parser.add_argument("--crl", action="append", default=[], help="a CRL to use (PEM or DER)")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            roots = [Path(p).read_bytes() for p in options["trust"]]
            crls = [Path(p).read_bytes() for p in options["crl"]]
        except OSError as exc:
            raise CommandError(f"{exc.filename}: {exc.strerror}") from exc
        material = validation_material()
        if roots:
            material = pades.ValidationMaterial(trust_roots=roots, crls=crls)
        elif crls:
            material = pades.ValidationMaterial(material.trust_roots, material.other_certs, material.crls + crls)
        report = pades.validate_pdf(data=path.read_bytes(), material=material)
        self.stdout.write("\n".join(report_lines(report)))
        sys.stdout.flush()
        if report.exit_code:
            sys.exit(report.exit_code)
