"""``manage.py seed_demo``: build the demo commune, its zoning plan and the role accounts if missing.

Run by ``make run`` at every start: a complete demo is left untouched and the command says so.
``--reset`` redraws the demo's geography, for a database seeded by an older version of the layout.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from etl.demo import (
    DEMO_COMMUNE_NAME_FR,
    DEMO_PASSWORD,
    DEMO_SRID,
    DemoError,
    DemoSummary,
    demo_commune_build,
    demo_commune_delete,
)
from permits.demo import demo_dossiers_build


class Command(BaseCommand):
    help = "Create the deterministic demo commune (parcels, zoning, servitudes) and one account per role."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo commune, its parcels, zoning plan and servitudes first (accounts are kept)",
        )

    def handle(self, *args, **options) -> None:
        try:
            if options["reset"]:
                self.stdout.write(f"Deleted {demo_commune_delete()} rows of the previous demo.")
            summary = demo_commune_build()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self._report(summary)
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING(f"DEBUG is off: the demo accounts share the public password {DEMO_PASSWORD!r}.")
            )
        demo_dossiers_build()

    def _report(self, summary: DemoSummary) -> None:
        parent = f", in {summary.parent_code}" if summary.parent_code else ""
        self.stdout.write(f"{DEMO_COMMUNE_NAME_FR} {summary.commune_code} (EPSG:{DEMO_SRID}{parent})")
        rows = (
            ("street blocks", summary.blocks, None),
            ("parcels", summary.parcels, summary.parcels_created),
            ("zone types", summary.regulations, summary.regulations_created),
            ("zoning zones", summary.zones, summary.zones_created),
            ("servitudes", summary.constraints, summary.constraints_created),
            ("role accounts", len(summary.accounts), summary.accounts_created),
        )
        for label, total, created in rows:
            suffix = "" if created is None else f"  ({created} new)"
            self.stdout.write(f"  {label:<14}{total:>6}{suffix}")
        if summary.parcels_taken:
            self.stderr.write(
                self.style.WARNING(
                    f"{summary.parcels_taken} demo land-title references already belong to parcels of other communes;"
                    " those parcels were left alone."
                )
            )
        self.stdout.write(f'  accounts (password "{DEMO_PASSWORD}"):')
        for role in summary.accounts:
            self.stdout.write(f"    {role.username:<16}{role.group}")
        if summary.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo ready: {summary.parcels_created} parcels and {summary.accounts_created} accounts created"
                    f" in {summary.seconds:.1f} s."
                )
            )
        else:
            self.stdout.write(f"Demo already complete: nothing changed ({summary.seconds:.1f} s).")
