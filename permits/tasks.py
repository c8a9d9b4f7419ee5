"""Background jobs of the permits app (procrastinate, on PostgreSQL): thin wrappers around services."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from permits.models import Notification
from permits.notifications import MAX_ATTEMPTS, notification_deliver
from permits.sms import SmsError


@app.task(
    queue="notifications",
    retry=RetryStrategy(max_attempts=MAX_ATTEMPTS - 1, exponential_wait=5, retry_exceptions={SmsError, OSError}),
)
def deliver_notification(notification_id: int) -> None:
    """Send one e-mail or SMS; retried with exponential back-off on a failing backend."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is not None:
        notification_deliver(notification=notification)
