"""``python manage.py inspect_plan PATH [--json]``: what the importer reads from a plan file, nothing stored.

DXF files go through ``plans.dxf.read_dxf`` (with the configured footprint and site layers), PDF files
through ``plans.pdf.read_pdf``; the format is recognised from the first bytes. A refused file ends with
exit status 1 and one line giving the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from permits.filetypes import detect_format
from plans.extraction import Extraction, PlanRefused
from plans.isolation import extraction_to_dict


class Command(BaseCommand):
    help = "Print what the plan importer extracts from a DXF or PDF file, without storing anything."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="A DXF or PDF file.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--page", type=int, default=1, help="PDF page (1-based).")
        parser.add_argument("--units", choices=["mm", "cm", "dm", "m", "in", "ft"], help="Override DXF units.")
        parser.add_argument("--srid", type=int, help="Projected CRS tried first to detect national-grid coordinates.")

    def handle(self, *args, **options) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        size = path.stat().st_size
        if size > settings.TAAMIR_PLAN_MAX_MB * 1024 * 1024:
            raise CommandError(f"{path.name}: refused: larger than {settings.TAAMIR_PLAN_MAX_MB} MB")
        with path.open("rb") as handle:
            detected = detect_format(handle.read(2048))
        try:
            if detected == "dxf":
                from plans.dxf import read_dxf

                extraction = read_dxf(
                    path,
                    footprint_layers=settings.TAAMIR_PLAN_FOOTPRINT_LAYERS,
                    site_layers=settings.TAAMIR_PLAN_SITE_LAYERS,
                    units=options["units"],
                    projected_srid=options["srid"],
                )
            elif detected == "pdf":
                from plans.pdf import read_pdf

                extraction = read_pdf(path, page=options["page"])
            else:
                raise PlanRefused(f"not a DXF or PDF file (detected: {detected})")
        except PlanRefused as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(f"{path.name}: refused: {reason}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(extraction_to_dict(extraction), ensure_ascii=False))
        else:
            self.stdout.write(self._text(path, extraction))

    def _text(self, path: Path, extraction: Extraction) -> str:
        data = extraction_to_dict(extraction)
        units = data["units"] or "?"
        if data["units_inferred"]:
            units += " (inferred)"
        lines = [
            f"{path.name}: {data['format'].upper()} {data['version']}",
            f"  units: {units}",
            f"  crs: {data['crs'] or 'none'} (source: {data['crs_source']})",
            f"  extent: {_fmt_box(data['extent'])}",
            f"  extent_wgs84: {_fmt_box(data['extent_wgs84'], 6)}",
            f"  entities: {data['entity_count']}",
        ]
        if extraction.format == "pdf":
            lines.append(f"  page: {data['page']}/{data['page_count']}, {data['page_size_mm']} mm")
            lines.append(
                f"  declared scale: {'1:' + str(data['declared_scale']) if data['declared_scale'] else 'none'}"
            )
        for item in data["footprints"]:
            area = f"{item['area_m2']:.2f} m²" if item["area_m2"] is not None else "area unknown"
            floors = f", floors {item['floors']}" if item["floors"] else ""
            lines.append(f"  footprint on {item['layer']!r}: {area}{floors}")
        for item in data["site_boundaries"]:
            area = f"{item['area_m2']:.2f} m²" if item["area_m2"] is not None else "area unknown"
            lines.append(f"  site boundary on {item['layer']!r}: {area}")
        lines.extend(f"  warning: {warning}" for warning in data["warnings"])
        return "\n".join(lines)


def _fmt_box(box, digits: int = 3) -> str:
    return "none" if not box else "[" + ", ".join(f"{v:.{digits}f}" for v in box) + "]"
