"""The one home of coordinate reference systems: Moroccan zones, measurement CRS, transformations.

Merchich (EPSG:4261) has one EPSG transformation to WGS84, EPSG:1166 (±7 m); PROJ picks it by default
and PostGIS does the same, so Python and SQL agree to the millimetre.
Never mix zones in one measurement: each commune names the projected CRS it is measured in.
"""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84 = 4326
WEB_MERCATOR = 3857
MERCHICH_NORD = 26191
MERCHICH_SUD = 26192
MERCHICH_SAHARA_NORD = 26194
MERCHICH_SAHARA_SUD = 26195
MOROCCAN_PROJECTED_SRIDS = (MERCHICH_NORD, MERCHICH_SUD, MERCHICH_SAHARA_NORD, MERCHICH_SAHARA_SUD)
DEPRECATED_SRIDS = {26193: "EPSG:26193 (Merchich / Sahara) is deprecated; use EPSG:26194 or EPSG:26195"}


class UnknownCRS(ValueError):
    """A CRS that cannot be identified or is not usable for measurement."""


def crs_from_user_input(value: object) -> CRS:
    """Parse ``EPSG:n``, a number, WKT or a PROJ string, refusing deprecated Moroccan codes."""
    try:
        crs = CRS.from_user_input(value)
    except CRSError as exc:
        raise UnknownCRS(f"unknown CRS {value!r}") from exc
    epsg = crs.to_epsg()
    if epsg in DEPRECATED_SRIDS:
        raise UnknownCRS(DEPRECATED_SRIDS[epsg])
    return crs


def srid_of(value: object) -> int:
    """The EPSG code of a CRS given in any form; raises :class:`UnknownCRS` when there is none."""
    crs = crs_from_user_input(value)
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is None:
        raise UnknownCRS(f"CRS has no EPSG code: {crs.name}")
    return 4326 if epsg == 4326 or crs.name == "WGS 84 (CRS84)" else epsg


def is_projected(srid: int) -> bool:
    """True when lengths in this CRS are metres on a projected plane."""
    return crs_from_user_input(srid).is_projected


@lru_cache(maxsize=64)
def transformer(source_srid: int, target_srid: int) -> Transformer:
    """A cached transformer with x=longitude/easting, y=latitude/northing axis order."""
    return Transformer.from_crs(source_srid, target_srid, always_xy=True)


def transform_point(x: float, y: float, *, source_srid: int, target_srid: int) -> tuple[float, float]:
    """Transform one point between two EPSG codes (x first, whatever the CRS's official axis order)."""
    return transformer(source_srid, target_srid).transform(x, y)


def utm_srid_for(lon: float, lat: float) -> int:
    """The WGS84 / UTM zone that contains a point: the fallback measurement CRS outside Morocco."""
    zone = min(max(int((lon + 180) // 6) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def measurement_srid_for(lon: float, lat: float) -> int:
    """The projected CRS to measure in at a point when no commune says otherwise.

    Inside one of Morocco's Merchich zones, that zone (by EPSG's area of use); elsewhere the UTM zone,
    so that a parcel in Cambridge (MA) or Tenerife is not measured through a projection made for Morocco.
    """
    for srid in MOROCCAN_PROJECTED_SRIDS:
        area = crs_from_user_input(srid).area_of_use
        if area and area.west <= lon <= area.east and area.south <= lat <= area.north:
            return srid
    return utm_srid_for(lon, lat)
