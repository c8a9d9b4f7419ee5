"""Every write of the plans app: uploading a plan version, confirming units, georeferencing, calibrating.

Upload rules (:func:`upload_plan_version`):

* only the dossier's filers, while the dossier is a draft or changes were requested;
* the size limit (``TAAMIR_PLAN_MAX_MB``) is checked before anything is read; the format is recognised
  from the first bytes (DXF ASCII or binary, PDF), never from the name; the SHA-256 is kept;
* a small file is read at once: a refused file (damaged, no footprint, encrypted PDF...) raises
  :class:`PlanUploadRefused` and leaves nothing — no version, no file;
* a large DXF (over ``TAAMIR_PLAN_ASYNC_MB`` or about ``TAAMIR_PLAN_ASYNC_ENTITIES`` entities) is stored as a
  *processing* version and read by the ``process_plan_version`` job in a child process with memory and
  CPU-time limits (:mod:`plans.isolation`); if it is refused, the version is marked *refused* with the
  reason, gets no number and its file is removed;
* a version gets its number (v1, v2, ...) when it becomes *ready*; open annotations of the previous ready
  version of the sheet are then carried to it (``plans.annotations.carry_open_annotations``).

Ready versions are never deleted and their file never changes; confirming units, georeferencing and
calibrating only update what was derived from the file (features, transformation, raster).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from shapely.geometry import MultiPolygon as ShapelyMultiPolygon
from shapely.geometry import Polygon as ShapelyPolygon

from config.api_errors import DomainError
from geo.crs import transformer
from geo.models import STORAGE_SRID
from permits.audit import audit_append
from permits.filetypes import detect_format
from permits.models import Dossier, Status
from permits.workflow import is_filer
from plans.annotations import carry_open_annotations
from plans.extraction import Extraction, PlanRefused
from plans.models import ControlPoint, FeatureKind, PlanFeature, PlanFormat, PlanSet, PlanVersion, VersionStatus

logger = logging.getLogger(__name__)

PLAN_UPLOADABLE = {Status.DRAFT, Status.CHANGES_REQUESTED}
UNIT_CHOICES = ("mm", "cm", "dm", "m", "in", "ft")
_ENTITY_MARK = re.compile(rb"\n[ \t]*0[ \t]*\r?\n")


class PlanUploadRefused(DomainError):
    """A plan file or a plan operation refused, with a reason the user can act on."""

    code = "plan-refused"


class PlanForbidden(DomainError):
    http_status = status.HTTP_403_FORBIDDEN
    code = "forbidden"


def may_upload_plans(*, user, dossier: Dossier) -> bool:
    """The filers (or an administrator) of a dossier that accepts plans."""
    return bool(user.is_superuser or is_filer(user, dossier)) and dossier.status in PLAN_UPLOADABLE


def _require_filer(user, dossier: Dossier) -> None:
    if not (user.is_superuser or is_filer(user, dossier)):
        raise PlanForbidden(_("Only the architect or applicant who files this dossier may do this."))


# --- upload -----------------------------------------------------------------------------------------


def upload_plan_version(*, dossier: Dossier, sheet: str, uploaded_file: UploadedFile, by, page: int = 1) -> PlanVersion:
    """Check, read and store a new version of a sheet; raise :class:`PlanUploadRefused` for a refused file."""
    _require_filer(by, dossier)
    if dossier.status not in PLAN_UPLOADABLE:
        raise PlanUploadRefused(
            _("Plans cannot be added while the dossier is “%(status)s”.") % {"status": Status(dossier.status).label}
        )
    sheet = (sheet or "").strip()[:120]
    if not sheet:
        raise PlanUploadRefused(_("Name the sheet (for example “Ground floor” or “Site plan”)."))
    name = Path(uploaded_file.name or "plan").name[:255]
    size = uploaded_file.size or 0
    if size == 0:
        raise PlanUploadRefused(_("The file “%(name)s” is empty.") % {"name": name})
    if size > settings.TAAMIR_PLAN_MAX_MB * 1024 * 1024:
        raise PlanUploadRefused(
            _("The file “%(name)s” is larger than %(max)s MB.") % {"name": name, "max": settings.TAAMIR_PLAN_MAX_MB}
        )
    uploaded_file.seek(0)
    detected = detect_format(uploaded_file.read(2048))
    if detected not in (PlanFormat.DXF, PlanFormat.PDF):
        described = {"executable": _("a program"), "html": _("a web page (HTML)"), "unknown": _("of an unknown type")}
        raise PlanUploadRefused(
            _("“%(name)s” is %(what)s; plans are accepted as DXF or PDF.")
            % {"name": name, "what": described.get(detected, detected.upper())}
        )
    if page < 1:
        raise PlanUploadRefused(_("Page numbers start at 1."))

    with tempfile.TemporaryDirectory(prefix="taamir-upload-") as work:
        local = Path(work) / f"upload.{detected}"
        digest = hashlib.sha256()
        entity_marks = 0
        with local.open("wb") as out:
            uploaded_file.seek(0)
            tail = b""
            for chunk in uploaded_file.chunks():
                digest.update(chunk)
                out.write(chunk)
                if detected == PlanFormat.DXF:
                    entity_marks += len(_ENTITY_MARK.findall(tail + chunk)) - len(_ENTITY_MARK.findall(tail))
                    tail = chunk[-16:]
        fields = {"original_name": name, "format": detected, "size": size, "sha256": digest.hexdigest()}
        if detected == PlanFormat.DXF and (
            size > settings.TAAMIR_PLAN_ASYNC_MB * 1024 * 1024 or entity_marks > settings.TAAMIR_PLAN_ASYNC_ENTITIES
        ):
            return _store_processing(dossier=dossier, sheet=sheet, local=local, fields=fields, by=by)
        try:
            extraction, preview = _read(local, detected, dossier=dossier, page=page, isolated=False)
        except PlanRefused as exc:
            raise PlanUploadRefused(str(exc), code="plan-refused") from exc
        return _store_ready(
            dossier=dossier, sheet=sheet, local=local, fields=fields, extraction=extraction, preview=preview, by=by
        )


def plan_version_import(*, dossier: Dossier, sheet: str, path: Path, by) -> PlanVersion:
    """Read a plan file from disk and store it as the next ready version of a sheet (demo and data loading).

    No permission or dossier-status check (the caller is trusted); the file is read at once, whatever its size.
    """
    data = Path(path).read_bytes()
    detected = detect_format(data[:2048])
    if detected not in (PlanFormat.DXF, PlanFormat.PDF):
        raise PlanUploadRefused(_("“%(name)s” is %(what)s; plans are accepted as DXF or PDF.") % {
            "name": Path(path).name, "what": detected})  # fmt: skip
    fields = {
        "original_name": Path(path).name[:255],
        "format": detected,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    try:
        extraction, preview = _read(Path(path), detected, dossier=dossier, isolated=False)
    except PlanRefused as exc:
        raise PlanUploadRefused(str(exc)) from exc
    return _store_ready(
        dossier=dossier, sheet=sheet, local=Path(path), fields=fields, extraction=extraction, preview=preview, by=by
    )


def _reader_options(dossier: Dossier) -> dict:
    return {
        "footprint_layers": list(settings.TAAMIR_PLAN_FOOTPRINT_LAYERS),
        "site_layers": list(settings.TAAMIR_PLAN_SITE_LAYERS),
        "max_rmse_m": settings.TAAMIR_PLAN_MAX_RMSE_M,
        "projected_srid": getattr(dossier.commune, "projected_srid", None),
    }


def _read(
    path: Path, fmt: str, *, dossier: Dossier, page: int = 1, isolated: bool, extra: dict | None = None
) -> tuple[Extraction, tuple[bytes, str] | None]:
    """Run the reader of the format; the extraction and a preview ``(bytes, "svg" | "png")``."""
    if fmt == PlanFormat.PDF:
        from plans.pdf import read_pdf_with_preview

        extraction, png = read_pdf_with_preview(path, page=page, dpi=72)
        return extraction, (png, "png")
    options = {**_reader_options(dossier), **(extra or {})}
    if isolated:
        from plans.isolation import read_isolated

        extraction, svg = read_isolated(
            path,
            options=options,
            memory_mb=settings.TAAMIR_PLAN_JOB_MEMORY_MB,
            cpu_seconds=settings.TAAMIR_PLAN_JOB_CPU_SECONDS,
        )
        return extraction, ((svg, "svg") if svg else None)
    from plans.dxf import read_dxf_with_preview

    return read_dxf_with_preview(path, **options)


def _next_number(plan_set: PlanSet) -> int:
    return (plan_set.versions.aggregate(top=Max("number"))["top"] or 0) + 1


def _store_ready(
    *, dossier: Dossier, sheet: str, local: Path, fields: dict, extraction: Extraction, preview, by
) -> PlanVersion:
    stored: list[str] = []
    try:
        with transaction.atomic():
            Dossier.objects.select_for_update().filter(pk=dossier.pk).exists()
            plan_set, _created = PlanSet.objects.get_or_create(dossier=dossier, sheet=sheet)
            version = PlanVersion(plan_set=plan_set, status=VersionStatus.PROCESSING, uploaded_by=by, **fields)
            with local.open("rb") as handle:
                version.file.save("upload", ContentFile(handle.read()), save=False)
            stored.append(version.file.name)
            version.save()
            _make_ready(version, extraction, preview, stored)
            audit_append(
                action="plan.uploaded",
                actor=by,
                dossier_id=dossier.pk,
                payload={"sheet": sheet, "version": version.number, "sha256": version.sha256, "size": version.size},
            )
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return version


def _store_processing(*, dossier: Dossier, sheet: str, local: Path, fields: dict, by) -> PlanVersion:
    stored: list[str] = []
    try:
        with transaction.atomic():
            Dossier.objects.select_for_update().filter(pk=dossier.pk).exists()
            plan_set, _created = PlanSet.objects.get_or_create(dossier=dossier, sheet=sheet)
            version = PlanVersion(plan_set=plan_set, status=VersionStatus.PROCESSING, uploaded_by=by, **fields)
            with local.open("rb") as handle:
                version.file.save("upload", ContentFile(handle.read()), save=False)
            stored.append(version.file.name)
            version.save()
            audit_append(
                action="plan.uploaded",
                actor=by,
                dossier_id=dossier.pk,
                payload={"sheet": sheet, "processing": True, "sha256": version.sha256, "size": version.size},
            )
            transaction.on_commit(lambda: _defer_processing(version.pk))
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return version


def _defer_processing(version_id: int) -> None:
    from plans.tasks import process_plan_version

    process_plan_version.defer(version_id=version_id)


def version_process(*, version_id: int) -> PlanVersion | None:
    """The background job's work: read a processing version in a limited child process, then ready or refuse it."""
    version = PlanVersion.objects.select_related("plan_set__dossier__commune").filter(pk=version_id).first()
    if version is None or version.status != VersionStatus.PROCESSING:
        return version
    dossier = version.plan_set.dossier
    try:
        extraction, preview = _read(Path(version.file.path), version.format, dossier=dossier, isolated=True)
    except PlanRefused as exc:
        return _refuse(version, str(exc))
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = PlanVersion.objects.select_for_update().get(pk=version.pk)
            if locked.status != VersionStatus.PROCESSING:
                return locked
            _make_ready(locked, extraction, preview, stored)
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
    return locked


