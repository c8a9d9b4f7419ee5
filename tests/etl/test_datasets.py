"""The published datasets, from the real demo: they open with GDAL (through ``etl.io``) and pandas, hold
the right counts and fields, map statuses to BLDS values, and carry no personal data at all.

The module builds the demo commune, its committees and a few historic dossiers for the demo applicants
(:mod:`etl.opendata.demo`, through the real workflow) once, computes the indicators, publishes the datasets
into a temporary media folder, and rolls it all back.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from etl.io import layer_info, read_batches
from etl.models import DailyIndicator, Distribution
from etl.opendata.blds import FIELDS, STATUS_MAPPED
from geo.models import AuthorisedWork
from permits.demo import APPLICANTS
from permits.models import Applicant, Dossier, Status

pytestmark = pytest.mark.django_db

HISTORY = 8
PERSONAL = ("first_name", "last_name", "company_name", "national_id", "company_register", "email", "phone", "address")


@pytest.fixture(scope="module")
def published(django_db_setup, django_db_blocker, tmp_path_factory):
    from etl.demo import demo_commune_build
    from etl.opendata.datasets import datasets_publish
    from etl.opendata.demo import demo_history_build
    from etl.opendata.indicators import first_filing_day, indicators_compute_range
    from permits.catalogue import catalogue_load
    from permits.demo import demo_committees_build

    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(MEDIA_ROOT=media, TAAMIR_SMS_BACKEND="permits.sms.OutboxBackend"),
    ):
        demo_commune_build()
        catalogue_load()
        demo_committees_build()
        demo_history_build(count=HISTORY, days=120)
        indicators_compute_range(start=first_filing_day(), end=timezone.localdate())
        files = datasets_publish(base_url="http://testserver")
        yield {"media": media, "files": files, "latest": media / "opendata" / "latest"}
        transaction.set_rollback(True)


def personal_values() -> set[str]:
    """Every personal value of every applicant (the demo's and the history's), as stored."""
    values = set()
    for applicant in APPLICANTS.values():
        values |= {str(getattr(applicant.data, name)) for name in PERSONAL}
    for row in Applicant.objects.values(*PERSONAL):
        values |= {str(v) for v in row.values()}
    values |= {value.split(",")[0] for value in values if "," in value}  # street lines on their own
    return {v for v in values if len(v) >= 4}


def test_every_file_is_published_with_its_size_and_checksum(published):
    names = sorted(path.name for path in published["latest"].iterdir())
    assert names == [
        "authorised-works.csv", "authorised-works.geojson", "authorised-works.gpkg", "indicators.csv",
        "indicators.json", "permits-blds.csv", "permits-blds.json",
    ]  # fmt: skip
    day_folder = published["media"] / "opendata" / timezone.localdate().isoformat()
    assert sorted(path.name for path in day_folder.iterdir()) == names
    for dist in Distribution.objects.all():
        assert (published["media"] / dist.path).stat().st_size == dist.byte_size


def test_authorised_works_open_in_gdal_and_pandas(published):
    count = AuthorisedWork.objects.count()
    assert count >= 2
    for fmt in ("geojson", "gpkg"):
        info = layer_info(path=published["latest"] / f"authorised-works.{fmt}")
        assert info.feature_count == count and info.base_geometry_type == "MultiPolygon"
        assert "4326" in (info.crs or "")
        assert set(info.fields) == {"reference", "procedure_code", "procedure_name", "commune_code", "commune_name",
                                    "decision_date", "floors", "use", "built_area_m2", "dwellings", "status",
                                    "verification_code", "updated_at"}  # fmt: skip
        rows = [row for batch in read_batches(info=info) for row in batch.rows]
        assert {row["reference"] for row in rows} == set(AuthorisedWork.objects.values_list("reference", flat=True))
    table = pd.read_csv(published["latest"] / "authorised-works.csv")
    assert len(table) == count and table["WKT"].str.startswith("MULTIPOLYGON").all()


def test_blds_register_has_the_standard_fields_and_mapped_statuses(published):
    filed = Dossier.objects.exclude(status=Status.DRAFT).count()
    table = pd.read_csv(published["latest"] / "permits-blds.csv", dtype=str, keep_default_na=False)
    records = json.loads((published["latest"] / "permits-blds.json").read_text(encoding="utf-8"))
    assert list(table.columns) == list(FIELDS) and len(table) == len(records) == filed
    by_number = {record["PermitNum"]: record for record in records}
    for dossier in Dossier.objects.exclude(status=Status.DRAFT):
        record = by_number[dossier.reference]
        assert record["StatusCurrent"] == dossier.status
        assert record["StatusCurrentMapped"] == STATUS_MAPPED[dossier.status]
        granted = dossier.status in {Status.ISSUED, Status.DEEMED_APPROVED, Status.LAPSED}
        assert (record["Latitude"] is not None) is granted and (record["IssuedDate"] is not None) is granted
        if granted:
            assert 33 < record["Latitude"] < 34 and -8 < record["Longitude"] < -7
    issued = next(r for r in records if r["StatusCurrent"] == Status.ISSUED and r["PermitType"] == "permis-construire")
    assert issued["PermitTypeMapped"] == "Building" and issued["WorkClassMapped"] == "New"
    assert issued["PermitClassMapped"] == "Residential"
    assert issued["TotalSqFt"] == round(issued["TotalAreaM2"] * 10.7639104)
    assert issued["Link"].startswith("http://testserver/verify/")
    assert {r["StatusCurrentMapped"] for r in records} <= {
        "Application Accepted",
        "In Review",
        "Permit Issued",
        "Inspection Phase",
        "Permit Finaled",
        "Permit Cancelled",
    }


def test_indicators_open_in_pandas(published):
    table = pd.read_csv(published["latest"] / "indicators.csv", keep_default_na=False)
    assert len(table) == DailyIndicator.objects.count() > 0
    assert set(table["metric"]) >= {"filed", "backlog", "overall_delay_median", "opinion_delay_p90"}
    assert table[table["metric"] == "filed"]["value"].sum() == Dossier.objects.exclude(status=Status.DRAFT).count()
    records = pd.read_json(published["latest"] / "indicators.json")
    assert len(records) == len(table)


def test_no_personal_data_in_any_published_file(published):
    values = personal_values()
    assert "El Amrani" in values and "BE482913" in values and "+212612000001" in values
    for path in Path(published["media"] / "opendata").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found = [value for value in values if value.encode() in content]
            assert not found, f"{path.name} holds {found}"


def test_no_personal_field_in_any_published_file(published):
    latest = published["latest"]
    columns = set(pd.read_csv(latest / "authorised-works.csv", nrows=1).columns)
    columns |= set(pd.read_csv(latest / "permits-blds.csv", nrows=1).columns)
    columns |= set(pd.read_csv(latest / "indicators.csv", nrows=1).columns)
    columns |= set(layer_info(path=latest / "authorised-works.gpkg").fields)
    columns |= set(json.loads((latest / "permits-blds.json").read_text())[0])
    forbidden = ("applicant", "owner", "architect", "name_person", "national", "cin", "email", "mail", "phone",
                 "address", "register", "first_name", "last_name", "contractor")  # fmt: skip
    assert not [c for c in columns if any(word in c.lower() for word in forbidden)], sorted(columns)


def test_publish_command(published, settings):
    settings.MEDIA_ROOT = published["media"]
    out = io.StringIO()
    call_command("publish_datasets", "--date", "2026-01-02", stdout=out)
    assert "opendata/latest/permits-blds.csv" in out.getvalue()
    assert (published["media"] / "opendata" / "2026-01-02" / "indicators.json").is_file()
