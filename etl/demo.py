"""The deterministic demo commune: boundary, street blocks and parcels, zoning plan, servitudes, role accounts.

Everything is drawn in Merchich / Nord Maroc (EPSG:26191) on a street grid a little south-east of
Casablanca's centre, then stored in EPSG:4326 through PostGIS ``ST_Transform``. The drawing is a pure
function of the seed (:func:`demo_layout_build`): parcels come from ``random.Random`` and arithmetic on a
local grid, rounded to the millimetre, so the same land-title reference always has the same polygon.

:func:`demo_commune_build` writes what is missing in one transaction and nothing else: a second run
changes nothing. Street blocks have no model; each parcel names its block in ``attributes``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.crs import MERCHICH_NORD
from geo.models import (
    STORAGE_SRID,
    AdminArea,
    AdminLevel,
    ConstraintArea,
    ConstraintKind,
    Parcel,
    ZoneRegulation,
    ZoningPlan,
    ZoningZone,
    reference_key,
)
from permits.roles import Role

DEMO_SEED = 2024
DEMO_SRID = MERCHICH_NORD
DEMO_COMMUNE_CODE = "DEMO-001"
DEMO_COMMUNE_NAME_FR = "Commune de démonstration"
DEMO_COMMUNE_NAME_AR = "الجماعة النموذجية"
DEMO_PLAN_CODE = "PA-DEMO-2024"
DEMO_PLAN_NAME = "Plan d'aménagement de la commune de démonstration"
DEMO_PLAN_APPROVED_ON = date(2024, 3, 14)
# Shared by every demo account; printed by ``seed_demo`` and written in the README.
DEMO_PASSWORD = "taamir-demo"
DEMO_EMAIL_DOMAIN = "taamir.example"
# Parcels written by the demo carry ``attributes.source == DEMO_SOURCE``.
DEMO_SOURCE = "demo"

# Centre of the drawing in EPSG:26191: about 2.4 km east and 1.7 km south of Casablanca's centre
# (296628.5, 332701.7), inside the prefecture of Casablanca. The street grid is turned by 14°.
DEMO_CENTRE = (299_000.0, 331_000.0)
DEMO_ROTATION_DEG = 14.0
# Half-extents of the local grid (metres): the commune is about 2.5 km × 1.9 km.
_HALF_X = 1250.0
_HALF_Y = 950.0
# Half-width of the avenues between districts and of the ring road inside the boundary.
_AVENUE_HALF_WIDTH = 15.0
# Land-title numbers start here and grow by small random steps, block by block, as a land registry's would.
_FIRST_TITLE_NUMBER = 21_400
# Serialises two concurrent ``seed_demo`` runs (an arbitrary constant for pg_advisory_xact_lock).
_ADVISORY_LOCK_KEY = 0x7A4D_0001


@dataclass(frozen=True)
class DemoRole:
    """One role of the platform, its group and its demo account."""

    group: str
    username: str
    first_name: str
    last_name: str
    superuser: bool = False


# One demo account per role of :class:`permits.roles.Role` (the group names live there).
ROLES: tuple[DemoRole, ...] = (
    DemoRole(Role.APPLICANT.value, "demo.applicant", "Yasmine", "El Amrani"),
    DemoRole(Role.ARCHITECT.value, "demo.architect", "Karim", "Bennani"),
    DemoRole(Role.DESK_AGENT.value, "demo.desk", "Fatima Zahra", "Alaoui"),
    DemoRole(Role.COMMITTEE_MEMBER.value, "demo.member", "Omar", "Tazi"),
    DemoRole(Role.COMMITTEE_PRESIDENT.value, "demo.president", "Nadia", "Berrada"),
    DemoRole(Role.SIGNING_AUTHORITY.value, "demo.signatory", "Abdelkader", "Idrissi"),
    DemoRole(Role.INSPECTOR.value, "demo.inspector", "Hicham", "Chraibi"),
    DemoRole(Role.PLANNER.value, "demo.planner", "Salma", "Benjelloun"),
    DemoRole(Role.ADMIN.value, "demo.admin", "Admin", "Taamir", superuser=True),
)


@dataclass(frozen=True)
class RegulationSpec:
    """The rules of one zone type of the demo plan (``max_floors`` counts every level: R+1 is 2)."""

    zone_code: str
    label: str
    max_height_m: float
    max_floors: int
    coverage_ratio: float
    floor_area_ratio: float
    min_setback_m: float
    allowed_uses: tuple[str, ...]


# Values in the range of Casablanca's plans d'aménagement. 11.50 m (R+2) and 15.50 m are the heights
# up to which the 2013 regulation keeps houses and buildings in the small-project procedure.
DEMO_REGULATIONS: tuple[RegulationSpec, ...] = (
    RegulationSpec("D", "Zone de villas (R+1)", 8.5, 2, 0.5, 0.8, 5.0, ("housing",)),
    RegulationSpec("B4", "Zone d'immeubles (R+4)", 15.5, 5, 0.7, 3.2, 0.0, ("housing", "retail", "office")),
    RegulationSpec("E2", "Zone d'habitat économique (R+2)", 11.5, 3, 0.8, 2.4, 0.0, ("housing", "retail")),
    RegulationSpec(
        "M", "Zone mixte : habitat, commerces, bureaux (R+5)", 18.5, 6, 0.7, 4.0, 0.0, ("housing", "retail", "office")
    ),
    RegulationSpec("I", "Zone industrielle", 12.0, 2, 0.6, 1.2, 5.0, ("industry", "office")),
    RegulationSpec("EQ", "Zone d'équipements publics", 15.5, 4, 0.5, 2.0, 5.0, ("amenity",)),
    RegulationSpec("EV", "Espace vert public (inconstructible)", 0.0, 0, 0.0, 0.0, 0.0, ()),
)


@dataclass(frozen=True)
class LotPattern:
    """How the blocks of one zone are cut: block length and depth, lot frontage, street width (metres)."""

    block_length: tuple[float, float]
    block_depth: tuple[float, float]
    frontage: tuple[float, float]
    street: float
    rows: int
    chamfer: float


_LOT_PATTERNS: dict[str, LotPattern] = {
    "D": LotPattern((110, 170), (50, 62), (18, 25), 12, 2, 5),
    "B4": LotPattern((90, 140), (40, 50), (16, 26), 16, 2, 4),
    "M": LotPattern((100, 150), (44, 56), (18, 30), 20, 2, 4),
    "E2": LotPattern((70, 110), (24, 28), (10, 12), 10, 2, 3),
    "I": LotPattern((160, 260), (110, 160), (30, 60), 20, 2, 6),
    "EQ": LotPattern((120, 200), (80, 120), (45, 80), 15, 2, 5),
    # One block, one lot: the public park.
    "EV": LotPattern((100, 10_000), (100, 10_000), (100, 10_000), 0, 1, 8),
}

# Districts of the local grid (x0, x1, y0, y1), each one zoning zone of one zone type.
_X = (-_HALF_X, -430.0, 380.0, _HALF_X)
_Y = (-_HALF_Y, -260.0, 280.0, _HALF_Y)
_DISTRICTS: tuple[tuple[str, str, int, int], ...] = (
    # (source key, zone code, column, row); row 0 is the south.
    ("Z01", "E2", 0, 0),
    ("Z02", "B4", 1, 0),
    ("Z03", "I", 2, 0),
    ("Z04", "D", 0, 1),
    ("Z05", "M", 1, 1),
    ("Z06", "EV", 2, 1),
    ("Z07", "D", 0, 2),
    ("Z08", "B4", 1, 2),
    ("Z09", "EQ", 2, 2),
)


@dataclass(frozen=True)
class DemoParcel:
    """One lot of the demo: its land-title reference and its ring in EPSG:26191 (closed, millimetres)."""

    reference: str
    block: str
    lot: int
    corner: bool
    ring: tuple[tuple[float, float], ...]

    @property
    def wkt(self) -> str:
        """The polygon as WKT in EPSG:26191."""
        return "POLYGON((" + ",".join(f"{x:.3f} {y:.3f}" for x, y in self.ring) + "))"


@dataclass(frozen=True)
class DemoZone:
    """One zoning zone: a district of the grid cut by the commune boundary (EPSG:26191)."""

    source_key: str
    zone_code: str
    geom: BaseGeometry


@dataclass(frozen=True)
class DemoConstraint:
    """One servitude of the demo (EPSG:26191)."""

    kind: str
    source_key: str
    name: str
    description: str
    geom: BaseGeometry


@dataclass(frozen=True)
class DemoLayout:
    """Everything the demo draws, in EPSG:26191, before anything is written."""

    seed: int
    boundary: Polygon
    zones: tuple[DemoZone, ...]
    constraints: tuple[DemoConstraint, ...]
    parcels: tuple[DemoParcel, ...]
    blocks: int

    @cached_property
    def digest(self) -> str:
        """sha256 of every parcel's reference and WKT: changes exactly when the drawing changes."""
        digest = hashlib.sha256()
        for parcel in self.parcels:
            digest.update(f"{parcel.reference} {parcel.wkt}\n".encode())
        return digest.hexdigest()

    @property
    def version(self) -> str:
        """A short form of :attr:`digest`, stored in each demo parcel's attributes."""
        return self.digest[:16]


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`demo_commune_build` found and wrote."""

    commune_code: str
    commune_created: bool
    parent_code: str | None
    parent_set: bool
    plan_created: bool
    blocks: int
    parcels: int
    parcels_created: int
    parcels_taken: int
    regulations: int
    regulations_created: int
    zones: int
    zones_created: int
    constraints: int
    constraints_created: int
    accounts: tuple[DemoRole, ...]
    accounts_created: int
    groups_created: int
    memberships_created: int
    seconds: float = field(compare=False)

    @property
    def changed(self) -> bool:
        """True when this run wrote anything."""
        return any(
            (
                self.commune_created,
                self.parent_set,
                self.plan_created,
                self.parcels_created,
                self.regulations_created,
                self.zones_created,
                self.constraints_created,
                self.accounts_created,
                self.groups_created,
                self.memberships_created,
            )
        )


class DemoError(Exception):
    """The demo cannot be built as asked; the message is one line for the user."""


# --- Drawing (pure: no database) -------------------------------------------------------------------


def _to_projected(x: float, y: float) -> tuple[float, float]:
    """A point of the local grid in EPSG:26191, rounded to the millimetre."""
    angle = math.radians(DEMO_ROTATION_DEG)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = DEMO_CENTRE
    return round(cx + x * cos - y * sin, 3), round(cy + x * sin + y * cos, 3)


def _geometry_to_projected(geom: BaseGeometry) -> BaseGeometry:
    """A shapely geometry of the local grid in EPSG:26191 (same rotation as :func:`_to_projected`)."""
    rotated = affinity.rotate(geom, DEMO_ROTATION_DEG, origin=(0.0, 0.0))
    return affinity.translate(rotated, *DEMO_CENTRE)


def _spans(
    rng: random.Random, start: float, end: float, size: tuple[float, float], gap: float
) -> list[tuple[float, float]]:
    """Cut ``[start, end]`` into pieces of random sizes around ``size``, separated by ``gap``, filling it all."""
    length = end - start
    count = int((length + gap) // (sum(size) / 2 + gap))
    if count == 0:
        return [(start, end)] if length >= size[0] else []
    weights = [rng.uniform(*size) for _ in range(count)]
    scale = (length - gap * (count - 1)) / sum(weights)
    spans = []
    cursor = start
    for weight in weights:
        spans.append((cursor, cursor + weight * scale))
        cursor += weight * scale + gap
    return spans


def _lot_lines(rng: random.Random, start: float, end: float, frontage: tuple[float, float]) -> list[float]:
    """Division points of a row of lots along its street, ends included; the end lots are wider corner lots."""
    length = end - start
    count = max(int(length // (sum(frontage) / 2)), 1)
    weights = [rng.uniform(*frontage) * (1.3 if index in (0, count - 1) else 1.0) for index in range(count)]
    scale = length / sum(weights)
    points = [start]
    for weight in weights[:-1]:
        points.append(points[-1] + weight * scale)
    points.append(end)
    return points


def _chamfer(ring: list[tuple[float, float]], corners: Iterable[int], size: float) -> list[tuple[float, float]]:
    """Cut the given corners of an open ring by ``size`` metres (the pan coupé of a street corner)."""
    cut = set(corners)
    out: list[tuple[float, float]] = []
    count = len(ring)
    for index, (x, y) in enumerate(ring):
        if index not in cut:
            out.append((x, y))
            continue
        for nx, ny in (ring[index - 1], ring[(index + 1) % count]):
            length = math.hypot(nx - x, ny - y)
            out.append((x + (nx - x) * size / length, y + (ny - y) * size / length))
    return out


def _row_lines(rng: random.Random, *, x0: float, x1: float, pattern: LotPattern) -> tuple[list[float], list[float]]:
    """The lot lines of one row of a block: where they meet the street, and where they meet the back line."""
    front_points = _lot_lines(rng, x0, x1, pattern.frontage)
    skew = 0.12 * pattern.frontage[0]
    back_points = [front_points[0]]
    back_points += [x + rng.uniform(-skew, skew) for x in front_points[1:-1]]
    back_points.append(front_points[-1])
    return front_points, back_points


def _row_lots(
    *,
    front: float,
    back: float,
    lines: tuple[list[float], list[float]],
    shared_back: Sequence[float],
    back_is_street: bool,
    chamfer: float,
) -> list[tuple[list[tuple[float, float]], bool]]:
    """The lots of one row, between its street (``front``) and its back line.

    The back line also carries the lot lines of the row behind (``shared_back``), so that the two rows
    share their vertices and stay free of slivers once rounded and transformed.
    """
    front_points, back_points = lines
    last = len(front_points) - 2
    lots = []
    for index in range(last + 1):
        left, right = back_points[index], back_points[index + 1]
        between = sorted((x for x in shared_back if left < x < right), reverse=True)
        ring = [
            (front_points[index], front),
            (front_points[index + 1], front),
            (right, back),
            *((x, back) for x in between),
            (left, back),
        ]
        corners = []
        if index == 0:
            corners += [0, len(ring) - 1] if back_is_street else [0]
        if index == last:
            corners += [1, 2] if back_is_street else [1]
        lots.append((_chamfer(ring, corners, chamfer), bool(corners)))
    return lots


def _boundary(rng: random.Random) -> Polygon:
    """The commune boundary on the local grid: the district rectangle with a wavy edge and a cut corner."""
    points: list[tuple[float, float]] = []
    corners = [(-_HALF_X, -_HALF_Y), (_HALF_X, -_HALF_Y), (_HALF_X, _HALF_Y), (-_HALF_X, _HALF_Y)]
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        length = math.hypot(bx - ax, by - ay)
        steps = max(int(length // 200), 1)
        # Outward normal of a counter-clockwise ring.
        nx, ny = (by - ay) / length, -(bx - ax) / length
        for step in range(steps):
            t = step / steps
            offset = 25.0 + (rng.uniform(-10.0, 20.0) if step else 0.0)
            points.append((ax + (bx - ax) * t + nx * offset, ay + (by - ay) * t + ny * offset))
    outline = Polygon(points)
    # The north-east corner is cut off by a diagonal road.
    cut = Polygon([(_HALF_X - 420, _HALF_Y + 200), (_HALF_X + 200, _HALF_Y + 200), (_HALF_X + 200, _HALF_Y - 300)])
    return outline.difference(cut)


def _district_rect(column: int, row: int, *, inset: float, rim: float = 0.0) -> tuple[float, float, float, float]:
    """A district's rectangle (x0, x1, y0, y1) shrunk by ``inset``; its edges on the rim pushed out by ``rim``."""
    x0, x1 = _X[column] + inset, _X[column + 1] - inset
    y0, y1 = _Y[row] + inset, _Y[row + 1] - inset
    x0 -= rim if column == 0 else 0.0
    x1 += rim if column == len(_X) - 2 else 0.0
    y0 -= rim if row == 0 else 0.0
    y1 += rim if row == len(_Y) - 2 else 0.0
    return x0, x1, y0, y1


