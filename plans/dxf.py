"""The one ezdxf adapter: read a DXF drawing (R12 to R2018, ASCII or binary) into an :class:`Extraction`.

What it does, in order:

1. **Open** the file with ``ezdxf.readfile``; a file with structural errors is read again in *recover* mode
   (``ezdxf.recover``) with a warning; a file that even recover mode cannot read is refused.
2. **Units** from ``$INSUNITS`` (4 mm, 5 cm, 6 m, 14 dm, 1 inch, 2 feet). A unitless drawing (0, or R12
   which has no such header) gets units *inferred* from the size of its outlines (under 1,000 → metres,
   under 5,000 → centimetres, otherwise millimetres) with a warning the uploader must confirm.
3. **Outlines**: closed LWPOLYLINE / 2D POLYLINE (closed flag, or first point = last point) and HATCH
   boundary paths, also inside block references (``virtual_entities``; an entity on layer ``0`` inside a
   block takes the layer of its INSERT). A layer is a *footprint* layer when its name, or one of its parts
   split on ``-``, ``_``, ``.``, space or ``|`` (``A-BATI``, ``BATI_R+3``), is one of the configured
   names; the same for the site-boundary layers. When no footprint layer holds an outline, the largest
   closed outline of the drawing (frames and title blocks excepted) is taken, with a warning. A drawing with
   no closed outline at all is refused — unless it is georeferenced (a situation plan), which is kept with a
   warning.
4. **Floors**: a text, multi-line text or block attribute reading ``R+n`` (Moroccan usage: ground floor
   plus n, i.e. n + 1 levels) or ``RDC`` inside a footprint, or ``R+n`` in the footprint's layer name,
   gives the footprint's floors; ``H=12.5`` (metres) gives its height.
5. **Georeferencing**, first that applies: control points given by the caller (similarity/affine fit by
   :mod:`plans.georef`); the GEODATA object (its reference point and the CRS of its coordinate-system XML,
   e.g. ``OSGB1936.NationalGrid`` → EPSG:27700, ``WORLD-MERCATOR`` → EPSG:3395); coordinates that already lie
   in a Moroccan Lambert zone (EPSG:26191–26195, the commune's zone first) — *detected*, with a warning
   to confirm. A GEODATA object without a usable coordinate system is ignored with a warning.
6. Areas are measured in metres: in the Moroccan zone when the CRS is one, else in the measurement CRS of
   the place (:func:`geo.crs.measurement_srid_for`), else in drawing units times the scale.

:func:`render_preview` draws the modelspace as SVG with ezdxf's drawing add-on (matplotlib is not
installed, so no PNG). Nothing here touches the database.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import ezdxf
import shapely
from django.utils.translation import gettext as _
from ezdxf import bbox as ezdxf_bbox
from ezdxf import path as ezdxf_path
from ezdxf import recover
from ezdxf.lldxf.const import DXFError, acad_release
from shapely import make_valid
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.crs import MOROCCAN_PROJECTED_SRIDS, UnknownCRS, crs_from_user_input, measurement_srid_for, transformer
from plans.extraction import ExtractedShape, Extraction, PlanRefused

logger = logging.getLogger(__name__)
# ezdxf reports every repair it makes (missing dictionaries, duplicate handles) at INFO/WARNING; what matters
# reaches the user as a warning of the extraction instead.
logging.getLogger("ezdxf").setLevel(logging.ERROR)

# $INSUNITS code -> (our unit name, metres per unit)
INSUNITS = {4: ("mm", 0.001), 5: ("cm", 0.01), 6: ("m", 1.0), 14: ("dm", 0.1), 1: ("in", 0.0254), 2: ("ft", 0.3048)}
METRES_PER_UNIT = {name: factor for name, factor in INSUNITS.values()}
SUPPORTED_VERSIONS = ("AC1009", "AC1012", "AC1014", "AC1015", "AC1018", "AC1021", "AC1024", "AC1027", "AC1032")
# Layers never taken as a footprint by the fallback: the sheet's frame and title block.
FRAME_WORDS = {"BORDER", "FRAME", "TITLE", "CARTOUCHE", "CADRE", "VIEWPORT", "VPORT", "DEFPOINTS", "FG-BORDER"}
MAX_BLOCK_DEPTH = 8
MAX_PREVIEW_ENTITIES = 200_000
_LAYER_SPLIT = re.compile(r"[-_.\s|]+")
_FLOORS = re.compile(r"(?<![A-Za-z0-9])R\s*\+\s*(\d{1,2})(?!\d)", re.IGNORECASE)
_GROUND_ONLY = re.compile(r"\b(RDC|R\.D\.C\.?)\b", re.IGNORECASE)
_HEIGHT = re.compile(r"\bH\s*=\s*(\d{1,3}(?:[.,]\d+)?)\s*m?\b", re.IGNORECASE)


@dataclass
class _Outline:
    layer: str
    polygon: Polygon


@dataclass
class _Label:
    layer: str
    x: float
    y: float
    text: str


def layer_matches(layer: str, names: Iterable[str]) -> bool:
    """True when the layer, or one of its parts (``A-BATI`` → ``A``, ``BATI``), is one of ``names``."""
    wanted = {name.strip().upper() for name in names if name.strip()}
    upper = layer.strip().upper()
    return upper in wanted or any(part in wanted for part in _LAYER_SPLIT.split(upper))


def open_drawing(path: Path) -> tuple[ezdxf.document.Drawing, list[str]]:
    """The ezdxf document and the warnings of opening it; recover mode for a damaged file."""
    try:
        return ezdxf.readfile(str(path)), []
    except (DXFError, UnicodeDecodeError, ValueError, IndexError, KeyError, TypeError, EOFError) as first:
        logger.debug("DXF %s needs recover mode: %s", path, first)
    except OSError as exc:
        raise PlanRefused(_("The DXF file cannot be read (%(error)s).") % {"error": exc.strerror or exc}) from exc
    try:
        doc, auditor = recover.readfile(str(path))
    except (DXFError, UnicodeDecodeError, ValueError, IndexError, KeyError, TypeError, EOFError, OSError) as exc:
        raise PlanRefused(_("The file is not a DXF drawing that can be read, even in recover mode.")) from exc
    if auditor.has_errors:
        raise PlanRefused(
            _("The DXF file is too damaged to recover (%(count)s unrecoverable errors).")
            % {"count": len(auditor.errors)}
        )
    return doc, [
        _("The DXF file was damaged and read in recover mode (%(count)s problems fixed); check the drawing.")
        % {"count": len(auditor.fixes)}
    ]


def read_dxf(
    path: Path,
    *,
    footprint_layers: Sequence[str],
    site_layers: Sequence[str],
    control_points: Sequence[tuple[tuple[float, float], tuple[float, float]]] | None = None,
    control_srid: int | None = None,
    max_rmse_m: float | None = None,
    units: str | None = None,
    projected_srid: int | None = None,
) -> Extraction:
    """Read a DXF drawing; raise :class:`PlanRefused` with a one-line reason for a file it will not take.

    ``control_points`` (drawing (x, y), world (X, Y) in ``control_srid``) georeference the drawing and win
    over GEODATA; ``units`` is the uploader's confirmed unit (overrides $INSUNITS and inference);
    ``projected_srid`` is the commune's zone, tried first when detecting Moroccan coordinates.
    """
    doc, warnings = open_drawing(Path(path))
    return _read_document(
        doc,
        warnings,
        footprint_layers=footprint_layers,
        site_layers=site_layers,
        control_points=control_points,
        control_srid=control_srid,
        max_rmse_m=max_rmse_m,
        units=units,
        projected_srid=projected_srid,
    )


def read_dxf_with_preview(path: Path, **options) -> tuple[Extraction, tuple[bytes, str] | None]:
    """:func:`read_dxf` and :func:`render_preview` on one parse of the file (an upload needs both)."""
    doc, warnings = open_drawing(Path(path))
    extraction = _read_document(doc, warnings, **options)
    return extraction, _render_document(doc, path=path)


def _read_document(
    doc,
    warnings: list[str],
    *,
    footprint_layers: Sequence[str],
    site_layers: Sequence[str],
    control_points: Sequence[tuple[tuple[float, float], tuple[float, float]]] | None = None,
    control_srid: int | None = None,
    max_rmse_m: float | None = None,
    units: str | None = None,
    projected_srid: int | None = None,
) -> Extraction:
    loaded = doc.loaded_dxfversion or doc.dxfversion  # ezdxf upgrades R13/R14 to R2000 when loading
    if loaded not in SUPPORTED_VERSIONS:
        raise PlanRefused(_("DXF version %(version)s is not supported (R12 to R2018 are).") % {"version": loaded})
    msp = doc.modelspace()
    extraction = Extraction(
        format="dxf",
        format_version=f"{acad_release.get(loaded, '?')} ({loaded})",
        units="",
        warnings=warnings,
        entity_count=len(msp),
    )
    outlines, labels = _collect(msp)
    extraction.extent = _extent(msp, outlines)

    # --- units ----------------------------------------------------------------------------------
    insunits = int(doc.header.get("$INSUNITS", 0) or 0)
    if units:
        if units not in METRES_PER_UNIT:
            raise PlanRefused(_("Unknown drawing unit “%(unit)s”.") % {"unit": units})
        extraction.units, extraction.metres_per_unit = units, METRES_PER_UNIT[units]
    elif insunits in INSUNITS:
        extraction.units, extraction.metres_per_unit = INSUNITS[insunits]
    else:
        size = _drawing_size(outlines, extraction.extent)
        extraction.units = infer_units(size)
        extraction.metres_per_unit = METRES_PER_UNIT[extraction.units]
        extraction.units_inferred = True
        extraction.warnings.append(
            _(
                "The drawing declares no units ($INSUNITS=%(code)s); from its size (%(size)s units) they are taken "
                "as %(unit)s: confirm or correct them."
            )
            % {"code": insunits, "size": f"{size:,.0f}", "unit": extraction.units}
        )

    # --- outlines -> shapes -----------------------------------------------------------------------
    shapes = _classify(outlines, footprint_layers, site_layers, extraction.warnings)
    _assign_floors(shapes, labels)
    extraction.shapes = shapes
    floors = [shape.floors for shape in shapes if shape.kind == "footprint" and shape.floors]
    extraction.floors = max(floors) if floors else None

    # --- georeferencing ---------------------------------------------------------------------------
    if control_points:
        _georeference_by_control_points(extraction, control_points, control_srid, max_rmse_m)
    else:
        if not _georeference_by_geodata(extraction, msp):
            _detect_moroccan_crs(extraction, projected_srid)

    if not extraction.footprints:
        if extraction.crs_srid is None:
            reason = _(
                "No closed footprint in the drawing: draw the building outline as a closed polyline or hatch "
                "on a layer named %(layers)s."
            ) % {"layers": ", ".join(footprint_layers)}
            raise PlanRefused(" ".join([reason, *extraction.warnings]))
        extraction.warnings.append(
            _("No closed footprint in the drawing: it is kept as a georeferenced situation plan only.")
        )
    _measure(extraction)
    return extraction


def infer_units(size: float) -> str:
    """The most likely unit of a unitless drawing whose outlines measure ``size`` units across."""
    if size < 1000:
        return "m"
    if size < 5000:
        return "cm"
    return "mm"


# --- reading entities -------------------------------------------------------------------------------


def _collect(msp) -> tuple[list[_Outline], list[_Label]]:
    outlines: list[_Outline] = []
    labels: list[_Label] = []
    for entity, layer in _walk(msp, None, 0):
        kind = entity.dxftype()
        try:
            if kind in ("LWPOLYLINE", "POLYLINE"):
                polygon = _polyline_polygon(entity)
                if polygon is not None:
                    outlines.append(_Outline(layer, polygon))
            elif kind == "HATCH":
                polygon = _hatch_polygon(entity)
                if polygon is not None:
                    outlines.append(_Outline(layer, polygon))
            elif kind in ("TEXT", "MTEXT", "ATTRIB"):
                text = entity.plain_text() if kind == "MTEXT" else entity.dxf.get("text", "")
                point = entity.dxf.get("insert")
                if text and point is not None:
                    labels.append(_Label(layer, float(point[0]), float(point[1]), str(text)))
        except (DXFError, ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError) as exc:
            logger.debug("skipped %s: %s", kind, exc)
    return outlines, labels


def _walk(layout, parent_layer: str | None, depth: int) -> Iterator[tuple[object, str]]:
    """Every entity of a layout, with block references expanded (layer ``0`` inherits the INSERT's)."""
    for entity in layout:
        layer = entity.dxf.get("layer", "0") or "0"
        if parent_layer is not None and layer == "0":
            layer = parent_layer
        if entity.dxftype() == "INSERT":
            for attrib in getattr(entity, "attribs", []):
                yield attrib, layer
            if depth < MAX_BLOCK_DEPTH:
                try:
                    children = list(entity.virtual_entities())
                except (DXFError, ValueError, TypeError, AttributeError, ZeroDivisionError, KeyError) as exc:
                    logger.debug("block reference not expanded: %s", exc)
                    continue
                yield from _walk(children, layer, depth + 1)
        else:
            yield entity, layer


def _polygon_from_points(points: list[tuple[float, float]]) -> Polygon | None:
    if len(points) < 3:
        return None
    polygon = Polygon(points)
    if not polygon.is_valid:
        repaired = make_valid(polygon)
        polygons = [g for g in getattr(repaired, "geoms", [repaired]) if isinstance(g, Polygon)]
        if not polygons:
            return None
        polygon = max(polygons, key=lambda g: g.area)
    return polygon if polygon.area > 0 else None


def _is_closed(entity, points: list[tuple[float, float]]) -> bool:
    if entity.dxftype() == "LWPOLYLINE":
        closed = bool(entity.closed)
    else:
        if not (entity.is_2d_polyline or entity.is_3d_polyline):
            return False
        closed = bool(entity.is_closed)
    if closed:
        return True
    if len(points) < 4:
        return False
    (x0, y0), (x1, y1) = points[0], points[-1]
    span = max(max(abs(x0), abs(y0), abs(x1), abs(y1)), 1.0)
    return math.hypot(x1 - x0, y1 - y0) <= span * 1e-9


def _polyline_polygon(entity) -> Polygon | None:
    if entity.dxftype() == "LWPOLYLINE":
        raw = [(float(x), float(y)) for x, y in entity.get_points("xy")]
    else:
        if not (entity.is_2d_polyline or entity.is_3d_polyline):
            return None
        raw = [(float(v.dxf.location[0]), float(v.dxf.location[1])) for v in entity.vertices]
    if not _is_closed(entity, raw):
        return None
    try:
        path = ezdxf_path.make_path(entity)
        span = max(_span(raw), 1e-9)
        points = [(float(v.x), float(v.y)) for v in path.flattening(distance=span * 1e-4)]
    except (ValueError, TypeError, ZeroDivisionError):
        points = raw
    return _polygon_from_points(points)


def _hatch_polygon(entity) -> Polygon | None:
    rings: list[Polygon] = []
    for boundary in ezdxf_path.from_hatch(entity):
        vertices = list(boundary.control_vertices())
        if len(vertices) < 3:
            continue
        span = max(_span([(v.x, v.y) for v in vertices]), 1e-9)
        polygon = _polygon_from_points([(float(v.x), float(v.y)) for v in boundary.flattening(distance=span * 1e-4)])
        if polygon is not None:
            rings.append(polygon)
    if not rings:
        return None
    rings.sort(key=lambda g: g.area, reverse=True)
    shape: BaseGeometry = rings[0]
    for ring in rings[1:]:  # even-odd: inner boundaries are holes
        shape = shape.symmetric_difference(ring)
    polygons = [g for g in getattr(shape, "geoms", [shape]) if isinstance(g, Polygon)]
    return max(polygons, key=lambda g: g.area) if polygons else None


def _span(points: Sequence[tuple[float, float]]) -> float:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return max(max(xs) - min(xs), max(ys) - min(ys)) if xs else 0.0


def _extent(msp, outlines: list[_Outline]) -> tuple[float, float, float, float] | None:
    try:
        extents = ezdxf_bbox.extents(msp, fast=True)
    except (DXFError, ValueError, TypeError, AttributeError, ZeroDivisionError, KeyError) as exc:
        logger.debug("bbox failed: %s", exc)
        extents = None
    if extents is not None and extents.has_data:
        values = (extents.extmin.x, extents.extmin.y, extents.extmax.x, extents.extmax.y)
        if all(math.isfinite(v) for v in values):
            return tuple(float(v) for v in values)  # type: ignore[return-value]
    if outlines:
        return tuple(float(v) for v in MultiPolygon([o.polygon for o in outlines]).bounds)  # type: ignore[return-value]
    return None


def _drawing_size(outlines: list[_Outline], extent) -> float:
    """What units are inferred from: the largest outline's size, else the drawing's extent."""
    if outlines:
        return max(_span(list(o.polygon.exterior.coords)) for o in outlines)
    if extent:
        return max(extent[2] - extent[0], extent[3] - extent[1])
    return 0.0


def _classify(
    outlines: list[_Outline], footprint_layers: Sequence[str], site_layers: Sequence[str], warnings: list[str]
) -> list[ExtractedShape]:
    shapes: list[ExtractedShape] = []
    seen: set[bytes] = set()
    for outline in outlines:
        if layer_matches(outline.layer, site_layers):
            kind = "site_boundary"
        elif layer_matches(outline.layer, footprint_layers):
            kind = "footprint"
        else:
            continue
        key = outline.polygon.normalize().wkb  # a hatch drawn over its own polyline counts once
        if key in seen:
            continue
        seen.add(key)
        shapes.append(ExtractedShape(kind=kind, layer=outline.layer, drawing=outline.polygon))
    if not any(shape.kind == "footprint" for shape in shapes):
        candidates = [
            o for o in outlines if not layer_matches(o.layer, site_layers) and not layer_matches(o.layer, FRAME_WORDS)
        ]
        if candidates:
            largest = max(candidates, key=lambda o: o.polygon.area)
            shapes.append(ExtractedShape(kind="footprint", layer=largest.layer, drawing=largest.polygon))
            warnings.append(
                _(
                    "No closed outline on the footprint layers (%(layers)s); the largest closed outline, on layer "
                    "“%(layer)s”, is taken as the footprint: check it."
                )
                % {"layers": ", ".join(footprint_layers), "layer": largest.layer}
            )
    return shapes


def _assign_floors(shapes: list[ExtractedShape], labels: list[_Label]) -> None:
    from shapely.geometry import Point

    footprints = [shape for shape in shapes if shape.kind == "footprint"]
    for shape in footprints:
        match = _FLOORS.search(shape.layer)
        if match:
            shape.floors = int(match.group(1)) + 1
    for label in labels:
        floors_match = _FLOORS.search(label.text)
        floors = int(floors_match.group(1)) + 1 if floors_match else (1 if _GROUND_ONLY.search(label.text) else None)
        height_match = _HEIGHT.search(label.text)
        if floors is None and height_match is None:
            continue
        point = Point(label.x, label.y)
        inside = [shape for shape in footprints if shape.drawing.covers(point)]
        if not inside and len(footprints) == 1:
            inside = footprints
        for shape in inside:
            if floors is not None:
                shape.floors = max(shape.floors or 0, floors)
            if height_match is not None:
                shape.height_m = float(height_match.group(1).replace(",", "."))


# --- georeferencing ---------------------------------------------------------------------------------


def _georeference_by_control_points(extraction: Extraction, pairs, srid: int | None, max_rmse_m: float | None) -> None:
    from plans import georef

    if srid is None:
        raise PlanRefused(_("Control points need the EPSG code of their projected CRS."))
    _require_projected(srid)
    fitted = georef.fit(pairs=pairs)
    if max_rmse_m is not None:
        georef.check_fit(fitted, max_rmse_m=max_rmse_m)
    extraction.crs_srid = srid
    extraction.crs_source = "control_points"
    extraction.transform = tuple(fitted.coefficients)
    extraction.transform_kind = fitted.kind
    extraction.rmse_m = fitted.rmse_m


def _require_projected(srid: int) -> None:
    try:
        crs = crs_from_user_input(srid)
    except UnknownCRS as exc:
        raise PlanRefused(_("Unknown CRS EPSG:%(srid)s.") % {"srid": srid}) from exc
    if not crs.is_projected:
        raise PlanRefused(_("EPSG:%(srid)s is not a projected CRS in metres.") % {"srid": srid})


def _georeference_by_geodata(extraction: Extraction, msp) -> bool:
    geodata = msp.get_geodata()
    if geodata is None:
        return False
    try:
        matrix, epsg = geodata.get_crs_transformation()
        crs_from_user_input(epsg)
    except Exception as exc:
        logger.debug("unusable GEODATA: %s", exc)
        extraction.warnings.append(
            _("The drawing has a GEODATA object without a usable coordinate system: it is not georeferenced.")
        )
        return False
    rows = [list(matrix.get_row(i)) for i in range(4)]
    # ezdxf transforms row vectors: (x, y, 0, 1) @ M.
    extraction.transform = (rows[0][0], rows[1][0], rows[3][0], rows[0][1], rows[1][1], rows[3][1])
    extraction.transform_kind = "geodata"
    extraction.crs_srid = int(epsg)
    extraction.crs_source = "geodata"
    return True


def _detect_moroccan_crs(extraction: Extraction, projected_srid: int | None) -> None:
    """Coordinates already in a Merchich Lambert zone: keep them (in metres), with a warning."""
    if extraction.extent is None or not extraction.metres_per_unit:
        return
    shapes = extraction.shapes
    bounds = MultiPolygon([s.drawing for s in shapes]).bounds if shapes else extraction.extent
    scale = extraction.metres_per_unit
    minx, miny, maxx, maxy = (v * scale for v in bounds)
    if min(minx, miny) < 1000:  # local coordinates near the origin are not a national grid
        return
    candidates = [projected_srid] if projected_srid in MOROCCAN_PROJECTED_SRIDS else []
    candidates += [srid for srid in MOROCCAN_PROJECTED_SRIDS if srid not in candidates]
    matching = [srid for srid in candidates if _inside_area_of_use(srid, (minx, miny, maxx, maxy))]
    if not matching:
        return
    srid = matching[0]
    extraction.crs_srid = srid
    extraction.crs_source = "detected"
    extraction.transform = (scale, 0.0, 0.0, 0.0, scale, 0.0)
    extraction.transform_kind = "identity"
    extraction.warnings.append(
        _("The coordinates lie in EPSG:%(srid)s (Merchich Lambert): confirm that the drawing uses this CRS.")
        % {"srid": srid}
    )


def _inside_area_of_use(srid: int, bounds: tuple[float, float, float, float]) -> bool:
    area = crs_from_user_input(srid).area_of_use
    if area is None:
        return False
    to_wgs84 = transformer(srid, 4326)
    minx, miny, maxx, maxy = bounds
    for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)):
        lon, lat = to_wgs84.transform(x, y)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return False
        if not (area.west <= lon <= area.east and area.south <= lat <= area.north):
            return False
    return True