def _refuse(version: PlanVersion, reason: str) -> PlanVersion:
    with transaction.atomic():
        locked = PlanVersion.objects.select_for_update().get(pk=version.pk)
        file_name = locked.file.name
        locked.status = VersionStatus.REFUSED
        locked.refusal_reason = reason
        locked.file = ""
        locked.processed_at = timezone.now()
        locked.save(update_fields=["status", "refusal_reason", "file", "processed_at"])
        if file_name:
            transaction.on_commit(lambda: default_storage.delete(file_name))
    return locked


def _make_ready(version: PlanVersion, extraction: Extraction, preview, stored: list[str]) -> None:
    """Inside a transaction: number the version, copy the extraction, store the preview and the features."""
    plan_set = PlanSet.objects.select_for_update().get(pk=version.plan_set_id)
    previous = plan_set.versions.filter(status=VersionStatus.READY).order_by("-number").first()
    version.number = _next_number(plan_set)
    _apply_extraction(version, extraction)
    version.status = VersionStatus.READY
    version.processed_at = timezone.now()
    if preview is not None:
        content, extension = preview
        version.preview.save(f"preview.{extension}", ContentFile(content), save=False)
        stored.append(version.preview.name)
    version.save()
    _replace_features(version, extraction)
    if previous is not None:
        carry_open_annotations(from_version=previous, to_version=version)


