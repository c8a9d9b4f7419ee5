"""Bad files and bad options: ``import_layer`` refuses with one clear line and leaves the database as it was.

Every refusal is checked three ways: a ``CommandError`` (non-zero exit), a one-line message that names
the problem, and the row counts of every geo table (and the existing parcels) unchanged — with real
transactions wherever the import's own transaction had begun, so that its rollback is a real one.
Broken geometries are the exception that proves the rule: a bow-tie is repaired, a degenerate ring is
rejected — and with ``--keep-going`` only the good rows go in, the rejects being listed in a CSV file.
One test runs ``manage.py`` as a real subprocess.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from geo.models import Parcel
from tests.etl.conftest import (
    Feature,
    geo_counts,
    import_layer,
    near_casablanca,
    polygon,
    refused,
    without_prj,
    write_geojson,
)

pytestmark = pytest.mark.django_db
# For refusals that come after the import's transaction has begun: a real rollback, not a savepoint's.
in_real_transaction = pytest.mark.django_db(transaction=True)

ORIGIN_X, ORIGIN_Y = 296628.5, 332701.7


def good_parcels() -> list[Feature]:
    return [
        Feature({"reference": "TF 2001/C"}, near_casablanca(0, 0)),
        Feature({"reference": "TF 2002/C"}, near_casablanca(40, 0)),
    ]


@pytest.fixture
def existing(make_layer) -> dict[str, int]:
    """Two parcels already imported: the state every refused import must leave untouched."""
    import_layer(make_layer("gpkg", good_parcels()), "--layer", "parcels")
    counts = geo_counts()
    assert counts["Parcel"] == 2
    return counts


def snapshot() -> dict:
    """Counts plus each parcel's geometry and timestamp: 'unchanged' means not even updated."""
    return {
        "counts": geo_counts(),
        "parcels": {p.reference: (p.geom.wkb.hex(), p.updated_at) for p in Parcel.objects.all()},
    }


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [ORIGIN_X + x, ORIGIN_Y + y]}


# --- files that cannot be read --------------------------------------------------------------------


def test_random_bytes_named_gpkg(tmp_path, existing):
    path = tmp_path / "parcels.gpkg"
    path.write_bytes(os.urandom(4096))
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith("parcels.gpkg: not a readable vector file")
    assert snapshot() == before


