"""``import_layer`` reads every format we promise and puts each feature in the right place, with the right area.

Small files generated in tmp_path: parcels near Casablanca given in EPSG:26191 (or reprojected to
EPSG:4326), converted by ``ogr2ogr`` into GeoPackage, Shapefile, zipped Shapefile, GeoJSON, GML,
FlatGeobuf and CSV with a WKT column. Then each of the four layers once with its own options:
admin areas (``--level``, parents found by place), parcels in a commune, zoning with rule columns,
constraints with ``--kind``.
"""

from __future__ import annotations

import math

import pytest

from geo import crs
from geo.models import AdminArea, ConstraintArea, Parcel, ZoneRegulation, ZoningPlan, ZoningZone
from tests.etl.conftest import (
    CASABLANCA_LONLAT,
    CASABLANCA_MERCHICH,
    Feature,
    import_layer,
    multipolygon_4326,
    near_casablanca,
    ogr2ogr,
    refused,
    reproject,
    write_geojson,
    write_layer,
)

pytestmark = pytest.mark.django_db

# (format, CRS of the file): every format in EPSG:26191, and the two whose EPSG:4326 axis order is a
# classic trap (GeoJSON is lon/lat; GML's urn:ogc:def:crs:EPSG::4326 is lat/lon).
FORMAT_CASES = [
    ("gpkg", 26191),
    ("shp", 26191),
    ("zip", 26191),  # the shapefile in a folder inside the archive
    ("zip_flat", 26191),  # the shapefile at the root of the archive
    ("geojson", 26191),
    ("geojson", 4326),
    ("gml", 26191),
    ("gml", 4326),
    ("fgb", 26191),
    ("csv", 26191),
]


def two_squares(east_m: float, north_m: float) -> dict:
    """A multipolygon of two 10 m × 10 m squares, 5 m apart (200 m²)."""
    first = near_casablanca(east_m, north_m, 10, 10)["coordinates"]
    second = near_casablanca(east_m + 15, north_m, 10, 10)["coordinates"]
    return {"type": "MultiPolygon", "coordinates": [first, second]}


def parcels(*, moved_m: float = 0.0) -> list[Feature]:
    """Three parcels in EPSG:26191: a 20 m × 30 m one, a 25 m × 40 m one (moved east by ``moved_m``), a multipolygon."""
    return [
        Feature({"reference": "TF 1001/C", "usage": "housing"}, near_casablanca(0, 0, 20, 30)),
        Feature({"reference": "TF 1002/C", "usage": "retail"}, near_casablanca(40 + moved_m, 0, 25, 40)),
        Feature({"reference": "TF 1003/C", "usage": "garden"}, two_squares(100, 0)),
    ]


def corners(geometry: dict) -> list[float]:
    """The distinct corners of a one-ring polygon, sorted and flattened (for ``pytest.approx``)."""
    return [c for point in sorted({tuple(p) for p in geometry["coordinates"][0]}) for c in point]


def corners_in_merchich(geom) -> list[float]:
    """The distinct corners of a stored (EPSG:4326) one-polygon multipolygon, back in EPSG:26191."""
    points = {crs.transform_point(*p, source_srid=4326, target_srid=26191) for p in geom.coords[0][0]}
    return [c for point in sorted(points) for c in point]


def in_crs(features: list[Feature], srid: int) -> list[Feature]:
    return [Feature(f.properties, reproject(f.geometry, source_srid=26191, target_srid=srid)) for f in features]


def srid_args(fmt: str, srid: int) -> list[str]:
    """A CSV declares no CRS: it needs ``--srid``."""
    return ["--srid", str(srid)] if fmt == "csv" else []


@pytest.mark.parametrize(("fmt", "srid"), FORMAT_CASES)
def test_parcels_land_in_place_and_are_measured_in_merchich(make_layer, fmt, srid):
    path = make_layer(fmt, in_crs(parcels(), srid), srid=srid)

    run = import_layer(path, "--layer", "parcels", *srid_args(fmt, srid))

    assert run.summary == {"read": 3, "created": 3, "updated": 0, "repaired": 0, "rejected": 0}
    assert Parcel.objects.count() == 3
    first = Parcel.objects.get(reference="TF 1001/C")
    assert first.geom.srid == 4326 and first.geom.geom_type == "MultiPolygon"
    # Every corner, stored in EPSG:4326, comes back to its EPSG:26191 position within 1 cm…
    assert corners_in_merchich(first.geom) == pytest.approx(corners(near_casablanca(0, 0, 20, 30)), abs=0.01)
    # …and the parcel is in Casablanca, not elsewhere on the globe (axis order).
    assert first.geom.centroid.coords == pytest.approx(CASABLANCA_LONLAT, abs=0.001)
    # Areas are measured in Merchich Nord, where the rectangles were drawn.
    areas = {p.reference: (p.area_m2, p.area_srid) for p in Parcel.objects.all()}
    assert areas["TF 1001/C"][0] == pytest.approx(600, abs=0.01)
    assert areas["TF 1002/C"][0] == pytest.approx(1000, abs=0.01)
    assert areas["TF 1003/C"][0] == pytest.approx(200, abs=0.01)
    assert {s for _, s in areas.values()} == {26191}
    assert len(Parcel.objects.get(reference="TF 1003/C").geom) == 2
    # Unmapped attributes are kept with the parcel.
    assert first.attributes["usage"] == "housing"