def _apply_extraction(version: PlanVersion, extraction: Extraction) -> None:
    version.format_version = extraction.format_version[:40]
    version.units = extraction.units
    version.units_inferred = extraction.units_inferred
    version.page = extraction.page
    version.page_size_mm = list(extraction.page_size_mm) if extraction.page_size_mm else None
    version.declared_scale = extraction.declared_scale
    version.crs_srid = extraction.crs_srid
    version.crs_source = extraction.crs_source
    version.transform = list(extraction.transform) if extraction.transform else None
    version.transform_kind = extraction.transform_kind
    version.rmse_m = extraction.rmse_m
    version.extent = list(extraction.extent) if extraction.extent else None
    areas = [shape.area_m2 for shape in extraction.footprints if shape.area_m2 is not None]
    version.footprint_area_m2 = round(sum(areas), 2) if areas else None
    version.floors = extraction.floors
    version.warnings = list(extraction.warnings)
    version.entity_count = extraction.entity_count
    if extraction.format == PlanFormat.PDF and extraction.metres_per_unit and version.metres_per_unit is None:
        version.metres_per_unit = extraction.metres_per_unit


def _replace_features(version: PlanVersion, extraction: Extraction) -> None:
    """The version's features are its georeferenced shapes, in EPSG:4326 (none when not georeferenced)."""
    version.features.all().delete()
    if extraction.crs_srid is None:
        return
    to_wgs84 = transformer(extraction.crs_srid, STORAGE_SRID)
    for shape in extraction.shapes:
        if shape.world is None:
            continue
        wgs84 = shapely.transform(shape.world, lambda x, y: to_wgs84.transform(x, y), interleaved=False)
        if isinstance(wgs84, ShapelyPolygon):
            wgs84 = ShapelyMultiPolygon([wgs84])
        geom = GEOSGeometry(memoryview(wgs84.wkb), srid=STORAGE_SRID)
        if not isinstance(geom, MultiPolygon):
            continue
        PlanFeature.objects.create(
            version=version,
            kind=FeatureKind.FOOTPRINT if shape.kind == "footprint" else FeatureKind.SITE_BOUNDARY,
            layer=shape.layer[:255],
            floors=shape.floors,
            height_m=shape.height_m,
            area_m2=shape.area_m2 or 0.0,
            geom=geom,
        )


