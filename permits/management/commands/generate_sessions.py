"""``manage.py generate_sessions [--weeks N] [--today YYYY-MM-DD]``: committee sessions ahead, now.

The same service as the daily job (:func:`permits.committees.sessions_generate_all`): sessions on each
active committee's weekdays, working days only; days that already have a session are left alone.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from permits.committees import SESSION_HORIZON_WEEKS, sessions_generate_all


class Command(BaseCommand):
    help = "Generate the committee sessions of the coming weeks (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--weeks", type=int, default=SESSION_HORIZON_WEEKS, help="How many weeks ahead.")
        parser.add_argument("--today", type=str, default=None, help="Start from this day (YYYY-MM-DD).")

    def handle(self, *args, **options) -> None:
        if options["weeks"] < 1:
            raise CommandError("--weeks must be at least 1")
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--today: {options['today']!r} is not a date like 2025-07-30") from exc
        created = sessions_generate_all(today=today, weeks=options["weeks"])
        self.stdout.write(f"{created} session(s) created up to {options['weeks']} week(s) ahead")
