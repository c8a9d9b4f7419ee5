"""Read a plan file in a child process with memory and CPU-time limits, and (de)serialise extractions.

A drawing with millions of entities can use gigabytes and minutes: the reader then runs in a separate
Python process (``python -m plans.isolation``) whose address space (``RLIMIT_AS``) and CPU time
(``RLIMIT_CPU``) are capped by ``TAAMIR_PLAN_JOB_MEMORY_MB`` and ``TAAMIR_PLAN_JOB_CPU_SECONDS`` once it
has started (the interpreter with Django, GDAL and PROJ loaded already maps several hundred MB). The parent
sends one JSON request on stdin and gets one JSON answer on stdout: the extraction (geometries as WKB
hex) or the refusal. A child killed by a limit becomes a :class:`PlanRefused` with a clear reason.

:func:`extraction_to_dict` is also what ``inspect_plan --json`` prints (without geometries).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from shapely import wkb

from plans.extraction import ExtractedShape, Extraction, PlanRefused

_SCALARS = (
    "format_version",
    "units",
    "units_inferred",
    "metres_per_unit",
    "crs_srid",
    "crs_source",
    "transform_kind",
    "rmse_m",
    "floors",
    "entity_count",
    "page",
    "page_count",
    "declared_scale",
)


def _tuple(value):
    return tuple(value) if value is not None else None


def extraction_to_dict(extraction: Extraction, *, geometries: bool = False) -> dict:
    """A JSON-ready description of an extraction (the ``inspect_plan --json`` object)."""
    crs = f"EPSG:{extraction.crs_srid}" if extraction.crs_srid else None
    out: dict = {
        "format": extraction.format,
        "version": extraction.format_version,
        "units": extraction.units or None,
        "units_inferred": extraction.units_inferred,
        "metres_per_unit": extraction.metres_per_unit,
        "crs": crs,
        "crs_source": extraction.crs_source,
        "transform": list(extraction.transform) if extraction.transform else None,
        "transform_kind": extraction.transform_kind or None,
        "rmse_m": extraction.rmse_m,
        "extent": list(extraction.extent) if extraction.extent else None,
        "extent_wgs84": list(extraction.extent_wgs84) if extraction.extent_wgs84 else None,
        "entity_count": extraction.entity_count,
        "floors": extraction.floors,
        "footprints": [_shape(shape, geometries) for shape in extraction.footprints],
        "site_boundaries": [_shape(shape, geometries) for shape in extraction.shapes if shape.kind != "footprint"],
        "warnings": list(extraction.warnings),
    }
    if extraction.format == "pdf":
        out.update(
            page=extraction.page,
            page_count=extraction.page_count,
            page_size_mm=list(extraction.page_size_mm) if extraction.page_size_mm else None,
            declared_scale=extraction.declared_scale,
        )
    return out


def _shape(shape: ExtractedShape, geometries: bool) -> dict:
    out = {
        "layer": shape.layer,
        "area_m2": shape.area_m2,
        "floors": shape.floors,
        "height_m": shape.height_m,
        "bounds": [round(v, 3) for v in shape.drawing.bounds],
    }
    if geometries:
        out["kind"] = shape.kind
        out["drawing"] = shape.drawing.wkb_hex
        out["world"] = shape.world.wkb_hex if shape.world is not None else None
    return out


def extraction_from_dict(data: dict) -> Extraction:
    """The inverse of ``extraction_to_dict(..., geometries=True)``."""
    shapes = [
        ExtractedShape(
            kind=item["kind"],
            layer=item["layer"],
            drawing=wkb.loads(item["drawing"], hex=True),
            world=wkb.loads(item["world"], hex=True) if item.get("world") else None,
            area_m2=item["area_m2"],
            floors=item["floors"],
            height_m=item["height_m"],
        )
        for item in data["footprints"] + data["site_boundaries"]
    ]
    extraction = Extraction(format=data["format"], format_version=data["version"], units=data["units"] or "")
    for name in _SCALARS:
        if name == "format_version":
            continue
        if name in data:
            setattr(extraction, name, data[name])
    extraction.units = data["units"] or ""
    extraction.crs_srid = int(data["crs"].split(":", 1)[1]) if data.get("crs") else None
    extraction.transform = _tuple(data["transform"])
    extraction.transform_kind = data["transform_kind"] or ""
    extraction.extent = _tuple(data["extent"])
    extraction.extent_wgs84 = _tuple(data["extent_wgs84"])
    extraction.page_size_mm = _tuple(data.get("page_size_mm"))
    extraction.shapes = shapes
    extraction.warnings = list(data["warnings"])
    return extraction


# --- parent side ------------------------------------------------------------------------------------


def read_isolated(
    path: Path, *, options: dict, memory_mb: int, cpu_seconds: int, want_preview: bool = True
) -> tuple[Extraction, bytes | None]:
    """Run :func:`plans.dxf.read_dxf` on ``path`` in a limited child process; its extraction and SVG preview."""
    from django.conf import settings
    from django.utils.translation import get_language
    from django.utils.translation import gettext as _

    with tempfile.TemporaryDirectory(prefix="taamir-plan-") as work:
        preview_path = Path(work) / "preview.svg"
        request = {
            "path": str(path),
            "options": options,
            "language": get_language() or settings.LANGUAGE_CODE,
            "preview": str(preview_path) if want_preview else None,
            "memory_bytes": memory_mb * 1024 * 1024,
            "cpu_seconds": cpu_seconds,
        }
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "plans.isolation"],
                input=json.dumps(request).encode(),
                capture_output=True,
                cwd=str(settings.BASE_DIR),
                env=env,
                timeout=cpu_seconds * 3 + 60,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PlanRefused(
                _("Reading the drawing took longer than allowed (%(seconds)s s of processing).")
                % {"seconds": cpu_seconds}
            ) from exc
        stderr = completed.stderr.decode(errors="replace")
        if completed.returncode in (-signal.SIGXCPU, -signal.SIGKILL) or "SIGXCPU" in stderr:
            raise PlanRefused(
                _("Reading the drawing took longer than allowed (%(seconds)s s of processing).")
                % {"seconds": cpu_seconds}
            )
        if "MemoryError" in stderr or completed.returncode == -signal.SIGSEGV or completed.stdout == b"MEMORY":
            raise PlanRefused(_("Reading the drawing needs more memory than allowed (%(mb)s MB).") % {"mb": memory_mb})
        try:
            answer = json.loads(completed.stdout.decode())
        except ValueError as exc:
            raise PlanRefused(_("The drawing could not be read (the reader stopped unexpectedly).")) from exc
        if answer.get("refused"):
            raise PlanRefused(answer["refused"])
        preview = preview_path.read_bytes() if want_preview and preview_path.exists() else None
        return extraction_from_dict(answer["extraction"]), preview


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


# --- child side -------------------------------------------------------------------------------------


def main() -> int:
    """The child: read one request on stdin, print one answer on stdout."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from django.utils import translation

    from plans.dxf import load_everything, read_dxf, read_dxf_with_preview

    request = json.loads(sys.stdin.read())
    translation.activate(request.get("language") or "fr")
    path = Path(request["path"])
    load_everything()
    # The limits apply to reading the drawing, not to starting Python, Django and GDAL (hundreds of MB).
    _limit(request["memory_bytes"], request["cpu_seconds"])
    try:
        if request.get("preview"):
            extraction, rendered = read_dxf_with_preview(path, **request["options"])
            if rendered is not None:
                Path(request["preview"]).write_bytes(rendered[0])
        else:
            extraction = read_dxf(path, **request["options"])
        answer = json.dumps({"extraction": extraction_to_dict(extraction, geometries=True)})
    except PlanRefused as exc:
        answer = json.dumps({"refused": str(exc)})
    except MemoryError:
        answer = "MEMORY"
    sys.stdout.write(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