def _measure(extraction: Extraction) -> None:
    """World geometries, areas in square metres and the WGS84 extent."""
    coefficients = extraction.transform
    srid = extraction.crs_srid
    measure_srid = None
    if coefficients is not None and srid is not None:
        world_extent = None
        if extraction.extent:
            world_extent = _affine(box(*extraction.extent), coefficients)
        elif extraction.shapes:
            world_extent = _affine(MultiPolygon([s.drawing for s in extraction.shapes]).envelope, coefficients)
        if world_extent is not None:
            to_wgs84 = transformer(srid, 4326)
            wgs84 = shapely.transform(world_extent, lambda x, y: to_wgs84.transform(x, y), interleaved=False)
            extraction.extent_wgs84 = tuple(round(v, 7) for v in wgs84.bounds)  # type: ignore[assignment]
            if srid in MOROCCAN_PROJECTED_SRIDS:
                measure_srid = srid
            else:
                centre = wgs84.centroid
                measure_srid = measurement_srid_for(centre.x, centre.y)
    for shape in extraction.shapes:
        if coefficients is not None and srid is not None:
            shape.world = _affine(shape.drawing, coefficients)
            if measure_srid == srid:
                shape.area_m2 = round(shape.world.area, 2)
            elif measure_srid is not None:
                measured = _reproject(shape.world, srid, measure_srid)
                shape.area_m2 = round(measured.area, 2)
        elif extraction.metres_per_unit:
            shape.area_m2 = round(shape.drawing.area * extraction.metres_per_unit**2, 2)


