"""The audit trail: hash-chained, append-only, and ``verify_audit`` naming the first broken record.

Tampering is done the way an intruder with database rights would: as a superuser, with the append-only
trigger disabled for the statement (``ALTER TABLE … DISABLE TRIGGER USER``), then re-enabled. One test
runs the real ``manage.py verify_audit`` process on committed data to check its exit status.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from permits.admin import AuditRecordAdmin
from permits.audit import GENESIS_HASH, audit_append, audit_verify, record_hash
from permits.models import AuditRecord, Status
from permits.roles import Role
from tests.permits.test_workflow import walk

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def trail(complete_draft, users) -> list[AuditRecord]:
    """A dossier walked to a decision: draft, uploads, checks and nine transitions, all audited."""
    walk(complete_draft, users, Status.ISSUED)
    records = list(AuditRecord.objects.order_by("id"))
    assert len(records) >= 12
    return records


def tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE permits_auditrecord DISABLE TRIGGER USER")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("ALTER TABLE permits_auditrecord ENABLE TRIGGER USER")


def verify_command() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue().strip()


@pytest.mark.django_db
def test_the_chain_is_intact_after_transitions(trail):
    assert trail[0].previous_hash == GENESIS_HASH
    for before, record in itertools.pairwise(trail):
        assert record.previous_hash == before.record_hash
        assert record.record_hash == record_hash(record)
    actions = [record.action for record in trail]
    assert actions[0] == "dossier.draft_created"
    assert {"document.uploaded", "dossier.completeness_reviewed", "dossier.submit", "dossier.issue"} <= set(actions)
    assert audit_verify().intact
    assert verify_command() == (0, f"audit chain intact: {len(trail)} records")


@pytest.mark.django_db
def test_an_empty_trail_is_intact():
    assert verify_command() == (0, "audit chain intact: 0 records")


@pytest.mark.django_db
def test_a_modified_payload_is_named(trail):
    target = trail[5]
    tamper("UPDATE permits_auditrecord SET payload = %s::jsonb WHERE id = %s", ['{"to": "issued"}', target.pk])
    code, message = verify_command()
    assert code == 1
    assert message == (
        f"audit chain broken at record {target.pk}: content does not match its hash (modified); "
        f"the 5 records before it are intact"
    )


@pytest.mark.django_db
def test_a_modified_actor_or_date_is_named(trail):
    target = trail[2]
    tamper("UPDATE permits_auditrecord SET actor_username = 'someone.else' WHERE id = %s", [target.pk])
    assert audit_verify().broken_id == target.pk
    tamper("UPDATE permits_auditrecord SET actor_username = %s WHERE id = %s", [target.actor_username, target.pk])
    assert audit_verify().intact
    tamper("UPDATE permits_auditrecord SET created_at = created_at - interval '1 day' WHERE id = %s", [target.pk])
    assert audit_verify().broken_id == target.pk


@pytest.mark.django_db
def test_a_record_rehashed_by_the_forger_breaks_the_next_link(trail):
    target = trail[4]
    target.payload = {**target.payload, "reason": "rewritten"}
    forged_hash = record_hash(target)
    tamper(
        "UPDATE permits_auditrecord SET payload = %s::jsonb, record_hash = %s WHERE id = %s",
        [json.dumps(target.payload), forged_hash, target.pk],
    )
    code, message = verify_command()
    assert code == 1
    assert message.startswith(
        f"audit chain broken at record {trail[5].pk}: does not point to the record before it (removed or reordered)"
    )


@pytest.mark.django_db
def test_a_deleted_record_is_detected(trail):
    tamper("DELETE FROM permits_auditrecord WHERE id = %s", [trail[7].pk])
    code, message = verify_command()
    assert code == 1
    assert message == (
        f"audit chain broken at record {trail[8].pk}: does not point to the record before it (removed or reordered); "
        f"the 7 records before it are intact"
    )


@pytest.mark.django_db
def test_a_deleted_first_record_is_detected(trail):
    tamper("DELETE FROM permits_auditrecord WHERE id = %s", [trail[0].pk])
    assert audit_verify().broken_id == trail[1].pk


@pytest.mark.django_db
def test_removing_the_last_records_is_not_visible_from_the_chain_alone(trail):
    """A known limit of a hash chain without an external anchor (stated in ``verify_audit``'s docstring)."""
    tamper("DELETE FROM permits_auditrecord WHERE id = %s", [trail[-1].pk])
    assert verify_command() == (0, f"audit chain intact: {len(trail) - 1} records")


@pytest.mark.django_db
def test_appends_after_tampering_do_not_repair_the_chain(trail, users):
    tamper("UPDATE permits_auditrecord SET payload = '{}'::jsonb WHERE id = %s", [trail[3].pk])
    audit_append(action="test.later", actor=users[Role.DESK_AGENT], payload={"n": 1})
    assert audit_verify().broken_id == trail[3].pk


# --- the database refuses changes ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["queryset update", "model save", "queryset delete", "model delete"])
def test_the_orm_cannot_change_or_delete_a_record(trail, how):
    record = AuditRecord.objects.get(pk=trail[3].pk)
    original = dict(record.payload)
    operation = "DELETE" if "delete" in how else "UPDATE"
    with pytest.raises(DatabaseError, match=rf"audit records are append-only \({operation} refused\)"):
        with transaction.atomic():
            if how == "queryset update":
                AuditRecord.objects.filter(pk=record.pk).update(payload={"forged": True})
            elif how == "model save":
                record.payload = {"forged": True}
                record.save()
            elif how == "queryset delete":
                AuditRecord.objects.filter(pk=record.pk).delete()
            else:
                record.delete()
    assert AuditRecord.objects.get(pk=record.pk).payload == original
    assert audit_verify().intact


# --- the admin offers no way to edit -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_shows_records_but_cannot_add_change_or_delete_them(trail, admin_client, rf, users):
    from django.contrib import admin

    model_admin = AuditRecordAdmin(AuditRecord, admin.site)
    request = rf.get("/")
    request.user = users["admin"]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, trail[0])
    assert not model_admin.has_delete_permission(request, trail[0])
    assert admin_client.get(reverse("admin:permits_auditrecord_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:permits_auditrecord_change", args=[trail[0].pk]))
    assert page.status_code == 200 and b'name="payload"' not in page.content
    posted = admin_client.post(reverse("admin:permits_auditrecord_change", args=[trail[0].pk]), {"action": "x"})
    assert posted.status_code == 403
    assert admin_client.post(reverse("admin:permits_auditrecord_delete", args=[trail[0].pk])).status_code == 403
    assert admin_client.get(reverse("admin:permits_auditrecord_add")).status_code == 403
    assert audit_verify().intact


# --- the real command, its real exit status -----------------------------------------------------------


def database_url() -> str:
    settings = connection.settings_dict
    query = "&".join(f"{key}={settings[key.upper()]}" for key in ("host", "port") if settings.get(key.upper()))
    return f"postgis://{settings.get('USER') or ''}@/{settings['NAME']}" + (f"?{query}" if query else "")


def run_verify_audit() -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url()}
    return subprocess.run(
        [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.django_db(transaction=True)
def test_manage_py_verify_audit_exit_status(trail):
    intact = run_verify_audit()
    assert (intact.returncode, intact.stdout.strip()) == (0, f"audit chain intact: {len(trail)} records")
    tamper("UPDATE permits_auditrecord SET payload = '{}'::jsonb WHERE id = %s", [trail[6].pk])
    broken = run_verify_audit()
    assert broken.returncode == 1
    assert f"audit chain broken at record {trail[6].pk}: content does not match its hash (modified)" in broken.stderr
