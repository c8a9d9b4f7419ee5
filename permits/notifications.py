"""Who hears of what, in which language, by which channel — and the delivery of each message.

:func:`dossier_event_notify` runs after a transition commits: it writes one :class:`Notification`
per recipient and channel (the applicant by e-mail and SMS, the filing architect by e-mail), each in
the recipient's language, and defers one background job per message. :func:`notification_deliver`
sends one message; a failure is recorded (attempts, last error) and re-raised so the job retries;
after the last attempt the message is marked failed, which the desk sees.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from permits.models import Channel, DeliveryStatus, Dossier, Notification, Status
from permits.sms import SmsError, sms_backend

# The number of delivery attempts before a message is marked failed (used by the job's retry).
MAX_ATTEMPTS = 5


def _texts(event: str, dossier: Dossier) -> tuple[str, str]:
    """Subject and body for an event, in the active language."""
    reference = dossier.reference or _("your draft")
    status = Status(dossier.status).label
    link = f"{settings.TAAMIR_PUBLIC_URL}/dossiers/{dossier.pk}/"
    lines = {
        "submitted": _("Your dossier %(ref)s has been filed. Keep this number to follow it online."),
        "accepted": _("Your dossier %(ref)s is complete and accepted; its legal clock has started."),
        "inadmissible": _("Your dossier %(ref)s is inadmissible: see the missing documents online."),
        "scheduled": _("Your dossier %(ref)s will be examined by the committee on %(date)s."),
        "under_review": _("The committee is examining your dossier %(ref)s."),
        "changes_requested": _("Changes are requested on your dossier %(ref)s: answer the remarks online."),
        "resubmitted": _("Your revised dossier %(ref)s has been filed; the legal clock restarts."),
        "favourable": _("The committee gave a favourable opinion on your dossier %(ref)s."),
        "unfavourable": _("The committee gave an unfavourable opinion on your dossier %(ref)s."),
        "decision_signing": _("The decision on your dossier %(ref)s is being signed."),
        "issued": _("Your permit %(ref)s has been issued. Download it online."),
        "refused": _("Your dossier %(ref)s was refused; the reasons are online."),
        "withdrawn": _("Your dossier %(ref)s has been withdrawn."),
        "deemed_approved": _("Your dossier %(ref)s is approved tacitly: the legal deadline passed without an answer."),
        "lapsed": _("Your permit %(ref)s has lapsed: works did not start within its validity."),
    }
    text = lines.get(event, _("Your dossier %(ref)s is now: %(status)s.")) % {
        "ref": reference,
        "date": dossier.session_date.isoformat() if dossier.session_date else "",
        "status": status,
    }
    subject = _("Taamir — dossier %(ref)s: %(status)s") % {"ref": reference, "status": status}
    return subject, f"{text}\n{link}"


def dossier_event_notify(*, dossier_id: int, event: str) -> list[Notification]:
    """Write the messages for an event and defer their delivery (call after the transition commits)."""
    dossier = Dossier.objects.select_related("applicant", "architect").get(pk=dossier_id)
    applicant = dossier.applicant
    wanted: list[tuple[str, str, str, object]] = []  # channel, address, language, user
    language = applicant.language or settings.LANGUAGE_CODE
    if applicant.email:
        wanted.append((Channel.EMAIL, applicant.email, language, applicant.user))
    if applicant.phone:
        wanted.append((Channel.SMS, applicant.phone, language, applicant.user))
    architect = dossier.architect
    if architect is not None and architect.email and architect.email != applicant.email:
        wanted.append((Channel.EMAIL, architect.email, settings.LANGUAGE_CODE, architect))
    created = []
    with transaction.atomic():
        for channel, address, lang, user in wanted:
            with translation.override(lang):
                subject, body = _texts(event, dossier)
            created.append(
                Notification.objects.create(
                    dossier=dossier,
                    recipient=user,
                    channel=channel,
                    address=address,
                    language=lang,
                    event=event,
                    subject=subject if channel == Channel.EMAIL else "",
                    body=body,
                )
            )
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _defer_deliveries(ids))
    return created


def member_notify(*, user, session, dossiers: list[Dossier]) -> list[Notification]:
    """Tell a committee member's account that a session's agenda is out, with a link per dossier.

    One e-mail per account (in the site's default language), delivered by the background job like the
    applicant's messages; nothing when the account has no e-mail address.
    """
    if not getattr(user, "email", ""):
        return []
    language = settings.LANGUAGE_CODE
    base = settings.TAAMIR_PUBLIC_URL.rstrip("/")
    with translation.override(language):
        subject = _("Taamir — agenda of the %(committee)s session of %(date)s") % {
            "committee": session.committee.name,
            "date": session.date.isoformat(),
        }
        lines = [
            _("The agenda of the session of %(date)s is available; the files to examine:")
            % {"date": session.date.isoformat()}
        ]
        lines += [f"- {d.reference or d.pk}: {base}/dossiers/{d.pk}/" for d in dossiers]
    with transaction.atomic():
        notification = Notification.objects.create(
            dossier=dossiers[0] if len(dossiers) == 1 else None,
            recipient=user,
            channel=Channel.EMAIL,
            address=user.email,
            language=language,
            event="agenda_sent",
            subject=subject,
            body="\n".join(lines),
        )
        ids = [notification.pk]
        transaction.on_commit(lambda: _defer_deliveries(ids))
    return [notification]


def _defer_deliveries(ids: list[int]) -> None:
    from permits.tasks import deliver_notification

    for notification_id in ids:
        deliver_notification.defer(notification_id=notification_id)


def notification_deliver(*, notification: Notification) -> Notification:
    """Send one message now; record the outcome; re-raise a failure so the job is retried."""
    if notification.status == DeliveryStatus.SENT:
        return notification
    notification.attempts += 1
    try:
        if notification.channel == Channel.EMAIL:
            send_mail(notification.subject, notification.body, None, [notification.address], fail_silently=False)
        else:
            sms_backend().send(to=notification.address, body=notification.body)
    except (SmsError, OSError) as exc:
        notification.last_error = str(exc)[:500]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = DeliveryStatus.FAILED
        notification.save(update_fields=["attempts", "last_error", "status"])
        raise
    notification.status = DeliveryStatus.SENT
    notification.sent_at = timezone.now()
    notification.last_error = ""
    notification.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return notification