@pytest.mark.parametrize(("fmt", "srid"), FORMAT_CASES)
def test_second_run_changes_nothing_and_a_moved_parcel_is_updated(make_layer, fmt, srid):
    args = ["--layer", "parcels", *srid_args(fmt, srid)]
    import_layer(make_layer(fmt, in_crs(parcels(), srid), srid=srid), *args)
    before = {p.reference: (p.pk, p.updated_at) for p in Parcel.objects.all()}

    again = import_layer(make_layer(fmt, in_crs(parcels(), srid), srid=srid), *args)
    assert again.summary == {"read": 3, "created": 0, "updated": 0, "repaired": 0, "rejected": 0}
    assert {p.reference: (p.pk, p.updated_at) for p in Parcel.objects.all()} == before

    moved = import_layer(make_layer(fmt, in_crs(parcels(moved_m=5), srid), srid=srid), *args)
    assert moved.summary == {"read": 3, "created": 0, "updated": 1, "repaired": 0, "rejected": 0}
    parcel = Parcel.objects.get(reference="TF 1002/C")
    assert parcel.pk == before["TF 1002/C"][0]
    assert corners_in_merchich(parcel.geom) == pytest.approx(corners(near_casablanca(45, 0, 25, 40)), abs=0.01)
    assert Parcel.objects.get(reference="TF 1001/C").updated_at == before["TF 1001/C"][1]


def test_curved_polygons_are_linearised(tmp_path, ogr2ogr_available):
    """A GeoPackage of MultiSurfaces with arcs (as GML and CAD exports carry): a circle of radius 20 m."""
    x, y = CASABLANCA_MERCHICH
    circle = f"CIRCULARSTRING({x} {y},{x + 20} {y + 20},{x} {y + 40},{x - 20} {y + 20},{x} {y})"
    square = f"(({x + 50} {y},{x + 70} {y},{x + 70} {y + 30},{x + 50} {y + 30},{x + 50} {y}))"
    source = tmp_path / "curves.csv"
    source.write_text(f'WKT,reference\n"CURVEPOLYGON({circle})",TF 3001/C\n"MULTIPOLYGON({square})",TF 3002/C\n')
    path = ogr2ogr(source, tmp_path / "curves.gpkg", "GPKG", "-a_srs", "EPSG:26191", "-nlt", "MULTISURFACE")

    run = import_layer(path, "--layer", "parcels")

    assert run.summary == {"read": 2, "created": 2, "updated": 0, "repaired": 0, "rejected": 0}
    disc = Parcel.objects.get(reference="TF 3001/C")
    assert disc.geom.geom_type == "MultiPolygon" and disc.geom.num_coords > 64
    assert disc.area_m2 == pytest.approx(math.pi * 20**2, rel=1e-3)
    assert Parcel.objects.get(reference="TF 3002/C").area_m2 == pytest.approx(600, abs=0.01)


def test_a_named_layer_of_a_multi_layer_geopackage(tmp_path, ogr2ogr_available):
    first = write_layer(tmp_path / "a", "gpkg", parcels(), name="parcelles")
    other = write_layer(tmp_path / "b", "gpkg", [Feature({"reference": "TF 4001/C"}, near_casablanca(300, 0))])
    ogr2ogr(other, first, "GPKG", "-update", "-nln", "parcelles_2025")

    run = import_layer(first, "--layer", "parcels", "--source-layer", "parcelles_2025")

    assert run.summary["created"] == 1
    assert list(Parcel.objects.values_list("reference", flat=True)) == ["TF 4001/C"]
    assert import_layer(first, "--layer", "parcels").summary["created"] == 3  # the first layer by default
    message = refused(first, "--layer", "parcels", "--source-layer", "nope")
    assert message == "parcelles.gpkg: no layer 'nope'; layers: parcelles, parcelles_2025"


