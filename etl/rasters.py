"""Importing orthophotos: a GeoTIFF checked, converted to a Cloud-Optimised GeoTIFF and recorded.

:func:`orthophoto_import` is the service behind ``manage.py import_raster``. The image is checked by
:func:`plans.raster.check_geotiff` (georeferenced, EPSG code, readable data), converted by
:func:`plans.raster.translate_to_cog` and stored with its footprint in EPSG:4326. The import is atomic:
the row and the file appear together, and a failure leaves neither (nor a half-written file).
MapProxy picks the new layer up by itself (:mod:`tiles.mapproxy_app` follows the orthophoto table).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.api_errors import DomainError
from geo.models import Orthophoto
from plans.extraction import PlanRefused
from plans.raster import translate_to_cog


class RasterImportRefused(DomainError):
    """The raster cannot be imported; the message says why in one line."""

    code = "raster-refused"


def orthophoto_import(*, path: Path, name: str, title: str = "", source: str = "") -> Orthophoto:
    """Import the GeoTIFF at ``path`` as the orthophoto ``name`` (a slug); a second import replaces the first."""
    slug = slugify(name)
    if not slug or slug != name:
        raise RasterImportRefused(_("The name must be a slug (letters, digits, hyphens): %(name)s") % {"name": name})
    path = Path(path)
    if not path.is_file():
        raise RasterImportRefused(_("No such file: %(path)s") % {"path": path})
    with tempfile.TemporaryDirectory(prefix="taamir-raster-") as work:
        cog = Path(work) / f"{slug}.tif"
        try:
            info = translate_to_cog(src=path, dst=cog)
        except PlanRefused as exc:
            raise RasterImportRefused(f"{path.name}: {exc}") from exc
        footprint = info.footprint_wgs84()
        orthophoto = Orthophoto.objects.filter(name=slug).first() or Orthophoto(name=slug)
        previous = orthophoto.file.name if orthophoto.pk else ""
        orthophoto.title = title or orthophoto.title or path.stem
        orthophoto.srid, orthophoto.bounds = info.srid, footprint
        orthophoto.width, orthophoto.height = info.width, info.height
        orthophoto.source = source or path.name
        with cog.open("rb") as handle:
            stored = orthophoto.file.storage.save(f"orthophotos/{slug}.tif", File(handle))
        try:
            with transaction.atomic():
                orthophoto.file.name = stored
                orthophoto.save()
                if previous and previous != stored:
                    old = previous
                    transaction.on_commit(lambda: orthophoto.file.storage.delete(old))
        except Exception:
            orthophoto.file.storage.delete(stored)
            raise
    return orthophoto