def _district_parcels(
    rng: random.Random,
    *,
    source_key: str,
    zone_code: str,
    column: int,
    row: int,
    boundary: Polygon,
    next_title: Callable[[], str],
) -> tuple[list[DemoParcel], int]:
    """The blocks and lots of one district, with their land titles; returns the lots and the block count."""
    pattern = _LOT_PATTERNS[zone_code]
    # Blocks keep half an avenue (or the ring road) away from the district's edges.
    x0, x1, y0, y1 = _district_rect(column, row, inset=_AVENUE_HALF_WIDTH)
    parcels: list[DemoParcel] = []
    blocks = 0
    for by0, by1 in _spans(rng, y0, y1, pattern.block_depth, pattern.street):
        for bx0, bx1 in _spans(rng, x0, x1, pattern.block_length, pattern.street):
            if not boundary.contains(box(bx0, by0, bx1, by1)):
                continue
            blocks += 1
            block = f"{source_key}-B{blocks:03d}"
            if pattern.rows == 1:
                rows = [(by0, by1, _row_lines(rng, x0=bx0, x1=bx1, pattern=pattern))]
            else:
                middle = by0 + (by1 - by0) * rng.uniform(0.45, 0.55)
                rows = [(front, middle, _row_lines(rng, x0=bx0, x1=bx1, pattern=pattern)) for front in (by0, by1)]
            lots = []
            for index, (front, back, lines) in enumerate(rows):
                shared_back = rows[1 - index][2][1] if len(rows) == 2 else []
                lots += _row_lots(
                    front=front,
                    back=back,
                    lines=lines,
                    shared_back=shared_back,
                    back_is_street=len(rows) == 1,
                    chamfer=pattern.chamfer,
                )
            for lot_number, (ring, corner) in enumerate(lots, start=1):
                projected = tuple(_to_projected(x, y) for x, y in ring)
                parcels.append(
                    DemoParcel(
                        reference=next_title(),
                        block=block,
                        lot=lot_number,
                        corner=corner,
                        ring=(*projected, projected[0]),
                    )
                )
    return parcels, blocks