def test_3d_polygons_are_stored_flat(tmp_path, ogr2ogr_available):
    def lifted(geometry: dict, z: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[*p, z] for p in ring] for ring in geometry["coordinates"]]}

    source = write_geojson(
        tmp_path / "z.geojson", [Feature({"reference": "TF 5001/C"}, lifted(near_casablanca(0, 0), 57.3))], srid=26191
    )
    path = ogr2ogr(source, tmp_path / "z.fgb", "FlatGeobuf")

    run = import_layer(path, "--layer", "parcels")

    assert run.summary["created"] == 1
    parcel = Parcel.objects.get()
    assert not parcel.geom.hasz and parcel.area_m2 == pytest.approx(600, abs=0.01)


# --- each layer with its own options --------------------------------------------------------------


def morocco_like_regions() -> list[Feature]:
    """Two 'regions' side by side around Casablanca, with OSM-style trilingual names, in EPSG:4326."""
    west = near_casablanca(-5_000, -5_000, 5_000, 10_000)
    east = near_casablanca(0, -5_000, 5_000, 10_000)
    return in_crs(
        [
            Feature({"id": "R-W", "name": "Casablanca-Settat ⵜⵉⴳⵎⵉ الدار البيضاء-سطات"}, west),
            Feature({"id": "R-E", "name": "Rabat-Salé ⵔⴱⴰⵟ الرباط-سلا"}, east),
        ],
        4326,
    )


def test_admin_areas_with_level_and_parents_found_by_place(make_layer):
    path = make_layer("geojson", morocco_like_regions(), srid=4326)
    regions = import_layer(path, "--layer", "admin_areas", "--level", "region")
    assert regions.summary["created"] == 2
    # In EPSG:26191, with separate French and Arabic names; each lies in one of the regions.
    provinces = [
        Feature({"code": "P-1", "nom": "Préfecture A", "name_ar": "عمالة أ"}, near_casablanca(-3_000, 0, 1_000, 1_000)),
        Feature({"code": "P-2", "nom": "Province B", "name_ar": "إقليم ب"}, near_casablanca(1_000, 0, 1_000, 1_000)),
    ]
    run = import_layer(make_layer("gpkg", provinces), "--layer", "admin_areas", "--level", "province")

    assert run.summary == {"read": 2, "created": 2, "updated": 0, "repaired": 0, "rejected": 0}
    west = AdminArea.objects.get(code="R-W")
    assert (west.level, west.name_fr, west.name_ar) == ("region", "Casablanca-Settat", "الدار البيضاء-سطات")
    assert west.projected_srid == 26191
    p1, p2 = AdminArea.objects.get(code="P-1"), AdminArea.objects.get(code="P-2")
    assert (p1.level, p1.name_fr, p1.name_ar) == ("province", "Préfecture A", "عمالة أ")
    assert p1.parent.code == "R-W" and p2.parent.code == "R-E"
    assert west.parent is None
    again = import_layer(make_layer("gpkg", provinces), "--layer", "admin_areas", "--level", "province")
    assert (again.summary["created"], again.summary["updated"]) == (0, 0)


def test_parcels_in_a_given_commune_are_measured_in_its_crs(make_layer):
    commune = AdminArea.objects.create(
        level="commune",
        code="C-ANFA",
        name_fr="Anfa",
        projected_srid=26191,
        geom=multipolygon_4326(near_casablanca(-500, -500, 2_000, 2_000)),
    )
    path = make_layer("geojson", in_crs(parcels(), 4326), srid=4326)

    run = import_layer(path, "--layer", "parcels", "--commune", "C-ANFA")

    assert run.summary["created"] == 3
    assert set(Parcel.objects.values_list("commune", "area_srid")) == {(commune.pk, 26191)}
    assert Parcel.objects.get(reference="TF 1001/C").area_m2 == pytest.approx(600, abs=0.01)


def test_parcels_find_their_commune_by_place(make_layer):
    inside = AdminArea.objects.create(
        level="commune", code="C-IN", name_fr="Dedans", geom=multipolygon_4326(near_casablanca(-10, -10, 85, 60))
    )
    AdminArea.objects.create(
        level="commune", code="C-OUT", name_fr="Dehors", geom=multipolygon_4326(near_casablanca(90, -10, 60, 60))
    )
    import_layer(make_layer("shp", parcels()), "--layer", "parcels")

    communes = dict(Parcel.objects.values_list("reference", "commune__code"))
    assert communes == {"TF 1001/C": "C-IN", "TF 1002/C": "C-IN", "TF 1003/C": "C-OUT"}
    assert inside.parcels.count() == 2