# --- after the upload: units, georeferencing, scale -------------------------------------------------


def _require_ready_dxf_or_pdf(version: PlanVersion) -> None:
    if version.status != VersionStatus.READY:
        raise PlanUploadRefused(_("This plan version is not ready."))


def _reread(version: PlanVersion, extra: dict) -> Extraction:
    dossier = version.plan_set.dossier
    big = (version.entity_count or 0) > settings.TAAMIR_PLAN_ASYNC_ENTITIES or (
        version.size > settings.TAAMIR_PLAN_ASYNC_MB * 1024 * 1024
    )
    try:
        if big:
            from plans.isolation import read_isolated

            extraction, _svg = read_isolated(
                Path(version.file.path),
                options={**_reader_options(dossier), **extra},
                memory_mb=settings.TAAMIR_PLAN_JOB_MEMORY_MB,
                cpu_seconds=settings.TAAMIR_PLAN_JOB_CPU_SECONDS,
                want_preview=False,
            )
            return extraction
        from plans.dxf import read_dxf

        return read_dxf(Path(version.file.path), **{**_reader_options(dossier), **extra})
    except PlanRefused as exc:
        raise PlanUploadRefused(str(exc)) from exc


def _control_extra(version: PlanVersion) -> dict:
    points = list(version.control_points.order_by("pk"))
    if version.crs_source != "control_points" or not points:
        return {}
    return {
        "control_points": [((p.drawing_x, p.drawing_y), (p.world_x, p.world_y)) for p in points],
        "control_srid": points[0].srid,
    }


def confirm_units(*, version: PlanVersion, units: str, by) -> PlanVersion:
    """The uploader confirms (or corrects) the units of a DXF; areas and detection are computed again."""
    _require_filer(by, version.plan_set.dossier)
    _require_ready_dxf_or_pdf(version)
    if version.format != PlanFormat.DXF:
        raise PlanUploadRefused(_("Units are confirmed on DXF drawings only; calibrate the scale of a PDF page."))
    if units not in UNIT_CHOICES:
        raise PlanUploadRefused(_("Unknown drawing unit “%(unit)s”.") % {"unit": units})
    extraction = _reread(version, {"units": units, **_control_extra(version)})
    with transaction.atomic():
        version = PlanVersion.objects.select_for_update().get(pk=version.pk)
        _apply_extraction(version, extraction)
        version.units_confirmed = True
        version.save()
        _replace_features(version, extraction)
        audit_append(
            action="plan.units_confirmed",
            actor=by,
            dossier_id=version.plan_set.dossier_id,
            payload={"version": version.pk, "units": units},
        )
    return version


