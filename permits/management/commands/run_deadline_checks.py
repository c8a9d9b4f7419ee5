"""``manage.py run_deadline_checks [--today YYYY-MM-DD]``: the daily tacit-approval and lapse checks, now.

The same service functions as the periodic jobs (:mod:`permits.periodic`); ``--today`` runs them as of
another day (catching up after an outage, or rehearsing on a copy of the data). Also prints how many
dossiers are past a step deadline (the desk's overdue list).
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from permits.periodic import deadline_checks_run
from permits.selectors import dossier_overdue_list

LABELS = {"deem_approved": "tacit approval", "lapse": "lapsed permits"}


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today: {value!r} is not a date like 2025-07-30") from exc


class Command(BaseCommand):
    help = "Deem approved the dossiers whose tacit date passed and lapse expired permits (as the daily jobs do)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--today", type=str, default=None, help="Run as of this day (YYYY-MM-DD); default today.")

    def handle(self, *args, **options) -> None:
        today = _day(options["today"]) if options["today"] else timezone.localdate()
        for outcome in deadline_checks_run(today=today):
            label = LABELS.get(outcome.action, outcome.action)
            listed = f": {', '.join(outcome.done)}" if outcome.done else ""
            self.stdout.write(f"{label}: {len(outcome.done)} dossier(s){listed}")
            for reference, reason in outcome.refused:
                self.stderr.write(f"  {reference} not moved: {reason}")
        overdue = dossier_overdue_list(today=today)
        self.stdout.write(f"overdue for the desk on {today.isoformat()}: {len(overdue)} dossier(s)")
