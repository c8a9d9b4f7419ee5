"""Background jobs of the etl app (procrastinate): the daily open-data indicators and datasets.

Runs once a day after the deadline checks of :mod:`permits.tasks` (tacit approvals and lapses of the day
are then counted), for the day before the one it was scheduled for — a complete day — and publishes
the datasets. A thin wrapper around :mod:`etl.opendata.indicators` and :mod:`etl.opendata.datasets`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from procrastinate.contrib.django import app

from etl.opendata.datasets import datasets_publish
from etl.opendata.indicators import indicators_compute


@app.periodic(cron="30 1 * * *", periodic_id="open-data")
@app.task(queue="deadlines", queueing_lock="open-data")
def compute_open_data(timestamp: int) -> None:
    """Daily: compute the indicators of yesterday and of the scheduled day so far, then publish the datasets."""
    scheduled = timezone.localdate(datetime.fromtimestamp(timestamp, tz=UTC))
    indicators_compute(days=[scheduled - timedelta(days=1), scheduled])
    datasets_publish(day=scheduled)
