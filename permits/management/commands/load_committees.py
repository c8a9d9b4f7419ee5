"""``manage.py load_committees``: upsert organisations, member-selection rules and each commune's committees.

Committees of ``committees.json`` are created for the communes that exist (the others are named, so
that the command can be run again once they are imported). Idempotent: a second run with unchanged
files writes nothing and says so.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geo.models import AdminArea
from permits.catalogue import DATA_DIR, CatalogueError, committee_catalogue_load
from permits.models import Committee, Organisation, SelectionRule


class Command(BaseCommand):
    help = "Load organisations, member-selection rules and the committees of existing communes from permits/data."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=DATA_DIR,
            help="Folder holding organisations.json, selection_rules.json and committees.json.",
        )
        parser.add_argument(
            "--commune", action="append", dest="communes", help="Only this commune's committees (repeatable)."
        )

    def handle(self, *args, **options) -> None:
        try:
            counts = committee_catalogue_load(
                organisation_model=Organisation,
                rule_model=SelectionRule,
                committee_model=Committee,
                area_model=AdminArea,
                communes=options["communes"],
                data_dir=options["data_dir"],
            )
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"organisations {counts.organisations:>4}  "
            f"({counts.organisations_created} new, {counts.organisations_updated} updated)"
        )
        rows = (
            ("rules", counts.rules, counts.rules_created, counts.rules_updated),
            ("committees", counts.committees, counts.committees_created, counts.committees_updated),
        )
        for label, total, created, updated in rows:
            self.stdout.write(f"{label:<13} {total:>4}  ({created} new, {updated} updated)")
        if counts.communes_missing:
            self.stderr.write(
                self.style.WARNING(
                    "Communes not imported yet, their committees were skipped: " + ", ".join(counts.communes_missing)
                )
            )
        if counts.changed:
            self.stdout.write(self.style.SUCCESS("Committee catalogue loaded."))
        else:
            self.stdout.write("Committee catalogue already up to date: nothing changed.")
