"""``manage.py compute_indicators [--date D | --since D | --all] [--publish]``: the open-data indicators, now.

The same service as the daily job (:mod:`etl.tasks`): each day's rows are replaced in one transaction,
so re-running a day gives the same numbers. The default day is today; ``--since`` recomputes every day
from a date to today (catching up after an outage), ``--all`` the whole history since the first filing.
``--publish`` then writes the day's datasets (as ``publish_datasets`` does).
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from etl.opendata.datasets import datasets_publish
from etl.opendata.indicators import first_filing_day, indicators_compute, indicators_compute_range


def parse_day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option}: {value!r} is not a date like 2025-07-30") from exc


class Command(BaseCommand):
    help = "Compute and store the open-data indicators of a day (default today), of every day since a date, or all."

    def add_arguments(self, parser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--date", type=str, default=None, help="the day to compute (YYYY-MM-DD); default today")
        group.add_argument("--since", type=str, default=None, help="compute every day from this one to today")
        group.add_argument("--all", action="store_true", help="compute every day since the first filing")
        parser.add_argument("--publish", action="store_true", help="then publish the datasets")

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        if options["all"]:
            start = first_filing_day()
            if start is None:
                self.stdout.write("No dossier was ever filed: nothing to compute.")
                return
            run = indicators_compute_range(start=start, end=today)
        elif options["since"]:
            start = parse_day("--since", options["since"])
            if start > today:
                raise CommandError(f"--since: {start.isoformat()} is in the future")
            run = indicators_compute_range(start=start, end=today)
        else:
            day = parse_day("--date", options["date"]) if options["date"] else today
            if day > today:
                raise CommandError(f"--date: {day.isoformat()} is in the future")
            run = indicators_compute(days=[day])
        span = run.days[0].isoformat() if len(run.days) == 1 else f"{run.days[0]} to {run.days[-1]}"
        self.stdout.write(f"{span}: {run.indicators} indicator rows, {run.observations} delays stored.")
        if options["publish"]:
            for published in datasets_publish(day=run.days[-1]):
                self.stdout.write(f"  {published.path}  {published.records} records, {published.byte_size} bytes")