# Source keys of the demo servitudes start with this.
_CONSTRAINT_KEY_PREFIX = "DEMO-"
# The heritage perimeter is a rough ellipse astride the central avenue: its radius every 30°.
_HERITAGE_RADII = (210, 190, 230, 200, 180, 215, 205, 185, 225, 195, 210, 200)


def _constraints(boundary: Polygon) -> tuple[DemoConstraint, ...]:
    """The servitudes of the demo, cut by the commune boundary. Inland: no coastline strip."""
    heritage = Polygon(
        [
            (-20 + radius * math.cos(math.radians(30 * step)), 300 + 0.8 * radius * math.sin(math.radians(30 * step)))
            for step, radius in enumerate(_HERITAGE_RADII)
        ]
    )
    avenue = _Y[2]
    alignment = MultiPolygon(
        [
            box(-_HALF_X - 100, avenue + _AVENUE_HALF_WIDTH, _HALF_X + 100, avenue + _AVENUE_HALF_WIDTH + 6),
            box(-_HALF_X - 100, avenue - _AVENUE_HALF_WIDTH - 6, _HALF_X + 100, avenue - _AVENUE_HALF_WIDTH),
        ]
    )
    wadi = LineString(
        [(-_HALF_X - 100, -700), (-800, -560), (-350, -640), (100, -520), (600, -610), (_HALF_X + 100, -480)]
    )
    power_line = LineString([(300, -_HALF_Y - 100), (_HALF_X + 100, -60)])
    specs = (
        (
            ConstraintKind.HERITAGE,
            f"{_CONSTRAINT_KEY_PREFIX}HER-01",
            "Périmètre de protection du noyau ancien",
            "Avis de l'inspection des monuments historiques (Ministère de la Culture) requis ; "
            "hauteur et façades encadrées par le règlement du périmètre.",
            heritage,
        ),
        (
            ConstraintKind.ROAD_ALIGNMENT,
            f"{_CONSTRAINT_KEY_PREFIX}ALI-01",
            "Alignement de l'avenue centrale (emprise portée à 42 m)",
            "Bande de 6 m de part et d'autre de l'avenue réservée à l'élargissement : inconstructible.",
            alignment,
        ),
        (
            ConstraintKind.FLOOD_ZONE,
            f"{_CONSTRAINT_KEY_PREFIX}INO-01",
            "Zone inondable de l'oued (aléa centennal)",
            "Avis de l'agence du bassin hydraulique requis ; sous-sols interdits, plancher bas surélevé.",
            wadi.buffer(45.0, cap_style="flat"),
        ),
        (
            ConstraintKind.UTILITY_EASEMENT,
            f"{_CONSTRAINT_KEY_PREFIX}THT-01",
            "Servitude de la ligne très haute tension 225 kV (ONEE)",
            "Couloir de 40 m inconstructible ; avis de l'ONEE requis à moins de 50 m de l'axe.",
            power_line.buffer(20.0, cap_style="flat"),
        ),
    )
    return tuple(
        DemoConstraint(
            kind=kind,
            source_key=key,
            name=name,
            description=description,
            geom=_geometry_to_projected(geom.intersection(boundary)),
        )
        for kind, key, name, description, geom in specs
    )


