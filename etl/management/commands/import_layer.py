"""``manage.py import_layer PATH --layer …``: import admin areas, parcels, zoning or constraints.

A thin wrapper around :func:`etl.importer.layer_import`: parses options, shows a progress bar on
stderr, writes the rejects file with ``--keep-going``, and ends with the line
``read N, created N, updated N, repaired N, rejected N``. A refused import exits non-zero with one
line and changes nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from etl.importer import ImportRefused, layer_import
from etl.layers import LAYERS


def parse_mapping(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise CommandError(f"--map {item!r}: expected target=source")
        mapping[target.strip()] = source.strip()
    return mapping


class Command(BaseCommand):
    help = "Import a vector layer (GeoPackage, Shapefile/zip, GeoJSON, GML, FlatGeobuf, CSV with WKT) into PostGIS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--layer", required=True, choices=sorted(LAYERS), help="what the file holds")
        parser.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE", help="field mapping")
        parser.add_argument("--srid", type=int, help="EPSG code of the file when it declares none (or a wrong one)")
        parser.add_argument("--level", help="admin_areas: region, province, commune or arrondissement for every row")
        parser.add_argument("--commune", help="parcels/zoning: the commune code every row belongs to")
        parser.add_argument("--plan", help="zoning: the zoning plan code (default: the file name)")
        parser.add_argument("--kind", help="constraints: the constraint kind for every row")
        parser.add_argument("--source-layer", help="the layer inside a multi-layer file (default: the first)")
        parser.add_argument("--keep-going", action="store_true", help="import the good rows, write rejects to a file")
        parser.add_argument(
            "--rejects", type=Path, help="where --keep-going writes rejects (default: ./NAME.rejects.csv)"
        )
        parser.add_argument("--batch-size", type=int, default=20_000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        path: Path = options["path"]
        bar = tqdm(
            unit=" rows", desc=f"import {path.name}", disable=True if options["no_progress"] else None, leave=False
        )

        def on_start(info) -> None:
            bar.reset(total=info.feature_count)

        try:
            report = layer_import(
                path=path,
                layer=options["layer"],
                mapping=parse_mapping(options["map"]),
                srid=options["srid"],
                level=options["level"],
                commune_code=options["commune"],
                plan_code=options["plan"] or (path.stem if options["layer"] == "zoning" else None),
                constraint_kind=options["kind"],
                source_layer=options["source_layer"],
                keep_going=options["keep_going"],
                batch_size=options["batch_size"],
                progress=bar.update,
                on_start=on_start,
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()

        verbosity = options["verbosity"]
        for problem in report.repairs[:20] if verbosity >= 1 else []:
            self.stderr.write(f"repaired row {problem.row} ({problem.key}): {problem.reason}")
        if report.rejects:
            rejects_path = options["rejects"] or Path.cwd() / f"{path.stem}.rejects.csv"
            with rejects_path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "key", "reason"])
                writer.writerows((p.row, p.key, p.reason) for p in report.rejects)
            self.stderr.write(f"{report.rejected} rejected row(s) written to {rejects_path}")
        if verbosity >= 1:
            self.stdout.write(
                f"{report.layer}: source EPSG:{report.source_srid}, stored EPSG:4326, "
                f"areas measured in EPSG:{report.measure_srid}, unchanged {report.unchanged}"
            )
        self.stdout.write(report.summary_line())
