"""Helpers of the vector-tile tests: tile numbers of a place, and tiles decoded by GDAL's ``ogrinfo``.

GDAL (the MVT driver of ``ogrinfo``) is the reader here: a real client, independent of the code that
writes the tiles.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HALF_WORLD = 20037508.342789244
BUFFER_SHARE = 256 / 4096

_FEATURE = re.compile(r"^OGRFeature\((?P<layer>[^)]+)\):\d+$")
_ATTRIBUTE = re.compile(r"^\s+(?P<name>\w+) \((?P<type>\w+)\) = (?P<value>.*)$")
_GEOMETRY = re.compile(r"^\s+(?P<wkt>(MULTI)?(POINT|LINESTRING|POLYGON) .*)$")


@dataclass
class Feature:
    layer: str
    attributes: dict[str, str] = field(default_factory=dict)
    wkt: str = ""

    @property
    def id(self) -> int:
        return int(self.attributes["mvt_id"])

    @property
    def properties(self) -> dict[str, str]:
        return {name: value for name, value in self.attributes.items() if name != "mvt_id"}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (x, y) at zoom ``z`` holding a place."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def buffered_tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's area in EPSG:3857 metres, widened by the tile buffer (256 of 4,096 units) on each side."""
    size = 2 * HALF_WORLD / 2**z
    margin = size * BUFFER_SHARE
    return (
        -HALF_WORLD + x * size - margin,
        HALF_WORLD - (y + 1) * size - margin,
        -HALF_WORLD + (x + 1) * size + margin,
        HALF_WORLD - y * size + margin,
    )


def require_ogrinfo() -> str:
    path = shutil.which("ogrinfo")
    if path is None:
        pytest.skip("GDAL's ogrinfo is not installed (apt-get install gdal-bin)")
    return path


def parse_ogrinfo(text: str) -> list[Feature]:
    features: list[Feature] = []
    for line in text.splitlines():
        if match := _FEATURE.match(line):
            features.append(Feature(layer=match["layer"]))
        elif features and (match := _ATTRIBUTE.match(line)):
            features[-1].attributes[match["name"]] = match["value"]
        elif features and (match := _GEOMETRY.match(line)):
            features[-1].wkt = match["wkt"]
    return features


def decode_tile(data: bytes, z: int, x: int, y: int) -> list[Feature]:
    """The features of a tile's bytes, read by ``ogrinfo`` from a saved .pbf (coordinates in EPSG:3857)."""
    ogrinfo = require_ogrinfo()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{y}.pbf"
        path.write_bytes(data)
        result = subprocess.run(
            [ogrinfo, "-ro", "-al", "-q", "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}", str(path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    return parse_ogrinfo(result.stdout)


def read_live_tile(url: str) -> list[Feature]:
    """The features of a tile read by ``ogrinfo MVT:<url>`` from a running server (z/x/y taken from the URL)."""
    ogrinfo = require_ogrinfo()
    result = subprocess.run(
        [ogrinfo, "-ro", "-al", "-q", f"MVT:{url}"], capture_output=True, text=True, check=True, timeout=60
    )
    return parse_ogrinfo(result.stdout)
