"""Generated DXF drawings for the plan importer tests (ezdxf writes them; nothing is stored in the repo).

Every building drawing has a 20 m × 12 m footprint (240 m²) on layer ``EMPRISE`` with the text
``R+3`` inside it (floors are encoded as a Moroccan "R+n" text: 4 levels), and a 30 m × 25 m site
boundary (750 m²) on layer ``LIMITE``; coordinates are multiplied by the unit's factor (1000 for mm...).
Options place it at Casablanca in EPSG:26191 (x≈296600, y≈332700), tie it by a GEODATA object, draw the
footprint as a hatch, put it inside a block, or leave the drawing without any closed outline.
"""

from __future__ import annotations

from pathlib import Path

import ezdxf

CASABLANCA = (296600.0, 332700.0)
FOOTPRINT = [(5.0, 5.0), (25.0, 5.0), (25.0, 17.0), (5.0, 17.0)]  # 20 x 12 = 240 m²
SITE = [(0.0, 0.0), (30.0, 0.0), (30.0, 25.0), (0.0, 25.0)]  # 750 m²
UNIT_CODES = {"mm": 4, "cm": 5, "m": 6, "in": 1, "ft": 2, "none": 0}
UNIT_FACTORS = {"mm": 1000.0, "cm": 100.0, "m": 1.0, "none": 1.0}

GEODATA_XML = """<?xml version="1.0" encoding="UTF-16" standalone="no" ?>
<Dictionary version="1.0" xmlns="http://www.osgeo.org/mapguide/coordinatesystem">
<Alias id="{epsg}" type="CoordinateSystem"><ObjectId>EPSG{epsg}</ObjectId><Namespace>EPSG Code</Namespace></Alias>
<Axis uom="METER"><CoordinateSystemAxis><AxisOrder>1</AxisOrder><AxisName>Easting</AxisName>
<AxisAbbreviation>E</AxisAbbreviation><AxisDirection>east</AxisDirection></CoordinateSystemAxis>
<CoordinateSystemAxis><AxisOrder>2</AxisOrder><AxisName>Northing</AxisName><AxisAbbreviation>N</AxisAbbreviation>
<AxisDirection>north</AxisDirection></CoordinateSystemAxis></Axis>
</Dictionary>"""


def building_dxf(
    path: Path,
    *,
    units: str = "m",
    factor: float | None = None,
    origin: tuple[float, float] = (0.0, 0.0),
    footprint_layer: str = "EMPRISE",
    site_layer: str | None = "LIMITE",
    floors_text: str | None = "R+3",
    hatch: bool = False,
    in_block: bool = False,
    geodata_epsg: int | None = None,
    geodata_reference: tuple[float, float] = CASABLANCA,
    dxfversion: str = "R2018",
    extra_lines: int = 0,
) -> Path:
    """Write a building drawing; ``origin`` is added (in metres) before scaling to the drawing units."""
    scale = factor if factor is not None else UNIT_FACTORS.get(units, 1.0)
    doc = ezdxf.new(dxfversion)
    if dxfversion != "R12":
        doc.header["$INSUNITS"] = UNIT_CODES[units]
    msp = doc.modelspace()

    def pts(points):
        return [((x + origin[0]) * scale, (y + origin[1]) * scale) for x, y in points]

    target = msp
    if in_block:
        block = doc.blocks.new("HOUSE")
        target = block
    footprint = pts(FOOTPRINT)
    if hatch:
        shape = target.add_hatch(color=1, dxfattribs={"layer": footprint_layer})
        shape.paths.add_polyline_path(footprint, is_closed=True)
    elif dxfversion == "R12":
        target.add_polyline2d(footprint, close=True, dxfattribs={"layer": footprint_layer})
    else:
        target.add_lwpolyline(footprint, close=True, dxfattribs={"layer": footprint_layer})
    if floors_text:
        cx, cy = pts([(15.0, 11.0)])[0]
        target.add_text(floors_text, dxfattribs={"layer": footprint_layer, "insert": (cx, cy), "height": scale})
    if in_block:
        msp.add_blockref("HOUSE", (0, 0), dxfattribs={"layer": footprint_layer})
    if site_layer:
        if dxfversion == "R12":
            msp.add_polyline2d(pts(SITE), close=True, dxfattribs={"layer": site_layer})
        else:
            msp.add_lwpolyline(pts(SITE), close=True, dxfattribs={"layer": site_layer})
    for i in range(extra_lines):
        x = (i % 1000) * 0.01 * scale
        msp.add_line((x, 0), (x, scale), dxfattribs={"layer": "HACHURES"})
    if geodata_epsg is not None:
        geodata = msp.new_geodata()
        geodata.setup_local_grid(
            design_point=(0, 0), reference_point=geodata_reference, crs=GEODATA_XML.format(epsg=geodata_epsg)
        )
    doc.saveas(path)
    return path


def lines_only_dxf(path: Path) -> Path:
    """A drawing with lines and an open polyline but no closed outline: refused (no footprint)."""
    doc = ezdxf.new("R2018")
    doc.header["$INSUNITS"] = 6
    msp = doc.modelspace()
    msp.add_line((0, 0), (20, 0), dxfattribs={"layer": "EMPRISE"})
    msp.add_lwpolyline([(0, 0), (20, 0), (20, 12)], close=False, dxfattribs={"layer": "EMPRISE"})
    doc.saveas(path)
    return path


def broken_geodata_dxf(path: Path) -> Path:
    """A building drawing with a GEODATA object whose coordinate system is empty (like gh209_1.dxf)."""
    building_dxf(path)
    doc = ezdxf.readfile(path)
    geodata = doc.modelspace().new_geodata()
    geodata.coordinate_system_definition = ""
    doc.saveas(path)
    return path
