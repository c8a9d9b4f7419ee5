"""The tile cache is invalidated precisely: a changed feature drops exactly the cached tiles its old or new
bounding box touches (with the tile buffer), at every zoom, and nothing else.

The expected tiles are computed here independently (tile bounds in EPSG:3857 from z/x/y) and compared
with what the database triggers left in ``tiles_tile``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Polygon
from django.test import Client

from geo.models import AuthorisedWork, ZoneRegulation
from geo.services import authorised_work_record, authorised_work_set_status
from tests.conftest import merchich_box
from tests.tiles.mvt_tools import buffered_tile_bounds, decode_tile, tile_of
from tiles import cache
from tiles.layers import layer_named
from tiles.vector import build_tile

pytestmark = pytest.mark.django_db

ZOOMS = range(5, 21)


def box_3857(geom) -> Polygon:
    return Polygon.from_bbox(geom.transform(3857, clone=True).extent)


def touches(address: tuple[str, int, int, int], boxes: list[Polygon]) -> bool:
    _layer, z, x, y = address
    area = Polygon.from_bbox(buffered_tile_bounds(z, x, y))
    return any(area.intersects(box) for box in boxes)


def warm(client: Client, layer: str, places, zooms=ZOOMS) -> set[tuple[str, int, int, int]]:
    """Request the tile of each place and its 8 neighbours at each zoom; returns the cached addresses."""
    for z in zooms:
        tiles = set()
        for lon, lat in places:
            cx, cy = tile_of(lon, lat, z)
            tiles |= {(cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
        for x, y in tiles:
            assert client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf").status_code in (200, 204)
    return cache.cached_addresses(layer)


def places_of(world) -> list[tuple[float, float]]:
    return [work.geom.centroid.coords for work in world["works"].values()]


def test_moving_a_work_drops_exactly_the_tiles_of_its_old_and_new_place(client, geo_portal_world):
    house = geo_portal_world["works"]["house"]
    before = warm(client, "authorised_works", places_of(geo_portal_world))
    parcels_before = warm(client, "parcels", places_of(geo_portal_world), zooms=(14, 17))
    old_box = box_3857(house.geom)

    moved = authorised_work_record(
        reference=house.reference, procedure_code=house.procedure_code, procedure_name=house.procedure_name,
        commune=house.commune, decision_date=house.decision_date, status=house.status,
        geom=merchich_box(-600, 300, -580, 330), verification_code=house.verification_code,
    )  # fmt: skip

    expected_dropped = {address for address in before if touches(address, [old_box, box_3857(moved.geom)])}
    after = cache.cached_addresses("authorised_works")
    assert after == before - expected_dropped
    # Every zoom lost tiles, and far tiles (the withdrawn shop's, close up) were kept.
    assert {z for _layer, z, _x, _y in expected_dropped} == set(ZOOMS)
    assert any(z >= 15 for _layer, z, _x, _y in after)
    assert cache.cached_addresses("parcels") == parcels_before

    # The rebuilt tile shows the work at its new place.
    lon, lat = moved.geom.centroid.coords
    x, y = tile_of(lon, lat, 17)
    response = client.get(f"/tiles/authorised_works/17/{x}/{y}.pbf")
    assert response["X-Tile-Cache"] == "miss"
    assert house.pk in {feature.id for feature in decode_tile(response.content, 17, x, y)}


def test_a_status_change_drops_the_tiles_of_that_work_only(client, geo_portal_world):
    flats = geo_portal_world["works"]["flats"]
    before = warm(client, "authorised_works", places_of(geo_portal_world))
    lon, lat = flats.geom.centroid.coords
    x, y = tile_of(lon, lat, 18)
    etag = client.get(f"/tiles/authorised_works/18/{x}/{y}.pbf")["ETag"]

    assert authorised_work_set_status(reference=flats.reference, status="withdrawn") == 1

    expected_dropped = {address for address in before if touches(address, [box_3857(flats.geom)])}
    assert cache.cached_addresses("authorised_works") == before - expected_dropped
    response = client.get(f"/tiles/authorised_works/18/{x}/{y}.pbf", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag
    (feature,) = [f for f in decode_tile(response.content, 18, x, y) if f.id == flats.pk]
    assert feature.properties["status"] == "withdrawn"
    # No change, no invalidation: the same status again leaves the cache alone.
    client.get(f"/tiles/authorised_works/18/{x}/{y}.pbf")
    kept = cache.cached_addresses("authorised_works")
    assert authorised_work_set_status(reference=flats.reference, status="withdrawn") == 0
    assert cache.cached_addresses("authorised_works") == kept


def test_a_new_work_turns_cached_empty_tiles_into_full_ones(client, geo_portal_world):
    commune = geo_portal_world["commune"]
    site = merchich_box(800, -900, 830, -870)
    lon, lat = site.centroid.coords
    x, y = tile_of(lon, lat, 19)
    assert client.get(f"/tiles/authorised_works/19/{x}/{y}.pbf").status_code == 204
    assert ("authorised_works", 19, x, y) in cache.cached_addresses("authorised_works")

    work = authorised_work_record(
        reference="TEST-01-2026-00009", procedure_code="permis-construire", procedure_name="Permis de construire",
        commune=commune, decision_date=dt.date(2026, 1, 5), status="authorised", geom=site,
    )  # fmt: skip

    response = client.get(f"/tiles/authorised_works/19/{x}/{y}.pbf")
    assert response.status_code == 200
    assert [feature.id for feature in decode_tile(response.content, 19, x, y)] == [work.pk]


def test_deleting_a_work_drops_its_tiles(client, geo_portal_world):
    shop = geo_portal_world["works"]["shop"]
    before = warm(client, "authorised_works", places_of(geo_portal_world), zooms=(10, 16, 20))
    box = box_3857(shop.geom)
    AuthorisedWork.objects.filter(pk=shop.pk).delete()
    assert cache.cached_addresses("authorised_works") == {a for a in before if not touches(a, [box])}


def test_a_zone_regulation_change_drops_the_tiles_of_its_zones(client, geo_portal_world):
    places = places_of(geo_portal_world)
    before = warm(client, "zoning", places, zooms=(9, 13, 16))
    flats_rule = ZoneRegulation.objects.get(zone_code="R4")
    zone_boxes = [box_3857(zone.geom) for zone in flats_rule.zones.all()]
    ZoneRegulation.objects.filter(pk=flats_rule.pk).update(max_height_m=18.0)
    assert cache.cached_addresses("zoning") == {a for a in before if not touches(a, zone_boxes)}
    assert cache.cached_addresses("zoning") != before


def test_a_tile_built_before_a_change_is_not_stored(geo_portal_world):
    """The race: a request builds a tile, a change commits, then the request stores the stale tile."""
    layer = layer_named("authorised_works", user=None)
    flats = geo_portal_world["works"]["flats"]
    lon, lat = flats.geom.centroid.coords
    x, y = tile_of(lon, lat, 16)
    generation, data = build_tile(layer, 16, x, y)
    authorised_work_set_status(reference=flats.reference, status="lapsed")
    stale = cache.Tile(data=data, etag=cache.etag_of(data), cached=False)
    assert cache.store_tile(layer.name, 16, x, y, stale, generation=generation) is False
    assert ("authorised_works", 16, x, y) not in cache.cached_addresses("authorised_works")
    fresh_generation, fresh = build_tile(layer, 16, x, y)
    assert fresh_generation == generation + 1
    fresh_tile = cache.Tile(fresh, cache.etag_of(fresh), False)
    assert cache.store_tile(layer.name, 16, x, y, fresh_tile, generation=fresh_generation)


def test_a_bulk_insert_drops_exactly_the_tiles_its_features_touch(client, geo_portal_world):
    """More than 50 features in one statement (an import) take the other path of the trigger: same tiles."""
    commune = geo_portal_world["commune"]
    before = warm(client, "authorised_works", places_of(geo_portal_world), zooms=(12, 15, 17, 19))
    sites = [merchich_box(150 + 8 * i, 150, 155 + 8 * i, 156) for i in range(60)]
    AuthorisedWork.objects.bulk_create(
        AuthorisedWork(
            reference=f"BULK-{i:03d}", procedure_code="permis-construire", procedure_name="Permis de construire",
            commune=commune, decision_date=dt.date(2026, 3, 1), status="authorised", geom=site,
        )
        for i, site in enumerate(sites)
    )  # fmt: skip
    dropped = before - cache.cached_addresses("authorised_works")
    assert dropped == {address for address in before if touches(address, [box_3857(site) for site in sites])}
    assert dropped and dropped != before
