"""Background jobs of the permits app (procrastinate, on PostgreSQL): thin wrappers around services.

``deliver_notification`` is deferred after each transition; the periodic jobs run once a day on the
``deadlines`` queue (cron in UTC, i.e. early morning in Morocco) for the day they were scheduled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from permits.models import Notification
from permits.notifications import MAX_ATTEMPTS, notification_deliver
from permits.periodic import dossiers_deem_approved, permits_lapse
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


def _scheduled_day(timestamp: int) -> date:
    """The local day a periodic job was scheduled for (a late worker still works for that day)."""
    return timezone.localdate(datetime.fromtimestamp(timestamp, tz=UTC))


@app.periodic(cron="30 0 * * *", periodic_id="tacit-approval")
@app.task(queue="deadlines", queueing_lock="tacit-approval")
def deem_approved_due_dossiers(timestamp: int) -> None:
    """Daily: tacit approval (``deem_approved``, by the system) of every dossier whose tacit date has passed."""
    dossiers_deem_approved(today=_scheduled_day(timestamp))


@app.periodic(cron="45 0 * * *", periodic_id="permit-lapse")
@app.task(queue="deadlines", queueing_lock="permit-lapse")
def lapse_expired_permits(timestamp: int) -> None:
    """Daily: ``lapse`` every issued permit whose validity ran out before works started."""
    permits_lapse(today=_scheduled_day(timestamp))


@app.periodic(cron="15 1 * * *", periodic_id="committee-sessions")
@app.task(queue="deadlines", queueing_lock="committee-sessions")
def generate_committee_sessions(timestamp: int) -> None:
    """Daily: keep every active committee's sessions generated six weeks ahead (idempotent)."""
    from permits.committees import sessions_generate_all

    sessions_generate_all(today=_scheduled_day(timestamp))


@app.task(queue="signing")
def apply_signature(request_id: int, user_id: int, sealed_password: str) -> None:
    """Apply one electronic signature; a refusal is recorded on the request (visible status), not retried."""
    from permits.signing import SigningForbidden, SigningRefused, signature_apply

    try:
        signature_apply(request_id=request_id, user_id=user_id, sealed_password=sealed_password)
    except (SigningRefused, SigningForbidden):
        pass  # the request carries the error in the signer's language


@app.periodic(cron="0 8 * * *", periodic_id="signing-reminders")
@app.task(queue="deadlines", queueing_lock="signing-reminders")
def remind_late_signers(timestamp: int) -> None:
    """Daily: remind the signers whose turn has been open for a few days."""
    from permits.signing import signing_remind

    signing_remind()
