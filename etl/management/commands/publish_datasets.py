"""``manage.py publish_datasets [--date D]``: write the open datasets and update the catalogue, now.

The same service as the daily job (:func:`etl.opendata.datasets.datasets_publish`): files go to
``opendata/<day>/`` and ``opendata/latest/`` in the default storage.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from etl.exports import ExportRefused
from etl.management.commands.compute_indicators import parse_day
from etl.opendata.datasets import datasets_publish


class Command(BaseCommand):
    help = "Publish the open datasets (authorised works, BLDS permit register, indicators) for a day (default today)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", type=str, default=None, help="the day folder to publish (YYYY-MM-DD)")

    def handle(self, *args, **options) -> None:
        day = parse_day("--date", options["date"]) if options["date"] else timezone.localdate()
        try:
            published = datasets_publish(day=day)
        except (ExportRefused, OSError) as exc:
            raise CommandError(f"publishing failed: {exc}") from exc
        for item in published:
            self.stdout.write(f"{item.path}  {item.records} records, {item.byte_size} bytes")
