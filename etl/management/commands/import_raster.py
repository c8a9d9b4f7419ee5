"""``manage.py import_raster PATH --name NAME [--title TITLE]``: import an orthophoto GeoTIFF for the geo-portal.

A thin wrapper around :func:`etl.rasters.orthophoto_import`: one line on success
(``imported NAME: WIDTHxHEIGHT px, EPSG:SRID``), one line and a non-zero exit on refusal (a corrupt
or non-georeferenced file), nothing stored.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from etl.rasters import RasterImportRefused, orthophoto_import


class Command(BaseCommand):
    help = "Import a georeferenced GeoTIFF (an orthophoto) as a Cloud-Optimised GeoTIFF served by MapProxy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", required=True, help="the layer's name, a slug (e.g. casa-2024)")
        parser.add_argument("--title", default="", help="the title shown in the capabilities")

    def handle(self, *args, **options) -> None:
        # GDAL reports each unreadable tile of a damaged file on its own; the refusal below says it once.
        logging.getLogger("rasterio").setLevel(logging.CRITICAL)
        try:
            orthophoto = orthophoto_import(path=options["path"], name=options["name"], title=options["title"])
        except RasterImportRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"imported {orthophoto.name}: {orthophoto.width}x{orthophoto.height} px, EPSG:{orthophoto.srid}"
        )