def demo_layout_build(*, seed: int = DEMO_SEED) -> DemoLayout:
    """Draw the demo commune in EPSG:26191; the same seed always gives the same references and polygons."""
    rng = random.Random(seed)
    # Land titles draw from their own stream, so that changing the drawing does not renumber them.
    title_rng = random.Random(f"{seed}:titles")
    boundary = _boundary(rng)
    title = _FIRST_TITLE_NUMBER

    def next_title() -> str:
        nonlocal title
        title += 1 + int(title_rng.random() * 6)
        return f"TF {title}/C"

    parcels: list[DemoParcel] = []
    blocks = 0
    zones = []
    for source_key, zone_code, column, row in _DISTRICTS:
        # Zones meet on the avenues' axes and reach past the rim, so that cut by the boundary they tile it.
        x0, x1, y0, y1 = _district_rect(column, row, inset=0.0, rim=500.0)
        zones.append(
            DemoZone(source_key, zone_code, _geometry_to_projected(box(x0, y0, x1, y1).intersection(boundary)))
        )
        district_parcels, district_blocks = _district_parcels(
            rng,
            source_key=source_key,
            zone_code=zone_code,
            column=column,
            row=row,
            boundary=boundary,
            next_title=next_title,
        )
        parcels += district_parcels
        blocks += district_blocks
    return DemoLayout(
        seed=seed,
        boundary=_geometry_to_projected(boundary),
        zones=tuple(zones),
        constraints=_constraints(boundary),
        parcels=tuple(parcels),
        blocks=blocks,
    )


