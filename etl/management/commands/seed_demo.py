"""``manage.py seed_demo``: build the demo commune, its zoning plan, the role accounts, the committees with
their member accounts and the demo dossiers (through the committees), if missing.

Run by ``make run`` at every start: a complete demo is left untouched and the command says so.
``--reset`` redraws the demo's geography, for a database seeded by an older version of the layout.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from etl.demo import (
    DEMO_COMMUNE_NAME_FR,
    DEMO_PASSWORD,
    DEMO_SRID,
    DemoError,
    DemoSummary,
    demo_commune_build,
    demo_commune_delete,
)
from etl.opendata.demo import demo_history_seed
from permits.demo import (
    MEMBERS,
    DemoCommitteesSummary,
    DemoDossiersError,
    DemoDossiersSummary,
    demo_committees_build,
    demo_dossiers_build,
)
from permits.demo_signing import demo_signatures_build
from plans.demo import demo_pdf_plans_build, demo_plans_build


class Command(BaseCommand):
    help = "Create the deterministic demo commune (parcels, zoning, servitudes) and one account per role."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo commune, its parcels, zoning plan and servitudes first (accounts are kept)",
        )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        try:
            if options["reset"]:
                self.stdout.write(f"Deleted {demo_commune_delete()} rows of the previous demo.")
            summary = demo_commune_build()
            committees = demo_committees_build()
            # The demo walks dossiers to "issued" through the workflow and signs their decisions afterwards
            # (one PKI, one pass): the rule that a decision is signed before the permit is issued is lifted
            # for the demo's own building only.
            with override_settings(TAAMIR_DECISION_REQUIRES_SIGNATURE=False):
                dossiers = demo_dossiers_build()
                plans = demo_plans_build()
                plans.versions_created += demo_pdf_plans_build()
                history = demo_history_seed()
            signatures = demo_signatures_build()
            for line in (plans.line, history.line, signatures.line):
                self.stdout.write(line)
        except (DemoError, DemoDossiersError) as exc:
            raise CommandError(str(exc)) from exc
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING(f"DEBUG is off: the demo accounts share the public password {DEMO_PASSWORD!r}.")
            )
        self._report(summary, committees, dossiers, time.perf_counter() - started)

    def _report(
        self,
        summary: DemoSummary,
        committees: DemoCommitteesSummary,
        dossiers: DemoDossiersSummary,
        seconds: float,
    ) -> None:
        parent = f", in {summary.parent_code}" if summary.parent_code else ""
        self.stdout.write(f"{DEMO_COMMUNE_NAME_FR} {summary.commune_code} (EPSG:{DEMO_SRID}{parent})")
        rows = (
            ("street blocks", summary.blocks, None),
            ("parcels", summary.parcels, summary.parcels_created),
            ("zone types", summary.regulations, summary.regulations_created),
            ("zoning zones", summary.zones, summary.zones_created),
            ("servitudes", summary.constraints, summary.constraints_created),
            ("role accounts", len(summary.accounts), summary.accounts_created),
            ("committees", committees.committees, None),
            ("member accounts", len(MEMBERS), committees.accounts_created),
            ("dossiers", dossiers.created + dossiers.existing, dossiers.created),
            ("sessions ahead", None, dossiers.sessions_created),
        )
        for label, total, created in rows:
            suffix = "" if created is None else f"  ({created} new)"
            self.stdout.write(f"  {label:<16}{'' if total is None else total:>6}{suffix}")
        if summary.parcels_taken:
            self.stderr.write(
                self.style.WARNING(
                    f"{summary.parcels_taken} demo land-title references already belong to parcels of other communes;"
                    " those parcels were left alone."
                )
            )
        self.stdout.write(f'  accounts (password "{DEMO_PASSWORD}"):')
        for role in summary.accounts:
            self.stdout.write(f"    {role.username:<24}{role.group}")
        roles = {role.username for role in summary.accounts}
        for member in (member for member in MEMBERS if member.username not in roles):
            self.stdout.write(f"    {member.username:<24}committee member, {member.organisation}")
        if summary.changed or committees.changed or dossiers.changed:
            accounts = summary.accounts_created + committees.accounts_created
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo ready: {summary.parcels_created} parcels, {accounts} accounts and"
                    f" {dossiers.created} dossiers created in {seconds:.1f} s."
                )
            )
        else:
            self.stdout.write(f"Demo already complete: nothing changed ({seconds:.1f} s).")