def test_truncated_geojson(tmp_path, existing):
    whole = write_geojson(tmp_path / "whole.geojson", good_parcels(), srid=26191).read_text()
    path = tmp_path / "truncated.geojson"
    path.write_text(whole[: len(whole) // 2])
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith("truncated.geojson: not a readable vector file")
    assert snapshot() == before


def test_missing_file(tmp_path, existing):
    message = refused(tmp_path / "nowhere.gpkg", "--layer", "parcels")
    assert message.endswith("nowhere.gpkg: no such file")


def test_empty_file(tmp_path, existing):
    path = tmp_path / "empty.geojson"
    path.touch()
    before = snapshot()
    assert refused(path, "--layer", "parcels") == "empty.geojson: the file is empty"
    assert snapshot() == before


@pytest.mark.parametrize(
    "args",
    [
        ["--layer", "parcels"],
        ["--layer", "parcels", "--map", "reference=ref"],
        ["--layer", "constraints", "--kind", "other"],
    ],
    ids=["parcels", "parcels-mapped", "constraints"],
)
def test_empty_feature_collection(tmp_path, existing, args):
    path = write_geojson(tmp_path / "nothing.geojson", [])
    before = snapshot()
    assert refused(path, *args) == "nothing.geojson: the layer 'nothing' has no features"
    assert snapshot() == before


# --- files without usable geometry ----------------------------------------------------------------


def test_csv_without_a_wkt_column(tmp_path, existing):
    path = tmp_path / "list.csv"
    path.write_text("reference,x,y\nTF 2003/C,296600,332700\n")
    before = snapshot()
    message = refused(path, "--layer", "parcels", "--srid", "26191")
    assert message == "list.csv: the layer 'list' has no geometry"
    assert snapshot() == before


@in_real_transaction
def test_geojson_with_null_geometries(tmp_path, existing):
    path = write_geojson(
        tmp_path / "nulls.geojson",
        [Feature({"reference": "TF 2003/C"}, None), Feature({"reference": "TF 2004/C"}, None)],
    )
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith("nulls.geojson: row 1 (TF 2003/C): no geometry; 2 row(s) rejected, nothing imported")
    assert snapshot() == before


def test_shapefile_without_prj_and_no_srid(make_layer, existing):
    path = without_prj(make_layer("shp", [Feature({"reference": "TF 2003/C"}, near_casablanca(80, 0))]))
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message == "layer.shp: unknown CRS (the file declares none); give --srid EPSG_CODE"
    assert snapshot() == before
    # The same file with --srid goes in.
    assert import_layer(path, "--layer", "parcels", "--srid", "26191").summary["created"] == 1


def test_deprecated_srid_is_refused(make_layer, existing):
    path = without_prj(make_layer("shp", [Feature({"reference": "TF 2003/C"}, near_casablanca(80, 0))]))
    message = refused(path, "--layer", "parcels", "--srid", "26193")
    assert message.startswith("--srid 26193:") and "deprecated" in message


def test_points_instead_of_polygons(make_layer, existing):
    path = make_layer("gpkg", [Feature({"reference": "TF 2003/C"}, point(0, 0))])
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message == "layer.gpkg: parcels needs polygons, the layer holds Point geometries"
    assert snapshot() == before


@in_real_transaction
def test_a_point_among_polygons_in_a_mixed_geojson(tmp_path, existing):
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [Feature({"reference": "TF 2003/C"}, near_casablanca(80, 0)), Feature({"reference": "TF 2004/C"}, point(0, 0))],
        srid=26191,
    )
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith("mixed.geojson: row 2 (TF 2004/C): expected polygons, got Point;")
    assert snapshot() == before


# --- broken rings: repaired or rejected ------------------------------------------------------------

X, Y = ORIGIN_X + 200, ORIGIN_Y
BOW_TIE = polygon((X, Y), (X + 20, Y + 20), (X + 20, Y), (X, Y + 20), (X, Y))
A_B_A = polygon((X, Y), (X + 10, Y + 10), (X, Y))
COLLINEAR = polygon((X, Y), (X + 10, Y), (X + 20, Y), (X, Y))


def test_bow_tie_is_repaired_into_a_valid_multipolygon(tmp_path, existing):
    path = write_geojson(tmp_path / "bowtie.geojson", [Feature({"reference": "TF 2005/C"}, BOW_TIE)], srid=26191)

    run = import_layer(path, "--layer", "parcels")

    assert run.summary == {"read": 1, "created": 1, "updated": 0, "repaired": 1, "rejected": 0}
    assert "repaired row 1 (TF 2005/C): Self-intersection" in run.stderr
    parcel = Parcel.objects.get(reference="TF 2005/C")
    assert parcel.geom.valid and parcel.geom.geom_type == "MultiPolygon" and len(parcel.geom) == 2
    assert parcel.area_m2 == pytest.approx(200, abs=0.01)  # two 100 m² triangles


@in_real_transaction
@pytest.mark.parametrize(
    ("ring", "reason"),
    [
        (A_B_A, "degenerate geometry: no ring has three distinct points"),
        (COLLINEAR, "invalid geometry that cannot be repaired"),
    ],
    ids=["A-B-A", "collinear"],
)
def test_degenerate_ring_refuses_the_whole_import_without_keep_going(tmp_path, existing, ring, reason):
    features = [
        Feature({"reference": "TF 2001/C"}, near_casablanca(0, 0, 25, 30)),  # an update that must not happen
        Feature({"reference": "TF 2006/C"}, ring),
        Feature({"reference": "TF 2007/C"}, near_casablanca(120, 0)),
    ]
    path = write_geojson(tmp_path / "broken.geojson", features, srid=26191)
    before = snapshot()

    message = refused(path, "--layer", "parcels")

    assert message.startswith(f"broken.geojson: row 2 (TF 2006/C): {reason}")
    assert message.endswith("1 row(s) rejected, nothing imported (--keep-going imports the good rows)")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("ring", "reason"),
    [
        (A_B_A, "degenerate geometry: no ring has three distinct points"),
        (COLLINEAR, "invalid geometry that cannot be repaired"),
    ],
    ids=["A-B-A", "collinear"],
)
def test_keep_going_imports_the_good_rows_and_lists_the_rejects(tmp_path, existing, ring, reason):
    features = [
        Feature({"reference": "TF 2001/C"}, near_casablanca(0, 0, 25, 30)),
        Feature({"reference": "TF 2006/C"}, ring),
        Feature({"reference": "TF 2007/C"}, near_casablanca(120, 0)),
        Feature({"reference": "TF 2005/C"}, BOW_TIE),
    ]
    path = write_geojson(tmp_path / "broken.geojson", features, srid=26191)
    rejects = tmp_path / "rejects.csv"

    run = import_layer(path, "--layer", "parcels", "--keep-going", "--rejects", str(rejects))

    assert run.summary == {"read": 4, "created": 2, "updated": 1, "repaired": 1, "rejected": 1}
    assert f"1 rejected row(s) written to {rejects}" in run.stderr
    with rejects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "key", "reason"]
    assert len(rows) == 2 and rows[1][:2] == ["2", "TF 2006/C"] and rows[1][2].startswith(reason)
    assert sorted(Parcel.objects.values_list("reference", flat=True)) == [
        "TF 2001/C", "TF 2002/C", "TF 2005/C", "TF 2007/C"
    ]  # fmt: skip
    assert Parcel.objects.get(reference="TF 2001/C").area_m2 == pytest.approx(750, abs=0.01)