R4_RULES = {"libelle": "Immeubles R+4", "hauteur": "15,5", "niveaux": 4, "ces": 0.6, "cos": 2.4, "recul": 4,
            "usages": "housing;retail"}  # fmt: skip
V2_RULES = {"libelle": "Espace vert", "hauteur": None, "niveaux": None, "ces": 0.05, "cos": None, "recul": None,
            "usages": "green_space"}  # fmt: skip


def test_zoning_rule_columns_become_zone_regulations(make_layer):
    zones = [
        Feature({"gid": "z1", "zone": "R4", **R4_RULES}, near_casablanca(0, 0, 150, 120)),
        Feature({"gid": "z2", "zone": "R4", **R4_RULES}, near_casablanca(0, 200, 150, 120)),
        Feature({"gid": "z3", "zone": "V2", **V2_RULES}, near_casablanca(150, 0, 120, 120)),
    ]
    mapping = [
        "source_key=gid", "zone_code=zone", "label=libelle", "max_height_m=hauteur", "max_floors=niveaux",
        "coverage_ratio=ces", "floor_area_ratio=cos", "min_setback_m=recul", "allowed_uses=usages",
    ]  # fmt: skip
    path = make_layer("gpkg", zones, name="pa_anfa")
    args = ["--layer", "zoning", *(a for m in mapping for a in ("--map", m))]

    run = import_layer(path, *args)

    assert run.summary == {"read": 3, "created": 3, "updated": 0, "repaired": 0, "rejected": 0}
    plan = ZoningPlan.objects.get()
    assert plan.code == "pa_anfa"  # the file name when --plan is not given
    r4 = ZoneRegulation.objects.get(plan=plan, zone_code="R4")
    rules = (r4.label, r4.max_height_m, r4.max_floors, r4.coverage_ratio, r4.floor_area_ratio, r4.min_setback_m)
    assert rules == ("Immeubles R+4", 15.5, 4, 0.6, 2.4, 4.0)
    assert r4.allowed_uses == ["housing", "retail"]
    v2 = ZoneRegulation.objects.get(plan=plan, zone_code="V2")
    assert (v2.max_height_m, v2.coverage_ratio, v2.allowed_uses) == (None, 0.05, ["green_space"])
    assert sorted(ZoningZone.objects.values_list("source_key", "regulation__zone_code")) == [
        ("z1", "R4"), ("z2", "R4"), ("z3", "V2")
    ]  # fmt: skip
    again = import_layer(path, *args)
    assert (again.summary["created"], again.summary["updated"]) == (0, 0)
    assert ZoneRegulation.objects.count() == 2
    # A changed rule value reaches the regulation (the counts are of zones, whose rows did not change).
    zones[2] = Feature({**zones[2].properties, "ces": 0.1}, zones[2].geometry)
    revised = import_layer(make_layer("gpkg", zones, name="pa_anfa"), *args)
    assert (revised.summary["created"], revised.summary["updated"]) == (0, 0)
    assert ZoneRegulation.objects.get(plan=plan, zone_code="V2").coverage_ratio == 0.1


def test_zoning_into_a_named_plan_with_default_columns(make_layer):
    zones = [Feature({"ZONE_TYPE": "C-1", "GlobalID": "{A}"}, near_casablanca(0, 0, 50, 50))]
    run = import_layer(make_layer("fgb", zones), "--layer", "zoning", "--plan", "PA-TEST")
    assert run.summary["created"] == 1
    zone = ZoningZone.objects.get()
    assert (zone.plan.code, zone.source_key, zone.regulation.zone_code) == ("PA-TEST", "{A}", "C-1")


def test_constraints_with_kind(make_layer):
    areas = [
        Feature({"id": "h-1", "nom": "Ancienne médina", "description": "Site classé"}, near_casablanca(0, 0, 40, 60)),
        Feature({"id": "h-2", "nom": "Villa Mauresque", "description": ""}, near_casablanca(100, 0, 20, 20)),
    ]
    # GML carries GDAL's own gml_id ("layer.0"), which the defaults prefer: the file's id is mapped.
    path = make_layer("gml", areas)
    run = import_layer(path, "--layer", "constraints", "--kind", "heritage", "--map", "source_key=id")

    assert run.summary == {"read": 2, "created": 2, "updated": 0, "repaired": 0, "rejected": 0}
    medina = ConstraintArea.objects.get(source_key="h-1")
    assert (medina.kind, medina.name, medina.description) == ("heritage", "Ancienne médina", "Site classé")
    assert ConstraintArea.objects.get(source_key="h-2").description == ""
