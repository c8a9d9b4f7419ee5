"""``manage.py load_procedures``: upsert the procedure catalogue and the large-project rules from the data files.

Idempotent: a second run with unchanged files writes nothing and says so. The files are the source of
truth for the codes they list (see :mod:`permits.catalogue`).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from permits.catalogue import DATA_DIR, CatalogueError, procedure_catalogue_load
from permits.models import ChecklistItem, ClassificationRule, Procedure


class Command(BaseCommand):
    help = "Load procedures, their checklists and the large-project (GP) rules from permits/data/*.json."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=DATA_DIR,
            help="Folder holding procedures.json and classification_rules.json.",
        )

    def handle(self, *args, **options) -> None:
        try:
            counts = procedure_catalogue_load(
                procedure_model=Procedure,
                checklist_model=ChecklistItem,
                rule_model=ClassificationRule,
                data_dir=options["data_dir"],
            )
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"procedures      {counts.procedures:>4}  "
            f"({counts.procedures_created} new, {counts.procedures_updated} updated)"
        )
        self.stdout.write(
            f"checklist items {counts.items:>4}  ({counts.items_created} new, {counts.items_updated} updated, "
            f"{counts.items_deleted} removed, {counts.items_kept_in_use} kept because documents use them)"
        )
        self.stdout.write(
            f"rules           {counts.rules:>4}  ({counts.rules_created} new, {counts.rules_updated} updated)"
        )
        if counts.changed:
            self.stdout.write(self.style.SUCCESS("Catalogue loaded."))
        else:
            self.stdout.write("Catalogue already up to date: nothing changed.")
