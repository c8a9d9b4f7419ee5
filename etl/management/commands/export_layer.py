"""``manage.py export_layer LAYER --format FMT -o PATH [--bbox …] [--commune CODE] [--since DATE]``.

A thin wrapper around :func:`etl.exports.export_layer`: a progress bar on stderr, one line on success
(``exported N features of LAYER to PATH``) and one line with a non-zero exit on refusal. The command
line is an operator's tool, so it may export the internal ``dossiers`` layer, but only when asked with
``--internal`` (a reminder that the file holds unpublished data).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from etl.exports import FORMATS, ExportRefused, export_filename, export_layer, parse_bbox, parse_since
from tiles.layers import LAYERS


class Command(BaseCommand):
    help = "Export a published layer as GeoPackage, zipped Shapefile, GeoJSON, CSV (WKT), KML or FlatGeobuf."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("layer", choices=[layer.name for layer in LAYERS])
        parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
        parser.add_argument("-o", "--output", type=Path, help="the file to write (default: ./LAYER.EXT)")
        parser.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat in EPSG:4326")
        parser.add_argument("--commune", help="only the features of this commune (official code)")
        parser.add_argument("--since", help="only features dated on or after this day (YYYY-MM-DD)")
        parser.add_argument("--internal", action="store_true", help="allow the internal layers (dossiers)")
        parser.add_argument("--batch-size", type=int, default=settings.TAAMIR_EXPORT_BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        name, fmt = options["layer"], options["fmt"]
        out_path: Path = options["output"] or Path(export_filename(layer_name=name, fmt=fmt))
        bar = tqdm(
            unit=" features", desc=f"export {name}", disable=True if options["no_progress"] else None, leave=False
        )
        try:
            result = export_layer(
                layer_name=name,
                fmt=fmt,
                out_path=out_path,
                allow_internal=options["internal"],
                bbox=parse_bbox(options["bbox"]) if options["bbox"] else None,
                commune=options["commune"],
                since=parse_since(options["since"]) if options["since"] else None,
                on_start=lambda total: bar.reset(total=total),
                progress=bar.update,
                batch_size=options["batch_size"],
            )
        except ExportRefused as exc:
            if exc.code == "unknown-layer" and not options["internal"]:
                raise CommandError(f"{exc.message} (internal layers need --internal)") from exc
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        self.stdout.write(f"exported {result.count} features of {name} to {out_path}")