@in_real_transaction
def test_keep_going_with_every_row_rejected_is_still_refused(tmp_path, existing):
    path = write_geojson(tmp_path / "all_bad.geojson", [Feature({"reference": "TF 2006/C"}, A_B_A)], srid=26191)
    before = snapshot()
    message = refused(path, "--layer", "parcels", "--keep-going", "--rejects", str(tmp_path / "r.csv"))
    assert message.startswith("all_bad.geojson: every row was rejected (degenerate geometry")
    assert snapshot() == before


# --- bad keys and bad values ----------------------------------------------------------------------


@in_real_transaction
def test_duplicate_references_in_one_file(tmp_path, existing):
    features = [
        Feature({"reference": "TF 2008/C"}, near_casablanca(120, 0)),
        Feature({"reference": "TF 2009/C"}, near_casablanca(160, 0)),
        Feature({"reference": "tf 2008 /c"}, near_casablanca(200, 0)),  # the same reference, written differently
    ]
    path = write_geojson(tmp_path / "dupes.geojson", features, srid=26191)
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith("dupes.geojson: row 3 (tf 2008 /c): duplicate reference 'tf 2008 /c' (first at row 1)")
    assert snapshot() == before


@in_real_transaction
def test_missing_reference(tmp_path, existing):
    features = [Feature({"reference": "  "}, near_casablanca(120, 0))]
    path = write_geojson(tmp_path / "noref.geojson", features, srid=26191)
    before = snapshot()
    assert refused(path, "--layer", "parcels").startswith("noref.geojson: row 1: missing reference;")
    assert snapshot() == before


def test_unknown_map_target(make_layer, existing):
    before = snapshot()
    message = refused(make_layer("gpkg", good_parcels()), "--layer", "parcels", "--map", "surface=reference")
    assert message.startswith("--map: surface is not a field of parcels (fields: reference, commune_code)")
    assert snapshot() == before


def test_map_to_a_missing_attribute(make_layer, existing):
    before = snapshot()
    message = refused(make_layer("gpkg", good_parcels()), "--layer", "parcels", "--map", "reference=REF_TF")
    assert message == "--map reference=REF_TF: the file has no attribute 'REF_TF' (attributes: reference)"
    assert snapshot() == before


def test_malformed_map_option(make_layer, existing):
    message = refused(make_layer("gpkg", good_parcels()), "--layer", "parcels", "--map", "reference")
    assert message == "--map 'reference': expected target=source"


def test_no_attribute_for_a_required_field(make_layer, existing):
    path = make_layer("gpkg", [Feature({"numero": "TF 2003/C"}, near_casablanca(80, 0))])
    message = refused(path, "--layer", "parcels")
    assert message == "layer.gpkg: no attribute for reference; give --map reference=ATTRIBUTE (attributes: numero)"


def test_unknown_commune(make_layer, existing):
    before = snapshot()
    message = refused(make_layer("gpkg", good_parcels()), "--layer", "parcels", "--commune", "NOWHERE")
    assert message == "--commune 'NOWHERE': no administrative area has this code"
    assert snapshot() == before


def test_unknown_level_and_kind(make_layer, existing):
    path = make_layer("gpkg", [Feature({"code": "X-1"}, near_casablanca(0, 0))])
    assert refused(path, "--layer", "admin_areas", "--level", "county").startswith("--level 'county': choose one of")
    assert refused(path, "--layer", "constraints", "--kind", "volcano").startswith("--kind 'volcano': choose one of")
    assert geo_counts() == existing


@in_real_transaction
def test_non_numeric_value_in_a_numeric_rule_column(make_layer, existing):
    zones = [
        Feature({"zone": "R4", "hauteur": "15,5"}, near_casablanca(0, 0, 100, 100)),
        Feature({"zone": "R6", "hauteur": "vingt"}, near_casablanca(100, 0, 100, 100)),
    ]
    path = make_layer("gpkg", zones, name="pa")
    before = snapshot()
    message = refused(path, "--layer", "zoning", "--map", "max_height_m=hauteur")
    assert message.startswith("pa.gpkg: row 2 (2): max_height_m: 'vingt' is not a number;")
    assert snapshot() == before


