"""What the plan readers return, whatever the format: the contract between the adapters and the services.

``plans.dxf.read_dxf`` (ezdxf) and ``plans.pdf.read_pdf`` (pypdfium2) each return an :class:`Extraction`
or raise :class:`PlanRefused` with a one-line reason the uploader can act on. Nothing here touches the
database: ``plans.services`` turns an extraction into a ``PlanVersion`` with its ``PlanFeature`` rows, and
``python manage.py inspect_plan`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry


class PlanRefused(Exception):
    """A file the importer will not take; ``str(exc)`` is a one-line, translated reason."""


@dataclass
class ExtractedShape:
    """A closed outline found in the drawing: a footprint or the site boundary.

    ``drawing`` is in drawing coordinates (the file's own units); ``world`` is the same outline in
    ``Extraction.crs_srid`` when the drawing is georeferenced, else None. ``area_m2`` is measured in
    metres (world CRS when known, else drawing units scaled by ``Extraction.metres_per_unit``), or None
    when the scale is unknown.
    """

    kind: str  # plans.models.FeatureKind value: "footprint" or "site_boundary"
    layer: str
    drawing: BaseGeometry
    world: BaseGeometry | None = None
    area_m2: float | None = None
    floors: int | None = None
    height_m: float | None = None


@dataclass
class Extraction:
    """Everything the importer read from one file (one page for a PDF)."""

    format: str  # "dxf" or "pdf"
    format_version: str  # e.g. "R2018 (AC1032)" or "PDF 1.7"
    units: str  # "mm", "cm", "m", "pt" (PDF), or "" when unknown
    units_inferred: bool = False
    metres_per_unit: float | None = None
    crs_srid: int | None = None
    crs_source: str = "none"  # plans.models.CrsSource value
    extent: tuple[float, float, float, float] | None = None  # drawing coordinates
    extent_wgs84: tuple[float, float, float, float] | None = None  # [min_lon, min_lat, max_lon, max_lat]
    transform: tuple[float, float, float, float, float, float] | None = None  # drawing -> crs_srid
    transform_kind: str = ""  # "identity", "geodata", "similarity", "affine"
    rmse_m: float | None = None
    shapes: list[ExtractedShape] = field(default_factory=list)
    floors: int | None = None
    warnings: list[str] = field(default_factory=list)
    entity_count: int | None = None
    # PDF only
    page: int | None = None
    page_count: int | None = None
    page_size_mm: tuple[float, float] | None = None
    declared_scale: int | None = None  # 1:n

    @property
    def footprints(self) -> list[ExtractedShape]:
        return [shape for shape in self.shapes if shape.kind == "footprint"]