def _reproject(geom: BaseGeometry, source_srid: int, target_srid: int) -> BaseGeometry:
    to_target = transformer(source_srid, target_srid)
    return shapely.transform(geom, lambda x, y: to_target.transform(x, y), interleaved=False)


def _affine(geom: BaseGeometry, coefficients) -> BaseGeometry:
    from plans.georef import transform_geometry

    return transform_geometry(coefficients, geom)


def load_everything() -> None:
    """Import every module reading and previewing may need (before a child process limits its memory)."""
    import ezdxf.addons.drawing.svg  # noqa: F401

    import plans.georef  # noqa: F401


def write_site_plan(path: Path, *, site: str, setback_m: float, floors: int) -> Path:
    """Write a site plan in metres (R2018): ``site`` (WKT, projected metres) on ``LIMITE``, the footprint
    (the site shrunk by ``setback_m``) on ``EMPRISE`` with an ``R+n`` text. Used by the demo."""
    from shapely import wkt

    outline = wkt.loads(site)
    polygons = [g for g in getattr(outline, "geoms", [outline]) if isinstance(g, Polygon)]
    parcel = max(polygons, key=lambda g: g.area)
    footprint = parcel.buffer(-setback_m, join_style="mitre")
    if footprint.is_empty:
        footprint = parcel.buffer(-min(parcel.minimum_rotated_rectangle.length, 4) / 8, join_style="mitre")
    footprint = max(getattr(footprint, "geoms", [footprint]), key=lambda g: g.area)
    doc = ezdxf.new("R2018")
    doc.header["$INSUNITS"] = 6
    msp = doc.modelspace()
    msp.add_lwpolyline(list(parcel.exterior.coords)[:-1], close=True, dxfattribs={"layer": "LIMITE"})
    msp.add_lwpolyline(list(footprint.exterior.coords)[:-1], close=True, dxfattribs={"layer": "EMPRISE"})
    inside = footprint.representative_point()
    label = "RDC" if floors <= 1 else f"R+{floors - 1}"
    msp.add_text(label, dxfattribs={"layer": "EMPRISE", "insert": (inside.x, inside.y), "height": 1.0})
    doc.saveas(path)
    return Path(path)


