"""Notifications: who hears of what in which language, delivery by the real job worker, retries.

The SMS gateway is outside the project, so it is a small HTTP server in the test that records what
it receives and fails on demand; everything else (the job queue, the worker, the mail backend) is real.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from permits.models import Channel, DeliveryStatus, Notification, SmsOutboxMessage
from permits.roles import Role
from permits.workflow import dossier_transition


class RecordingGateway(BaseHTTPRequestHandler):
    """Answers 503 while ``failures_left`` > 0, then 200; records every request body."""

    received: list[dict] = []
    failures_left = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RecordingGateway.received.append({"body": body, "auth": self.headers.get("Authorization")})
        if RecordingGateway.failures_left > 0:
            RecordingGateway.failures_left -= 1
            self.send_response(503)
        else:
            self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"id": "gw-1"}')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def gateway(settings):
    RecordingGateway.received = []
    RecordingGateway.failures_left = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TAAMIR_SMS_BACKEND = "permits.sms.HttpGatewayBackend"
    settings.TAAMIR_SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.TAAMIR_SMS_GATEWAY_TOKEN = "secret-token"
    yield RecordingGateway
    server.shutdown()


def run_worker() -> None:
    call_command("procrastinate", "worker", "--one-shot", "--queues", "notifications")


def make_due_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")


@pytest.mark.django_db(transaction=True)
def test_submission_notifies_applicant_by_email_and_sms_in_their_language(complete_draft, users, settings):
    settings.TAAMIR_SMS_BACKEND = "permits.sms.OutboxBackend"
    complete_draft.applicant.language = "ar"
    complete_draft.applicant.save()
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    sent = {(n.channel, n.address, n.language) for n in Notification.objects.filter(dossier=dossier)}
    assert sent == {
        (Channel.EMAIL, "yasmine@example.org", "ar"),
        (Channel.SMS, "+212600000001", "ar"),
        (Channel.EMAIL, "t.architect@example.org", "fr"),
    }
    run_worker()
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    arabic_mail = next(m for m in mail.outbox if m.to == ["yasmine@example.org"])
    assert dossier.reference in arabic_mail.subject and "ملف" in arabic_mail.body
    french_mail = next(m for m in mail.outbox if m.to == ["t.architect@example.org"])
    assert "dossier" in french_mail.body.lower()
    sms = SmsOutboxMessage.objects.get()
    assert sms.to == "+212600000001" and dossier.reference in sms.body


@pytest.mark.django_db(transaction=True)
def test_a_failing_gateway_is_retried_until_it_accepts(complete_draft, users, gateway):
    gateway.failures_left = 1
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    run_worker()
    sms = Notification.objects.get(dossier=dossier, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.PENDING and sms.attempts == 1
    assert "503" in sms.last_error
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND scheduled_at > now()")
        assert cursor.fetchone()[0] == 1  # the retry waits for its back-off
    make_due_now()
    run_worker()
    sms.refresh_from_db()
    assert sms.status == DeliveryStatus.SENT and sms.attempts == 2 and sms.last_error == ""
    assert [r["body"]["to"] for r in gateway.received] == ["+212600000001", "+212600000001"]
    assert gateway.received[0]["auth"] == "Bearer secret-token"


@pytest.mark.django_db(transaction=True)
def test_a_gateway_that_never_accepts_ends_failed_and_the_desk_sees_why(complete_draft, users, gateway):
    gateway.failures_left = 100
    dossier = dossier_transition(dossier=complete_draft, action="submit", actor=users[Role.ARCHITECT])
    for _ in range(6):
        run_worker()
        make_due_now()
    sms = Notification.objects.get(dossier=dossier, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.FAILED and sms.attempts == 5 and "503" in sms.last_error
    assert Notification.objects.filter(dossier=dossier, channel=Channel.EMAIL, status=DeliveryStatus.SENT).count() == 2