# --- Writing ---------------------------------------------------------------------------------------


def _to_storage(geometries: Sequence[BaseGeometry]) -> list[GEOSGeometry]:
    """EPSG:26191 shapely geometries as EPSG:4326 multipolygons, transformed by PostGIS in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsEWKB(ST_Multi(ST_Transform(ST_GeomFromWKB(g, %s), %s))) "
            "FROM unnest(%s::bytea[]) WITH ORDINALITY AS t(g, i) ORDER BY i",
            [DEMO_SRID, STORAGE_SRID, [geom.wkb for geom in geometries]],
        )
        return [GEOSGeometry(memoryview(bytes(row[0]))) for row in cursor.fetchall()]


def _province_containing(commune: AdminArea) -> AdminArea | None:
    """The province that contains the commune, else the one that contains its centre."""
    provinces = AdminArea.objects.filter(level=AdminLevel.PROVINCE).order_by("code")
    return (
        provinces.filter(geom__contains=commune.geom).first()
        or provinces.filter(geom__contains=commune.geom.point_on_surface).first()
    )


def _commune_ensure(*, layout: DemoLayout) -> tuple[AdminArea, bool, bool]:
    """The demo commune, created if missing, with its province as parent once one is loaded."""
    commune = AdminArea.objects.filter(code=DEMO_COMMUNE_CODE).first()
    created = commune is None
    if commune is None:
        commune = AdminArea.objects.create(
            level=AdminLevel.COMMUNE,
            code=DEMO_COMMUNE_CODE,
            name_fr=DEMO_COMMUNE_NAME_FR,
            name_ar=DEMO_COMMUNE_NAME_AR,
            projected_srid=DEMO_SRID,
            geom=_to_storage([layout.boundary])[0],
        )
    elif commune.level != AdminLevel.COMMUNE:
        raise DemoError(f"the code {DEMO_COMMUNE_CODE} is already used by a {commune.level}, not the demo commune")
    parent_set = False
    if commune.parent_id is None:
        province = _province_containing(commune)
        if province is not None:
            commune.parent = province
            commune.save(update_fields=["parent", "updated_at"])
            parent_set = True
    return commune, created, parent_set


def _parcels_ensure(*, commune: AdminArea, layout: DemoLayout) -> tuple[int, int]:
    """Insert the layout's parcels that are missing (COPY into a staging table, then one INSERT).

    Returns the number inserted and the number of references already held by parcels of other
    communes (those are left alone).
    """
    # ``contains`` rather than a key lookup: parcels without the key (older demos) must count as other.
    other = (
        Parcel.objects.filter(commune=commune, attributes__source=DEMO_SOURCE)
        .exclude(attributes__contains={"layout": layout.version})
        .first()
    )
    if other is not None:
        raise DemoError(
            f"the demo parcels in this database were drawn by another layout (seed {other.attributes.get('seed')}, "
            f"version {other.attributes.get('layout')}; now seed {layout.seed}, version {layout.version}): "
            "run seed_demo --reset"
        )
    keys = [reference_key(parcel.reference) for parcel in layout.parcels]
    existing = dict(Parcel.objects.filter(reference_key__in=keys).values_list("reference_key", "commune_id"))
    taken = sum(1 for commune_id in existing.values() if commune_id != commune.pk)
    missing = [parcel for parcel, key in zip(layout.parcels, keys, strict=True) if key not in existing]
    if not missing:
        return 0, taken
    table = Parcel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE taamir_demo_parcel_stage "
            "(reference text, reference_key text, wkt text, attributes jsonb) ON COMMIT DROP"
        )
        with cursor.copy("COPY taamir_demo_parcel_stage FROM STDIN") as copy:
            for parcel in missing:
                attributes = {
                    "source": DEMO_SOURCE,
                    "seed": layout.seed,
                    "layout": layout.version,
                    "block": parcel.block,
                    "lot": parcel.lot,
                    "corner": parcel.corner,
                }
                copy.write_row((parcel.reference, reference_key(parcel.reference), parcel.wkt, json.dumps(attributes)))
        cursor.execute(
            f"""
            INSERT INTO {table} (reference, reference_key, commune_id, area_m2, area_srid, geom, attributes, updated_at)
            SELECT s.reference, s.reference_key, %(commune)s, ST_Area(ST_Transform(t.geom, %(srid)s)), %(srid)s,
                   t.geom, s.attributes, now()
            FROM taamir_demo_parcel_stage AS s
            CROSS JOIN LATERAL (
                SELECT ST_Multi(ST_Transform(ST_GeomFromText(s.wkt, %(srid)s), %(storage)s)) AS geom
            ) AS t
            ORDER BY s.reference_key
            ON CONFLICT (reference_key) DO NOTHING
            """,
            {"commune": commune.pk, "srid": DEMO_SRID, "storage": STORAGE_SRID},
        )
        created = cursor.rowcount
        cursor.execute("DROP TABLE taamir_demo_parcel_stage")
    return created, taken


def _zoning_ensure(*, commune: AdminArea, layout: DemoLayout) -> tuple[bool, int, int]:
    """The zoning plan, its zone types and its zones, each created if missing."""
    plan, plan_created = ZoningPlan.objects.get_or_create(
        code=DEMO_PLAN_CODE,
        defaults={"name": DEMO_PLAN_NAME, "commune": commune, "approved_on": DEMO_PLAN_APPROVED_ON},
    )
    regulations = {regulation.zone_code: regulation for regulation in plan.regulations.all()}
    new_regulations = [
        ZoneRegulation(
            plan=plan,
            zone_code=spec.zone_code,
            label=spec.label,
            max_height_m=spec.max_height_m,
            max_floors=spec.max_floors,
            coverage_ratio=spec.coverage_ratio,
            floor_area_ratio=spec.floor_area_ratio,
            min_setback_m=spec.min_setback_m,
            allowed_uses=list(spec.allowed_uses),
        )
        for spec in DEMO_REGULATIONS
        if spec.zone_code not in regulations
    ]
    for regulation in ZoneRegulation.objects.bulk_create(new_regulations):
        regulations[regulation.zone_code] = regulation
    existing_zones = set(plan.zones.values_list("source_key", flat=True))
    missing_zones = [zone for zone in layout.zones if zone.source_key not in existing_zones]
    ZoningZone.objects.bulk_create(
        ZoningZone(plan=plan, source_key=zone.source_key, regulation=regulations[zone.zone_code], geom=geom)
        for zone, geom in zip(missing_zones, _to_storage([zone.geom for zone in missing_zones]), strict=True)
    )
    return plan_created, len(new_regulations), len(missing_zones)


def _constraints_ensure(*, layout: DemoLayout) -> int:
    """The demo servitudes, each created if missing."""
    existing = set(
        ConstraintArea.objects.filter(source_key__in=[spec.source_key for spec in layout.constraints]).values_list(
            "kind", "source_key"
        )
    )
    missing = [spec for spec in layout.constraints if (spec.kind, spec.source_key) not in existing]
    ConstraintArea.objects.bulk_create(
        ConstraintArea(
            kind=spec.kind, source_key=spec.source_key, name=spec.name, description=spec.description, geom=geom
        )
        for spec, geom in zip(missing, _to_storage([spec.geom for spec in missing]), strict=True)
    )
    return len(missing)


def _accounts_ensure() -> tuple[int, int, int]:
    """One group per role and one demo account in it; existing accounts are left as they are."""
    user_model = get_user_model()
    groups = {}
    groups_created = 0
    for role in ROLES:
        groups[role.group], created = Group.objects.get_or_create(name=role.group)
        groups_created += created
    existing = set(
        user_model.objects.filter(username__in=[role.username for role in ROLES]).values_list("username", flat=True)
    )
    missing = [role for role in ROLES if role.username not in existing]
    if missing:
        # One hash for all: the password is public, and hashing it nine times would take seconds.
        password = make_password(DEMO_PASSWORD)
        user_model.objects.bulk_create(
            user_model(
                username=role.username,
                first_name=role.first_name,
                last_name=role.last_name,
                email=f"{role.username}@{DEMO_EMAIL_DOMAIN}",
                password=password,
                is_staff=role.superuser,
                is_superuser=role.superuser,
            )
            for role in missing
        )
    users = dict(
        user_model.objects.filter(username__in=[role.username for role in ROLES]).values_list("username", "pk")
    )
    if missing and apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        # A verified primary address, so that allauth lets the new accounts sign in by e-mail too.
        EmailAddress.objects.bulk_create(
            EmailAddress(
                user_id=users[role.username], email=f"{role.username}@{DEMO_EMAIL_DOMAIN}", verified=True, primary=True
            )
            for role in missing
        )
    membership = user_model.groups.through
    present = set(
        membership.objects.filter(
            user_id__in=users.values(), group_id__in=[group.pk for group in groups.values()]
        ).values_list("user_id", "group_id")
    )
    new_memberships = [
        membership(user_id=users[role.username], group_id=groups[role.group].pk)
        for role in ROLES
        if (users[role.username], groups[role.group].pk) not in present
    ]
    membership.objects.bulk_create(new_memberships)
    return groups_created, len(missing), len(new_memberships)


def demo_commune_delete() -> int:
    """Delete the demo's geography (commune, its demo parcels, zoning plan, servitudes); keep the accounts.

    Synthetic parcels attached to the demo commune stay, without a commune. Returns the rows deleted.
    """
    from permits.demo import demo_committees_delete, demo_dossiers_delete

    with transaction.atomic():
        # The demo dossiers, the commune's reference counters and its committees point to the commune:
        # they go first.
        deleted = demo_dossiers_delete(commune_code=DEMO_COMMUNE_CODE)
        deleted += demo_committees_delete(commune_code=DEMO_COMMUNE_CODE)
        deleted += Parcel.objects.filter(commune__code=DEMO_COMMUNE_CODE, attributes__source=DEMO_SOURCE).delete()[0]
        deleted += ZoningZone.objects.filter(plan__code=DEMO_PLAN_CODE).delete()[0]
        deleted += ZoningPlan.objects.filter(code=DEMO_PLAN_CODE).delete()[0]
        deleted += ConstraintArea.objects.filter(source_key__startswith=_CONSTRAINT_KEY_PREFIX).delete()[0]
        deleted += AdminArea.objects.filter(code=DEMO_COMMUNE_CODE, level=AdminLevel.COMMUNE).delete()[0]
    return deleted


def demo_commune_build(*, seed: int = DEMO_SEED) -> DemoSummary:
    """Create whatever part of the demo is missing, in one transaction; a complete demo is left untouched."""
    started = time.perf_counter()
    layout = demo_layout_build(seed=seed)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        commune, commune_created, parent_set = _commune_ensure(layout=layout)
        parcels_created, parcels_taken = _parcels_ensure(commune=commune, layout=layout)
        plan_created, regulations_created, zones_created = _zoning_ensure(commune=commune, layout=layout)
        constraints_created = _constraints_ensure(layout=layout)
        groups_created, accounts_created, memberships_created = _accounts_ensure()
    return DemoSummary(
        commune_code=commune.code,
        commune_created=commune_created,
        parent_code=commune.parent.code if commune.parent_id else None,
        parent_set=parent_set,
        plan_created=plan_created,
        blocks=layout.blocks,
        parcels=len(layout.parcels),
        parcels_created=parcels_created,
        parcels_taken=parcels_taken,
        regulations=len(DEMO_REGULATIONS),
        regulations_created=regulations_created,
        zones=len(layout.zones),
        zones_created=zones_created,
        constraints=len(layout.constraints),
        constraints_created=constraints_created,
        accounts=ROLES,
        accounts_created=accounts_created,
        groups_created=groups_created,
        memberships_created=memberships_created,
        seconds=time.perf_counter() - started,
    )
