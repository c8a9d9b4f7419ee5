"""Daily publication of the open datasets: files under ``opendata/<day>/`` and ``opendata/latest/``.

Three datasets, under one open licence (:data:`LICENCE`, set by ``TAAMIR_OPEN_DATA_LICENCE``):

* ``authorised-works`` — the geo-portal's authorised works, exactly the public fields of the catalogue
  (:mod:`tiles.layers`), written by :func:`etl.exports.export_layer` as GeoJSON, GeoPackage and CSV;
* ``permits-blds`` — one BLDS-style record per filed dossier (:mod:`etl.opendata.blds`), CSV and JSON;
* ``indicators`` — the daily indicators (:mod:`etl.opendata.indicators`), CSV and JSON.

Every file is first written in a temporary folder, then stored in the default storage (local disk or
S3) under the day's folder and under ``latest/``; the ``Distribution`` rows (size, SHA-256, media
type) are updated in one transaction after every file is stored. None of the files holds personal data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from etl.exports import export_layer
from etl.models import DailyIndicator, Distribution, PublishedDataset
from etl.opendata.blds import FIELDS as BLDS_FIELDS
from etl.opendata.blds import blds_records

ROOT = "opendata"


@dataclass(frozen=True)
class Licence:
    id: str
    title: str
    url: str


LICENCES = {
    "etalab-2.0": Licence("etalab-2.0", "Licence Ouverte / Open Licence 2.0", "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"),
    "ODbL-1.0": Licence("ODbL-1.0", "Open Data Commons Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "CC-BY-4.0": Licence("CC-BY-4.0", "Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
}  # fmt: skip
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "json": "application/json",
}


def licence() -> Licence:
    """The licence every dataset is published under (``TAAMIR_OPEN_DATA_LICENCE``)."""
    return LICENCES.get(settings.TAAMIR_OPEN_DATA_LICENCE, LICENCES["etalab-2.0"])


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: tuple[str, ...]
    formats: tuple[str, ...]


DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "authorised-works",
        {"fr": "Travaux autorisés", "ar": "الأشغال المرخص بها", "en": "Authorised works"},
        {
            "fr": "Permis accordés (y compris tacitement) : référence, procédure, commune, date de décision, "
            "niveaux, usage, surface construite, logements, statut et emprise du projet (EPSG:4326). "
            "Aucune donnée personnelle.",
            "ar": "الرخص الممنوحة (بما فيها الضمنية): المرجع والمسطرة والجماعة وتاريخ القرار وعدد الطوابق "
            "والاستعمال والمساحة المبنية والمساكن والحالة وحدود المشروع (EPSG:4326). بدون أي معطيات شخصية.",
            "en": "Permits granted (tacit approvals included): reference, procedure, commune, decision date, "
            "floors, use, built area, dwellings, status and the project's footprint (EPSG:4326). "
            "No personal data.",
        },
        ("urbanisme", "permis de construire", "géoportail"),
        ("geojson", "gpkg", "csv"),
    ),
    DatasetSpec(
        "permits-blds",
        {
            "fr": "Registre des autorisations (format BLDS)",
            "ar": "سجل الرخص (صيغة BLDS)",
            "en": "Permit register (BLDS format)",
        },
        {
            "fr": "Un enregistrement par dossier déposé, aux champs de la spécification BLDS (PermitNum, "
            "AppliedDate, IssuedDate, StatusCurrent…) avec les valeurs normalisées. Aucune donnée personnelle ; "
            "seuls les permis accordés sont localisés.",
            "ar": "سجل لكل ملف مودع، بحقول مواصفة BLDS (PermitNum وAppliedDate وIssuedDate وStatusCurrent…) "
            "مع القيم الموحدة. بدون أي معطيات شخصية؛ لا تحدد المواقع إلا للرخص الممنوحة.",
            "en": "One record per filed dossier, with the fields of the BLDS specification (PermitNum, "
            "AppliedDate, IssuedDate, StatusCurrent…) and its standard values. No personal data; only "
            "granted permits are located.",
        },
        ("BLDS", "permis", "délais"),
        ("csv", "json"),
    ),
    DatasetSpec(
        "indicators",
        {"fr": "Indicateurs quotidiens", "ar": "المؤشرات اليومية", "en": "Daily indicators"},
        {
            "fr": "Par jour, commune, procédure et catégorie (GP/PP) : dossiers déposés, recevables, "
            "irrecevables, délivrés, refusés, approuvés tacitement, en instance ; délais (moyenne, médiane, "
            "90e centile, en jours ouvrables) globaux, par étape et par organisme ; part dans les délais légaux.",
            "ar": "لكل يوم وجماعة ومسطرة وصنف (مشاريع كبرى/صغرى): الملفات المودعة والمقبولة وغير المقبولة "
            "والمسلمة والمرفوضة والموافق عليها ضمنيا وقيد الدراسة؛ الآجال (المتوسط والوسيط والعشير التاسع، "
            "بأيام العمل) إجمالا وحسب المرحلة وحسب الهيئة؛ نسبة الملفات في الآجال القانونية.",
            "en": "Per day, commune, procedure and class (large/small projects): dossiers filed, accepted, "
            "inadmissible, issued, refused, deemed approved, pending; delays (mean, median, 90th percentile, in "
            "working days) overall, per stage and per institution; share within the legal deadlines.",
        },
        ("indicateurs", "délais", "statistiques"),
        ("csv", "json"),
    ),
)


def dataset_spec(name: str) -> DatasetSpec | None:
    return next((spec for spec in DATASETS if spec.name == name), None)


def _write_blds(folder: Path, base_url: str) -> dict[str, tuple[Path, int]]:
    records = [record.values for record in blds_records(base_url=base_url)]
    return _write_csv_and_json(folder / "permits-blds", BLDS_FIELDS, records)


def _write_csv_and_json(stem: Path, fieldnames: Sequence[str], rows: list[dict]) -> dict[str, tuple[Path, int]]:
    """The same rows as ``<stem>.csv`` and ``<stem>.json``; their paths and the row count."""
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    json_path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"csv": (csv_path, len(rows)), "json": (json_path, len(rows))}


INDICATOR_FIELDS = (
    "day",
    "commune_code",
    "commune_name",
    "procedure_code",
    "classification",
    "institution_code",
    "metric",
    "value",
    "sample",
)


def _write_indicators(folder: Path, base_url: str) -> dict[str, tuple[Path, int]]:
    rows = [
        {
            "day": row["day"].isoformat(),
            "commune_code": row["commune__code"],
            "commune_name": row["commune__name_fr"],
            "procedure_code": row["procedure__code"],
            "classification": row["classification"],
            "institution_code": row["organisation__code"] or "",
            "metric": row["metric"],
            "value": row["value"],
            "sample": row["sample"],
        }
        for row in DailyIndicator.objects.order_by("day", "commune__code", "procedure__code", "metric", "pk").values(
            "day",
            "commune__code",
            "commune__name_fr",
            "procedure__code",
            "classification",
            "organisation__code",
            "metric",
            "value",
            "sample",
        )
    ]
    return _write_csv_and_json(folder / "indicators", INDICATOR_FIELDS, rows)


def _write_authorised_works(folder: Path, base_url: str) -> dict[str, tuple[Path, int]]:
    written = {}
    for fmt in ("geojson", "gpkg", "csv"):
        path = folder / f"authorised-works.{fmt}"
        result = export_layer(layer_name="authorised_works", fmt=fmt, out_path=path)
        written[fmt] = (path, result.count)
    return written


WRITERS: dict[str, Callable[[Path, str], dict[str, tuple[Path, int]]]] = {
    "authorised-works": _write_authorised_works,
    "permits-blds": _write_blds,
    "indicators": _write_indicators,
}


@dataclass(frozen=True)
class PublishedFile:
    dataset: str
    fmt: str
    path: str
    byte_size: int
    records: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _store(local: Path, name: str) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    with local.open("rb") as source:
        stored = default_storage.save(name, File(source, name=local.name))
    if stored != name:  # a storage that renames instead of replacing would break the stable URLs
        raise OSError(f"storage wrote {stored} instead of {name}")


def datasets_publish(*, day: date | None = None, base_url: str | None = None) -> list[PublishedFile]:
    """Write every dataset for ``day`` (default: today) and record its distributions; returns the files."""
    day = day or timezone.localdate()
    base_url = (base_url or settings.TAAMIR_PUBLIC_URL).rstrip("/")
    now = timezone.now()
    folder = Path(tempfile.mkdtemp(prefix="taamir-opendata-"))
    published: list[PublishedFile] = []
    try:
        files: list[tuple[DatasetSpec, str, Path, int]] = []
        for spec in DATASETS:
            for fmt, (path, count) in WRITERS[spec.name](folder, base_url).items():
                files.append((spec, fmt, path, count))
        for spec, fmt, path, count in files:
            stored = f"{ROOT}/latest/{spec.name}.{fmt}"
            _store(path, f"{ROOT}/{day.isoformat()}/{spec.name}.{fmt}")
            _store(path, stored)
            published.append(PublishedFile(spec.name, fmt, stored, path.stat().st_size, count))
        licence_id = licence().id
        with transaction.atomic():
            for spec in DATASETS:
                counts = [count for s, _fmt, _path, count in files if s is spec]
                described = {
                    **{f"title_{lang}": text for lang, text in spec.title.items()},
                    **{f"description_{lang}": text for lang, text in spec.description.items()},
                    "keywords": list(spec.keywords),
                    "licence_id": licence_id,
                    "modified": now,
                    "records": max(counts, default=0),
                }
                dataset, _created = PublishedDataset.objects.update_or_create(
                    name=spec.name, defaults=described, create_defaults={**described, "issued": now}
                )
                for s, fmt, path, _count in files:
                    if s is not spec:
                        continue
                    Distribution.objects.update_or_create(
                        dataset=dataset,
                        fmt=fmt,
                        defaults={
                            "media_type": MEDIA_TYPES[fmt],
                            "path": f"{ROOT}/latest/{spec.name}.{fmt}",
                            "byte_size": path.stat().st_size,
                            "sha256": _sha256(path),
                            "published_on": day,
                            "modified": now,
                        },
                    )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return published