# --- preview ----------------------------------------------------------------------------------------


def render_preview(path: Path, *, max_entities: int = MAX_PREVIEW_ENTITIES) -> tuple[bytes, str] | None:
    """An SVG drawing of the modelspace as ``(bytes, "svg")``, or None when it cannot be drawn.

    ezdxf's drawing add-on with its SVG backend (no matplotlib needed). A preview is a convenience: a
    drawing ezdxf cannot render gets none, never an error.
    """
    try:
        doc, _warnings = open_drawing(Path(path))
    except PlanRefused:
        return None
    return _render_document(doc, path=path, max_entities=max_entities)


def _render_document(doc, *, path: Path, max_entities: int = MAX_PREVIEW_ENTITIES) -> tuple[bytes, str] | None:
    from ezdxf.addons.drawing import Frontend, RenderContext, layout, svg
    from ezdxf.addons.drawing.config import BackgroundPolicy, ColorPolicy, Configuration

    try:
        msp = doc.modelspace()
        if len(msp) > max_entities:
            return None
        backend = svg.SVGBackend()
        config = Configuration(background_policy=BackgroundPolicy.WHITE, color_policy=ColorPolicy.BLACK)
        Frontend(RenderContext(doc), backend, config=config).draw_layout(msp, finalize=True)
        page = layout.Page(0, 0, layout.Units.mm, margins=layout.Margins.all(5))
        return backend.get_string(page).encode("utf-8"), "svg"
    except Exception as exc:
        logger.warning("no preview for %s: %s", path, exc)
        return None