def georeference_version(
    *, version: PlanVersion, points: Sequence[tuple[tuple[float, float], tuple[float, float]]], srid: int, by
) -> PlanVersion:
    """Fit control points (drawing → ``srid``), refuse a fit above ``TAAMIR_PLAN_MAX_RMSE_M``, store the result.

    A DXF is read again with the fit (its features recomputed); a PDF page is rendered as a
    Cloud-Optimised GeoTIFF in ``srid`` (``version.raster``).
    """
    from plans import georef

    dossier = version.plan_set.dossier
    _require_filer(by, dossier)
    _require_ready_dxf_or_pdf(version)
    try:
        fitted = georef.fit(pairs=points)
        georef.check_fit(fitted, max_rmse_m=settings.TAAMIR_PLAN_MAX_RMSE_M)
        from plans.dxf import _require_projected

        _require_projected(int(srid))
    except PlanRefused as exc:
        raise PlanUploadRefused(str(exc)) from exc
    srid = int(srid)
    extraction = None
    raster_name = None
    if version.format == PlanFormat.DXF:
        extra = {"control_points": [list(map(list, p)) for p in points], "control_srid": srid}
        if version.units_confirmed and version.units:
            extra["units"] = version.units
        extraction = _reread(version, extra)
    else:
        from plans.pdf import page_to_cog

        with tempfile.TemporaryDirectory(prefix="taamir-cog-") as work:
            out = Path(work) / "page.tif"
            try:
                page_to_cog(
                    Path(version.file.path),
                    page=version.page or 1,
                    transform=fitted.coefficients,
                    srid=srid,
                    out_path=out,
                )
            except PlanRefused as exc:
                raise PlanUploadRefused(str(exc)) from exc
            raster_name = default_storage.save(
                f"plans/{dossier.pk}/{version.plan_set_id}/derived/v{version.number}-p{version.page or 1}-{srid}.tif",
                ContentFile(out.read_bytes()),
            )
    try:
        with transaction.atomic():
            version = PlanVersion.objects.select_for_update().get(pk=version.pk)
            version.control_points.all().delete()
            for (drawing, world), residual in zip(points, fitted.residuals_m, strict=True):
                ControlPoint.objects.create(
                    version=version,
                    drawing_x=float(drawing[0]),
                    drawing_y=float(drawing[1]),
                    world_x=float(world[0]),
                    world_y=float(world[1]),
                    srid=srid,
                    residual_m=residual,
                )
            if extraction is not None:
                _apply_extraction(version, extraction)
                version.save()
                _replace_features(version, extraction)
            else:
                version.crs_srid = srid
                version.crs_source = "control_points"
                version.transform = list(fitted.coefficients)
                version.transform_kind = fitted.kind
                version.rmse_m = fitted.rmse_m
                if version.metres_per_unit is None:
                    version.metres_per_unit = fitted.scale
                old_raster = version.raster.name
                version.raster.name = raster_name
                version.raster_updated_at = timezone.now()
                version.save()
                if old_raster and old_raster != raster_name:
                    transaction.on_commit(lambda: default_storage.delete(old_raster))
                # Its raster tiles (MapProxy) are drawn again from the new raster; imported here so that
                # the plans app does not load MapProxy.
                from tiles.mapproxy_app import rebuild_plan_cache

                transaction.on_commit(lambda: rebuild_plan_cache(version=version))
            audit_append(
                action="plan.georeferenced",
                actor=by,
                dossier_id=dossier.pk,
                payload={"version": version.pk, "srid": srid, "kind": fitted.kind, "rmse_m": fitted.rmse_m},
            )
    except Exception:
        if raster_name:
            default_storage.delete(raster_name)
        raise
    return version


def calibrate_scale(
    *, version: PlanVersion, p1: tuple[float, float], p2: tuple[float, float], distance_m: float, by
) -> PlanVersion:
    """Two drawing points a known distance apart give the metres per drawing unit (to measure a plan)."""
    _require_filer(by, version.plan_set.dossier)
    _require_ready_dxf_or_pdf(version)
    try:
        length = math.hypot(float(p2[0]) - float(p1[0]), float(p2[1]) - float(p1[1]))
        distance = float(distance_m)
    except (TypeError, ValueError, IndexError) as exc:
        raise PlanUploadRefused(_("Give two points (x, y) and a distance in metres.")) from exc
    if not (math.isfinite(length) and math.isfinite(distance)) or length <= 0:
        raise PlanUploadRefused(_("The two calibration points must be different."))
    if distance <= 0:
        raise PlanUploadRefused(_("The known distance must be more than 0 m."))
    with transaction.atomic():
        version = PlanVersion.objects.select_for_update().get(pk=version.pk)
        version.metres_per_unit = distance / length
        version.save(update_fields=["metres_per_unit"])
        audit_append(
            action="plan.calibrated",
            actor=by,
            dossier_id=version.plan_set.dossier_id,
            payload={"version": version.pk, "metres_per_unit": version.metres_per_unit},
        )
    return version
