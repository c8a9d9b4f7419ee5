"""Salvage polygon WKB that GEOS and PostGIS refuse to parse (rings with fewer than four points).

Real cadastres carry such rings: Cambridge's FY2014 parcels hold a polygon whose only ring is
``A-B-A`` and a multipolygon with a one-point second part. PostGIS aborts the whole statement on
them, so the importer checks each batch with shapely first and, for the few geometries that do not
parse, walks the WKB here: degenerate rings are dropped (a polygon whose shell goes goes with it)
and the rest is rebuilt, or the row is rejected when nothing is left.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

_POLYGON, _MULTIPOLYGON = 3, 6
_CURVED = {8, 9, 10, 11, 12}  # CircularString, CompoundCurve, CurvePolygon, MultiCurve, MultiSurface


@dataclass(frozen=True)
class Salvage:
    """The outcome for one unparsable geometry: new WKB and a note, or a reason to reject."""

    wkb: bytes | None
    note: str | None = None
    reject: str | None = None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def header(self) -> tuple[str, int, int]:
        order = "<" if self.data[self.pos] == 1 else ">"
        (raw_type,) = struct.unpack_from(order + "I", self.data, self.pos + 1)
        self.pos += 5
        has_z = bool(raw_type & 0x80000000) or (raw_type % 10000) // 1000 in (1, 3)
        has_m = bool(raw_type & 0x40000000) or (raw_type % 10000) // 1000 in (2, 3)
        if raw_type & 0x20000000:  # EWKB with an SRID
            self.pos += 4
        dims = 2 + int(has_z) + int(has_m)
        return order, (raw_type & 0x0FFFFFFF) % 1000, dims

    def ring(self, order: str, dims: int) -> list[tuple[float, float]]:
        (count,) = struct.unpack_from(order + "I", self.data, self.pos)
        self.pos += 4
        values = struct.unpack_from(order + "d" * count * dims, self.data, self.pos)
        self.pos += 8 * count * dims
        return [(values[i], values[i + 1]) for i in range(0, count * dims, dims)]

    def polygon(self, order: str, dims: int) -> list[list[tuple[float, float]]]:
        (rings,) = struct.unpack_from(order + "I", self.data, self.pos)
        self.pos += 4
        return [self.ring(order, dims) for _ in range(rings)]


def _usable(ring: list[tuple[float, float]]) -> bool:
    return len(set(ring)) >= 3


def _close(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return ring if ring[0] == ring[-1] else [*ring, ring[0]]


def salvage(data: bytes) -> Salvage:
    """Rebuild an unparsable polygon WKB without its degenerate rings, or say why it cannot be."""
    try:
        reader = _Reader(data)
        order, kind, dims = reader.header()
        if kind == _POLYGON:
            polygons = [reader.polygon(order, dims)]
        elif kind == _MULTIPOLYGON:
            (count,) = struct.unpack_from(order + "I", data, reader.pos)
            reader.pos += 4
            polygons = []
            for _ in range(count):
                part_order, _, part_dims = reader.header()
                polygons.append(reader.polygon(part_order, part_dims))
        else:
            return Salvage(None, reject=f"unreadable geometry (WKB type {kind})")
    except (struct.error, IndexError):
        return Salvage(None, reject="unreadable geometry (truncated WKB)")
    kept: list[Polygon] = []
    dropped = 0
    for rings in polygons:
        if not rings or not _usable(rings[0]):
            dropped += len(rings)
            continue
        holes = [_close(r) for r in rings[1:] if _usable(r)]
        dropped += len(rings) - 1 - len(holes)
        kept.append(Polygon(_close(rings[0]), holes))
    if not kept:
        return Salvage(None, reject="degenerate geometry: no ring has three distinct points")
    geometry = MultiPolygon(kept) if kind == _MULTIPOLYGON or len(kept) > 1 else kept[0]
    return Salvage(shapely.to_wkb(geometry), note=f"dropped {dropped} degenerate ring(s) with fewer than 4 points")


def _curved(data: bytes) -> bool:
    """True for curved types (arcs), which PostGIS reads and linearises but shapely cannot read at all."""
    try:
        return _Reader(data).header()[1] in _CURVED
    except (struct.error, IndexError):
        return False


def unparsable(wkb: list[bytes | None]) -> list[int]:
    """Indexes of the geometries in a batch that PostGIS would refuse to parse.

    GEOS refuses some outright; PostGIS also refuses rings of fewer than four points, which GEOS
    reads, so those are found by counting each ring's coordinates. Missing geometries are not counted,
    nor curved ones: shapely raises on a whole batch for a single arc, and PostGIS reads them.
    """
    present = np.flatnonzero(np.array([w is not None for w in wkb], dtype=bool))
    try:
        parsed = shapely.from_wkb(np.array(wkb, dtype=object)[present], on_invalid="ignore")
    except NotImplementedError:  # an arc somewhere in the batch: leave the curved geometries to PostGIS
        present = present[[not _curved(wkb[i]) for i in present]]
        parsed = shapely.from_wkb(np.array(wkb, dtype=object)[present], on_invalid="ignore")
    if present.size == 0:
        return []
    bad = set(present[shapely.is_missing(parsed)].tolist())
    rings, owner = shapely.get_rings(parsed, return_index=True)
    if rings.size:
        short = owner[shapely.get_num_coordinates(rings) < 4]
        bad.update(present[short].tolist())
    return sorted(int(i) for i in bad)
