"""SMS backends: ``OutboxBackend`` records messages in the database (development, tests, the demo's
outbox page); ``HttpGatewayBackend`` posts them to an operator's HTTP gateway. Chosen by
``TAAMIR_SMS_BACKEND``; both raise :class:`SmsError` on failure so the job can retry.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from permits.models import SmsOutboxMessage


class SmsError(Exception):
    """The message was not accepted by the backend."""


class OutboxBackend:
    """Keeps every message in ``SmsOutboxMessage`` instead of sending it."""

    def send(self, *, to: str, body: str) -> str:
        message = SmsOutboxMessage.objects.create(to=to, body=body)
        return f"outbox:{message.pk}"


class HttpGatewayBackend:
    """POSTs ``{"to": …, "text": …}`` as JSON with a bearer token to ``TAAMIR_SMS_GATEWAY_URL``."""

    timeout_seconds = 10

    def send(self, *, to: str, body: str) -> str:
        url, token = settings.TAAMIR_SMS_GATEWAY_URL, settings.TAAMIR_SMS_GATEWAY_TOKEN
        if not url:
            raise SmsError("TAAMIR_SMS_GATEWAY_URL is not set")
        request = urllib.request.Request(
            url,
            data=json.dumps({"to": to, "text": body}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                answer = response.read(2000).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"gateway unreachable: {exc}") from exc
        return answer[:200]


def sms_backend():
    """The configured backend instance."""
    return import_string(settings.TAAMIR_SMS_BACKEND)()
