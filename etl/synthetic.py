"""Synthetic parcels for scale work: any number, generated inside PostGIS batch by batch.

Each parcel is drawn from its sequence number alone (``SYN 0001234/C`` is number 1234), so the Python
process holds no geometry and its memory does not grow with the count. Numbers continue after the
synthetic parcels already stored, and so do positions: a second run adds parcels next to the first
(from the next street block when it uses another seed or commune, leaving a gap in the numbers).

Layout, in the commune's projected CRS: square cells of 156 m hold three street blocks of two rows of
twelve lots (about 12 m × 20 m, lot lines skewed by a seeded hash, corner lots with a 3 m pan coupé).
Cells are laid out in Morton (Z) order from an anchor just east of the commune (or of the demo
commune's site when there is none), growing east and south, so any count fills a compact, roughly
square area and never overlaps the commune's own parcels.

All batches run in one transaction: a run adds all its parcels or none (an error or Ctrl-C leaves the
table as it was), and concurrent runs are serialised by an advisory lock. The cost is one long
transaction, which PostgreSQL handles well for a few million inserted rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from etl.demo import DEMO_COMMUNE_CODE
from geo.crs import MERCHICH_NORD
from geo.models import STORAGE_SRID, AdminArea, AdminLevel, Parcel, reference_key

SYNTHETIC_PREFIX = "SYN"
SYNTHETIC_SUFFIX = "/C"
SYNTHETIC_SOURCE = "synthetic"
DEFAULT_BATCH_SIZE = 50_000
# Without a commune, cells grow east and south from here (EPSG:26191): 5 km east of Casablanca's
# centre (296628.5, 332701.7), just east of where ``seed_demo`` draws its commune.
DEFAULT_ANCHOR = (301_628.5, 332_201.7)
# Gap between a commune's eastern edge and the first cell (metres).
ANCHOR_GAP = 500.0
_ADVISORY_LOCK_KEY = 0x7A4D_0002

# Geometry of the grid (metres): lots per row, lot frontage and depth, street width, blocks per cell.
_LOTS_PER_ROW = 12
_FRONTAGE = 12.0
_DEPTH = 20.0
_STREET = 12.0
_BLOCKS_PER_CELL = 3
_BLOCK_WIDTH = _LOTS_PER_ROW * _FRONTAGE
_CELL = _BLOCK_WIDTH + _STREET
_BLOCK_PITCH = _CELL / _BLOCKS_PER_CELL
_LOTS_PER_BLOCK = 2 * _LOTS_PER_ROW
_LOTS_PER_CELL = _BLOCKS_PER_CELL * _LOTS_PER_BLOCK
# Jitter amplitudes (metres): lot lines along the street, their skew towards the back, the back line.
_FRONT_JITTER = 3.0
_BACK_JITTER = 1.5
_MIDDLE_JITTER = 2.0
_CHAMFER = 3.0
# Seeds are doubled (and salted) inside a bigint.
_MAX_SEED = 2**61
# Bits of the cell number decoded by the Morton order (2**42 cells is far beyond any run).
_MORTON_BITS = 21


class SyntheticParcelError(ValueError):
    """The generation cannot run as asked; the message is one line for the user."""


@dataclass(frozen=True)
class SyntheticSummary:
    """What one :func:`synthetic_parcels_generate` run wrote."""

    count: int
    first_reference: str
    last_reference: str
    commune_code: str | None
    srid: int
    seconds: float


def synthetic_reference(number: int) -> str:
    """The land-title reference of synthetic parcel ``number`` (``SYN 0001234/C``)."""
    return f"{SYNTHETIC_PREFIX} {number:07d}{SYNTHETIC_SUFFIX}"


def synthetic_commune_resolve(*, code: str | None) -> AdminArea | None:
    """The commune named by ``code``; without a code, the demo commune if it exists, else ``None``."""
    if code is None:
        return AdminArea.objects.filter(code=DEMO_COMMUNE_CODE, level=AdminLevel.COMMUNE).first()
    commune = AdminArea.objects.filter(code=code).first()
    if commune is None:
        raise SyntheticParcelError(f"unknown commune {code!r}")
    if commune.level != AdminLevel.COMMUNE:
        raise SyntheticParcelError(f"{code!r} is a {commune.level}, not a commune")
    return commune


def synthetic_request_check(*, count: int, batch_size: int, seed: int = 0) -> None:
    """Refuse a count or batch size that is not a positive number, or a seed PostgreSQL cannot hash."""
    if count <= 0:
        raise SyntheticParcelError(f"the count must be a positive number, not {count}")
    if batch_size <= 0:
        raise SyntheticParcelError(f"the batch size must be a positive number, not {batch_size}")
    if abs(seed) >= _MAX_SEED:
        raise SyntheticParcelError(f"the seed must lie between -{_MAX_SEED} and {_MAX_SEED}, not {seed}")


def _hash_unit(key_sql: str, *, salt: int) -> str:
    """SQL for a number in [-1, 1) drawn from the seed and an integer key (PostgreSQL's 64-bit int hash)."""
    return f"(hashint8extended({key_sql}, %(seed)s::bigint * 2 + {salt})::float8 / 9223372036854775808.0::float8)"


def _morton_axis(cell_sql: str, *, odd: bool) -> str:
    """SQL that gathers the even (x) or odd (y) bits of a Morton cell number into one integer."""
    shift = 1 if odd else 0
    return " | ".join(f"(({cell_sql} >> {bit + shift}) & {1 << bit})" for bit in range(_MORTON_BITS))


def _batch_sql(table: str) -> str:
    """The INSERT that draws and writes parcels ``first``..``last`` (their sequence numbers)."""
    # Lot line ``index`` of row ``e.r`` of block ``e.block``, at the street (0) or at the back (1).
    edge = "((e.block * 2 + e.r) * 16 + {index}) * 2 + {side}"
    left_front = _hash_unit(edge.format(index="e.k", side=0), salt=0)
    left_back = _hash_unit(edge.format(index="e.k", side=1), salt=0)
    right_front = _hash_unit(edge.format(index="e.k + 1", side=0), salt=0)
    right_back = _hash_unit(edge.format(index="e.k + 1", side=1), salt=0)
    middle = _hash_unit("e.block", salt=1)
    last_lot = _LOTS_PER_ROW - 1
    return f"""
    WITH lot AS (
        SELECT n,
               (n - 1) / {_LOTS_PER_CELL} AS cell,
               mod(n - 1, {_LOTS_PER_CELL}) / {_LOTS_PER_BLOCK} AS block_in_cell,
               mod(n - 1, {_LOTS_PER_BLOCK}) / {_LOTS_PER_ROW} AS r,
               mod(n - 1, {_LOTS_PER_ROW}) AS k
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
    ), e AS MATERIALIZED (
        SELECT n, k, r, cell * {_BLOCKS_PER_CELL} + block_in_cell AS block,
               %(ax)s::float8 + ({_morton_axis("cell", odd=False)}) * {_CELL} + {_STREET / 2} AS x0,
               %(ay)s::float8 - (({_morton_axis("cell", odd=True)}) + 1) * {_CELL} + {_STREET / 2}
                   + block_in_cell * {_BLOCK_PITCH} AS y0
        FROM lot
    ), edges AS MATERIALIZED (
        SELECT e.n, e.k,
               CASE e.r WHEN 0 THEN e.y0 ELSE e.y0 + {2 * _DEPTH} END AS front,
               CASE e.r WHEN 0 THEN 1 ELSE -1 END AS s,
               e.y0 + {_DEPTH} + {_MIDDLE_JITTER} * {middle} AS back,
               e.x0 + e.k * {_FRONTAGE}
                   + CASE WHEN e.k = 0 THEN 0 ELSE {_FRONT_JITTER} * {left_front} END AS xfl,
               CASE WHEN e.k = 0 THEN 0 ELSE {_BACK_JITTER} * {left_back} END AS dbl,
               e.x0 + (e.k + 1) * {_FRONTAGE}
                   + CASE WHEN e.k = {last_lot} THEN 0 ELSE {_FRONT_JITTER} * {right_front} END AS xfr,
               CASE WHEN e.k = {last_lot} THEN 0 ELSE {_BACK_JITTER} * {right_back} END AS dbr,
               CASE WHEN e.k = 0 THEN {_CHAMFER} ELSE 0 END AS cl,
               CASE WHEN e.k = {last_lot} THEN {_CHAMFER} ELSE 0 END AS cr
        FROM e
    ), drawn AS (
        SELECT n,
               CASE WHEN n < 10000000 THEN lpad(n::text, 7, '0') ELSE n::text END AS num,
               ST_Multi(ST_Transform(ST_SetSRID(ST_RemoveRepeatedPoints(ST_MakePolygon(ST_MakeLine(ARRAY[
                   ST_MakePoint(xfl, front + s * cl),
                   ST_MakePoint(xfl + cl, front),
                   ST_MakePoint(xfr - cr, front),
                   ST_MakePoint(xfr, front + s * cr),
                   ST_MakePoint(xfr + dbr, back),
                   ST_MakePoint(xfl + dbl, back),
                   ST_MakePoint(xfl, front + s * cl)
               ]))), %(srid)s), {STORAGE_SRID})) AS geom
        FROM edges
    )
    INSERT INTO {table} (reference, reference_key, commune_id, area_m2, area_srid, geom, attributes, updated_at)
    SELECT '{SYNTHETIC_PREFIX} ' || num || '{SYNTHETIC_SUFFIX}', '{SYNTHETIC_PREFIX}' || num || '{SYNTHETIC_SUFFIX}',
           %(commune)s, ST_Area(ST_Transform(geom, %(srid)s)), %(srid)s, geom,
           jsonb_build_object('source', '{SYNTHETIC_SOURCE}', 'seed', %(seed)s::bigint), now()
    FROM drawn
    """


def _first_number(cursor: CursorWrapper, *, seed: int, commune: AdminArea | None) -> int:
    """The sequence number this run starts at: right after the highest stored one.

    When the last run used another seed or commune, start at the next street block instead (leaving a
    gap in the numbers), so that one block is never drawn half with one jitter and half with another.
    """
    table = Parcel._meta.db_table
    cursor.execute(
        f"SELECT max(substring(reference_key FROM '^{SYNTHETIC_PREFIX}([0-9]+){SYNTHETIC_SUFFIX}$')::bigint) "
        f"FROM {table} WHERE reference_key LIKE %s",
        [f"{SYNTHETIC_PREFIX}%"],
    )
    last = cursor.fetchone()[0] or 0
    if last % _LOTS_PER_BLOCK == 0:
        return last + 1
    cursor.execute(
        f"SELECT attributes->>'seed', commune_id FROM {table} WHERE reference_key = %s",
        [reference_key(synthetic_reference(last))],
    )
    last_seed, last_commune_id = cursor.fetchone()
    if last_seed == str(seed) and last_commune_id == (commune.pk if commune is not None else None):
        return last + 1
    return (last // _LOTS_PER_BLOCK + 1) * _LOTS_PER_BLOCK + 1


def _anchor(cursor: CursorWrapper, *, commune: AdminArea | None, srid: int) -> tuple[float, float]:
    """Where the first cell starts: east of the commune's extent, else the default anchor."""
    if commune is None:
        return DEFAULT_ANCHOR
    cursor.execute(
        f"SELECT ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform(geom, %s) AS b FROM {AdminArea._meta.db_table} "
        "WHERE id = %s) AS t",
        [srid, commune.pk],
    )
    x_max, y_max = cursor.fetchone()
    return x_max + ANCHOR_GAP, y_max


def synthetic_parcels_generate(
    *,
    count: int,
    commune: AdminArea | None = None,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> SyntheticSummary:
    """Add ``count`` synthetic parcels after the existing ones, in batches, all in one transaction.

    Areas are measured by PostGIS in the commune's projected CRS (EPSG:26191 without a commune) on the
    stored geometry. ``on_batch`` is called with the number of parcels of each batch once written.
    """
    synthetic_request_check(count=count, batch_size=batch_size, seed=seed)
    started = time.perf_counter()
    srid = commune.projected_srid if commune is not None else MERCHICH_NORD
    sql = _batch_sql(Parcel._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        # The batch statement is one long expression with a high estimated cost: the JIT compiler would
        # spend half a minute optimising it for every batch, far more than running it takes.
        cursor.execute("SET LOCAL jit = off")
        first = _first_number(cursor, seed=seed, commune=commune)
        ax, ay = _anchor(cursor, commune=commune, srid=srid)
        last = first + count - 1
        for batch_first in range(first, last + 1, batch_size):
            batch_last = min(batch_first + batch_size - 1, last)
            params = {
                "first": batch_first,
                "last": batch_last,
                "seed": seed,
                "ax": ax,
                "ay": ay,
                "srid": srid,
                "commune": commune.pk if commune is not None else None,
            }
            cursor.execute(sql, params)
            if on_batch is not None:
                on_batch(batch_last - batch_first + 1)
    with connection.cursor() as cursor:
        # Fresh planner statistics, so that bbox queries on the bigger table pick the GiST index.
        cursor.execute(f"ANALYZE {Parcel._meta.db_table}")
    return SyntheticSummary(
        count=count,
        first_reference=synthetic_reference(first),
        last_reference=synthetic_reference(last),
        commune_code=commune.code if commune is not None else None,
        srid=srid,
        seconds=time.perf_counter() - started,
    )