@in_real_transaction
def test_value_too_long_for_its_column(tmp_path, existing):
    reference = "TF " + "9" * 97  # 100 characters; the column holds 80
    features = [Feature({"reference": reference}, near_casablanca(120, 0))]
    path = write_geojson(tmp_path / "long.geojson", features, srid=26191)
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith(
        f"long.geojson: row 1 ({reference}): reference: Ensure this value has at most 80 characters (it has 100)."
    )
    assert snapshot() == before


@in_real_transaction
@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("niveaux", -3, "max_floors: Ensure this value is greater than or equal to 0."),
        ("niveaux", 99_999, "max_floors: Ensure this value is less than or equal to 32767."),
        ("niveaux", "inf", "max_floors: 'inf' is not a number"),
        ("hauteur", "NaN", "max_height_m: 'NaN' is not a number"),
        ("usages", "housing;" + "x" * 41, "allowed_uses: Item 2 in the array did not validate: Ensure this value has"),
        ("zone", "Z" * 41, "zone_code: Ensure this value has at most 40 characters (it has 41)."),
    ],
    ids=["negative-floors", "floors-overflow", "infinite", "nan", "long-use", "long-zone-code"],
)
def test_rule_value_out_of_range_rejects_its_row(make_layer, existing, column, value, reason):
    good = {"gid": "z1", "zone": "R4", "hauteur": 15.5, "niveaux": 4, "usages": "housing"}
    zones = [
        Feature(good, near_casablanca(0, 0, 100, 100)),
        Feature({**good, "gid": "z2", column: value}, near_casablanca(100, 0, 100, 100)),
    ]
    path = make_layer("gpkg", zones, name="pa")
    mapping = ["source_key=gid", "zone_code=zone", "max_height_m=hauteur", "max_floors=niveaux", "allowed_uses=usages"]
    args = ["--layer", "zoning", *(a for m in mapping for a in ("--map", m))]
    before = snapshot()

    message = refused(path, *args)
    assert message.startswith(f"pa.gpkg: row 2 (z2): {reason}")
    assert snapshot() == before

    run = import_layer(path, *args, "--keep-going", "--rejects", str(make_layer.root / "rejects.csv"))
    assert run.summary == {"read": 2, "created": 1, "updated": 0, "repaired": 0, "rejected": 1}


def test_projected_coordinates_in_a_geojson_without_crs(tmp_path, existing):
    """GDAL takes a GeoJSON without ``crs`` as EPSG:4326: Merchich metres are then nowhere on Earth."""
    path = write_geojson(tmp_path / "merchich.geojson", good_parcels(), srid=None)
    before = snapshot()
    message = refused(path, "--layer", "parcels")
    assert message.startswith("merchich.geojson: coordinates around (2966")
    assert message.endswith(") are not on Earth in EPSG:4326; is that the file's CRS? give --srid EPSG_CODE")
    assert snapshot() == before
    run = import_layer(path, "--layer", "parcels", "--srid", "26191")
    assert (run.summary["created"], run.summary["updated"]) == (0, 0)  # the same parcels as `existing`


@in_real_transaction
def test_a_row_off_the_globe_in_a_lon_lat_file(tmp_path, existing):
    def lonlat_square(lon: float, lat: float) -> dict:
        d = 0.0002
        return polygon((lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat))

    features = [
        Feature({"reference": "TF 2010/C"}, lonlat_square(-7.5898, 33.5731)),
        Feature({"reference": "TF 2011/C"}, lonlat_square(200.0, 33.5731)),
    ]
    path = write_geojson(tmp_path / "lonlat.geojson", features)
    before = snapshot()
    reason = (
        "coordinates out of the longitude/latitude range of EPSG:4326 (is that the file's CRS? give --srid EPSG_CODE)"
    )
    assert refused(path, "--layer", "parcels").startswith(f"lonlat.geojson: row 2 (TF 2011/C): {reason};")
    assert snapshot() == before

    run = import_layer(path, "--layer", "parcels", "--keep-going", "--rejects", str(tmp_path / "rejects.csv"))
    assert run.summary == {"read": 2, "created": 1, "updated": 0, "repaired": 0, "rejected": 1}


# --- the real command line ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_manage_py_exits_1_with_one_line_on_stderr(tmp_path, kind):
    """A refusal that happens before any database access, in a real process."""
    path = tmp_path / "parcels.gpkg"
    if kind == "empty":
        path.touch()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # procrastinate logs "Adding tasks from blueprint" at INFO on every manage.py start (settings' LOGGING).
        "TAAMIR_LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "import_layer", str(path), "--layer", "parcels"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    expected = f"{path}: no such file" if kind == "missing" else "parcels.gpkg: the file is empty"
    assert lines == [f"CommandError: {expected}"]
